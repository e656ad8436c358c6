"""The connection layer under the app: uvicorn's protocols with the limits it lacks.

uvicorn bounds idle keep-alive connections (`timeout_keep_alive`), the size of a
request head (`h11_max_incomplete_event_size`) and, once a request has arrived, the
number of connections (`limit_concurrency`, then 503). It has no deadline for a
request head that trickles in, so slow clients could hold descriptors for ever
(slowloris). `HTTPProtocol` adds one: a connection must send its request head within
HEAD_TIMEOUT_S, and at most MAX_HEADLESS connections may be waiting for theirs; one
more closes the one that has waited longest. A real client sends its head at once,
so the extension's socket and /api/health get through while such a flood lasts.

`WebSocketProtocol` starts every WebSocket with a small frame limit (pump.PRE_HELLO_MAX_BYTES)
and lets the app widen it after `hello` through scope["extensions"][pump.FRAME_LIMIT].
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from . import pump

HEAD_TIMEOUT_S = 10.0
MAX_HEADLESS = 256

# Connections waiting for a request head, oldest first (one server per process).
_headless: dict[HTTPProtocol, asyncio.TimerHandle] = {}


class HTTPProtocol(H11Protocol):
    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:
            self._head_arrived()

    def on_response_complete(self) -> None:
        self._await_head()  # a kept-alive connection waits for its next head
        super().on_response_complete()

    def connection_lost(self, exc) -> None:
        self._head_arrived()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self._head_arrived()
        _headless[self] = self.loop.call_later(HEAD_TIMEOUT_S, self._drop)
        if len(_headless) > MAX_HEADLESS:
            next(iter(_headless))._drop()

    def _head_arrived(self) -> None:
        if (timer := _headless.pop(self, None)) is not None:
            timer.cancel()

    def _drop(self) -> None:
        self._head_arrived()
        if self.conn.their_state is h11.IDLE:  # still no head: close as an idle keep-alive is closed
            self.timeout_keep_alive_handler()


class WebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._set_limit(pump.PRE_HELLO_MAX_BYTES)

    def handle_connect(self, event) -> None:
        super().handle_connect(event)
        if (scope := getattr(self, "scope", None)) is not None:  # the handshake was accepted
            scope["extensions"][pump.FRAME_LIMIT] = self._set_limit

    def _set_limit(self, max_bytes: int) -> None:
        self.conn.max_message_size = max_bytes
