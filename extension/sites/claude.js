// Claude (claude.ai). Checked against ../shared/fixtures/real/claude-pages-2026-01.

import { partsMarkdown, toMarkdown } from "../content/dom-to-markdown.js";
import { readDocument, readThinking, withParts } from "../content/turn-parts.js";
import { SITES } from "../lib/vocabulary.js";
import { all, composerMembers, editorByClass, errorText, first, withUploads } from "./common.js";

// Messages: the 2025-2026 markup, and the 2026-10 "hub" layout (data-cds components in
// [data-testid=transcript-row] rows, .font-claude-response gone, a user message's testid
// not always there: the measurements in obsidian-AI-exporter's claude-hub fixture and
// other readers of claude.ai).
// (A 2026 user bubble is [data-user-message-bubble], its testid not always kept inside.)
const USER = '[data-testid="user-message"], [data-cds="UserMessage"], [data-user-message-bubble]';
// (.font-claude-message: the 2024 name of .font-claude-response.)
const ASSISTANT =
  '.font-claude-response:not(#markdown-artifact), [data-testid="assistant-message"], [data-cds="AssistantMessage"], .font-claude-message';
const TURNS = ["[data-test-render-count]", '[data-testid="transcript-row"]', `${USER}, ${ASSISTANT}`];
// The user's own words in a message (the hub's message also holds its action bar).
const USER_TEXT = ['[data-testid="user-message"]', ".cds-user-message-body"];
const COMPOSER = [
  '[data-testid="chat-input"][contenteditable="true"]',
  '.ProseMirror[contenteditable="true"]',
  '[data-composer-editor][contenteditable="true"]',
  'fieldset:not([inert]) textarea',
];
// The hub's stop button shows before the answer has data-is-streaming (observed 2026-10-03).
const STREAMING = [
  '[data-is-streaming="true"]',
  '[data-testid="chat-input-stop"]',
  'button[aria-label="Stop response"]',
  'button[aria-label="Stop"]',
];

// Each text part of a reply is rendered in one of these; between them sit Claude's
// widgets (artifact cards: title, "Code · HTML", a preview of the document; tool
// blocks: "Done"), whose text is not what Claude said.
// The hub's answer text is [data-perf-reply-text] (not always with .standard-markdown).
const MARKDOWN = ".standard-markdown, .progressive-markdown, [data-perf-reply-text]";
// Extended thinking: its chunks are .standard-markdown parts too, in a `group/thinking`
// block in the answer's first grid row (in the DOM even while collapsed; the answer is
// in the second row). Kept as the turn's thinking, never its text.
const THINKING = '[class*="group/thinking"]';
// The hub's status rows ("Searched the web") and action bars are widgets too.
const WIDGETS = `.artifact-block-cell, [class*="group/artifact-block"], [aria-label="Preview contents"], ${THINKING}, [data-cds="TurnStatus"], [data-cds="MessageActions"], [data-testid="message-actions"]`;
const dropWidgets = (el) => (el.matches(WIDGETS) ? { block: "" } : null);
// Markup without those parts: the whole reply, widgets left out.
const answerMarkdown = (body) => partsMarkdown(body, MARKDOWN, { special: dropWidgets }, WIDGETS);

// User paragraphs show the line breaks typed in them (Tailwind's white-space classes).
const PRE_WRAP = ".whitespace-pre-wrap, .whitespace-pre-line, .whitespace-pre";

// Artifacts. The answer holds a card (title, "Code · HTML", a truncated preview); the
// artifact itself shows only in the side panel (PANEL, outside the turns)
// once the person opens it. The panel names no card: it belongs to the card titled as
// its heading, else to the card whose preview (the artifact's first lines) starts
// like the panel's text, else (all cards titled alike: one artifact and its versions)
// to the last card; failing all three it is not attached (no guessing). The text
// read is kept per card element, so closing the panel loses nothing, and a new
// version shown in the panel changes the turn's document (the vault keeps the old one).
const CARD = ".artifact-block-cell";
// 2026: the panel is also [data-skill-file-viewer], its title in an h2[title] header
// (as another reader of claude.ai records it).
const PANEL = "#markdown-artifact, [data-skill-file-viewer]";
const seen = new WeakMap(); // card element -> the document last read from the panel for it

const squash = (s) => (s || "").replace(/\s+/g, " ").trim();
// Letters and digits only: a preview's Markdown source and the rendered text agree on them.
const letters = (s) => (s || "").replace(/[^\p{L}\p{N}]+/gu, "");
const cardTitle = (card) => squash(card.querySelector(".leading-tight")?.textContent);

