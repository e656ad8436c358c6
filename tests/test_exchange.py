"""Exports that import elsewhere: ChatGPT's conversations.json (re-imported by DraftVault
without loss), Open WebUI's chat JSON, and Markdown notes that a later export updates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from draftvault.importers.chatgpt import import_chatgpt_export
from draftvault.store import Vault
from frames import snapshot
from test_import_chatgpt_canvas import canvas_export

ROOT = Path(__file__).resolve().parents[1]
REAL = Path(os.environ.get("DRAFTVAULT_REAL_FIXTURES") or ROOT / ".." / "shared" / "fixtures" / "real") / "chatgpt-export"


def dv(home: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "draftvault", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DRAFTVAULT_HOME": str(home)})
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def everything(vault: Vault) -> dict[str, tuple]:
    """Each conversation by its site id: what an export must carry."""
    out = {}
    for c in vault.list_conversations(limit=1000):
        d = vault.get_conversation(c.id)
        out[d.conversation_id] = (
            d.title, d.model, d.created_at, d.updated_at, [(t.index, t.role, t.text, t.thinking, t.documents) for t in d.turns],
            [(b.from_index, [(t.index, t.role, t.text, t.thinking, t.documents) for t in b.turns]) for b in d.branches],
        )
    return out


@pytest.fixture
def source(tmp_path) -> Path:
    """A vault with real ChatGPT exports (edits and regenerations as branches) and a captured chat."""
    home = tmp_path / "source"
    canvas_file = tmp_path / "canvas.json"
    canvas_file.write_text(json.dumps([canvas_export()]))
    vault = Vault.open(home)
    try:
        for name in ("chatgpt-tree.json", "chatgpt-export.json", "chatgpt-citations.json"):
            import_chatgpt_export(vault, REAL / name)
        vault.apply("client-x", snapshot(1, [("user", "Captured live"), ("assistant", "Kept *as* Markdown\n\n```py\nx = 1\n```")],
                                         conv="c-live-1", title="Live"))
        # A captured canvas (code and a document) and thinking; an imported canvas export.
        vault.apply("client-x", snapshot(2, [("user", "Make a page"), ("assistant", "Here it is.", {
            "thinking": "Thought for 3s\n\n**Layout**\n\nA heading, then a list.\n",
            "documents": [{"title": "index.html", "kind": "code", "text": "<h1>Hi</h1>\n", "language": "html"},
                          {"title": "Notes", "kind": "document", "text": "# Notes\n\n- one"},
                          {"title": "Untitled", "kind": "code", "text": "plain\n"}]})],
            page="page-canvas", conv="c-live-canvas", title="Canvas"))
        import_chatgpt_export(vault, canvas_file)
        # A branch that is a prefix of the current thread, and one that goes on past it.
        vault.import_conversation(
            site="chatgpt", conversation_id="c-edges", title="Edges", url=None, model="gpt-4o",
            created_at="2024-05-01T10:00:00.000+00:00", updated_at="2024-05-01T11:00:00.250+00:00",
            turns=[("user", "Q1"), ("assistant", "A1"), ("user", "Q2"), ("assistant", "A2")],
            branches=[(0, [("user", "Q1"), ("assistant", "A1")]),
                      (0, [("user", "Q1"), ("assistant", "A1"), ("user", "Q2"), ("assistant", "A2"), ("user", "Q3")]),
                      (0, [("user", "Q1 edited"), ("assistant", "A1'")])],
        )
        # chatgpt-citations.json re-imports "Citation Convo" shorter: the thread it replaces is kept as
        # an earlier version (a later import deletes nothing). Its tool texts hold literal citation
        # marks, which the round trip keeps as text.
        (citations,) = [c.id for c in vault.list_conversations() if c.title == "Citation Convo"]
        (edited,) = vault.get_conversation(citations).branches
        assert edited.reason == "edited" and any("【" in t.text for t in edited.turns)
        assert sum(len(v[5]) for v in everything(vault).values()) == 5  # the real tree brings one
        assert sum(len(t[4]) for v in everything(vault).values() for t in v[4]) == 7  # documents
    finally:
        vault.close()
    return home


def test_chatgpt_export_reimports_without_loss(source, tmp_path):
    out = tmp_path / "conversations.json"
    assert "exported" in dv(source, "export", "--format", "chatgpt", "--out", str(out))
    exported = json.loads(out.read_bytes())
    fresh = tmp_path / "fresh"
    dv(fresh, "import", "chatgpt-export", str(out))

    a, b = Vault.open(source), Vault.open(fresh)
    try:
        before, after = everything(a), everything(b)
    finally:
        a.close()
        b.close()
    assert len(exported) == len(before) >= 5
    assert after == before
    # ChatGPT's own shape: current_node ends the current thread, every node's parent lists it.
    for conv in exported:
        mapping = conv["mapping"]
        assert conv["current_node"] in mapping and not mapping[conv["current_node"]]["children"]
        assert all(node["id"] in mapping[node["parent"]]["children"] for node in mapping.values() if node["parent"])


def test_openwebui_export_is_a_chat_tree_with_the_current_thread(source, tmp_path):
    out = tmp_path / "openwebui.json"
    dv(source, "export", "--format", "openwebui", "--out", str(out))
    chats = json.loads(out.read_bytes())
    vault = Vault.open(source)
    try:
        want = {c.id: vault.get_conversation(c.id) for c in vault.list_conversations()}
    finally:
        vault.close()
    assert {c["id"] for c in chats} == set(want)
    for entry in chats:
        detail, chat = want[entry["id"]], entry["chat"]
        assert entry["title"] == chat["title"] == (detail.title or "Untitled conversation")
        assert isinstance(entry["created_at"], int) and isinstance(entry["updated_at"], int)
        history = chat["history"]["messages"]
        assert [(m["role"], m["content"]) for m in chat["messages"]] == [(t.role, t.text) for t in detail.turns]
        if detail.turns:
            assert chat["history"]["currentId"] == chat["messages"][-1]["id"]
            assert chat["messages"][0]["parentId"] is None
        for m in history.values():
            assert m["parentId"] is None or m["id"] in history[m["parentId"]]["childrenIds"]
        leaves = [m for m in history.values() if not m["childrenIds"]]
        assert len(leaves) == 1 + len(detail.branches) if detail.turns else not history


def test_markdown_notes_keep_their_id_and_a_later_export_updates_them(source, tmp_path):
    notes = tmp_path / "notes"
    dv(source, "export", "--format", "md", "--out", f"{notes}/")
    first = {p.name: p.read_text() for p in notes.glob("*.md")}
    edges = next(name for name, text in first.items() if '\ntitle: "Edges"\n' in text)
    assert first[edges].startswith('---\nid: "')
    (notes / edges).rename(notes / "My edges note.md")  # the person renames a note
    (notes / "mine.md").write_text("my own note\n")

    vault = Vault.open(source)
    try:  # the conversation changes: a new title and a turn more
        vault.import_conversation(site="chatgpt", conversation_id="c-edges", title="Edges, renamed", url=None,
                                  model=None, created_at=None, updated_at=None,
                                  turns=[("user", "Q1"), ("assistant", "A1"), ("user", "Q2")])
    finally:
        vault.close()
    dv(source, "export", "--format", "md", "--out", str(notes))
    second = {p.name: p.read_text() for p in notes.glob("*.md")}
    assert set(second) == set(first) - {edges} | {"My edges note.md", "mine.md"}
    assert '\ntitle: "Edges, renamed"\n' in second["My edges note.md"] and second["mine.md"] == "my own note\n"
    assert all(second[name] == text for name, text in first.items() if name != edges)

    zips = [tmp_path / "one.zip", tmp_path / "two.zip"]
    for z in zips:
        dv(source, "export", "--out", str(z))
    assert zipfile.ZipFile(zips[0]).namelist() == zipfile.ZipFile(zips[1]).namelist()
