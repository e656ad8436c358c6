// content/chatgpt-json.js and the pure part of content/page-json.js under Node: ChatGPT's
// conversation JSON (the real exports' `mapping` format, which the page's own
// /backend-api/conversation/{id} answer shares) as the page's turns, and how capture
// uses it to complete and check what the DOM gave. tests/test_chatgpt_json.py checks
// the texts and branches against the Python importer.

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { conversationThread, MAX_NODES } from "../../extension/content/chatgpt-json.js";
import { completeTurn, covers, degraded, disagreement, pageJson, threadFromMessage, windowAt } from "../../extension/content/page-json.js";
import { MAIN_WORLD } from "../../extension/lib/messages.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const REAL = path.resolve(process.env.DRAFTVAULT_REAL_FIXTURES || path.join(ROOT, "..", "shared", "fixtures", "real"));
const EXPORTS = path.join(REAL, "chatgpt-export");
const load = (name) => JSON.parse(readFileSync(path.join(EXPORTS, name), "utf8"));
const realConversations = () =>
  readdirSync(EXPORTS)
    .filter((f) => f.endsWith(".json"))
    .flatMap((f) => load(f));

// What mainworld.js posts for a conversation the page loaded.
const posted = (conv, id = conv.conversation_id) => ({
  source: MAIN_WORLD.source,
  event: MAIN_WORLD.conversation,
  id,
  body: JSON.stringify(conv),
});

// A conversation in the page's format: messages [id, role, content, extra] in a chain.
function chain(messages, extra = {}) {
  const mapping = { root: { id: "root", message: null, parent: null, children: [] } };
  let parent = "root";
  for (const [id, role, content, more = {}] of messages) {
    const text = typeof content === "string" ? { content_type: "text", parts: [content] } : content;
    mapping[id] = { id, message: { id, author: { role, ...(more.author || {}) }, content: text, recipient: more.recipient || "all", metadata: more.metadata || {} }, parent, children: [] };
    mapping[parent].children.push(id);
    parent = id;
  }
  return { conversation_id: "conv-0001", title: "T", mapping, current_node: parent, ...extra };
}

describe("the real exports", () => {
  test("every conversation gives its thread, and the turns the page shows of it", () => {
    const convs = realConversations();
    assert.ok(convs.length >= 4);
    for (const conv of convs) {
      const t = conversationThread(conv, conv.conversation_id);
      assert.ok(t, conv.title);
      assert.equal(t.id, conv.conversation_id);
      assert.ok(t.messages.length > 0 && t.turns.length > 0, conv.title);
      for (const m of t.messages) {
        assert.ok(["user", "assistant", "system", "tool"].includes(m.role));
        assert.ok(m.text.trim());
        assert.ok(Object.hasOwn(conv.mapping, m.message_id), "a message id is its node's");
      }
      // What the page shows: the user's words and what the assistant said to the user.
      const shown = t.messages.filter((m) => m.role === "user" || (m.role === "assistant" && m.recipient === "all"));
      assert.deepEqual(t.turns.map((x) => [x.message_id, x.role, x.text]), shown.map((m) => [m.message_id, m.role, m.text]));
    }
  });

  test("the edited and regenerated tree: the current thread, the other branch", () => {
    const [conv] = load("chatgpt-tree.json");
    const t = conversationThread(conv);
    assert.deepEqual(t.turns.map((x) => x.role), ["user", "assistant", "user", "assistant", "user", "assistant"]);
    assert.deepEqual(t.turns.filter((x) => x.role === "user").map((x) => x.text), ["hi there", "hi again", "tell me a joke"]);
    assert.equal(t.turns[5].message_id, conv.current_node);
    assert.match(t.turns[5].text, /make up everything/);
    assert.equal(t.branches.length, 1);
    assert.deepEqual(t.branches[0].turns.slice(1, 2).map((x) => x.text), ["so cool bro"]);
  });

  test("the browsing conversation: search calls and results are not the answer's words", () => {
    const conv = load("chatgpt-export.json")[0];
    const t = conversationThread(conv);
    const tool = t.messages.filter((m) => m.role === "tool");
    assert.ok(tool.length > 0, "the importer keeps tool output as turns");
    assert.deepEqual(t.turns.map((x) => x.role).slice(0, 2), ["user", "assistant"]);
    assert.ok(t.turns.every((turn) => !turn.text.includes("search(")));
  });

  test("citations become links, as the importer writes them", () => {
    const [conv] = load("chatgpt-citations.json");
    const answer = conversationThread(conv).turns.at(-1);
    assert.match(answer.text, /\]\(https?:\/\/[^)]+\)/);
    assert.doesNotMatch(answer.text, /【/);
  });
});

