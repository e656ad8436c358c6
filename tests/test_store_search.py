"""Search (store/search.py, snippets.py) through the vault."""

import os
from unittest.mock import patch

from draftvault.store import Vault, index
from tabs import PAGE, PAGE2, Tab, chat, imported, rows, texts
from test_migrations import old_home  # noqa: F401 (a fixture: a copy of the vault 0.1.0 wrote)


def test_search_ranks_filters_and_marks(vault):
    often = imported(vault, 1, [("user", "rust borrow checker"), ("assistant", "The borrow checker checks borrow rules; borrow again.")])
    once = imported(vault, 2, [("user", "Why is my borrow failing in this long question about many other things entirely?")],
                    site="claude", updated="2026-10-01T10:00:00.000+00:00")
    imported(vault, 3, [("user", "nothing relevant here")])
    hits = vault.search("borrow")
    assert [h.conversation for h in hits] == [often, once]
    best = hits[0]
    assert best.title == "Conversation 1" and best.site == "chatgpt" and best.turn == 1
    assert [best.snippet[a:b] for a, b in best.marks] == ["borrow", "borrow", "borrow"]
    assert [h.conversation for h in vault.search("BORROW checker")] == [often]  # every word, any case
    assert [h.conversation for h in vault.search("borrow", site="claude")] == [once]
    assert [h.conversation for h in vault.search("borrow", since="2026-10-15")] == [often]
    assert [h.conversation for h in vault.search("borrow", until="2026-10-01")] == [once]
    assert vault.search("borrowed ") == [] and vault.search("   ") == []
    assert [c.id for c in vault.list_conversations(q="borrow")] == [often, once]
    assert [c.id for c in vault.list_conversations(site="claude")] == [once]


def test_search_as_you_type_and_snippets(vault):
    long_text = "Intro words. " * 30 + "Here we discuss Encryption at rest and encrypted backups." + " Outro." * 40
    id = imported(vault, 1, [("user", long_text)])
    imported(vault, 2, [("user", "an encyclopedia entry")])
    (hit,) = vault.search("encry")  # the last word is a prefix while typing
    assert hit.conversation == id
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…") and len(hit.snippet) < 260
    assert [hit.snippet[a:b] for a, b in hit.marks] == ["Encryption", "encrypted"]
    assert len(vault.search("enc")) == 2
    assert vault.search("encry ") == []  # a finished word is matched exactly
    assert [h.conversation for h in vault.search("rest encry")] == [id]
    assert [h.conversation for h in vault.search("ＥＮＣＲＹＰＴＩＯＮ")] == [id]  # NFKC: fullwidth letters
    street = imported(vault, 3, [("user", "Die Straße ist lang")])
    (hit,) = vault.search("STRASSE ")  # casefolding: ß is ss
    assert hit.conversation == street and [hit.snippet[a:b] for a, b in hit.marks] == ["Straße"]


def test_titles_are_searchable_and_follow_renames(vault):
    tab = Tab(vault)
    id = tab.snap(chat(2), conv="c1", title="Holiday in Lisbon").conversation
    (hit,) = vault.search("lisbon")
    assert (hit.conversation, hit.turn, hit.snippet, hit.marks) == (id, None, "Holiday in Lisbon", [(11, 17)])
    tab.snap(start=2, title="Trip to Porto")
    assert vault.search("lisbon") == [] and [h.conversation for h in vault.search("port")] == [id]
    vault.delete_conversation(id)
    assert vault.search("porto") == []


def test_many_hits_in_one_conversation_leave_room_for_others(vault):
    crowded = imported(vault, 1, [("user", f"zebra {n}") for n in range(400)])
    other = imported(vault, 2, [("user", "a much longer text that mentions the zebra only once, among many other words")])
    assert [h.conversation for h in vault.search("zebra")] == [crowded, other]
    assert [h.conversation for h in vault.search("zebra", site="chatgpt", since="2026-01-01")] == [crowded, other]


def test_a_hit_in_a_run_names_the_turn_that_matches_best(vault):
    turns = [("user" if k % 2 == 0 else "assistant", f"turn {k} is about rivers and boats") for k in range(40)]
    turns[27] = ("assistant", "Paddle the river by kayak, and check the kayak rental rules")
    turns[31] = ("user", "one kayak")
    id = imported(vault, 1, turns)
    assert len(rows(vault, id)) == 1  # an export's turns are settled: one run
    (hit,) = vault.search("kayak")
    assert (hit.conversation, hit.turn) == (id, 27)  # the turn with the most matches
    assert [hit.snippet[a:b] for a, b in hit.marks] == ["kayak", "kayak"]
    (hit,) = vault.search("boats 9")
    assert hit.turn == 9 and hit.snippet == "turn 9 is about rivers and boats"
    (hit,) = vault.search("rental one")  # words in two turns of one run: the run matches
    assert hit.turn in (27, 31)


