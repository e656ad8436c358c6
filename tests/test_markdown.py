"""The Python side of the Markdown dialect (docs/markdown.md): fences, blocks, and other
dialects' math turned into this one's."""

from draftvault.markdown import blocks, fence, link, normalise_math


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
