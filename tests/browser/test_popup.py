"""The popup, driven as a user does, against the real service and the fake
chatgpt.com pages: pairing with a code from `draftvault pair`, status, pause, and
the failed sessions with their actions (resume in ChatGPT, restore the draft,
copy a pack, open another assistant, dismiss), plus the history button."""

import os
import re
import socket
import subprocess
import sys

import pytest

from sitepages import SitePage, chatgpt, claude
from sitepages.base import wait_for

pytestmark = pytest.mark.browser


def wait_until(page, predicate_js: str, arg=None, timeout=20_000):
    page.wait_for_function(predicate_js, arg=arg, timeout=timeout)


def vault_conversation(server, ctx, site_id: str, *, draft: str | None = None) -> dict:
    """The vault's view of a site conversation, once it holds `draft` as its draft."""

    def current():
        items = server.api("GET", "/api/conversations", params={"limit": 500})["items"]
        match = [c for c in items if c["conversation_id"] == site_id]
        if not match:
            return None
        detail = server.api("GET", f"/api/conversations/{match[0]['id']}")
        if draft is not None and (detail["draft"] or {}).get("text") != draft:
            return None
        return detail

    return ctx.wait_status(lambda s: current() is not None, what=f"{site_id} in the vault") and current()


def lines(text: str) -> str:
    """Text with runs of newlines as one: how a composer's paragraphs read back
    through innerText differs from the text put in only there."""
    return re.sub(r"\n+", "\n", text)


def vault_drafts(server) -> list[tuple[str | None, str | None]]:
    """(site conversation id, current draft) of every conversation in the vault."""
    items = server.api("GET", "/api/conversations", params={"limit": 500})["items"]
    details = [server.api("GET", f"/api/conversations/{c['id']}") for c in items]
    return [(d["conversation_id"], (d["draft"] or {}).get("text")) for d in details]


def unresolved(server) -> list[dict]:
    return server.api("GET", "/api/failures", params={"resolved": "false"})["items"]


@pytest.fixture
def site(browser_ctx):
    return chatgpt.serve(browser_ctx.context)


@pytest.fixture
def failed_chat(browser_ctx, server, vault, site):
    """A ChatGPT chat with a typed, unsent draft, recorded as failed."""
    chat = site.open("c0ffee-fail-1", turns=[("user", "How do I sort a list?"), ("assistant", "Use `sorted()`.")],
                     title="Sorting lists")
    chat.type("And in reverse order,\nstable for equal keys?")
    detail = vault_conversation(server, browser_ctx, "c0ffee-fail-1", draft="And in reverse order,\nstable for equal keys?")
    failure = vault.record_failure(detail["id"], "error_message", detail="Something went wrong")
    return chat, detail, failure


def open_popup(ctx, tab=None):
    popup = ctx.popup(tab=tab)
    popup.bring_to_front()  # the clipboard needs a focused document
    return popup


def pair_code(server) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "draftvault", "pair"],
        env={**os.environ, "DRAFTVAULT_HOME": str(server.home), "DRAFTVAULT_PORT": str(server.port)},
        capture_output=True, text=True, check=True, timeout=60,
    )
    return re.search(r"\b[A-Z0-9]{3,4}-[A-Z0-9]{3,4}\b", done.stdout).group(0)


