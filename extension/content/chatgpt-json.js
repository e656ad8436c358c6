// ChatGPT's conversation JSON (what the page itself loads when a chat opens: GET
// /backend-api/conversation/{id}, the same `mapping` tree as the data export) as the
// thread ChatGPT shows, in the vault's Markdown. Pure (no DOM, no chrome.*):
// content/page-json.js feeds it what mainworld.js read; tests/node/chatgpt-json.test.mjs
// runs it on the real exports and tests/test_chatgpt_json.py checks it against the
// Python importer (server/draftvault/importers/chatgpt.py), whose rendering it follows.
//
// The JSON reaches us through the page, which can forge it: every field is checked and
// capped here, and capture only uses it to complete or check what the DOM shows.

import { fence, link, normaliseMath, quote } from "./markdown-dialect.js";

export const MAX_NODES = 50_000;
const MAX_TEXT = 2_000_000; // one message (snapshot.js FRAME_TEXT_BUDGET)
const MAX_NAME = 512; // a file or document name
const MAX_FILES = 100; // attachments of one message
// What one thread's canvas edits may read and write (importers/canvas.py REPLAY_CHARS): a
// tiny edit of a large document makes a whole new copy of it.
const REPLAY_CHARS = 32 * 1024 * 1024;
const ID = /^[A-Za-z0-9_-]{1,200}$/;

const SKIPPED = new Set(["thoughts", "reasoning_recap", "user_editable_context", "model_editable_context"]);
const ROLES = new Set(["user", "assistant", "system", "tool"]);
const SEARCH_MARK = /【(\d+)†([^†】]*)(?:†([^】]*))?】/g;
const LEFTOVER_MARK = /【\d+(?::\d+)*†[^】]*】/g;
const LEFTOVER_ENTITY = /\ue200[^\ue201]*\ue201/g;
const MARKED = /[【\ue000-\uf8ff]/; // a content reference's span that is a mark, not words (chatgpt.py _MARKED)
const LEFTOVER_SPAN = /[\ue203-\ue206]/g;
// Canvas: the assistant calls these tools; the page shows the document, not the call.
const CANVAS_CREATE = "canmore.create_textdoc";
const CANVAS_UPDATE = "canmore.update_textdoc";

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const str = (v) => (typeof v === "string" ? v : null);
const int = (v) => (Number.isInteger(v) ? v : null);
const cap = (text, max) => (text.length > max ? text.slice(0, max) : text);

// ---- one message ---------------------------------------------------------------------

// A content reference as [start, end, links or the words standing for the mark], or null for
// words ("attribution": they stay) (importers/chatgpt.py _reference).
function reference(chars, r) {
  if (!isObject(r)) return null;
  const [s, e, matched] = [int(r.start_idx), int(r.end_idx), str(r.matched_text)];
  if (s === null || e === null || !matched || !MARKED.test(matched) || chars.slice(s, e).join("") !== matched) return null;
  const listed = Array.isArray(r.items) && r.items.length ? r.items : Array.isArray(r.fallback_items) ? r.fallback_items : [];
  let links = listed.filter((i) => isObject(i) && str(i.url)).map((i) => link(str(i.title), i.url));
  if (!links.length && str(r.url)) links = [link(str(r.title), r.url)];
  const alt = str(r.alt);
  if (!links.length && alt && /[\p{L}\p{N}_]/u.test(alt) && !alt.includes("](")) return [s, e, alt];
  return [s, e, links];
}

const gap = (before) => (before === " " || before === "\t" || before === "\n" ? "" : " "); // newer marks follow a space

