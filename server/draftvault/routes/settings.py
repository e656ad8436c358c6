"""/api/settings: the options page's switches (today the provider status-page check)."""

from __future__ import annotations

from litestar import Request, get, put
from litestar.params import JSONBody

from .. import models
from .base import errors


@get("/settings/status-check", sync_to_thread=True, responses=errors(401))
def get_status_check(request: Request) -> models.StatusCheckOut:
    return request.app.state.status_check.state()


@put("/settings/status-check", sync_to_thread=True, responses=errors(401, 403, 413))
def put_status_check(request: Request, data: JSONBody[models.StatusCheckIn]) -> models.StatusCheckOut:
    """The options page's switch: the provider status-page check on or off."""
    return request.app.state.status_check.switch(data.enabled)


HANDLERS = [get_status_check, put_status_check]
