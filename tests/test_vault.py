"""The encrypted vault against real SQLite files on disk."""

import os
import sqlite3
import stat
import time
import zlib
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from draftvault import config, protocol
from draftvault.crypto import PassphraseRequired, WrongPassphrase, set_passphrase
from draftvault import vault as vault_module
from draftvault.vault import DRAFT_VERSIONS, LIVE_TURNS, PACK_TURNS, KeyMismatch, NeedFull, Unavailable, Vault

CLIENT = "client-0001"
PAGE, PAGE2 = "page-0001", "page-0002"


class Tab:
    """Builds frames as the extension does: one page, seq numbers from the client."""

    def __init__(self, vault, page=PAGE, client=CLIENT, site="chatgpt"):
        self.vault, self.page, self.client, self.site = vault, page, client, site
        self.conv: str | None = None

    def frame(self, turns=(), *, start=0, count=None, draft=None, conv=..., title=None, model=None, url=None):
        conv = self.conv if conv is ... else conv
        self.conv = conv
        return protocol.Snapshot(
            seq=self.vault.last_seq(self.client) + 1,
            page_id=self.page,
            conversation_id=conv,
            site=self.site,
            url=url or (f"https://chatgpt.com/c/{conv}" if conv else "https://chatgpt.com/"),
            turn_count=start + len(turns) if count is None else count,
            turns_from=start,
            turns=[protocol.Turn(index=start + i, role=r, text=t) for i, (r, t) in enumerate(turns)],
            title=title,
            model=model,
            draft=draft,
        )

    def snap(self, turns=(), **kw):
        return self.vault.apply(self.client, self.frame(turns, **kw))

    def signal(self, kind, detail=None, conv=...):
        return self.vault.apply(
            self.client,
            protocol.Signal(
                seq=self.vault.last_seq(self.client) + 1,
                page_id=self.page,
                conversation_id=self.conv if conv is ... else conv,
                site=self.site,
                url="https://chatgpt.com/",
                kind=kind,
                detail=detail,
            ),
        )


def texts(vault, id):
    return [(t.role, t.text) for t in vault.get_conversation(id).turns]


def chat(n, prefix="turn"):
    return [("user" if i % 2 == 0 else "assistant", f"{prefix} {i}") for i in range(n)]


def files_under(home):
    return [p for p in home.rglob("*") if p.is_file()]


def raw(home, sql, params=()):
    """Changes the vault file behind the vault's back, as an attacker or a bad disk would."""
    conn = sqlite3.connect(config.db_path(home))
    try:
        out = conn.execute(sql, params).fetchall()
        conn.commit()
        return out
    finally:
        conn.close()


# ---- ingest ---------------------------------------------------------------------


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
    Tab(vault, page=PAGE2).snap([("user", "old")], conv="site-x")
    tab = Tab(vault)
    page_conv = tab.snap([("user", "hi"), ("assistant", "there")], conv=None, draft="next").conversation
    merged = tab.snap([], start=2, conv="site-x").conversation
    assert merged != page_conv and vault.get_conversation(page_conv) is None
    assert texts(vault, merged) == [("user", "hi"), ("assistant", "there")]
    assert vault.get_conversation(merged).draft.text == "next"
    assert [c.id for c in vault.list_conversations()] == [merged]
    assert vault.verify().bad == []


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


# ---- storage --------------------------------------------------------------------


def db_bytes(vault, home):
    vault.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in files_under(home) if p.name.startswith("vault.db"))


def test_identical_content_is_stored_once(vault, home):
    tab = Tab(vault)
    words = "the quick answer explains how vaults keep every draft safe while servers fail often".split()
    turns = [(r, f"{t}: " + " ".join(words[(i * k) % len(words)] for k in range(200))) for i, (r, t) in enumerate(chat(100))]
    tab.snap(turns, conv="c1")
    one = db_bytes(vault, home)
    draft = ""
    for n in range(300):  # the draft grows while the page resends the last turn, now and then everything
        draft += words[n % len(words)] + " "
        tab.snap(turns[-1:] if n % 50 else turns, start=99 if n % 50 else 0, draft=draft)
    grown = db_bytes(vault, home)
    assert grown < one * 1.5, (one, grown)
    (blobs,) = vault.db.execute("SELECT COUNT(*) FROM blobs").fetchone()
    assert blobs <= 100 + DRAFT_VERSIONS


