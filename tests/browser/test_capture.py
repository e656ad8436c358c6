"""Capture end to end: the real extension in Chromium on the fake chatgpt.com (built
from the real capture, tests/sitepages), the real service; what the user types,
sends and reads ends up in the vault as Markdown."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from draftvault import protocol
from sitepages import chatgpt, claude, gemini
from sitepages.base import wait_for

EXTENSION = Path(__file__).resolve().parents[2] / "extension"

pytestmark = pytest.mark.browser


def conversations(server, site="chatgpt"):
    return server.api("GET", "/api/conversations", params={"site": site})["items"]


def detail_of(server, conversation_id, site="chatgpt"):
    for item in conversations(server, site):
        if item["conversation_id"] == conversation_id:
            return server.api("GET", f"/api/conversations/{item['id']}")
    return None


def holds(server, conversation_id, turns, draft=None, site="chatgpt"):
    """The vault's detail once it holds exactly `turns` (and `draft`), else None."""

    def check():
        d = check.seen = detail_of(server, conversation_id, site)
        if not d or [(t["role"], t["text"]) for t in d["turns"]] != turns:
            return None
        # An empty composer: the vault shows no current draft.
        if draft is not None and (d["draft"] or {}).get("text", "") != draft:
            return None
        return d

    return check


def test_type_send_and_streamed_answer_are_saved_as_markdown(browser_ctx):
    server = browser_ctx.server
    site = chatgpt.serve(browser_ctx.context)
    before = [("user", "How do I sort a list?"), ("assistant", "Use `sorted()`:\n\n```python\nsorted(xs)\n```")]
    tab = site.open("6a1b-sort", turns=before, title="Sorting lists")
    wait_for(holds(server, "6a1b-sort", before), what="the first snapshot")

    tab.type("And in reverse?\nDescending, please.")
    d = wait_for(holds(server, "6a1b-sort", before, draft="And in reverse?\nDescending, please."), what="the draft")
    assert d["title"] == "Sorting lists" and d["model"] == "5.2"
    assert d["url"] == "https://chatgpt.com/c/6a1b-sort"

    tab.send()
    tab.stream_start()
    for piece in ["Pass ", "`reverse=True`", " to it."]:
        tab.stream_chunk(piece)
        time.sleep(0.15)
    tab.stream_html("<p>Pass <code>reverse=True</code>:</p><pre><code class=\"language-python\">sorted(xs, reverse=True)"
                    "</code></pre><ul><li><p>stable</p><ul><li><p>even reversed</p></li></ul></li></ul>")
    tab.finish()
    after = before + [
        ("user", "And in reverse?\nDescending, please."),
        ("assistant", "Pass `reverse=True`:\n\n```python\nsorted(xs, reverse=True)\n```\n\n- stable\n  - even reversed"),
    ]
    wait_for(holds(server, "6a1b-sort", after, draft=""), what="the sent turn and the streamed answer")

    tab.type("one more thing")
    wait_for(holds(server, "6a1b-sort", after, draft="one more thing"), what="the next draft")
    assert len(conversations(server)) == 1


def test_new_chat_draft_is_saved_before_it_has_an_id_and_joins_it(browser_ctx):
    server = browser_ctx.server
    site = chatgpt.serve(browser_ctx.context)
    tab = site.open()
    tab.type("A brand new idea")

    def page_draft():
        items = [c for c in conversations(server) if c["conversation_id"] is None]
        for item in items:
            d = server.api("GET", f"/api/conversations/{item['id']}")
            if (d["draft"] or {}).get("text") == "A brand new idea":
                return d
        return None

    early = wait_for(page_draft, what="the new chat's draft")
    assert early["url"] == "https://chatgpt.com/"

    tab.send()
    tab.stream(["Sounds ", "good."])
    tab.page.evaluate("document.title = 'Brand new idea'")  # ChatGPT names the chat after the answer
    new_id = tab.conversation_id
    assert new_id
    joined = wait_for(
        holds(server, new_id, [("user", "A brand new idea"), ("assistant", "Sounds good.")], draft=""),
        what="the joined conversation",
    )
    joined = wait_for(lambda: (d := detail_of(server, new_id)) and d["title"] == "Brand new idea" and d, what="the title")
    assert joined["url"] == f"https://chatgpt.com/c/{new_id}"
    assert [c["id"] for c in conversations(server)] == [joined["id"]]  # one conversation, not two
    assert "A brand new idea" in [v["text"] for v in joined["drafts"]]  # its draft history came along


