"""The encrypted vault: conversations, turns, drafts, signals and failures in SQLite.

Storage (one SQLite file in WAL mode, `PRAGMA temp_store=MEMORY` so no plaintext temp
files; every secret is sealed with AES-256-GCM by crypto.Keyring):

- `blobs`: content-addressed records (runs of turns, drafts, titles). Keyed by a keyed
  hash of the plaintext, so identical content is stored once however often it is
  snapshotted; zlib-compressed before sealing; associated data `blob|<hash>` binds the
  ciphertext to its address. A blob no longer referenced is deleted at once (and
  leaves the search index), so a streaming answer's intermediate states do not pile up.
- `turns`: a conversation's turns, a run of consecutive turns per row (`idx`, `n`),
  the run sealed as one blob (msgpack of [role, text] pairs). Settled turns (all but
  the last LIVE_TURNS, which may still stream or be edited) are sealed together, up to
  RUN_BYTES of text a run: zlib then sees the conversation's repetitions and a run
  costs one row and one seal instead of one per turn, which is most of what keeps the
  vault near the compressed size of its content. The live turns are one per row, so a
  streaming answer rewrites only itself; once the settled rows after the last full run
  (one of PACK_TURNS turns or PACK_BYTES sealed) reach that much together, they are
  sealed into one run. A snapshot rewrites only the rows whose turns changed (a row is
  compared by the keyed hash of its turns, without decrypting). The price: a damaged run loses its turns together, and search
  matches a run (see Search).
- `branch_turns` / `drafts` reference text blobs, one per row. Every turns, branch
  and drafts row carries a keyed tag over (conversation id, position, content hash):
  moving a row to another conversation or index, or pointing it at another blob, is
  detected like a tampered ciphertext.
- `conversations`: title, url, model and the site's conversation id sealed with
  associated data `conv|<vault id>|<field>`; looked up by `site_key`, a keyed hash of
  (site, site conversation id). Site, times and counts are plaintext metadata.
- `pages`: page_id -> its current conversation (a new chat has one before the site
  gives it an id; navigating inside the single-page app moves the page).

Draft history keeps the recent versions of each draft (DRAFT_VERSIONS). Typing that
only extends the newest version, or keeps deleting from its end, updates that
version instead of adding one, so the history holds the peaks of each edit rather
than one entry per keystroke.

Compression: zlib -9 per blob (drafts, rewritten on every keystroke, at level 6).
Vaults from before runs kept a preset dictionary of common words in `meta` ('d'
blobs); it is still read, never made.

Search: the sealed index in `index.py` (an inverted index in encrypted segments, BM25
ranking, search-as-you-type prefixes of 3+ characters: the last query word is a
prefix when the query does not end in a space). Titles are indexed as blobs too
(`conversations.title_bid`; the sealed `title` field is what is shown). Every new
blob is noted in `unindexed` with its commit and indexed in batches: before any
search or list_conversations(q=), at close(), and when a transaction leaves
index.FLUSH_DOCS of them. So a word typed in a draft is found by any search after its
snapshot is acked, also after a crash, while the keystroke versions of a draft and the
intermediate states of a streaming answer, superseded before the next search, are
mostly never indexed. All query words must occur in one indexed text (a run of
turns, a draft or the title); the best text ranks its conversation. Snippets and their
marks come from the decrypted best hit of each conversation (only that blob is
decrypted; in a run, the turn that matches most query words); recent hits' plaintext
is kept in a small in-memory LRU (HIT_CACHE_CHARS, cleared on delete; nothing
plaintext on disk). The snippet finds the first match, then marks only within the
snippet, with a pattern that starts with the words (a leading lookbehind made `re`
try every position: 100 x slower). Vaults made with the earlier FTS5 blind index
are re-indexed once when opened; vaults from before runs have their turns packed.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import threading
import unicodedata
import zlib
from contextlib import contextmanager
from bisect import bisect_right
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from pathlib import Path
from typing import Iterator, Literal, Sequence

import msgspec
import sqlite_utils

from . import config, models, protocol
from . import index
from .index import Index, words
from .crypto import Keyring, Tampered

DRAFT_VERSIONS = 20
MAX_PREFIX_WORDS = 16  # each completion costs BM25 work on every hit: keep it to the likeliest (shortest)
SNIPPET_CHARS = 200
SNIPPET_LEAD = 60
HIT_CACHE_CHARS = 4_000_000
RUN_BYTES = 128 * 1024  # text in a run: zlib sees the conversation's repetitions; a search hit decrypts one
RUN_TURNS = 256
LIVE_TURNS = 2  # the question and the answer being written may still change
PACK_BYTES = 12 * 1024  # a run this big sealed (or of PACK_TURNS) is full: the settled rows after it wait for as much
PACK_TURNS = 32
# FULL: a commit is on disk (WAL fsynced) before apply() returns, so an ack survives
# a power cut too; NORMAL survives a crash of the service (SIGKILL) but not of the OS.
SYNCHRONOUS = os.environ.get("DRAFTVAULT_SYNCHRONOUS", "FULL").upper()
DRAFT_ZLIB_LEVEL = 6

_WORD = re.compile(r"[^\W_]+")
_TAG_BYTES = 16
_HASH_BYTES = 16

TURNS_SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    cid INTEGER NOT NULL, idx INTEGER NOT NULL, n INTEGER NOT NULL, bid INTEGER NOT NULL, tag BLOB NOT NULL,
    PRIMARY KEY (cid, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS turns_bid ON turns(bid);
"""

SCHEMA = index.SCHEMA + """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS clients (client_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS conversations (
    cid INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    site TEXT NOT NULL,
    site_key BLOB UNIQUE,
    site_conv BLOB,
    title BLOB,
    url BLOB,
    model BLOB,
    turn_count INTEGER NOT NULL DEFAULT 0,
    draft INTEGER,
    title_bid INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    import_mac BLOB
);
CREATE INDEX IF NOT EXISTS conversations_updated ON conversations(updated_at);
CREATE INDEX IF NOT EXISTS conversations_title ON conversations(title_bid);
CREATE TABLE IF NOT EXISTS pages (page_id TEXT PRIMARY KEY, cid INTEGER, seen_at TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pages_cid ON pages(cid);
CREATE TABLE IF NOT EXISTS blobs (
    bid INTEGER PRIMARY KEY AUTOINCREMENT, hash BLOB NOT NULL UNIQUE, data BLOB NOT NULL
);
""" + TURNS_SCHEMA + """
CREATE TABLE IF NOT EXISTS branch_turns (
    cid INTEGER NOT NULL, branch INTEGER NOT NULL, idx INTEGER NOT NULL, role TEXT NOT NULL,
    bid INTEGER NOT NULL, tag BLOB NOT NULL,
    PRIMARY KEY (cid, branch, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS branch_turns_bid ON branch_turns(bid);
CREATE TABLE IF NOT EXISTS drafts (
    did INTEGER PRIMARY KEY AUTOINCREMENT, cid INTEGER NOT NULL, bid INTEGER NOT NULL,
    at TEXT NOT NULL, tag BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS drafts_cid ON drafts(cid, did);
CREATE INDEX IF NOT EXISTS drafts_bid ON drafts(bid);
CREATE TABLE IF NOT EXISTS signals (
    id TEXT PRIMARY KEY, cid INTEGER, page_id TEXT, client_id TEXT, kind TEXT NOT NULL,
    status INTEGER, detail BLOB, at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS failures (
    id TEXT PRIMARY KEY, cid INTEGER NOT NULL, kind TEXT NOT NULL, detail BLOB, page_id TEXT,
    provider_outage INTEGER NOT NULL DEFAULT 0, detected_at TEXT NOT NULL,
    resolved_at TEXT, resolution TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS failures_cid ON failures(cid, resolved_at);
"""

_UNAVAILABLE = ("database or disk is full", "disk i/o error", "database is locked", "unable to open", "readonly")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _new_id() -> str:
    """A random id that never starts with "-", so that the CLI never takes it for an option."""
    while (id := secrets.token_urlsafe(12)).startswith("-"):
        pass
    return id


