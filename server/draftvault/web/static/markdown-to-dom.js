// Markdown -> DOM for the history page: a small, safe renderer of the turn texts'
// dialect (docs/markdown.md). It builds DOM nodes with textContent and never parses
// HTML, so captured text (untrusted) can only ever show up as text. Covers what chat
// answers use: headings, paragraphs, lists, tables, block quotes, rules, fenced code
// (highlighted), inline code, emphasis, links (http/https/mailto only), and math
// ($...$, $$...$$, and older imports' \(...\), \[...\]) shown as styled TeX.
// What the presentation hides stays in the DOM, so the extension's dom-to-markdown.js
// reads the same Markdown back: a heading's level (data-level), the TeX (data-tex),
// the code's language (class language-x; the visible label is aria-hidden).

import { highlight } from "./highlight.js";
import { renderTex } from "./math.js";

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}> ?/;
const ITEM = /^( *)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const TABLE_SEP = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;
const MATH_OPEN = /^\s*(\$\$|\\\[)(.*)$/;

// Renders `source` into a DocumentFragment.
export function renderMarkdown(source) {
  const frag = document.createDocumentFragment();
  renderBlocks(String(source).replace(/\r\n?/g, "\n").split("\n"), frag);
  return frag;
}

// Quotes and lists nest at most this deep; deeper, their lines are read as a paragraph
// (a captured text of 20,000 ">" overflowed the stack, each level copying every line).
const MAX_DEPTH = 16;

function renderBlocks(lines, parent, depth = 0) {
  let i = 0;
  let para = [];
  const flush = () => {
    if (para.length) {
      const p = el("p");
      inline(para.join("\n"), p);
      parent.append(p);
      para = [];
    }
  };
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (!line.trim()) {
      flush();
      i++;
    } else if ((m = FENCE.exec(line))) {
      flush();
      const fence = m[1];
      const body = [];
      i++;
      while (i < lines.length && !isClosingFence(lines[i], fence)) body.push(lines[i++]);
      i++; // the closing fence (or the end)
      parent.append(codeBlock(body.join("\n"), m[2]));
    } else if ((m = MATH_OPEN.exec(line)) && isDisplayMathStart(lines, i, m)) {
      flush();
      const close = m[1] === "$$" ? "$$" : "\\]";
      const body = [];
      let rest = m[2];
      for (;;) {
        const at = rest.indexOf(close);
        if (at >= 0) {
          body.push(rest.slice(0, at));
          break;
        }
        body.push(rest);
        if (++i >= lines.length) break;
        rest = lines[i];
      }
      i++;
      parent.append(math("div", "math math-block", body.join("\n").trim()));
    } else if ((m = HEADING.exec(line))) {
      flush();
      const h = el("h" + Math.min(6, m[1].length + 2)); // turn headings sit below the page's
      h.dataset.level = m[1].length;
      inline(m[2], h);
      parent.append(h);
      i++;
    } else if (RULE.test(line) && !para.length) {
      flush();
      parent.append(el("hr"));
      i++;
    } else if (QUOTE.test(line) && depth < MAX_DEPTH) {
      flush();
      const body = [];
      while (i < lines.length && lines[i].trim() && (QUOTE.test(lines[i]) || body.length)) {
        body.push(lines[i].replace(QUOTE, ""));
        i++;
      }
      const q = el("blockquote");
      renderBlocks(body, q, depth + 1);
      parent.append(q);
    } else if (ITEM.test(line) && depth < MAX_DEPTH && (!para.length || /^([-*+]|1[.)])\s/.test(line.trim()))) {
      flush();
      i = list(lines, i, parent, depth);
    } else if (line.includes("|") && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1]) && lines[i + 1].includes("-")) {
      flush();
      i = table(lines, i, parent);
    } else {
      para.push(line);
      i++;
    }
  }
  flush();
}

