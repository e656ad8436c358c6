"""Import of ChatGPT's data export into a real vault on disk.

The real export files under ../shared/fixtures/real/chatgpt-export/ were read by hand:
- chatgpt-tree.json: current_node f63b8e17 -> "tell me a joke" -> "hi again" (an edit of
  "so cool bro") -> "Hello!" -> "hi there". The edited-away thread ends in an interrupted
  story; "tell me a joke" has two (identical) regenerated answers.
- chatgpt-export.json: a browsing conversation (tool calls, search results, quotes) and a
  code conversation (Python, then C#); each starts with a hidden empty system message.
- chatgpt-citations.json: a trimmed tree (current_node not in the mapping) whose answer
  cites four pages with 【3:n†source】 markers.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from draftvault.export import conversation_markdown
from draftvault.importers import chatgpt, source
from draftvault.importers.chatgpt import ImportFailed, import_chatgpt_export
from sitepages.base import REAL_FIXTURES

REAL = REAL_FIXTURES / "chatgpt-export"
TREE = REAL / "chatgpt-tree.json"
EXPORT = REAL / "chatgpt-export.json"
CITATIONS = REAL / "chatgpt-citations.json"


def only(vault):
    (summary,) = vault.list_conversations()
    return vault.get_conversation(summary.id)


def by_title(vault) -> dict:
    return {c.title: vault.get_conversation(c.id) for c in vault.list_conversations()}


def test_every_real_file_imports():
    files = sorted(REAL.glob("*.json"))
    assert {f.name for f in files} == {TREE.name, EXPORT.name, CITATIONS.name}


def test_tree_imports_the_branch_chatgpt_showed(vault):
    result = import_chatgpt_export(vault, TREE)
    assert (result.conversations, result.created, result.turns) == (1, 1, 6)
    c = only(vault)
    assert c.title == "Assist user with summary"
    assert c.site == "chatgpt"
    assert c.url == "https://chatgpt.com/c/d5dc5307-6807-41a0-8b04-4acee626eeb7"
    assert c.created_at.startswith("2024-05-01T17:37:11")
    assert [(t.role, t.text) for t in c.turns] == [
        ("user", "hi there"),
        ("assistant", "Hello! How can I assist you today?"),
        ("user", "hi again"),
        ("assistant", "Hey! Welcome back. What's on your mind?"),
        ("user", "tell me a joke"),
        ("assistant", "Sure, here's one for you:\n\nWhy don't scientists trust atoms?\n\nBecause they make up everything!"),
    ]
    # The edited-away branch is kept: its interrupted story is found by search.
    hits = vault.search("rolling village")
    assert [h.conversation for h in hits] == [c.id]


def test_reimport_changes_nothing(vault):
    first = import_chatgpt_export(vault, EXPORT)
    before = {c.id: vault.get_conversation(c.id) for c in vault.list_conversations()}
    again = import_chatgpt_export(vault, EXPORT)
    assert (first.created, first.unchanged) == (2, 0)
    assert (again.conversations, again.created, again.updated, again.unchanged) == (2, 0, 0, 2)
    assert {c.id: vault.get_conversation(c.id) for c in vault.list_conversations()} == before


def test_code_and_tool_messages(vault):
    import_chatgpt_export(vault, EXPORT)
    convs = by_title(vault)
    code = convs["Conversation 2"]
    assert [t.role for t in code.turns] == ["user", "assistant", "user", "assistant"]  # hidden system skipped
    assert code.turns[1].text.count("```python\n") == 1
    assert "```csharp\nusing System;\n" in code.turns[3].text

    web = convs["Conversation 1. Web Search"]
    assert web.model == "gpt-4"
    roles = [t.role for t in web.turns]
    assert roles[:5] == ["user", "assistant", "tool", "assistant", "tool"]
    assert "system" not in roles
    # The browser call is code; search results and quotes are quoted tool output with their sources.
    assert web.turns[1].text == '```\nsearch("Volkswagen Transporter fuel consumption with 8 people l/km")\n```'
    assert web.turns[2].text.startswith("> # [0] Volkswagen Transporter MPG - Actual MPG from 528 Volkswagen ... - Fuelly (www.fuelly.com)\n")
    quote = web.turns[4].text
    assert quote.startswith("> URL: https://www.ultimatespecs.com/")
    assert quote.endswith(
        "\n\n[2021 Volkswagen Transporter T6.1 L2H1 2.0 TDI 110HP specs, dimensions]"
        "(https://www.ultimatespecs.com/car-specs/Volkswagen/118424/2021-Volkswagen-Transporter-T61-L2H1-20-TDI-110HP.html)"
    )
    assert web.turns[-1].text.startswith("The fuel consumption figures for the 2014 Volkswagen Transporter TDI340")


def test_citations_become_links(vault):
    import_chatgpt_export(vault, CITATIONS)
    c = only(vault)
    assert [t.role for t in c.turns] == ["tool", "assistant"]
    answer = c.turns[1].text
    assert "【" not in answer
    assert (
        "hybrid environments ([Signal Sciences - Crunchbase Company Profile & Funding]"
        "(https://www.crunchbase.com/organization/signal-sciences), "
        "[Demand More from Your WAF - Signal Sciences now part of Fastly](https://www.signalsciences.com/))."
    ) in answer
    assert answer.endswith(
        "operating online ([Fastly Completes Acquisition of Signal Sciences | Fastly]"
        "(https://www.fastly.com/press/press-releases/fastly-completes-acquisition-signal-sciences), "
        "[Fastly Agrees to Acquire Signal Sciences for $775 Million - Cooley]"
        "(https://www.cooley.com/news/coverage/2020/2020-08-27-fastly-agrees-to-acquire-signal-sciences-for-775-million))."
    )


def test_markdown_export_of_an_import_reads_as_expected(vault):
    import_chatgpt_export(vault, TREE)
    c = only(vault)
    assert conversation_markdown(c) == (
        "---\n"
        f'id: "{c.id}"\n'
        'title: "Assist user with summary"\n'
        'site: "chatgpt"\n'
        'url: "https://chatgpt.com/c/d5dc5307-6807-41a0-8b04-4acee626eeb7"\n'
        f"created: {c.created_at}\n"
        f"updated: {c.updated_at}\n"
        'model: "text-davinci-002-render-sha"\n'
        "---\n"  # each turn's heading says when it was sent (the export's create_time)
        "\n# Assist user with summary\n"
        "\n## User (2024-05-01 17:37 UTC)\n\nhi there\n"
        "\n## Assistant (2024-05-01 17:37 UTC)\n\nHello! How can I assist you today?\n"
        "\n## User (2024-05-01 17:37 UTC)\n\nhi again\n"
        "\n## Assistant (2024-05-01 17:37 UTC)\n\nHey! Welcome back. What's on your mind?\n"
        "\n## User (2024-05-01 17:37 UTC)\n\ntell me a joke\n"
        "\n## Assistant (2024-05-01 17:37 UTC)\n\nSure, here's one for you:\n\nWhy don't scientists trust atoms?\n\nBecause they make up everything!\n"
        # The edited-away thread, collapsed, every line quoted (its Markdown rule too).
        "\n> [!note]- Earlier version, imported (from turn 3)\n"
        "> ### User (2024-05-01 17:37 UTC)\n>\n> so cool bro\n>\n"
        "> ### Assistant (2024-05-01 17:37 UTC)\n>\n> Thanks! What brings you here today?\n>\n"
        "> ### User (2024-05-01 17:37 UTC)\n>\n> tell me a story\n>\n"
        "> ### Assistant (2024-05-01 17:37 UTC)\n>\n> Sure! Here's a short story for you:\n>\n> ---\n>\n"
        "> Once upon a time, in a small village nestled between rolling\n"
    )


def split_export(tmp_path: Path) -> Path:
    """A folder as the newer exports look: the conversations split over numbered files."""
    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(EXPORT, folder / "conversations-000.json")
    shutil.copy(TREE, folder / "conversations-001.json")
    (folder / "chat.html").write_text("<html>not read</html>")
    return folder


def test_split_files_folder_and_zip(vault, tmp_path):
    folder = split_export(tmp_path)
    steps = []
    result = import_chatgpt_export(vault, folder, progress=lambda done, total: steps.append((done, total)))
    assert (result.conversations, result.created) == (3, 3)
    assert steps[-1][0] == steps[-1][1] == EXPORT.stat().st_size + TREE.stat().st_size
    assert [d for d, _ in steps] == sorted(d for d, _ in steps)

    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f"export-2026/{f.name}")
    again = import_chatgpt_export(vault, archive)
    assert (again.conversations, again.unchanged) == (3, 3)
    # One file of a split export on its own.
    assert import_chatgpt_export(vault, folder / "conversations-001.json").conversations == 1


def node(id, parent, role, content, children=(), **extra):
    message = {"id": id, "author": {"role": role}, "create_time": 1.7e9, "content": content, **extra}
    return id, {"id": id, "message": message, "parent": parent, "children": list(children)}


def test_content_types(vault, tmp_path):
    nodes = dict([
        ("root", {"id": "root", "message": None, "parent": None, "children": ["sys"]}),
        node("sys", "root", "system", {"content_type": "text", "parts": ["You are helpful."]}, ["ctx"],
             metadata={"is_visually_hidden_from_conversation": True}),
        node("ctx", "sys", "user", {"content_type": "user_editable_context", "user_profile": "secret"}, ["u1"]),
        node("u1", "ctx", "user", {"content_type": "multimodal_text", "parts": [
            {"content_type": "image_asset_pointer", "asset_pointer": "file-service://x", "width": 10, "height": 10},
            "What is in this picture?"]}, ["think"]),
        node("think", "u1", "assistant", {"content_type": "thoughts", "thoughts": [{"summary": "hmm"}]}, ["code"]),
        node("code", "think", "assistant", {"content_type": "code", "language": "unknown", "text": "print(6 * 7)"},
             ["out"], recipient="python"),
        node("out", "code", "tool", {"content_type": "execution_output", "text": "42"}, ["err"]),
        node("err", "out", "tool", {"content_type": "system_error", "name": "timeout", "text": "took too long"}, ["a1"]),
        node("a1", "err", "assistant", {"content_type": "text", "parts": ["A cat.\n\n$E = mc^2$"]},
             metadata={"model_slug": "gpt-4o"}),
    ])
    conv = {"title": "Types", "create_time": 1.7e9, "update_time": 1.7e9, "mapping": nodes, "current_node": "a1",
            "conversation_id": "types-1"}
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([conv]))
    import_chatgpt_export(vault, path)
    c = only(vault)
    assert c.model == "gpt-4o"
    assert [(t.role, t.text) for t in c.turns] == [
        ("user", "[Image]\n\nWhat is in this picture?"),
        ("assistant", "```python\nprint(6 * 7)\n```"),
        ("tool", "```\n42\n```"),
        ("tool", "**Error (timeout):** took too long"),
        ("assistant", "A cat.\n\n$E = mc^2$"),
    ]


def test_content_types_not_known_yet_with_other_values_in_known_names_import(vault, tmp_path):
    """A message of a newer content type may hold an object where older ones hold text: the
    conversation still imports, that message with whatever text it has."""
    nodes = dict([
        ("root", {"id": "root", "message": None, "parent": None, "children": ["u1"]}),
        node("u1", "root", "user", {"content_type": "text", "parts": ["Find me a flight"]}, ["w1"]),
        node("w1", "u1", "assistant", {"content_type": "super_widget", "text": {"widget": "flights", "rows": 3},
                                       "title": ["Flights"], "parts": {"0": "x"}, "name": 7}, ["a1"],
             recipient={"to": "widget"}),
        node("a1", "w1", "assistant", {"content_type": "text", "parts": ["Three flights fit."]}),
    ])
    conv = {"title": "Widgets", "create_time": 1.7e9, "update_time": 1.7e9, "mapping": nodes, "current_node": "a1",
            "conversation_id": "widgets-1"}
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([conv]))
    import_chatgpt_export(vault, path)
    assert [(t.role, t.text) for t in only(vault).turns] == [("user", "Find me a flight"),
                                                              ("assistant", "Three flights fit.")]


def test_math_becomes_the_captured_dialect(vault, tmp_path):
    r"""ChatGPT's export writes math as \( \) and \[ \]; captured pages give $ and $$ lines."""
    answer = (
        "Energy is \\(E = mc^2\\), where \\( c \\) is light's speed:\n\n"
        "\\[\n\\int_0^1 x\\,dx = \\tfrac12\n\\]\n\n"
        "1. In a list: \\[ a^2 + b^2 = c^2 \\]\n\n"
        "Code keeps its text: `\\(x\\)` and\n\n```latex\n\\[ y \\]\n```"
    )
    nodes = dict([
        ("root", {"id": "root", "message": None, "parent": None, "children": ["u1"]}),
        node("u1", "root", "user", {"content_type": "text", "parts": ["What is \\(E\\)?"]}, ["a1"]),
        node("a1", "u1", "assistant", {"content_type": "text", "parts": [answer]}),
    ])
    conv = {"title": "Math", "create_time": 1.7e9, "update_time": 1.7e9, "mapping": nodes, "current_node": "a1",
            "conversation_id": "math-1"}
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([conv]))
    import_chatgpt_export(vault, path)
    user, assistant = only(vault).turns
    assert user.text == "What is \\(E\\)?"  # ChatGPT shows what the user typed as typed
    assert assistant.text == (
        "Energy is $E = mc^2$, where $c$ is light's speed:\n\n"
        "$$\n\\int_0^1 x\\,dx = \\tfrac12\n$$\n\n"
        "1. In a list:\n   $$\n   a^2 + b^2 = c^2\n   $$\n\n"
        "Code keeps its text: `\\(x\\)` and\n\n```latex\n\\[ y \\]\n```"
    )