class NeedFull(Exception):
    """A snapshot delta starts past the turns the vault holds; `have` is how many it holds."""

    def __init__(self, have: int):
        super().__init__(f"the vault holds {have} turns of this conversation; send the turns from {have} on")
        self.have = have


class Unavailable(Exception):
    """The vault could not store the frame (disk full, I/O error, locked); nothing was stored."""


class KeyMismatch(Exception):
    """The key file does not open this vault (missing or replaced)."""


class Applied(msgspec.Struct):
    seq: int
    outcome: Literal["stored", "duplicate"]
    conversation: str | None


class VerifyReport(msgspec.Struct):
    checked: int
    bad: list[str]


class _Conv(msgspec.Struct):
    cid: int
    id: str
    site: str
    site_key: bytes | None
    turn_count: int
    draft: int | None


_CONV_COLS = "cid, id, site, site_key, turn_count, draft"


class Vault:
    db: sqlite_utils.Database
    home: Path

    def __init__(self, home: Path, conn: sqlite3.Connection, keys: Keyring):
        self.home = home
        self.db = sqlite_utils.Database(conn)
        self._conn = conn
        self._keys = keys
        self._lock = threading.RLock()
        self._depth = 0  # open write transactions (transaction() nests apply/import calls)
        self._index = Index(conn, keys)
        self._noted = 0  # blobs this connection noted for indexing since its last flush
        self._zdict: bytes | None = None  # the compression dictionary of a vault from before runs
        # hash -> (decrypted content, its characters) of recent search hits (memory only)
        self._hits: dict[bytes, tuple[list[tuple[str, str]] | str, int]] = {}
        self._hit_chars = 0

    # ---- opening ----------------------------------------------------------------

    @classmethod
    def open(cls, home: Path, passphrase: str | None = None) -> "Vault":
        """Opens the vault under `home`, creating it (and its key) on first use."""
        home = config.private_dir(Path(home))
        path, key_path = config.db_path(home), config.key_path(home)
        old_umask = os.umask(0o077)  # the db file 0600; SQLite gives -wal/-shm the db's mode
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
        finally:
            os.umask(old_umask)
        # A damaged or tampered file may hold bytes that are not UTF-8 in a text column:
        # decode leniently so that one bad record is reported instead of failing the read.
        conn.text_factory = lambda b: b.decode("utf-8", "replace")
        try:
            os.chmod(path, 0o600)
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")  # takes effect on a new vault only
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            conn.close()
            raise
        try:
            columns = [r[1] for r in conn.execute("PRAGMA table_info(conversations)")]
            if columns and "title_bid" not in columns:  # a vault from before the sealed index
                conn.execute("ALTER TABLE conversations ADD COLUMN title_bid INTEGER")
            for statement in _statements(SCHEMA):
                conn.execute(statement)
            # a page id only matters while its tab is open: forget pages unseen for a month
            month_ago = (datetime.now(timezone.utc) - timedelta(days=30)).isoformat(timespec="milliseconds")
            conn.execute("DELETE FROM pages WHERE seen_at < ?", (month_ago,))
            row = conn.execute("SELECT v FROM meta WHERE k='keycheck'").fetchone()
            if row is not None and not key_path.exists():
                raise KeyMismatch(f"the vault {path} exists but its key {key_path} is missing")
            keys = Keyring.open_or_create(key_path, passphrase)
            if row is None:
                conn.execute("INSERT INTO meta VALUES ('keycheck', ?)", (keys.seal(b"draftvault", b"meta|keycheck"),))
            else:
                try:
                    keys.open(row[0], b"meta|keycheck")
                except Tampered:
                    raise KeyMismatch(f"the key {key_path} does not open the vault {path}") from None
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()
            raise
        vault = cls(home, conn, keys)
        try:
            vault._upgrade()
        except BaseException:
            conn.close()
            raise
        return vault

    def _upgrade(self) -> None:
        """Packs the turns of a vault from before runs, and moves one made with the FTS5
        blind index to the sealed index (each once)."""
        one_per_row = "role" in [r[1] for r in self._q("PRAGMA table_info(turns)")]
        fts5 = self._one("SELECT 1 FROM sqlite_master WHERE name='search'") is not None
        if not (one_per_row or fts5):
            return
        with self._write():
            if one_per_row:
                self._pack_old_turns()
            if fts5:
                for cid, id, sealed in self._q("SELECT cid, id, title FROM conversations WHERE title IS NOT NULL"):
                    self._set_title_blob(cid, self._field_or_none(id, "title", sealed), [])  # no title blob before
                self.reindex()
                for table in ("search", "vocab"):
                    self._conn.execute(f"DROP TABLE IF EXISTS {table}")
                self._conn.execute("DELETE FROM meta WHERE k='term_chars'")

    def _pack_old_turns(self) -> None:
        """Turns stored one text blob per row (role in the row) become runs."""
        self._conn.execute("DROP INDEX turns_bid")
        self._conn.execute("ALTER TABLE turns RENAME TO turns_v1")
        for statement in _statements(TURNS_SCHEMA):
            self._conn.execute(statement)
        garbage: list[int] = []
        for (cid,) in self._q("SELECT DISTINCT cid FROM turns_v1"):
            conv = self._conv("cid=?", (cid,))
            turns: list[tuple[str, str] | None] = []
            for idx, role, bid, tag, h, data in self._q(
                "SELECT t.idx, t.role, t.bid, t.tag, b.hash, b.data FROM turns_v1 t LEFT JOIN blobs b USING (bid) "
                "WHERE t.cid=? ORDER BY t.idx",
                (cid,),
            ):
                garbage.append(bid)
                try:
                    if conv is None or h is None or tag != self._keys.mac(
                        f"turn|{conv.id}|{idx}|{role}|".encode() + h, b"row tag"
                    )[:_TAG_BYTES]:
                        raise Tampered("turn moved")  # a new tag must not vouch for a row moved before
                    turn: tuple[str, str] | None = (role, self._open_blob(h, data))
                except Tampered:
                    turn = None  # unreadable before the upgrade too (verify reported it): a gap, as before
                turns += [None] * (idx - len(turns)) + [turn]
            if conv is not None:
                self._store_turns(conv, 0, turns, len(turns), garbage)
        self._conn.execute("DROP TABLE turns_v1")
        self._collect(garbage)

    def reindex(self) -> None:
        """Rebuilds the search index from the content (a damaged index row loses nothing else)."""
        with self._write():
            self._index.rebuild(r[0] for r in self._q("SELECT bid FROM blobs ORDER BY bid"))
        self._flush()

    def close(self) -> None:
        with self._lock:
            try:
                self._flush()
                # give the freed pages back to the disk (executescript steps the pragma to its end)
                self._conn.executescript("PRAGMA incremental_vacuum;")
            except (sqlite3.OperationalError, Unavailable):
                pass  # busy or read-only: the pages are reused later anyway
            self._conn.close()

    # ---- transactions -------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One SQLite transaction around many calls (e.g. an import): all or nothing."""
        with self._write():
            yield

    @contextmanager
    def _write(self) -> Iterator[None]:
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as e:
                raise _mapped(e) from e
            self._depth = 1
            try:
                yield
                if self._noted >= index.FLUSH_DOCS:  # e.g. an import: index in batches as it goes
                    self._noted = self._index.pending()
                    if self._noted >= index.FLUSH_DOCS:
                        self._index.flush(self._texts)
                        self._noted = 0
                self._conn.execute("COMMIT")
            except BaseException as e:
                self._index.clear_cache()  # it may hold segments this transaction made
                if self._conn.in_transaction:
                    try:
                        self._conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                if isinstance(e, sqlite3.OperationalError):
                    raise _mapped(e) from e
                raise
            finally:
                self._depth = 0

    @contextmanager
    def _read(self) -> Iterator[None]:
        """A consistent view for several SELECTs."""
        with self._lock:
            if self._depth:
                yield
                return
            self._conn.execute("BEGIN")
            try:
                yield
            finally:
                self._conn.execute("COMMIT")

    def _q(self, sql: str, params: Sequence = ()) -> list[tuple]:
        return self._conn.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence = ()) -> tuple | None:
        return self._conn.execute(sql, params).fetchone()

    # ---- ingest -------------------------------------------------------------------

    def last_seq(self, client_id: str) -> int:
        with self._lock:
            row = self._one("SELECT last_seq FROM clients WHERE client_id=?", (client_id,))
        return row[0] if row else 0

    def apply(self, client_id: str, frame: protocol.Snapshot | protocol.Signal) -> Applied:
        """Stores one frame durably, once: a seq the vault already holds changes nothing."""
        with self._write():
            row = self._one("SELECT last_seq FROM clients WHERE client_id=?", (client_id,))
            if row is not None and frame.seq <= row[0]:
                return Applied(seq=frame.seq, outcome="duplicate", conversation=self._page_conversation(frame.page_id))
            if isinstance(frame, protocol.Snapshot):
                cid = self._apply_snapshot(client_id, frame)
            else:
                cid = self._apply_signal(client_id, frame)
            self._conn.execute(
                "INSERT INTO clients VALUES (?, ?) ON CONFLICT(client_id) DO UPDATE SET last_seq=excluded.last_seq",
                (client_id, frame.seq),
            )
            return Applied(seq=frame.seq, outcome="stored", conversation=self._public_id(cid))

    def conversation_for_page(self, page_id: str) -> str | None:
        with self._lock:
            return self._page_conversation(page_id)

    def _page_conversation(self, page_id: str) -> str | None:
        row = self._one("SELECT c.id FROM pages p JOIN conversations c USING (cid) WHERE p.page_id=?", (page_id,))
        return row[0] if row else None

    def _public_id(self, cid: int | None) -> str | None:
        if cid is None:
            return None
        return self._one("SELECT id FROM conversations WHERE cid=?", (cid,))[0]

    def _conv(self, where: str, params: Sequence) -> _Conv | None:
        row = self._one(f"SELECT {_CONV_COLS} FROM conversations WHERE {where}", params)
        return _Conv(*row) if row else None

    def _apply_snapshot(self, client_id: str, f: protocol.Snapshot) -> int | None:
        now = now_iso()
        page = self._one("SELECT cid FROM pages WHERE page_id=?", (f.page_id,))
        page_conv = self._conv("cid=?", (page[0],)) if page and page[0] is not None else None
        new_chat = page_conv is not None and page_conv.site_key is None  # the page's chat has no site id (yet)
        if f.conversation_id is not None:
            key = self._site_key(f.site, f.conversation_id)
            conv = self._conv("site_key=?", (key,))
            if conv is None and new_chat:
                cid = page_conv.cid  # the new chat got its id
                self._conn.execute(
                    "UPDATE conversations SET site_key=?, site_conv=? WHERE cid=?",
                    (key, self._seal_field(page_conv.id, "conversation_id", f.conversation_id), cid),
                )
            elif conv is None:
                cid = self._create(f.site, now, key, f.conversation_id)
            else:
                cid = conv.cid
                if new_chat and page_conv.cid != cid and page_conv.turn_count > 0:
                    self._merge(page_conv, conv)
        elif new_chat:
            cid = page_conv.cid
        elif f.turns or f.turn_count or (f.draft and f.draft.strip()):
            cid = self._create(f.site, now, None, None)
        else:
            cid = None  # an empty new chat: nothing to keep yet
        if cid is not None:
            self._apply_content(cid, f, now)
        self._conn.execute(
            "INSERT INTO pages VALUES (?, ?, ?) ON CONFLICT(page_id) DO UPDATE SET cid=excluded.cid, seen_at=excluded.seen_at",
            (f.page_id, cid, now),
        )
        return cid

    def _create(self, site: str, now: str, key: bytes | None, site_conv: str | None, created_at: str | None = None) -> int:
        id = _new_id()
        cur = self._conn.execute(
            "INSERT INTO conversations (id, site, site_key, site_conv, created_at, updated_at) VALUES (?,?,?,?,?,?)",
            (
                id,
                site,
                key,
                None if site_conv is None else self._seal_field(id, "conversation_id", site_conv),
                created_at or now,
                now,
            ),
        )
        return cur.lastrowid

    def _apply_content(self, cid: int, f: protocol.Snapshot, now: str) -> None:
        conv = self._conv("cid=?", (cid,))
        have = conv.turn_count
        if f.turns_from > have:
            raise NeedFull(have)
        garbage: list[int] = []
        count = min(f.turn_count, max(have, f.turns_from + len(f.turns)))
        changed = self._store_turns(conv, f.turns_from, [(t.role, t.text) for t in f.turns], count, garbage)
        changed |= count != have
        changed |= self._set_fields(conv, title=f.title, url=f.url, model=f.model)
        changed |= self._set_draft(conv, f.draft, now, garbage)
        if changed:
            self._conn.execute("UPDATE conversations SET turn_count=?, updated_at=? WHERE cid=?", (count, now, cid))
        self._collect(garbage)

    def _store_turns(
        self,
        conv: _Conv,
        start: int,
        incoming: Sequence[tuple[str, str] | None],
        count: int,
        garbage: list[int],
        live: int = LIVE_TURNS,
    ) -> bool:
        """Stores turns `start`.. (None: unknown, left out) and drops those from `count` on.

        Only rows whose turns change are rewritten: a row inside `incoming` is compared by
        the keyed hash of its turns, one that straddles it is opened and spliced. The
        rewritten turns are laid out again (_group), then settled one-turn rows are
        packed when there are enough of them. Returns whether anything changed.
        """
        end = start + len(incoming)
        rows = self._q(
            "SELECT t.idx, t.n, t.bid, b.hash, b.data FROM turns t LEFT JOIN blobs b USING (bid) "
            "WHERE t.cid=? AND t.idx + t.n > ? ORDER BY t.idx",
            (conv.cid, min(start, count)),
        )
        pending: dict[int, tuple[str, str] | None] = {}
        covered: set[int] = set()
        for idx, n, bid, h, data in rows:
            covered.update(range(idx, idx + n))
            stop = min(idx + n, count)
            if idx >= end and idx + n <= count:
                continue  # after the incoming turns, and kept
            if start <= idx and idx + n <= min(end, count):
                new = incoming[idx - start : idx + n - start]
                if None not in new and self._run_hash(_encode_run(new)) == h:
                    continue
            else:
                try:
                    old: list = self._open_run(h, data)
                except Tampered:
                    old = [None] * n
                new = [incoming[i - start] if start <= i < end else old[i - idx] for i in range(idx, stop)]
                if stop == idx + n and new == old:
                    continue
            pending.update(zip(range(idx, stop), new))
            self._conn.execute("DELETE FROM turns WHERE cid=? AND idx=?", (conv.cid, idx))
            garbage.append(bid)
        pending.update((i, incoming[i - start]) for i in range(start, min(end, count)) if i not in covered)
        settled = count - live
        self._write_runs(conv, _group(sorted((i, t) for i, t in pending.items() if t is not None), settled))
        packed = self._pack_settled(conv, settled, garbage)
        return bool(pending) or packed

    def _write_runs(self, conv: _Conv, groups: list[tuple[int, list[tuple[str, str]]]]) -> None:
        """Writes the rows `_group` laid out."""
        for first, run in groups:
            self._write_run(conv, first, run)

    def _pack_settled(self, conv: _Conv, settled: int, garbage: list[int]) -> bool:
        """Packs the settled rows after the last full run (PACK_TURNS turns or PACK_BYTES sealed)
        into runs, once together they are that much."""
        rows = self._q(
            "SELECT t.idx, t.n, t.bid, b.hash, b.data FROM turns t LEFT JOIN blobs b USING (bid) "
            "WHERE t.cid=:c AND t.idx + t.n <= :settled AND t.idx >= ("
            "  SELECT COALESCE(MAX(f.idx + f.n), 0) FROM turns f JOIN blobs fb USING (bid)"
            "  WHERE f.cid=:c AND (f.n >= :turns OR length(fb.data) >= :bytes)"
            ") ORDER BY t.idx",
            {"c": conv.cid, "settled": settled, "turns": PACK_TURNS, "bytes": PACK_BYTES},
        )
        if len(rows) < 2 or (sum(r[1] for r in rows) < PACK_TURNS and sum(len(r[4] or b"") for r in rows) < PACK_BYTES):
            return False
        turns, readable = [], []
        for row in rows:
            try:
                turns += [(row[0] + k, t) for k, t in enumerate(self._open_run(row[3], row[4]))]
                readable.append(row)
            except Tampered:
                continue  # left as it is, for verify to report
        groups = _group(turns, settled)
        if [(first, len(run)) for first, run in groups] == [(idx, n) for idx, n, *_ in readable]:
            return False  # as packed as they get (e.g. runs of huge, very compressible turns)
        for idx, _, bid, _, _ in readable:
            self._conn.execute("DELETE FROM turns WHERE cid=? AND idx=?", (conv.cid, idx))
            garbage.append(bid)
        self._write_runs(conv, groups)
        return True

    def _write_run(self, conv: _Conv, idx: int, turns: list[tuple[str, str]]) -> None:
        payload = _encode_run(turns)
        h = self._run_hash(payload)
        bid = self._blob(payload, h, run=True)
        self._conn.execute(
            "INSERT INTO turns VALUES (?,?,?,?,?)", (conv.cid, idx, len(turns), bid, self._run_tag(conv.id, idx, len(turns), h))
        )

    def _put_branch_turn(self, conv: _Conv, branch: int, idx: int, role: str, text: str) -> None:
        h = self._hash(text)
        bid = self._blob(text.encode(), h)
        tag = self._branch_tag(conv.id, branch, idx, role, h)
        self._conn.execute("INSERT INTO branch_turns VALUES (?,?,?,?,?,?)", (conv.cid, branch, idx, role, bid, tag))

    def _set_fields(self, conv: _Conv, **values: str | None) -> bool:
        """Seals the given fields (title, url, model) that changed; None keeps the stored value."""
        wanted = {k: v for k, v in values.items() if v is not None}
        if not wanted:
            return False
        row = self._one(f"SELECT {', '.join(wanted)} FROM conversations WHERE cid=?", (conv.cid,))
        changed = False
        for (field, value), sealed in zip(wanted.items(), row):
            old = None
            if sealed is not None:
                try:
                    old = self._open_field(conv.id, field, sealed)
                except Tampered:
                    pass  # overwritten with the page's current value
                if old == value:
                    continue
            self._conn.execute(
                f"UPDATE conversations SET {field}=? WHERE cid=?", (self._seal_field(conv.id, field, value), conv.cid)
            )
            if field == "title":
                garbage: list[int] = []
                self._set_title_blob(conv.cid, value, garbage)
                self._collect(garbage)
            changed = True
        return changed

    def _set_title_blob(self, cid: int, title: str | None, garbage: list[int]) -> None:
        """Titles are searchable too: the index finds them as blobs (the sealed field is what is shown)."""
        old = self._one("SELECT title_bid FROM conversations WHERE cid=?", (cid,))[0]
        bid = None if title is None else self._blob(title.encode(), self._hash(title))
        self._conn.execute("UPDATE conversations SET title_bid=? WHERE cid=?", (bid, cid))
        if old is not None and old != bid:
            garbage.append(old)

    def _set_draft(self, conv: _Conv, draft: str | None, now: str, garbage: list[int]) -> bool:
        """Keeps the composer's text as the current draft and in the draft history."""
        if draft is None:
            return False  # the page did not read its composer: keep what we have
        if not draft.strip():
            if conv.draft is None:
                return False
            self._conn.execute("UPDATE conversations SET draft=NULL WHERE cid=?", (conv.cid,))
            conv.draft = None
            return True
        h = self._hash(draft)
        versions = self._q(
            "SELECT d.did, d.bid, b.hash, b.data FROM drafts d LEFT JOIN blobs b USING (bid) "
            "WHERE d.cid=? ORDER BY d.did DESC LIMIT 2",
            (conv.cid,),
        )
        if versions and versions[0][2] == h:
            if conv.draft == versions[0][0]:
                return False
            did = versions[0][0]  # the same text again after it was cleared
        else:
            bid = self._blob(draft.encode(), h, DRAFT_ZLIB_LEVEL)  # rewritten on every keystroke: a faster level
            did = None
            if versions and conv.draft == versions[0][0] and self._continues(draft, versions):
                did, old_bid = versions[0][0], versions[0][1]
                self._conn.execute(
                    "UPDATE drafts SET bid=?, at=?, tag=? WHERE did=?", (bid, now, self._draft_tag(conv.id, did, now, h), did)
                )
                garbage.append(old_bid)
            else:
                did = self._conn.execute(
                    "INSERT INTO drafts (cid, bid, at, tag) VALUES (?,?,?,x'')", (conv.cid, bid, now)
                ).lastrowid
                self._conn.execute("UPDATE drafts SET tag=? WHERE did=?", (self._draft_tag(conv.id, did, now, h), did))
                old = self._q(
                    "SELECT did, bid FROM drafts WHERE cid=? ORDER BY did DESC LIMIT -1 OFFSET ?", (conv.cid, DRAFT_VERSIONS)
                )
                if old:
                    self._conn.executemany("DELETE FROM drafts WHERE did=?", [(d,) for d, _ in old])
                    garbage += [b for _, b in old]
        self._conn.execute("UPDATE conversations SET draft=? WHERE cid=?", (did, conv.cid))
        conv.draft = did
        return True

    def _continues(self, draft: str, versions: list[tuple]) -> bool:
        """Whether `draft` continues the newest version's edit: typing on, or deleting on."""
        try:
            newest = self._open_blob(versions[0][2], versions[0][3])
            if draft.startswith(newest):
                return True
            if newest.startswith(draft) and len(versions) > 1:
                return self._open_blob(versions[1][2], versions[1][3]).startswith(newest)
        except (Tampered, TypeError):
            pass
        return False

    def _merge(self, src: _Conv, dst: _Conv) -> None:
        """Moves a new chat's page conversation into the site conversation it turned out to be."""
        garbage: list[int] = []
        if src.turn_count >= dst.turn_count:
            garbage += [r[0] for r in self._q("SELECT bid FROM turns WHERE cid=?", (dst.cid,))]
            self._conn.execute("DELETE FROM turns WHERE cid=?", (dst.cid,))
            rows = self._q(
                "SELECT t.idx, t.n, t.bid, b.hash FROM turns t LEFT JOIN blobs b USING (bid) WHERE t.cid=?", (src.cid,)
            )
            self._conn.executemany(
                "INSERT INTO turns VALUES (?,?,?,?,?)",
                [(dst.cid, idx, n, bid, self._run_tag(dst.id, idx, n, h or b"")) for idx, n, bid, h in rows],
            )
            self._conn.execute("UPDATE conversations SET turn_count=? WHERE cid=?", (src.turn_count, dst.cid))
            dst.turn_count = src.turn_count
        else:
            garbage += [r[0] for r in self._q("SELECT bid FROM turns WHERE cid=?", (src.cid,))]
        self._conn.execute("DELETE FROM turns WHERE cid=?", (src.cid,))
        for did, at, h in self._q(
            "SELECT d.did, d.at, b.hash FROM drafts d LEFT JOIN blobs b USING (bid) WHERE d.cid=?", (src.cid,)
        ):
            self._conn.execute(
                "UPDATE drafts SET cid=?, tag=? WHERE did=?", (dst.cid, self._draft_tag(dst.id, did, at, h or b""), did)
            )
        if src.draft is not None:
            self._conn.execute("UPDATE conversations SET draft=? WHERE cid=?", (src.draft, dst.cid))
            dst.draft = src.draft
        for table in ("failures", "signals", "pages"):
            self._conn.execute(f"UPDATE {table} SET cid=? WHERE cid=?", (dst.cid, src.cid))
        garbage += [r[0] for r in self._q("SELECT title_bid FROM conversations WHERE cid=? AND title_bid NOT NULL", (src.cid,))]
        self._conn.execute("DELETE FROM conversations WHERE cid=?", (src.cid,))
        self._collect(garbage)

    def _apply_signal(self, client_id: str, f: protocol.Signal) -> int | None:
        cid = None
        if f.conversation_id is not None:
            conv = self._conv("site_key=?", (self._site_key(f.site, f.conversation_id),))
            cid = conv.cid if conv else None
        if cid is None:
            page = self._one("SELECT cid FROM pages WHERE page_id=?", (f.page_id,))
            cid = page[0] if page else None
        id = _new_id()
        detail = None if f.detail is None else self._keys.seal(f.detail.encode(), f"signal|{id}".encode())
        self._conn.execute(
            "INSERT INTO signals VALUES (?,?,?,?,?,?,?,?)",
            (id, cid, f.page_id, client_id, f.kind, f.status, detail, now_iso()),
        )
        return cid

    # ---- records ------------------------------------------------------------------

    def _site_key(self, site: str, conversation_id: str) -> bytes:
        return self._keys.mac(f"{site}\0{conversation_id}".encode(), b"conversation")[:_HASH_BYTES]

    def _hash(self, text: str) -> bytes:
        return self._keys.mac(text.encode(), b"blob")[:_HASH_BYTES]

    def _run_hash(self, payload: bytes) -> bytes:
        return self._keys.mac(payload, b"run")[:_HASH_BYTES]  # its own domain: a run is never a text blob

    def _run_tag(self, id: str, idx: int, n: int, h: bytes) -> bytes:
        return self._keys.mac(f"run|{id}|{idx}|{n}|".encode() + h, b"row tag")[:_TAG_BYTES]

    def _branch_tag(self, id: str, branch: int, idx: int, role: str, h: bytes) -> bytes:
        return self._keys.mac(f"branch|{id}|{branch}|{idx}|{role}|".encode() + h, b"row tag")[:_TAG_BYTES]

    def _draft_tag(self, id: str, did: int, at: str, h: bytes) -> bytes:
        return self._keys.mac(f"draft|{id}|{did}|{at}|".encode() + h, b"row tag")[:_TAG_BYTES]

    def _seal_field(self, id: str, field: str, value: str) -> bytes:
        return self._keys.seal(value.encode(), f"conv|{id}|{field}".encode())

    def _open_field(self, id: str, field: str, sealed: bytes) -> str:
        return self._keys.open(sealed, f"conv|{id}|{field}".encode()).decode()

    def _blob(self, raw: bytes, h: bytes, level: int = 9, run: bool = False) -> int:
        """The blob of `raw` (UTF-8 text, or an encoded run), stored (and noted for the index) if new."""
        row = self._one("SELECT bid FROM blobs WHERE hash=?", (h,))
        if row is not None:
            return row[0]
        packed = zlib.compress(raw, level)
        kind = b"z"
        if len(packed) >= len(raw):
            packed, kind = raw, b"r"
        if run:
            kind = kind.upper()
        bid = self._conn.execute(
            "INSERT INTO blobs (hash, data) VALUES (?, ?)", (h, self._keys.seal(kind + packed, b"blob|" + h))
        ).lastrowid
        self._index.note(bid)
        self._noted += 1
        return bid

    def _open_packed(self, h: bytes | None, data: bytes | None) -> tuple[bool, bytes]:
        """(whether it is a run, its plaintext). Kinds: z zlib, r raw, d zlib with the old dictionary; Z, R runs."""
        if not isinstance(h, bytes) or not isinstance(data, bytes):
            raise Tampered("missing or damaged content")
        packed = self._keys.open(data, b"blob|" + h)
        kind, body = packed[:1], packed[1:]
        try:
            if kind in (b"z", b"Z"):
                body = zlib.decompress(body)
            elif kind == b"d":
                z = zlib.decompressobj(zdict=self._dictionary())
                body = z.decompress(body) + z.flush()
            elif kind not in (b"r", b"R"):
                raise Tampered("unknown kind of content")
        except (zlib.error, TypeError):
            raise Tampered("undecodable content") from None
        return kind.isupper(), body

    def _open_blob(self, h: bytes | None, data: bytes | None) -> str:
        run, body = self._open_packed(h, data)
        if run:
            raise Tampered("a run where a text belongs")
        return _decode_text(body)

    def _open_run(self, h: bytes | None, data: bytes | None) -> list[tuple[str, str]]:
        run, body = self._open_packed(h, data)
        if not run:
            raise Tampered("a text where a run belongs")
        return _decode_run(body)

    def _open_any(self, h: bytes | None, data: bytes | None) -> list[tuple[str, str]] | str:
        """A run's turns, or a text."""
        run, body = self._open_packed(h, data)
        return _decode_run(body) if run else _decode_text(body)

    def _dictionary(self) -> bytes | None:
        """The compression dictionary of a vault from before runs (its 'd' blobs need it)."""
        if self._zdict is None:
            row = self._one("SELECT v FROM meta WHERE k='zdict'")
            if row is not None:
                self._zdict = self._keys.open(row[0], b"meta|zdict")
        return self._zdict

    def _collect(self, bids: list[int]) -> None:
        """Deletes the blobs no row references any more, and their index entries."""
        for bid in set(bids):
            if self._one(
                "SELECT EXISTS(SELECT 1 FROM turns WHERE bid=:b) OR EXISTS(SELECT 1 FROM drafts WHERE bid=:b)"
                " OR EXISTS(SELECT 1 FROM branch_turns WHERE bid=:b) OR EXISTS(SELECT 1 FROM conversations WHERE title_bid=:b)",
                {"b": bid},
            )[0]:
                continue
            if self._conn.execute("DELETE FROM blobs WHERE bid=?", (bid,)).rowcount:
                self._index.forget(bid)  # searches skip it at once; its segment drops it when rewritten

    # ---- search -------------------------------------------------------------------

    def _texts(self, bids: list[int]) -> Iterator[tuple[int, str]]:
        """The plaintext of these blobs (for the index); unreadable ones are left out (verify reports them)."""
        for n in range(0, len(bids), 500):
            for bid, h, data in self._q(
                "SELECT bid, hash, data FROM blobs WHERE bid IN (SELECT value FROM json_each(?))",
                (msgspec.json.encode(bids[n : n + 500]).decode(),),
            ):
                try:
                    content = self._open_any(h, data)
                except Tampered:
                    continue
                yield bid, content if isinstance(content, str) else "\n".join(text for _, text in content)

    def _flush_if_possible(self) -> None:
        """Flushes before a search; a full disk or a read-only vault still answers from what is indexed."""
        try:
            self._flush()
        except Unavailable:
            pass

    def _flush(self) -> None:
        """Indexes the blobs stored since the last flush (before a search reads the index)."""
        with self._lock:
            if self._one("SELECT NOT EXISTS(SELECT 1 FROM unindexed)")[0]:
                return
            with self._write():
                self._index.flush(self._texts)
                self._noted = 0

    def _match(self, q: str) -> tuple[list[list[str]], set[str], str | None] | None:
        """The index query for `q` (groups of words, one of each must occur), the exact words, and the prefix."""
        ws = words(q)
        if not ws:
            return None
        prefix = None
        if len(ws[-1]) >= 3 and _WORD.match(q[-1:] or " "):
            prefix = ws.pop()  # search as you type: the unfinished last word
        groups = [[w] for w in dict.fromkeys(ws)]
        if prefix is not None:
            completions = self._index.complete(prefix, MAX_PREFIX_WORDS)
            groups.append(completions if prefix in completions else [prefix] + completions)
        return groups, set(ws), prefix

    def search(self, q: str, *, site=None, since=None, until=None, limit: int = 20) -> list[models.SearchHit]:
        self._flush_if_possible()
        with self._read():
            found = self._search_rows(q, site=site, since=since, until=until, limit=limit, offset=0)
            if found is None:
                return []
            rows, exact, prefix = found
            hits = []
            for cid, id, site_, updated_at, sealed_title, turn, h, data in rows:
                title = self._field_or_none(id, "title", sealed_title)
                try:
                    content = (title or "") if turn == -2 else self._hit_content(h, data)
                except Tampered:
                    content = ""
                if isinstance(content, str):
                    text = content
                else:  # a run: its turn that matches the most query words
                    best = _best_turn([t for _, t in content], exact, prefix)
                    turn, text = turn + best, content[best][1]
                snippet, marks = _snippet(text, exact, prefix)
                hits.append(
                    models.SearchHit(
                        conversation=id,
                        title=title,
                        snippet=snippet,
                        marks=marks,
                        site=site_,
                        turn=turn if turn is not None and turn >= 0 else None,
                        updated_at=updated_at,
                    )
                )
            return hits

    def _hit_content(self, h: bytes | None, data: bytes | None) -> list[tuple[str, str]] | str:
        """A hit's plaintext, through a small in-memory LRU (search as you type repeats hits)."""
        entry = self._hits.pop(h, None)
        if entry is None:
            content = self._open_any(h, data)
            entry = (content, len(content) if isinstance(content, str) else sum(len(t) for _, t in content))
            self._hit_chars += entry[1]
        self._hits[h] = entry  # content-addressed: a hash always names the same content
        while self._hit_chars > HIT_CACHE_CHARS and len(self._hits) > 1:
            self._hit_chars -= self._hits.pop(next(iter(self._hits)))[1]
        return entry[0]

    def _search_rows(self, q, *, site, since, until, limit, offset):
        """The best text per conversation, best first, for the conversations ranked `offset`.. `offset+limit`.

        The index ranks the matching texts; they are mapped to their conversations (and
        filtered) in rank order, a growing chunk at a time, until enough conversations
        have their best text. Deleted texts still in a segment map to nothing.
        """
        m = self._match(q)
        if m is None:
            return None
        groups, exact, prefix = m
        ranked = self._index.search(groups)
        where, params = _filters(site, since, until)
        want = limit + offset
        best: dict[int, tuple] = {}  # cid -> (cid, id, site, updated_at, sealed title, turn, bid) of its best text
        start, step = 0, max(200, want * 10)
        while start < len(ranked) and len(best) < want:
            chunk = [bid for _, bid in ranked[start : start + step]]
            order = {bid: n for n, bid in enumerate(chunk)}
            start, step = start + step, step * 8
            rows = self._q(
                f"""
                WITH hit(bid) AS (SELECT value FROM json_each(:bids)),
                ref AS (
                    SELECT cid, idx AS turn, bid FROM turns WHERE bid IN hit
                    UNION ALL SELECT cid, NULL, bid FROM drafts WHERE bid IN hit
                    UNION ALL SELECT cid, -1, bid FROM branch_turns WHERE bid IN hit
                    UNION ALL SELECT cid, -2, title_bid FROM conversations WHERE title_bid IN hit
                )
                SELECT c.cid, c.id, c.site, c.updated_at, c.title, ref.turn, ref.bid
                FROM ref JOIN conversations c USING (cid) WHERE 1 {where}
                """,
                {"bids": msgspec.json.encode(chunk).decode(), **params},
            )
            rows.sort(key=lambda r: (order[r[-1]], r[0]))
            for row in rows:
                best.setdefault(row[0], row)
        picked = list(best.values())[offset:want]
        blobs = {
            r[0]: r[1:]
            for r in self._q(
                "SELECT bid, hash, data FROM blobs WHERE bid IN (SELECT value FROM json_each(?))",
                (msgspec.json.encode([r[-1] for r in picked]).decode(),),
            )
        } if picked else {}
        return [(*r[:-1], *blobs.get(r[-1], (None, None))) for r in picked], exact, prefix

    # ---- reading ------------------------------------------------------------------

    def _field_or_none(self, id: str, field: str, sealed: bytes | None, corrupt: list[str] | None = None) -> str | None:
        if sealed is None:
            return None
        try:
            return self._open_field(id, field, sealed)
        except (Tampered, UnicodeDecodeError):
            if corrupt is not None:
                corrupt.append(field.replace("_", " "))
            return None

    def _summary(self, row: tuple) -> models.ConversationSummary:
        cid, id, site, site_conv, title, url, turn_count, updated_at, failed = row
        return models.ConversationSummary(
            id=id,
            site=site,
            conversation_id=self._field_or_none(id, "conversation_id", site_conv),
            title=self._field_or_none(id, "title", title),
            url=self._field_or_none(id, "url", url),
            status="failed" if failed else "active",
            turn_count=turn_count,
            updated_at=updated_at,
        )

    _SUMMARY_COLS = (
        "c.cid, c.id, c.site, c.site_conv, c.title, c.url, c.turn_count, c.updated_at, "
        "EXISTS(SELECT 1 FROM failures f WHERE f.cid=c.cid AND f.resolved_at IS NULL) AS failed"
    )

    def list_conversations(
        self, *, q=None, site=None, status=None, since=None, until=None, limit=100, offset=0
    ) -> list[models.ConversationSummary]:
        where, params = _filters(site, since, until)
        if status == "failed":
            where += " AND EXISTS(SELECT 1 FROM failures f WHERE f.cid=c.cid AND f.resolved_at IS NULL)"
        elif status == "active":
            where += " AND NOT EXISTS(SELECT 1 FROM failures f WHERE f.cid=c.cid AND f.resolved_at IS NULL)"
        if q:
            self._flush_if_possible()
        with self._read():
            if q:
                found = self._search_rows(q, site=site, since=since, until=until, limit=10_000, offset=0)
                if found is None:
                    return []
                order = {row[0]: n for n, row in enumerate(found[0])}
                if not order:
                    return []
                rows = self._q(
                    f"SELECT {self._SUMMARY_COLS} FROM conversations c WHERE c.cid IN ({','.join(map(str, order))}) {where}",
                    params,
                )
                rows.sort(key=lambda r: order[r[0]])
                rows = rows[offset : offset + limit]
            else:
                rows = self._q(
                    f"SELECT {self._SUMMARY_COLS} FROM conversations c WHERE 1 {where} "
                    "ORDER BY c.updated_at DESC, c.cid DESC LIMIT :limit OFFSET :offset",
                    {**params, "limit": limit, "offset": offset},
                )
            return [self._summary(r) for r in rows]

    def get_conversation(self, id: str) -> models.ConversationDetail | None:
        with self._read():
            row = self._one(
                f"SELECT {self._SUMMARY_COLS}, c.created_at, c.model, c.draft FROM conversations c WHERE c.id=?", (id,)
            )
            if row is None:
                return None
            cid, id, site, site_conv, title, url, turn_count, updated_at, failed, created_at, model, current = row
            corrupt: list[str] = []
            fields = {
                name: self._field_or_none(id, name, sealed, corrupt)
                for name, sealed in (("title", title), ("url", url), ("model", model), ("conversation_id", site_conv))
            }
            turns = []
            for idx, n, tag, h, data in self._q(
                "SELECT t.idx, t.n, t.tag, b.hash, b.data FROM turns t LEFT JOIN blobs b USING (bid) "
                "WHERE t.cid=? ORDER BY t.idx",
                (cid,),
            ):
                try:
                    if h is None or tag != self._run_tag(id, idx, n, h):
                        raise Tampered("turns moved")
                    run = self._open_run(h, data)
                    if len(run) != n:
                        raise Tampered("a run of another length")
                    turns += [models.TurnOut(index=idx + k, role=role, text=text) for k, (role, text) in enumerate(run)]
                except Tampered:
                    corrupt.append(_turns_name(idx, n))
            drafts, draft = [], None
            for did, at, tag, h, data in self._q(
                "SELECT d.did, d.at, d.tag, b.hash, b.data FROM drafts d LEFT JOIN blobs b USING (bid) "
                "WHERE d.cid=? ORDER BY d.did DESC",
                (cid,),
            ):
                try:
                    if h is None or tag != self._draft_tag(id, did, at, h):
                        raise Tampered("draft moved")
                    out = models.DraftOut(text=self._open_blob(h, data), updated_at=at)
                except Tampered:
                    corrupt.append("draft" if did == current else f"draft version of {at}")
                    continue
                drafts.append(out)
                if did == current:
                    draft = out
            return models.ConversationDetail(
                id=id,
                site=site,
                conversation_id=fields["conversation_id"],
                title=fields["title"],
                url=fields["url"],
                status="failed" if failed else "active",
                turn_count=turn_count,
                updated_at=updated_at,
                created_at=created_at,
                model=fields["model"],
                turns=turns,
                draft=draft,
                drafts=drafts,
                failures=self._failures("f.cid=?", (cid,)),
                corrupt=corrupt,
            )

    # ---- deleting -----------------------------------------------------------------

    def delete_conversation(self, id: str) -> bool:
        """Removes the conversation, its turns, drafts, signals, failures and index entries."""
        with self._write():
            conv = self._conv("id=?", (id,))
            if conv is None:
                return False
            cid = conv.cid
            bids = [r[0] for r in self._q("SELECT bid FROM turns WHERE cid=? UNION SELECT bid FROM drafts WHERE cid=? "
                                            "UNION SELECT bid FROM branch_turns WHERE cid=?", (cid, cid, cid))]
            bids += [r[0] for r in self._q("SELECT title_bid FROM conversations WHERE cid=? AND title_bid NOT NULL", (cid,))]
            for table in ("turns", "branch_turns", "drafts", "failures", "signals"):
                self._conn.execute(f"DELETE FROM {table} WHERE cid=?", (cid,))
            self._conn.execute("DELETE FROM pages WHERE cid=?", (cid,))
            self._conn.execute("DELETE FROM conversations WHERE cid=?", (cid,))
            self._collect(bids)
            self._index.maintain(compact_now=True)  # its words leave the index, not only the results
            self._index.clear_cache()
            self._hits.clear()  # no deleted text stays in memory either
            self._hit_chars = 0
            return True

    # ---- checking -----------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Authenticates every record; reports the bad ones by id and goes on."""
        checked, bad = 0, []
        with self._read():
            bad_blobs: set[int] = set()
            runs: dict[int, int] = {}  # bid -> how many turns its run holds
            for bid, h, data in self._conn.execute("SELECT bid, hash, data FROM blobs"):
                checked += 1
                try:
                    content = self._open_any(h, data)
                    if not isinstance(content, str):
                        runs[bid] = len(content)
                except Tampered:
                    bad_blobs.add(bid)
                    bad.append(f"blob {bid}")
            for cid, id, site_conv, title, url, model in self._q(
                "SELECT cid, id, site_conv, title, url, model FROM conversations"
            ):
                for field, sealed in (("conversation_id", site_conv), ("title", title), ("url", url), ("model", model)):
                    if sealed is not None:
                        checked += 1
                        corrupt: list[str] = []
                        self._field_or_none(id, field, sealed, corrupt)
                        bad += [f"{c} of conversation {id}" for c in corrupt]
            for id, idx, n, bid, tag, h in self._q(
                "SELECT c.id, t.idx, t.n, t.bid, t.tag, b.hash FROM turns t JOIN conversations c USING (cid) "
                "LEFT JOIN blobs b USING (bid)"
            ):
                checked += 1
                if h is None or bid in bad_blobs or tag != self._run_tag(id, idx, n, h) or runs.get(bid) != n:
                    bad.append(f"{_turns_name(idx, n)} of conversation {id}")
            for id, branch, idx, role, bid, tag, h in self._q(
                "SELECT c.id, t.branch, t.idx, t.role, t.bid, t.tag, b.hash FROM branch_turns t "
                "JOIN conversations c USING (cid) LEFT JOIN blobs b USING (bid)"
            ):
                checked += 1
                if h is None or bid in bad_blobs or runs.get(bid) is not None or tag != self._branch_tag(id, branch, idx, role, h):
                    bad.append(f"turn {idx} of branch {branch} of conversation {id}")
            for id, did, at, bid, tag, h in self._q(
                "SELECT c.id, d.did, d.at, d.bid, d.tag, b.hash FROM drafts d JOIN conversations c USING (cid) "
                "LEFT JOIN blobs b USING (bid)"
            ):
                checked += 1
                if h is None or bid in bad_blobs or tag != self._draft_tag(id, did, at, h):
                    bad.append(f"draft {did} of conversation {id}")
            for table, aad in (("signals", "signal"), ("failures", "failure")):
                for id, detail in self._q(f"SELECT id, detail FROM {table} WHERE detail IS NOT NULL"):
                    checked += 1
                    try:
                        self._keys.open(detail, f"{aad}|{id}".encode())
                    except Tampered:
                        bad.append(f"{aad} {id}")
            index_rows, index_bad = self._index.verify()
            checked += index_rows
            bad += index_bad
        return VerifyReport(checked=checked, bad=bad)

    def stats(self) -> dict:
        path = config.db_path(self.home)
        size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())
        with self._read():
            conversations, turns, drafts = self._one(
                "SELECT (SELECT COUNT(*) FROM conversations), (SELECT COALESCE(SUM(n), 0) FROM turns), (SELECT COUNT(*) FROM drafts)"
            )
        return {"path": str(path), "size_bytes": size, "conversations": conversations, "turns": turns, "drafts": drafts}

    # ---- failures -----------------------------------------------------------------

    def record_failure(
        self, conversation: str, kind: str, *, detail=None, page_id=None, provider_outage=False
    ) -> models.FailureOut:
        with self._write():
            conv = self._conv("id=?", (conversation,))
            if conv is None:
                raise KeyError(f"no conversation {conversation}")
            id = _new_id()
            sealed = None if detail is None else self._keys.seal(detail.encode(), f"failure|{id}".encode())
            self._conn.execute(
                "INSERT INTO failures (id, cid, kind, detail, page_id, provider_outage, detected_at) VALUES (?,?,?,?,?,?,?)",
                (id, conv.cid, kind, sealed, page_id, int(provider_outage), self._failure_time()),
            )
            return self._failures("f.id=?", (id,))[0]

    def _failure_time(self) -> str:
        """Now, but after the newest failure, so failures list in the order they were recorded."""
        at = now_iso()
        last = self._one("SELECT MAX(detected_at) FROM failures")[0]
        if last is not None and at <= last:
            at = (datetime.fromisoformat(last) + timedelta(milliseconds=1)).isoformat(timespec="milliseconds")
        return at

    def list_failures(self, *, resolved: bool | None = None, conversation: str | None = None) -> list[models.FailureOut]:
        where, params = "1", []
        if resolved is not None:
            where += " AND f.resolved_at IS " + ("NOT NULL" if resolved else "NULL")
        if conversation is not None:
            where += " AND c.id=?"
            params.append(conversation)
        with self._read():
            return self._failures(where, params)

    def _failures(self, where: str, params: Sequence) -> list[models.FailureOut]:
        out = []
        for id, conv, kind, detail, outage, detected_at, resolved_at, resolution in self._q(
            "SELECT f.id, c.id, f.kind, f.detail, f.provider_outage, f.detected_at, f.resolved_at, f.resolution "
            f"FROM failures f JOIN conversations c USING (cid) WHERE {where} ORDER BY f.detected_at, f.id",
            params,
        ):
            try:
                text = None if detail is None else self._keys.open(detail, f"failure|{id}".encode()).decode()
            except Tampered:
                text = None
            out.append(
                models.FailureOut(
                    id=id,
                    conversation=conv,
                    kind=kind,
                    detected_at=detected_at,
                    resolved=resolved_at is not None,
                    detail=text,
                    resolved_at=resolved_at,
                    resolution=resolution,
                    provider_outage=bool(outage),
                )
            )
        return out

    def resolve_failure(self, id: str, resolution: str) -> models.FailureOut | None:
        with self._write():
            self._conn.execute(
                "UPDATE failures SET resolved_at=?, resolution=? WHERE id=? AND resolved_at IS NULL",
                (now_iso(), resolution, id),
            )
            found = self._failures("f.id=?", (id,))
        return found[0] if found else None

    def resolve_failures(self, conversation: str, resolution: str) -> list[str]:
        with self._write():
            ids = [
                r[0]
                for r in self._q(
                    "SELECT f.id FROM failures f JOIN conversations c USING (cid) WHERE c.id=? AND f.resolved_at IS NULL",
                    (conversation,),
                )
            ]
            self._conn.executemany(
                "UPDATE failures SET resolved_at=?, resolution=? WHERE id=?", [(now_iso(), resolution, i) for i in ids]
            )
        return ids

    # ---- import -------------------------------------------------------------------

    def import_conversation(
        self,
        *,
        site: str,
        conversation_id: str,
        title: str | None,
        url: str | None,
        model: str | None,
        created_at: str | None,
        updated_at: str | None,
        turns: list[tuple[str, str]],
        branches: Sequence[list[tuple[str, str]]] = (),
    ) -> tuple[str, str]:
        """Stores a whole conversation from an export; re-importing the same one changes nothing."""
        digest = self._keys.mac(
            msgspec.json.encode([title, url, model, created_at, updated_at, turns, list(branches)]), b"import"
        )[:_HASH_BYTES]
        with self._write():
            key = self._site_key(site, conversation_id)
            conv = self._conv("site_key=?", (key,))
            if conv is not None and self._one("SELECT import_mac FROM conversations WHERE cid=?", (conv.cid,))[0] == digest:
                return conv.id, "unchanged"
            outcome = "updated" if conv is not None else "created"
            now = now_iso()
            if conv is None:
                conv = self._conv("cid=?", (self._create(site, now, key, conversation_id, created_at),))
            garbage: list[int] = []
            self._store_turns(conv, 0, turns, len(turns), garbage, live=0)  # an export's turns are settled
            garbage += [r[0] for r in self._q("SELECT bid FROM branch_turns WHERE cid=?", (conv.cid,))]
            self._conn.execute("DELETE FROM branch_turns WHERE cid=?", (conv.cid,))
            for n, branch in enumerate(branches):
                for idx, (role, text) in enumerate(branch):
                    self._put_branch_turn(conv, n, idx, role, text)
            self._set_fields(conv, title=title, url=url, model=model)
            self._conn.execute(
                "UPDATE conversations SET turn_count=?, updated_at=?, created_at=COALESCE(?, created_at), import_mac=? "
                "WHERE cid=?",
                (len(turns), updated_at or now, created_at, digest, conv.cid),
            )
            self._collect(garbage)
            return conv.id, outcome


