// DraftVault service worker, the wiring: numbers the content scripts' frames and
// keeps them in the durable outbox until the service acks them (lib/outbox.js,
// lib/connection.js), shows the badge, and answers the messages of lib/messages.js.
// The open pages (worker/pages.js), the failed sessions (worker/failures.js) and
// the resume actions (worker/resume.js) are their own modules.

import { api } from "./lib/api.js";
import { showBadge } from "./lib/badge.js";
import { Connection } from "./lib/connection.js";
import { t } from "./lib/i18n.js";
import { MSG } from "./lib/messages.js";
import * as outbox from "./lib/outbox.js";
import { isPaused, loadSettings } from "./lib/settings.js";
import { Failures, parseNotificationId } from "./worker/failures.js";
import { Pages } from "./worker/pages.js";
import { copyPackOfTab, pageAction, restoreDraft, resumeIn, sendAgain } from "./worker/resume.js";

const KEEPALIVE_ALARM = "dv-keepalive";
const SETTINGS_KEYS = ["serverUrl", "token", "clientId"];

let settings = null;
let queued = 0;
let lastAckAt = null;
let lastState = null;
const pages = new Pages();
const failures = new Failures(() => showBadge(status()));

const connection = new Connection({
  onState: (state) => {
    // Each new session: failures may have been found (or resolved) meanwhile.
    if (state === "connected" && lastState !== "connected") failures.load();
    lastState = state;
    refreshStatus();
  },
  onFailure: (failure) => failures.add(failure),
  onRecovered: (frame) => failures.recovered(frame),
  onNeedFull: (frame) => pages.askFull(frame.page_id),
  onRefused: (frame, err) => console.warn("DraftVault: the service refused frame", frame.seq, err.code, err.message),
  pages: () => pages.ids(),
});

// ---- start-up ------------------------------------------------------------------

const ready = (async () => {
  const [loaded, session] = await Promise.all([
    loadSettings(),
    chrome.storage.session.get("lastAckAt"),
    pages.load(),
  ]);
  settings = loaded;
  lastAckAt = session.lastAckAt || null;
  connection.configure(settings);
  // Wakes the worker if Chromium stopped it while frames wait or the service was away.
  chrome.alarms.create(KEEPALIVE_ALARM, { periodInMinutes: 0.5 });
  await refreshStatus();
})();

async function reconfigure() {
  settings = await loadSettings();
  failures.clear();
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
  return { state: connection.state, queued, lastAckAt, failures: failures.count };
}

// ---- frames from content scripts --------------------------------------------------

let frameChain = Promise.resolve();

// One frame at a time, so frames are numbered in the order they arrive.
function acceptFrame(frame, sender) {
  const next = frameChain.then(async () => {
    const tabId = sender.tab ? sender.tab.id : null;
    if (await isPaused(tabId, frame.site)) return { ok: false, paused: true };
    pages.track(frame, tabId);
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

// A page went away without saying so itself.
const closePage = (pageId) => acceptFrame(pages.closedSignal(pageId), {});

chrome.tabs.onRemoved.addListener(async (tabId) => {
  await ready;
  for (const pageId of pages.inTab(tabId)) await closePage(pageId);
});

// ---- actions ---------------------------------------------------------------------

async function pair(code) {
  const { name } = chrome.runtime.getManifest();
  const answer = await api.pair(code.trim().toUpperCase(), `${name} extension`);
  await chrome.storage.local.set({ token: answer.token });
  return { ok: true, name: answer.name };
}

chrome.notifications.onButtonClicked.addListener((id, button) => {
  const clicked = parseNotificationId(id);
  if (!clicked || button !== 0) return;
  chrome.notifications.clear(id);
  const action = clicked.kind === "recovered"
    ? sendAgain(failures, clicked.conversation, clicked.failure)
    : resumeIn(failures, clicked.conversation, "chatgpt", clicked.failure);
  action.catch((err) => console.warn("DraftVault resume:", err));
});

chrome.notifications.onClicked.addListener((id) => {
  chrome.notifications.clear(id);
  chrome.action.openPopup().catch(() => chrome.tabs.create({ url: chrome.runtime.getURL("popup/popup.html") }));
});

chrome.commands.onCommand.addListener(async (command, tab) => {
  if (command !== "copy-resume-pack") return;
  await ready;
  const [active] = tab ? [tab] : await chrome.tabs.query({ active: true, lastFocusedWindow: true });
  let message;
  try {
    const { chars } = await copyPackOfTab(active);
    message = t("packCopied", chars.toLocaleString());
  } catch (err) {
    message = t("nothingCopied", err.message);
  }
  chrome.notifications.create(
    { type: "basic", iconUrl: chrome.runtime.getURL("icons/icon128.png"), title: t("extName"), message },
    () => void chrome.runtime.lastError
  );
});

// ---- messages ---------------------------------------------------------------------

// Each runs after start-up (`ready`), in the order the messages came.
const handlers = {
  [MSG.FRAME]: (m, sender) => acceptFrame(m.frame, sender),
  [MSG.STATUS]: async () => {
    await refreshStatus();
    return status();
  },
  [MSG.PAIR]: (m) => pair(m.code),
  [MSG.IS_PAUSED]: async (m, sender) => ({ paused: await isPaused(sender.tab && sender.tab.id, m.site) }),
  [MSG.FAILURES_CHANGED]: async () => {
    await failures.load();
    return status();
  },
  [MSG.RESUME]: (m) => resumeIn(failures, m.conversation, m.target, m.failure,
                                { replaced: m.replaced === true, thinking: m.thinking === true }),
  [MSG.RESTORE_DRAFT]: (m) => restoreDraft(failures, m.conversation, m.failure),
  [MSG.SEND_AGAIN]: (m) => sendAgain(failures, m.conversation, m.failure),
  [MSG.PAGE_ACTION]: (m) => pageAction(failures, m),
  [MSG.COPY_TAB_PACK]: async (m) => copyPackOfTab(await chrome.tabs.get(m.tabId), m.target),
};

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  const handler = message && handlers[message.type];
  if (!handler) return false;
  ready
    .then(() => handler(message, sender))
    .then(sendResponse, (err) => sendResponse({ ok: false, error: err.message }));
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
  for (const pageId of await pages.gone()) await closePage(pageId);
  // The detector also resolves failures itself (a later answer completed).
  if (connection.state === "connected") failures.load();
});
