"""The Python side of the Markdown dialect (docs/markdown.md): fences, blocks, and other
dialects' math turned into this one's."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from draftvault.markdown import _Prose, blocks, fence, link, normalise_math, without_image_placeholders


def test_a_fence_is_longer_than_any_backtick_run_in_the_code():
    assert fence("a ``` b\n\n", "md") == "````md\na ``` b\n````"
    assert blocks(fence("x\n\ny")) == ["```\nx\n\ny\n```"]


def test_blocks_never_split_code_or_display_math():
    text = "One.\n\n$$\na\n\nb\n$$\n\n~~~\nc\n\n~~~~\n\nTwo\nlines.\n\n\n"
    assert blocks(text) == ["One.", "$$\na\n\nb\n$$", "~~~\nc\n\n~~~~", "Two\nlines."]


def test_link_labels_escape_brackets_and_math_leaves_them():
    md = link("Paper [v2]", "https://example.org/a b")
    assert md == "[Paper \\[v2\\]](https://example.org/a%20b)"
    assert normalise_math(f"See {md} and \\(x\\).") == f"See {md} and $x$."


def test_math_that_is_already_the_dialect_stays():
    text = "Cost $5 and $x^2$.\n\n$$\n\\frac{a}{b}\n$$"
    assert normalise_math(text) == text
    assert normalise_math("> quoted \\(y\\)") == "> quoted $y$"


def test_an_image_kept_as_a_file_is_not_shown_again_as_its_placeholder():
    kept = ["Uploaded image", "Generated image"]
    assert without_image_placeholders("[Image: Uploaded image]\nWhat is in this photo?", kept) == "What is in this photo?"
    answer = "A lighthouse.\n\n[Image: Generated image]\n\n- tall\n- white"
    assert without_image_placeholders(answer, kept) == "A lighthouse.\n\n- tall\n- white"
    assert without_image_placeholders("[Image: Generated image]", kept) == ""
    # One line per image kept: a second image of the same alt text, not kept, keeps its placeholder.
    two = "[Image: Uploaded image]\n[Image: Uploaded image]\nWhich is older?"
    assert without_image_placeholders(two, ["Uploaded image"]) == "[Image: Uploaded image]\nWhich is older?"
    # What no image kept stands for stays: other images, a placeholder in a sentence, code.
    stays = ["[Image: A chart]", "See [Image: Uploaded image] above", "```\n[Image: Uploaded image]\n```"]
    for text in stays:
        assert without_image_placeholders(text, kept) == text
    assert without_image_placeholders("Hello\n\n\nthere", kept) == "Hello\n\n\nthere"


# How math was once found: one regular expression over the prose (the link's label and address
# now hold no bare "[", as the dialect writes them). The one-pass reading must give what it gave.
_ONCE = re.compile(
    r"(?P<code>(?<!`)(`+)(?!`).+?(?<!`)\2(?!`))"
    r"|(?P<link>\[(?:\\.|[^\[\]\\\n])*\]\([^)\s\[]*\))"
    r"|(?P<space>[ \t]*)\\\[(?P<display>.+?)\\\][ \t]*"
    r"|\\\((?P<inline>.+?)\\\)",
    re.S,
)
_ONCE_ITEM = re.compile(r"\s*(?:(?:[-*+]|\d{1,9}[.)])\s+)?")


def _once_math(m: re.Match) -> str:
    if m["display"] is not None:
        text = m.string
        line = text[text.rfind("\n", 0, m.start()) + 1 : m.start()]
        rest = text[m.end() :].split("\n", 1)[0]
        indent = " " * len(_ONCE_ITEM.match(line).group(0)) if line.strip() else line + m["space"]
        head = f"\n{indent}" if line.strip() else m["space"]
        tail = f"\n{indent}" if rest.strip() else ""
        return f"{head}$$\n{indent}{m['display'].strip()}\n{indent}$$"+ tail
    if m["inline"] is not None:
        return f"${m['inline'].strip()}$"
    return m[0]


_PIECES = ["`", "``", "[", "]", "(", ")", "\\(", "\\)", "\\[", "\\]", " ", "\t", "\n", "x", "- ", "1. ", "\\",
           "](u)", "[a](b)", " \\[ y \\] "]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=24).map("".join))
def test_math_is_read_in_one_pass_as_the_regular_expression_read_it(text):
    assert _Prose(text).convert() == _ONCE.sub(_once_math, text)


def test_openings_without_an_end_are_read_in_one_pass():
    """200,000 openings of each kind with nothing to close them (up to 1.2 MB) once took hours."""
    for opening in ("\\(", "\\[", "[", "[x](", "` ``", "[\\[", "\\[x]("):
        text = "Keep \\(a\\) " + opening * 200_000
        assert normalise_math(text) == "Keep $a$ " + opening * 200_000
    # as many display formulas, each on its line, each take their own lines
    assert normalise_math("\\[x\\]\n" * 200_000).count("$$") == 400_000
    # ...but a text whose display lines would each copy a long indent (more than doubling it) stays as it is
    copies = " " * 1_000_000 + "x" + " \\[y\\]" * 100_000
    assert normalise_math(copies) == copies