describe("attachments and canvas", () => {
  test("uploaded files are named with their type and size; malformed entries are dropped", () => {
    const files = [{ id: "file-1", name: "report.pdf", size: 48213, mime_type: "application/pdf" }, { size: 3 }, "x", { name: "photo.png", size: -1 }];
    const t = conversationThread(chain([["u1-abcdefgh", "user", "Summarise this", { metadata: { attachments: files } }], ["a1-abcdefgh", "assistant", "It says..."]]));
    assert.deepEqual(t.turns[0].attachments, [{ name: "report.pdf", mime: "application/pdf", size: 48213 }, { name: "photo.png" }]);
    assert.equal(t.turns[1].attachments, undefined);
  });

  test("canvas documents go with the answer that made or edited them, not into its text", () => {
    const code = (input) => ({ content_type: "code", language: "json", text: JSON.stringify(input) });
    const create = { name: "page.html", type: "code/html", content: "<h1>Hi</h1>\n<p>one</p>" };
    const update = (pattern, replacement) => code({ updates: [{ pattern, multiple: false, replacement }] });
    const t = conversationThread(
      chain([
        ["u1", "user", "Make a page"],
        ["c1", "assistant", code(create), { recipient: "canmore.create_textdoc" }],
        ["r1", "tool", "Successfully created text document 'page.html'", { author: { name: "canmore.create_textdoc" } }],
        ["a1", "assistant", "Here is the page."],
        ["u2", "user", "Say two"],
        ["c2", "assistant", update("one", "two"), { recipient: "canmore.update_textdoc" }],
        ["a2", "assistant", "Done."],
        ["u3", "user", "And three"],
        ["c3", "assistant", update("(?P<x>two)", "three"), { recipient: "canmore.update_textdoc" }],
        ["a3", "assistant", "Done again."],
        ["u4", "user", "Now as notes"],
        ["c4", "assistant", code({ name: "notes", type: "document", content: "# Notes" }), { recipient: "canmore.create_textdoc" }],
        ["c5", "assistant", update(".*", "# Notes\n\n- three"), { recipient: "canmore.update_textdoc" }],
      ])
    );
    assert.deepEqual(t.turns.map((x) => [x.role, x.text]), [
      ["user", "Make a page"],
      ["assistant", "Here is the page."],
      ["user", "Say two"],
      ["assistant", "Done."],
      ["user", "And three"],
      ["assistant", "Done again."],
      ["user", "Now as notes"],
    ]);
    assert.deepEqual(t.turns[1].documents, [{ title: "page.html", kind: "code", language: "html", text: create.content }]);
    assert.deepEqual(t.turns[3].documents, [{ title: "page.html", kind: "code", language: "html", text: "<h1>Hi</h1>\n<p>two</p>" }]);
    // An edit in Python's syntax cannot be applied here: no document rather than a wrong one.
    assert.equal(t.turns[5].documents, undefined);
    // Calls with no answer after them go with the last turn shown.
    assert.deepEqual(t.turns[6].documents.map((d) => [d.kind, d.text]), [["document", "# Notes"], ["document", "# Notes\n\n- three"]]);
  });
});