def test_spa_navigation_between_chats_is_followed(browser_ctx):
    server = browser_ctx.server
    site = chatgpt.serve(browser_ctx.context)
    first = [("user", "Question A"), ("assistant", "Answer A")]
    second = [("user", "Question B"), ("assistant", "Answer **B**")]
    tab = site.open()
    tab.type("stray draft")
    wait_for(lambda: [c for c in conversations(server) if c["conversation_id"] is None], what="the new chat's draft")

    # Leaving a new chat for a saved one does not make the stray draft that chat's.
    tab.navigate("chat-a", turns=first, title="A")
    a = wait_for(holds(server, "chat-a", first))
    assert a["draft"] is None
    (stray,) = [c for c in conversations(server) if c["conversation_id"] is None]
    assert server.api("GET", f"/api/conversations/{stray['id']}")["draft"]["text"] == "stray draft"

    tab.navigate("chat-b", turns=second, title="B")
    tab.type("draft for B")
    d = wait_for(holds(server, "chat-b", second, draft="draft for B"), what="chat B")
    assert d["title"] == "B"
    a = detail_of(server, "chat-a")
    assert [(t["role"], t["text"]) for t in a["turns"]] == first and a["title"] == "A"
    assert (a["draft"] or {}).get("text", "") == ""

    tab.navigate(None)  # a new chat in the same tab
    tab.type("fresh start")
    tab.send()
    tab.stream(["ok"])
    wait_for(holds(server, tab.conversation_id, [("user", "fresh start"), ("assistant", "ok")], draft=""))
    assert [(t["role"], t["text"]) for t in detail_of(server, "chat-b")["turns"]] == second


def test_failed_new_chat_left_for_another_conversation_keeps_both(browser_ctx):
    server = browser_ctx.server
    site = chatgpt.serve(browser_ctx.context)
    mine = [("user", "A brand new idea"), ("assistant", "Half an answer")]
    other = [("user", "Question Y"), ("assistant", "Answer Y"), ("user", "More Y"), ("assistant", "Done Y")]
    site.add("chat-y", other, "Y")
    tab = site.open()
    tab.navigate(None, turns=mine)  # a new chat whose first answer failed before it got an id
    tab.error("Something went wrong")
    tab.type("my next try")

    def new_chat():
        d = [server.api("GET", f"/api/conversations/{c['id']}") for c in conversations(server) if c["conversation_id"] is None]
        ok = d and [(t["role"], t["text"]) for t in d[0]["turns"]] == mine and (d[0]["draft"] or {}).get("text") == "my next try"
        return ok and d[0]

    kept = wait_for(new_chat, what="the new chat's turns and draft")
    wait_for(lambda: [f for f in server.api("GET", "/api/failures")["items"] if f["conversation"] == kept["id"]],
             what="the new chat's failure")

    tab.navigate("chat-y", turns=other, title="Y")  # the same tab opens another conversation
    wait_for(holds(server, "chat-y", other), what="conversation Y")
    # The new chat is still its own conversation, with its turns, draft and failure.
    assert server.api("GET", f"/api/conversations/{kept['id']}")["turns"] == kept["turns"]
    assert (server.api("GET", f"/api/conversations/{kept['id']}")["draft"] or {}).get("text") == "my next try"
    assert [f["conversation"] for f in server.api("GET", "/api/failures")["items"]] == [kept["id"]]
    assert sorted(c["conversation_id"] or "" for c in conversations(server)) == ["", "chat-y"]


