"""The history page shows a turn's parts besides its text: a real Claude export (artifacts
and thinking notes in every answer) imported into a real `draftvault serve` and read in
Debian's Chromium. The artifact shows under its answer as escaped code, the thinking is
collapsed until opened and never part of the answer, and each turn says when it was sent."""

from __future__ import annotations

import json

import pytest

from sitepages.base import REAL_FIXTURES
from test_history import open_imported
from test_import_chatgpt_canvas import canvas_export

pytestmark = pytest.mark.browser

ARTIFACTS = REAL_FIXTURES / "claude-export" / "artifacts.json"
TITLE = "LLM Pricing Calculator"


def test_documents_under_their_turn_and_thinking_collapsed(context, server):
    _, pane = open_imported(context, server, ARTIFACTS, TITLE)
    answer = pane.locator(".turn.role-assistant").first

    # The artifact: under the answer that made it, titled, its HTML shown as code (text, never markup).
    doc = answer.locator("figure.document")
    assert doc.locator("figcaption").inner_text() == "LLM Pricing Calculator"
    assert doc.locator(".doc-kind").inner_text() == "code · html"
    code = doc.locator("pre code")
    assert code.get_attribute("class") == "language-html"
    assert code.inner_text().startswith("<!DOCTYPE html>") and "<script>" in code.inner_text()
    assert pane.locator("script, input, iframe").count() == 0  # the artifact's markup did not become elements
    assert "<!DOCTYPE" not in answer.locator(":scope > .md").inner_text()

    # The thinking: folded, apart from the answer, readable when opened.
    thinking = answer.locator("details.thinking")
    assert thinking.get_attribute("open") is None and not thinking.locator(".md").is_visible()
    assert "suitable for an artifact" not in answer.locator(":scope > .md").inner_text()
    thinking.locator("summary", has_text="Thinking").click()
    thinking.locator(".md", has_text="suitable for an artifact").wait_for()

    # Each turn says when it was sent (the export's time), small, in its role line.
    seen = pane.locator(".turn.role-user").first.locator(".role time.seen")
    assert seen.get_attribute("datetime").startswith("2024-10-17T03:28")
    assert "2024" in seen.inner_text()
    assert pane.locator(".turn time.seen").count() == 20


def test_an_imported_chatgpt_canvas_shows_under_its_answer(context, server, tmp_path):
    """ChatGPT's export (canvas calls and reasoning, tests/test_import_chatgpt_canvas.py) through
    the page's import button: the documents under the answers, no call JSON in any answer."""
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([canvas_export()]))
    _, pane = open_imported(context, server, path, "Word count")
    answers = pane.locator(".turn.role-assistant")
    assert answers.count() == 5
    first = answers.nth(0)
    doc = first.locator("figure.document")
    assert doc.locator("figcaption").inner_text() == "word_count.py"
    assert doc.locator(".doc-kind").inner_text() == "code · python"
    assert doc.locator("pre code").inner_text().startswith("import sys\n\nwords = open(sys.argv[1])")
    first.locator("details.thinking summary", has_text="Thinking").click()
    first.locator("details.thinking .md", has_text="Planning the script").wait_for()
    assert "most_common(10)" in answers.nth(1).locator("figure.document pre code").inner_text()
    notes = answers.nth(4).locator("figure.document")
    assert notes.locator("figcaption").inner_text() == "Release notes"
    assert notes.locator(".doc-kind").inner_text() == "document"
    assert notes.locator(".md").inner_text().split() == ["Notes", "Counts", "words;", "prints", "the", "top", "ten."]
    assert answers.nth(3).locator("figure.document").count() == 0  # its edit did not apply
    assert not any(w in pane.inner_text() for w in ("canmore", "textdoc_id", '"updates"'))
