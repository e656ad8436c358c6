"""Page signals: content/mainworld.js (the conversation request, seen from the page's
own world) and content/signals.js (what the page shows), up to the real service.

Two parts:
- mainworld.js alone, in plain Chromium, on a page served by a real local HTTP server
  that answers the conversation request as ChatGPT does (a server-sent event stream),
  or fails it: what the script reports, and that the page still gets its response
  untouched.
- The real extension with the real service (`browser_ctx`, `server`) on the fake
  chatgpt.com (tests/sitepages): each error message, HTTP failure, cut stream, stall
  and stop becomes the right signal, stored by the service and turned into the right
  failure by its detector; the user's own words never do.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sitepages import chatgpt
from sitepages.base import launch_plain, route_extension_modules, wait_for

pytestmark = pytest.mark.browser

MAINWORLD = Path(__file__).resolve().parents[2] / "extension" / "content" / "mainworld.js"
CONVERSATION = "/backend-api/f/conversation"
CHAT = [("user", "Summarise the report"), ("assistant", "Here is the summary.")]

# ---- server-sent event streams as ChatGPT sends them --------------------------------

USER_ECHO = {  # the first event echoes the user's message, already "finished_successfully"
    "type": "input_message",
    "input_message": {"author": {"role": "user"}, "status": "finished_successfully", "end_turn": None},
}


def sse(*events) -> bytes:
    return "".join(f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events).encode()


DELTA_START = [  # delta format: the assistant's message, then its text in pieces
    {"p": "", "o": "add", "v": {"message": {"author": {"role": "assistant"}, "status": "in_progress"}}},
    {"v": "Hel"},
    {"v": "lo"},
]
STREAMS = {
    # old format: the assistant's last message carries end_turn, then [DONE]
    "done": sse(USER_ECHO, {"message": {"author": {"role": "assistant"}, "status": "in_progress", "end_turn": None}},
                {"message": {"author": {"role": "assistant"}, "status": "finished_successfully", "end_turn": True}},
                "[DONE]"),
    # delta format, final patch only (no [DONE]: the final event alone counts)
    "delta": sse(USER_ECHO, *DELTA_START,
                 {"p": "", "o": "patch", "v": [{"p": "/message/status", "o": "replace", "v": "finished_successfully"},
                                              {"p": "/message/end_turn", "o": "replace", "v": True}]}),
    "complete_event": sse(USER_ECHO, *DELTA_START, {"type": "message_stream_complete", "conversation_id": "x"}),
    # cut: the echo's "finished_successfully" is the user's message, not the answer
    "cut": sse(USER_ECHO, *DELTA_START),
}


class ChatHandler(BaseHTTPRequestHandler):
    """GET /: an empty page. POST /backend-api/f/conversation?mode=M answers by mode:
    a stream from STREAMS, an HTTP status ("500"), "slow" (an event every 0.5 s for 3 s,
    then [DONE]) or "hang" (one event, then nothing until released: the page aborts it)."""

    protocol_version = "HTTP/1.0"  # the body ends when the connection closes
    release = threading.Event()

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._send(200, "text/html", b"<!doctype html><title>chat</title><p>chat</p>")

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        mode = self.path.partition("mode=")[2]
        if mode.isdigit():
            self._send(int(mode), "application/json", b'{"detail": "failed"}')
        elif mode == "slow":  # a long think: events keep coming, then the answer
            self._start(200, "text/event-stream")
            for _ in range(6):
                self.wfile.write(sse({"v": ""}))
                self.wfile.flush()
                time.sleep(0.5)
            self.wfile.write(sse("[DONE]"))
        elif mode == "hang":
            self._start(200, "text/event-stream")
            self.wfile.write(sse(USER_ECHO))
            self.wfile.flush()
            self.release.wait(15)
        else:
            self._send(200, "text/event-stream; charset=utf-8", STREAMS[mode])

    def _start(self, status, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.end_headers()

    def _send(self, status, ctype, body):
        self._start(status, ctype)
        self.wfile.write(body)


@pytest.fixture(scope="module")
def chat_server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), ChatHandler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    ChatHandler.release.set()
    httpd.shutdown()


@pytest.fixture(scope="module")
def plain(_playwright):
    browser = launch_plain(_playwright)
    yield browser
    browser.close()


COLLECT = """window.__main = [];
addEventListener("message", (e) => { if (e.data && e.data.source === "draftvault-main") window.__main.push(e.data); });"""

# The page's own request, as ChatGPT makes it: POST, then read the whole body.
REQUEST = """async ([path, abortAfterMs]) => {
  const ctl = new AbortController();
  if (abortAfterMs !== null) setTimeout(() => ctl.abort(), abortAfterMs);
  try {
    const r = await fetch(path, {method: "POST", body: JSON.stringify({action: "next"}),
                                 headers: {"content-type": "application/json"}, signal: ctl.signal});
    return {status: r.status, text: await r.text()};
  } catch (err) { return {error: err.name}; }
}"""


@pytest.fixture
def page(plain, chat_server):
    context = plain.new_context()
    context.add_init_script(path=str(MAINWORLD))
    context.add_init_script(COLLECT)
    p = context.new_page()
    p.goto(chat_server + "/")
    yield p
    context.close()


def reported(page, n: int) -> list[dict]:
    """The first n messages mainworld.js posted, once n have come (and nothing more soon after)."""
    page.wait_for_function("n => window.__main.length >= n", arg=n)
    time.sleep(0.2)
    got = [{k: v for k, v in m.items() if k != "source"} for m in page.evaluate("window.__main.splice(0)")]
    assert len(got) == n, got
    return got


def test_mainworld_reports_http_failures(page):
    for request, status in enumerate([500, 502, 503, 429], 1):
        got = page.evaluate(REQUEST, [f"{CONVERSATION}?mode={status}", None])
        assert got == {"status": status, "text": '{"detail": "failed"}'}  # the page's response, untouched
        assert reported(page, 2) == [
            {"event": "started", "request": request},
            {"event": "http_error", "request": request, "status": status, "detail": HTTPStatus(status).phrase},
        ]


def test_mainworld_sees_the_final_event(page):
    for mode in ["done", "delta", "complete_event"]:
        got = page.evaluate(REQUEST, [f"{CONVERSATION}?mode={mode}", None])
        assert got == {"status": 200, "text": STREAMS[mode].decode()}
        assert [e["event"] for e in reported(page, 2)] == ["started", "complete"], mode


def test_mainworld_reports_a_slow_stream_alive(page):
    page.evaluate(REQUEST, [f"{CONVERSATION}?mode=slow", None])
    page.wait_for_function("window.__main.some((m) => m.event === 'complete')")
    events = [m["event"] for m in page.evaluate("window.__main")]
    assert events[0] == "started" and events[-1] == "complete"
    assert set(events[1:-1]) == {"alive"} and 1 <= len(events[1:-1]) <= 2  # every 2 s, not every event


def test_mainworld_reports_a_stream_cut_before_its_final_event(page):
    got = page.evaluate(REQUEST, [f"{CONVERSATION}?mode=cut", None])
    assert got == {"status": 200, "text": STREAMS["cut"].decode()}
    events = reported(page, 2)
    assert [e["event"] for e in events] == ["started", "incomplete"]
    assert "final event" in events[1]["detail"]


def test_mainworld_reports_an_abort_as_aborted_not_incomplete(page):
    # The user presses stop while the answer streams: the page aborts its request.
    got = page.evaluate(REQUEST, [f"{CONVERSATION}?mode=hang", 300])
    assert got == {"error": "AbortError"}
    assert [e["event"] for e in reported(page, 2)] == ["started", "aborted"]


def test_mainworld_ignores_other_requests(page):
    page.evaluate("fetch('/backend-api/f/conversation?mode=done').then(r => r.text())")  # GET
    page.evaluate(REQUEST, ["/backend-api/other?mode=500", None])
    page.evaluate(REQUEST, [f"{CONVERSATION}?mode=done", None])
    events = reported(page, 2)
    assert [(e["event"], e["request"]) for e in events] == [("started", 1), ("complete", 1)]


# ---- signals.js alone, in plain Chromium on the fake chatgpt.com ----------------------

START_SIGNALS = """async () => {
  const { startSignals } = await import("/__dv_ext/content/signals.js");
  const adapter = (await import("/__dv_ext/sites/chatgpt.js")).default;
  window.__signals = [];
  startSignals({ adapter, emit: (kind, detail, status) => window.__signals.push([kind, detail, status]) });
}"""


def signals_after(page, action: str, arg=None, expect: int = 0) -> list:
    """Runs `action` in the page; the signals it gave: once `expect` came, or, expecting
    none, after the checks (debounced, and a 1 s tick) have had time to run."""
    page.evaluate("window.__signals.length = 0")
    page.evaluate(action, arg)
    if expect:
        page.wait_for_function("n => window.__signals.length >= n", arg=expect)
    page.wait_for_timeout(300 if expect else 1200)
    return page.evaluate("window.__signals")


def test_signals_read_the_page_not_the_words_in_it(plain):
    context = plain.new_context()
    try:
        site = chatgpt.serve(context)
        route_extension_modules(context, "https://chatgpt.com")
        chat = site.open("plain-1", turns=CHAT)
        chat.page.evaluate(START_SIGNALS)
        page = chat.page
        # A screen-reader announcement of the answer, and a sidebar title: not errors.
        assert signals_after(page, """() => {
            document.body.insertAdjacentHTML("beforeend", '<div class="sr-only" role="status">Network error, explained</div>');
            document.body.insertAdjacentHTML("afterbegin", '<nav><div role="status">Bad gateway in nginx</div></nav>'); }""") == []
        # A toast: once, also when the site re-renders its text; again once it went and came back.
        toast = '<div role="alert" id="t"><span>Bad gateway</span><button>Retry</button></div>'
        shown = signals_after(page, "m => document.body.insertAdjacentHTML('beforeend', m)", toast, expect=1)
        assert shown == [["error_message", "Bad gateway", None]]
        assert signals_after(page, "() => { document.querySelector('#t span').firstChild.data = 'Bad gateway'; }") == []
        assert signals_after(page, "() => document.getElementById('t').remove()") == []
        assert signals_after(page, "m => document.body.insertAdjacentHTML('beforeend', m)", toast, expect=1) == shown
        # Messages that are not mainworld.js's: wrong shape, or from another window.
        forged = """() => {
            postMessage({source: "draftvault-main", event: "http_error", request: "1", status: 500}, "*");
            postMessage({source: "draftvault-main", event: "explode", request: 1}, "*");
            const f = document.body.appendChild(document.createElement("iframe"));
            f.contentWindow.eval('parent.postMessage({source: "draftvault-main", event: "started", request: 7}, "*")');
            f.contentWindow.eval('parent.postMessage({source: "draftvault-main", event: "http_error", request: 7, status: 502}, "*")'); }"""
        assert signals_after(page, forged) == []
        ok = """() => { postMessage({source: "draftvault-main", event: "started", request: 1}, "*");
                      postMessage({source: "draftvault-main", event: "http_error", request: 1, status: 503}, "*"); }"""
        assert signals_after(page, ok, expect=1) == [["http_error", None, 503]]
    finally:
        context.close()


# ---- the extension and the service ---------------------------------------------------

TOAST = """text => { const t = document.createElement("div");
  t.setAttribute("role", "alert"); t.className = "toast-root";
  t.innerHTML = '<div class="flex items-center"><div class="whitespace-pre-wrap"></div></div>';
  t.querySelector("div div").textContent = text; document.body.appendChild(t); }"""


def failures_by_chat(server) -> dict[str, list[dict]]:
    """Unresolved failures per site conversation id."""
    site_ids = {c["id"]: c["conversation_id"] for c in server.api("GET", "/api/conversations", params={"limit": 500})["items"]}
    out: dict[str, list[dict]] = {}
    for f in server.api("GET", "/api/failures", params={"resolved": "false"})["items"]:
        out.setdefault(site_ids.get(f["conversation"]), []).append(f)
    return out


def stored_signals(server) -> list[tuple[str, int | None]]:
    """(kind, status) of every signal the service stored, in order (kinds are not secret)."""
    db = sqlite3.connect(f"file:{server.home / 'vault.db'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT kind, status FROM signals ORDER BY at").fetchall()
    finally:
        db.close()


def kinds(server) -> list[str]:
    return [k for k, _ in stored_signals(server) if k != "page_closed"]


def open_chat(site, server, conversation_id, turns=CHAT, *, saved=False):
    """A chat tab; `saved`: once the vault holds it (the extension has read the page)."""
    chat = site.open(conversation_id, turns=turns)
    if saved:
        ids = lambda: {c["conversation_id"] for c in server.api("GET", "/api/conversations")["items"]}  # noqa: E731
        wait_for(lambda: conversation_id in ids(), what=f"{conversation_id} saved")
    return chat


ERRORS = [  # (text, where the page shows it, failure kind)
    ("Something went wrong while generating the response. If this issue persists please contact us through our "
     "help center at help.openai.com.", "thread", "error_message"),
    ("There was an error generating a response", "thread", "error_message"),
    ("Network error", "toast", "error_message"),
    ("A network error occurred. Please check your connection and try again.", "thread", "error_message"),
    ("Message delivery timed out", "toast", "error_message"),
    ("Connection interrupted", "toast", "error_message"),
    ("Error in message stream", "thread", "error_message"),
    ("Internal Server Error", "toast", "error_message"),
    ("Bad gateway", "toast", "error_message"),
    ("ChatGPT is at capacity right now", "thread", "capacity"),
    ("Too many requests in 1 hour. Try again later.", "thread", "rate_limited"),
    ("You've reached our limit of messages per hour. Please try again later.", "thread", "rate_limited"),
    ("You've reached the current usage cap for GPT-4, please try again after 3:14 PM.", "toast", "rate_limited"),
    ("Rate limit reached for requests", "toast", "rate_limited"),
]


def failed_chats(server, expected: dict) -> dict[str, list[dict]]:
    """Unresolved failures per chat, once every chat of `expected` whose value is truthy has one."""

    def ready():
        got = failures_by_chat(server)
        return got if all(cid in got for cid, want in expected.items() if want) else None

    return wait_for(ready, what=f"failures of {sorted(c for c, w in expected.items() if w)}")


def test_error_messages_shown_become_failures_and_the_users_words_never_do(browser_ctx, server):
    site = chatgpt.serve(browser_ctx.context)
    expected = {}
    for n, (text, where, kind) in enumerate(ERRORS):
        chat = open_chat(site, server, f"err-{n}")
        if where == "thread":
            chat.error(text)  # ChatGPT's red block in the thread
        else:
            chat.page.evaluate(TOAST, text)  # a toast, outside the thread
        expected[f"err-{n}"] = (kind, text)

    # Error words in the user's prompt, draft and the answer are just words.
    chat = open_chat(site, server, "words-1", turns=[
        ("user", "Why does nginx say Bad gateway?"),
        ("assistant", "A **502 Bad gateway** or *Internal Server Error* means the upstream failed."),
    ])
    chat.type("Something went wrong, Too many requests, Network error")
    chat.send()
    chat.stream(["It is at capacity: ", "a rate limit ", "(Error in message stream)."])
    chat.type("usage cap?")
    chat.error("There was an error generating a response")  # the one real error, last
    expected["words-1"] = ("error_message", "There was an error generating a response")

    got = failed_chats(server, expected)
    for cid, (kind, text) in expected.items():
        assert [(f["kind"], f["detail"]) for f in got[cid]] == [(kind, text)], cid
    assert kinds(server) == ["error_message"] * len(expected)  # once each, no floods


@pytest.fixture
def conversation_route():
    """Answers the page's POST /backend-api/f/conversation with `answer(route)`."""

    def install(page, answer):
        page.route(f"**{CONVERSATION}", lambda route: answer(route) if route.request.method == "POST" else route.fallback())

    return install


