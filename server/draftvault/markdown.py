"""The Markdown dialect of turn texts (docs/markdown.md), on the Python side.

The extension writes it (content/dom-to-markdown.js), the history page reads it
(web/static/markdown-to-dom.js); here are what resume packs and imports need: writing
fences, links and quotes the way the extension does, splitting a text into blocks
without cutting a code or math block, and turning another dialect's math delimiters
(`\\( … \\)`, `\\[ … \\]`, as ChatGPT's export writes them) into this one's.
"""

from __future__ import annotations

import re
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
# label escapes brackets as `\[`), `\[ … \]` and `\( … \)` are math.
_OTHER_MATH = re.compile(
    r"(?P<code>(?<!`)(`+)(?!`).+?(?<!`)\2(?!`))"
    r"|(?P<link>\[(?:\\.|[^\]\\\n])*\]\([^)\s]*\))"
    r"|(?P<space>[ \t]*)\\\[(?P<display>.+?)\\\][ \t]*"
    r"|\\\((?P<inline>.+?)\\\)",
    re.S,
)

_ITEM = re.compile(r"\s*(?:(?:[-*+]|\d{1,9}[.)])\s+)?")  # a line's indent, a list item's marker with it


def _math(m: re.Match) -> str:
    if m["display"] is not None:
        # On lines of their own, indented like the line it was on (a list item's).
        text = m.string
        line = text[text.rfind("\n", 0, m.start()) + 1 : m.start()]
        rest = text[m.end() :].split("\n", 1)[0]
        indent = " " * len(_ITEM.match(line).group(0)) if line.strip() else line + m["space"]
        head = f"\n{indent}" if line.strip() else m["space"]
        tail = f"\n{indent}" if rest.strip() else ""
        return f"{head}{MATH}\n{indent}{m['display'].strip()}\n{indent}{MATH}{tail}"
    if m["inline"] is not None:
        return f"${m['inline'].strip()}$"
    return m[0]


def normalise_math(text: str) -> str:
    """`\\( x \\)` as `$x$` and `\\[ x \\]` as `$$` lines around x, except in code."""
    if "\\(" not in text and "\\[" not in text:
        return text
    out: list[str] = []
    prose: list[str] = []
    for line, inside in scan(text):
        if inside:
            if prose:
                out.append(_OTHER_MATH.sub(_math, "\n".join(prose)))
                prose = []
            out.append(line)
        else:
            prose.append(line)
    if prose:
        out.append(_OTHER_MATH.sub(_math, "\n".join(prose)))
    return "\n".join(out)
