"""After a failure: "Send again" once the site answers again, and the in-page control
beside the site's error notice; the options page's status-check switch. Debian's Chromium with the real extension, the real
service, fake chatgpt.com pages built from the real capture."""

import pytest

from draftvault import config
from sitepages import SitePage, chatgpt
from sitepages.base import wait_for
from sitepages.images import INSERT, UPLOADED, Estuary, png
from test_popup import lines
from test_statuspage import StatusSite

pytestmark = pytest.mark.browser

LOST = "And in reverse order, stable for equal keys?"


def conversation(server, site_id: str) -> dict | None:
    items = server.api("GET", "/api/conversations", params={"limit": 500})["items"]
    match = [c for c in items if c["conversation_id"] == site_id]
    return server.api("GET", f"/api/conversations/{match[0]['id']}") if match else None


def wait_vault(server, site_id: str, test, what: str) -> dict:
    def check():
        detail = conversation(server, site_id)
        check.seen = detail and (detail["turns"], detail["draft"])
        return detail if detail and test(detail) else None

    return wait_for(check, 45, what)


def draft_of(detail) -> str | None:
    return (detail["draft"] or {}).get("text")


def unresolved(server) -> list[dict]:
    return server.api("GET", "/api/failures", params={"resolved": "false"})["items"]


@pytest.fixture
def site(browser_ctx):
    return chatgpt.serve(browser_ctx.context)


def answer_completes(server, chat, site_id: str) -> None:
    """A whole answer on `chat`, streamed slowly enough that DraftVault sees it stream."""
    chat.stream_start()
    chat.stream_chunk("Hello")
    wait_vault(server, site_id, lambda d: d["turns"] and d["turns"][-1]["text"] == "Hello", "the answer streaming")
    chat.stream_chunk(", all is well again.")
    chat.finish()


def test_send_again_after_the_site_answers_again_fills_the_composer_and_sends_nothing(browser_ctx, server, site):
    ctx = browser_ctx
    chat = site.open("c0ffee-again-1", turns=[("user", "How do I sort a list?"), ("assistant", "Use `sorted()`.")],
                     title="Sorting lists")
    chat.type(LOST)
    chat.send()
    chat.stream_start()
    chat.error()  # "Something went wrong" instead of the answer
    ctx.wait_status(lambda s: s["failures"] == 1, what="the pushed failure")
    (failure,) = unresolved(server)
    assert failure["recovered_at"] is None

    popup = ctx.popup()
    item = popup.wait_for_selector(f"li.failure[data-failure='{failure['id']}']")
    assert item.query_selector(".again").is_hidden()  # the site has not answered since
    popup.close()

    # ChatGPT works again: an answer completes in another chat.
    other = site.open("c0ffee-again-2", turns=[("user", "Still there?"), ("assistant", "Yes.")])
    other.type("Ping?")
    other.send()
    answer_completes(server, other, "c0ffee-again-2")
    wait_for(lambda: unresolved(server)[0]["recovered_at"], what="recovered_at on the failure")
    note = f"recovered:{failure['id']}:{failure['conversation']}"
    wait_for(lambda: note in ctx.sw_eval("chrome.notifications.getAll()"), what="the Send again notification")

    before = conversation(server, "c0ffee-again-1")
    turns_shown = chat.page.locator("[data-dv-turn]").count()
    popup = ctx.popup()
    popup.bring_to_front()
    tabs_before = len(ctx.context.pages)
    item = popup.wait_for_selector(f"li.failure[data-failure='{failure['id']}']")
    popup.wait_for_selector(f"li.failure[data-failure='{failure['id']}'] .again:not(.hidden)")
    assert item.query_selector(".back").text_content().startswith("ChatGPT answers again since ")
    item.query_selector(".again").click()

    # The lost prompt is in the same chat's composer, as DraftVault itself reads it back...
    after = wait_vault(server, "c0ffee-again-1", lambda d: draft_of(d) == LOST, "the lost prompt in the composer")
    assert chat.draft() == LOST
    popup.wait_for_function(
        "() => document.querySelector('#message').textContent === "
        "'Your lost prompt is back in the composer: press Send when ready.'"
    )
    # ...and nothing was sent: no new turn on the page or in the vault, no other tab.
    assert chat.page.locator("[data-dv-turn]").count() == turns_shown
    assert [t["text"] for t in after["turns"]] == [t["text"] for t in before["turns"]]
    assert len(ctx.context.pages) == tabs_before
    resolved = server.api("GET", "/api/failures", params={"resolved": "true"})["items"]
    assert [(f["id"], f["resolution"]) for f in resolved] == [(failure["id"], "resumed")]


