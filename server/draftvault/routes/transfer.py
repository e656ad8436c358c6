"""POST /api/export (a .zip of many conversations) and POST /api/import (a ChatGPT export)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from litestar import Request, Response, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.params import Body

from .. import export, models, times
from ..importers.chatgpt import ImportFailed, import_chatgpt_export
from .base import errors, vault_of

# An id list of a whole vault (tens of thousands of ids) fits.
EXPORT_MAX_BODY = 4 * 1024 * 1024
# Large ChatGPT exports.
IMPORT_MAX_BODY = 1024 * 1024 * 1024


@post(
    "/export", status_code=200, sync_to_thread=True, media_type="application/zip",
    request_max_body_size=EXPORT_MAX_BODY, responses=errors(401, 413),
)
def export_zip(request: Request, data: models.ExportRequest) -> Response[bytes]:
    # A spooled temp file: small exports stay in memory; nothing plaintext lingers on disk.
    with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as tmp:
        export.export_zip(vault_of(request), data.ids, data.format, tmp)
        tmp.seek(0)
        body = tmp.read()
    return Response(
        body, media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="draftvault-{times.file_stamp()}.zip"'},
    )


@post(
    "/import", status_code=200, sync_to_thread=True, request_max_body_size=IMPORT_MAX_BODY, responses=errors(401, 413),
)
def import_export(
    request: Request, data: dict[str, UploadFile] = Body(media_type=RequestEncodingType.MULTI_PART)
) -> models.ImportResult:
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        raise HTTPException(status_code=400, detail="send the export as multipart field `file`")
    # Named like the upload (the importer tells .zip from .json by content, errors name the file).
    name = Path(upload.filename or "").name or "upload.zip"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        with open(path, "wb") as f:
            while chunk := upload.file.read(1024 * 1024):
                f.write(chunk)
        try:
            return import_chatgpt_export(vault_of(request), path)
        except ImportFailed as e:
            raise HTTPException(status_code=400, detail=str(e).replace(f"{tmp}/", "")) from None


HANDLERS = [export_zip, import_export]
