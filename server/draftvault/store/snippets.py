"""Snippets and their marks, from a hit's plaintext (pure functions).

The snippet finds the matches in its text once, with str.find per query word and a
look at the characters around it (a pattern with a leading lookbehind made `re` try
every position: 100 x slower; re.compile of the alternatives per query cost more than
all the finding); the first places the snippet, those inside it are marked (finding
them again inside the snippet cost more than keeping them).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from itertools import accumulate
from typing import Iterator

from .index import WORD

SNIPPET_CHARS = 200
SNIPPET_LEAD = 60
_SPACE = re.compile(r"\s")
_ASCII_SPACES = str.maketrans({c: " " for c in range(128) if chr(c).isspace()})  # \s of ASCII text, 2x faster than re.sub


def spans(folded: str, exact: set[str], prefix: str | None) -> list[tuple[int, int]]:
    """The whole-word matches of the query words in `folded`, in order, not overlapping."""
    found = []
    for w in (*exact, *((prefix,) if prefix is not None else ())):
        i = folded.find(w)
        while i >= 0:
            if i == 0 or not WORD.match(folded, i - 1):  # starts a word
                stop = i + len(w)
                if w == prefix:
                    found.append((i, WORD.match(folded, i).end()))
                elif not WORD.match(folded, stop):  # and ends one
                    found.append((i, stop))
            i = folded.find(w, i + 1)
    found.sort(key=lambda span: (span[0], -span[1]))
    out: list[tuple[int, int]] = []
    for span in found:
        if not out or span[0] >= out[-1][1]:
            out.append(span)
    return out


def best_turn(texts: list[str], exact: set[str], prefix: str | None) -> int:
    """The position of the text that holds the most query words (then the most matches; then the first).

    Only the texts where a query word occurs at all are looked at word by word: one
    casefold of the whole run and a str.find per word find them (a run holds ~100 KB).
    """
    needles = [*exact, *((prefix,) if prefix is not None else ())]
    joined = "\n".join(texts)
    folded = unicodedata.normalize("NFKC", joined).casefold()
    if len(folded) == len(joined):  # offsets in the folded run are offsets in the run: skip the texts without a match
        starts = list(accumulate((len(t) + 1 for t in texts), initial=0))
        candidates = sorted({bisect_right(starts, i) - 1 for w in needles for i in _occurrences(folded, w)})
    else:
        candidates = range(len(texts))
    best, score = 0, (0, 0)
    for n in candidates:
        text = unicodedata.normalize("NFKC", texts[n]).casefold()
        found_spans = spans(text, exact, prefix)
        found = {text[a:b] if text[a:b] in exact else None for a, b in found_spans}
        if (len(found), len(found_spans)) > score:
            best, score = n, (len(found), len(found_spans))
    return best


def _occurrences(text: str, word: str) -> Iterator[int]:
    i = text.find(word)
    while i >= 0:
        yield i
        i = text.find(word, i + 1)


def snippet(text: str, exact: set[str], prefix: str | None) -> tuple[str, list[tuple[int, int]]]:
    """Plain text around the first matched word, with the [start, end) spans of matched words."""
    norm = unicodedata.normalize("NFKC", text)
    folded = norm.casefold()
    if len(folded) == len(norm):  # the usual case: offsets in the folded text are offsets in norm
        found = spans(folded, exact, prefix)  # the first places the snippet; those inside it are marked
    else:  # casefolding changed lengths (e.g. "ß" -> "ss"): compare word by word
        found = [
            (m.start(), m.end())
            for m in WORD.finditer(norm)
            if (w := m.group().casefold()) in exact or (prefix is not None and w.startswith(prefix))
        ]
    start = 0
    if found and found[0][0] > SNIPPET_LEAD:
        start = found[0][0] - SNIPPET_LEAD
        space = norm.find(" ", start, found[0][0])
        start = space + 1 if space >= 0 else start
    end = min(len(norm), start + SNIPPET_CHARS)
    if end < len(norm):
        space = norm.rfind(" ", start + SNIPPET_CHARS // 2, end)
        end = space if space > 0 else end
    lead = "…" if start > 0 else ""
    body = norm[start:end]  # each space character becomes one space: the spans stay valid
    body = body.translate(_ASCII_SPACES) if body.isascii() else _SPACE.sub(" ", body)
    marks = [(s - start + len(lead), e - start + len(lead)) for s, e in found if s >= start and e <= end]
    return lead + body + ("…" if end < len(norm) else ""), marks
