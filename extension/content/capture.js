// The content script's core: watches the chat page through its site adapter and
// sends Snapshot frames as deltas: `turns_from` is the first turn that changed, so
// a keystroke in a 500-turn chat sends the draft and no turns. What changed and the
// frames are worked out by content/snapshot.js (pure); this module reads the page.
//
// Cost: a debounced MutationObserver. Each mutation record is mapped to the turn
// element it is in (a walk up its ancestors); only those turns are read again.
// The turn list itself is listed again only when elements are added or removed
// outside the known turns. Each turn's Markdown is cached per element.

import { adapterFor } from "../sites/index.js";
import { startAttachments } from "./attachments.js";
import { listen, PageSettings, Sender } from "./messaging.js";
import { noticeControl } from "./notice-control.js";
import { pageJson } from "./page-json.js";
import { startSignals } from "./signals.js";
import {
  firstDifference,
  NOTHING_SENT,
  noticeOnly,
  planSnapshot,
  sameChatGotItsId,
  signalFrame,
  snapshotFrames,
} from "./snapshot.js";

const DEBOUNCE_MS = 300;
const MAX_WAIT_MS = 1000; // a draft reaches the worker within a second while typing
const BROKEN_AFTER_MS = 4000; // turns may render late; wait before calling the adapter broken
const JOIN_AFTER_SEND_MS = 60_000; // a new chat gets its id this soon after its first message
const ACTED_MS = 3000; // turns that vanish this soon after a click or key press were edited away
const LINK_MS = 10_000; // an address reached this soon after clicking a link to it came from the link
const WATCHED_ATTRIBUTES = ["data-is-streaming", "aria-busy", "data-testid"];
const SEND_BUTTONS = '[data-testid="send-button"], button[aria-label^="Send"], button[type="submit"]';

