"""Failed sessions: page signals and silence become failures; later answers resolve them.

One small state machine per page (`page_id`: one tab and page load), fed by the
frames ingest has durably applied (`observe`), by pings (`ping`: the pages still
open in a browser), by disconnects and by time (`tick`, every few seconds).

A page's state (`Page.state`):

    idle           nothing at stake: no answer streaming, no unsent draft
    streaming      an answer is being written
    draft_pending  the composer holds unsent text
    failed         the answer in progress failed; its end is not a completion

    from                input                                   to / effect
    any                 snapshot streaming (was not)            streaming (a new answer: clears failed)
    streaming           snapshot not streaming, answer last     idle; resolves the conversation's failures
    streaming           signal user_stopped                     idle; no failure, and the stream's end
                                                                signals (stream_incomplete, stalled) are ignored
    any                 signal mapped by SIGNAL_FAILURES        failed; records that failure
    streaming, draft    signal offline                          failed (offline)
    streaming           no new text for stall_after_s           failed (stalled)
    failed (stalled)    snapshot streaming with new text        streaming (the answer moves again)
    streaming, draft    page_closed, or gone from pings or its  gone; records tab_closed
                        client disconnected for silence_after_s
    idle, failed        page_closed / gone                      gone; nothing (a finished chat closed)

Any answer that completes on a site (either way above) also tells `recovery`
(recovery.py) that the site works again: the other chats' failures there get a
`recovered_at` and a `recovered` frame goes out ("Send again").

A conversation's failures also resolve ("completed") when a page of it shows an
answer finished beyond where it failed: more turns (an answer so quick that no
snapshot saw it streaming), or, on another page (a reloaded tab), a longer last
answer. A longer last answer on the failing page itself does not count: its last
snapshots race with its error signals.
The user resolves failures through the API (resumed / dismissed).

Failures attach to the vault conversation ingest reports (`Applied.conversation`):
a new chat's page conversation until the site gives it an id. One open failure
per conversation and kind; the vault keeps the turns and draft, so the failure
records only kind, when and detail. A signal from a blank new chat (no turns, no
draft, no site id) records nothing: there is nothing to lose or resume.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from . import protocol
from .capture_health import CaptureHealth
from .vocabulary import CAPACITY_PHRASES, RATE_LIMIT_PHRASES
from .recovery import Recovery
from .protocol import FailureKind, SignalKind
from .store import DetectorVault

# ---- the one mapping: page signal -> failure kind ---------------------------

# None: not a failure by itself (see the state table above for page_closed and
# user_stopped). error_message and http_error are refined by _refine below.
SIGNAL_FAILURES: dict[SignalKind, FailureKind | None] = {
    "error_message": "error_message",  # text naming limits -> rate_limited, capacity -> capacity
    "http_error": "http_error",  # 429 -> rate_limited; 5xx (and other statuses) -> http_error
    "stream_incomplete": "stream_incomplete",
    "stalled": "stalled",
    "turns_vanished": "turns_vanished",
    "blank_page": "blank_page",
    "offline": "offline",  # only mid-answer or with an unsent draft (AT_RISK_ONLY)
    "logged_out": "logged_out",
    "online": None,  # back online: the answer, if any, completes or fails on its own
    "adapter_broken": None,  # capture_health.py: the popup and history page show it
    "user_stopped": None,  # stop pressed on purpose: never a failure
    "page_closed": None,  # silence: tab_closed when something was at stake
}
AT_RISK_ONLY: frozenset[SignalKind] = frozenset({"offline"})
# What an aborted stream reports after the user pressed stop: not failures.
AFTER_STOP: frozenset[SignalKind] = frozenset({"stream_incomplete", "stalled"})


def _refine(kind: FailureKind, signal: protocol.Signal) -> FailureKind:
    if signal.kind == "error_message":
        text = (signal.detail or "").lower()
        if any(words in text for words in RATE_LIMIT_PHRASES):
            return "rate_limited"
        if any(words in text for words in CAPACITY_PHRASES):
            return "capacity"
    if signal.kind == "http_error" and signal.status == 429:
        return "rate_limited"
    return kind


def failure_kind(signal: protocol.Signal) -> FailureKind | None:
    """What a page signal means, by the table above (None: not a failure by itself)."""
    kind = SIGNAL_FAILURES[signal.kind]
    return None if kind is None else _refine(kind, signal)


def _detail(signal: protocol.Signal) -> str | None:
    if signal.kind == "http_error" and signal.status is not None:
        return f"HTTP {signal.status}" + (f": {signal.detail}" if signal.detail else "")
    return signal.detail


# ---- per-page state ---------------------------------------------------------


@dataclass
class Page:
    client_id: str
    site: protocol.Site
    conversation: str | None  # vault conversation id
    title: str | None = None
    has_site_id: bool = False  # the site gave the conversation an id
    streaming: bool = False
    draft: bool = False  # the composer holds unsent, non-blank text
    failure: FailureKind | None = None  # what went wrong with the answer in progress
    stopped: bool = False  # the user pressed stop on the answer in progress
    turns: int = 0
    last_role: str | None = None  # role of the last turn, when known
    last_len: int = 0  # length of the last turn's text
    progress_at: float = 0.0  # when the streaming answer last changed
    missing_since: float | None = None  # absent from its client's pings since

    @property
    def state(self) -> str:
        if self.failure is not None:
            return "failed"
        if self.streaming:
            return "streaming"
        if self.draft:
            return "draft_pending"
        return "idle"

    @property
    def at_risk(self) -> bool:
        return self.state in ("streaming", "draft_pending")

    def answered(self) -> bool:
        return self.last_role == "assistant" and self.last_len > 0


class Detector:
    def __init__(
        self,
        vault: DetectorVault,
        *,
        stall_after_s: float = 120.0,  # generous: reasoning models think for a while
        silence_after_s: float = 45.0,  # > the extension's 20 s ping interval, twice over
        clock: Callable[[], float] = time.monotonic,
        outage: Callable[[protocol.Site], bool] = lambda site: False,
    ):
        self.vault = vault
        self.stall_after_s = stall_after_s
        self.silence_after_s = silence_after_s
        self.clock = clock
        self.outage = outage
        self._pages: dict[str, Page] = {}
        self._gone: dict[str, float] = {}  # client_id -> disconnected at
        # conversation -> (failing page, turns, last answer length) when it failed:
        # another page's snapshot past this point means the answer did finish.
        self._marks: dict[str, tuple[str, int, int]] = {}
        self._lock = threading.RLock()  # ingest sessions and the tick task may share it
        self.health = CaptureHealth()  # sites the extension no longer reads well
        self.recovery = Recovery(vault)  # sites back after failures ("Send again")

    # ---- inputs ----

    def observe(self, client_id: str, frame: protocol.Snapshot | protocol.Signal, applied) -> list[protocol.ServerFrame]:
        """The frames to push: failures, or a site's recovery."""
        if applied.outcome == "duplicate":  # a resent frame: already observed
            return []
        self.health.observe(frame)
        with self._lock:
            self._gone.pop(client_id, None)
            page = self._page(client_id, frame, applied.conversation)
            page.missing_since = None
            if isinstance(frame, protocol.Snapshot):
                return self._snapshot(frame.page_id, page, frame)
            return self._signal(frame.page_id, page, frame)

    def ping(self, client_id: str, pages: list[str] | None) -> list[protocol.Failure]:
        with self._lock:
            self._gone.pop(client_id, None)
            if pages is not None:
                open_now = set(pages)
                now = self.clock()
                for page_id, page in self._pages.items():
                    if page.client_id != client_id:
                        continue
                    if page_id in open_now:
                        page.missing_since = None
                    elif page.missing_since is None:
                        page.missing_since = now
            return self._check()

    def disconnected(self, client_id: str) -> None:
        with self._lock:
            self._gone.setdefault(client_id, self.clock())

    def tick(self) -> list[protocol.Failure]:
        with self._lock:
            return self._check()

    def state(self, page_id: str) -> str | None:
        """The page's state name, None once it is gone (or never seen)."""
        with self._lock:
            page = self._pages.get(page_id)
            return page.state if page else None

    # ---- transitions ----

    def _page(self, client_id: str, frame, conversation: str | None) -> Page:
        page = self._pages.get(frame.page_id)
        if page is None:
            page = self._pages[frame.page_id] = Page(client_id, frame.site, conversation)
        page.client_id = client_id
        page.has_site_id = page.has_site_id or frame.conversation_id is not None
        if conversation is not None and conversation != page.conversation:
            # a new chat's page conversation became the site's conversation
            if page.conversation in self._marks:
                self._marks.setdefault(conversation, self._marks.pop(page.conversation))
            page.conversation = conversation
        return page

    def _snapshot(self, page_id: str, page: Page, snap: protocol.Snapshot) -> list[protocol.ServerFrame]:
        now = self.clock()
        before = (page.turns, page.last_role, page.last_len)
        was_streaming = page.streaming
        if snap.title is not None:
            page.title = snap.title
        if snap.turns and snap.turns[-1].index == snap.turn_count - 1:
            page.last_role, page.last_len = snap.turns[-1].role, len(snap.turns[-1].text)
        elif snap.turn_count != page.turns:
            page.last_role, page.last_len = None, 0  # the last turn is not in this delta
        page.turns = snap.turn_count
        if snap.draft is not None:
            page.draft = bool(snap.draft.strip())
        if snap.streaming and not was_streaming:  # a new answer starts
            page.failure, page.stopped = None, False
            page.progress_at = now
        elif snap.streaming and (page.turns, page.last_role, page.last_len) != before:
            page.progress_at = now
            if page.failure == "stalled":  # the stalled answer moves again
                page.failure = None
        page.streaming = snap.streaming
        if not snap.streaming and page.answered():
            if (was_streaming and page.failure is None) or self._past_mark(page_id, page):
                self._completed(page.conversation)
                recovered = self.recovery.site_back(page.site, "answer")
                return [recovered] if recovered else []
        return []

    def _past_mark(self, page_id: str, page: Page) -> bool:
        mark = self._marks.get(page.conversation)
        if mark is None:
            return False
        failed_page, turns, last_len = mark
        if failed_page == page_id:  # only a whole new answer counts here (see the module doc)
            return page.turns > turns
        return (page.turns, page.last_len) > (turns, last_len)

    def _completed(self, conversation: str | None) -> None:
        if conversation is None:
            return
        self._marks.pop(conversation, None)
        self.vault.resolve_failures(conversation, "completed")

    def _signal(self, page_id: str, page: Page, signal: protocol.Signal) -> list[protocol.Failure]:
        if signal.kind == "user_stopped":
            page.streaming, page.stopped = False, True
            return []
        if signal.kind == "page_closed":
            del self._pages[page_id]
            return self._closed(page_id, page, "the tab closed")
        kind = failure_kind(signal)
        if kind is None:
            return []
        if signal.kind in AFTER_STOP and page.stopped:
            return []
        if signal.kind in AT_RISK_ONLY and not page.at_risk:
            return []
        if not (page.turns or page.draft or page.has_site_id):
            return []  # a blank new chat: nothing to lose, nothing to resume
        return self._fail(page_id, page, kind, _detail(signal))

    def _closed(self, page_id: str, page: Page, how: str) -> list[protocol.Failure]:
        if page.state == "streaming":
            return self._fail(page_id, page, "tab_closed", f"{how} while an answer was streaming")
        if page.state == "draft_pending":
            return self._fail(page_id, page, "tab_closed", f"{how} with an unsent draft")
        return []

    def _check(self) -> list[protocol.Failure]:
        """Silence and stalls, as of now."""
        now = self.clock()
        out: list[protocol.Failure] = []
        for page_id, page in list(self._pages.items()):
            gone_at = self._gone.get(page.client_id)
            if gone_at is not None and now - gone_at >= self.silence_after_s:
                del self._pages[page_id]
                out += self._closed(page_id, page, "the browser went away")
            elif page.missing_since is not None and now - page.missing_since >= self.silence_after_s:
                del self._pages[page_id]
                out += self._closed(page_id, page, "the tab closed")
            elif (
                page.state == "streaming"
                and gone_at is None
                and page.missing_since is None  # a page we cannot hear from has no news, not a stall
                and now - page.progress_at >= self.stall_after_s
            ):
                out += self._fail(page_id, page, "stalled", f"no new text for {self.stall_after_s:g} s")
        clients = {page.client_id for page in self._pages.values()}
        for client_id in [c for c in self._gone if c not in clients]:
            del self._gone[client_id]
        return out

    def _fail(self, page_id: str, page: Page, kind: FailureKind, detail: str | None) -> list[protocol.Failure]:
        page.failure = kind
        conversation = page.conversation
        if conversation is None:
            return []
        self._marks.setdefault(conversation, (page_id, page.turns, page.last_len))
        if any(f.kind == kind for f in self.vault.list_failures(resolved=False, conversation=conversation)):
            return []
        try:
            rec = self.vault.record_failure(
                conversation, kind, detail=detail, page_id=page_id, provider_outage=self.outage(page.site)
            )
        except KeyError:  # the user deleted the conversation while its page was open
            return []
        self.recovery.failed(page.site)
        return [
            protocol.Failure(
                id=rec.id,
                conversation=rec.conversation,
                kind=rec.kind,
                detected_at=rec.detected_at,
                site=page.site,
                title=page.title,
                detail=rec.detail,
                page_id=page_id,
                provider_outage=rec.provider_outage,
            )
        ]
