"""Bodies of the HTTP API (`/api/...`), as msgspec Structs.

These shapes are part of the contract in DESIGN.md; `scripts/gen-schema` writes
them to `shared_schema/api.schema.json`. Times are ISO 8601 strings in UTC.
Every `id` is the vault's own id for a conversation; `conversation_id` is the
site's id (null for a new chat that never got one).
"""

from __future__ import annotations

from typing import Callable, Literal

from msgspec import Struct

from .protocol import Document, FailureKind, Role, Site

ConversationStatus = Literal["active", "failed"]
ResumeTarget = Literal["chatgpt", "claude", "gemini", "copilot", "generic"]
# Why an earlier thread was replaced (store/versions.py says when each is given).
BranchReason = Literal["regenerated", "edited", "cut_off", "conflict", "imported"]
# What long operations (export, import) report as they go: progress(done, total).
Progress = Callable[[int, int], None]


class ErrorBody(Struct):
    """Every HTTP error (4xx, 5xx): litestar's shape, also used by the Host/Origin guard."""

    status_code: int
    detail: str
    extra: dict | list | None = None  # 400: what failed validation, where


class Health(Struct):
    status: Literal["ok"] = "ok"


class SiteDegraded(Struct):
    """A site whose pages the extension no longer reads well (capture_health.py)."""

    site: Site
    host: str  # "claude.ai"
    since: str  # when it was first seen
    detail: str | None = None


class CaptureHealthOut(Struct):
    degraded: list[SiteDegraded]


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


class AttachmentOut(Struct, omit_defaults=True):
    """An image or file a turn showed (store/attachments.py)."""

    id: str | None  # GET /api/attachments/{id}; null: recorded by name, type and size only (no bytes kept)
    name: str
    type: str  # MIME type, as the page gave it
    bytes: int  # its size
    alt: str | None = None  # an image's alt text: its placeholder in the turn's text is `[Image: alt]`


class TurnOut(Struct, omit_defaults=True):
    index: int
    role: Role
    text: str  # Markdown, the answer only
    first_seen: str | None = None  # when the vault first saw the turn (an import: the export's time)
    thinking: str | None = None  # visible reasoning, kept apart from the text
    documents: list[Document] = []  # canvas documents and artifacts the turn made
    attachments: list[AttachmentOut] = []  # images and files shown with the turn (left out when none)
    # The text as shown beside its files: without the placeholders of the images kept as
    # files (markdown.without_image_placeholders); left out when that is `text` itself.
    shown_text: str | None = None


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
    title: str | None = None  # the conversation's title, so a list of failures needs no other request
    site: Site | None = None
    # When the site worked again after this failure (an answer completed there, or its
    # status page turned operational): the extension offers "Send again". Kept in the
    # service's memory, so null again after a restart until the next recovery.
    recovered_at: str | None = None


# Why a thread is no longer the current one (an imported export's other branches: imported).
BranchReason = Literal["regenerated", "edited", "cut_off", "conflict", "imported"]


class BranchOut(Struct):
    """An earlier thread of a conversation: it leaves the current thread at `from_index`,
    and `turns` are its own turns from there on (their `index` counts from the start)."""

    id: str
    from_index: int
    reason: BranchReason
    turns: list[TurnOut]
    replaced_at: str | None = None


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
    branches: list[BranchOut] = []  # the other threads (edits, regenerations), each from where it leaves `turns`


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
    branch: str | None = None  # the hit is in this earlier thread (BranchOut.id), at `turn`; None: the current one


class SearchResults(Struct):
    items: list[SearchHit]
    # True while new text cannot be indexed (e.g. the disk is full): the items come from
    # what is indexed, and recent text may be missing. The index catches up by itself.
    partial: bool = False


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


class StatusCheckOut(Struct):
    """GET/PUT /api/settings/status-check: the provider status-page check (off by default)."""

    enabled: bool
    url: str  # the page it polls (or would poll, when off)
    host: str  # what it contacts, for the options page: "status.openai.com"
    site: Site  # the site whose failures it labels and whose recovery it reports
    interval_s: float


class StatusCheckIn(Struct, forbid_unknown_fields=True):
    enabled: bool
