"""Runs of kind D: turns compressed in small independent zstd chunks against the vault's dictionary.

A C run (records.py) is one deflate stream: a search hit inflates it up to the turn it
shows, ~35 us for a 50 KiB run, most of a rare word's query. Chunks compressed alone
would be fast to open but cost 15-40 % more bytes, because each starts with no history;
primed with a dictionary trained on the vault's own runs (store/repack.py) they are as
small as the stream or smaller (measured on generated prose and a real ChatGPT export:
0.85-0.96 x the C runs at zstd level 12), and a hit decompresses one chunk (~4 us).

Layout of a D run's plaintext (after the kind byte): the table's byte count (4 bytes, little
endian), the table (msgpack [dictionary id, the payload's array header, each turn's size,
each chunk's turn count, each chunk's compressed size]: msgpack's small integers keep it
~0.6 % of a run, 4-byte ones cost 1.7 %), then the chunks. A chunk is the
msgpack of whole consecutive turns, about CHUNK_BYTES of them, so a turn is never split.
zstd's own checksum is off: the seal authenticates every byte.
"""

from __future__ import annotations

import threading
from itertools import accumulate
from typing import Annotated

import msgspec
import zstandard

from ..crypto import Tampered

CHUNK_BYTES = 4096  # a hit decompresses this much; smaller chunks lose ratio even with a dictionary
WHOLE_RATIO = 1.25  # chunks this much bigger than the run compressed whole: the run repeats itself, keep it whole
LEVEL = 12  # as fast as zlib -9 was here, and 3-7 % smaller than level 9


class Dictionary:
    """A trained zstd dictionary and the contexts that use it (one at a time: zstd's are not thread safe)."""

    def __init__(self, did: int, data: bytes):
        self.did = did
        self.data = data
        try:
            d = zstandard.ZstdCompressionDict(data, dict_type=zstandard.DICT_TYPE_FULLDICT)
            d.precompute_compress(level=LEVEL)
        except zstandard.ZstdError as e:
            raise ValueError(f"not a compression dictionary: {e}") from None
        self._lock = threading.Lock()
        self._c = zstandard.ZstdCompressor(level=LEVEL, dict_data=d, write_checksum=False, write_dict_id=False)
        self._d = zstandard.ZstdDecompressor(dict_data=d)
        self._whole = zstandard.ZstdCompressor(level=1, write_checksum=False)  # a quick look at a run's own repetition

    def compress(self, data: bytes) -> bytes:
        with self._lock:
            return self._c.compress(data)

    def whole_size(self, data: bytes) -> int:
        """What `data` compresses to alone, without the dictionary, roughly (zstd -1)."""
        with self._lock:
            return len(self._whole.compress(data))

    def decompress(self, data: bytes, size: int) -> bytes:
        with self._lock:
            out = self._d.decompress(data, max_output_size=size)
        if len(out) != size:
            raise zstandard.ZstdError("a chunk of the wrong size")
        return out


def train(samples: list[bytes], size: int) -> bytes:
    """A dictionary of about `size` bytes for samples like these (zstd's COVER trainer)."""
    try:
        return zstandard.train_dictionary(size, samples, level=LEVEL).as_bytes()
    except zstandard.ZstdError as e:
        raise ValueError(f"no dictionary trained: {e}") from None


def chunks_of(payload: bytes) -> list[bytes]:
    """A run's payload (records.encode_run) cut between turns into pieces of about CHUNK_BYTES:
    the training samples, shaped as D runs compress them."""
    head, sizes = _turn_sizes(payload)
    return [payload[a:b] for a, b, _ in _spans(head, sizes)]