@pytest.mark.parametrize(
    "mangle, place",
    [
        (lambda raw: raw[: len(raw) // 2], "byte "),  # cut off mid-way
        (lambda raw: raw.replace(b'"title": "Conversation 2"', b'"title": 2', 1), "conversation 1 (byte "),  # wrong type
        (lambda raw: raw.rstrip()[:-1] + b", 7]", "byte "),  # not a conversation
    ],
)
def test_malformed_file_names_file_and_place_and_keeps_nothing(vault, tmp_path, mangle, place):
    good = json.loads(EXPORT.read_bytes()) + json.loads(TREE.read_bytes())
    # Conversation 0 is fine; the damage comes after it.
    raw = json.dumps(good[:1]).encode()[:-1] + b",\n" + json.dumps(good[1:], indent=1).encode()[1:]
    bad = tmp_path / "conversations-003.json"
    bad.write_bytes(mangle(raw))
    with pytest.raises(ImportFailed) as e:
        import_chatgpt_export(vault, bad)
    assert str(e.value).startswith(f"{bad}: {place}")
    assert vault.list_conversations() == []


def test_malformed_member_of_a_zip_keeps_nothing(vault, tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(EXPORT, "conversations-000.json")
        zf.writestr("conversations-001.json", TREE.read_bytes()[:-40])
    with pytest.raises(ImportFailed, match=r"export\.zip!conversations-001\.json: byte \d+: the file ends"):
        import_chatgpt_export(vault, archive)
    assert vault.list_conversations() == []


def test_damaged_zip_keeps_nothing(vault, tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(TREE, "conversations-000.json")
        zf.write(EXPORT, "conversations-001.json")
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the second member's compressed data
    archive.write_bytes(data)
    with pytest.raises(ImportFailed, match=r"export\.zip!conversations-001\.json: byte \d+: cannot read"):
        import_chatgpt_export(vault, archive)
    assert vault.list_conversations() == []


def test_not_an_export(vault, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ImportFailed, match="holds no conversations.json"):
        import_chatgpt_export(vault, tmp_path)
    with pytest.raises(ImportFailed, match="expected a JSON array"):
        import_chatgpt_export(vault, tmp_path / "notes.txt")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.dictionaries(st.text(max_size=5), json_values, max_size=4), max_size=5),
    st.sampled_from([1, 2, 3, 7, 64]),
    st.booleans(),
)
def test_streaming_split_finds_exactly_the_conversations(monkeypatch_chunk, docs, chunk, pretty):
    """The incremental splitter, at any chunk size, yields what json.loads sees: brackets,
    quotes and escapes inside strings, nesting and white space never confuse it."""
    raw = json.dumps(docs, indent=1 if pretty else None, ensure_ascii=pretty).encode()
    monkeypatch_chunk(chunk)
    found = list(source.elements(io.BytesIO(raw), "f.json", lambda n: None))
    assert [json.loads(r) for _, _, r in found] == docs
    assert [raw[o : o + len(r)] for _, o, r in found] == [r for _, _, r in found]


@pytest.fixture(scope="module")
def monkeypatch_chunk():
    saved = source.CHUNK
    yield lambda size: setattr(source, "CHUNK", size)
    source.CHUNK = saved


def test_one_side_leaf_per_message_imports_in_linear_space(vault, tmp_path):
    """Each answer also has a regenerated sibling: the branches hold each message once
    (plus the turn each branches from), not each leaf's whole path."""
    n = 2000
    nodes = {"root": {"id": "root", "message": None, "parent": None, "children": ["m0"]}}
    for i in range(n):
        role = "user" if i % 2 == 0 else "assistant"
        here, nxt = f"m{i}", f"m{i + 1}"
        nodes[here] = {"id": here, "parent": f"m{i - 1}" if i else "root", "children": [nxt, f"s{i}"] if i < n - 1 else [],
                       "message": {"author": {"role": role}, "content": {"content_type": "text", "parts": [f"main {i}"]}}}
        if i < n - 1:
            nodes[f"s{i}"] = {"id": f"s{i}", "parent": here, "children": [], "message": {
                "author": {"role": "assistant"}, "content": {"content_type": "text", "parts": [f"side {i}"]}}}
    conv = {"title": "Bushy", "mapping": nodes, "current_node": f"m{n - 1}", "conversation_id": "bushy-1"}
    t = chatgpt.thread(msgspec.json.decode(json.dumps(conv), type=chatgpt._Conversation))
    assert [text for _, text in t.turns] == [f"main {i}" for i in range(n)]
    assert len(t.branches) == n - 1
    assert t.branches[5] == (5, [("assistant", "main 5"), ("assistant", "side 5")])  # side 5 answers at 6
    assert sum(len(turns) for _, turns in t.branches) == 2 * (n - 1)
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([conv]))
    assert import_chatgpt_export(vault, path).turns == n
    # Each branch is shown from where it leaves the thread: the regenerated answer in place of turn i + 1.
    branches = vault.get_conversation(vault.list_conversations()[0].id).branches
    assert [(b.from_index, [t.text for t in b.turns]) for b in branches[:3]] == [
        (1, ["side 0"]), (2, ["side 1"]), (3, ["side 2"])]
    assert [h.conversation for h in vault.search("side 1234")] == [only(vault).id]


@pytest.mark.parametrize("where", ["title", "between"])
def test_zip_bombs_are_refused_naming_file_and_place(vault, tmp_path, where):
    """A member that expands past its limit, or a conversation past the record limit,
    is refused by name and place, before it is held in memory; nothing is kept."""
    archive = tmp_path / "export.zip"
    # Stored, the huge title passes the expansion limit and meets the record limit.
    method = zipfile.ZIP_STORED if where == "title" else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(archive, "w", method) as zf:
        zf.write(TREE, "conversations-000.json")
        with zf.open("conversations-001.json", "w") as f:
            f.write(b'[{"title": "' if where == "title" else b"[")
            for _ in range(80):
                f.write((b"x" if where == "title" else b" ") * (1 << 20))
            f.write(b'", "mapping": {}}]' if where == "title" else b"]")
    with pytest.raises(ImportFailed) as e:
        import_chatgpt_export(vault, archive)
    expected = (
        "conversation 0 (byte 1): larger than 32 MiB, the limit for one conversation" if where == "title"
        else "byte 67108864: expands past 64 MiB, over 100 times its compressed size: refused as a zip bomb"
    )
    assert str(e.value).startswith(f"{archive}!conversations-001.json: {expected}")
    assert vault.list_conversations() == []


def test_an_encrypted_zip_member_is_named(vault, tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("conversations.json", TREE.read_bytes())
    data = bytearray(archive.read_bytes())
    # Set the "encrypted" flag in the local header and the central directory, as a password-protected zip has.
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        at = data.index(sig)
        flag = at + (6 if sig == b"PK\x03\x04" else 8)
        data[flag] |= 1
    archive.write_bytes(data)
    with pytest.raises(ImportFailed, match=r"export\.zip!conversations\.json: opening: .*encrypted"):
        import_chatgpt_export(vault, archive)


def test_citation_marks_without_an_end_are_read_in_one_pass():
    """200,000 openings of a citation mark with no 】 (600 KB) once cost ~8 minutes of
    backtracking; marks before the last 】 are still taken out."""
    from draftvault.importers.chatgpt import _SEARCH_MARK, _sub_before_last, _with_citations

    text = "Sources【3†Wiki】 and " + "【1†" * 200_000
    assert _with_citations(text, {}) == "Sources and " + "【1†" * 200_000
    assert _with_citations("\ue200cite\ue201ok" + "\ue200" * 200_000, {}) == "ok" + "\ue200" * 200_000
    shown = _sub_before_last(_SEARCH_MARK, lambda m: f"[{m[1]}] {m[2]}", "【0†Docs】 " + "【1†x†" * 100_000, "】")
    assert shown == "[0] Docs " + "【1†x†" * 100_000
