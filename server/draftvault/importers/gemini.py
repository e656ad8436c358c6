"""Import of Google Takeout's "My Activity" for Gemini Apps (JSON, or the Takeout .zip).

`My Activity.json` is an array of entries, newest first, one per prompt: `{header: "Gemini
Apps", title: "Prompted <prompt>", time, safeHtmlItem: [{html: the answer}],
attachedFiles, imageFile}`; other titles ("Created", "Used", "Gave feedback") are not
prompts and are skipped. The answer's HTML becomes Markdown (markdownify; scripts and
styles dropped).

Takeout speaks the account's language: the file is `MyActivity.json` or `My Activity.json`
in English, `MeineAktivitäten.json` in German, `MiActividad.json` in Spanish..., in a
folder named for Gemini ("Gemini Apps", "Gemini-Apps"); a German prompt's title is
"Eingegebener Prompt: <prompt>". So in a zip or folder the activity files are the JSON
arrays of activity entries (found by their first entry), those under a Gemini folder
first; an entry with an answer whose title is no wording known here is a prompt too, read
title and all (the summary counts them). A prompt of only a picture is titled "Prompted".
My Activity in HTML (Takeout's default format) is read as the same entries (takeout_html).

Takeout has no conversation ids, so entries are grouped into conversations, in time order:
- an entry whose prompt is a user turn of a Gemini conversation the vault captured live
  (and not later than that conversation's last update plus a day) belongs with the other
  entries matching that conversation; a group whose prompts the live conversation already
  holds all is skipped (nothing new), otherwise it is imported titled like it;
- other entries start a new conversation after GAP without a prompt.
The summary says how many conversations came from which. A conversation's id is a digest
of its first entry's time and prompt, so a re-import (or a later Takeout) finds it again.

Two passes over the file: the first reads each entry's time and prompt digest, the
second the entries themselves, importing a conversation as soon as all its entries are
read (Takeout is in time order, so one conversation at a time is held).
"""

from __future__ import annotations

import hashlib
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgspec
from bs4 import BeautifulSoup
from markdownify import MarkdownConverter

from .. import models, times
from ..store import ImportVault
from . import source, takeout_html
from .source import ImportFailed
from ..markdown import link
from ..store.records import TurnMeta
from .tree import Turn

GAP = timedelta(minutes=30)
_SLACK = timedelta(days=1)
_PROMPTED = ("Prompted", "Eingegebener Prompt:", "Pokyn")  # English, German, Czech
_NOT_PROMPTS = ("Created ", "Used ", "Gave feedback", "Selected ")  # English titles of other activity
_ACTIVITY = "My Activity.json"
_TAKEOUT = "takeout:"  # the site id of an imported conversation starts with this
_GEMINI = "https://gemini.google.com/"


class _Html(msgspec.Struct):
    html: str = ""


class _Subtitle(msgspec.Struct):
    """A line under the entry: a web source the answer cites, a file's name, the Gem used."""

    name: Any = None
    url: Any = None

    def __post_init__(self) -> None:
        source.strings_only(self, "name", "url")


class _Entry(msgspec.Struct):
    title: str  # required: a file of something else is refused, not read as no prompts
    time: str
    header: str = ""
    products: list[str] = []
    safeHtmlItem: list[_Html] = []
    subtitles: list[_Subtitle] | None = None
    attachedFiles: Any = ()  # file names; anything else here (not seen yet) is left out
    imageFile: Any = None

    def __post_init__(self) -> None:
        source.strings_only(self, "imageFile")
        files = self.attachedFiles if isinstance(self.attachedFiles, list) else []
        self.attachedFiles = [f for f in files if isinstance(f, str) and f]


_entry = msgspec.json.Decoder(_Entry)


def _prompt(e: _Entry) -> str | None:
    """The prompt an entry records, or None when it records other activity."""
    if not any(name in text for name in ("Gemini", "Bard") for text in (e.header, *e.products)):  # Bard: before 2024
        return None
    for wording in _PROMPTED:
        if e.title.startswith(wording) and e.title[len(wording):][:1] in ("", *" \xa0\n"):
            return e.title[len(wording):].strip()
    if any(h.html.strip() for h in e.safeHtmlItem) and not e.title.startswith(_NOT_PROMPTS):
        return e.title  # answered, so a prompt, in a wording not known here
    return None


def is_html(src: source.Source) -> bool:
    """Whether the file is a page (by its name, else by its first byte: an upload has no name)."""
    if src.name.lower().endswith((".html", ".htm")):
        return True
    if src.name.lower().endswith(".json"):
        return False
    with source.opened(src) as stream:
        try:
            return stream.read(1024).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
        except source.READ_ERRORS:
            return False


