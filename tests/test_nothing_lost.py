"""Nothing the page showed is lost (issue 12), over the real WebSocket of a real `draftvault serve`:
regenerate, edit, cut off, streaming growth, two tabs, a new chat joining and leaving. Each
case checks that every text ever acked is in the conversation's detail (its turns or
branches) and found by search, and that the current thread is what the page showed last."""

from __future__ import annotations

import pytest

import frames
from draftvault import protocol


class Browser:
    """One extension (client) on one socket: its tabs send snapshots; every acked turn text is noted."""

    def __init__(self, ws):
        self.ws, self.seq, self.acked = ws, 0, set()

    def send(self, frame) -> None:
        self.ws.send(frames.encode(frame))
        reply = protocol.decode_server_frame(self.ws.recv(timeout=10))
        while isinstance(reply, protocol.Failure):  # pushed by the detector: not this frame's answer
            reply = protocol.decode_server_frame(self.ws.recv(timeout=10))
        assert reply == protocol.Ack(seq=frame.seq), reply
        if isinstance(frame, protocol.Snapshot):
            self.acked.update(t.text for t in frame.turns)

    def snap(self, pairs=(), **kw) -> None:
        self.seq += 1
        self.send(frames.snapshot(self.seq, pairs, **kw))

    def signal(self, kind, **kw) -> None:
        self.seq += 1
        self.send(frames.signal(self.seq, kind, **kw))


@pytest.fixture
def browser(server):
    with server.connect("client-keep") as (ws, _):
        yield Browser(ws)


def detail_of(server, conv_id=frames.CONV) -> dict:
    (item,) = [c for c in server.api("GET", "/api/conversations")["items"] if c["conversation_id"] == conv_id]
    return server.api("GET", f"/api/conversations/{item['id']}")


def current(detail) -> list[tuple[str, str]]:
    return [(t["role"], t["text"]) for t in detail["turns"]]


def kept(server, detail, texts) -> None:
    """Every text is in the detail (current thread or a branch) and found by search (by its marker word)."""
    held = {t["text"] for t in detail["turns"]} | {t["text"] for b in detail["branches"] for t in b["turns"]}
    assert set(texts) <= held, set(texts) - held
    for text in texts:
        marker = next(w for w in text.split() if w.isupper() and len(w) > 4)
        hits = server.api("GET", "/api/search", params={"q": marker})["items"]
        assert any(h["conversation"] == detail["id"] for h in hits), (marker, hits)


def test_regenerate_keeps_the_answer_it_replaced(server, browser):
    browser.snap([("user", "Tell me QUESTIONONE"), ("assistant", "GOODANSWER first")], title="Regen")
    browser.snap([("assistant", "WORSEANSWER second")], turns_from=1)
    d = detail_of(server)
    assert current(d) == [("user", "Tell me QUESTIONONE"), ("assistant", "WORSEANSWER second")]
    (branch,) = d["branches"]
    assert (branch["reason"], branch["from_index"]) == ("regenerated", 1) and branch["replaced_at"]
    assert [t["text"] for t in branch["turns"]] == ["GOODANSWER first"]
    kept(server, d, browser.acked)
    (hit,) = server.api("GET", "/api/search", params={"q": "GOODANSWER"})["items"]
    assert (hit["branch"], hit["turn"]) == (branch["id"], 1)
    # Only a person deletes: one branch, then it is gone from the detail and from search.
    assert server.request("DELETE", f"/api/conversations/{d['id']}/branches/{branch['id']}").status == 204
    assert server.request("DELETE", f"/api/conversations/{d['id']}/branches/{branch['id']}").status == 404
    assert detail_of(server)["branches"] == []
    assert server.api("GET", "/api/search", params={"q": "GOODANSWER"})["items"] == []


