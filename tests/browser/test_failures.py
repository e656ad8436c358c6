"""Failed sessions end to end: the real extension on the fake chatgpt.com (tests/sitepages)
and the real service, whose detector turns what the pages show, and what they stop
saying, into failures listed by /api/failures and by the popup.

(Each signal's own path, error texts, HTTP statuses, stop, is in test_signals.py;
here: every failure kind reaching the user, tabs and browsers that go away, a
failure that resolves itself, and one during a provider outage.)
"""

from __future__ import annotations

import functools
import http.server
import threading

import pytest
from sitepages import REAL_FIXTURES, chatgpt
from sitepages.base import wait_for

from draftvault import config

pytestmark = pytest.mark.browser

CHAT = [("user", "Plan three days in Lisbon"), ("assistant", "Day one: **Alfama** and the castle.")]
LONGER = CHAT + [("user", "And day two?"), ("assistant", "Day two: Belém and its tower.")]
CONVERSATION = "**/backend-api/conversation"
# An answer's event stream that ends before its final event.
CUT = b'data: {"message": {"author": {"role": "assistant"}, "status": "in_progress"}}\n\n'
REQUEST = """() => fetch("/backend-api/conversation", {method: "POST", body: "{}"})
                    .then(r => r.text()).catch(e => e.name)"""


@pytest.fixture
def server_env():
    # Silence noticed in seconds, not the product's 45 s; the pages signal stalls themselves.
    return {"DRAFTVAULT_SILENCE_S": "3", "DRAFTVAULT_TICK_S": "0.5", "DRAFTVAULT_STALL_S": "600"}


def conversations(server) -> dict[str | None, dict]:
    """Vault conversations by their site id (None: a new chat that has none)."""
    return {c["conversation_id"]: c for c in server.api("GET", "/api/conversations", params={"limit": 500})["items"]}


def open_failures(server) -> dict[str | None, list[str]]:
    """Kinds of the unresolved failures, by the site id of their conversation."""
    site_ids = {c["id"]: sid for sid, c in conversations(server).items()}
    out: dict[str | None, list[str]] = {}
    for f in server.api("GET", "/api/failures", params={"resolved": "false"})["items"]:
        out.setdefault(site_ids.get(f["conversation"]), []).append(f["kind"])
    return out


def failures_in(server, n: int, what: str) -> dict[str | None, list[str]]:
    """open_failures once n conversations have one."""

    def check():
        got = open_failures(server)
        return got if len(got) >= n else None

    return wait_for(check, what=what)


def saved(server, conversation_id, text: str) -> bool:
    """The vault's copy of the chat contains `text` (in a turn or the draft)."""
    conv = conversations(server).get(conversation_id)
    if conv is None:
        return False
    detail = server.api("GET", f"/api/conversations/{conv['id']}")
    return any(text in t["text"] for t in detail["turns"]) or text in ((detail["draft"] or {}).get("text") or "")


def answer_with(reply: dict):
    # A one-argument handler: Playwright passes (route, request) to handlers that take two.
    return lambda route: route.fulfill(**reply)


def open_chat(site, server, conversation_id, turns=CHAT):
    chat = site.open(conversation_id, turns=turns)
    wait_for(lambda: conversation_id in conversations(server), what=f"{conversation_id} saved")
    return chat


def answering(site, server, conversation_id):
    """A chat whose answer to a new question is streaming, saved that far."""
    chat = open_chat(site, server, conversation_id)
    chat.type("And day two?")
    chat.send()
    chat.stream_start()
    chat.stream_chunk("Day two: ")
    wait_for(lambda: saved(server, conversation_id, "Day two:"), what="the answer so far saved")
    return chat


