"""Import of Claude's data export (claude.ai: Settings > Privacy > Export data).

Accepts the export's .zip or its `conversations.json` (then a `projects.json` beside it is
read too). Exports since 2026-09 come in parts, listed by a `manifest-….json`:
`conversations-000.zip` (conversations.json, same shape), `projects-000.zip`
(`projects/<uuid>.json`, one project each), `light_metadata-000.zip`...; each part, or a
folder holding them (zipped or extracted), imports too. `conversations.json` is an array of conversations `{uuid, name, created_at,
updated_at, chat_messages}`; a message is `{uuid, sender: human|assistant, text, content:
[blocks], attachments: [{file_name, extracted_content}], files: [{file_name}], created_at,
parent_message_uuid}`. Newer exports fill `content`, older ones only `text` (with
`<antThinking>` and `<antArtifact>` tags inside it).

What is kept where:
- text blocks are the turn's text; an artifact becomes one of the turn's documents (code
  with its language; `text/markdown` a Markdown document), out of the text, whether a tag
  made it or (newer exports) an `artifacts` tool call creating or rewriting it, whose "OK"
  is dropped;
- tool use and tool results become turns of their own (role `tool`), in order;
- thinking blocks (and `<antThinking>` notes) are the turn's thinking, never its text;
- a turn was first seen at its message's `created_at`;
- attachments' extracted text is appended to the message, under the file's name; files
  without text are named;
- each project (`projects.json`) becomes a conversation titled "Project: NAME" holding
  its description, instructions and knowledge documents (system turns); nothing in the
  export links a conversation to its project;
- Claude's memory (`memories/<account>.json`) becomes a conversation titled "Claude's
  memory": what it remembers of the conversations, of each project, its memory files.
Messages with `parent_message_uuid` form a tree (edits, retries): the thread is the path to
`current_leaf_message_uuid` when the conversation has it, else to the newest leaf; the others
are branches (`tree`); without parents, messages are ordered by time.
One vault transaction: a malformed file raises ImportFailed (file and place), nothing stays.
Block types and senders not known yet are read, not refused: a block's text when it has
one (fields that are not strings are left out: source.strings_only), another sender's
message as a system turn.
"""

from __future__ import annotations

import json
import re
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from .. import models, times
from ..store import ImportVault
from . import source, tree
from ..markdown import fence, link
from ..protocol import Document
from ..store.records import TurnMeta, with_meta
from .source import ImportFailed
from .tree import Turn


class _Block(msgspec.Struct):
    type: str
    text: Any = None
    thinking: Any = None
    name: Any = None
    input: Any = None
    content: Any = None
    transcript: Any = None  # a voice_note's words

    def __post_init__(self) -> None:
        source.strings_only(self, "text", "thinking", "name", "transcript")
        self.text = self.text or self.transcript


class _Attachment(msgspec.Struct):
    file_name: Any = None
    extracted_content: Any = None

    def __post_init__(self) -> None:
        source.strings_only(self, "file_name", "extracted_content")


class _File(msgspec.Struct):
    file_name: Any = None

    def __post_init__(self) -> None:
        source.strings_only(self, "file_name")


class _Message(msgspec.Struct):
    sender: str  # human or assistant (another's messages are the system's)
    uuid: str | None = None
    text: Any = None
    content: list[_Block] | None = None
    attachments: list[_Attachment] | None = None
    files: list[_File] | None = None
    created_at: str | None = None
    parent_message_uuid: str | None = None

    def __post_init__(self) -> None:
        source.strings_only(self, "text")


class _Conversation(msgspec.Struct):
    uuid: str
    name: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    chat_messages: list[_Message] = []
    current_leaf_message_uuid: Any = None  # the thread shown, when the export says (else the newest leaf)


class _Doc(msgspec.Struct):
    filename: str | None = None
    content: str | None = None


class _Project(msgspec.Struct):
    uuid: str
    name: str | None = None
    description: str | None = None
    prompt_template: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    docs: list[_Doc] = []


class _MemoryFile(msgspec.Struct):
    path: Any = None
    content: Any = None

    def __post_init__(self) -> None:
        source.strings_only(self, "path", "content")


class _Memory(msgspec.Struct):
    """Claude's memory of the account (`memories/<account>.json`, exports since 2026-09)."""

    conversations_memory: Any = None
    project_memories: Any = None  # project uuid -> what Claude remembers of it
    memory_files: list[_MemoryFile] | None = None
    account_uuid: Any = None
    created_at: Any = None
    updated_at: Any = None

    def __post_init__(self) -> None:
        source.strings_only(self, "conversations_memory", "account_uuid", "created_at", "updated_at")


