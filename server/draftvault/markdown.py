"""The Markdown dialect of turn texts (docs/markdown.md), on the Python side.

The extension writes it (content/dom-to-markdown.js), the history page reads it
(web/static/markdown-to-dom.js); here are what resume packs and imports need: writing
fences, links and quotes the way the extension does, splitting a text into blocks
without cutting a code or math block, and turning another dialect's math delimiters
(`\\( … \\)`, `\\[ … \\]`, as ChatGPT's export writes them) into this one's.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator

# A code fence: three or more backticks or tildes, then the info string (language).
FENCE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")
MATH = "$$"  # a display-math block opens and closes with this line


def fence(code: str, language: str = "") -> str:
    """A fenced code block, its fence longer than any backtick run in the code."""
    ticks = "```"
    while ticks in code:
        ticks += "`"
    return f"{ticks}{language}\n" + code.rstrip("\n") + f"\n{ticks}"


def code_span(text: str) -> str:
    """Inline code, its backticks more than any run in the text (spaced when the text starts or ends with one)."""
    ticks = "`"
    while ticks in text:
        ticks += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def link(label: str | None, url: str) -> str:
    text = (label or url).replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return f"[{text}]({url.replace(' ', '%20').replace('(', '%28').replace(')', '%29')})"


def attachment(name: str, mime: str, href: str | None = None) -> str:
    """A turn's image or file in Markdown: an embedded image or a link to the file at `href`,
    else its name alone ("[image: name.png]", "[file: report.pdf]"), as resume packs give it."""
    if href is not None:
        return ("!" if mime.startswith("image/") else "") + link(name, href)
    kind = "image" if mime.startswith("image/") else "file"
    return f"[{kind}: {' '.join(name.replace('[', '(').replace(']', ')').split())}]"


def with_attachments(text: str, notes: list[str]) -> str:
    """A turn's text followed by its attachments, one per line."""
    return "\n\n".join([text.strip("\n"), "\n".join(notes)]) if notes else text


def without_image_placeholders(text: str, alts: list[str]) -> str:
    """The text without the placeholders (`[Image: alt]`, docs/markdown.md) of the images kept
    as files beside it: each of `alts` takes away the first line that is that placeholder
    alone, and a blank line left doubled by it. Code and math blocks, a placeholder inside
    a line of text and those of other images stay."""
    left = Counter(f"[Image: {alt}]" for alt in alts)
    out: list[str] = []
    dropped = False
    for line, inside in scan(text):
        blank = not line.strip()
        if not inside and left[line.strip()] > 0:
            left[line.strip()] -= 1
            dropped = True
            continue
        if dropped and blank and (not out or not out[-1].strip()):
            continue  # the blank line that separated the dropped one
        out.append(line)
        dropped = dropped and blank
    while dropped and out and not out[-1].strip():
        out.pop()
    return "\n".join(out)


def quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.strip("\n").split("\n"))


def opens_block(line: str) -> bool:
    """Does the line open a code fence or a display-math block?"""
    return bool(FENCE.match(line)) or line.strip() == MATH


def _closes(opener: str, line: str) -> bool:
    if opener == MATH:
        return line.strip() == MATH
    m = FENCE.match(line)
    return bool(m) and m.group(1).startswith(opener) and not m.group(2).strip()


def scan(text: str) -> Iterator[tuple[str, bool]]:
    """Each line, and whether it belongs to a code or math block (its fences included)."""
    opener: str | None = None
    for line in text.split("\n"):
        if opener is not None:
            if _closes(opener, line):
                opener = None
            yield line, True
        elif opens_block(line):
            m = FENCE.match(line)
            opener = m.group(1) if m else MATH
            yield line, True
        else:
            yield line, False


def blocks(text: str) -> list[str]:
    """Blocks split at blank lines, never inside a code fence or $$ math."""
    out: list[str] = []
    current: list[str] = []
    for line, inside in scan(text):
        if inside or line.strip():
            current.append(line)
        elif current:
            out.append("\n".join(current))
            current = []
    if current:
        out.append("\n".join(current))
    return out


# Outside code blocks: inline code spans and links are kept as they are (a link's
# label escapes brackets as `\[`, and neither it nor its address holds a bare `[`),
# `\[ … \]` and `\( … \)` are math. Read left to right in one pass (`_Prose`): each
# opening either finds its end or is passed by, and an opening none can follow makes
# every later one of its kind plain text. A regular expression with lazy bodies
# (`\\\((.+?)\\\)`) tried every opening to the end of the text: quadratic, 20,000
# openings took 7 s, and an imported message may be 32 MiB.
_OPENING = re.compile(r"`+|\[|\\[\[(]")
_LABEL = re.compile(r"(?:\\.|[^\[\]\\\n])*", re.S)  # after a link's "["
_LINK_REST = re.compile(_LABEL.pattern + r"\]\([^)\s\[]*\)", re.S)
_ITEM = re.compile(r"\s*(?:(?:[-*+]|\d{1,9}[.)])\s+)?")  # a line's indent, a list item's marker with it
MAX_INDENT = 64  # a display's lines are indented like its line, up to this many columns
_NOT_SPACE = re.compile(r"\S")
_TAB_SPACE = re.compile(r"[ \t]*")
_TO_LINE_END = re.compile(r"[^\S\n]*(?:\n|\Z)")  # only white space left on the line


