"""The Python side of the Markdown dialect (docs/markdown.md): fences, blocks, and other
dialects' math turned into this one's."""

from draftvault.markdown import blocks, fence, link, normalise_math, without_image_placeholders


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
