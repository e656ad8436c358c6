// ChatGPT (chatgpt.com, chat.openai.com). Selectors are tried in order: the current
// markup first (checked against ../shared/fixtures/real/chatgpt-*), then older ones.

import { partsMarkdown, plainText } from "../content/dom-to-markdown.js";
import { readDocument, readThinking, withParts } from "../content/turn-parts.js";
import { SITES } from "../lib/vocabulary.js";
import { all, byTag, composerMembers, errorText, first, noticeText, outside, turnNotices, withUploads } from "./common.js";

const TURNS = [
  'article[data-testid^="conversation-turn"]',
  '[data-testid^="conversation-turn"]', // 2026-03: section[data-turn-id]
  "article[data-turn]",
  "[data-turn-key]", // 2026-09: a prompt and its answer (unitsOf)
  "[data-message-author-role]",
];
// 2026-09: one div[data-turn-key] holds a prompt and its answer, each a unit naming its
// message ids; no author roles (see UNIT_ROLE). An answer shown outside every unit (tools
// reading the live page allow for one) is one more turn: its widest frame holding no unit.
const UNIT = "[data-chatgpt-search-message-ids]";
const ANSWER_BODY = '[data-markdown-text-style="assistant-message"], [data-testid="generated-image-gallery"]';
// A 2026-09 unit's role: the answer's screen-reader heading ("ChatGPT said:"), the
// unit key ("fallback-turn-4:0:user"), the prompt's bubble.
const UNIT_ROLE = /:(user|assistant)$/;
const COMPOSER = [
  '.ProseMirror[contenteditable="true"]',
  '[data-testid="prompt-textarea"][contenteditable="true"]', // 2026, without the id (readers of chatgpt.com)
  'form [contenteditable="true"][role="textbox"]',
  '[data-composer-markdown][contenteditable="true"]',
  'textarea[name="prompt"]',
  'form textarea:not([style*="display: none"])',
];
const STREAMING = [
  '[data-testid="stop-button"]',
  '[data-testid="composer-stop-button"]', // 2026 (a Chat Bridge DOM contract)
  'button[aria-label="Stop streaming"]',
  'button[aria-label="Stop generating"]',
  ".result-streaming",
];
const ERROR_CLASSES = ["text-token-text-error", "text-red-500"];
const ALERTS = ['[role="alert"]', '[data-testid*="toast"]', '[data-testid*="error"]'];
// Notices in a turn: alerts and error blocks; the turn's own words are in its
// message content (answer Markdown, the user's text, code and canvas editors).
const NOTICE_PLACES = '[role="alert"], [role="status"], .text-token-text-error, [class*="text-red-"]';
const NOTICE_SKIP = '.markdown, [data-markdown-text-style], .whitespace-pre-wrap, [data-multiline], pre, code, .cm-editor, [contenteditable="true"]';
const ROLES = new Set(["user", "assistant", "system", "tool"]);
const GENERIC_TITLES = /^(ChatGPT|New chat|ChatGPT Plus|ChatGPT Pro)$/i;
// The current chat in the sidebar: 2025 markup, ARIA, 2024 markup (highlighted row).
const CURRENT_ITEM =
  'a[data-active]:not([data-active="false"]), a[aria-current="page"], a[aria-current="true"], .bg-token-sidebar-surface-secondary > a';

// A canvas (textdoc) card between an answer's parts: its title, then a CodeMirror
// editor (code) or rich text (a document). Kept as the turn's documents, not its text.
const CANVAS = '[id^="textdoc-message-"]';
const CANVAS_TITLE = ["span.min-w-0.truncate", ".truncate"];
// Visible reasoning: the "Thought for 12s" toggle and the summaries shown with it
// (secondary-coloured Markdown). Kept as the turn's thinking, not its text.
const THOUGHT_SUMMARY = ".text-token-text-secondary.markdown";
const THOUGHT_LABEL = /^(Thought|Reasoned|Thinking)\b.{0,40}$/;
const APART = `${CANVAS}, ${THOUGHT_SUMMARY}`;
// An answer's parts: its Markdown roots (2026-09: [data-markdown-text-style]) and the
// pictures it made, shown beside them.
const ANSWER_PARTS =
  '.markdown:not(.text-token-text-secondary), [data-markdown-text-style="assistant-message"], [data-testid="generated-image-gallery"]';

function canvases(el) {
  return [...el.querySelectorAll(CANVAS)].map((card) => {
    const title = first(card, CANVAS_TITLE);
    const body = card.querySelector(".cm-content") || card.querySelector(".ProseMirror, .markdown") || card;
    return readDocument(title ? title.textContent : "", body);
  });
}

