"""Errors as HTTP answers: always JSON {status_code, detail, extra?} (models.ErrorBody), and a 500 only with a log line.

Input that the decoders refuse in ways litestar does not map to 400 (JSON nested past
msgspec's depth limit) is the client's error: 400 with a message (a NUL in a path is
refused before routing: security.guard_middleware).
Anything else unexpected is logged with its traceback (logs.OncePerInterval keeps that
from flooding) and answered 500 without details.
"""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

log = logging.getLogger("draftvault.http")


def _json(status: int, detail: str, extra=None) -> Response:
    body = {"status_code": status, "detail": detail, **({"extra": extra} if extra else {})}
    return Response(body, status_code=status, media_type="application/json")


def http_error(_: Request, exc: HTTPException) -> Response:
    """litestar's own answer, but JSON even on routes that answer Markdown or a zip."""
    response = _json(exc.status_code, exc.detail, exc.extra)
    response.headers.update(exc.headers or {})
    return response


def too_deep(_: Request, __: RecursionError) -> Response:
    return _json(400, "the JSON body nests too deeply")


def unexpected(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed", request.method, request.scope.get("path"), exc_info=exc)
    return _json(500, "internal error; the service log has the details")


HANDLERS = {HTTPException: http_error, RecursionError: too_deep, HTTP_500_INTERNAL_SERVER_ERROR: unexpected}
