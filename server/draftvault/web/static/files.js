// A turn's images and files (GET /api/conversations/{id}: turns[].attachments): images shown
// under the turn from /api/attachments/{id} (same origin, the session cookie; the page's
// CSP allows img-src 'self' and nothing looser), other files as download links, and files
// kept by name only (over the size cap, or never given as bytes) named with their size.

import { el } from "./ui.js";

const size = (n) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${Math.round(n / 1e3)} kB` : `${n} bytes`;

/** The attachments of a turn as an element, or null when it has none. */
export function attachmentsOf(turn) {
  const list = turn.attachments || [];
  if (!list.length) return null;
  const box = el("div", "attachments");
  for (const a of list) {
    const described = `${a.name} (${a.type}, ${size(a.bytes)})`;
    if (!a.id) {
      box.append(el("div", "attachment muted", `${described}: not kept, only its name`));
      continue;
    }
    const href = `/api/attachments/${encodeURIComponent(a.id)}`;
    const link = el("a", "attachment");
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    if (a.type.startsWith("image/")) {
      const img = el("img");
      img.src = href;
      img.alt = a.alt || a.name;
      img.loading = "lazy";
      link.append(img);
    } else {
      link.textContent = described;
      link.download = a.name;
    }
    box.append(link);
  }
  return box;
}
