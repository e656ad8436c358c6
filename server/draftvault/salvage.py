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
        return [r[0] for r in conn.execute("PRAGMA integrity_check(1000)") if r[0] != "ok"]
    except sqlite3.DatabaseError as e:
        return [f"the integrity check itself stops: {e}"]


def _readable(conn: sqlite3.Connection) -> list[str]:
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    except sqlite3.DatabaseError as e:
        return [f"readable: nothing (the list of tables is damaged: {e})"]
    out = []
    for table in tables:
        rows = 0
        try:
            for _ in conn.execute(f'SELECT * FROM "{table}"'):
                rows += 1
            out.append(f"readable: {table}: all {rows} rows")
        except sqlite3.DatabaseError as e:
            out.append(f"readable: {table}: {rows} rows, then damaged ({e})")
    return out


def _how(db: Path) -> list[str]:
    return [
        "to salvage: `draftvault export --out salvage.zip` writes every conversation that still decrypts;",
        f"or rebuild the readable pages: `sqlite3 {db} .recover | sqlite3 recovered.db`, then, with the service "
        f"stopped, keep {db.name} aside and move recovered.db into its place (vault.key stays as it is) "
        "and run `draftvault verify --reindex`",
    ]
