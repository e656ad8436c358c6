"""GET /api/health: the service answers (no token; tells nothing else)."""

from __future__ import annotations

from litestar import get

from .. import models


@get("/health", sync_to_thread=False)
def health() -> models.Health:
    return models.Health()