def test_long_chat_keystrokes_send_the_draft_not_the_turns(browser_ctx):
    server = browser_ctx.server
    site = chatgpt.serve(browser_ctx.context)
    turns = [("user" if i % 2 == 0 else "assistant", f"turn {i}") for i in range(200)]
    tab = site.open("long-1", turns=turns)
    wait_for(holds(server, "long-1", turns), what="200 turns")
    browser_ctx.set_storage(debugCapture=True)
    tab.page.reload()
    tab.page.wait_for_function("window.__dv_test && window.__dv_test.ready")
    tab_id = browser_ctx.tab_id(tab.page)

    def flushes():
        metrics = browser_ctx.sw_eval("id => chrome.tabs.sendMessage(id, {type: 'dv:debug-metrics'}).catch(() => null)", tab_id)
        return metrics and metrics["flushes"]

    # The reloaded page's first snapshot (it may wait for the chat's JSON: page-json.js), then keystrokes.
    wait_for(lambda: any(f["bytes"] for f in flushes() or []), what="the reloaded page's snapshot")
    tab.type("x" * 20)
    wait_for(holds(server, "long-1", turns, draft="x" * 20), what="the draft")
    metrics = {"flushes": flushes()}
    typing = [f for f in metrics["flushes"] if f["bytes"] and f["turnCount"] == 200 and f["turnsFrom"] == 200]
    assert typing, metrics["flushes"]
    assert all(f["bytes"] < 2000 and f["reread"] == 0 for f in typing)


def test_claude_and_gemini_conversations_are_kept_too(browser_ctx):
    server = browser_ctx.server
    for module, cid in ((claude, "5e1f2a3b-claude"), (gemini, "6cc71b18a6f630bb")):
        site = module.serve(browser_ctx.context)
        turns = [("user", f"Hello {module.SPEC.name}"), ("assistant", "Hi, **how** can I help?")]
        tab = site.open(cid, turns=turns, title=f"{module.SPEC.name} chat")
        tab.type("a follow-up")
        tab.send()
        tab.stream(["Sure", "."])
        expected = turns + [("user", "a follow-up"), ("assistant", "Sure.")]
        wait_for(holds(server, cid, expected, draft="", site=module.SPEC.name), what=f"the {module.SPEC.name} chat")


def test_unknown_page_structure_reports_adapter_broken(browser_ctx):
    server = browser_ctx.server

    def redesigned(route):
        if route.request.resource_type == "document":
            route.fulfill(status=200, content_type="text/html", body=(
                "<!doctype html><html><head><title>Redesign - ChatGPT</title></head><body><main>"
                "<div class='thread-v9'><div class='bubble'>Question</div><div class='bubble'>Answer</div></div>"
                "<div id='prompt-textarea' contenteditable='true'><p>typed</p></div></main></body></html>"))
        else:
            route.fulfill(status=404, body="")

    browser_ctx.route_site("https://chatgpt.com/**", redesigned)
    page = browser_ctx.context.new_page()
    page.goto("https://chatgpt.com/c/redesign-1")
    tab_id = browser_ctx.tab_id(page)

    def state():
        s = browser_ctx.sw_eval("id => chrome.tabs.sendMessage(id, {type: 'dv:tab-state'}).catch(() => null)", tab_id)
        return s if s and s["broken"] else None

    s = wait_for(state, timeout=20, what="adapter_broken")
    assert (s["site"], s["conversation_id"], s["turns"]) == ("chatgpt", "redesign-1", 0)

    def reported():
        with sqlite3.connect(f"file:{server.home / 'vault.db'}?mode=ro", uri=True) as db:
            return db.execute("SELECT page_id FROM signals WHERE kind='adapter_broken'").fetchall()

    assert wait_for(reported, what="the adapter_broken signal") == [(s["page_id"],)]
    # Nothing was saved as if the chat were empty.
    assert detail_of(server, "redesign-1") is None


# The site changes under an open chat: its answers move into shadow roots (still shown,
# out of the DOM the adapter reads).
INTO_SHADOW = """() => { for (const md of document.querySelectorAll("[data-dv-html]")) {
  const nodes = [...md.childNodes]; md.attachShadow({mode: "open"}).append(...nodes); } }"""


