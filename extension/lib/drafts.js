// What a failure lost: the unsent draft, or the prompt that got no answer.

// The draft the user lost: the current one, or, when a reloaded page has since
// reported an empty composer, the newest saved version, unless it was sent.
export function unsentDraft(detail) {
  if (detail.draft && detail.draft.text) return detail.draft.text;
  const sent = new Set(detail.turns.filter((t) => t.role === "user").map((t) => t.text.trim()));
  const newest = (detail.drafts || []).find((d) => d.text);
  return newest && !sent.has(newest.text.trim()) ? newest.text : null;
}

// Failures that cut an answer short: the question before it got no whole answer.
const ANSWER_CUT = new Set(["stream_incomplete", "stalled", "http_error"]);

/** The prompt "Send again" puts back, {text, source: "turn" | "draft", files?}, or null.
 * The last user turn when nothing answered it: no turn with text follows it (an
 * error in place of the answer), or the failure cut the answer after it short; its
 * text as shown beside its files (no `[Image: …]` placeholders), and `files`, how many
 * images and files it showed: those the person attaches again. Otherwise the unsent
 * draft (a tab closed, the network lost, a limit hit before sending). */
export function lostPrompt(detail, kind) {
  const turns = detail.turns;
  const at = turns.findLastIndex((t) => t.role === "user");
  const answered = turns.slice(at + 1).some((t) => t.text.trim());
  const text = at >= 0 ? (turns[at].shown_text ?? turns[at].text) : "";
  if (text.trim() && (!answered || ANSWER_CUT.has(kind))) {
    const files = (turns[at].attachments || []).length;
    return files ? { text, source: "turn", files } : { text, source: "turn" };
  }
  const draft = unsentDraft(detail);
  return draft ? { text: draft, source: "draft" } : null;
}
