"""The /ws ingest protocol against a real `draftvault serve`, with the websockets client."""

from __future__ import annotations

import json
import sqlite3

import pytest
from websockets.exceptions import ConnectionClosed

from draftvault import config, protocol


def snap(seq: int, *, page: str = "page-aaaa1111", conv: str | None = "c-1111", turns=(), turns_from: int = 0,
         turn_count: int | None = None, draft: str | None = None, **extra) -> str:
    frame = {
        "type": "snapshot", "seq": seq, "page_id": page, "conversation_id": conv, "site": "chatgpt",
        "url": f"https://chatgpt.com/c/{conv}" if conv else "https://chatgpt.com/",
        "turn_count": turns_from + len(turns) if turn_count is None else turn_count,
        "turns_from": turns_from,
        "turns": [{"index": turns_from + i, "role": role, "text": text} for i, (role, text) in enumerate(turns)],
        "draft": draft, **extra,
    }
    return json.dumps(frame)


def recv(ws) -> protocol.ServerFrame:
    return protocol.decode_server_frame(ws.recv(timeout=10))


def only_conversation(server) -> dict:
    items = server.api("GET", "/api/conversations")["items"]
    assert len(items) == 1, items
    return server.api("GET", f"/api/conversations/{items[0]['id']}")


def turns_of(detail) -> list[tuple[str, str]]:
    return [(t["role"], t["text"]) for t in detail["turns"]]


def test_round_trip(server):
    with server.connect("client-round") as (ws, welcome):
        assert welcome == protocol.Welcome(protocol=1, client_id="client-round", last_seq=0, server=welcome.server)
        ws.send(snap(1, turns=[("user", "What is a monad?"), ("assistant", "A monoid in the category...")],
                     draft="and a functor?", title="Monads"))
        assert recv(ws) == protocol.Ack(seq=1)
        ws.send(json.dumps({"type": "ping", "t": 5, "pages": ["page-aaaa1111"]}))
        assert recv(ws) == protocol.Pong(t=5)

    detail = only_conversation(server)
    assert turns_of(detail) == [("user", "What is a monad?"), ("assistant", "A monoid in the category...")]
    assert detail["draft"]["text"] == "and a functor?"
    assert (detail["conversation_id"], detail["site"], detail["title"]) == ("c-1111", "chatgpt", "Monads")

    with server.connect("client-round") as (ws, welcome):
        assert welcome.last_seq == 1


def test_resent_frame_is_acked_again_and_changes_nothing(server):
    with server.connect("client-resend") as (ws, _):
        ws.send(snap(1, turns=[("user", "first")], draft="draft one"))
        assert recv(ws) == protocol.Ack(seq=1)
        before = only_conversation(server)
        ws.send(snap(1, turns=[("user", "first")], draft="draft one"))
        assert recv(ws) == protocol.Ack(seq=1)
        # Same seq, other content (a confused client): still a duplicate, nothing changes.
        ws.send(snap(1, turns=[("user", "overwritten?")], draft="other"))
        assert recv(ws) == protocol.Ack(seq=1)
    after = only_conversation(server)
    assert after == before
    with server.connect("client-resend") as (_, welcome):
        assert welcome.last_seq == 1


