"""The vault's schema, as numbered migrations; `PRAGMA user_version` is the number applied.

Migration 1 is the schema DraftVault 0.1.0 shipped (its vaults have user_version 0 and
their tables: they are at 1). Each later migration is a function of the sqlite-utils
Database, run once, in order, inside the transaction that opens the vault; a change
to a column goes through `table.transform(...)`, which rebuilds the table as SQLite
requires (it keeps AUTOINCREMENT but drops WITHOUT ROWID: rebuild those tables in SQL).
Never edit a migration that has shipped: add the next one.
tests/fixtures/vault-0.1.0 is a vault written by 0.1.0; tests/test_migrations.py opens it.
"""

from __future__ import annotations

from typing import Callable

import sqlite_utils

from . import index, merge
from .errors import NewerSchema

# Kept as SQL: sqlite-utils' create_table cannot say WITHOUT ROWID or AUTOINCREMENT, and
# blob ids must never be reused (the index names its documents by them).
SCHEMA_0_1_0 = index.SCHEMA + """
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
    cid INTEGER NOT NULL, idx INTEGER NOT NULL, n INTEGER NOT NULL, bid INTEGER NOT NULL, tag BLOB NOT NULL,
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


def _m1_release_0_1_0(db: sqlite_utils.Database) -> None:
    for statement in SCHEMA_0_1_0.split(";"):
        if statement.strip():
            db.execute(statement)


def _m2_signals_by_conversation(db: sqlite_utils.Database) -> None:
    """Deleting or joining a conversation finds its signals without reading them all."""
    db["signals"].create_index(["cid"], index_name="signals_cid", if_not_exists=True)


def _m3_versions(db: sqlite_utils.Database) -> None:
    """Live versions join imported branches in `branch_turns`; `branches` says why and when each
    thread was replaced (0.1.0's branches were all imported). `conversations.writer`: the page
    that last changed its turns (a tab showing an older state is told by it); `streaming_turn`:
    the turn a streaming frame wrote last and no finished frame has written since."""
    db.execute(
        "CREATE TABLE branches (cid INTEGER NOT NULL, branch INTEGER NOT NULL, reason TEXT NOT NULL,"
        " replaced_at TEXT, PRIMARY KEY (cid, branch)) WITHOUT ROWID"
    )
    db.execute("INSERT INTO branches SELECT DISTINCT cid, branch, 'imported', NULL FROM branch_turns")
    db["conversations"].add_column("writer", str)
    db["conversations"].add_column("streaming_turn", int)


def _m4_packed_versions(db: sqlite_utils.Database) -> None:
    """Kept versions are packed into runs of the conversation's kept texts: `branch_turns.k` is a
    row's item in its pack (NULL: the row's blob holds its turn alone, as every row did before)."""
    db["branch_turns"].add_column("k", int)


def _m5_attachments(db: sqlite_utils.Database) -> None:
    """Images and files (store/attachments.py): `attachments` one row per distinct file (by keyed
    hash; `upload` set while its parts arrive, `hash` once complete), `attachment_parts` its sealed
    bytes, `attachment_links` which turn of which conversation shows it (`aid` NULL: recorded by
    name, type and size only)."""
    db.execute(
        "CREATE TABLE attachments (aid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, hash BLOB UNIQUE,"
        " size INTEGER NOT NULL, parts INTEGER NOT NULL, tag BLOB, upload BLOB UNIQUE, started_at TEXT NOT NULL)"
    )
    db.execute(
        "CREATE TABLE attachment_parts (aid INTEGER NOT NULL, part INTEGER NOT NULL, data BLOB NOT NULL,"
        " PRIMARY KEY (aid, part)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE attachment_links (lid INTEGER PRIMARY KEY AUTOINCREMENT, cid INTEGER NOT NULL, idx INTEGER NOT NULL,"
        " aid INTEGER, key BLOB NOT NULL, meta BLOB NOT NULL, tag BLOB NOT NULL, UNIQUE (cid, idx, key))"
    )
    db.execute("CREATE INDEX attachment_links_aid ON attachment_links(aid)")


def _m6_index_merges(db: sqlite_utils.Database) -> None:
    """`merging`: the index segments a merge is still writing, step by step (see merge.py)."""
    db.execute(merge.SCHEMA)


def _m7_attachments_by_version(db: sqlite_utils.Database) -> None:
    """`attachment_links.branch`: the earlier version (branches.branch) a link went with when its
    turn was replaced; NULL: the current thread, as every link was before. A file may be linked at
    one index in several versions, so the place is unique over (cid, branch, idx, key), NULL
    counting as -1. SQLite cannot drop a UNIQUE constraint: the table is rebuilt, keeping each
    lid (links are sealed and tagged over it) and the AUTOINCREMENT counter (a lid is never reused)."""
    seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name='attachment_links'").fetchone()
    db.execute(
        "CREATE TABLE attachment_links_7 (lid INTEGER PRIMARY KEY AUTOINCREMENT, cid INTEGER NOT NULL, branch INTEGER,"
        " idx INTEGER NOT NULL, aid INTEGER, key BLOB NOT NULL, meta BLOB NOT NULL, tag BLOB NOT NULL)"
    )
    db.execute(
        "INSERT INTO attachment_links_7 (lid, cid, branch, idx, aid, key, meta, tag)"
        " SELECT lid, cid, NULL, idx, aid, key, meta, tag FROM attachment_links"
    )
    db.execute("DROP TABLE attachment_links")
    db.execute("ALTER TABLE attachment_links_7 RENAME TO attachment_links")
    if seq is not None:
        db.execute("DELETE FROM sqlite_sequence WHERE name='attachment_links'")
        db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('attachment_links', ?)", seq)
    db.execute("CREATE UNIQUE INDEX attachment_links_place ON attachment_links(cid, COALESCE(branch, -1), idx, key)")
    db.execute("CREATE INDEX attachment_links_aid ON attachment_links(aid)")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _m1_release_0_1_0, _m2_signals_by_conversation, _m3_versions, _m4_packed_versions, _m5_attachments, _m6_index_merges,
    _m7_attachments_by_version,
]
VERSION = len(MIGRATIONS)
TABLES = ("meta", "clients", "conversations", "pages", "blobs", "turns", "branch_turns", "branches", "drafts", "signals",
          "failures", "segments", "postings", "unindexed", "merging", "attachments", "attachment_parts", "attachment_links")


def version(db: sqlite_utils.Database) -> int:
    """The schema version of this vault file: user_version, or 1 for a vault from 0.1.0 (it set none)."""
    v = db.execute("PRAGMA user_version").fetchone()[0]
    if v == 0 and db["conversations"].exists():
        return 1
    return v


def migrate(db: sqlite_utils.Database) -> None:
    """Brings the schema to VERSION (the caller holds a write transaction)."""
    current = version(db)
    if current > VERSION:
        raise NewerSchema(f"this vault has schema version {current}, newer than this DraftVault knows ({VERSION}): upgrade DraftVault")
    for n in range(current, VERSION):
        MIGRATIONS[n](db)
    if current != VERSION:
        db.execute(f"PRAGMA user_version={VERSION}")
