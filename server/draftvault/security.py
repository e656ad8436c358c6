"""Which requests may reach the service at all (Host and Origin), and the headers of every response.

Both checks run in an ASGI middleware wrapped around the whole app (app.guarded: every
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

The same middleware puts HEADERS on every HTTP response, static files, errors and
refusals included: the history page shows captured (untrusted) text, so a strict
Content-Security-Policy, no framing, no MIME sniffing and no Referer everywhere; API
answers are never cached (`no-store`), page files are revalidated (`no-cache`).
"""

from __future__ import annotations

from typing import Callable, Iterable

from litestar.types import ASGIApp, Receive, Scope, Send

from .auth import EXTENSION_SCHEMES

DEV_EXTENSION_ORIGIN = "chrome-extension://chplhlmlobckblhjmicoamkpblapcgpg"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
PAIR_PATH = "/api/pair"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


def _cache_control(path: str) -> bytes:
    page = path == "/" or path.startswith("/static/")
    return b"no-cache" if page else b"no-store"


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
    """ASGI middleware factory: refuses foreign Hosts and Origins with 403, adds HEADERS."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] in ("http", "websocket"):
                problem = None
                if not host_ok(_header(scope, b"host"), port):
                    problem = 403, b"forbidden: the Host header must be a loopback address with this service's port"
                elif not policy.allowed(_header(scope, b"origin"), scope.get("method", "GET"), scope["path"]):
                    problem = 403, b"forbidden: this Origin may not use the DraftVault service"
                elif "\x00" in scope["path"]:  # no file or route has one; the file system would raise
                    problem = 400, b"bad request: the path contains a NUL character"
                if problem is not None:
                    await _refuse(scope, send, *problem)
                    return
            if scope["type"] == "http":
                send = _with_headers(send, _cache_control(scope["path"]))
            await app(scope, receive, send)

        return guarded

    return middleware


def _with_headers(send: Send, cache_control: bytes) -> Send:
    async def sending(message) -> None:
        if message["type"] == "http.response.start":
            present = {name.lower() for name, _ in message.get("headers", ())}
            added = [(k, v) for k, v in [*HEADERS, (b"cache-control", cache_control)] if k not in present]
            message = {**message, "headers": [*message.get("headers", ()), *added]}
        await send(message)

    return sending


async def _refuse(scope: Scope, send: Send, status: int, message: bytes) -> None:
    if scope["type"] == "websocket":
        # Closing before accept makes the server answer the handshake with 403.
        await send({"type": "websocket.close", "code": 1008})
        return
    body = b'{"status_code":%d,"detail":"%s"}' % (status, message)
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    *HEADERS, (b"cache-control", b"no-store")],
    })
    await send({"type": "http.response.body", "body": body})