def test_failed_requests_cut_streams_and_stalls(browser_ctx, server, conversation_route):
    browser_ctx.set_storage(stallSeconds=1)
    site = chatgpt.serve(browser_ctx.context)
    sse_reply = lambda name: dict(status=200, content_type="text/event-stream", body=STREAMS[name])  # noqa: E731
    answers = {  # conversation -> (how the request is answered, failure kind, detail)
        "http-500": (dict(status=500, body="{}"), "http_error", "HTTP 500: Internal Server Error"),
        "http-502": (dict(status=502, body="{}"), "http_error", "HTTP 502: Bad Gateway"),
        "http-503": (dict(status=503, body="{}"), "http_error", "HTTP 503: Service Unavailable"),
        "http-429": (dict(status=429, body="{}"), "rate_limited", "HTTP 429: Too Many Requests"),
        "stream-cut": (sse_reply("cut"), "stream_incomplete", "the answer's stream ended without its final event"),
        "stream-done": (sse_reply("done"), None, None),
    }
    for cid, (reply, _, _) in answers.items():
        chat = open_chat(site, server, cid)
        conversation_route(chat.page, lambda route, reply=reply: route.fulfill(**reply))
        chat.type("Go on")
        chat.send()
        chat.page.evaluate(REQUEST, [CONVERSATION, None])
        if cid == "stream-done":
            chat.stream(["All ", "done."])

    # An answer that streams, then stops coming.
    chat = open_chat(site, server, "stall-1")
    chat.type("Write the rest")
    chat.send()
    chat.stream(["Part one, ", "part two"], interval=0.3, finish=False)

    got = failed_chats(server, {**{cid: kind for cid, (_, kind, _) in answers.items()}, "stall-1": True})
    for cid, (_, kind, detail) in answers.items():
        assert [(f["kind"], f["detail"]) for f in got.get(cid, [])] == ([(kind, detail)] if kind else []), cid
    ((kind, detail),) = [(f["kind"], f["detail"]) for f in got["stall-1"]]
    assert kind == "stalled" and detail.startswith("no new text for ")
    assert sorted(stored_signals(server)) == sorted(
        [("http_error", s) for s in (500, 502, 503, 429)] + [("stalled", None), ("stream_incomplete", None)]
    )


