// lib/drafts.js under Node: which prompt "Send again" puts back after a failure.
// Run by scripts/test (node --test tests/node/).

import assert from "node:assert/strict";
import { test } from "node:test";

import { lostPrompt } from "../../extension/lib/drafts.js";

const turn = (role, text) => ({ role, text });
const detail = (turns, draft = null, drafts = []) => ({ turns, draft: draft && { text: draft }, drafts });
const ASKED = [turn("user", "Sort a list?"), turn("assistant", "Use sorted()."), turn("user", "Descending?")];
const CUT = [...ASKED, turn("assistant", "Pass reverse=")];
const ANSWERED = [...ASKED, turn("assistant", "Pass reverse=True.")];

test("the chat ends on the user's turn: that prompt got no answer", () => {
  assert.deepEqual(lostPrompt(detail(ASKED), "error_message"), { text: "Descending?", source: "turn" });
  // ...even when a new draft was started since: the unanswered prompt comes first
  assert.deepEqual(lostPrompt(detail(ASKED, "hello?"), "http_error"), { text: "Descending?", source: "turn" });
  // the answer's place is there but empty: the error came instead of it
  const empty = [...ASKED, turn("assistant", "")];
  assert.deepEqual(lostPrompt(detail(empty), "error_message"), { text: "Descending?", source: "turn" });
});

test("an answer cut short: the prompt before it goes again", () => {
  for (const kind of ["stream_incomplete", "stalled", "http_error"]) {
    assert.deepEqual(lostPrompt(detail(CUT), kind), { text: "Descending?", source: "turn" });
  }
});

test("after a whole answer the lost prompt is the unsent draft", () => {
  assert.deepEqual(lostPrompt(detail(ANSWERED, "And stable?"), "tab_closed"), { text: "And stable?", source: "draft" });
  assert.deepEqual(lostPrompt(detail(ANSWERED, "", [{ text: "And stable?" }]), "rate_limited"), {
    text: "And stable?",
    source: "draft",
  });
  // an error shown after a whole answer, with nothing typed: nothing to send again
  assert.equal(lostPrompt(detail(ANSWERED), "error_message"), null);
  assert.equal(lostPrompt(detail(ANSWERED, "", [{ text: "Descending?" }]), "offline"), null); // that draft was sent
});

test("a lost prompt with an image goes back as shown, without the placeholder, and counts its files", () => {
  const asked = [...ASKED.slice(0, 2), {
    role: "user",
    text: "[Image: a chart of sales]\n\nWhat does this chart show?",
    shown_text: "What does this chart show?",
    attachments: [{ id: "a1", name: "chart.png", type: "image/png", bytes: 1215, alt: "a chart of sales" }],
  }];
  assert.deepEqual(lostPrompt(detail(asked), "error_message"),
                   { text: "What does this chart show?", source: "turn", files: 1 });
  // an image alone is nothing to type again: the unsent draft, if any, instead
  const alone = [...ASKED.slice(0, 2), { ...asked[2], text: "[Image: a chart of sales]", shown_text: "" }];
  assert.equal(lostPrompt(detail(alone), "error_message"), null);
  assert.deepEqual(lostPrompt(detail(alone, "Explain it"), "error_message"), { text: "Explain it", source: "draft" });
});