_conversation = msgspec.json.Decoder(_Conversation)
_project = msgspec.json.Decoder(_Project)
_memory = msgspec.json.Decoder(_Memory)

_PARTS = {  # the export's files besides conversations.json, by their path in the zip or folder
    "project": re.compile(r"(?:.*/)?(?:projects\.json|projects/[^/]+\.json)"),
    "memory": re.compile(r"(?:.*/)?memories/[^/]+\.json"),
}
_MEMORY_TITLE = "Claude's memory"
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_LANGUAGES = {"text/html": "html", "image/svg+xml": "svg", "application/vnd.ant.mermaid": "mermaid",
              "application/vnd.ant.react": "jsx"}


def _iso(t: str | None) -> str | None:
    if not t:
        return None
    try:
        return times.iso(datetime.fromisoformat(t))
    except ValueError:
        return None


def _tags(text: str, open: str, close: str, *, attributes: bool) -> list[tuple[int, int, str, str]]:
    """(start, end, attributes, body) of each `<open attributes>body<close>` in `text`, left to
    right; a thinking tag's end takes the white space after it. Found with str.find in linear
    time: a lazy regular expression took quadratic time on openings without a close (20,000
    of them, 260 KB, took 16 s; an export's message may be 32 MiB)."""
    found, pos = [], 0
    while (i := text.find(open, pos)) >= 0:
        head = i + len(open)
        if attributes and head < len(text) and (text[head].isalnum() or text[head] == "_"):
            pos = head  # another tag whose name starts so
            continue
        gt = text.find(">", head) if attributes else head - 1
        j = text.find(close, gt + 1) if gt >= 0 else -1
        if j < 0:
            break  # no close after this opening, so none after any later one either
        end = j + len(close)
        while not attributes and end < len(text) and text[end].isspace():
            end += 1
        found.append((i, end, text[head:gt] if attributes else "", text[gt + 1 : j]))
        pos = end
    return found


def _without(text: str, tags: list[tuple[int, int, str, str]]) -> str:
    starts, ends = [0] + [end for _, end, *_ in tags], [start for start, *_ in tags] + [len(text)]
    return "".join(text[a:b] for a, b in zip(starts, ends))


def _artifact(attributes: str, body: str) -> Document:
    return _document(dict(_ATTR.findall(attributes)), body)


def _artifact_call(block: _Block) -> Document | None:
    """The artifact an `artifacts` tool call (newer exports) created or rewrote whole, kept
    as the legacy tag's is; its edits (old_str, new_str) stay tool calls."""
    args = block.input
    if block.name != "artifacts" or not isinstance(args, dict) or args.get("command") not in ("create", "rewrite"):
        return None
    if not isinstance(body := args.get("content"), str):
        return None
    attrs = {k: v for k, v in (("title", args.get("title")), ("identifier", args.get("id")), ("type", args.get("type")),
                               ("language", args.get("language"))) if isinstance(v, str) and v}
    return _document(attrs, body)


def _document(attrs: dict[str, str], body: str) -> Document:
    title = attrs.get("title") or attrs.get("identifier") or "Artifact"
    if attrs.get("type") == "text/markdown":
        return Document(title=title, kind="document", text=body.strip("\n"))
    lang = attrs.get("language") or _LANGUAGES.get(attrs.get("type", ""))
    return Document(title=title, kind="code", text=body.strip("\n") + "\n", language=lang or None)


class _Parts:
    """A message's thinking and documents, for the turn its text becomes."""

    def __init__(self) -> None:
        self.thinking: list[str] = []
        self.documents: list[Document] = []

    def legacy_text(self, text: str) -> str:
        """The text without its `<antThinking>` notes and `<antArtifact>`s, which are kept here."""
        thinking = _tags(text, "<antThinking>", "</antThinking>", attributes=False)
        self.thinking += [body.strip() for *_, body in thinking if body.strip()]
        self.documents += [_artifact(a, body) for *_, a, body in _tags(text, "<antArtifact", "</antArtifact>", attributes=True)]
        rest = _without(text, thinking)
        return _without(rest, _tags(rest, "<antArtifact", "</antArtifact>", attributes=True))

    def turn(self, role: str, text: str, first_seen: str | None) -> Turn:
        """The turn, with what was gathered (then forgotten: the next turn starts afresh)."""
        meta = TurnMeta(first_seen=first_seen, thinking="\n\n".join(self.thinking) or None, documents=tuple(self.documents))
        self.thinking, self.documents = [], []
        return with_meta(role, text, meta)


