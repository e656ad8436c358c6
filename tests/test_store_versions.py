"""Versions instead of deletes (store/versions.py): reasons, streaming, identical versions kept once,
deleting one branch, and verify over versions and branches."""

import frames
from draftvault.store import versions
from tabs import CLIENT, Tab, chat, raw, texts


def branches(vault, id):
    return [(b.reason, b.from_index, [t.text for t in b.turns]) for b in vault.get_conversation(id).branches]


def test_regenerating_back_and_forth_keeps_each_answer_once(vault, home):
    tab = Tab(vault)
    id = tab.snap([("user", "q"), ("assistant", "answer A")], conv="c1").conversation
    for answer in ("answer B", "answer A", "answer B", "answer A"):
        tab.snap([("assistant", answer)], start=1)
    assert texts(vault, id) == [("user", "q"), ("assistant", "answer A")]
    assert branches(vault, id) == [("regenerated", 1, ["answer A"]), ("regenerated", 1, ["answer B"])]
    assert raw(home, "SELECT COUNT(*) FROM branch_turns")[0][0] == 2
    assert all(b.replaced_at for b in vault.get_conversation(id).branches)


def test_streaming_growth_is_one_answer_and_a_finished_one_is_a_version(vault):
    tab = Tab(vault)
    id = tab.snap([("user", "q")], conv="c1").conversation
    for n, text in enumerate(("The", "The answer", "The answer is")):
        seq = vault.last_seq(CLIENT) + 1
        vault.apply(CLIENT, frames.snapshot(seq, [("assistant", text)], conv="c1", turns_from=1, streaming=True))
    tab.snap([("assistant", "The answer is 42.")], start=1)  # finished (streaming false)
    assert branches(vault, id) == []
    tab.snap([("assistant", "Something else")], start=1)
    assert branches(vault, id) == [("regenerated", 1, ["The answer is 42."])]
    tab.snap([], start=1, count=1)  # the answer vanished after an edit: the tail is a branch
    assert branches(vault, id)[-1] == ("edited", 1, ["Something else"])


def test_deleting_one_branch_leaves_the_others_and_the_thread(vault):
    tab = Tab(vault)
    id = tab.snap(chat(4), conv="c1").conversation
    tab.snap([("user", "turn 2, edited")], start=2, count=3)
    tab.snap([("assistant", "turn 3, regenerated")], start=3)
    tab.snap([("assistant", "turn 3, again")], start=3)
    first, second = vault.get_conversation(id).branches
    assert (first.reason, second.reason) == ("edited", "regenerated")
    assert vault.delete_branch(id, first.id) and not vault.delete_branch(id, first.id)
    assert not vault.delete_branch(id, "not-a-number") and not vault.delete_branch("no-such", second.id)
    assert branches(vault, id) == [("regenerated", 3, ["turn 3, regenerated"])]
    assert [h.conversation for h in vault.search("edited")] == [id]  # the current thread has it
    assert vault.search("regenerated")[0].branch == second.id
    assert vault.verify().bad == []


def test_verify_checks_versions_like_turns(vault, home):
    tab = Tab(vault)
    id = tab.snap([("user", "q"), ("assistant", "first answer")], conv="c1").conversation
    tab.snap([("assistant", "second answer")], start=1)
    tab.snap([("assistant", "third answer")], start=1)
    ((bid,),) = raw(home, "SELECT bid FROM branch_turns WHERE branch=0")
    ((data,),) = raw(home, "SELECT data FROM blobs WHERE bid=?", (bid,))
    raw(home, "UPDATE blobs SET data=? WHERE bid=?", (data[:20] + bytes([data[20] ^ 1]) + data[21:], bid))
    raw(home, "UPDATE branches SET reason='made-up' WHERE branch=1")
    assert vault.get_conversation(id).corrupt == ["turn 1 of branch 0", "reason of branch 1"]
    bad = vault.verify().bad
    assert f"turn 1 of branch 0 of conversation {id}" in bad and f"branch 1 of conversation {id}" in bad


def answer(n):
    """A regenerated answer: words the answers share, and a marker word of its own."""
    return f"ANSWER{n:03d} " + " ".join(f"the reply says {w} about the question" for w in ("this", "that", str(n)) * 8)


