// Gemini (gemini.google.com, Angular). Checked against ../shared/fixtures/real/gemini-pages-2026-01.

import { fenced, labelLanguage, plainText, toMarkdown } from "../content/dom-to-markdown.js";
import { readDocument, readThinking, withParts } from "../content/turn-parts.js";
import { SITES } from "../lib/vocabulary.js";
import { all, composerMembers, editorByClass, errorText, first, withUploads } from "./common.js";

const TURNS = ["user-query, model-response", ".query-content, message-content"];
const COMPOSER = ['rich-textarea .ql-editor[contenteditable="true"]', '.ql-editor[contenteditable="true"]', "textarea"];
// The stop button, when the last answer says nothing: its label has been seen to stay
// "Stop response" after the answer ended (OpenCLI #1101, 2026-04), so the answer's own
// aria-busy decides when it has one.
const STOP = [
  'button[aria-label="Stop response"]',
  'mat-icon[fonticon="stop"]',
];

// Code blocks: the language is the label in the block's header, outside the <pre>
// ("Code snippet" when Gemini knows none: no language then).
function special(el) {
  if (el.tagName !== "CODE-BLOCK") return null;
  const pre = el.querySelector("pre");
  if (!pre) return null;
  const label = el.querySelector(".code-block-decoration span");
  const lang = label ? labelLanguage(label.textContent) : "";
  return { block: fenced(pre.textContent.replace(/\n+$/, ""), lang) };
}

// "Show thinking": <model-thoughts> in the response's .thoughts-container, before the
// answer; its text is in the DOM only while it is open (then kept as the turn's thinking).
const THOUGHTS = "model-thoughts, .thoughts-container";
const THOUGHTS_TEXT = '[data-test-id="thoughts-content"], .thoughts-content, .model-thoughts-content-container';

// The answer's message-content: the first one outside the thinking.
function answerContent(el) {
  if (el.matches("message-content")) return el;
  for (const c of el.getElementsByTagName("message-content")) if (!c.closest(THOUGHTS)) return c;
  return null;
}

// A Deep Research report shown in the answer beside its short reply (#extended-response-…,
// where defuddle reads it): the turn's document, titled by its heading.
const REPORT = "#extended-response-message-content, #extended-response-markdown-content";

function reports(el, content) {
  const found = [...el.querySelectorAll(REPORT)].filter((r) => !r.parentElement.closest(REPORT));
  return found
    .filter((r) => !content || !(r.contains(content) || content.contains(r)))
    .map((r) => readDocument(r.querySelector("h1")?.textContent || "", r.querySelector(".markdown") || r));
}

export default {
  site: "gemini",
  hosts: SITES.gemini.hosts,

  ignore: (loc) => /^\/share(\/|$)/.test(loc.pathname),

  // /app/<id>, also /gem/<gem>/<id>
  conversationId(loc) {
    const m = loc.pathname.match(/^\/(?:app|gem\/[^/]+)\/([A-Za-z0-9_-]{6,})/);
    return m ? m[1] : null;
  },

  temporary: () => false,

  // The sidebar's selected item, else a sidebar link to this chat, else the tab's title.
  title(doc) {
    const id = this.conversationId(doc.location);
    const link = () => id && [...doc.querySelectorAll(`a[href$="/${CSS.escape(id)}"]`)].find((a) => a.textContent.trim());
    const el = first(doc, [".conversation.selected .conversation-title", '[data-test-id="conversation-title"]']) || link();
    // Its first line of words (a link also holds icons, whose ligatures are text).
    const text = el && plainText(el).split("\n").map((line) => line.trim()).find(Boolean);
    if (text) return text;
    const t = (doc.title || "").replace(/\s*[-|–—]\s*(Google )?Gemini\s*$/, "").trim();
    return t && !/^(Google )?Gemini$/.test(t) ? t : null;
  },

  model(doc) {
    const el = first(doc, ['[data-test-id="logo-pill-label-container"] span', "bard-mode-switcher button"]);
    const text = el && el.textContent.replace(/\s+/g, " ").trim();
    return text || null;
  },

  turnElements: (doc) => all(doc, TURNS),

  readTurn(el) {
    if (el.matches("user-query, .query-content")) {
      // The typed lines; pictures uploaded with them (user-query-file-preview) as placeholders first.
      const lines = [...el.querySelectorAll(".query-text-line")];
      const words = el.querySelector(".query-text") || el;
      const read = (w) => (lines.length ? lines.map((l) => plainText(l)).join("\n") : plainText(w));
      const text = withUploads(el, words, read);
      const box = el.closest(".conversation-container");
      return { role: "user", text, message_id: box && box.id ? box.id : null };
    }
    const content = answerContent(el);
    const body = (content && (content.querySelector(".markdown") || content)) || el;
    const id = content && content.id ? content.id.replace(/^message-content-id-/, "") : null;
    const apart = (e) => (e.matches(THOUGHTS) ? { block: "" } : special(e));
    const turn = { role: "assistant", text: toMarkdown(body, { special: apart }), message_id: id };
    return withParts(turn, { thinking: readThinking([...el.querySelectorAll(THOUGHTS_TEXT)]), documents: reports(el, content) });
  },

  ...composerMembers((doc) => editorByClass(doc, "ql-editor", COMPOSER)),

  // The last answer's aria-busy; before it shows (the last turn is the prompt), the stop button.
  isStreaming(doc) {
    const last = (tag) => { const els = doc.getElementsByTagName(tag); return els[els.length - 1]; };
    const [answer, prompt] = [last("model-response"), last("user-query")];
    const answered = answer && !(prompt && answer.compareDocumentPosition(prompt) & Node.DOCUMENT_POSITION_FOLLOWING);
    const content = answered && answerContent(answer);
    const busy = content && (content.matches("[aria-busy]") ? content : content.querySelector("[aria-busy]"));
    if (busy) return busy.getAttribute("aria-busy") === "true";
    return first(doc, STOP) !== null;
  },

  errorText(doc) {
    const turn = doc.querySelector("user-query, model-response");
    return errorText(doc, {
      classes: ["error-message"],
      alerts: ['[role="alert"]', "mat-snack-bar-container", '[data-test-id*="error"]'],
      thread: turn && turn.closest("infinite-scroller, #chat-history"),
    });
  },

  // Signed out: Google's sign-in link instead of the composer.
  loggedOut(doc) {
    return doc.querySelector('a[href*="accounts.google.com/ServiceLogin"]') !== null && !this.composer(doc);
  },

  observeRoot: (doc) => doc.body,
};
