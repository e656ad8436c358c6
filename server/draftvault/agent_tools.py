"""What an AI assistant may read from the vault, as plain functions (`draftvault mcp` is a
thin layer over them): search, a conversation as Markdown in pages, resume packs, failed
sessions, unsent drafts, recent conversations. Nothing here writes.

Every function reads through a `Reader`, which `Access.reader()` picks per request:
- the service runs (its runtime file, as `draftvault status` reads it): its HTTP API,
  with a read-only token (`DRAFTVAULT_TOKEN`, else one minted for this process and
  revoked when it ends). The service owns the vault's writes (index merges, packing);
  a second process opening the vault beside it would write too.
- it does not: the vault file itself, opened for the request and closed after it
  (a passphrase comes from `DRAFTVAULT_PASSPHRASE`; nothing can be asked on stdio).

Answers are bounded: a conversation comes in pages of at most PAGE_CHARS characters
(cut between turns, a longer turn cut into pieces), lists at most MAX_ITEMS items, a
draft in a list at most DRAFT_CHARS characters. Captured text is untrusted: it is
handed over as text, never followed.
"""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Protocol

import msgspec

from . import auth, config, crypto, models, resume, runtime
from .turn_parts import turn_body
from .vocabulary import role_heading

PAGE_CHARS = 20_000
MAX_ITEMS = 50
DRAFT_CHARS = 2_000
DRAFT_SCAN = 50  # recent conversations looked at for unsent drafts


class AgentError(Exception):
    """A request that cannot be answered; the message says why, for the assistant."""


class Reader(Protocol):
    def search(self, query: str, site: str | None, limit: int) -> list[models.SearchHit]: ...
    def conversations(self, limit: int) -> list[models.ConversationSummary]: ...
    def conversation(self, id: str) -> models.ConversationDetail | None: ...
    def failures(self, resolved: bool | None) -> list[models.FailureOut]: ...
    def resume(self, id: str, target: str) -> models.ResumePack | None: ...


class VaultReader:
    """Reads the vault file directly (the service is not running)."""

    def __init__(self, vault):
        self.vault = vault

    def search(self, query, site, limit):
        return self.vault.search(query, site=site, limit=limit)

    def conversations(self, limit):
        return self.vault.list_conversations(limit=limit)

    def conversation(self, id):
        return self.vault.get_conversation(id)

    def failures(self, resolved):
        return self.vault.list_failures(resolved=resolved)

    def resume(self, id, target):
        detail = self.vault.get_conversation(id)
        return resume.build_pack(detail, target) if detail else None