def regenerate(vault, tab, n, streaming_frames=2):
    """Answer n streams in over a few growing frames, then is finished."""
    text = answer(n)
    for k in range(1, streaming_frames + 1):
        seq = vault.last_seq(CLIENT) + 1
        vault.apply(CLIENT, frames.snapshot(seq, [("assistant", text[: len(text) * k // 3])], conv="c1", turns_from=1,
                                            streaming=True))
    tab.snap([("assistant", text)], start=1)


def test_fifty_regenerations_are_packed_each_kept_once_and_found(vault, home):
    tab = Tab(vault)
    id = tab.snap([("user", "q"), ("assistant", answer(0))], conv="c1").conversation
    for n in range(1, 51):
        regenerate(vault, tab, n)
    kept = vault.get_conversation(id).branches
    assert [(b.reason, b.from_index, [t.text for t in b.turns]) for b in kept] == [
        ("regenerated", 1, [answer(n)]) for n in range(50)]  # no streaming state among them
    assert texts(vault, id) == [("user", "q"), ("assistant", answer(50))]
    for n, b in enumerate(kept):
        (hit,) = vault.search(f"ANSWER{n:03d}")
        assert (hit.conversation, hit.branch, hit.turn) == (id, b.id, 1) and f"ANSWER{n:03d}" in hit.snippet
    # the packed versions share one pack (it grows until runs.RUN_BYTES): one blob, one seal and one
    # index document for many answers
    ((packs, packed),) = raw(home, "SELECT COUNT(DISTINCT bid), COUNT(*) FROM branch_turns WHERE k IS NOT NULL")
    assert packs == 1 and packed >= 32
    # answers flipped back to (ChatGPT's "< 2 / 3 >") are not kept again, packed or not: only answer 50 is new
    regenerate(vault, tab, 3)
    regenerate(vault, tab, 50, streaming_frames=0)
    assert [b.turns[0].text for b in vault.get_conversation(id).branches] == [answer(n) for n in range(51)]
    assert vault.verify().bad == []


def test_a_pack_grows_until_full_and_a_full_pack_is_not_sealed_again(vault, home, monkeypatch):
    monkeypatch.setattr(versions, "PACK_TURNS", 2)
    monkeypatch.setattr(versions, "RUN_BYTES", 3 * len(answer(0)))  # three answers fill a pack
    tab = Tab(vault)
    id = tab.snap([("user", "q"), ("assistant", answer(0))], conv="c1").conversation
    seen = []  # the packs after each regeneration
    for n in range(1, 10):
        regenerate(vault, tab, n)
        seen.append(raw(home, "SELECT bid, COUNT(*) FROM branch_turns WHERE k IS NOT NULL GROUP BY bid ORDER BY bid"))
    assert [items for _, items in seen[-1]] == [3, 3, 2]  # eight packed, the ninth answer still loose
    for before, after in zip(seen, seen[1:]):
        assert {p for p in before if p[1] == 3} <= set(after)  # a full pack keeps its blob
    assert [b.turns[0].text for b in vault.get_conversation(id).branches] == [answer(n) for n in range(9)]
    assert vault.verify().bad == []


def test_deleting_a_packed_version_takes_its_text_off_the_disk(vault, home, monkeypatch):
    monkeypatch.setattr(versions, "PACK_TURNS", 3)
    tab = Tab(vault)
    id = tab.snap([("user", "q"), ("assistant", answer(0))], conv="c1").conversation
    for n in range(1, 5):
        regenerate(vault, tab, n, streaming_frames=0)
    kept = vault.get_conversation(id).branches
    ((pack,),) = raw(home, "SELECT DISTINCT bid FROM branch_turns WHERE branch=1")
    assert raw(home, "SELECT COUNT(*) FROM branch_turns WHERE bid=?", (pack,))[0][0] == 3
    assert vault.delete_branch(id, kept[1].id)
    assert vault.search("ANSWER001") == [] and raw(home, "SELECT 1 FROM blobs WHERE bid=?", (pack,)) == []
    assert [[t.text for t in b.turns] for b in vault.get_conversation(id).branches] == [[answer(n)] for n in (0, 2, 3)]
    assert [h.branch for h in vault.search("ANSWER002")] == [kept[2].id]
    assert vault.verify().bad == []


def test_a_packed_row_pointed_at_another_item_is_detected(vault, home, monkeypatch):
    monkeypatch.setattr(versions, "PACK_TURNS", 2)
    tab = Tab(vault)
    id = tab.snap([("user", "q"), ("assistant", "first answer")], conv="c1").conversation
    for text in ("second answer", "third answer"):
        tab.snap([("assistant", text)], start=1)
    assert raw(home, "SELECT branch, k FROM branch_turns ORDER BY branch") == [(0, 0), (1, 1)]
    raw(home, "UPDATE branch_turns SET k=1 - k")
    assert vault.get_conversation(id).corrupt == ["turn 1 of branch 0", "turn 1 of branch 1"]
    assert len(vault.verify().bad) == 2


def test_turn_parts_survive_packing_into_runs_and_are_sealed(vault, home):
    """Settled turns are packed into runs (runs.py): each keeps its thinking and documents,
    and none of their text is on disk in the clear."""
    doc = {"title": "Plan", "kind": "document", "text": "PLAINDOCWORD launch"}
    turns = [("user", f"question {i}") if i % 2 == 0 else ("assistant", f"answer {i}", {"thinking": f"THINKWORD {i}",
             "documents": [doc]}) for i in range(40)]
    tab = Tab(vault)
    id = tab.snap(turns[:20], conv="c-pack").conversation
    tab.snap(turns[20:], start=20)
    assert raw(home, "SELECT MAX(n) FROM turns")[0][0] > 1  # packed
    d = vault.get_conversation(id)
    assert [t.thinking for t in d.turns[1::2]] == [f"THINKWORD {i}" for i in range(1, 40, 2)]
    assert all(t.documents[0].text == "PLAINDOCWORD launch" for t in d.turns[1::2]) and d.branches == []
    assert not any(b"PLAINDOCWORD" in data or b"THINKWORD" in data for (data,) in raw(home, "SELECT data FROM blobs"))
