// The unresolved failed sessions the worker knows (the badge counts them): loaded
// from the service on each connect, added when the service pushes one (with a
// desktop notification), dropped when a resume action resolves one.

import { api } from "../lib/api.js";
import { kindInWords } from "../lib/vocabulary.js";

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

  async resolve(failureId) {
    if (!failureId) return;
    await api.resolve(failureId, "resumed");
    this.items = this.items.filter((f) => f.id !== failureId);
    await this.onChange();
  }
}

/** The notification's id carries what its "Resume in ChatGPT" button needs. */
export function parseNotificationId(id) {
  const [kind, failure, conversation] = id.split(":");
  return kind === "failure" ? { failure, conversation } : null;
}

function notify(failure) {
  const where = failure.title ? `“${failure.title}”` : "A chat";
  const outage = failure.provider_outage ? " (outage confirmed by the provider)" : "";
  chrome.notifications.create(
    `failure:${failure.id}:${failure.conversation}`,
    {
      type: "basic",
      iconUrl: chrome.runtime.getURL("icons/icon128.png"),
      title: `${kindInWords(failure.kind, failure.site)}${outage}`,
      message: `${where} was saved by DraftVault. Resume it where you left off.`,
      buttons: [{ title: "Resume in ChatGPT" }],
      priority: 2,
    },
    () => void chrome.runtime.lastError
  );
}
