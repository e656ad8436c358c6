"""Import of Claude's data export into a real vault on disk.

The real files under ../shared/fixtures/real/claude-export/ were read by hand:
- artifacts.json: 1 conversation "LLM Pricing Calculator", 20 messages in the legacy
  shape (text only), not in time order, each answer with the same time as its question;
  10 answers carry an `<antThinking>` note and an `<antArtifact>` (HTML) in their text.
- example.json: 1 conversation, a question naming a screenshot file and its answer.
The newer shape (content blocks, attachments, parents) and projects are written here
from the export's documented shape.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from draftvault.importers import claude, detect, import_file
from draftvault.importers.claude import import_claude_export
from draftvault.importers.source import ImportFailed

REAL = Path(os.environ.get("DRAFTVAULT_REAL_FIXTURES") or Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "real") / "claude-export"
ARTIFACTS = REAL / "artifacts.json"
EXAMPLE = REAL / "example.json"


def by_title(vault) -> dict:
    return {c.title: vault.get_conversation(c.id) for c in vault.list_conversations()}


def test_legacy_export_in_time_order_thinking_and_artifacts_apart_from_the_text(vault):
    result = import_claude_export(vault, ARTIFACTS)
    assert (result.conversations, result.created, result.turns) == (1, 1, 20)
    assert result.notes == ["10 thinking blocks kept apart from the answers' text"]
    c = by_title(vault)["LLM Pricing Calculator"]
    assert (c.site, c.url) == ("claude", "https://claude.ai/chat/91098bc8-f2c4-427b-b71b-1e25efa2e871")
    assert c.created_at.startswith("2024-10-17T03:28:33.480")
    assert [t.role for t in c.turns] == ["user", "assistant"] * 10
    raw = sorted(json.loads(ARTIFACTS.read_text())[0]["chat_messages"], key=lambda m: m["created_at"])
    assert c.turns[0].text == raw[0]["text"]  # "Built me an artifact with no react ..."
    assert c.turns[2].text.startswith('Those fields should all start blank, while the prices should start at zero.')
    assert c.turns[-2].text.startswith('If it\'s showing "Total Cost: 0.085500 cents"')
    answer = c.turns[1].text
    assert answer.startswith("Certainly! I'll create an HTML artifact with a pricing calculator")
    assert "antThinking" not in answer and "This request is suitable for an artifact" not in answer
    assert "This request is suitable for an artifact" in c.turns[1].thinking
    (artifact,) = c.turns[1].documents
    assert (artifact.title, artifact.kind, artifact.language) == ("LLM Pricing Calculator", "code", "html")
    assert artifact.text.startswith("<!DOCTYPE html>\n") and "<!DOCTYPE" not in answer
    # Each later edit of the artifact is kept with the answer that made it.
    assert [t.documents[0].title for t in c.turns[1::2]][-1] == "LLM Pricing Calculator with Responsive Layout and Refined Output"
    assert not any("<antArtifact" in t.text or "<antThinking" in t.text for t in c.turns)
    assert [t.first_seen[:19] for t in c.turns[:2]] == [m["created_at"][:19] for m in raw[:2]]


def test_files_are_named_and_reimport_adds_nothing(vault):
    import_claude_export(vault, EXAMPLE)
    c = by_title(vault)["Bash Command for OpenAI API"]
    assert [(t.role, t.text) for t in c.turns] == [
        ("user", "Turn this into a bash command\n\n[File: CleanShot 20241017 at 22.29.542x.png]"),
        ("assistant", "To turn this into a bash command, we need to modify the JSON structure slightly to make it "
                      "compatible with bash syntax..."),
    ]
    before = c
    again = import_claude_export(vault, EXAMPLE)
    assert (again.conversations, again.created, again.updated, again.unchanged) == (1, 0, 0, 1)
    assert by_title(vault)["Bash Command for OpenAI API"] == before


def newer_export(tmp_path: Path) -> Path:
    """A zip as claude.ai wrote it until 2026-08: content blocks, attachments, edits, projects."""
    conv, project = newer_parts()
    archive = tmp_path / "data-2025-03-02.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("conversations.json", json.dumps([conv]))
        zf.writestr("projects.json", json.dumps([project]))
        zf.writestr("users.json", json.dumps([{"uuid": "acct", "full_name": "A"}]))
    return archive


def newer_parts() -> tuple[dict, dict]:
    """A conversation and a project as the newer exports hold them."""
    root = "00000000-0000-4000-8000-000000000000"

    def msg(uuid, parent, sender, content, at, **extra):
        return {"uuid": uuid, "parent_message_uuid": parent, "sender": sender, "text": "", "content": content,
                "created_at": at, "updated_at": at, "attachments": [], "files": [], **extra}

    conv = {"uuid": "conv-new-1", "name": "Logs", "summary": "", "created_at": "2025-03-01T10:00:00Z",
            "updated_at": "2025-03-01T10:05:00Z", "account": {"uuid": "acct"}, "chat_messages": [
        msg("m1", root, "human", [{"type": "text", "text": "Why does this log fail?"}], "2025-03-01T10:00:00Z",
            attachments=[{"file_name": "app.log", "file_size": 20, "file_type": "text/plain",
                          "extracted_content": "ERROR disk full\n"}],
            files=[{"file_name": "app.log"}, {"file_uuid": "f-2", "file_name": "screen.png"}]),
        msg("m2", "m1", "assistant", [
            {"type": "thinking", "thinking": "The user wants the cause. Secret musings."},
            {"type": "text", "text": "Let me check the disk."},
            {"type": "tool_use", "name": "bash", "input": {"command": "df -h"}},
            {"type": "tool_result", "name": "bash", "content": [{"type": "text", "text": "/dev/sda1 100%"}]},
            {"type": "text", "text": "The disk is full."},
        ], "2025-03-01T10:01:00Z"),
        msg("m3", "m2", "human", [{"type": "text", "text": "Thanks, a first wording"}], "2025-03-01T10:02:00Z"),
        msg("m4", "m3", "assistant", [{"type": "text", "text": "An answer to the first wording"}], "2025-03-01T10:03:00Z"),
        msg("m5", "m2", "human", [{"type": "text", "text": "Thanks! How do I free space?"}], "2025-03-01T10:04:00Z"),
        msg("m6", "m5", "assistant", [{"type": "text", "text": "Delete old logs."}], "2025-03-01T10:05:00Z"),
    ]}
    project = {"uuid": "proj-1", "name": "Ops", "description": "Operations notes", "is_private": True,
               "prompt_template": "Answer tersely.", "created_at": "2025-02-01T00:00:00Z",
               "updated_at": "2025-02-02T00:00:00Z",
               "docs": [{"uuid": "d1", "filename": "runbook.md", "content": "Restart the pager daemon.",
                         "created_at": "2025-02-01T00:00:00Z"}]}
    return conv, project


def test_content_blocks_tools_attachments_edits_and_projects(vault, tmp_path):
    archive = newer_export(tmp_path)
    assert detect(archive) == "claude-export"
    result = import_claude_export(vault, archive)
    assert (result.conversations, result.created) == (2, 2)
    assert result.notes == [
        "1 thinking blocks kept apart from the answers' text",
        "1 attachments' extracted text kept with their messages",
        '1 projects imported as conversations titled "Project: NAME"',
    ]
    convs = by_title(vault)
    c = convs["Logs"]
    assert [(t.role, t.text) for t in c.turns] == [
        ("user", "Why does this log fail?\n\n**app.log**\n\n```\nERROR disk full\n```\n\n[File: screen.png]"),
        ("assistant", "Let me check the disk."),
        ("tool", '**Tool call:** `bash`\n\n```json\n{\n  "command": "df -h"\n}\n```'),
        ("tool", "```\n/dev/sda1 100%\n```"),
        ("assistant", "The disk is full."),
        ("user", "Thanks! How do I free space?"),  # the newest leaf is the thread; the edit a branch
        ("assistant", "Delete old logs."),
    ]
    assert c.turns[1].thinking == "The user wants the cause. Secret musings."
    assert not vault.search("musings")  # search finds answers, not thinking (docs/markdown.md)
    assert [h.conversation for h in vault.search("first wording")] == [c.id]  # the edited-away branch is
    p = convs["Project: Ops"]
    assert [(t.role, t.text) for t in p.turns] == [
        ("system", "Operations notes"), ("system", "Answer tersely."),
        ("system", "**runbook.md**\n\nRestart the pager daemon."),
    ]
    assert import_claude_export(vault, archive).unchanged == 2


def export_in_parts(tmp_path: Path) -> Path:
    """An export as claude.ai writes it since 2026-09: a manifest listing one zip per kind of
    data, conversations split over numbered parts, one file per project."""
    conv, project = newer_parts()
    other = {**json.loads(EXAMPLE.read_text())[0]}
    folder = tmp_path / "claude-export"
    folder.mkdir()
    for name, members in {
        "conversations-000.zip": {"conversations.json": [conv]},
        "conversations-001.zip": {"conversations.json": [other]},
        "projects-000.zip": {"projects/proj-1.json": project},
        "light_metadata-000.zip": {"users.json": [{"uuid": "acct"}], "login_history.json": []},
        "memories-000.zip": {"memories/acct.json": {
            "account_uuid": "acct", "conversations_memory": "Works in operations; prefers terse answers.",
            "project_memories": {"proj-1": "Runs the pager rota.", "gone": 7},
            "memory_files": [{"path": "/memories/people/sam.md", "content": "Sam: on call Fridays.",
                              "updated_at": "2026-09-01T00:00:00Z"}, {"path": "/memories/empty.md"}]}},
    }.items():
        with zipfile.ZipFile(folder / name, "w") as zf:
            for member, data in members.items():
                zf.writestr(member, json.dumps(data))
    (folder / "manifest-acct-2026-09-20-20-17-00.json").write_text(json.dumps({
        "instructions": "Download each file using the export_url.", "created_at": "2026-09-20T20:17:00+00:00",
        "total_files": 4, "version": "1.0", "data_files": [
            {"batch_index": i, "export_url": "https://claude.invalid/x", "category": n.split("-")[0], "part": 0,
             "filename": n} for i, n in enumerate(sorted(p.name for p in folder.glob("*.zip")))]}))
    return folder


def test_an_export_in_parts_imports_from_its_folder_zipped_or_extracted_and_part_by_part(vault, tmp_path):
    folder = export_in_parts(tmp_path)
    assert detect(folder) == "claude-export"
    result = import_claude_export(vault, folder)
    assert (result.conversations, result.created) == (4, 4)
    assert result.notes[-2:] == ['1 projects imported as conversations titled "Project: NAME"',
                                 "Claude's memory imported as a conversation titled \"Claude's memory\""]
    assert set(by_title(vault)) == {"Logs", "Bash Command for OpenAI API", "Project: Ops", "Claude's memory"}
    assert [t.text for t in by_title(vault)["Project: Ops"].turns][2] == "**runbook.md**\n\nRestart the pager daemon."
    assert [(t.role, t.text) for t in by_title(vault)["Claude's memory"].turns] == [
        ("system", "Works in operations; prefers terse answers."), ("system", "**Project: Ops**\n\nRuns the pager rota."),
        ("system", "**/memories/people/sam.md**\n\nSam: on call Fridays.")]
    extracted = tmp_path / "extracted"
    for part in folder.glob("*.zip"):
        with zipfile.ZipFile(part) as zf:
            zf.extractall(extracted / part.stem)
    assert import_claude_export(vault, extracted).unchanged == 4
    assert detect(folder / "projects-000.zip") == detect(folder / "memories-000.zip") == "claude-export"
    assert import_file(vault, folder / "projects-000.zip").unchanged == 1  # each part, as the history page sends it
    with pytest.raises(ImportFailed, match=r"light_metadata-000\.zip: zip: holds no conversations\.json \(ChatGPT, Claude\), "
                                           r"nor My Activity \(Google Takeout\)"):
        detect(folder / "light_metadata-000.zip")
    manifest = next(folder.glob("manifest-*.json"))
    with pytest.raises(ImportFailed, match="is the list of a Claude export's parts, not the export: download"):
        import_file(vault, manifest)
    assert len(vault.list_conversations()) == 4


@pytest.mark.parametrize("mangle, place", [
    (lambda raw: raw.replace(b'"sender": "assistant"', b'"sender": 7', 1), "conversation 0 (byte 1): Expected `str`, got `int` - at `$.chat_messages[1].sender`"),
    (lambda raw: raw[:-300], "byte "),
    (lambda raw: raw.replace(b'"uuid": "1db4c66e', b'"uuid": 7, "x": "', 1), "conversation 0 (byte 1): Expected `str`, got `int` - at `$.uuid`"),
])
def test_malformed_export_names_file_and_place_and_keeps_nothing(vault, tmp_path, mangle, place):
    bad = tmp_path / "conversations.json"
    raw = json.dumps(json.loads(EXAMPLE.read_text())).encode()
    bad.write_bytes(mangle(raw))
    with pytest.raises(ImportFailed) as e:
        import_claude_export(vault, bad)
    assert str(e.value).startswith(f"{bad}: {place}")
    assert vault.list_conversations() == []


# The regular expressions the legacy tags were once read with: the scanner must give what they gave.
_OLD_THINKING = re.compile(r"<antThinking>(.*?)</antThinking>\s*", re.S)
_OLD_ARTIFACT = re.compile(r"<antArtifact\b([^>]*)>(.*?)</antArtifact>", re.S)
_PIECES = ["<antThinking>", "</antThinking>", "<antArtifact", "<antArtifacts", "</antArtifact>", ">", " ", "\n", "x", "_",
           ' title="T"', ' type="text/markdown"', ' language="py"', "é", "<", "/"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_legacy_tags_are_read_as_the_regular_expressions_read_them(text):
    parts = claude._Parts()
    rest = parts.legacy_text(text)
    assert parts.thinking == [t.strip() for t in _OLD_THINKING.findall(text) if t.strip()]
    assert parts.documents == [claude._artifact(m[1], m[2]) for m in _OLD_ARTIFACT.finditer(text)]
    assert rest == _OLD_ARTIFACT.sub("", _OLD_THINKING.sub("", text))


def test_openings_without_a_close_are_read_in_one_pass():
    """200,000 openings with no close (2.6 MB of text) once cost ~30 minutes of backtracking."""
    for text in ("Answer.</antThinking>" + "<antThinking>" * 200_000, "<antArtifact " * 200_000 + "tail"):
        parts = claude._Parts()
        assert parts.legacy_text(text) == text and parts.thinking == [] and parts.documents == []


def test_blocks_and_senders_not_known_yet_import_with_what_text_they_have(vault, tmp_path):
    convs = [{"uuid": "c-new-shapes", "name": "New shapes", "created_at": "2025-06-01T10:00:00Z",
              "updated_at": "2025-06-01T10:01:00Z", "chat_messages": [
                  {"uuid": "m1", "sender": "human", "text": "Plot it", "created_at": "2025-06-01T10:00:00Z",
                   "attachments": [{"file_name": {"x": 1}, "extracted_content": ["not text"]}], "files": [{"file_name": 5}]},
                  {"uuid": "m1v", "sender": "human", "created_at": "2025-06-01T10:00:10Z", "content": [
                      {"type": "voice_note", "transcript": "Make it blue", "title": "Voice note"}]},
                  {"uuid": "m2", "sender": "assistant", "created_at": "2025-06-01T10:00:30Z", "content": [
                      {"type": "chart", "text": {"series": [1, 2]}, "name": ["plot"]},
                      {"type": "text", "text": "Here is the plot."}]},
                  {"uuid": "m3", "sender": "moderator", "text": "This chat was reviewed.", "created_at": "2025-06-01T10:01:00Z"},
              ]}]
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(convs))
    import_claude_export(vault, path)
    [summary] = vault.list_conversations()
    turns = vault.get_conversation(summary.id).turns
    assert [(t.role, t.text) for t in turns] == [("user", "Plot it"), ("user", "Make it blue"), ("assistant", "Here is the plot."),
                                                  ("system", "This chat was reviewed.")]


def one_answer(vault, tmp_path: Path, question: str, blocks: list[dict]):
    """Imports a conversation of a question and an answer of these content blocks; returns it."""
    conv = {"uuid": "c-one", "name": question, "created_at": "2025-11-02T10:00:00Z", "updated_at": "2025-11-02T10:01:00Z",
            "chat_messages": [
                {"uuid": "m1", "sender": "human", "text": question, "created_at": "2025-11-02T10:00:00Z",
                 "content": [{"type": "text", "text": question, "citations": []}]},
                {"uuid": "m2", "sender": "assistant", "text": "", "created_at": "2025-11-02T10:00:04Z", "content": blocks}]}
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([conv]))
    import_claude_export(vault, path)
    return by_title(vault)[question]


def test_artifacts_made_by_tool_calls_are_documents_like_the_tagged_ones(vault, tmp_path):
    """Exports since late 2024 hold artifacts as `artifacts` tool calls, not <antArtifact> tags."""
    c = one_answer(vault, tmp_path, "A list view", [
        {"type": "text", "text": "Here it is.", "citations": []},
        {"type": "tool_use", "name": "artifacts", "input": {
            "id": "list-view", "type": "text/html", "title": "List view", "command": "create",
            "content": "<ul><li>Zażółć</li></ul>", "language": None, "version_uuid": "ver-1"}},
        {"type": "tool_result", "name": "artifacts", "content": [{"type": "text", "text": "OK"}], "is_error": False},
        {"type": "tool_use", "name": "artifacts", "input": {
            "id": "list-view", "command": "update", "old_str": "<ul>", "new_str": "<ol>", "version_uuid": "ver-2"}},
        {"type": "tool_result", "name": "artifacts", "content": [{"type": "text", "text": "OK"}], "is_error": False},
        {"type": "text", "text": "Numbered now.", "citations": []}])
    assert [(t.role, t.text) for t in c.turns] == [
        ("user", "A list view"), ("assistant", "Here it is."),
        ("tool", '**Tool call:** `artifacts`\n\n```json\n{\n  "id": "list-view",\n  "command": "update",\n  "old_str": "<ul>",\n'
                 '  "new_str": "<ol>",\n  "version_uuid": "ver-2"\n}\n```'),
        ("assistant", "Numbered now."),
    ]
    (doc,) = c.turns[1].documents
    assert (doc.title, doc.kind, doc.language, doc.text) == ("List view", "code", "html", "<ul><li>Zażółć</li></ul>\n")


def test_a_web_searchs_results_keep_their_titles_and_pages(vault, tmp_path):
    """claude.ai shows a search's results as titled links; the export holds them as `knowledge`."""
    turns = one_answer(vault, tmp_path, "Check the citation", [
        {"type": "tool_use", "id": "toolu_1", "name": "web_search", "input": {"query": "Rev Mod Phys 84 353"},
         "message": "Searching the web", "display_content": None},
        {"type": "tool_result", "tool_use_id": "toolu_1", "name": "web_search", "is_error": False, "content": [
            {"type": "knowledge", "title": "Surrogate [reactions] | Rev. Mod. Phys.",
             "url": "https://journals.aps.org/rmp/abstract/10.1103/RevModPhys.84.353",
             "metadata": {"type": "webpage_metadata", "site_domain": "aps.org"}, "is_missing": False,
             "text": "Published 13 March, 2012", "is_citable": True},
            {"type": "knowledge", "title": "No page", "url": "javascript:alert(1)", "text": ""}]},
        {"type": "token_budget"},
        {"type": "text", "text": "The citation is right.", "citations": [
            {"uuid": "c1", "start_index": 0, "end_index": 12, "details": {"type": "web_search_citation"}}]}]).turns
    assert [(t.role, t.text) for t in turns[2:]] == [
        ("tool", "[Surrogate \\[reactions\\] | Rev. Mod. Phys.](https://journals.aps.org/rmp/abstract/10.1103/RevModPhys.84.353)"
                 "\n\n```\nPublished 13 March, 2012\n```"),
        ("assistant", "The citation is right."),
    ]


