"""The WebSocket `/ws`: moves frames between the socket and an `ingest.Session`.

All protocol logic is in ingest.Session; this only moves bytes, off the event loop.
Until the client has said `hello` a connection costs little and lasts little:
- at most MAX_WAITING connections wait for their hello at once; one more is closed
  with 1013 ("try again later") at once;
- the hello must come within HELLO_TIMEOUT_S, else the connection closes with 1008
  and a reason saying so;
- frames are read one at a time and may be at most PRE_HELLO_MAX_BYTES (enforced by
  the WebSocket protocol itself, transport.WebSocketProtocol: a larger one closes the
  connection with 1009 before it is buffered); after hello the limit widens to
  WS_MAX_SIZE and frames that arrived together are stored together (group commit),
  read ahead up to MAX_BATCH frames and READ_AHEAD_BYTES.
"""

from __future__ import annotations

import asyncio

import anyio
from litestar import WebSocket, websocket

from . import auth, ingest, protocol

HELLO_TIMEOUT_S = 5.0
PRE_HELLO_MAX_BYTES = 4 * 1024
MAX_WAITING = 32
# Room above MAX_FRAME_BYTES so an oversized frame still reaches ingest and gets a
# `too_large` error; past this the WebSocket layer closes with 1009.
WS_MAX_SIZE = 4 * protocol.MAX_FRAME_BYTES
# Frames that arrived together are stored in one transaction (group commit), at most this many,
# and read ahead of the vault up to this many bytes (bounded memory per connection).
MAX_BATCH = 64
READ_AHEAD_BYTES = 8 * 1024 * 1024
# The key under scope["extensions"] of transport.WebSocketProtocol's frame-limit setter.
FRAME_LIMIT = "draftvault.frame_limit"

Close = tuple[int, str]  # ends the outgoing queue: the close code and reason


class Lobby:
    """Counts the connections still waiting for their hello (one event loop: no lock)."""

    def __init__(self, limit: int = MAX_WAITING):
        self.limit, self.waiting = limit, 0

    def enter(self) -> bool:
        if self.waiting >= self.limit:
            return False
        self.waiting += 1
        return True

    def leave(self) -> None:
        self.waiting -= 1


@websocket("/ws")
async def ws_ingest(socket: WebSocket) -> None:
    state = socket.app.state
    await socket.accept()
    if not state.lobby.enter():
        await socket.close(code=1013, reason="too many connections are waiting for hello; try again later")
        return
    loop = asyncio.get_running_loop()
    outgoing: asyncio.Queue[protocol.ServerFrame | Close] = asyncio.Queue()
    session = ingest.Session(
        state.vault, state.hub, state.detector,
        origin=socket.headers.get("origin"),
        check_token=lambda token, origin: auth.check_token(state.auth_db, token, origin),
        push=lambda frame: loop.call_soon_threadsafe(outgoing.put_nowait, frame),
    )
    sender = asyncio.create_task(_send_frames(socket, outgoing))
    close: Close = (1008, "")
    try:
        try:
            await asyncio.wait_for(_await_hello(socket, session, outgoing), HELLO_TIMEOUT_S)
        except TimeoutError:
            session.done = True
            close = (1008, f"no hello within {HELLO_TIMEOUT_S:g} s")
        finally:
            state.lobby.leave()
        if session.authenticated and not session.done:
            if widen := socket.scope.get("extensions", {}).get(FRAME_LIMIT):
                widen(WS_MAX_SIZE)
            await _pump(socket, session, outgoing)
    finally:
        session.close()
        outgoing.put_nowait(close)
        await sender


async def _await_hello(socket: WebSocket, session: ingest.Session, outgoing: asyncio.Queue) -> None:
    """One frame at a time until the session is authenticated or done."""
    while not (session.authenticated or session.done):
        raw = await _receive(socket)
        if raw is None:
            session.done = True
            return
        for frame in await anyio.to_thread.run_sync(session.handle, raw):
            outgoing.put_nowait(frame)


class _Inbox:
    """Frames read ahead of the vault: at most MAX_BATCH of them and READ_AHEAD_BYTES (the
    frame that crosses it included). Backpressure: a client that sends faster than the
    vault stores waits in its socket."""

    def __init__(self) -> None:
        self.frames: list[str | bytes | None] = []
        self.bytes = 0
        self.arrived, self.taken = asyncio.Event(), asyncio.Event()

    async def put(self, raw: str | bytes | None) -> None:
        while len(self.frames) >= MAX_BATCH or self.bytes >= READ_AHEAD_BYTES:
            self.taken.clear()
            await self.taken.wait()
        self.frames.append(raw)
        self.bytes += len(raw or b"")
        self.arrived.set()

    async def take(self) -> list[str | bytes | None]:
        while not self.frames:
            self.arrived.clear()
            await self.arrived.wait()
        batch, self.frames, self.bytes = self.frames, [], 0
        self.taken.set()
        return batch


async def _pump(socket: WebSocket, session: ingest.Session, outgoing: asyncio.Queue) -> None:
    inbox = _Inbox()
    reader = asyncio.create_task(_read_ahead(socket, inbox))
    try:
        closing = False
        while not (session.done or closing):
            batch = await inbox.take()
            if None in batch:
                closing = True
                batch = batch[: batch.index(None)]
            # Off the event loop, one batch at a time: acks keep the frames' order.
            for frame in await anyio.to_thread.run_sync(session.handle_many, batch):
                outgoing.put_nowait(frame)
    finally:
        reader.cancel()


async def _receive(socket: WebSocket) -> str | bytes | None:
    """The next message's text or bytes; None once the peer has gone."""
    try:
        event = await socket.receive()
    except Exception:  # the peer went away
        return None
    if event["type"] != "websocket.receive":
        return None
    return event["text"] if event.get("text") is not None else (event.get("bytes") or b"")


async def _read_ahead(socket: WebSocket, inbox: _Inbox) -> None:
    while (raw := await _receive(socket)) is not None:
        await inbox.put(raw)
    await inbox.put(None)


async def _send_frames(socket: WebSocket, outgoing: asyncio.Queue) -> None:
    """The connection's only writer: frames go out in the order they were queued."""
    try:
        while not isinstance(item := await outgoing.get(), tuple):
            await socket.send({"type": "websocket.send", "text": protocol.encode(item).decode()})
        if socket.connection_state != "disconnect":
            await socket.close(code=item[0], reason=item[1])
    except Exception:  # the peer went away; nothing left to tell it
        pass
