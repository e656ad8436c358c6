// DOM -> Markdown, shared by the site adapters: writes the turn texts' dialect
// (docs/markdown.md). Reads the rendered answer the way a reader sees it: paragraphs,
// headings, lists (nested), tables, links, inline code, fenced code with its language
// (also CodeMirror blocks with no <code>), KaTeX math from its TeX annotation, images
// as placeholders with their alt text. The history page's DOM (markdown-to-dom.js)
// reads back the same: its math carries data-tex, its headings data-level.
//
// `special(el)` (optional) lets an adapter render site-specific elements (citation
// pills, ...): return {inline: "..."} or {block: "..."} to replace the element, or
// null to convert it normally.

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
  return cls.contains("sr-only") || cls.contains("cdk-visually-hidden");
}

const collapse = (text) => text.replace(/[ \t\n\r\f]+/g, " ");

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

function math(el) {
  const cls = el.classList;
  if (el.hasAttribute("data-tex")) {
    const t = el.getAttribute("data-tex");
    return cls.contains("math-block") || cls.contains("math-display") ? { block: `$$\n${t}\n$$` } : { inline: `$${t}$` };
  }
  if (cls.contains("katex-display")) {
    const t = tex(el);
    return t === null ? null : { block: `$$\n${t}\n$$` };
  }
  if (cls.contains("katex")) {
    const t = tex(el);
    if (t === null) return null;
    return el.closest(".katex-display") ? { block: `$$\n${t}\n$$` } : { inline: `$${t}$` };
  }
  return null;
}

// ---- code -------------------------------------------------------------------------

function codeMirrorText(content) {
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
    if (!label) continue;
    if (/^[A-Za-z][\w#+.\- ]{0,29}$/.test(label)) return label.toLowerCase().replace(/\s+/g, "");
    break;
  }
  return "";
}

function codeBlock(pre) {
  const cm = pre.querySelector(".cm-content");
  const code = cm ? null : pre.querySelector("code");
  const body = cm || code;
  let text = cm ? codeMirrorText(cm) : (code || pre).textContent;
  text = text.replace(/\n+$/, "");
  return fenced(text, codeLanguage(pre, code, body));
}

/** A fenced code block, its fence longer than any backtick run in the code. */
export function fenced(text, lang) {
  let fence = "```";
  while (text.includes(fence)) fence += "`";
  return `${fence}${lang}\n${text}\n${fence}`;
}

function inlineCode(text) {
  let ticks = "`";
  while (text.includes(ticks)) ticks += "`";
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${ticks}${pad}${text}${pad}${ticks}`;
}

// ---- inline -----------------------------------------------------------------------

function imagePlaceholder(img) {
  const alt = (img.getAttribute("alt") || "").trim();
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
  if (node.nodeType === 3) return collapse(node.textContent);
  if (node.nodeType !== 1) return "";
  const el = node;
  if (skipped(el)) return "";
  const special = (opts.special && opts.special(el)) || math(el);
  if (special) return special.inline !== undefined ? special.inline : ` ${special.block} `;
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
    case "PRE":
      return ` ${codeBlock(el)} `;
    default: {
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
  switch (tag) {
    case "UL":
    case "OL":
      return [listBlock(el, opts)];
    case "PRE":
      return [codeBlock(el)];
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
      inline += collapse(node.textContent);
      continue;
    }
    if (node.nodeType !== 1) continue;
    const el = node;
    if (skipped(el)) continue;
    const special = (opts.special && opts.special(el)) || math(el);
    if (special) {
      if (special.block !== undefined) {
        flush();
        if (special.block) out.push(special.block);
      } else {
        inline += special.inline;
      }
    } else if (BLOCK_TAGS.has(el.tagName.toUpperCase())) {
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
