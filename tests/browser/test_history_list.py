"""The history page's list pages in as the person scrolls: every conversation of a
vault larger than one page is reached without a filter (real service, Chromium)."""

from __future__ import annotations

import pytest

from draftvault.store import Vault
from test_history import signed_in_page

pytestmark = pytest.mark.browser

N = 450  # more than two pages of rows


@pytest.fixture
def many(server):
    vault = Vault.open(server.home)
    try:
        for i in range(N):
            vault.import_conversation(
                site="chatgpt", conversation_id=f"c-{i}", title=f"Conversation number {i}", url=None, model=None,
                created_at="2025-01-01T00:00:00.000+00:00", updated_at=f"2025-{1 + i // 28:02d}-{1 + i % 28:02d}T12:00:00.000+00:00",
                turns=[("user", f"Question {i}"), ("assistant", f"Answer {i}")],
            )
    finally:
        vault.close()


def test_scrolling_reaches_the_oldest_conversation(context, server, many):
    page = signed_in_page(context, server)
    rows = page.locator("#results .row")
    page.locator("#list-status", has_text="more as you scroll").wait_for()
    first = rows.count()
    assert first < N and rows.first.locator(".row-title").inner_text() == f"Conversation number {N - 1}"
    # Scroll the list to its end until nothing more comes.
    while "more as you scroll" in page.locator("#list-status").inner_text():
        count = rows.count()
        page.locator("#list-pane").evaluate("p => p.scrollTo(0, p.scrollHeight)")
        page.wait_for_function("n => document.querySelectorAll('#results .row').length > n", arg=count)
    assert page.locator("#list-status").inner_text() == f"{N} conversations"
    titles = rows.locator(".row-title").all_inner_texts()
    assert titles == [f"Conversation number {i}" for i in reversed(range(N))]  # each once, newest first
    # The oldest opens like any other.
    rows.last.click()
    page.locator("#conv-pane .conv-title", has_text="Conversation number 0").wait_for()


def test_moving_down_from_the_keyboard_loads_the_next_page(context, server, many):
    page = signed_in_page(context, server)
    page.locator("#list-status", has_text="more as you scroll").wait_for()
    page.locator("#results .row").first.focus()
    before = page.locator("#results .row").count()
    for _ in range(before):
        page.keyboard.press("j")
    page.wait_for_function("n => document.querySelectorAll('#results .row').length > n", arg=before)
