"""Merging the sealed index's segments (index.py) in bounded steps, so no transaction,
and so no ack, waits for a big merge.

Why: a merge rewrites its segments' postings, so its cost grows with the vault; done at
once inside the transaction that flushed, it landed on one ack (soak: p99 ack latency
136 ms at the first minute, 1.6 s at the tenth).

Policy (`_pick`): a segment whose documents are mostly deleted is rewritten without
them; else, for the smallest size class c (floor of log FANIN of the document count)
whose tail (the segments after the last one bigger than class c) holds FANIN segments
of class c, that tail becomes one segment. So about FANIN - 1 segments of each class
remain, searches open a few segments, and each document is rewritten about once per
class. (Counting the whole tail instead, as before, merged everything whenever FANIN
segments existed: the largest segment was rewritten every few flushes, a cost that grew
with the vault.) In idle upkeep only (`tidy`, Vault.maintain), once the segments beside
the largest together hold CONSOLIDATE of its documents, all of them become one: the
largest is rewritten only after the vault grew by half of it. A merged segment records
the postings it holds, not its sources' sum, so rewrites that drop deleted documents
shrink its bucket count too.

Steps (`Merges.step`): each stops once its work, counted as postings read plus WORD_WORK
per word read plus the documents tabled, reaches MERGE_STEP; only its last unit, one
bucket group (`_write`: a bucket of each source, so the words of a few 3-character
prefixes), may pass that. A merge that
fits what is left of a step is written whole; a bigger one is *built*: its segment row
and document table (the live documents of its sources) are written first, with a
`merging` row naming the next bucket group to write (and the postings written); each step writes more groups and
moves that mark; the step that writes the last group drops the sources and the
`merging` row in the same transaction, so the swap is atomic. Until then the building
segment is not searched (Index._segments leaves it out) and its sources, which stay,
answer for its documents: search still finds everything acked. Each step commits with
its transaction, so a crash (SIGKILL) mid-merge leaves sources that answer and a
building segment that the next step goes on writing (all it needs is derived from the
rows). One merge is built at a time; small merges of the segments flushed meanwhile
(after its range) are written whole beside it. A document deleted meanwhile counts as
dead in the building segment too (Index.forget counts it in every segment whose range
holds it); a delete by a person (`compact_now`) abandons a building segment that holds
a deleted document, so the deleted words leave the index at once.

Who steps: every flush (one step, in its transaction), the service between ingest
transactions (app.py `upkeep`, each step its own short transaction under the write lock),
and Vault.close() (to the end).
"""

from __future__ import annotations

from array import array
from itertools import accumulate

from .index import FANIN, FLUSH_BATCH, Index, Segment, _buckets, _size_class, _unpack_ints

MERGE_STEP = 1 << 17  # work per step (and one bucket group more at most): ~10-30 ms on one core
WORD_WORK = 12  # a word read costs about as much as 12 of its postings (a Python loop turn against a slice)
# Idle upkeep: once the segments beside the largest hold this share of its documents, all
# become one (flushes and imports leave it to idle time): a query opens a bucket per word
# and segment (bench_search, two words: p95 1.8 ms over 4 segments, 1.5 over one). Each
# document is rewritten about (1 + C) / C = 3 more times as the vault grows.
CONSOLIDATE = 0.5
COMPACT_NOW_DOCS = 20_000  # a delete rewrites the segments it touched at once when they are this small

SCHEMA = "CREATE TABLE IF NOT EXISTS merging (sid INTEGER PRIMARY KEY, next INTEGER NOT NULL, postings INTEGER NOT NULL)"


