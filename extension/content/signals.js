// Page signals (protocol.SignalKind) for the detector on the service: error
// messages the site shows, the conversation request's fate (from mainworld.js),
// stalled answers, vanished turns, blank pages, offline, logged out, stop, close.
//
// Each condition is emitted once per occurrence and re-armed when it clears.
// The page is read through the site adapter; checks run after mutations
// (debounced) and on a 1 s tick for the timed conditions. Text inside the chat's
// messages and the composer never counts as an error message; a notice the adapter
// finds inside the last turns (`turnNotices`: the site's, in place of an answer) does.

import { MAIN_WORLD } from "../lib/messages.js";
import { ERROR_PHRASES } from "../lib/vocabulary.js";
import { noticeText } from "../sites/common.js";

const TICK_MS = 1000;
const CHECK_DELAY_MS = 250;
const VANISH_MS = 2000; // turns must stay gone this long (re-renders, navigation)
const BLANK_MS = 3000; // a page must stay empty this long
// Turns removed this soon after a click or a scroll are the user's doing: an edit, a branch
// switch, or a chat that mounts only the turns in view (ChatGPT 2026) evicting the others.
const USER_ACTION_MS = 1500;
const DEFAULT_STALL_SECONDS = 20; // chrome.storage.local `stallSeconds` overrides (tests)


// Where sites show errors outside the messages: alerts, toasts, banners, error blocks.
const PLACES = [
  '[role="alert"]',
  '[role="status"]',
  '[data-testid*="toast"]',
  '[class*="toast"]',
  '[data-testid*="banner"]',
  '[class*="banner"]',
  '[data-testid*="error"]',
  "[data-has-thread-error]",
  ".text-token-text-error",
  '[class*="text-red-"]',
].join(", ");
const NOT_PLACES = 'nav, .sr-only, [contenteditable="true"], textarea';

// What mainworld.js posts ({source, event, request, status?, detail?}).
const MAIN_EVENTS = new Set(MAIN_WORLD.events);

const norm = (text) => (text || "").replace(/\s+/g, " ").trim().slice(0, 2000);

/** A message from mainworld.js, or null when it is not one (the page is untrusted). */
function mainMessage(event, win) {
  const d = event.source === win ? event.data : null;
  if (!d || typeof d !== "object" || d.source !== MAIN_WORLD.source || !MAIN_EVENTS.has(d.event)) return null;
  if (!Number.isSafeInteger(d.request) || d.request < 1) return null;
  const status = Number.isInteger(d.status) && d.status >= 0 && d.status <= 999 ? d.status : null;
  const detail = typeof d.detail === "string" ? norm(d.detail) || null : null;
  return { event: d.event, request: d.request, status, detail };
}

/** Is `target` (a click's target) a stop-the-answer button? */
function isStopControl(target) {
  const button = target instanceof Element ? target.closest('button, [role="button"]') : null;
  if (!button) return false;
  const label = [button.getAttribute("aria-label"), button.getAttribute("data-testid"), button.textContent.slice(0, 40)]
    .join(" ");
  return /\bstop\b|stop-button/i.test(label);
}

/** onNotice(element | null), after every check: the element showing an error now
 * (content/notice-control.js puts DraftVault's control beside it). */
