"""The sealed search index: an inverted index kept in encrypted, immutable segments.

Why not a blind index of keyed word hashes in FTS5 (the first design): deterministic
tokens keep each word's frequency and co-occurrence visible, so whoever copies the
vault can match its commonest tokens to a language's commonest words; and random
tokens share no prefixes, so they cost ~2x the compressed text on disk, plus a
separate sealed vocabulary for search-as-you-type. Here the index is sealed like
every other record: on disk there are only ciphertexts and their sizes.

Layout. Documents are content blobs (turns, drafts, titles), named by their blob id.
A segment indexes a run of documents `lo..hi` (blob ids only grow, and each flush
indexes every pending blob, so the searched segments hold disjoint, ascending ranges;
a merge being built covers its sources' range, unsearched, see merge.py). Row
`postings[sid << 16 | 0]` holds the segment's documents (blob ids and word counts);
row `sid << 16 | s` for s in 1..buckets holds the words whose first three characters
hash (keyed) to bucket s, each with its postings: document ordinals within the
segment (delta-coded, fixed width per list), term frequencies and, for a run of turns,
the turn that holds the word most often, plus one (so a hit inflates only that turn of
the run, records.open_turn; 0: not known, as in rows written before this column). Every row is
msgpack, zstd-compressed (zlib in older vaults) and sealed with associated data `index|sid|slot`. Words
sharing their first three characters share a bucket, so a search-as-you-type prefix
(3+ characters) opens one bucket per segment and finds its completions there.

Writes. New blobs are noted in `unindexed` and indexed in batches (`flush`): when a
transaction leaves enough of them, and before every search, so what is acked is
found. A streaming answer's intermediate states and a draft's keystroke versions
are usually superseded before a flush and never reach the index. Segments merge like
an LSM tree, and a segment whose documents are mostly deleted is rewritten without
them: merge.py, in bounded steps (a flush's transaction does one, the service more
between transactions), so no transaction waits for a big merge; a merged segment is
built beside its sources, unsearched, and swapped in atomically when complete (a
crash leaves the sources answering). Deleted blobs stay in their segment until then,
but searches skip them (a hit must still be a blob). Deleting a conversation rewrites
the segments it touched at once when they are small (merge.COMPACT_NOW_DOCS), so its
words leave the index, not only the results.

Ranking is Okapi BM25 over the per-text word counts (k1 = 1.2, b = 0.75), as FTS5's
bm25() does (ranking.py scores the postings found here); a decrypted bucket and a
segment's document table are immutable, so a small in-memory cache keeps the recent
ones (plaintext only in memory), and each searched segment's blob ids and BM25-scaled
lengths stay in memory while the searched segments are the same.
"""

from __future__ import annotations

import hmac
import math
import re
import sqlite3
import sys
import threading
import unicodedata
from array import array
from bisect import bisect_right
from collections import Counter, OrderedDict
from itertools import accumulate, chain
from operator import mul, sub
from typing import Callable, Iterable, Iterator, Sequence

import msgspec
import zstandard
from zlib_ng import zlib_ng as zlib  # the stdlib's API and deflate format, ~3x faster: search inflates runs and index rows

from ..crypto import Keyring, Tampered
from .ranking import B, K1, Postings, Ranked, rank
from .records import INDEX_BUCKET_KEY, index_aad

FANIN = 4  # segments of one size class merged at once (merge.py): each search opens <= FANIN - 1 per class
POSTINGS_PER_BUCKET = 4096  # a bucket decrypts in well under a millisecond
# A large segment's buckets hold fewer: a query opens a bucket per word and segment, and most
# postings are in the large ones (bench_search: two words' p95 -10 %). A small one keeps 4,096:
# its rows' seals and headers would cost more than a conversation's text saves (bench_storage).
LARGE_SEGMENT, LARGE_BUCKET = 1 << 18, 1024
MAX_BUCKETS = 1 << 15
FLUSH_DOCS = 512  # a transaction leaving this many unindexed blobs indexes them before it commits
FLUSH_BATCH = 4096  # documents per new segment: what a flush holds in memory at once
CACHE_ROWS = 512  # decoded rows of a few KB each: a few MB at most
MAX_TF = 255