def rows(vault, id):
    return vault.db.execute(
        "SELECT idx, n, bid FROM turns WHERE cid = (SELECT cid FROM conversations WHERE id=?) ORDER BY idx", (id,)
    ).fetchall()


def test_settled_turns_are_sealed_together_and_only_changed_rows_rewritten(vault):
    tab = Tab(vault)
    turns = [(r, f"{t}: " + "a long paragraph of an answer " * 40) for r, t in chat(300)]
    id = tab.snap(turns, conv="c1").conversation
    first = rows(vault, id)
    assert sum(n for _, n, _ in first) == 300 and len(first) < 10  # a few runs...
    assert [n for _, n, _ in first[-LIVE_TURNS:]] == [1] * LIVE_TURNS  # ...and the live turns one per row
    tab.snap(turns)  # a reload sends everything again: nothing is rewritten
    assert rows(vault, id) == first
    tab.snap([("assistant", "streaming, part")], start=299)
    tab.snap([("assistant", "streaming, part two")], start=299)  # only the answer's row changes
    streamed = rows(vault, id)
    assert streamed[:-1] == first[:-1] and streamed[-1][2] != first[-1][2]
    turns[299] = ("assistant", "streaming, part two")
    turns[5] = ("user", "an edited question, early on")
    tab.snap(turns)  # an edit deep in the history rewrites the run that holds it
    edited = rows(vault, id)
    assert edited[0][2] != first[0][2] and edited[1:] == streamed[1:]
    assert texts(vault, id) == turns
    for k in range(PACK_TURNS):  # the chat goes on: its settled turns are one per row, then packed
        turns += [("user", f"question {k}"), ("assistant", f"answer {k}")]
        tab.snap(turns[-2:], start=len(turns) - 2)
    now = rows(vault, id)
    assert len(now) < len(first) + PACK_TURNS and texts(vault, id) == turns
    assert sum(n for _, n, _ in now) == len(turns) and vault.verify().bad == []


def test_runs_as_packed_as_they_get_are_left_alone(vault):
    # each turn fills a run alone yet seals small (very compressible): 34 one-turn runs, never "full"
    huge = [("user" if k % 2 == 0 else "assistant", "x" * vault_module.RUN_BYTES + str(k)) for k in range(34)]
    tab = Tab(vault)
    id = tab.snap(huge, conv="c1").conversation
    before, updated = rows(vault, id), vault.get_conversation(id).updated_at
    assert [n for _, n, _ in before] == [1] * 34
    time.sleep(0.01)
    tab.snap(huge)  # the same again: no repacking, nothing changed
    assert rows(vault, id) == before and vault.get_conversation(id).updated_at == updated