def _records(src: source.Source, meter: source.Meter):
    return takeout_html.records(src, meter) if is_html(src) else source.records(src, meter, "entry")


def _is_entry(src: source.Source) -> bool:
    """Whether the file's first record is an activity entry."""
    if is_html(src):
        return takeout_html.is_activity(src)
    first = source.first(src)
    return isinstance(first, dict) and isinstance(first.get("title"), str) and "time" in first


def activity_files(path: Path, stack: ExitStack) -> list[source.Source]:
    """The Takeout activity files at `path` (itself when a plain file): the JSON arrays of
    activity entries or HTML pages of them, only those under a Gemini folder when there are
    such (a Takeout of all of My Activity holds one per product), JSON rather than HTML."""
    what = f"{_ACTIVITY} or My Activity.html"
    found = source.find(path, stack, lambda n: n.lower().endswith((".json", ".html", ".htm")), what)
    if path.is_file() and source.open_zip(path, stack) is None:
        if is_html(found[0]) and not takeout_html.is_activity(found[0]):
            raise ImportFailed(str(path), "byte 0", "is a page without Takeout's activity entries (outer-cell)")
        return found
    # by its path in the zip or folder: the zip's own name ("gemini-takeout.zip") says nothing
    named = [s for s in found if any(n in s.name[len(str(path)):].casefold() for n in ("gemini", "bard"))]
    files = [s for s in named if _is_entry(s)] or [s for s in found if s not in named and _is_entry(s)]
    if not files:
        raise ImportFailed(str(path), "zip" if path.is_file() else "folder", f"holds no {what}")
    return [s for s in files if not is_html(s)] or files


def _key(text: str) -> bytes:
    return hashlib.blake2b(" ".join(text.split()).encode(), digest_size=16).digest()


def _when(e: _Entry, name: str, place: str) -> datetime:
    try:
        return datetime.fromisoformat(e.time).astimezone(timezone.utc)
    except ValueError:
        raise ImportFailed(name, place, f"time {e.time!r} is not an ISO 8601 time") from None


