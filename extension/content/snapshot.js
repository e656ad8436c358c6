// The content script's pure part: what changed since the last snapshot sent (the
// turn diff), whether a snapshot is due, and the frames that carry it (protocol
// Snapshot and Signal, without seq: the worker numbers them). No DOM and no
// chrome.*: content/capture.js reads the page, tests/node/snapshot.test.mjs runs
// this under Node.

// A full snapshot with more text than this (characters; up to 3 bytes each in UTF-8)
// goes in several frames, each under the service's 8 MiB frame limit.
export const FRAME_TEXT_BUDGET = 2_000_000;
const MAX_URL = 8192;
const MAX_FIELD = 2048; // title, model, message id, signal detail, document title
const MAX_DOCUMENTS = 64; // a turn's documents (protocol.Turn)

const cap = (text, max) => (text && text.length > max ? text.slice(0, max) : text);

/** What the vault holds of a page before its first snapshot. */
export const NOTHING_SENT = Object.freeze({
  started: false, // a snapshot was sent
  turns: Object.freeze([]), // the turns as last sent ({role, text, message_id?, thinking?, documents?})
  draft: null,
  streaming: false,
  title: null,
  model: null,
});

/** A turn that is only the site's notice (an error or waiting card where the answer
 * should be): not a turn of the chat, never sent (signals.js reports the notice). */
export const noticeOnly = (turn) => Boolean(turn.notice) && !turn.text.trim();

// A re-read this much poorer than what was sent means the adapter no longer reads the page.
const LOSS_MIN_TURNS = 4;
const LOSS_MIN_CHARS = 1000;

/**
 * Why the adapter seems to read much less of the same page than before, or null: far
 * fewer turns (`count` shown now, fewer than half of the `sent` ones) or much less
 * text in the turns read again (`next`: under a third of what they had). None
 * shown at all is capture.js's own check (`adapter_broken`, no turns found).
 */
export function readLoss(sent, count, next) {
  if (sent.length >= LOSS_MIN_TURNS && count > 0 && count * 2 < sent.length) {
    return `${count} turns read, ${sent.length} before`;
  }
  let before = 0;
  let after = 0;
  for (let i = 0; i < Math.min(sent.length, next.length); i++) {
    before += sent[i].text.length;
    after += next[i].text.length;
  }
  if (before >= LOSS_MIN_CHARS && after * 3 < before) return `${after} characters read, ${before} before`;
  return null;
}

/** The first index at which two lists of turn elements differ; Infinity when
 * they are the same. */
export function firstDifference(before, after) {
  let from = Infinity;
  for (let i = 0; i < after.length; i++) {
    if (before[i] !== after[i]) {
      from = i;
      break;
    }
  }
  if (after.length !== before.length) from = Math.min(from, after.length, before.length);
  return from;
}

/**
 * The snapshot to send, if any, for what the page shows now.
 *   last  what the vault holds (NOTHING_SENT, or the `next` of the last plan sent)
 *   shown {count, from, read, expected, acted, draft, streaming, title, model}:
 *         count turns shown; `from` the first that may have changed (Infinity:
 *         none); read(i) the turn at i ({role, text, message_id?}); expected: the
 *         chat should show turns; acted: the user clicked or typed just now
 *   full  send every turn (a new page, a need_full, a lost frame)
 * Returns {send, snapshot: {turnsFrom, turns, turnCount, draft, streaming, title,
 * model}, next, lost}: `next` is what the vault holds once the snapshot is sent;
 * `lost` says why turns read again were withheld (readLoss), else null.
 */
export function planSnapshot(last, shown, full) {
  const sent = last.turns;
  const n = shown.count;
  // A chat that should show turns shows none (still rendering, broken adapter, turns
  // gone): never send it as empty, that would wipe the vault's copy. Turns that
  // vanish with no click or key press just before (an edit, a regeneration) are the
  // page failing (signals.js reports turns_vanished): keep the vault's copy. Empty
  // turns that go (an answer that never came, now a notice) lose nothing.
  const vanished = n < sent.length && !shown.acted && sent.slice(n).some((t) => t.text.trim());
  const blind = (n === 0 && shown.expected) || (vanished && !full);
  let turns = [];
  let turnsFrom = sent.length;
  let next = sent;
  const from = full ? 0 : shown.from;
  if (!blind && from < Infinity) {
    ({ turnsFrom, turns, next } = diffTurns(sent, n, from, shown.read, full));
  } else if (!blind) {
    turnsFrom = n;
  }
  // The adapter reading much less of the same page than it sent (readLoss): the
  // page changed under it; keep the vault's copy and say why (capture.js reports it).
  let lost = null;
  if ((from < Infinity || n !== sent.length) && !shown.acted && !shown.streaming) {
    lost = readLoss(sent, n, next);
    if (lost) [turns, turnsFrom, next] = [[], sent.length, sent];
  }
  const withheld = blind || lost !== null;
  const { draft, streaming, title, model } = shown;
  const turnCount = next.length;
  const changed =
    full ||
    turns.length > 0 ||
    turnCount !== sent.length ||
    draft !== last.draft ||
    streaming !== last.streaming ||
    title !== last.title ||
    model !== last.model;
  // A page with nothing yet (an empty new chat, a chat still rendering) sends nothing.
  const worth = withheld ? turnCount > 0 : last.started || turnCount > 0 || (draft !== null && draft !== "");
  return {
    send: changed && worth && !(full && withheld),
    snapshot: { turnsFrom, turns, turnCount, draft, streaming, title, model },
    next: { started: true, turns: next, draft, streaming, title, model },
    lost,
  };
}

