// The content script's side of the messages in lib/messages.js: frames to the
// worker (sent again when the worker did not take them), the pause and settings it
// reads, and the answers to the worker's and the popup's questions about this page.

import { MSG } from "../lib/messages.js";

const RETRY_MS = 1000;
const SIGNAL_TRIES = 5;
const PAUSE_RECHECK_MS = 5000;

/** Posts frames to the worker. A lost signal is sent again (a few times); for a
 * lost snapshot the vault may miss a delta, so onLostSnapshot() makes the page send
 * everything again at the retry, even if it stays still. */
export class Sender {
  constructor({ onPaused, onLostSnapshot, onRetry, onGone }) {
    Object.assign(this, { onPaused, onLostSnapshot, onRetry, onGone });
    this.unsentSignals = [];
    this.signalTries = new WeakMap();
    this.retryTimer = null;
  }

  post(frame) {
    chrome.runtime.sendMessage({ type: MSG.FRAME, frame }).then(
      (answer) => {
        if (answer && answer.paused) this.onPaused();
        else if (!answer || !answer.ok) this.lost(frame);
      },
      (err) => {
        // The extension was reloaded or removed: this script is an orphan now.
        if (/context invalidated/i.test(String(err && err.message))) this.onGone();
        else this.lost(frame);
      }
    );
  }

  // The worker did not take it (it was starting, or failed).
  lost(frame) {
    if (frame.type !== "signal") this.onLostSnapshot();
    else if ((this.signalTries.get(frame) || 0) < SIGNAL_TRIES) {
      this.signalTries.set(frame, (this.signalTries.get(frame) || 0) + 1);
      this.unsentSignals.push(frame);
    }
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.onRetry();
      for (const signal of this.unsentSignals.splice(0)) this.post(signal);
    }, RETRY_MS);
  }

  stop() {
    clearTimeout(this.retryTimer);
  }
}

/** The pause and settings a page's capture follows: `paused` (this tab or this
 * site, as the worker knows it), `captureTemporary`, and `debug` (flush metrics,
 * when chrome.storage.local.debugCapture is set). onResume(): capturing again after
 * a pause, so mutations went unseen. */
export class PageSettings {
  constructor(site, onResume) {
    this.site = site;
    this.onResume = onResume;
    this.paused = false;
    this.captureTemporary = true;
    this.debug = null;
    this.timer = null;
  }

  async refresh() {
    const [{ captureTemporary = true, debugCapture = false }, answer] = await Promise.all([
      chrome.storage.local.get(["captureTemporary", "debugCapture"]),
      chrome.runtime.sendMessage({ type: MSG.IS_PAUSED, site: this.site }).catch(() => null),
    ]);
    if (debugCapture && !this.debug) this.debug = { flushes: [], pendingMs: 0 };
    if (captureTemporary !== this.captureTemporary) {
      this.captureTemporary = captureTemporary;
      if (captureTemporary) this.onResume();
    }
    this.setPaused(Boolean(answer && answer.paused));
  }

  /** With debugCapture on (bench_content): one flush's cost, from `t0` (performance.now()). */
  noteFlush(t0, fields) {
    if (!this.debug) return;
    this.debug.flushes.push({ ...fields, ms: performance.now() - t0 + this.debug.pendingMs });
    this.debug.pendingMs = 0;
  }

  setPaused(paused) {
    if (paused === this.paused) return;
    this.paused = paused;
    clearInterval(this.timer);
    if (paused) {
      // The tab's pause lives in the worker's session storage: ask again now and then.
      this.timer = setInterval(() => this.refresh(), PAUSE_RECHECK_MS);
    } else {
      this.onResume();
    }
  }

  stop() {
    clearInterval(this.timer);
  }
}

/** What the popup shows of this tab. */
function tabState(capture) {
  return {
    site: capture.site,
    conversation_id: capture.conversationId,
    page_id: capture.pageId,
    turns: capture.last.turns.length,
    draftChars: capture.last.draft ? capture.last.draft.length : 0,
    title: capture.last.title,
    paused: capture.settings.paused || capture.skipTemporary,
    broken: capture.broken,
  };
}

/** Answers the worker's and the popup's messages about this page, and reads the
 * settings again when they change. */
export function listen(capture) {
  chrome.runtime.onMessage.addListener((m, sender, reply) => {
    switch (m && m.type) {
      case MSG.TAB_STATE:
        reply(tabState(capture));
        break;
      case MSG.FILL_COMPOSER:
        reply({ ok: Boolean(capture.adapter.fillComposer(capture.doc, String(m.text || ""))) });
        break;
      case MSG.RESEND_FULL:
        if (!m.page_id || m.page_id === capture.pageId) capture.resendFull();
        break;
      case MSG.PAUSE_CHANGED:
        capture.settings.refresh();
        break;
      case MSG.DEBUG_METRICS:
        reply(capture.settings.debug ? { flushes: capture.settings.debug.flushes.splice(0) } : null);
        break;
    }
    return false; // every answer above is synchronous
  });
  chrome.storage.onChanged.addListener((changes, area) => {
    if (area !== "local") return;
    if ("pausedSites" in changes || "captureTemporary" in changes) capture.settings.refresh();
  });
}
