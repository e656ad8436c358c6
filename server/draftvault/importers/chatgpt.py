"""Import of ChatGPT's data export (Settings > Data controls > Export data).

Accepts `conversations.json`, the split `conversations-000.json`, `conversations-001.json`,
... (a folder holding them, or one such file), or the export's .zip. Each file is one
JSON array of conversations, read one conversation at a time within the limits of
`source` (bounded memory whatever the file).

A conversation is a tree (`mapping`: node -> parent, children). The thread ChatGPT
showed is the path from `current_node` back to the root; the other leaves are kept as
branches (edits and regenerations), as `tree` lays them out. The import is one vault transaction: a
malformed file raises ImportFailed naming the file and the place, and nothing stays.

As live capture keeps them: reasoning (`thoughts`, `reasoning_recap`, the reasoning tool's
messages, and the steps a reasoning model took: searches, code and its output) is the thinking
of the next message shown, and canvas calls (replayed by canvas.py) are the documents of the
answer after them; neither the calls' JSON nor the canvas tool's receipts are text. What tools
tell the model (not the reader) is no turn. The extension reads the same JSON the same way
(extension/content/chatgpt-json.js; tests/test_chatgpt_json.py holds them to it).
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from .. import models, times
from ..markdown import fence, link, normalise_math, quote
from ..store import ImportVault
from . import canvas, source, tree
from .source import ImportFailed
from ..protocol import Document
from ..store.records import TurnMeta, meta_of, with_meta
from .tree import Turn

_EXPORT_FILE = re.compile(r"conversations(?:-(\d+))?\.json")


# ---- the export's shape (only what the import reads; unknown fields are ignored) ----


class _Author(msgspec.Struct):
    role: str
    name: Any = None

    def __post_init__(self) -> None:
        source.strings_only(self, "name")


class _Content(msgspec.Struct):
    content_type: str
    parts: Any = None  # a list, else none
    text: Any = None
    language: Any = None
    result: Any = None
    url: Any = None
    title: Any = None
    domain: Any = None
    name: Any = None
    thoughts: Any = None  # thoughts: [{summary, content}]
    content: Any = None  # reasoning_recap: "Thought for 12s"

    def __post_init__(self) -> None:
        source.strings_only(self, "text", "language", "result", "url", "title", "domain", "name")
        if not isinstance(self.parts, list):
            self.parts = None


class _Message(msgspec.Struct):
    author: _Author
    content: _Content
    id: str | None = None
    create_time: float | None = None
    recipient: Any = None
    metadata: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        source.strings_only(self, "recipient")


class _Node(msgspec.Struct):
    message: _Message | None = None
    parent: str | None = None
    children: list[str] | None = []  # null in some exports: no children

    def __post_init__(self) -> None:
        self.children = self.children or []


class _Conversation(msgspec.Struct):
    mapping: dict[str, _Node] | None  # null in some exports: no messages
    title: str | None = None
    create_time: float | None = None
    update_time: float | None = None
    current_node: str | None = None
    conversation_id: str | None = None
    id: str | None = None
    default_model_slug: str | None = None

    def __post_init__(self) -> None:
        self.mapping = self.mapping or {}


_decoder = msgspec.json.Decoder(_Conversation)


# ---- where the conversations are ----------------------------------------------------


def _export_order(name: str) -> tuple[int, str]:
    m = _EXPORT_FILE.fullmatch(Path(name).name)
    return (int(m.group(1)) if m and m.group(1) else -1, name)


# ---- one conversation -> turns ------------------------------------------------------

_SKIPPED_CONTENT = {"thoughts", "reasoning_recap", "user_editable_context", "model_editable_context"}
_ROLES = {"user", "assistant", "system", "tool"}
_REASONER = "a8km123"  # the tool that writes o1's and later models' reasoning ("Thought for 12s")
_SEARCH_MARK = re.compile(r"【(\d+)†([^†】]*)(?:†([^】]*))?】")
# Set in a message's metadata by DraftVault's own ChatGPT-shaped export (exchange.py): its
# text is DraftVault's Markdown already, so it is read as it is (a literal citation mark or
# `\(` in it is text, not something to render again).
RENDERED_MARK = "draftvault_markdown"
_LEFTOVER_MARK = re.compile(r"【\d+(?::\d+)*†[^】]*】")
_LEFTOVER_ENTITY = re.compile(r"\ue200[^\ue201]*\ue201")
# A content reference's span that is a mark, not words: 【…】, or ChatGPT's private-use characters
# (\ue200…\ue201 an entity or cite, \ue203…\ue204 an attributed span, \ue206 its anchor).
_MARKED = re.compile("[【\ue000-\uf8ff]")
_LEFTOVER_SPAN = re.compile("[\ue203-\ue206]")
_PLAIN_ALT = re.compile(r"\w")
_SPACE = (" ", "\t", "\n")
_SHOWN_IMAGE = "<<ImageDisplayed>>"  # where code's output showed a picture
_WEB = re.compile(r"https?://", re.I)


def _sub_before_last(pattern: re.Pattern, repl, text: str, last: str) -> str:
    """pattern.sub over `text` up to its last `last` character, which ends every match: an
    opening after it cannot match, yet each would first scan to the end of the text (20,000
    of them took 5 s; an export's message may be 32 MiB)."""
    cut = text.rfind(last) + 1
    return pattern.sub(repl, text[:cut]) + text[cut:]


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return times.iso_of(t)


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _reference(text: str, r: Any) -> tuple[int, int, list[str] | str] | None:
    """A content reference as (start, end, links to the cited pages, or the text that stands
    for the mark), or None when it marks no citation. Only a span holding a mark (【…】, or
    \ue200…\ue201) is one: an "attribution" spans words of the answer, which stay. A mark
    without pages shows its `alt` when that is plain words (an entity's name, a calculator's
    result), else nothing."""
    if not isinstance(r, dict):
        return None
    s, e, matched = r.get("start_idx"), r.get("end_idx"), r.get("matched_text")
    if not (isinstance(s, int) and isinstance(e, int) and isinstance(matched, str) and matched
            and _MARKED.search(matched) and text[s:e] == matched):
        return None
    listed = r.get("items") if isinstance(r.get("items"), list) and r["items"] else r.get("fallback_items")
    items = [i for i in (listed if isinstance(listed, list) else ()) if isinstance(i, dict) and _text(i.get("url"))]
    links = [link(_text(i.get("title")), i["url"]) for i in items]
    if not links and _text(r.get("url")):
        links = [link(_text(r.get("title")), r["url"])]
    alt = r.get("alt")
    if not links and isinstance(alt, str) and _PLAIN_ALT.search(alt) and "](" not in alt:
        return s, e, alt
    return s, e, links


def _with_citations(text: str, metadata: dict[str, Any]) -> str:
    """Replaces citation marks by Markdown links to the cited pages."""
    spans: list[tuple[int, int, list[str] | str]] = []
    for c in metadata.get("citations") or ():
        meta = c.get("metadata") or {}
        s, e = c.get("start_ix"), c.get("end_ix")
        if isinstance(s, int) and isinstance(e, int) and 0 <= s <= e <= len(text):
            spans.append((s, e, [link(meta.get("title"), meta["url"])] if meta.get("url") else []))
    spans += filter(None, (_reference(text, r) for r in metadata.get("content_references") or ()))
    # Adjacent marks (one claim, several sources) become one parenthesis.
    spans.sort(key=lambda span: (span[0], span[1], isinstance(span[2], str), span[2]))
    merged: list[tuple[int, int, list[str] | str]] = []
    for s, e, links in spans:
        if merged and s < merged[-1][1]:
            continue  # overlapping: both schemes describe the same mark
        last = merged[-1][2] if merged else ""
        if merged and s == merged[-1][1] and isinstance(links, list) and isinstance(last, list):
            merged[-1] = (merged[-1][0], e, last + links)
        else:
            merged.append((s, e, links))
    pieces, at = [], 0  # joined once: a splice per mark copied the text each time
    for s, e, links in merged:
        unique = list(dict.fromkeys(links)) if isinstance(links, list) else links
        gap = "" if text[s - 1:s] in _SPACE else " "  # newer marks follow a space already
        pieces += [text[at:s], unique if isinstance(unique, str) else f"{gap}({', '.join(unique)})" if unique else ""]
        at = e
    text = "".join(pieces) + text[at:]
    text = _sub_before_last(_LEFTOVER_ENTITY, "", _sub_before_last(_LEFTOVER_MARK, "", text, "】"), "\ue201")
    return _LEFTOVER_SPAN.sub("", text)


def _files(meta: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """The files uploaded with a message (metadata.attachments): id -> (name, is an image)."""
    listed = meta.get("attachments")
    return {f["id"]: (" ".join(f["name"].replace("[", "(").replace("]", ")").split()),
                      (_text(f.get("mime_type")) or "").startswith("image/"))
            for f in (listed if isinstance(listed, list) else ())
            if isinstance(f, dict) and _text(f.get("id")) and _text(f.get("name")) and f["name"].strip()}


def _pointed(part: Any) -> str | None:
    """The file id an image part points at ("sediment://file_1" -> "file_1")."""
    pointer = part.get("asset_pointer") if isinstance(part, dict) else None
    return pointer.rsplit("://", 1)[-1] if isinstance(pointer, str) else None


def _part_text(part: Any, files: dict[str, tuple[str, bool]] | None = None) -> str:
    if isinstance(part, str):
        return part
    if not isinstance(part, dict):
        return ""
    kind = part.get("content_type")
    if kind == "image_asset_pointer":
        prompt = ((part.get("metadata") or {}).get("dalle") or {}).get("prompt")
        named = (files or {}).get(_pointed(part) or "")
        label = " ".join(prompt.split()) if isinstance(prompt, str) and prompt.strip() else named and named[0]
        return f"[Image: {label}]" if label else "[Image]"
    if kind == "audio_asset_pointer":
        return "[Audio]"
    if kind == "video_container_asset_pointer":
        return "[Video]"
    return part.get("text") if isinstance(part.get("text"), str) else ""


def _for_the_model(msg: _Message, meta: dict[str, Any]) -> bool:
    """A system message, or a tool's that ChatGPT keeps from the reader: one to the assistant,
    or words for the model (search results, a file's text to cite, "DALL·E displayed 1
    images...", a reasoning status, a fetched page). The page shows a tool's code output, browsing, quotes, errors and
    pictures. DraftVault's own export (RENDERED_MARK) writes every turn as text: all are shown."""
    if msg.author.role in ("user", "assistant") or meta.get(RENDERED_MARK):
        return False
    if msg.author.role == "system":  # instructions: ChatGPT never shows them
        return True
    c = msg.content
    if msg.recipient not in (None, "all") or c.content_type in ("text", "sonic_webpage"):
        return True
    if meta.get("command") == "context_stuff":  # a file's pages given to the model to cite
        return True
    return c.content_type == "multimodal_text" and all(isinstance(p, str) for p in c.parts or ())


def _output(text: str, meta: dict[str, Any]) -> str:
    """Code's output: its text as code, and each picture it showed (the text holds a
    "<<ImageDisplayed>>" in its place) as "[Image]", as ChatGPT shows the picture."""
    result = meta.get("aggregate_result")
    shown = result.get("messages") if isinstance(result, dict) else None
    images = sum(isinstance(m, dict) and m.get("message_type") == "image" for m in shown or ()
                 ) if isinstance(shown, list) else 0
    if images:
        text = text.replace(_SHOWN_IMAGE, "")
    return "\n\n".join(([fence(text)] if text.strip() else []) + ["[Image]"] * images)


def _said(msg: _Message, meta: dict[str, Any], legacy: bool) -> str:
    """A text message: its parts (pictures named), then citations and math as captured; the
    files uploaded with it and not shown as a picture go first, as ChatGPT shows them. (Live
    capture keeps those files as the turn's attachments, bytes and all; an export has only
    their names, so the import writes them in the text.)"""
    files = {} if legacy else _files(meta)
    text = "\n\n".join(t for t in (_part_text(p, files) for p in msg.content.parts or ()) if t)
    if not legacy and msg.author.role == "assistant" and msg.recipient not in (None, "all"):
        # A call to a tool (its input: code for python, JSON for most): code, as the page shows it.
        return fence(text, "python" if msg.recipient == "python" else "") if text.strip() else ""
    if not meta.get(RENDERED_MARK):
        text = _with_citations(text, meta)
        if msg.author.role == "assistant":  # ChatGPT shows user text as typed
            text = normalise_math(text)
    shown = {_pointed(p) for p in msg.content.parts or () if isinstance(p, dict)}
    chips = [f"[{'Image' if image else 'File'}: {name}]" for id, (name, image) in files.items() if id not in shown]
    return "\n\n".join(chips + ([text] if text.strip() else []))


def _render(msg: _Message, legacy: bool = False) -> Turn | None:
    """A message as ChatGPT shows it, or None for what it hides (`legacy`: see thread)."""
    meta = msg.metadata or {}
    if meta.get("is_visually_hidden_from_conversation") or meta.get("is_user_system_message"):
        return None
    c, role = msg.content, msg.author.role
    kind = c.content_type
    if kind in _SKIPPED_CONTENT or (not legacy and _for_the_model(msg, meta)):
        return None
    if not legacy and (noted := canvas.comments(msg.recipient, c.text, c.parts)) is not None:
        text = noted
    elif kind in ("text", "multimodal_text"):
        text = _said(msg, meta, legacy)
    elif kind == "code":
        lang = "" if c.language in (None, "unknown") else c.language
        text = fence(c.text or "", lang or ("python" if msg.recipient == "python" else ""))
    elif kind == "execution_output":
        text = _output(c.text or "", meta)
    elif kind == "tether_browsing_display":
        result = _sub_before_last(_SEARCH_MARK, lambda m: f"[{m[1]}] {m[2]}" + (f" ({m[3]})" if m[3] else ""),
                                  c.result or "", "】")
        text = quote(result) if result.strip() else ""
    elif kind == "tether_quote":
        # A quote of an uploaded file names the file ("file-Cz1" is no address to link to).
        source = link(c.title or c.domain, c.url) if c.url and _WEB.match(c.url) else (c.title or "")
        text = quote(c.text or "") + (f"\n\n{source}" if source else "")
    elif kind == "system_error":
        text = f"**Error{' (' + c.name + ')' if c.name else ''}:** {c.text or ''}"
    else:  # a type this import does not know: keep whatever text it carries
        text = c.text or c.result or "\n\n".join(t for t in map(_part_text, c.parts or ()) if t)
    if not text.strip():
        return None
    if role not in ("user", "assistant", "system") and _pictures(c):
        role = "assistant"  # a picture a tool made (an image generated): ChatGPT shows it in the answer
    return with_meta(role if role in _ROLES else "tool", text, TurnMeta(first_seen=_iso(msg.create_time)))


def _pictures(c: _Content) -> bool:
    return c.content_type == "multimodal_text" and any(
        isinstance(p, dict) and p.get("content_type") == "image_asset_pointer" for p in c.parts or ())


# ---- thinking and canvas: parts of the next message shown ----------------------------


@dataclass(frozen=True)
class _Parts:
    """What the messages since the last one shown give the next one shown: reasoning
    ("Thought for 12s", then each thought) and the canvas documents made or changed."""

    recaps: tuple[str, ...] = ()
    thoughts: tuple[str, ...] = ()
    documents: tuple[Document, ...] = ()

    def __add__(self, other: _Parts) -> _Parts:
        if other == _NO_PARTS:
            return self
        return _Parts(self.recaps + other.recaps, self.thoughts + other.thoughts, self.documents + other.documents)

    def meta(self, meta: TurnMeta | None) -> TurnMeta:
        thinking = "\n\n".join(self.recaps + self.thoughts) or None
        return msgspec.structs.replace(meta or TurnMeta(), thinking=thinking, documents=self.documents)


_NO_PARTS = _Parts()


def _while_reasoning(msg: _Message) -> bool:
    """A step a reasoning model took before its answer (a search, code it ran and its output, a
    preamble): ChatGPT shows these in the answer's thinking, not as messages."""
    meta = msg.metadata or {}
    return msg.author.role != "user" and (
        meta.get("reasoning_status") == "is_reasoning" or meta.get("is_thinking_preamble_message") is True)


def _is_reasoning(msg: _Message) -> bool:
    return msg.content.content_type in ("thoughts", "reasoning_recap") or (
        msg.author.role == "tool" and msg.author.name == _REASONER)


def _reasoning(msg: _Message) -> _Parts:
    """A `thoughts` or `reasoning_recap` message, or the reasoning tool's, as thinking (bold
    summaries, as ChatGPT shows them)."""
    c = msg.content
    if c.content_type not in ("thoughts", "reasoning_recap"):  # the tool: "Thought for 12s", its summary
        done, said = (msg.metadata or {}).get("finished_text"), _with_citations("\n\n".join(
            p for p in c.parts or () if isinstance(p, str)), {}).strip()
        return _Parts(recaps=(done.strip(),) if isinstance(done, str) and done.strip() else (),
                      thoughts=(said,) if said else ())
    if c.content_type == "reasoning_recap":
        recap = c.content.strip() if isinstance(c.content, str) else ""
        return _Parts(recaps=(recap,)) if recap else _NO_PARTS
    thoughts = []
    for t in c.thoughts if isinstance(c.thoughts, list) else ():
        summary, body = (t.get("summary"), t.get("content")) if isinstance(t, dict) else (None, None)
        head = f"**{' '.join(summary.split())}**" if isinstance(summary, str) and summary.strip() else ""
        body = _with_citations(body, {}) if isinstance(body, str) else ""  # marks it cites go
        text = "\n\n".join(p for p in (head, body if body.strip() else "") if p)
        if text:
            thoughts.append(text)
    return _Parts(thoughts=tuple(thoughts))


def _is_canvas(msg: _Message) -> bool:
    """A canvas call, or the canvas tool's receipt: ChatGPT shows the document, not these."""
    receipt = msg.author.role not in ("user", "assistant", "system") and (msg.author.name or "").startswith("canmore.")
    return msg.recipient in canvas.CALLS or receipt


def _parents_first(mapping: dict[str, _Node]) -> list[str]:
    """Every message, each after its parent (a cycle is cut where it was entered)."""
    order: list[str] = []
    placed: set[str] = set()
    for k in mapping:
        chain, node = [], k
        while node in mapping and node not in placed:
            placed.add(node)
            chain.append(node)
            node = mapping[node].parent  # type: ignore[assignment]
        order.extend(reversed(chain))
    return order


def _parts(mapping: dict[str, _Node], shown: dict[str, Turn | None], current: str | None,
           steps: dict[str, str]) -> dict[str, _Parts]:
    """The thinking and documents of each message shown: what the messages before it on its
    path gave since the one shown before (a canvas call's document goes to the answer after
    it, `steps` taken while reasoning to its thinking). Documents made after the last message
    shown of a thread (an answer cut off after its canvas call) go to that message, as the
    extension does for the current thread."""
    replay = canvas.Replay()
    doc: dict[str, Any] = {}  # the canvas's document after each message
    pending: dict[str, _Parts] = {}  # what waits for the next message shown, after each message
    last: dict[str, str | None] = {}  # the last message shown up to each message
    got: dict[str, _Parts] = {}
    for k in _parents_first(mapping):
        node = mapping[k]
        p, msg = node.parent, node.message
        now, waiting, last[k] = doc.get(p), pending.get(p, _NO_PARTS), last.get(p)  # type: ignore[arg-type]
        if shown[k] is not None:
            if waiting != _NO_PARTS:
                got[k] = waiting
            waiting, last[k] = _NO_PARTS, k
        elif msg is not None and (call := canvas.call(msg.recipient, msg.content.text, msg.content.parts)):
            now, made = canvas.apply(replay, now, call)
            waiting += _Parts(documents=(made,)) if made else _NO_PARTS
        elif msg is not None and _is_reasoning(msg):
            waiting += _reasoning(msg)
        elif k in steps:
            waiting += _Parts(thoughts=(steps[k],))
        doc[k], pending[k] = now, waiting
    on_current = set()
    node = current
    while node in mapping and node not in on_current:
        on_current.add(node)
        node = mapping[node].parent
    has_child = {n.parent for n in mapping.values()}
    leaves = [current] + [k for k in mapping if k not in has_child and k not in on_current]
    for leaf in leaves:
        to, trailing = last.get(leaf), pending.get(leaf, _NO_PARTS).documents  # type: ignore[arg-type]
        if to is None or not trailing or (leaf != current and to in on_current):
            continue  # a side thread with nothing shown of its own is not kept (tree.py)
        got[to] = got.get(to, _NO_PARTS) + _Parts(documents=trailing)
    return got


# ---- one conversation -> threads ----------------------------------------------------


@dataclass
class _Thread:
    turns: list[Turn]
    branches: list[list[Turn]]
    model: str | None


def thread(conv: _Conversation, legacy: bool = False) -> _Thread:
    """The thread ChatGPT showed (current_node back to the root) and the other branches.

    `legacy`: as imports before canvas documents and thinking made them (canvas calls as
    their JSON, the canvas tool's receipts as tool turns, no thinking): an import made then
    is recognised by it (see _import_one)."""
    mapping = conv.mapping
    current = conv.current_node
    if current not in mapping:
        # A trimmed export: take the newest leaf, as ChatGPT does for a fresh load.
        leaves = [k for k, n in mapping.items() if not any(ch in mapping for ch in n.children)]

        def created(k: str) -> float:
            msg = mapping[k].message
            return (msg.create_time or 0.0) if msg else 0.0

        current = max(leaves, key=created, default=None)

    rendered = {k: _render(n.message, legacy) if n.message and (legacy or not _is_canvas(n.message)) else None
                for k, n in mapping.items()}
    steps = {} if legacy else {k: t[1] for k, t in rendered.items()
                               if t is not None and _while_reasoning(mapping[k].message)}  # type: ignore[arg-type]
    shown = {k: None if k in steps else t for k, t in rendered.items()}
    parts = {} if legacy else _parts(mapping, shown, current, steps)

    def render(k) -> list[Turn]:
        turn = shown[k]
        if turn is not None and k in parts:
            turn = with_meta(turn[0], turn[1], parts[k].meta(meta_of(turn)))
        return [turn] if turn else []

    parents = {k: n.parent for k, n in mapping.items()}
    main, branches, main_path = tree.threads(parents, current, render)
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
    result = source.new_result()
    with ExitStack() as stack:
        sources = source.find(
            Path(path), stack, _EXPORT_FILE.fullmatch, "conversations.json or conversations-NNN.json", _export_order
        )
        meter = source.Meter(sum(s.size for s in sources), progress)
        with vault.transaction():
            for src in sources:
                for place, _, raw in source.records(src, meter):
                    _import_one(vault, source.decode(_decoder, raw, src.name, place), src.name, place, result)
    meter.finish()
    return result


def _import_one(vault: ImportVault, conv: _Conversation, name: str, place: str, result: models.ImportResult) -> None:
    site_id = conv.conversation_id or conv.id
    if not site_id:
        raise ImportFailed(name, place, "has no conversation id")
    with source.reading(name, place):
        t = thread(conv)
        # Imports before canvas documents kept the canvas calls' JSON in the text: a conversation
        # imported so is this one, read better now (replaced quietly, not kept as a version).
        canvas_used = any(n.message is not None and _is_canvas(n.message) for n in conv.mapping.values())
        earlier = [thread(conv, legacy=True).turns] if canvas_used else []
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
        earlier=earlier,
    )
    source.count(result, outcome, len(t.turns))
