"""ChatGPT's canvas in an export: the assistant's calls to the `canmore` tool replayed into
the documents they made, in the shape of a turn's documents (protocol.Document).

A call is an assistant message to `canmore.create_textdoc` ({name, type, content}) or
`canmore.update_textdoc` ({updates: [{pattern, replacement, multiple}]}), its input a JSON
string (in `text`, or the first of `parts`). A create gives a document; an update edits the
latest one (ChatGPT's update names none: it edits the document in the canvas). An edit that
cannot be applied (no match, a pattern Python does not know) leaves the document unknown
until it is written whole again: replay only completes, never guesses. This follows the
extension's reading of the same JSON (extension/content/chatgpt-json.js, `Canvas`), so that
an import and a live capture keep the same documents (tests/test_chatgpt_json.py).

An export is untrusted, and replay is where a small file could cost much: a pattern can
backtrack for ever (so patterns run through `regex`, the `re` syntax with a time limit), and
a tiny edit of a large document makes a whole new copy of it. So one conversation's replay
has a budget (`Replay`): the characters its edits read and write, and a few timed-out
patterns; past it, the canvas is unknown, as after an edit that could not be applied.
"""

from __future__ import annotations

import json
import re
from typing import Any

import regex

from ..markdown import code_span
from ..protocol import Document

CREATE = "canmore.create_textdoc"
UPDATE = "canmore.update_textdoc"
COMMENT = "canmore.comment_textdoc"  # {comments: [{pattern, comment}]}: notes in the canvas's margin
CALLS = (CREATE, UPDATE)
MAX_NAME = 512  # a document's title, as the extension caps it
MAX_TEXT = 4 * 1024 * 1024  # protocol.Document.text
MAX_PATTERN = 2000
PATTERN_SECONDS = 0.5  # a real edit's pattern runs in microseconds
REPLAY_CHARS = 32 * 1024 * 1024  # what one conversation's edits may read and write (at most 4 bytes a character in memory)
REPLAY_TIMEOUTS = 3
_WHOLE = {".*", "(?s).*", "[\\s\\S]*"}  # an update that rewrites the whole document
_LANGUAGE = re.compile(r"[a-z0-9+#-]{1,32}")


class Call:
    """A canvas call: whether it creates, and its input (empty when it is not JSON)."""

    def __init__(self, create: bool, input: dict[str, Any]):
        self.create, self.input = create, input


def _input(text: str | None, parts: list[Any] | None) -> dict[str, Any]:
    """A call's input: the JSON object in its `text`, or the first of its `parts` ({} when it is none)."""
    raw = text if isinstance(text, str) and text else (parts[0] if parts and isinstance(parts[0], str) else "")
    try:
        input = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return input if isinstance(input, dict) else {}


def call(recipient: str | None, text: str | None, parts: list[Any] | None) -> Call | None:
    """The canvas call a message makes, or None when it makes none."""
    if recipient not in CALLS:
        return None
    return Call(recipient == CREATE, _input(text, parts))


def comments(recipient: str | None, text: str | None, parts: list[Any] | None) -> str | None:
    """A comment call as the reader sees it: "Comments on the canvas:" and each comment on the text
    it points at (Markdown), or None when the message is no comment call or holds none."""
    if recipient != COMMENT:
        return None
    listed = _input(text, parts).get("comments")
    lines = [f"- {code_span(' '.join(c['pattern'].split())[:200])}: {' '.join(c['comment'].split())}"
             for c in (listed if isinstance(listed, list) else ())
             if isinstance(c, dict) and _str(c.get("pattern")) and _str(c.get("comment"))]
    return "Comments on the canvas:\n\n" + "\n".join(lines) if lines else None


def kind_of(type: str) -> tuple[str, str | None]:
    """A canvas type ("document", "code/python", "webview": a page of HTML) as (kind, language)."""
    if type == "document":
        return "document", None
    language = "html" if type == "webview" else type.removeprefix("code/")
    return "code", language if _LANGUAGE.fullmatch(language) and language != "other" else None


def canvas_type(doc: Document) -> str:
    """The canvas type a document is written back as (kind_of's inverse)."""
    return "document" if doc.kind == "document" else f"code/{doc.language or 'other'}"


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


class _OverBudget(Exception):
    pass


class Replay:
    """The canvas of one conversation being replayed, within its budget (see the module's doc)."""

    def __init__(self, chars: int = REPLAY_CHARS):
        self.chars_left, self.timeouts_left = chars, REPLAY_TIMEOUTS

    def spend(self, chars: int) -> None:
        if chars > self.chars_left:
            raise _OverBudget
        self.chars_left -= chars

    def replace(self, content: str | None, update: Any) -> str | None:
        """One update (a regular expression and its replacement, taken as it is), or None: not applied."""
        if not isinstance(update, dict):
            return None
        pattern, replacement = _str(update.get("pattern")), _str(update.get("replacement"))
        if pattern is None or replacement is None:
            return None
        if pattern in _WHOLE:
            return replacement
        if content is None or len(pattern) > MAX_PATTERN or self.timeouts_left <= 0:
            return None
        self.spend(len(content))

        def grow(match) -> str:  # what the edit writes counts as it is written
            self.spend(len(replacement))
            return replacement

        try:
            out, n = regex.subn(pattern, grow, content, count=0 if update.get("multiple") else 1,
                                timeout=PATTERN_SECONDS)
        except TimeoutError:
            self.timeouts_left -= 1
            return None
        except (regex.error, RecursionError, OverflowError, ValueError):
            return None
        return out if n else None


class _Doc:
    __slots__ = ("title", "kind", "language", "text")

    def __init__(self, title: str, kind: str, language: str | None, text: str | None):
        self.title, self.kind, self.language, self.text = title, kind, language, text  # text None: unknown


def apply(replay: Replay, current: _Doc | None, c: Call) -> tuple[_Doc | None, Document | None]:
    """(the canvas's document after the call, the document the call made or changed, if known)."""
    if c.create:
        text = _str(c.input.get("content"))
        if text is None:
            return current, None
        kind, language = kind_of(_str(c.input.get("type")) or "document")
        current = _Doc((_str(c.input.get("name")) or "")[:MAX_NAME], kind, language, text)
    else:
        if current is None:
            return None, None
        text = current.text
        updates = c.input.get("updates")
        try:
            for u in updates if isinstance(updates, list) else ():
                text = replay.replace(text, u)
        except _OverBudget:
            text = None
        current = _Doc(current.title, current.kind, current.language, text)
    if current.text is None:
        return current, None
    return current, Document(title=current.title, kind=current.kind, text=current.text[:MAX_TEXT],  # type: ignore[arg-type]
                             language=current.language)
