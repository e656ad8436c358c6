"""The ingest protocol of one WebSocket connection, without any web framework.

`Session.handle` takes one raw client frame (`handle_many`: the frames that arrived
together) and returns the frames to send back; the WebSocket route (pump.py) only
moves bytes. Order of effects for a snapshot, signal or attachment: decode
strictly, `vault.apply` (commits durably), then the detector sees it and any failure
it reports is pushed to every other connected session through the `Hub`, and sent to
this one after the acks of the frames it answers (so a client never hears of a
failure before the ack of the frame that showed it).

A frame that does not decode (bad JSON, too deep, too large, not a frame) gets an
`error` and changes nothing, before `hello` as after it, and the connection goes on.
A `hello` that is refused, or another frame in its place, ends the connection
(`done` turns True after the error frame): the app bounds how long and how much a
connection may send before it says hello (pump.py). See protocol.py for the frames.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from . import __version__, protocol
from .store import IngestVault, NeedFull, Refused, Unavailable

log = logging.getLogger("draftvault.ingest")

Push = Callable[[protocol.ServerFrame], None]


class Hub:
    """The connected, authenticated sessions, for frames the server pushes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pushes: dict[int, Push] = {}

    def add(self, key: int, push: Push) -> None:
        with self._lock:
            self._pushes[key] = push

    def remove(self, key: int) -> None:
        with self._lock:
            self._pushes.pop(key, None)

    def broadcast(self, frame: protocol.ServerFrame, skip: int | None = None) -> None:
        with self._lock:
            pushes = [push for key, push in self._pushes.items() if key != skip]
        for push in pushes:
            push(frame)