# As ChatGPT's 2026 layout does: a scroll, and the turns out of view are taken out of the page.
SCROLL_EVICTS_TWO = """() => new Promise((done) => {
  document.body.style.minHeight = "300vh";
  addEventListener("scroll", () => {
    [...document.querySelectorAll("article")].slice(-2).forEach((a) => a.remove());
    done();
  }, {once: true});
  scrollBy(0, 200);
})"""


def test_vanished_turns_blank_page_and_log_out(browser_ctx, server):
    site = chatgpt.serve(browser_ctx.context)
    four = CHAT + [("user", "And the risks?"), ("assistant", "Three risks stand out.")]
    drop_last_two = "() => [...document.querySelectorAll('article')].slice(-2).forEach((a) => a.remove())"

    # Not failures: another chat opened in the same tab, and the user switching branches (a click, then turns go).
    chat = open_chat(site, server, "nav-1", turns=four, saved=True)
    chat.navigate("nav-2", turns=CHAT[:1], title="Other")
    chat = open_chat(site, server, "branch-1", turns=four, saved=True)
    chat.page.click("article >> nth=1")
    chat.page.evaluate(drop_last_two)
    # ...nor a chat that mounts only the turns in view, evicting the others as the person scrolls.
    open_chat(site, server, "scroll-1", turns=four, saved=True).page.evaluate(SCROLL_EVICTS_TWO)

    open_chat(site, server, "vanish-1", turns=four, saved=True).page.evaluate(drop_last_two)
    open_chat(site, server, "logout-1", saved=True).logout()
    open_chat(site, server, "blank-1", saved=True).blank()

    expected = {"vanish-1": ("turns_vanished", "4 turns shown before, 2 now"),
                "logout-1": ("logged_out", "the site shows its log-in screen"),
                "blank-1": ("blank_page", "the page shows no chat")}
    got = failed_chats(server, expected)
    assert {cid: [(f["kind"], f["detail"]) for f in fs] for cid, fs in got.items()} == {
        cid: [want] for cid, want in expected.items()
    }
    assert sorted(kinds(server)) == ["blank_page", "logged_out", "turns_vanished"]
    # The vault keeps the turns the page lost; turns edited away by the user do go.
    assert turn_count(server, "vanish-1") == 4
    wait_for(lambda: turn_count(server, "branch-1") == 2, what="the edited chat's shorter thread")