class Merges:
    """The merges of one Index (its caller holds the transactions)."""

    def __init__(self, index: Index):
        self._ix = index
        self._conn = index._conn
        self._plan: tuple[tuple, list[Segment], list] | None = None  # the last merge's sources and ordinal maps
        self.work = 0  # the last step's work (tests observe it)

    def step(self, tidy: bool = False) -> bool:
        """Merge work of about MERGE_STEP (at least one bucket group); whether more is due. `tidy`:
        consolidation may begin too (idle upkeep only: see CONSOLIDATE)."""
        spent = 0
        building = self._building()
        while spent < MERGE_STEP:
            pick = self._pick(building, tidy)
            left = MERGE_STEP - spent
            if pick is not None and _cost(pick) <= left:
                spent += self._merge_now(pick)  # small: written whole, beside a building one if any
            elif building is None and pick is not None:
                building = self._begin(pick)
                spent += 0 if building is None else building.docs  # its document table: work of the same order
            elif building is None:
                break
            else:
                work, done = self._write(building, left, first=not spent)
                spent += work
                if not done:
                    break
                building = None
        self.work = spent
        return self.due(tidy)

    def due(self, tidy: bool = False) -> bool:
        """Whether a merge is being built or should begin."""
        building = self._building()
        return building is not None or self._pick(building, tidy) is not None

    def compact_now(self) -> None:
        """After a delete by a person: the small segments that held deleted documents are rewritten now."""
        building = self._building()
        if building is not None and building.dead:
            self._ix._drop([building])  # it may hold the deleted words: its sources are rewritten instead
            building = None
        while touched := [s for s in self._view(building) if s.dead and s.docs <= COMPACT_NOW_DOCS]:
            self._merge_now(touched[:1])

    # ---- the policy ---------------------------------------------------------------

    def _building(self) -> Segment | None:
        row = self._conn.execute("SELECT sid FROM merging").fetchone()
        return None if row is None else next(s for s in self._ix._segments(building=True) if s.sid == row[0])

    def _view(self, building: Segment | None) -> list[Segment]:
        """The segments by range, the building one (if any) standing for its sources."""
        segs = self._ix._segments(building=True)
        if building is None:
            return segs
        return [s for s in segs if s.sid == building.sid or not (building.lo <= s.lo and s.hi <= building.hi)]

    def _pick(self, building: Segment | None, tidy: bool = False) -> list[Segment] | None:
        """The contiguous segments to merge next (None: none yet)."""
        segs = self._view(building)
        dead = [s for s in segs if s.dead and 2 * s.dead >= s.docs and (building is None or s.sid != building.sid)]
        if dead:
            return dead[:1]
        classes = [_size_class(s) for s in segs]
        for c in sorted(set(classes)):
            start = max((i + 1 for i, k in enumerate(classes) if k > c), default=0)
            if classes[start:].count(c) >= FANIN:
                tail = segs[start:]
                return None if building is not None and any(s.sid == building.sid for s in tail) else tail
        largest = max((s.docs for s in segs), default=0)
        if tidy and building is None and len(segs) > 1 and sum(s.docs for s in segs) - largest >= CONSOLIDATE * largest:
            return segs
        return None

    # ---- writing ------------------------------------------------------------------

    def _merge_now(self, segs: list[Segment]) -> int:
        """`segs` rewritten as one segment in this transaction; the work done."""
        building = self._begin(segs)
        return 0 if building is None else self._write(building, None, keep=False)[0]

    def _begin(self, segs: list[Segment]) -> Segment | None:
        """The merged segment's row, document table (the live documents) and `merging` row (None: none live)."""
        lo, hi = segs[0].lo, segs[-1].hi
        alive = self._ix._alive(lo, hi)
        new_bids, lengths = array("q"), array("I")
        for seg in segs:
            bids, old_lengths = self._ix._doc_table(seg)
            for o, bid in enumerate(bids):
                if bid in alive:
                    new_bids.append(bid)
                    lengths.append(old_lengths[o])
        if not new_bids:
            self._ix._drop(segs)
            return None
        postings = sum(seg.postings for seg in segs)  # at most: some documents are gone
        sid, _ = self._ix._new_segment(lo, hi, new_bids, lengths, postings, _buckets(postings))
        self._conn.execute("INSERT INTO merging VALUES (?, 0, 0)", (sid,))
        return next(s for s in self._ix._segments(building=True) if s.sid == sid)

    def _sources(self, building: Segment, keep: bool) -> tuple[list[Segment], list]:
        """The segments `building` replaces, and per source its ordinal map: old ordinal -> new (-1: gone),
        or an int when all are kept (ordinals shift by it). Derived from the rows, so a crash loses nothing;
        `keep`: kept for the merge being built (a sid reused after a rollback names the same sources and documents)."""
        segs = [s for s in self._ix._segments() if building.lo <= s.lo and s.hi <= building.hi]
        key = (building.sid, building.docs, tuple(s.sid for s in segs))
        if self._plan is not None and self._plan[0] == key:
            return self._plan[1], self._plan[2]
        new = {bid: n for n, bid in enumerate(self._ix._doc_table(building)[0])}
        remaps = []
        for seg in segs:
            bids = self._ix._doc_table(seg)[0]
            if all(bid in new for bid in bids):
                remaps.append(new[bids[0]] if bids else 0)
            else:
                remaps.append(array("l", [new.get(bid, -1) for bid in bids]))
        if keep:
            self._plan = (key, segs, remaps)
        return segs, remaps

    def _write(self, building: Segment, budget: int | None, first: bool = False, keep: bool = True) -> tuple[int, bool]:
        """Writes bucket groups of `building` while `budget` allows (None: all; `first`: at least one
        group, whatever its size); (work done, swapped in).

        Bucket counts are powers of two and a word's bucket is its hash modulo the count,
        so new buckets s with (s - 1) % group == r draw on the same old buckets: a group
        reads one bucket of each old segment (or a few, when the old one had more), and
        memory holds one group's postings (plus an ordinal map per segment).
        """
        segs, remaps = self._sources(building, keep)
        r, postings = self._conn.execute("SELECT next, postings FROM merging WHERE sid=?", (building.sid,)).fetchone()
        group = min(building.buckets, max(seg.buckets for seg in segs))
        level = 9 if building.docs <= FLUSH_BATCH else 6  # as Index._new_segment chose for its document table
        work, last = 0, _cost(segs) // group  # the next group's work, guessed from the last one's
        while r < group and (budget is None or work + last <= budget or (first and not work)):
            last, kept = self._write_group(building, level, segs, remaps, group, r)
            work, postings, r = work + last, postings + kept, r + 1
        if r < group:
            self._conn.execute("UPDATE merging SET next=?, postings=? WHERE sid=?", (r, postings, building.sid))
            return work, False
        self._ix._drop(segs)
        self._conn.execute("DELETE FROM merging WHERE sid=?", (building.sid,))
        self._conn.execute("UPDATE segments SET postings=? WHERE sid=?", (postings, building.sid))
        return work, True

    def _write_group(self, building: Segment, level: int, segs: list[Segment], remaps: list, group: int,
                     r: int) -> tuple[int, int]:
        """The new buckets s with (s - 1) % group == r; (the work done, the postings written)."""
        buckets, work = building.buckets, 0
        merged: dict[int, dict[str, tuple[array, bytearray, bytearray]]] = {}  # 10 bytes a posting, not ~40
        for seg, remap in zip(segs, remaps):
            sources = range(r + 1, seg.buckets + 1, group) if seg.buckets >= group else (r % seg.buckets + 1,)
            exact = buckets == group and seg.buckets >= group  # then every word read belongs to bucket r + 1
            for old in sources:
                for word, (width, deltas, tfs, turns) in self._ix._bucket(seg, old).items():
                    work += WORD_WORK + len(tfs)
                    slot = r + 1 if exact else self._ix._slot(word, buckets)
                    if (slot - 1) % group != r:
                        continue  # an old bucket shared by several groups: this word is another's
                    ordinals, kept, at = merged.setdefault(slot, {}).setdefault(word, (array("q"), bytearray(), bytearray()))
                    if isinstance(remap, int):
                        ordinals.extend(map(remap.__add__, accumulate(_unpack_ints(width, deltas))))
                        kept += tfs
                        at += turns
                        continue
                    for o, tf, turn in zip(accumulate(_unpack_ints(width, deltas)), tfs, turns):
                        if (n := remap[o]) >= 0:
                            ordinals.append(n)
                            kept.append(tf)
                            at.append(turn)
        for slot, words in merged.items():
            self._ix._put_bucket(building.sid, level, slot,
                                 [(w, o, bytes(t), bytes(a)) for w, (o, t, a) in sorted(words.items()) if o])
        return work, sum(len(o) for words in merged.values() for o, _, _ in words.values())


def _cost(segs: list[Segment]) -> int:
    """At most about the work of a merge of `segs`: each posting may be a word of its own, and a segment
    with fewer buckets than the most has its bucket read again for each group of the others' (see _write)."""
    group = max(seg.buckets for seg in segs)
    return sum(seg.postings * (1 + WORD_WORK) * max(1, group // seg.buckets) for seg in segs)
