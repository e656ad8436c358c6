"""What the store raises to its callers."""

from __future__ import annotations

import sqlite3

_UNAVAILABLE = ("database or disk is full", "disk i/o error", "database is locked", "unable to open", "readonly")


class NeedFull(Exception):
    """A snapshot delta starts past the turns the vault holds; `have` is how many it holds."""

    def __init__(self, have: int):
        super().__init__(f"the vault holds {have} turns of this conversation; send the turns from {have} on")
        self.have = have


class Refused(Exception):
    """A frame the vault will never take as it is (e.g. an attachment part that follows nothing it holds): nothing was stored."""


class Unavailable(Exception):
    """The vault could not store the frame (disk full, I/O error, locked); nothing was stored."""


class KeyMismatch(Exception):
    """The key file does not open this vault (missing or replaced)."""


def unavailable_or_same(e: sqlite3.OperationalError) -> Exception:
    """Unavailable for a full disk, an I/O error or a lock; otherwise `e` itself."""
    message = str(e).lower()
    if any(m in message for m in _UNAVAILABLE):
        return Unavailable(f"the vault could not store this: {e}")
    return e


class NewerSchema(Exception):
    """The vault was written by a newer DraftVault (its schema version is past this one's)."""
