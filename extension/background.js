// DraftVault service worker: numbers the content scripts' frames, keeps them in the
// durable outbox until the service acks them, tracks open pages for the ping,
// shows the badge and failure notifications, and runs the popup's actions that
// must outlive the popup (opening a tab and filling its composer).

import { api } from "./lib/api.js";
import { showBadge } from "./lib/badge.js";
import { copyFromWorker } from "./lib/clipboard.js";
import { Connection } from "./lib/connection.js";
import { unsentDraft } from "./lib/drafts.js";
import { kindInWords, TARGETS } from "./lib/vocabulary.js";
import * as outbox from "./lib/outbox.js";
import { isPaused, loadSettings } from "./lib/settings.js";
import * as tabs from "./lib/tabs.js";

const KEEPALIVE_ALARM = "dv-keepalive";
const SETTINGS_KEYS = ["serverUrl", "token", "clientId"];

let settings = null;
let failures = []; // unresolved failures: FailureOut or pushed failure frames
let queued = 0;
let lastAckAt = null;
// page_id -> {tabId, site, conversation_id, url}: the pages open now (for ping and
// page_closed). In chrome.storage.session so a restarted worker still knows them.
let pages = new Map();

let lastState = null;

const connection = new Connection({
  onState: (state) => {
    // Each new session: failures may have been found (or resolved) meanwhile.
    if (state === "connected" && lastState !== "connected") loadFailures();
    lastState = state;
    refreshStatus();
  },
  onFailure: (failure) => addFailure(failure),
  onNeedFull: (frame) => askFullSnapshot(frame.page_id),
  onRefused: (frame, err) => console.warn("DraftVault: the service refused frame", frame.seq, err.code, err.message),
  pages: () => [...pages.keys()],
});

// ---- start-up ------------------------------------------------------------------

const ready = (async () => {
  const [loaded, session] = await Promise.all([
    loadSettings(),
    chrome.storage.session.get(["openPages", "lastAckAt"]),
  ]);
  settings = loaded;
  pages = new Map(Object.entries(session.openPages || {}));
  lastAckAt = session.lastAckAt || null;
  connection.configure(settings);
  // Wakes the worker if Chromium stopped it while frames wait or the service was away.
  chrome.alarms.create(KEEPALIVE_ALARM, { periodInMinutes: 0.5 });
  await refreshStatus();
})();

async function reconfigure() {
  settings = await loadSettings();
  failures = [];
  connection.configure(settings);
  await refreshStatus();
}

// ---- status and badge ------------------------------------------------------------

let statusPending = null;

function refreshStatus() {
  // Coalesce bursts (every ack asks) into one outbox count.
  if (!statusPending) {
    statusPending = Promise.resolve().then(async () => {
      statusPending = null;
      if (!settings) return;
      queued = (await outbox.stats(settings.clientId)).count;
      if (connection.lastAckAt && connection.lastAckAt !== lastAckAt) {
        lastAckAt = connection.lastAckAt;
        chrome.storage.session.set({ lastAckAt });
      }
      await showBadge(status());
    });
  }
  return statusPending;
}

function status() {
  return { state: connection.state, queued, lastAckAt, failures: failures.length };
}

// ---- failures ----------------------------------------------------------------------

async function loadFailures() {
  try {
    const items = await api.failures();
    failures = items;
    await showBadge(status());
  } catch (err) {
    // The service is away: the pushed frames and the next connect fill it in.
  }
}

// A failure the service pushed: red badge and a desktop notification.
function addFailure(failure) {
  if (failures.some((f) => f.id === failure.id)) return;
  failures = [...failures, failure];
  showBadge(status());
  notifyFailure(failure);
}

function notifyFailure(failure) {
  const where = failure.title ? `“${failure.title}”` : "A chat";
  const outage = failure.provider_outage ? " (outage confirmed by the provider)" : "";
  chrome.notifications.create(
    `failure:${failure.id}:${failure.conversation}`,
    {
      type: "basic",
      iconUrl: chrome.runtime.getURL("icons/icon128.png"),
      title: `${kindInWords(failure.kind, failure.site)}${outage}`,
      message: `${where} was saved by DraftVault. Resume it where you left off.`,
      buttons: [{ title: "Resume in ChatGPT" }],
      priority: 2,
    },
    () => void chrome.runtime.lastError
  );
}