def test_pairing_with_a_code_from_draftvault_pair_then_history(browser_ctx, server, site):
    ctx = browser_ctx
    ctx.set_storage(token=None)
    popup = open_popup(ctx)
    popup.wait_for_selector("#pair:not(.hidden)")
    assert popup.text_content("#status-text") == "Not paired"
    assert popup.is_disabled("#history")
    assert ctx.sw_eval("chrome.action.getBadgeText({})") == "!"

    popup.fill("#pair-code", "WRONG-1")
    popup.click("#pair-button")
    popup.wait_for_selector("#message.error")
    assert "Pairing failed" in popup.text_content("#message")

    popup.fill("#pair-code", pair_code(server).lower())  # codes are case-insensitive for the user
    popup.click("#pair-button")
    wait_until(popup, "() => document.querySelector('#status-text').textContent.startsWith('Connected')")
    assert popup.is_hidden("#pair")
    assert ctx.get_storage("token")["token"] not in (None, server.token)

    # Paired for real: what the user types now reaches the vault.
    chat = site.open("c0ffee-pair-1", turns=[("user", "hi"), ("assistant", "hello")])
    chat.type("typed after pairing")
    assert vault_conversation(server, ctx, "c0ffee-pair-1", draft="typed after pairing")
    # The popup reads the API with the paired token (GETs from the extension carry no Origin).
    chat.error()
    wait_for(lambda: server.api("GET", "/api/failures")["items"], what="the failure")  # stored before the popup asks
    popup.reload()
    popup.wait_for_selector("li.failure")

    # History: a one-time sign-in link made with the new token, opened in a tab.
    with ctx.context.expect_page() as opened:
        popup.click("#history")
    opened.value.wait_for_load_state()
    assert opened.value.url.startswith(server.url)
    assert "dv_session" in {c["name"] for c in ctx.context.cookies(server.url)}


def test_status_tab_state_shortcut_and_pause(browser_ctx, server, site):
    ctx = browser_ctx
    chat = site.open("c0ffee-status-1", turns=[("user", "q"), ("assistant", "a")], title="Status")
    chat.type("eleven char")
    detail = vault_conversation(server, ctx, "c0ffee-status-1", draft="eleven char")

    popup = open_popup(ctx, tab=chat.page)
    wait_until(popup, "() => /^Connected · saved \\d+ s ago$/.test(document.querySelector('#status-text').textContent)")
    popup.wait_for_selector("#tab:not(.hidden)")
    assert popup.text_content("#tab-text") == "ChatGPT · 2 turns · draft 11 characters"

    # The keyboard shortcut (Ctrl+Shift+Y) copies this tab's pack. Key presses sent
    # through the DevTools protocol do not reach the browser's shortcut handling, so
    # the test sends what the command handler runs for the active tab.
    pack = server.api("GET", f"/api/conversations/{detail['id']}/resume", params={"target": "generic"})
    answer = popup.evaluate("tabId => chrome.runtime.sendMessage({type: 'dv:copy-tab-pack', tabId})", ctx.tab_id(chat.page))
    assert answer == {"ok": True, "chars": pack["chars"]}
    assert popup.evaluate("navigator.clipboard.readText()") == pack["text"]
    shortcut = {c["name"]: c["shortcut"] for c in ctx.sw_eval("chrome.commands.getAll()")}
    assert shortcut["copy-resume-pack"] == "Ctrl+Shift+Y"

    popup.check("#pause-tab")
    chat.type(" typed while paused")
    # Another tab still saves; once its draft is in, the paused tab's would be too.
    other = site.open("c0ffee-status-2", turns=[("user", "q2"), ("assistant", "a2")])
    other.type("not paused")
    vault_conversation(server, ctx, "c0ffee-status-2", draft="not paused")
    assert vault_conversation(server, ctx, "c0ffee-status-1")["draft"]["text"] == "eleven char"

    popup.check("#pause-site")
    assert ctx.get_storage("pausedSites")["pausedSites"] == ["chatgpt"]
    assert ctx.send_frames([ctx.snapshot("page-paused-1", conversation_id="c0ffee-status-3", draft="x")]) == [
        {"ok": False, "paused": True}]


