"""What every route shares: the auth guard, the vault of the app, 404s, body limits."""

from __future__ import annotations

from typing import TypeVar

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec

from .. import auth, models
from ..store import AppVault

# Every request body unless its route sets another limit: pairing, sign-in and resolve
# bodies are a few dozen bytes, and a larger body is refused (413) before it is read.
MAX_BODY = 16 * 1024

T = TypeVar("T")

_WHY = {
    401: "no valid token (Authorization: Bearer) or sign-in session",
    403: "refused: a wrong, expired or used-up pairing code",
    404: "no such conversation, failure or attachment",
    410: "the file failed its integrity check (tampered or damaged)",
    413: "the request body is larger than this route takes",
    415: "the body is not of a type this route takes",
    507: "the vault's disk is full or failing: nothing was stored",
}


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """The error answers a route documents in the OpenAPI document besides litestar's 400."""
    return {code: ResponseSpec(data_container=models.ErrorBody, description=_WHY[code]) for code in codes}


def require_auth(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    db = connection.app.state.auth_db
    header = connection.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        token = auth.check_token(db, header[7:].strip(), connection.headers.get("origin"))
        if token is not None:
            # The one place read-only tokens are held to reading: any method that may write is refused.
            if token.read_only and connection.scope["method"] not in ("GET", "HEAD", "OPTIONS"):
                raise PermissionDeniedException("this token is read-only")
            return
    elif auth.check_session(db, connection.cookies.get(auth.SESSION_COOKIE)):
        return
    raise NotAuthorizedException("a valid token (Authorization: Bearer) or a sign-in session is needed")


def vault_of(request: Request) -> AppVault:
    return request.app.state.vault


def found(value: T | None, what: str = "conversation") -> T:
    if value is None:
        raise NotFoundException(f"no such {what}")
    return value
