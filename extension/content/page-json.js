// ChatGPT's own conversation JSON as a second source beside the DOM. mainworld.js
// reads, passively, the JSON the page loads when a chat opens and posts it here;
// content/chatgpt-json.js turns it into the page's turns. Capture (content/capture.js)
// reads the turns through view(): each DOM turn is matched to the JSON's by message id
// (the DOM's data-message-id) and completed where the DOM's text is empty or much
// poorer; when the DOM shows no turns at all (the adapter broken) the snapshot comes
// from the JSON. After each flush, check() compares the two and reports an
// `adapter_broken` signal when they disagree badly.
//
// The main world can be forged by the page: the JSON only ever adds. A DOM text is
// replaced only when the JSON's text holds (nearly) all of its words, the turn list
// comes from the JSON only when the DOM has none, and nothing is sent on its own say.
// Without the JSON (another site, a page that did not load it) capture is DOM-only.
//
// A window of the thread: ChatGPT's 2026-09 layout mounts only a few turns and evicts
// the rest while scrolling. When the DOM's turns, matched by message id, are a run of
// the JSON thread's turns from position p (every id the DOM shows at p + its index, same
// role; a turn without an id in between is fine; turns with ids the JSON lacks only
// after its end) that starts after the thread's first turn or ends before its last
// (windowAt), the view is the whole thread: p.. read from the DOM (completed as above),
// the other turns as last sent (same message id), else the JSON's. A turn sent from the
// JSON and mounted later keeps the JSON's text unless the DOM shows words it lacks: the
// two spell Markdown differently, and each scroll would leave a version in the vault.
// `from` becomes absolute (p + the DOM's). disagreement() does not count such a window
// as turns missing. A DOM that starts at the thread's first turn and covers it is read
// as before.
// ChatGPT renders the turns in view as a chat opens, before or after its JSON arrives:
// the chat's first snapshot waits for the JSON up to HOLD_MS (hold()), or a window sent
// by position would become turns 0..k and then earlier versions when the JSON places it.
// Nothing urgent waits (the page hiding or closing, a message sent, a failure signal).
// The JSON's other branches (earlier versions the page no longer shows) are not sent:
// the vault keeps the versions it saw live, and a forged branch could not be told apart.

import { MAIN_WORLD } from "../lib/messages.js";
import { conversationThread } from "./chatgpt-json.js";

const MAX_BODY = 16 * 1024 * 1024; // characters (mainworld.js reads no more)
const KEEP = 2; // conversations kept: the one shown, the one before
const ID = /^[A-Za-z0-9_-]{8,128}$/;
const POORER = 3; // a DOM text under a third of the JSON's is degraded...
const POOR_MIN_CHARS = 200; // ...when the JSON's has at least this many characters
const COVERED = 0.9; // share of the DOM text's words the JSON's text must hold
const MIN_TURNS = 4; // fewer than half the JSON's turns read: only counted from this many
const CONFIRM_MS = 4000; // the DOM may render after the JSON came: disagree this long first
const HOLD_MS = 1500; // a chat's first snapshot waits this long for its JSON
const URGENT = /^(pagehide|hidden|navigate|send|signal:|resend-full|retry)/; // flush reasons that never wait

/** The thread a main-world message carries ({source, event, id, body}), or null. */
export function threadFromMessage(d) {
  if (!d || typeof d !== "object" || d.source !== MAIN_WORLD.source || d.event !== MAIN_WORLD.conversation) return null;
  if (typeof d.id !== "string" || !ID.test(d.id) || typeof d.body !== "string" || d.body.length > MAX_BODY) return null;
  let conv;
  try {
    conv = JSON.parse(d.body);
  } catch (err) {
    return null;
  }
  const thread = conversationThread(conv, d.id);
  if (!thread) return null;
  thread.id = d.id;
  // Marked for the service: text from here is not the adapter reading the page (capture health).
  for (const t of thread.turns) t.from_json = true;
  thread.byId = new Map(thread.turns.filter((t) => t.message_id).map((t) => [t.message_id, t]));
  thread.at = new Map(thread.turns.map((t, i) => [t.message_id, i]).filter(([id]) => id));
  return thread;
}

