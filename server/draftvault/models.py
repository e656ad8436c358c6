"""Bodies of the HTTP API (`/api/...`), as msgspec Structs.

These shapes are part of the contract in DESIGN.md; `scripts/gen-schema` writes
them to `shared_schema/api.schema.json`. Times are ISO 8601 strings in UTC.
Every `id` is the vault's own id for a conversation; `conversation_id` is the
site's id (null for a new chat that never got one).
"""

from __future__ import annotations

from typing import Literal

from msgspec import Struct

from .protocol import FailureKind, Role, Site

ConversationStatus = Literal["active", "failed"]
ResumeTarget = Literal["chatgpt", "claude", "gemini", "copilot", "generic"]


class Health(Struct):
    status: Literal["ok"] = "ok"


class ConversationSummary(Struct):
    id: str
    site: Site
    conversation_id: str | None
    title: str | None
    url: str | None
    status: ConversationStatus
    turn_count: int
    updated_at: str


class ConversationList(Struct):
    items: list[ConversationSummary]


class TurnOut(Struct):
    index: int
    role: Role
    text: str  # Markdown


class DraftOut(Struct):
    text: str
    updated_at: str


class FailureOut(Struct):
    id: str
    conversation: str  # vault conversation id
    kind: FailureKind
    detected_at: str
    resolved: bool
    detail: str | None = None
    resolved_at: str | None = None
    resolution: Literal["completed", "resumed", "dismissed"] | None = None
    provider_outage: bool = False


class ConversationDetail(Struct):
    id: str
    site: Site
    conversation_id: str | None
    title: str | None
    url: str | None
    status: ConversationStatus
    turn_count: int
    updated_at: str
    created_at: str
    model: str | None
    turns: list[TurnOut]
    draft: DraftOut | None  # the current unsent draft, if any
    drafts: list[DraftOut] = []  # recent versions of the draft, newest first
    failures: list[FailureOut] = []
    # Records that failed authentication (tampered or damaged), e.g. "turn 12",
    # "title": reported here, while everything else is still shown.
    corrupt: list[str] = []


class FailureList(Struct):
    items: list[FailureOut]


class ResumePack(Struct):
    target: ResumeTarget
    text: str
    chars: int
    omitted_turns: int


class SearchHit(Struct):
    conversation: str  # vault conversation id
    title: str | None
    snippet: str  # plain text around the best match (untrusted: escape it)
    marks: list[tuple[int, int]] = []  # [start, end) character spans of matched words in snippet
    site: Site | None = None
    turn: int | None = None  # index of the best matching turn; None for the draft
    updated_at: str | None = None


class SearchResults(Struct):
    items: list[SearchHit]


class PairRequest(Struct, forbid_unknown_fields=True):
    code: str
    name: str | None = None


class PairResponse(Struct):
    token: str
    name: str


class ResolveRequest(Struct, forbid_unknown_fields=True):
    """POST /api/failures/{id}/resolve: the user resumed or dismissed a failure."""

    resolution: Literal["resumed", "dismissed"]


class LoginLink(Struct):
    """POST /api/login-link: a one-time sign-in link for the history page."""

    url: str


class ExportRequest(Struct, forbid_unknown_fields=True):
    """POST /api/export: a .zip of the chosen conversations (all when ids is null)."""

    ids: list[str] | None = None
    format: Literal["md", "json"] = "md"


ImportKind = Literal["chatgpt-export", "claude-export", "gemini-takeout"]


class ImportResult(Struct):
    """POST /api/import and `draftvault import`: what an import added."""

    conversations: int  # conversations in the file(s)
    created: int  # new in the vault
    updated: int  # already there, changed
    unchanged: int  # already there, identical
    turns: int  # turns imported (main thread)
    notes: list[str] = []  # what the summary should also say (left-out thinking, how Gemini entries were grouped)