// Citation marks as Markdown links to the cited pages. Offsets count code points.
function withCitations(text, meta) {
  const chars = Array.from(text);
  const spans = [];
  for (const c of Array.isArray(meta.citations) ? meta.citations : []) {
    const m = isObject(c) && isObject(c.metadata) ? c.metadata : {};
    const [s, e] = isObject(c) ? [int(c.start_ix), int(c.end_ix)] : [null, null];
    if (s !== null && e !== null && 0 <= s && s <= e && e <= chars.length) {
      spans.push([s, e, str(m.url) ? [link(str(m.title), m.url)] : []]);
    }
  }
  const refs = Array.isArray(meta.content_references) ? meta.content_references : [];
  spans.push(...refs.map((r) => reference(chars, r)).filter(Boolean));
  // Adjacent marks (one claim, several sources) become one parenthesis.
  const order = (x) => (typeof x === "string" ? [1, [x]] : [0, x]);
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1] || order(a[2])[0] - order(b[2])[0] ||
                       compareLists(order(a[2])[1], order(b[2])[1]));
  const merged = [];
  for (const [s, e, links] of spans) {
    const last = merged[merged.length - 1];
    if (last && s < last[1]) continue; // overlapping: both schemes describe the same mark
    if (last && s === last[1] && Array.isArray(links) && Array.isArray(last[2])) {
      merged[merged.length - 1] = [last[0], e, [...last[2], ...links]];
    } else merged.push([s, e, links]);
  }
  const pieces = []; // joined once: a splice per mark copied the text each time
  let at = 0;
  for (const [s, e, links] of merged) {
    const unique = typeof links === "string" ? links : [...new Set(links)];
    pieces.push(chars.slice(at, s).join(""),
                typeof unique === "string" ? unique : unique.length ? `${gap(chars[s - 1])}(${unique.join(", ")})` : "");
    at = e;
  }
  pieces.push(chars.slice(at).join(""));
  const out = subBeforeLast(subBeforeLast(pieces.join(""), LEFTOVER_MARK, "", "】"), LEFTOVER_ENTITY, "", "\ue201");
  return out.replace(LEFTOVER_SPAN, "");
}

// `text.replace(pattern, replacement)` up to the text's last `last` character, which ends every
// match: an opening after it cannot match, yet each would first scan to the end (quadratic).
function subBeforeLast(text, pattern, replacement, last) {
  const cut = text.lastIndexOf(last) + 1;
  return text.slice(0, cut).replace(pattern, replacement) + text.slice(cut);
}

function compareLists(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length - b.length;
}

function partText(part) {
  if (typeof part === "string") return part;
  if (!isObject(part)) return "";
  const kind = part.content_type;
  if (kind === "image_asset_pointer") {
    const dalle = isObject(part.metadata) && isObject(part.metadata.dalle) ? part.metadata.dalle : {};
    const prompt = str(dalle.prompt) && dalle.prompt.trim().split(/\s+/).join(" ");
    return prompt ? `[Image: ${prompt}]` : "[Image]";
  }
  if (kind === "audio_asset_pointer") return "[Audio]";
  if (kind === "video_container_asset_pointer") return "[Video]";
  return str(part.text) || "";
}

const partsText = (parts) => (Array.isArray(parts) ? parts.map(partText).filter(Boolean).join("\n\n") : "");

// A system or tool message ChatGPT keeps from the reader: words for the model (chatgpt.py _for_the_model).
function forTheModel(msg, role, meta) {
  if (role === "user" || role === "assistant" || meta.draftvault_markdown) return false;
  if (role === "system") return true; // instructions: the page never shows them
  const c = msg.content;
  const to = str(msg.recipient);
  if ((to !== null && to !== "all") || c.content_type === "text" || c.content_type === "sonic_webpage") return true;
  if (meta.command === "context_stuff") return true;
  return c.content_type === "multimodal_text" && (Array.isArray(c.parts) ? c.parts : []).every((p) => typeof p === "string");
}

// A text message (chatgpt.py _said; the files it names are the turn's attachments here).
function said(msg, role, meta) {
  let text = partsText(msg.content.parts);
  const to = str(msg.recipient);
  if (role === "assistant" && to !== null && to !== "all") { // a call to a tool: its input is code
    return text.trim() ? fence(text, to === "python" ? "python" : "") : "";
  }
  if (!meta.draftvault_markdown) {
    text = withCitations(text, meta);
    if (role === "assistant") text = normaliseMath(text); // ChatGPT shows user text as typed
  }
  return text;
}

// Code's output: its text as code, each picture it showed as "[Image]" (chatgpt.py _output).
function output(text, meta) {
  const shown = isObject(meta.aggregate_result) ? meta.aggregate_result.messages : null;
  const images = Array.isArray(shown) ? shown.filter((m) => isObject(m) && m.message_type === "image").length : 0;
  if (images) text = text.replaceAll("<<ImageDisplayed>>", "");
  return [...(text.trim() ? [fence(text)] : []), ...Array(images).fill("[Image]")].join("\n\n");
}

