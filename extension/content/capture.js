// The content script's core: watches the chat page through its site adapter and
// sends Snapshot frames (protocol.Snapshot, without seq: the worker numbers them)
// as deltas: `turns_from` is the first turn that changed, so a keystroke in a
// 500-turn chat sends the draft and no turns.
//
// Cost: a debounced MutationObserver. Each mutation record is mapped to the turn
// element it is in (a walk up its ancestors); only those turns are read again.
// The turn list itself is listed again only when elements are added or removed
// outside the known turns. Each turn's Markdown is cached per element.

import { adapterFor } from "../sites/index.js";
import { startSignals } from "./signals.js";

const DEBOUNCE_MS = 300;
const MAX_WAIT_MS = 1000; // a draft reaches the worker within a second while typing
const BROKEN_AFTER_MS = 4000; // turns may render late; wait before calling the adapter broken
const PAUSE_RECHECK_MS = 5000;
const RETRY_MS = 1000;
const SIGNAL_TRIES = 5;
const JOIN_AFTER_SEND_MS = 60_000; // a new chat gets its id this soon after its first message
const ACTED_MS = 3000; // turns that vanish this soon after a click or key press were edited away
// A full snapshot with more text than this (characters; up to 3 bytes each in UTF-8)
// goes in several frames, each under the service's 8 MiB frame limit.
export const FRAME_TEXT_BUDGET = 2_000_000;
const WATCHED_ATTRIBUTES = ["data-is-streaming", "aria-busy", "data-testid"];
const SEND_BUTTONS = '[data-testid="send-button"], button[aria-label^="Send"], button[type="submit"]';

const newPageId = () => crypto.randomUUID().replace(/-/g, "");
const cap = (text, max) => (text && text.length > max ? text.slice(0, max) : text);

class Capture {
  constructor(adapter, doc, win) {
    this.adapter = adapter;
    this.site = adapter.site;
    this.doc = doc;
    this.win = win;
    this.pageId = newPageId();
    this.url = win.location.href;
    this.conversationId = adapter.conversationId(win.location, doc);
    this.temporaryChat = adapter.temporary(win.location);
    this.paused = false;
    this.captureTemporary = true; // chrome.storage.local captureTemporary
    this.stopped = false;
    this.debug = null; // metrics when chrome.storage.local.debugCapture is set
    this.listeners = [];
    this.unsentSignals = [];
    this.signalTries = new WeakMap();
    this.resetConversation();
  }

  // ---- state of one conversation on this page -------------------------------------

  resetConversation() {
    this.cache = new WeakMap(); // turn element -> {role, text, message_id}
    this.els = [];
    this.indexOf = new Map();
    this.sent = []; // the turns as last sent (what the vault holds)
    this.dirty = new Set();
    this.relist = true;
    this.draftDirty = true;
    this.metaDirty = true;
    this.needFull = true;
    this.started = false;
    this.lastDraft = undefined;
    this.lastStreaming = false;
    this.lastTitle = null;
    this.lastModel = null;
    this.seenTurns = false;
    this.broken = false;
    this.expectSince = null;
    this.composerEl = null;
    this.sentAt = -Infinity; // when the user last sent a message here (Enter, send button)
  }

  get turnCount() {
    return this.sent.length;
  }

  get draft() {
    return this.lastDraft === undefined ? null : this.lastDraft;
  }

  get streaming() {
    return this.lastStreaming;
  }

  get skipTemporary() {
    return !this.captureTemporary && this.temporaryChat;
  }

  get inactive() {
    return this.stopped || this.paused || this.skipTemporary || this.adapter.ignore(this.win.location);
  }

  /** fn(capture) after every flush: signals.js watches the page without a second observer. */
  subscribe(fn) {
    this.listeners.push(fn);
  }

  // ---- observing --------------------------------------------------------------------