// The turns that differ from what was sent, from the first one on. Turns before
// `from` are known unchanged; turns after it are read and compared.
function diffTurns(sent, n, from, read, full) {
  const next = sent.slice(0, Math.min(from, n));
  let first = n;
  for (let i = next.length; i < n; i++) {
    const turn = read(i);
    if (first === n) {
      const old = sent[i];
      const same = old && old.text === turn.text && old.role === turn.role && partsKey(old) === partsKey(turn);
      if (full || !same) first = i;
    }
    next.push(turn);
  }
  if (n < sent.length) first = Math.min(first, n);
  const turns = next.slice(first).map((t, k) => wireTurn(t, first + k));
  return { turnsFrom: first, turns, next };
}

function wireTurn(turn, index) {
  const t = { index, role: turn.role, text: turn.text };
  if (turn.message_id) t.message_id = cap(turn.message_id, MAX_FIELD);
  if (turn.thinking) t.thinking = turn.thinking;
  if (turn.from_json) t.from_json = true; // the service's capture health does not count it as read
  if (turn.documents?.length) {
    t.documents = turn.documents.slice(0, MAX_DOCUMENTS).map((d) => ({ ...d, title: cap(d.title, MAX_FIELD) }));
  }
  return t;
}

// A turn's thinking and documents, compared as one string (a canvas edited in place changes it).
const partsKey = (turn) => (turn.thinking || turn.documents ? JSON.stringify([turn.thinking, turn.documents]) : "");

// Characters a turn puts in a frame: its text, thinking and documents.
const turnSize = (turn) =>
  turn.text.length + (turn.thinking || "").length + (turn.documents || []).reduce((n, d) => n + d.text.length, 0);

/** A snapshot's turns cut into parts of at most `budget` characters of text each (a
 * single larger turn goes alone), so a very long chat stays under the frame size
 * limit; always at least one part (a draft-only snapshot has no turns). */
export function frameParts(turns, budget) {
  const parts = [];
  let part = [];
  let size = 0;
  for (const turn of turns) {
    if (part.length && size + turnSize(turn) > budget) {
      parts.push(part);
      part = [];
      size = 0;
    }
    part.push(turn);
    size += turnSize(turn);
  }
  parts.push(part);
  return parts;
}

/** Whether a new chat (no id yet) that the tab now shows under an id is the same chat,
 * which just got its id (one page: the vault joins them), rather than another
 * conversation the tab moved to (a new page, so the new chat's turns, draft and failure
 * stay its own). `held`: the turns this page sent; `first`: the first turn the page
 * shows now (undefined: none); `justSent`: the user sent a message moments ago;
 * `followedLink`: the tab followed a link to this address (a chat in the sidebar). */
export function sameChatGotItsId({ held, first, justSent, followedLink }) {
  if (followedLink) return false;
  // Nothing but a draft sent yet: the first message was just sent, or this is another chat.
  if (held.length === 0) return justSent;
  // A chat that got its id still shows its first turn; another conversation shows its own.
  return first !== undefined && first.role === held[0].role && first.text === held[0].text;
}

/** The frames of a planned snapshot from `page` ({page_id, conversation_id, site,
 * url}), at `capturedAt` (ms); several when its text passes `budget`. */
export function snapshotFrames(page, snapshot, capturedAt, budget = FRAME_TEXT_BUDGET) {
  const { turnsFrom, turns, turnCount, draft, streaming, title, model } = snapshot;
  const base = { type: "snapshot", ...pageFields(page) };
  const tail = { streaming, captured_at: capturedAt };
  if (title) tail.title = cap(title, MAX_FIELD);
  if (model) tail.model = cap(model, MAX_FIELD);
  if (draft !== null) tail.draft = draft;
  const parts = frameParts(turns, budget);
  return parts.map((part, k) => ({
    ...base,
    turn_count: k === parts.length - 1 ? turnCount : part[part.length - 1].index + 1,
    turns_from: part.length ? part[0].index : turnsFrom,
    turns: part,
    ...tail,
  }));
}

/** A Signal frame (protocol.SignalKind `kind`) from `page`, at `capturedAt` (ms). */
export function signalFrame(page, kind, detail, status, capturedAt) {
  const frame = { type: "signal", ...pageFields(page), kind, captured_at: capturedAt };
  if (detail) frame.detail = cap(String(detail), MAX_FIELD);
  if (status != null) frame.status = status;
  return frame;
}

function pageFields({ page_id, conversation_id, site, url }) {
  return { page_id, conversation_id, site, url: cap(url, MAX_URL) };
}
