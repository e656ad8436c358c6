"""Property (issue 12): any sequence of frames from several pages over one conversation loses
no acked text. In-process Vault for speed; frames from tests/frames.py."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import frames
from draftvault.store import NeedFull, versions

CLIENT = "client-prop"
# Few words, so that texts repeat, continue each other (streaming) and collide across pages.
TEXTS = st.sampled_from(["alpha", "alpha beta", "alpha beta gamma", "beta", "gamma delta", "delta alpha"])
TURN = st.tuples(st.sampled_from(["user", "assistant"]), TEXTS)


@st.composite
def frames_of_pages(draw):
    """(page, what it shows, where its delta starts, streaming, draft) for each frame."""
    out = []
    for _ in range(draw(st.integers(1, 14))):
        thread = draw(st.lists(TURN, max_size=6))
        out.append((draw(st.integers(0, 2)), thread, draw(st.integers(0, len(thread))), draw(st.booleans()),
                    draw(st.one_of(st.none(), TEXTS))))
    return out


def held(vault, id) -> set[str]:
    d = vault.get_conversation(id)
    assert d.corrupt == []
    return {t.text for t in d.turns} | {t.text for b in d.branches for t in b.turns}


@pytest.mark.parametrize("pack_turns", [versions.PACK_TURNS, 2], ids=["loose", "packed"])  # packed: every 2 kept turns
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=frames_of_pages())
def test_frames_from_several_pages_lose_no_acked_text(vault, monkeypatch, pack_turns, ops):
    monkeypatch.setattr(versions, "PACK_TURNS", pack_turns)
    example = os.urandom(6).hex()  # every example is its own conversation in the one vault
    conv, acked, grown, id = f"conv-{example}", set(), set(), None
    for page, thread, start, streaming, draft in ops:
        frame = None
        for first in (start, 0):  # a delta past what the vault holds is resent whole, as the extension does
            frame = frames.snapshot(vault.last_seq(CLIENT) + 1, thread[first:], page=f"page-{example}-{page}", conv=conv,
                                    turns_from=first, turn_count=len(thread), streaming=streaming, draft=draft)
            try:
                id = vault.apply(CLIENT, frame).conversation or id
                break
            except NeedFull:
                continue
        (grown if streaming else acked).update(text for _, text in thread[frame.turns_from:])
        if id is None:
            continue
        have = held(vault, id)
        assert acked <= have, acked - have
        # An answer still streaming may be continued by the next frame: it is kept inside the longer text.
        assert all(any(h.startswith(text) for h in have) for text in grown)
    assert vault.verify().bad == []