  start() {
    const root = this.adapter.observeRoot(this.doc) || this.doc.documentElement;
    this.observer = new MutationObserver((records) => this.onMutations(records));
    this.observer.observe(root, {
      childList: true,
      subtree: true,
      characterData: true,
      attributes: true,
      attributeFilter: WATCHED_ATTRIBUTES,
    });
    // Sites put the chat's title in <title> (outside the body).
    const titleEl = this.doc.querySelector("head > title");
    if (titleEl) this.observer.observe(titleEl, { childList: true, subtree: true, characterData: true });
    const w = this.win;
    w.addEventListener("input", (e) => this.onInput(e), true);
    w.addEventListener("keydown", (e) => this.onKeydown(e), true);
    w.addEventListener("click", (e) => this.onClick(e), true);
    w.addEventListener("pagehide", () => this.flush("pagehide"));
    this.doc.addEventListener("visibilitychange", () => {
      if (this.doc.visibilityState === "hidden") this.flush("hidden");
    });
    w.addEventListener("popstate", () => this.schedule());
    if (w.navigation) {
      // Before a same-document navigation commits: send what the old chat shows.
      w.navigation.addEventListener("navigate", () => this.flush("navigate"));
      w.navigation.addEventListener("navigatesuccess", () => this.flush("navigated"));
    }
    // SPA routers may change the URL without DOM changes we watch.
    this.urlTimer = setInterval(() => {
      if (w.location.href !== this.url) this.flush("url");
    }, 1000);
    chrome.runtime.onMessage.addListener((m, sender, reply) => this.onMessage(m, reply));
    chrome.storage.onChanged.addListener((changes, area) => {
      if (area !== "local") return;
      if ("pausedSites" in changes || "captureTemporary" in changes) this.refreshSettings();
    });
    this.signals = startSignals({
      adapter: this.adapter,
      emit: (kind, detail, status) => this.emit(kind, detail, status),
      state: this,
    });
    this.refreshSettings().then(() => this.flush("start"));
  }

  stop() {
    this.stopped = true;
    if (this.signals) this.signals.stop();
    if (this.observer) this.observer.disconnect();
    clearInterval(this.urlTimer);
    clearTimeout(this.timer);
    clearInterval(this.pauseTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.brokenTimer);
  }

  onMutations(records) {
    this.followLocation();
    if (this.inactive) {
      this.missed = true;
      return;
    }
    const t0 = performance.now();
    for (const r of records) this.classify(r);
    if (this.debug) this.debug.pendingMs += performance.now() - t0;
    this.schedule();
  }

  // Which turn (or the composer) a mutation is in: a walk up its ancestors.
  classify(record) {
    const composer = this.composerEl;
    for (let node = record.target; node; node = node.parentNode) {
      if (this.indexOf.has(node)) {
        this.dirty.add(node);
        return;
      }
      if (node === composer) {
        this.draftDirty = true;
        return;
      }
    }
    if (record.type === "childList" && record.target.nodeName !== "TITLE") this.relist = true;
    else this.metaDirty = true;
  }

  onInput(e) {
    if (this.inactive) return;
    this.draftDirty = true;
    this.schedule();
  }

  // Enter in the composer sends the message: save the draft before the page moves it.
  onKeydown(e) {
    this.actedAt = performance.now();
    if (e.key !== "Enter" || e.shiftKey || e.isComposing) return;
    const composer = this.adapter.composer(this.doc);
    if (composer && composer.contains(e.target)) this.onSend();
  }

  // Also while not capturing: a temporary chat that gets its id stays the same chat.
  onSend() {
    this.sentAt = performance.now();
    if (this.inactive) return;
    this.draftDirty = true;
    this.flush("send");
  }

  onClick(e) {
    this.actedAt = performance.now();
    if (e.target instanceof Element && e.target.closest(SEND_BUTTONS)) this.onSend();
  }

