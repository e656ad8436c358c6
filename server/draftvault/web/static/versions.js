// Versions and branches of the conversation in the reader pane. The API gives the
// current thread (`turns`) and the earlier threads (`branches`), each from where it
// leaves the current thread (`from_index`). The turn at that index of the current
// thread and of every branch starting there are the versions of that turn, shown
// "‹ 2 / 3 ›" as ChatGPT does: the current thread's is the last one; switching to a
// branch shows the current thread up to there and the branch's turns from there on.

import { BRANCH_REASONS } from "./vocabulary.js";
import { el, fmtTime } from "./ui.js";

/** The turns shown when `branchId` (null: the current thread) is the chosen version. */
export function threadTurns(c, branchId) {
  const b = findBranch(c, branchId);
  return b ? [...c.turns.filter((t) => t.index < b.from_index), ...b.turns] : c.turns;
}

/** The branch with that id, or undefined (null and unknown ids: the current thread). */
export const findBranch = (c, branchId) => (c.branches || []).find((b) => b.id === branchId);

/** The versions of the turn at `index`: the branches starting there, then the current thread (null). */
function versionsAt(c, index) {
  return [...(c.branches || []).filter((b) => b.from_index === index).map((b) => b.id), null];
}

/** Puts a switcher above each turn of `div` (turnsSection's element) that has versions.
 * `choose(branchId)` shows another version; `remove(branch)` asks, then deletes a branch. */
export function addSwitchers(div, c, branchId, { choose, remove }) {
  const shown = findBranch(c, branchId);
  if (!shown) endMarks(div, c);
  for (const art of div.querySelectorAll(".turn")) {
    const index = Number(art.dataset.index);
    // Past a branch's start, the other branches leave the current thread, not this one.
    if (shown && index > shown.from_index) break;
    const versions = versionsAt(c, index);
    if (versions.length < 2) continue;
    const at = shown && index === shown.from_index ? versions.indexOf(shown.id) : versions.length - 1;
    art.before(switcher(c, versions, at, { choose, remove }));
  }
}

// A branch that goes on past the current thread's end (a tail an edit cut off) has no
// current turn to switch from: the current version's end stands in for it.
function endMarks(div, c) {
  const next = c.turns.length ? c.turns[c.turns.length - 1].index + 1 : 0;
  const starts = new Set((c.branches || []).map((b) => b.from_index).filter((i) => i >= next));
  for (const index of [...starts].sort((a, b) => a - b)) {
    const art = el("article", "turn version-end");
    art.dataset.index = index;
    art.append(el("p", "muted", "The current version ends here."));
    div.append(art);
  }
}

function switcher(c, versions, at, { choose, remove }) {
  const bar = el("div", "versions");
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", "Versions of this turn");
  const step = (delta, text, label) => {
    const b = el("button", "version-step", text);
    b.type = "button";
    b.setAttribute("aria-label", label);
    b.disabled = at + delta < 0 || at + delta >= versions.length;
    b.addEventListener("click", () => choose(versions[at + delta]));
    return b;
  };
  bar.append(step(-1, "‹", "Earlier version"), el("span", "version-count", `${at + 1} / ${versions.length}`),
    step(1, "›", "Later version"));
  const branch = findBranch(c, versions[at]);
  bar.append(el("span", "muted version-why", branch ? branchInWords(branch) : "current version"));
  if (branch) {
    const del = el("button", "danger version-delete", "Delete this version…");
    del.type = "button";
    del.addEventListener("click", () => remove(branch));
    bar.append(del);
  }
  return bar;
}

/** "earlier version, regenerated · 29 Nov 2026, 14:02" */
export function branchInWords(b) {
  const why = `earlier version, ${BRANCH_REASONS[b.reason] || b.reason}`;
  return b.replaced_at ? `${why} · ${fmtTime(b.replaced_at)}` : why;
}

/** What deleting a branch removes, for the question the page asks first. */
export function branchDeletion(b) {
  const last = b.turns.length ? b.turns[b.turns.length - 1].index + 1 : b.from_index + 1;
  const span = last - b.from_index > 1 ? `turns ${b.from_index + 1}–${last}` : `turn ${b.from_index + 1}`;
  return `This ${branchInWords(b)} (${span}) will be removed from the vault and the search index. ` +
    "The current thread stays. This cannot be undone.";
}