describe("canvas budget", () => {
  test("edits that copy a large document over and over stop at the thread's budget, as the importer's do", () => {
    // Each edit of a 1 MB canvas makes a new 1 MB copy; "multiple" turns every "a" into 64 b's (64 MB):
    // past importers/canvas.py's REPLAY_CHARS (32 Mi characters) the canvas is unknown until written whole.
    const code = (input) => ({ content_type: "code", language: "json", text: JSON.stringify(input) });
    const steps = [["u1", "user", "Write it"],
                   ["c1", "assistant", code({ name: "big", type: "document", content: "a".repeat(1 << 20) }),
                    { recipient: "canmore.create_textdoc" }],
                   ["a1", "assistant", "Written."], ["u2", "user", "Edit it"]];
    for (let i = 0; i < 3; i++) {
      steps.push([`e${i}`, "assistant", code({ updates: [{ pattern: "a", multiple: true, replacement: "b".repeat(64) }] }),
                  { recipient: "canmore.update_textdoc" }]);
    }
    steps.push(["a2", "assistant", "Edited."], ["u3", "user", "Again"],
               ["c2", "assistant", code({ name: "notes", type: "document", content: "# Notes" }), { recipient: "canmore.create_textdoc" }],
               ["e9", "assistant", code({ updates: [{ pattern: "Notes", multiple: false, replacement: "Short notes" }] }),
                { recipient: "canmore.update_textdoc" }],
               ["a3", "assistant", "Here."]);
    const t = conversationThread(chain(steps));
    assert.equal(t.turns[1].documents[0].text.length, 1 << 20);
    assert.equal(t.turns[3].documents, undefined, "the edit over budget gave no document");
    // a document written whole again is known; the budget spent, its edits are not applied
    assert.deepEqual(t.turns[5].documents.map((d) => d.text), ["# Notes"]);
  });
});

describe("crafted answers", () => {
  test("citation marks and math openings with no end are read in one pass", () => {
    // 200,000 openings each (up to 600 KB): each once scanned to the end of the answer.
    const marks = "Sources【3†Wiki】 and " + "【1†".repeat(200_000);
    const math = "Keep \\(a\\) " + "\\[".repeat(200_000);
    const t = conversationThread(chain([["u1", "user", "Cite"], ["a1", "assistant", marks], ["u2", "user", "Math"],
                                        ["a2", "assistant", math]]));
    assert.equal(t.turns[1].text, "Sources and " + "【1†".repeat(200_000));
    assert.equal(t.turns[3].text, "Keep $a$ " + "\\[".repeat(200_000));
  });
});

describe("what the page can send", () => {
  const good = chain([["u1-abcdefgh", "user", "hello"], ["a1-abcdefgh", "assistant", "hi"]]);

  test("a conversation the page posted is read; anything else is not", () => {
    assert.equal(threadFromMessage(posted(good)).turns.length, 2);
    assert.equal(threadFromMessage({ ...posted(good), source: "someone" }), null);
    assert.equal(threadFromMessage({ ...posted(good), event: "complete" }), null);
    assert.equal(threadFromMessage(posted(good, "other-conversation")), null, "another conversation's JSON");
    assert.equal(threadFromMessage(posted(good, "../../x")), null);
    assert.equal(threadFromMessage({ ...posted(good), body: "{not json" }), null);
    assert.equal(threadFromMessage({ ...posted(good), body: { mapping: {} } }), null);
    assert.equal(threadFromMessage({ ...posted(good), body: "x".repeat(16 * 1024 * 1024 + 1) }), null);
    for (const conv of [null, [], { mapping: [] }, { mapping: "x" }]) {
      assert.equal(threadFromMessage({ ...posted(good), body: JSON.stringify(conv) }), null);
    }
  });

  test("malformed nodes, cycles and wrong types are skipped, never thrown", () => {
    const conv = chain([["u1", "user", "hello"], ["a1", "assistant", "hi"]]);
    conv.mapping.x = { parent: "y", message: { author: { role: 7 }, content: null } };
    conv.mapping.y = { parent: "x", message: "nonsense" };
    conv.mapping.z = null;
    conv.mapping.a1.message.metadata = { citations: [{ start_ix: "0", end_ix: 99 }, null], attachments: "x" };
    const t = conversationThread(conv);
    assert.deepEqual(t.turns.map((x) => x.text), ["hello", "hi"]);
    conv.current_node = "x";
    assert.deepEqual(conversationThread(conv).turns, []);
  });

  test("a tree with too many nodes is refused", () => {
    const mapping = {};
    for (let i = 0; i <= MAX_NODES; i++) mapping[`n${i}`] = { parent: i ? `n${i - 1}` : null };
    assert.equal(conversationThread({ mapping }), null);
  });
});

