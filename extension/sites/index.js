// The site adapters (interface: sites/README.md).

import chatgpt from "./chatgpt.js";
import claude from "./claude.js";
import gemini from "./gemini.js";

export const ADAPTERS = [chatgpt, claude, gemini];

/** The adapter for a location's host, or null. */
export function adapterFor(loc) {
  return ADAPTERS.find((a) => a.hosts.includes(loc.hostname)) || null;
}
