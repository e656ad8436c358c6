"""Frames to rows (store/apply.py): snapshots, deltas, new chats, navigation, signals, imports."""

import os

import pytest

from draftvault.store import NeedFull, Unavailable, new_id
from tabs import CLIENT, PAGE, PAGE2, Tab, chat, files_under, texts


def test_round_trip(vault):
    tab = Tab(vault)
    applied = tab.snap(
        [("user", "Explain **monads**"), ("assistant", "```haskell\nreturn x >>= f\n```")],
        conv="site-conv-1",
        title="Monads",
        model="gpt-4o",
        draft="and functors?",
    )
    assert applied.outcome == "stored" and applied.seq == 1
    d = vault.get_conversation(applied.conversation)
    assert (d.site, d.conversation_id, d.title, d.model, d.url) == (
        "chatgpt",
        "site-conv-1",
        "Monads",
        "gpt-4o",
        "https://chatgpt.com/c/site-conv-1",
    )
    assert [(t.index, t.role, t.text) for t in d.turns] == [
        (0, "user", "Explain **monads**"),
        (1, "assistant", "```haskell\nreturn x >>= f\n```"),
    ]
    assert d.turn_count == 2 and d.status == "active" and d.corrupt == []
    assert d.draft.text == "and functors?" and [x.text for x in d.drafts] == ["and functors?"]
    (summary,) = vault.list_conversations()
    assert (summary.id, summary.title, summary.turn_count, summary.conversation_id) == (d.id, "Monads", 2, "site-conv-1")
    assert vault.last_seq(CLIENT) == 1 and vault.last_seq("other-client") == 0
    assert vault.conversation_for_page(PAGE) == d.id


def test_resent_frame_changes_nothing(vault):
    tab = Tab(vault)
    frame = tab.frame(chat(2), conv="c1", draft="draft one")
    first = vault.apply(CLIENT, frame)
    before = vault.get_conversation(first.conversation)
    again = vault.apply(CLIENT, frame)
    assert (again.outcome, again.seq, again.conversation) == ("duplicate", 1, first.conversation)
    assert vault.get_conversation(first.conversation) == before
    older = tab.frame([("user", "rewritten")], conv="c1")
    older.seq = 1  # an old seq with other content: still the frame already held
    assert vault.apply(CLIENT, older).outcome == "duplicate"
    assert vault.get_conversation(first.conversation) == before and vault.last_seq(CLIENT) == 1


def test_delta_merge_streaming_and_regeneration(vault):
    tab = Tab(vault)
    id = tab.snap(chat(4), conv="c1").conversation
    tab.snap([("user", "turn 4")], start=4)  # a delta: only the new turn
    tab.snap([("assistant", "The ans")], start=5)
    tab.snap([("assistant", "The answer, complete.")], start=5)  # streaming grows the last turn
    assert texts(vault, id) == chat(5) + [("assistant", "The answer, complete.")]
    tab.snap([("assistant", "A regenerated answer")], start=3)  # replaces turn 3, drops the rest
    assert texts(vault, id) == chat(3) + [("assistant", "A regenerated answer")]
    tab.snap([], start=2, count=2)  # turns vanished at the end (an edit)
    assert texts(vault, id) == chat(2) and vault.get_conversation(id).turn_count == 2
    tab.snap([], start=2, count=2, draft="only the draft changed")
    assert texts(vault, id) == chat(2)
    assert vault.get_conversation(id).draft.text == "only the draft changed"


def test_delta_past_the_stored_turns_needs_a_full_snapshot(vault):
    tab = Tab(vault)
    id = tab.snap(chat(3), conv="c1").conversation
    with pytest.raises(NeedFull) as e:
        tab.snap([("user", "turn 7")], start=7)
    assert e.value.have == 3
    assert vault.last_seq(CLIENT) == 1 and texts(vault, id) == chat(3)
    with pytest.raises(NeedFull) as e:  # a conversation the vault never saw
        Tab(vault, page=PAGE2).snap([("user", "x")], start=5, conv="c2")
    assert e.value.have == 0 and len(vault.list_conversations()) == 1
    tab.snap(chat(8), conv="c1")
    assert texts(vault, id) == chat(8)


def test_new_chat_page_joins_its_conversation(vault):
    tab = Tab(vault)
    assert tab.snap(conv=None, draft="").conversation is None  # a blank new chat keeps nothing
    assert vault.list_conversations() == []
    page_conv = tab.snap(conv=None, draft="my first prompt").conversation
    assert page_conv is not None and vault.get_conversation(page_conv).conversation_id is None
    tab.snap([("user", "my first prompt")], conv=None, draft="")
    joined = tab.snap([("assistant", "Hello!")], start=1, conv="site-new-1", title="Greeting")
    assert joined.conversation == page_conv == vault.conversation_for_page(PAGE)
    d = vault.get_conversation(page_conv)
    assert d.conversation_id == "site-new-1" and d.title == "Greeting"
    assert texts(vault, page_conv) == [("user", "my first prompt"), ("assistant", "Hello!")]
    assert d.draft is None and [x.text for x in d.drafts] == ["my first prompt"]
    # A later tab on that conversation finds it by the site's id.
    assert Tab(vault, page=PAGE2).snap(chat(1), conv="site-new-1").conversation == page_conv
    assert len(vault.list_conversations()) == 1


def test_new_chat_merges_into_a_conversation_the_vault_already_holds(vault):
    """Another tab saved the start of the same chat: the new chat's page joins it, the longer thread current."""
    Tab(vault, page=PAGE2).snap([("user", "hi")], conv="site-x")
    tab = Tab(vault)
    page_conv = tab.snap([("user", "hi"), ("assistant", "there")], conv=None, draft="next").conversation
    merged = tab.snap([], start=2, conv="site-x").conversation
    assert merged != page_conv and vault.get_conversation(page_conv) is None
    assert texts(vault, merged) == [("user", "hi"), ("assistant", "there")]
    assert vault.get_conversation(merged).draft.text == "next"
    assert [c.id for c in vault.list_conversations()] == [merged]
    assert vault.verify().bad == []


