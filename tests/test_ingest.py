"""The /ws ingest protocol against a real `draftvault serve`, with the websockets client."""

from __future__ import annotations

import json
import sqlite3
from contextlib import ExitStack

import pytest
from websockets.exceptions import ConnectionClosed

import frames
from draftvault import config, protocol, pump


def snap(seq: int, pairs=(), **fields) -> str:
    """A snapshot frame's JSON text (frames.snapshot)."""
    return frames.encode(frames.snapshot(seq, pairs, **fields))


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
        ws.send(snap(1, pairs=[("user", "What is a monad?"), ("assistant", "A monoid in the category...")],
                     draft="and a functor?", title="Monads"))
        assert recv(ws) == protocol.Ack(seq=1)
        ws.send(json.dumps({"type": "ping", "t": 5, "pages": [frames.PAGE]}))
        assert recv(ws) == protocol.Pong(t=5)

    detail = only_conversation(server)
    assert turns_of(detail) == [("user", "What is a monad?"), ("assistant", "A monoid in the category...")]
    assert detail["draft"]["text"] == "and a functor?"
    assert (detail["conversation_id"], detail["site"], detail["title"]) == ("c-1111", "chatgpt", "Monads")

    with server.connect("client-round") as (ws, welcome):
        assert welcome.last_seq == 1


def test_resent_frame_is_acked_again_and_changes_nothing(server):
    with server.connect("client-resend") as (ws, _):
        ws.send(snap(1, pairs=[("user", "first")], draft="draft one"))
        assert recv(ws) == protocol.Ack(seq=1)
        before = only_conversation(server)
        ws.send(snap(1, pairs=[("user", "first")], draft="draft one"))
        assert recv(ws) == protocol.Ack(seq=1)
        # Same seq, other content (a confused client): still a duplicate, nothing changes.
        ws.send(snap(1, pairs=[("user", "overwritten?")], draft="other"))
        assert recv(ws) == protocol.Ack(seq=1)
    after = only_conversation(server)
    assert after == before
    with server.connect("client-resend") as (_, welcome):
        assert welcome.last_seq == 1


