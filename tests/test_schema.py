"""The committed JSON Schema matches the Structs, and the shared examples mean what they say."""

import json
from pathlib import Path

import msgspec
import pytest

from draftvault import protocol, schema

EXAMPLES = Path(__file__).resolve().parents[1] / "shared_schema" / "examples"


def test_committed_schema_is_current():
    assert schema.main(["--check"]) == 0, "run scripts/gen-schema and commit the result"


def test_every_api_body_is_defined_not_a_reference_to_itself():
    defs = schema.documents()["api.schema.json"]["$defs"]
    assert defs["FailureOut"]["properties"].keys() >= {"id", "conversation", "title", "site"}
    assert [name for name, d in defs.items() if d == {"$ref": f"#/$defs/{name}"}] == []


@pytest.mark.parametrize("path", sorted((EXAMPLES / "valid").glob("*.json")), ids=lambda p: p.stem)
def test_valid_examples_decode(path):
    raw = path.read_bytes()
    kind = json.loads(raw)["type"]
    client = kind in protocol._TYPES
    if client:
        frame = protocol.decode_client_frame(raw)
    else:
        frame = protocol.decode_server_frame(raw)
    # A round trip through the encoder gives back the same frame.
    again = protocol.encode(frame)
    decode = protocol.decode_client_frame if client else protocol.decode_server_frame
    assert decode(again) == frame
    assert json.loads(again)["type"] == kind


@pytest.mark.parametrize("path", sorted((EXAMPLES / "invalid").glob("*.json")), ids=lambda p: p.stem)
def test_invalid_examples_are_refused_with_their_code(path):
    code = path.name.split(".")[0]
    with pytest.raises(protocol.ProtocolError) as err:
        protocol.decode_client_frame(path.read_bytes())
    assert err.value.code == code
    assert err.value.message


def test_oversized_frame_is_refused_before_parsing():
    raw = b'{"type":"ping","pad":"' + b"x" * protocol.MAX_FRAME_BYTES + b'"}'
    with pytest.raises(protocol.ProtocolError) as err:
        protocol.decode_client_frame(raw)
    assert err.value.code == "too_large"


def test_schema_lists_every_frame_type():
    doc = json.loads((EXAMPLES.parent / "protocol.schema.json").read_text())
    tags = {d["properties"]["type"]["enum"][0] for d in doc["$defs"].values() if "type" in d.get("properties", {})}
    assert tags == {"hello", "welcome", "snapshot", "signal", "attachment", "ack", "ping", "pong", "failure", "recovered", "error"}
    assert msgspec.json.decode(json.dumps(doc))  # valid JSON
