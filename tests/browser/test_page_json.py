"""ChatGPT's own conversation JSON as a second source (issue 13, item 8): the real
extension in Chromium on the real chatgpt.com capture, whose page loads its
conversation (GET /backend-api/conversation/{id}, answered from JSON built from the
same capture) the way ChatGPT does when a chat opens. mainworld.js reads the page's
answer passively; capture completes a broken or poorer DOM from it, reports the
adapter broken, and without the JSON captures from the DOM alone as before."""

from __future__ import annotations

import json
import sqlite3
from urllib.parse import urlsplit

import pytest

from sitepages import chatgpt
from sitepages.base import document, element_span, read_adapter, real_capture_html, render_turns, set_children, wait_for
from test_capture import holds

pytestmark = pytest.mark.browser

CAPTURE = "chatgpt-pages-2026-01/chatgpt-chat-simple.2026-01-29.html"
CHAT = "6979a1b2-0c3d-4e8f-9a10-5b2c0f1e7d43"
URL = f"https://chatgpt.com/c/{CHAT}"
API = f"/backend-api/conversation/{CHAT}"
MARK = " (from the JSON)"  # the JSON's texts differ from the DOM's by this


def intact_page() -> str:
    return real_capture_html(CAPTURE, "Planning a trip")


def dom_turns(context) -> list[dict]:
    """The adapter's reading of the intact capture: role, text, message_id per turn."""
    turns = read_adapter(context, URL, intact_page(), "chatgpt")["turns"]
    assert len(turns) == 9 and all(t["text"].strip() and t["message_id"] for t in turns)
    return turns


def conversation_json(turns: list[dict], marked=None) -> dict:
    """The page's conversation in ChatGPT's format: a hidden system root, then the
    turns in a chain (texts with MARK added, so that where they came from shows; only
    at the positions `marked` when given)."""
    mapping = {"client-created-root": {"id": "client-created-root", "message": None, "parent": None, "children": []}}
    parent = "client-created-root"
    for i, t in enumerate(turns):
        key = t["message_id"]
        mark = MARK if marked is None or i in marked else ""
        message = {
            "id": key,
            "author": {"role": t["role"], "name": None, "metadata": {}},
            "content": {"content_type": "text", "parts": [t["text"] + mark]},
            "status": "finished_successfully",
            "recipient": "all",
            "metadata": {},
        }
        mapping[key] = {"id": key, "message": message, "parent": parent, "children": []}
        mapping[parent]["children"].append(key)
        parent = key
    return {"conversation_id": CHAT, "title": "Planning a trip", "current_node": parent, "mapping": mapping}


# The page fetches its conversation as ChatGPT does (its own fetch; mainworld.js sees it).
PAGE_FETCH = (
    f"window.pageGot = fetch({json.dumps(API)})"
    ".then(r => r.status === 200 ? r.json().then(c => Object.keys(c.mapping).length) : r.status)"
)


def open_chat(browser_ctx, markup: str, conversation: dict | None, *, fetch_on_load: bool = True):
    """The chat at URL, showing `markup`; as it loads, the page fetches its conversation,
    answered with `conversation` (None: 404). Returns (page, requests to the site's API)."""
    api_requests: list[str] = []
    script = f"<script>{PAGE_FETCH}</script>" if fetch_on_load else ""

    def handle(route):
        request = route.request
        path = urlsplit(request.url).path
        if request.resource_type == "document":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=markup.replace("</head>", script + "</head>", 1))
        elif path.startswith("/backend-api/"):
            api_requests.append(f"{request.method} {path}")
            if path == API and conversation is not None:
                route.fulfill(status=200, content_type="application/json", body=json.dumps(conversation))
            else:
                route.fulfill(status=404, content_type="application/json", body='{"detail": "not found"}')
        else:
            route.fulfill(status=404, body="")

    browser_ctx.route_site("https://chatgpt.com/**", handle)
    page = browser_ctx.context.new_page()
    page.goto(URL)
    return page, api_requests