describe("completing and checking the DOM", () => {
  const long = "The quick brown fox jumps over the lazy dog near the river bank. ".repeat(6).trim();
  const thread = threadFromMessage(
    posted(chain([["u1-abcdefgh", "user", "Tell me about foxes"], ["a1-abcdefgh", "assistant", long], ["u2-abcdefgh", "user", "More"], ["a2-abcdefgh", "assistant", long + " Again."]]))
  );
  const dom = (id, role, text) => ({ role, text, message_id: id });

  test("an empty or much poorer DOM text is completed from the JSON", () => {
    assert.equal(completeTurn(dom("a1-abcdefgh", "assistant", ""), thread.byId).text, long);
    assert.equal(completeTurn(dom("a1-abcdefgh", "assistant", "The quick brown fox"), thread.byId).text, long);
    // Marked for the service's capture health: the adapter did not read it.
    assert.equal(completeTurn(dom("a1-abcdefgh", "assistant", ""), thread.byId).from_json, true);
    assert.ok(thread.turns.every((t) => t.from_json === true), "a turn list taken from the JSON is marked too");
  });

  test("the DOM's words are never dropped for the JSON's", () => {
    const healthy = dom("a1-abcdefgh", "assistant", long.replace("fox", "**fox**"));
    assert.equal(completeTurn(healthy, thread.byId), healthy, "a full DOM text stays as read");
    assert.equal(completeTurn(healthy, thread.byId).from_json, undefined);
    const own = dom("a1-abcdefgh", "assistant", "Something the JSON never said");
    assert.equal(completeTurn(own, thread.byId).text, own.text);
    assert.equal(completeTurn(dom("a1-abcdefgh", "user", ""), thread.byId).text, "", "another role: not this turn");
    assert.equal(completeTurn(dom("unknown-id", "assistant", ""), thread.byId).text, "");
    assert.equal(completeTurn(dom(null, "assistant", ""), thread.byId).text, "");
  });

  test("degraded and covers", () => {
    assert.ok(degraded("", "x"));
    assert.ok(!degraded("", ""));
    assert.ok(!degraded("short", "a bit longer but under the minimum"));
    assert.ok(degraded("a", long));
    assert.ok(covers("Alpha beta, gamma!", "alpha GAMMA"));
    assert.ok(!covers("alpha beta", "alpha delta"));
  });

  test("disagreement: most turns much poorer, or far fewer turns; none when they agree", () => {
    const agree = [dom("u1-abcdefgh", "user", "Tell me about foxes"), dom("a1-abcdefgh", "assistant", long), dom("u2-abcdefgh", "user", "More"), dom("a2-abcdefgh", "assistant", long)];
    assert.equal(disagreement(agree, thread), null);
    const empty = agree.map((t) => (t.role === "assistant" ? { ...t, text: "" } : t));
    assert.equal(disagreement(empty, thread), "2 of 4 turns read much shorter than in the page's JSON");
    assert.equal(disagreement([dom(null, "user", "Tell me about foxes")], thread), "1 turns read, the page's JSON has 4");
    assert.equal(disagreement([dom("x1-abcdefgh", "user", "Tell me about foxes")], thread), "1 turns read, the page's JSON has 4");
    assert.equal(disagreement([dom(null, "user", "new chat")], { turns: [], byId: new Map() }), null);
  });

  // ChatGPT's 2026-09 layout mounts a few turns of a long chat (page-json.js's header).
  const long12 = threadFromMessage(
    posted(chain(Array.from({ length: 12 }, (_, i) => [`m${i}-abcdefgh`, i % 2 ? "assistant" : "user", `Turn ${i}`])))
  );
  const shown = (from, to) => Array.from({ length: to - from }, (_, k) => dom(`m${from + k}-abcdefgh`, (from + k) % 2 ? "assistant" : "user", `Turn ${from + k}`));
  const at = (turns, thread = long12) => windowAt(turns.length, (i) => turns[i], thread);

  test("windowAt: a run of the thread's turns by message id, not the whole thread from its start", () => {
    assert.equal(at(shown(6, 10)), 6);
    assert.equal(at(shown(0, 4)), 0, "the first turns of a longer thread");
    assert.equal(at(shown(8, 12)), 8);
    assert.equal(at(shown(0, 12)), null, "the whole thread: read as before");
    const gap = shown(6, 10);
    gap[1] = dom(null, "assistant", "no id");
    assert.equal(at(gap), 6, "a turn without an id in between");
    assert.equal(at([...shown(9, 12), dom("new-abcdefgh", "user", "sent just now")]), 9, "new turns after the end");
    assert.equal(at([...shown(6, 8), dom("new-abcdefgh", "user", "x"), ...shown(9, 10)]), null, "an unknown id inside");
    assert.equal(at([...shown(6, 8), ...shown(9, 11)]), null, "a turn missing in between");
    assert.equal(at([shown(3, 4)[0], ...shown(6, 8)]), null, "out of order");
    assert.equal(at([{ ...shown(6, 7)[0], role: "assistant" }, ...shown(7, 9)]), null, "another role");
    assert.equal(at([dom(null, "user", "a"), ...shown(0, 3)]), null, "before the thread's start");
    assert.equal(at([dom(null, "user", "a")]), null, "no ids: no guessing");
  });

  test("disagreement: a window of the thread is not turns missing; real ones still count", () => {
    assert.equal(disagreement(shown(6, 10), long12), null);
    assert.equal(disagreement(shown(2, 6), long12), null);
    const poor = shown(6, 10).map((t) => ({ ...t, text: "" }));
    assert.equal(disagreement(poor, long12), "4 of 4 turns read much shorter than in the page's JSON");
    assert.equal(disagreement([...shown(6, 8), ...shown(9, 11)], long12), "4 turns read, the page's JSON has 12");
  });
});