def test_failed_session_listed_copied_and_dismissed(browser_ctx, server, failed_chat):
    ctx = browser_ctx
    _, detail, failure = failed_chat
    popup = open_popup(ctx)
    item = popup.wait_for_selector(f"li.failure[data-failure='{failure.id}']")
    assert item.query_selector(".title").text_content() == "Sorting lists"
    assert item.query_selector(".kind").text_content() == "ChatGPT showed an error: “Something went wrong”"
    assert re.match(r"^\d+ s ago · ", item.query_selector(".when").text_content())
    assert popup.text_content("#failure-count") == "(1)"
    # the status dot speaks of the connection only: green beside "Connected", failures or not
    wait_until(popup, "() => document.querySelector('#status-text').textContent.startsWith('Connected')")
    assert popup.get_attribute("#status .dot", "class") == "dot connected"

    for target in ("claude", "generic"):
        pack = server.api("GET", f"/api/conversations/{detail['id']}/resume", params={"target": target})
        item.query_selector(".copy-target").select_option(target)
        item.query_selector(".copy").click()
        wait_until(popup, "() => document.querySelector('#message').textContent.startsWith('Copied the pack')")
        assert popup.evaluate("navigator.clipboard.readText()") == pack["text"]
        popup.evaluate("document.querySelector('#message').textContent = ''")

    # Copilot's site is an optional permission the user has not granted: copy and say so.
    pack = server.api("GET", f"/api/conversations/{detail['id']}/resume", params={"target": "copilot"})
    tabs_before = len(ctx.context.pages)
    item.query_selector(".open-target").select_option("copilot")
    item.query_selector(".open").click()
    wait_until(popup, "() => document.querySelector('#message').textContent === 'Copied — paste it into Copilot.'")
    assert popup.evaluate("navigator.clipboard.readText()") == pack["text"]
    assert len(ctx.context.pages) == tabs_before  # no tab was opened

    item.query_selector(".dismiss").click()
    wait_until(popup, "() => document.querySelectorAll('li.failure').length === 0")
    assert popup.is_hidden("#failures")
    resolved = server.api("GET", "/api/failures", params={"resolved": "true"})["items"]
    assert [(f["id"], f["resolution"]) for f in resolved] == [(failure.id, "dismissed")]


def test_resume_in_chatgpt_fills_a_new_chat_and_sends_nothing(browser_ctx, server, site, failed_chat):
    ctx = browser_ctx
    _, detail, failure = failed_chat
    pack = server.api("GET", f"/api/conversations/{detail['id']}/resume", params={"target": "chatgpt"})
    popup = open_popup(ctx)
    with ctx.context.expect_page() as opened:
        popup.click(f"li.failure[data-failure='{failure.id}'] .resume")
    new_chat = SitePage(opened.value, site)
    new_chat.page.wait_for_function("window.__dv_test && window.__dv_test.ready")
    # The composer holds the pack, exactly as DraftVault itself reads the composer back.
    ctx.wait_status(lambda s: (None, pack["text"]) in vault_drafts(server), 45, "the pack in the new chat's composer")
    assert lines(new_chat.draft()) == lines(pack["text"])
    assert new_chat.conversation_id is None  # still a new chat: nothing was sent
    assert new_chat.page.locator("[data-dv-turn]").count() == 0
    wait_until(popup, "() => document.querySelectorAll('li.failure').length === 0")
    resolved = server.api("GET", "/api/failures", params={"resolved": "true"})["items"]
    assert [(f["id"], f["resolution"]) for f in resolved] == [(failure.id, "resumed")]


def test_restore_draft_puts_the_exact_draft_back(browser_ctx, server, failed_chat):
    ctx = browser_ctx
    chat, detail, failure = failed_chat
    lost = "And in reverse order,\nstable for equal keys?"
    chat.page.reload()  # the failed page reloaded: its composer is empty, and says so
    chat.page.wait_for_function("window.__dv_test && window.__dv_test.ready")
    ctx.wait_status(lambda s: ("c0ffee-fail-1", None) in vault_drafts(server), what="the emptied composer saved")
    popup = open_popup(ctx)
    popup.click(f"li.failure[data-failure='{failure.id}'] .restore")
    ctx.wait_status(lambda s: ("c0ffee-fail-1", lost) in vault_drafts(server), what="the draft back in its composer")
    assert lines(chat.draft()) == lost
    wait_until(popup, "() => document.querySelector('#message').textContent === 'Your draft is back in the composer.'")
    assert failure.id not in [f["id"] for f in unresolved(server)]


