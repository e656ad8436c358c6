"""BM25 over the sealed index's postings (index.py), worked out a list at a time.

A middling word holds thousands of postings per search: a Python loop over them
(a dict update and a division each) was most of a search's CPU. Here each word's
postings are scored by map() over its columns, so the per-posting work stays out of
the bytecode loop. The scores are bit for bit those of Okapi BM25 written out,
`idf * tf * (K1 + 1) / (tf + K1 * (1 - B) + K1 * B / avgdl * length)`: its parts are
computed by the same operations in the same order, only tabulated (by tf; by
document: `per_word * length`, index.py keeps it per segment). Summing follows the
same order too (group by group, each group's words in order), so equal scores stay
equal and ranks do not move.

Only the best are ever read (search.best_texts reads until it has `limit`
conversations), so the ranking is sorted lazily: the `n` best are those at or above
the n-th best score, found without sorting every (score, document) pair. And the
turn each hit opens at is looked up only for the hits shown.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from itertools import compress, repeat
from operator import add, ge, truediv
from typing import NamedTuple, Sequence

K1, B = 1.2, 0.75
_TF_FIXED = [tf + K1 * (1 - B) for tf in range(256)]  # tf + K1 (1 - B) for every one-byte tf


class Postings(NamedTuple):
    """One word's postings in one segment, with that segment's documents."""

    sid: int
    bids: Sequence[int]  # the segment's blob ids, by ordinal (ascending)
    scaled: Sequence[float]  # K1 * B / avgdl * word count, by ordinal
    word: str
    ordinals: list[int]  # ascending
    tfs: bytes
    turns: bytes  # 1 + the best turn, per posting (0: not known)


class Ranked:
    """The documents found, with their scores; the best on demand."""

    def __init__(self, bids: list[int], scores: list[float], lists: list[Postings]):
        self._bids = bids
        self._scores = scores
        self._lists = lists  # in the order they were summed, to name each hit's turn as the sum's order does
        self._sorted: list[tuple[float, int]] | None = None

    def __len__(self) -> int:
        return len(self._bids)

    def best(self, n: int) -> list[tuple[float, int]]:
        """The `n` best (score, blob id), best first (equal scores: the higher blob id first)."""
        if self._sorted is None and 4 * n < len(self._scores):
            scores = self._scores
            cut = heapq.nlargest(n, scores)[-1] if len(scores) > 8192 else sorted(scores)[-n]
            top = sorted(compress(zip(scores, self._bids), map(ge, scores, repeat(cut))), reverse=True)
            return top[:n]
        if self._sorted is None:
            self._sorted = sorted(zip(self._scores, self._bids), reverse=True)
        return self._sorted[:n]

    def turn(self, bid: int) -> int:
        """The turn of document `bid` that holds its most specific query word (the fewest times in
        it, then the first summed) most often (-1: not known)."""
        best = None
        for p in self._lists:
            if not p.bids or not p.bids[0] <= bid <= p.bids[-1]:
                continue
            o = bisect_left(p.bids, bid)
            i = bisect_left(p.ordinals, o)
            if i < len(p.ordinals) and p.ordinals[i] == o and (best is None or p.tfs[i] < best[0]):
                best = (p.tfs[i], p.turns[i] - 1)
        return -1 if best is None else best[1]


def rank(found: list[list[Postings]], idf) -> Ranked:
    """The documents holding a word of every group (`found`: each group's postings, rarest group
    first), scored; `idf(df)` weighs a word held by df documents."""
    kept = _in_every(found) if len(found) > 1 else None
    if kept == {}:
        return Ranked([], [], [])
    total: dict[int, float] = {}
    summed: list[Postings] = []
    for lists in found:
        df: dict[str, int] = {}
        for p in lists:
            df[p.word] = df.get(p.word, 0) + len(p.tfs)
        for p in lists:
            ordinals, tfs = p.ordinals, p.tfs
            if kept is not None:  # only the documents in every group
                if p.sid not in kept:
                    continue
                keep = list(map(kept[p.sid].__contains__, ordinals))
                ordinals, tfs = list(compress(ordinals, keep)), bytes(compress(tfs, keep))
            summed.append(p)
            w = idf(df[p.word])
            numerators = [w * tf * (K1 + 1) for tf in range(max(tfs, default=0) + 1)]
            scores = map(truediv, map(numerators.__getitem__, tfs),
                         map(add, map(_TF_FIXED.__getitem__, tfs), map(p.scaled.__getitem__, ordinals)))
            bids = list(map(p.bids.__getitem__, ordinals))
            if total:  # a document's second word: added to what it has, as `total[bid] += score` would
                total.update(zip(bids, list(map(add, map(total.get, bids, repeat(0.0)), scores))))
            else:
                total = dict(zip(bids, scores))
    return Ranked(list(total), list(total.values()), summed)


def _in_every(found: list[list[Postings]]) -> dict[int, set[int]]:
    """Segment id -> the ordinals of its documents in every group. The rarest group's become sets,
    the others are filtered against them (set() and filter() keep the per-posting work in C)."""
    kept: dict[int, set[int]] | None = None
    for lists in found:
        here: dict[int, set[int]] = {}
        for p in lists:
            ordinals = p.ordinals
            if kept is not None:
                if p.sid not in kept:
                    continue
                ordinals = filter(kept[p.sid].__contains__, ordinals)
            here.setdefault(p.sid, set()).update(ordinals)
        kept = {sid: ordinals for sid, ordinals in here.items() if ordinals}
        if not kept:
            return {}
    return kept or {}