def _markdown(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()
    try:
        return MarkdownConverter(heading_style="ATX", bullets="-").convert_soup(soup).strip()
    except RecursionError:  # nested deeper than Python's stack (markdownify recurses): its text, unformatted
        return soup.get_text().strip()


# ---- grouping ---------------------------------------------------------------------------


@dataclass
class _Live:
    """A Gemini conversation the vault captured live."""

    title: str | None
    url: str | None
    updated: datetime
    prompts: set[bytes]


@dataclass
class _Group:
    live: _Live | None
    indexes: list[int] = field(default_factory=list)
    keys: list[bytes] = field(default_factory=list)
    last: datetime | None = None


def _live_conversations(vault) -> dict[bytes, list[_Live]]:
    """Prompt digest -> the live Gemini conversations holding that prompt as a user turn."""
    by_prompt: dict[bytes, list[_Live]] = {}
    offset = 0
    while page := vault.list_conversations(site="gemini", limit=200, offset=offset):
        offset += len(page)
        for summary in page:
            if (summary.conversation_id or "").startswith(_TAKEOUT):
                continue
            detail = vault.get_conversation(summary.id)
            if detail is None:
                continue
            live = _Live(detail.title, detail.url, datetime.fromisoformat(detail.updated_at),
                         {_key(t.text) for t in detail.turns if t.role == "user"})
            for k in live.prompts:
                by_prompt.setdefault(k, []).append(live)
    return by_prompt


def _group(entries: list[tuple[datetime, int, bytes]], live: dict[bytes, list[_Live]]) -> list[_Group]:
    groups: list[_Group] = []
    for when, index, key in sorted(entries):
        match = next((c for c in live.get(key, ()) if when <= c.updated + _SLACK), None)
        g = groups[-1] if groups else None
        if g is None or (match is not None and g.live is not match) or (match is None and when - g.last > GAP):
            g = _Group(match)
            groups.append(g)
        g.indexes.append(index)
        g.keys.append(key)
        g.last = when
    return groups


# ---- the import -------------------------------------------------------------------------


def import_gemini_takeout(vault: ImportVault, path, progress: models.Progress | None = None) -> models.ImportResult:
    """Imports the Gemini prompts and answers of a Takeout; all or nothing."""
    result = source.new_result()
    with ExitStack() as stack:
        sources = activity_files(Path(path), stack)
        meter = source.Meter(2 * sum(s.size for s in sources), progress)
        with vault.transaction():
            live = _live_conversations(vault)
            entries: list[tuple[datetime, int, bytes]] = []  # (time, entry number, prompt digest)
            places: list[tuple[source.Source, int]] = []  # entry number -> (file, index in it)
            unknown = 0  # prompts in a wording not known here
            for src in sources:
                for place, index, raw in _records(src, meter):
                    e = source.decode(_entry, raw, src.name, place)
                    if (prompt := _prompt(e)) is not None:
                        entries.append((_when(e, src.name, place), len(places), _key(prompt)))
                        places.append((src, index))
                        unknown += not e.title.startswith(_PROMPTED)
            groups = _group(entries, live)
            stats = {"live": 0, "gaps": 0, "held": 0}
            group_of: dict[int, int] = {}  # entry number -> its group, for the groups to import
            for number, g in enumerate(groups):
                if g.live is not None and set(g.keys) <= g.live.prompts:
                    stats["held"] += 1
                    continue
                stats["live" if g.live else "gaps"] += 1
                group_of.update((n, number) for n in g.indexes)
            pending: dict[int, list[tuple[datetime, list[Turn]]]] = {}
            for src in sources:
                wanted = {index: n for n, (s, index) in enumerate(places) if s is src and n in group_of}
                for place, index, raw in _records(src, meter):
                    if index not in wanted:
                        continue
                    e = source.decode(_entry, raw, src.name, place)
                    number = group_of[wanted[index]]
                    collected = pending.setdefault(number, [])
                    with source.reading(src.name, place):
                        when = _when(e, src.name, place)
                        collected.append((when, _turns(e, times.iso(when))))
                    if len(collected) == len(groups[number].indexes):
                        _store(vault, result, groups[number], pending.pop(number))
    meter.finish()
    result.notes.append(
        f"{len(entries)} prompts grouped into conversations: {stats['live']} by matching Gemini conversations "
        f"captured live, {stats['gaps']} by time gaps (a new conversation after {int(GAP.total_seconds() // 60)} "
        "minutes without a prompt)"
        + (f"; {stats['held']} already captured live were skipped" if stats["held"] else "")
    )
    if unknown:
        result.notes.append(f"{unknown} answered entries whose title is no prompt wording known here were read "
                            "as prompts, title and all")
    return result


def _turns(e: _Entry, seen: str) -> list[Turn]:
    """The prompt (with the files it names) and its answer, both first seen at the entry's
    time. An answer of several safeHtmlItems is read whole, in order: real Takeouts hold up
    to five, called regenerated drafts by some readers and parts of one answer by others."""
    prompt = _prompt(e) or ""
    images = [e.imageFile] if e.imageFile and e.imageFile not in e.attachedFiles else []  # mostly one of them
    files = [f"[File: {f}]" for f in e.attachedFiles] + [f"[Image: {f}]" for f in images]
    meta = TurnMeta(first_seen=seen)
    asked = "\n\n".join(filter(None, [prompt, "\n".join(files)]))
    turns: list[Turn] = [("user", asked, meta)] if asked else []
    answer = "\n\n".join(filter(None, (_markdown(h.html) for h in e.safeHtmlItem)))
    if answer:
        turns.append(("assistant", "\n\n".join(filter(None, [answer, _sources(e)])), meta))
    return turns


def _sources(e: _Entry) -> str:
    """The web pages the answer cites (subtitles with a web address; the others name files,
    or the Gem used, whose address is Gemini's own)."""
    urls = dict.fromkeys(s.url for s in e.subtitles or () if s.url and s.url.startswith(("https://", "http://"))
                         and not s.url.startswith(_GEMINI))
    return "Sources:\n" + "\n".join(f"- {link(None, u)}" for u in urls) if urls else ""


def _store(vault, result: models.ImportResult, g: _Group, collected: list[tuple[datetime, list[Turn]]]) -> None:
    collected.sort(key=lambda c: c[0])
    turns = [t for _, ts in collected for t in ts]
    if not turns:  # only prompts of nothing ("Prompted" alone, no file, no answer)
        return
    first = collected[0][0]
    site_id = _TAKEOUT + hashlib.blake2b(first.isoformat().encode() + g.keys[0], digest_size=12).hexdigest()
    title = (g.live.title if g.live else None) or turns[0][1].split("\n", 1)[0][:80]
    _, outcome = vault.import_conversation(
        site="gemini",
        conversation_id=site_id,
        title=title,
        url=(g.live.url if g.live else None) or "https://gemini.google.com/app",
        model=None,
        created_at=times.iso(first),
        updated_at=times.iso(collected[-1][0]),
        turns=turns,
    )
    source.count(result, outcome, len(turns))

