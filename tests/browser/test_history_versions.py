"""The history page's versions: a real ChatGPT export with an edited branch, imported
into a real `draftvault serve` and read in Debian's Chromium. The switcher on the
edited turn reads the earlier version, a search hit in it opens it, and a person
deletes it after saying yes. A captured answer regenerated with another picture shows
each version's own picture in the switcher."""

from __future__ import annotations

import json

import pytest

import frames
from draftvault import protocol
from sitepages.base import REAL_FIXTURES
from sitepages.images import png
from test_history import call, open_imported, signed_in_page

pytestmark = pytest.mark.browser

TREE = REAL_FIXTURES / "chatgpt-export" / "chatgpt-tree.json"
TITLE = "Assist user with summary"


def texts(pane) -> list[str]:
    return [t.strip() for t in pane.locator(".turn .md, .turn .typed").all_inner_texts()]  # answers, user turns


def test_switcher_reads_the_earlier_version_and_deletes_it(context, server):
    page, pane = open_imported(context, server, TREE, TITLE)
    # The edit of the second prompt: "so cool bro" became "hi again"; the current thread shows.
    switcher = pane.locator(".versions")
    assert switcher.count() == 1
    assert switcher.locator(".version-count").inner_text() == "2 / 2"
    assert "hi again" in texts(pane) and "so cool bro" not in texts(pane)
    assert "tell me a joke" in texts(pane)

    # ‹ reads the earlier version: its prompt and the story answered to it, the start kept.
    switcher.get_by_role("button", name="Earlier version").click()
    pane.locator(".version-count", has_text="1 / 2").wait_for()
    shown = texts(pane)
    assert shown[:2] == ["hi there", "Hello! How can I assist you today?"]
    assert shown[2:5] == ["so cool bro", "Thanks! What brings you here today?", "tell me a story"]
    assert "Here's a short story" in shown[5] and "tell me a joke" not in shown
    assert "earlier version, imported" in switcher.inner_text()
    # › goes back to the current thread.
    pane.get_by_role("button", name="Later version").click()
    pane.locator(".version-count", has_text="2 / 2").wait_for()
    assert "tell me a joke" in texts(pane)

    # A search hit in the earlier version opens that version at the matching turn.
    page.fill("#q", "story")
    page.locator("#results .row", has_text="in an earlier version").click()  # the hit says where it is
    pane.locator(".version-count", has_text="1 / 2").wait_for()
    assert "tell me a story" in pane.locator(".turn.hit").inner_text()

    # Delete the earlier version: asked first; Cancel keeps it, Delete removes it.
    conv = json.loads(call(server, "GET", "/api/conversations?limit=5")[1])["items"][0]["id"]
    pane.get_by_role("button", name="Delete this version…").click()
    dialog = page.locator("#confirm-delete")
    assert "Delete this version?" in dialog.inner_text() and "turns 3–6" in dialog.inner_text()
    dialog.get_by_role("button", name="Cancel").click()
    assert len(json.loads(call(server, "GET", f"/api/conversations/{conv}")[1])["branches"]) == 1
    pane.get_by_role("button", name="Delete this version…").click()
    dialog.get_by_role("button", name="Delete").click()
    page.locator("#toast", has_text="Deleted the earlier version").wait_for()
    pane.locator(".versions").wait_for(state="detached")
    assert "tell me a joke" in texts(pane)
    assert json.loads(call(server, "GET", f"/api/conversations/{conv}")[1])["branches"] == []
    assert page.dialogs == []


