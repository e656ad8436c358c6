"""The sealed record format: keyed hashes, row tags, sealed blobs and fields, and every
associated-data string the vault seals with (in this module only).

- Blobs are content-addressed by a keyed hash of their plaintext (`text_hash`; a run of
  turns by `run_hash`, its own domain: a run is never a text blob), zlib-compressed
  before sealing, and sealed with associated data `blob|<hash>`. The first plaintext
  byte is the kind: z zlib, r raw (when zlib did not help); Z and R are runs (msgpack of
  [role, text] pairs, or [role, text, meta] for a turn with a TurnMeta: the meta is part
  of the run's payload and so of its keyed hash, and a turn without one encodes exactly as
  before, so older vaults read and compare unchanged).
  C, Z and R are runs. C (new runs) is one raw deflate stream of a small table (each
  turn's size) then the run, so a search hit inflates a run only up to the turn it
  shows (records.open_turn; a whole run cost ~0.2 ms a hit). D runs (store/chunked.py),
  written once the vault has a compression dictionary (store/repack.py), are zstd chunks
  of a few turns each: a hit decompresses one chunk.
- The vault's compression dictionaries are sealed with `dictionary|<id>` (zlib inside).
- Row tags: every turns, branch_turns and drafts row carries a keyed tag over
  (conversation id, position, content hash; a packed branch row its item too), so a
  row moved to another conversation or index, or pointed at another blob or item, is
  detected like a tampered ciphertext.
- Conversation fields are sealed with `conv|<vault id>|<field>`; signal and failure
  details with `signal|<id>` and `failure|<id>`; index rows with `index|<sid>|<slot>`.
- Attachments (store/attachments.py): each part of a file's bytes sealed raw with
  `attachment|<aid>|<part>`; the file is addressed by a keyed hash of all its bytes
  (`attachment_hasher`, its own domain) and its row tagged over (aid, size, parts, hash).
  A link of a file to a turn seals [name, type, size] with `attachment link|<lid>` and is
  tagged over (conversation id, its branch when not the current thread, turn index, lid,
  the file's hash). An upload in progress
  is found by a keyed hash of (client, page, the extension's key), never the plain key.
"""

from __future__ import annotations

import hmac
import secrets
import sqlite3
from itertools import accumulate
from typing import TYPE_CHECKING, Iterator, Literal, Sequence

import msgspec
from zlib_ng import zlib_ng as zlib  # the stdlib's API and deflate format, ~3x faster: search inflates runs and index rows

from ..crypto import Keyring, Tampered
from ..protocol import Document
from . import chunked

if TYPE_CHECKING:
    from .db import Tx

TAG_BYTES = 16
HASH_BYTES = 16
INDEX_BUCKET_KEY = b"index bucket"  # the keyed hash that spreads words over an index segment's buckets



class TurnMeta(msgspec.Struct, frozen=True, omit_defaults=True):
    """What a turn carries besides its text (the optional third item of a stored turn).
    A change of thinking or documents is a change of the turn (it is kept as a version);
    `first_seen` is inherited by a turn that continues the stored one (apply.py)."""

    first_seen: str | None = None  # ISO time the vault first saw the turn (an import: the export's)
    thinking: str | None = None  # visible reasoning, never part of the text
    documents: tuple[Document, ...] = ()  # canvas documents and artifacts the turn made


# (role, text), or (role, text, meta): callers that only need the text read t[0] and t[1].
Turn = tuple[str, str] | tuple[str, str, TurnMeta]


class _StoredTurn(msgspec.Struct, array_like=True):
    role: str
    text: str
    meta: TurnMeta | None = None


_run_decoder = msgspec.msgpack.Decoder(list[_StoredTurn])
_turn_decoder = msgspec.msgpack.Decoder(_StoredTurn)
_sizes_decoder = msgspec.msgpack.Decoder(list[int])


def meta_of(turn: Turn) -> TurnMeta | None:
    return turn[2] if len(turn) > 2 else None  # type: ignore[misc]


def content_key(turn: Turn) -> tuple:
    """Role, text, thinking and documents: what the turn says (when it was first seen aside)."""
    meta = meta_of(turn) or NO_META
    return (turn[0], turn[1], meta.thinking, meta.documents)