SCHEMA = """
CREATE TABLE IF NOT EXISTS segments (
    sid INTEGER PRIMARY KEY AUTOINCREMENT, lo INTEGER NOT NULL, hi INTEGER NOT NULL,
    docs INTEGER NOT NULL, words INTEGER NOT NULL, postings INTEGER NOT NULL, buckets INTEGER NOT NULL,
    dead INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS postings (key INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS unindexed (bid INTEGER PRIMARY KEY);
"""

WORD = re.compile(r"[^\W_]+")  # a word as the index sees it: letters and digits
_TYPECODES = {array(t).itemsize: t for t in "QLIHB"}  # byte width -> unsigned array type, on any platform
_SWAP = sys.byteorder == "big"  # rows are little-endian whatever machine wrote them
_SEGMENT_COLS = "sid, lo, hi, docs, words, postings, buckets, dead"


def words(text: str) -> list[str]:
    """The normalised words of `text`, as the index sees them (NFKC, casefolded, letters and digits)."""
    return WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def _counts(parts: list[str]) -> tuple[Counter, dict[str, int]]:
    """The word counts of a text in parts (a run's turns), and 1 + the part that holds each word
    most often (the first of those; capped at MAX_TF), as postings keep it."""
    per = [words(part) for part in parts]
    counts = Counter(chain.from_iterable(per))
    where: dict[str, int] = {}
    for k in range(len(per) - 1, -1, -1):  # backwards, so that the first part holding a word wins
        where.update(dict.fromkeys(per[k], min(k + 1, MAX_TF)))
    most: dict[str, int] = {}
    for k, ws in enumerate(per) if len(per) > 1 else ():
        if len(ws) > 1:
            for w, n in Counter(ws).items():
                if n > 1 and n > most.get(w, 1):  # held more than once, and more often than before
                    most[w], where[w] = n, min(k + 1, MAX_TF)
    return counts, where


class Segment(msgspec.Struct, array_like=True, frozen=True):
    sid: int
    lo: int
    hi: int
    docs: int
    words: int  # the sum of the documents' word counts (for BM25's average length)
    postings: int
    buckets: int
    dead: int


class _Bucket(msgspec.Struct, array_like=True):
    """A bucket's words and postings, column by column (each column compresses well on its own).

    Words are sorted and front-coded (each stores only what differs from the word
    before), with every RESTART-th word whole in `restarts`: a lookup bisects those,
    then walks at most RESTART words, so a cold bucket costs microseconds, not a
    Python loop over all its words.
    """

    restarts: str  # words 0, RESTART, 2 RESTART, ... whole, "\n"-separated
    shared: bytes  # per word: characters shared with the word before
    suffixes: str  # per word: the rest ("" for a restart word), "\n"-separated
    count_width: int
    counts: bytes  # per word: how many documents hold it
    widths: bytes  # per word: the byte width of its deltas
    deltas: bytes  # per word, concatenated: its documents' ordinals in the segment, delta-coded
    tfs: bytes  # per posting: the word's count in that document (one byte, capped)
    turns: bytes = b""  # per posting: 1 + the turn of the document that holds it most often (capped; 0: not known)


_Entry = tuple[int, bytes, bytes, bytes]  # a word's postings: (delta width, deltas, term frequencies, best turns)
RESTART = 16


def _encode_bucket(entries: list[tuple[str, int, bytes, bytes, bytes]]) -> _Bucket:
    """`entries`: (word, width, deltas, tfs, turns), sorted by word."""
    restarts, shared, suffixes, prev = [], bytearray(), [], ""
    for i, (word, *_) in enumerate(entries):
        n = 0
        if i % RESTART == 0:
            restarts.append(word)
        else:
            limit = min(len(prev), len(word), 255)
            while n < limit and prev[n] == word[n]:
                n += 1
        shared.append(n)
        suffixes.append("" if i % RESTART == 0 else word[n:])
        prev = word
    count_width, counts = _pack_ints([len(tfs) for _, _, _, tfs, _ in entries])
    return _Bucket(
        "\n".join(restarts),
        bytes(shared),
        "\n".join(suffixes),
        count_width,
        counts,
        bytes(width for _, width, *_ in entries),
        b"".join(deltas for _, _, deltas, _, _ in entries),
        b"".join(tfs for _, _, _, tfs, _ in entries),
        b"".join(turns for *_, turns in entries),
    )


