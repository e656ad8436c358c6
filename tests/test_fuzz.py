"""Fuzz: the frame decoder and `ingest.Session` take any input without raising.

Random bytes and text, and valid frames mutated byte by byte: the decoder returns a
frame or raises ProtocolError, never anything else; a session answers every input
with at least one frame, and when it answers with an error the vault is unchanged.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import frames
from draftvault import auth, ingest, protocol
from draftvault.detector import Detector
from draftvault.store import Vault

CLIENT = "client-fuzz-1"
VALID = [
    frames.encode(frames.snapshot(5, [("user", "q é"), ("assistant", "a $x$")], title="T", draft="d", streaming=True)),
    frames.encode(frames.snapshot(6, [("assistant", "more")], turns_from=1)),
    frames.encode(frames.signal(7, "error_message", detail="Something went wrong.")),
    frames.encode(protocol.Ping(pages=[frames.PAGE], t=3)),
    frames.encode(frames.hello("token", CLIENT)),
]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def mutated(draw) -> bytes:
    """A valid frame with a few bytes replaced, inserted or deleted."""
    data = bytearray(draw(st.sampled_from(VALID)).encode())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["replace", "insert", "delete"]))
        chunk = draw(st.binary(min_size=1, max_size=4) | st.sampled_from([b'"', b"{", b"[", b"]", b"}", b",", b":",
                                                                          b"null", b"-1", b"1e999", b"\\u0000"]))
        if op == "replace":
            data[at:at + len(chunk)] = chunk
        elif op == "insert":
            data[at:at] = chunk
        else:
            del data[at:at + len(chunk)]
    return bytes(data)


ANY_INPUT = st.one_of(
    mutated(), mutated().map(lambda b: b.decode("utf-8", "replace")), st.binary(max_size=200), st.text(max_size=200),
    st.integers(1, 3000).map(lambda n: '{"type": "ping", "pages": ' + "[" * n + "]" * n + "}"),
)


@given(ANY_INPUT)
@settings(max_examples=1000, deadline=None)
def test_the_decoder_answers_any_input_with_a_frame_or_a_protocol_error(raw):
    try:
        frame = protocol.decode_client_frame(raw)
    except protocol.ProtocolError as e:
        assert e.frame().code and e.frame().message
    else:
        assert isinstance(frame, (protocol.Hello, protocol.Snapshot, protocol.Signal, protocol.Ping))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz-home")
    home.chmod(0o700)
    vault = Vault.open(home)
    db = auth.connect(home)
    token = auth.create_token(db, "fuzz")
    hub, detector = ingest.Hub(), Detector(vault)

    def session() -> ingest.Session:
        return ingest.Session(vault, hub, detector, origin=None, check_token=lambda t, o: auth.check_token(db, t, o))

    yield vault, token, session
    vault.close()
    db.conn.close()


def fingerprint(vault) -> tuple:
    """What a user can read back from the vault."""
    summaries = vault.list_conversations(limit=1000)
    details = [vault.get_conversation(s.id) for s in summaries]
    return vault.last_seq(CLIENT), summaries, details, vault.list_failures()


@given(ANY_INPUT)
@FUZZ
def test_a_session_answers_any_frame_after_hello_and_errors_change_nothing(world, raw):
    vault, token, session = world
    s = session()
    assert isinstance(s.handle(frames.encode(frames.hello(token, CLIENT)))[0], protocol.Welcome)
    before = fingerprint(vault)
    out = s.handle(raw)
    assert out, raw
    if any(isinstance(f, protocol.Error) for f in out):
        assert fingerprint(vault) == before
    s.close()


@given(ANY_INPUT)
@FUZZ
def test_a_session_answers_any_first_frame_and_stores_nothing_before_hello(world, raw):
    vault, _, session = world
    s = session()
    before = fingerprint(vault)
    out = s.handle(raw)
    assert out and all(isinstance(f, (protocol.Error, protocol.Welcome)) for f in out), out
    assert fingerprint(vault) == before
    s.close()
