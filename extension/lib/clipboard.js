// Copying text from the background. Chrome's service worker has no clipboard of its
// own: an offscreen document (reason CLIPBOARD) does it with execCommand("copy").
// Firefox runs the background as an event page, which has a DOM and no offscreen
// API: there navigator.clipboard writes directly (the clipboardWrite permission).

import { t } from "./i18n.js";
import { MSG } from "./messages.js";

const OFFSCREEN = "offscreen/offscreen.html";

async function ensureOffscreen() {
  const url = chrome.runtime.getURL(OFFSCREEN);
  const existing = await chrome.runtime.getContexts({
    contextTypes: ["OFFSCREEN_DOCUMENT"],
    documentUrls: [url],
  });
  if (existing.length) return;
  try {
    await chrome.offscreen.createDocument({
      url: OFFSCREEN,
      reasons: ["CLIPBOARD"],
      justification: t("offscreenJustification"),
    });
  } catch (err) {
    // Two copies at once: the other call created it.
    if (!String(err.message).includes("Only a single offscreen")) throw err;
  }
}

export async function copyFromWorker(text) {
  if (!chrome.offscreen) return navigator.clipboard.writeText(text);
  await ensureOffscreen();
  const answer = await chrome.runtime.sendMessage({ type: MSG.OFFSCREEN_COPY, text });
  if (!answer || !answer.ok) throw new Error(t("copyFailed"));
}
