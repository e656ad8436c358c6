// DOM -> Markdown, shared by the site adapters: writes the turn texts' dialect
// (docs/markdown.md). Reads the rendered answer the way a reader sees it: paragraphs,
// headings, lists (nested), tables, links, inline code, fenced code with its language
// (also CodeMirror blocks with no <code>), math from its TeX (KaTeX's annotation, or a
// `data-math` attribute as Gemini ships it), images as placeholders with their alt
// text. What it cannot turn into Markdown keeps its visible text (a formula without
// TeX, a site's own element wrapping blocks). The history page's DOM
// (markdown-to-dom.js) reads back the same: its math carries data-tex, its headings
// data-level.
//
// Options: `special(el)` lets an adapter render site-specific elements (citation
// pills, ...): return {inline: "..."} or {block: "..."} to replace the element
// ({block: ""} drops it), or null to convert it normally. `breaks`: a selector for
// the elements whose text shows its own line breaks (white-space: pre-wrap, as typed).

const BLOCK_TAGS = new Set([
  "ADDRESS", "ARTICLE", "ASIDE", "BLOCKQUOTE", "DD", "DETAILS", "DIV", "DL", "DT", "FIELDSET",
  "FIGCAPTION", "FIGURE", "FOOTER", "FORM", "H1", "H2", "H3", "H4", "H5", "H6", "HEADER", "HR",
  "LI", "MAIN", "NAV", "OL", "P", "PRE", "SECTION", "SUMMARY", "TABLE", "UL",
]);
const SKIP_TAGS = new Set([
  "BUTTON", "SVG", "SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT", "TEXTAREA", "INPUT", "SELECT",
  "OPTION", "CANVAS", "VIDEO", "AUDIO", "IFRAME", "MAT-ICON",
]);

function skipped(el) {
  if (SKIP_TAGS.has(el.tagName.toUpperCase())) return true;
  if (el.getAttribute("aria-hidden") === "true") return true;
  const cls = el.classList;
  // ChatGPT marks what a Markdown copy leaves out (a code block's header, a link's favicon).
  return cls.contains("sr-only") || cls.contains("cdk-visually-hidden") || el.getAttribute("data-markdown-copy") === "exclude";
}

// A code block: <pre>; ChatGPT's (2026) marked container holding its header and a
// <code> with no <pre> around it; a frame (a group, Claude's data-not-prose) holding one
// <pre> and beside it only a header: the language label, buttons (Claude 2026 draws the
// label outside the <pre>).
function isCodeBlock(el) {
  if (el.tagName.toUpperCase() === "PRE" || el.getAttribute("data-markdown-copy") === "code-block") return true;
  if (el.getAttribute("role") !== "group" && !el.hasAttribute("data-not-prose")) return false;
  const pre = el.querySelector("pre");
  if (!pre) return false;
  let label = "";
  const walker = el.ownerDocument.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!pre.contains(node) && !node.parentElement.closest("button")) label += node.data.trim();
  }
  return label.length <= 30;
}

// A file's name by its type (a site's name, "example.com", is not one).
const FILE_NAME = /^[^\\/\n]{1,200}\.(txt|md|csv|tsv|json|jsonl|xml|ya?ml|html?|css|js|mjs|ts|tsx|jsx|py|ipynb|sql|sh|r|java|c|cpp|h|go|rs|rb|php|pdf|docx?|xlsx?|pptx?|odt|rtf|zip|tar|gz|tgz|png|jpe?g|gif|webp|svg|mp3|wav|mp4|mov)$/i;

// What of a button is content: a picture shown as a button (a generated image that
// opens a viewer, on ChatGPT and Gemini) as its placeholder; a file the answer made,
// shown as a button named for it (ChatGPT 2026: no link), as its name. Other buttons'
// words and icons are chrome.
function buttonContent(el) {
  if (el.tagName.toUpperCase() !== "BUTTON" || el.getAttribute("aria-hidden") === "true") return "";
  // Icons in buttons are small (a width below 48) or have no alt text.
  const shown = [...el.getElementsByTagName("img")].filter((img) => !(Number(img.getAttribute("width") || 48) < 48));
  const images = shown.map(imagePlaceholder).filter(Boolean).join(" ");
  if (images) return images;
  const name = el.textContent.trim();
  return FILE_NAME.test(name) ? name : "";
}

