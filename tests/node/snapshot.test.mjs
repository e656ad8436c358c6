// content/snapshot.js under Node (no browser): the turn diff, when a snapshot is
// due, and the frames that carry it. Run by scripts/test (node --test tests/node/).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  FRAME_TEXT_BUDGET,
  firstDifference,
  NOTHING_SENT,
  noticeOnly,
  planSnapshot,
  sameChatGotItsId,
  readLoss,
  signalFrame,
  snapshotFrames,
} from "../../extension/content/snapshot.js";

const turn = (role, text) => ({ role, text });
const CHAT = [turn("user", "Sort a list?"), turn("assistant", "Use sorted()."), turn("user", "Descending?")];

// What the page shows: its turns, the first that may have changed, and the rest.
function shown(turns, overrides = {}) {
  const reads = [];
  return {
    count: turns.length,
    from: 0,
    read: (i) => (reads.push(i), turns[i]),
    reads,
    expected: true,
    acted: false,
    draft: null,
    streaming: false,
    title: "Sorting",
    model: null,
    ...overrides,
  };
}

// The vault's state after the first, full snapshot of `turns`.
const held = (turns, extra = {}) => planSnapshot(NOTHING_SENT, shown(turns, extra), true).next;

describe("planSnapshot", () => {
  test("a chat's first snapshot sends every turn", () => {
    const plan = planSnapshot(NOTHING_SENT, shown(CHAT), true);
    assert.equal(plan.send, true);
    assert.equal(plan.snapshot.turnsFrom, 0);
    assert.equal(plan.snapshot.turnCount, 3);
    assert.deepEqual(plan.snapshot.turns.map((t) => [t.index, t.role, t.text]), CHAT.map((t, i) => [i, t.role, t.text]));
    assert.deepEqual(plan.next.turns, CHAT);
  });

  test("a keystroke sends the draft and no turns, without reading a turn", () => {
    const page = shown(CHAT, { from: Infinity, draft: "And in place" });
    const plan = planSnapshot(held(CHAT), page, false);
    assert.equal(plan.send, true);
    assert.deepEqual(plan.snapshot.turns, []);
    assert.equal(plan.snapshot.turnsFrom, 3);
    assert.equal(plan.snapshot.turnCount, 3);
    assert.equal(plan.snapshot.draft, "And in place");
    assert.deepEqual(page.reads, []);
  });

  test("nothing new sends nothing", () => {
    assert.equal(planSnapshot(held(CHAT), shown(CHAT, { from: Infinity }), false).send, false);
    // a turn read again with the same text is no change either
    const page = shown(CHAT, { from: 2 });
    assert.equal(planSnapshot(held(CHAT), page, false).send, false);
    assert.deepEqual(page.reads, [2]);
  });

  test("a growing answer sends that turn alone, reading only from the first changed turn", () => {
    const before = [...CHAT, turn("assistant", "Use")];
    const after = [...CHAT, turn("assistant", "Use reverse=True.")];
    const page = shown(after, { from: 3, streaming: true });
    const plan = planSnapshot(held(before), page, false);
    assert.equal(plan.send, true);
    assert.equal(plan.snapshot.turnsFrom, 3);
    assert.deepEqual(plan.snapshot.turns, [{ index: 3, role: "assistant", text: "Use reverse=True." }]);
    assert.equal(plan.snapshot.streaming, true);
    assert.deepEqual(page.reads, [3]);
  });

  test("a canvas edited in place or thinking shown sends the turn with its parts", () => {
    const doc = (text) => ({ title: "Plan", kind: "document", text });
    const before = [...CHAT, { ...turn("assistant", "Here it is."), documents: [doc("v1")] }];
    const edited = [...CHAT, { ...turn("assistant", "Here it is."), documents: [doc("v2")] }];
    const plan = planSnapshot(held(before), shown(edited, { from: 3 }), false);
    assert.equal(plan.send, true);
    assert.deepEqual(plan.snapshot.turns, [{ index: 3, role: "assistant", text: "Here it is.", documents: [doc("v2")] }]);
    const thought = [...CHAT, { ...turn("assistant", "Here it is."), documents: [doc("v2")], thinking: "Weighed it" }];
    assert.equal(planSnapshot(held(edited), shown(thought, { from: 3 }), false).snapshot.turns[0].thinking, "Weighed it");
    assert.equal(planSnapshot(held(thought), shown(thought, { from: 3 }), false).send, false); // same parts: nothing new
  });

  test("an edited turn sends it and every turn after it", () => {
    const edited = [CHAT[0], turn("assistant", "Use list.sort()."), CHAT[2]];
    const plan = planSnapshot(held(CHAT), shown(edited, { from: 1 }), false);
    assert.equal(plan.snapshot.turnsFrom, 1);
    assert.deepEqual(plan.snapshot.turns.map((t) => t.index), [1, 2]);
  });

  test("turns cut by the user (an edit, a regeneration) shorten the chat", () => {
    const plan = planSnapshot(held(CHAT), shown(CHAT.slice(0, 1), { from: 1, acted: true }), false);
    assert.equal(plan.send, true);
    assert.equal(plan.snapshot.turnsFrom, 1);
    assert.equal(plan.snapshot.turnCount, 1);
    assert.deepEqual(plan.snapshot.turns, []);
  });

  test("turns that vanish on their own never wipe the vault's copy", () => {
    const last = held(CHAT);
    const page = shown(CHAT.slice(0, 1), { from: 1, draft: "still typing" });
    const plan = planSnapshot(last, page, false);
    // the draft still goes; the turns stay as the vault holds them
    assert.equal(plan.send, true);
    assert.equal(plan.snapshot.turnCount, 3);
    assert.deepEqual(plan.snapshot.turns, []);
    assert.deepEqual(plan.next.turns, CHAT);
  });

  test("a chat that should show turns and shows none sends nothing, even when asked for all", () => {
    assert.equal(planSnapshot(NOTHING_SENT, shown([], { draft: "hi" }), true).send, false);
    assert.equal(planSnapshot(held(CHAT), shown([]), true).send, false);
  });

  test("an empty new chat sends nothing until something is typed", () => {
    const empty = { expected: false, title: null };
    assert.equal(planSnapshot(NOTHING_SENT, shown([], empty), true).send, false);
    assert.equal(planSnapshot(NOTHING_SENT, shown([], { ...empty, draft: "" }), true).send, false);
    const typed = planSnapshot(NOTHING_SENT, shown([], { ...empty, draft: "Hello" }), true);
    assert.equal(typed.send, true);
    assert.equal(typed.snapshot.turnCount, 0);
    // once sent, clearing the draft is news
    assert.equal(planSnapshot(typed.next, shown([], { ...empty, from: Infinity, draft: "" }), false).send, true);
  });

  test("a title, model or streaming change alone is sent", () => {
    const last = held(CHAT);
    for (const change of [{ title: "Sorting lists" }, { model: "gpt-5" }, { streaming: true }]) {
      const plan = planSnapshot(last, shown(CHAT, { from: Infinity, ...change }), false);
      assert.equal(plan.send, true, JSON.stringify(change));
      assert.deepEqual(plan.snapshot.turns, []);
    }
  });

  test("a full resend sends every turn although none changed", () => {
    const plan = planSnapshot(held(CHAT), shown(CHAT, { from: Infinity }), true);
    assert.equal(plan.send, true);
    assert.equal(plan.snapshot.turnsFrom, 0);
    assert.equal(plan.snapshot.turns.length, 3);
  });
});