def test_an_edit_of_an_earlier_prompt_keeps_the_later_turns_as_a_branch(server, browser):
    thread = [("user", "PROMPTZERO"), ("assistant", "ANSWERZERO"), ("user", "PROMPTONE"), ("assistant", "ANSWERONE"),
              ("user", "PROMPTTWO"), ("assistant", "ANSWERTWO")]
    browser.snap(thread)
    browser.snap([("user", "PROMPTONE EDITED")], turns_from=2, turn_count=3)
    browser.snap([("assistant", "ANSWERNEW")], turns_from=3)
    d = detail_of(server)
    assert current(d) == thread[:2] + [("user", "PROMPTONE EDITED"), ("assistant", "ANSWERNEW")]
    (branch,) = d["branches"]
    assert (branch["reason"], branch["from_index"]) == ("edited", 2)
    assert [(t["index"], t["text"]) for t in branch["turns"]] == [(2, "PROMPTONE"), (3, "ANSWERONE"), (4, "PROMPTTWO"),
                                                                   (5, "ANSWERTWO")]
    kept(server, d, browser.acked)


def test_an_answer_cut_off_mid_stream_and_replaced_is_kept(server, browser):
    browser.snap([("user", "Explain STREAMQUESTION")])
    browser.snap([("assistant", "HALFWRITTEN answer that")], turns_from=1, streaming=True)
    browser.snap([("assistant", "FRESHANSWER from the start")], turns_from=1, streaming=False)
    d = detail_of(server)
    assert current(d)[-1] == ("assistant", "FRESHANSWER from the start")
    assert [(b["reason"], [t["text"] for t in b["turns"]]) for b in d["branches"]] == [
        ("cut_off", ["HALFWRITTEN answer that"])]
    kept(server, d, browser.acked)


def test_a_streaming_answer_leaves_no_intermediate_versions(server, browser):
    browser.snap([("user", "Count GROWTHQUESTION")])
    text = "GROWINGANSWER"
    for word in ("one", "two", "three", "four"):
        text += f" {word}"
        browser.snap([("assistant", text)], turns_from=1, streaming=True)
    browser.snap([("assistant", text + " done.")], turns_from=1, streaming=False)
    d = detail_of(server)
    assert current(d) == [("user", "Count GROWTHQUESTION"), ("assistant", "GROWINGANSWER one two three four done.")]
    assert d["branches"] == []
    kept(server, d, {"Count GROWTHQUESTION", text + " done."})
    # A finished answer replaced is a version again, even when the new text continues it.
    browser.snap([("assistant", text + " done. And more FINISHEDMORE")], turns_from=1)
    assert [b["reason"] for b in detail_of(server)["branches"]] == ["regenerated"]


def test_a_stale_tab_never_shortens_what_another_tab_saved(server, browser):
    pairs = [("user" if i % 2 == 0 else "assistant", f"TABTURN{i} text") for i in range(10)]
    browser.snap(pairs[:4], page="page-tab-a")
    browser.snap(pairs, page="page-tab-b")  # tab B, later, shows 10 turns
    # A keystroke in the stale tab A: a draft-only delta from what it showed (4 turns).
    browser.snap([], page="page-tab-a", turns_from=4, turn_count=4, draft="STALEDRAFT typed in tab A")
    d = detail_of(server)
    assert current(d) == pairs and d["branches"] == []
    assert d["draft"]["text"] == "STALEDRAFT typed in tab A"
    kept(server, d, browser.acked)
    # Tab A then sends a prompt of its own: it overwrites turn 4 on, and what tab B saved is a `conflict` branch.
    browser.snap([("user", "TABAPROMPT instead")], page="page-tab-a", turns_from=4, turn_count=5)
    d = detail_of(server)
    assert current(d) == pairs[:4] + [("user", "TABAPROMPT instead")]
    assert [(b["reason"], b["from_index"], len(b["turns"])) for b in d["branches"]] == [("conflict", 4, 6)]
    kept(server, d, browser.acked)