_run_decoder = msgspec.msgpack.Decoder(list[tuple[str, str]])


def _group(turns: list[tuple[int, tuple[str, str]]], settled: int) -> list[tuple[int, list[tuple[str, str]]]]:
    """(first index, turns) of each row for these (index, turn) pairs, ascending: consecutive
    turns before `settled` share a run of up to RUN_BYTES of text or RUN_TURNS; the others are one a row."""
    groups: list[tuple[int, list[tuple[str, str]]]] = []
    size = 0
    for i, turn in turns:
        if groups:
            first, run = groups[-1]
            if i == first + len(run) and i < settled and size < RUN_BYTES and len(run) < RUN_TURNS:
                run.append(turn)
                size += len(turn[1])
                continue
        groups.append((i, [turn]))
        size = len(turn[1])
    return groups


def _encode_run(turns: Sequence[tuple[str, str]]) -> bytes:
    return msgspec.msgpack.encode(turns)


def _decode_run(payload: bytes) -> list[tuple[str, str]]:
    try:
        return _run_decoder.decode(payload)
    except msgspec.DecodeError:
        raise Tampered("undecodable run") from None


def _decode_text(payload: bytes) -> str:
    try:
        return payload.decode()
    except UnicodeDecodeError:
        raise Tampered("undecodable content") from None


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _mapped(e: sqlite3.OperationalError) -> Exception:
    message = str(e).lower()
    if any(m in message for m in _UNAVAILABLE):
        return Unavailable(f"the vault could not store this: {e}")
    return e


