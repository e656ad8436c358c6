"""The HTTP and WebSocket service: a thin litestar layer over vault, ingest and auth.

Every route only translates between HTTP and a plain function. Requests pass
security.guard_middleware first (Host and Origin, 403 before any handler): it wraps
the whole ASGI app (`guarded`), so a foreign Host or Origin learns nothing, not even
which paths exist (litestar's own middleware runs only for matched routes). Then:
- no auth: GET /api/health, POST /api/pair (the pairing code is the credential),
  GET /login?t= (the one-time link is), the history page (/ and /static; it shows
  its own sign-in note), and /ws (the token travels in `hello`);
- everything else, the OpenAPI document at /schema included, needs
  `Authorization: Bearer TOKEN` or the page's `dv_session` cookie, else 401.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import tempfile
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import anyio
import msgspec
from litestar import Litestar, Request, Response, Router, WebSocket, delete, get, post, websocket
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.response import Redirect
from litestar.types import ASGIApp

from . import __version__, auth, config, export, importers, ingest, models, protocol, resume, security, statuspage, web
from .detector import Detector
from .importers import ImportFailed
from .vault import Unavailable, Vault

log = logging.getLogger("draftvault.app")

# Room above MAX_FRAME_BYTES so an oversized frame still reaches ingest and gets a
# `too_large` error; past this the WebSocket layer closes with 1009.
WS_MAX_SIZE = 4 * protocol.MAX_FRAME_BYTES
# Frames that arrived together are stored in one transaction (group commit), at most this many.
MAX_BATCH = 64


# ---- auth -----------------------------------------------------------------------------


def require_auth(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    db = connection.app.state.auth_db
    header = connection.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        if auth.check_token(db, header[7:].strip(), connection.headers.get("origin")) is not None:
            return
    elif auth.check_session(db, connection.cookies.get(auth.SESSION_COOKIE)):
        return
    raise NotAuthorizedException("a valid token (Authorization: Bearer) or a sign-in session is needed")


def _vault(request: Request) -> Vault:
    return request.app.state.vault


def _found(value):
    if value is None:
        raise NotFoundException("no such conversation")
    return value


# ---- /api ------------------------------------------------------------------------------


@get("/health", sync_to_thread=False)
def health() -> models.Health:
    return models.Health()


@get("/conversations", sync_to_thread=True)
def list_conversations(
    request: Request,
    page_id: str | None = None,
    q: str | None = None,
    site: protocol.Site | None = None,
    status: models.ConversationStatus | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> models.ConversationList:
    """`?page_id=` finds the conversation of one open tab (the extension's shortcut)."""
    vault = _vault(request)
    if page_id is not None:
        id = vault.conversation_for_page(page_id)
        detail = vault.get_conversation(id) if id else None
        fields = models.ConversationSummary.__struct_fields__
        return models.ConversationList(
            items=[models.ConversationSummary(**{f: getattr(detail, f) for f in fields})] if detail else []
        )
    items = vault.list_conversations(
        q=q, site=site, status=status, since=since, until=until, limit=max(1, min(limit, 1000)), offset=max(0, offset)
    )
    return models.ConversationList(items=items)


@get("/conversations/{id:str}", sync_to_thread=True)
def get_conversation(request: Request, id: str) -> models.ConversationDetail:
    return _found(_vault(request).get_conversation(id))


@delete("/conversations/{id:str}", sync_to_thread=True)
def delete_conversation(request: Request, id: str) -> None:
    _found(_vault(request).delete_conversation(id) or None)


@get("/conversations/{id:str}/resume", sync_to_thread=True)
def resume_pack(request: Request, id: str, target: models.ResumeTarget = "chatgpt") -> models.ResumePack:
    return resume.build_pack(_found(_vault(request).get_conversation(id)), target)


def _attachment(detail: models.ConversationDetail, suffix: str, body: bytes, media_type: str) -> Response[bytes]:
    name = f"{export.file_stem(detail.title, detail.id)}.{suffix}"
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@get("/conversations/{id:str}/export.md", sync_to_thread=True)
def export_markdown(request: Request, id: str) -> Response[bytes]:
    detail = _found(_vault(request).get_conversation(id))
    return _attachment(detail, "md", export.conversation_markdown(detail).encode(), "text/markdown; charset=utf-8")


@get("/conversations/{id:str}/export.json", sync_to_thread=True)
def export_json(request: Request, id: str) -> Response[bytes]:
    detail = _found(_vault(request).get_conversation(id))
    return _attachment(detail, "json", export.conversation_json(detail), "application/json")


@post("/export", status_code=200, sync_to_thread=True)
def export_zip(request: Request, data: models.ExportRequest) -> Response[bytes]:
    # A spooled temp file: small exports stay in memory; nothing plaintext lingers on disk.
    with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as tmp:
        export.export_zip(_vault(request), data.ids, data.format, tmp)
        tmp.seek(0)
        body = tmp.read()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Response(
        body, media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="draftvault-{stamp}.zip"'},
    )


@get("/search", sync_to_thread=True)
def search(
    request: Request,
    q: str,
    site: protocol.Site | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 20,
) -> models.SearchResults:
    return models.SearchResults(
        items=_vault(request).search(q, site=site, since=since, until=until, limit=max(1, min(limit, 200)))
    )


@get("/failures", sync_to_thread=True)
def list_failures(request: Request, resolved: bool | None = None, conversation: str | None = None) -> models.FailureList:
    return models.FailureList(items=_vault(request).list_failures(resolved=resolved, conversation=conversation))


@post("/failures/{id:str}/resolve", status_code=200, sync_to_thread=True)
def resolve_failure(request: Request, id: str, data: models.ResolveRequest) -> models.FailureOut:
    failure = _vault(request).resolve_failure(id, data.resolution)
    if failure is None:
        raise NotFoundException("no such failure")
    return failure


@post("/pair", status_code=200, sync_to_thread=True)
def pair(request: Request, data: models.PairRequest) -> models.PairResponse:
    name = data.name or "extension"
    try:
        token = auth.redeem_pair_code(request.app.state.auth_db, data.code, request.headers.get("origin"), name)
    except auth.AuthError as e:
        raise PermissionDeniedException(str(e)) from None
    return models.PairResponse(token=token, name=name)


@post("/login-link", status_code=200, sync_to_thread=True)
def login_link(request: Request) -> models.LoginLink:
    nonce = auth.create_login_nonce(request.app.state.auth_db)
    return models.LoginLink(url=f"http://127.0.0.1:{request.app.state.port}/login?t={nonce}")


IMPORT_MAX_BYTES = 4 << 30  # an upload is streamed to a file in the vault's directory, up to this


@post("/import", status_code=200, request_max_body_size=IMPORT_MAX_BYTES)
async def import_export(request: Request, kind: models.ImportKind | None = None, name: str = "upload") -> models.ImportResult:
    """The export file itself is the body (`kind` found from its content when not given);
    `name` is the file's name, used in error messages."""
    if request.headers.get("content-type", "").startswith("multipart/"):
        raise HTTPException(status_code=415, detail="send the export file itself as the request body, not a form")
    # In the vault's directory, not /tmp: that may be memory (tmpfs), and an export is plaintext.
    fd, tmp = tempfile.mkstemp(dir=request.app.state.home, prefix=".import-")
    path = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as f:
            async for chunk in request.stream():
                f.write(chunk)
        shown = Path(name).name or "upload"
        return await anyio.to_thread.run_sync(importers.import_file, _vault(request), path, kind, shown)
    except ImportFailed as e:
        raise HTTPException(status_code=400, detail=str(e)) from None
    except (OSError, Unavailable) as e:  # the vault's disk is full, or failing
        log.warning("import not stored: %s", e)
        raise HTTPException(status_code=507, detail=f"the import could not be stored: {e}; nothing was imported") from None
    finally:
        path.unlink(missing_ok=True)


# ---- sign-in and ingest ---------------------------------------------------------------------


@get("/login", sync_to_thread=True, include_in_schema=False)
def login(request: Request, t: str = "") -> Response:
    try:
        session = auth.redeem_login_nonce(request.app.state.auth_db, t)
    except auth.AuthError as e:
        return Response(f"{e}\n", status_code=403, media_type="text/plain")
    cookie = Cookie(
        key=auth.SESSION_COOKIE, value=session, httponly=True, samesite="strict", path="/",
        max_age=auth.SESSION_TTL_S,
    )
    return Redirect("/", cookies=[cookie], status_code=303)


@websocket("/ws")
async def ws_ingest(socket: WebSocket) -> None:
    state = socket.app.state
    loop = asyncio.get_running_loop()
    outgoing: asyncio.Queue[protocol.ServerFrame | None] = asyncio.Queue()
    session = ingest.Session(
        state.vault, state.hub, state.detector,
        origin=socket.headers.get("origin"),
        check_token=lambda token, origin: auth.check_token(state.auth_db, token, origin),
        push=lambda frame: loop.call_soon_threadsafe(outgoing.put_nowait, frame),
    )
    await socket.accept()
    # Backpressure: a client that sends faster than the vault stores waits in the socket.
    incoming: asyncio.Queue[str | bytes | None] = asyncio.Queue(maxsize=MAX_BATCH)
    reader = asyncio.create_task(_receive_frames(socket, incoming))
    sender = asyncio.create_task(_send_frames(socket, outgoing))
    try:
        closing = False
        while not (session.done or closing):
            batch = [await incoming.get()]
            while not incoming.empty() and len(batch) < MAX_BATCH:
                batch.append(incoming.get_nowait())
            if None in batch:
                closing = True
                batch = batch[: batch.index(None)]
            # Off the event loop, one batch at a time: acks keep the frames' order.
            for frame in await anyio.to_thread.run_sync(session.handle_many, batch):
                outgoing.put_nowait(frame)
    finally:
        reader.cancel()
        session.close()
        outgoing.put_nowait(None)
        await sender


async def _receive_frames(socket: WebSocket, incoming: asyncio.Queue) -> None:
    try:
        while (event := await socket.receive())["type"] == "websocket.receive":
            await incoming.put(event["text"] if event.get("text") is not None else (event.get("bytes") or b""))
    except Exception:  # the peer went away
        pass
    await incoming.put(None)


async def _send_frames(socket: WebSocket, outgoing: asyncio.Queue) -> None:
    """The connection's only writer: frames go out in the order they were queued."""
    try:
        while (frame := await outgoing.get()) is not None:
            await socket.send({"type": "websocket.send", "text": protocol.encode(frame).decode()})
        if socket.connection_state != "disconnect":
            await socket.close(code=1008)
    except Exception:  # the peer went away; nothing left to tell it
        pass


# ---- the app -------------------------------------------------------------------------------


def _detector(vault: Vault, poller: statuspage.Poller | None) -> Detector:
    env = os.environ
    return Detector(
        vault,
        stall_after_s=float(env.get("DRAFTVAULT_STALL_S") or 120),
        silence_after_s=float(env.get("DRAFTVAULT_SILENCE_S") or 45),
        **({"outage": poller.outage} if poller else {}),
    )


def guarded(app: Litestar) -> ASGIApp:
    """The app as uvicorn runs it: every request (any path, HTTP or WebSocket) behind the Host/Origin guard."""
    return security.guard_middleware(app.state.port, app.state.policy)(app)


def create_app(home: Path, vault: Vault, *, port: int) -> Litestar:
    settings = config.load_settings(home)
    auth_db = auth.connect(home)
    poller = statuspage.Poller(settings.statuspage_url, settings.statuspage_interval) if settings.statuspage_url else None
    detector = _detector(vault, poller)
    hub = ingest.Hub()
    tick_s = float(os.environ.get("DRAFTVAULT_TICK_S") or 2)
    policy = security.OriginPolicy(port, lambda: auth.paired_origins(auth_db) | set(settings.allowed_origins))
    tasks: list[asyncio.Task] = []

    async def tick() -> None:
        while True:
            await asyncio.sleep(tick_s)
            try:
                for failure in await anyio.to_thread.run_sync(detector.tick):
                    hub.broadcast(failure)
            except Exception:
                log.exception("detector tick failed")

    async def started(app: Litestar) -> None:
        if poller:
            poller.start()
        tasks.append(asyncio.create_task(tick()))

    async def stopping(app: Litestar) -> None:
        for task in tasks:
            task.cancel()
        if poller:
            poller.stop()

    api = Router(
        path="/api",
        guards=[require_auth],
        route_handlers=[
            list_conversations, get_conversation, delete_conversation, resume_pack, export_markdown, export_json,
            export_zip, search, list_failures, resolve_failure, login_link, import_export,
        ],
    )
    open_api = Router(path="/api", route_handlers=[health, pair])
    app = Litestar(
        route_handlers=[api, open_api, login, ws_ingest, web.router],
        openapi_config=OpenAPIConfig(
            title="DraftVault", version=__version__, render_plugins=[JsonRenderPlugin()],
            openapi_router=Router(path="/schema", route_handlers=[], guards=[require_auth]),
        ),
        on_startup=[started],
        on_shutdown=[stopping],
        request_max_body_size=1024 * 1024 * 1024,  # imports of large ChatGPT exports
        debug=False,
    )
    app.state.update(vault=vault, auth_db=auth_db, detector=detector, hub=hub, port=port, home=home, policy=policy)
    return app


# ---- serve -----------------------------------------------------------------------------------


class AlreadyRunning(Exception):
    """Another service already runs on this vault."""


def running_service(home: Path) -> dict | None:
    """The runtime record {pid, host, port, started_at} of the service of `home` when it
    is up (runtime file, live pid, healthy /api/health), else None."""
    try:
        info = msgspec.json.decode(config.runtime_path(home).read_bytes())
        os.kill(int(info["pid"]), 0)
        with urllib.request.urlopen(f"http://127.0.0.1:{int(info['port'])}/api/health", timeout=2) as res:
            return info if res.status == 200 else None
    except (OSError, ValueError, KeyError, TypeError, msgspec.DecodeError):
        return None


def serve(home: Path, host: str, port: int, passphrase: str | None, *, echo=print) -> None:
    """Runs the service until SIGINT/SIGTERM; creates the vault on first run.

    Prints a pairing code for the extension and a sign-in link for the history page,
    and keeps `config.runtime_path` (pid, host, port) while it runs.
    """
    import uvicorn

    if (other := running_service(home)) is not None:
        raise AlreadyRunning(f"DraftVault already runs on this vault: pid {other['pid']}, port {other['port']}")
    vault = Vault.open(home, passphrase)
    for upload in home.glob(".import-*"):  # plaintext left by a service stopped mid-import
        upload.unlink(missing_ok=True)
    runtime = config.runtime_path(home)
    try:
        app = create_app(home, vault, port=port)
        db = app.state.auth_db
        echo(f"DraftVault {__version__}: vault {config.db_path(home)}")
        echo(f"Pairing code for the extension (valid 5 minutes): {auth.create_pair_code(db)}")
        echo(f"History page sign-in link (one-time): http://127.0.0.1:{port}/login?t={auth.create_login_nonce(db)}")
        config.write_private(runtime, msgspec.json.encode({
            "pid": os.getpid(), "host": host, "port": port,
            "started_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        }))
        server = uvicorn.Server(uvicorn.Config(
            guarded(app), host=host, port=port, ws="websockets-sansio", ws_max_size=WS_MAX_SIZE,
            # No access log: URLs carry search queries and sign-in nonces.
            access_log=False, log_level="warning", lifespan="on", timeout_graceful_shutdown=5,
        ))
        # uvicorn re-raises the signal that stopped it once it has shut down; exit
        # cleanly then, so the runtime file is removed and the vault closed.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: sys.exit(0))
        server.run()
    finally:
        try:
            if msgspec.json.decode(runtime.read_bytes()).get("pid") == os.getpid():
                runtime.unlink()
        except (OSError, msgspec.DecodeError):
            pass
        vault.close()
