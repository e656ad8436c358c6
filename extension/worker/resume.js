// The resume actions, run in the worker because they outlive the popup (it closes
// when a new tab takes the focus): open an assistant with the resume pack in its
// composer (never sent), put a lost draft back, copy the pack of the chat in a tab.
// `failures` (worker/failures.js) is told when an action resolved a failure.

import { api } from "../lib/api.js";
import { copyFromWorker } from "../lib/clipboard.js";
import { unsentDraft } from "../lib/drafts.js";
import { TARGETS } from "../lib/vocabulary.js";
import { MSG } from "../lib/messages.js";
import * as tabs from "../lib/tabs.js";

/** Opens the target assistant and puts the pack into its composer; when that site
 * is not permitted or has no composer, copies the pack instead. */
export async function resumeIn(failures, conversation, target, failureId) {
  const spec = TARGETS[target];
  if (!spec) throw new Error(`unknown target ${target}`);
  const pack = await api.resume(conversation, target);
  const permitted = spec.origin && (await chrome.permissions.contains({ origins: [spec.origin] }));
  let filled = false;
  if (permitted) {
    const tabId = await tabs.openTab(spec.url);
    filled = spec.contentScript
      ? await tabs.fillComposer(tabId, pack.text)
      : await tabs.fillByInjection(tabId, pack.text);
  }
  if (!filled) await copyFromWorker(pack.text);
  await failures.resolve(failureId);
  return { ok: true, filled, copied: !filled, target: spec.name };
}

/** Puts the unsent draft back into the chat's composer (its tab, or a new one);
 * copies it when there is no composer, and the failure stays open then. */
export async function restoreDraft(failures, conversation, failureId) {
  const detail = await api.conversation(conversation);
  const text = unsentDraft(detail);
  if (!text) return { ok: false, error: "No unsent draft was saved for this chat." };
  const url = detail.url || TARGETS[detail.site].url;
  const tabId = (await tabs.focusTabAt(url)) ?? (await tabs.openTab(url));
  const filled = await tabs.fillComposer(tabId, text);
  if (!filled) {
    await copyFromWorker(text);
    return { ok: true, filled: false, copied: true };
  }
  await failures.resolve(failureId);
  return { ok: true, filled: true };
}

/** Copies the resume pack of the chat a tab shows (the keyboard shortcut). */
export async function copyPackOfTab(tab, target = "generic") {
  const state = await chrome.tabs.sendMessage(tab.id, { type: MSG.TAB_STATE }).catch(() => null);
  if (!state) throw new Error("DraftVault does not capture this tab");
  // The service knows which conversation each page's frames went to.
  const [conversation] = state.page_id ? await api.conversations({ page_id: state.page_id }) : [];
  if (!conversation) throw new Error("this chat is not in the vault yet");
  const pack = await api.resume(conversation.id, target);
  await copyFromWorker(pack.text);
  return { ok: true, chars: pack.chars };
}
