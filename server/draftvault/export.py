"""Export of conversations: Markdown (Obsidian-style front matter), JSON, and .zip of many.

Turn texts are already Markdown (code fenced with its language, math as `$...$`,
links kept), so a conversation's Markdown is front matter, a title and one heading
per turn around those texts. A turn's images and files follow its text: in a .zip or a
notes folder the files are written under `attachments/<id>/<name>` and the Markdown links
to them relatively (images embedded); a single exported note names them instead.
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
from .turn_parts import ISO_TIME, callout, turn_body, turn_heading, utc_minute
from .vocabulary import BRANCH_REASONS
from .store import ExportVault

# Characters YAML does not allow unescaped in a double-quoted scalar, or that YAML 1.1
# reads as line breaks (json.dumps already escapes C0 controls, quotes and backslashes).
_YAML_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


def _yaml_value(value: str | None, *, time: bool = False) -> str:
    if value is None:
        return ""
    if time and ISO_TIME.fullmatch(value):
        return value  # plain YAML timestamp: Obsidian shows it as a date
    quoted = json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar
    return _YAML_UNPRINTABLE.sub(lambda m: "\\u%04x" % ord(m.group()), quoted)


def front_matter(detail: models.ConversationDetail) -> str:
    fields = [
        ("id", _yaml_value(detail.id)),  # the vault's id: a later export finds its note by it
        ("title", _yaml_value(detail.title)),
        ("site", _yaml_value(detail.site)),
        ("url", _yaml_value(detail.url)),
        ("created", _yaml_value(detail.created_at, time=True)),
        ("updated", _yaml_value(detail.updated_at, time=True)),
        ("model", _yaml_value(detail.model)),
    ]
    lines = [f"{k}: {v}" if v else f"{k}:" for k, v in fields]
    return "---\n" + "\n".join(lines) + "\n---\n"


ATTACHMENTS_DIR = "attachments"


def attachment_path(a: models.AttachmentOut) -> str:
    """Where an export writes a stored file, relative to the Markdown: its id keeps names apart."""
    name = unicodedata.normalize("NFKC", a.name)
    name = re.sub(r"[^\w.-]+", "-", name).strip("-.")[:100] or "file"
    return f"{ATTACHMENTS_DIR}/{a.id}/{name}"


def conversation_markdown(detail: models.ConversationDetail, files: bool = False) -> str:
    """`files`: the stored files are written next to it (attachment_path), so link them."""
    parts = [front_matter(detail), f"\n# {_one_line(detail.title) or 'Untitled conversation'}\n"]
    def href(a: models.AttachmentOut) -> str | None:
        return attachment_path(a) if files and a.id else None

    sections = [(turn_heading(t), turn_body(t, href=href)) for t in detail.turns]
    if detail.draft and detail.draft.text.strip():
        sections.append(("Unsent draft", detail.draft.text))
    for heading, text in sections:
        parts.append(f"\n## {heading}\n\n" + text.strip("\n") + "\n")
    parts.extend(branch_callout(b, href) for b in detail.branches)
    return "".join(parts)


def branch_callout(branch: models.BranchOut, href: Callable[[models.AttachmentOut], str | None]) -> str:
    """An earlier version as a collapsed Obsidian callout: a title line, then its turns under
    role headings (each with its own images and files), every line quoted (`>` alone on blank
    lines), so quotes, lists and code fences in the turns nest inside the callout
    (docs/markdown.md, "Earlier versions")."""
    when = f" {utc_minute(branch.replaced_at)}" if branch.replaced_at else ""
    title = f"Earlier version, {BRANCH_REASONS.get(branch.reason, branch.reason)}{when} (from turn {branch.from_index + 1})"
    body = "\n\n".join(f"### {turn_heading(t)}\n\n" + turn_body(t, href=href) for t in branch.turns)
    return "\n" + callout("note", title, body, folded=True) + "\n"


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
    progress: models.Progress | None = None,
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
                name = _unique_name(detail, fmt, used)
                data = conversation_markdown(detail, files=True).encode() if fmt == "md" else conversation_json(detail)
                zf.writestr(name, data)
                write_files(vault, detail, lambda path: zf.open(path, "w"), used)
                written += 1
            if progress:
                progress(done, total)
    return written


def _unique_name(detail: models.ConversationDetail, suffix: str, used: set[str]) -> str:
    """`file_stem` plus the suffix, numbered when another file took it (same title and id prefix;
    compared without case, as Windows and macOS do); adds the name to `used`."""
    stem = file_stem(detail.title, detail.id)
    name, n = f"{stem}.{suffix}", 1
    while name.lower() in used:
        n += 1
        name = f"{stem}-{n}.{suffix}"
    used.add(name.lower())
    return name


_FRONT_MATTER_ID = re.compile(r"---\r?\n(?:(?!---).*\r?\n)*?id: *(.+?) *\r?\n")


def note_id(path: Path) -> str | None:
    """The `id` in a Markdown note's front matter (as `front_matter` writes it), else None."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(4096)
    except OSError:
        return None
    m = _FRONT_MATTER_ID.match(head)
    if m is None:
        return None
    value = m.group(1)
    try:
        return json.loads(value) if value.startswith('"') else value
    except ValueError:
        return None


def export_folder(vault: ExportVault, ids: list[str] | None, folder: Path, progress: models.Progress | None = None) -> int:
    """Writes Markdown notes into `folder` (an Obsidian vault, say); returns how many.

    A conversation whose note is already there (found by the `id` in its front matter,
    whatever the file is called now) rewrites that note: exporting again updates the
    notes instead of adding copies. Other files are left alone."""
    folder.mkdir(parents=True, exist_ok=True)
    notes = {id: p for p in sorted(folder.glob("*.md")) if (id := note_id(p)) is not None}
    used = {p.name.lower() for p in folder.iterdir()}
    ids = all_ids(vault) if ids is None else ids
    written = 0
    for done, id in enumerate(ids, 1):
        detail = vault.get_conversation(id)
        if detail is not None:
            path = notes.get(detail.id) or folder / _unique_name(detail, "md", used)
            path.write_text(conversation_markdown(detail, files=True), encoding="utf-8")
            write_files(vault, detail, lambda rel: _new_file(folder / rel), set())
            written += 1
        if progress:
            progress(done, len(ids))
    return written


def write_files(vault: ExportVault, detail: models.ConversationDetail, create: Callable[[str], BinaryIO],
                done: set[str]) -> None:
    """Writes the stored files of the conversation's turns and earlier versions at their attachment_path
    (each once: `done`), a part at a time."""
    turns = [*detail.turns, *(t for b in detail.branches for t in b.turns)]
    for a in (a for t in turns for a in t.attachments if a.id):
        path = attachment_path(a)
        if path.lower() in done or (found := vault.attachment(a.id)) is None:
            continue
        done.add(path.lower())
        with create(path) as f:
            for data in found[1]:
                f.write(data)


def _new_file(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb")


def all_ids(vault: ExportVault, page: int = 1000) -> list[str]:
    """Every conversation's id, in the order list_conversations gives."""
    ids: list[str] = []
    while True:
        batch = vault.list_conversations(limit=page, offset=len(ids))
        ids.extend(c.id for c in batch)
        if len(batch) < page:
            return ids