// A message's text as ChatGPT shows it, or null for what it hides.
function renderText(msg, role, meta) {
  if (meta.is_visually_hidden_from_conversation || meta.is_user_system_message) return null;
  const c = msg.content;
  const kind = c.content_type;
  if (SKIPPED.has(kind) || forTheModel(msg, role, meta)) return null;
  let text;
  if (kind === "text" || kind === "multimodal_text") text = said(msg, role, meta);
  else if (kind === "code") {
    const lang = str(c.language) && c.language !== "unknown" ? c.language : "";
    text = fence(str(c.text) || "", lang || (msg.recipient === "python" ? "python" : ""));
  } else if (kind === "execution_output") {
    text = output(str(c.text) || "", meta);
  } else if (kind === "tether_browsing_display") {
    const result = subBeforeLast(str(c.result) || "", SEARCH_MARK,
                                 (_, n, title, where) => `[${n}] ${title}` + (where ? ` (${where})` : ""), "】");
    text = result.trim() ? quote(result) : "";
  } else if (kind === "tether_quote") {
    const title = str(c.title) || str(c.domain);
    const source = str(c.url) && /^https?:\/\//i.test(c.url) ? link(title, c.url) : str(c.title) || ""; // a file: its name
    text = quote(str(c.text) || "") + (source ? `\n\n${source}` : "");
  } else if (kind === "system_error") {
    text = `**Error${str(c.name) ? ` (${c.name})` : ""}:** ${str(c.text) || ""}`;
  } else {
    text = str(c.text) || str(c.result) || partsText(c.parts); // a type not known: whatever text it has
  }
  return text.trim() ? cap(text, MAX_TEXT) : null;
}

// Uploaded files the message names (metadata.attachments): name, type and size, as
// protocol Attachment frames name them (name, mime, size).
function attachmentsOf(meta) {
  const files = Array.isArray(meta.attachments) ? meta.attachments.slice(0, MAX_FILES) : [];
  return files
    .filter((f) => isObject(f) && str(f.name))
    .map((f) => {
      const file = { name: cap(f.name, MAX_NAME) };
      if (str(f.mime_type)) file.mime = cap(f.mime_type, MAX_NAME);
      if (Number.isSafeInteger(f.size) && f.size >= 0) file.size = f.size;
      return file;
    });
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch (err) {
    return null;
  }
}

// A canvas call (create or update), or null. Its text is the tool's JSON input.
function canvasCall(msg) {
  const to = msg.recipient;
  if (to !== CANVAS_CREATE && to !== CANVAS_UPDATE) return null;
  const input = parseJson(str(msg.content.text) || str(msg.content.parts && msg.content.parts[0]) || "");
  return { create: to === CANVAS_CREATE, input: isObject(input) ? input : {} };
}

// The canvas documents of a thread, in the shape of a turn's documents (protocol
// Document: {title, kind, text, language?}). A create gives a document; an update edits
// the latest one (ChatGPT's update names none: it edits the document in the canvas). An
// edit that cannot be applied here gives nothing, and the document is unknown until
// it is written whole again: the JSON only ever completes, never guesses. Past the
// thread's budget (REPLAY_CHARS) the canvas is unknown too.
class Canvas {
  constructor() {
    this.current = null; // {title, kind, text, language?}; text null: unknown
    this.left = REPLAY_CHARS;
  }

  apply({ create, input }) {
    if (create) {
      const text = str(input.content);
      if (text === null) return null;
      this.current = { title: cap(str(input.name) || "", MAX_NAME), ...kindOf(str(input.type) || "document"), text };
    } else {
      if (!this.current) return null;
      let text = this.current.text;
      for (const u of Array.isArray(input.updates) ? input.updates : []) {
        text = isObject(u) && str(u.pattern) !== null && str(u.replacement) !== null ? this.replace(text, u) : null;
      }
      this.current = { ...this.current, text };
    }
    const { text } = this.current;
    return text === null ? null : { ...this.current, text: cap(text, MAX_TEXT) };
  }

