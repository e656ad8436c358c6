// The history page's small shared pieces: element helpers, times, the toast, error
// display and the clipboard. Everything shown is untrusted captured text: it only
// ever reaches the DOM through textContent (here and in markdown-to-dom.js), never as HTML.

import { SignedOut } from "./api.js";

export const $ = (id) => document.getElementById(id);

export const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
};

export const fmtTime = (iso) => {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
};

let toastTimer = 0;
/** A short message at the bottom; `sticky` ones stay until the next message. */
export function toast(text, isError = false, sticky = false) {
  const t = $("toast");
  t.textContent = text;
  t.className = isError ? "error" : "";
  t.hidden = false;
  clearTimeout(toastTimer);
  if (!sticky) toastTimer = setTimeout(() => { t.hidden = true; }, isError ? 8000 : 4000);
}

function showSignedOut() {
  $("signin").hidden = false;
  $("main").hidden = true;
  document.querySelector("header.top").classList.add("disabled");
}

/** Shows what went wrong: the sign-in notice when signed out, else a toast. */
export function failed(err) {
  if (err instanceof SignedOut) showSignedOut();
  else toast(err.message || String(err), true);
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard permission (an unfocused or headless page): the old way.
    const ta = el("textarea");
    ta.value = text;
    ta.className = "offscreen";
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand("copy");
    ta.remove();
    if (!ok) throw new Error("The browser refused to copy to the clipboard.");
  }
}
