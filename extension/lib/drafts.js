// The draft the user lost: the current one, or, when a reloaded page has since
// reported an empty composer, the newest saved version, unless it was sent.
export function unsentDraft(detail) {
  if (detail.draft && detail.draft.text) return detail.draft.text;
  const sent = new Set(detail.turns.filter((t) => t.role === "user").map((t) => t.text.trim()));
  const newest = (detail.drafts || []).find((d) => d.text);
  return newest && !sent.has(newest.text.trim()) ? newest.text : null;
}