function thinking(el) {
  const labels = byTag(el, "button", (b) => THOUGHT_LABEL.test(b.textContent.trim()));
  return readThinking([...labels, ...el.querySelectorAll(THOUGHT_SUMMARY)]);
}

// The sidebar (chat history): looked up by tag and id, not by a selector over the thread.
function sidebars(doc) {
  const history = doc.getElementById("history");
  return [...(history ? [history] : []), ...doc.getElementsByTagName("nav")];
}

// The element holding the turns (found at the first turn: querySelector stops there).
function thread(doc) {
  const turn = doc.querySelector('[data-testid^="conversation-turn"], [data-turn-key]');
  return turn ? turn.parentElement : null;
}

// A turn's role: its own data-turn / author role, its first message's, else a 2026-09 unit's.
function roleOf(el, msgs) {
  const own = el.getAttribute("data-turn") || (msgs[0] && msgs[0].getAttribute("data-message-author-role"));
  if (own) return own;
  const heading = el.querySelector("[data-conversation-role]");
  const key = (el.getAttribute("data-chatgpt-search-unit-key") || "").match(UNIT_ROLE);
  if (heading) return heading.getAttribute("data-conversation-role");
  if (key) return key[1];
  return el.querySelector("[data-user-message-bubble]") ? "user" : "assistant";
}

function unitsOf(key) {
  const units = [...key.querySelectorAll(UNIT)].filter((u) => !u.parentElement.closest(UNIT));
  if (units.some((u) => roleOf(u, []) === "assistant")) return units;
  const loose = [...key.querySelectorAll(ANSWER_BODY)].find((b) => !units.some((u) => u.contains(b)));
  if (!loose) return units;
  let frame = loose;
  while (frame.parentElement !== key && !frame.parentElement.querySelector(UNIT)) frame = frame.parentElement;
  return [...units, frame].sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
}

const messagesOf = (el) => (el.matches("[data-message-author-role]") ? [el] : [...el.querySelectorAll("[data-message-author-role]")]);

// Citation pills: [label](url), the label without its "+2" count.
function citation(el) {
  if (el.getAttribute("data-testid") === "webpage-citation-pill") {
    const a = el.querySelector("a[href]");
    if (!a) return { inline: "" };
    // Its first source's name; "+2" counts and further names are chrome.
    const names = [...a.querySelectorAll("span")]
      .filter((span) => !span.firstElementChild)
      .map((span) => span.textContent.trim())
      .filter((text) => text && !/^\+\d+$/.test(text));
    const label = names[0] || a.textContent.trim();
    return { inline: ` [${label || a.hostname}](${a.getAttribute("href")})` };
  }
  // 2026: a chip naming its source, its aria-label "Title - Site, https://…" (the only
  // place of the address when the chip has no href); the favicon is chrome.
  if (el.getAttribute("data-testid") === "chatgpt-citation") {
    const named = (el.getAttribute("aria-label") || "").match(/^(.*?),\s*(https?:\/\/\S+)$/);
    const href = el.getAttribute("href") || (named && named[2]);
    const label = el.textContent.replace(/\s+/g, " ").trim() || (named && named[1].trim());
    return { inline: href ? ` [${label || new URL(href).hostname}](${href})` : "" };
  }
  return null;
}

function messageMarkdown(msg, role, special) {
  if (role === "user") {
    return withUploads(msg, first(msg, [".whitespace-pre-wrap", "[data-multiline]"]) || msg, plainText);
  }
  // An answer in parts (text, a canvas or tool card, more text): every part, in order;
  // canvas documents and thinking are the turn's parts, not its text.
  return partsMarkdown(msg, ANSWER_PARTS, { special }, APART);
}

