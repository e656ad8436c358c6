// The page's keyboard: / search, j/k or arrows move, Enter opens, x selects for
// export, Esc goes back (the footer lists them).

import { currentRow, list, move, openRow, refresh, toggleSelected, updateCursor } from "./list.js";
import { closeConversation, openId } from "./reader.js";
import { $ } from "./ui.js";

// Keys typed into a text field (or a select) are the field's, not shortcuts.
function typing(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.tagName === "INPUT") return !/^(checkbox|radio|button|submit|reset|file|range|color)$/.test(target.type);
  return target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName);
}

// Arrow keys scroll the conversation when it has focus; j/k always move in the list.
const inReading = (e) => e.key.startsWith("Arrow") && e.target.closest?.("#conv-pane");

// In the search box: down goes to the list, Enter opens the highlighted row.
function onSearchKey(e, q) {
  if (e.key === "ArrowDown") {
    e.preventDefault();
    updateCursor(true);
  } else if (e.key === "Enter" && currentRow()) {
    e.preventDefault();
    openRow(currentRow());
  } else if (e.key === "Escape") {
    if (!q.value) q.blur();
  }
}

export function onKey(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || $("confirm-delete").open) return;
  const q = $("q");
  if (e.target === q) return onSearchKey(e, q);
  if (typing(e.target)) return;
  const row = currentRow();
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
        openRow(row);
      }
      break;
    case "x":
      if (row) toggleSelected(row.id, !list.selected.has(row.id));
      break;
    case "Escape":
      if (openId()) closeConversation();
      else if (q.value) {
        q.value = "";
        refresh();
      }
      break;
  }
}