test("firstDifference finds the first changed, added or removed element", () => {
  const [a, b, c] = [{}, {}, {}];
  assert.equal(firstDifference([a, b], [a, b]), Infinity);
  assert.equal(firstDifference([a, b], [a, c]), 1);
  assert.equal(firstDifference([a, b], [a, b, c]), 2);
  assert.equal(firstDifference([a, b, c], [a]), 1);
  assert.equal(firstDifference([], [a]), 0);
});

describe("frames", () => {
  const page = { page_id: "p1", conversation_id: "c1", site: "chatgpt", url: "https://chatgpt.com/c/c1" };

  test("a snapshot is one frame with the page's fields; absent title, model and draft are left out", () => {
    const plan = planSnapshot(NOTHING_SENT, shown(CHAT, { title: null, draft: "" }), true);
    const frames = snapshotFrames(page, plan.snapshot, 1700000000000);
    assert.equal(frames.length, 1);
    assert.deepEqual(frames[0], {
      type: "snapshot",
      ...page,
      turn_count: 3,
      turns_from: 0,
      turns: plan.snapshot.turns,
      streaming: false,
      captured_at: 1700000000000,
      draft: "",
    });
  });

  test("a long snapshot is cut into frames that each say how far they reach", () => {
    const long = [turn("user", "a".repeat(60)), turn("assistant", "b".repeat(60)), turn("user", "c")];
    const plan = planSnapshot(NOTHING_SENT, shown(long, { draft: "d" }), true);
    const frames = snapshotFrames(page, plan.snapshot, 1, 100);
    assert.deepEqual(frames.map((f) => [f.turns_from, f.turn_count, f.turns.length]), [[0, 1, 1], [1, 3, 2]]);
    assert.ok(frames.every((f) => f.draft === "d" && f.title === "Sorting"));
    assert.ok(FRAME_TEXT_BUDGET > 100);
  });

  test("documents and thinking count towards a frame's size", () => {
    const heavy = { ...turn("assistant", "a"), thinking: "t".repeat(50), documents: [{ title: "D", kind: "code", text: "x".repeat(60) }] };
    const plan = planSnapshot(NOTHING_SENT, shown([turn("user", "q"), heavy, turn("user", "c")]), true);
    const frames = snapshotFrames(page, plan.snapshot, 1, 100);
    assert.deepEqual(frames.map((f) => f.turns.length), [1, 1, 1]); // the heavy turn goes alone
    assert.deepEqual(frames[1].turns[0].documents, heavy.documents);
  });

  test("a turn whose text came from the page's JSON says so on the wire; a turn the adapter read does not", () => {
    const completed = { ...turn("assistant", "Use sorted()."), message_id: "a1", from_json: true };
    const plan = planSnapshot(NOTHING_SENT, shown([CHAT[0], completed, CHAT[2]]), true);
    const [frame] = snapshotFrames(page, plan.snapshot, 1);
    assert.deepEqual(frame.turns.map((t) => t.from_json), [undefined, true, undefined]);
  });

  test("a draft-only snapshot is one frame with no turns", () => {
    const plan = planSnapshot(held(CHAT), shown(CHAT, { from: Infinity, draft: "x" }), false);
    const [frame, ...more] = snapshotFrames(page, plan.snapshot, 1);
    assert.deepEqual(more, []);
    assert.deepEqual([frame.turns_from, frame.turn_count, frame.turns], [3, 3, []]);
  });

  test("over-long fields are cut to the protocol's limits", () => {
    const big = { ...page, url: "https://chatgpt.com/" + "u".repeat(10000) };
    const plan = planSnapshot(NOTHING_SENT, shown(CHAT, { title: "t".repeat(5000), model: "m".repeat(3000) }), true);
    const [frame] = snapshotFrames(big, plan.snapshot, 1);
    assert.deepEqual([frame.url.length, frame.title.length, frame.model.length], [8192, 2048, 2048]);
    const signal = signalFrame(big, "error_message", "e".repeat(3000), null, 1);
    assert.deepEqual([signal.url.length, signal.detail.length], [8192, 2048]);
  });

  test("a signal frame carries its kind, and detail and status only when given", () => {
    assert.deepEqual(signalFrame(page, "http_error", "Bad gateway", 502, 5), {
      type: "signal", ...page, kind: "http_error", captured_at: 5, detail: "Bad gateway", status: 502,
    });
    const bare = signalFrame(page, "offline", null, null, 5);
    assert.ok(!("detail" in bare) && !("status" in bare));
  });
});

