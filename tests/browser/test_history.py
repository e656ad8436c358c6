"""The history page in Debian's Chromium against a real `draftvault serve`.

A plain page (no extension): sign in through the one-time link, import, search,
filter, open, copy a pack, export, delete; hostile captured text stays text; the
link works once; other origins are refused.
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from draftvault import protocol
from frames import encode, signal, snapshot
from draftvault.store import Vault
from sitepages.base import REAL_FIXTURES

pytestmark = pytest.mark.browser

REAL = REAL_FIXTURES / "chatgpt-export"
HOSTILE = (
    'Look: <img src=x onerror="window.__pwned=1"> then <script>window.__pwned=2</script> '
    "and [a link](javascript:window.__pwned=3) <iframe src=javascript:window.__pwned=4></iframe>"
)


@pytest.fixture
def context(chromium):
    ctx = chromium.new_context(accept_downloads=True)
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


def call(server, method: str, path: str):
    """The API as a script uses it (Bearer token); returns (status, body bytes)."""
    req = urllib.request.Request(server.url + path, method=method, headers={"Authorization": f"Bearer {server.token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def login_link(server) -> str:
    status, body = call(server, "POST", "/api/login-link")
    assert status in (200, 201), body
    return json.loads(body)["url"]


def signed_in_page(context, server):
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    page.goto(login_link(server))
    page.wait_for_url(server.url + "/")
    page.locator("#list-status").wait_for()
    return page


def upload(page, path: Path) -> None:
    with page.expect_response("**/api/import?*") as res:
        page.set_input_files("#import-file", str(path))
    assert res.value.status in (200, 201), res.value.text()
    page.locator("#toast:not([hidden])", has_text="Imported").wait_for()


def rows(page) -> list[str]:
    return page.locator("#results .row-title").all_inner_texts()


def wait_rows(page, expected: list[str]) -> None:
    try:
        page.wait_for_function(
            "expected => JSON.stringify([...document.querySelectorAll('#results .row-title')].map(e => e.textContent).sort()) === JSON.stringify(expected)",
            arg=sorted(expected),
        )
    except Exception:
        assert sorted(rows(page)) == sorted(expected)  # says what the page shows instead
        raise


def open_imported(context, server, path: Path, title: str):
    """A signed-in history page with the export at `path` imported and its conversation
    `title` open; (page, its reader pane)."""
    page = signed_in_page(context, server)
    upload(page, path)
    wait_rows(page, [title])
    page.locator("#results .row").first.click()
    pane = page.locator("#conv-pane")
    pane.locator(".conv-title", has_text=title).wait_for()
    return page, pane


def test_sign_in_link_works_once(context, server, chromium):
    page = context.new_page()
    res = page.goto(server.url + "/")
    csp = res.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    page.get_by_text("Open the sign-in link printed by").wait_for()
    assert page.locator("#main").is_hidden()

    link = login_link(server)
    page.goto(link)
    page.wait_for_url(server.url + "/")
    page.locator("#list-status").wait_for()
    assert page.locator("#signin").is_hidden()
    (cookie,) = [c for c in context.cookies() if c["name"] == "dv_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    other = chromium.new_context()
    try:
        again = other.new_page()
        again.goto(link)  # the same link a second time, in a fresh browser
        assert not [c for c in other.cookies() if c["name"] == "dv_session"]
        again.goto(server.url + "/")
        again.get_by_text("Open the sign-in link printed by").wait_for()
    finally:
        other.close()


def test_import_search_filter_open_export_delete(context, server, tmp_path):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = signed_in_page(context, server)
    # A damaged export: a clear error naming the file and the place, and nothing imported.
    bad = tmp_path / "conversations-007.json"
    bad.write_bytes((REAL / "chatgpt-tree.json").read_bytes()[:5000])
    with page.expect_response("**/api/import?*") as res:
        page.set_input_files("#import-file", str(bad))
    assert res.value.status == 400
    page.locator("#toast.error", has_text="conversations-007.json: byte 5000: the file ends in the middle").wait_for()
    assert page.locator("#list-status").inner_text() == "No conversations yet."
    upload(page, REAL / "chatgpt-export.json")
    upload(page, REAL / "chatgpt-tree.json")
    titles = ["Conversation 1. Web Search", "Conversation 2", "Assist user with summary"]
    wait_rows(page, titles)

    # Search as you type, with the matched word marked.
    page.keyboard.press("/")
    page.keyboard.type("joke")
    wait_rows(page, ["Assist user with summary"])
    assert "joke" in page.locator("#results mark").first.inner_text().lower()

    # Filters: another site, a date range in the future, failed only.
    page.select_option("#site", "claude")
    wait_rows(page, [])
    page.select_option("#site", "")
    wait_rows(page, ["Assist user with summary"])
    page.fill("#q", "")
    wait_rows(page, titles)
    page.fill("#since", "2024-01-01")
    page.fill("#until", "2024-12-31")
    page.locator("#until").dispatch_event("change")
    wait_rows(page, ["Conversation 1. Web Search", "Assist user with summary"])
    page.fill("#since", "")
    page.fill("#until", "")
    page.locator("#until").dispatch_event("change")
    wait_rows(page, titles)
    vault = Vault.open(server.home)
    try:
        code_id = next(c.id for c in vault.list_conversations() if c.title == "Conversation 2")
        vault.record_failure(code_id, "error_message", detail="Something went wrong")
    finally:
        vault.close()
    page.check("#failed")
    wait_rows(page, ["Conversation 2"])
    page.uncheck("#failed")
    wait_rows(page, titles)

    # Open from the keyboard: the code answer is highlighted.
    page.keyboard.press("/")
    page.keyboard.type("intersect")
    wait_rows(page, ["Conversation 2"])
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    pane = page.locator("#conv-pane")
    pane.locator(".conv-title", has_text="Conversation 2").wait_for()
    assert pane.locator(".turn").count() == 4
    assert pane.locator(".turn.hit").count() == 1  # the matching turn is marked and scrolled to
    assert pane.locator(".code-lang", has_text="csharp").count() == 1
    assert pane.locator(".tok-keyword", has_text="using").count() >= 1
    assert pane.locator(".failures", has_text="ChatGPT showed an error").count() == 1

    # Copy a resume pack for Claude.
    pane.locator("select").select_option("claude")
    pane.get_by_role("button", name="Copy resume pack").click()
    page.locator("#toast", has_text="Copied the resume pack for Claude").wait_for()
    status, body = call(server, "GET", f"/api/conversations/{code_id}/resume?target=claude")
    assert page.evaluate("navigator.clipboard.readText()") == json.loads(body)["text"]

    # Export this conversation as Markdown.
    with page.expect_download() as dl:
        pane.get_by_role("link", name="Export .md").click()
    status, expected_md = call(server, "GET", f"/api/conversations/{code_id}/export.md")
    assert Path(dl.value.path()).read_bytes() == expected_md
    assert expected_md.decode().startswith(f'---\nid: "{code_id}"\ntitle: "Conversation 2"\n')

    # Select two rows from the keyboard and export them as a zip.
    page.keyboard.press("Escape")  # back to the list
    page.fill("#q", "")
    wait_rows(page, titles)
    page.locator("#results .row").first.focus()
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    assert page.locator("#export-zip").inner_text() == "Export 2 selected (.zip)"
    with page.expect_download() as dl:
        page.click("#export-zip")
    with zipfile.ZipFile(io.BytesIO(Path(dl.value.path()).read_bytes())) as zf:
        assert len(zf.namelist()) == 2 and all(n.endswith(".md") for n in zf.namelist())

    # Delete, after a confirmation; it is gone from the list, search and the API.
    page.locator("#results .row", has_text="Conversation 2").click()
    pane.get_by_role("button", name="Delete…").click()
    page.locator("#confirm-delete").get_by_role("button", name="Delete").click()
    page.locator("#toast", has_text="Deleted").wait_for()
    wait_rows(page, ["Conversation 1. Web Search", "Assist user with summary"])
    page.fill("#q", "intersect")
    wait_rows(page, [])
    assert call(server, "GET", f"/api/conversations/{code_id}")[0] == 404
    assert page.dialogs == []


def test_hostile_text_is_shown_as_text_and_runs_nothing(context, server, tmp_path):
    root, user, answer = "root", "u1", "a1"
    mapping = {
        root: {"id": root, "message": None, "parent": None, "children": [user]},
        user: {"id": user, "parent": root, "children": [answer], "message": {
            "author": {"role": "user"}, "content": {"content_type": "text", "parts": [HOSTILE]}}},
        answer: {"id": answer, "parent": user, "children": [], "message": {
            "author": {"role": "assistant"},
            "content": {"content_type": "text", "parts": ["```html\n<script>window.__pwned=5</script>\n```"]}}},
    }
    export = tmp_path / "conversations.json"
    export.write_text(json.dumps([{"title": "<img src=x onerror=window.__pwned=6>", "create_time": 1.7e9,
                                   "update_time": 1.7e9, "mapping": mapping, "current_node": answer,
                                   "conversation_id": "hostile-1"}]))
    # A captured conversation with an unsent draft that changed once (two versions kept).
    vault = Vault.open(server.home)
    try:
        for seq, draft in ((1, "Should we go to Lisbon?"), (2, "Or Porto <script>window.__pwned=7</script>")):
            vault.apply("client-history", protocol.Snapshot(
                seq=seq, page_id="page-history", conversation_id="c-drafts", site="chatgpt",
                url="https://chatgpt.com/c/c-drafts", turn_count=1, turns_from=0, title="Trip drafts",
                turns=[protocol.Turn(index=0, role="user", text="Plan a trip")], draft=draft))
    finally:
        vault.close()
    page = signed_in_page(context, server)
    page.locator("#results .row", has_text="Trip drafts").click()
    drafts = page.locator("#conv-pane .drafts")
    assert drafts.locator(".draft-text").first.inner_text() == "Or Porto <script>window.__pwned=7</script>"
    drafts.get_by_text("Draft history (1 earlier version)").click()
    drafts.get_by_text("Should we go to Lisbon?").wait_for()

    upload(page, export)
    page.fill("#q", "look")
    wait_rows(page, ["<img src=x onerror=window.__pwned=6>"])
    assert page.locator("#results .snippet").inner_text() == HOSTILE  # the snippet, as text
    assert page.locator("#results .snippet mark").inner_text() == "Look"
    page.locator("#results .row").first.click()
    pane = page.locator("#conv-pane")
    pane.locator(".conv-title", has_text="<img src=x onerror=window.__pwned=6>").wait_for()
    assert pane.locator(".turn").first.locator(".typed").inner_text() == HOSTILE  # the user's words, as typed
    assert "<script>window.__pwned=5</script>" in pane.locator(".code-block").inner_text()
    page.wait_for_timeout(300)  # an onerror would have fired by now
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img, script:not([src]), iframe").count() == 0
    assert pane.locator("a[href^='javascript']").count() == 0
    assert page.dialogs == []


def test_other_origins_are_refused(context, server):
    page = signed_in_page(context, server)
    (cookie,) = [c for c in context.cookies() if c["name"] == "dv_session"]
    status, body = call(server, "GET", "/api/conversations")
    assert status == 200
    # The session cookie replayed from another origin: refused before anything runs.
    req = urllib.request.Request(
        server.url + "/api/export", method="POST", data=b"{}",
        headers={"Cookie": f"dv_session={cookie['value']}", "Origin": "https://evil.example",
                 "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 403
    # The same request from the page's own origin works.
    assert page.evaluate(
        "async () => (await fetch('/api/export', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'})).status"
    ) in (200, 201)


def test_capture_degraded_banner(context, server):
    with server.connect("client-hist-health") as (ws, welcome):
        ws.send(encode(signal(welcome.last_seq + 1, "adapter_broken", page="page-health-01", conv="c-health",
                              site="gemini", detail="no turns found on /app/c-health")))
        ws.recv(timeout=10)
    since = server.api("GET", "/api/capture-health")["degraded"][0]["since"]
    page = signed_in_page(context, server)
    page.wait_for_selector("#capture-health:not([hidden])")
    shown = page.evaluate("since => new Date(since).toLocaleString()", since)
    assert page.text_content("#capture-health") == f"Capture degraded on gemini.google.com since {shown}"

    # Gemini read again: the next visit shows no banner.
    with server.connect("client-hist-health") as (ws, welcome):
        ws.send(encode(snapshot(welcome.last_seq + 1, [("user", "Hallo"), ("assistant", "Hallo!")], page="page-health-02",
                                conv="c-health", site="gemini")))
        ws.recv(timeout=10)
    with page.expect_response("**/api/capture-health") as res:
        page.reload()
    assert res.value.json() == {"degraded": []}
    page.wait_for_function("document.querySelector('#capture-health').hidden")
    assert page.text_content("#capture-health") == ""


def test_import_button_takes_claude_and_gemini_exports(context, server, tmp_path):
    page = signed_in_page(context, server)
    upload(page, REAL.parent / "claude-export" / "artifacts.json")
    page.locator("#toast", has_text="10 thinking blocks kept apart from the answers' text").wait_for()
    takeout = tmp_path / "My Activity.json"
    takeout.write_text(json.dumps([{"header": "Gemini Apps", "title": "Prompted Name a green fruit",
                                    "time": "2025-01-01T10:00:00Z", "safeHtmlItem": [{"html": "<p>A lime.</p>"}]}]))
    upload(page, takeout)
    page.locator("#toast", has_text="1 by time gaps").wait_for()
    wait_rows(page, sorted(["LLM Pricing Calculator", "Name a green fruit"]))


def test_crafted_answers_render_and_nothing_of_them_is_lost(context, server):
    """400 KB of "**x " (100,000 bold markers, none closed) once held the reader for about a minute
    (each marker's lazy body looked for its end to the end of the paragraph); 20,000 nested quotes
    and 3,000 nested list items overflowed its stack. Deeper than 16 levels, lines read as text."""
    crafted = "**x " * 100_000 + "and then **the end**."
    quotes = ">" * 20_000 + " deep quote"
    items = "\n".join(" " * (2 * k) + f"- level {k}" for k in range(3_000))
    vault = Vault.open(server.home)
    try:
        vault.apply("client-crafted", protocol.Snapshot(
            seq=1, page_id="page-crafted", conversation_id="c-crafted", site="chatgpt",
            url="https://chatgpt.com/c/c-crafted", turn_count=4, turns_from=0, title="Crafted markers",
            turns=[protocol.Turn(index=0, role="user", text="Repeat after me"),
                   protocol.Turn(index=1, role="assistant", text=crafted),
                   protocol.Turn(index=2, role="user", text="Nest them"),
                   protocol.Turn(index=3, role="assistant", text=quotes + "\n\n" + items)]))
    finally:
        vault.close()
    page = signed_in_page(context, server)
    page.locator("#results .row", has_text="Crafted markers").click()
    turns = page.locator("#conv-pane .turn")
    turns.nth(1).locator("strong", has_text="the end").wait_for()
    assert turns.nth(1).locator(".md").inner_text().count("x") == 100_000
    nested = turns.nth(3)
    assert nested.locator("blockquote").count() == 16 and "deep quote" in nested.locator("blockquote").last.inner_text()
    assert nested.locator("ul").count() == 16 and "level 2999" in nested.inner_text()
