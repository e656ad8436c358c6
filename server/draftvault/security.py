"""Which requests may reach the service at all: the Host and Origin checks.

Both run in an ASGI middleware wrapped around the whole app (app.guarded: every
path, HTTP and the WebSocket handshake), so a refused request gets 403 before any
handler or router runs:

- Host must name the loopback interface (127.0.0.1, localhost, [::1]) with the
  service's port. A DNS-rebinding page reaches us under its own host name, so this
  refuses it even though the browser thinks it is same-origin.
- A request carrying an Origin must come from the service's own page, a paired
  extension (the Origins of live tokens), settings.allowed_origins, or the
  development build of the extension. POST /api/pair also accepts any extension
  Origin: that is how a fresh install gets its first token. Requests without an
  Origin (scripts, the CLI) pass here and still need a token.
"""

from __future__ import annotations

from typing import Callable, Iterable

from litestar.types import ASGIApp, Receive, Scope, Send

DEV_EXTENSION_ORIGIN = "chrome-extension://chplhlmlobckblhjmicoamkpblapcgpg"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
PAIR_PATH = "/api/pair"
# Chrome's and Firefox's extension origins (Firefox's carries a per-profile UUID).
EXTENSION_SCHEMES = ("chrome-extension://", "moz-extension://")


def own_origins(port: int) -> set[str]:
    return {f"http://{name}:{port}" for name in LOOPBACK_NAMES}


def host_ok(host: str | None, port: int) -> bool:
    """True when the Host header is a loopback name with our port."""
    if not host:
        return False
    host = host.lower()
    return any(host == f"{name}:{port}" or (port == 80 and host == name) for name in LOOPBACK_NAMES)


class OriginPolicy:
    """The Origin allow-list; `extra` is called per request (paired origins change)."""

    def __init__(self, port: int, extra: Callable[[], Iterable[str]]):
        self.fixed = own_origins(port) | {DEV_EXTENSION_ORIGIN}
        self.extra = extra

    def allowed(self, origin: str | None, method: str, path: str) -> bool:
        if origin is None:
            return True
        if origin in self.fixed:
            return True
        if method == "POST" and path == PAIR_PATH and origin.startswith(EXTENSION_SCHEMES):
            return True
        return origin in set(self.extra())


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def guard_middleware(port: int, policy: OriginPolicy) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware factory: refuses foreign Hosts and Origins with 403."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] in ("http", "websocket"):
                problem = None
                if not host_ok(_header(scope, b"host"), port):
                    problem = b"forbidden: the Host header must be a loopback address with this service's port"
                else:
                    origin = _header(scope, b"origin")
                    method = scope.get("method", "GET")
                    if not policy.allowed(origin, method, scope["path"]):
                        problem = b"forbidden: this Origin may not use the DraftVault service"
                if problem is not None:
                    await _refuse(scope, send, problem)
                    return
            await app(scope, receive, send)

        return guarded

    return middleware


async def _refuse(scope: Scope, send: Send, message: bytes) -> None:
    if scope["type"] == "websocket":
        # Closing before accept makes the server answer the handshake with 403.
        await send({"type": "websocket.close", "code": 1008})
        return
    body = b'{"status_code":403,"detail":"' + message + b'"}'
    await send({
        "type": "http.response.start",
        "status": 403,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
