// Translations are one file: every word the extension shows comes from
// extension/_locales/en/messages.json. Reads the extension's pages (parse5) and
// scripts (acorn): no words left in them, every key used exists, every message is
// used, and each use passes as many values as the message has placeholders.
// Run by scripts/test (node --test tests/node/).

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { parse as parseScript } from "acorn";
import { parse as parseHtml } from "parse5";

const EXT = fileURLToPath(new URL("../../extension/", import.meta.url));
const read = (path) => readFileSync(join(EXT, path), "utf8");
const MESSAGES = JSON.parse(read("_locales/en/messages.json"));
const MANIFEST = JSON.parse(read("manifest.json"));
// vocab_*: written by scripts/gen-schema from vocabulary.py, looked up by the generated
// lib/vocabulary.js (tests/test_vocabulary.py and the schema check cover them).
const GENERATED = "vocab_";

const FILES = readdirSync(EXT, { recursive: true, withFileTypes: true })
  .filter((d) => d.isFile())
  .map((d) => relative(EXT, join(d.parentPath ?? d.path, d.name)));
const SCRIPTS = FILES.filter((p) => p.endsWith(".js") && p !== "lib/vocabulary.js");
// The pages a person sees (offscreen/ is a hidden document that only copies).
const PAGES = FILES.filter((p) => p.endsWith(".html") && !p.startsWith("offscreen/"));
// Scripts that may say something to a person. The content scripts show nothing but
// the in-page control; the rest read the sites' own words and markup, and the
// generated vocabulary carries its English for where there is no chrome.i18n.
const SAYS = SCRIPTS.filter((p) => !/^(sites|content)\//.test(p) || p === "content/notice-control.js");

// Strings in those scripts that look like words but are for machines, not people.
const TECHNICAL = new Set([
  "Content-Type", // HTTP header names (lib/api.js)
  "Bearer {}",
  "Only a single offscreen", // the start of Chrome's own error, matched (lib/clipboard.js)
  "outbox transaction aborted", // IndexedDB failed: the frame's sender retries, nobody reads it
]);

/** Message placeholders count: $1..$n their contents name. */
function placeholderCount(key) {
  const contents = Object.values(MESSAGES[key].placeholders || {}).map((p) => p.content);
  return Math.max(0, ...contents.flatMap((c) => [...c.matchAll(/\$([1-9])/g)].map((m) => Number(m[1]))));
}

function parse(code) {
  try {
    return parseScript(code, { ecmaVersion: "latest", sourceType: "module", locations: true });
  } catch (err) {
    return parseScript(code, { ecmaVersion: "latest", sourceType: "script", locations: true }); // the classic content scripts
  }
}

// Every node with its parent chain.
function* walk(node, parents = []) {
  if (!node || typeof node.type !== "string") return;
  yield [node, parents];
  for (const [field, value] of Object.entries(node)) {
    if (field === "type") continue;
    for (const child of Array.isArray(value) ? value : [value]) {
      if (child && typeof child === "object") yield* walk(child, [node, ...parents]);
    }
  }
}

const isConsoleCall = (n) => n.type === "CallExpression" && n.callee.type === "MemberExpression" && n.callee.object.name === "console";
const isTCall = (n) => n.type === "CallExpression" && n.callee.type === "Identifier" && n.callee.name === "t";
const isGetMessage = (n) => n.type === "CallExpression" && n.callee.property?.name === "getMessage";
// Words: two words in a row, or a capitalised word ("Connected").
const isWords = (text) => /(?<![\p{L}\p{N}_$.-])\p{L}{2,}[ \u00a0]+\p{L}{2,}/u.test(text) || /^\s*\p{Lu}\p{Ll}+\b/u.test(text);

/** A script's message keys ([key, values passed]), the keys it does not spell out, and its words. */
function readScript(code, { isHelper = false } = {}) {
  const out = { keys: [], errors: [], words: [], technical: [] };
  for (const [node, parents] of walk(parse(code))) {
    if (isTCall(node) || isGetMessage(node)) {
      const [key, ...subs] = node.arguments;
      const line = node.loc.start.line;
      if (key?.type === "Literal" && typeof key.value === "string") out.keys.push([key.value, subs.length]);
      else if (!isHelper) out.errors.push(`line ${line}: a message key that is not a literal string`);
      if (isGetMessage(node) && !isHelper) out.errors.push(`line ${line}: chrome.i18n.getMessage outside lib/i18n.js (use t)`);
    }
    let text = null;
    if (node.type === "Literal" && typeof node.value === "string") text = node.value;
    if (node.type === "TemplateLiteral") text = node.quasis.map((q) => q.value.cooked).join("{}");
    if (text === null) continue;
    if (TECHNICAL.has(text)) {
      out.technical.push(text);
      continue;
    }
    const [parent] = parents;
    const isKey = parent && parent.type === "Property" && parent.key === node && !parent.computed;
    const isModule = parent && /Import|Export/.test(parent.type);
    if (isKey || isModule || parents.some(isConsoleCall)) continue;
    if (isWords(text)) out.words.push(text);
  }
  return out;
}

const SCRIPT_USES = Object.fromEntries(SCRIPTS.map((p) => [p, readScript(read(p), { isHelper: p === "lib/i18n.js" })]));

// ---- the pages -----------------------------------------------------------------------

const SHOWN_ATTRIBUTES = ["title", "alt", "aria-label", "placeholder"];
const isUrl = (text) => /^[a-z-]+:\/\/\S*$/.test(text.trim());

function* elements(node, parents = []) {
  for (const child of node.childNodes || []) {
    yield [child, parents];
    yield* elements(child, [child, ...parents]);
  }
  if (node.content) yield* elements(node.content, parents); // <template>
}

/** A page's message keys ([key, element children]) and its words. */
function readPage(html) {
  const out = { keys: [], words: [] };
  for (const [node, parents] of elements(parseHtml(html))) {
    if (node.nodeName === "#text") {
      // Commands and code stay as they are in every language.
      if (/\p{L}/u.test(node.value) && !parents.some((p) => p.nodeName === "code")) out.words.push(node.value.trim());
      continue;
    }
    for (const { name, value } of node.attrs || []) {
      if (name === "data-i18n") out.keys.push([value, (node.childNodes || []).filter((c) => c.tagName).length]);
      else if (name.startsWith("data-i18n-")) out.keys.push([value, 0]);
      else if (SHOWN_ATTRIBUTES.includes(name) && /\p{L}/u.test(value) && !isUrl(value)) out.words.push(`${name}="${value}"`);
    }
  }
  return out;
}

const PAGE_USES = Object.fromEntries(PAGES.map((p) => [p, readPage(read(p))]));
const MANIFEST_KEYS = [...JSON.stringify(MANIFEST).matchAll(/__MSG_(\w+)__/g)].map((m) => m[1]);

// ---- the tests ----------------------------------------------------------------------

test("the manifest names its words through messages.json", () => {
  assert.equal(MANIFEST.default_locale, "en");
  for (const text of [MANIFEST.name, MANIFEST.description, MANIFEST.action.default_title,
    ...Object.values(MANIFEST.commands).map((c) => c.description)]) {
    assert.match(text, /^__MSG_\w+__$/);
  }
  assert.ok(MESSAGES.extDescription.message.length <= 132, "Chrome's limit for the description");
});

test("no words are left in the pages: data-i18n fills them", () => {
  assert.deepEqual(PAGES.sort(), ["options/options.html", "popup/popup.html"]);
  const spelt = Object.fromEntries(Object.entries(PAGE_USES).map(([p, u]) => [p, u.words]).filter(([, words]) => words.length));
  assert.deepEqual(spelt, {}, "pages that spell words");
});

test("no words are left in the scripts that show things: t() says them", () => {
  assert.ok(SAYS.includes("popup/popup.js") && SAYS.includes("background.js") && SAYS.includes("lib/badge.js"));
  const spelt = Object.fromEntries(SAYS.map((p) => [p, SCRIPT_USES[p].words]).filter(([, words]) => words.length));
  assert.deepEqual(spelt, {}, "scripts that spell words");
  // ...and each exception still has its use (a stale one would let its words through)
  const technical = new Set(SAYS.flatMap((p) => SCRIPT_USES[p].technical));
  assert.deepEqual([...TECHNICAL].filter((text) => !technical.has(text)), []);
});

test("the checks see words: a page's text and labels, a script's notification and messages", () => {
  const page = readPage('<h2>Failed <span id="n"></span></h2><input placeholder="ABC-123" data-i18n-title="tip">' +
    '<p data-i18n="hint"><code>draftvault pair</code></p><input placeholder="http://127.0.0.1:8737">');
  assert.deepEqual(page.words, ["Failed", 'placeholder="ABC-123"']);
  assert.deepEqual(page.keys, [["tip", 0], ["hint", 1]]);
  const script = readScript('chrome.notifications.create({title: `${kind} (outage)`, message: "Session failed"});' +
    'say("Connected"); el.className = `dot ${state}`; q(".failure .title"); s.border = "1px solid";' +
    'console.warn("DraftVault failed to", x); say(t("paired", name)); say(t(key));');
  assert.deepEqual(script.words, ["Session failed", "Connected"]);
  assert.deepEqual(script.keys, [["paired", 1]]);
  assert.equal(script.errors.length, 1);
});

test("every key the extension uses is in messages.json, with as many values as placeholders", () => {
  const problems = [];
  for (const [path, { keys, errors }] of Object.entries(SCRIPT_USES)) {
    problems.push(...errors.map((e) => `${path}: ${e}`));
    for (const [key, subs] of keys) {
      if (!Object.hasOwn(MESSAGES, key)) problems.push(`${path}: t("${key}") is not in messages.json`);
      else if (subs !== placeholderCount(key)) problems.push(`${path}: t("${key}") passes ${subs} values for ${placeholderCount(key)} placeholders`);
    }
  }
  for (const [path, { keys }] of Object.entries(PAGE_USES)) {
    for (const [key, children] of keys) {
      if (!Object.hasOwn(MESSAGES, key)) problems.push(`${path}: data-i18n "${key}" is not in messages.json`);
      else if (children !== placeholderCount(key)) problems.push(`${path}: "${key}" has ${children} element children for ${placeholderCount(key)} placeholders`);
    }
  }
  problems.push(...MANIFEST_KEYS.filter((k) => !Object.hasOwn(MESSAGES, k)).map((k) => `manifest.json: __MSG_${k}__ is not in messages.json`));
  assert.deepEqual(problems, []);
});

test("every message is used", () => {
  const used = new Set([
    ...Object.values(SCRIPT_USES).flatMap((u) => u.keys.map(([k]) => k)),
    ...Object.values(PAGE_USES).flatMap((u) => u.keys.map(([k]) => k)),
    ...MANIFEST_KEYS,
  ]);
  const unused = Object.keys(MESSAGES).filter((k) => !k.startsWith(GENERATED) && !used.has(k));
  assert.deepEqual(unused, []);
});

test("each message is well formed: its $placeholders$ are defined and filled by $1..$n", () => {
  for (const [key, { message, placeholders = {} }] of Object.entries(MESSAGES)) {
    assert.match(key, /^\w+$/, key);
    assert.equal(typeof message, "string", key);
    const named = new Set(Object.keys(placeholders).map((n) => n.toLowerCase()));
    const referenced = new Set([...message.matchAll(/\$(\w+)\$/g)].map((m) => m[1].toLowerCase()));
    assert.deepEqual([...referenced].sort(), [...named].sort(), key);
    const contents = Object.values(placeholders).map((p) => p.content).sort();
    assert.deepEqual(contents, contents.map((_, i) => `$${i + 1}`), key);
  }
});

test("the vocabulary's words are messages too: every site, target and failure kind", async () => {
  const v = await import("../../extension/lib/vocabulary.js");
  const keys = [
    ...Object.keys(v.SITES).map((k) => `vocab_site_${k}`),
    "vocab_site_unknown",
    ...Object.keys(v.TARGETS).map((k) => `vocab_target_${k}`),
    ...Object.keys(v.FAILURE_WORDS).map((k) => `vocab_failure_${k}`),
  ];
  assert.deepEqual(keys.filter((k) => !Object.hasOwn(MESSAGES, k)), []);
  assert.deepEqual(Object.keys(MESSAGES).filter((k) => k.startsWith(GENERATED)).sort(), keys.sort());
});
