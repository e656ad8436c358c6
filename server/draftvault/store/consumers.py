"""What each part of DraftVault uses of the store, as Protocols: a part is typed against
its own, so a change to the store shows which parts it reaches (and a test double, if
ever needed, implements only that much). `Vault` implements all of them."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol, Sequence, runtime_checkable

from .. import models, protocol
from .maintenance import VerifyReport


@runtime_checkable
class IngestVault(Protocol):
    """ingest.Session: frames in, acks out."""

    def last_seq(self, client_id: str) -> int: ...
    def apply(self, client_id: str, frame: protocol.Snapshot | protocol.Signal): ...
    def transaction(self) -> AbstractContextManager[None]: ...


@runtime_checkable
class DetectorVault(Protocol):
    """detector.Detector: failures recorded and resolved."""

    def record_failure(self, conversation: str, kind: str, *, detail=None, page_id=None,
                       provider_outage=False) -> models.FailureOut: ...
    def list_failures(self, *, resolved: bool | None = None,
                      conversation: str | None = None) -> list[models.FailureOut]: ...
    def resolve_failures(self, conversation: str, resolution: str) -> list[str]: ...


@runtime_checkable
class ExportVault(Protocol):
    """export: conversations read whole, listed a page at a time."""

    def get_conversation(self, id: str) -> models.ConversationDetail | None: ...
    def list_conversations(self, *, limit: int = 100, offset: int = 0) -> list[models.ConversationSummary]: ...


@runtime_checkable
class ImportVault(Protocol):
    """importers: whole conversations, in one transaction."""

    def transaction(self) -> AbstractContextManager[None]: ...
    def import_conversation(self, *, site: str, conversation_id: str, title: str | None, url: str | None,
                            model: str | None, created_at: str | None, updated_at: str | None,
                            turns: list[tuple[str, str]], branches: Sequence[list[tuple[str, str]]] = ()
                            ) -> tuple[str, str]: ...


@runtime_checkable
class AppVault(IngestVault, DetectorVault, ExportVault, ImportVault, Protocol):
    """app (the HTTP API) and cli: the above, and reading, searching, deleting, checking."""

    def list_conversations(self, *, q=None, site=None, status=None, since=None, until=None, limit=100, offset=0,
                           page_id: str | None = None) -> list[models.ConversationSummary]: ...
    def search(self, q: str, *, site=None, since=None, until=None, status=None,
               limit: int = 20) -> list[models.SearchHit]: ...
    def search_results(self, q: str, *, site=None, since=None, until=None, status=None,
                       limit: int = 20) -> models.SearchResults: ...
    def delete_conversation(self, id: str) -> bool: ...
    def delete_branch(self, id: str, branch: str) -> bool: ...
    def resolve_failure(self, id: str, resolution: str) -> models.FailureOut | None: ...
    def verify(self) -> VerifyReport: ...
    def reindex(self) -> None: ...
    def stats(self) -> dict: ...
    def maintain_index(self) -> bool: ...
    def close(self) -> None: ...
