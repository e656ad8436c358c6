// What the popup tells the person when DraftVault cannot work by itself: the two
// sides speak different protocol versions (connection.js sets the state from the
// service's bad_protocol answer), or Chrome's Local Network Access keeps the
// extension from reaching the service on this computer (Chrome 142+ asks once;
// the answer is readable through navigator.permissions).

const VERSION_NOTICES = {
  service_outdated:
    "This extension is newer than the DraftVault service on your computer, so they cannot talk. " +
    "Update the service: run `pipx upgrade draftvault` in a terminal (or `uv tool upgrade draftvault`). " +
    "Your chats are kept in the extension until then.",
  extension_outdated:
    "The DraftVault service on your computer is newer than this extension. " +
    "Update the extension: in Chrome open chrome://extensions and click Update; " +
    "in Firefox open about:addons and choose Check for Updates.",
};

// Chrome's names for the permission: "loopback-network" (127.0.0.1) since 145,
// "local-network-access" (its older alias) since 142. Other browsers have neither.
const LNA_NAMES = ["loopback-network", "local-network-access"];

export async function localNetworkState() {
  for (const name of LNA_NAMES) {
    try {
      return (await navigator.permissions.query({ name })).state;
    } catch (err) {
      // not a permission this browser knows
    }
  }
  return null;
}

// The notice for this worker status and Local Network Access state, or null.
export function noticeFor(status, lnaState) {
  if (VERSION_NOTICES[status.state]) return VERSION_NOTICES[status.state];
  if (status.state !== "offline") return null;
  if (lnaState === "denied") {
    return "Chrome is blocking DraftVault from reaching the service on this computer. " +
      `Open chrome://settings/content/siteDetails?site=chrome-extension://${chrome.runtime.id} ` +
      "and set “Local network access” to Allow.";
  }
  const start = "If the service is not running, start it: `draftvault serve`, or `draftvault service install` " +
    "to have it start at every log-in. `draftvault doctor` says what is wrong.";
  if (lnaState === "prompt") {
    return "If Chrome asks whether DraftVault may connect to devices or apps on this computer " +
      `(“local network access”), click Allow: that is the DraftVault service. ${start}`;
  }
  return start;
}
