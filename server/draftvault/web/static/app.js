// The history page, wired: the list (list.js) and its keys (keys.js), the reader
// pane (reader.js), export and import (transfer.js). Everything shown comes from the
// JSON API and is untrusted captured text: it only reaches the DOM as text (ui.js).

import { watchCaptureHealth } from "./health.js";
import { onKey } from "./keys.js";
import { followFocus, list, refresh, toggleSelected, updateCursor } from "./list.js";
import { connectReader, openConversation } from "./reader.js";
import { exportZip, importFile } from "./transfer.js";
import { $, el } from "./ui.js";
import { SITES } from "./vocabulary.js";

function debounce(fn, ms) {
  let timer = 0;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

function main() {
  for (const [value, { name }] of Object.entries(SITES)) $("site").append(Object.assign(el("option", null, name), { value }));
  connectReader({
    shown: () => updateCursor(false),
    closed: () => updateCursor(true),
    deleted: (id) => {
      toggleSelected(id, false);
      return refresh();
    },
  });
  $("q").addEventListener("input", debounce(refresh, 180));
  for (const id of ["site", "failed", "since", "until"]) $(id).addEventListener("change", refresh);
  $("export-zip").addEventListener("click", () => exportZip(list.selected.size ? [...list.selected] : null));
  $("import").addEventListener("click", () => $("import-file").click());
  $("import-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    e.target.value = "";
    if (file && (await importFile(file))) await refresh();
  });
  document.addEventListener("keydown", onKey);
  watchCaptureHealth($("capture-health"));
  $("results").addEventListener("focusin", (e) => followFocus(e.target));
  refresh().then(() => {
    const m = /^#c=(.+)$/.exec(location.hash);
    if (m) openConversation(decodeURIComponent(m[1]));
  });
}

main();