def test_open_in_claude_fills_claudes_composer(browser_ctx, server, failed_chat):
    ctx = browser_ctx
    claude.serve(ctx.context)
    _, detail, failure = failed_chat
    pack = server.api("GET", f"/api/conversations/{detail['id']}/resume", params={"target": "claude"})
    popup = open_popup(ctx)
    item = popup.wait_for_selector(f"li.failure[data-failure='{failure.id}']")
    item.query_selector(".open-target").select_option("claude")
    item.query_selector(".open").click()
    ctx.wait_status(lambda s: (None, pack["text"]) in vault_drafts(server), 45, "the pack in Claude's composer")
    assert [p.url for p in ctx.context.pages if p.url.startswith("https://claude.ai/")] == ["https://claude.ai/new"]
    assert failure.id not in [f["id"] for f in unresolved(server)]


def test_failure_in_the_page_turns_the_badge_red_and_notifies(browser_ctx, server, site):
    ctx = browser_ctx
    chat = site.open("c0ffee-push-1", turns=[("user", "Explain monads"), ("assistant", "A monad is")], title="Monads")
    chat.type("simpler please")
    vault_conversation(server, ctx, "c0ffee-push-1", draft="simpler please")
    chat.error()  # ChatGPT's "Something went wrong" in the thread
    ctx.wait_status(lambda s: s["failures"] == 1, what="the pushed failure")
    assert ctx.sw_eval("chrome.action.getBadgeText({})") == "!"
    assert ctx.sw_eval("chrome.action.getBadgeBackgroundColor({})") == [217, 48, 37, 255]
    (failure,) = unresolved(server)
    notes = ctx.sw_eval("chrome.notifications.getAll()")
    assert list(notes) == [f"failure:{failure['id']}:{failure['conversation']}"]

    popup = open_popup(ctx)
    item = popup.wait_for_selector(f"li.failure[data-failure='{failure['id']}']")
    assert item.query_selector(".title").text_content() == "Monads"
    assert item.query_selector(".kind").text_content().startswith("ChatGPT showed an error")
    item.query_selector(".dismiss").click()
    ctx.wait_status(lambda s: s["failures"] == 0, what="the badge cleared")
    assert ctx.sw_eval("chrome.action.getBadgeText({})") == ""


def test_options_sites_address_and_unpair(browser_ctx, server):
    ctx = browser_ctx
    ctx.wait_status(lambda s: s["state"] == "connected", what="a connection")
    options = ctx.extension_page("options/options.html")
    options.wait_for_function("() => document.querySelector('#server-url').value !== ''")
    assert options.input_value("#server-url") == server.url

    options.uncheck("input[data-site='chatgpt']")
    options.uncheck("#capture-temporary")
    assert ctx.get_storage("pausedSites", "captureTemporary") == {"pausedSites": ["chatgpt"], "captureTemporary": False}

    # The worker follows a new address at once, without a restart.
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    options.fill("#server-url", dead)
    options.click("#server-form button[type=submit]")
    ctx.wait_status(lambda s: s["state"] == "offline", what="the worker trying the new address")
    options.fill("#server-url", server.url)
    options.click("#server-form button[type=submit]")
    ctx.wait_status(lambda s: s["state"] == "connected", what="the worker back on the service")

    options.click("#unpair")
    ctx.wait_status(lambda s: s["state"] == "unpaired", what="the worker unpaired")
    assert ctx.get_storage("token") == {}
    assert ctx.sw_eval("chrome.action.getBadgeText({})") == "!"
    options.wait_for_function("() => document.querySelector('#state-text').textContent.startsWith('Not paired')")


