"""Versions that meet: the service accepts the versions in protocol.ACCEPTED_PROTOCOLS
and names them when it refuses a hello, so the extension can say which side to update."""

from __future__ import annotations

from draftvault import protocol

from frames import encode


def test_hello_from_the_previous_or_next_protocol_version(server):
    """The service names the versions it accepts, so the extension can say which side to update."""
    with server.connect(hello=False) as (ws, _):
        ws.send(encode(protocol.Hello(protocol=protocol.PROTOCOL_VERSION + 1, token=server.token, client_id="client-v-next")))
        error = protocol.decode_server_frame(ws.recv(timeout=10))
    assert (error.code, error.protocols) == ("bad_protocol", protocol.ACCEPTED_PROTOCOLS)
    for version in protocol.ACCEPTED_PROTOCOLS:
        with server.connect(hello=False) as (ws, _):
            ws.send(encode(protocol.Hello(protocol=version, token=server.token, client_id="client-v-prev")))
            welcome = protocol.decode_server_frame(ws.recv(timeout=10))
        assert isinstance(welcome, protocol.Welcome) and welcome.protocol == version