function shownArtifact(doc) {
  const panel = doc.querySelector(PANEL);
  if (!panel) return {};
  const cards = [...doc.querySelectorAll(CARD)];
  const last = (list) => list[list.length - 1];
  const header = panel.querySelector("h2[title]")?.getAttribute("title");
  const heading = squash(header || panel.querySelector("h1")?.textContent).toLowerCase();
  const named = heading ? last(cards.filter((c) => cardTitle(c).toLowerCase() === heading)) : undefined;
  if (named) return { panel, card: named };
  const start = letters(panel.textContent.slice(0, 4000));
  const begins = last(cards.filter((c) => {
    const preview = letters(c.querySelector(".whitespace-pre")?.textContent);
    return preview.length >= 8 && start.startsWith(preview.slice(0, 40));
  }));
  const alike = new Set(cards.map(cardTitle)).size === 1 ? last(cards) : undefined;
  return { panel, card: begins || alike };
}

// The panel shows code as one code block, a document as Markdown.
function panelDocument(panel, card) {
  const title = cardTitle(card);
  const blocks = (panel.querySelector(MARKDOWN) || panel).children;
  if (blocks.length === 1 && blocks[0].querySelector("pre code")) {
    return readDocument(title, blocks[0], squash(card.querySelector(".text-xs")?.textContent));
  }
  return { title: title || "Untitled", kind: "document", text: answerMarkdown(panel) };
}

function artifacts(el) {
  const cards = el.querySelectorAll(CARD);
  if (!cards.length) return [];
  const { panel, card: shown } = shownArtifact(el.ownerDocument);
  return [...cards].map((card) => {
    if (card === shown) seen.set(card, panelDocument(panel, card));
    return seen.get(card);
  });
}

const holdsPanel = (n) => n.nodeType === 1 && (n.matches(PANEL) || n.querySelector(PANEL) !== null);

function isTurn(el) {
  return el.matches(`${USER}, ${ASSISTANT}, ${PANEL}`) || el.querySelector(`${USER}, ${ASSISTANT}`) !== null;
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
    const t = (doc.title || "").replace(/\s*[-|–—]\s*Claude\s*$/, "").trim();
    return t && t !== "Claude" ? t : null;
  },

  model(doc) {
    const el = doc.querySelector('[data-testid="model-selector-dropdown"]');
    const text = el && el.textContent.replace(/\s+/g, " ").trim();
    return text || null;
  },

  // The outermost only: a fallback match may hold another (a hub message its body).
  turnElements(doc) {
    const kept = [];
    for (const el of all(doc, TURNS)) {
      if (isTurn(el) && !(kept.length && kept[kept.length - 1].contains(el))) kept.push(el);
    }
    return kept;
  },

  // User turns are Markdown like answers (Claude renders them so), with the line
  // breaks typed inside a paragraph kept. Also reads an open artifact panel
  // (#markdown-artifact) as assistant Markdown. An answer's parts: its thinking, and
  // its artifacts as the panel showed them.
  readTurn(el) {
    const user = el.matches(USER) ? el : el.querySelector(USER);
    // Pictures the person uploaded sit beside their words, in the turn.
    const words = user && (first(user, USER_TEXT) || user);
    if (user) return { role: "user", text: withUploads(el, words, (w) => toMarkdown(w, { breaks: PRE_WRAP })), message_id: null };
    const body = el.matches(`${ASSISTANT}, ${PANEL}`) ? el : el.querySelector(ASSISTANT) || el;
    const turn = { role: "assistant", text: answerMarkdown(body), message_id: null };
    if (el.matches(PANEL)) return turn;
    const thinking = readThinking([...body.querySelectorAll(`${THINKING} :is(${MARKDOWN})`)]);
    return withParts(turn, { thinking, documents: artifacts(el) });
  },

  // A mutation in the artifact panel, or one that opens it: the card it shows (capture
  // reads that card's turn again), else null.
  partOf(record) {
    const t = record.target;
    const el = t.nodeType === 1 ? t : t.parentElement;
    const hit = el?.closest(PANEL) || (record.type === "childList" && [...record.addedNodes].some(holdsPanel));
    return (hit && shownArtifact(el.ownerDocument).card) || null;
  },

  ...composerMembers((doc) => editorByClass(doc, "ProseMirror", COMPOSER)),

  isStreaming: (doc) => first(doc, STREAMING) !== null,

  errorText(doc) {
    const turn = doc.querySelector('[data-test-render-count], [data-testid="transcript-row"]');
    return errorText(doc, {
      alerts: ['[role="alert"]', "[data-sonner-toast]", '[data-testid*="error"]'],
      thread: turn && turn.parentElement,
    });
  },

  loggedOut: (doc) => /^\/login/.test(doc.location.pathname),

  observeRoot: (doc) => doc.body,
};
