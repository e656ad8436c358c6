"""Index merges in bounded steps (store/merge.py): a big merge is written over many
transactions, search finds everything before, during and after it, a SIGKILL mid-merge
leaves a vault that verifies and goes on, a delete mid-merge takes its words out at once,
and the service does the steps by itself between ingest transactions."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

import frames
from draftvault import protocol
from draftvault.store import Vault, index, merge
from sitepages.base import wait_for
from tabs import raw

BATCH = 64  # documents a flush: FANIN flushes make one class tail, merged far beyond one step
SETUP = """
def fill(vault):
    '''FANIN flushed segments of BATCH conversations each; the last flush begins their merge.'''
    for batch in range(index.FANIN):
        with vault.transaction():
            for n in range(BATCH):
                k = batch * BATCH + n
                vault.import_conversation(
                    site="chatgpt", conversation_id=f"c{k}", title=None, url=None, model=None, created_at=None,
                    updated_at=None, turns=[("user", f"kayak trip {k} w{k}x " + " ".join(f"v{k}y{i}" for i in range(8)))],
                )
        vault.search("kayak")  # flushes one segment (and does one merge step)
"""
exec(SETUP)  # the same vault-filling code in-process and in the child that is killed


@pytest.fixture
def small_steps(monkeypatch):
    """Buckets of 8 postings and steps of 2,000: a merge of a few hundred documents takes many steps."""
    monkeypatch.setattr(index, "POSTINGS_PER_BUCKET", 8)
    monkeypatch.setattr(merge, "MERGE_STEP", 2000)


def found(vault, q):
    return {h.conversation for h in vault.search(q, limit=10_000)}


def building(home_or_vault) -> int:
    if isinstance(home_or_vault, Vault):
        return home_or_vault.db.execute("SELECT COUNT(*) FROM merging").fetchone()[0]
    return raw(home_or_vault, "SELECT COUNT(*) FROM merging")[0][0]


def assert_all_found(vault, ids):
    assert found(vault, "kayak") == ids
    for k in (0, BATCH, 3 * BATCH - 1, 4 * BATCH - 1):  # a word of one text, in each source segment
        assert len(found(vault, f"w{k}x")) == 1
        assert len(found(vault, f"v{k}y")) == 1  # a prefix opens each segment's bucket of completions


def test_a_big_merge_is_written_in_bounded_steps_and_search_finds_everything_throughout(vault, small_steps,
                                                                                          monkeypatch):
    fill(vault)
    ids = found(vault, "kayak")
    assert len(ids) == index.FANIN * BATCH
    (postings,) = vault.db.execute("SELECT SUM(postings) FROM segments").fetchone()
    assert postings * merge.WORD_WORK > 10 * merge.MERGE_STEP  # one step could not hold this merge
    assert building(vault) == 1  # begun by the last flush, not finished there
    groups: list[int] = []  # postings read by each bucket group of the current step
    write_group = merge.Merges._write_group

    def counted(*args):
        work, kept = write_group(*args)
        groups.append(work)
        return work, kept

    monkeypatch.setattr(merge.Merges, "_write_group", counted)
    steps, more = 0, True
    while more:
        groups.clear()
        more = vault.maintain_index()
        steps += 1
        assert groups and vault._merges.work == sum(groups)
        assert sum(groups[:-1]) < merge.MERGE_STEP  # the step stopped once its budget was spent
        assert_all_found(vault, ids)  # the sources answer until the merged segment is swapped in
    assert steps >= 5
    assert building(vault) == 0
    assert vault.db.execute("SELECT COUNT(*) FROM segments").fetchone()[0] == 1
    assert_all_found(vault, ids)
    assert vault.verify().bad == []


def test_a_sigkill_mid_merge_leaves_a_vault_that_verifies_finds_everything_and_finishes_the_merge(home, small_steps):
    child = textwrap.dedent(f"""
        import os, signal, sys
        from pathlib import Path
        from draftvault.store import Vault, index, merge
        index.POSTINGS_PER_BUCKET, merge.MERGE_STEP = 8, 2000
        BATCH = {BATCH}
    """) + SETUP + textwrap.dedent("""
        vault = Vault.open(Path(sys.argv[1]))
        fill(vault)
        for _ in range(3):
            vault.maintain_index()
        write_group = merge.Merges._write_group
        def dying(self, *args):
            write_group(self, *args)  # a group written, not committed
            os.kill(os.getpid(), signal.SIGKILL)
        merge.Merges._write_group = dying
        vault.maintain_index()
    """)
    done = subprocess.run([sys.executable, "-c", child, str(home)], capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert building(home) == 1  # mid-merge: three steps committed, the fourth lost
    vault = Vault.open(home)
    try:
        assert vault.verify().bad == []
        assert raw(home, "PRAGMA integrity_check") == [("ok",)]
        ids = found(vault, "kayak")
        assert len(ids) == index.FANIN * BATCH
        assert_all_found(vault, ids)
        while vault.maintain_index():
            assert_all_found(vault, ids)
        assert building(vault) == 0
        assert vault.db.execute("SELECT COUNT(*) FROM segments").fetchone()[0] == 1
        assert_all_found(vault, ids)
        assert vault.verify().bad == []
    finally:
        vault.close()


def test_a_delete_mid_merge_takes_its_words_out_of_the_index_at_once(vault, small_steps):
    fill(vault)
    vault.maintain_index()
    assert building(vault) == 1
    (gone,) = found(vault, "w5x")
    vault.delete_conversation(gone)
    assert vault._index.complete("v5y", 99) == []  # not only left out of results: out of the sealed index
    assert found(vault, "w5x") == set()
    while vault.maintain_index():
        pass
    assert vault._index.complete("v5y", 99) == [] and vault._index.complete("v6y", 99) != []
    assert len(found(vault, "kayak")) == index.FANIN * BATCH - 1
    assert vault.verify().bad == []


def test_the_service_merges_between_ingest_transactions_by_itself(server):
    """Four chats of 9,000 new words, each flushed by a search: their merge is more than twice
    a step's work, the search's flush did one step, and the service does the rest by itself."""
    chats = [[os.urandom(6).hex() for _ in range(9000)] for _ in range(index.FANIN)]
    with server.connect() as (ws, _):
        for n, typed in enumerate(chats, start=1):
            ws.send(frames.encode(frames.snapshot(n, [("user", " ".join(typed))], page=f"page-{n:04}", conv=f"c-{n}")))
            assert protocol.decode_server_frame(ws.recv(timeout=30)) == protocol.Ack(seq=n)
            assert len(server.api("GET", "/api/search", params={"q": typed[0]})["items"]) == 1  # flushed: a segment
    wait_for(lambda: building(server.home) == 0 and raw(server.home, "SELECT COUNT(*) FROM segments") == [(1,)],
             what="the merge of the four chats' segments")
    (postings,) = raw(server.home, "SELECT postings FROM segments")[0]
    assert postings * (1 + merge.WORD_WORK) > 2 * merge.MERGE_STEP  # each word new: a posting each
    for typed in chats:
        assert len(server.api("GET", "/api/search", params={"q": f"{typed[1]} {typed[-1]}"})["items"]) == 1


def test_idle_upkeep_consolidates_the_segments_once_the_small_ones_hold_half_the_largest(vault, small_steps):
    fill(vault)
    while vault.maintain_index():
        pass
    ids = found(vault, "kayak")

    def segments() -> list[int]:
        return [r[0] for r in vault.db.execute("SELECT docs FROM segments ORDER BY lo")]

    assert segments() == [index.FANIN * BATCH]
    for k in range(2):  # two more flushes: BATCH conversations each
        with vault.transaction():
            for n in range(BATCH):
                vault.import_conversation(site="claude", conversation_id=f"late{k}-{n}", title=None, url=None, model=None,
                                          created_at=None, updated_at=None, turns=[("user", f"kayak late{k}x{n}")])
        vault.search("kayak")
    while vault.maintain_index():  # flushes' merges leave them beside the largest
        pass
    assert segments() == [index.FANIN * BATCH, BATCH, BATCH]
    steps = 0
    while vault.maintain():  # the service when idle
        steps += 1
        assert len(found(vault, "kayak")) == len(ids) + 2 * BATCH  # the sources answer until the swap
    assert steps > 1 and segments() == [(index.FANIN + 2) * BATCH]
    assert found(vault, "late1x7") and vault.verify().bad == []