function isClosingFence(line, fence) {
  const t = line.trim();
  return t.length >= fence.length && t[0] === fence[0] && /^(`+|~+)$/.test(t);
}

// "$$" alone or "$$ x = 1 $$" on one line, or a block that closes later.
function isDisplayMathStart(lines, i, m) {
  const close = m[1] === "$$" ? "$$" : "\\]";
  if (m[2].includes(close)) return true;
  for (let j = i + 1; j < lines.length && j < i + 200; j++) if (lines[j].includes(close)) return true;
  return false;
}

function math(tag, cls, tex) {
  const e = el(tag, cls);
  e.title = tex;
  e.dataset.tex = tex;
  renderTex(tex, e);
  return e;
}

function codeBlock(source, lang) {
  const wrap = el("div", "code-block");
  const label = el("div", "code-lang", lang || "text");
  label.setAttribute("aria-hidden", "true");
  const pre = el("pre");
  const code = el("code", lang ? "language-" + lang : undefined);
  highlight(code, source, lang);
  pre.append(code);
  wrap.append(label, pre);
  return wrap;
}

function list(lines, i, parent, depth) {
  const first = ITEM.exec(lines[i]);
  const indent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const ol = el(ordered ? "ol" : "ul");
  if (ordered && parseInt(first[2], 10) !== 1) ol.start = parseInt(first[2], 10);
  while (i < lines.length) {
    const m = ITEM.exec(lines[i]);
    if (!m || m[1].length !== indent || /\d/.test(m[2]) !== ordered) break;
    const body = [m[3]];
    const contentIndent = m[1].length + m[2].length + 1;
    i++;
    // The item goes on over continuation lines, nested items and indented blocks.
    while (i < lines.length) {
      const l = lines[i];
      if (!l.trim()) {
        const next = lines[i + 1];
        if (next !== undefined && next.trim() && leading(next) > indent) {
          body.push("");
          i++;
          continue;
        }
        break;
      }
      const sub = ITEM.exec(l);
      if (sub && sub[1].length <= indent) break;
      if (!sub && leading(l) <= indent && (FENCE.test(l) || HEADING.test(l) || QUOTE.test(l))) break;
      body.push(l.slice(Math.min(leading(l), contentIndent)));
      i++;
    }
    const li = el("li");
    if (body.length === 1) inline(body[0], li);
    else {
      renderBlocks(body, li, depth + 1);
      // A tight item (no blank line) shows its text without paragraph spacing.
      if (!body.includes("")) for (const p of li.querySelectorAll(":scope > p")) p.replaceWith(...p.childNodes);
    }
    ol.append(li);
  }
  parent.append(ol);
  return i;
}

const leading = (s) => s.length - s.trimStart().length;

function cells(line) {
  let t = line.trim();
  if (t.startsWith("|")) t = t.slice(1);
  if (t.endsWith("|") && !t.endsWith("\\|")) t = t.slice(0, -1);
  return t.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, "|"));
}

function table(lines, i, parent) {
  const head = cells(lines[i]);
  const aligns = cells(lines[i + 1]).map((c) =>
    c.startsWith(":") && c.endsWith(":") ? "center" : c.endsWith(":") ? "right" : c.startsWith(":") ? "left" : "");
  const wrap = el("div", "table-wrap");
  const t = el("table");
  const tr = el("tr");
  head.forEach((c, k) => tr.append(cell("th", c, aligns[k])));
  t.append(el("thead"));
  t.tHead.append(tr);
  const tbody = el("tbody");
  i += 2;
  while (i < lines.length && lines[i].trim() && lines[i].includes("|")) {
    const row = el("tr");
    const cs = cells(lines[i]);
    head.forEach((_, k) => row.append(cell("td", cs[k] ?? "", aligns[k])));
    tbody.append(row);
    i++;
  }
  t.append(tbody);
  wrap.append(t);
  parent.append(wrap);
  return i;
}

function cell(tag, text, align) {
  const c = el(tag, align ? "align-" + align : undefined);
  inline(text, c);
  return c;
}

// ---- inline ----------------------------------------------------------------------

const INLINE = new RegExp([
  String.raw`(?<tick>\x60+)(?<code>[\s\S]*?[^\x60])\k<tick>(?!\x60)`,
  String.raw`\$\$(?<dmath>[\s\S]+?)\$\$`,
  String.raw`\\\((?<pmath>[\s\S]+?)\\\)`,
  String.raw`\\\[(?<bmath>[\s\S]+?)\\\]`,
  String.raw`(?<esc>\\[\\\x60*_{}\[\]()#+\-.!$~|>])`,
  String.raw`(?<!\\)\$(?=[^\s$])(?<math>(?:\\\$|[^$\n])*?[^\s\\])\$(?!\d)`,
  String.raw`(?<img>!?)\[(?<label>(?:\[[^\]\n]*\]|\\.|[^\[\]\\])*)\]\(\s*<?(?<href>[^\s<>()]*(?:\([^\s()]*\)[^\s<>()]*)*)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)`,
  String.raw`<(?<auto>(?:https?:\/\/|mailto:)[^\s<>]+)>`,
  String.raw`(?<bare>\bhttps?:\/\/[^\s<>"]*[^\s<>".,:;'!?)\]])`,
  String.raw`(?<strong>\*\*|(?<![\w])__)(?=\S)(?<stext>[\s\S]*?\S)\k<strong>(?!\w)`,
  String.raw`\*(?=[^\s*])(?<etext>(?:\*\*[^*]+\*\*|[^*])+?)(?<=[^\s\\])\*(?!\*)`,
  String.raw`(?<![\w])_(?=[^\s_])(?<utext>[^_]+?)(?<=[^\s\\])_(?!\w)`,
  String.raw`~~(?=\S)(?<del>[\s\S]*?\S)~~`,
].join("|"), "g");

function safeHref(href) {
  try {
    const u = new URL(href, "https://invalid.invalid/");
    if (u.origin === "https://invalid.invalid") return null; // relative: nowhere to go
    return ["http:", "https:", "mailto:"].includes(u.protocol) ? u.href : null;
  } catch {
    return null;
  }
}

function link(href, parent, fill) {
  const safe = safeHref(href);
  if (!safe) {
    fill(parent);
    return;
  }
  const a = el("a");
  a.href = safe;
  a.rel = "noopener noreferrer nofollow";
  a.target = "_blank";
  fill(a);
  parent.append(a);
}

function appendText(parent, text) {
  // Single newlines inside a paragraph are line breaks, as in the chat.
  const lines = text.split("\n");
  lines.forEach((l, k) => {
    if (k) parent.append(el("br"));
    if (l) parent.append(l);
  });
}

// A paragraph longer than this is read a line (or this many characters) at a time: INLINE's
// lazy bodies look for their end up to the end of the text, so a crafted paragraph cost
// quadratic time (80 KB of "**x " took 2 s; a captured answer is untrusted).
const INLINE_CHUNK = 4096;

export function inline(text, parent) {
  if (text.length <= INLINE_CHUNK) {
    inlineRun(text, parent);
    return;
  }
  text.split("\n").forEach((line, k) => {
    if (k) parent.append(el("br"));
    for (let at = 0; at < line.length; ) {
      let end = Math.min(line.length, at + INLINE_CHUNK);
      const space = end < line.length ? line.lastIndexOf(" ", end) : -1;
      if (space > at) end = space + 1;
      inlineRun(line.slice(at, end), parent);
      at = end;
    }
  });
}

function inlineRun(text, parent) {
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) appendText(parent, text.slice(last, m.index));
    last = m.index + m[0].length;
    const g = m.groups;
    if (g.esc) parent.append(g.esc.slice(1));
    else if (g.code !== undefined) parent.append(el("code", "inline-code", trimCode(g.code)));
    else if (g.dmath !== undefined || g.bmath !== undefined) parent.append(math("span", "math math-display", (g.dmath ?? g.bmath).trim()));
    else if (g.pmath !== undefined || g.math !== undefined) parent.append(math("span", "math", (g.pmath ?? g.math).trim()));
    else if (g.label !== undefined) {
      if (g.img) parent.append(el("span", "image-placeholder", `[image${g.label ? ": " + g.label : ""}]`));
      else link(g.href, parent, (a) => inline(g.label, a));
    } else if (g.auto || g.bare) link(g.auto || g.bare, parent, (a) => a.append(g.auto || g.bare));
    else if (g.stext !== undefined) inlineInto(parent, "strong", g.stext);
    else if (g.etext !== undefined || g.utext !== undefined) inlineInto(parent, "em", g.etext ?? g.utext);
    else if (g.del !== undefined) inlineInto(parent, "del", g.del);
  }
  if (last < text.length) appendText(parent, text.slice(last));
}

function inlineInto(parent, tag, text) {
  const e = el(tag);
  inline(text, e);
  parent.append(e);
}

function trimCode(code) {
  return /^ .*[^ ].* $/s.test(code) ? code.slice(1, -1) : code;
}
