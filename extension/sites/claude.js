// Claude (claude.ai). Checked against ../shared/fixtures/real/claude-pages-2026-01.

import { partsMarkdown, toMarkdown } from "../content/dom-to-markdown.js";
import { SITES } from "../lib/vocabulary.js";
import { all, composerMembers, editorByClass, errorText, first } from "./common.js";

const USER = '[data-testid="user-message"]';
const ASSISTANT = ".font-claude-response:not(#markdown-artifact)";
const TURNS = ["[data-test-render-count]", `${USER}, ${ASSISTANT}`];
const COMPOSER = [
  '[data-testid="chat-input"][contenteditable="true"]',
  '.ProseMirror[contenteditable="true"]',
  'fieldset:not([inert]) textarea',
];
const STREAMING = ['[data-is-streaming="true"]', 'button[aria-label="Stop response"]', 'button[aria-label="Stop"]'];

// Each text part of a reply is rendered in one of these; between them sit Claude's
// widgets (artifact cards: title, "Code · HTML", a preview of the document; tool
// blocks: "Done"), whose text is not what Claude said.
const MARKDOWN = ".standard-markdown, .progressive-markdown";
const WIDGETS = '.artifact-block-cell, [class*="group/artifact-block"], [aria-label="Preview contents"]';
const dropWidgets = (el) => (el.matches(WIDGETS) ? { block: "" } : null);
// Markup without those parts: the whole reply, widgets left out.
const answerMarkdown = (body) => partsMarkdown(body, MARKDOWN, { special: dropWidgets }, WIDGETS);

// User paragraphs show the line breaks typed in them (Tailwind's white-space classes).
const PRE_WRAP = ".whitespace-pre-wrap, .whitespace-pre-line, .whitespace-pre";

function isTurn(el) {
  return el.matches(`${USER}, ${ASSISTANT}, #markdown-artifact`) || el.querySelector(`${USER}, ${ASSISTANT}`) !== null;
}

export default {
  site: "claude",
  hosts: SITES.claude.hosts,

  ignore: (loc) => /^\/share(\/|$)/.test(loc.pathname),

  conversationId(loc) {
    const m = loc.pathname.match(/^\/chat\/([A-Za-z0-9_-]{4,})/);
    return m ? m[1] : null;
  },

  temporary: (loc) => new URLSearchParams(loc.search).get("incognito") !== null,

  title(doc) {
    const button = first(doc, ['[data-testid="chat-title-button"] .truncate', '[data-testid="chat-title-button"]']);
    const text = button && button.textContent.trim();
    if (text) return text;
    const t = (doc.title || "").replace(/\s*[-|]\s*Claude\s*$/, "").trim();
    return t && t !== "Claude" ? t : null;
  },

  model(doc) {
    const el = doc.querySelector('[data-testid="model-selector-dropdown"]');
    const text = el && el.textContent.replace(/\s+/g, " ").trim();
    return text || null;
  },

  turnElements: (doc) => all(doc, TURNS).filter(isTurn),

  // User turns are Markdown like answers (Claude renders them so), with the line
  // breaks typed inside a paragraph kept. Also reads an open artifact panel
  // (#markdown-artifact) as assistant Markdown.
  readTurn(el) {
    const user = el.matches(USER) ? el : el.querySelector(USER);
    if (user) return { role: "user", text: toMarkdown(user, { breaks: PRE_WRAP }), message_id: null };
    const body = el.matches(".font-claude-response, #markdown-artifact") ? el : el.querySelector(ASSISTANT) || el;
    return { role: "assistant", text: answerMarkdown(body), message_id: null };
  },

  ...composerMembers((doc) => editorByClass(doc, "ProseMirror", COMPOSER)),

  isStreaming: (doc) => first(doc, STREAMING) !== null,

  errorText(doc) {
    const turn = doc.querySelector("[data-test-render-count]");
    return errorText(doc, {
      alerts: ['[role="alert"]', "[data-sonner-toast]", '[data-testid*="error"]'],
      thread: turn && turn.parentElement,
    });
  },

  loggedOut: (doc) => /^\/login/.test(doc.location.pathname),

  observeRoot: (doc) => doc.body,
};
