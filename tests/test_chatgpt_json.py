"""The extension's reading of ChatGPT's conversation JSON (extension/content/chatgpt-json.js,
what the page loads when a chat opens: the export's `mapping` format) gives the same
thread and branches as the Python importer (importers/chatgpt.py) on every real export
conversation, and on many generated trees (edits, regenerations, hidden and tool
messages, citations, math, code)."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import msgspec
import pytest

from draftvault.importers import chatgpt
from draftvault.markdown import normalise_math
from draftvault.store.records import meta_of
from sitepages.base import EXTENSION_DIR, REAL_FIXTURES
from test_import_chatgpt_canvas import canvas_export
from test_import_chatgpt_newer import NEWER

NODE = shutil.which("node") or "node"
MODULE = (EXTENSION_DIR / "content" / "chatgpt-json.js").as_uri()
DIALECT = (EXTENSION_DIR / "content" / "markdown-dialect.js").as_uri()
EXPORTS = sorted((REAL_FIXTURES / "chatgpt-export").glob("*.json"))

# Reads a JSON array of conversations on stdin; writes each one's thread and branches.
READ_ALL = f"""
import {{ conversationThread }} from {json.dumps(MODULE)};
let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = JSON.parse(input).map((conv) => {{
  const t = conversationThread(conv);
  return t && {{ main: t.messages.map((m) => [m.role, m.text, m.documents || []]),
                 branches: t.branches.map((b) => [b.start, b.turns.map((m) => [m.role, m.text])]) }};
}});
process.stdout.write(JSON.stringify(out));
"""


def js_threads(convs: list) -> list:
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", READ_ALL], input=json.dumps(convs), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def py_thread(conv: dict) -> dict:
    t = chatgpt.thread(msgspec.convert(conv, chatgpt._Conversation))
    return {
        # The time (first_seen) and the thinking are the importer's alone (the page shows the thinking).
        "main": [[*turn[:2], msgspec.to_builtins(list(meta_of(turn).documents if meta_of(turn) else ()))]
                 for turn in t.turns],
        "branches": [[start, [list(turn[:2]) for turn in turns]] for start, turns in t.branches],
    }


@pytest.mark.parametrize("path", EXPORTS, ids=lambda p: p.name)
def test_every_real_export_conversation_reads_as_the_importer_reads_it(path: Path):
    convs = json.loads(path.read_text(encoding="utf-8"))
    got = js_threads(convs)
    for conv, js in zip(convs, got, strict=True):
        expected = py_thread(conv)
        assert expected["main"], conv["title"]
        assert js == expected, conv["title"]


# ---- generated trees ---------------------------------------------------------------------

TEXTS = [
    "plain words",
    "Inline \\(x^2\\) and display:\n\\[ \\int_0^1 f \\]\nafter",
    "- item with \\[ a+b \\] inside",
    "```python\nprint('\\\\(not math\\\\)')\n```\nand `\\(code\\)` kept",
    "see [a \\[link\\]](https://example.org/x) then \\(y\\)",
    "Claim one【3:0†source】 and two【3:1†source】【3:2†source】.",
    "   ",
    "emoji 🙂 before a cite【3:0†source】 end",
    "",
]


# Canvas calls: documents created whole, edited by patterns (applied, not matching, not a
# pattern), rewritten whole, and inputs that cannot be read.
CANVAS_INPUTS = [
    {"name": "notes.md", "type": "document", "content": "one two two"},
    {"name": "app", "type": "code/python", "content": "x = 1\nx = 2\n"},
    {"name": "page", "type": "webview", "content": "<p>hi</p>"},
    {"name": "odd", "type": "code/Other Lang", "content": "?"},
    {"name": "empty", "type": "document"},
    {"updates": [{"pattern": "two", "multiple": True, "replacement": "three"}]},
    {"updates": [{"pattern": "x = (\\d)", "multiple": False, "replacement": "y = 0"}]},
    {"updates": [{"pattern": "absent", "replacement": "z"}]},
    {"updates": [{"pattern": ".*", "multiple": True, "replacement": "all new"}]},
    {"updates": [{"pattern": 3, "replacement": "z"}]},
    {"updates": []},
    ["not", "an object"],
]


def _canvas_message(rng: random.Random, k: int) -> dict:
    if rng.random() < 0.25:  # the canvas tool's receipt
        return {"id": f"m{k}", "author": {"role": "tool", "name": "canmore.create_textdoc"},
                "content": {"content_type": "text", "parts": ["Successfully created text document"]},
                "recipient": "all", "metadata": {"command": "create_textdoc"}}
    input = rng.choice(CANVAS_INPUTS)
    raw = json.dumps(input) if rng.random() < 0.9 else "{broken"
    content = ({"content_type": "code", "language": "json", "text": raw} if rng.random() < 0.5
               else {"content_type": "text", "parts": [raw]})
    to = "canmore.create_textdoc" if isinstance(input, dict) and "content" in input else "canmore.update_textdoc"
    return {"id": f"m{k}", "author": {"role": "assistant"}, "content": content, "recipient": to, "metadata": {}}


def _message(rng: random.Random, role: str, k: int) -> dict:
    if rng.random() < 0.2:
        return _canvas_message(rng, k)
    kind = rng.choice(["text", "text", "text", "multimodal_text", "code", "execution_output", "tether_quote",
                       "tether_browsing_display", "system_error", "thoughts", "unknown_kind"])
    text = rng.choice(TEXTS)
    content: dict = {"content_type": kind}
    if kind in ("text", "multimodal_text"):
        parts: list = [text]
        if kind == "multimodal_text":
            parts.insert(0, {"content_type": "image_asset_pointer", "metadata": {"dalle": {"prompt": " a  red\nfox "}}})
        content["parts"] = parts
    elif kind == "tether_browsing_display":
        content["result"] = "# 【0†Title†example.org】\nbody"
    else:
        content.update(text=text, language=rng.choice([None, "unknown", "rust"]), url=rng.choice([None, "https://a.b/(c) d"]),
                       title=rng.choice([None, "T [x]"]), domain="a.b", name=rng.choice([None, "Boom"]))
    meta: dict = {}
    if rng.random() < 0.1:
        meta["is_visually_hidden_from_conversation"] = True
    if "†source" in text and kind == "text":
        meta["citations"] = [
            {"start_ix": i, "end_ix": i + len("【3:0†source】"), "metadata": {"title": f"P{i}", "url": f"https://p{i}.org"}}
            for i in [text.find("【")]
        ]
    return {
        "id": f"m{k}",
        "author": {"role": role},
        "content": content,
        "create_time": rng.choice([None, float(k)]),
        "recipient": rng.choice(["all", "all", "python"]),
        "metadata": meta,
    }


def _conversation(rng: random.Random, n: int) -> dict:
    mapping: dict = {"root": {"id": "root", "message": None, "parent": None, "children": []}}
    ids = ["root"]
    for k in range(n):
        parent = rng.choice(ids[-3:]) if rng.random() < 0.3 else ids[-1]
        role = rng.choice(["user", "assistant", "assistant", "tool", "system", "critic"])
        key = f"m{k}"
        mapping[key] = {"id": key, "message": _message(rng, role, k), "parent": parent, "children": []}
        mapping[parent]["children"].append(key)
        ids.append(key)
    current = rng.choice([ids[-1], rng.choice(ids), "gone"])
    return {"title": "generated", "mapping": mapping, "current_node": current, "conversation_id": f"gen-{n}"}


def test_generated_trees_read_as_the_importer_reads_them():
    rng = random.Random(13)
    convs = [_conversation(rng, rng.randint(0, 14)) for _ in range(300)]
    got = js_threads(convs)
    for conv, js in zip(convs, got, strict=True):
        assert js == py_thread(conv), json.dumps(conv)[:2000]
    documents = [d for js in got if js for turn in js["main"] for d in turn[2]]
    assert len({d["text"] for d in documents}) >= 5  # created, edited, rewritten


def test_a_canvas_export_reads_as_the_importer_reads_it():
    conv = canvas_export()
    (js,) = js_threads([conv])
    assert js == py_thread(conv)
    assert sum(len(turn[2]) for turn in js["main"]) == 4


def test_newer_export_shapes_read_as_the_importer_reads_them():
    """Attribution and entity references, tools talking to the model, calls as text, o1's reasoning tool."""
    convs = [make() for make in NEWER]
    for conv, js in zip(convs, js_threads(convs), strict=True):
        assert js == py_thread(conv), conv