def test_send_again_puts_back_a_prompt_with_an_image_without_its_placeholder_and_asks_for_the_image(
        browser_ctx, server, site):
    ctx = browser_ctx
    estuary = Estuary(ctx.context, {"file_00000000again0photo000000000001": png(7)})
    chat = site.open("c0ffee-again-img", turns=[("user", "How do I sort a list?"), ("assistant", "Use `sorted()`.")])
    chat.type("What is in this photo?")
    chat.send()
    chat.page.evaluate(INSERT, [[2, UPLOADED.format(src=estuary.url("file_00000000again0photo000000000001"))]])
    chat.stream_start()
    chat.error()

    def kept(d):
        chat.page.evaluate("1")  # Playwright serves the image (its route) only inside its own calls
        return len(d["turns"]) >= 3 and d["turns"][2].get("attachments") and d["turns"][2].get("shown_text")

    detail = wait_vault(server, "c0ffee-again-img", kept, "the prompt's image kept as a file")
    assert detail["turns"][2]["text"] == "[Image: Uploaded image]\n\nWhat is in this photo?"
    ctx.wait_status(lambda s: s["failures"] == 1, what="the pushed failure")
    (failure,) = unresolved(server)
    other = site.open("c0ffee-again-img-2", turns=[("user", "Still there?"), ("assistant", "Yes.")])
    other.type("Ping?")
    other.send()
    answer_completes(server, other, "c0ffee-again-img-2")
    wait_for(lambda: unresolved(server)[0]["recovered_at"], what="recovered_at on the failure")

    popup = ctx.popup()
    popup.bring_to_front()
    popup.click(f"li.failure[data-failure='{failure['id']}'] .again:not(.hidden)")
    # The prompt as the person typed it, not the vault's placeholder of the image; the popup
    # says the image is theirs to attach again.
    wait_vault(server, "c0ffee-again-img", lambda d: draft_of(d) == "What is in this photo?", "the prompt in the composer")
    assert chat.draft() == "What is in this photo?"
    popup.wait_for_function(
        "() => document.querySelector('#message').textContent === 'Your lost prompt is back in the composer. "
        "Attach its 1 image(s) or file(s) again, then press Send.'"
    )


def test_send_again_when_the_chat_is_gone_opens_a_new_chat_with_the_resume_pack(browser_ctx, server, site):
    ctx = browser_ctx
    lost = site.open()  # a new chat: it has no address of its own until its first message
    lost.type(LOST)
    wait_for(lambda: [c for c in server.api("GET", "/api/conversations")["items"] if c["conversation_id"] is None],
             what="the new chat's draft saved")
    lost.close()  # the tab closed with the unsent draft
    ctx.wait_status(lambda s: s["failures"] == 1, what="the tab_closed failure")
    (failure,) = unresolved(server)
    assert failure["kind"] == "tab_closed"

    other = site.open("c0ffee-gone-2", turns=[("user", "Still there?"), ("assistant", "Yes.")])
    other.type("Ping?")
    other.send()
    answer_completes(server, other, "c0ffee-gone-2")
    wait_for(lambda: unresolved(server)[0]["recovered_at"], what="recovered_at on the failure")

    pack = server.api("GET", f"/api/conversations/{failure['conversation']}/resume", params={"target": "chatgpt"})
    assert LOST in pack["text"]
    popup = ctx.popup()
    popup.bring_to_front()
    with ctx.context.expect_page() as opened:
        popup.click(f"li.failure[data-failure='{failure['id']}'] .again:not(.hidden)")
    new_chat = SitePage(opened.value, site)
    new_chat.page.wait_for_function("window.__dv_test && window.__dv_test.ready")
    wait_for(lambda: new_chat.draft() and lines(new_chat.draft()) == lines(pack["text"]), what="the pack in the composer")
    assert new_chat.conversation_id is None  # still a new chat: nothing was sent
    assert new_chat.page.locator("[data-dv-turn]").count() == 0
    popup.wait_for_function("() => document.querySelector('#message').textContent.startsWith('The chat is gone')")


# ---- the in-page control: inside a closed shadow root, reached as a user does -------

def _walk(node):
    yield node
    for key in ("children", "shadowRoots"):
        for child in node.get(key, []):
            yield from _walk(child)


def control_nodes(page) -> dict:
    """The control's nodes by role (label, buttons by data-action, the status line),
    found through the DevTools protocol, which sees into closed shadow roots."""
    cdp = page.context.new_cdp_session(page)
    root = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
    found = {"cdp": cdp}
    for node in _walk(root):
        attrs = dict(zip(node.get("attributes", [])[::2], node.get("attributes", [])[1::2]))
        if "data-action" in attrs:
            found[attrs["data-action"]] = node["nodeId"]
        elif attrs.get("class") == "said":
            found["said"] = node["nodeId"]
    return found


