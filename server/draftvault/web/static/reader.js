// The reader pane: one conversation with its turns (Markdown), failures and drafts,
// and its actions (copy a resume pack, export, delete).

import { api, getJSON } from "./api.js";
import { attachmentsOf } from "./files.js";
import { renderMarkdown } from "./markdown-to-dom.js";
import { renderTyped } from "./typed.js";
import { kindInWords, siteName, TARGETS } from "./vocabulary.js";
import { $, copyText, el, failed, fmtTime, toast } from "./ui.js";
import { addSwitchers, branchDeletion, findBranch, threadTurns } from "./versions.js";
import { documentsBlock, seenTime, thinkingBlock } from "./turnparts.js";

let open = null; // the conversation shown
let shownBranch = null; // the version chosen in its switchers (a branch id; null: the current thread)
// What the list does when the pane changes: shown(), closed(), deleted(id).
let hooks = { shown() {}, closed() {}, async deleted() {} };

export const connectReader = (listHooks) => (hooks = listHooks);

/** The id of the conversation shown, or undefined. */
export const openId = () => open?.id;

/** Opens a conversation; from a search hit, scrolls to the turn that matched, in the
 * earlier version (`branch`) it matched in. */
export async function openConversation(id, turn = null, branch = null) {
  let detail;
  try {
    detail = await getJSON(`/api/conversations/${encodeURIComponent(id)}`);
  } catch (err) {
    failed(err);
    return;
  }
  open = detail;
  shownBranch = findBranch(detail, branch)?.id ?? null;
  history.replaceState(null, "", "#c=" + encodeURIComponent(id));
  renderConversation(detail);
  hooks.shown();
  const art = turn === null ? null : $("conv-pane").querySelector(`.turn[data-index="${Number(turn)}"]`);
  if (art) {
    art.classList.add("hit");
    art.scrollIntoView({ block: "start" });
  }
}

export function closeConversation() {
  open = null;
  $("conv-pane").hidden = true;
  $("conv-pane").replaceChildren();
  document.body.classList.remove("reading");
  history.replaceState(null, "", location.pathname);
  hooks.closed();
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
  meta.append(el("span", "badge site-" + c.site, siteName(c.site)));
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
  if (c.failures?.length) pane.append(failuresSection(c.failures, c.site));
  pane.append(threadSection(c));
  if (c.draft || c.drafts?.length) pane.append(draftsSection(c));
  pane.scrollTop = 0;
}

// The thread shown (the current one, or the version chosen), with its version switchers.
function threadSection(c) {
  const div = turnsSection(threadTurns(c, shownBranch));
  addSwitchers(div, c, shownBranch, {
    choose(branchId) {
      shownBranch = branchId;
      const old = $("conv-pane").querySelector(".turns");
      const y = $("conv-pane").scrollTop;
      old.replaceWith(threadSection(c));
      $("conv-pane").scrollTop = y;
    },
    remove: (branch) => confirmBranchDelete(c, branch),
  });
  return div;
}

function turnsSection(turns) {
  const div = el("div", "turns");
  for (const t of turns) {
    const art = el("article", "turn role-" + t.role);
    art.dataset.index = t.index;
    const role = el("div", "role", t.role === "user" ? "You" : t.role[0].toUpperCase() + t.role.slice(1));
    const seen = seenTime(t);
    if (seen) role.append(" ", seen);
    art.append(role);
    const thinking = thinkingBlock(t);
    if (thinking) art.append(thinking);
    const body = turnBody(t);
    if (t.role === "tool") {
      // Tool output (search results, quoted pages, program output) is long: folded.
      const fold = el("details");
      const first = t.text.trim().split("\n")[0].replace(/^[>#\s`]+/, "");
      fold.append(el("summary", "muted", first.length > 100 ? first.slice(0, 100) + "…" : first || "output"), body);
      art.append(fold);
    } else art.append(body);
    const documents = documentsBlock(t);
    if (documents) art.append(documents);
    const files = attachmentsOf(t);
    if (files) art.append(files);
    div.append(art);
  }
  if (!turns.length) div.append(el("p", "muted", "No turns saved."));
  return div;
}

// User turns as typed; the other roles' turns are Markdown. Without the placeholders of
// the images shown below it (shown_text: the service leaves them out).
function turnBody(t) {
  const text = t.shown_text ?? t.text;
  if (t.role === "user") return renderTyped(text);
  const body = el("div", "md");
  body.append(renderMarkdown(text));
  return body;
}

function actions(c) {
  const bar = el("div", "actions");
  const target = el("select");
  target.setAttribute("aria-label", "Resume target");
  for (const [value, { name: label }] of Object.entries(TARGETS)) {
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

function failuresSection(failures, site) {
  const sec = el("section", "failures");
  sec.append(el("h3", null, "Failures"));
  const ul = el("ul");
  for (const f of failures) {
    const li = el("li", f.resolved ? "resolved" : "unresolved");
    li.append(el("strong", null, kindInWords(f.kind, site)), " · ", el("time", null, fmtTime(f.detected_at)));
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

async function copyResume(id, target) {
  try {
    const pack = await getJSON(`/api/conversations/${encodeURIComponent(id)}/resume?target=${encodeURIComponent(target)}`);
    await copyText(pack.text);
    const left = pack.omitted_turns ? `, ${pack.omitted_turns} turns left out` : "";
    toast(`Copied the resume pack for ${TARGETS[target].name} (${pack.chars} characters${left}).`);
  } catch (err) {
    failed(err);
  }
}

function confirmDelete(c) {
  const name = c.title || "Untitled conversation";
  ask("Delete this conversation?",
    `“${name}” and its drafts and failures will be removed from the vault and the search index. This cannot be undone.`,
    async () => {
      await api(`/api/conversations/${encodeURIComponent(c.id)}`, { method: "DELETE" });
      toast(`Deleted “${name}”.`);
      closeConversation();
      await hooks.deleted(c.id);
    });
}

// Only a person deletes a branch, after saying yes; the current thread is shown then.
function confirmBranchDelete(c, branch) {
  ask("Delete this version?", branchDeletion(branch), async () => {
    const path = `/api/conversations/${encodeURIComponent(c.id)}/branches/${encodeURIComponent(branch.id)}`;
    await api(path, { method: "DELETE" });
    toast("Deleted the earlier version.");
    await openConversation(c.id);
  });
}

// The delete dialog with its question; `then` runs when the person chose Delete.
function ask(title, text, then) {
  const dialog = $("confirm-delete");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  dialog.returnValue = "";
  dialog.onclose = async () => {
    if (dialog.returnValue !== "delete") return;
    try {
      await then();
    } catch (err) {
      failed(err);
    }
  };
  dialog.showModal();
}