def _tool_result(block: _Block) -> str:
    """The result as Markdown: its text fenced; a search result's title linked to its page
    (what claude.ai shows of it) above its text."""
    if isinstance(block.content, str):
        return fence(block.content.strip()) if block.content.strip() else ""
    parts = [p for p in block.content if isinstance(p, dict)] if isinstance(block.content, list) else []
    shown = []
    for p in parts:
        url, title, text = (p.get(k) if isinstance(p.get(k), str) else None for k in ("url", "title", "text"))
        if url and url.startswith(("https://", "http://")):
            shown.append(link(title, url))
        if text and text.strip():
            shown.append(fence(text.strip()))
    return "\n\n".join(shown)


def _turns(msg: _Message, counts: dict[str, int]) -> list[Turn]:
    """The message as turns: its text, and each tool call and result apart."""
    role = {"human": "user", "assistant": "assistant"}.get(msg.sender, "system")
    seen = _iso(msg.created_at)
    out: list[Turn] = []
    texts: list[str] = []
    parts = _Parts()

    def flush() -> None:
        text = "\n\n".join(t.strip() for t in texts if t.strip())
        if text or parts.thinking or parts.documents:
            counts["thinking"] += len(parts.thinking)
            out.append(parts.turn(role, text, seen))
        texts.clear()

    if msg.content:
        for block in msg.content:
            if block.type == "thinking":
                if block.thinking and block.thinking.strip():
                    parts.thinking.append(block.thinking.strip())
            elif block.type == "tool_use" and (document := _artifact_call(block)) is not None:
                parts.documents.append(document)
            elif block.type == "tool_use":
                flush()
                args = json.dumps(block.input, indent=2, ensure_ascii=False)
                out.append(with_meta("tool", f"**Tool call:** `{block.name or 'tool'}`\n\n" + fence(args, "json"),
                                     TurnMeta(first_seen=seen)))
            elif block.type == "tool_result":
                result = _tool_result(block)
                if result and not (block.name == "artifacts" and result == fence("OK")):  # an artifact made, said so
                    flush()
                    out.append(with_meta("tool", result, TurnMeta(first_seen=seen)))
            elif block.text:
                texts.append(parts.legacy_text(block.text))
    elif msg.text:
        texts.append(parts.legacy_text(msg.text))
    for a in msg.attachments or ():
        if a.extracted_content:
            counts["attachments"] += 1
            texts.append(f"**{a.file_name or 'attachment'}**\n\n" + fence(a.extracted_content))
    read = {a.file_name for a in msg.attachments or () if a.extracted_content}  # often listed in files too
    names = [f.file_name for f in msg.files or () if f.file_name and f.file_name not in read]
    if names:
        texts.append("\n".join(f"[File: {n}]" for n in names))
    flush()
    return out


def _thread(conv: _Conversation, counts: dict[str, int]) -> tuple[list[Turn], list[list[Turn]]]:
    msgs = conv.chat_messages
    by_id = {m.uuid: m for m in msgs if m.uuid}
    if msgs and len(by_id) == len(msgs) and all(m.parent_message_uuid for m in msgs):
        parents = {m.uuid: m.parent_message_uuid for m in msgs}
        leaf = conv.current_leaf_message_uuid
        current = leaf if isinstance(leaf, str) and leaf in by_id else max(msgs, key=lambda m: m.created_at or "").uuid
        main, branches, _ = tree.threads(parents, current, lambda k: _turns(by_id[k], counts))
        return main, branches
    # The legacy shape: no parents, and not in time order; a question and its answer
    # may have the same time.
    ordered = sorted(msgs, key=lambda m: (m.created_at or "", m.sender != "human"))
    return [t for m in ordered for t in _turns(m, counts)], []


