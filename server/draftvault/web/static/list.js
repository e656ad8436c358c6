// The list of conversations: filters and search, the rows with their snippets, the
// highlighted row (the cursor) and the rows chosen for export. The list pages in as
// the person scrolls (or moves the cursor) towards its end, so every conversation can
// be reached without a filter; search shows its best matches.

import { getJSON } from "./api.js";
import { siteName } from "./vocabulary.js";
import { openConversation, openId } from "./reader.js";
import { $, el, failed, fmtTime } from "./ui.js";

const PAGE = 200; // rows fetched at a time
const SEARCH_LIMIT = 50;

export const list = {
  rows: [], // [{id, title, site, updated_at, ...}] as listed
  cursor: -1, // the highlighted row
  selected: new Set(), // ids chosen for export
  generation: 0, // drops answers of superseded searches
  next: null, // the query of the next page (URLSearchParams), null when all are listed
  loading: false,
};

/** The highlighted row, or undefined in an empty list. */
export const currentRow = () => list.rows[list.cursor];

/** Opens a row's conversation; from a search hit, at the turn (and version) that matched. */
export const openRow = (row) => openConversation(row.id, row.turn ?? null, row.branch ?? null);

function filters() {
  const p = new URLSearchParams();
  const site = $("site").value;
  if (site) p.set("site", site);
  // Date inputs are local days; the API compares UTC instants.
  if ($("since").value) p.set("since", new Date($("since").value + "T00:00:00").toISOString());
  if ($("until").value) {
    const end = new Date($("until").value + "T00:00:00");
    end.setDate(end.getDate() + 1);
    p.set("until", new Date(end - 1).toISOString());
  }
  return p;
}

export async function refresh() {
  const generation = ++list.generation;
  const q = $("q").value.trim();
  const p = filters();
  let rows;
  let partial = false;
  try {
    if ($("failed").checked) p.set("status", "failed");
    if (q) {
      p.set("q", q);
      p.set("limit", String(SEARCH_LIMIT));
      const hits = await getJSON("/api/search?" + p);
      partial = hits.partial;
      rows = hits.items.map((h) => ({ ...h, id: h.conversation }));
    } else {
      p.set("limit", String(PAGE));
      rows = (await getJSON("/api/conversations?" + p)).items;
    }
  } catch (err) {
    if (generation === list.generation) failed(err);
    return;
  }
  if (generation !== list.generation) return; // a newer search is on its way
  const keep = currentRow()?.id;
  list.rows = rows;
  list.next = !q && rows.length === PAGE ? p : null;
  list.cursor = Math.max(0, rows.findIndex((r) => r.id === keep));
  renderList(q, partial);
}

// `partial`: the search index is behind (the disk was full); it catches up by itself.
function renderList(q, partial) {
  const ul = $("results");
  ul.replaceChildren();
  const n = list.rows.length;
  const behind = partial ? " (the search index is catching up: some recent text may be missing)" : "";
  $("list-status").textContent = q
    ? `${n} ${n === 1 ? "match" : "matches"}${behind}`
    : n ? listCount() : "No conversations yet.";
  list.rows.forEach((row, i) => ul.append(rowElement(row, i)));
  updateCursor(false);
  updateExportButton();
  watchEnd();
}

const listCount = () => {
  const n = list.rows.length;
  return `${n} conversation${n === 1 ? "" : "s"}${list.next ? ", more as you scroll" : ""}`;
};

/** The next page of rows, appended; nothing when all are listed or a page is on its way. */
export async function loadMore() {
  if (!list.next || list.loading) return;
  const generation = list.generation;
  const p = new URLSearchParams(list.next);
  p.set("offset", String(list.rows.length));
  list.loading = true;
  let rows;
  try {
    rows = (await getJSON("/api/conversations?" + p)).items;
  } catch (err) {
    failed(err);
    return;
  } finally {
    list.loading = false;
  }
  if (generation !== list.generation) return; // the list was refreshed meanwhile
  const start = list.rows.length;
  list.rows.push(...rows);
  list.next = rows.length === PAGE ? list.next : null;
  $("results").append(...rows.map((row, i) => rowElement(row, start + i)));
  $("list-status").textContent = listCount();
  watchEnd();
}

