"""A turn's parts besides its text, written as Markdown for exports and resume packs
(docs/markdown.md, "Thinking, documents and times"): the thinking as a collapsed callout
before the answer, each document as a callout after it (code fenced with its language,
a document's Markdown as it is), the time it was first seen after the role heading."""

from __future__ import annotations

import re

from . import models
from typing import Callable

from .markdown import attachment, fence, quote, with_attachments
from .protocol import Document
from .vocabulary import role_heading

ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


def callout(kind: str, title: str, body: str, folded: bool) -> str:
    """An Obsidian callout: a title line, then the body, every line quoted (code fences,
    lists and quotes inside it stay inside; other Markdown readers show a quote)."""
    head = f"[!{kind}]{'-' if folded else ''} {title}"
    return quote(f"{head}\n{body.strip(chr(10))}" if body.strip() else head)


def document_markdown(doc: Document) -> str:
    label = doc.kind if not doc.language else f"{doc.kind}, {doc.language}"
    body = fence(doc.text, doc.language or "") if doc.kind == "code" else doc.text
    return callout("example", f"Document: {' '.join(doc.title.split()) or 'Untitled'} ({label})", body, folded=False)


def _no_link(a: models.AttachmentOut) -> str | None:
    return None


def turn_body(turn: models.TurnOut, thinking: bool = True,
              href: Callable[[models.AttachmentOut], str | None] = _no_link) -> str:
    """The turn's text with its thinking (when `thinking`) before it, its documents after it,
    then its images and files: linked where `href` gives a path, else named (an image kept
    as a file is named there alone, not also by its placeholder in the text: `shown_text`)."""
    parts = [callout("quote", "Thinking", turn.thinking, folded=True)] if thinking and turn.thinking else []
    parts.append((turn.text if turn.shown_text is None else turn.shown_text).strip("\n"))
    parts += [document_markdown(d) for d in turn.documents]
    body = "\n\n".join(p for p in parts if p)
    return with_attachments(body, [attachment(a.name, a.type, href(a)) for a in turn.attachments])


def utc_minute(iso: str) -> str:
    """2026-11-29T14:02:05.123+00:00 as 2026-11-29 14:02 UTC (the vault writes UTC)."""
    return f"{iso[:10]} {iso[11:16]} UTC" if ISO_TIME.fullmatch(iso) else " ".join(iso.split())


def turn_heading(turn: models.TurnOut) -> str:
    """The role heading's words, with the time the turn was first seen when known."""
    return role_heading(turn.role) + (f" ({utc_minute(turn.first_seen)})" if turn.first_seen else "")