def degraded_detail(server):
    items = server.api("GET", "/api/capture-health")["degraded"]
    return items[0]["detail"] if items else None


def broken_page(title: str = "Planning a trip") -> str:
    """The capture as ChatGPT might change its markup: no turn element, no role attribute the adapter knows."""
    return (
        real_capture_html(CAPTURE, title)
        .replace("<article", "<section").replace("</article>", "</section>")
        .replace('data-testid="conversation-turn', 'data-testid="thread-item')
        .replace("data-message-author-role", "data-author-role")
    )


def test_a_page_whose_turns_the_adapter_cannot_find_is_captured_from_its_json(browser_ctx, context, server):
    turns = dom_turns(context)
    conversation = conversation_json(turns)
    # The person's first message came with a file and a photo (ChatGPT's metadata.attachments).
    first = conversation["mapping"][turns[0]["message_id"]]["message"]
    first["metadata"]["attachments"] = [
        {"id": "file-1", "name": "itinerary.pdf", "mime_type": "application/pdf", "size": 48213},
        {"id": "file-2", "name": "beach.jpg", "mime_type": "image/jpeg", "size": 90210},
    ]
    broken = broken_page()
    assert read_adapter(context, URL, broken, "chatgpt")["listed"] == 0
    page, api_requests = open_chat(browser_ctx, broken, conversation)

    expected = [(t["role"], t["text"] + MARK) for t in turns]
    wait_for(holds(server, CHAT, expected), what="the turns taken from the page's JSON")
    detail = wait_for(lambda: degraded_detail(server), what="capture reported degraded")
    assert "taken from the page's JSON" in detail
    # The page got its own answer whole, and nothing but the page asked the site.
    assert page.evaluate("window.pageGot") == len(conversation["mapping"])
    assert api_requests == [f"GET {API}"]
    # The file the JSON names is recorded by name, type and size (no bytes: the page gave
    # none); the photo is left to the DOM, which would give its bytes.
    files = wait_for(lambda: (holds(server, CHAT, expected)() or {"turns": [{}]})["turns"][0].get("attachments"),
                     what="the file the JSON names")
    assert files == [{"id": None, "name": "itinerary.pdf", "type": "application/pdf", "bytes": 48213}]


def test_capture_stays_degraded_while_its_turns_come_from_the_json(browser_ctx, context, server):
    """The JSON keeps capture going, but the adapter is still broken: the chat opened again
    (renamed meanwhile), its turns again from the JSON, leaves the popup's "capture degraded"
    as it was, from the time it started; never cleared by the JSON's text."""
    turns = dom_turns(context)
    conversation = conversation_json(turns)
    expected = [(t["role"], t["text"] + MARK) for t in turns]
    page, _ = open_chat(browser_ctx, broken_page(), conversation)
    wait_for(holds(server, CHAT, expected), what="the turns taken from the page's JSON")
    first = wait_for(lambda: server.api("GET", "/api/capture-health")["degraded"], what="capture reported degraded")
    page.close()
    conversation["title"] = "A trip to Lisbon"
    open_chat(browser_ctx, broken_page("A trip to Lisbon"), conversation)
    wait_for(lambda: (holds(server, CHAT, expected)() or {}).get("title") == "A trip to Lisbon",
             what="the second page's snapshot, its turns from the JSON")
    now = server.api("GET", "/api/capture-health")["degraded"]
    assert [(d["site"], d["since"]) for d in now] == [(d["site"], d["since"]) for d in first]