@pytest.mark.parametrize("leaf, shown", [("m2", "First answer"), (None, "Regenerated answer"), (["m2"], "Regenerated answer")])
def test_the_thread_shown_is_the_current_leafs_when_the_export_names_it(vault, tmp_path, leaf, shown):
    root = "00000000-0000-4000-8000-000000000000"
    conv = {"uuid": "c-leaf", "name": "Leaf", "created_at": "2025-06-01T10:00:00Z", "updated_at": "2025-06-01T10:03:00Z",
            "current_leaf_message_uuid": leaf, "chat_messages": [
                {"uuid": "m1", "parent_message_uuid": root, "sender": "human", "text": "Hi", "created_at": "2025-06-01T10:00:00Z"},
                {"uuid": "m2", "parent_message_uuid": "m1", "sender": "assistant", "text": "First answer",
                 "created_at": "2025-06-01T10:01:00Z"},
                {"uuid": "m3", "parent_message_uuid": "m1", "sender": "assistant", "text": "Regenerated answer",
                 "created_at": "2025-06-01T10:02:00Z"}]}
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([conv]))
    import_claude_export(vault, path)
    c = by_title(vault)["Leaf"]
    assert [t.text for t in c.turns] == ["Hi", shown]
    assert [[t.text for t in b.turns] for b in c.branches] == [[({"First answer", "Regenerated answer"} - {shown}).pop()]]
