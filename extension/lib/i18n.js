// The words the extension shows, from _locales/<language>/messages.json through
// chrome.i18n (the browser picks the language; a message a translation lacks comes
// from _locales/en, the default_locale). `t` is for scripts; `localize` fills the
// HTML pages' data-i18n attributes. How to add a language: README "Translations".

/** The message `key`, its placeholders filled in order ($1, $2, ...). Keys are
 * literal strings, so tests/node/i18n.test.mjs can check each exists. */
export function t(key, ...subs) {
  return chrome.i18n.getMessage(key, subs.map(String));
}

const ATTRIBUTES = ["title", "placeholder", "aria-label", "alt"];
const MARK = "\u0001"; // stands for an element child inside a message while it is split

// data-i18n="key": the element's text. When the element has element children
// (<code>draftvault pair</code>), they fill the message's placeholders in order and
// keep their own text. data-i18n-title="key" (and -placeholder, -aria-label, -alt):
// that attribute.
function fill(el) {
  const children = [...el.children];
  if (!children.length) {
    el.textContent = t(el.dataset.i18n);
    return;
  }
  const parts = t(el.dataset.i18n, ...children.map((_, i) => `${MARK}${i}${MARK}`)).split(MARK);
  el.replaceChildren(...parts.map((part, i) => (i % 2 ? children[Number(part)] : part)));
}

/** Fills every data-i18n* attribute under `root`, templates' contents included. */
export function localize(root = document) {
  root.querySelectorAll("[data-i18n]").forEach(fill);
  for (const name of ATTRIBUTES) {
    root.querySelectorAll(`[data-i18n-${name}]`).forEach((el) => el.setAttribute(name, t(el.getAttribute(`data-i18n-${name}`))));
  }
  root.querySelectorAll("template").forEach((template) => localize(template.content));
  if (root === document) document.documentElement.lang = t("language");
}
