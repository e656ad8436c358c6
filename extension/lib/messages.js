// Every message the extension's parts send each other, in one table. Each part
// imports the names from here; the comment says who sends, who answers, and what.
// (chrome.runtime.sendMessage reaches the worker and the offscreen document;
// chrome.tabs.sendMessage reaches a tab's content script.)

export const MSG = Object.freeze({
  // content script -> worker
  FRAME: "dv:frame", // {frame}: a Snapshot, Signal or Attachment without seq -> {ok, seq} | {ok: false, paused}
  IS_PAUSED: "dv:is-paused", // {site} -> {paused} (this tab or this site)
  // the in-page control beside the site's error notice (content/notice-control.js):
  // {page_id, action: "restore" | "resume" | "open", target?} -> as RESTORE_DRAFT / RESUME
  PAGE_ACTION: "dv:page-action",

  // popup, options -> worker
  STATUS: "dv:status", // -> {state, queued, lastAckAt, failures}
  PAIR: "dv:pair", // {code} -> {ok, name}
  FAILURES_CHANGED: "dv:failures-changed", // the popup resolved one: reload the list -> status
  RESUME: "dv:resume", // {conversation, target, failure} -> {ok, filled, copied, target}
  RESTORE_DRAFT: "dv:restore-draft", // {conversation, failure} -> {ok, filled, copied?}
  SEND_AGAIN: "dv:send-again", // {conversation, failure} -> {ok, filled, copied?, newChat}: the lost prompt in the composer, not sent
  COPY_TAB_PACK: "dv:copy-tab-pack", // {tabId, target} -> {ok, chars}

  // worker, popup -> content script
  TAB_STATE: "dv:tab-state", // -> {site, conversation_id, page_id, turns, draftChars, title, paused, broken}
  FILL_COMPOSER: "dv:fill-composer", // {text} -> {ok} (never sends)
  RESEND_FULL: "dv:resend-full", // {page_id}: the service asked for a full snapshot (need_full)
  PAUSE_CHANGED: "dv:pause-changed", // the popup changed a pause: read it again
  DEBUG_METRICS: "dv:debug-metrics", // -> {flushes} when debugCapture is set (benchmarks, tests)

  // worker -> offscreen document
  OFFSCREEN_COPY: "dv:offscreen-copy", // {text} -> {ok}
});

// The main-world bridge: content/mainworld.js (a classic script, it cannot import
// this module) posts {source: MAIN_WORLD.source, event, request, status?, detail?}
// to the page window; content/signals.js reads them. It also posts {source, event:
// MAIN_WORLD.conversation, id, body} (the conversation JSON the page loaded), which
// content/page-json.js reads, and posts again when page-json.js posts {source:
// MAIN_WORLD.want}. tests/test_extension_static.py checks that mainworld.js spells the
// same source and events.
export const MAIN_WORLD = Object.freeze({
  source: "draftvault-main",
  events: Object.freeze(["started", "alive", "http_error", "incomplete", "aborted", "complete"]),
  conversation: "conversation",
  want: "draftvault-content",
});
