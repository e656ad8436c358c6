"""What is left of a damaged vault database, and how to get it out.

Used when SQLite itself cannot read the vault (a damaged page, a truncated file), where
`Vault.verify` (which checks records, not pages) cannot run. Reads the file read-only
and never changes it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

_MAX_PROBLEMS = 20  # integrity_check lines shown; the rest are counted


def report(db: Path, error: Exception) -> list[str]:
    """Lines for the user: what is damaged, what can still be read, how to salvage."""
    lines = [f"the vault database {db} is damaged: {error}"]
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    except sqlite3.Error as e:
        return lines + [f"it cannot be opened at all: {e}", *_how(db)]
    try:
        problems = _integrity(conn)
        shown = problems[:_MAX_PROBLEMS]
        lines += [f"damaged: {p}" for p in shown]
        if len(problems) > len(shown):
            lines.append(f"... and {len(problems) - len(shown)} more damaged places")
        lines += _readable(conn)
    finally:
        conn.close()
    return lines + _how(db)


def _integrity(conn: sqlite3.Connection) -> list[str]:
    try:
        lines = [line for r in conn.execute("PRAGMA integrity_check(1000)") for line in r[0].splitlines()]
    except sqlite3.DatabaseError as e:
        return [f"SQLite's integrity check stops at the damage: {e}"]
    return [line for line in lines if line not in ("ok", "*** in database main ***")]


def _readable(conn: sqlite3.Connection) -> list[str]:
    """Each table scanned by rowid, each index walked: what reads, where it stops."""
    try:
        items = conn.execute(
            "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY tbl_name, type DESC"
        ).fetchall()
    except sqlite3.DatabaseError as e:
        return [f"readable: nothing (the list of tables is damaged: {e})"]
    out = []
    for kind, name, table in items:
        if kind == "table":
            rows = 0
            try:
                for _ in conn.execute(f'SELECT * FROM "{name}" NOT INDEXED'):
                    rows += 1
                out.append(f"readable: table {name}: all {rows} rows")
            except sqlite3.DatabaseError as e:
                out.append(f"damaged: table {name}: {rows} rows read, then {e}")
            continue
        try:
            (column,) = conn.execute(f'SELECT name FROM pragma_index_info("{name}") WHERE seqno=0').fetchone()
            conn.execute(f'SELECT "{column}" FROM "{table}" INDEXED BY "{name}" ORDER BY "{column}"').fetchall()
        except (sqlite3.DatabaseError, TypeError) as e:
            if not isinstance(e, sqlite3.OperationalError) or "malformed" in str(e):
                out.append(f"damaged: index {name} of table {table} ({e}; .recover rebuilds it)")
    return out


def _how(db: Path) -> list[str]:
    return [
        f"to salvage: with the service stopped, rebuild a database from every readable page with "
        f"`sqlite3 {db} .recover | sqlite3 {db.parent / 'recovered.db'}`, keep {db.name} aside, move recovered.db "
        "into its place (vault.key stays as it is) and run `draftvault verify --reindex`;",
        "then `draftvault export --out salvage.zip` writes every conversation that still decrypts",
    ]
