"""The compression dictionary (store/repack.py) and D runs (store/chunked.py): a large vault's runs
repacked in small chunks lose nothing, read the same after a reopen, and survive a damaged copy."""

import random
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from draftvault.crypto import Keyring
from draftvault.protocol import Document
from draftvault.store import Vault, chunked, repack
from draftvault.store.records import Records, TurnMeta, encode_run
from tabs import Tab


@pytest.fixture
def small_thresholds(monkeypatch):
    """A dictionary trained at 256 KiB, not 8 MiB: the same code on a vault a test fills in seconds."""
    monkeypatch.setattr(repack, "TRAIN_AT", 256 * 1024)
    monkeypatch.setattr(repack, "MIN_SAMPLE_BYTES", 64 * 1024)
    monkeypatch.setattr(repack, "DICT_BYTES", 16 * 1024)


def prose(rng: random.Random, words: int) -> str:
    vocabulary = [f"{a}{b}{c}" for a in ("ka", "lo", "mi", "ne", "su", "ta") for b in ("ri", "po", "el", "an")
                  for c in ("", "s", "ed", "ing", "tion")]
    return " ".join(rng.choice(vocabulary) for _ in range(words)) + "."


def fill(vault: Vault, conversations: int, seed: int = 3) -> None:
    rng = random.Random(seed)
    with vault.transaction():
        for n in range(conversations):
            turns = [("user" if i % 2 == 0 else "assistant", prose(rng, rng.randint(20, 400))) for i in range(40)]
            turns[7] = ("user", f"the needle{n} question " + prose(rng, 30))
            vault.import_conversation(site="claude", conversation_id=f"c{n}", title=f"Chat {n}", url=None, model=None,
                                      created_at="2026-11-01T00:00:00.000+00:00", updated_at="2026-11-02T00:00:00.000+00:00",
                                      turns=turns)


def everything(vault: Vault) -> dict:
    """Every conversation's detail, as the API gives it."""
    return {c.id: vault.get_conversation(c.id) for c in vault.list_conversations(limit=10_000)}


def kinds(vault: Vault) -> set[bytes]:
    rec = vault._rec
    rows = vault.db.execute("SELECT hash, data FROM blobs WHERE bid IN (SELECT bid FROM turns)").fetchall()
    return {rec.open_packed(h, data)[0] for h, data in rows}


def upkeep(vault: Vault) -> None:
    while vault.maintain():
        pass


def test_a_large_vault_is_repacked_with_its_dictionary_and_loses_nothing(small_thresholds, home):
    vault = Vault.open(home)
    fill(vault, 60)
    before = everything(vault)
    hits = vault.search("needle17 ")
    assert kinds(vault) == {b"C"}
    blob_bytes = vault.db.execute("SELECT SUM(length(data)) FROM blobs").fetchone()[0]

    upkeep(vault)

    assert kinds(vault) == {b"D"}  # every run repacked
    assert everything(vault) == before
    assert vault.search("needle17 ") == hits and hits[0].turn == 7 and "needle17" in hits[0].snippet
    # about as small (this test's 120-word prose suits one long stream; bench_search shows real sizes)
    assert vault.db.execute("SELECT SUM(length(data)) FROM blobs").fetchone()[0] < 1.1 * blob_bytes
    assert vault.verify().bad == []
    Tab(vault).snap([("user", prose(random.Random(9), 50)), ("assistant", "a new answer")], conv="new-one")
    vault.close()

    vault = Vault.open(home)  # the dictionary is read back from the vault
    assert {k: v for k, v in everything(vault).items() if k in before} == before
    assert [t.text for t in vault.get_conversation(vault.search("new answer ")[0].conversation).turns][1] == "a new answer"
    fill(vault, 5, seed=4)  # written after training: D runs from the start (R: a run too short to compress)
    assert b"D" in kinds(vault) <= {b"D", b"R"}
    assert vault.verify().bad == []
    vault.close()


