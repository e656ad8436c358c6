// The vault's Markdown as server/draftvault/markdown.py writes it, for what the extension
// reads from ChatGPT's conversation JSON (content/chatgpt-json.js): fences, links, quotes,
// and ChatGPT's math delimiters (`\( … \)`, `\[ … \]`) in the dialect's (docs/markdown.md).
// Pure: no DOM, no chrome.*. tests/test_chatgpt_json.py holds it to the Python's output.

import { fenced } from "./dom-to-markdown.js";

export function fence(code, language = "") {
  return fenced(code.replace(/\n+$/, ""), language);
}

export function link(label, url) {
  const text = (label || url).replace(/\\/g, "\\\\").replace(/\[/g, "\\[").replace(/\]/g, "\\]");
  return `[${text}](${url.replace(/ /g, "%20").replace(/\(/g, "%28").replace(/\)/g, "%29")})`;
}

export function quote(text) {
  return text
    .replace(/^\n+|\n+$/g, "")
    .split("\n")
    .map((line) => (line ? "> " + line : ">"))
    .join("\n");
}

const FENCE = /^\s*(`{3,}|~{3,})(.*)$/;
const MATH = "$$";

// Each line, and whether it is inside a code or math block (fences included).
function scanBlocks(text) {
  let opener = null;
  return text.split("\n").map((line) => {
    if (opener !== null) {
      const m = FENCE.exec(line);
      const closes = opener === MATH ? line.trim() === MATH : Boolean(m) && m[1].startsWith(opener) && !m[2].trim();
      if (closes) opener = null;
      return [line, true];
    }
    const m = FENCE.exec(line);
    if (m || line.trim() === MATH) {
      opener = m ? m[1] : MATH;
      return [line, true];
    }
    return [line, false];
  });
}

// Outside code blocks: inline code spans and links stay as they are (a link's label and
// address hold no bare "["), `\[ … \]` and `\( … \)` are math. Read left to right in one
// pass, as importers' markdown.py `_Prose` reads it (tests/test_chatgpt_json.py holds them
// to the same output): each opening finds its end or is passed by, and an opening none
// can follow makes every later one of its kind plain text. A regular expression with
// lazy bodies tried every opening to the end of the text: quadratic in a crafted answer.
const OPENING = /`+|\[|\\[[(]/g;
const LINK_LABEL = /(?:\\[\s\S]|[^[\]\\\n])*/y;
const LINK = /(?:\\[\s\S]|[^[\]\\\n])*\]\([^)\s[]*\)/y;
const ITEM = /^\s*(?:(?:[-*+]|\d{1,9}[.)])\s+)?/;
const REST_BLANK = /[^\S\n]*(?:\n|$)/y;
const MAX_INDENT = 64; // a display's lines are indented like its line, up to this many columns

class Overgrown extends Error {}

function bisectRight(sorted, x) {
  let [lo, hi] = [0, sorted.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function proseMath(text) {
  const runs = new Map(); // backtick runs by length: where each starts
  for (const m of text.matchAll(/`+/g)) {
    if (!runs.has(m[0].length)) runs.set(m[0].length, []);
    runs.get(m[0].length).push(m.index);
  }
  const dead = new Set(); // math openings with no close after them
  const line = { start: 0, seen: 0, hasText: false, item: null };
  const out = [];
  let [pos, noLinkBefore, growth] = [0, 0, 0];
  for (;;) {
    OPENING.lastIndex = pos;
    const m = OPENING.exec(text);
    if (!m) break;
    const [i, token] = [m.index, m[0]];
    let end;
    if (token[0] === "`") {
      const later = runs.get(token.length);
      const n = bisectRight(later, i);
      end = n < later.length ? later[n] + token.length : i + token.length;
    } else if (token === "[") {
      LINK.lastIndex = i + 1;
      const link = i < noLinkBefore ? null : LINK.exec(text);
      if (!link && i >= noLinkBefore) {
        // A "[" inside the label just read can only be an escaped "\[": it fails as this one did.
        LINK_LABEL.lastIndex = i + 1;
        LINK_LABEL.exec(text);
        noLinkBefore = LINK_LABEL.lastIndex;
      }
      end = link ? LINK.lastIndex : i + 1;
    } else {
      const close = token === "\\[" ? "\\]" : "\\)";
      const j = dead.has(close) ? -1 : text.indexOf(close, i + 3);
      if (j < 0) {
        dead.add(close);
        end = i + 1; // its "[" may still start a link
      } else if (token === "\\(") {
        out.push(text.slice(pos, i), `$${text.slice(i + 2, j).trim()}$`);
        pos = j + 2;
        continue;
      } else {
        let start = i; // the spaces before it go with it
        while (start > pos && (text[start - 1] === " " || text[start - 1] === "\t")) start--;
        let after = j + 2;
        while (after < text.length && (text[after] === " " || text[after] === "\t")) after++;
        const display = displayLines(text, line, start, i, text.slice(i + 2, j), after);
        growth += display.length - (after - start);
        if (growth > text.length + 4096) throw new Overgrown();
        out.push(text.slice(pos, start), display);
        pos = after;
        continue;
      }
    }
    out.push(text.slice(pos, end));
    pos = end;
  }
  out.push(text.slice(pos));
  return out.join("");
}

// `$$` lines around the TeX, indented like the line it was on (a list item's).
function displayLines(text, line, start, opening, tex, end) {
  const space = text.slice(start, opening);
  const unseen = text.slice(line.seen, start); // each character is looked at once
  const newline = unseen.lastIndexOf("\n");
  if (newline >= 0) Object.assign(line, { start: line.seen + newline + 1, hasText: false, seen: line.seen + newline + 1 });
  if (!line.hasText) line.hasText = /\S/.test(text.slice(line.seen, start));
  line.seen = Math.max(line.seen, start);
  REST_BLANK.lastIndex = end;
  const restBlank = REST_BLANK.test(text);
  let indent, head;
  if (line.hasText) {
    indent = " ".repeat(Math.min(MAX_INDENT, itemLength(text, line, start)));
    head = `\n${indent}`;
  } else {
    indent = (text.slice(line.start, start) + space).slice(0, MAX_INDENT);
    head = space;
  }
  const tail = restBlank ? "" : `\n${indent}`;
  return `${head}${MATH}\n${indent}${tex.trim()}\n${indent}${MATH}${tail}`;
}

// The line's indent and list marker before `start` (matched once a line).
function itemLength(text, line, start) {
  if (!line.item || line.item.start !== line.start) {
    const lineEnd = text.indexOf("\n", line.start);
    const whole = ITEM.exec(text.slice(line.start, lineEnd < 0 ? text.length : lineEnd))[0].length;
    line.item = { start: line.start, end: line.start + whole };
  }
  if (start >= line.item.end) return line.item.end - line.start;
  return ITEM.exec(text.slice(line.start, start))[0].length;
}

/** `\( x \)` as `$x$` and `\[ x \]` as `$$` lines around x, except in code (markdown.py normalise_math). */
export function normaliseMath(text) {
  try {
    return normalised(text);
  } catch (err) {
    if (err instanceof Overgrown) return text; // its display lines would more than double it
    throw err;
  }
}

function normalised(text) {
  if (!text.includes("\\(") && !text.includes("\\[")) return text;
  const out = [];
  let prose = [];
  const flush = () => {
    if (prose.length) out.push(proseMath(prose.join("\n")));
    prose = [];
  };
  for (const [line, inside] of scanBlocks(text)) {
    if (inside) {
      flush();
      out.push(line);
    } else prose.push(line);
  }
  flush();
  return out.join("\n");
}
