// The history page. Everything shown comes from the JSON API (same origin, session
// cookie) and is untrusted captured text: it only ever reaches the DOM through
// textContent (here and in markdown.js), never as HTML.

import { renderMarkdown } from "./markdown.js";

const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
};

const SITES = { chatgpt: "ChatGPT", claude: "Claude", gemini: "Gemini" };
const TARGETS = { chatgpt: "ChatGPT", claude: "Claude", gemini: "Gemini", copilot: "Copilot", generic: "Any assistant" };
const FAILURES = {
  error_message: "ChatGPT showed an error",
  rate_limited: "Rate limited",
  capacity: "At capacity",
  http_error: "Server error",
  stream_incomplete: "Answer cut off",
  stalled: "Answer stalled",
  turns_vanished: "Turns vanished",
  blank_page: "Page went blank",
  offline: "Went offline",
  logged_out: "Logged out",
  tab_closed: "Tab closed mid-answer",
};

const LIST_LIMIT = 500;

const state = {
  rows: [], // [{id, title, site, updated_at, ...}] as listed
  cursor: -1, // the highlighted row
  selected: new Set(), // ids chosen for export
  open: null, // the conversation shown
  generation: 0, // drops answers of superseded searches
};

class SignedOut extends Error {}

async function api(path, options = {}) {
  const res = await fetch(path, { credentials: "same-origin", ...options });
  if (res.status === 401) throw new SignedOut();
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = await res.json();
      message = body.detail || body.message || message;
    } catch { /* not JSON */ }
    throw new Error(message);
  }
  return res;
}

const getJSON = async (path, options) => (await api(path, options)).json();

function showSignedOut() {
  $("signin").hidden = false;
  $("main").hidden = true;
  document.querySelector("header.top").classList.add("disabled");
}

function failed(err) {
  if (err instanceof SignedOut) showSignedOut();
  else toast(err.message || String(err), true);
}

let toastTimer = 0;
// A short message at the bottom; `sticky` ones stay until the next message.
function toast(text, isError = false, sticky = false) {
  const t = $("toast");
  t.textContent = text;
  t.className = isError ? "error" : "";
  t.hidden = false;
  clearTimeout(toastTimer);
  if (!sticky) toastTimer = setTimeout(() => { t.hidden = true; }, isError ? 8000 : 4000);
}

const fmtTime = (iso) => {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
};

// ---- the list ----------------------------------------------------------------------

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

async function refresh() {
  const generation = ++state.generation;
  const q = $("q").value.trim();
  const p = filters();
  let rows;
  try {
    if (q) {
      p.set("q", q);
      p.set("limit", "50");
      const [hits, failedIds] = await Promise.all([
        getJSON("/api/search?" + p),
        $("failed").checked ? failedConversationIds() : null,
      ]);
      rows = hits.items
        .filter((h) => !failedIds || failedIds.has(h.conversation))
        .map((h) => ({ ...h, id: h.conversation }));
    } else {
      if ($("failed").checked) p.set("status", "failed");
      p.set("limit", String(LIST_LIMIT));
      rows = (await getJSON("/api/conversations?" + p)).items;
    }
  } catch (err) {
    if (generation === state.generation) failed(err);
    return;
  }
  if (generation !== state.generation) return; // a newer search is on its way
  const keep = state.rows[state.cursor]?.id;
  state.rows = rows;
  state.cursor = Math.max(0, rows.findIndex((r) => r.id === keep));
  renderList(q);
}

async function failedConversationIds() {
  const list = await getJSON("/api/conversations?status=failed&limit=1000");
  return new Set(list.items.map((c) => c.id));
}

function renderList(q) {
  const ul = $("results");
  ul.replaceChildren();
  const n = state.rows.length;
  $("list-status").textContent = q
    ? `${n} ${n === 1 ? "match" : "matches"}`
    : n >= LIST_LIMIT ? `The newest ${n} conversations (search or filter to find older ones)`
    : n ? `${n} conversation${n === 1 ? "" : "s"}` : "No conversations yet.";
  state.rows.forEach((row, i) => ul.append(rowElement(row, i)));
  updateCursor(false);
  updateExportButton();
}