@pytest.mark.parametrize("when", ["as the chat opens", "later"])
def test_answers_the_dom_reads_empty_are_completed_from_the_json(browser_ctx, context, server, when):
    turns = dom_turns(context)
    # Every answer's content in a form the adapter does not read: its text is empty.
    markup = intact_page()
    at = markup.find('class="markdown prose')
    while at >= 0:
        start = markup.rindex("<div", 0, at)
        markup = set_children(markup, start, "<x-new-renderer></x-new-renderer>")
        at = markup.find('class="markdown prose', element_span(markup, start)[1])
    read = read_adapter(context, URL, markup, "chatgpt")["turns"]
    assert [t["text"] == "" for t in read] == [t["role"] == "assistant" for t in turns]
    later = when == "later"
    page, _ = open_chat(browser_ctx, markup, conversation_json(turns), fetch_on_load=not later)
    if later:
        # Captured from the DOM first (empty answers), then the page loads its conversation.
        wait_for(holds(server, CHAT, [(t["role"], t["text"]) for t in read]), what="the DOM's reading")
        page.evaluate(PAGE_FETCH)

    # The empty answers come from the JSON; the user turns the DOM reads stay as read.
    expected = [(t["role"], t["text"] + MARK if t["role"] == "assistant" else t["text"]) for t in turns]
    wait_for(holds(server, CHAT, expected), what="the answers completed from the page's JSON")
    detail = wait_for(lambda: degraded_detail(server), what="capture reported degraded")
    assert detail == "5 of 9 turns read much shorter than in the page's JSON"


def test_without_the_json_capture_reads_the_dom_as_before(browser_ctx, context, server):
    turns = dom_turns(context)
    page, api_requests = open_chat(browser_ctx, intact_page(), None)
    wait_for(holds(server, CHAT, [(t["role"], t["text"]) for t in turns]), what="the turns read from the DOM")
    assert page.evaluate("window.pageGot") == 404
    assert api_requests == [f"GET {API}"]
    assert degraded_detail(server) is None


# ChatGPT's 2026-09 layout mounts a few turns of a long chat and evicts the others while
# scrolling (extension/sites/README.md): 4 of 12 turns, in the real capture's turn markup
# or in the 2026-09 markup as test_adapters_layouts.py has it.
LONG = [
    {"role": "user" if i % 2 == 0 else "assistant", "text": f"{'Question' if i % 2 == 0 else 'Answer'} number {i} about the trip",
     "message_id": f"m{i:02d}-00001"}
    for i in range(12)
]


def mounted(layout: str, first: int, end: int) -> str:
    """Turns first..end-1 of LONG as the page renders them (message ids m{i}-00001)."""
    shown = list(enumerate(LONG[first:end], first))
    if layout == "2026-09":  # a prompt and its answer in one turn key (test_adapters_layouts.py)
        return "".join(f'<div data-turn-key="k{i}">{"".join(unit(t) for _, t in shown[k:k + 2])}</div>'
                       for k, (i, _) in enumerate(shown) if k % 2 == 0)
    parts = chatgpt.SPEC.parts()
    config = {**chatgpt.CONFIG, "userTemplate": parts["user"], "assistantTemplate": parts["assistant"]}
    return "".join(render_turns(config, [(t["role"], t["text"])], id_prefix=f"m{i:02d}-") for i, t in shown)


def unit(t: dict) -> str:
    """One turn of the 2026-09 layout: a unit naming its message id."""
    key = t["message_id"]
    if t["role"] == "user":
        return (f'<div data-chatgpt-search-message-ids="{key}"><div data-user-message-bubble="true">'
                f'<div class="whitespace-pre-wrap">{t["text"]}</div></div></div>')
    return (f'<div data-chatgpt-search-message-ids="{key}"><h4 class="sr-only" data-conversation-role="assistant">'
            f'ChatGPT said:</h4><div data-chatgpt-selection-message-id="{key}">'
            f'<div data-markdown-text-style="assistant-message"><p>{t["text"]}</p></div></div></div>')


def window_page(layout: str) -> str:
    """The chat before its turns render: an empty place for them, then the composer."""
    if layout == "2026-09":
        return document("A long trip", '<main><div id="mount"></div></main>'
                        '<form><div contenteditable="true" class="ProseMirror" id="prompt-textarea"><p></p></div></form>')
    parts = chatgpt.SPEC.parts()
    return document("A long trip", parts["before"] + '<div id="mount"></div>' + parts["after"])


