"""Checking and repairing a vault: verify (authenticate every record), reindex, stats."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import msgspec
import sqlite_utils

from .. import config, models
from ..crypto import Tampered
from . import attachments, migrations
from .db import Tx
from .records import Records, turns_name


class VerifyReport(msgspec.Struct):
    checked: int
    bad: list[str]


def verify(tx: Tx, rec: Records, db: sqlite_utils.Database) -> VerifyReport:
    """Authenticates every record; reports the bad ones by id and goes on."""
    missing = [t for t in migrations.TABLES if not db[t].exists()]
    if missing:  # nothing else can be read reliably
        return VerifyReport(checked=0, bad=[f"table {t} is missing" for t in missing])
    checked, bad = 0, []
    for k, sealed in tx.q("SELECT k, v FROM meta WHERE k GLOB 'dictionary *'"):  # two copies each: repack.py
        checked += 1
        try:
            rec.open_dictionary(int(k.split()[1]), sealed)
        except (Tampered, ValueError):
            bad.append(f"compression {k}")
    bad_blobs: set[int] = set()
    runs: dict[int, int] = {}  # bid -> how many turns its run holds
    for bid, h, data in tx.conn.execute("SELECT bid, hash, data FROM blobs"):
        checked += 1
        try:
            content = rec.open_any(h, data)
            if not isinstance(content, str):
                runs[bid] = len(content)
        except Tampered:
            bad_blobs.add(bid)
            bad.append(f"blob {bid}")
    for cid, id, site_conv, title, url, model in tx.q("SELECT cid, id, site_conv, title, url, model FROM conversations"):
        for field, sealed in (("conversation_id", site_conv), ("title", title), ("url", url), ("model", model)):
            if sealed is not None:
                checked += 1
                corrupt: list[str] = []
                rec.field_or_none(id, field, sealed, corrupt)
                bad += [f"{c} of conversation {id}" for c in corrupt]
    for id, idx, n, bid, tag, h in tx.q(
        "SELECT c.id, t.idx, t.n, t.bid, t.tag, b.hash FROM turns t JOIN conversations c USING (cid) "
        "LEFT JOIN blobs b USING (bid)"
    ):
        checked += 1
        if h is None or bid in bad_blobs or tag != rec.run_tag(id, idx, n, h) or runs.get(bid) != n:
            bad.append(f"{turns_name(idx, n)} of conversation {id}")
    for id, branch, idx, role, k, bid, tag, h in tx.q(
        "SELECT c.id, t.branch, t.idx, t.role, t.k, t.bid, t.tag, b.hash FROM branch_turns t "
        "JOIN conversations c USING (cid) LEFT JOIN blobs b USING (bid)"
    ):
        checked += 1
        fits = runs.get(bid, 1) == 1 if k is None else 0 <= k < runs.get(bid, 0)  # its blob alone, or an item of a pack
        if h is None or bid in bad_blobs or not fits or tag != rec.branch_tag(id, branch, idx, role, h, k):
            bad.append(f"turn {idx} of branch {branch} of conversation {id}")
    for id, branch, reason, rows in tx.q(
        "SELECT c.id, r.branch, r.reason, (SELECT COUNT(*) FROM branch_turns t WHERE t.cid=r.cid AND t.branch=r.branch) "
        "FROM branches r JOIN conversations c USING (cid)"
    ):
        checked += 1
        if reason not in get_args(models.BranchReason) or rows == 0:
            bad.append(f"branch {branch} of conversation {id}")
    for id, did, at, bid, tag, h in tx.q(
        "SELECT c.id, d.did, d.at, d.bid, d.tag, b.hash FROM drafts d JOIN conversations c USING (cid) "
        "LEFT JOIN blobs b USING (bid)"
    ):
        checked += 1
        if h is None or bid in bad_blobs or tag != rec.draft_tag(id, did, at, h):
            bad.append(f"draft {did} of conversation {id}")
    for table, kind in (("signals", "signal"), ("failures", "failure")):
        for id, detail in tx.q(f"SELECT id, detail FROM {table} WHERE detail IS NOT NULL"):
            checked += 1
            try:
                rec.open_detail(kind, id, detail)
            except (Tampered, UnicodeDecodeError):
                bad.append(f"{kind} {id}")
    files_checked, files_bad = attachments.verify(tx, rec)
    index_rows, index_bad = tx.index.verify()
    return VerifyReport(checked=checked + files_checked + index_rows, bad=bad + files_bad + index_bad)


def reindex(tx: Tx) -> None:
    """Drops the search index and notes every blob to be indexed anew (a damaged index row loses nothing else)."""
    tx.index.rebuild(r[0] for r in tx.q("SELECT bid FROM blobs ORDER BY bid"))


def stats(db: sqlite_utils.Database, home: Path) -> dict:
    """Where the vault is, its size on disk, what it holds, and its schema version."""
    path = config.db_path(home)
    size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())
    (turns,) = db.execute("SELECT COALESCE(SUM(n), 0) FROM turns").fetchone()
    return {
        "path": str(path),
        "size_bytes": size,
        "conversations": db["conversations"].count,
        "turns": turns,
        "drafts": db["drafts"].count,
        "schema_version": migrations.version(db),
    }