def turn_count(server, conversation_id: str) -> int:
    [item] = [c for c in server.api("GET", "/api/conversations")["items"] if c["conversation_id"] == conversation_id]
    return len(server.api("GET", f"/api/conversations/{item['id']}")["turns"])


# As ChatGPT does: the stop button aborts the conversation request.
ABORTABLE_REQUEST = """path => { const ctl = new AbortController();
  document.addEventListener("click", (e) => { if (e.target.closest('[data-testid="stop-button"]')) ctl.abort(); }, true);
  return {reply: fetch(path, {method: "POST", body: "{}", signal: ctl.signal}).then(() => "answered", (e) => e.name)}; }"""


def test_stop_pressed_by_the_user_is_no_failure(browser_ctx, server, conversation_route):
    browser_ctx.set_storage(stallSeconds=1)
    site = chatgpt.serve(browser_ctx.context)
    chat = open_chat(site, server, "stop-1", saved=True)
    conversation_route(chat.page, lambda route: None)  # the answer is on its way, slowly
    chat.type("Tell me everything")
    chat.send()
    chat.stream_start()
    chat.stream_chunk("Well, ")
    with chat.page.expect_request(f"**{CONVERSATION}"):
        request = chat.page.evaluate_handle(ABORTABLE_REQUEST, CONVERSATION)
    chat.stop()
    assert request.evaluate("r => r.reply") == "AbortError"
    # The network goes away and comes back: later signals, so the earlier ones are in.
    browser_ctx.context.set_offline(True)
    chat.page.wait_for_function("!navigator.onLine")
    browser_ctx.context.set_offline(False)
    wait_for(lambda: {"offline", "online"} <= set(kinds(server)), what="the offline and online signals")
    # Signals are listed by their arrival time in milliseconds: offline and online, queued
    # together on a loaded machine, can tie, so only the stop's place is asserted.
    stored = kinds(server)
    assert stored[0] == "user_stopped" and sorted(stored[1:]) == ["offline", "online"], stored
    assert failures_by_chat(server) == {}