def test_an_adapter_reading_much_less_of_the_same_page_reports_capture_degraded(browser_ctx):
    server = browser_ctx.server
    site = chatgpt.serve(browser_ctx.context)
    answer = "Plan the route first, then book the trains. " * 12
    turns = [("user", "Q1"), ("assistant", answer.strip()), ("user", "Q2"), ("assistant", answer.strip())]
    tab = site.open("shrink-1", turns=turns)
    wait_for(holds(server, "shrink-1", turns), what="the chat saved")
    assert server.api("GET", "/api/capture-health") == {"degraded": []}
    tab.page.evaluate(INTO_SHADOW)
    degraded = wait_for(lambda: server.api("GET", "/api/capture-health")["degraded"], what="capture degraded on chatgpt.com")
    before = sum(len(text) for _, text in turns)
    assert [(d["host"], d["detail"]) for d in degraded] == [
        ("chatgpt.com", f"4 characters read, {before} before on /c/shrink-1")]
    # The vault keeps what the page showed before, not the poorer reading.
    assert holds(server, "shrink-1", turns)()


def test_vault_missing_the_turns_gets_a_full_snapshot_again(browser_ctx):
    # The service lost the conversation (deleted here): the next delta is refused with
    # need_full, the worker asks the tab (dv:resend-full), the tab sends all turns.
    server = browser_ctx.server
    site = chatgpt.serve(browser_ctx.context)
    turns = [("user", "keep me"), ("assistant", "kept")]
    tab = site.open("resend-1", turns=turns)
    d = wait_for(holds(server, "resend-1", turns))
    server.api("DELETE", f"/api/conversations/{d['id']}")
    tab.type("after the loss")
    wait_for(holds(server, "resend-1", turns, draft="after the loss"), what="the resent conversation")


def test_paused_site_and_temporary_chats_when_off_are_not_captured(browser_ctx):
    server = browser_ctx.server
    browser_ctx.set_storage(captureTemporary=False, pausedSites=["claude"])
    site = chatgpt.serve(browser_ctx.context, composer="textarea")  # the older composer
    temp = site.open(temporary=True)
    temp.type("secret temporary thought")
    temp.send()
    temp.stream(["not kept"])
    paused = claude.serve(browser_ctx.context).open("paused-1", turns=[("user", "private"), ("assistant", "ok")])
    paused.type("paused draft")
    # A project chat in the same browser is captured, with the textarea's draft.
    kept = site.open("proj-1", turns=[("user", "in a project"), ("assistant", "yes")], project="g-p-abc123")
    kept.type("textarea draft")
    d = wait_for(holds(server, "proj-1", [("user", "in a project"), ("assistant", "yes")], draft="textarea draft"))
    assert d["url"] == "https://chatgpt.com/g/g-p-abc123/c/proj-1"
    time.sleep(1.5)  # the other tabs had the same time to send
    assert [c["conversation_id"] for c in conversations(server)] == ["proj-1"]
    assert conversations(server, "claude") == []


def test_a_long_chat_is_cut_into_frames_under_the_size_limit():
    # snapshot.js's cutting, run under Node: each part's text within budget, in order,
    # nothing lost, and a part's JSON fits the service's frame limit.
    script = f"""
      import {{ frameParts, FRAME_TEXT_BUDGET as B }} from {json.dumps((EXTENSION / "content" / "snapshot.js").as_uri())};
      const t = (i, n) => ({{index: i, role: i % 2 ? "assistant" : "user", text: "x".repeat(n)}});
      const turns = [t(0, 10), t(1, B * 0.6), t(2, B * 0.5), t(3, 5), t(4, B * 1.5), t(5, B)];
      const parts = frameParts(turns, B);
      process.stdout.write(JSON.stringify({{
        budget: B, parts: parts.map((p) => p.map((x) => x.index)), empty: frameParts([], B)}}));
    """
    done = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["parts"] == [[0, 1], [2, 3], [4], [5]]
    assert got["empty"] == [[]]
    assert got["budget"] * 3 + 65536 < protocol.MAX_FRAME_BYTES  # UTF-8: at most 3 bytes a character here