const words = (text) => new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) || []);

/** Does `json` hold (nearly) every word of `dom`? */
export function covers(json, dom) {
  const mine = words(dom);
  if (!mine.size) return true;
  const theirs = words(json);
  let held = 0;
  for (const w of mine) if (theirs.has(w)) held += 1;
  return held >= COVERED * mine.size;
}

/** Is the DOM's text of a turn empty, or much shorter than the JSON's? */
export function degraded(dom, json) {
  const [d, j] = [dom.trim().length, json.trim().length];
  return j > 0 && (d === 0 || (j >= POOR_MIN_CHARS && d * POORER < j));
}

/** The DOM's turn completed from the JSON's turn with its message id (`byId`): the
 * JSON's text (marked `from_json`) when the DOM's is degraded and holds nothing the JSON's lacks, and the
 * JSON's `attachments` ({name, mime?, size?}) and canvas `documents` (protocol
 * Document) where the DOM gave none; snapshot.js sends only the fields protocol.Turn
 * has. The same object when nothing changes. */
export function completeTurn(turn, byId) {
  const json = turn.message_id ? byId.get(turn.message_id) : undefined;
  if (!json || json.role !== turn.role) return turn;
  const text = degraded(turn.text, json.text) && covers(json.text, turn.text) ? json.text : turn.text;
  const extra = ["attachments", "documents"].filter((k) => json[k] && !turn[k]);
  if (text === turn.text && !extra.length) return turn;
  const out = { ...turn, text };
  if (text !== turn.text) out.from_json = true;
  for (const k of extra) out[k] = json[k];
  return out;
}

/** Why the DOM's turns (as the adapter read them) and the JSON's disagree badly, or null. */
export function disagreement(dom, thread) {
  const json = thread.turns;
  const few = json.length >= MIN_TURNS && dom.length > 0 && dom.length * 2 < json.length;
  if (few && windowAt(dom.length, (i) => dom[i], thread) === null) {
    return `${dom.length} turns read, the page's JSON has ${json.length}`;
  }
  let matched = 0;
  let poor = 0;
  for (const turn of dom) {
    const other = turn.message_id ? thread.byId.get(turn.message_id) : undefined;
    if (!other) continue;
    matched += 1;
    if (degraded(turn.text, other.text)) poor += 1;
  }
  return poor && poor * 2 >= matched ? `${poor} of ${matched} turns read much shorter than in the page's JSON` : null;
}

/** The position p of the thread (threadFromMessage) at which the `count` DOM turns
 * (`read(i)`) are a window of it, as the header says; null when they are not one or
 * start at its first turn and cover it. */
export function windowAt(count, read, thread) {
  const n = thread.turns.length;
  let p = null;
  for (let i = 0; i < count; i++) {
    const { message_id: id, role } = read(i);
    if (!id) continue;
    const j = thread.at.get(id);
    if (j === undefined) {
      if (p === null || p + i < n) return null; // only new turns after the thread's end
      continue;
    }
    if (p === null) p = j - i;
    if (p < 0 || j !== p + i || thread.turns[j].role !== role) return null;
    if (p === 0 && count >= n) return null; // the whole thread from its start: read as before
  }
  return p;
}