def only_adds(new: Turn, old: Turn) -> bool:
    """`new` says what `old` said and more: the same text, and thinking or documents where
    `old` had none of them (a canvas rendered after the answer). Nothing of `old` is lost."""
    a, b = meta_of(new) or NO_META, meta_of(old) or NO_META
    return new[:2] == old[:2] and b.thinking in (None, a.thinking) and set(b.documents) <= set(a.documents)


def with_meta(role: str, text: str, meta: TurnMeta | None) -> Turn:
    """The turn, its meta left out when there is nothing in it (it stores as a pair then)."""
    return (role, text) if meta is None or meta == NO_META else (role, text, meta)


NO_META = TurnMeta()


def new_id() -> str:
    """A random id that never starts with "-", so that the CLI never takes it for an option."""
    while (id := secrets.token_urlsafe(12)).startswith("-"):
        pass
    return id


def index_aad(sid: int, slot: int) -> bytes:
    return f"index|{sid}|{slot}".encode()


def turns_name(idx: int, n: int) -> str:
    """How a run of turns is named in reports ("turn 3", "turns 0-31")."""
    return f"turn {idx}" if n == 1 else f"turns {idx}-{idx + n - 1}"


class Records:
    """Seals and opens the vault's records with its keyring (no database access)."""

    def __init__(self, keys: Keyring):
        self.keys = keys
        self.dictionaries: dict[int, chunked.Dictionary] = {}  # by id: what D runs need to open
        self.writing: chunked.Dictionary | None = None  # new runs are D runs with it (the newest)

    def add_dictionary(self, d: chunked.Dictionary) -> None:
        self.dictionaries[d.did] = d
        if self.writing is None or d.did > self.writing.did:
            self.writing = d

    # ---- keyed hashes and tags ------------------------------------------------------

    def site_key(self, site: str, conversation_id: str) -> bytes:
        return self.keys.mac(f"{site}\0{conversation_id}".encode(), b"conversation")[:HASH_BYTES]

    def text_hash(self, text: str) -> bytes:
        return self.keys.mac(text.encode(), b"blob")[:HASH_BYTES]

    def run_hash(self, payload: bytes) -> bytes:
        return self.keys.mac(payload, b"run")[:HASH_BYTES]

    def import_mac(self, payload: bytes) -> bytes:
        return self.keys.mac(payload, b"import")[:HASH_BYTES]

    def run_tag(self, id: str, idx: int, n: int, h: bytes) -> bytes:
        return self.keys.mac(f"run|{id}|{idx}|{n}|".encode() + h, b"row tag")[:TAG_BYTES]

    def branch_tag(self, id: str, branch: int, idx: int, role: str, h: bytes, k: int | None = None) -> bytes:
        """`k`: the row's item in a pack of kept texts (versions.py); a row without one has its blob alone."""
        place = b"" if k is None else f"|{k}".encode()
        return self.keys.mac(f"branch|{id}|{branch}|{idx}|{role}|".encode() + h + place, b"row tag")[:TAG_BYTES]

    def draft_tag(self, id: str, did: int, at: str, h: bytes) -> bytes:
        return self.keys.mac(f"draft|{id}|{did}|{at}|".encode() + h, b"row tag")[:TAG_BYTES]

    # ---- attachments ----------------------------------------------------------------------

    def attachment_hasher(self) -> "hmac.HMAC":
        """The keyed hash of a file's bytes, fed part by part (`.digest()[:HASH_BYTES]`)."""
        return hmac.new(self.keys.mac_key(b"attachment"), digestmod="sha256")

    def upload_key(self, client_id: str, page_id: str, key: str) -> bytes:
        return self.keys.mac(f"{client_id}\0{page_id}\0{key}".encode(), b"upload")[:HASH_BYTES]

    def link_key(self, h: bytes | None, name: str, type: str, size: int) -> bytes:
        """What makes a link one: the same file (or, without bytes, the same name, type and size) at one turn."""
        what = b"file|" + h if h is not None else msgspec.msgpack.encode(["meta", name, type, size])
        return self.keys.mac(what, b"link")[:HASH_BYTES]

    def attachment_tag(self, aid: int, size: int, parts: int, h: bytes) -> bytes:
        return self.keys.mac(f"attachment|{aid}|{size}|{parts}|".encode() + h, b"row tag")[:TAG_BYTES]

    def link_tag(self, id: str, idx: int, lid: int, h: bytes | None, branch: int | None = None) -> bytes:
        """`branch`: the earlier version the link went with (None: the current thread, tagged as before branches had links)."""
        place = f"{idx}" if branch is None else f"b{branch}|{idx}"
        return self.keys.mac(f"link|{id}|{place}|{lid}|".encode() + (h or b""), b"row tag")[:TAG_BYTES]

    def seal_part(self, aid: int, part: int, data: bytes) -> bytes:
        return self.keys.seal(data, f"attachment|{aid}|{part}".encode())

    def open_part(self, aid: int, part: int, sealed: bytes) -> bytes:
        return self.keys.open(sealed, f"attachment|{aid}|{part}".encode())

    def seal_link(self, lid: int, name: str, type: str, size: int, alt: str | None) -> bytes:
        meta = [name, type, size] + ([alt] if alt is not None else [])
        return self.keys.seal(msgspec.msgpack.encode(meta), f"attachment link|{lid}".encode())

    def open_link(self, lid: int, sealed: bytes) -> tuple[str, str, int, str | None]:
        """(name, type, size, alt); links sealed before images carried their alt text have none."""
        try:
            name, type, size, *alt = msgspec.msgpack.decode(self.keys.open(sealed, f"attachment link|{lid}".encode()))
            if len(alt) > 1:
                raise ValueError("too many fields")
        except (msgspec.DecodeError, ValueError, TypeError):
            raise Tampered("undecodable attachment link") from None
        return str(name), str(type), int(size), (str(alt[0]) if alt else None)

    # ---- sealed fields and details ----------------------------------------------------

    def seal_field(self, id: str, field: str, value: str) -> bytes:
        return self.keys.seal(value.encode(), f"conv|{id}|{field}".encode())

    def open_field(self, id: str, field: str, sealed: bytes) -> str:
        return self.keys.open(sealed, f"conv|{id}|{field}".encode()).decode()

    def field_or_none(self, id: str, field: str, sealed: bytes | None, corrupt: list[str] | None = None) -> str | None:
        """The field's value; None when unset or unreadable (then named in `corrupt`)."""
        if sealed is None:
            return None
        try:
            return self.open_field(id, field, sealed)
        except (Tampered, UnicodeDecodeError):
            if corrupt is not None:
                corrupt.append(field.replace("_", " "))
            return None

    def seal_detail(self, kind: Literal["signal", "failure"], id: str, text: str | None) -> bytes | None:
        return None if text is None else self.keys.seal(text.encode(), f"{kind}|{id}".encode())

    def open_detail(self, kind: Literal["signal", "failure"], id: str, sealed: bytes) -> str:
        return self.keys.open(sealed, f"{kind}|{id}".encode()).decode()

    def seal_dictionary(self, did: int, data: bytes) -> bytes:
        return self.keys.seal(zlib.compress(data, 9), f"dictionary|{did}".encode())

    def open_dictionary(self, did: int, sealed: bytes) -> chunked.Dictionary:
        try:
            return chunked.Dictionary(did, zlib.decompress(self.keys.open(sealed, f"dictionary|{did}".encode())))
        except (zlib.error, ValueError):
            raise Tampered("undecodable dictionary") from None

    def seal_keycheck(self) -> bytes:
        return self.keys.seal(b"draftvault", b"meta|keycheck")

    def open_keycheck(self, sealed: bytes) -> None:
        self.keys.open(sealed, b"meta|keycheck")

    # ---- blobs -------------------------------------------------------------------------

    def seal_blob(self, raw: bytes, h: bytes, level: int, run: bool) -> bytes:
        if run:
            chunks = chunked.pack(raw, self.writing) if self.writing else None
            packed = _seekable(raw, level) if chunks is None else b"D" + chunks
        else:
            packed = b"z" + zlib.compress(raw, level)
        if len(packed) > len(raw):
            packed = (b"R" if run else b"r") + raw
        return self.keys.seal(packed, b"blob|" + h)

    def open_packed(self, h: bytes | None, data: bytes | None) -> tuple[bytes, bytes]:
        """(its kind, its plaintext: C and D runs as stored, see open_turn)."""
        if not isinstance(h, bytes) or not isinstance(data, bytes):
            raise Tampered("missing or damaged content")
        packed = self.keys.open(data, b"blob|" + h)
        kind, body = packed[:1], packed[1:]
        try:
            if kind in (b"z", b"Z"):
                body = zlib.decompress(body)
            elif kind not in (b"r", b"R", b"C", b"D"):
                raise Tampered("unknown kind of content")
        except (zlib.error, TypeError):
            raise Tampered("undecodable content") from None
        return kind, body

    def open_text(self, h: bytes | None, data: bytes | None) -> str:
        kind, body = self.open_packed(h, data)
        if kind.isupper():
            raise Tampered("a run where a text belongs")
        return _decode_text(body)

    def open_run(self, h: bytes | None, data: bytes | None) -> list[Turn]:
        return _decode_run(self._payload(*self.open_packed(h, data)))

    def open_any(self, h: bytes | None, data: bytes | None) -> list[Turn] | str:
        """A run's turns, or a text."""
        kind, body = self.open_packed(h, data)
        return _decode_run(self._payload(kind, body)) if kind.isupper() else _decode_text(body)

    def run_payload(self, h: bytes | None, data: bytes | None) -> bytes | None:
        """A run's payload (encode_run's bytes) whatever its layout; None for a text."""
        kind, body = self.open_packed(h, data)
        return self._payload(kind, body) if kind.isupper() else None

    def repacked(self, h: bytes | None, data: bytes | None) -> tuple[bytes | None, int]:
        """A stream run sealed again as a D run with the writing dictionary (None: a text, a D run
        already, or a run better kept whole: chunked.pack), and its payload's size. It is read
        back before it is returned: a readable run is never traded for a doubtful one."""
        kind, body = self.open_packed(h, data)
        if kind.islower() or kind == b"D" or self.writing is None:
            return None, 0
        payload = self._payload(kind, body)
        chunks = chunked.pack(payload, self.writing)
        if chunks is None or len(chunks) >= len(payload):
            return None, len(payload)
        sealed = self.keys.seal(b"D" + chunks, b"blob|" + h)
        return (sealed if self.run_payload(h, sealed) == payload else None), len(payload)

    def _payload(self, kind: bytes, body: bytes) -> bytes:
        if kind.islower():
            raise Tampered("a text where a run belongs")
        if kind == b"D":
            return chunked.payload(body, self.dictionaries)
        if kind != b"C":
            return body
        try:
            plain = zlib.decompress(body, wbits=-15)
        except zlib.error:
            raise Tampered("undecodable run") from None
        return plain[4 + int.from_bytes(plain[:4], "little") :]

    def open_turn(self, h: bytes | None, data: bytes | None, turn: int) -> Turn:
        """One turn of a run: a C run is inflated only up to the end of that turn."""
        kind, body = self.open_packed(h, data)
        if kind == b"D":
            t = _decode_turn(chunked.turn(body, turn, self.dictionaries))
            return with_meta(t.role, t.text, t.meta)
        if kind != b"C":
            run = _decode_run(self._payload(kind, body))
            if not 0 <= turn < len(run):
                raise Tampered("a run without that turn")
            return run[turn]
        try:
            d = zlib.decompressobj(wbits=-15)
            size = int.from_bytes(d.decompress(body, 4), "little")
            bounds = list(accumulate(_sizes_decoder.decode(d.decompress(d.unconsumed_tail, size)), initial=0))
            if not 0 <= turn < len(bounds) - 2:  # bounds: 0, the payload's header, then each turn's end
                raise Tampered("a run without that turn")
            t = _turn_decoder.decode(d.decompress(d.unconsumed_tail, bounds[turn + 2])[bounds[turn + 1] :])
            return with_meta(t.role, t.text, t.meta)
        except (zlib.error, msgspec.DecodeError):
            raise Tampered("undecodable run") from None