const collapse = (text) => text.replace(/[ \t\n\r\f]+/g, " ");
// Text where the page shows its line breaks (`opts.breaks`: a selector) keeps them.
const textOf = (node, opts) =>
  opts.breaks && node.parentElement && node.parentElement.closest(opts.breaks)
    ? node.textContent.replace(/[ \t\r\f]+/g, " ")
    : collapse(node.textContent);

function tidyInline(text) {
  return text
    .split("\n")
    .map((line) => line.replace(/ +/g, " ").trim())
    .join("\n")
    .trim();
}

// ---- math -------------------------------------------------------------------------

function tex(el) {
  const ann = el.querySelector('annotation[encoding="application/x-tex"]');
  return ann ? ann.textContent.trim() : null;
}

const asMath = (t, display) => (display ? { block: `$$\n${t}\n$$` } : { inline: `$${t}$` });

// Gemini: the TeX in `data-math` on a `math-block` div or a `math-inline` span.
function dataMath(el) {
  const t = (el.getAttribute("data-math") || "").trim();
  if (!t) return null;
  const display = el.classList.contains("math-block") || /^(DIV|MATH-BLOCK)$/i.test(el.tagName);
  return asMath(t, display || el.querySelector(".katex-display") !== null);
}

function math(el) {
  // The history page's own math (markdown-to-dom.js) keeps its TeX in data-tex.
  if (el.hasAttribute("data-tex")) {
    const block = el.classList.contains("math-block") || el.classList.contains("math-display");
    return asMath(el.getAttribute("data-tex"), block);
  }
  if (el.hasAttribute("data-math")) return dataMath(el);
  const cls = el.classList;
  const display = cls.contains("katex-display") || (cls.contains("katex") && el.closest(".katex-display") !== null);
  if (!display && !cls.contains("katex")) return null;
  const t = tex(el);
  if (t !== null) return asMath(t, display);
  // No TeX: the formula as shown (KaTeX's MathML text, else its aria-hidden HTML).
  const shown = el.querySelector(".katex-mathml") || el.querySelector(".katex-html") || el;
  const text = collapse(shown.textContent).trim();
  return display ? { block: text } : { inline: text };
}

// ---- code -------------------------------------------------------------------------

export function codeMirrorText(content) {
  const lines = content.querySelectorAll(".cm-line");
  if (lines.length) return [...lines].map((l) => l.textContent).join("\n");
  let out = "";
  for (const node of content.childNodes) {
    if (node.nodeName === "BR") out += "\n";
    else out += node.textContent;
  }
  return out;
}

