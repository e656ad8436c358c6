"""Importers of other assistants' exports, by kind (the names the CLI and the API use).

Each is `import_x(vault, path, progress=None) -> models.ImportResult`, all or nothing,
raising `source.ImportFailed` (file and place) for anything it cannot read.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import msgspec

from .chatgpt import import_chatgpt_export
from .claude import claude_part, import_claude_export
from .gemini import activity_files, import_gemini_takeout, is_html
from .. import models
from .source import ImportFailed, Meter, decode, find, records

IMPORTERS = {
    "chatgpt-export": import_chatgpt_export,
    "claude-export": import_claude_export,
    "gemini-takeout": import_gemini_takeout,
}

_object = msgspec.json.Decoder(dict)


def _conversations(name: str) -> bool:
    return name == "conversations.json" or (name.startswith("conversations-") and name.endswith(".json"))


def detect(path: Path) -> str:
    """Which kind of export `path` is, from its first record (the history page's one button)."""
    with ExitStack() as stack:
        try:
            (src, *_) = find(path, stack, _conversations, "conversations.json")
            what = "conversation"
        except ImportFailed:
            if claude_part(path, stack):  # a Claude export's part holding projects or memory only
                return "claude-export"
            try:
                (src, *_) = activity_files(path, stack)  # a Takeout: no conversations.json, in any language
            except ImportFailed as e:
                raise ImportFailed(e.file, e.place, "holds no conversations.json (ChatGPT, Claude), "
                                   "nor My Activity (Google Takeout)") from None
            what = "entry"
        if is_html(src):  # only Takeout's My Activity is read in HTML
            return "gemini-takeout"
        if claude_part(path, stack):  # the manifest listing a Claude export's parts: its importer says so
            return "claude-export"
        for place, _, raw in records(src, Meter(0, None), what):
            first = decode(_object, raw, src.name, place)
            if "mapping" in first:
                return "chatgpt-export"
            if "chat_messages" in first:
                return "claude-export"
            if "title" in first and "time" in first:
                return "gemini-takeout"
            raise ImportFailed(src.name, place, "is not a conversation of a ChatGPT or Claude export, nor a Takeout entry")
        raise ImportFailed(src.name, "byte 0", "holds nothing to import")


def import_file(vault, path: Path, kind: str | None = None, shown: str | None = None) -> models.ImportResult:
    """Imports the export at `path` (its kind found from its content when None); errors
    name the file `shown` instead of `path` (an upload's temporary file)."""
    try:
        return IMPORTERS[kind or detect(path)](vault, path)
    except ImportFailed as e:
        if shown is None:
            raise
        raise ImportFailed(e.file.replace(str(path), shown, 1), e.place, e.reason) from None
