"""The Vault: one encrypted SQLite file, opened once per process, and the methods the rest
of DraftVault calls. Each method is a transaction around module functions (apply,
conversations, failures, search, maintenance); the storage itself is described there
and in records (sealed records), runs (turn layout), drafts (draft history) and index
(the sealed search index).

Indexing: every new blob is noted in `unindexed` and indexed in batches: before any
search or list_conversations(q=), at close(), and when a transaction leaves
index.FLUSH_DOCS of them. So a word typed in a draft is found by any search after its
snapshot is acked, also after a crash, while the keystroke versions of a draft and the
intermediate states of a streaming answer, superseded before the next search, are
mostly never indexed. Segments merge in bounded steps (merge.py): one in each flush's
transaction, more in `maintain_index` (the service calls `maintain` between ingest transactions),
the rest at close().
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator, Literal

import msgspec
import sqlite_utils

from .. import config, models, protocol, times
from ..crypto import Keyring, Tampered
from . import (apply, attachments, conversations, db, failures, index, maintenance, merge, migrations, records, repack,
               search, versions)
from .errors import KeyMismatch, Unavailable
from .maintenance import VerifyReport
from .records import Records

log = logging.getLogger("draftvault.store")

PAGE_DAYS = 30  # a page id only matters while its tab is open: pages unseen this long are forgotten


class Applied(msgspec.Struct):
    seq: int
    outcome: Literal["stored", "duplicate"]
    conversation: str | None


class Vault:
    db: sqlite_utils.Database
    home: Path

    def __init__(self, home: Path, conn: sqlite3.Connection, keys: Keyring):
        self.home = home
        self.db = sqlite_utils.Database(conn)
        self._conn = conn
        self._rec = Records(keys)
        self._index = index.Index(conn, keys, alive=lambda lo, hi: records.alive(conn, lo, hi))
        self._merges = merge.Merges(self._index)
        self._packer = repack.Packer(conn, self._rec)
        self._tx = db.Transactions(conn, self._index, self._before_commit)
        self._noted = 0  # blobs noted for indexing since the last flush
        self._hits = search.HitCache()
        self._index_behind = False  # the last flush failed: searches are partial

    # ---- opening and closing ---------------------------------------------------------

    @classmethod
    def open(cls, home: Path, passphrase: str | None = None) -> "Vault":
        """Opens the vault under `home`, creating it (and its key) on first use; migrates its schema."""
        home = config.private_dir(Path(home))
        path, key_path = config.db_path(home), config.key_path(home)
        conn = db.connect(path)
        try:
            conn.execute("BEGIN IMMEDIATE")
            migrations.migrate(sqlite_utils.Database(conn))
            since = times.iso(datetime.now(timezone.utc) - timedelta(days=PAGE_DAYS))
            conn.execute("DELETE FROM pages WHERE seen_at < ?", (since,))
            stale = times.iso(datetime.now(timezone.utc) - timedelta(days=attachments.STALE_DAYS))
            attachments.forget_stale(conn, stale)
            row = conn.execute("SELECT v FROM meta WHERE k='keycheck'").fetchone()
            if row is not None and not key_path.exists():
                raise KeyMismatch(f"the vault {path} exists but its key {key_path} is missing")
            keys = Keyring.open_or_create(key_path, passphrase)
            rec = Records(keys)
            if row is None:
                conn.execute("INSERT INTO meta VALUES ('keycheck', ?)", (rec.seal_keycheck(),))
            else:
                try:
                    rec.open_keycheck(row[0])
                except Tampered:
                    raise KeyMismatch(f"the key {key_path} does not open the vault {path}") from None
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()
            raise
        return cls(home, conn, keys)

    def close(self) -> None:
        with self._tx.lock:
            try:
                self._flush()
                while self.maintain_index():
                    pass
                # give the freed pages back to the disk (executescript steps the pragma to its end)
                self._conn.executescript("PRAGMA incremental_vacuum;")
            except (sqlite3.OperationalError, Unavailable, Tampered):
                pass  # busy, read-only, or a damaged index row (verify reports it): left for later
            self._conn.close()

    # ---- transactions ----------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One SQLite transaction around many calls (e.g. an import): all or nothing."""
        with self._tx.write():
            yield

    def _before_commit(self, tx: db.Tx) -> None:
        """Collects the blobs the transaction freed; indexes in batches when it left many (e.g. an import)."""
        records.collect(tx)
        self._noted += tx.noted
        if self._noted >= index.FLUSH_DOCS:
            self._noted = self._index.pending()
            if self._noted >= index.FLUSH_DOCS:
                self._index.flush(lambda bids: records.texts(tx, self._rec, bids))
                self._merges.step()
                self._noted = 0

    def _flush(self) -> None:
        """Indexes the blobs stored since the last flush (before a search reads the index)."""
        with self._tx.lock:
            if self._conn.execute("SELECT NOT EXISTS(SELECT 1 FROM unindexed)").fetchone()[0]:
                return
            with self._tx.write() as tx:
                self._index.flush(lambda bids: records.texts(tx, self._rec, bids))
                self._merges.step()
                self._noted = 0

    def _flush_if_possible(self) -> bool:
        """Flushes before a search; whether the index holds everything. A full disk or a read-only
        vault still answers from what is indexed (a partial answer), and says so in the log once."""
        try:
            self._flush()
        except Unavailable as e:
            if not self._index_behind:
                log.warning("search is partial until the index can be written: %s", e)
            self._index_behind = True
            return False
        if self._index_behind:
            log.warning("the search index has caught up")
        self._index_behind = False
        return True

    def maintain(self) -> bool:
        """One bounded step of idle upkeep in a transaction of its own: index merges first, then the
        compression dictionary and repacking runs with it (repack.py), then consolidating the
        index's segments (merge.CONSOLIDATE); whether more is due."""
        return self.maintain_index() or self._maintain_runs() or self.maintain_index(tidy=True)

    def _maintain_runs(self) -> bool:
        with self._tx.lock:
            with self._tx.read() as tx:
                if not self._packer.due():
                    return False
                samples = self._packer.samples(tx) if self._packer.untrained else None
            if samples is None:
                with self._tx.write() as tx:
                    return self._packer.step(tx)
        trained = self._packer.train(samples)  # ~1 s, once: ingest goes on meanwhile
        if trained is None:
            return False
        with self._tx.write() as tx:
            return self._packer.store(tx, trained)

    def maintain_index(self, tidy: bool = False) -> bool:
        """One bounded step of index merging in a transaction of its own; whether more is due.
        `tidy`: consolidating segments too (idle upkeep's last job, see maintain)."""
        with self._tx.lock:
            with self._tx.read():  # idle, no write lock is taken
                if not self._merges.due(tidy):
                    return False
            with self._tx.write():
                return self._merges.step(tidy)

    # ---- ingest ----------------------------------------------------------------------

    def last_seq(self, client_id: str) -> int:
        with self._tx.lock:
            row = self._conn.execute("SELECT last_seq FROM clients WHERE client_id=?", (client_id,)).fetchone()
        return row[0] if row else 0

    def apply(self, client_id: str, frame: protocol.IngestFrame) -> Applied:
        """Stores one frame durably, once: a seq the vault already holds changes nothing."""
        with self._tx.write() as tx:
            row = tx.one("SELECT last_seq FROM clients WHERE client_id=?", (client_id,))
            if row is not None and frame.seq <= row[0]:
                return Applied(seq=frame.seq, outcome="duplicate", conversation=conversations.of_page(tx, frame.page_id))
            if isinstance(frame, protocol.Snapshot):
                cid = apply.snapshot(tx, self._rec, frame)
            elif isinstance(frame, protocol.Attachment):
                cid = apply.attachment(tx, self._rec, client_id, frame)
            else:
                cid = apply.signal(tx, self._rec, client_id, frame)
            tx.conn.execute(
                "INSERT INTO clients VALUES (?, ?) ON CONFLICT(client_id) DO UPDATE SET last_seq=excluded.last_seq",
                (client_id, frame.seq),
            )
            return Applied(seq=frame.seq, outcome="stored", conversation=conversations.public_id(tx, cid))

    def conversation_for_page(self, page_id: str) -> str | None:
        with self._tx.read() as tx:
            return conversations.of_page(tx, page_id)

    def import_conversation(self, **conversation) -> tuple[str, str]:
        """Stores a whole conversation from an export; re-importing the same one changes nothing.
        The keyword arguments are apply.import_conversation's (site, conversation_id, title, url,
        model, created_at, updated_at, turns, branches, earlier); returns (vault id, outcome)."""
        with self._tx.write() as tx:
            return apply.import_conversation(tx, self._rec, **conversation)

    # ---- reading ---------------------------------------------------------------------

    def search(self, q: str, *, site=None, since=None, until=None, status=None, limit: int = 20) -> list[models.SearchHit]:
        """The best matching conversations, best first, each with a snippet of its best text."""
        return self.search_results(q, site=site, since=since, until=until, status=status, limit=limit).items

    def search_results(self, q: str, *, site=None, since=None, until=None, status=None,
                       limit: int = 20) -> models.SearchResults:
        """search(), and whether the answer is partial (new text could not be indexed)."""
        complete = self._flush_if_possible()
        with self._tx.read() as tx:
            items = search.hits(tx, self._rec, self._hits, q, site=site, since=since, until=until, status=status, limit=limit)
        return models.SearchResults(items=items, partial=not complete)

    def list_conversations(
        self, *, q=None, site=None, status=None, since=None, until=None, limit=100, offset=0, page_id: str | None = None
    ) -> list[models.ConversationSummary]:
        """Newest first, or best first with `q`; `page_id`: only the conversation that page shows (if any)."""
        if q and page_id is None:
            self._flush_if_possible()
        with self._tx.read() as tx:
            if page_id is not None:
                found = conversations.summary_of_page(tx, self._rec, page_id)
                return [found] if found else []
            return conversations.list_summaries(
                tx, self._rec, q=q, site=site, status=status, since=since, until=until, limit=limit, offset=offset
            )

    def get_conversation(self, id: str) -> models.ConversationDetail | None:
        with self._tx.read() as tx:
            return conversations.detail(tx, self._rec, id)

    def delete_conversation(self, id: str) -> bool:
        """Removes the conversation, its turns, drafts, signals, failures, attachments (the files no
        other conversation shows) and index entries."""
        with self._tx.write() as tx:
            conv = conversations.find(tx, "id=?", (id,))
            if conv is None:
                return False
            conversations.delete(tx, conv)
            attachments.collect(tx)
            self._forget(tx)
            return True

    def delete_branch(self, id: str, branch: str) -> bool:
        """Removes one earlier thread (a version or an imported branch) of a conversation, and its index entries."""
        with self._tx.write() as tx:
            conv = conversations.find(tx, "id=?", (id,))
            if conv is None or not branch.isdigit() or not versions.drop(tx, self._rec, conv, "branch=:b", {"b": int(branch)}):
                return False
            self._forget(tx)
            return True

    def _forget(self, tx: db.Tx) -> None:
        """After a person deleted something: its blobs, its words in the index, and its plaintext in memory go."""
        records.collect(tx)
        self._merges.compact_now()  # its words leave the index, not only the results
        self._index.clear_cache()
        self._hits.clear()  # no deleted text stays in memory either

    def attachment(self, id: str) -> tuple[attachments.File, Iterator[bytes]] | None:
        """A stored file (name and type as a turn showed it) and its bytes, read one part at a time
        (each in its own read, so a large file never holds the vault's lock for long); None: no such file."""
        with self._tx.read() as tx:
            file = attachments.find(tx, self._rec, id)
        if file is None:
            return None

        def parts() -> Iterator[bytes]:
            for n in range(file.parts):  # the lock is let go before each yield: the next part may be read on another thread
                with self._tx.read() as tx:
                    data = attachments.part(tx, self._rec, file.aid, n)
                yield data

        return file, parts()

    # ---- failures --------------------------------------------------------------------

    def record_failure(
        self, conversation: str, kind: str, *, detail=None, page_id=None, provider_outage=False
    ) -> models.FailureOut:
        with self._tx.write() as tx:
            conv = conversations.find(tx, "id=?", (conversation,))
            if conv is None:
                raise KeyError(f"no conversation {conversation}")
            return failures.record(tx, self._rec, conv.cid, kind, detail=detail, page_id=page_id, provider_outage=provider_outage)

    def list_failures(self, *, resolved: bool | None = None, conversation: str | None = None) -> list[models.FailureOut]:
        with self._tx.read() as tx:
            return failures.listed(tx, self._rec, resolved=resolved, conversation=conversation)

    def resolve_failure(self, id: str, resolution: str) -> models.FailureOut | None:
        with self._tx.write() as tx:
            return failures.resolve(tx, self._rec, id, resolution)

    def resolve_failures(self, conversation: str, resolution: str) -> list[str]:
        with self._tx.write() as tx:
            return failures.resolve_open(tx, conversation, resolution)

    # ---- checking --------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Authenticates every record; reports the bad ones by id and goes on."""
        with self._tx.read() as tx:
            return maintenance.verify(tx, self._rec, self.db)

    def reindex(self) -> None:
        """Rebuilds the search index from the content (a damaged index row loses nothing else)."""
        with self._tx.write() as tx:
            maintenance.reindex(tx)
        self._flush()

    def stats(self) -> dict:
        with self._tx.read():
            return maintenance.stats(self.db, self.home)
