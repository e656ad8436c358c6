// The words the history page shows for sites, resume targets and failure kinds.

export const SITES = { chatgpt: "ChatGPT", claude: "Claude", gemini: "Gemini" };
export const TARGETS = { chatgpt: "ChatGPT", claude: "Claude", gemini: "Gemini", copilot: "Copilot", generic: "Any assistant" };
export const FAILURES = {
  error_message: "ChatGPT showed an error",
  rate_limited: "Rate limited",
  capacity: "At capacity",
  http_error: "Server error",
  stream_incomplete: "Answer cut off",
  stalled: "Answer stalled",
  turns_vanished: "Turns vanished",
  blank_page: "Page went blank",
  offline: "Went offline",
  logged_out: "Logged out",
  tab_closed: "Tab closed mid-answer",
};
