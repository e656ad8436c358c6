"""Google Takeout's My Activity in HTML (Takeout's default format) read as the entries of its
JSON, so that the Gemini import reads both alike.

Each entry is a `<div class="outer-cell">`: a header cell ("Gemini Apps"), a content cell
holding "Prompted <prompt>", lines naming attached files (links), the time in the
account's language ("Apr 12, 2026, 3:34:31 PM EDT", "12 Apr 2026, 15:34:31 BST",
"18.04.2026, 17:38:51 MESZ", "10 de mai. de 2026, 03:46:09 BRT"), then the answer's HTML,
the parts parted by `<br>`. The file is read one cell at a time (a Takeout's may be 70 MB);
a cell is at most source.MAX_RECORD_BYTES. A time in a form not read here is an
ImportFailed that says so (the JSON format has ISO times).
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone
from typing import Iterator

import msgspec
from bs4 import BeautifulSoup

from . import source
from .source import ImportFailed

_CELL = re.compile(rb'<div class="outer-cell\b')
_BR = re.compile(r"<br\s*/?>", re.I)
_TAG = re.compile(r"<(?!img\b)[^>]*>", re.I)
_MONTHS = {m: i + 1 for i, names in enumerate((  # the first letters of months' names in several languages
    "jan ene gen", "feb fev fév", "mar mär mrt", "apr abr avr", "may mai mag mei", "jun juin giu", "jul juil lug",
    "aug ago aoû", "sep set", "oct out okt ott", "nov", "dec dez dic déc")) for m in names.split()}
_CLOCK = r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?\s*(?P<ampm>[AaPp]\.?\s?[Mm]\.?)?"
_ZONE = r"(?:\s*(?P<tz>(?:GMT|UTC)(?:[+-]\d{1,2}(?::?\d{2})?)?|[^\W\d_]{2,5}))?"
_DATES = [re.compile(p + r",?\s+(?:at\s+|um\s+|à\s+|às\s+)?" + _CLOCK + _ZONE + r"$") for p in (
    r"(?P<mon>[^\W\d_]{3,})\.?\s+(?P<d>\d{1,2}),\s+(?P<y>\d{4})",  # Apr 12, 2026
    r"(?P<d>\d{1,2})\.?\s+(?:de\s+)?(?P<mon>[^\W\d_]{3,})\.?\s+(?:de\s+)?(?P<y>\d{4})",  # 12 Apr 2026, 10 de mai. de 2026
    r"(?P<d>\d{1,2})\.\s?(?P<m>\d{1,2})\.\s?(?P<y>\d{4})",  # 18.04.2026, 1. 1. 2026
    r"(?P<y>\d{4})[/-](?P<m>\d{1,2})[/-](?P<d>\d{1,2})",  # 2026/04/12
    r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日",  # 2026年4月12日
)]
_ZONES = {"UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8,
          "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10, "BST": 1, "IST": 5.5, "WET": 0, "WEST": 1, "CET": 1,
          "CEST": 2, "MEZ": 1, "MESZ": 2, "EET": 2, "EEST": 3, "OEZ": 2, "OESZ": 3, "MSK": 3, "SEČ": 1, "SELČ": 2, "BRT": -3,
          "ART": -3, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13}
_NOISE = re.compile(r"(Attached \d+ files?|\d+ generated images?)\.?", re.I)  # English lines about files


def parse_time(text: str) -> datetime | None:
    """The time Takeout wrote in `text` (in UTC; a zone not known here is taken as UTC), or None."""
    text = " ".join(text.replace("\u202f", " ").split())
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except ValueError:
        pass
    for pattern in _DATES:
        if m := pattern.match(text):
            return _from_match(m)
    return None


def _from_match(m: re.Match) -> datetime | None:
    g = m.groupdict()
    name = (g.get("mon") or "").casefold()
    month = int(g["m"]) if g.get("m") else _MONTHS.get(name[:4]) or _MONTHS.get(name[:3])
    hour = int(g["H"]) % 12 + (12 if g["ampm"] and g["ampm"][0] in "Pp" else 0) if g["ampm"] else int(g["H"])
    try:
        when = datetime(int(g["y"]), month or 0, int(g["d"]), hour, int(g["M"]), int(g["S"] or 0))
    except ValueError:
        return None
    return (when - timedelta(hours=_offset(g["tz"] or "UTC"))).replace(tzinfo=timezone.utc)


def _offset(zone: str) -> float:
    if m := re.fullmatch(r"(?:GMT|UTC)([+-])(\d{1,2}):?(\d{2})?", zone):
        return (1 if m[1] == "+" else -1) * (int(m[2]) + int(m[3] or 0) / 60)
    return _ZONES.get(zone, 0)


def _cells(stream, name: str, meter: source.Meter) -> Iterator[tuple[int, bytes]]:
    """(byte offset, HTML) of each outer cell, read a chunk at a time."""
    buf, base, eof, count = bytearray(), 0, False, 0
    while not eof:
        try:
            chunk = stream.read(source.CHUNK)
        except source.READ_ERRORS as e:
            raise ImportFailed(name, f"byte {base + len(buf)}", f"cannot read: {e}") from None
        meter.read(len(chunk))
        eof = not chunk
        buf.extend(chunk)
        starts = [m.start() for m in _CELL.finditer(buf)]
        ends = starts[1:] + ([len(buf)] if eof and starts else [])
        for start, end in zip(starts, ends):
            yield base + start, bytes(buf[start:end])
        count += len(ends)
        keep = starts[len(ends)] if len(starts) > len(ends) else max(0, len(buf) - 32)
        if len(buf) - keep > source.MAX_RECORD_BYTES:
            raise source.too_large(name, "entry", count, base + keep)
        del buf[:keep]
        base += keep


def is_activity(src: source.Source) -> bool:
    """Whether the page holds activity cells (Takeout's archive_browser.html, say, does not),
    found at the first cell's start (a cell too large is refused when read, by place)."""
    try:
        with source.opened(src) as stream:
            seen = b""
            while chunk := stream.read(source.CHUNK):
                seen = seen[-32:] + chunk
                if _CELL.search(seen):
                    return True
    except (ImportFailed, *source.READ_ERRORS):
        pass
    return False


def records(src: source.Source, meter: source.Meter) -> Iterator[tuple[str, int, bytes]]:
    """(place, index, raw JSON entry) of each activity cell, as source.records gives a JSON file's."""
    with source.opened(src) as stream:
        for index, (offset, cell) in enumerate(_cells(stream, src.name, meter)):
            place = f"entry {index} (byte {offset})"
            with source.reading(src.name, place):
                entry = _entry(cell.decode("utf-8", "replace"), src.name, place)
            yield place, index, msgspec.json.encode(entry)
            meter.tick()


def _entry(cell: str, name: str, place: str) -> dict:
    soup = BeautifulSoup(cell, "html.parser")
    header = soup.find(class_="header-cell")
    content = next((d for d in soup.find_all(class_="content-cell")
                    if not {"mdl-typography--text-right", "mdl-typography--caption"} & set(d.get("class", ()))), None)
    caption = soup.find(class_="mdl-typography--caption")  # "Products:", then one product a line
    products = caption.get_text("\n", strip=True).splitlines()[1:] if caption else []
    entry = {"header": header.get_text(" ", strip=True) if header else "", "title": "", "time": "",
             "products": [" ".join(p.split()) for p in products]}
    if content is None:
        return entry
    parts = _BR.split(content.decode_contents())
    for i, part in enumerate(parts):
        lead = part.split("<", 1)[0]
        if i and (when := parse_time(html.unescape(lead))) is not None:
            break
    else:
        lines = [BeautifulSoup(p, "html.parser").get_text(" ", strip=True) for p in parts]
        raise ImportFailed(name, place, f"no time in a form read here among {lines[:4]!r}: in Takeout, choose JSON "
                                        "as the format of My Activity")
    lines, files = _asked(parts[:i])
    for right in soup.find_all(class_="mdl-typography--text-right"):  # the cell beside: files too, when any
        files += [src for t in right.find_all(["a", "img"]) if (src := t.get("href") or t.get("src"))
                  and not src.startswith(("http:", "https:", "data:"))]
    answer = "<br>".join([parts[i][len(lead):], *parts[i + 1:]])
    entry.update(title="\n".join(lines), time=when.isoformat(), attachedFiles=list(dict.fromkeys(files)))
    if _TAG.sub("", answer).strip():  # not only tags (a picture is an <img>, kept as the answer's HTML)
        entry["safeHtmlItem"] = [{"html": answer}]
    return entry


def _asked(parts: list[str]) -> tuple[list[str], list[str]]:
    """The prompt's lines and the files attached to it, from the parts before the time."""
    lines, files = [], []
    for k, part in enumerate(parts):
        asked = BeautifulSoup(part, "html.parser")
        links = [a for a in asked.find_all("a", href=True) if not a["href"].startswith("http")]
        text = " ".join(asked.get_text(" ").split())
        if k and links and text.lstrip("- ") == " ".join(a.get_text(" ", strip=True) for a in links):
            files += [a["href"] for a in links]  # "- photo.png", an attached file's line
        elif text and not _NOISE.fullmatch(text):
            lines.append(text)
    return lines, files
