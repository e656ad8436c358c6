"""The history page: `/` (index.html) and `/static/*` (its script and style).

The page itself holds no data; it reads the JSON API with the session cookie that
`/login?t=` sets. Captured conversations are untrusted HTML, so the page builds its
DOM with textContent only, and a strict Content-Security-Policy (no inline script
or style, nothing from other origins, no framing; security.HEADERS, on every response)
is the second line of defence.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Response, Router, get
from litestar.static_files import create_static_files_router

STATIC = Path(__file__).parent / "static"


@get("/", include_in_schema=False, sync_to_thread=False)
def index() -> Response[bytes]:
    return Response((STATIC / "index.html").read_bytes(), media_type="text/html")


router = Router(
    path="/",
    route_handlers=[index, create_static_files_router(path="/static", directories=[STATIC])],
)