class ServiceReader:
    """Reads through the running service's HTTP API (GET only) with a read-only token."""

    def __init__(self, port: int, token: str):
        self.base, self.token = f"http://127.0.0.1:{port}", token

    def _get(self, path: str, type, **params):
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        request = urllib.request.Request(
            f"{self.base}{path}{'?' + query if query else ''}", headers={"Authorization": f"Bearer {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as res:
                return msgspec.json.decode(res.read(), type=type)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            if e.code in (401, 403):
                raise AgentError(f"the DraftVault service refused the token ({e.code}); check DRAFTVAULT_TOKEN") from None
            raise AgentError(f"the DraftVault service answered {e.code}") from None
        except OSError as e:
            raise AgentError(f"the DraftVault service did not answer: {e}") from None

    def search(self, query, site, limit):
        return self._get("/api/search", models.SearchResults, q=query, site=site, limit=limit).items

    def conversations(self, limit):
        return self._get("/api/conversations", models.ConversationList, limit=limit).items

    def conversation(self, id):
        return self._get(f"/api/conversations/{urllib.parse.quote(id, safe='')}", models.ConversationDetail)

    def failures(self, resolved):
        return self._get(
            "/api/failures", models.FailureList, resolved=None if resolved is None else str(resolved).lower()
        ).items

    def resume(self, id, target):
        return self._get(f"/api/conversations/{urllib.parse.quote(id, safe='')}/resume", models.ResumePack, target=target)


class Access:
    """Where reads go; see the module docstring. `close()` revokes a token it minted."""

    def __init__(self, home: Path):
        self.home = home
        self._token = config.agent_token()
        self._minted = False
        self._name = f"mcp-{os.getpid()}"

    def _service_token(self) -> str:
        if self._token is None:
            db = auth.connect(self.home)
            try:
                for t in auth.list_tokens(db):  # left by runs that were killed
                    if t.read_only and re.fullmatch(r"mcp-\d+", t.name) and not _alive(int(t.name[4:])):
                        auth.revoke_token(db, t.id)
                self._token = auth.create_token(db, self._name, read_only=True)
            finally:
                db.conn.close()
            self._minted = True
        return self._token

    @contextmanager
    def reader(self) -> Iterator[Reader]:
        info = runtime.running_service(self.home)
        if info is not None:
            yield ServiceReader(info.port, self._service_token())
            return
        if not config.db_path(self.home).exists():
            raise AgentError(f"there is no DraftVault vault under {self.home} yet")
        from .store import KeyMismatch, Vault

        try:
            vault = Vault.open(self.home, config.passphrase())
        except crypto.PassphraseRequired:
            raise AgentError(
                "the vault is locked with a passphrase: start `draftvault serve`, or set DRAFTVAULT_PASSPHRASE "
                "in this MCP server's environment"
            ) from None
        except (crypto.WrongPassphrase, KeyMismatch) as e:
            raise AgentError(str(e)) from None
        try:
            yield VaultReader(vault)
        finally:
            vault.close()

    def close(self) -> None:
        if self._minted:
            db = auth.connect(self.home)
            try:
                auth.revoke_token(db, self._name)
            finally:
                db.conn.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, someone else's
        return True
    return True


# ---- the answers ---------------------------------------------------------------------


def _limit(n: int) -> int:
    return max(1, min(int(n), MAX_ITEMS))


def _one_line(text: str | None, cut: int = 200) -> str:
    line = " ".join((text or "").split())
    return line if len(line) <= cut else line[: cut - 1] + "…"


def _summary_line(c: models.ConversationSummary | models.ConversationDetail) -> str:
    flag = " · failed" if c.status == "failed" else ""
    return f"- “{_one_line(c.title) or 'Untitled'}” ({c.site}, {c.turn_count} turns, updated {c.updated_at}{flag}) id `{c.id}`"


def search(reader: Reader, query: str, site: str | None = None, limit: int = 10) -> str:
    if not query.strip():
        raise AgentError("give some words to search for")
    hits = reader.search(query, site, _limit(limit))
    if not hits:
        return f"Nothing in the vault matches “{_one_line(query)}”."
    lines = [f"{len(hits)} conversations match “{_one_line(query)}” (read one with read_conversation and its id):"]
    for h in hits:
        where = "the unsent draft" if h.turn is None else f"turn {h.turn}"
        lines.append(
            f"- “{_one_line(h.title) or 'Untitled'}” ({h.site or '?'}, updated {h.updated_at or '?'}) id `{h.conversation}`,"
            f" {where}: {_one_line(h.snippet, 400)}"
        )
    return "\n".join(lines)


def _sections(detail: models.ConversationDetail, with_branches: bool) -> list[str]:
    """The conversation's Markdown as sections (a header, one per turn, the draft, branches)."""
    meta = f"{detail.site} · id `{detail.id}` · created {detail.created_at} · updated {detail.updated_at}"
    n = len(detail.branches)
    meta += f" · {len(detail.turns)} turns" + (f" · {n} other branch{'es' if n > 1 else ''}" if n else "")
    if detail.status == "failed":
        meta += " · the session failed"
    out = [f"# {_one_line(detail.title, 300) or 'Untitled conversation'}\n\n{meta}\n"]
    out += [_turn(t) for t in detail.turns]
    if detail.draft and detail.draft.text.strip():
        out.append(f"\n## Unsent draft ({detail.draft.updated_at})\n\n{detail.draft.text.strip()}\n")
    if with_branches:
        for b in detail.branches:
            out.append(f"\n# Branch {b.id} ({b.reason}), leaving the thread above at turn {b.from_index}\n")
            out += [_turn(t) for t in b.turns]
    elif detail.branches:
        out.append(f"\n({len(detail.branches)} other branches: read with include_branches=true)\n")
    return out


def _turn(t: models.TurnOut) -> str:
    return f"\n## {role_heading(t.role)} (turn {t.index})\n\n{turn_body(t, thinking=False)}\n"


def pages(sections: list[str], size: int = PAGE_CHARS) -> list[str]:
    """Sections packed into pages of at most `size` characters: a section that fits in a page
    is not split; a longer one fills the page it starts on and goes on in the next ones."""
    out: list[str] = []
    page = ""
    for section in sections:
        while len(page) + len(section) > size:
            if page and len(section) <= size:
                out.append(page)
                page = ""
                continue
            room = size - len(page)
            out.append(page + section[:room])
            page, section = "", section[room:]
        page += section
    return out + [page] if page or not out else out


def read_conversation(reader: Reader, id: str, page: int = 1, include_branches: bool = False) -> str:
    detail = reader.conversation(id)
    if detail is None:
        raise AgentError(f"no conversation with id {id!r} (search or recent_conversations give ids)")
    parts = pages(_sections(detail, include_branches))
    if not 1 <= page <= len(parts):
        raise AgentError(f"page {page} does not exist: this conversation has {len(parts)} pages")
    if len(parts) == 1:
        return parts[0]
    more = f"; the next is page={page + 1}" if page < len(parts) else ""
    return f"[page {page} of {len(parts)}{more}]\n" + parts[page - 1]


def resume_pack(reader: Reader, id: str, target: str = "generic") -> str:
    if target not in resume.BUDGETS:
        raise AgentError(f"target must be one of {', '.join(resume.BUDGETS)}")
    pack = reader.resume(id, target)
    if pack is None:
        raise AgentError(f"no conversation with id {id!r}")
    return pack.text


def failed_sessions(reader: Reader, include_resolved: bool = False, limit: int = 20) -> str:
    failures = reader.failures(None if include_resolved else False)[::-1][: _limit(limit)]  # newest first
    if not failures:
        return "No failed sessions." if include_resolved else "No unresolved failed sessions."
    titles: dict[str, models.ConversationDetail | None] = {}
    lines = []
    for f in failures:
        if f.conversation not in titles:
            titles[f.conversation] = reader.conversation(f.conversation)
        c = titles[f.conversation]
        state = f"resolved ({f.resolution})" if f.resolved else "unresolved"
        outage = ", provider outage confirmed" if f.provider_outage else ""
        about = f"“{_one_line(c.title) or 'Untitled'}” ({c.site})" if c else "a deleted conversation"
        draft = ", an unsent draft kept" if c and c.draft and c.draft.text.strip() else ""
        lines.append(f"- {f.detected_at}: {f.kind} in {about}, {state}{outage}{draft}; conversation id `{f.conversation}`")
    return "\n".join(lines)


def unsent_drafts(reader: Reader, limit: int = 10) -> str:
    limit = _limit(limit)
    lines = []
    for summary in reader.conversations(DRAFT_SCAN):
        detail = reader.conversation(summary.id)
        if detail is None or not detail.draft or not detail.draft.text.strip():
            continue
        text = detail.draft.text.strip()
        if len(text) > DRAFT_CHARS:
            text = text[:DRAFT_CHARS] + "… (cut; read_conversation shows it whole)"
        lines.append(f"{_summary_line(detail)}, draft of {detail.draft.updated_at}:\n\n{text}\n")
        if len(lines) == limit:
            break
    if not lines:
        return f"No unsent drafts in the {DRAFT_SCAN} most recent conversations."
    return "\n".join(lines)


def recent_conversations(reader: Reader, limit: int = 20) -> str:
    items = reader.conversations(_limit(limit))
    if not items:
        return "The vault holds no conversations yet."
    return "\n".join(_summary_line(c) for c in items)
