// A turn's parts besides its text, read from a site's markup: the documents it made
// (a ChatGPT canvas, a Claude artifact) and its visible thinking ("Thought for 12s",
// Gemini's "Show thinking"). Adapters call these from readTurn (a pure function of
// the turn's subtree); snapshot.js compares and sends them with the turn
// (protocol.Turn `thinking`, `documents`); none of it is ever part of `text`.

import { codeMirrorText, labelLanguage, toMarkdown } from "./dom-to-markdown.js";

/** A document {title, kind, text, language?} from the element holding it: a CodeMirror
 * editor or <pre><code> is code (its language from the editor, the code's class or the
 * site's label, e.g. "Code · HTML"), anything else rich text read as Markdown. */
export function readDocument(title, body, label = "") {
  const cm = body.matches(".cm-content") ? body : body.querySelector(".cm-content");
  const code = cm ? null : body.querySelector("pre code");
  const name = (title || "").replace(/\s+/g, " ").trim() || "Untitled";
  if (cm || code) {
    const text = (cm ? codeMirrorText(cm) : code.textContent).replace(/\n+$/, "");
    const doc = { title: name, kind: "code", text: text + "\n" };
    const language = languageOf(cm || code, label);
    return language ? { ...doc, language } : doc;
  }
  return { title: name, kind: "document", text: toMarkdown(body) };
}

// CodeMirror 6 names its language in data-language; a code element in its class.
// Anything else than a short name is no language (the protocol takes 64 characters).
function languageOf(el, label) {
  const data = (el.getAttribute("data-language") || "").trim();
  if (/^[\w#+.-]{1,30}$/.test(data)) return data.toLowerCase();
  const m = (el.getAttribute("class") || "").match(/(?:^|\s)(?:language|lang)-([\w#+.-]{1,30})(?:\s|$)/);
  if (m) return m[1].toLowerCase();
  const named = label.split("·").pop();
  return labelLanguage(named || "");
}

/** The thinking shown in these elements, as Markdown (null when there is none). */
export function readThinking(els) {
  const text = els.map((el) => toMarkdown(el)).filter((t) => t.trim()).join("\n\n");
  return text.trim() ? text : null;
}

/** The turn with its parts, each only when the page shows one. */
export function withParts(turn, { thinking = null, documents = [] } = {}) {
  if (thinking) turn.thinking = thinking;
  const docs = documents.filter((d) => d && d.text.trim());
  if (docs.length) turn.documents = docs;
  return turn;
}
