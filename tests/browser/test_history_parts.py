"""The history page shows a turn's parts besides its text: a real Claude export (artifacts
and thinking notes in every answer) imported into a real `draftvault serve` and read in
Debian's Chromium. The artifact shows under its answer as escaped code, the thinking is
collapsed until opened and never part of the answer, and each turn says when it was sent."""

from __future__ import annotations

import pytest

from sitepages.base import REAL_FIXTURES
from test_history import open_imported

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