def test_delta_snapshots_merge_onto_the_stored_conversation(server):
    with server.connect("client-delta") as (ws, _):
        ws.send(snap(1, turns=[("user", "q1"), ("assistant", "a1"), ("user", "q2")]))
        assert recv(ws) == protocol.Ack(seq=1)
        # The answer to q2 streams in: deltas from index 3 only.
        ws.send(snap(2, turns=[("assistant", "a2 part")], turns_from=3, streaming=True))
        assert recv(ws) == protocol.Ack(seq=2)
        ws.send(snap(3, turns=[("assistant", "a2 part and the rest")], turns_from=3, draft="next question"))
        assert recv(ws) == protocol.Ack(seq=3)
        # Typing a draft sends no turns at all.
        ws.send(snap(4, turns=[], turns_from=4, turn_count=4, draft="next question, longer"))
        assert recv(ws) == protocol.Ack(seq=4)
    detail = only_conversation(server)
    assert turns_of(detail) == [("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "a2 part and the rest")]
    assert detail["draft"]["text"] == "next question, longer"


def test_delta_past_the_stored_turns_asks_for_a_full_snapshot(server):
    with server.connect("client-needfull") as (ws, _):
        ws.send(snap(1, page="page-new-0001", turns=[("assistant", "orphan")], turns_from=5))
        _error(recv(ws), "need_full", seq=1, have=0)
        ws.send(snap(2, page="page-new-0001", turns=[("user", "q"), ("assistant", "a")]))
        assert recv(ws) == protocol.Ack(seq=2)
        ws.send(snap(3, page="page-new-0001", turns=[("user", "q4")], turns_from=4))
        _error(recv(ws), "need_full", seq=3, have=2)
    assert turns_of(only_conversation(server)) == [("user", "q"), ("assistant", "a")]


def _error(frame, code: str, **fields) -> protocol.Error:
    assert isinstance(frame, protocol.Error), frame
    assert frame.code == code, frame
    assert frame.message
    for name, value in fields.items():
        assert getattr(frame, name) == value, frame
    return frame


BAD_FRAMES = [
    ("not json at all", "bad_json"),
    ('{"type": "snapshot", "seq": 7', "bad_json"),
    ("[1, 2, 3]", "bad_json"),
    ('{"seq": 7}', "unknown_type"),
    ('{"type": "launch_missiles"}', "unknown_type"),
    ('{"type": "snapshot", "seq": 7}', "bad_frame"),
    (snap(7, turns=[("user", "x")], extra_field=1), "bad_frame"),
    (snap(7, turns=[("wizard", "x")]), "bad_frame"),
    (snap(0, turns=[("user", "x")]), "bad_frame"),
    (snap(7, page="bad page id!", turns=[("user", "x")]), "bad_frame"),
    ('{"type": "signal", "seq": 7, "page_id": "page-aaaa1111", "conversation_id": null, "site": "chatgpt",'
     ' "url": "https://chatgpt.com/", "kind": "made_up"}', "bad_frame"),
    ('{"type": "hello", "protocol": 1, "token": "x", "client_id": "client-bad-frames"}', "not_hello"),
]


def test_each_bad_frame_gets_its_error_and_the_connection_goes_on(server):
    with server.connect("client-bad-frames") as (ws, _):
        ws.send(snap(1, turns=[("user", "kept")]))
        assert recv(ws) == protocol.Ack(seq=1)
        for seq, (raw, code) in enumerate(BAD_FRAMES, start=2):
            ws.send(raw)
            assert recv(ws).code == code, raw[:80]
            ws.send('{"type": "ping"}')
            assert recv(ws) == protocol.Pong()
            ws.send(snap(seq, turns=[("assistant", f"still stored {seq}")], turns_from=1))
            assert recv(ws) == protocol.Ack(seq=seq)
    assert turns_of(only_conversation(server)) == [("user", "kept"), ("assistant", f"still stored {seq}")]
    with server.connect("client-bad-frames") as (_, welcome):
        assert welcome.last_seq == seq


def test_bad_frame_with_a_seq_names_it(server):
    with server.connect("client-seq") as (ws, _):
        ws.send(snap(9, turns=[("wizard", "x")]))
        _error(recv(ws), "bad_frame", seq=9)


def test_oversized_frame_is_refused_and_the_connection_goes_on(server):
    huge = snap(1, turns=[("user", "x" * (protocol.MAX_FRAME_BYTES + 1024))])
    with server.connect("client-huge") as (ws, _):
        ws.send(huge)
        _error(recv(ws), "too_large")
        ws.send(snap(1, turns=[("user", "small")]))
        assert recv(ws) == protocol.Ack(seq=1)
    assert turns_of(only_conversation(server)) == [("user", "small")]

    # Far past the limit the WebSocket layer itself closes with 1009 (message too big);
    # the service stays up for everyone else.
    with server.connect("client-huge") as (ws, _):
        ws.send(snap(2, turns=[("user", "x" * (4 * protocol.MAX_FRAME_BYTES + 1))]))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
        assert closed.value.rcvd.code == 1009
    with server.connect("client-huge") as (_, welcome):
        assert welcome.last_seq == 1


FAILED_HELLOS = [
    (snap(1, turns=[("user", "x")]), "not_hello"),
    ('{"type": "ping"}', "not_hello"),
    ("garbage", "bad_json"),
    ('{"type": "hello", "protocol": 2, "token": "t", "client_id": "client-proto"}', "bad_protocol"),
    ('{"type": "hello", "protocol": 1, "token": "wrong-token", "client_id": "client-token"}', "unauthorized"),
    ('{"type": "hello", "protocol": 1, "token": "", "client_id": "client-token"}', "unauthorized"),
    ('{"type": "hello", "protocol": 1, "client_id": "client-token"}', "bad_frame"),
]


def test_a_failed_hello_gets_an_error_then_the_connection_closes(server):
    for first, code in FAILED_HELLOS:
        with server.connect(hello=False) as (ws, _):
            ws.send(first)
            _error(recv(ws), code)
            with pytest.raises(ConnectionClosed):
                ws.recv(timeout=10)
    assert server.api("GET", "/api/conversations")["items"] == []


def test_failures_are_pushed_to_connected_clients(server):
    with server.connect("client-push") as (ws, _), server.connect("client-other") as (other, _):
        ws.send(snap(1, turns=[("user", "question")], title="Pushed"))
        assert recv(ws) == protocol.Ack(seq=1)
        ws.send(json.dumps({
            "type": "signal", "seq": 2, "page_id": "page-aaaa1111", "conversation_id": "c-1111", "site": "chatgpt",
            "url": "https://chatgpt.com/c/c-1111", "kind": "error_message", "detail": "Something went wrong.",
        }))
        ack, failure = recv(ws), recv(ws)
        assert ack == protocol.Ack(seq=2)  # the ack first: the failure never overtakes it
        assert isinstance(failure, protocol.Failure)
        assert (failure.kind, failure.site, failure.title) == ("error_message", "chatgpt", "Pushed")
        assert recv(other) == failure
    conversation = only_conversation(server)
    assert failure.conversation == conversation["id"]
    assert conversation["status"] == "failed"
    failures = server.api("GET", "/api/failures", params={"resolved": "false"})["items"]
    assert [f["id"] for f in failures] == [failure.id]


def test_unavailable_vault_answers_unavailable_and_the_resend_is_stored(server):
    # Another writer holds the database past the vault's busy timeout: nothing can be stored.
    blocker = sqlite3.connect(config.db_path(server.home), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with server.connect("client-unavailable") as (ws, _):
            ws.send(snap(1, turns=[("user", "wait for me")]))
            ws.send(snap(2, turns_from=1, turn_count=2, turns=[("assistant", "and me")]))
            _error(protocol.decode_server_frame(ws.recv(timeout=60)), "unavailable", seq=1)
            # Frame 2 must not be stored past the gap (its seq would make the resent
            # frame 1 look like a duplicate): the server ends the connection instead.
            with pytest.raises(ConnectionClosed):
                while True:
                    frame = protocol.decode_server_frame(ws.recv(timeout=60))
                    assert not isinstance(frame, protocol.Ack), frame
        blocker.execute("ROLLBACK")
        with server.connect("client-unavailable") as (ws, welcome):
            assert welcome.last_seq == 0
            ws.send(snap(1, turns=[("user", "wait for me")]))  # the client resends from last_seq on
            ws.send(snap(2, turns_from=1, turn_count=2, turns=[("assistant", "and me")]))
            assert recv(ws) == protocol.Ack(seq=1)
            assert recv(ws) == protocol.Ack(seq=2)
    finally:
        blocker.close()
    assert turns_of(only_conversation(server)) == [("user", "wait for me"), ("assistant", "and me")]