def pack(payload: bytes, d: Dictionary) -> bytes | None:
    """The D layout of a run's payload, without its kind byte; None when the run is much smaller
    compressed whole (a file revised turn after turn, an answer pasted back: repetition a chunk
    cannot see, which the dictionary does not hold). On prose and real chats chunks come to
    ~0.9 x zstd -1 of the whole run; on an export of repeated artifacts 4 x."""
    head, sizes = _turn_sizes(payload)
    spans = _spans(head, sizes)
    chunks = [d.compress(payload[a:b]) for a, b, _ in spans]
    if len(spans) > 1 and sum(map(len, chunks)) > WHOLE_RATIO * d.whole_size(payload):
        return None
    table = msgspec.msgpack.encode([d.did, payload[:head], sizes, [n for _, _, n in spans], [len(c) for c in chunks]])
    return len(table).to_bytes(4, "little") + table + b"".join(chunks)


def payload(body: bytes, dictionaries: dict[int, Dictionary]) -> bytes:
    """The whole run's payload."""
    did, head, sizes, counts, zsizes, start = _table(body)
    d = _dictionary(dictionaries, did)
    out, first, at = [head], 0, start
    for n, z in zip(counts, zsizes):
        out.append(_decompress(d, body[at : at + z], sum(sizes[first : first + n])))
        first, at = first + n, at + z
    return b"".join(out)


def turn(body: bytes, k: int, dictionaries: dict[int, Dictionary]) -> bytes:
    """The msgpack of turn k alone: only its chunk is decompressed."""
    did, head, sizes, counts, zsizes, start = _table(body)
    if not 0 <= k < len(sizes):
        raise Tampered("a run without that turn")
    first = 0
    for c, n in enumerate(counts):
        if k < first + n:
            chunk = _decompress(_dictionary(dictionaries, did), body[start + sum(zsizes[:c]) : start + sum(zsizes[: c + 1])],
                                sum(sizes[first : first + n]))
            bounds = list(accumulate(sizes[first : k + 1], initial=0))
            return chunk[bounds[-2] : bounds[-1]]
        first += n
    raise Tampered("a run without that turn")


def _turn_sizes(payload: bytes) -> tuple[int, list[int]]:
    """The payload's array header size and each turn's encoded size (msgpack encodes a decoded turn
    to the same bytes)."""
    sizes = [len(msgspec.msgpack.encode(t)) for t in msgspec.msgpack.decode(payload)]
    return len(payload) - sum(sizes), sizes


def _spans(head: int, sizes: list[int]) -> list[tuple[int, int, int]]:
    """(start, end, turns) of each chunk in the payload."""
    spans: list[tuple[int, int, int]] = []
    start = end = head
    n = 0
    for size in sizes:
        if n and end - start + size > CHUNK_BYTES:
            spans.append((start, end, n))
            start, n = end, 0
        end += size
        n += 1
    if n:
        spans.append((start, end, n))
    return spans


_Sizes = list[Annotated[int, msgspec.Meta(ge=0)]]
_table_decoder = msgspec.msgpack.Decoder(tuple[int, bytes, _Sizes, _Sizes, _Sizes])


def _table(body: bytes) -> tuple[int, bytes, list[int], list[int], list[int], int]:
    """The table's fields, and where the chunks start."""
    try:
        size = int.from_bytes(body[:4], "little")
        did, head, sizes, counts, zsizes = _table_decoder.decode(body[4 : 4 + size])
    except msgspec.DecodeError:
        raise Tampered("undecodable run") from None
    if sum(counts) != len(sizes) or len(counts) != len(zsizes) or 4 + size + sum(zsizes) != len(body):
        raise Tampered("undecodable run")
    return did, head, sizes, counts, zsizes, 4 + size


def _dictionary(dictionaries: dict[int, Dictionary], did: int) -> Dictionary:
    d = dictionaries.get(did)
    if d is None:
        raise Tampered(f"compression dictionary {did} is missing or damaged")
    return d


def _decompress(d: Dictionary, data: bytes, size: int) -> bytes:
    try:
        return d.decompress(data, size)
    except zstandard.ZstdError:
        raise Tampered("undecodable run") from None
