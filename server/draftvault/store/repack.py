"""The vault's compression dictionary: trained once the vault is large, then every run repacked with it.

Idle upkeep (Vault.maintain, between ingest transactions) trains a zstd dictionary on a
sample of the vault's own runs once the database reaches TRAIN_AT bytes, and from then on
runs are sealed as D runs (store/chunked.py): small chunks that a search hit opens alone
(but a run that repeats itself, which chunks would not see, stays one stream).
The runs written before it are repacked a bounded step at a time, oldest first; a repacked
run keeps its hash, so rows, tags and the index are untouched, and it is checked to give
back the same payload before it replaces the old layout (a run that cannot be read is left
as it is, for verify to report). Below TRAIN_AT a dictionary would cost more bytes than it
saves, and search has few runs to open anyway.

The dictionary is stored twice (meta rows `dictionary <id>` and `dictionary <id> copy`,
each sealed): every D run needs it, so one damaged row loses nothing. Dictionaries are
never replaced; a later one would take the next id, and runs name the id they were packed
with.
"""

from __future__ import annotations

import logging
import sqlite3

import msgspec

from ..crypto import Tampered
from . import chunked
from .db import Tx
from .records import Records

log = logging.getLogger("draftvault.store")

TRAIN_AT = 8 * 2**20  # database bytes
DICT_BYTES = 110 * 1024  # zstd's default; 32 KiB ones cost 5 % more bytes here
SAMPLE_RUNS = 400
SAMPLE_BYTES = 4 * 2**20  # payload bytes trained on (~1 s, outside the vault's lock)
MIN_SAMPLE_BYTES = 2**20  # less than this trains a poor dictionary: wait for more
STEP_BYTES = 512 * 1024  # payload repacked a step (~20 ms)
STEP_RUNS = 64

_RUNS_SQL = (
    "SELECT b.bid, b.hash, b.data FROM blobs b WHERE b.bid > ? AND b.bid <= ? AND "
    "(EXISTS(SELECT 1 FROM turns t WHERE t.bid=b.bid) OR EXISTS(SELECT 1 FROM branch_turns t WHERE t.bid=b.bid)) "
    "ORDER BY b.bid LIMIT ?"
)


class Packer:
    """Trains the dictionary when due and repacks the older runs with it."""

    def __init__(self, conn: sqlite3.Connection, rec: Records):
        self._conn = conn
        self._rec = rec
        self._untrained_below = TRAIN_AT  # raised when a sample was too small to train on
        self._load()

    def _load(self) -> None:
        """Opens the dictionaries the database holds (committed ones only: a trained dictionary is
        used from the transaction after the one that stored it)."""
        for k, sealed in self._conn.execute("SELECT k, v FROM meta WHERE k GLOB 'dictionary *' ORDER BY k"):
            did = int(k.split()[1])
            if did not in self._rec.dictionaries:
                try:
                    self._rec.add_dictionary(self._rec.open_dictionary(did, sealed))
                except Tampered:
                    log.warning("a copy of compression dictionary %d is damaged (`draftvault verify` lists it)", did)

    def due(self) -> bool:
        if self._rec.writing is None:
            self._load()
        if self._rec.writing is None:
            return self._size() >= self._untrained_below
        return self._cursor() is not None

    @property
    def untrained(self) -> bool:
        return self._rec.writing is None

    def step(self, tx: Tx) -> bool:
        """One bounded step of repacking (in the caller's write transaction, after due()); whether
        more is due."""
        cursor = self._cursor()
        if cursor is None:
            return False
        done, until = cursor
        rows = tx.q(_RUNS_SQL, (done, until, STEP_RUNS))
        budget = STEP_BYTES
        for bid, h, data in rows:
            done = bid
            budget -= self._repack(tx, bid, h, data)
            if budget <= 0:
                break
        more = len(rows) == STEP_RUNS or budget <= 0
        if more:
            tx.conn.execute("UPDATE meta SET v=? WHERE k='repack'", (msgspec.msgpack.encode([done, until]),))
        else:
            tx.conn.execute("DELETE FROM meta WHERE k='repack'")
        return more

    def _repack(self, tx: Tx, bid: int, h: bytes, data: bytes) -> int:
        """Repacks one run as a D run (records.repacked); the payload bytes it handled."""
        try:
            sealed, size = self._rec.repacked(h, data)
        except Tampered:
            return 0
        if sealed is not None:
            tx.conn.execute("UPDATE blobs SET data=? WHERE bid=?", (sealed, bid))
        return size

    def samples(self, tx: Tx) -> list[bytes]:
        """What to train on: the chunks of a random sample of runs (up to SAMPLE_BYTES)."""
        samples, size = [], 0
        for h, data in tx.q(f"SELECT hash, data FROM blobs WHERE bid IN (SELECT bid FROM turns ORDER BY random() LIMIT {SAMPLE_RUNS})"):
            try:
                payload = self._rec.run_payload(h, data)
            except Tampered:
                continue
            if payload is not None and size < SAMPLE_BYTES:
                samples += chunked.chunks_of(payload)
                size += len(payload)
        return samples

    def train(self, samples: list[bytes]) -> bytes | None:
        """A dictionary for these samples, or None (then not before the vault has doubled). Needs no
        transaction: the service runs it outside the vault's lock (zstd lets go of the GIL)."""
        try:
            size = sum(map(len, samples))
            if size < MIN_SAMPLE_BYTES:  # a large vault of few runs (files, drafts)
                raise ValueError(f"only {size} bytes of runs")
            data = chunked.train(samples, DICT_BYTES)
            chunked.Dictionary(0, data)  # it loads
            return data
        except ValueError as e:
            log.info("no compression dictionary yet: %s", e)
            self._untrained_below = 2 * self._size()
            return None

    def store(self, tx: Tx, data: bytes) -> bool:
        """Stores a trained dictionary (used from the next transaction on, see _load) and starts
        repacking the runs written before it."""
        did = 1 + max(self._rec.dictionaries, default=0)
        for key in (f"dictionary {did}", f"dictionary {did} copy"):
            tx.conn.execute("INSERT INTO meta VALUES (?, ?)", (key, self._rec.seal_dictionary(did, data)))
        (last,) = tx.one("SELECT COALESCE(MAX(bid), 0) FROM blobs") or (0,)
        tx.conn.execute("INSERT OR REPLACE INTO meta VALUES ('repack', ?)", (msgspec.msgpack.encode([0, last]),))
        log.info("trained compression dictionary %d; repacking the older runs", did)
        return True

    def _cursor(self) -> tuple[int, int] | None:
        row = self._conn.execute("SELECT v FROM meta WHERE k='repack'").fetchone()
        return None if row is None else tuple(msgspec.msgpack.decode(row[0]))

    def _size(self) -> int:
        (pages,) = self._conn.execute("PRAGMA page_count").fetchone()
        (page,) = self._conn.execute("PRAGMA page_size").fetchone()
        return pages * page
