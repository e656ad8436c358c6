"""`ingest.Session` in-process: plain calls, a real vault on disk, real tokens and detector."""

from __future__ import annotations

import pytest

import frames
from draftvault import auth, ingest, protocol
from draftvault.detector import Detector

CLIENT = "client-session-1"


class Peer:
    """A session as the app runs one, with the frames the Hub pushed to it."""

    def __init__(self, vault, hub, detector, db, origin=None):
        self.pushed: list[protocol.ServerFrame] = []
        self.session = ingest.Session(
            vault, hub, detector, origin=origin, check_token=lambda token, o: auth.check_token(db, token, o),
            push=self.pushed.append,
        )

    def send(self, *frames_) -> list[protocol.ServerFrame]:
        return self.session.handle_many([f if isinstance(f, (str, bytes)) else frames.encode(f) for f in frames_])


@pytest.fixture
def db(home):
    db = auth.connect(home)
    yield db
    db.conn.close()


@pytest.fixture
def token(db):
    return auth.create_token(db, "session-tests")


@pytest.fixture
def hub():
    return ingest.Hub()


@pytest.fixture
def detector(vault):
    return Detector(vault)


@pytest.fixture
def peer(vault, hub, detector, db):
    return Peer(vault, hub, detector, db)


def test_hello_then_snapshots_are_stored_and_acked(peer, vault, token):
    (welcome,) = peer.send(frames.hello(token, CLIENT))
    assert welcome == protocol.Welcome(protocol=1, client_id=CLIENT, last_seq=0, server=welcome.server)
    assert peer.session.authenticated
    assert peer.send(frames.snapshot(1, [("user", "q"), ("assistant", "a")], title="T")) == [protocol.Ack(seq=1)]
    (summary,) = vault.list_conversations()
    assert [(t.role, t.text) for t in vault.get_conversation(summary.id).turns] == [("user", "q"), ("assistant", "a")]
    assert vault.last_seq(CLIENT) == 1


def test_frames_that_arrive_together_are_acked_in_order(peer, vault, token):
    peer.send(frames.hello(token, CLIENT))
    out = peer.send(
        frames.snapshot(1, [("user", "q1")]),
        frames.snapshot(2, [("assistant", "a1")], turns_from=1),
        protocol.Ping(t=7),
        frames.snapshot(3, [("user", "q2")], turns_from=2),
        "not json",
        frames.snapshot(4, [("assistant", "a2")], turns_from=3),
    )
    assert out[:4] == [protocol.Ack(seq=1), protocol.Ack(seq=2), protocol.Pong(t=7), protocol.Ack(seq=3)]
    assert out[4].code == "bad_json" and out[5] == protocol.Ack(seq=4)
    (summary,) = vault.list_conversations()
    assert [t.text for t in vault.get_conversation(summary.id).turns] == ["q1", "a1", "q2", "a2"]


@pytest.mark.parametrize("first, code", [
    (frames.snapshot(1, [("user", "x")]), "not_hello"),
    (protocol.Ping(), "not_hello"),
    (frames.hello("wrong", CLIENT), "unauthorized"),
    (frames.hello("any", CLIENT, version=2), "bad_protocol"),
])
def test_a_refused_hello_ends_the_session_and_stores_nothing(peer, vault, first, code):
    (error,) = peer.send(first, frames.snapshot(1, [("user", "x")]))
    assert error.code == code and peer.session.done and not peer.session.authenticated
    assert vault.list_conversations() == []


def test_undecodable_frames_before_hello_leave_the_session_open(peer, token):
    out = peer.send("garbage", '{"type": "ping", "pages": ' + "[" * 1000 + "]" * 1000 + "}", b"\xff")
    assert [e.code for e in out] == ["bad_json", "too_deep", "bad_json"]
    assert not peer.session.done
    assert isinstance(peer.send(frames.hello(token, CLIENT))[0], protocol.Welcome)


def test_a_failure_follows_the_ack_and_reaches_every_other_session(vault, hub, detector, db, token):
    one, other = Peer(vault, hub, detector, db), Peer(vault, hub, detector, db)
    one.send(frames.hello(token, CLIENT))
    other.send(frames.hello(token, "client-session-2"))
    one.send(frames.snapshot(1, [("user", "q")], title="Broken"))
    ack, failure = one.send(frames.signal(2, "error_message", detail="Something went wrong."))
    assert ack == protocol.Ack(seq=2)
    assert isinstance(failure, protocol.Failure) and failure.kind == "error_message"
    assert other.pushed == [failure] and one.pushed == []
    other.session.close()
    one.send(frames.signal(3, "http_error", status=502))
    assert other.pushed == [failure]  # closed: out of the hub
