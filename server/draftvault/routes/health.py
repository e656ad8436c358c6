"""GET /api/health: the service answers (no token; tells nothing else). GET
/api/capture-health: sites whose pages the extension no longer reads (needs auth)."""

from __future__ import annotations

from litestar import Request, get

from .. import models
from .base import errors


@get("/health", sync_to_thread=False)
def health() -> models.Health:
    return models.Health()


@get("/capture-health", sync_to_thread=False, responses=errors(401))
def capture_health(request: Request) -> models.CaptureHealthOut:
    """Sites whose pages the extension no longer reads (capture degraded since ...)."""
    return request.app.state.detector.health.report()
