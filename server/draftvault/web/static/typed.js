// A user turn as the person typed it: plain text with its line breaks and leading
// spaces (white-space: pre-wrap, as the sites show it), never read as Markdown.
// Built with textContent: captured text (untrusted) stays text.

export function renderTyped(text) {
  const body = document.createElement("div");
  body.className = "typed";
  body.textContent = text;
  return body;
}
