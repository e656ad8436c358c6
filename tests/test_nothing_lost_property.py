"""Property (issue 12): any sequence of frames from several pages over one conversation loses
no acked text, and no acked file (new chats joining included). In-process Vault for speed;
frames from tests/frames.py."""

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


@st.composite
def frames_and_files(draw):
    """Pages showing one conversation, each as far as it got (a start of one thread, its last turn
    perhaps another text: regenerated, or streamed further): pages 0 and 1, then page 2 as a new chat
    (no site id) that then gets the id and joins, then any of them; after some frames, a file that
    page shows with one of its turns (its bytes, or recorded by name only)."""
    base, out = draw(st.lists(TURN, min_size=1, max_size=6)), []
    pages = [draw(st.integers(0, 1)) for _ in range(draw(st.integers(0, 4)))]
    pages += [2] * draw(st.integers(0, 4)) + [-2] + [draw(st.integers(0, 2)) for _ in range(draw(st.integers(0, 5)))]
    for page in pages:
        anonymous, page = page == 2, abs(page)
        thread = base[: draw(st.integers(0, len(base)))]
        if thread and draw(st.booleans()):
            thread = [*thread[:-1], (thread[-1][0], draw(TEXTS))]
        out.append((page, thread, draw(st.integers(0, len(thread))), draw(st.booleans()), draw(st.one_of(st.none(), TEXTS)),
                    anonymous))
        if thread and draw(st.booleans()):
            out.append((page, draw(st.integers(0, len(thread) - 1)), draw(st.booleans()), anonymous))
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=frames_and_files())
def test_frames_and_files_from_several_pages_lose_no_acked_file(vault, ops):
    """Every file a frame linked (and the vault acked) stays shown with some version of some turn,
    in the conversation or in the new chat's own, whatever pages, new chats and joins come after."""
    example = os.urandom(6).hex()
    acked, ids, n = set(), set(), 0
    for op in ops:
        seq = vault.last_seq(CLIENT) + 1
        page, anonymous = f"page-{example}-{op[0]}", op[-1]
        conv = None if anonymous else f"conv-{example}"
        if len(op) == 4:  # a file the page shows with one of its turns
            _, turn, with_bytes, _ = op
            n += 1
            name = f"file-{n}.png"
            frame = frames.attachment(seq, name.encode() if with_bytes else None, turn=turn, name=name, key=f"k{n}",
                                      page=page, conv=conv, size=9)[0]
            ids.add(vault.apply(CLIENT, frame).conversation)
            acked.add(name)
        else:
            _, thread, start, streaming, draft, _ = op
            for first in (start, 0):
                frame = frames.snapshot(seq, thread[first:], page=page, conv=conv, turns_from=first,
                                        turn_count=len(thread), streaming=streaming, draft=draft)
                try:
                    ids.add(vault.apply(CLIENT, frame).conversation)
                    break
                except NeedFull:
                    continue
        shown = set()
        for id in ids - {None}:
            d = vault.get_conversation(id)
            if d is not None:  # a new chat that joined its conversation is gone, its turns moved
                shown |= {a.name for t in d.turns for a in t.attachments}
                shown |= {a.name for b in d.branches for t in b.turns for a in t.attachments}
        assert acked <= shown, acked - shown
    assert vault.verify().bad == []
