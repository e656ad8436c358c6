// Classic content script (manifest content_scripts cannot be modules): loads the
// ES module that does the work, once per page.
(() => {
  if (globalThis.__draftvaultLoaded) return;
  globalThis.__draftvaultLoaded = true;
  import(chrome.runtime.getURL("content/capture.js"))
    .then((m) => m.start(window))
    .catch((err) => console.warn("DraftVault: capture did not start:", err));
})();