export default {
  site: "chatgpt",
  hosts: SITES.chatgpt.hosts,

  // Shared links are read-only copies of someone's chat.
  ignore: (loc) => /^\/share(\/|$)/.test(loc.pathname),

  // /c/<id>, also inside projects and GPTs: /g/g-p-…/c/<id>
  conversationId(loc) {
    const m = loc.pathname.match(/\/c\/([A-Za-z0-9_-]{4,})/);
    return m ? m[1] : null;
  },

  temporary: (loc) => new URLSearchParams(loc.search).get("temporary-chat") === "true",

  // The tab title ("Title", older "Title - ChatGPT" / "ChatGPT - Title"), else the
  // sidebar's item for this chat or its current item.
  title(doc) {
    const t = (doc.title || "").replace(/^\s*ChatGPT\s*[-|–—]\s*/, "").replace(/\s*[-|–—]\s*ChatGPT\s*$/, "").trim();
    if (t && !GENERIC_TITLES.test(t)) return t;
    const id = this.conversationId(doc.location);
    for (const side of sidebars(doc)) {
      const link = (id && side.querySelector(`a[href$="/c/${id}"]`)) || side.querySelector(CURRENT_ITEM);
      const text = link && plainText(link).split("\n").find((line) => line.trim());
      if (text) return text.trim();
    }
    return null;
  },

  model(doc) {
    const switcher = doc.querySelector('[data-testid="model-switcher-dropdown-button"]');
    const label = (switcher && switcher.getAttribute("aria-label")) || "";
    const m = label.match(/current model is (.+)$/i);
    if (m) return m[1].trim();
    const slugs = doc.querySelectorAll("[data-message-model-slug]");
    if (slugs.length) return slugs[slugs.length - 1].getAttribute("data-message-model-slug");
    const text = switcher && switcher.textContent.trim();
    return text && text !== "ChatGPT" ? text : null;
  },

  turnElements(doc) {
    const articles = byTag(doc, "article", (a) => (a.getAttribute("data-testid") || "").startsWith("conversation-turn"));
    if (articles.length) return articles;
    const els = all(doc, TURNS).filter((el, i, found) => i === 0 || !found[i - 1].contains(el)); // the outermost
    return els.length && els[0].hasAttribute("data-turn-key") ? els.flatMap(unitsOf) : els;
  },

  // In the user's own turn only alerts and error blocks count (file names there are theirs).
  turnNotices(el) {
    const role = roleOf(el, messagesOf(el));
    return turnNotices(el, { content: NOTICE_SKIP, places: NOTICE_PLACES, words: role !== "user" });
  },

  // A notice in the turn is the site's, not the assistant's words: left out of the
  // text and given as `notice` (only a notice: capture.js sends no turn for it).
  readTurn(el) {
    const notices = this.turnNotices(el);
    const apart = (e) => (e.matches(APART) || notices.includes(e) ? { block: "" } : citation(e));
    const msgs = messagesOf(el);
    let role = roleOf(el, msgs);
    if (!ROLES.has(role)) role = "assistant";
    // A message that is only a notice (the red block ChatGPT writes in the answer's place) is no text.
    const shown = msgs.filter((m) => !notices.some((n) => n.contains(m)));
    const text = msgs.length
      ? shown.map((m) => messageMarkdown(m, m.getAttribute("data-message-author-role"), apart)).filter(Boolean).join("\n\n")
      : messageMarkdown(el, role, apart);
    const last = msgs[msgs.length - 1];
    // A 2026 unit's ids may name tool calls first: the rendered answer's own id is on its body.
    const bodies = el.querySelectorAll("[data-chatgpt-selection-message-id]");
    const body = bodies.length ? bodies[bodies.length - 1].getAttribute("data-chatgpt-selection-message-id") : null;
    const ids = (el.getAttribute("data-chatgpt-search-message-ids") || "").split(/\s+/);
    const message_id = (last && last.getAttribute("data-message-id")) || el.getAttribute("data-turn-id") || body || ids[0] || null;
    const turn = { role, text, message_id };
    if (notices.length) turn.notice = notices.map(noticeText).join(" ");
    return role === "user" ? turn : withParts(turn, { thinking: thinking(el), documents: canvases(el) });
  },

  // By id first: a failing selector scans the whole (long) thread on every keystroke.
  ...composerMembers((doc) => {
    const el = doc.getElementById("prompt-textarea");
    return el && (el.isContentEditable || el.tagName === "TEXTAREA") ? el : first(doc, COMPOSER);
  }),

  // The composer's submit button turns into the stop button while an answer streams.
  isStreaming(doc) {
    const button = doc.getElementById("composer-submit-button");
    if (button) return /^(composer-)?stop-button$/.test(button.getAttribute("data-testid") || "");
    return first(doc, STREAMING) !== null;
  },

  errorText: (doc) => errorText(doc, { classes: ERROR_CLASSES, alerts: ALERTS, thread: thread(doc) }),

  loggedOut(doc) {
    if (/^\/auth\//.test(doc.location.pathname)) return true;
    if (!outside(doc, thread(doc), '[data-testid="login-button"]').length) return false;
    // Logged-out visitors may chat on the home page; on a saved chat it means the session ended.
    return this.conversationId(doc.location) !== null || !this.composer(doc);
  },

  observeRoot: (doc) => doc.body,
};
