// The unresolved failed sessions the worker knows (the badge counts them): loaded
// from the service on each connect, added when the service pushes one (with a
// desktop notification), marked when their site answers again (a notification
// offering "Send again"), dropped when a resume action resolves one.

import { api } from "../lib/api.js";
import { lostPrompt } from "../lib/drafts.js";
import { t } from "../lib/i18n.js";
import { kindInWords, siteName } from "../lib/vocabulary.js";

const MAX_RECOVERED_NOTES = 3; // a long outage may leave many chats; the popup lists them all

export class Failures {
  /** onChange(): the count changed (the badge shows it). */
  constructor(onChange) {
    this.items = []; // FailureOut from the API, or pushed failure frames
    this.onChange = onChange;
  }

  get count() {
    return this.items.length;
  }

  clear() {
    this.items = [];
  }

  async load() {
    try {
      this.items = await api.failures();
    } catch (err) {
      return; // the service is away: the pushed frames and the next connect fill it in
    }
    await this.onChange();
  }

  /** A failure the service pushed: red badge and a desktop notification. */
  add(failure) {
    if (this.items.some((f) => f.id === failure.id)) return;
    this.items = [...this.items, failure];
    this.onChange();
    notify(failure);
  }

  /** The service's `recovered` frame: the site answers again. */
  async recovered(frame) {
    const ids = new Set(frame.failures);
    this.items = this.items.map((f) => (ids.has(f.id) ? { ...f, recovered_at: frame.recovered_at } : f));
    const back = this.items.filter((f) => ids.has(f.id)).slice(-MAX_RECOVERED_NOTES);
    for (const failure of back) {
      const detail = await api.conversation(failure.conversation).catch(() => null);
      const prompt = detail && lostPrompt(detail, failure.kind);
      if (prompt) notifyRecovered(failure, detail, prompt);
    }
  }

  async resolve(failureId) {
    if (!failureId) return;
    await api.resolve(failureId, "resumed");
    this.items = this.items.filter((f) => f.id !== failureId);
    await this.onChange();
  }
}

/** The notification's id carries what its button ("Resume in ChatGPT", "Send again")
 * needs: {kind: "failure" | "recovered", failure, conversation}. */
export function parseNotificationId(id) {
  const [kind, failure, conversation] = id.split(":");
  return kind === "failure" || kind === "recovered" ? { kind, failure, conversation } : null;
}

function notifyRecovered(failure, detail, prompt) {
  const where = detail.title ? t("quotedTitle", detail.title) : t("yourChat");
  chrome.notifications.create(
    `recovered:${failure.id}:${failure.conversation}`,
    {
      type: "basic",
      iconUrl: chrome.runtime.getURL("icons/icon128.png"),
      title: t("siteAnswersAgain", siteName(detail.site)),
      message: prompt.source === "draft" ? t("recoveredDraft", where) : t("recoveredPrompt", where),
      buttons: [{ title: t("sendAgain") }],
      priority: 1,
    },
    () => void chrome.runtime.lastError
  );
}

function notify(failure) {
  const where = failure.title ? t("quotedTitle", failure.title) : t("aChat");
  const kind = kindInWords(failure.kind, failure.site);
  chrome.notifications.create(
    `failure:${failure.id}:${failure.conversation}`,
    {
      type: "basic",
      iconUrl: chrome.runtime.getURL("icons/icon128.png"),
      title: failure.provider_outage ? t("kindWithOutageNote", kind) : kind,
      message: t("failureSaved", where),
      buttons: [{ title: t("resumeInChatGPT") }],
      priority: 2,
    },
    () => void chrome.runtime.lastError
  );
}