def test_a_vault_with_a_turn_per_row_is_packed_when_opened(home):
    vault = Vault.open(home)
    id = Tab(vault).snap(chat(6), conv="c1").conversation
    # The layout before runs: a text blob per turn, its role in the row, compressed with
    # the vault's preset dictionary (kind "d").
    zdict = b"turn user assistant"
    with vault.transaction():
        vault.db.execute("DELETE FROM blobs WHERE bid IN (SELECT bid FROM turns)")
        vault.db.execute("DROP TABLE turns")
        vault.db.execute("CREATE TABLE turns (cid INTEGER, idx INTEGER, role TEXT, bid INTEGER, tag BLOB, PRIMARY KEY (cid, idx)) WITHOUT ROWID")
        vault.db.execute("CREATE INDEX turns_bid ON turns(bid)")
        vault.db.execute("INSERT INTO meta VALUES ('zdict', ?)", (vault._keys.seal(zdict, b"meta|zdict"),))
        for idx, (role, text) in enumerate(chat(6)):
            h = vault._hash(text)
            z = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, zdict)
            data = vault._keys.seal(b"d" + z.compress(text.encode()) + z.flush(), b"blob|" + h)
            bid = vault.db.execute("INSERT INTO blobs (hash, data) VALUES (?, ?)", (h, data)).lastrowid
            tag = vault._keys.mac(f"turn|{id}|{idx}|{role}|".encode() + h, b"row tag")[:16]
            vault.db.execute("INSERT INTO turns VALUES (1, ?, ?, ?, ?)", (idx, role, bid, tag))
        vault.db.execute("UPDATE turns SET tag = (SELECT tag FROM turns WHERE idx=0) WHERE idx=5")  # moved, before
    vault.close()
    vault = Vault.open(home)
    try:
        assert texts(vault, id) == chat(5)  # the moved row is not vouched for by a new tag
        assert [n for _, n, _ in rows(vault, id)] == [4, 1]
        assert [h.turn for h in vault.search("turn 3")] == [3] and vault.verify().bad == []
        (old_blobs,) = vault.db.execute("SELECT COUNT(*) FROM blobs").fetchone()
        assert old_blobs == 2  # the two runs: the texts of the old rows are gone
    finally:
        vault.close()


def test_draft_history_keeps_the_peaks_of_each_edit(vault):
    tab = Tab(vault)
    id = tab.snap(chat(2), conv="c1").conversation
    for text in ["H", "Hel", "Hello wor", "Hello world"]:  # typing on: one version
        tab.snap(start=2, draft=text)
    assert [d.text for d in vault.get_conversation(id).drafts] == ["Hello world"]
    for text in ["Hello wo", "Hello", "Hel"]:  # deleting on: the peak is kept
        tab.snap(start=2, draft=text)
    tab.snap(start=2, draft="Help me")
    d = vault.get_conversation(id)
    assert [x.text for x in d.drafts] == ["Help me", "Hello world"] and d.draft.text == "Help me"
    tab.snap([("user", "Help me")], start=2, draft="")  # sent: no current draft, history kept
    d = vault.get_conversation(id)
    assert d.draft is None and [x.text for x in d.drafts] == ["Help me", "Hello world"]
    tab.snap(start=3, draft="Help me more")  # a new draft after sending is a new version
    assert [x.text for x in vault.get_conversation(id).drafts][:2] == ["Help me more", "Help me"]
    for n in range(DRAFT_VERSIONS + 5):
        tab.snap(start=3, draft=f"version {n}" if n % 2 else f"other {n}")
    d = vault.get_conversation(id)
    assert len(d.drafts) == DRAFT_VERSIONS
    assert d.drafts[0].text == d.draft.text == f"other {DRAFT_VERSIONS + 4}"
    assert tab.snap(start=3, draft=None).outcome == "stored"  # composer not read: draft kept
    assert vault.get_conversation(id).draft.text == f"other {DRAFT_VERSIONS + 4}"


# ---- security -------------------------------------------------------------------

CANARY = "The purple elephant sings opera at midnight 7c1e"


def test_canary_is_found_but_never_on_disk(vault, home):
    tab = Tab(vault)
    id = tab.snap(
        [("user", CANARY), ("assistant", "noted")],
        conv="secret-conversation-id-42",
        title="Title canary zebra-quartz",
        model="model-canary-gpt",
        url="https://chatgpt.com/c/secret-conversation-id-42?q=canary-url-token",
        draft=CANARY + " (draft)",
    ).conversation
    tab.signal("error_message", detail="signal canary detail")
    vault.record_failure(id, "error_message", detail="failure canary detail")
    assert vault.get_conversation(id).turns[0].text == CANARY
    assert [h.conversation for h in vault.search("purple elephant")] == [id]
    secrets = [
        CANARY,
        "purple elephant",
        "zebra-quartz",
        "model-canary-gpt",
        "secret-conversation-id-42",
        "canary-url-token",
        "signal canary detail",
        "failure canary detail",
        "midnight",
    ]

    def check():
        found = [(p.name, s) for p in files_under(home) for s in secrets if s.encode() in p.read_bytes()]
        assert found == []

    check()  # the WAL holds the recent writes
    vault.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    check()  # ...and now the database file does
    names = {p.name for p in files_under(home)}
    assert {"vault.db", "vault.key"} <= names
    for p in files_under(home):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert vault.db.execute("PRAGMA temp_store").fetchone()[0] == 2  # MEMORY


