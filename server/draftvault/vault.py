"""The encrypted vault: conversations, turns, drafts, signals and failures in SQLite.

Storage (one SQLite file in WAL mode, `PRAGMA temp_store=MEMORY` so no plaintext temp
files; every secret is sealed with AES-256-GCM by crypto.Keyring):

- `blobs`: content-addressed texts (turns and drafts). Keyed by a keyed hash of the
  plaintext, so identical text is stored once however often it is snapshotted;
  zlib-compressed before sealing; associated data `blob|<hash>` binds the ciphertext
  to its address. A blob no longer referenced is deleted at once (and leaves the
  search index), so a streaming answer's intermediate states do not pile up.
- `turns` / `branch_turns` / `drafts` reference blobs. Each row carries a keyed tag
  over (conversation id, position, role, content hash): moving a row to another
  conversation or index, or pointing it at another blob, is detected like a tampered
  ciphertext.
- `conversations`: title, url, model and the site's conversation id sealed with
  associated data `conv|<vault id>|<field>`; looked up by `site_key`, a keyed hash of
  (site, site conversation id). Site, times and counts are plaintext metadata.
- `pages`: page_id -> its current conversation (a new chat has one before the site
  gives it an id; navigating inside the single-page app moves the page).

Draft history keeps the recent versions of each draft (DRAFT_VERSIONS). Typing that
only extends the newest version, or keeps deleting from its end, updates that
version instead of adding one, so the history holds the peaks of each edit rather
than one entry per keystroke.

Compression: once the vault has seen COMPRESSION_SAMPLE bytes of text, it builds a
zlib preset dictionary from the words that occur at least twice in that sample
(common words only, never whole sentences), stores it sealed in `meta`, and
compresses later blobs with it: small texts then compress almost as well as the whole
conversation would. The dictionary never changes, so every blob stays readable.

Search: the sealed index in `index.py` (an inverted index in encrypted segments, BM25
ranking, search-as-you-type prefixes of 3+ characters: the last query word is a
prefix when the query does not end in a space). Titles are indexed as blobs too
(`conversations.title_bid`; the sealed `title` field is what is shown). Every new
blob is noted in `unindexed` with its commit and indexed in batches: before any
search or list_conversations(q=), at close(), and when a transaction leaves
index.FLUSH_DOCS of them. So a word typed in a draft is found by any search after its
snapshot is acked, also after a crash, while the keystroke versions of a draft and the
intermediate states of a streaming answer, superseded before the next search, are
mostly never indexed. All query words must occur in one text (a turn, a draft or the
title); the best text ranks its conversation. Snippets and their marks come from the
decrypted best hit of each conversation (only that blob is decrypted); recent hits'
plaintext is kept in a small in-memory LRU (HIT_CACHE, cleared on delete; nothing
plaintext on disk). The snippet finds the first match, then marks only within the
snippet, with a pattern that starts with the words (a leading lookbehind made `re`
try every position: 100 x slower). Vaults made with the earlier FTS5 blind index
are re-indexed once when opened.
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
from datetime import datetime, timedelta, timezone
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
HIT_CACHE = 256
# FULL: a commit is on disk (WAL fsynced) before apply() returns, so an ack survives
# a power cut too; NORMAL survives a crash of the service (SIGKILL) but not of the OS.
SYNCHRONOUS = os.environ.get("DRAFTVAULT_SYNCHRONOUS", "FULL").upper()
COMPRESSION_SAMPLE = 64 * 1024
DRAFT_ZLIB_LEVEL = 6

_WORD = re.compile(r"[^\W_]+")
_TAG_BYTES = 16
_HASH_BYTES = 16

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
CREATE TABLE IF NOT EXISTS turns (
    cid INTEGER NOT NULL, idx INTEGER NOT NULL, role TEXT NOT NULL, bid INTEGER NOT NULL, tag BLOB NOT NULL,
    PRIMARY KEY (cid, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS turns_bid ON turns(bid);
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
    return secrets.token_urlsafe(12)


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
        self._zdict: bytes | None = None  # the compression dictionary, once there is one
        self._zdict_new: bytes | None = None  # ...made by the open transaction
        self._sample: list[tuple[int, bytes, str]] = []  # (bid, hash, text) stored before there is a dictionary
        self._sampled = 0
        self._hits: dict[bytes, str] = {}  # hash -> decrypted text of recent search hits (memory only)

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
        """Moves a vault made with the FTS5 blind index to the sealed index (once)."""
        if self._one("SELECT 1 FROM sqlite_master WHERE name='search'") is None:
            return
        with self._write():
            for cid, id, sealed in self._q("SELECT cid, id, title FROM conversations WHERE title IS NOT NULL"):
                self._set_title_blob(cid, self._field_or_none(id, "title", sealed), [])  # no title blob before
            self.reindex()
            for table in ("search", "vocab"):
                self._conn.execute(f"DROP TABLE IF EXISTS {table}")
            self._conn.execute("DELETE FROM meta WHERE k='term_chars'")

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
                self._zdict_new = None
                self._sample, self._sampled = [], 0
                if self._conn.in_transaction:
                    try:
                        self._conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                if isinstance(e, sqlite3.OperationalError):
                    raise _mapped(e) from e
                raise
            else:
                self._zdict = self._zdict or self._zdict_new
                self._zdict_new = None
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
        changed = False
        self._prepare([t.text for t in f.turns])
        for i, t in enumerate(f.turns):
            changed |= self._put_turn(conv, f.turns_from + i, t.role, t.text, garbage)
        count = min(f.turn_count, max(have, f.turns_from + len(f.turns)))
        changed |= self._truncate(cid, count, garbage) or count != have
        changed |= self._set_fields(conv, title=f.title, url=f.url, model=f.model)
        changed |= self._set_draft(conv, f.draft, now, garbage)
        if changed:
            self._conn.execute("UPDATE conversations SET turn_count=?, updated_at=? WHERE cid=?", (count, now, cid))
        self._collect(garbage)

    def _put_turn(self, conv: _Conv, idx: int, role: str, text: str, garbage: list[int], table: str = "turns", branch: int | None = None) -> bool:
        h = self._hash(text)
        where = "cid=? AND idx=?" + (" AND branch=?" if branch is not None else "")
        params = (conv.cid, idx) + ((branch,) if branch is not None else ())
        row = self._one(f"SELECT t.role, t.bid, b.hash FROM {table} t LEFT JOIN blobs b USING (bid) WHERE {where}", params)
        if row is not None and row[0] == role and row[2] == h:
            return False
        bid = self._blob(text, h)
        tag = self._turn_tag(conv.id, idx, role, h, branch)
        if branch is None:
            self._conn.execute("INSERT OR REPLACE INTO turns VALUES (?,?,?,?,?)", (conv.cid, idx, role, bid, tag))
        else:
            self._conn.execute(
                "INSERT OR REPLACE INTO branch_turns VALUES (?,?,?,?,?,?)", (conv.cid, branch, idx, role, bid, tag)
            )
        if row is not None and row[1] != bid:
            garbage.append(row[1])
        return True

    def _truncate(self, cid: int, count: int, garbage: list[int]) -> bool:
        dropped = [r[0] for r in self._q("SELECT bid FROM turns WHERE cid=? AND idx>=?", (cid, count))]
        if dropped:
            self._conn.execute("DELETE FROM turns WHERE cid=? AND idx>=?", (cid, count))
            garbage += dropped
        return bool(dropped)

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
        bid = None if title is None else self._blob(title, self._hash(title))
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
            bid = self._blob(draft, h, DRAFT_ZLIB_LEVEL)  # rewritten on every keystroke: a faster level
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
                "SELECT t.idx, t.role, t.bid, b.hash FROM turns t LEFT JOIN blobs b USING (bid) WHERE t.cid=?", (src.cid,)
            )
            self._conn.executemany(
                "INSERT INTO turns VALUES (?,?,?,?,?)",
                [(dst.cid, idx, role, bid, self._turn_tag(dst.id, idx, role, h or b"", None)) for idx, role, bid, h in rows],
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

    def _turn_tag(self, id: str, idx: int, role: str, h: bytes, branch: int | None) -> bytes:
        where = f"turn|{id}|{idx}|{role}" if branch is None else f"branch|{id}|{branch}|{idx}|{role}"
        return self._keys.mac(where.encode() + b"|" + h, b"row tag")[:_TAG_BYTES]

    def _draft_tag(self, id: str, did: int, at: str, h: bytes) -> bytes:
        return self._keys.mac(f"draft|{id}|{did}|{at}|".encode() + h, b"row tag")[:_TAG_BYTES]

    def _seal_field(self, id: str, field: str, value: str) -> bytes:
        return self._keys.seal(value.encode(), f"conv|{id}|{field}".encode())

    def _open_field(self, id: str, field: str, sealed: bytes) -> str:
        return self._keys.open(sealed, f"conv|{id}|{field}".encode()).decode()

    def _blob(self, text: str, h: bytes, level: int = 9) -> int:
        """The blob of `text`, stored (and noted for the index) if new."""
        row = self._one("SELECT bid FROM blobs WHERE hash=?", (h,))
        if row is not None:
            return row[0]
        packed = self._pack(text, h, level)
        bid = self._conn.execute("INSERT INTO blobs (hash, data) VALUES (?, ?)", (h, packed)).lastrowid
        self._index.note(bid)
        self._noted += 1
        if self._dictionary() is None:
            self._sample.append((bid, h, text))
            self._sampled += len(text)
        return bid

    def _prepare(self, texts: Sequence[str]) -> None:
        """Makes the compression dictionary before storing `texts` when, with them, there is text enough."""
        if self._sampled + sum(map(len, texts)) >= COMPRESSION_SAMPLE and self._dictionary() is None:
            self._make_dictionary([t for _, _, t in self._sample] + list(texts))

    def _pack(self, text: str, h: bytes, level: int = 9) -> bytes:
        raw = text.encode()
        zdict = self._dictionary()
        if zdict is not None:
            z = zlib.compressobj(level, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, zdict)
            packed = b"d" + z.compress(raw) + z.flush()
        else:
            packed = b"z" + zlib.compress(raw, level)
        if len(packed) > len(raw):
            packed = b"r" + raw
        return self._keys.seal(packed, b"blob|" + h)

    def _open_blob(self, h: bytes | None, data: bytes | None) -> str:
        if not isinstance(h, bytes) or not isinstance(data, bytes):
            raise Tampered("missing or damaged content")
        packed = self._keys.open(data, b"blob|" + h)
        kind, body = packed[:1], packed[1:]
        try:
            if kind == b"d":
                z = zlib.decompressobj(zdict=self._zdict or self._zdict_new or self._load_dictionary(force=True))
                body = z.decompress(body) + z.flush()
            elif kind == b"z":
                body = zlib.decompress(body)
            return body.decode()
        except (zlib.error, UnicodeDecodeError, TypeError):
            raise Tampered("undecodable content") from None

    def _load_dictionary(self, force: bool = False) -> bytes | None:
        if self._zdict is None and (force or not self._sampled):  # while sampling, writers need not ask again
            row = self._one("SELECT v FROM meta WHERE k='zdict'")
            if row is not None:
                self._zdict = self._keys.open(row[0], b"meta|zdict")
        return self._zdict

    def _dictionary(self) -> bytes | None:
        """The compression dictionary, if the vault has one yet."""
        return self._zdict or self._zdict_new or self._load_dictionary()

    def _make_dictionary(self, texts: list[str]) -> None:
        """Builds the dictionary from the common words of `texts`, and recompresses the sampled blobs."""
        counts: dict[str, int] = {}
        for text in texts:
            for w in text.split():
                counts[w] = counts.get(w, 0) + 1
        common = sorted((c, w) for w, c in counts.items() if c >= 2)  # zlib likes the commonest last
        zdict = " ".join(w for _, w in common).encode()[-32 * 1024 :]
        self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('zdict', ?)", (self._keys.seal(zdict, b"meta|zdict"),))
        row = self._one("SELECT v FROM meta WHERE k='zdict'")  # another process may have made one first
        self._zdict_new = self._keys.open(row[0], b"meta|zdict")
        self._conn.executemany(
            "UPDATE blobs SET data=? WHERE bid=? AND hash=?", [(self._pack(t, h), bid, h) for bid, h, t in self._sample]
        )
        self._sample, self._sampled = [], 0

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
                    yield bid, self._open_blob(h, data)
                except Tampered:
                    continue

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
                    text = (title or "") if turn == -2 else self._hit_text(h, data)
                except Tampered:
                    text = ""
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

    def _hit_text(self, h: bytes | None, data: bytes | None) -> str:
        """A hit's plaintext, through a small in-memory LRU (search as you type repeats hits)."""
        text = self._hits.pop(h, None)
        if text is None:
            text = self._open_blob(h, data)
        self._hits[h] = text  # content-addressed: a hash always names the same text
        if len(self._hits) > HIT_CACHE:
            del self._hits[next(iter(self._hits))]
        return text

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
            for idx, role, tag, h, data in self._q(
                "SELECT t.idx, t.role, t.tag, b.hash, b.data FROM turns t LEFT JOIN blobs b USING (bid) "
                "WHERE t.cid=? ORDER BY t.idx",
                (cid,),
            ):
                try:
                    if h is None or tag != self._turn_tag(id, idx, role, h, None):
                        raise Tampered("turn moved")
                    turns.append(models.TurnOut(index=idx, role=role, text=self._open_blob(h, data)))
                except Tampered:
                    corrupt.append(f"turn {idx}")
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
            return True

    # ---- checking -----------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Authenticates every record; reports the bad ones by id and goes on."""
        checked, bad = 0, []
        with self._read():
            bad_blobs: set[int] = set()
            for bid, h, data in self._conn.execute("SELECT bid, hash, data FROM blobs"):
                checked += 1
                try:
                    self._open_blob(h, data)
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
            for id, idx, role, bid, tag, h, branch in self._conn.execute(
                "SELECT c.id, t.idx, t.role, t.bid, t.tag, b.hash, NULL FROM turns t JOIN conversations c USING (cid) "
                "LEFT JOIN blobs b USING (bid) UNION ALL "
                "SELECT c.id, t.idx, t.role, t.bid, t.tag, b.hash, t.branch FROM branch_turns t "
                "JOIN conversations c USING (cid) LEFT JOIN blobs b USING (bid)"
            ).fetchall():
                checked += 1
                if h is None or bid in bad_blobs or tag != self._turn_tag(id, idx, role, h, branch):
                    what = f"turn {idx}" if branch is None else f"turn {idx} of branch {branch}"
                    bad.append(f"{what} of conversation {id}")
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
                "SELECT (SELECT COUNT(*) FROM conversations), (SELECT COUNT(*) FROM turns), (SELECT COUNT(*) FROM drafts)"
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
            self._prepare([text for _, text in turns])
            for idx, (role, text) in enumerate(turns):
                self._put_turn(conv, idx, role, text, garbage)
            self._truncate(conv.cid, len(turns), garbage)
            garbage += [r[0] for r in self._q("SELECT bid FROM branch_turns WHERE cid=?", (conv.cid,))]
            self._conn.execute("DELETE FROM branch_turns WHERE cid=?", (conv.cid,))
            for n, branch in enumerate(branches):
                for idx, (role, text) in enumerate(branch):
                    self._put_turn(conv, idx, role, text, garbage, table="branch_turns", branch=n)
            self._set_fields(conv, title=title, url=url, model=model)
            self._conn.execute(
                "UPDATE conversations SET turn_count=?, updated_at=?, created_at=COALESCE(?, created_at), import_mac=? "
                "WHERE cid=?",
                (len(turns), updated_at or now, created_at, digest, conv.cid),
            )
            self._collect(garbage)
            return conv.id, outcome


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
