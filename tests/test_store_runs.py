"""The turn-run layout (store/runs.py): content stored once, runs packed, only changed rows rewritten."""

import os
import time
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from draftvault.store import NeedFull
from draftvault.store.drafts import DRAFT_VERSIONS
from draftvault.store import runs
from draftvault.store.runs import LIVE_TURNS, PACK_TURNS
from tabs import Tab, chat, files_under, rows, texts


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
    huge = [("user" if k % 2 == 0 else "assistant", "x" * runs.RUN_BYTES + str(k)) for k in range(34)]
    tab = Tab(vault)
    id = tab.snap(huge, conv="c1").conversation
    before, updated = rows(vault, id), vault.get_conversation(id).updated_at
    assert [n for _, n, _ in before] == [1] * 34
    time.sleep(0.01)
    tab.snap(huge)  # the same again: no repacking, nothing changed
    assert rows(vault, id) == before and vault.get_conversation(id).updated_at == updated


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
    with patch.multiple(runs, RUN_TURNS=3, PACK_TURNS=2, LIVE_TURNS=1):
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