class _Overgrown(Exception):
    """The math made this dialect's would be over twice the text: it stays as it was."""


class _Prose:
    """One prose run's math made this dialect's (see above)."""

    def __init__(self, text: str):
        self.text = text
        self.runs: dict[int, list[int]] = {}  # backtick runs by length: where each starts
        for m in re.finditer("`+", text):
            self.runs.setdefault(len(m[0]), []).append(m.start())
        self.dead: set[str] = set()  # math openings with no close after them
        self.no_link_before = 0
        self.growth = 0  # what the display lines added (their indents are copies)
        self.line_start, self.seen, self.line_has_text = 0, 0, False
        self.item: tuple[int, int] | None = None  # (line start, where its indent and list marker end)

    def convert(self) -> str:
        text, out, pos = self.text, [], 0
        while (m := _OPENING.search(text, pos)) is not None:
            i, token = m.start(), m[0]
            if token[0] == "`":  # code: to the next run of as many backticks, else the run alone
                later = self.runs[len(token)]
                n = bisect_right(later, i)
                end = later[n] + len(token) if n < len(later) else m.end()
            elif token == "[":  # a link stays whole; a bracket that starts none is text
                link = None if i < self.no_link_before else _LINK_REST.match(text, i + 1)
                if link is None and i >= self.no_link_before:
                    # A "[" inside the label just read can only be an escaped "\[": a label from
                    # there ends where this one did, and fails as it did.
                    self.no_link_before = _LABEL.match(text, i + 1).end()
                end = link.end() if link else i + 1
            else:
                close = "\\]" if token == "\\[" else "\\)"
                j = -1 if close in self.dead else text.find(close, i + 3)
                if j < 0:
                    self.dead.add(close)
                    end = i + 1  # its "[" may still start a link
                elif token == "\\(":
                    out += [text[pos:i], f"${text[i + 2 : j].strip()}$"]
                    pos = j + 2
                    continue
                else:
                    start = i  # the spaces before it go with it
                    while start > pos and text[start - 1] in " \t":
                        start -= 1
                    end = _TAB_SPACE.match(text, j + 2).end()
                    display = self._display(start, i, text[i + 2 : j], end)
                    self.growth += len(display) - (end - start)
                    if self.growth > len(text) + 4096:
                        raise _Overgrown
                    out += [text[pos:start], display]
                    pos = end
                    continue
            out.append(text[pos:end])
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def _display(self, start: int, opening: int, tex: str, end: int) -> str:
        """`$$` lines around the TeX, indented like the line it was on (a list item's)."""
        text, space = self.text, self.text[start:opening]
        newline = text.rfind("\n", self.seen, start)
        if newline >= 0:
            self.line_start, self.line_has_text, self.seen = newline + 1, False, newline + 1
        if not self.line_has_text:
            self.line_has_text = _NOT_SPACE.search(text, self.seen, start) is not None
        self.seen = max(self.seen, start)
        rest_blank = _TO_LINE_END.match(text, end) is not None
        if self.line_has_text:
            indent = " " * min(MAX_INDENT, self._item_length(start))
            head = f"\n{indent}"
        else:
            indent, head = (text[self.line_start : start] + space)[:MAX_INDENT], space
        tail = "" if rest_blank else f"\n{indent}"
        return f"{head}{MATH}\n{indent}{tex.strip()}\n{indent}{MATH}{tail}"

    def _item_length(self, start: int) -> int:
        """The length of the line's indent and list marker before `start` (matched once a line:
        a match over the whole line is the match up to any `start` at or past its end)."""
        if self.item is None or self.item[0] != self.line_start:
            line_end = self.text.find("\n", self.line_start)
            whole = _ITEM.match(self.text, self.line_start, len(self.text) if line_end < 0 else line_end)
            self.item = (self.line_start, whole.end())
        if start >= self.item[1]:
            return self.item[1] - self.line_start
        return len(_ITEM.match(self.text, self.line_start, start)[0])


def normalise_math(text: str) -> str:
    """`\\( x \\)` as `$x$` and `\\[ x \\]` as `$$` lines around x, except in code (a text whose
    display lines would more than double it stays as it is: each copies its line's indent)."""
    try:
        return _normalise_math(text)
    except _Overgrown:
        return text


def _normalise_math(text: str) -> str:
    if "\\(" not in text and "\\[" not in text:
        return text
    out: list[str] = []
    prose: list[str] = []
    for line, inside in scan(text):
        if inside:
            if prose:
                out.append(_Prose("\n".join(prose)).convert())
                prose = []
            out.append(line)
        else:
            prose.append(line)
    if prose:
        out.append(_Prose("\n".join(prose)).convert())
    return "\n".join(out)
