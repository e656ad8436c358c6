// The resume actions, run in the worker because they outlive the popup (it closes
// when a new tab takes the focus): open an assistant with the resume pack in its
// composer (never sent), put a lost draft back, send a lost prompt again once the
// site is back (into the composer: the person presses Send), the in-page control's
// actions, copy the pack of the chat in a tab.
// `failures` (worker/failures.js) is told when an action resolved a failure.

import { api } from "../lib/api.js";
import { copyFromWorker } from "../lib/clipboard.js";
import { lostPrompt, unsentDraft } from "../lib/drafts.js";
import { t } from "../lib/i18n.js";
import { TARGETS } from "../lib/vocabulary.js";
import { MSG } from "../lib/messages.js";
import * as tabs from "../lib/tabs.js";

/** Opens the target assistant and puts the pack into its composer; when that site
 * is not permitted or has no composer, copies the pack instead. */
export async function resumeIn(failures, conversation, target, failureId, options = {}) {
  const spec = TARGETS[target];
  if (!spec) throw new Error(t("unknownTarget", target));
  const pack = await api.resume(conversation, target, options);
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
  if (!text) return { ok: false, error: t("noDraftSaved") };
  return fillChat(failures, failureId, detail.url || TARGETS[detail.site].url, text);
}

/** "Send again": the lost prompt (lib/drafts.js lostPrompt) into the same chat's
 * composer; when the chat is gone (it never got an address of its own), a new chat
 * of its site with the resume pack, which ends with that prompt. Never sends. */
export async function sendAgain(failures, conversation, failureId) {
  const detail = await api.conversation(conversation);
  const failure = failures.items.find((f) => f.id === failureId);
  const prompt = lostPrompt(detail, failure ? failure.kind : null);
  if (!prompt) return { ok: false, error: t("noPromptSaved") };
  const gone = !detail.conversation_id || !detail.url;
  if (!gone) {
    return { ...(await fillChat(failures, failureId, detail.url, prompt.text)), newChat: false, files: prompt.files ?? 0 };
  }
  const pack = await api.resume(conversation, detail.site);
  return { ...(await fillChat(failures, failureId, TARGETS[detail.site].url, pack.text, false)), newChat: true };
}

// `text` into the composer of the chat at `url` (its open tab when `reuse`, else a
// new tab); copied when there is no composer, and the failure stays open then.
async function fillChat(failures, failureId, url, text, reuse = true) {
  const tabId = (reuse ? await tabs.focusTabAt(url) : null) ?? (await tabs.openTab(url));
  if (!(await tabs.fillComposer(tabId, text))) {
    await copyFromWorker(text);
    return { ok: true, filled: false, copied: true };
  }
  await failures.resolve(failureId);
  return { ok: true, filled: true };
}

/** The in-page control's buttons (content/notice-control.js), for the chat of the
 * page that shows the error: its newest open failure is the one they resolve. */
export async function pageAction(failures, { page_id, action, target }) {
  const [conversation] = page_id ? await api.conversations({ page_id }) : [];
  if (!conversation) return { ok: false, error: t("chatNotSaved") };
  const failure = failures.items.filter((f) => f.conversation === conversation.id).at(-1);
  const failureId = failure ? failure.id : null;
  if (action === "restore") return restoreDraft(failures, conversation.id, failureId);
  if (action === "resume") return resumeIn(failures, conversation.id, conversation.site, failureId);
  if (action === "open" && TARGETS[target]) return resumeIn(failures, conversation.id, target, failureId);
  return { ok: false, error: t("unknownAction", action) };
}

/** Copies the resume pack of the chat a tab shows (the keyboard shortcut). */
export async function copyPackOfTab(tab, target = "generic") {
  const state = await chrome.tabs.sendMessage(tab.id, { type: MSG.TAB_STATE }).catch(() => null);
  if (!state) throw new Error(t("tabNotCaptured"));
  // The service knows which conversation each page's frames went to.
  const [conversation] = state.page_id ? await api.conversations({ page_id: state.page_id }) : [];
  if (!conversation) throw new Error(t("chatNotInVault"));
  const pack = await api.resume(conversation.id, target);
  await copyFromWorker(pack.text);
  return { ok: true, chars: pack.chars };
}