def test_a_regenerated_answer_is_read_back_in_the_switcher(browser_ctx, chromium):
    """The real extension on the ChatGPT page built from the real capture: the answer is
    replaced in place (Regenerate); the history page's switcher reads the old one."""
    from sitepages import chatgpt
    from sitepages.base import wait_for

    server = browser_ctx.server
    site = chatgpt.serve(browser_ctx.context)
    before = [("user", "Name a colour"), ("assistant", "GOODANSWER: teal")]
    tab = site.open("regen-1", turns=before, title="Colours")

    def turns_of():
        items = [c for c in server.api("GET", "/api/conversations")["items"] if c["conversation_id"] == "regen-1"]
        return items and server.api("GET", f"/api/conversations/{items[0]['id']}")

    wait_for(lambda: (d := turns_of()) and [t["text"] for t in d["turns"]] == [t for _, t in before], what="the chat")
    tab.page.evaluate("() => { [...document.querySelectorAll('[data-dv-html]')].at(-1).innerHTML = '<p>Vermilion</p>'; }")
    wait_for(lambda: (d := turns_of()) and d["turns"][-1]["text"] == "Vermilion", what="the new answer")

    ctx = chromium.new_context()
    try:
        page = signed_in_page(ctx, server)
        page.locator("#results .row", has_text="Colours").click()
        pane = page.locator("#conv-pane")
        pane.locator(".turn.role-assistant").wait_for()  # the pane is filled after the click
        assert texts(pane) == ["Name a colour", "Vermilion"]
        pane.locator(".versions").get_by_role("button", name="Earlier version").click()
        pane.locator(".version-count", has_text="1 / 2").wait_for()
        assert texts(pane) == ["Name a colour", "GOODANSWER: teal"]
        assert "earlier version, regenerated" in pane.locator(".versions").inner_text()
    finally:
        ctx.close()


def test_a_branch_past_the_current_end_can_be_read(context, server):
    from draftvault.store import Vault

    vault = Vault.open(server.home)
    try:
        vault.import_conversation(
            site="chatgpt", conversation_id="c-tail", title="Tail", url=None, model=None, created_at=None,
            updated_at=None, turns=[("user", "Q1"), ("assistant", "A1")],
            branches=[(2, [("user", "Q2 cut off by an edit"), ("assistant", "A2 of the tail")])],
        )
    finally:
        vault.close()
    page = signed_in_page(context, server)
    page.locator("#results .row", has_text="Tail").click()
    pane = page.locator("#conv-pane")
    pane.locator(".version-end", has_text="The current version ends here.").wait_for()
    assert texts(pane) == ["Q1", "A1"]
    pane.get_by_role("button", name="Earlier version").click()
    pane.locator(".version-count", has_text="1 / 2").wait_for()
    assert texts(pane) == ["Q1", "A1", "Q2 cut off by an edit", "A2 of the tail"]
    assert pane.locator(".version-end").count() == 0


def test_the_switcher_shows_each_versions_own_image(context, server):
    """Captured over the real WebSocket: an answer with a picture, regenerated with another. The
    current answer shows the new picture; ‹ shows the earlier answer with its own."""
    old, new = png(3, side=40), png(11, side=56)
    question = ("user", "Draw me a lighthouse")
    with server.connect() as (ws, _):
        for f in [frames.snapshot(1, [question, ("assistant", "At dusk.")]), *frames.attachment(2, old, turn=1, name="dusk.png"),
                  frames.snapshot(3, [question, ("assistant", "In a storm.")]),
                  *frames.attachment(4, new, turn=1, name="storm.png", key="k2")]:
            ws.send(frames.encode(f))
            assert protocol.decode_server_frame(ws.recv(timeout=10)) == protocol.Ack(seq=f.seq)
    [item] = server.api("GET", "/api/conversations")["items"]
    page = signed_in_page(context, server)
    page.goto(f"{server.url}/#c={item['id']}")
    page.reload()  # the page opens the conversation its address names when it loads
    pane = page.locator("#conv-pane")
    def shows(name: str, width: int) -> None:  # the one image in the pane, loaded from the vault
        page.wait_for_function(
            "want => JSON.stringify([...document.querySelectorAll('#conv-pane .turn .attachments img')]"
            ".map((i) => [i.alt, i.complete && i.naturalWidth])) === JSON.stringify([want])", arg=[name, width])

    shows("storm.png", 56)
    assert "In a storm." in texts(pane)

    pane.get_by_role("button", name="Earlier version").click()
    pane.locator(".version-count", has_text="1 / 2").wait_for()
    shows("dusk.png", 40)
    assert "At dusk." in texts(pane) and "In a storm." not in texts(pane)
    pane.get_by_role("button", name="Later version").click()
    shows("storm.png", 56)
    assert page.dialogs == []
