// Images and files in a conversation, kept as bytes: the page's own URLs expire, so
// each image a turn shows (uploaded by the person, or generated) is fetched once, as
// the page itself loaded it (same-origin with the page's cookies, else without
// credentials; blob: and data: URLs as they are), and sent to the worker as protocol
// `attachment` frames: parts of ATTACHMENT_PART_BYTES, base64, one after another. A
// file over the cap set in the options page (chrome.storage.local attachmentMaxMB,
// 25 MB by default), an image the page no longer serves, and a file the page shows
// only by its name are recorded by name, type and size alone (`parts: 0`).
//
// Cost: off the keystroke path. After a flush that read no turn again (a keystroke)
// nothing is looked at; otherwise the document's images are walked (each
// image element settled once) and the turns read again are searched for file tiles.
// Fetching runs later, one file at a time, remembered by page and URL. An image still loading is looked at again when it loads.
// Its own time goes into capture's flush metrics (debugCapture) like the observer's.

import { altOf } from "./dom-to-markdown.js";
import { MSG } from "../lib/messages.js";
import { DEFAULTS } from "../lib/settings.js";

const PART_BYTES = 1024 * 1024; // protocol.ATTACHMENT_PART_BYTES
const MIN_SIDE = 48; // smaller images are icons, avatars and favicons, not attachments
const SEND_TRIES = 5;
const RETRY_MS = 1000;
// Elements that show an uploaded file by its name (no bytes on the page), and what a file name looks like.
const FILE_TILES = '[data-testid*="file-attachment"], [data-testid*="file-tile"], a[download]';
const FILE_NAME = /^[^\\/\n]{1,200}\.[A-Za-z0-9]{1,8}$/;
const TYPES = {
  pdf: "application/pdf", txt: "text/plain", csv: "text/csv", md: "text/markdown", json: "application/json",
  zip: "application/zip", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif",
  webp: "image/webp", svg: "image/svg+xml", docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", pptx:
    "application/vnd.openxmlformats-officedocument.presentationml.presentation", py: "text/x-python",
};
const EXTENSIONS = { "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp", "image/svg+xml": "svg" };

const typeOfName = (name) => TYPES[name.split(".").pop().toLowerCase()] || "application/octet-stream";
const MAX_ALT = 2048; // protocol ShortText
// A short stable tag of a URL, so two images with the same alt text get different names.
function tag(text) {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36).slice(0, 6);
}

// The name a file gets: its alt text when that is a file name, else "uploaded-image-x1y2z3.png".
function imageName(img, url, mime) {
  const alt = altOf(img);
  if (FILE_NAME.test(alt)) return alt;
  const stem = alt.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "image";
  return `${stem}-${tag(url)}.${EXTENSIONS[mime] || "bin"}`;
}

