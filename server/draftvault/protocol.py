"""The wire protocol between the extension and the service (WebSocket `/ws`).

JSON text frames, each an object whose `type` names it. This module is the single
source of truth: `scripts/gen-schema` writes `shared_schema/protocol.schema.json`
from these Structs, and both the Python and the extension tests check the example
frames in `shared_schema/examples/` against it.

Flow: the client's first frame is `hello`; the server answers `welcome` with the
highest `seq` it holds for that client. Then `snapshot` and `signal` frames, each
with the next `seq` for the client, each answered by `ack` once it is durable (a
frame whose seq the vault already holds is acked again and changes nothing).
`attachment` frames carry the bytes of an image or file the page shows, in parts (see
Attachment), acked like snapshots. `ping` gets `pong`. The server pushes `failure` frames, and `recovered` when a site
answers again after failures (recovery.py). Any bad frame gets `error`
and changes nothing; the connection stays open unless the hello itself failed.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

import msgspec
from msgspec import Meta, Struct

PROTOCOL_VERSION = 1
# Versions that meet: the service accepts the previous protocol version for one
# release, so an extension that the store has not updated yet keeps saving while the
# service is upgraded (and the other way round for one release). The rule: a release
# that raises PROTOCOL_VERSION to N keeps N-1 here and translates its frames in
# ingest; the release after drops N-1. `welcome.protocol` is the version spoken on
# that connection (the client's); a hello with any other version gets `bad_protocol`
# with `protocols` = this list, from which the extension tells the person which side
# to update (no `protocols` at all: a service older than this rule).
ACCEPTED_PROTOCOLS = [PROTOCOL_VERSION - 1, PROTOCOL_VERSION] if PROTOCOL_VERSION > 1 else [PROTOCOL_VERSION]

# Frames larger than this are refused with an `error` (code `too_large`) before
# they are parsed. A full snapshot of a very long chat can be split by the
# extension into several frames (see Snapshot.turns_from).
MAX_FRAME_BYTES = 8 * 1024 * 1024
# An attachment's bytes travel in parts of at most this many bytes each (base64 in the
# JSON: a part's frame stays well under MAX_FRAME_BYTES), and a file of at most
# MAX_ATTACHMENT_BYTES in all (the extension's own cap, 25 MB by default, is lower).
ATTACHMENT_PART_BYTES = 1024 * 1024
MAX_ATTACHMENT_BYTES = 256 * 1024 * 1024
MAX_ATTACHMENT_PARTS = -(-MAX_ATTACHMENT_BYTES // ATTACHMENT_PART_BYTES)

Site = Literal["chatgpt", "claude", "gemini"]
Role = Literal["user", "assistant", "system", "tool"]

# Ids a client makes up (the extension: random URL-safe ones; a script: a UUID, "tab-1"): any
# length a person would pick, and only characters that read safely in a log line.
_CLIENT_MADE_ID = r"^[A-Za-z0-9_.:-]{1,128}$"
ClientId = Annotated[str, Meta(pattern=_CLIENT_MADE_ID)]
PageId = Annotated[str, Meta(pattern=_CLIENT_MADE_ID)]
Seq = Annotated[int, Meta(ge=1, le=2**53)]
Index = Annotated[int, Meta(ge=0, le=1_000_000)]
# Milliseconds since the epoch, on the client's clock.
Millis = Annotated[int, Meta(ge=0, le=2**53)]
ShortText = Annotated[str, Meta(max_length=2048)]
Url = Annotated[str, Meta(max_length=8192)]

# What the page reports. One closed list; the detector (detector.py) turns some of
# these into failures.
SignalKind = Literal[
    "error_message",  # an error text is visible in the page; detail = that text
    "http_error",  # the conversation request answered 5xx or 429; status set
    "stream_incomplete",  # the answer's stream ended without its final event
    "stalled",  # an answer is streaming but no new text came for a while
    "turns_vanished",  # turns of a known conversation disappeared from the page
    "blank_page",  # a known conversation's page shows nothing at all
    "offline",  # the browser went offline
    "online",  # ...and came back
    "logged_out",  # the site shows its log-in screen instead of the chat
    "adapter_broken",  # the page should have turns but the adapter read none
    "user_stopped",  # the user pressed stop on purpose: never a failure
    "page_closed",  # the tab closed or navigated away (pagehide, tabs.onRemoved)
]

# What went wrong in a failed session: the closed list shown by /api/failures, the
# `failure` frame, the popup and the history page. detector.py maps signals and
# silence onto these.
FailureKind = Literal[
    "error_message",  # the site showed an error ("Something went wrong", ...)
    "rate_limited",  # "Too many requests", usage or rate limits, HTTP 429
    "capacity",  # "at capacity" / capacity exceeded
    "http_error",  # the conversation request failed with a 5xx
    "stream_incomplete",  # the answer's stream ended early
    "stalled",  # the answer stopped streaming half-way
    "turns_vanished",  # turns disappeared from a known conversation
    "blank_page",  # the page went blank on a known conversation
    "offline",  # the browser lost the network mid-session
    "logged_out",  # the session was logged out
    "tab_closed",  # tab closed, crashed or browser quit mid-answer or with a draft
]


class Frame(Struct, tag_field="type", forbid_unknown_fields=True, omit_defaults=True):
    """Base of every frame: the `type` field is the tag."""


class Document(Struct, forbid_unknown_fields=True, omit_defaults=True, frozen=True):
    """A ChatGPT canvas document or a Claude artifact, kept with the turn that made it
    (also the shape of a turn's `documents` in the API and in the vault)."""

    title: ShortText
    kind: Literal["code", "document"]  # code: `text` is the code itself; document: Markdown
    text: Annotated[str, Meta(max_length=4 * 1024 * 1024)]
    language: Annotated[str, Meta(max_length=64)] | None = None  # for code, when the page names it


class Turn(Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    index: Index | None = None  # position in the conversation, 0-based; left out: its place (decode fills it in)
    role: Role
    text: Annotated[str, Meta(max_length=4 * 1024 * 1024)]  # Markdown, the answer only
    message_id: ShortText | None = None  # the site's message id, when shown
    # Visible reasoning ("Thought for 12s", Claude's thinking, Gemini's "Show thinking"),
    # as Markdown: never part of `text`.
    thinking: Annotated[str, Meta(max_length=4 * 1024 * 1024)] | None = None
    documents: Annotated[list[Document], Meta(max_length=64)] = []
    # The text came from the site's own conversation JSON (ChatGPT: content/page-json.js),
    # not from the page as the site adapter read it: it says nothing of the adapter's
    # health (capture_health.py).
    from_json: bool = False


# ---- client -> server -------------------------------------------------------


class Hello(Frame, tag="hello"):
    protocol: int
    token: Annotated[str, Meta(max_length=512)]
    client_id: ClientId  # one per browser profile, kept in chrome.storage.local
    agent: ShortText | None = None  # extension version and browser, for logs


class Snapshot(Frame, tag="snapshot", kw_only=True):
    """What one page shows now, as a delta.

    `turns` holds the turns from index `turns_from` on, in order. Turns before
    `turns_from` are unchanged. After applying, the conversation's current thread has
    `turn_count` turns; stored turns at or past `turn_count`, and stored turns the
    frame replaces, are kept as an earlier version (a branch), never deleted. A page's first snapshot has turns_from = 0; when
    the server holds fewer than `turns_from` turns it answers `error` with code
    `need_full` and `have` = the turns it holds, and the client resends from there.
    """

    seq: Seq
    page_id: PageId  # one per tab and page load
    conversation_id: ShortText | None = None  # the site's id; null (or left out) in a new chat
    site: Site
    url: Url
    turn_count: Index
    turns_from: Index
    turns: list[Turn]
    title: ShortText | None = None
    model: ShortText | None = None
    # The composer's text. null: the page has no composer (or it was not read);
    # "": the composer is empty (the draft was sent or cleared).
    draft: Annotated[str, Meta(max_length=1024 * 1024)] | None = None
    streaming: bool = False  # an answer is being written right now
    captured_at: Millis = 0


class Signal(Frame, tag="signal", kw_only=True):
    seq: Seq
    page_id: PageId
    conversation_id: ShortText | None = None
    site: Site
    url: Url | None = None  # where the page was (for logs and tests; the snapshot's is what is kept)
    kind: SignalKind
    detail: ShortText | None = None
    status: Annotated[int, Meta(ge=0, le=999)] | None = None  # HTTP status
    captured_at: Millis = 0


class Attachment(Frame, tag="attachment"):
    """An image or file shown in turn `turn_index` of the page's conversation.

    Its bytes come in `parts` frames (part 0, 1, ... in seq order, each with `data` of
    ATTACHMENT_PART_BYTES, the last with the rest; a file of 0 bytes: one empty part), all with the same `key` (the extension's name for this
    upload, unique per page); the vault stores the file when the last part arrives, once
    however many turns or conversations show the same bytes. `parts` = 0: the page did not
    give the bytes (a file it does not expose, or one over the extension's size cap): the
    attachment is recorded by name, type and size only, and `data` is null. A part the vault
    cannot place (an earlier part missing, sizes that do not add up) gets `error` `bad_frame`.
    """

    seq: Seq
    page_id: PageId
    conversation_id: ShortText | None
    site: Site
    url: Url
    turn_index: Index
    key: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    name: ShortText  # the file's name as the page shows it ("image.png")
    mime: ShortText  # its MIME type ("image/png"; "application/octet-stream" when unknown)
    size: Annotated[int, Meta(ge=0, le=2**53)]  # the whole file's bytes
    parts: Annotated[int, Meta(ge=0, le=MAX_ATTACHMENT_PARTS)] = 1
    part: Annotated[int, Meta(ge=0, le=MAX_ATTACHMENT_PARTS)] = 0
    data: Annotated[bytes, Meta(max_length=ATTACHMENT_PART_BYTES)] | None = None  # base64 in the JSON
    captured_at: Millis = 0
    # An image's alt text as the page gave it: the turn's text shows the image as the
    # placeholder `[Image: alt]` (docs/markdown.md), which readers leave out beside the image kept.
    alt: ShortText | None = None


class Ping(Frame, tag="ping"):
    # The page_ids open in this browser now: the detector notices silence (a tab
    # closed or crashed mid-answer) from pages that stop appearing here.
    pages: list[PageId] | None = None
    t: Millis | None = None


# ---- server -> client -------------------------------------------------------


class Welcome(Frame, tag="welcome"):
    protocol: int
    client_id: ClientId
    last_seq: Annotated[int, Meta(ge=0)]  # highest seq the vault holds for this client
    server: str  # service version
    max_frame_bytes: int = MAX_FRAME_BYTES


class Ack(Frame, tag="ack"):
    seq: Seq


class Pong(Frame, tag="pong"):
    t: Millis | None = None


class Failure(Frame, tag="failure"):
    id: str  # failure id (GET /api/failures)
    conversation: str  # vault conversation id (GET /api/conversations/{id})
    kind: FailureKind
    detected_at: str  # ISO 8601, UTC
    site: Site
    title: str | None = None
    detail: str | None = None
    page_id: str | None = None
    provider_outage: bool = False  # the provider's status page confirms an outage


# How DraftVault saw a site back after failures: an answer completed on it (any page of
# the site), or the provider's status page turned operational (when the check is on).
RecoveryVia = Literal["answer", "status_page"]


class Recovered(Frame, tag="recovered"):
    """The site works again: the extension offers to send the lost prompts of these
    failures again (never sending by itself). Also `FailureOut.recovered_at`."""

    site: Site
    recovered_at: str  # ISO 8601, UTC
    via: RecoveryVia
    failures: list[str]  # ids of the site's unresolved failures detected before it


ErrorCode = Literal[
    "bad_json",  # not a JSON text frame
    "bad_frame",  # JSON, but not the shape of its type
    "unknown_type",  # `type` missing or not a frame type
    "bad_protocol",  # hello with a protocol version this server does not speak
    "too_large",  # over MAX_FRAME_BYTES
    "too_deep",  # JSON nested past the decoder's depth limit
    "not_hello",  # first frame was not hello, or hello sent twice
    "unauthorized",  # missing, wrong or revoked token, or origin not allowed
    "need_full",  # snapshot delta starts past what the vault holds (see `have`)
    "unavailable",  # the vault could not store the frame (disk full, ...); resend later
]


class Error(Frame, tag="error"):
    code: ErrorCode
    message: str
    seq: int | None = None  # the offending frame's seq, when it had one
    have: int | None = None  # need_full: how many turns the vault holds
    protocols: list[int] | None = None  # bad_protocol: the versions this server accepts


ClientFrame = Union[Hello, Snapshot, Signal, Attachment, Ping]
ServerFrame = Union[Welcome, Ack, Pong, Failure, Recovered, Error]
IngestFrame = Union[Snapshot, Signal, Attachment]

_client_decoder = msgspec.json.Decoder(ClientFrame)
_server_decoder = msgspec.json.Decoder(ServerFrame)
_encoder = msgspec.json.Encoder()

_TYPES = {"hello", "snapshot", "signal", "attachment", "ping"}


class _Peek(Struct):
    type: str | None = None
    seq: int | None = None


class ProtocolError(Exception):
    """A frame was refused; `frame()` is the error frame to send back."""

    def __init__(self, code: ErrorCode, message: str, seq: int | None = None, protocols: list[int] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.seq = seq
        self.protocols = protocols

    def frame(self) -> Error:
        return Error(code=self.code, message=self.message, seq=self.seq, protocols=self.protocols)


def decode_client_frame(raw: str | bytes) -> ClientFrame:
    """Decode one client frame strictly, or raise ProtocolError naming the problem.

    Any input at all ends in a frame or a ProtocolError: bytes that are not UTF-8,
    lone surrogates and nesting past msgspec's depth limit are errors like any other."""
    if isinstance(raw, str):
        try:
            raw = raw.encode()
        except UnicodeEncodeError as exc:
            raise ProtocolError("bad_json", f"not valid text: {exc}") from None
    if len(raw) > MAX_FRAME_BYTES:
        raise ProtocolError(
            "too_large", f"frame is {len(raw)} bytes; the limit is {MAX_FRAME_BYTES}"
        )
    try:
        peek = msgspec.json.decode(raw, type=_Peek)
        seq = peek.seq if isinstance(peek.seq, int) else None
        if peek.type not in _TYPES:
            raise ProtocolError(
                "unknown_type",
                f"unknown frame type {peek.type!r}; expected one of {sorted(_TYPES)}",
                seq,
            )
        try:
            frame = _client_decoder.decode(raw)
        except msgspec.ValidationError as exc:
            raise ProtocolError("bad_frame", f"{peek.type} frame: {exc}", seq) from None
        if isinstance(frame, Snapshot):
            _check_positions(frame)
        elif isinstance(frame, Attachment):
            _check_parts(frame)
        return frame
    except msgspec.DecodeError as exc:  # also invalid UTF-8 inside a string the peek skipped
        raise ProtocolError("bad_json", f"not a JSON object: {exc}") from None
    except RecursionError:
        raise ProtocolError("too_deep", "the JSON nests too deeply to decode") from None


def _check_positions(frame: Snapshot) -> None:
    """A turn's `index` is its place: turns_from, turns_from + 1, ... in order (a turn that
    leaves it out gets it). A frame that says otherwise would store a turn where the page
    did not show it."""
    for i, turn in enumerate(frame.turns):
        if turn.index is None:
            turn.index = frame.turns_from + i
        elif turn.index != frame.turns_from + i:
            raise ProtocolError(
                "bad_frame",
                f"snapshot frame: turns[{i}].index is {turn.index}; it must be turns_from + {i} = {frame.turns_from + i}",
                frame.seq,
            )


def _check_parts(frame: Attachment) -> None:
    """A part within its upload, with bytes exactly when there are parts, adding up to at most `size`."""
    problem = None
    if frame.parts == 0:
        if frame.data is not None or frame.part != 0:
            problem = "an attachment recorded without bytes (parts 0) has no data and part 0"
    elif frame.data is None:
        problem = f"part {frame.part} of {frame.parts} has no data"
    elif frame.part >= frame.parts:
        problem = f"part {frame.part} is past the last part ({frame.parts - 1})"
    elif frame.size > MAX_ATTACHMENT_BYTES:
        problem = f"size {frame.size} is over the limit of {MAX_ATTACHMENT_BYTES} bytes"
    elif frame.parts != max(1, -(-frame.size // ATTACHMENT_PART_BYTES)):
        problem = f"{frame.size} bytes come in {max(1, -(-frame.size // ATTACHMENT_PART_BYTES))} parts, not {frame.parts}"
    elif len(frame.data) != min(ATTACHMENT_PART_BYTES, frame.size - frame.part * ATTACHMENT_PART_BYTES):
        problem = f"part {frame.part} holds {len(frame.data)} bytes; parts hold {ATTACHMENT_PART_BYTES} bytes, the last the rest"
    if problem:
        raise ProtocolError("bad_frame", f"attachment frame: {problem}", frame.seq)


def decode_server_frame(raw: str | bytes) -> ServerFrame:
    return _server_decoder.decode(raw)


def encode(frame: Frame) -> bytes:
    return _encoder.encode(frame)
