// The durable outbox (IndexedDB). A frame is numbered and written here BEFORE it is
// sent, and removed only when the service acks it, so nothing is lost when the
// service, the worker or the browser goes away. Per clientId: the last seq handed
// out and the bytes queued live in one meta record, updated in the same
// transaction as the frames, so numbering survives restarts exactly.

const DB_NAME = "draftvault";
const DB_VERSION = 1;
const FRAMES = "frames"; // {clientId, seq, page, bytes, frame}; key [clientId, seq]
const META = "meta"; // {clientId, lastSeq, bytes}

export const DEFAULT_LIMITS = Object.freeze({ frames: 5000, bytes: 20 * 1024 * 1024 });

let dbPromise = null;

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        db.createObjectStore(FRAMES, { keyPath: ["clientId", "seq"] });
        db.createObjectStore(META, { keyPath: "clientId" });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => {
        dbPromise = null;
        reject(req.error);
      };
    });
  }
  return dbPromise;
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error || new Error("outbox transaction aborted"));
  });
}

function result(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

const clientRange = (clientId, afterSeq = 0) =>
  IDBKeyRange.bound([clientId, afterSeq], [clientId, Number.MAX_SAFE_INTEGER], true, false);

async function tx(stores, mode = "readonly") {
  const db = await openDb();
  // "strict": the frame is on disk before we tell the page it is saved.
  return db.transaction(stores, mode, mode === "readwrite" ? { durability: "strict" } : undefined);
}

function readMeta(store, clientId) {
  return result(store.get(clientId)).then((m) => m || { clientId, lastSeq: 0, bytes: 0 });
}

// Numbers the frame with the client's next seq and stores it; returns the seq.
// Attachment parts count as 0 bytes toward the limits: compaction cannot fold them, so
// counting them would make every later frame read the whole outbox in vain.
export async function enqueue(clientId, frame) {
  const t = await tx([FRAMES, META], "readwrite");
  const meta = await readMeta(t.objectStore(META), clientId);
  const seq = meta.lastSeq + 1;
  const numbered = { ...frame, seq };
  const bytes = frame.type === "attachment" ? 0 : JSON.stringify(numbered).length;
  t.objectStore(FRAMES).put({ clientId, seq, page: frame.page_id, bytes, frame: numbered });
  t.objectStore(META).put({ ...meta, lastSeq: seq, bytes: meta.bytes + bytes });
  await done(t);
  return seq;
}

// After `welcome`: never hand out a seq the service already holds. Frames queued
// under lower numbers (this profile's storage was reset while the service kept
// the client's frames) are renumbered after it, in order, or they would be
// mistaken for duplicates.
export async function raiseSeq(clientId, lastSeq) {
  const t = await tx([FRAMES, META], "readwrite");
  const meta = await readMeta(t.objectStore(META), clientId);
  if (lastSeq > meta.lastSeq) {
    const frames = t.objectStore(FRAMES);
    const entries = await result(frames.getAll(clientRange(clientId)));
    let seq = lastSeq;
    for (const entry of entries) {
      frames.delete([clientId, entry.seq]);
      seq += 1;
      frames.put({ ...entry, seq, frame: { ...entry.frame, seq } });
    }
    t.objectStore(META).put({ ...meta, lastSeq: seq });
  }
  await done(t);
}

export async function remove(clientId, seq) {
  const t = await tx([FRAMES, META], "readwrite");
  const frames = t.objectStore(FRAMES);
  const entry = await result(frames.get([clientId, seq]));
  if (entry) {
    frames.delete([clientId, seq]);
    const meta = await readMeta(t.objectStore(META), clientId);
    t.objectStore(META).put({ ...meta, bytes: Math.max(0, meta.bytes - entry.bytes) });
  }
  await done(t);
  return Boolean(entry);
}

// Frames with seq > afterSeq, oldest first.
export async function after(clientId, afterSeq, limit) {
  const t = await tx([FRAMES]);
  const entries = await result(t.objectStore(FRAMES).getAll(clientRange(clientId, afterSeq), limit));
  return entries.map((e) => e.frame);
}

export async function stats(clientId) {
  const t = await tx([FRAMES, META]);
  const [count, meta] = await Promise.all([
    result(t.objectStore(FRAMES).count(clientRange(clientId))),
    readMeta(t.objectStore(META), clientId),
  ]);
  return { count, bytes: meta.bytes, lastSeq: meta.lastSeq };
}

// Two snapshots of one page as one: applying the result gives what applying A
// then B gives. null when B starts past A's turns (B relies on turns A lacks).
export function composeSnapshots(a, b) {
  const aEnd = a.turns_from + a.turns.length;
  if (b.turns_from > aEnd) return null;
  const kept = b.turns_from <= a.turns_from ? [] : a.turns.slice(0, b.turns_from - a.turns_from);
  return {
    ...b,
    turns_from: Math.min(a.turns_from, b.turns_from),
    turns: kept.concat(b.turns),
    conversation_id: b.conversation_id ?? a.conversation_id,
    title: b.title ?? a.title,
    model: b.model ?? a.model,
    draft: b.draft ?? a.draft,
  };
}

// When the outbox is over its limits: each page's snapshots are folded into its
// newest one (older full snapshots and deltas disappear; the newest state and the
// newest draft of every page stay). Signals are small and kept as they are.
export async function compactIfFull(clientId, limits = DEFAULT_LIMITS) {
  const { count, bytes } = await stats(clientId);
  if (count <= limits.frames && bytes <= limits.bytes) return false;
  const t = await tx([FRAMES, META], "readwrite");
  const frames = t.objectStore(FRAMES);
  const entries = await result(frames.getAll(clientRange(clientId)));
  const newest = new Map(); // page -> entry holding the page's folded snapshot so far
  const dropped = [];
  for (const entry of entries) {
    if (entry.frame.type !== "snapshot") continue;
    const prev = newest.get(entry.page);
    const merged = prev && composeSnapshots(prev.frame, entry.frame);
    if (merged) {
      dropped.push(prev);
      entry.frame = merged;
    }
    newest.set(entry.page, entry);
  }
  let total = 0;
  const droppedSeqs = new Set(dropped.map((e) => e.seq));
  for (const entry of entries) {
    if (droppedSeqs.has(entry.seq)) {
      frames.delete([clientId, entry.seq]);
      continue;
    }
    if (newest.get(entry.page) === entry && entry.frame.type === "snapshot") {
      entry.bytes = JSON.stringify(entry.frame).length;
      frames.put(entry);
    }
    total += entry.bytes;
  }
  const meta = await readMeta(t.objectStore(META), clientId);
  t.objectStore(META).put({ ...meta, bytes: total });
  await done(t);
  return true;
}
