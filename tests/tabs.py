"""Helpers for the store's tests: a Tab that sends frames (built by frames.py) to a Vault
as the extension would, and small readers of what the vault holds."""

from __future__ import annotations

import sqlite3

import frames
from draftvault import config

CLIENT = "client-0001"
PAGE, PAGE2 = "page-0001", "page-0002"


class Tab:
    """One page of a site: seq numbers from the client, the conversation it shows now."""

    def __init__(self, vault, page=PAGE, client=CLIENT, site="chatgpt"):
        self.vault, self.page, self.client, self.site = vault, page, client, site
        self.conv: str | None = None

    def frame(self, turns=(), *, start=0, count=None, draft=None, conv=..., title=None, model=None, url=None):
        conv = self.conv if conv is ... else conv
        self.conv = conv
        return frames.snapshot(
            self.vault.last_seq(self.client) + 1, turns, page=self.page, conv=conv, site=self.site,
            turns_from=start, turn_count=count, url=url or frames.url_of(conv), title=title, model=model, draft=draft,
        )

    def snap(self, turns=(), **kw):
        return self.vault.apply(self.client, self.frame(turns, **kw))

    def signal(self, kind, detail=None, conv=...):
        return self.vault.apply(
            self.client,
            frames.signal(self.vault.last_seq(self.client) + 1, kind, page=self.page,
                          conv=self.conv if conv is ... else conv, site=self.site, url="https://chatgpt.com/",
                          detail=detail),
        )


def texts(vault, id):
    return [(t.role, t.text) for t in vault.get_conversation(id).turns]


def chat(n, prefix="turn"):
    return [("user" if i % 2 == 0 else "assistant", f"{prefix} {i}") for i in range(n)]


def files_under(home):
    return [p for p in home.rglob("*") if p.is_file()]


def raw(home, sql, params=()):
    """Changes the vault file behind the vault's back, as an attacker or a bad disk would."""
    conn = sqlite3.connect(config.db_path(home))
    try:
        out = conn.execute(sql, params).fetchall()
        conn.commit()
        return out
    finally:
        conn.close()


def rows(vault, id):
    """(first turn, turns, blob) of each turns row of a conversation."""
    return vault.db.execute(
        "SELECT idx, n, bid FROM turns WHERE cid = (SELECT cid FROM conversations WHERE id=?) ORDER BY idx", (id,)
    ).fetchall()


def imported(vault, n, turns, *, site="chatgpt", title=None, updated="2026-11-01T10:00:00.000+00:00"):
    return vault.import_conversation(
        site=site,
        conversation_id=f"conv-{n}",
        title=title or f"Conversation {n}",
        url=None,
        model=None,
        created_at=updated,
        updated_at=updated,
        turns=turns,
    )[0]
