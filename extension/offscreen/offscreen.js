// Offscreen document: puts text on the clipboard for the service worker.

import { MSG } from "../lib/messages.js";

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (message.type !== MSG.OFFSCREEN_COPY) return false;
  const area = document.getElementById("text");
  area.value = message.text;
  area.select();
  const ok = document.execCommand("copy");
  area.value = "";
  sendResponse({ ok });
  return false;
});
