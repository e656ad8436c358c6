"""Import of ChatGPT's data export (Settings > Data controls > Export data).

Accepts `conversations.json`, the split `conversations-000.json`, `conversations-001.json`,
... (a folder holding them, or one such file), or the export's .zip. Each file is one
JSON array of conversations; it is read in chunks and split into one conversation at a
time, each decoded by msgspec, so a file of hundreds of MB never sits in memory whole.

A conversation is a tree (`mapping`: node -> parent, children). The thread ChatGPT
showed is the path from `current_node` back to the root; every other leaf's path is
kept as a branch (edits and regenerations). The import is one vault transaction: a
malformed file raises ImportFailed naming the file and the place, and nothing stays.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterator

import msgspec

from .. import models, times
from ..markdown import fence, link, normalise_math, quote
from ..store import ImportVault
Turn = tuple[str, str]  # (role, Markdown text)

CHUNK = 1 << 20
_EXPORT_FILE = re.compile(r"conversations(?:-(\d+))?\.json")


class ImportFailed(Exception):
    """The export could not be imported; nothing of it was kept."""

    def __init__(self, file: str, place: str, reason: str):
        super().__init__(f"{file}: {place}: {reason}")
        self.file, self.place, self.reason = file, place, reason


# ---- the export's shape (only what the import reads; unknown fields are ignored) ----


class _Author(msgspec.Struct):
    role: str
    name: str | None = None


class _Content(msgspec.Struct):
    content_type: str
    parts: list[Any] | None = None
    text: str | None = None
    language: str | None = None
    result: str | None = None
    url: str | None = None
    title: str | None = None
    domain: str | None = None
    name: str | None = None


class _Message(msgspec.Struct):
    author: _Author
    content: _Content
    id: str | None = None
    create_time: float | None = None
    recipient: str | None = None
    metadata: dict[str, Any] | None = None


class _Node(msgspec.Struct):
    message: _Message | None = None
    parent: str | None = None
    children: list[str] = []


class _Conversation(msgspec.Struct):
    mapping: dict[str, _Node]
    title: str | None = None
    create_time: float | None = None
    update_time: float | None = None
    current_node: str | None = None
    conversation_id: str | None = None
    id: str | None = None
    default_model_slug: str | None = None


_decoder = msgspec.json.Decoder(_Conversation)


# ---- where the conversations are ----------------------------------------------------


@dataclass
class _Source:
    name: str  # shown in errors
    size: int
    open: Callable[[], IO[bytes]]


def _export_order(name: str) -> tuple[int, str]:
    m = _EXPORT_FILE.fullmatch(Path(name).name)
    return (int(m.group(1)) if m and m.group(1) else -1, name)


def _sources(path: Path, stack: ExitStack) -> list[_Source]:
    if path.is_dir():
        files = sorted((p for p in path.iterdir() if _EXPORT_FILE.fullmatch(p.name)), key=lambda p: _export_order(p.name))
        if not files:
            raise ImportFailed(str(path), "folder", "holds no conversations.json or conversations-NNN.json")
        return [_Source(str(p), p.stat().st_size, lambda p=p: open(p, "rb")) for p in files]
    if not path.is_file():
        raise ImportFailed(str(path), "path", "no such file or folder")
    if zipfile.is_zipfile(path):
        try:
            zf = stack.enter_context(zipfile.ZipFile(path))
        except zipfile.BadZipFile as e:
            raise ImportFailed(str(path), "zip", str(e)) from None
        members = sorted(
            (i for i in zf.infolist() if _EXPORT_FILE.fullmatch(Path(i.filename).name)),
            key=lambda i: _export_order(i.filename),
        )
        if not members:
            raise ImportFailed(str(path), "zip", "holds no conversations.json or conversations-NNN.json")
        return [_Source(f"{path}!{i.filename}", i.file_size, lambda i=i: zf.open(i)) for i in members]
    return [_Source(str(path), path.stat().st_size, lambda: open(path, "rb"))]


# ---- streaming split of a JSON array into its elements ------------------------------

# From a position outside any string: skip whole strings and other characters up to
# the next bracket, which is captured. Possessive, so an unterminated string at the end
# of the buffer simply fails to match (more data is needed) instead of backtracking.
_TO_BRACKET = re.compile(rb'(?:"[^"\\]*+(?:\\.[^"\\]*+)*+"|[^"\[\]{}])*+([\[\]{}])', re.S)
_WS = re.compile(rb"[ \t\r\n]*")
_COMMA = re.compile(rb"[ \t\r\n]*,[ \t\r\n]*")
_CLOSE = {ord("]"): ord("["), ord("}"): ord("{")}


def _elements(stream: IO[bytes], name: str, on_read: Callable[[int], None]) -> Iterator[tuple[int, int, bytes]]:
    """Yields (index, byte offset, raw JSON) of each object in the top-level array."""
    buf = bytearray()
    base = 0  # file offset of buf[0]
    eof = False

    def fail(offset: int, reason: str):
        return ImportFailed(name, f"byte {offset}", reason)

    def more(keep: int) -> int:
        """Drops buf[:keep], appends a chunk; returns how far positions moved.

        The chunk is at least as large as what is kept, so a huge conversation is
        rescanned a logarithmic number of times, not once per chunk."""
        nonlocal base, eof
        try:
            chunk = stream.read(max(CHUNK, len(buf) - keep))
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as e:  # I/O error, damaged zip member
            raise fail(base + len(buf), f"cannot read: {e}") from None
        on_read(len(chunk))
        del buf[:keep]
        base += keep
        buf.extend(chunk)
        eof = not chunk
        return keep

    while len(buf) < 3 and not eof:
        more(0)
    if buf.startswith(b"\xef\xbb\xbf"):
        del buf[:3]
        base = 3
    while True:  # leading white space may be longer than a chunk
        pos = _WS.match(buf).end()
        if pos < len(buf) or eof:
            break
        more(pos)
    if pos >= len(buf) or buf[pos] != ord("["):
        raise fail(base + pos, "expected a JSON array of conversations")
    stack = [ord("[")]
    pos += 1
    index, start = 0, -1  # start: where the current conversation's object begins
    while True:
        m = _TO_BRACKET.match(buf, pos)
        if m is None:
            if eof:
                raise fail(base + len(buf), "the file ends in the middle of the JSON")
            moved = more(pos if start < 0 else start)
            pos -= moved
            start = start - moved if start >= 0 else -1
            continue
        at = m.end() - 1
        b = buf[at]
        if len(stack) == 1:  # between conversations: only white space and commas
            gap = _COMMA if index else _WS
            if b == ord("]"):
                if not _WS.fullmatch(buf, pos, at):
                    raise fail(base + pos, "unexpected text after the last conversation")
                break
            if not gap.fullmatch(buf, pos, at):
                raise fail(base + pos, f"expected a comma and conversation {index}")
            if b != ord("{"):
                raise fail(base + at, f"conversation {index} is not a JSON object")
            start = at
        if b in _CLOSE:
            if stack.pop() != _CLOSE[b]:
                raise fail(base + at, "mismatched bracket")
            if len(stack) == 1:
                yield index, base + start, bytes(buf[start : at + 1])
                index += 1
                start = -1
        else:
            stack.append(b)
        pos = at + 1
    rest = at + 1
    while True:
        if not _WS.fullmatch(buf, rest):
            raise fail(base + rest, "unexpected text after the array")
        if eof:
            return
        rest -= more(rest)


# ---- one conversation -> turns ------------------------------------------------------

_SKIPPED_CONTENT = {"thoughts", "reasoning_recap", "user_editable_context", "model_editable_context"}
_ROLES = {"user", "assistant", "system", "tool"}
_SEARCH_MARK = re.compile(r"【(\d+)†([^†】]*)(?:†([^】]*))?】")
_LEFTOVER_CITATION = re.compile(r"【\d+(?::\d+)*†[^】]*】|\ue200[^\ue201]*\ue201")


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return times.iso_of(t)


def _with_citations(text: str, metadata: dict[str, Any]) -> str:
    """Replaces citation markers by Markdown links to the cited pages."""
    spans: list[tuple[int, int, list[str]]] = []
    for c in metadata.get("citations") or ():
        meta = c.get("metadata") or {}
        s, e = c.get("start_ix"), c.get("end_ix")
        if isinstance(s, int) and isinstance(e, int) and 0 <= s <= e <= len(text):
            spans.append((s, e, [link(meta.get("title"), meta["url"])] if meta.get("url") else []))
    for r in metadata.get("content_references") or ():
        s, e, matched = r.get("start_idx"), r.get("end_idx"), r.get("matched_text")
        if not (isinstance(s, int) and isinstance(e, int) and matched and text[s:e] == matched):
            continue
        links = [link(i.get("title"), i["url"]) for i in r.get("items") or () if i.get("url")]
        if not links and r.get("url"):
            links = [link(r.get("title"), r["url"])]
        spans.append((s, e, links))
    # Adjacent markers (one claim, several sources) become one parenthesis.
    spans.sort()
    merged: list[tuple[int, int, list[str]]] = []
    for s, e, links in spans:
        if merged and s < merged[-1][1]:
            continue  # overlapping: both schemes describe the same marker
        if merged and s == merged[-1][1]:
            merged[-1] = (merged[-1][0], e, merged[-1][2] + links)
        else:
            merged.append((s, e, links))
    for s, e, links in reversed(merged):
        unique = list(dict.fromkeys(links))
        text = text[:s] + (f" ({', '.join(unique)})" if unique else "") + text[e:]
    return _LEFTOVER_CITATION.sub("", text)


def _part_text(part: Any) -> str:
    if isinstance(part, str):
        return part
    if not isinstance(part, dict):
        return ""
    kind = part.get("content_type")
    if kind == "image_asset_pointer":
        prompt = ((part.get("metadata") or {}).get("dalle") or {}).get("prompt")
        return f"[Image: {' '.join(prompt.split())}]" if prompt else "[Image]"
    if kind == "audio_asset_pointer":
        return "[Audio]"
    if kind == "video_container_asset_pointer":
        return "[Video]"
    return part.get("text") if isinstance(part.get("text"), str) else ""


def _render(msg: _Message) -> Turn | None:
    """A message as ChatGPT shows it, or None for what it hides."""
    meta = msg.metadata or {}
    if meta.get("is_visually_hidden_from_conversation") or meta.get("is_user_system_message"):
        return None
    c, role = msg.content, msg.author.role
    kind = c.content_type
    if kind in _SKIPPED_CONTENT:
        return None
    if kind in ("text", "multimodal_text"):
        text = "\n\n".join(t for t in map(_part_text, c.parts or ()) if t)
        text = _with_citations(text, meta)
        if role == "assistant":  # ChatGPT shows user text as typed
            text = normalise_math(text)
    elif kind == "code":
        lang = "" if c.language in (None, "unknown") else c.language
        text = fence(c.text or "", lang or ("python" if msg.recipient == "python" else ""))
    elif kind == "execution_output":
        text = fence(c.text or "")
    elif kind == "tether_browsing_display":
        result = _SEARCH_MARK.sub(lambda m: f"[{m[1]}] {m[2]}" + (f" ({m[3]})" if m[3] else ""), c.result or "")
        text = quote(result) if result.strip() else ""
    elif kind == "tether_quote":
        source = link(c.title or c.domain, c.url) if c.url else (c.title or "")
        text = quote(c.text or "") + (f"\n\n{source}" if source else "")
    elif kind == "system_error":
        text = f"**Error{' (' + c.name + ')' if c.name else ''}:** {c.text or ''}"
    else:  # a type this import does not know: keep whatever text it carries
        text = c.text or c.result or "\n\n".join(t for t in map(_part_text, c.parts or ()) if t)
    if not text.strip():
        return None
    return (role if role in _ROLES else "tool", text)


def _path_to(conv: _Conversation, leaf: str) -> list[str]:
    path, seen, node = [], set(), leaf
    while node in conv.mapping and node not in seen:
        seen.add(node)
        path.append(node)
        node = conv.mapping[node].parent
    return path[::-1]


@dataclass
class _Thread:
    turns: list[Turn]
    branches: list[list[Turn]]
    model: str | None


def thread(conv: _Conversation) -> _Thread:
    """The thread ChatGPT showed (current_node back to the root) and the other branches."""
    mapping = conv.mapping
    leaves = [k for k, n in mapping.items() if not any(ch in mapping for ch in n.children)]
    current = conv.current_node
    if current not in mapping:
        # A trimmed export: take the newest leaf, as ChatGPT does for a fresh load.
        def created(k: str) -> float:
            msg = mapping[k].message
            return (msg.create_time or 0.0) if msg else 0.0

        current = max(leaves, key=created, default=None)
    rendered: dict[str, Turn | None] = {}

    def turns_of(path: list[str]) -> list[Turn]:
        out = []
        for k in path:
            if k not in rendered:
                msg = mapping[k].message
                rendered[k] = _render(msg) if msg else None
            if rendered[k]:
                out.append(rendered[k])
        return out

    main_path = _path_to(conv, current) if current else []
    main = turns_of(main_path)
    branches: list[list[Turn]] = []
    for leaf in leaves:
        if leaf != current:
            b = turns_of(_path_to(conv, leaf))
            if b and b != main and b not in branches:
                branches.append(b)
    model = conv.default_model_slug
    for k in reversed(main_path):
        msg = mapping[k].message
        slug = (msg.metadata or {}).get("model_slug") if msg and msg.author.role == "assistant" else None
        if isinstance(slug, str) and slug:
            model = slug
            break
    return _Thread(main, branches, model)


# ---- the import ---------------------------------------------------------------------


def import_chatgpt_export(vault: ImportVault, path, progress: models.Progress | None = None) -> models.ImportResult:
    """Imports every conversation of a ChatGPT export; all or nothing."""
    result = models.ImportResult(conversations=0, created=0, updated=0, unchanged=0, turns=0)
    with ExitStack() as stack:
        sources = _sources(Path(path), stack)
        total, done = sum(s.size for s in sources), 0

        def on_read(n: int) -> None:
            nonlocal done
            done += n

        with vault.transaction():
            for source in sources:
                try:
                    stream = source.open()
                except (OSError, zipfile.BadZipFile) as e:
                    raise ImportFailed(source.name, "opening", str(e)) from None
                with stream:
                    for index, offset, raw in _elements(stream, source.name, on_read):
                        _import_one(vault, raw, source.name, index, offset, result)
                        if progress:
                            progress(min(done, total), total)
    if progress:
        progress(total, total)
    return result


def _import_one(vault: ImportVault, raw: bytes, name: str, index: int, offset: int, result: models.ImportResult) -> None:
    place = f"conversation {index} (byte {offset})"
    try:
        conv = _decoder.decode(raw)
    except msgspec.DecodeError as e:
        raise ImportFailed(name, place, str(e)) from None
    site_id = conv.conversation_id or conv.id
    if not site_id:
        raise ImportFailed(name, place, "has no conversation id")
    t = thread(conv)
    _, outcome = vault.import_conversation(
        site="chatgpt",
        conversation_id=site_id,
        title=conv.title,
        url=f"https://chatgpt.com/c/{site_id}",
        model=t.model,
        created_at=_iso(conv.create_time),
        updated_at=_iso(conv.update_time),
        turns=t.turns,
        branches=t.branches,
    )
    result.conversations += 1
    result.turns += len(t.turns)
    setattr(result, outcome, getattr(result, outcome) + 1)