def _seekable(raw: bytes, level: int) -> bytes:
    """A run (encode_run's payload) as kind C: one deflate stream of a table (its byte count, then
    the msgpack of the payload's header size and each turn's size), then the payload."""
    sizes = [len(msgspec.msgpack.encode(turn)) for turn in msgspec.msgpack.decode(raw)]
    table = msgspec.msgpack.encode([len(raw) - sum(sizes), *sizes])
    return b"C" + zlib.compress(len(table).to_bytes(4, "little") + table + raw, level, wbits=-15)


def encode_run(turns: Sequence[Turn]) -> bytes:
    return msgspec.msgpack.encode(turns)


def _decode_run(payload: bytes) -> list[Turn]:
    try:
        return [with_meta(t.role, t.text, t.meta) for t in _run_decoder.decode(payload)]
    except msgspec.DecodeError:
        raise Tampered("undecodable run") from None


def _decode_turn(payload: bytes) -> _StoredTurn:
    try:
        return _turn_decoder.decode(payload)
    except msgspec.DecodeError:
        raise Tampered("undecodable run") from None


def _decode_text(payload: bytes) -> str:
    try:
        return payload.decode()
    except UnicodeDecodeError:
        raise Tampered("undecodable content") from None


# ---- blobs in the database ---------------------------------------------------------------