def test_a_run_that_repeats_itself_stays_one_stream(small_thresholds, home):
    """A file revised turn after turn: chunks would store each revision whole, the stream stores the edits."""
    vault = Vault.open(home)
    fill(vault, 60)
    rng = random.Random(5)
    code = "\n".join(f"def step_{i}(x):\n    return x * {rng.randint(2, 99)}  # {prose(rng, 8)}" for i in range(120))
    turns = []
    for k in range(12):
        code = code.replace(f"step_{k}(", f"stage_{k}(")
        turns += [("user", f"rename step {k}"), ("assistant", f"Here is the file:\n```python\n{code}\n```")]
    with vault.transaction():
        vault.import_conversation(site="claude", conversation_id="artifact", title="Refactor", url=None, model=None,
                                  created_at="2026-11-01T00:00:00.000+00:00", updated_at="2026-11-02T00:00:00.000+00:00",
                                  turns=turns)
    upkeep(vault)
    (h, data), = vault.db.execute("SELECT hash, data FROM blobs WHERE bid IN (SELECT t.bid FROM turns t JOIN conversations c "
                                  "USING (cid) WHERE c.id=? AND t.n > 1)", (vault.search("stage_11 ")[0].conversation,))
    assert vault._rec.open_packed(h, data)[0] == b"C"
    assert kinds(vault) == {b"C", b"D"}
    assert [t[1] for t in vault._rec.open_run(h, data)] == [t for _, t in turns[: len(vault._rec.open_run(h, data))]]
    vault.close()


def test_a_small_vault_keeps_its_runs_as_they_are(home):
    vault = Vault.open(home)
    fill(vault, 10)
    upkeep(vault)
    assert kinds(vault) == {b"C"}
    assert vault.db.execute("SELECT COUNT(*) FROM meta WHERE k GLOB 'dictionary *'").fetchone()[0] == 0
    vault.close()


def test_a_damaged_dictionary_copy_loses_nothing_and_both_are_reported(small_thresholds, home):
    vault = Vault.open(home)
    fill(vault, 60)
    upkeep(vault)
    before = everything(vault)
    vault.close()

    def damage(key: str) -> None:
        db = sqlite3.connect(home / "vault.db")
        (sealed,) = db.execute("SELECT v FROM meta WHERE k=?", (key,)).fetchone()
        db.execute("UPDATE meta SET v=? WHERE k=?", (sealed[:40] + bytes([sealed[40] ^ 1]) + sealed[41:], key))
        db.commit()
        db.close()

    damage("dictionary 1")
    vault = Vault.open(home)
    assert everything(vault) == before  # read with the copy
    assert vault.verify().bad == ["compression dictionary 1"]
    vault.close()

    damage("dictionary 1 copy")
    vault = Vault.open(home)  # opens; what needs the dictionary is named, not a traceback
    bad = vault.verify().bad
    assert "compression dictionary 1 copy" in bad and any(b.startswith("blob ") for b in bad)
    assert vault.list_conversations(limit=10_000)  # the list still answers
    vault.close()


turn_st = st.tuples(
    st.sampled_from(["user", "assistant"]),
    st.text(max_size=3000),
    st.one_of(st.none(), st.builds(TurnMeta, thinking=st.one_of(st.none(), st.text(max_size=50)),
                                   documents=st.lists(st.builds(Document, title=st.text(min_size=1, max_size=9), kind=st.just("document"),
                                                                text=st.text(max_size=200)), max_size=2).map(tuple))),
)


@settings(max_examples=40, deadline=None)
@given(turns=st.lists(turn_st, max_size=40))
def test_d_runs_give_back_every_turn(tmp_path_factory, turns):
    rec = Records(Keyring.open_or_create(tmp_path_factory.mktemp("k") / "vault.key", None))
    turns = [(r, t) if m is None or m == TurnMeta() else (r, t, m) for r, t, m in turns]
    payload = encode_run(turns)
    sample = [encode_run([("user", f"word{i} " * 40)]) for i in range(200)]
    rec.add_dictionary(chunked.Dictionary(1, chunked.train(sample, 4096)))
    h = rec.run_hash(payload)
    sealed = rec.seal_blob(payload, h, 9, run=True)
    assert rec.open_packed(h, sealed)[0] in (b"D", b"R")
    assert rec.open_run(h, sealed) == turns
    assert [rec.open_turn(h, sealed, k) for k in range(len(turns))] == turns