class Session:
    """One connection. `push` (thread-safe) delivers frames pushed by the Hub."""

    def __init__(self, vault: IngestVault, hub: Hub, detector, *, origin: str | None, check_token, push: Push | None = None):
        self.vault = vault
        self.hub = hub
        self.detector = detector
        self.origin = origin
        self.check_token = check_token
        self.push = push
        self.client_id: str | None = None
        self.done = False  # the app closes the connection after sending the frames
        self._held: list[protocol.ServerFrame] = []  # failures and recoveries for this connection, sent after its acks

    def handle(self, raw: str | bytes) -> list[protocol.ServerFrame]:
        return self.handle_many([raw])

    def handle_many(self, raws: list[str | bytes]) -> list[protocol.ServerFrame]:
        """Frames that arrived together, in order. Consecutive snapshots and signals are
        stored in one transaction (one fsync: group commit), and acked after it."""
        out: list[protocol.ServerFrame] = []
        run: list[protocol.IngestFrame] = []
        for raw in raws:
            if self.done:
                break
            try:
                frame = protocol.decode_client_frame(raw)
                if self.client_id is None:
                    try:
                        out.append(self._hello(frame))
                    except protocol.ProtocolError:
                        self.done = True
                        raise
                elif isinstance(frame, (protocol.Snapshot, protocol.Signal, protocol.Attachment)):
                    run.append(frame)
                else:
                    out += self._store(run)
                    run = []
                    out += self._other(frame)
            except protocol.ProtocolError as e:
                out += self._store(run)
                run = []
                out.append(e.frame())
        out += self._store(run)
        out += self._held
        self._held = []
        return out

    @property
    def authenticated(self) -> bool:
        return self.client_id is not None

    def close(self) -> None:
        self.hub.remove(id(self))
        if self.client_id is not None and self.detector is not None:
            self.detector.disconnected(self.client_id)

    # ---- frames ----

    def _hello(self, frame) -> protocol.Welcome:
        if not isinstance(frame, protocol.Hello):
            raise protocol.ProtocolError("not_hello", f"the first frame must be hello, not {frame.__struct_config__.tag}")
        if frame.protocol not in protocol.ACCEPTED_PROTOCOLS:
            raise protocol.ProtocolError(
                "bad_protocol", f"protocol {frame.protocol} is not spoken here; this server speaks {protocol.ACCEPTED_PROTOCOLS}",
                protocols=protocol.ACCEPTED_PROTOCOLS,
            )
        token = self.check_token(frame.token, self.origin)
        if token is None:
            raise protocol.ProtocolError("unauthorized", "the token is missing, wrong or revoked, or not valid from this origin")
        if token.read_only:  # ingest writes to the vault
            raise protocol.ProtocolError("unauthorized", "this token is read-only; the WebSocket needs a full token")
        self.client_id = frame.client_id
        if self.push is not None:
            self.hub.add(id(self), self.push)
        log.info("client %s connected (%s)", frame.client_id, frame.agent or "unknown agent")
        return protocol.Welcome(
            protocol=frame.protocol,
            client_id=frame.client_id,
            last_seq=self.vault.last_seq(frame.client_id),
            server=__version__,
        )

    def _other(self, frame) -> list[protocol.ServerFrame]:
        if isinstance(frame, protocol.Hello):
            raise protocol.ProtocolError("not_hello", "hello was already sent on this connection")
        self._broadcast(self.detector.ping(self.client_id, frame.pages) if self.detector else [])
        return [protocol.Pong(t=frame.t)]

    def _store(self, frames: list[protocol.IngestFrame]) -> list[protocol.ServerFrame]:
        if len(frames) > 1:
            try:
                with self.vault.transaction():
                    applied = [self.vault.apply(self.client_id, f) for f in frames]
            except Unavailable as e:  # nothing was stored; the client resends them all later
                log.warning("frames %s..%s of client %s not stored: %s", frames[0].seq, frames[-1].seq, self.client_id, e)
                self.done = True
                return [self._unavailable(f, e) for f in frames]
            except Exception:  # rolled back; store one by one so each frame gets its own answer
                pass
            else:
                self._observe(frames, applied)
                return [protocol.Ack(seq=f.seq) for f in frames]
        out: list[protocol.ServerFrame] = []
        for f in frames:
            # After a frame could not be stored, later ones must not be either: the vault
            # treats every seq at or below its last one as a duplicate, so storing frame
            # N+1 would make the resent frame N look stored. The connection ends; the
            # client reconnects and resends from welcome.last_seq on, in order.
            out += [self._unavailable(f, "an earlier frame was not stored")] if self.done else self._store_one(f)
        return out

    def _store_one(self, frame: protocol.IngestFrame) -> list[protocol.ServerFrame]:
        try:
            applied = self.vault.apply(self.client_id, frame)
        except NeedFull as e:
            return [protocol.Error(
                code="need_full", seq=frame.seq, have=e.have,
                message=f"the vault holds {e.have} turns of this page; resend it from turns_from <= {e.have}",
            )]
        except Refused as e:
            return [protocol.Error(code="bad_frame", seq=frame.seq, message=str(e))]
        except Exception as e:  # disk full, I/O error, or a bug: nothing stored, the server stays up
            if isinstance(e, Unavailable):
                log.warning("frame %s of client %s not stored: %s", frame.seq, self.client_id, e)
            else:
                log.exception("frame %s of client %s not stored", frame.seq, self.client_id)
            self.done = True
            return [self._unavailable(frame, e)]
        self._observe([frame], [applied])
        return [protocol.Ack(seq=frame.seq)]

    @staticmethod
    def _unavailable(frame: protocol.IngestFrame, e: object) -> protocol.Error:
        return protocol.Error(code="unavailable", seq=frame.seq, message=f"the vault could not store this frame: {e}")

    def _observe(self, frames, applied) -> None:
        if self.detector is not None:
            for frame, result in zip(frames, applied):
                if isinstance(frame, protocol.Attachment):
                    continue  # a file says nothing about the session's health
                self._broadcast(self.detector.observe(self.client_id, frame, result))

    def _broadcast(self, frames: list[protocol.ServerFrame]) -> None:
        joined = self.push is not None  # in the hub: this connection hears of failures too
        for frame in frames:
            self.hub.broadcast(frame, skip=id(self) if joined else None)
            if joined:
                self._held.append(frame)
