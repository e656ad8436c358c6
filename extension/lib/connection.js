// The WebSocket to the service: hello/welcome, sending the outbox in order with a
// small window of frames in flight, acks, reconnects with capped exponential
// backoff and jitter, and a ping every 20 s (which also keeps the worker alive:
// Chrome 116+ keeps a service worker running while its WebSocket is active).

import * as outbox from "./outbox.js";
import { wsUrl } from "./settings.js";

const PROTOCOL = 1;
const WINDOW = 32; // frames in flight before waiting for acks
const PING_MS = 20_000;
const BACKOFF_MIN_MS = 250;
const BACKOFF_FACTOR = 1.6;
const BACKOFF_MAX_MS = 30_000;

// state: "unpaired" (no token, or the service refused it), "connecting",
// "connected", "offline" (not reachable; retrying), "service_outdated" /
// "extension_outdated" (the service speaks no protocol version this extension
// speaks: protocol.ACCEPTED_PROTOCOLS; the keep-alive alarm tries again, so an
// upgrade of either side reconnects by itself).
export class Connection {
  constructor({ onState, onFailure, onRecovered, onNeedFull, onRefused, pages }) {
    this.onState = onState; // (state) => void
    this.onFailure = onFailure; // (failure frame) => void
    this.onRecovered = onRecovered; // (recovered frame) => void  a site answers again after failures
    this.onNeedFull = onNeedFull; // (frame, error) => void
    this.onRefused = onRefused; // (frame, error) => void  a frame the service will never take
    this.pages = pages; // () => page_ids open now, for ping
    this.state = "unpaired";
    this.settings = null;
    this.ws = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.sentUpTo = 0; // highest seq sent on this socket
    this.inFlight = new Set();
    this.pumping = false;
    this.lastAckAt = null;
    this.maxFrameBytes = 8 * 1024 * 1024; // until welcome says otherwise
    this.generation = 0; // bumps on every (re)configure, so stale sockets are ignored
  }

  // (Re)start with these settings ({serverUrl, token, clientId}).
  configure(settings) {
    this.settings = settings;
    this.generation += 1;
    this.teardown();
    this.attempt = 0;
    if (!settings.token) {
      this.setState("unpaired");
      return;
    }
    this.open();
  }

  setState(state) {
    if (this.state !== state) {
      this.state = state;
      this.onState(state);
    }
  }

  teardown() {
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    this.retryTimer = this.pingTimer = null;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close();
      } catch (err) {
        // already closed
      }
    }
    this.inFlight.clear();
    this.sentUpTo = 0;
  }

  // Connect now unless connected or connecting (used by alarms and new frames).
  ensure() {
    if (!this.settings || !this.settings.token || this.state === "unpaired") return;
    if (this.ws || this.retryTimer) return; // connected, connecting, or backing off
    this.open();
  }

  open() {
    const generation = this.generation;
    const { serverUrl, token, clientId } = this.settings;
    this.setState("connecting");
    let ws;
    try {
      ws = new WebSocket(wsUrl(serverUrl));
    } catch (err) {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      ws.send(
        JSON.stringify({
          type: "hello",
          protocol: PROTOCOL,
          token,
          client_id: clientId,
          agent: `draftvault-extension/${chrome.runtime.getManifest().version}`,
        })
      );
    };
    ws.onmessage = (event) => {
      if (generation === this.generation && this.ws === ws) this.receive(event.data);
    };
    ws.onclose = () => {
      if (generation !== this.generation || this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pingTimer);
      this.pingTimer = null;
      this.inFlight.clear();
      this.sentUpTo = 0;
      if (this.state !== "unpaired") this.scheduleRetry();
    };
    ws.onerror = () => {}; // onclose follows and schedules the retry
  }

  scheduleRetry() {
    this.setState("offline");
    clearTimeout(this.retryTimer);
    // Full jitter over an exponentially growing, capped window.
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * BACKOFF_FACTOR ** this.attempt);
    const delay = cap / 2 + Math.random() * (cap / 2);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.ws) this.open();
    }, delay);
  }

  async receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch (err) {
      return;
    }
    const { clientId } = this.settings;
    switch (frame.type) {
      case "welcome":
        this.attempt = 0;
        this.maxFrameBytes = frame.max_frame_bytes || this.maxFrameBytes;
        await outbox.raiseSeq(clientId, frame.last_seq);
        this.setState("connected");
        this.pingTimer = setInterval(() => this.ping(), PING_MS);
        this.ping();
        this.pump();
        break;
      case "ack":
        this.inFlight.delete(frame.seq);
        await outbox.remove(clientId, frame.seq);
        this.lastAckAt = Date.now();
        this.onState(this.state); // queued count changed
        this.pump();
        break;
      case "failure":
        this.onFailure(frame);
        break;
      case "recovered":
        this.onRecovered(frame);
        break;
      case "error":
        await this.error(frame);
        break;
      default:
        break; // pong
    }
  }

  async error(err) {
    const { clientId } = this.settings;
    if (err.code === "unauthorized") {
      // A revoked or wrong token: retrying cannot help until the user pairs again.
      this.teardown();
      this.setState("unpaired");
      return;
    }
    if (err.code === "bad_protocol") {
      // A service older than `protocols` in this answer sends none: it is the one to update.
      const theirs = err.protocols || [];
      this.teardown();
      this.setState(theirs.length && Math.min(...theirs) > PROTOCOL ? "extension_outdated" : "service_outdated");
      return;
    }
    if (err.code === "unavailable" || err.seq == null) {
      // The service could not store it (disk full, ...): keep it and retry later.
      this.teardown();
      this.scheduleRetry();
      return;
    }
    const [frame] = await outbox.after(clientId, err.seq - 1, 1);
    this.inFlight.delete(err.seq);
    await outbox.remove(clientId, err.seq);
    if (frame && frame.seq === err.seq) {
      if (err.code === "need_full") this.onNeedFull(frame, err);
      else this.onRefused(frame, err);
    }
    this.onState(this.state);
    this.pump();
  }

  ping() {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ type: "ping", pages: this.pages(), t: Date.now() }));
    }
  }

  // Send outbox frames in seq order, at most WINDOW unacked at a time.
  async pump() {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        const ws = this.ws;
        if (!ws || ws.readyState !== WebSocket.OPEN || this.state !== "connected") return;
        const room = WINDOW - this.inFlight.size;
        if (room <= 0) return;
        const frames = await outbox.after(this.settings.clientId, this.sentUpTo, room);
        if (ws !== this.ws) return;
        for (const frame of frames) {
          const text = JSON.stringify(frame);
          this.sentUpTo = frame.seq;
          if (new Blob([text]).size > this.maxFrameBytes) {
            // The service refuses it unread (no seq in its error): drop it here
            // rather than resend it forever.
            await outbox.remove(this.settings.clientId, frame.seq);
            this.onRefused(frame, { code: "too_large", message: `${text.length} characters` });
            continue;
          }
          ws.send(text);
          this.inFlight.add(frame.seq);
        }
        if (frames.length === room) this.pumpAgain = true;
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }
}