function base64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).slice(String(reader.result).indexOf(",") + 1));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class Attachments {
  constructor(capture) {
    this.capture = capture;
    this.settled = new WeakSet(); // image and tile elements looked at for good
    this.seen = new Set(); // `${page_id} ${url or name}`: each file once per page
    this.queue = [];
    this.running = false;
    this.turnsLooked = null;
    this.turnRead = new WeakMap(); // turn element -> the turn object last looked at
    this.keys = 0;
    capture.subscribe(() => this.afterFlush());
    // Load events do not bubble; in the capture phase the document hears every image's.
    capture.doc.addEventListener("load", (e) => {
      if (e.target instanceof HTMLImageElement && !this.settled.has(e.target)) this.look();
    }, true);
  }

  afterFlush() {
    const c = this.capture;
    // The turns read again (capture caches a new object for each) are where new file
    // tiles can be; a keystroke reads none, and then nothing more is looked at.
    const changed = [];
    const n = Math.min(c.els.length, c.last.turns.length);
    for (let i = 0; i < n; i++) {
      const turn = c.cache.get(c.els[i]);
      if (this.turnRead.get(c.els[i]) !== turn) {
        this.turnRead.set(c.els[i], turn);
        changed.push(i);
      }
    }
    if (changed.length || c.last.turns !== this.turnsLooked) {
      this.fromJson();
      this.look(changed);
    }
    this.turnsLooked = c.last.turns;
  }

  // Files ChatGPT's own JSON names for a turn (page-json.js puts them on the turn): kept
  // by name, type and size, once per page like a file tile. Images are left to the DOM,
  // which gives their bytes.
  fromJson() {
    this.capture.last.turns.forEach((turn, index) => {
      for (const a of turn.attachments || []) {
        if (!/^image\//.test(a.mime || "")) this.add({ index, name: a.name, mime: a.mime, size: a.size });
      }
    });
  }

  // Walks the images of the turns sent so far, and the file tiles of the `changed` turns; queues what is new.
  look(changed = []) {
    const c = this.capture;
    if (c.inactive) return;
    const t0 = performance.now();
    for (const img of c.doc.images) {
      if (this.settled.has(img)) continue;
      const index = this.turnOf(img);
      if (index === undefined) continue;
      if (!img.complete) continue; // looked at again when it loads
      this.settled.add(img);
      const url = img.currentSrc || img.src;
      if (!/^(https?|blob|data):/.test(url) || Math.max(img.naturalWidth, img.naturalHeight) < MIN_SIDE) continue;
      this.add({ index, url, img });
    }
    for (const el of changed.flatMap((i) => (c.els[i] ? [...c.els[i].querySelectorAll(FILE_TILES)] : []))) {
      if (this.settled.has(el)) continue;
      const index = this.turnOf(el);
      if (index === undefined) continue;
      this.settled.add(el);
      const name = [el.getAttribute("download"), ...[...el.querySelectorAll("*")].map((n) => n.textContent.trim())]
        .find((text) => text && FILE_NAME.test(text));
      if (name) this.add({ index, name });
    }
    if (c.settings.debug) c.settings.debug.pendingMs += performance.now() - t0;
    this.run();
  }

  // The index of the sent turn an element is in (undefined: outside the turns, or not sent yet).
  turnOf(el) {
    const c = this.capture;
    for (let node = el.parentNode; node; node = node.parentNode) {
      const i = c.indexOf.get(node);
      if (i !== undefined) return i < c.last.turns.length ? i : undefined;
    }
    return undefined;
  }

  add(job) {
    const page = this.capture.pageFields();
    const id = `${page.page_id} ${job.url || job.name}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.queue.push({ ...job, page, key: `f${++this.keys}` });
  }

  async run() {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length && !this.capture.stopped) await this.keep(this.queue.shift());
    } finally {
      this.running = false;
    }
  }

  async keep(job) {
    const head = { type: "attachment", ...job.page, turn_index: job.index, key: job.key };
    if (!job.url) {
      await this.send({ ...head, name: job.name, mime: job.mime || typeOfName(job.name), size: job.size || 0, parts: 0 });
      return;
    }
    const { attachmentMaxMB = DEFAULTS.attachmentMaxMB } = await chrome.storage.local.get("attachmentMaxMB");
    const cap = Number(attachmentMaxMB) * 1024 * 1024;
    const got = await this.fetchBytes(job.url, cap);
    const mime = (got.type || "image/*").split(";")[0].trim() || "image/*";
    const name = imageName(job.img, job.url, mime);
    // The text keeps the image's placeholder whatever becomes of the bytes (the same text on
    // every flush, while the image loads or fails); with the alt the service knows which
    // placeholder an image kept stands for, and readers show the image in its stead.
    const alt = altOf(job.img);
    if (alt && alt.length <= MAX_ALT) head.alt = alt;
    if (!got.blob) {
      await this.send({ ...head, name, mime, size: got.size, parts: 0 });
      return;
    }
    const parts = Math.max(1, Math.ceil(got.blob.size / PART_BYTES));
    for (let part = 0; part < parts; part++) {
      const data = await base64(got.blob.slice(part * PART_BYTES, (part + 1) * PART_BYTES));
      if (!(await this.send({ ...head, name, mime, size: got.blob.size, parts, part, data }))) return;
    }
  }

  // The bytes as the page loaded them: {blob, type, size}; no blob when over the cap or not served.
  async fetchBytes(url, cap) {
    const sameOrigin = new URL(url, this.capture.win.location.href).origin === this.capture.win.location.origin;
    const controller = new AbortController();
    try {
      const res = await fetch(url, { credentials: sameOrigin ? "include" : "omit", signal: controller.signal });
      if (!res.ok) return { type: null, size: 0 };
      const type = res.headers.get("content-type");
      const announced = Number(res.headers.get("content-length") || 0);
      if (announced > cap) {
        controller.abort();
        return { type, size: announced };
      }
      const blob = await res.blob();
      return blob.size > cap ? { type, size: blob.size } : { blob, type: type || blob.type, size: blob.size };
    } catch (err) {
      return { type: null, size: 0 };
    }
  }

  // Hands one frame to the worker (numbered and kept there); true when it took it.
  async send(frame) {
    for (let tries = 0; tries < SEND_TRIES; tries++) {
      try {
        const answer = await chrome.runtime.sendMessage({ type: MSG.FRAME, frame: { ...frame, captured_at: Date.now() } });
        if (answer && answer.ok) return true;
        if (answer && answer.paused) return false;
      } catch (err) {
        if (/context invalidated/i.test(String(err && err.message))) return false;
      }
      await pause(RETRY_MS);
    }
    return false;
  }
}

/** Starts keeping the images and files of the page capture.js watches. */
export function startAttachments(capture) {
  return new Attachments(capture);
}