class _Words:
    """A decoded bucket: finds a word's postings without decoding the others."""

    __slots__ = ("_b", "_restarts", "_suffixes", "_d", "_t")

    def __init__(self, b: _Bucket):
        self._b = b
        self._restarts = b.restarts.split("\n") if b.shared else []
        self._suffixes = b.suffixes.split("\n")
        counts = _unpack_ints(b.count_width, b.counts)
        self._d = list(accumulate(map(mul, counts, b.widths), initial=0))  # where each word's deltas start
        self._t = list(accumulate(counts, initial=0))  # ...and its tfs

    def _entry(self, i: int) -> _Entry:
        b = self._b
        t = slice(self._t[i], self._t[i + 1])
        return b.widths[i], b.deltas[self._d[i] : self._d[i + 1]], b.tfs[t], b.turns[t] or bytes(t.stop - t.start)

    def _walk(self, start: str) -> Iterator[tuple[int, str]]:
        """(position, word) from the last restart at or before `start` on."""
        k = max(0, bisect_right(self._restarts, start) - 1)
        shared, suffixes, word = self._b.shared, self._suffixes, ""
        for i in range(k * RESTART, len(shared)):
            word = self._restarts[i // RESTART] if i % RESTART == 0 else word[: shared[i]] + suffixes[i]
            yield i, word

    def get(self, word: str) -> _Entry | None:
        for i, w in self._walk(word):
            if w >= word:
                return self._entry(i) if w == word else None
        return None

    def starting(self, prefix: str) -> Iterator[str]:
        for _, w in self._walk(prefix):
            if w.startswith(prefix):
                yield w
            elif w > prefix:
                return

    def items(self) -> Iterator[tuple[str, _Entry]]:
        return ((w, self._entry(i)) for i, w in self._walk(""))


class _DocTable(msgspec.Struct, array_like=True):
    width: int
    deltas: bytes  # blob ids from the segment's lo, delta-coded
    lengths: bytes  # word counts, 4 bytes each


def _pack_ints(values: Sequence[int]) -> tuple[int, bytes]:
    """Fixed-width little-endian integers, as narrow as the largest needs."""
    top = max(values, default=0)
    width = 1 if top < 1 << 8 else 2 if top < 1 << 16 else 4 if top < 1 << 32 else 8
    a = array(_TYPECODES[width], values)
    if _SWAP:
        a.byteswap()
    return width, a.tobytes()


def _unpack_ints(width: int, data: bytes) -> array:
    a = array(_TYPECODES[width])
    a.frombytes(data)
    if _SWAP:
        a.byteswap()
    return a


def _deltas(values: Sequence[int], base: int) -> array:
    """Each value minus the one before (the first minus `base`); map() keeps it out of the bytecode loop."""
    return array("q", map(sub, values, chain((base,), values)))


_encode = msgspec.msgpack.Encoder()
_bucket_decoder = msgspec.msgpack.Decoder(_Bucket)
_doc_decoder = msgspec.msgpack.Decoder(_DocTable)


class Index:
    """The sealed index of one vault connection (its caller holds the transactions)."""

    def __init__(self, conn: sqlite3.Connection, keys: Keyring, alive: Callable[[int, int], set[int]]):
        """`alive(lo, hi)`: the ids in lo..hi of the documents that still exist (a merge keeps only those)."""
        self._conn = conn
        self._keys = keys
        self._alive = alive
        self._bucket_key = keys.mac_key(INDEX_BUCKET_KEY)
        self._hashes: dict[str, int] = {}
        # (sid, slot) -> decoded row, (sid, -1) -> the doc table's arrays: segments never change
        self._rows: OrderedDict[tuple[int, int], object] = OrderedDict()
        self._per_word: dict[int, tuple[float, list[int], list[float]]] = {}  # sid -> _scaled's, and its per_word

    # ---- writing ------------------------------------------------------------------

    def note(self, bid: int) -> None:
        """Marks a new blob to be indexed with the next flush."""
        self._conn.execute("INSERT OR IGNORE INTO unindexed VALUES (?)", (bid,))

    def forget(self, bid: int) -> bool:
        """A blob is gone: True if it was never indexed; else its segment counts one more dead document."""
        if self._conn.execute("DELETE FROM unindexed WHERE bid=?", (bid,)).rowcount:
            return True
        self._conn.execute("UPDATE segments SET dead=dead+1 WHERE ? BETWEEN lo AND hi", (bid,))
        return False

    def pending(self) -> int:
        return self._conn.execute("SELECT COUNT(*) FROM unindexed").fetchone()[0]

    def flush(self, texts: Callable[[list[int]], Iterable[tuple[int, list[str]]]]) -> None:
        """Indexes every pending blob (`texts` decrypts them, a run as its turns' texts; the
        unreadable are left out).

        FLUSH_BATCH at a time, each batch a segment: a re-index of a large vault keeps
        only one batch's postings in memory. Merges are merge.py's, in steps.
        """
        bids = [r[0] for r in self._conn.execute("SELECT bid FROM unindexed ORDER BY bid")]
        self._conn.execute("DELETE FROM unindexed")
        for n in range(0, len(bids), FLUSH_BATCH):
            batch = bids[n : n + FLUSH_BATCH]
            docs = [(bid, *_counts(parts)) for bid, parts in texts(batch)]
            if docs:
                self._write_segment(batch[0], batch[-1], docs)

    def _drop(self, segs: Iterable[Segment]) -> None:
        for seg in segs:
            self._conn.execute("DELETE FROM postings WHERE key BETWEEN ? AND ?", (seg.sid << 16, (seg.sid << 16) | 0xFFFF))
            self._conn.execute("DELETE FROM segments WHERE sid=?", (seg.sid,))
            self._conn.execute("DELETE FROM merging WHERE sid=?", (seg.sid,))
            for slot in range(-1, seg.buckets + 1):
                self._rows.pop((seg.sid, slot), None)
            self._per_word.pop(seg.sid, None)

    def _write_segment(self, lo: int, hi: int, docs: list[tuple[int, Counter, dict[str, int]]]) -> None:
        """A new segment for `docs` (blob id, word counts, best turns as _counts gives them), in blob id order."""
        postings: dict[str, tuple[list[int], list[int], list[int]]] = {}
        for o, (_, counts, turn) in enumerate(docs):
            for w, tf in counts.items():
                p = postings.get(w)
                if p is None:
                    p = postings[w] = ([], [], [])
                p[0].append(o)
                p[1].append(min(tf, MAX_TF))
                p[2].append(turn[w])
        total = sum(len(p[0]) for p in postings.values())
        buckets = _buckets(total)
        lengths = array("I", [sum(c.values()) for _, c, _ in docs])
        sid, level = self._new_segment(lo, hi, array("q", [bid for bid, _, _ in docs]), lengths, total, buckets)
        slots: dict[int, list[tuple[str, list[int], bytes, bytes]]] = {}
        for w in sorted(postings):
            ordinals, tfs, turns = postings[w]
            slots.setdefault(self._slot(w, buckets), []).append((w, ordinals, bytes(tfs), bytes(turns)))
        for slot, entries in slots.items():
            self._put_bucket(sid, level, slot, entries)

    def _new_segment(self, lo: int, hi: int, bids: array, lengths: array, postings: int, buckets: int) -> tuple[int, int]:
        """The segments row and the document table (row 0) of a new segment; its id and level (in
        zlib's numbers, which _ZSTD_LEVEL maps).

        Level 9 for what a flush writes (most of a small vault's index; ~8% smaller),
        6 for the large segments merges write, where level 9 took most of an import's time.
        """
        sid = self._conn.execute(
            "INSERT INTO segments (lo, hi, docs, words, postings, buckets) VALUES (?,?,?,?,?,?)",
            (lo, hi, len(bids), sum(lengths), postings, buckets),
        ).lastrowid
        width, deltas = _pack_ints(_deltas(bids, lo))
        lengths = array("I", lengths)
        if _SWAP:
            lengths.byteswap()
        level = 9 if len(bids) <= FLUSH_BATCH else 6
        self._put_row(sid, level, 0, _DocTable(width, deltas, lengths.tobytes()))
        return sid, level

    def _put_bucket(self, sid: int, level: int, slot: int, entries: list[tuple[str, list[int], bytes, bytes]]) -> None:
        """Bucket `slot` of segment `sid`: (word, ordinals, tfs, turns), sorted by word; none, no row."""
        if entries:
            rows = [(w, *_pack_ints(_deltas(o, 0)), tfs, at) for w, o, tfs, at in entries]
            self._put_row(sid, level, slot, _encode_bucket(rows))

    def _put_row(self, sid: int, level: int, slot: int, value: msgspec.Struct) -> None:
        sealed = self._keys.seal(_pack_row(_encode.encode(value), level), index_aad(sid, slot))
        self._conn.execute("INSERT INTO postings VALUES (?, ?)", ((sid << 16) | slot, sealed))

    # ---- reading ------------------------------------------------------------------

    def _segments(self, building: bool = False) -> list[Segment]:
        """The searched segments by range (`building`: also those merge.py is still writing)."""
        where = "" if building else " WHERE sid NOT IN (SELECT sid FROM merging)"
        return [Segment(*r) for r in self._conn.execute(f"SELECT {_SEGMENT_COLS} FROM segments{where} ORDER BY lo")]

    def _slot(self, word: str, buckets: int) -> int:
        key = word[:3]
        h = self._hashes.get(key)
        if h is None:
            if len(self._hashes) > 100_000:
                self._hashes.clear()
            h = self._hashes[key] = int.from_bytes(hmac.digest(self._bucket_key, key.encode(), "sha256")[:8], "big")
        return 1 + h % buckets

    def _cached(self, key: tuple[int, int], load: Callable[[], object]):
        value = self._rows.pop(key, None)
        if value is None:
            value = load()
        self._rows[key] = value
        if len(self._rows) > CACHE_ROWS:
            self._rows.popitem(last=False)
        return value

    def _open_row(self, seg: Segment, slot: int, decoder: msgspec.msgpack.Decoder):
        row = self._conn.execute("SELECT data FROM postings WHERE key=?", ((seg.sid << 16) | slot,)).fetchone()
        if row is None:
            if slot:
                return _Bucket("", b"", "", 1, b"", b"", b"", b"")  # no word of the segment fell in this bucket
            raise Tampered(f"search index segment {seg.sid} has lost its document table")
        try:
            return decoder.decode(_unpack_row(self._keys.open(row[0], index_aad(seg.sid, slot))))
        except (zlib.error, zstandard.ZstdError, msgspec.DecodeError) as e:
            raise Tampered(f"search index segment {seg.sid} row {slot}: {e}") from None

    def _bucket(self, seg: Segment, slot: int) -> _Words:
        return self._cached((seg.sid, slot), lambda: _Words(self._open_row(seg, slot, _bucket_decoder)))

    def _doc_table(self, seg: Segment) -> tuple[array, array]:
        """The segment's blob ids and word counts, by ordinal."""

        def load():
            t: _DocTable = self._open_row(seg, 0, _doc_decoder)
            bids = array("q", accumulate(_unpack_ints(t.width, t.deltas), initial=seg.lo))[1:]
            return bids, _unpack_ints(4, t.lengths)

        return self._cached((seg.sid, -1), load)

    def _lookup(self, seg: Segment, word: str) -> _Entry | None:
        return self._bucket(seg, self._slot(word, seg.buckets)).get(word)

    def complete(self, prefix: str, limit: int) -> list[str]:
        """The indexed words that start with `prefix` (3+ characters), shortest first."""
        found: set[str] = set()
        for seg in self._segments():
            try:
                found.update(self._bucket(seg, self._slot(prefix, seg.buckets)).starting(prefix))
            except Tampered:
                continue  # verify reports it
        return sorted(found, key=lambda w: (len(w), w))[:limit]

    def _scaled(self, seg: Segment, per_word: float) -> tuple[list[int], list[float]]:
        """The segment's blob ids, and its documents' word counts times BM25's `per_word` (kept
        while it holds: it changes only with the searched segments' average length). Lists, not
        arrays: indexing a list hands out its objects, an array makes new ones (~2x slower per posting)."""
        kept = self._per_word.get(seg.sid)
        if kept is None or kept[0] != per_word:  # new, or another segment came or went
            bids, lengths = self._doc_table(seg)
            ids = list(bids) if kept is None else kept[1]
            kept = self._per_word[seg.sid] = (per_word, ids, list(map(per_word.__mul__, lengths)))
        return kept[1], kept[2]

    def search(self, groups: list[list[str]]) -> Ranked:
        """The documents holding a word of every group, ranked by BM25 summed over the groups
        (ranking.py; the turn each opens at on demand).

        Each exact query word is a group of one; a prefix is the group of its completions.
        With several groups, the documents in all of them are found first (cheap set work on
        each segment's ordinals, rarest group first), and only those are scored.
        """
        segs = self._segments()
        n_docs = sum(s.docs - s.dead for s in segs) or 1
        avgdl = (sum(s.words for s in segs) / max(1, sum(s.docs for s in segs))) or 1.0
        per_word = K1 * B / avgdl
        found: list[list[Postings]] = []  # per group, its words' postings segment by segment
        for group in groups:
            lists = []
            for seg in segs:
                try:
                    here = [(w, p) for w in group if (p := self._lookup(seg, w)) is not None]
                    if here:
                        bids, scaled = self._scaled(seg, per_word)
                        lists += [Postings(seg.sid, bids, scaled, w, list(accumulate(_unpack_ints(width, deltas))), tfs, turns)
                                  for w, (width, deltas, tfs, turns) in here]
                except Tampered:
                    continue  # verify reports it; the other segments still answer
            if not lists:
                return Ranked([], [], [])
            found.append(lists)
        found.sort(key=lambda ls: sum(len(p.tfs) for p in ls))
        return rank(found, lambda df: math.log(1 + (n_docs - df + 0.5) / (df + 0.5)))

    # ---- checking -----------------------------------------------------------------

    def verify(self) -> tuple[int, list[str]]:
        """(rows checked, the segments with a row that does not authenticate)."""
        checked, bad = 0, []
        segs = {seg.sid: seg for seg in self._segments(building=True)}
        for key, data in self._conn.execute("SELECT key, data FROM postings").fetchall():
            sid, slot = key >> 16, key & 0xFFFF
            checked += 1
            try:
                _unpack_row(self._keys.open(data, index_aad(sid, slot)))
            except (Tampered, zlib.error, zstandard.ZstdError):
                bad.append(f"search index segment {sid} row {slot}")
            if sid not in segs:
                bad.append(f"search index row {slot} of missing segment {sid}")
        return checked, bad

    def rebuild(self, bids: Iterable[int]) -> None:
        """Drops every segment and notes `bids` to be indexed anew (a damaged index: verify --reindex)."""
        self._drop(self._segments(building=True))
        self._conn.execute("DELETE FROM postings")
        self._conn.execute("DELETE FROM unindexed")
        self._conn.executemany("INSERT INTO unindexed VALUES (?)", ((b,) for b in bids))
        self._rows.clear()

    def clear_cache(self) -> None:
        self._rows.clear()
        self._per_word.clear()


def _buckets(postings: int) -> int:
    """How many buckets a segment of this many postings gets: the power of two (see merge._write)
    nearest to POSTINGS_PER_BUCKET (LARGE_BUCKET for a large segment) a bucket."""
    need = postings / (LARGE_BUCKET if postings >= LARGE_SEGMENT else POSTINGS_PER_BUCKET)
    return min(MAX_BUCKETS, 1 << max(0, round(math.log2(need)))) if need > 1 else 1


def _size_class(seg: Segment) -> int:
    """Segments within a factor FANIN of each other in size share a class."""
    return int(math.log(max(1, seg.docs), FANIN))


# Rows are zstd (rows written before are zlib, and still read): ~2x faster to decompress, the same size
# (level 9 for a flush's small segments, 3 for merges' large ones, as zlib's 9 and 6 were).
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_LEVEL = {9: 9, 6: 3}
_contexts = threading.local()  # zstd's contexts are not thread safe; making one costs ~8 us


def _context(name: str, make: Callable[[], object]):
    c = getattr(_contexts, name, None)
    if c is None:
        c = make()
        setattr(_contexts, name, c)
    return c


def _pack_row(raw: bytes, level: int) -> bytes:
    z = _ZSTD_LEVEL[level]
    return _context(f"c{z}", lambda: zstandard.ZstdCompressor(level=z, write_checksum=False)).compress(raw)


def _unpack_row(data: bytes) -> bytes:
    if data[:4] != _ZSTD_MAGIC:
        return zlib.decompress(data)
    return _context("d", zstandard.ZstdDecompressor).decompress(data)