  schedule() {
    const now = performance.now();
    if (this.firstPendingAt === undefined) this.firstPendingAt = now;
    clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(DEBOUNCE_MS, this.firstPendingAt + MAX_WAIT_MS - now));
    this.timer = setTimeout(() => this.flush("debounce"), wait);
  }

  // ---- building snapshots -----------------------------------------------------------

  followLocation() {
    const loc = this.win.location;
    if (loc.href === this.url) return;
    this.url = loc.href;
    const id = this.adapter.conversationId(loc, this.doc);
    const temporary = this.adapter.temporary(loc);
    if (id === this.conversationId) {
      // A new chat can be switched to temporary and back; a chat once temporary stays so.
      this.temporaryChat = id === null ? temporary : this.temporaryChat || temporary;
      return;
    }
    const justSent = performance.now() - this.sentAt < JOIN_AFTER_SEND_MS;
    if (this.conversationId === null && (this.sent.length > 0 || justSent)) {
      // The new chat just got its id: the same page, sent in full so the vault joins them.
      this.temporaryChat = this.temporaryChat || temporary;
      this.needFull = true;
      this.relist = true;
    } else {
      this.temporaryChat = temporary;
      // Another chat (or a new one) in the same tab: a new page; the old one closed.
      if (this.started) this.post(this.signalFrame("page_closed", null, null));
      this.pageId = newPageId();
      this.resetConversation();
    }
    this.conversationId = id;
  }

  read(el) {
    let turn = this.cache.get(el);
    if (!turn) {
      turn = this.adapter.readTurn(el);
      this.cache.set(el, turn);
    }
    return turn;
  }

  flush(reason) {
    clearTimeout(this.timer);
    this.firstPendingAt = undefined;
    // Not re-entrant: a listener's emit() during a flush has nothing new to send.
    if (this.flushing) return;
    this.followLocation();
    if (this.inactive) return;
    this.flushing = true;
    try {
      this.flushOnce(reason);
    } finally {
      this.flushing = false;
    }
  }

  flushOnce(reason) {
    const t0 = performance.now();
    // Changes not yet delivered to the observer (a flush right inside a navigation).
    if (this.observer) for (const r of this.observer.takeRecords()) this.classify(r);
    if (this.missed) {
      // Paused, or on a page not captured, mutations went unseen: read all, send all.
      this.missed = false;
      this.cache = new WeakMap();
      this.needFull = true;
      this.relist = true;
      this.draftDirty = true;
    }
    const a = this.adapter;
    const doc = this.doc;
    let from = Infinity;
    let reread = 0;

    if (this.relist) {
      this.relist = false;
      const els = a.turnElements(doc);
      const indexOf = new Map();
      for (let i = 0; i < els.length; i++) {
        indexOf.set(els[i], i);
        if (from === Infinity && this.els[i] !== els[i]) from = i;
      }
      if (els.length !== this.els.length) from = Math.min(from, els.length, this.els.length);
      this.els = els;
      this.indexOf = indexOf;
      this.composerEl = a.composer(doc);
      this.metaDirty = true;
    }
    for (const el of this.dirty) {
      const i = this.indexOf.get(el);
      if (i === undefined) continue;
      this.cache.set(el, a.readTurn(el));
      reread += 1;
      from = Math.min(from, i);
    }
    this.dirty.clear();

    const n = this.els.length;
    const expected = this.conversationId !== null || this.seenTurns;
    if (n === 0 && expected) {
      this.checkBroken();
    } else if (n > 0) {
      this.seenTurns = true;
      this.expectSince = null;
    }

    // The turns that differ from what was sent, from the first one on.
    let turns = [];
    let turnsFrom = this.sent.length;
    // A chat that should show turns shows none (still rendering, broken adapter, turns
    // gone): never send it as empty, that would wipe the vault's copy.
    // Turns that vanish with no click or key press just before (an edit, a regeneration)
    // are the page failing (signals.js reports turns_vanished): keep the vault's copy.
    const vanished = n < this.sent.length && !(performance.now() - (this.actedAt ?? -Infinity) < ACTED_MS);
    const blind = (n === 0 && expected) || (vanished && !this.needFull);
    if (!blind) {
      if (this.needFull) from = 0;
      if (from < Infinity) {
        const next = this.sent.slice(0, Math.min(from, n));
        let first = n;
        for (let i = next.length; i < n; i++) {
          const turn = this.read(this.els[i]);
          if (first === n) {
            const old = this.sent[i];
            if (this.needFull || !old || old.text !== turn.text || old.role !== turn.role) first = i;
          }
          next.push(turn);
        }
        if (n < this.sent.length) first = Math.min(first, n);
        turnsFrom = first;
        turns = next.slice(first).map((t, k) => this.wireTurn(t, first + k));
        this.pendingSent = next;
      } else {
        turnsFrom = n;
        this.pendingSent = this.sent;
      }
    } else {
      this.pendingSent = this.sent; // never wipe the vault's turns because the page lost them
    }

    if (this.draftDirty || this.lastDraft === undefined) {
      this.draftDirty = false;
      this.currentDraft = a.readDraft(doc);
    }
    const draft = this.currentDraft === undefined ? null : this.currentDraft;
    // Streaming and the title change along with the page outside the composer: a
    // keystroke alone cannot change them (and their checks may scan the page).
    const typingOnly = !this.metaDirty && reread === 0 && from === Infinity && this.started;
    const streaming = typingOnly ? this.lastStreaming : a.isStreaming(doc);
    const title = typingOnly ? this.lastTitle : cap(a.title(doc), 2048);
    if (this.metaDirty || !this.started) {
      this.metaDirty = false;
      this.currentModel = cap(a.model(doc), 2048);
    }
    const model = this.currentModel || null;
    const turnCount = this.pendingSent.length;

    const changed =
      this.needFull ||
      turns.length > 0 ||
      turnCount !== this.sent.length ||
      draft !== this.draft ||
      streaming !== this.lastStreaming ||
      title !== this.lastTitle ||
      model !== this.lastModel;
    // A page with nothing yet (an empty new chat, a chat still rendering) sends nothing.
    const worth = blind ? turnCount > 0 : this.started || turnCount > 0 || (draft !== null && draft !== "");
    let bytes = 0;
    let sendMs = 0;
    if (changed && worth && !(this.needFull && blind)) {
      const s0 = performance.now();
      bytes = this.sendSnapshot({ turnsFrom: this.needFull ? 0 : turnsFrom, turns, turnCount, draft, streaming, title, model });
      sendMs = performance.now() - s0;
      this.sent = this.pendingSent;
      this.lastDraft = draft;
      this.lastStreaming = streaming;
      this.lastTitle = title;
      this.lastModel = model;
      this.needFull = false;
      this.started = true;
    }
    if (this.debug) {
      this.debug.flushes.push({
        reason,
        ms: performance.now() - t0 + this.debug.pendingMs,
        bytes,
        sendMs,
        turnsFrom,
        turnCount,
        reread,
      });
      this.debug.pendingMs = 0;
    }
    for (const fn of this.listeners) fn(this);
  }

  wireTurn(turn, index) {
    const t = { index, role: turn.role, text: turn.text };
    if (turn.message_id) t.message_id = cap(turn.message_id, 2048);
    return t;
  }

  // The chat should show turns but the adapter finds none: once the page has had
  // time to render (and is not blank or logged out), report it instead of saving nothing.
  checkBroken() {
    const now = performance.now();
    if (this.expectSince === null) this.expectSince = now;
    if (this.broken) return;
    if (now - this.expectSince < BROKEN_AFTER_MS) {
      clearTimeout(this.brokenTimer);
      this.brokenTimer = setTimeout(() => this.flush("broken-check"), BROKEN_AFTER_MS - (now - this.expectSince) + 50);
      return;
    }
    const body = this.doc.body;
    if (!body || !body.textContent.trim() || this.adapter.loggedOut(this.doc)) return;
    this.broken = true;
    this.post(this.signalFrame("adapter_broken", `no turns found on ${this.win.location.pathname}`, null));
  }

  sendSnapshot({ turnsFrom, turns, turnCount, draft, streaming, title, model }) {
    const base = {
      type: "snapshot",
      page_id: this.pageId,
      conversation_id: this.conversationId,
      site: this.site,
      url: cap(this.win.location.href, 8192),
    };
    const tail = { streaming, captured_at: Date.now() };
    if (title) tail.title = title;
    if (model) tail.model = model;
    if (draft !== null) tail.draft = draft;
    let bytes = 0;
    const chunks = frameParts(turns, FRAME_TEXT_BUDGET);
    chunks.forEach((part, k) => {
      const last = k === chunks.length - 1;
      bytes += this.post({
        ...base,
        turn_count: last ? turnCount : part[part.length - 1].index + 1,
        turns_from: part.length ? part[0].index : turnsFrom,
        turns: part,
        ...tail,
      });
    });
    return bytes;
  }

  signalFrame(kind, detail, status) {
    const frame = {
      type: "signal",
      page_id: this.pageId,
      conversation_id: this.conversationId,
      site: this.site,
      url: cap(this.url, 8192),
      kind,
      captured_at: Date.now(),
    };
    if (detail) frame.detail = cap(String(detail), 2048);
    if (status != null) frame.status = status;
    return frame;
  }

  /** For signals.js: sends a signal frame, after a snapshot of what the page shows now. */
  emit(kind, detail = null, status = null) {
    if (this.inactive) return;
    this.flush(`signal:${kind}`);
    this.post(this.signalFrame(kind, detail, status));
  }

  post(frame) {
    const bytes = this.debug ? JSON.stringify(frame).length : 0;
    chrome.runtime.sendMessage({ type: "dv:frame", frame }).then(
      (answer) => {
        if (answer && answer.paused) this.setPaused(true);
        else if (!answer || !answer.ok) this.lost(frame);
      },
      (err) => {
        if (/context invalidated/i.test(String(err && err.message))) this.stop();
        else this.lost(frame);
      }
    );
    return bytes;
  }

  // The worker did not take a frame (it was starting, or failed): a lost signal is
  // sent again; for a lost snapshot the vault may miss a delta, so everything is
  // sent again shortly, even if the page stays still.
  lost(frame) {
    if (frame.type !== "signal") this.needFull = true;
    else if ((this.signalTries.get(frame) || 0) < SIGNAL_TRIES) {
      this.signalTries.set(frame, (this.signalTries.get(frame) || 0) + 1);
      this.unsentSignals.push(frame);
    }
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.flush("retry");
      for (const signal of this.unsentSignals.splice(0)) this.post(signal);
    }, RETRY_MS);
  }

  // ---- pause and settings -----------------------------------------------------------

  async refreshSettings() {
    const [{ captureTemporary = true, debugCapture = false }, answer] = await Promise.all([
      chrome.storage.local.get(["captureTemporary", "debugCapture"]),
      chrome.runtime.sendMessage({ type: "dv:is-paused", site: this.site }).catch(() => null),
    ]);
    if (debugCapture && !this.debug) this.debug = { flushes: [], pendingMs: 0 };
    if (captureTemporary !== this.captureTemporary) {
      this.captureTemporary = captureTemporary;
      if (captureTemporary) this.resume();
    }
    this.setPaused(Boolean(answer && answer.paused));
  }

  setPaused(paused) {
    if (paused === this.paused) return;
    this.paused = paused;
    clearInterval(this.pauseTimer);
    if (paused) {
      // The tab's pause lives in the worker's session storage: ask again now and then.
      this.pauseTimer = setInterval(() => this.refreshSettings(), PAUSE_RECHECK_MS);
    } else {
      this.resume();
    }
  }

  // Mutations while paused went unseen: the next flush reads everything again.
  resume() {
    this.missed = true;
    this.schedule();
  }

  // ---- messages from the worker and popup -----------------------------------------

  onMessage(m, reply) {
    switch (m && m.type) {
      case "dv:tab-state":
        reply({
          site: this.site,
          conversation_id: this.conversationId,
          page_id: this.pageId,
          turns: this.sent.length,
          draftChars: this.draft ? this.draft.length : 0,
          title: this.lastTitle,
          paused: this.paused || this.skipTemporary,
          broken: this.broken,
        });
        return false;
      case "dv:fill-composer":
        reply({ ok: Boolean(this.adapter.fillComposer(this.doc, String(m.text || ""))) });
        return false;
      case "dv:resend-full":
        if (!m.page_id || m.page_id === this.pageId) {
          this.needFull = true;
          this.flush("resend-full");
        }
        return false;
      case "dv:pause-changed":
        this.refreshSettings();
        return false;
      case "dv:debug-metrics":
        reply(this.debug ? { flushes: this.debug.flushes.splice(0) } : null);
        return false;
      default:
        return false;
    }
  }
}

/** A snapshot's turns cut into parts of at most `budget` characters of text each (a
 * single larger turn goes alone), so a very long chat stays under the frame size
 * limit; always at least one part (a draft-only snapshot has no turns). */
export function frameParts(turns, budget) {
  const parts = [];
  let part = [];
  let size = 0;
  for (const turn of turns) {
    if (part.length && size + turn.text.length > budget) {
      parts.push(part);
      part = [];
      size = 0;
    }
    part.push(turn);
    size += turn.text.length;
  }
  parts.push(part);
  return parts;
}

/** Starts capturing this page when a site adapter knows its host. */
export function start(win = window) {
  const adapter = adapterFor(win.location);
  if (!adapter) return null;
  const capture = new Capture(adapter, win.document, win);
  capture.start();
  return capture;
}