# Reads a JSON array of texts on stdin; writes each one's math as the capture's dialect.
MATH_ALL = f"""
import {{ normaliseMath }} from {json.dumps(DIALECT)};
let input = "";
for await (const chunk of process.stdin) input += chunk;
process.stdout.write(JSON.stringify(JSON.parse(input).map(normaliseMath)));
"""
_MATH_PIECES = ["`", "``", "[", "]", "(", ")", "\\(", "\\)", "\\[", "\\]", " ", "\t", "\n", "x", "- ", "1. ", "\\",
                "](u)", "[a](b)", " \\[ y \\] ", "```\n", "$$\n", "é"]


def test_math_reads_the_same_in_the_extension_and_the_importer():
    """Random texts of math, code, links and list markers (and crafted ones: openings without an end,
    a long indent copied by many formulas) turn out the same from both readings."""
    rng = random.Random(12)
    texts = ["".join(rng.choice(_MATH_PIECES) for _ in range(rng.randint(0, 30))) for _ in range(3000)]
    texts += ["Keep \\(a\\) " + "\\[" * 50_000, "[\\[" * 30_000, " " * 100_000 + "x" + " \\[y\\]" * 20_000,
              "- item\n  \\[ x \\] and \\(y\\)\n\n" * 200]
    done = subprocess.run([NODE, "--input-type=module", "-e", MATH_ALL], input=json.dumps(texts),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for text, js in zip(texts, json.loads(done.stdout)):
        assert js == normalise_math(text), text
