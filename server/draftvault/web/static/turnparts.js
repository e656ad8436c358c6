// A turn's parts besides its text on the history page: when it was first seen (small,
// in the role line), its thinking (collapsed, before the answer) and the documents it
// made (canvas, artifacts: under the answer). All captured text goes through the same
// renderers as the answer (text nodes only: it is never parsed as HTML).

import { renderMarkdown } from "./markdown-to-dom.js";
import { el, fmtTime } from "./ui.js";

/** The time the turn was first seen, for its role line (null when unknown). */
export function seenTime(t) {
  if (!t.first_seen) return null;
  const time = el("time", "seen muted", fmtTime(t.first_seen));
  time.dateTime = t.first_seen;
  time.title = "first seen " + t.first_seen;
  return time;
}

/** The thinking, folded (null when the turn has none). */
export function thinkingBlock(t) {
  if (!t.thinking) return null;
  const fold = el("details", "thinking");
  const body = el("div", "md");
  body.append(renderMarkdown(t.thinking));
  fold.append(el("summary", "muted", "Thinking"), body);
  return fold;
}

/** The documents, one figure each (null when the turn made none). */
export function documentsBlock(t) {
  if (!t.documents?.length) return null;
  const sec = el("div", "documents");
  for (const d of t.documents) {
    const fig = el("figure", "document");
    fig.dataset.kind = d.kind;
    const label = d.kind === "code" ? `code${d.language ? " · " + d.language : ""}` : "document";
    fig.append(el("figcaption", null, d.title || "Untitled"), el("span", "muted doc-kind", label));
    const body = el("div", "md");
    body.append(renderMarkdown(d.kind === "code" ? fenced(d.text, d.language) : d.text));
    fig.append(body);
    sec.append(fig);
  }
  return sec;
}

// A fence longer than any backtick run in the code, as the vault's Markdown writes it.
function fenced(code, language) {
  let ticks = "```";
  while (code.includes(ticks)) ticks += "`";
  return `${ticks}${language || ""}\n${code.replace(/\n+$/, "")}\n${ticks}`;
}