def put_blob(tx: Tx, rec: Records, raw: bytes, h: bytes, level: int = 9, run: bool = False) -> int:
    """The blob of `raw` (UTF-8 text, or an encoded run), stored (and noted for the index) if new."""
    row = tx.one("SELECT bid FROM blobs WHERE hash=?", (h,))
    if row is not None:
        return row[0]
    bid = tx.conn.execute("INSERT INTO blobs (hash, data) VALUES (?, ?)", (h, rec.seal_blob(raw, h, level, run))).lastrowid
    tx.index.note(bid)
    tx.noted += 1
    return bid


def collect(tx: Tx) -> None:
    """Deletes the blobs freed in this transaction that no row references any more, and their index entries."""
    freed, tx.freed = tx.freed, set()
    for bid in freed:
        if bid is None or tx.one(
            "SELECT EXISTS(SELECT 1 FROM turns WHERE bid=:b) OR EXISTS(SELECT 1 FROM drafts WHERE bid=:b)"
            " OR EXISTS(SELECT 1 FROM branch_turns WHERE bid=:b) OR EXISTS(SELECT 1 FROM conversations WHERE title_bid=:b)",
            {"b": bid},
        )[0]:
            continue
        if tx.conn.execute("DELETE FROM blobs WHERE bid=?", (bid,)).rowcount:
            tx.index.forget(bid)  # searches skip it at once; its segment drops it when rewritten


