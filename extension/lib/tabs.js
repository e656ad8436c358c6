// Putting text into a chat's composer in a tab (never sending it): through the
// site's content script (dv:fill-composer), or for a site without one, by
// injecting a small generic filler (needs that site's host permission).

import { t } from "./i18n.js";
import { MSG } from "./messages.js";

const READY_TIMEOUT_MS = 30_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const RELOAD_AFTER_MS = 8_000;

// Resolves with the content script's dv:tab-state once it answers in that tab. A
// page that finished loading without the script (the site's own load failed, as
// it does when the site is struggling) is reloaded once.
export async function waitForContentScript(tabId, timeoutMs = READY_TIMEOUT_MS) {
  const start = Date.now();
  let reloaded = false;
  while (Date.now() - start < timeoutMs) {
    try {
      const state = await chrome.tabs.sendMessage(tabId, { type: MSG.TAB_STATE });
      if (state) return state;
    } catch (err) {
      // not loaded yet
    }
    if (!reloaded && Date.now() - start > RELOAD_AFTER_MS) {
      const tab = await chrome.tabs.get(tabId);
      if (tab.status === "complete") {
        reloaded = true;
        await chrome.tabs.reload(tabId);
      }
    }
    await sleep(200);
  }
  throw new Error(t("pageScriptTimeout"));
}

// The composer may appear after the script: retry the fill for a while.
export async function fillComposer(tabId, text, timeoutMs = READY_TIMEOUT_MS) {
  await waitForContentScript(tabId, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answer = await chrome.tabs.sendMessage(tabId, { type: MSG.FILL_COMPOSER, text }).catch(() => null);
    if (answer && answer.ok) return true;
    await sleep(250);
  }
  return false;
}

// Runs in the page (no content script there): the first visible text box.
function fillAnyComposer(text) {
  const box = [...document.querySelectorAll("textarea, [contenteditable='true']")].find(
    (el) => el.offsetParent !== null
  );
  if (!box) return false;
  box.focus();
  if (box.tagName === "TEXTAREA") {
    box.value = text;
  } else {
    box.textContent = text;
  }
  box.dispatchEvent(new InputEvent("input", { bubbles: true }));
  return true;
}

async function waitComplete(tabId, timeoutMs = READY_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const tab = await chrome.tabs.get(tabId);
    if (tab.status === "complete") return;
    await sleep(200);
  }
}

export async function fillByInjection(tabId, text) {
  await waitComplete(tabId);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const [{ result } = {}] = await chrome.scripting.executeScript({
      target: { tabId },
      func: fillAnyComposer,
      args: [text],
    });
    if (result) return true;
    await sleep(250);
  }
  return false;
}

export async function openTab(url) {
  const tab = await chrome.tabs.create({ url, active: true });
  return tab.id;
}

// An open tab showing this URL, brought to the front; null when there is none.
export async function focusTabAt(url) {
  if (!url) return null;
  const tabs = await chrome.tabs.query({});
  const tab = tabs.find((t) => t.url === url) || tabs.find((t) => t.url && t.url.split("#")[0] === url);
  if (!tab) return null;
  await chrome.tabs.update(tab.id, { active: true });
  return tab.id;
}