// The language: a `language-x` class, a data-language, else the label text in the
// block's header (ChatGPT/Claude put "python" in a div above the code).
function codeLanguage(pre, code, body) {
  for (const el of [code, pre]) {
    if (!el) continue;
    const m = (el.getAttribute("class") || "").match(/(?:^|\s)(?:language|lang)-([\w#+.-]+)/);
    if (m) return m[1].toLowerCase();
    const data = el.getAttribute("data-language");
    if (data) return data.trim().toLowerCase();
  }
  const walker = pre.ownerDocument.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (body && body.contains(node)) break;
    if (parent && parent.closest("button")) continue;
    const label = node.textContent.trim();
    if (label) return labelLanguage(label);
  }
  return "";
}

// Labels a site shows when it knows no language (Gemini: "Code snippet", translated).
const GENERIC_LABEL = /^code$|snippet|fragment|extrait|ausschnitt|\s(de|di|du)\s/i;

/** The fence language for a code block's header label ("Python" -> "python"), or ""
 * for a site's generic label and for anything that does not look like a language. */
export function labelLanguage(label) {
  const text = label.trim();
  if (!/^[A-Za-z][\w#+.\- ]{0,29}$/.test(text) || GENERIC_LABEL.test(text)) return "";
  return text.toLowerCase().replace(/\s+/g, "");
}

/** Code as a fenced block, the fence longer than any run of backticks inside. */
export function fenced(text, lang = "") {
  let fence = "```";
  while (text.includes(fence)) fence += "`";
  return `${fence}${lang}\n${text}\n${fence}`;
}

function codeBlock(pre) {
  const cm = pre.querySelector(".cm-content");
  const code = cm ? null : pre.querySelector("code");
  const body = cm || code;
  let text = cm ? codeMirrorText(cm) : (code || pre).textContent;
  text = text.replace(/\n+$/, "");
  return fenced(text, codeLanguage(pre, code, body));
}

function inlineCode(text) {
  let ticks = "`";
  while (text.includes(ticks)) ticks += "`";
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${ticks}${pad}${text}${pad}${ticks}`;
}

// ---- inline -----------------------------------------------------------------------

/** An image's alt text as its placeholder names it; attachments.js sends the same alt with the
 * image's bytes, so readers can show the image in its stead. */
export const altOf = (img) => (img.getAttribute("alt") || "").trim();

/** An image as turn texts write it, `[Image: alt]` ("" without alt text). */
export function imagePlaceholder(img) {
  const alt = altOf(img);
  return alt ? `[Image: ${alt}]` : "";
}

function wrap(mark, inner) {
  const text = inner.trim();
  if (!text) return inner;
  const lead = inner.match(/^\s*/)[0] ? " " : "";
  const trail = inner.match(/\s*$/)[0] ? " " : "";
  return `${lead}${mark}${text}${mark}${trail}`;
}

function inlineOf(el, opts) {
  let out = "";
  for (const node of el.childNodes) out += inlineNode(node, opts);
  return out;
}

function inlineNode(node, opts) {
  if (node.nodeType === 3) return textOf(node, opts);
  if (node.nodeType !== 1) return "";
  const el = node;
  if (skipped(el)) return buttonContent(el);
  const special = (opts.special && opts.special(el)) || math(el);
  if (special) {
    if (special.inline !== undefined) return special.inline;
    return special.block ? `\n${special.block}\n` : "";
  }
  switch (el.tagName.toUpperCase()) {
    case "BR":
      return "\n";
    case "STRONG":
    case "B":
      return wrap("**", inlineOf(el, opts));
    case "EM":
    case "I":
      return wrap("*", inlineOf(el, opts));
    case "DEL":
    case "S":
      return wrap("~~", inlineOf(el, opts));
    case "CODE":
      return inlineCode(el.textContent);
    case "IMG":
      return imagePlaceholder(el);
    case "A": {
      const href = el.getAttribute("href") || "";
      const text = tidyInline(inlineOf(el, opts)).replace(/\n/g, " ");
      if (!href || href.startsWith("javascript:")) return text;
      return text ? `[${text}](${href})` : `<${href}>`;
    }
    default: {
      if (isCodeBlock(el)) return ` ${codeBlock(el)} `;
      const inner = inlineOf(el, opts);
      return BLOCK_TAGS.has(el.tagName.toUpperCase()) ? ` ${inner} ` : inner;
    }
  }
}

// ---- blocks -----------------------------------------------------------------------

function listBlock(el, opts) {
  const ordered = el.tagName.toUpperCase() === "OL";
  let n = ordered ? parseInt(el.getAttribute("start") || "1", 10) || 1 : 0;
  const lines = [];
  for (const li of el.children) {
    if (li.tagName.toUpperCase() !== "LI") continue;
    const marker = ordered ? `${n++}.` : "-";
    const body = blocksOf(li, opts).join("\n");
    const indent = " ".repeat(marker.length + 1);
    lines.push(`${marker} ${body.split("\n").join(`\n${indent}`)}`.trimEnd());
  }
  return lines.join("\n");
}

function cellText(cell, opts) {
  return tidyInline(inlineOf(cell, opts)).replace(/\n/g, " ").replace(/\|/g, "\\|");
}

function tableBlock(table, opts) {
  const rows = [...table.querySelectorAll("tr")].filter((tr) => tr.closest("table") === table);
  if (!rows.length) return "";
  const cells = rows.map((tr) => [...tr.children].filter((c) => /^T[HD]$/i.test(c.tagName)).map((c) => cellText(c, opts)));
  const width = Math.max(...cells.map((r) => r.length));
  const line = (r) => `| ${[...r, ...Array(width - r.length).fill("")].join(" | ")} |`;
  const out = [line(cells[0]), `| ${Array(width).fill("---").join(" | ")} |`];
  for (const r of cells.slice(1)) out.push(line(r));
  return out.join("\n");
}

function blockOf(el, opts) {
  const tag = el.tagName.toUpperCase();
  if (/^H[1-6]$/.test(tag)) {
    const text = tidyInline(inlineOf(el, opts)).replace(/\n/g, " ");
    const level = Number(el.getAttribute("data-level")) || Number(tag[1]);
    return text ? [`${"#".repeat(Math.min(6, level))} ${text}`] : [];
  }
  if (isCodeBlock(el)) return [codeBlock(el)];
  switch (tag) {
    case "UL":
    case "OL":
      return [listBlock(el, opts)];
    case "TABLE":
      return [tableBlock(el, opts)];
    case "HR":
      return ["---"];
    case "BLOCKQUOTE":
      return [
        blocksOf(el, opts)
          .join("\n\n")
          .split("\n")
          .map((l) => (l ? `> ${l}` : ">"))
          .join("\n"),
      ];
    default:
      return blocksOf(el, opts);
  }
}

const BLOCK_SELECTOR = [...BLOCK_TAGS].join(",").toLowerCase();

// A site's own element (Gemini's <table-block>, <response-element>) holding blocks is
// a block container too: read inline, its table or paragraphs would run together.
function wrapsBlocks(el) {
  return el.tagName.includes("-") && el.querySelector(BLOCK_SELECTOR) !== null;
}

function blocksOf(root, opts) {
  const out = [];
  let inline = "";
  const flush = () => {
    const text = tidyInline(inline);
    if (text) out.push(text);
    inline = "";
  };
  for (const node of root.childNodes) {
    if (node.nodeType === 3) {
      inline += textOf(node, opts);
      continue;
    }
    if (node.nodeType !== 1) continue;
    const el = node;
    if (skipped(el)) {
      inline += buttonContent(el);
      continue;
    }
    const special = (opts.special && opts.special(el)) || math(el);
    if (special) {
      if (special.block !== undefined) {
        flush();
        if (special.block) out.push(special.block);
      } else {
        inline += special.inline;
      }
    } else if (BLOCK_TAGS.has(el.tagName.toUpperCase()) || wrapsBlocks(el)) {
      flush();
      for (const b of blockOf(el, opts)) if (b) out.push(b);
    } else {
      inline += inlineNode(el, opts);
    }
  }
  flush();
  return out;
}

/** The Markdown of an element's content. */
export function toMarkdown(root, opts = {}) {
  if (!root) return "";
  return blocksOf(root, opts).join("\n\n").trim();
}

/** An answer written in parts with widgets between them: the Markdown of the
 * outermost elements matching `parts` inside `root`, joined (parts inside `outside`
 * are a widget's, not the answer's); the whole of `root` when it has no parts. */
export function partsMarkdown(root, parts, opts = {}, outside = null) {
  const skip = outside ? `${parts}, ${outside}` : parts;
  const els = [...root.querySelectorAll(parts)].filter((el) => {
    const above = el.parentElement.closest(skip);
    return !above || !root.contains(above);
  });
  if (!els.length) return toMarkdown(root, opts);
  return els.map((el) => toMarkdown(el, opts)).filter(Boolean).join("\n\n");
}

/** Text as typed (user turns, composers): blocks and <br> become line breaks,
 * whitespace inside lines is kept; images become placeholders. */
export function plainText(root) {
  if (!root) return "";
  const lines = [];
  let line = "";
  const walk = (el) => {
    for (const node of el.childNodes) {
      if (node.nodeType === 3) {
        line += node.textContent;
      } else if (node.nodeType === 1) {
        if (skipped(node)) continue;
        const tag = node.tagName.toUpperCase();
        if (tag === "BR") {
          lines.push(line);
          line = "";
        } else if (tag === "IMG") {
          line += imagePlaceholder(node);
        } else if (BLOCK_TAGS.has(tag)) {
          if (line) lines.push(line);
          line = "";
          const start = lines.length;
          walk(node);
          // An empty paragraph (`<p><br></p>`) is an empty line.
          if (line || (tag === "P" && lines.length === start)) lines.push(line);
          line = "";
        } else {
          walk(node);
        }
      }
    }
  };
  walk(root);
  if (line) lines.push(line);
  return lines.join("\n").trim();
}
