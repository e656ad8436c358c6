"""POST /api/export (a .zip of many conversations) and POST /api/import (a ChatGPT or Claude
export, or Gemini's Takeout activity: the file itself as the body)."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import anyio
from litestar import Request, Response, post
from litestar.exceptions import HTTPException
from litestar.params import FromQuery, JSONBody

from .. import export, importers, models, times
from ..importers import ImportFailed
from ..store import Unavailable
from .base import errors, vault_of

log = logging.getLogger("draftvault.http")

# An id list of a whole vault (tens of thousands of ids) fits.
EXPORT_MAX_BODY = 4 * 1024 * 1024
# An upload is streamed to a file in the vault's directory, up to this.
IMPORT_MAX_BODY = 4 << 30


@post(
    "/export", status_code=200, sync_to_thread=True, media_type="application/zip",
    request_max_body_size=EXPORT_MAX_BODY, responses=errors(401, 413),
)
def export_zip(request: Request, data: JSONBody[models.ExportRequest]) -> Response[bytes]:
    # A spooled temp file: small exports stay in memory; nothing plaintext lingers on disk.
    with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as tmp:
        export.export_zip(vault_of(request), data.ids, data.format, tmp)
        tmp.seek(0)
        body = tmp.read()
    return Response(
        body, media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="draftvault-{times.file_stamp()}.zip"'},
    )


@post("/import", status_code=200, request_max_body_size=IMPORT_MAX_BODY, responses=errors(401, 413, 415, 507))
async def import_export(
    request: Request, kind: FromQuery[models.ImportKind | None] = None, name: FromQuery[str] = "upload"
) -> models.ImportResult:
    """The export file itself is the body (`kind` found from its content when not given);
    `name` is the file's name, used in error messages."""
    if request.headers.get("content-type", "").startswith("multipart/"):
        raise HTTPException(status_code=415, detail="send the export file itself as the request body, not a form")
    # In the vault's directory, not /tmp: that may be memory (tmpfs), and an export is plaintext.
    # serve() removes what a service stopped mid-import left.
    fd, tmp = tempfile.mkstemp(dir=request.app.state.home, prefix=".import-")
    path = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as f:
            async for chunk in request.stream():
                f.write(chunk)
        shown = Path(name).name or "upload"
        return await anyio.to_thread.run_sync(importers.import_file, vault_of(request), path, kind, shown)
    except ImportFailed as e:
        raise HTTPException(status_code=400, detail=str(e)) from None
    except (OSError, Unavailable) as e:  # the vault's disk is full, or failing
        log.warning("import not stored: %s", e)
        raise HTTPException(status_code=507, detail=f"the import could not be stored: {e}; nothing was imported") from None
    finally:
        path.unlink(missing_ok=True)


HANDLERS = [export_zip, import_export]