chrome.notifications.onButtonClicked.addListener((id, button) => {
  const [kind, failureId, conversation] = id.split(":");
  if (kind !== "failure" || button !== 0) return;
  chrome.notifications.clear(id);
  resumeIn(conversation, "chatgpt", failureId).catch((err) => console.warn("DraftVault resume:", err));
});

chrome.notifications.onClicked.addListener((id) => {
  chrome.notifications.clear(id);
  chrome.action.openPopup().catch(() => chrome.tabs.create({ url: chrome.runtime.getURL("popup/popup.html") }));
});

// ---- frames from content scripts --------------------------------------------------

let frameChain = Promise.resolve();

// One frame at a time, so frames are numbered in the order they arrive.
function acceptFrame(frame, sender) {
  const next = frameChain.then(async () => {
    await ready;
    const tabId = sender.tab ? sender.tab.id : null;
    if (await isPaused(tabId, frame.site)) return { ok: false, paused: true };
    trackPage(frame, tabId);
    const seq = await outbox.enqueue(settings.clientId, frame);
    const { outboxLimits } = await chrome.storage.local.get("outboxLimits");
    await outbox.compactIfFull(settings.clientId, outboxLimits || outbox.DEFAULT_LIMITS);
    connection.ensure();
    connection.pump();
    refreshStatus();
    return { ok: true, seq };
  });
  frameChain = next.catch(() => {});
  return next;
}

function trackPage(frame, tabId) {
  const known = pages.get(frame.page_id);
  if (frame.type === "signal" && frame.kind === "page_closed") {
    if (!known) return;
    pages.delete(frame.page_id);
  } else if (tabId != null) {
    const { site, conversation_id, url } = frame;
    const page = { tabId, site, conversation_id, url };
    if (known && JSON.stringify(known) === JSON.stringify(page)) return; // most frames: nothing new
    pages.set(frame.page_id, page);
  } else {
    return;
  }
  chrome.storage.session.set({ openPages: Object.fromEntries(pages) });
}

// A page went away without saying so itself: tell the detector (it judges whether
// that lost an answer or a draft).
function closePage(pageId) {
  const page = pages.get(pageId);
  return acceptFrame(
    {
      type: "signal",
      page_id: pageId,
      conversation_id: page.conversation_id,
      site: page.site,
      url: page.url,
      kind: "page_closed",
      captured_at: Date.now(),
    },
    {}
  );
}

chrome.tabs.onRemoved.addListener(async (tabId) => {
  await ready;
  for (const [pageId, page] of [...pages]) {
    if (page.tabId === tabId) await closePage(pageId);
  }
});

// Pages whose tab is gone, or whose tab now shows another page (a reload whose
// pagehide never reached the worker). A tab that does not answer is left alone:
// it may just be busy.
async function prunePages() {
  const tabIds = new Set([...pages.values()].map((p) => p.tabId));
  for (const tabId of tabIds) {
    let current = null;
    const tab = await chrome.tabs.get(tabId).catch(() => null);
    if (tab) {
      const state = await chrome.tabs.sendMessage(tabId, { type: "dv:tab-state" }).catch(() => null);
      if (!state || !state.page_id) continue;
      current = state.page_id;
    }
    for (const [pageId, page] of [...pages]) {
      if (page.tabId === tabId && pageId !== current) await closePage(pageId);
    }
  }
}

// need_full: the service lacks the turns a delta builds on; the page resends all.
function askFullSnapshot(pageId) {
  const page = pages.get(pageId);
  if (!page) return;
  chrome.tabs.sendMessage(page.tabId, { type: "dv:resend-full", page_id: pageId }).catch(() => {});
}

// ---- actions ---------------------------------------------------------------------

async function resolveFailure(failureId) {
  if (!failureId) return;
  await api.resolve(failureId, "resumed");
  failures = failures.filter((f) => f.id !== failureId);
  await showBadge(status());
}

// Opens the target assistant and puts the pack into its composer (never sends);
// when that site is not permitted or has no composer, copies the pack instead.
async function resumeIn(conversation, target, failureId) {
  const spec = TARGETS[target];
  if (!spec) throw new Error(`unknown target ${target}`);
  const pack = await api.resume(conversation, target);
  const permitted = spec.origin && (await chrome.permissions.contains({ origins: [spec.origin] }));
  let filled = false;
  if (permitted) {
    const tabId = await tabs.openTab(spec.url);
    filled = spec.contentScript
      ? await tabs.fillComposer(tabId, pack.text)
      : await tabs.fillByInjection(tabId, pack.text);
  }
  if (!filled) await copyFromWorker(pack.text);
  await resolveFailure(failureId);
  return { ok: true, filled, copied: !filled, target: spec.name };
}

