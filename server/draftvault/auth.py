"""Who may use the service: API tokens, pairing codes, sign-in links, page sessions.

Kept in their own tables of vault.db, outside the encryption: `draftvault pair` and
`draftvault token create` run beside a running `serve` without unlocking the key.
Only SHA-256 hashes of secrets are stored, so a copy of the database grants nothing.
Every secret is looked up by its hash and then compared with hmac.compare_digest.

- Tokens: `secrets.token_urlsafe(32)`; a token that was paired from an Origin is
  bound to it and refused from any other Origin. A request with no Origin passes:
  Chromium sends none on an extension's GET (Sec-Fetch-Site: none; seen in the popup
  and the service worker), while a web page's request carrying an Authorization
  header is a CORS request and always names its Origin. A program outside the
  browser could claim any Origin anyway, so refusing those protected nothing.
- Pairing codes: short (e.g. "K7M-2QX"), one-time, expire after `ttl_s`. Every failed
  redeem counts against all live codes, which die after MAX_PAIR_FAILURES: guessing
  one of ~887 million codes in a few tries is hopeless.
- Sign-in links: one-time nonces that become a page session (cookie `dv_session`).
- Read-only tokens (`read_only`, for agents such as `draftvault mcp`): the API's guard
  refuses them on every method but GET/HEAD/OPTIONS, and the WebSocket's `hello` refuses
  them (ingest writes).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import msgspec
import sqlite_utils

from . import config, times
from .store import db as store_db

MAX_PAIR_FAILURES = 5
SESSION_TTL_S = 7 * 24 * 3600
SESSION_COOKIE = "dv_session"
# No 0/O, 1/I/L: the code is read off a terminal and typed into the popup.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
# A token's last use is written at most this often (`draftvault doctor` asks "seen
# recently?"); most requests then only read.
LAST_USED_EVERY_S = 60
# Chrome's and Firefox's extension origins (Firefox's carries a per-profile UUID): the
# origins that may pair.
EXTENSION_SCHEMES = ("chrome-extension://", "moz-extension://")

SCHEMA = """
CREATE TABLE IF NOT EXISTS auth_tokens (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, hash BLOB NOT NULL UNIQUE, origin TEXT,
    created_at TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, read_only INTEGER NOT NULL DEFAULT 0,
    last_used_at TEXT);
CREATE TABLE IF NOT EXISTS auth_pair_codes (hash BLOB PRIMARY KEY, expires REAL NOT NULL, failures INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS auth_login_nonces (hash BLOB PRIMARY KEY, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS auth_sessions (hash BLOB PRIMARY KEY, expires REAL NOT NULL);
"""


class AuthError(Exception):
    """A pairing code or sign-in link was refused; the message says why (for the user)."""


class TokenInfo(msgspec.Struct):
    id: str
    name: str
    origin: str | None
    created_at: str
    read_only: bool = False
    last_used_at: str | None = None  # filled by list_tokens (draftvault doctor: seen recently?)


_lock = threading.Lock()  # the service shares one connection between threads


def connect(home: Path) -> sqlite_utils.Database:
    """Its own connection to vault.db, set up as the vault's (store.db.connect), without the
    vault's key; the auth tables are created here, once."""
    db = sqlite_utils.Database(store_db.connect(config.db_path(config.private_dir(Path(home)))))
    with _lock:
        db.conn.executescript(SCHEMA)
        columns = db["auth_tokens"].columns_dict  # vaults from 0.1.0 have neither of these
        if "read_only" not in columns:
            db.conn.execute("ALTER TABLE auth_tokens ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0")
        if "last_used_at" not in columns:
            db.conn.execute("ALTER TABLE auth_tokens ADD COLUMN last_used_at TEXT")
    return db


def _run(db: sqlite_utils.Database, sql: str, params=()) -> tuple[list[tuple], int]:
    """One statement -> (rows, rowcount), committed unless inside someone's transaction."""
    with _lock:
        cur = db.conn.execute(sql, params)
        rows = cur.fetchall()
        if db.conn.isolation_level is not None and db.conn.in_transaction:
            db.conn.commit()
        return rows, cur.rowcount


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


# ---- tokens -------------------------------------------------------------------------


def create_token(db: sqlite_utils.Database, name: str, origin: str | None = None, *, read_only: bool = False) -> str:
    token = secrets.token_urlsafe(32)
    _run(
        db,
        "INSERT INTO auth_tokens (id, name, hash, origin, created_at, read_only) VALUES (?, ?, ?, ?, ?, ?)",
        (secrets.token_urlsafe(6), name, _hash(token), origin, times.now_iso(), int(read_only)),
    )
    return token


def check_token(db: sqlite_utils.Database, token: str | None, origin: str | None) -> TokenInfo | None:
    """The token's record if it is live and may be used from `origin`, else None."""
    if not token:
        return None
    digest = _hash(token)
    rows, _ = _run(
        db, "SELECT id, name, hash, origin, created_at, read_only, last_used_at FROM auth_tokens WHERE hash=? AND revoked=0",
        (digest,),
    )
    row = rows[0] if rows else None
    if row is None or not hmac.compare_digest(row[2], digest):
        return None
    if row[3] is not None and origin is not None and row[3] != origin:
        return None  # bound to another origin (no Origin at all: see the module docstring)
    now = datetime.now(timezone.utc)
    if row[6] is None or (now - datetime.fromisoformat(row[6])).total_seconds() > LAST_USED_EVERY_S:
        _touch(db, row[0], times.iso(now))
    return TokenInfo(id=row[0], name=row[1], origin=row[3], created_at=row[4], read_only=bool(row[5]))


def _touch(db: sqlite_utils.Database, token_id: str, now: str) -> None:
    """Records a token's use if the database is free now: a check never waits for
    another writer (the next use records it)."""
    with _lock:
        if db.conn.in_transaction:
            return
        db.conn.execute("PRAGMA busy_timeout=0")
        try:
            db.conn.execute("UPDATE auth_tokens SET last_used_at=? WHERE id=?", (now, token_id))
        except sqlite3.OperationalError:
            pass
        finally:
            db.conn.execute("PRAGMA busy_timeout=10000")


def list_tokens(db: sqlite_utils.Database) -> list[TokenInfo]:
    rows, _ = _run(
        db, "SELECT id, name, origin, created_at, read_only, last_used_at FROM auth_tokens WHERE revoked=0 "
        "ORDER BY created_at, rowid"
    )
    return [TokenInfo(*row[:4], read_only=bool(row[4]), last_used_at=row[5]) for row in rows]


def revoke_token(db: sqlite_utils.Database, name_or_id: str) -> bool:
    """Revokes the token with this id, or every token with this name."""
    _, count = _run(db, "UPDATE auth_tokens SET revoked=1 WHERE revoked=0 AND (id=? OR name=?)", (name_or_id, name_or_id))
    return count > 0


def paired_origins(db: sqlite_utils.Database) -> set[str]:
    rows, _ = _run(db, "SELECT DISTINCT origin FROM auth_tokens WHERE revoked=0 AND origin IS NOT NULL")
    return {row[0] for row in rows}


# ---- pairing codes --------------------------------------------------------------------


def _normal_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def create_pair_code(db: sqlite_utils.Database, ttl_s: int = 300) -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))
    _run(db, "DELETE FROM auth_pair_codes WHERE expires <= ?", (time.time(),))
    _run(db, "INSERT INTO auth_pair_codes (hash, expires) VALUES (?, ?)", (_hash(raw), time.time() + ttl_s))
    return f"{raw[:3]}-{raw[3:]}"