def test_tampered_records_are_reported_and_the_rest_is_readable(vault, home):
    tab = Tab(vault)
    id = tab.snap(chat(4), conv="c1", title="Kept title", draft="a draft").conversation
    other = Tab(vault, page=PAGE2).snap(chat(3, "other"), conv="c2", title="Other").conversation
    (bid,) = raw(
        home, "SELECT t.bid FROM turns t JOIN conversations c USING (cid) WHERE c.id=? AND t.idx=2", (id,)
    )[0]
    ((data,),) = raw(home, "SELECT data FROM blobs WHERE bid=?", (bid,))
    raw(home, "UPDATE blobs SET data=? WHERE bid=?", (data[:20] + bytes([data[20] ^ 1]) + data[21:], bid))
    raw(home, "UPDATE conversations SET title = (SELECT title FROM conversations WHERE id=?) WHERE id=?", (other, id))
    d = vault.get_conversation(id)
    assert sorted(d.corrupt) == ["title", "turn 2"]
    assert [t.index for t in d.turns] == [0, 1, 3] and d.title is None and d.draft.text == "a draft"
    assert texts(vault, other) == chat(3, "other") and vault.get_conversation(other).corrupt == []
    report = vault.verify()
    assert f"title of conversation {id}" in report.bad and f"turn 2 of conversation {id}" in report.bad
    assert not any(other in b for b in report.bad) and report.checked > 10
    # A row pointed at another conversation's turns is caught too (the snapshot's settled turns 0-1 are one run).
    raw(
        home,
        "UPDATE turns SET bid = (SELECT t.bid FROM turns t JOIN conversations c USING (cid) WHERE c.id=? AND t.idx=0)"
        " WHERE cid = (SELECT cid FROM conversations WHERE id=?) AND idx=0",
        (other, id),
    )
    assert "turns 0-1" in vault.get_conversation(id).corrupt
    assert texts(vault, other) == chat(3, "other")
    assert [c.title for c in vault.list_conversations() if c.id == id] == [None]


def test_passphrase_protected_vault(home):
    v = Vault.open(home)
    id = Tab(v).snap(chat(2), conv="c1").conversation
    v.close()
    key = config.key_path(home)
    set_passphrase(key, None, "open sesame")
    with pytest.raises(PassphraseRequired):
        Vault.open(home)
    with pytest.raises(WrongPassphrase, match="wrong passphrase for the vault key at"):
        Vault.open(home, "open sesam")
    v = Vault.open(home, "open sesame")
    assert texts(v, id) == chat(2)
    v.close()
    set_passphrase(key, "open sesame", None)
    v = Vault.open(home)
    assert texts(v, id) == chat(2)
    v.close()


def test_a_missing_or_foreign_key_is_refused(home, tmp_path):
    Vault.open(home).close()
    key = config.key_path(home)
    saved = key.read_bytes()
    key.unlink()
    with pytest.raises(KeyMismatch, match="missing"):
        Vault.open(home)
    Vault.open(tmp_path / "elsewhere").close()
    key.write_bytes(config.key_path(tmp_path / "elsewhere").read_bytes())
    key.chmod(0o600)  # a key file others can read is refused before anything else
    with pytest.raises(KeyMismatch, match="does not open"):
        Vault.open(home)
    key.write_bytes(saved)
    Vault.open(home).close()


# ---- search ---------------------------------------------------------------------