def test_new_chat_whose_page_turns_out_to_be_another_conversation_is_kept_as_it_is(vault):
    Tab(vault, page=PAGE2).snap([("user", "old")], conv="site-x")
    tab = Tab(vault)
    page_conv = tab.snap([("user", "hi"), ("assistant", "there")], conv=None, draft="next").conversation
    with pytest.raises(NeedFull):  # a delta past what site-x holds: the page resends all of it
        tab.snap([], start=2, conv="site-x")
    other = tab.snap([("user", "old"), ("assistant", "older")], conv="site-x").conversation
    assert other != page_conv and vault.conversation_for_page(PAGE) == other
    assert texts(vault, page_conv) == [("user", "hi"), ("assistant", "there")]
    assert vault.get_conversation(page_conv).draft.text == "next"
    assert texts(vault, other) == [("user", "old"), ("assistant", "older")]


def test_navigation_inside_the_app_moves_the_page(vault):
    tab = Tab(vault)
    a = tab.snap(chat(2, "alpha"), conv="conv-a").conversation
    b = tab.snap(chat(3, "beta"), conv="conv-b").conversation
    assert a != b and vault.conversation_for_page(PAGE) == b
    assert texts(vault, a) == chat(2, "alpha") and texts(vault, b) == chat(3, "beta")
    assert tab.snap(conv=None, draft="").conversation is None  # "new chat" in the same tab
    c = tab.snap(conv=None, draft="a new question").conversation
    assert c not in (a, b) and vault.get_conversation(c).draft.text == "a new question"
    assert tab.snap(chat(2, "alpha"), conv="conv-a").conversation == a  # back again
    assert texts(vault, a) == chat(2, "alpha") and texts(vault, b) == chat(3, "beta")
    assert vault.get_conversation(c).draft.text == "a new question"


def test_signals_attach_to_the_page_conversation(vault, home):
    tab = Tab(vault)
    assert tab.signal("offline", conv=None).conversation is None
    id = tab.snap(chat(2), conv="c1").conversation
    assert tab.signal("error_message", detail="Something went wrong").conversation == id
    # A reloaded tab that failed before its first snapshot: found by the site's id.
    assert Tab(vault, page=PAGE2).signal("blank_page", conv="c1").conversation == id
    assert vault.last_seq(CLIENT) == 4
    vault.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert not any(b"Something went wrong" in p.read_bytes() for p in files_under(home))


def test_unavailable_disk_stores_nothing(vault):
    tab = Tab(vault)
    id = tab.snap(chat(2), conv="c1").conversation
    vault.search("turn")  # indexed
    typed = [os.urandom(6).hex() for _ in range(3000)]  # a draft whose index entry needs new pages
    tab.snap(start=2, draft=" ".join(typed))  # stored, not indexed yet
    before = vault.get_conversation(id)
    vault.db.conn.executescript("PRAGMA incremental_vacuum;")  # no free pages left inside the file either
    pages = vault.db.execute("PRAGMA page_count").fetchone()[0]
    vault.db.execute(f"PRAGMA max_page_count={pages}")  # the disk is full now
    with pytest.raises(Unavailable):
        tab.snap([("user", os.urandom(300_000).hex())], start=2, draft="big draft")
    assert vault.last_seq(CLIENT) == 2 and vault.get_conversation(id) == before
    assert [h.conversation for h in vault.search("turn")] == [id]  # search answers from what is indexed...
    assert vault.search(typed[1234] + " ") == []  # ...which the full disk kept the draft from joining
    vault.db.execute("PRAGMA max_page_count=1073741823")
    assert tab.snap([("user", "after the disk was freed")], start=2).outcome == "stored"
    assert texts(vault, id) == chat(2) + [("user", "after the disk was freed")]
    assert [h.conversation for h in vault.search("freed")] == [id]
    assert [h.conversation for h in vault.search(typed[1234] + " ")] == [id]


def test_import_created_unchanged_updated_and_all_or_nothing(vault):
    args = dict(site="chatgpt", conversation_id="exp-1", title="Exported", url="https://chatgpt.com/c/exp-1",
                model="gpt-4", created_at="2024-05-01T17:37:11.000+00:00", updated_at="2024-05-02T00:00:00.000+00:00",
                turns=[("user", "hi"), ("assistant", "hello")], branches=[(0, [("user", "hi"), ("assistant", "a lost branch about walruses")])])
    id, outcome = vault.import_conversation(**args)
    assert outcome == "created"
    assert vault.import_conversation(**args) == (id, "unchanged")
    assert vault.import_conversation(**{**args, "turns": [("user", "hi")]}) == (id, "updated")
    d = vault.get_conversation(id)
    assert texts(vault, id) == [("user", "hi")] and d.created_at.startswith("2024-05-01T17:37:11") and d.model == "gpt-4"
    assert [h.conversation for h in vault.search("walruses")] == [id]
    with pytest.raises(RuntimeError):
        with vault.transaction():
            vault.import_conversation(**{**args, "conversation_id": "exp-2"})
            raise RuntimeError("a malformed file further on")
    assert [c.id for c in vault.list_conversations()] == [id]
    assert vault.verify().bad == []


def test_ids_never_look_like_a_cli_option():
    # token_urlsafe starts with "-" one time in 64: `draftvault export -xyz` would be an unknown option
    assert not any(new_id().startswith("-") for _ in range(2000))