def test_every_kind_of_failure_reaches_the_api_and_the_popup(browser_ctx, server):
    site = chatgpt.serve(browser_ctx.context)
    expected: dict[str, str] = {}  # site conversation id -> failure kind

    # What ChatGPT says in the thread when an answer fails.
    for cid, text, kind in [
        ("err-wrong", chatgpt.ERROR_TEXT, "error_message"),
        ("err-capacity", "ChatGPT is at capacity right now", "capacity"),
        ("err-limit", "You've reached our limit of messages per hour. Please try again later.", "rate_limited"),
    ]:
        answering(site, server, cid).error(text)
        expected[cid] = kind

    # The conversation request fails, or its stream is cut.
    for cid, reply, kind in [
        ("http-503", dict(status=503, body="{}"), "http_error"),
        ("stream-cut", dict(status=200, content_type="text/event-stream", body=CUT), "stream_incomplete"),
    ]:
        chat = open_chat(site, server, cid)
        chat.page.route(CONVERSATION, answer_with(reply))
        chat.type("And day two?")
        chat.send()
        chat.page.evaluate(REQUEST)
        expected[cid] = kind

    # The page itself goes wrong.
    open_chat(site, server, "blank").blank()
    expected["blank"] = "blank_page"
    open_chat(site, server, "logout").logout()
    expected["logout"] = "logged_out"
    vanish = open_chat(site, server, "vanish", turns=LONGER)
    vanish.page.evaluate("() => [...document.querySelectorAll('[data-dv-turn]')].slice(-2).forEach(t => t.remove())")
    expected["vanish"] = "turns_vanished"

    # The tab is closed mid-answer.
    answering(site, server, "closed").close()
    expected["closed"] = "tab_closed"

    # The network goes away while a prompt waits unsent.
    offline = open_chat(site, server, "offline")
    offline.type("What about Sintra?")
    wait_for(lambda: saved(server, "offline", "What about Sintra?"), what="the draft saved")
    browser_ctx.context.set_offline(True)  # (the emulation cuts the worker's socket too: queued till online)
    offline.page.wait_for_function("!navigator.onLine")
    browser_ctx.context.set_offline(False)
    wait_for(lambda: open_failures(server).get("offline"), what="the offline failure")
    expected["offline"] = "offline"

    # An answer stops coming (last: every page follows stallSeconds at once).
    answering(site, server, "stall")
    browser_ctx.set_storage(stallSeconds=1)
    expected["stall"] = "stalled"

    def all_failed():
        got = open_failures(server)
        return got if all(cid in got for cid in expected) else None

    got = wait_for(all_failed, what="a failure for every chat")
    assert got == {cid: [kind] for cid, kind in expected.items()}

    # The popup lists each, saying what went wrong.
    failures = server.api("GET", "/api/failures", params={"resolved": "false"})["items"]
    popup = browser_ctx.popup()
    popup.wait_for_function("n => document.querySelectorAll('#failure-list .failure').length === n", arg=len(failures))
    words = {f["kind"]: popup.evaluate("async ([k, s]) => (await import('../lib/vocabulary.js')).kindInWords(k, s)",
                                       [f["kind"], "chatgpt"]) for f in failures}
    shown = popup.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#failure-list .failure')]
                 .map(li => [li.dataset.failure, li.querySelector('.kind').textContent]))"""
    )
    assert set(shown) == {f["id"] for f in failures}
    for f in failures:
        assert shown[f["id"]].startswith(words[f["kind"]]), (f["kind"], shown[f["id"]])
    assert len({words[f["kind"]] for f in failures}) == 11  # every kind, each in its own words


def test_closing_a_tab_fails_only_what_was_at_stake(browser_ctx, server):
    site = chatgpt.serve(browser_ctx.context)
    # Nothing at stake: an answer that finished, an answer the user stopped.
    finished = open_chat(site, server, "finished")
    finished.type("And day two?")
    finished.send()
    finished.stream(["Day two: ", "Belém."])
    wait_for(lambda: saved(server, "finished", "Day two: Belém."), what="the whole answer saved")
    stopped = answering(site, server, "stopped")
    stopped.stop()
    wait_for(lambda: not stopped.page.is_visible('[data-testid="stop-button"]'), what="the stop")
    finished.close()
    stopped.close()
    # At stake: an answer being written, a typed prompt, a new chat's first prompt.
    answering(site, server, "mid-answer").close()
    draft = open_chat(site, server, "draft")
    draft.type("Unsent: a day trip to Sintra,\nwith trains?")
    wait_for(lambda: saved(server, "draft", "with trains?"), what="the draft saved")
    draft.close()
    new = site.open()
    new.type("My first prompt, never sent")
    wait_for(lambda: saved(server, None, "never sent"), what="the new chat's draft saved")
    new.close()

    got = failures_in(server, 3, what="three closed tabs noticed")
    assert got == {"mid-answer": ["tab_closed"], "draft": ["tab_closed"], None: ["tab_closed"]}
    # The failed session hands back the typed prompt, exactly.
    detail = server.api("GET", f"/api/conversations/{conversations(server)['draft']['id']}")
    assert detail["draft"]["text"] == "Unsent: a day trip to Sintra,\nwith trains?"
    assert detail["status"] == "failed"


def test_a_browser_that_dies_mid_answer_is_noticed_by_its_silence(browser_ctx, server):
    site = chatgpt.serve(browser_ctx.context)
    chat = answering(site, server, "crash")
    typed = open_chat(site, server, "crash-draft")
    typed.type("Half a question")
    wait_for(lambda: saved(server, "crash-draft", "Half a question"), what="the draft saved")
    cdp = browser_ctx.context.new_cdp_session(chat.page)
    with pytest.raises(Exception):
        cdp.send("Browser.crash")  # no pagehide, no goodbye: the connection just drops
    got = failures_in(server, 2, what="the silence noticed")
    assert got == {"crash": ["tab_closed"], "crash-draft": ["tab_closed"]}
    details = sorted(f["detail"] for f in server.api("GET", "/api/failures")["items"])
    assert details == [
        "the browser went away while an answer was streaming",
        "the browser went away with an unsent draft",
    ]


def test_a_failure_resolves_itself_when_a_later_answer_completes(browser_ctx, server):
    site = chatgpt.serve(browser_ctx.context)
    chat = answering(site, server, "retry")
    chat.error()
    wait_for(lambda: open_failures(server).get("retry"), what="the failure")
    chat.stream(["Day two: ", "Belém and its tower."])  # the user retried; this answer completes
    wait_for(lambda: not open_failures(server), what="the failure resolved")
    (failure,) = server.api("GET", "/api/failures", params={"resolved": "true"})["items"]
    assert (failure["kind"], failure["resolution"]) == ("error_message", "completed")
    popup = browser_ctx.popup()
    popup.wait_for_selector("#failures.hidden", state="attached")
    assert popup.locator("#failure-list .failure").count() == 0


@pytest.fixture
def provider_outage(home):
    """The provider's status page (a real Statuspage answer during an outage), served
    locally and named in the service's settings before it starts."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(REAL_FIXTURES / "statuspage"))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/outage-2020-04-02.summary.json"
    config.save_settings(home, config.Settings(statuspage_url=url, statuspage_interval=1.0))
    yield url
    httpd.shutdown()
    httpd.server_close()


def test_a_failure_during_a_provider_outage_says_so(provider_outage, browser_ctx, server):
    site = chatgpt.serve(browser_ctx.context)
    answering(site, server, "outage").error()
    wait_for(lambda: open_failures(server).get("outage"), what="the failure")
    (failure,) = server.api("GET", "/api/failures")["items"]
    assert failure["provider_outage"] is True
    popup = browser_ctx.popup()
    kind = popup.locator(f'.failure[data-failure="{failure["id"]}"] .kind')
    kind.wait_for()
    assert "outage confirmed by the provider" in kind.text_content()