def broken_signals(server) -> list:
    with sqlite3.connect(f"file:{server.home / 'vault.db'}?mode=ro", uri=True) as db:
        return db.execute("SELECT detail FROM signals WHERE kind='adapter_broken'").fetchall()


@pytest.mark.parametrize("layout", ["classic", "2026-09"])
def test_a_chat_that_mounts_only_a_window_of_its_turns_is_captured_whole(browser_ctx, server, layout):
    # The JSON's texts differ from the DOM's at 2-9: the turns the page mounts.
    page, _ = open_chat(browser_ctx, window_page(layout), conversation_json(LONG, marked=range(2, 10)), fetch_on_load=False)
    tab = browser_ctx.tab_id(page)
    wait_for(lambda: browser_ctx.sw_eval("id => chrome.tabs.sendMessage(id, {type: 'dv:tab-state'}).catch(() => null)", tab),
             what="capture running on the page")
    # As ChatGPT opens a chat: its conversation is fetched, then the turns in view rendered.
    show = "html => { document.getElementById('mount').innerHTML = html; }"
    page.evaluate(f"html => ({PAGE_FETCH}).then(() => ({show})(html))", mounted(layout, 6, 10))

    whole = [(t["role"], t["text"] + (MARK if 2 <= i < 6 else "")) for i, t in enumerate(LONG)]
    d = wait_for(holds(server, CHAT, whole), what="all 12 turns, the DOM's texts at 6-9")
    assert d["branches"] == []

    # Scrolled up: 2-5 mounted, 6-9 evicted; a draft typed meanwhile goes in the same snapshot.
    page.evaluate(f"html => {{ ({show})(html); document.querySelector('#prompt-textarea').innerHTML = '<p>Where next?</p>'; }}",
                  mounted(layout, 2, 6))
    # 2-5 as sent from the JSON (the DOM shows no word more), 6-9 as the DOM showed them.
    d = wait_for(holds(server, CHAT, whole, draft="Where next?"), what="still all 12 turns, and the draft")
    assert d["branches"] == []
    # A false report would come CONFIRM_MS after the JSON (page-json.js): the node test of
    # disagreement() is the exact check; this one sees a report that came sooner.
    assert broken_signals(server) == [] and degraded_detail(server) is None


@pytest.mark.parametrize("layout", ["classic", "2026-09"])
def test_a_window_rendered_before_the_json_arrives_leaves_no_versions(browser_ctx, server, layout):
    """ChatGPT may render the turns in view before its conversation JSON arrives: the chat's
    first snapshot waits for the JSON (page-json.js hold), so the window is placed by
    message id; sent by position it would have become turns 0-3, then earlier versions."""
    page, _ = open_chat(browser_ctx, window_page(layout), conversation_json(LONG, marked=range(2, 10)), fetch_on_load=False)
    tab = browser_ctx.tab_id(page)
    wait_for(lambda: browser_ctx.sw_eval("id => chrome.tabs.sendMessage(id, {type: 'dv:tab-state'}).catch(() => null)", tab),
             what="capture running on the page")
    # The turns in view first; the page's fetch of its conversation a moment later (past
    # capture's first flush, well inside its wait). Awaited: Playwright answers the fetch
    # only while the test is in one of its calls.
    page.evaluate(f"html => {{ document.getElementById('mount').innerHTML = html; "
                  f"return new Promise((done) => setTimeout(done, 600)).then(() => {PAGE_FETCH}); }}", mounted(layout, 6, 10))
    whole = [(t["role"], t["text"] + (MARK if 2 <= i < 6 else "")) for i, t in enumerate(LONG)]
    d = wait_for(holds(server, CHAT, whole), what="all 12 turns, the DOM's texts at 6-9")
    assert d["branches"] == []
    assert broken_signals(server) == []