function rowElement(row, i) {
  const li = el("li", "row");
  li.setAttribute("role", "option");
  li.tabIndex = -1;
  li.dataset.id = row.id;
  const box = el("input");
  box.type = "checkbox";
  box.tabIndex = -1;
  box.checked = state.selected.has(row.id);
  box.setAttribute("aria-label", "Select for export");
  box.addEventListener("click", (e) => {
    e.stopPropagation();
    toggleSelected(row.id, box.checked);
  });
  const body = el("div", "row-body");
  const title = el("div", "row-title", row.title || "Untitled conversation");
  const meta = el("div", "row-meta");
  meta.append(el("span", "badge site-" + (row.site || ""), SITES[row.site] || row.site || ""));
  if (row.status === "failed") meta.append(el("span", "badge failed", "failed"));
  if (row.turn_count !== undefined) meta.append(el("span", null, `${row.turn_count} turns`));
  meta.append(el("time", null, fmtTime(row.updated_at)));
  body.append(title, meta);
  if (row.snippet !== undefined) body.append(snippet(row.snippet, row.marks || []));
  li.append(box, body);
  li.addEventListener("click", () => {
    state.cursor = i;
    updateCursor(true);
    openConversation(row.id, row.turn ?? null);
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

function updateCursor(focus) {
  const items = $("results").children;
  [...items].forEach((li, i) => {
    const on = i === state.cursor;
    li.classList.toggle("cursor", on);
    li.setAttribute("aria-selected", on ? "true" : "false");
    li.tabIndex = on ? 0 : -1;
    li.classList.toggle("open", li.dataset.id === state.open?.id);
  });
  const li = items[state.cursor];
  if (li && focus) {
    li.focus();
    li.scrollIntoView({ block: "nearest" });
  }
}

function move(delta) {
  if (!state.rows.length) return;
  state.cursor = Math.min(state.rows.length - 1, Math.max(0, state.cursor + delta));
  updateCursor(true);
}

function toggleSelected(id, on) {
  if (on) state.selected.add(id);
  else state.selected.delete(id);
  const box = document.querySelector(`#results li[data-id="${CSS.escape(id)}"] input`);
  if (box) box.checked = on;
  updateExportButton();
}

function updateExportButton() {
  const n = state.selected.size;
  $("export-zip").textContent = n ? `Export ${n} selected (.zip)` : "Export all (.zip)";
}

// ---- one conversation ----------------------------------------------------------------

// Opens a conversation; from a search hit, scrolls to the turn that matched.
async function openConversation(id, turn = null) {
  let detail;
  try {
    detail = await getJSON(`/api/conversations/${encodeURIComponent(id)}`);
  } catch (err) {
    failed(err);
    return;
  }
  state.open = detail;
  history.replaceState(null, "", "#c=" + encodeURIComponent(id));
  renderConversation(detail);
  updateCursor(false);
  const art = turn === null ? null : $("conv-pane").querySelector(`.turn[data-index="${Number(turn)}"]`);
  if (art) {
    art.classList.add("hit");
    art.scrollIntoView({ block: "start" });
  }
}

function closeConversation() {
  state.open = null;
  $("conv-pane").hidden = true;
  $("conv-pane").replaceChildren();
  document.body.classList.remove("reading");
  history.replaceState(null, "", location.pathname);
  updateCursor(true);
}

function renderConversation(c) {
  const pane = $("conv-pane");
  pane.replaceChildren();
  pane.hidden = false;
  document.body.classList.add("reading");

  const head = el("header", "conv-head");
  const back = el("button", "back", "← Back");
  back.type = "button";
  back.addEventListener("click", closeConversation);
  const title = el("h2", "conv-title", c.title || "Untitled conversation");
  const meta = el("div", "row-meta");
  meta.append(el("span", "badge site-" + c.site, SITES[c.site] || c.site));
  if (c.status === "failed") meta.append(el("span", "badge failed", "failed"));
  if (c.model) meta.append(el("span", null, c.model));
  meta.append(el("span", null, `${c.turn_count} turns`), el("time", null, "updated " + fmtTime(c.updated_at)));
  if (c.url && /^https?:\/\//i.test(c.url)) {
    const a = el("a", null, "open on the site ↗");
    a.href = c.url;
    a.rel = "noopener noreferrer";
    a.target = "_blank";
    meta.append(a);
  }
  head.append(back, title, meta, actions(c));
  pane.append(head);

  if (c.corrupt?.length) {
    pane.append(el("p", "warning", "Some records failed their integrity check and are not shown: " + c.corrupt.join(", ")));
  }
  if (c.failures?.length) pane.append(failuresSection(c.failures));

  const turns = el("div", "turns");
  for (const t of c.turns) {
    const art = el("article", "turn role-" + t.role);
    art.dataset.index = t.index;
    art.append(el("div", "role", t.role === "user" ? "You" : t.role[0].toUpperCase() + t.role.slice(1)));
    const body = el("div", "md");
    body.append(renderMarkdown(t.text));
    if (t.role === "tool") {
      // Tool output (search results, quoted pages, program output) is long: folded.
      const fold = el("details");
      const first = t.text.trim().split("\n")[0].replace(/^[>#\s`]+/, "");
      fold.append(el("summary", "muted", first.length > 100 ? first.slice(0, 100) + "…" : first || "output"), body);
      art.append(fold);
    } else art.append(body);
    turns.append(art);
  }
  if (!c.turns.length) turns.append(el("p", "muted", "No turns saved."));
  pane.append(turns);
  if (c.draft || c.drafts?.length) pane.append(draftsSection(c));
  pane.scrollTop = 0;
}

function actions(c) {
  const bar = el("div", "actions");
  const target = el("select");
  target.setAttribute("aria-label", "Resume target");
  for (const [value, label] of Object.entries(TARGETS)) {
    const o = el("option", null, label);
    o.value = value;
    target.append(o);
  }
  if (TARGETS[c.site]) target.value = c.site;
  const copy = el("button", "primary", "Copy resume pack");
  copy.type = "button";
  copy.addEventListener("click", () => copyResume(c.id, target.value));

  const md = el("a", "button", "Export .md");
  md.href = `/api/conversations/${encodeURIComponent(c.id)}/export.md`;
  md.download = "";
  const json = el("a", "button", "Export .json");
  json.href = `/api/conversations/${encodeURIComponent(c.id)}/export.json`;
  json.download = "";

  const del = el("button", "danger", "Delete…");
  del.type = "button";
  del.addEventListener("click", () => confirmDelete(c));
  bar.append(target, copy, md, json, del);
  return bar;
}

function failuresSection(failures) {
  const sec = el("section", "failures");
  sec.append(el("h3", null, "Failures"));
  const ul = el("ul");
  for (const f of failures) {
    const li = el("li", f.resolved ? "resolved" : "unresolved");
    li.append(el("strong", null, FAILURES[f.kind] || f.kind), " · ", el("time", null, fmtTime(f.detected_at)));
    if (f.provider_outage) li.append(" · ", el("span", "badge failed", "outage confirmed by the provider"));
    li.append(" · ", el("span", null, f.resolved ? `resolved (${f.resolution || "done"})` : "unresolved"));
    if (f.detail) li.append(el("div", "muted", f.detail));
    ul.append(li);
  }
  sec.append(ul);
  return sec;
}

function draftsSection(c) {
  const sec = el("section", "drafts");
  if (c.draft) {
    sec.append(el("h3", null, "Unsent draft"), el("div", "draft-text", c.draft.text),
      el("div", "muted", "saved " + fmtTime(c.draft.updated_at)));
  }
  const older = (c.drafts || []).filter((d) => !c.draft || d.text !== c.draft.text || d.updated_at !== c.draft.updated_at);
  if (older.length) {
    const det = el("details");
    det.append(el("summary", null, `Draft history (${older.length} earlier version${older.length === 1 ? "" : "s"})`));
    const ol = el("ol", "draft-history");
    for (const d of older) {
      const li = el("li");
      li.append(el("time", "muted", fmtTime(d.updated_at)), el("div", "draft-text", d.text));
      ol.append(li);
    }
    det.append(ol);
    sec.append(det);
  }
  return sec;
}

// ---- actions -----------------------------------------------------------------------

async function copyResume(id, target) {
  try {
    const pack = await getJSON(`/api/conversations/${encodeURIComponent(id)}/resume?target=${encodeURIComponent(target)}`);
    await copyText(pack.text);
    const left = pack.omitted_turns ? `, ${pack.omitted_turns} turns left out` : "";
    toast(`Copied the resume pack for ${TARGETS[target]} (${pack.chars} characters${left}).`);
  } catch (err) {
    failed(err);
  }
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard permission (an unfocused or headless page): the old way.
    const ta = el("textarea");
    ta.value = text;
    ta.className = "offscreen";
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand("copy");
    ta.remove();
    if (!ok) throw new Error("The browser refused to copy to the clipboard.");
  }
}

function confirmDelete(c) {
  const dialog = $("confirm-delete");
  $("confirm-text").textContent =
    `“${c.title || "Untitled conversation"}” and its drafts and failures will be removed from the vault and the search index. This cannot be undone.`;
  dialog.returnValue = "";
  dialog.onclose = async () => {
    if (dialog.returnValue !== "delete") return;
    try {
      await api(`/api/conversations/${encodeURIComponent(c.id)}`, { method: "DELETE" });
    } catch (err) {
      failed(err);
      return;
    }
    state.selected.delete(c.id);
    toast(`Deleted “${c.title || "Untitled conversation"}”.`);
    closeConversation();
    await refresh();
  };
  dialog.showModal();
}

async function exportZip() {
  const ids = state.selected.size ? [...state.selected] : null;
  const format = $("export-format").value;
  try {
    const res = await api("/api/export", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ids, format }),
    });
    const url = URL.createObjectURL(await res.blob());
    const a = el("a");
    a.href = url;
    a.download = `draftvault-${format}-${new Date().toISOString().slice(0, 10)}.zip`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (err) {
    failed(err);
  }
}

// The file itself is the body (streamed to disk by the service); its kind (ChatGPT,
// Claude or Gemini Takeout) is found from its content.
async function importFile(file) {
  toast(`Importing ${file.name}…`, false, true);
  $("import").disabled = true;
  try {
    const r = await getJSON(`/api/import?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file });
    const notes = r.notes.length ? ` ${r.notes.join(". ")}.` : "";
    toast(`Imported ${r.conversations} conversations: ${r.created} new, ${r.updated} updated, ${r.unchanged} unchanged.${notes}`);
  } catch (err) {
    failed(err);
    return;
  } finally {
    $("import").disabled = false;
  }
  await refresh();
}

// ---- keyboard and wiring -----------------------------------------------------------

// Keys typed into a text field (or a select) are the field's, not shortcuts.
function typing(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.tagName === "INPUT") return !/^(checkbox|radio|button|submit|reset|file|range|color)$/.test(target.type);
  return target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName);
}

function onKey(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || $("confirm-delete").open) return;
  const q = $("q");
  if (e.target === q) {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      updateCursor(true);
    } else if (e.key === "Enter" && state.rows[state.cursor]) {
      e.preventDefault();
      openConversation(state.rows[state.cursor].id, state.rows[state.cursor].turn ?? null);
    } else if (e.key === "Escape") {
      if (!q.value) q.blur();
    }
    return;
  }
  if (typing(e.target)) return;
  const row = state.rows[state.cursor];
  switch (e.key) {
    case "/":
      e.preventDefault();
      q.focus();
      q.select();
      break;
    case "j":
    case "ArrowDown":
      if (inReading(e)) return;
      e.preventDefault();
      move(1);
      break;
    case "k":
    case "ArrowUp":
      if (inReading(e)) return;
      e.preventDefault();
      move(-1);
      break;
    case "Enter":
      if (row && e.target.closest?.("#results")) {
        e.preventDefault();
        openConversation(row.id, row.turn ?? null);
      }
      break;
    case "x":
      if (row) toggleSelected(row.id, !state.selected.has(row.id));
      break;
    case "Escape":
      if (state.open) closeConversation();
      else if (q.value) {
        q.value = "";
        refresh();
      }
      break;
  }
}

// Arrow keys scroll the conversation when it has focus; j/k always move in the list.
const inReading = (e) => e.key.startsWith("Arrow") && e.target.closest?.("#conv-pane");

function debounce(fn, ms) {
  let timer = 0;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

function main() {
  const later = debounce(refresh, 180);
  $("q").addEventListener("input", later);
  for (const id of ["site", "failed", "since", "until"]) $(id).addEventListener("change", refresh);
  $("export-zip").addEventListener("click", exportZip);
  $("import").addEventListener("click", () => $("import-file").click());
  $("import-file").addEventListener("change", (e) => {
    const file = e.target.files[0];
    e.target.value = "";
    if (file) importFile(file);
  });
  document.addEventListener("keydown", onKey);
  // The highlighted row follows focus (Tab, a click), so keys act on what has focus.
  $("results").addEventListener("focusin", (e) => {
    const i = [...$("results").children].indexOf(e.target.closest("li"));
    if (i >= 0 && i !== state.cursor) {
      state.cursor = i;
      updateCursor(false);
    }
  });
  refresh().then(() => {
    const m = /^#c=(.+)$/.exec(location.hash);
    if (m) openConversation(decodeURIComponent(m[1]));
  });
}

main();