const newPageId = () => crypto.randomUUID().replace(/-/g, "");

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
    this.stopped = false;
    this.listeners = [];
    // Mutations while paused went unseen: the next flush reads everything again.
    this.settings = new PageSettings(this.site, () => {
      this.missed = true;
      this.schedule();
    });
    this.sender = new Sender({
      onPaused: () => this.settings.setPaused(true),
      onLostSnapshot: () => (this.needFull = true),
      onRetry: () => this.flush("retry"),
      onGone: () => this.stop(),
    });
    this.resetConversation();
  }

  // ---- state of one conversation on this page -------------------------------------

  resetConversation() {
    this.cache = new WeakMap(); // turn element -> {role, text, message_id}
    this.els = [];
    this.indexOf = new Map();
    this.last = NOTHING_SENT; // the last snapshot sent (what the vault holds)
    this.dirty = new Set();
    this.relist = true;
    this.draftDirty = true;
    this.metaDirty = true;
    this.needFull = true;
    this.seenTurns = false;
    this.broken = false;
    this.expectSince = null;
    this.composerEl = null;
    this.sentAt = -Infinity; // when the user last sent a message here (Enter, send button)
  }

  get skipTemporary() {
    return !this.settings.captureTemporary && this.temporaryChat;
  }

  get inactive() {
    return this.stopped || this.settings.paused || this.skipTemporary || this.adapter.ignore(this.win.location);
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
    this.json = pageJson(this, w); // ChatGPT's own conversation JSON, where the page loads it
    listen(this);
    this.notice = noticeControl({ doc: this.doc, site: this.site, pageId: this.pageId });
    this.signals = startSignals({
      adapter: this.adapter,
      emit: (kind, detail, status) => this.emit(kind, detail, status),
      state: this,
      onNotice: (el) => this.notice.show(el),
    });
    startAttachments(this);
    this.settings.refresh().then(() => this.flush("start"));
  }

  stop() {
    this.stopped = true;
    for (const part of [this.signals, this.notice, this.json]) if (part) part.stop();
    if (this.observer) this.observer.disconnect();
    clearInterval(this.urlTimer);
    clearTimeout(this.timer);
    this.settings.stop();
    this.sender.stop();
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
    if (this.settings.debug) this.settings.debug.pendingMs += performance.now() - t0;
    this.schedule();
  }

  // Which turn (or the composer) a mutation is in: a walk up its ancestors. A turn's
  // part shown outside it (Claude's artifact panel) names the element it belongs to.
  classify(record, from = record.target) {
    const composer = this.composerEl;
    for (let node = from; node; node = node.parentNode) {
      if (this.indexOf.has(node)) return void this.dirty.add(node);
      if (node === composer) return void (this.draftDirty = true);
    }
    const owner = from === record.target && this.adapter.partOf?.(record);
    if (owner) this.classify(record, owner);
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
    const a = e.target instanceof Element ? e.target.closest("a[href]") : null;
    if (a) this.link = { path: new URL(a.href, this.win.location.href).pathname, at: this.actedAt };
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
    if (this.conversationId === null && this.gotItsId(loc)) {
      // The new chat just got its id: the same page, sent in full so the vault joins them.
      this.temporaryChat = this.temporaryChat || temporary;
      this.needFull = true;
      this.relist = true;
    } else {
      this.temporaryChat = temporary;
      // Another chat (or a new one) in the same tab: a new page; the old one closed.
      if (this.last.started) this.post(this.signalFrame("page_closed", null, null));
      this.pageId = newPageId();
      this.resetConversation();
    }
    this.conversationId = id;
  }

  // A new chat's address changed to a conversation's: did it get its id, or did the tab move on?
  gotItsId(loc) {
    const link = this.link;
    const firstEl = this.adapter.turnElements(this.doc)[0];
    return sameChatGotItsId({
      held: this.last.turns,
      first: firstEl ? this.adapter.readTurn(firstEl) : undefined,
      justSent: performance.now() - this.sentAt < JOIN_AFTER_SEND_MS,
      followedLink: Boolean(link) && link.path === loc.pathname && performance.now() - link.at < LINK_MS,
    });
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
    const { from, reread } = this.readTurns();
    const count = this.els.length;
    const expected = this.conversationId !== null || this.seenTurns;
    if (count === 0 && expected) {
      this.checkBroken();
    } else if (count > 0) {
      this.seenTurns = true;
      this.expectSince = null;
    }
    // Streaming and the title change along with the page outside the composer: a
    // keystroke alone cannot change them (and their checks may scan the page).
    const typingOnly = !this.metaDirty && reread === 0 && from === Infinity && this.last.started;
    if (this.json.hold(count, reason)) return; // a chat's first snapshot waits for its JSON (page-json.js)
    const shown = this.json.view(count, (i) => this.read(this.els[i]), from); // completed by page-json.js
    const plan = planSnapshot(
      this.last,
      {
        ...shown,
        expected,
        acted: performance.now() - (this.actedAt ?? -Infinity) < ACTED_MS,
        ...this.readMeta(typingOnly),
      },
      this.needFull
    );
    let bytes = 0;
    let sendMs = 0;
    if (plan.send) {
      const s0 = performance.now();
      const page = { ...this.pageFields(), url: this.win.location.href };
      for (const frame of snapshotFrames(page, plan.snapshot, Date.now())) bytes += this.post(frame);
      sendMs = performance.now() - s0;
      this.last = plan.next;
      this.needFull = false;
    }
    if (plan.lost && !this.broken) {
      // After the snapshot: the service counts the site degraded until the adapter reads turns with text.
      this.broken = true;
      this.post(this.signalFrame("adapter_broken", `${plan.lost} on ${this.win.location.pathname}`, null));
    }
    const { turnsFrom, turnCount } = plan.snapshot;
    this.settings.noteFlush(t0, { reason, bytes, sendMs, turnsFrom, turnCount, reread });
    for (const fn of this.listeners) fn(this);
  }

  // The changed turns read again, and the turn elements listed again if needed:
  // `from` is the first turn that may differ from what was sent (Infinity: none).
  readTurns() {
    const a = this.adapter;
    let from = Infinity;
    let reread = 0;
    for (const el of this.dirty) {
      const i = this.indexOf.get(el);
      if (i === undefined) continue;
      const turn = a.readTurn(el);
      this.cache.set(el, turn);
      if (noticeOnly(turn)) this.relist = true; // a notice took the answer's place
      reread += 1;
      from = Math.min(from, i);
    }
    this.dirty.clear();
    if (this.relist) {
      this.relist = false;
      const els = this.listTurns();
      from = Math.min(from, firstDifference(this.els, els));
      this.els = els;
      this.indexOf = new Map(els.map((el, i) => [el, i]));
      this.composerEl = a.composer(this.doc);
      this.metaDirty = true;
    }
    return { from, reread };
  }

  // The turn elements, without those showing only a notice (read afresh each time:
  // the site may put the answer back in place of it).
  listTurns() {
    return this.adapter.turnElements(this.doc).filter((el) => {
      const cached = this.cache.get(el);
      if (cached && !noticeOnly(cached)) return true;
      const turn = this.adapter.readTurn(el);
      this.cache.set(el, turn);
      return !noticeOnly(turn);
    });
  }

  // The draft, and (unless only the composer changed) streaming, title and model.
  readMeta(typingOnly) {
    const a = this.adapter;
    if (this.draftDirty || !this.last.started) {
      this.draftDirty = false;
      this.currentDraft = a.readDraft(this.doc);
    }
    if (this.metaDirty || !this.last.started) {
      this.metaDirty = false;
      this.currentModel = a.model(this.doc);
    }
    return {
      draft: this.currentDraft ?? null,
      streaming: typingOnly ? this.last.streaming : a.isStreaming(this.doc),
      title: typingOnly ? this.last.title : a.title(this.doc),
      model: this.currentModel || null,
    };
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

  pageFields() {
    return { page_id: this.pageId, conversation_id: this.conversationId, site: this.site, url: this.url };
  }

  signalFrame(kind, detail, status) {
    return signalFrame(this.pageFields(), kind, detail, status, Date.now());
  }

  /** For signals.js: sends a signal frame, after a snapshot of what the page shows now. */
  emit(kind, detail = null, status = null) {
    if (this.inactive) return;
    this.flush(`signal:${kind}`);
    this.post(this.signalFrame(kind, detail, status));
  }

  post(frame) {
    this.sender.post(frame);
    return this.settings.debug ? JSON.stringify(frame).length : 0;
  }

  // ---- what the worker and the popup ask (content/messaging.js) -------------------

  resendFull() {
    this.needFull = true;
    this.flush("resend-full");
  }
}

/** Starts capturing this page when a site adapter knows its host. */
export function start(win = window) {
  const adapter = adapterFor(win.location);
  if (!adapter) return null;
  const capture = new Capture(adapter, win.document, win);
  capture.start();
  return capture;
}
