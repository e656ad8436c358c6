// What went wrong, in words: one phrase per protocol.FailureKind.

export const KIND_WORDS = Object.freeze({
  error_message: "The chat showed an error",
  rate_limited: "Rate or usage limit reached",
  capacity: "The service was at capacity",
  http_error: "The server failed to answer",
  stream_incomplete: "The answer was cut off",
  stalled: "The answer stopped half-way",
  turns_vanished: "Messages disappeared from the chat",
  blank_page: "The page went blank",
  offline: "The network went away",
  logged_out: "You were logged out",
  tab_closed: "The tab closed mid-answer or with an unsent draft",
});

export function kindInWords(kind) {
  return KIND_WORDS[kind] || kind;
}

// Where each resume target opens, and its name in the UI.
export const TARGETS = Object.freeze({
  chatgpt: { name: "ChatGPT", url: "https://chatgpt.com/", origin: "https://chatgpt.com/*", contentScript: true },
  claude: { name: "Claude", url: "https://claude.ai/new", origin: "https://claude.ai/*", contentScript: true },
  gemini: { name: "Gemini", url: "https://gemini.google.com/app", origin: "https://gemini.google.com/*", contentScript: true },
  copilot: { name: "Copilot", url: "https://copilot.microsoft.com/", origin: "https://copilot.microsoft.com/*", contentScript: false },
  generic: { name: "any assistant", url: null, origin: null, contentScript: false },
});