def test_a_new_chat_whose_tab_moves_to_another_conversation_is_kept(server, browser):
    browser.snap([("user", "OTHERCHAT question"), ("assistant", "OTHERCHAT answer")], page="page-other", conv="c-other",
                 title="The other one")
    page = "page-newchat"
    browser.snap([("user", "NEWCHATPROMPT please"), ("assistant", "NEWCHATANSWER partial")], page=page, conv=None,
                 draft="NEWCHATDRAFT unsent")
    browser.signal("error_message", page=page, conv=None, detail="Something went wrong")
    new_chat = server.api("GET", "/api/conversations", params={"page_id": page})["items"][0]["id"]
    assert server.api("GET", f"/api/conversations/{new_chat}")["failures"], "the failure belongs to the new chat"
    # The same tab (same page id) opens the other conversation: it is shown in full.
    browser.snap([("user", "OTHERCHAT question"), ("assistant", "OTHERCHAT answer")], page=page, conv="c-other")
    other = detail_of(server, "c-other")
    assert other["id"] != new_chat and current(other)[0] == ("user", "OTHERCHAT question")
    kept_chat = server.api("GET", f"/api/conversations/{new_chat}")
    assert current(kept_chat) == [("user", "NEWCHATPROMPT please"), ("assistant", "NEWCHATANSWER partial")]
    assert kept_chat["draft"]["text"] == "NEWCHATDRAFT unsent" and kept_chat["failures"]
    assert server.api("GET", "/api/conversations", params={"page_id": page})["items"][0]["id"] == other["id"]
    kept(server, kept_chat, {"NEWCHATPROMPT please", "NEWCHATANSWER partial"})
    kept(server, other, {"OTHERCHAT question", "OTHERCHAT answer"})


def test_a_new_chat_joins_the_conversation_it_becomes(server, browser):
    """Another tab saw the chat first (with the answer further along): the new chat's page joins it, losing nothing."""
    page = "page-joining"
    browser.snap([("user", "JOINPROMPT hello"), ("assistant", "JOINANSWER is cut")], page=page, conv=None,
                 draft="JOINDRAFT next")
    browser.snap([("user", "JOINPROMPT hello"), ("assistant", "JOINANSWER is cut short here, then FURTHERTEXT")],
                 page="page-elsewhere", conv="c-joined")
    browser.snap([("assistant", "JOINANSWER is cut off: TAKETWO")], page=page, conv="c-joined", turns_from=1)
    d = detail_of(server, "c-joined")
    assert len(server.api("GET", "/api/conversations")["items"]) == 1
    assert current(d) == [("user", "JOINPROMPT hello"), ("assistant", "JOINANSWER is cut off: TAKETWO")]
    assert d["draft"]["text"] == "JOINDRAFT next"
    kept(server, d, browser.acked)


def test_fifty_regenerations_are_each_kept_once_and_found(server, browser):
    """Each answer streams in, is finished, then regenerated: every finished one is a version (most of them
    packed together, store/versions.py), found by search in its own branch; no streaming state is kept."""
    answers = [f"REGEN{n:02d}X answer number {n} says " + "much the same thing as the others " * 5 for n in range(51)]
    browser.snap([("user", "Ask REGENQUESTION"), ("assistant", answers[0])])
    for text in answers[1:]:
        for cut in (len(text) // 3, 2 * len(text) // 3):
            browser.snap([("assistant", text[:cut])], turns_from=1, streaming=True)
        browser.snap([("assistant", text)], turns_from=1)
    d = detail_of(server)
    assert current(d) == [("user", "Ask REGENQUESTION"), ("assistant", answers[-1])]
    assert [(b["reason"], [t["text"] for t in b["turns"]]) for b in d["branches"]] == [
        ("regenerated", [text]) for text in answers[:-1]]
    for text, branch in zip(answers, d["branches"]):
        (hit,) = server.api("GET", "/api/search", params={"q": text.split()[0]})["items"]
        assert (hit["conversation"], hit["branch"], hit["turn"]) == (d["id"], branch["id"], 1)
    kept(server, d, {answers[-1]})