def test_drafts_are_searchable(vault):
    tab = Tab(vault)
    id = tab.snap(chat(2), conv="c1", draft="an unsent paragraph about kayaks").conversation
    (hit,) = vault.search("kayaks")
    assert (hit.conversation, hit.turn) == (id, None)


def test_a_typed_draft_is_found_once_acked_even_by_another_process(vault, home):
    tab = Tab(vault)
    for typed in ("a note on kay", "a note on kayaks", "a note on canoes"):  # keystroke snapshots
        id = tab.snap(chat(2), conv="c1", draft=typed).conversation
    other = Vault.open(home)  # the service has not closed (or was killed): its drafts are committed
    try:
        assert [h.conversation for h in other.search("canoes")] == [id]
    finally:
        other.close()
    assert [h.conversation for h in vault.search("canoes")] == [id]
    assert vault.search("kay ") == []  # typing on replaced that version: it is not found
    assert [h.conversation for h in vault.search("kayaks")] == [id]  # an earlier edit, kept in the draft history


def test_delete_removes_everything_including_search(vault, home):
    tab = Tab(vault)
    shared = ("user", "shared opening line")
    gone = tab.snap([shared, ("assistant", "platypus unique answer")], conv="c1", draft="platypus draft").conversation
    kept = Tab(vault, page=PAGE2).snap([shared], conv="c2").conversation
    vault.record_failure(gone, "stalled")
    assert vault.search("platyp") and vault.search("platypus")
    assert vault.delete_conversation(gone) is True
    assert vault.get_conversation(gone) is None and vault.conversation_for_page(PAGE) is None
    assert vault.search("platypus") == [] and vault.search("platyp") == []
    assert vault.list_failures() == []
    assert [h.conversation for h in vault.search("shared opening")] == [kept]
    assert texts(vault, kept) == [shared]
    assert vault.delete_conversation(gone) is False
    assert vault.verify().bad == []
    # its words left the (sealed) index itself, not only the results
    assert vault._index.complete("pla", 99) == [] and vault._index.complete("uni", 99) == []
    assert vault._index.complete("sha", 99) == ["shared"]


def test_search_finds_only_failed_or_only_active_conversations(vault):
    failed = imported(vault, 1, [("user", "the heron flew off")])
    active = imported(vault, 2, [("user", "a heron, standing still")])
    vault.record_failure(failed, "stalled")
    assert [h.conversation for h in vault.search("heron", status="failed")] == [failed]
    assert [h.conversation for h in vault.search("heron", status="active")] == [active]
    assert {h.conversation for h in vault.search("heron")} == {failed, active}
    assert [c.id for c in vault.list_conversations(q="heron", status="failed")] == [failed]
    vault.resolve_failures(failed, "completed")
    assert vault.search("heron", status="failed") == []


def test_a_search_while_the_index_cannot_be_written_says_it_is_partial_and_catches_up(vault):
    tab = Tab(vault)
    id = tab.snap(chat(2), conv="c1").conversation
    assert vault.search_results("turn").partial is False
    typed = [os.urandom(6).hex() for _ in range(3000)]  # a draft whose index entry needs new pages
    tab.snap(start=2, draft=" ".join(typed))  # acked, not indexed yet
    vault.db.conn.executescript("PRAGMA incremental_vacuum;")  # no free pages left inside the file either
    pages = vault.db.execute("PRAGMA page_count").fetchone()[0]
    vault.db.execute(f"PRAGMA max_page_count={pages}")  # the disk is full now
    found = vault.search_results(typed[7] + " ")
    assert (found.items, found.partial) == ([], True)  # an empty answer that says it may miss acked text
    assert [h.conversation for h in vault.search_results("turn").items] == [id]
    vault.db.execute("PRAGMA max_page_count=1073741823")  # space returns
    found = vault.search_results(typed[7] + " ")
    assert ([h.conversation for h in found.items], found.partial) == ([id], False)


def filler(k: int) -> str:
    return f"marker{k} " + " ".join(f"filler{(k * 7 + j) % 97}" for j in range(120))  # ~1 KB a turn


