// chrome.i18n under Node, from extension/_locales/en/messages.json, filling messages as
// the browsers do ($name$ placeholders -> their content; $1..$9 -> the substitutions;
// $$ -> $), so the modules that say things (lib/badge.js, popup/notices.js) run in
// unit tests with their English. Importing this module installs it.

import { readFileSync } from "node:fs";

export const MESSAGES = JSON.parse(readFileSync(new URL("../../extension/_locales/en/messages.json", import.meta.url), "utf8"));

export function getMessage(key, substitutions = []) {
  const entry = Object.entries(MESSAGES).find(([name]) => name.toLowerCase() === key.toLowerCase());
  if (!entry) return "";
  const { message, placeholders = {} } = entry[1];
  const content = Object.fromEntries(Object.entries(placeholders).map(([name, p]) => [name.toLowerCase(), p.content]));
  const subs = [].concat(substitutions).map(String);
  return message
    .replace(/\$([\w@]+)\$/g, (whole, name) => content[name.toLowerCase()] ?? whole)
    .replace(/\$(\$|[1-9])/g, (_, what) => (what === "$" ? "$" : subs[Number(what) - 1] ?? ""));
}

globalThis.chrome = { ...globalThis.chrome, i18n: { getMessage, getUILanguage: () => "en" } };