def blobs_by_id(tx: Tx, bids: Sequence[int]) -> list[tuple[int, bytes, bytes]]:
    """(bid, hash, data) of these blobs (those that exist)."""
    return tx.q(
        "SELECT bid, hash, data FROM blobs WHERE bid IN (SELECT value FROM json_each(?))",
        (msgspec.json.encode(list(bids)).decode(),),
    )


def texts(tx: Tx, rec: Records, bids: list[int]) -> Iterator[tuple[int, list[str]]]:
    """The plaintext of these blobs (for the index), a run as its turns' texts; unreadable ones are
    left out (verify reports them)."""
    for n in range(0, len(bids), 500):
        for bid, h, data in blobs_by_id(tx, bids[n : n + 500]):
            try:
                content = rec.open_any(h, data)
            except Tampered:
                continue
            yield bid, [content] if isinstance(content, str) else [searchable(t) for t in content]


def searchable(turn: Turn) -> str:
    """What search finds of a turn: its text and its documents. Not its thinking: words the
    assistant only weighed would match conversations that never said them."""
    meta = meta_of(turn)
    return "\n".join([turn[1], *(d.text for d in meta.documents)]) if meta else turn[1]


def alive(conn: sqlite3.Connection, lo: int, hi: int) -> set[int]:
    """The blob ids in lo..hi that still exist (what the index keeps when it rewrites a segment)."""
    return {r[0] for r in conn.execute("SELECT bid FROM blobs WHERE bid BETWEEN ? AND ?", (lo, hi))}
