"""GET /api/attachments/{id}: the bytes of an image or file a conversation showed (store/attachments.py).

Captured files are untrusted. The answer's type is the stored one only when it is a type
a browser shows without running anything (else application/octet-stream); raster images
are `inline`, everything else a download; and the answer carries its own
Content-Security-Policy with `sandbox` and no sources, so an SVG opened on its own runs
no script and loads nothing (the global headers add nosniff). The history page shows
images with `<img src="/api/attachments/ID">` (its CSP allows img-src 'self'; the
session cookie authenticates them).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from litestar import Request, get
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.response import Stream

from ..crypto import Tampered
from .base import errors, found, vault_of

INLINE = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"}
SAFE = INLINE | {"image/svg+xml", "application/pdf", "text/plain", "text/csv", "text/markdown", "application/json",
                 "application/zip", "audio/mpeg", "audio/wav", "audio/ogg", "video/mp4", "video/webm"}
CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"


def served_type(stored: str) -> str:
    mime = stored.split(";")[0].strip().lower()
    return mime if mime in SAFE else "application/octet-stream"


def disposition(mime: str, name: str) -> str:
    """inline for raster images, else attachment; the name as RFC 6266 says (an ASCII fallback and UTF-8)."""
    ascii_name = re.sub(r'[^A-Za-z0-9._ -]', "_", name)[:120] or "file"
    kind = "inline" if mime in INLINE else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name[:200], safe='')}"


@get("/attachments/{id:str}", sync_to_thread=True, responses=errors(401, 404, 410))
def attachment(request: Request, id: FromPath[str]) -> Stream:
    try:
        file, parts = found(vault_of(request).attachment(id), "attachment")
    except Tampered:
        raise HTTPException(status_code=410, detail="this file failed its integrity check; `draftvault verify` names it") from None
    mime = served_type(file.type)
    return Stream(parts, media_type=mime, headers={
        "Content-Length": str(file.size),
        "Content-Disposition": disposition(mime, file.name),
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
    })


HANDLERS = [attachment]
