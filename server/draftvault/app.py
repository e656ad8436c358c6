"""The service's life cycle: the litestar app (create_app), its start and stop, the
detector's ticks, and `serve`, which runs it under uvicorn for as long as it holds the vault.

Routes are in routes/ (HTTP) and pump.py (/ws); the whole app runs behind the
Host/Origin guard and its headers (security.py, `guarded`), under the connection
limits of transport.py.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path

import anyio
from litestar import Litestar, Router
import msgspec
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.types import ASGIApp

from . import __version__, auth, config, guide, ingest, logs, protocol, pump, routes, runtime, security, statuspage, transport, web
from .detector import Detector
from .routes import base, errors
from .store import AppVault, Unavailable, Vault

log = logging.getLogger("draftvault.app")

# Connections of every kind past which uvicorn answers 503: far above what the
# extension, the page and scripts open, far below the descriptors the process may hold.
MAX_CONNECTIONS = 1000
# Index merges between ingest transactions: a bounded step (tens of ms) holds the write
# lock, then a pause leaves it to the acks waiting; idle, a look once a second.
UPKEEP_PAUSE_S = 0.05
UPKEEP_IDLE_S = 1.0


class StrictStructSchema(StructSchemaPlugin):
    """Bodies that refuse unknown fields (forbid_unknown_fields) say so in the OpenAPI
    document (`additionalProperties: false`), which litestar leaves out."""

    def to_openapi_schema(self, field_definition, schema_creator):
        schema = super().to_openapi_schema(field_definition, schema_creator)
        if msgspec.inspect.type_info(field_definition.type_).forbid_unknown_fields:
            schema.additional_properties = False
        return schema


def guarded(app: Litestar) -> ASGIApp:
    """The app as uvicorn runs it: every request (any path, HTTP or WebSocket) behind the Host/Origin guard."""
    return security.guard_middleware(app.state.port, app.state.policy)(app)


def create_app(home: Path, vault: AppVault, *, port: int) -> Litestar:
    settings = config.load_settings(home)
    timings = config.timings()
    auth_db = auth.connect(home)
    hub = ingest.Hub()

    def status_page_recovered(site: protocol.Site) -> None:  # the poller's thread
        if (frame := detector.recovery.site_back(site, "status_page")) is not None:
            hub.broadcast(frame)

    status_check = statuspage.StatusCheck(home, status_page_recovered)
    detector = Detector(
        vault, stall_after_s=timings.stall_s, silence_after_s=timings.silence_s, outage=status_check.outage
    )
    policy = security.OriginPolicy(port, lambda: auth.paired_origins(auth_db) | set(settings.allowed_origins))
    tasks: list[asyncio.Task] = []

    async def tick() -> None:
        while True:
            await asyncio.sleep(timings.tick_s)
            try:
                for failure in await anyio.to_thread.run_sync(detector.tick):
                    hub.broadcast(failure)
            except Exception:
                log.exception("detector tick failed")

    async def upkeep() -> None:
        failing = False
        while True:
            try:
                more = await anyio.to_thread.run_sync(vault.maintain)
                failing = False
            except Unavailable as e:  # a full disk: once per spell, it must not flood the log
                if not failing:
                    log.warning("upkeep (index merges, repacking) waits until the vault can be written: %s", e)
                more, failing = False, True
            except Exception:
                if not failing:
                    log.exception("upkeep (index merges, repacking) failed; retrying")
                more, failing = False, True
            await asyncio.sleep(UPKEEP_PAUSE_S if more else UPKEEP_IDLE_S)

    async def started(app: Litestar) -> None:
        status_check.start()
        tasks.append(asyncio.create_task(tick()))
        tasks.append(asyncio.create_task(upkeep()))

    async def stopping(app: Litestar) -> None:
        for task in tasks:
            task.cancel()
        await anyio.to_thread.run_sync(status_check.stop)

    app = Litestar(
        route_handlers=[
            Router(path="/api", guards=[base.require_auth], route_handlers=routes.PROTECTED),
            Router(path="/api", route_handlers=routes.OPEN),
            *routes.ROOT, pump.ws_ingest, web.router,
        ],
        openapi_config=OpenAPIConfig(
            title="DraftVault", version=__version__, render_plugins=[JsonRenderPlugin()],
            openapi_router=Router(
                path="/schema", route_handlers=[], guards=[base.require_auth], include_in_schema=False
            ),
        ),
        exception_handlers=errors.HANDLERS,
        plugins=[StrictStructSchema()],
        on_startup=[started],
        on_shutdown=[stopping],
        request_max_body_size=base.MAX_BODY,
        debug=False,
    )
    app.state.update(
        vault=vault, auth_db=auth_db, detector=detector, hub=hub, port=port, home=home, policy=policy,
        lobby=pump.Lobby(),
        status_check=status_check,
    )
    return app


def serve(home: Path, host: str, port: int, passphrase: str | None, *, echo=print) -> None:
    """Runs the service until SIGINT/SIGTERM; creates the vault on first run.

    Holds the vault's lock (runtime.claim: a second `serve` raises AlreadyRunning),
    prints a pairing code for the extension and a sign-in link for the history page,
    and keeps `config.runtime_path` (pid, host, port) while it runs.
    """
    import uvicorn

    claim = runtime.claim(home, host, port)
    try:
        vault = Vault.open(home, passphrase)
        for upload in home.glob(".import-*"):  # plaintext left by a service stopped mid-import
            upload.unlink(missing_ok=True)
        try:
            app = create_app(home, vault, port=port)
            db = app.state.auth_db
            echo(guide.serve_banner(
                version=__version__, vault=str(config.db_path(home)), port=port, code=auth.create_pair_code(db),
                login_link=auth.login_link(db, port), paired=bool(auth.paired_origins(db)),
            ))
            runtime.publish(home, claim.record)
            server = uvicorn.Server(uvicorn.Config(
                guarded(app), host=host, port=port,
                http=transport.HTTPProtocol, ws=transport.WebSocketProtocol, ws_max_size=pump.WS_MAX_SIZE,
                timeout_keep_alive=5, h11_max_incomplete_event_size=16 * 1024, limit_concurrency=MAX_CONNECTIONS,
                # No access log: URLs carry search queries and sign-in nonces.
                access_log=False, log_config=logs.config(), lifespan="on", timeout_graceful_shutdown=5,
            ))
            # uvicorn re-raises the signal that stopped it once it has shut down; exit
            # cleanly then, so the runtime file is removed and the vault closed.
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: sys.exit(0))
            server.run()
        finally:
            runtime.unpublish(home)
            vault.close()
    finally:
        claim.release()
