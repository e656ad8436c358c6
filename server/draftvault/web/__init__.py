"""The history page: `/` (index.html) and `/static/*` (its script and style).

The page itself holds no data; it reads the JSON API with the session cookie that
`/login?t=` sets. Captured conversations are untrusted HTML, so the page builds its
DOM with textContent only, and this strict Content-Security-Policy (no inline script
or style, nothing from other origins, no framing) is the second line of defence.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Response, Router, get
from litestar.datastructures import ResponseHeader
from litestar.static_files import create_static_files_router

STATIC = Path(__file__).parent / "static"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@get("/", include_in_schema=False, sync_to_thread=False)
def index() -> Response[bytes]:
    return Response((STATIC / "index.html").read_bytes(), media_type="text/html")


router = Router(
    path="/",
    route_handlers=[index, create_static_files_router(path="/static", directories=[STATIC])],
    response_headers=[ResponseHeader(name=k, value=v) for k, v in HEADERS.items()],
)