def imported(vault, n, turns, *, site="chatgpt", title=None, updated="2026-11-01T10:00:00.000+00:00"):
    return vault.import_conversation(
        site=site,
        conversation_id=f"conv-{n}",
        title=title or f"Conversation {n}",
        url=None,
        model=None,
        created_at=updated,
        updated_at=updated,
        turns=turns,
    )[0]


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


# ---- failures and import ----------------------------------------------------------


def test_failures_mark_the_conversation_failed_until_resolved(vault):
    tab = Tab(vault)
    id = tab.snap(chat(2), conv="c1").conversation
    first = vault.record_failure(id, "error_message", detail="Something went wrong", page_id=PAGE)
    second = vault.record_failure(id, "stalled", provider_outage=True)
    assert (first.kind, first.detail, first.resolved, second.provider_outage) == ("error_message", "Something went wrong", False, True)
    assert vault.get_conversation(id).status == "failed"
    assert [c.id for c in vault.list_conversations(status="failed")] == [id]
    assert vault.list_conversations(status="active") == []
    assert [f.id for f in vault.list_failures(resolved=False, conversation=id)] == [first.id, second.id]
    done = vault.resolve_failure(first.id, "dismissed")
    assert (done.resolved, done.resolution) == (True, "dismissed") and done.resolved_at
    assert vault.resolve_failure("no-such-failure", "dismissed") is None
    assert vault.resolve_failures(id, "completed") == [second.id]
    assert vault.get_conversation(id).status == "active"
    assert [f.resolution for f in vault.get_conversation(id).failures] == ["dismissed", "completed"]
    assert vault.list_failures(resolved=False) == []


def test_import_created_unchanged_updated_and_all_or_nothing(vault):
    args = dict(site="chatgpt", conversation_id="exp-1", title="Exported", url="https://chatgpt.com/c/exp-1",
                model="gpt-4", created_at="2024-05-01T17:37:11.000+00:00", updated_at="2024-05-02T00:00:00.000+00:00",
                turns=[("user", "hi"), ("assistant", "hello")], branches=[[("user", "hi"), ("assistant", "a lost branch about walruses")]])
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


# ---- delta application, as a property -------------------------------------------------

ROLES = st.sampled_from(["user", "assistant"])
TEXTS = st.sampled_from(["a", "b", "same text", "other words here", ""])


@st.composite
def snapshots(draw):
    """Deltas: where they start (sometimes past the end), the turns sent, the count claimed."""
    ops = []
    for _ in range(draw(st.integers(1, 12))):
        start = draw(st.integers(0, 8))
        turns = draw(st.lists(st.tuples(ROLES, TEXTS), max_size=4))
        extra = draw(st.integers(-3, 2))
        ops.append((start, turns, max(0, start + len(turns) + extra)))
    return ops


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=snapshots())
def test_delta_application_matches_a_list_model(vault, ops):
    """Runs of at most 3 turns, packed from 2, so deltas straddle, split and pack runs."""
    with patch.multiple(vault_module, RUN_TURNS=3, PACK_TURNS=2, LIVE_TURNS=1):
        apply_and_compare(vault, ops)


def apply_and_compare(vault, ops):
    # every example is its own tab and conversation in the one vault
    tab, model = Tab(vault, page=f"page-{os.urandom(6).hex()}"), []
    id = tab.snap([], conv=f"conv-{os.urandom(6).hex()}", count=0).conversation
    for start, turns, count in ops:
        if start > len(model):
            with pytest.raises(NeedFull) as e:
                tab.snap(turns, start=start, count=count)
            assert e.value.have == len(model)
            continue
        tab.snap(turns, start=start, count=count)
        model[start : start + len(turns)] = turns
        del model[min(count, len(model)) :]
        assert texts(vault, id) == model
        assert vault.get_conversation(id).turn_count == len(model)
    assert vault.verify().bad == []


def test_ids_never_look_like_a_cli_option():
    # token_urlsafe starts with "-" one time in 64: `draftvault export -xyz` would be an unknown option
    assert not any(vault_module._new_id().startswith("-") for _ in range(2000))