export function startSignals({ adapter, emit, state, onNotice = () => {}, win = window }) {
  const doc = win.document;
  let stallMs = DEFAULT_STALL_SECONDS * 1000;
  let checking = false;
  let checkTimer = null;

  // error_message: key (the phrase, or the text) -> element still showing it (null: the adapter's)
  const errors = new Map();
  // the answer in progress
  let request = 0; // latest conversation request seen from mainworld.js
  let requestOpen = false; // its answer is still coming (no end seen): the stall clock runs
  let stopped = false; // the user pressed stop on it
  let wasStreaming = false;
  let progress = null; // "turns:length of the last turn" while streaming
  let progressAt = 0;
  let stalledSent = false;
  // turns_vanished / blank_page / logged_out
  let known = { id: undefined, max: 0 };
  let dropSince = null;
  let vanishedSent = false;
  let actedAt = -Infinity; // the last click or scroll
  let removedAt = null; // when the page last removed elements (the observer sees it at once)
  let seenContent = false;
  let blankSince = null;
  let blankSent = false;
  let seenLoggedIn = false;
  let loggedOutSent = false;

  const send = (kind, detail = null, status = null) => emit(kind, detail, status);

  // ---- error messages ---------------------------------------------------------

  const errorKey = (text) => {
    const m = text.match(ERROR_PHRASES);
    return (m ? m[0] : text).toLowerCase();
  };

  function reportError(text, el) {
    const key = errorKey(text);
    if (errors.has(key)) return;
    errors.set(key, el);
    send("error_message", text);
  }

  // Message content and the composer are the user's and the assistant's words.
  function outsideMessages(place) {
    if (place.closest(NOT_PLACES)) return false;
    const composer = adapter.composer(doc);
    if (composer && place.contains(composer)) return false;
    return !adapter.turnElements(doc).some((turn) => turn.contains(place) || place.contains(turn));
  }

  function considerPlace(place) {
    const text = noticeText(place);
    if (text && ERROR_PHRASES.test(text) && !errors.has(errorKey(text)) && outsideMessages(place)) {
      reportError(text, place);
    }
  }

  // Newly added or changed nodes: work proportional to what changed.
  function scan(records) {
    for (const r of records) {
      const nodes = r.type === "characterData" ? [r.target] : r.addedNodes;
      for (const node of nodes) {
        const el = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
        if (!el) continue;
        const place = el.closest(PLACES);
        if (place) considerPlace(place);
        else if (node === el && el.firstElementChild) el.querySelectorAll(PLACES).forEach(considerPlace);
      }
    }
  }

  function checkErrors(turns) {
    const text = norm(adapter.errorText(doc));
    const shown = text ? errorKey(text) : null;
    for (const [key, el] of errors) {
      const still = key === shown || (el && el.isConnected && errorKey(noticeText(el)) === key);
      if (!still) errors.delete(key); // cleared: the next one is a new occurrence
    }
    checkTurnNotices(turns);
    if (text) reportError(text, null);
  }

  // A notice inside the last turns (an error or waiting card where the answer should
  // be), as the adapter finds it by its words and structure.
  function checkTurnNotices(turns) {
    if (!adapter.turnNotices) return;
    for (const turn of turns.slice(-2)) {
      for (const el of adapter.turnNotices(turn)) {
        const text = noticeText(el);
        if (text && ERROR_PHRASES.test(text)) reportError(text, el);
      }
    }
  }

  // The element showing an error now (null: none, or only the adapter's text saw it).
  function noticeElement() {
    for (const el of errors.values()) if (el && el.isConnected) return el;
    return null;
  }

  // ---- the answer: stop, stall, the request's end --------------------------------

  function onMain(event) {
    const m = mainMessage(event, win);
    if (!m) return;
    if (m.event === "started") {
      request = Math.max(request, m.request);
      requestOpen = true;
      stopped = false;
      return;
    }
    if (m.request !== request) return; // an older answer's late news
    if (m.event !== "alive") requestOpen = false;
    if (m.event === "alive") progressAt = performance.now(); // still coming, maybe not shown yet
    else if (m.event === "http_error") send("http_error", m.detail, m.status);
    else if (m.event === "aborted") userStopped();
    else if (m.event === "incomplete" && !stopped) send("stream_incomplete", m.detail);
    // "complete": the answer's stream ended with its final event; nothing to report.
  }

  function userStopped() {
    if (stopped) return;
    stopped = true;
    send("user_stopped");
  }

  function onClick(e) {
    actedAt = performance.now();
    if (isStopControl(e.target) && adapter.isStreaming(doc)) userStopped();
  }

  function checkStall(now, streaming, turns) {
    if (!streaming) {
      progress = null;
      stalledSent = false;
      return;
    }
    const last = turns[turns.length - 1];
    const sig = `${turns.length}:${last ? last.textContent.length : 0}`;
    if (sig !== progress) {
      progress = sig;
      progressAt = now;
      stalledSent = false;
    } else if (!stalledSent && !stopped && now - progressAt >= stallMs) {
      stalledSent = true;
      send("stalled", `no new text for ${Math.round((now - progressAt) / 1000)} s`);
    }
  }

  // ---- turns, blank page, log-in ------------------------------------------------

  function checkVanished(now, streaming, count, blank, loggedOut) {
    const id = adapter.conversationId(win.location, doc);
    if (id !== known.id) {
      known = { id, max: count };
      dropSince = null;
      vanishedSent = false;
      return;
    }
    // Streaming means the user sent or regenerated: the thread they see is the new normal.
    if (id === null || streaming || count >= known.max) {
      known.max = streaming ? count : Math.max(known.max, count);
      dropSince = null;
      vanishedSent = false;
      return;
    }
    if (blank || loggedOut) return; // reported as such
    if (dropSince === null) {
      dropSince = now;
      const at = removedAt === null ? now : removedAt;
      if (at - actedAt < USER_ACTION_MS) known.max = count; // the user's doing (USER_ACTION_MS)
      return;
    }
    if (!vanishedSent && now - dropSince >= VANISH_MS) {
      vanishedSent = true;
      send("turns_vanished", `${known.max} turns shown before, ${count} now`);
    }
  }

  function checkBlank(now, blank) {
    if (!blank) {
      blankSince = null;
      blankSent = false;
      return;
    }
    if (!seenContent) return;
    if (blankSince === null) blankSince = now;
    if (!blankSent && now - blankSince >= BLANK_MS) {
      blankSent = true;
      send("blank_page", "the page shows no chat");
    }
  }

  function checkLoggedOut(loggedOut, hasContent) {
    if (!loggedOut) {
      if (hasContent) seenLoggedIn = true;
      loggedOutSent = false;
    } else if (!loggedOutSent && (seenLoggedIn || adapter.conversationId(win.location, doc) !== null)) {
      loggedOutSent = true;
      send("logged_out", "the site shows its log-in screen");
    }
  }

  // ---- the loop ---------------------------------------------------------------------

  function check() {
    clearTimeout(checkTimer);
    checkTimer = null;
    if (checking) return; // emit() flushes capture, whose listeners may call back here
    checking = true;
    try {
      const now = performance.now();
      const streaming = adapter.isStreaming(doc);
      if (streaming && !wasStreaming) stopped = false; // a new answer
      wasStreaming = streaming;
      const turns = adapter.turnElements(doc);
      const loggedOut = adapter.loggedOut(doc);
      const hasContent = turns.length > 0 || adapter.composer(doc) !== null;
      if (hasContent && !loggedOut) seenContent = true;
      const blank = !hasContent && !loggedOut;
      checkErrors(turns);
      onNotice(noticeElement());
      // Also without a Stop button: a page that shows a waiting card instead keeps the request open.
      checkStall(now, streaming || requestOpen, turns);
      checkVanished(now, streaming, turns.length, blank, loggedOut);
      checkBlank(now, blank);
      checkLoggedOut(loggedOut, hasContent);
    } finally {
      checking = false;
    }
  }

  const soon = () => {
    if (checkTimer === null) checkTimer = setTimeout(check, CHECK_DELAY_MS);
  };

  const observer = new MutationObserver((records) => {
    if (records.some((r) => r.removedNodes.length)) removedAt = performance.now();
    scan(records);
    soon();
  });
  observer.observe(doc.documentElement, { childList: true, subtree: true, characterData: true });
  const tick = setInterval(check, TICK_MS);

  const listeners = [
    [win, "message", onMain],
    [win, "click", onClick, true],
    [win, "scroll", () => (actedAt = performance.now()), true], // any scroller: scroll events reach window only while capturing
    [win, "offline", () => send("offline", "the browser went offline")],
    [win, "online", () => send("online")],
    // capture.js registers its own pagehide (final snapshot) first, so this comes after it.
    [win, "pagehide", () => send("page_closed")],
  ];
  for (const [target, type, fn, capture] of listeners) target.addEventListener(type, fn, capture);

  function setStall(seconds) {
    const s = Number(seconds);
    stallMs = (Number.isFinite(s) && s > 0 ? s : DEFAULT_STALL_SECONDS) * 1000;
  }
  const onStorage = (changes, area) => {
    if (area === "local" && "stallSeconds" in changes) setStall(changes.stallSeconds.newValue);
  };
  if (globalThis.chrome && chrome.storage) {
    chrome.storage.local.get("stallSeconds").then(({ stallSeconds }) => setStall(stallSeconds), () => {});
    chrome.storage.onChanged.addListener(onStorage);
  }
  if (state && typeof state.subscribe === "function") state.subscribe(soon);
  doc.querySelectorAll(PLACES).forEach(considerPlace); // errors already shown when we start
  check();

  return {
    /** Ends watching (capture stopped: the extension was reloaded or removed). */
    stop() {
      observer.disconnect();
      clearInterval(tick);
      clearTimeout(checkTimer);
      for (const [target, type, fn, capture] of listeners) target.removeEventListener(type, fn, capture);
      if (globalThis.chrome && chrome.storage) chrome.storage.onChanged.removeListener(onStorage);
    },
  };
}