describe("sameChatGotItsId", () => {
  const held = [turn("user", "A brand new idea"), turn("assistant", "Something went wrong")];

  test("a new chat that got its id still shows its first turn: the same page", () => {
    assert.equal(sameChatGotItsId({ held, first: held[0], justSent: true, followedLink: false }), true);
    assert.equal(sameChatGotItsId({ held, first: held[0], justSent: false, followedLink: false }), true);
  });

  test("a failed new chat the tab leaves for another conversation: a new page", () => {
    const other = turn("user", "Question of conversation Y");
    assert.equal(sameChatGotItsId({ held, first: other, justSent: true, followedLink: false }), false);
    assert.equal(sameChatGotItsId({ held, first: undefined, justSent: true, followedLink: false }), false);
  });

  test("a link followed to the address is another conversation, even before it renders", () => {
    assert.equal(sameChatGotItsId({ held, first: held[0], justSent: true, followedLink: true }), false);
  });

  test("a new chat with only a draft: the same chat only right after sending", () => {
    const first = turn("user", "Sent just now");
    assert.equal(sameChatGotItsId({ held: [], first, justSent: true, followedLink: false }), true);
    assert.equal(sameChatGotItsId({ held: [], first, justSent: false, followedLink: false }), false);
  });
});

describe("what the page shows that is not a turn", () => {
  test("a turn that is only the site's notice is no turn; a notice beside an answer is", () => {
    assert.equal(noticeOnly({ role: "assistant", text: "", notice: "Message delivery timed out." }), true);
    assert.equal(noticeOnly({ role: "assistant", text: " \n", notice: "Connection interrupted." }), true);
    assert.equal(noticeOnly({ role: "assistant", text: "Half an ans", notice: "Resume stream unavailable" }), false);
    assert.equal(noticeOnly({ role: "assistant", text: "" }), false); // an answer not written yet
  });

  test("an empty answer that becomes a notice goes from the vault; an answer with text stays", () => {
    const asked = [...CHAT, turn("assistant", "")];
    const plan = planSnapshot(held(asked), shown(CHAT, { from: 3 }), false);
    assert.equal(plan.send, true);
    assert.equal(plan.snapshot.turnCount, 3);
    assert.deepEqual(plan.snapshot.turns, []);
    const begun = [...CHAT, turn("assistant", "Sort it with")];
    assert.equal(planSnapshot(held(begun), shown(CHAT, { from: 3 }), false).send, false);
  });

  test("an adapter reading far fewer turns or much less text of the same page is reported", () => {
    // Short questions, long answers (as chats go).
    const long = (n) => Array.from({ length: n }, (_, i) => (i % 2 ? turn("assistant", `Answer ${i} `.repeat(40)) : turn("user", `Ask ${i}`)));
    const sent = long(8); // 8 turns, about 1,900 characters
    assert.equal(readLoss(sent, 3, sent.slice(0, 3)), "3 turns read, 8 before");
    const emptied = sent.map((t) => (t.role === "assistant" ? turn(t.role, "") : t));
    assert.match(readLoss(sent, 8, emptied), /^\d+ characters read, \d+ before$/);
    // Not: the same page read alike, a chat that grows, one turn edited shorter, a small chat, none read.
    assert.equal(readLoss(sent, 8, sent), null);
    assert.equal(readLoss(sent, 10, long(10)), null);
    assert.equal(readLoss(sent, 8, [...sent.slice(0, 7), turn("assistant", "Short now.")]), null);
    assert.equal(readLoss(long(2), 1, long(1)), null);
    assert.equal(readLoss(sent, 0, []), null);
    assert.equal(readLoss(CHAT, 3, CHAT.map((t) => turn(t.role, ""))), null);
  });

  test("turns read much poorer are withheld, the vault keeps its copy, and the plan says why", () => {
    const sent = Array.from({ length: 6 }, (_, i) => turn(i % 2 ? "assistant" : "user", i % 2 ? "An answer. ".repeat(50) : "Ask"));
    const emptied = sent.map((t) => turn(t.role, t.role === "assistant" ? "" : t.text));
    const plan = planSnapshot(held(sent), shown(emptied, { draft: "next" }), false);
    assert.equal(plan.lost, "9 characters read, 1659 before");
    assert.deepEqual(plan.snapshot.turns, []); // the draft goes, the turns do not
    assert.equal(plan.send, true);
    assert.deepEqual(plan.next.turns, sent);
    // The user's own doing (an edit, a regeneration) or an answer streaming: sent as read.
    for (const extra of [{ acted: true }, { streaming: true }]) {
      const ok = planSnapshot(held(sent), shown(emptied, extra), false);
      assert.equal(ok.lost, null);
      assert.deepEqual(ok.next.turns, emptied);
    }
  });
});
