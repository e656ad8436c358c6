// Export (a .zip of the chosen conversations, or of all) and import (a ChatGPT
// data export).

import { api, getJSON } from "./api.js";
import { $, el, failed, toast } from "./ui.js";

/** Downloads the export of `ids` (null: every conversation) in the chosen format. */
export async function exportZip(ids) {
  const format = $("export-format").value;
  try {
    const res = await api("/api/export", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ids, format }),
    });
    const url = URL.createObjectURL(await res.blob());
    const a = el("a");
    a.href = url;
    a.download = `draftvault-${format}-${new Date().toISOString().slice(0, 10)}.zip`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (err) {
    failed(err);
  }
}

/** Imports a file; true when the vault changed (the list should be refreshed). */
// The file itself is the body (streamed to disk by the service); its kind (ChatGPT,
// Claude or Gemini Takeout) is found from its content.
export async function importFile(file) {
  toast(`Importing ${file.name}…`, false, true);
  $("import").disabled = true;
  try {
    const r = await getJSON(`/api/import?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file });
    const notes = r.notes.length ? ` ${r.notes.join(". ")}.` : "";
    toast(`Imported ${r.conversations} conversations: ${r.created} new, ${r.updated} updated, ${r.unchanged} unchanged.${notes}`);
    return true;
  } catch (err) {
    failed(err);
    return false;
  } finally {
    $("import").disabled = false;
  }
}
