// The pages open now, as the worker knows them from their frames: page_id ->
// {tabId, site, conversation_id, url}. The ping lists them, a need_full goes to
// their tab, and a page that went away without saying so gets a page_closed
// signal. Kept in chrome.storage.session so a restarted worker still knows them.

import { MSG } from "../lib/messages.js";

export class Pages {
  constructor() {
    this.pages = new Map();
  }

  async load() {
    const { openPages } = await chrome.storage.session.get("openPages");
    this.pages = new Map(Object.entries(openPages || {}));
  }

  ids() {
    return [...this.pages.keys()];
  }

  /** Notes the page a frame comes from (a page_closed frame forgets it). */
  track(frame, tabId) {
    const known = this.pages.get(frame.page_id);
    if (frame.type === "signal" && frame.kind === "page_closed") {
      if (!known) return;
      this.pages.delete(frame.page_id);
    } else if (tabId != null) {
      const { site, conversation_id, url } = frame;
      const page = { tabId, site, conversation_id, url };
      if (known && JSON.stringify(known) === JSON.stringify(page)) return; // most frames: nothing new
      this.pages.set(frame.page_id, page);
    } else {
      return;
    }
    chrome.storage.session.set({ openPages: Object.fromEntries(this.pages) });
  }

  /** The page_closed signal the page itself did not send (the detector judges
   * whether that lost an answer or a draft). */
  closedSignal(pageId) {
    const page = this.pages.get(pageId);
    return {
      type: "signal",
      page_id: pageId,
      conversation_id: page.conversation_id,
      site: page.site,
      url: page.url,
      kind: "page_closed",
      captured_at: Date.now(),
    };
  }

  inTab(tabId) {
    return this.ids().filter((pageId) => this.pages.get(pageId).tabId === tabId);
  }

  /** Pages whose tab is gone, or whose tab now shows another page (a reload whose
   * pagehide never reached the worker). A tab that does not answer is left alone:
   * it may just be busy. */
  async gone() {
    const gone = [];
    for (const tabId of new Set([...this.pages.values()].map((p) => p.tabId))) {
      let current = null;
      const tab = await chrome.tabs.get(tabId).catch(() => null);
      if (tab) {
        const state = await chrome.tabs.sendMessage(tabId, { type: MSG.TAB_STATE }).catch(() => null);
        if (!state || !state.page_id) continue;
        current = state.page_id;
      }
      gone.push(...this.inTab(tabId).filter((pageId) => pageId !== current));
    }
    return gone;
  }

  /** need_full: the service lacks the turns a delta builds on; the page resends all. */
  askFull(pageId) {
    const page = this.pages.get(pageId);
    if (!page) return;
    chrome.tabs.sendMessage(page.tabId, { type: MSG.RESEND_FULL, page_id: pageId }).catch(() => {});
  }
}
