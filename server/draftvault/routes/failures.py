"""/api/failures: failed sessions, and resolving one (resumed or dismissed)."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from .. import models
from .base import errors, found, vault_of


@get("/failures", sync_to_thread=True, responses=errors(401))
def list_failures(
    request: Request, resolved: FromQuery[bool | None] = None, conversation: FromQuery[str | None] = None
) -> models.FailureList:
    items = vault_of(request).list_failures(resolved=resolved, conversation=conversation)
    return models.FailureList(items=request.app.state.detector.recovery.annotate(items))


@post("/failures/{id:str}/resolve", status_code=200, sync_to_thread=True, responses=errors(401, 404, 413))
def resolve_failure(request: Request, id: FromPath[str], data: JSONBody[models.ResolveRequest]) -> models.FailureOut:
    return found(vault_of(request).resolve_failure(id, data.resolution), "failure")


HANDLERS = [list_failures, resolve_failure]
