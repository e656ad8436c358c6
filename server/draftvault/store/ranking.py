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

from bisect import bisect_left, bisect_right
from itertools import compress, repeat
from operator import add, ge, truediv
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

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
        self._segments: dict[int, list[Postings]] = {}  # first blob id -> its lists, in the order they were summed
        for p in lists:
            if p.bids:
                self._segments.setdefault(p.bids[0], []).append(p)
        self._firsts = sorted(self._segments)
        self._sorted: list[tuple[float, int]] | None = None

    def __len__(self) -> int:
        return len(self._bids)

    def best(self, n: int) -> list[tuple[float, int]]:
        """The `n` best (score, blob id), best first (equal scores: the higher blob id first)."""
        scores = self._scores
        if self._sorted is None and 0 < 4 * n < len(scores):
            # A cut near the 2n-th best, from a sample of ~4n scores: what reaches it holds the
            # n best when at least n do (counted; else all are sorted), and only that is sorted.
            sample = sorted(scores[:: len(scores) // (4 * n)])
            cut = sample[-(2 * n * len(sample) // len(scores) + 1)]
            keep = list(map(ge, scores, repeat(cut)))
            if keep.count(True) >= n:
                return sorted(zip(compress(scores, keep), compress(self._bids, keep)), reverse=True)[:n]
        if self._sorted is None:
            self._sorted = sorted(zip(scores, self._bids), reverse=True)
        return self._sorted[:n]

    def turn(self, bid: int) -> int:
        """The turn of document `bid` that holds its most specific query word (the fewest times in
        it, then the first summed) most often (-1: not known)."""
        k = bisect_right(self._firsts, bid) - 1
        lists = self._segments[self._firsts[k]] if k >= 0 else []
        table = lists[0].bids if lists else ()
        o = bisect_left(table, bid)
        if o == len(table) or table[o] != bid:
            return -1  # not a document found
        best = None
        for p in lists:
            i = bisect_left(p.ordinals, o)
            if i < len(p.ordinals) and p.ordinals[i] == o and (best is None or p.tfs[i] < best[0]):
                best = (p.tfs[i], p.turns[i] - 1)
        return -1 if best is None else best[1]


def rank(found: list[list[Postings]], idf: Callable[[int], float]) -> Ranked:
    """The documents holding a word of every group (`found`: each group's postings, rarest group
    first), scored; `idf(df)` weighs a word held by df documents."""
    kept = _in_every(found) if len(found) > 1 else None
    if kept == {}:
        return Ranked([], [], [])
    numerators = _numerators(found, idf)
    lists = [p for group in found for p in group if kept is None or p.sid in kept]  # in the order sums are made
    if all(len({p.word for p in group}) == 1 for group in found):  # no prefix's completions
        bids, scores = _aligned(lists, kept, numerators)
    else:
        total: dict[int, float] = {}
        for p in lists:
            ordinals, tfs = p.ordinals, p.tfs
            if kept is not None:  # only the documents in every group
                keep = list(map(kept[p.sid].__contains__, ordinals))
                ordinals, tfs = list(compress(ordinals, keep)), bytes(compress(tfs, keep))
            here = list(map(p.bids.__getitem__, ordinals))
            # a document's second word is added to what it has, as `total[bid] += score` would
            total.update(zip(here, list(map(add, map(total.get, here, repeat(0.0)),
                                            _scores(numerators[p.word], tfs, map(p.scaled.__getitem__, ordinals))))))
        bids, scores = list(total), list(total.values())
    return Ranked(bids, scores, lists)


def _aligned(lists: list[Postings], kept: dict[int, set[int]] | None,
             numerators: dict[str, list[float]]) -> tuple[list[int], list[float]]:
    """(blob ids, scores) when every group is one word: then in a segment each group's list, cut
    to the documents in every group, holds the same documents in the same (ascending) order, so
    the groups' scores are summed column by column, without a dict."""
    by_segment: dict[int, list[Postings]] = {}
    for p in lists:
        by_segment.setdefault(p.sid, []).append(p)
    bids: list[int] = []
    scores: list[float] = []
    for sid, here in by_segment.items():
        first = here[0]
        docs, tfs = first.ordinals, first.tfs
        if kept is not None:
            keep = list(map(kept[sid].__contains__, docs))
            docs, tfs = list(compress(docs, keep)), bytes(compress(tfs, keep))
        scaled = list(map(first.scaled.__getitem__, docs))
        total = list(_scores(numerators[first.word], tfs, scaled))
        for p in here[1:]:  # total + b, then + c...: the sums a dict of totals would make
            tfs = bytes(compress(p.tfs, map(kept[sid].__contains__, p.ordinals)))
            total = list(map(add, total, _scores(numerators[p.word], tfs, scaled)))
        bids += map(here[0].bids.__getitem__, docs)
        scores += total
    return bids, scores


def _scores(numerators: list[float], tfs: bytes, scaled: Iterable[float]) -> Iterator[float]:
    """BM25 of each posting: `idf * tf * (K1 + 1) / (tf + K1 * (1 - B) + K1 * B / avgdl * length)`."""
    return map(truediv, map(numerators.__getitem__, tfs), map(add, map(_TF_FIXED.__getitem__, tfs), scaled))


def _numerators(found: list[list[Postings]], idf: Callable[[int], float]) -> dict[str, list[float]]:
    """Word -> `idf * tf * (K1 + 1)` for each tf up to the word's highest (df over every segment)."""
    out = {}
    for lists in found:
        df: dict[str, int] = {}
        top: dict[str, int] = {}
        for p in lists:
            df[p.word] = df.get(p.word, 0) + len(p.tfs)
            # a long list: every tf (256 products cost less than finding its highest)
            top[p.word] = max(top.get(p.word, 0), max(p.tfs, default=0) if len(p.tfs) < 256 else 255)
        for word, n in df.items():
            w = idf(n)
            out[word] = [w * tf * (K1 + 1) for tf in range(top[word] + 1)]
    return out


def _in_every(found: list[list[Postings]]) -> dict[int, set[int]]:
    """Segment id -> the ordinals of its documents in every group (set.intersection keeps the
    per-posting work in C; a prefix's group is the union of its words' documents)."""
    kept: dict[int, set[int]] | None = None
    for lists in found:
        here: dict[int, list[list[int]]] = {}
        for p in lists:
            here.setdefault(p.sid, []).append(p.ordinals)
        if kept is None:
            kept = {sid: set().union(*ordinals) for sid, ordinals in here.items()}
            continue
        kept = {sid: docs for sid, ordinals in here.items() if sid in kept
                if (docs := kept[sid].intersection(ordinals[0] if len(ordinals) == 1 else set().union(*ordinals)))}
        if not kept:
            return {}
    return kept or {}
