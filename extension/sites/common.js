// Helpers the site adapters share: selector fallbacks and composer reading/filling.

import { imagePlaceholder, plainText } from "../content/dom-to-markdown.js";
import { ALERT_WORDS, ERROR_PHRASES } from "../lib/vocabulary.js";

/** The first element matching any of the selectors, tried in order. */
export function first(root, selectors) {
  for (const sel of selectors) {
    const el = root.querySelector(sel);
    if (el) return el;
  }
  return null;
}

/** All elements for the first selector that matches any (fallbacks in order). */
export function all(root, selectors) {
  for (const sel of selectors) {
    const els = root.querySelectorAll(sel);
    if (els.length) return [...els];
  }
  return [];
}

/**
 * The composer members of the adapter interface, given how a site finds its composer:
 * `{composer, readDraft, fillComposer}`, spread into the adapter object.
 */
export function composerMembers(composer) {
  return {
    composer,
    readDraft: (doc) => readComposer(composer(doc)),
    fillComposer: (doc, text) => fillComposer(composer(doc), text),
  };
}

/** The editor with this class (through the class index: a selector scan costs the whole
 * page per keystroke), else the first match of the fallback selectors. */
export function editorByClass(doc, className, fallback) {
  const el = doc.getElementsByClassName(className)[0];
  return el && el.isContentEditable ? el : first(doc, fallback);
}

/** The text of a composer: a <textarea>'s value, or a contenteditable's lines. */
export function readComposer(el) {
  if (!el) return null;
  if (el.tagName === "TEXTAREA") return el.value;
  return plainText(el);
}

/**
 * Puts `text` into a composer without sending, so the page's framework sees it:
 * textarea through the native value setter + input event; contenteditable
 * (ProseMirror, Quill) through execCommand("insertText"), else a beforeinput/input
 * pair on rewritten paragraphs. True when the composer then holds the text.
 */
export function fillComposer(el, text) {
  if (!el) return false;
  el.focus();
  if (el.tagName === "TEXTAREA") {
    const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value").set;
    setter.call(el, text);
    el.dispatchEvent(new Event("input", { bubbles: true }));
    return el.value === text;
  }
  const doc = el.ownerDocument;
  const selection = doc.getSelection();
  const range = doc.createRange();
  range.selectNodeContents(el);
  selection.removeAllRanges();
  selection.addRange(range);
  let ok = false;
  try {
    ok = doc.execCommand("insertText", false, text);
  } catch (err) {
    ok = false;
  }
  if (!ok || readComposer(el).trim() !== text.trim()) {
    el.replaceChildren(
      ...text.split("\n").map((line) => {
        const p = doc.createElement("p");
        if (line) p.textContent = line;
        else p.appendChild(doc.createElement("br"));
        return p;
      })
    );
    el.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertText", data: text }));
  }
  return readComposer(el).trim() === text.trim();
}

/** A user's message as text: the pictures it holds beside its words (uploads) as
 * placeholders, then its `words` element read by `read`. */
export function withUploads(msg, words, read) {
  const images = [...msg.querySelectorAll("img[alt]")].filter((img) => !words.contains(img));
  return [...images.map(imagePlaceholder), read(words)].filter(Boolean).join("\n\n");
}

/** Elements matching `selector` anywhere but inside `skip` (the thread of turns,
 * nearly all of a long chat's page): signals.js asks often, so this must not scan
 * every turn. */
export function outside(doc, skip, selector) {
  if (!skip) return [...doc.querySelectorAll(selector)];
  const out = [];
  for (let node = skip; node.parentElement; node = node.parentElement) {
    for (const sibling of node.parentElement.children) {
      if (sibling === node) continue;
      if (sibling.matches(selector)) out.push(sibling);
      out.push(...sibling.querySelectorAll(selector));
    }
  }
  return out;
}

const clean = (el) => el.textContent.replace(/\s+/g, " ").trim().slice(0, 2000);

/** The text of a visible error: an element with one of the error `classes`
 * (anywhere, through Blink's class index), else an alert/toast outside `thread`
 * that says something failed. */
export function errorText(doc, { classes = [], alerts = [], thread = null }) {
  for (const cls of classes) {
    for (const el of doc.getElementsByClassName(cls)) {
      const text = noticeText(el); // its words, not its buttons' ("Retry")
      if (text) return text;
    }
  }
  if (!alerts.length) return null;
  for (const el of outside(doc, thread, alerts.join(", "))) {
    const text = clean(el);
    if (text && ALERT_WORDS.test(text)) return text;
  }
  return null;
}

/** Elements by tag name passing `test`: Blink caches tag collections, so this is far
 * cheaper on a long chat than an attribute selector that finds nothing. */
export function byTag(doc, tag, test) {
  const out = [];
  for (const el of doc.getElementsByTagName(tag)) if (test(el)) out.push(el);
  return out;
}

const NOTICE_MAX = 400; // a notice is a sentence or two; longer text is the turn's own

/** A notice's words as shown, one line: its blocks apart, without its buttons ("Retry"). */
export const noticeText = (el) => plainText(el).replace(/\s+/g, " ").trim().slice(0, 2000);

/**
 * The notices inside a turn: an error or waiting card the site shows in place of (or
 * after) an answer. Found by structure (`places`: alerts, error blocks) and by words
 * (text saying what failed: ERROR_PHRASES), never inside `content` (the user's and the
 * assistant's own words, which may name errors). Each is the notice's container: the
 * widest element around it that holds no content and nothing but a short notice.
 */
export function turnNotices(turn, { content, places, words = true }) {
  const found = [];
  const add = (el) => {
    let box = el;
    for (let up = box.parentElement; up && up !== turn; up = up.parentElement) {
      if (up.querySelector(content) || clean(up).length > NOTICE_MAX) break;
      box = up;
    }
    if (found.some((f) => f.contains(box))) return;
    for (let i = found.length - 1; i >= 0; i--) if (box.contains(found[i])) found.splice(i, 1);
    found.push(box);
  };
  for (const el of turn.querySelectorAll(places)) {
    if (!el.closest(content) && ERROR_PHRASES.test(noticeText(el))) add(el);
  }
  if (!words) return found;
  const doc = turn.ownerDocument;
  const walker = doc.createTreeWalker(turn, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      if (node.nodeType === 1) return node.matches(content) || node.tagName === "BUTTON" ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_SKIP;
      return ERROR_PHRASES.test(node.data) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_SKIP;
    },
  });
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement && node.parentElement !== turn) add(node.parentElement);
  }
  return found;
}