  // One update of a document (a regular expression and its replacement), or null: not
  // applied (an unknown text, no match, Python syntax JavaScript does not know, over budget).
  replace(content, { pattern, replacement, multiple }) {
    if (pattern === ".*" || pattern === "(?s).*" || pattern === "[\\s\\S]*") return replacement; // the whole document
    if (content === null || pattern.length > 2000 || content.length > this.left) return null;
    this.left -= content.length;
    try {
      const flags = multiple ? "g" : "";
      if (!new RegExp(pattern, flags).test(content)) return null;
      return content.replace(new RegExp(pattern, flags), () => {
        if (replacement.length > this.left) throw new RangeError("over the canvas budget");
        this.left -= replacement.length;
        return replacement;
      });
    } catch (err) {
      return null;
    }
  }
}

// A canvas type ("document", "code/python", "webview": a page of HTML) as kind and language.
function kindOf(type) {
  if (type === "document") return { kind: "document" };
  const language = type === "webview" ? "html" : type.replace(/^code\//, "");
  return /^[a-z0-9+#-]{1,32}$/.test(language) && language !== "other" ? { kind: "code", language } : { kind: "code" };
}

// ---- the tree ------------------------------------------------------------------------

/**
 * The thread ChatGPT shows (current_node back to the root) and the other branches,
 * as importers/tree.py lays them out: {main, branches: [{start, turns}], mainIds}. `render(id)`
 * gives a message's turns ([] for what the site hides).
 */
export function threads(parents, current, render) {
  const rendered = new Map();
  const where = new Map(); // taken message -> [its path's turns, how many up to it, first position]
  const turnsOf = (k) => {
    if (!rendered.has(k)) rendered.set(k, render(k));
    return rendered.get(k);
  };
  const take = (leaf) => {
    const path = [];
    let node = leaf;
    while (parents.has(node) && !where.has(node)) {
      where.set(node, [[], 0, 0]); // taken (also stops a cycle); lay() fills it in
      path.push(node);
      node = parents.get(node);
    }
    return [path.reverse(), where.has(node) ? node : null];
  };
  const lay = (path, start) => {
    const turns = [];
    for (const k of path) {
      turns.push(...turnsOf(k));
      where.set(k, [turns, turns.length, start]);
    }
    return turns;
  };
  const mainIds = current !== null ? take(current)[0] : [];
  const main = lay(mainIds, 0);
  const hasChild = new Set([...parents.values()].filter((p) => p !== null));
  const same = (a, b) => a.length === b.length && a.every((t, i) => t.role === b[i].role && t.text === b[i].text);
  const branches = [];
  const seen = new Set();
  for (const leaf of parents.keys()) {
    if (hasChild.has(leaf) || where.has(leaf)) continue;
    const [path, fork] = take(leaf);
    const [on, upto, base] = fork !== null ? where.get(fork) : [[], 0, 0];
    const own = lay(path, base + upto);
    if (!own.length) continue;
    let start = base + upto;
    if (fork !== null) {
      if (same(on.slice(upto), own)) continue; // the same turns as the path it branches from
      const key = JSON.stringify([fork, own.map((t) => [t.role, t.text])]);
      if (seen.has(key)) continue;
      seen.add(key);
      if (upto) {
        own.unshift(on[upto - 1]);
        start -= 1;
        for (const k of path) where.set(k, [own, where.get(k)[1] + 1, start]);
      }
    }
    branches.push({ start, turns: own });
  }
  return { main, branches, mainIds };
}

// The message of a node, checked, or null.
function messageOf(node) {
  const msg = isObject(node) ? node.message : null;
  if (!isObject(msg) || !isObject(msg.author) || !str(msg.author.role) || !isObject(msg.content)) return null;
  return str(msg.content.content_type) ? msg : null;
}

/**
 * The conversation `conv` (the page's JSON, parsed) as {id, title, messages, branches,
 * turns}, or null when it is not one (or not conversation `expectedId`):
 *   messages  the thread's messages as the importer gives them: {message_id, role, text,
 *             recipient, attachments?, documents?} (documents: the canvas documents
 *             the message came with, as they were then)
 *   branches  the other branches ({start, turns}) as the importer keeps them
 *   turns     the thread as the page shows its turns (turnsOnPage)
 */
export function conversationThread(conv, expectedId = null) {
  if (!isObject(conv) || !isObject(conv.mapping)) return null;
  const id = str(conv.conversation_id) || str(conv.id);
  if (expectedId !== null && id !== null && id !== expectedId) return null;
  const keys = Object.keys(conv.mapping);
  if (keys.length > MAX_NODES) return null;
  const mapping = conv.mapping;
  const parents = new Map(keys.map((k) => [k, isObject(mapping[k]) ? str(mapping[k].parent) : null]));
  let current = str(conv.current_node);
  if (current === null || !parents.has(current)) current = newestLeaf(mapping, keys);
  const render = (k) => {
    const msg = messageOf(mapping[k]);
    if (!msg || canvasCall(msg)) return [];
    const meta = isObject(msg.metadata) ? msg.metadata : {};
    const role = ROLES.has(msg.author.role) ? msg.author.role : "tool";
    if (role === "tool" && /^canmore\./.test(str(msg.author.name) || "")) return []; // the canvas tool's receipt
    if (role !== "user" && (meta.reasoning_status === "is_reasoning" || meta.is_thinking_preamble_message === true)) {
      return []; // a step taken while reasoning: the page shows it in the answer's thinking
    }
    const text = renderText(msg, role, meta);
    if (text === null) return [];
    const parts = msg.content.content_type === "multimodal_text" && Array.isArray(msg.content.parts) ? msg.content.parts : [];
    const picture = role === "tool" && parts.some((p) => isObject(p) && p.content_type === "image_asset_pointer");
    // A picture a tool made (an image generated): the page shows it in the answer (chatgpt.py _pictures).
    const turn = { message_id: ID.test(k) ? k : null, role: picture ? "assistant" : role, text,
                   recipient: str(msg.recipient) || "all" };
    const attachments = attachmentsOf(meta);
    if (attachments.length) turn.attachments = attachments;
    return [turn];
  };
  const { main, branches, mainIds } = threads(parents, current, render);
  const messages = withDocuments(main, mainIds, mapping);
  return { id, title: str(conv.title), messages, branches, turns: turnsOnPage(messages) };
}

// The canvas documents made or changed along the thread, each given to the first
// message shown after its call (the answer that made it; trailing ones to the last).
function withDocuments(main, mainIds, mapping) {
  const canvas = new Canvas();
  const out = main.map((t) => ({ ...t }));
  const shown = new Map(out.map((t) => [t.message_id, t]));
  let pending = [];
  for (const k of mainIds) {
    const msg = messageOf(mapping[k]);
    const call = msg && canvasCall(msg);
    const doc = call && canvas.apply(call);
    if (doc) pending.push(doc);
    else if (pending.length && shown.has(k)) {
      shown.get(k).documents = pending;
      pending = [];
    }
  }
  if (pending.length && out.length) out[out.length - 1].documents = [...(out[out.length - 1].documents || []), ...pending];
  return out;
}

function newestLeaf(mapping, keys) {
  let best = null;
  let bestAt = -Infinity;
  for (const k of keys) {
    const node = mapping[k];
    const children = isObject(node) && Array.isArray(node.children) ? node.children : [];
    if (children.some((c) => typeof c === "string" && Object.hasOwn(mapping, c))) continue;
    const msg = messageOf(node);
    const at = msg && typeof msg.create_time === "number" ? msg.create_time : 0;
    if (at > bestAt) [best, bestAt] = [k, at];
  }
  return best;
}

/**
 * The thread's messages as the page shows them: the user's, and what the assistant said
 * to the user (tool calls and tool output left out: the page folds them away). The
 * page may show several of these in one turn element (its data-message-id is the
 * last one's), or one after another: capture matches them by message id.
 */
export function turnsOnPage(messages) {
  return messages
    .filter((m) => m.role === "user" || (m.role === "assistant" && m.recipient === "all"))
    .map(({ message_id, role, text, attachments, documents }) => {
      const t = { role, text, message_id };
      if (attachments) t.attachments = attachments;
      if (documents) t.documents = documents;
      return t;
    });
}