def click_node(page, cdp, node_id: int) -> None:
    """A real mouse click at the middle of the node."""
    cdp.send("DOM.scrollIntoViewIfNeeded", {"nodeId": node_id})
    quad = cdp.send("DOM.getBoxModel", {"nodeId": node_id})["model"]["content"]
    page.mouse.click(sum(quad[0::2]) / 4, sum(quad[1::2]) / 4)


def text_of(cdp, node_id: int) -> str:
    html = cdp.send("DOM.getOuterHTML", {"nodeId": node_id})["outerHTML"]
    return html.split(">", 1)[1].rsplit("<", 1)[0]


def test_in_page_control_beside_the_error_notice_restores_the_draft_and_goes_with_it(browser_ctx, server, site):
    ctx = browser_ctx
    chat = site.open("c0ffee-notice-1", turns=[("user", "How do I sort a list?"), ("assistant", "Use `sorted()`.")],
                     title="Sorting lists")
    page = chat.page
    chat.type(LOST)
    wait_vault(server, "c0ffee-notice-1", lambda d: draft_of(d) == LOST, "the draft saved")
    assert page.locator("draftvault-control").count() == 0  # nothing while all is well

    # A page whose own styles would hide every button and label: they must not reach the control.
    page.add_style_tag(content="button, select, span, div.box { display: none !important; }")
    chat.error()
    page.evaluate("window.__dv_test.type('')")  # the failing page lost the composer's text
    wait_vault(server, "c0ffee-notice-1", lambda d: draft_of(d) != LOST, "the emptied composer saved")
    ctx.wait_status(lambda s: s["failures"] == 1, what="the pushed failure")

    page.wait_for_selector("draftvault-control")
    placed = page.evaluate("""() => {
        const host = document.querySelector('draftvault-control');
        return {beside: host.previousElementSibling.classList.contains('text-token-text-error'),
                retryNext: host.nextElementSibling.textContent === 'Retry',
                shadow: host.shadowRoot, light: host.childNodes.length};
    }""")
    # Beside the site's notice, before its Retry; the page's scripts see a closed host and nothing in it.
    assert placed == {"beside": True, "retryNext": True, "shadow": None, "light": 0}
    nodes = control_nodes(page)
    assert {"restore", "resume", "open", "said"} <= set(nodes)
    assert text_of(nodes["cdp"], nodes["restore"]) == "Restore draft"

    click_node(page, nodes["cdp"], nodes["restore"])
    wait_vault(server, "c0ffee-notice-1", lambda d: draft_of(d) == LOST, "the draft back in the composer")
    assert chat.draft() == LOST
    wait_for(lambda: text_of(nodes["cdp"], nodes["said"]) == "Your draft is back in the composer.",
             what="the control's answer")
    assert unresolved(server) == []  # restoring it resolved the failure, as in the popup

    page.evaluate("document.querySelector('[data-dv-error]').remove()")  # the site clears its notice
    page.wait_for_function("() => document.querySelector('draftvault-control') === null")


def test_options_switch_turns_the_status_check_on_and_says_what_it_contacts(browser_ctx, server):
    status = StatusSite()
    try:
        status.serve("summary-2019-12-30.json")
        # The page it polls is the settings file's; only the switch comes from the options page.
        settings = config.load_settings(server.home)
        config.save_settings(server.home, config.Settings(statuspage_url=status.url, allowed_origins=settings.allowed_origins,
                                                          statuspage_check=False))
        browser_ctx.wait_status(lambda s: s["state"] == "connected", what="a connection")
        options = browser_ctx.extension_page("options/options.html")
        options.wait_for_selector("#status-check:not([disabled])")
        assert not options.is_checked("#status-check")
        assert options.text_content("#status-check-note").startswith(f"Off. When on, the DraftVault service fetches {status.url}")
        assert status.hits == 0

        options.check("#status-check")
        options.wait_for_function("() => document.querySelector('#status-check-note').textContent.startsWith('On:')")
        wait_for(lambda: status.hits, what="the service polling the status page")
        assert config.load_settings(server.home).statuspage_check is True

        options.reload()
        options.wait_for_selector("#status-check:not([disabled])")
        assert options.is_checked("#status-check")
        options.uncheck("#status-check")
        options.wait_for_function("() => document.querySelector('#status-check-note').textContent.startsWith('Off.')")
        assert config.load_settings(server.home).statuspage_check is False
    finally:
        status.httpd.shutdown()
        status.httpd.server_close()