def _filters(site, since, until) -> tuple[str, dict]:
    where, params = "", {}
    if site:
        where += " AND c.site = :site"
        params["site"] = site
    if since:
        where += " AND c.updated_at >= :since"
        params["since"] = since
    if until:
        # a prefix compare, so a date alone ("2026-11-23") includes that whole day
        where += " AND substr(c.updated_at, 1, length(:until)) <= :until"
        params["until"] = until
    return where, params


def _spans(folded: str, exact: set[str], prefix: str | None, pos: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """The whole-word matches of the query words in folded[pos:end], in order, not overlapping.

    str.find for each word, then a look at the characters around it: no pattern is
    compiled per query (re.compile of the alternatives cost more than all the finding).
    """
    end = len(folded) if end is None else end
    found = []
    for w in (*exact, *((prefix,) if prefix is not None else ())):
        i = folded.find(w, pos, end)
        while i >= 0:
            if i == 0 or not _WORD.match(folded, i - 1):  # starts a word
                stop = i + len(w)
                if w == prefix:
                    found.append((i, _WORD.match(folded, i).end()))
                elif not _WORD.match(folded, stop):  # and ends one
                    found.append((i, stop))
            i = folded.find(w, i + 1, end)
    found.sort(key=lambda span: (span[0], -span[1]))
    spans: list[tuple[int, int]] = []
    for span in found:
        if not spans or span[0] >= spans[-1][1]:
            spans.append(span)
    return spans


def _turns_name(idx: int, n: int) -> str:
    return f"turn {idx}" if n == 1 else f"turns {idx}-{idx + n - 1}"


def _best_turn(texts: list[str], exact: set[str], prefix: str | None) -> int:
    """The position of the text that holds the most query words (then the most matches; then the first).

    Only the texts where a query word occurs at all are looked at word by word: one
    casefold of the whole run and a str.find per word find them (a run holds ~100 KB).
    """
    needles = [*exact, *((prefix,) if prefix is not None else ())]
    joined = "\n".join(texts)
    folded = unicodedata.normalize("NFKC", joined).casefold()
    if len(folded) == len(joined):  # offsets in the folded run are offsets in the run: skip the texts without a match
        starts = list(accumulate((len(t) + 1 for t in texts), initial=0))
        candidates = sorted(
            {bisect_right(starts, i) - 1 for w in needles for i in _occurrences(folded, w)}
        )
    else:
        candidates = range(len(texts))
    best, score = 0, (0, 0)
    for n in candidates:
        text = unicodedata.normalize("NFKC", texts[n]).casefold()
        spans = _spans(text, exact, prefix)
        found = {text[a:b] if text[a:b] in exact else None for a, b in spans}
        if (len(found), len(spans)) > score:
            best, score = n, (len(found), len(spans))
    return best


def _occurrences(text: str, word: str) -> Iterator[int]:
    i = text.find(word)
    while i >= 0:
        yield i
        i = text.find(word, i + 1)


def _snippet(text: str, exact: set[str], prefix: str | None) -> tuple[str, list[tuple[int, int]]]:
    """Plain text around the first matched word, with the [start, end) spans of matched words."""
    norm = unicodedata.normalize("NFKC", text)
    folded = norm.casefold()
    if len(folded) == len(norm):  # the usual case: offsets in the folded text are offsets in norm
        spans = _spans(folded, exact, prefix)[:1]  # the first, to place the snippet
    else:  # casefolding changed lengths (e.g. "ß" -> "ss"): compare word by word
        spans = [
            (m.start(), m.end())
            for m in _WORD.finditer(norm)
            if (w := m.group().casefold()) in exact or (prefix is not None and w.startswith(prefix))
        ]
    start = 0
    if spans and spans[0][0] > SNIPPET_LEAD:
        start = spans[0][0] - SNIPPET_LEAD
        space = norm.find(" ", start, spans[0][0])
        start = space + 1 if space >= 0 else start
    end = min(len(norm), start + SNIPPET_CHARS)
    if end < len(norm):
        space = norm.rfind(" ", start + SNIPPET_CHARS // 2, end)
        end = space if space > 0 else end
    if len(folded) == len(norm):  # now the rest, inside the snippet only
        spans = _spans(folded, exact, prefix, start, end)
    lead = "…" if start > 0 else ""
    body = re.sub(r"\s", " ", norm[start:end])  # one character for one: the spans stay valid
    marks = [(s - start + len(lead), e - start + len(lead)) for s, e in spans if s >= start and e <= end]
    return lead + body + ("…" if end < len(norm) else ""), marks