def redeem_pair_code(db: sqlite_utils.Database, code: str, origin: str | None, name: str | None) -> str:
    """Exchanges a live code (once) for a new token bound to `origin`."""
    digest = _hash(_normal_code(code))
    # One DELETE decides: two concurrent redeems of one code cannot both win.
    _, count = _run(
        db,
        "DELETE FROM auth_pair_codes WHERE hash=? AND expires > ? AND failures < ?",
        (digest, time.time(), MAX_PAIR_FAILURES),
    )
    if count != 1:
        _run(db, "UPDATE auth_pair_codes SET failures = failures + 1")
        raise AuthError("the pairing code is wrong, expired or already used; run `draftvault pair` for a new one")
    return create_token(db, name or "extension", origin)


# ---- sign-in links and page sessions ----------------------------------------------------


def create_login_nonce(db: sqlite_utils.Database, ttl_s: int = 600) -> str:
    nonce = secrets.token_urlsafe(32)
    _run(db, "DELETE FROM auth_login_nonces WHERE expires <= ?", (time.time(),))
    _run(db, "INSERT INTO auth_login_nonces (hash, expires) VALUES (?, ?)", (_hash(nonce), time.time() + ttl_s))
    return nonce


def login_link(db: sqlite_utils.Database, port: int) -> str:
    """A new one-time link that signs the history page of the service on `port` in."""
    return f"http://127.0.0.1:{port}/login?t={create_login_nonce(db)}"


def redeem_login_nonce(db: sqlite_utils.Database, nonce: str | None) -> str:
    """Uses up a sign-in link; returns the new session id for the `dv_session` cookie."""
    _, count = _run(db, "DELETE FROM auth_login_nonces WHERE hash=? AND expires > ?", (_hash(nonce or ""), time.time()))
    if count != 1:
        raise AuthError("this sign-in link is invalid, expired or already used; ask for a new one")
    session = secrets.token_urlsafe(32)
    _run(db, "DELETE FROM auth_sessions WHERE expires <= ?", (time.time(),))
    _run(db, "INSERT INTO auth_sessions (hash, expires) VALUES (?, ?)", (_hash(session), time.time() + SESSION_TTL_S))
    return session


def check_session(db: sqlite_utils.Database, session: str | None) -> bool:
    if not session:
        return False
    digest = _hash(session)
    rows, _ = _run(db, "SELECT hash FROM auth_sessions WHERE hash=? AND expires > ?", (digest, time.time()))
    return bool(rows) and hmac.compare_digest(rows[0][0], digest)
