"""The vault's SQLite connection: how it is opened (shared with auth), and its transactions.

One connection per process, shared by threads under a lock. Writes go through
`Transactions.write()`, which nests (an ingest batch or an import around many calls
is one SQLite transaction) and yields a `Tx`: the connection, the index, and the
blobs freed in the transaction, collected once before it commits (the `before_commit`
hook) instead of a list threaded through every write path.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from .. import config
from .errors import unavailable_or_same
from .index import Index


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the vault file (created 0600): autocommit, WAL, `synchronous` from config,
    no temp files (temp_store=MEMORY: no plaintext lands in them), reads through a memory map
    (up to 256 MiB of the file), a 10 s busy timeout."""
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
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")  # takes effect on a new file only
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={config.synchronous()}")
        conn.execute("PRAGMA temp_store=MEMORY")
        # Reads through a memory map (SQLite still writes with write()): a search reads ~150 pages
        # scattered over the file, and a read() each was ~a third of a cold query (bench_search).
        conn.execute("PRAGMA mmap_size=268435456")
        conn.execute("PRAGMA busy_timeout=10000")
    except BaseException:
        conn.close()
        raise
    return conn


@dataclass(eq=False)
class Tx:
    """One open transaction (or read): what the store's module functions work on."""

    conn: sqlite3.Connection
    index: Index
    freed: set[int] = field(default_factory=set)  # blobs a row stopped referencing: collected before commit
    noted: int = 0  # new blobs noted for the index

    def q(self, sql: str, params: Sequence | dict = ()) -> list[tuple]:
        return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence | dict = ()) -> tuple | None:
        return self.conn.execute(sql, params).fetchone()


class Transactions:
    """The connection's lock and its (nesting) write transactions."""

    def __init__(self, conn: sqlite3.Connection, index: Index, before_commit: Callable[[Tx], None]):
        self.conn = conn
        self.lock = threading.RLock()
        self._index = index
        self._before_commit = before_commit
        self._open: Tx | None = None  # the write transaction in progress

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """BEGIN IMMEDIATE .. COMMIT, or the transaction already open (all or nothing)."""
        with self.lock:
            if self._open is not None:
                yield self._open
                return
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as e:
                raise unavailable_or_same(e) from e
            tx = self._open = Tx(self.conn, self._index)
            try:
                yield tx
                self._before_commit(tx)
                self.conn.execute("COMMIT")
            except BaseException as e:
                self._index.clear_cache()  # it may hold segments this transaction made
                if self.conn.in_transaction:
                    try:
                        self.conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                if isinstance(e, sqlite3.OperationalError):
                    raise unavailable_or_same(e) from e
                raise
            finally:
                self._open = None

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A consistent view for several SELECTs (inside a write, that write's)."""
        with self.lock:
            if self._open is not None:
                yield self._open
                return
            self.conn.execute("BEGIN")
            try:
                yield Tx(self.conn, self._index)
            finally:
                self.conn.execute("COMMIT")
