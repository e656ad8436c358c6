"""GET /api/search: conversations and drafts matching words (the sealed index)."""

from __future__ import annotations

from litestar import Request, get
from litestar.params import FromQuery

from .. import models, protocol
from .base import errors, vault_of


@get("/search", sync_to_thread=True, responses=errors(401))
def search(
    request: Request,
    q: FromQuery[str],
    site: FromQuery[protocol.Site | None] = None,
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
    status: FromQuery[models.ConversationStatus | None] = None,
    limit: FromQuery[int] = 20,
) -> models.SearchResults:
    """`partial`: the index could not take everything acked yet (a full disk); it catches up."""
    return vault_of(request).search_results(
        q, site=site, since=since, until=until, status=status, limit=max(1, min(limit, 200))
    )
