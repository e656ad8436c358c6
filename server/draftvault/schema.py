"""Generate the JSON Schema in shared_schema/ from the msgspec Structs, the
JavaScript copies of vocabulary.py for the extension and the history page, and the
vocabulary's English messages (`vocab_*`) in the extension's `_locales/en/messages.json`
(its other messages are written by hand and kept as they are).

`python -m draftvault.schema` writes the files; `--check` exits 1 when the
committed files differ from what the sources generate (tests/test_schema.py runs it).
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

import msgspec

from . import models, protocol, vocabulary

REPO = Path(__file__).resolve().parents[2]
ROOT = REPO / "shared_schema"
# The vocabulary's JavaScript copies: the page is served by the service and cannot
# import the extension's files, so each gets its own.
VOCABULARY_JS = (REPO / "extension" / "lib" / "vocabulary.js", Path(__file__).parent / "web" / "static" / "vocabulary.js")
MESSAGES_JSON = REPO / "extension" / "_locales" / "en" / "messages.json"


def _schema(title: str, union_names: dict[str, object]) -> dict:
    names = list(union_names)
    (*roots,), components = msgspec.json.schema_components(
        list(union_names.values()), ref_template="#/$defs/{name}"
    )
    doc: dict = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "$defs": dict(sorted(components.items())),
    }
    for name, root in zip(names, roots):
        if root != {"$ref": f"#/$defs/{name}"}:  # a Struct's root is a reference to its own definition
            doc["$defs"][name] = root
    return doc


def _normalise(node):
    """Descriptions as inspect.cleandoc gives them: msgspec releases differ in how they
    dedent a Struct's docstring, and the committed files must not depend on which one
    is installed."""
    if isinstance(node, dict):
        return {k: inspect.cleandoc(v) if k == "description" and isinstance(v, str) else _normalise(v)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_normalise(v) for v in node]
    return node


def documents() -> dict[str, dict]:
    proto = _schema(
        f"DraftVault wire protocol v{protocol.PROTOCOL_VERSION}",
        {"ClientFrame": protocol.ClientFrame, "ServerFrame": protocol.ServerFrame},
    )
    proto["description"] = (protocol.__doc__ or "").strip()
    proto["x-protocol-version"] = protocol.PROTOCOL_VERSION
    proto["x-max-frame-bytes"] = protocol.MAX_FRAME_BYTES
    proto["oneOf"] = [{"$ref": "#/$defs/ClientFrame"}, {"$ref": "#/$defs/ServerFrame"}]
    bodies = {
        name: obj
        for name, obj in vars(models).items()
        if isinstance(obj, type) and issubclass(obj, msgspec.Struct) and obj.__module__ == models.__name__
    }
    api = _schema("DraftVault HTTP API bodies", dict(sorted(bodies.items())))
    return {"protocol.schema.json": _normalise(proto), "api.schema.json": _normalise(api)}


def render(doc: dict) -> str:
    return json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def messages(path: Path) -> dict:
    """The messages file at `path` with its `vocab_*` messages made from vocabulary.py
    (after the hand-written ones, which keep their order)."""
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    own = {k: v for k, v in current.items() if not k.startswith(vocabulary.MESSAGE_PREFIX)}
    return {**own, **vocabulary.messages()}


def generated() -> dict[Path, str]:
    """Every generated file and its text."""
    files = {ROOT / name: render(doc) for name, doc in documents().items()}
    files.update(dict.fromkeys(VOCABULARY_JS, vocabulary.javascript()))
    files[MESSAGES_JSON] = render(messages(MESSAGES_JSON))
    return files


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, text in generated().items():
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(REPO)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"stale generated files: {', '.join(stale)}; run scripts/gen-schema", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
