"""Getting in: pairing the extension, sign-in links for the history page and redeeming them."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromQuery, JSONBody
from litestar.response import Redirect

from .. import auth, models
from .base import errors


@post("/pair", status_code=200, sync_to_thread=True, responses=errors(403, 413))
def pair(request: Request, data: JSONBody[models.PairRequest]) -> models.PairResponse:
    name = data.name or "extension"
    try:
        token = auth.redeem_pair_code(request.app.state.auth_db, data.code, request.headers.get("origin"), name)
    except auth.AuthError as e:
        raise PermissionDeniedException(str(e)) from None
    return models.PairResponse(token=token, name=name)


@post("/login-link", status_code=200, sync_to_thread=True, responses=errors(401))
def login_link(request: Request) -> models.LoginLink:
    return models.LoginLink(url=auth.login_link(request.app.state.auth_db, request.app.state.port))


@get("/login", sync_to_thread=True, include_in_schema=False)
def login(request: Request, t: FromQuery[str] = "") -> Response:
    try:
        session = auth.redeem_login_nonce(request.app.state.auth_db, t)
    except auth.AuthError as e:
        return Response(f"{e}\n", status_code=403, media_type="text/plain")
    cookie = Cookie(
        key=auth.SESSION_COOKIE, value=session, httponly=True, samesite="strict", path="/",
        max_age=auth.SESSION_TTL_S,
    )
    return Redirect("/", cookies=[cookie], status_code=303)