def test_delta_snapshots_merge_onto_the_stored_conversation(server):
    with server.connect("client-delta") as (ws, _):
        ws.send(snap(1, pairs=[("user", "q1"), ("assistant", "a1"), ("user", "q2")]))
        assert recv(ws) == protocol.Ack(seq=1)
        # The answer to q2 streams in: deltas from index 3 only.
        ws.send(snap(2, pairs=[("assistant", "a2 part")], turns_from=3, streaming=True))
        assert recv(ws) == protocol.Ack(seq=2)
        ws.send(snap(3, pairs=[("assistant", "a2 part and the rest")], turns_from=3, draft="next question"))
        assert recv(ws) == protocol.Ack(seq=3)
        # Typing a draft sends no turns at all.
        ws.send(snap(4, pairs=[], turns_from=4, turn_count=4, draft="next question, longer"))
        assert recv(ws) == protocol.Ack(seq=4)
    detail = only_conversation(server)
    assert turns_of(detail) == [("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "a2 part and the rest")]
    assert detail["draft"]["text"] == "next question, longer"


def test_delta_past_the_stored_turns_asks_for_a_full_snapshot(server):
    with server.connect("client-needfull") as (ws, _):
        ws.send(snap(1, page="page-new-0001", pairs=[("assistant", "orphan")], turns_from=5))
        _error(recv(ws), "need_full", seq=1, have=0)
        ws.send(snap(2, page="page-new-0001", pairs=[("user", "q"), ("assistant", "a")]))
        assert recv(ws) == protocol.Ack(seq=2)
        ws.send(snap(3, page="page-new-0001", pairs=[("user", "q4")], turns_from=4))
        _error(recv(ws), "need_full", seq=3, have=2)
    assert turns_of(only_conversation(server)) == [("user", "q"), ("assistant", "a")]


def _error(frame, code: str, **fields) -> protocol.Error:
    assert isinstance(frame, protocol.Error), frame
    assert frame.code == code, frame
    assert frame.message
    for name, value in fields.items():
        assert getattr(frame, name) == value, frame
    return frame


# JSON nested past the decoder's depth limit (a RecursionError inside msgspec).
DEEP = '{"type": "ping", "pages": ' + "[" * 1000 + "]" * 1000 + "}"
# Frames that do not decode: an error each, before hello as after it, and the connection goes on.
UNDECODABLE = [
    ("garbage", "bad_json"),
    (DEEP, "too_deep"),
    (b"\xff\xfe not UTF-8 in a binary frame", "bad_json"),
    (b'{"type": "ping", "pages": ["\xff\xfe"]}', "bad_json"),
    ('{"type": "hello", "protocol": 1, "client_id": "client-token"}', "bad_frame"),
]


BAD_FRAMES = [
    ("not json at all", "bad_json"),
    ('{"type": "snapshot", "seq": 7', "bad_json"),
    ("[1, 2, 3]", "bad_json"),
    ('{"seq": 7}', "unknown_type"),
    ('{"type": "launch_missiles"}', "unknown_type"),
    ('{"type": "snapshot", "seq": 7}', "bad_frame"),
    (snap(7, pairs=[("user", "x")])[:-1] + ', "extra_field": 1}', "bad_frame"),
    (snap(7, pairs=[("wizard", "x")]), "bad_frame"),
    (snap(0, pairs=[("user", "x")]), "bad_frame"),
    (snap(7, page="bad page id!", pairs=[("user", "x")]), "bad_frame"),
    (snap(7, pairs=[("user", "x"), ("assistant", "y")]).replace('"index":1', '"index":5'), "bad_frame"),  # out of place
    ('{"type": "signal", "seq": 7, "page_id": "page-aaaa1111", "conversation_id": null, "site": "chatgpt",'
     ' "url": "https://chatgpt.com/", "kind": "made_up"}', "bad_frame"),
    ('{"type": "hello", "protocol": 1, "token": "x", "client_id": "client-bad-frames"}', "not_hello"),
    *UNDECODABLE,
]


def test_each_bad_frame_gets_its_error_and_the_connection_goes_on(server):
    with server.connect("client-bad-frames") as (ws, _):
        ws.send(snap(1, pairs=[("user", "kept")]))
        assert recv(ws) == protocol.Ack(seq=1)
        for seq, (raw, code) in enumerate(BAD_FRAMES, start=2):
            ws.send(raw)
            assert recv(ws).code == code, raw[:80]
            ws.send('{"type": "ping"}')
            assert recv(ws) == protocol.Pong()
            ws.send(snap(seq, pairs=[("assistant", f"still stored {seq}")], turns_from=1))
            assert recv(ws) == protocol.Ack(seq=seq)
    assert turns_of(only_conversation(server)) == [("user", "kept"), ("assistant", f"still stored {seq}")]
    with server.connect("client-bad-frames") as (_, welcome):
        assert welcome.last_seq == seq


def test_frames_written_by_hand_are_taken_as_the_contract_reads(server):
    """A script's frames, written from the contract alone: short ids, turns without `index`
    (their place), a signal with no url or conversation id. Stored like the extension's."""
    with server.connect("cli") as (ws, welcome):
        assert welcome.client_id == "cli"
        ws.send(json.dumps({"type": "snapshot", "seq": 1, "page_id": "p1", "conversation_id": "c-1",
                            "site": "chatgpt", "url": "https://chatgpt.com/c/c-1", "turn_count": 2, "turns_from": 0,
                            "turns": [{"role": "user", "text": "Plan a trip"}, {"role": "assistant", "text": "Day 1"}],
                            "draft": "And back?"}))
        assert recv(ws) == protocol.Ack(seq=1)
        ws.send(json.dumps({"type": "snapshot", "seq": 2, "page_id": "p1", "conversation_id": "c-1", "site": "chatgpt",
                            "url": "https://chatgpt.com/c/c-1", "turn_count": 2, "turns_from": 1,
                            "turns": [{"role": "assistant", "text": "Day 1, then Day 2"}]}))
        assert recv(ws) == protocol.Ack(seq=2)
        ws.send(json.dumps({"type": "signal", "seq": 3, "page_id": "p1", "site": "chatgpt",
                            "kind": "error_message", "detail": "Something went wrong"}))
        assert recv(ws) == protocol.Ack(seq=3)
    detail = only_conversation(server)
    assert turns_of(detail) == [("user", "Plan a trip"), ("assistant", "Day 1, then Day 2")]
    assert detail["draft"]["text"] == "And back?"
    assert [f["kind"] for f in server.api("GET", "/api/failures")["items"]] == ["error_message"]


def test_bad_frame_with_a_seq_names_it(server):
    with server.connect("client-seq") as (ws, _):
        ws.send(snap(9, pairs=[("wizard", "x")]))
        _error(recv(ws), "bad_frame", seq=9)


def test_oversized_frame_is_refused_and_the_connection_goes_on(server):
    huge = snap(1, pairs=[("user", "x" * (protocol.MAX_FRAME_BYTES + 1024))])
    with server.connect("client-huge") as (ws, _):
        ws.send(huge)
        _error(recv(ws), "too_large")
        ws.send(snap(1, pairs=[("user", "small")]))
        assert recv(ws) == protocol.Ack(seq=1)
    assert turns_of(only_conversation(server)) == [("user", "small")]

    # Far past the limit the WebSocket layer itself closes with 1009 (message too big);
    # the service stays up for everyone else.
    with server.connect("client-huge") as (ws, _):
        ws.send(snap(2, pairs=[("user", "x" * (4 * protocol.MAX_FRAME_BYTES + 1))]))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
        assert closed.value.rcvd.code == 1009
    with server.connect("client-huge") as (_, welcome):
        assert welcome.last_seq == 1


FAILED_HELLOS = [
    (snap(1, pairs=[("user", "x")]), "not_hello"),
    ('{"type": "ping"}', "not_hello"),
    ('{"type": "hello", "protocol": 2, "token": "t", "client_id": "client-proto"}', "bad_protocol"),
    ('{"type": "hello", "protocol": 1, "token": "wrong-token", "client_id": "client-token"}', "unauthorized"),
    ('{"type": "hello", "protocol": 1, "token": "", "client_id": "client-token"}', "unauthorized"),
]


def test_a_failed_hello_gets_an_error_then_the_connection_closes(server):
    for first, code in FAILED_HELLOS:
        with server.connect(hello=False) as (ws, _):
            ws.send(first)
            _error(recv(ws), code)
            with pytest.raises(ConnectionClosed):
                ws.recv(timeout=10)
    assert server.api("GET", "/api/conversations")["items"] == []


def test_undecodable_frames_before_hello_get_errors_and_the_hello_still_works(server):
    with server.connect(hello=False) as (ws, _):
        for raw, code in UNDECODABLE:
            ws.send(raw)
            _error(recv(ws), code)
        ws.send(frames.encode(frames.hello(server.token, "client-late-hello")))
        assert isinstance(recv(ws), protocol.Welcome)
        ws.send(snap(1, pairs=[("user", "after the noise")]))
        assert recv(ws) == protocol.Ack(seq=1)
    assert turns_of(only_conversation(server)) == [("user", "after the noise")]


def test_no_hello_in_time_closes_the_connection_with_a_reason(server):
    with server.connect(hello=False) as (ws, _):
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
    assert closed.value.rcvd.code == 1008 and "hello" in closed.value.rcvd.reason


def test_frames_before_hello_are_small(server):
    with server.connect(hello=False) as (ws, _):
        ws.send(json.dumps({"type": "hello", "protocol": 1, "token": "x" * 8192, "client_id": "client-big-hello"}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
    assert closed.value.rcvd.code == 1009
    with server.connect("client-big-after-hello") as (ws, _):  # after hello the full limit holds
        ws.send(snap(1, pairs=[("user", "x" * 100_000)]))
        assert recv(ws) == protocol.Ack(seq=1)


def test_connections_waiting_for_hello_are_capped_and_authenticated_ones_go_on(server):
    with ExitStack() as stack:
        ws, _ = stack.enter_context(server.connect("client-before-the-crowd"))
        waiting = []
        for _ in range(pump.MAX_WAITING):
            quiet, _ = stack.enter_context(server.connect(hello=False))
            quiet.send("garbage")  # answered: the server counts it as waiting
            _error(recv(quiet), "bad_json")
            waiting.append(quiet)
        with server.connect(hello=False) as (refused, _):
            with pytest.raises(ConnectionClosed) as closed:
                refused.recv(timeout=10)
        assert closed.value.rcvd.code == 1013
        ws.send(snap(1, pairs=[("user", "still served")]))
        assert recv(ws) == protocol.Ack(seq=1)
        waiting[0].send(frames.encode(frames.hello(server.token, "client-from-the-crowd")))
        assert isinstance(recv(waiting[0]), protocol.Welcome)
        with server.connect("client-after-the-crowd") as (_, welcome):  # a place came free
            assert isinstance(welcome, protocol.Welcome)


def test_failures_are_pushed_to_connected_clients(server):
    with server.connect("client-push") as (ws, _), server.connect("client-other") as (other, _):
        ws.send(snap(1, pairs=[("user", "question")], title="Pushed"))
        assert recv(ws) == protocol.Ack(seq=1)
        ws.send(frames.encode(frames.signal(2, "error_message", detail="Something went wrong.")))
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
            ws.send(snap(1, pairs=[("user", "wait for me")]))
            ws.send(snap(2, turns_from=1, turn_count=2, pairs=[("assistant", "and me")]))
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
            ws.send(snap(1, pairs=[("user", "wait for me")]))  # the client resends from last_seq on
            ws.send(snap(2, turns_from=1, turn_count=2, pairs=[("assistant", "and me")]))
            assert recv(ws) == protocol.Ack(seq=1)
            assert recv(ws) == protocol.Ack(seq=2)
    finally:
        blocker.close()
    assert turns_of(only_conversation(server)) == [("user", "wait for me"), ("assistant", "and me")]
