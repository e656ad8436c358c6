// The in-page DraftVault control, beside the site's own error notice (ChatGPT's
// error block with its Retry button, Claude's and Gemini's error toasts): the
// popup's actions for this chat (restore the draft, resume in a new chat, open in
// another assistant). Drawn in a closed shadow root, so the page's styles and
// scripts cannot reach inside; its markup is fixed (no captured text in it).
// signals.js says after each check which element shows an error (or null); the
// control follows that element and goes when the notice goes.
//
// Cost: while no error shows, `show(null)` is one comparison.

import { t } from "../lib/i18n.js";
import { TARGETS } from "../lib/vocabulary.js";
import { MSG } from "../lib/messages.js";

const TAG = "draftvault-control"; // a custom element name: attachShadow needs one (or a few plain tags)

const STYLE = `
:host { all: initial; display: block; margin: 6px 0; }
.box { font: 13px/1.4 system-ui, sans-serif; color: #1f1f1f; background: #f1f3f4; border: 1px solid #c4c7c5;
  border-radius: 10px; padding: 6px 8px; display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.label { font-weight: 600; }
button, select { font: inherit; color: inherit; background: #fff; border: 1px solid #c4c7c5; border-radius: 6px;
  padding: 2px 8px; cursor: pointer; }
button:disabled { opacity: .6; cursor: default; }
.said { flex-basis: 100%; color: #444; }
.said:empty { display: none; }
@media (prefers-color-scheme: dark) {
  .box { color: #e3e3e3; background: #2d2f31; border-color: #5f6368; }
  button, select { background: #1f1f1f; border-color: #5f6368; }
  .said { color: #c4c7c5; }
}`;

function el(doc, tag, props = {}, children = []) {
  const node = Object.assign(doc.createElement(tag), props);
  node.append(...children);
  return node;
}

/** The control for one page: show(element | null) places or removes it; stop() removes it. */
export function noticeControl({ doc, site, pageId }) {
  let anchor = null;
  let host = null;

  function build() {
    const box = el(doc, "div", { className: "box" });
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", t("extName"));
    const said = el(doc, "div", { className: "said" });
    said.setAttribute("role", "status");
    const others = Object.entries(TARGETS).filter(([key, spec]) => key !== site && spec.url);
    const select = el(doc, "select", {}, others.map(([key, spec]) => el(doc, "option", { value: key, textContent: spec.name })));
    select.setAttribute("aria-label", t("openTargetLabel"));
    const button = (name, text, extra) => {
      const b = el(doc, "button", { type: "button", textContent: text });
      b.dataset.action = name;
      b.addEventListener("click", () => act(box, said, name, extra && extra()));
      return b;
    };
    box.append(
      el(doc, "span", { className: "label", textContent: t("noticeSaved") }),
      button("restore", t("restoreDraft")),
      button("resume", t("resumeNewChat")),
      button("open", t("openIn"), () => select.value),
      select,
      said
    );
    const node = doc.createElement(TAG);
    const root = node.attachShadow({ mode: "closed" });
    root.append(el(doc, "style", { textContent: STYLE }), box);
    return node;
  }

  async function act(box, said, action, target) {
    const buttons = box.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    said.textContent = "…";
    try {
      const answer = await chrome.runtime.sendMessage({ type: MSG.PAGE_ACTION, page_id: pageId, action, target });
      if (!answer || !answer.ok) said.textContent = (answer && answer.error) || t("noticeNoAnswer");
      else if (!answer.filled) said.textContent = t("copiedPasteComposer");
      else said.textContent = action === "restore" ? t("draftRestored") : t("noticeResumed");
    } catch (err) {
      said.textContent = t("noticeNoAnswer");
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  function remove() {
    if (host) host.remove();
    host = anchor = null;
  }

  return {
    show(element) {
      if (element === anchor && (!element || host.isConnected)) return;
      remove();
      if (!element || !element.isConnected) return;
      anchor = element;
      host = build();
      element.after(host);
    },
    stop: remove,
  };
}