// The end of the list coming into view loads the next page: #list-end covers the last
// rows (style.css), so the next page comes before the person reaches the end. Observing
// again after each page checks once more, for a window tall enough to show the new end.
let endObserver = null;
function watchEnd() {
  const end = $("list-end");
  endObserver ??= new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadMore();
  });
  endObserver.unobserve(end);
  if (list.next) endObserver.observe(end);
}

function rowElement(row, i) {
  const li = el("li", "row");
  li.setAttribute("role", "option");
  li.tabIndex = -1;
  li.setAttribute("aria-selected", "false");
  li.classList.toggle("open", row.id === openId()); // appended rows need no updateCursor
  li.dataset.id = row.id;
  const box = el("input");
  box.type = "checkbox";
  box.tabIndex = -1;
  box.checked = list.selected.has(row.id);
  box.setAttribute("aria-label", "Select for export");
  box.addEventListener("click", (e) => {
    e.stopPropagation();
    toggleSelected(row.id, box.checked);
  });
  const body = el("div", "row-body");
  const title = el("div", "row-title", row.title || "Untitled conversation");
  const meta = el("div", "row-meta");
  meta.append(el("span", "badge site-" + (row.site || ""), row.site ? siteName(row.site) : ""));
  if (row.status === "failed") meta.append(el("span", "badge failed", "failed"));
  if (row.turn_count !== undefined) meta.append(el("span", null, `${row.turn_count} turns`));
  if (row.branch) meta.append(el("span", "badge", "in an earlier version")); // a search hit in a branch
  meta.append(el("time", null, fmtTime(row.updated_at)));
  body.append(title, meta);
  if (row.snippet !== undefined) body.append(snippet(row.snippet, row.marks || []));
  li.append(box, body);
  li.addEventListener("click", () => {
    list.cursor = i;
    updateCursor(true);
    openRow(row);
  });
  return li;
}

// The snippet with its matched words marked, built from text nodes only.
function snippet(text, marks) {
  const div = el("div", "snippet");
  let last = 0;
  for (const [start, end] of [...marks].sort((a, b) => a[0] - b[0])) {
    if (start < last || end > text.length) continue;
    div.append(text.slice(last, start), el("mark", null, text.slice(start, end)));
    last = end;
  }
  div.append(text.slice(last));
  return div;
}

/** Marks the highlighted row and the open one; `focus` moves the focus to it. */
export function updateCursor(focus) {
  const items = $("results").children;
  [...items].forEach((li, i) => {
    const on = i === list.cursor;
    li.classList.toggle("cursor", on);
    li.setAttribute("aria-selected", on ? "true" : "false");
    li.tabIndex = on ? 0 : -1;
    li.classList.toggle("open", li.dataset.id === openId());
  });
  const li = items[list.cursor];
  if (li && focus) {
    li.focus();
    li.scrollIntoView({ block: "nearest" });
  }
}

export function move(delta) {
  if (!list.rows.length) return;
  list.cursor = Math.min(list.rows.length - 1, Math.max(0, list.cursor + delta));
  updateCursor(true);
  if (list.cursor >= list.rows.length - 10) loadMore();
}

// The highlighted row follows focus (Tab, a click), so keys act on what has focus.
export function followFocus(target) {
  const i = [...$("results").children].indexOf(target.closest("li"));
  if (i >= 0 && i !== list.cursor) {
    list.cursor = i;
    updateCursor(false);
  }
}

export function toggleSelected(id, on) {
  if (on) list.selected.add(id);
  else list.selected.delete(id);
  const box = document.querySelector(`#results li[data-id="${CSS.escape(id)}"] input`);
  if (box) box.checked = on;
  updateExportButton();
}

function updateExportButton() {
  const n = list.selected.size;
  $("export-zip").textContent = n ? `Export ${n} selected (.zip)` : "Export all (.zip)";
}