async function restoreDraft(conversation, failureId) {
  const detail = await api.conversation(conversation);
  const text = unsentDraft(detail);
  if (!text) return { ok: false, error: "No unsent draft was saved for this chat." };
  const url = detail.url || TARGETS[detail.site].url;
  const tabId = (await tabs.focusTabAt(url)) ?? (await tabs.openTab(url));
  const filled = await tabs.fillComposer(tabId, text);
  if (!filled) {
    await copyFromWorker(text);
    return { ok: true, filled: false, copied: true };
  }
  await resolveFailure(failureId);
  return { ok: true, filled: true };
}

// The vault's conversation for what a tab shows (its site id, else its URL).
async function conversationOfTab(state, url) {
  const items = await api.conversations({ site: state.site, limit: 500 });
  const match = state.conversation_id
    ? items.find((c) => c.conversation_id === state.conversation_id)
    : items.find((c) => c.url === url);
  return match ? match.id : null;
}

async function copyPackOfTab(tab, target = "generic") {
  const state = await chrome.tabs.sendMessage(tab.id, { type: "dv:tab-state" }).catch(() => null);
  if (!state) throw new Error("DraftVault does not capture this tab");
  const id = await conversationOfTab(state, tab.url);
  if (!id) throw new Error("this chat is not in the vault yet");
  const pack = await api.resume(id, target);
  await copyFromWorker(pack.text);
  return { ok: true, chars: pack.chars };
}

chrome.commands.onCommand.addListener(async (command, tab) => {
  if (command !== "copy-resume-pack") return;
  await ready;
  const [active] = tab ? [tab] : await chrome.tabs.query({ active: true, lastFocusedWindow: true });
  let message;
  try {
    const { chars } = await copyPackOfTab(active);
    message = `Resume pack copied (${chars.toLocaleString()} characters). Paste it into any assistant.`;
  } catch (err) {
    message = `Nothing copied: ${err.message}.`;
  }
  chrome.notifications.create(
    { type: "basic", iconUrl: chrome.runtime.getURL("icons/icon128.png"), title: "DraftVault", message },
    () => void chrome.runtime.lastError
  );
});

async function pair(code) {
  await ready;
  const { name } = chrome.runtime.getManifest();
  const answer = await api.pair(code.trim().toUpperCase(), `${name} extension`);
  await chrome.storage.local.set({ token: answer.token });
  return { ok: true, name: answer.name };
}

// ---- messages ---------------------------------------------------------------------

const handlers = {
  "dv:frame": (m, sender) => acceptFrame(m.frame, sender),
  "dv:status": async () => {
    await ready;
    await refreshStatus();
    return status();
  },
  "dv:pair": (m) => pair(m.code),
  "dv:is-paused": async (m, sender) => ({ paused: await isPaused(sender.tab && sender.tab.id, m.site) }),
  "dv:failures-changed": async () => {
    await ready;
    await loadFailures();
    return status();
  },
  "dv:resume": async (m) => {
    await ready;
    return resumeIn(m.conversation, m.target, m.failure);
  },
  "dv:restore-draft": async (m) => {
    await ready;
    return restoreDraft(m.conversation, m.failure);
  },
  "dv:copy-tab-pack": async (m) => {
    await ready;
    return copyPackOfTab(await chrome.tabs.get(m.tabId), m.target);
  },
};

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  const handler = message && handlers[message.type];
  if (!handler) return false;
  handler(message, sender).then(sendResponse, (err) => sendResponse({ ok: false, error: err.message }));
  return true; // answered asynchronously
});

chrome.storage.onChanged.addListener(async (changes, area) => {
  if (area !== "local" || !SETTINGS_KEYS.some((key) => key in changes)) return;
  await ready;
  await reconfigure();
});

chrome.alarms.onAlarm.addListener(async (alarm) => {
  if (alarm.name !== KEEPALIVE_ALARM) return;
  await ready;
  connection.ensure();
  await prunePages();
  // The detector also resolves failures itself (a later answer completed).
  if (connection.state === "connected") loadFailures();
});