def import_claude_export(vault: ImportVault, path, progress: models.Progress | None = None) -> models.ImportResult:
    """Imports every conversation (and project, and Claude's memory) of a Claude export; all or nothing."""
    result = source.new_result()
    counts = {"thinking": 0, "attachments": 0, "project": 0, "memory": 0}
    path = Path(path)
    with ExitStack() as stack:
        extras = _extras(path, stack)
        try:
            convs = source.find(path, stack, lambda n: n == "conversations.json", "conversations.json")
        except ImportFailed:
            if not extras:  # a part of the export holding projects or memory only is read as such
                raise
            convs = []
        if len(convs) == 1 and _is_manifest(convs[0]):
            raise ImportFailed(convs[0].name, "byte 0", "is the list of a Claude export's parts, not the export: "
                               "download the files it lists and import them, or the folder holding them")
        meter = source.Meter(sum(s.size for s in convs) + sum(s.size for _, s in extras), progress)
        with vault.transaction():
            for src in convs:
                for place, _, raw in source.records(src, meter):
                    conv = source.decode(_conversation, raw, src.name, place)
                    with source.reading(src.name, place):
                        turns, branches = _thread(conv, counts)
                    _store(vault, result, f"chat/{conv.uuid}", conv.uuid, conv.name, conv, turns, branches)
            names: dict[str, str] = {}  # project uuid -> name, for the memory of each
            for kind, src in extras:
                for place, _, raw in source.records(src, meter, kind, one=not src.name.endswith("projects.json")):
                    if kind == "project":
                        _store_project(vault, result, source.decode(_project, raw, src.name, place), names)
                    else:
                        _store_memory(vault, result, source.decode(_memory, raw, src.name, place), names)
                    counts[kind] += 1
    meter.finish()
    if counts["thinking"]:
        result.notes.append(f"{counts['thinking']} thinking blocks kept apart from the answers' text")
    if counts["attachments"]:
        result.notes.append(f"{counts['attachments']} attachments' extracted text kept with their messages")
    if counts["project"]:
        result.notes.append(f"{counts['project']} projects imported as conversations titled \"Project: NAME\"")
    if counts["memory"]:
        result.notes.append(f"Claude's memory imported as a conversation titled \"{_MEMORY_TITLE}\"")
    return result


def _store_project(vault, result, p: _Project, names: dict[str, str]) -> None:
    turns: list[Turn] = [("system", t) for t in (p.description, p.prompt_template) if t and t.strip()]
    turns += [("system", f"**{d.filename or 'document'}**\n\n{d.content}") for d in p.docs if d.content]
    names[p.uuid] = p.name or p.uuid
    _store(vault, result, f"project/{p.uuid}", f"project:{p.uuid}", f"Project: {p.name or p.uuid}", p, turns, [])


def _store_memory(vault, result, m: _Memory, names: dict[str, str]) -> None:
    """Claude's memory as system turns: of the conversations, of each project, its files."""
    said = m.conversations_memory
    turns: list[Turn] = [("system", said)] if said and said.strip() else []
    projects = m.project_memories if isinstance(m.project_memories, dict) else {}
    turns += [("system", f"**Project: {names.get(k, k)}**\n\n{v}")
              for k, v in projects.items() if isinstance(v, str) and v.strip()]
    turns += [("system", f"**{f.path or 'memory'}**\n\n{f.content}") for f in m.memory_files or () if f.content]
    _store(vault, result, "settings/capabilities", f"memory:{m.account_uuid or 'account'}", _MEMORY_TITLE, m, turns, [])


def claude_part(path: Path, stack: ExitStack) -> bool:
    """Whether `path` is a part of a Claude export without conversations (projects, memory) or
    the manifest listing the parts."""
    if path.is_file() and source.open_zip(path, stack) is None:
        return _is_manifest(source.Source(str(path), path.stat().st_size, lambda: open(path, "rb")))
    return bool(_extras(path, stack))


def _is_manifest(src: source.Source) -> bool:
    """The `manifest-….json` listing the parts of an export since 2026-09 (`data_files`)."""
    try:
        for _, _, raw in source.records(src, source.Meter(0, None), "manifest", one=True):
            return "data_files" in msgspec.json.decode(raw)
    except (ImportFailed, msgspec.DecodeError):
        pass
    return False


def _extras(path: Path, stack: ExitStack) -> list[tuple[str, source.Source]]:
    """(kind, file) of the projects and memory: `projects.json` (an array) in the zip or
    folder or beside the conversations.json given; in exports since 2026-09
    `projects/<uuid>.json` (`projects-000.zip`, one project each) and
    `memories/<account>.json` (`memories-000.zip`); none is fine."""
    if path.is_file() and source.open_zip(path, stack) is None:
        beside = path.parent / "projects.json"
        if not beside.is_file():
            return []
        return [("project", source.Source(str(beside), beside.stat().st_size, lambda: open(beside, "rb")))]
    found = []
    for kind, pattern in _PARTS.items():
        try:
            found += [(kind, s) for s in source.find(path, stack, pattern.fullmatch, kind, by_path=True)]
        except ImportFailed:
            pass
    return found


def _store(vault, result, url_path: str, site_id: str, title, item, turns, branches) -> None:
    _, outcome = vault.import_conversation(
        site="claude",
        conversation_id=site_id,
        title=title or None,
        url=f"https://claude.ai/{url_path}",
        model=None,
        created_at=_iso(item.created_at),
        updated_at=_iso(item.updated_at),
        turns=turns,
        branches=branches,
    )
    source.count(result, outcome, len(turns))