describe("a chat's first snapshot waits for its JSON (pageJson hold)", () => {
  // A page window and a capture as content/capture.js has them, reduced to what pageJson uses.
  function page(conversationId = "chat-00000001") {
    const listeners = [];
    const win = {
      location: { origin: "https://chatgpt.com", pathname: `/c/${conversationId}` },
      addEventListener: (type, fn) => listeners.push(fn),
      removeEventListener() {},
      postMessage() {},
    };
    const capture = { site: "chatgpt", conversationId, last: { started: false, turns: [] }, flushed: [],
                      schedule() {}, subscribe() {}, flush(reason) { this.flushed.push(reason); } };
    const json = pageJson(capture, win);
    const deliver = (conv) => listeners.forEach((fn) => fn({ source: win, data: posted(conv, conversationId) }));
    return { capture, json, deliver };
  }
  const conv = chain([["m1-0000001", "user", "Hello"], ["m2-0000001", "assistant", "Hi"]]);

  test("it waits while the JSON may come, never for what must go now", () => {
    const { capture, json, deliver } = page();
    try {
      assert.equal(json.hold(0, "debounce"), false, "nothing rendered yet: nothing to place");
      assert.equal(json.hold(4, "debounce"), true);
      for (const reason of ["pagehide", "hidden", "navigate", "send", "signal:error_banner", "resend-full", "retry"]) {
        assert.equal(json.hold(4, reason), false, reason);
      }
      deliver({ ...conv, conversation_id: capture.conversationId });
      assert.equal(json.hold(4, "debounce"), false, "the JSON came: the window is placed by message id");
    } finally {
      json.stop();
    }
  });

  test("only a chat's first snapshot waits, and only on a chat with an id", () => {
    const sent = page();
    sent.capture.last = { started: true, turns: [] };
    const fresh = page(null);
    try {
      assert.equal(sent.json.hold(4, "debounce"), false);
      assert.equal(fresh.json.hold(4, "debounce"), false);
    } finally {
      sent.json.stop();
      fresh.json.stop();
    }
  });
});
