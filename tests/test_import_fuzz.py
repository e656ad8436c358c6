"""Fuzz of every importer: a real export with any one value replaced by any JSON value
either imports or fails with ImportFailed (file and place), never another exception,
and a failed import keeps nothing."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from draftvault.importers import IMPORTERS
from draftvault.importers.source import ImportFailed
from draftvault.store import Vault
from test_import_gemini import ENTRIES

REAL = Path(os.environ.get("DRAFTVAULT_REAL_FIXTURES") or Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "real")
EXPORTS = [
    ("chatgpt-export", json.loads((REAL / "chatgpt-export" / "chatgpt-tree.json").read_text())),
    ("chatgpt-export", json.loads((REAL / "chatgpt-export" / "chatgpt-citations.json").read_text())),
    ("claude-export", json.loads((REAL / "claude-export" / "example.json").read_text())),
    ("gemini-takeout", ENTRIES),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def places(doc, path=()):
    """Every place in the document a value can be put."""
    yield path
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from places(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from places(v, (*path, i))


def replaced(doc, path, value):
    if not path:
        return value
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[path[0]] = replaced(doc[path[0]], path[1:], value)
    return copy


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(EXPORTS), st.data(), json_values)
def test_a_mutated_export_imports_or_is_refused_by_place(export, data, value):
    kind, doc = export
    path = data.draw(st.sampled_from(list(places(doc))))
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "export.json"
        file.write_text(json.dumps(replaced(doc, path, value)))
        vault = Vault.open(Path(tmp) / "home")
        try:
            try:
                IMPORTERS[kind](vault, file)
            except ImportFailed as e:
                assert str(e).startswith(f"{file}: ")
                assert vault.list_conversations() == []
        finally:
            vault.close()
