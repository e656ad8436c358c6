"""GET /api/search: conversations and drafts matching words (the sealed index)."""

from __future__ import annotations

from litestar import Request, get

from .. import models, protocol
from .base import errors, vault_of


@get("/search", sync_to_thread=True, responses=errors(401))
def search(
    request: Request,
    q: str,
    site: protocol.Site | None = None,
    since: str | None = None,
    until: str | None = None,
    status: models.ConversationStatus | None = None,
    limit: int = 20,
) -> models.SearchResults:
    """`partial`: the index could not take everything acked yet (a full disk); it catches up."""
    return vault_of(request).search_results(
        q, site=site, since=since, until=until, status=status, limit=max(1, min(limit, 200))
    )
