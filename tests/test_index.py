"""The sealed search index (store/index.py) through the vault: segments, merges, deletes, damage."""

import math
import tempfile
from pathlib import Path
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from draftvault import config
from draftvault.store import Vault, index
from tabs import raw

WORDS = ["amber", "ambit", "basalt", "cobalt", "copper", "delta", "ember", "emberly", "fjord", "garnet"]


def add(vault, n, text, title=None):
    return vault.import_conversation(
        site="chatgpt", conversation_id=f"c{n}", title=title, url=None, model=None,
        created_at=None, updated_at=None, turns=[("user", text)],
    )[0]


def found(vault, q):
    return {h.conversation for h in vault.search(q, limit=100)}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6), st.booleans(), st.booleans()),
        min_size=1,
        max_size=24,
    )
)
def test_every_word_finds_exactly_the_live_texts_that_hold_it(chats):
    """Against a brute-force answer, through flushes (a search after each chat), merges and deletes.

    Buckets of 3 postings, so segments have different bucket counts and merges regroup them.
    """
    with tempfile.TemporaryDirectory() as tmp, patch.object(index, "POSTINGS_PER_BUCKET", 3):
        vault = Vault.open(Path(tmp) / "home")
        try:
            live: dict[str, set[str]] = {}
            for n, (ws, search_now, delete) in enumerate(chats):
                id = add(vault, n, " ".join(ws))
                live[id] = set(ws)
                if search_now:
                    vault.search(ws[0] + " ")  # flushes: one more small segment
                if delete:
                    vault.delete_conversation(id)
                    del live[id]
            for w in WORDS:
                assert found(vault, w + " ") == {id for id, ws in live.items() if w in ws}, w
            both = {id for id, ws in live.items() if {"amber", "ember"} <= ws}
            assert found(vault, "amber ember ") == both
            # a prefix finds every completion: "emb" is ember and emberly
            assert found(vault, "emb") == {id for id, ws in live.items() if ws & {"ember", "emberly"}}
            segments = vault.db.execute("SELECT docs, buckets FROM segments").fetchall()
            assert len(segments) <= index.FANIN * 3  # merged as they pile up
        finally:
            vault.close()


def bm25(texts: list[list[str]], query: list[str]) -> dict[int, float]:
    """Okapi BM25 (k1 = 1.2, b = 0.75, as FTS5's bm25()) of each text holding every query word, written out."""
    avgdl = sum(map(len, texts)) / len(texts)
    scores = {}
    for n, ws in enumerate(texts):
        if set(query) <= set(ws):
            scores[n] = 0.0
            for w in query:
                df, tf = sum(w in t for t in texts), ws.count(w)
                idf = math.log(1 + (len(texts) - df + 0.5) / (df + 0.5))
                scores[n] += idf * tf * (1.2 + 1) / (tf + 1.2 * (1 - 0.75) + 1.2 * 0.75 / avgdl * len(ws))
    return scores


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.lists(st.sampled_from(WORDS[:5]), min_size=1, max_size=12), st.booleans()),
             min_size=1, max_size=40),
    st.lists(st.sampled_from(WORDS[:5]), min_size=1, max_size=3, unique=True),
)
def test_hits_are_ranked_by_bm25(chats, query):
    """The order of the hits is BM25's, over texts spread across several segments; equal scores:
    the newer text first."""
    with tempfile.TemporaryDirectory() as tmp:
        vault = Vault.open(Path(tmp) / "home")
        try:
            ids, texts = [], []
            for n, (ws, search_now) in enumerate(chats):
                ws = ws + [f"n{n}"]  # every text its own (a repeated text is stored, and indexed, once)
                ids.append(add(vault, n, " ".join(ws)))
                texts.append(ws)
                if search_now:  # one more segment, and the average length BM25 uses changes
                    vault.search(ws[0] + " ")
            scores = bm25(texts, query)
            hits = [ids.index(h.conversation) for h in vault.search(" ".join(query) + " ", limit=100)]
            assert sorted(hits) == sorted(scores)
            for limit in (1, 2, 3):  # only the best are sorted then: the same ones
                assert [ids.index(h.conversation) for h in vault.search(" ".join(query) + " ", limit=limit)] == hits[:limit]
            for a, b in zip(hits, hits[1:]):
                assert scores[a] >= scores[b] - 1e-9, (a, b)
                if len(query) == 1 and scores[a] == scores[b]:  # one word: the very same sums, so ties are exact
                    assert a > b
        finally:
            vault.close()


def test_many_small_flushes_merge_into_few_segments(vault):
    for n in range(3 * index.FANIN):
        add(vault, n, f"note number{n} about kayaks")
        assert found(vault, f"number{n} ")  # each search flushes one small segment
    (count,) = vault.db.execute("SELECT COUNT(*) FROM segments").fetchone()
    assert count < index.FANIN
    assert len(found(vault, "kayaks")) == 3 * index.FANIN


def test_nothing_on_disk_names_a_word(home):
    vault = Vault.open(home)
    add(vault, 1, "zanzibarian quokkas", title="Quokka notes")
    vault.search("quokkas")
    vault.close()
    data = config.db_path(home).read_bytes()
    assert b"quokka" not in data.lower() and b"zanzibarian" not in data.lower()


def test_a_damaged_index_row_is_reported_and_searches_go_on(vault, home):
    first = add(vault, 1, "granite and marble")
    vault.search("granite")  # segment 1
    second = add(vault, 2, "granite and slate")
    vault.search("granite")  # segment 2
    (key,) = raw(home, "SELECT MAX(key) FROM postings WHERE key >> 16 = (SELECT MIN(sid) FROM segments)")[0]
    ((data,),) = raw(home, "SELECT data FROM postings WHERE key=?", (key,))
    raw(home, "UPDATE postings SET data=? WHERE key=?", (data[:-1] + bytes([data[-1] ^ 1]), key))
    other = Vault.open(home)  # a fresh process: nothing cached
    try:
        assert found(other, "granite") == {second}  # the damaged segment's text is not found, the rest is
        assert other.get_conversation(first).turns[0].text == "granite and marble"  # the content is intact
        assert any(b.startswith("search index segment") for b in other.verify().bad)
    finally:
        other.close()