def test_a_hit_deep_in_a_long_run_names_its_turn_and_snips_from_it(vault):
    turns = [("user" if k % 2 == 0 else "assistant", filler(k)) for k in range(200)]
    turns[20] = ("user", "a heron on the bank. " + filler(20))
    turns[150] = ("user", "heron once more. " + filler(150))
    turns[171] = ("assistant", "the heron, then a heron again. " + filler(171))
    id = imported(vault, 1, turns)
    assert len(rows(vault, id)) == 2  # two runs of ~128 KB
    (hit,) = vault.search("heron")
    assert (hit.conversation, hit.turn) == (id, 171)  # the turn that holds it most often
    assert hit.snippet.startswith("the heron, then") and [hit.snippet[a:b] for a, b in hit.marks] == ["heron", "heron"]
    (hit,) = vault.search("heron marker20 ")  # both only in turn 20: the most specific word leads there
    assert hit.turn == 20 and [hit.snippet[a:b] for a, b in hit.marks] == ["heron", "marker20"]
    (hit,) = vault.search("marker199 ")  # the last turn of the second run
    assert hit.turn == 199 and hit.snippet.startswith("marker199 filler")
    (hit,) = vault.search("marker1")  # a prefix: marker1, marker10... marker199 (a completion's best turn)
    assert hit.snippet[slice(*hit.marks[0])].startswith("marker1") and hit.turn == int(hit.snippet[6:].split()[0])
    assert vault.verify().bad == [] and vault.get_conversation(id).turns[171].text == turns[171][1]


def test_a_turn_past_what_the_index_can_name_is_still_found(vault):
    turns = [("user", f"short turn {k}") for k in range(300)]
    turns[255] = ("user", "the only osprey")  # a run holds 256 turns; the index names turns up to 254
    turns[256] = ("user", "another osprey, in the next run")
    id = imported(vault, 1, turns)
    assert rows(vault, id)[0][:2] == (0, 256)
    (hit,) = vault.search("only osprey ")
    assert (hit.conversation, hit.turn, hit.snippet) == (id, 255, "the only osprey")
    (hit,) = vault.search("only")
    assert (hit.turn, hit.snippet) == (255, "the only osprey")


def test_hits_in_earlier_versions_drafts_and_titles_name_their_place(vault):
    tab = Tab(vault)
    long = [(role, f"{text} {filler(k)}") for k, (role, text) in enumerate(chat(40))]
    id = tab.snap(long, conv="c1", title="Kingfisher notes", draft="a draft about a grebe").conversation
    tab.snap([("assistant", "a regenerated answer about a cormorant")], start=37)  # turn 37's answer replaced
    (hit,) = vault.search("marker37 ")  # the replaced answer, kept as an earlier version
    assert (hit.conversation, hit.turn, hit.branch) == (id, 37, vault.get_conversation(id).branches[0].id)
    assert hit.snippet.startswith("turn 37 marker37")
    (hit,) = vault.search("cormorant")
    assert (hit.turn, hit.branch, hit.snippet) == (37, None, "a regenerated answer about a cormorant")
    (hit,) = vault.search("marker12 ")  # settled turns in a run
    assert (hit.turn, hit.branch) == (12, None) and hit.snippet.startswith("turn 12 marker12")
    (hit,) = vault.search("grebe")
    assert (hit.turn, hit.snippet) == (None, "a draft about a grebe")
    (hit,) = vault.search("kingfisher")
    assert (hit.turn, hit.snippet) == (None, "Kingfisher notes")


def test_merged_segments_keep_each_word_s_turn(home):
    with patch.object(index, "POSTINGS_PER_BUCKET", 3):
        vault = Vault.open(home)
        try:
            ids = []
            for n in range(9):  # a flush after each: small segments that merge
                turns = [("user", f"chat{n} turn{k} " + " ".join(f"w{(n + k) % 13}" for _ in range(3))) for k in range(12)]
                ids.append(imported(vault, n, turns))
                vault.search(f"chat{n} ")
            assert vault.db.execute("SELECT COUNT(*) FROM segments").fetchone()[0] < 9
            for n, id in enumerate(ids):
                (hit,) = vault.search(f"chat{n} turn{(n * 5) % 12} ")
                assert (hit.conversation, hit.turn) == (id, (n * 5) % 12)
        finally:
            vault.close()


def test_a_vault_from_0_1_0_names_the_turn_before_and_after_a_reindex(old_home):
    vault = Vault.open(old_home)  # its runs are single zlib streams, its index rows name no turn
    try:
        for _ in range(2):
            (hit,) = vault.search("rivers 57 ")
            assert hit.turn == 57 and hit.snippet.startswith("rivers turn 57:")
            (hit,) = vault.search("walruses 31 ")
            assert hit.turn == 31 and hit.snippet.startswith("walruses turn 31:")
            vault.reindex()  # now the index names turns; the runs stay as 0.1.0 wrote them
        assert vault.verify().bad == []
    finally:
        vault.close()
