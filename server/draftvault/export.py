"""Export of conversations: Markdown (Obsidian-style front matter), JSON, and .zip of many.

Turn texts are already Markdown (code fenced with its language, math as `$...$`,
links kept), so a conversation's Markdown is front matter, a title and one heading
per turn around those texts.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zipfile
from pathlib import Path
from typing import BinaryIO, Callable, Literal

import msgspec

from . import models
from .store import ExportVault

Progress = Callable[[int, int], None]

_ROLE_HEADINGS = {"user": "User", "assistant": "Assistant", "system": "System", "tool": "Tool"}
# Characters YAML does not allow unescaped in a double-quoted scalar, or that YAML 1.1
# reads as line breaks (json.dumps already escapes C0 controls, quotes and backslashes).
_YAML_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


def _yaml_value(value: str | None, *, time: bool = False) -> str:
    if value is None:
        return ""
    if time and _ISO_TIME.fullmatch(value):
        return value  # plain YAML timestamp: Obsidian shows it as a date
    quoted = json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar
    return _YAML_UNPRINTABLE.sub(lambda m: "\\u%04x" % ord(m.group()), quoted)


def front_matter(detail: models.ConversationDetail) -> str:
    fields = [
        ("title", _yaml_value(detail.title)),
        ("site", _yaml_value(detail.site)),
        ("url", _yaml_value(detail.url)),
        ("created", _yaml_value(detail.created_at, time=True)),
        ("updated", _yaml_value(detail.updated_at, time=True)),
        ("model", _yaml_value(detail.model)),
    ]
    lines = [f"{k}: {v}" if v else f"{k}:" for k, v in fields]
    return "---\n" + "\n".join(lines) + "\n---\n"


def conversation_markdown(detail: models.ConversationDetail) -> str:
    parts = [front_matter(detail), f"\n# {_one_line(detail.title) or 'Untitled conversation'}\n"]
    sections = [(_ROLE_HEADINGS.get(t.role, t.role.title()), t.text) for t in detail.turns]
    if detail.draft and detail.draft.text.strip():
        sections.append(("Unsent draft", detail.draft.text))
    for heading, text in sections:
        parts.append(f"\n## {heading}\n\n" + text.strip("\n") + "\n")
    return "".join(parts)


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def conversation_json(detail: models.ConversationDetail) -> bytes:
    return msgspec.json.format(msgspec.json.encode(detail), indent=2) + b"\n"


def file_stem(title: str | None, id: str) -> str:
    """A name that is safe on every file system: slug of the title plus a short id."""
    text = unicodedata.normalize("NFKC", title or "").lower()
    slug = re.sub(r"[^\w]+", "-", text).strip("-_")[:60].rstrip("-_")
    short = re.sub(r"[^A-Za-z0-9]", "", id)[:8] or "x"
    return f"{slug or 'untitled'}-{short}"


def export_zip(
    vault: ExportVault,
    ids: list[str] | None,
    fmt: Literal["md", "json"],
    out: BinaryIO | Path,
    progress: Progress | None = None,
) -> int:
    """Writes one file per conversation into a .zip at `out`; returns how many.

    `ids` None exports every conversation. Unknown ids are skipped. Each
    conversation is read, rendered and written before the next one is read, so
    memory stays flat however large the vault.
    """
    if fmt not in ("md", "json"):
        raise ValueError(f"unknown export format {fmt!r} (md or json)")
    if ids is None:
        ids = all_ids(vault)
    total = len(ids)
    written = 0
    used: set[str] = set()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for done, id in enumerate(ids, 1):
            detail = vault.get_conversation(id)
            if detail is not None:
                stem = file_stem(detail.title, detail.id)
                name, n = f"{stem}.{fmt}", 1
                # Same title and id prefix; compared without case, as Windows and macOS do.
                while name.lower() in used:
                    n += 1
                    name = f"{stem}-{n}.{fmt}"
                used.add(name.lower())
                data = conversation_markdown(detail).encode() if fmt == "md" else conversation_json(detail)
                zf.writestr(name, data)
                written += 1
            if progress:
                progress(done, total)
    return written


def all_ids(vault: ExportVault, page: int = 1000) -> list[str]:
    """Every conversation's id, in the order list_conversations gives."""
    ids: list[str] = []
    while True:
        batch = vault.list_conversations(limit=page, offset=len(ids))
        ids.extend(c.id for c in batch)
        if len(batch) < page:
            return ids