/** The JSON source of one page's capture (a Capture: content/capture.js). */
export function pageJson(capture, win = window) {
  const idle = { view: (count, read, from) => ({ count, read, from }), hold: () => false, stop() {} };
  if (capture.site !== "chatgpt") return idle;
  const threads = new Map(); // conversation id -> thread (at most KEEP)
  let used = null; // what the last view read: null, a thread, or "json" (the turns from it)
  let usedAt = null; // ...and the window's position in the thread (windowAt)
  let settled = null; // the thread checked (agreed, or its disagreement reported)
  let badSince = null;
  let timer = null;
  let waiting = null; // {id, since}: the chat whose first snapshot waits for its JSON
  let holdTimer = null;

  function onMessage(e) {
    const thread = e.source === win ? threadFromMessage(e.data) : null;
    if (!thread) return;
    threads.delete(thread.id);
    threads.set(thread.id, thread);
    if (threads.size > KEEP) threads.delete(threads.keys().next().value);
    capture.schedule();
  }

  // `from`: the first DOM turn that may have changed; the view's is absolute.
  function view(count, read, from) {
    const thread = threads.get(capture.conversationId);
    const fromJson = Boolean(thread) && count === 0 && capture.broken && thread.turns.length > 0;
    const p = thread && !fromJson ? windowAt(count, read, thread) : null;
    const now = fromJson ? "json" : thread || null;
    // A new source or window: every turn is read again (the diff sends only those that differ).
    const fresh = now !== used || p !== usedAt;
    [used, usedAt] = [now, p];
    if (fromJson) return { count: thread.turns.length, read: (i) => thread.turns[i], from: fresh ? 0 : from };
    if (!thread) return { count, read, from: fresh ? 0 : from };
    if (p === null) return { count, read: (i) => completeTurn(read(i), thread.byId), from: fresh ? 0 : from };
    const held = capture.last.turns;
    const same = (h, t) => Boolean(h && h.message_id) && h.message_id === t.message_id && h.role === t.role;
    // A turn not mounted: as last sent (the same message), else the JSON's. A mounted one
    // sent from the JSON stays so while the DOM shows no word it lacks (no version for formatting).
    const at = (i) => {
      if (i < p || i >= p + count) return same(held[i], thread.turns[i]) ? held[i] : thread.turns[i];
      const t = completeTurn(read(i - p), thread.byId);
      return same(held[i], t) && held[i].from_json && covers(held[i].text, t.text) ? held[i] : t;
    };
    return { count: Math.max(thread.turns.length, p + count), read: at, from: fresh ? 0 : p + from };
  }

  // Whether this flush waits for the chat's JSON (then a flush comes when the wait ends).
  function hold(count, reason) {
    const id = capture.conversationId;
    if (!id || count === 0 || threads.has(id) || capture.last.started || URGENT.test(reason)) return false;
    const t = performance.now();
    if (!waiting || waiting.id !== id) waiting = { id, since: t };
    const left = waiting.since + HOLD_MS - t;
    if (left <= 0) return false;
    clearTimeout(holdTimer);
    holdTimer = setTimeout(() => capture.flush("json-wait"), left + 20);
    return true;
  }

  // After a flush: once per thread, with the DOM's own reading (capture's cache).
  function check() {
    const thread = threads.get(capture.conversationId);
    if (!thread || thread === settled || capture.inactive || capture.last.streaming) return;
    let problem;
    if (used === "json") problem = `no turns read on ${win.location.pathname}; ${thread.turns.length} taken from the page's JSON`;
    else if (capture.els.length) problem = disagreement(capture.els.map((el) => capture.read(el)), thread);
    else return; // not rendered yet (capture itself reports a page that stays empty)
    if (!problem) {
      settled = thread;
      badSince = null;
      return;
    }
    const t = performance.now();
    if (used !== "json" && (badSince === null || t - badSince < CONFIRM_MS)) {
      if (badSince === null) badSince = t;
      clearTimeout(timer);
      timer = setTimeout(() => capture.flush("json-check"), CONFIRM_MS - (t - badSince) + 50);
      return;
    }
    settled = thread;
    badSince = null;
    // After the snapshot: the service counts the site degraded until the adapter reads turns with text.
    capture.broken = true;
    capture.post(capture.signalFrame("adapter_broken", problem, null));
  }

  win.addEventListener("message", onMessage);
  capture.subscribe(check);
  // The page may have loaded its conversation before we started: ask for it again.
  win.postMessage({ source: MAIN_WORLD.want }, win.location.origin);
  return {
    view,
    hold,
    stop() {
      win.removeEventListener("message", onMessage);
      clearTimeout(timer);
      clearTimeout(holdTimer);
    },
  };
}