def test_capture_degraded_on_a_site_until_it_reads_again(browser_ctx, server):
    """claude.ai changes its page so that the adapter finds no turns: the popup says
    since when capture is degraded there, until a Claude chat is read again."""
    ctx = browser_ctx
    site = claude.serve(ctx.context)
    changed = "<!doctype html><html><body><main><div class='new-layout'><p>Hello</p><p>Hi there</p></div></main></body></html>"
    ctx.route_site("https://claude.ai/chat/5a1e0000-new-layout", lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8", body=changed))
    page = ctx.context.new_page()
    page.goto("https://claude.ai/chat/5a1e0000-new-layout")
    degraded = wait_for(lambda: server.api("GET", "/api/capture-health")["degraded"], what="capture degraded on claude.ai")
    assert [d["host"] for d in degraded] == ["claude.ai"]

    popup = open_popup(ctx)
    popup.wait_for_selector("#degraded:not(.hidden)")
    text = popup.text_content("#degraded")
    assert text.startswith("Capture degraded on claude.ai since ")
    assert popup.evaluate("since => new Date(since).toLocaleString()", degraded[0]["since"]) in text

    # A Claude chat read with its text again: no longer degraded.
    site.open("5a1e0000-reads-fine", turns=[("user", "Bonjour"), ("assistant", "Salut !")])
    wait_for(lambda: server.api("GET", "/api/capture-health") == {"degraded": []}, what="capture health cleared")


def test_pack_with_the_replaced_answer_when_asked(browser_ctx, server, vault, failed_chat):
    ctx = browser_ctx
    _, plain, plain_failure = failed_chat  # no earlier version: no choice offered
    id, _ = vault.import_conversation(
        site="chatgpt", conversation_id="c-regen", title="Regenerated", url=None, model=None,
        created_at=None, updated_at=None,
        turns=[("user", "Name a colour"), ("assistant", "Teal, the answer shown now")],
        branches=[(1, [("assistant", "Vermilion, the answer it replaced")])],
    )
    failure = vault.record_failure(id, "error_message", detail="Something went wrong")
    popup = open_popup(ctx)
    item = popup.wait_for_selector(f"li.failure[data-failure='{failure.id}']")
    assert popup.wait_for_selector(f"li.failure[data-failure='{plain_failure.id}'] .replaced", state="attached").is_hidden()
    assert item.query_selector(".replaced").is_visible()
    assert item.query_selector(".replaced").text_content().strip() == "Include the answer the last one replaced"
    item.query_selector(".copy-target").select_option("claude")
    item.query_selector(".copy").click()
    wait_until(popup, "() => document.querySelector('#message').textContent.startsWith('Copied the pack')")
    assert "Vermilion" not in popup.evaluate("navigator.clipboard.readText()")
    popup.evaluate("document.querySelector('#message').textContent = ''")
    item.query_selector(".with-replaced").check()
    item.query_selector(".copy").click()
    wait_until(popup, "() => document.querySelector('#message').textContent.startsWith('Copied the pack')")
    pack = server.api("GET", f"/api/conversations/{id}/resume", params={"target": "claude", "replaced": "true"})
    assert popup.evaluate("navigator.clipboard.readText()") == pack["text"]
    assert "Vermilion, the answer it replaced" in pack["text"]


def test_pack_with_the_thinking_only_when_asked(browser_ctx, server, vault):
    from draftvault.store.records import TurnMeta

    id, _ = vault.import_conversation(
        site="claude", conversation_id="c-think", title="Thought through", url=None, model=None,
        created_at=None, updated_at=None,
        turns=[("user", "Pick one"), ("assistant", "Option B.", TurnMeta(thinking="PONDERING the options"))],
    )
    failure = vault.record_failure(id, "error_message", detail="Something went wrong")
    popup = open_popup(browser_ctx)
    item = popup.wait_for_selector(f"li.failure[data-failure='{failure.id}']")
    assert item.query_selector(".thinking").is_visible()
    item.query_selector(".copy").click()
    wait_until(popup, "() => document.querySelector('#message').textContent.startsWith('Copied the pack')")
    assert "Option B." in popup.evaluate("navigator.clipboard.readText()")
    assert "PONDERING" not in popup.evaluate("navigator.clipboard.readText()")
    popup.evaluate("document.querySelector('#message').textContent = ''")
    item.query_selector(".with-thinking").check()
    item.query_selector(".copy").click()
    wait_until(popup, "() => document.querySelector('#message').textContent.startsWith('Copied the pack')")
    assert "> [!quote]- Thinking\n> PONDERING the options" in popup.evaluate("navigator.clipboard.readText()")
