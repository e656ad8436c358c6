"""The failure detector against a real vault on disk; only the clock is a stand-in."""

import pytest

import frames
from draftvault import protocol
from draftvault.detector import SIGNAL_FAILURES, Detector

STALL, SILENCE = 30.0, 10.0


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class Browser:
    """Sends frames as the extension does: into the vault first, then to the detector."""

    def __init__(self, vault, detector, client_id="client-one"):
        self.vault, self.detector, self.client_id = vault, detector, client_id
        self.seq = vault.last_seq(client_id)
        self.turns: dict[str, list[tuple[str, str]]] = {}
        self.sites: dict[str, str | None] = {}

    def _frame(self, frame) -> list[protocol.Failure]:
        applied = self.vault.apply(self.client_id, frame)
        return self.detector.observe(self.client_id, frame, applied)

    def snap(self, page, *, conv="conv-site-1", add=(), answer=None, streaming=False, draft=None, title="Chat"):
        """One snapshot of `page`: `add` appends turns, `answer` replaces/extends the last assistant turn."""
        turns = self.turns.setdefault(page, [])
        self.sites[page] = conv
        turns.extend(add)
        if answer is not None:
            if turns and turns[-1][0] == "assistant":
                turns[-1] = ("assistant", answer)
            else:
                turns.append(("assistant", answer))
        self.seq += 1
        frame = frames.snapshot(self.seq, turns, page=page, conv=conv, title=title, draft=draft, streaming=streaming)
        return self._frame(frame)

    def signal(self, page, kind, detail=None, status=None, conv=...):
        self.seq += 1
        conv = self.sites.get(page) if conv is ... else conv
        frame = frames.signal(self.seq, kind, page=page, conv=conv, url="https://chatgpt.com/", detail=detail,
                              status=status)
        return self._frame(frame)

    def ping(self, *pages):
        return self.detector.ping(self.client_id, list(pages))

    def streaming(self, page, conv="conv-site-1", text="The answer starts"):
        """A page whose user asked and whose answer is being written."""
        self.snap(page, conv=conv, add=[("user", "Explain monads.")], draft="")
        return self.snap(page, conv=conv, answer=text, streaming=True, draft="")


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def detector(vault, clock):
    return Detector(vault, stall_after_s=STALL, silence_after_s=SILENCE, clock=clock)


@pytest.fixture
def browser(vault, detector):
    return Browser(vault, detector)


def open_failures(vault):
    return [(f.kind, f.conversation) for f in vault.list_failures(resolved=False)]


PAGE = "page-0001"
PAGE2 = "page-0002"

ERROR_TEXTS = [
    ("Something went wrong. If this issue persists please contact us through our help center.", "error_message"),
    ("There was an error generating a response", "error_message"),
    ("Network error", "error_message"),
    ("A network error occurred. Please check your connection and try again.", "error_message"),
    ("Message delivery timed out", "error_message"),
    ("Connection interrupted", "error_message"),
    ("Error in message stream", "error_message"),
    ("Internal Server Error", "error_message"),
    ("Bad gateway", "error_message"),
    ("ChatGPT is at capacity right now", "capacity"),
    ("Capacity exceeded", "capacity"),
    ("Too many requests in 1 hour. Try again later.", "rate_limited"),
    ("You've reached our limit of messages per hour. Please try again later.", "rate_limited"),
    ("You've reached the current usage cap for GPT-4, please try again after 3:40 PM.", "rate_limited"),
    ("Rate limit reached for requests", "rate_limited"),
    # ChatGPT's notices in place of an answer, 2025-2026
    ("Message delivery timed out. Please try again.", "error_message"),
    ("You've reached the maximum length for this conversation, but you can keep talking by starting a new chat.",
     "error_message"),
    ("Connection interrupted Waiting for the complete answer", "error_message"),
    ("Resume stream unavailable", "error_message"),
    ("Stream cache expired.", "error_message"),
    ("Thinking failed", "error_message"),
]


@pytest.mark.parametrize("text, kind", ERROR_TEXTS, ids=[t for t, _ in ERROR_TEXTS])
def test_error_message_text_gives_its_kind(browser, vault, detector, text, kind):
    browser.streaming(PAGE)
    conversation = vault.conversation_for_page(PAGE)
    (failure,) = browser.signal(PAGE, "error_message", detail=text)
    assert (failure.kind, failure.conversation, failure.detail) == (kind, conversation, text)
    assert (failure.site, failure.title, failure.page_id, failure.provider_outage) == ("chatgpt", "Chat", PAGE, False)
    assert open_failures(vault) == [(kind, conversation)]
    (stored,) = vault.list_failures(resolved=False)
    assert stored.id == failure.id and stored.detected_at == failure.detected_at and not stored.resolved
    assert detector.state(PAGE) == "failed"


@pytest.mark.parametrize("status, kind", [(500, "http_error"), (502, "http_error"), (503, "http_error"), (429, "rate_limited")])
def test_http_error_of_the_conversation_request(browser, vault, status, kind):
    browser.streaming(PAGE)
    (failure,) = browser.signal(PAGE, "http_error", detail="POST /backend-api/conversation", status=status)
    assert failure.kind == kind
    assert failure.detail == f"HTTP {status}: POST /backend-api/conversation"
    assert [f.kind for f in vault.list_failures(resolved=False)] == [kind]


@pytest.mark.parametrize("kind", ["stream_incomplete", "stalled", "turns_vanished", "blank_page", "logged_out"])
def test_page_signals_that_are_failures(browser, vault, kind):
    browser.streaming(PAGE)
    (failure,) = browser.signal(PAGE, kind, detail="seen by the page")
    assert failure.kind == kind
    assert [f.kind for f in vault.list_failures(resolved=False)] == [kind]


def test_every_signal_kind_is_in_the_one_table():
    import typing

    assert set(SIGNAL_FAILURES) == set(typing.get_args(protocol.SignalKind))
    failure_kinds = set(typing.get_args(protocol.FailureKind))
    mapped = {k for k in SIGNAL_FAILURES.values() if k} | {"rate_limited", "capacity", "tab_closed"}
    assert mapped == failure_kinds  # every failure kind has its source


@pytest.mark.parametrize("kind", ["adapter_broken", "online", "user_stopped"])
def test_signals_that_are_not_failures(browser, vault, kind):
    browser.streaming(PAGE)
    assert browser.signal(PAGE, kind) == []
    assert vault.list_failures() == []


def test_offline_only_matters_mid_answer_or_with_a_draft(browser, vault):
    browser.snap(PAGE, add=[("user", "Hi"), ("assistant", "Hello")], draft="")
    assert browser.signal(PAGE, "offline") == []  # finished chat, nothing typed
    browser.snap(PAGE, draft="half a thought")
    assert [f.kind for f in browser.signal(PAGE, "offline")] == ["offline"]
    browser.streaming(PAGE2, conv="conv-site-2")
    assert [f.kind for f in browser.signal(PAGE2, "offline")] == ["offline"]
    assert sorted(f.kind for f in vault.list_failures()) == ["offline", "offline"]


def test_user_stop_is_never_a_failure(browser, vault, detector):
    browser.streaming(PAGE)
    assert browser.signal(PAGE, "user_stopped") == []
    assert detector.state(PAGE) == "idle"
    # what the aborted stream reports afterwards is not a failure either
    assert browser.signal(PAGE, "stream_incomplete") == []
    assert browser.snap(PAGE, answer="The answer starts and stops", streaming=False) == []
    assert browser.signal(PAGE, "page_closed") == []
    assert vault.list_failures() == []


def test_stop_applies_to_that_answer_only(browser, vault):
    browser.streaming(PAGE)
    browser.signal(PAGE, "user_stopped")
    browser.snap(PAGE, add=[("user", "Try again")], draft="")
    browser.snap(PAGE, answer="Second", streaming=True)
    assert [f.kind for f in browser.signal(PAGE, "stream_incomplete")] == ["stream_incomplete"]


def test_page_closed_mid_answer_is_tab_closed(browser, vault, detector):
    browser.streaming(PAGE)
    (failure,) = browser.signal(PAGE, "page_closed")
    assert failure.kind == "tab_closed" and "streaming" in failure.detail
    assert detector.state(PAGE) is None


def test_page_closed_with_unsent_draft_is_tab_closed(browser, vault):
    browser.snap(PAGE, add=[("user", "Hi"), ("assistant", "Hello")], draft="")
    browser.snap(PAGE, draft="a long prompt I was writing")
    (failure,) = browser.signal(PAGE, "page_closed")
    assert failure.kind == "tab_closed" and "draft" in failure.detail
    detail = vault.get_conversation(failure.conversation)
    assert detail.draft.text == "a long prompt I was writing"  # what the failure hands back
    assert [t.text for t in detail.turns] == ["Hi", "Hello"]


@pytest.mark.parametrize("draft", ["", None, "  \n "])
def test_finished_chat_closed_is_nothing(browser, vault, clock, draft):
    browser.snap(PAGE, add=[("user", "Hi")], draft="")
    browser.snap(PAGE, answer="Hel", streaming=True)
    browser.snap(PAGE, answer="Hello there", streaming=False, draft=draft)
    assert browser.signal(PAGE, "page_closed") == []
    browser.snap(PAGE2, conv="conv-site-2", add=[("user", "Q"), ("assistant", "A")], draft="")
    browser.ping()  # PAGE2 gone from the browser's open pages
    clock.advance(SILENCE + 1)
    assert browser.detector.tick() == []
    assert vault.list_failures() == []


def test_tab_gone_from_pings_mid_answer(browser, vault, clock, detector):
    browser.streaming(PAGE)
    browser.snap(PAGE2, conv="conv-site-2", add=[("user", "Q"), ("assistant", "A")], draft="")
    assert browser.ping(PAGE, PAGE2) == []
    clock.advance(SILENCE - 1)
    assert browser.ping(PAGE2) == []  # PAGE missing from now on
    clock.advance(SILENCE - 1)
    assert detector.tick() == []  # not silent long enough yet
    clock.advance(2)
    (failure,) = detector.tick()
    assert failure.kind == "tab_closed" and failure.page_id == PAGE
    assert detector.tick() == [] and detector.state(PAGE) is None
    assert detector.state(PAGE2) == "idle"


def test_tab_back_in_pings_is_not_silent(browser, vault, clock, detector):
    browser.streaming(PAGE)
    browser.ping()
    clock.advance(SILENCE - 1)
    browser.ping(PAGE)
    clock.advance(SILENCE - 1)
    assert detector.tick() == []
    assert vault.list_failures() == []


def test_browser_gone_with_a_draft(browser, vault, clock, detector):
    browser.snap(PAGE, add=[("user", "Hi"), ("assistant", "Hello")], draft="typed but never sent")
    detector.disconnected(browser.client_id)
    clock.advance(SILENCE - 1)
    assert detector.tick() == []
    clock.advance(2)
    (failure,) = detector.tick()
    assert failure.kind == "tab_closed" and "draft" in failure.detail


def test_browser_back_in_time_is_not_silent(browser, vault, clock, detector):
    browser.streaming(PAGE)
    detector.disconnected(browser.client_id)
    clock.advance(SILENCE - 1)
    browser.ping(PAGE)  # reconnected
    clock.advance(SILENCE - 1)
    assert detector.tick() == []
    assert vault.list_failures() == []


def test_stream_without_new_text_is_stalled(browser, vault, clock, detector):
    browser.streaming(PAGE)
    for i in range(5):  # new text keeps it alive, however long it takes
        clock.advance(STALL - 1)
        browser.snap(PAGE, answer="The answer starts" + " more" * (i + 1), streaming=True)
        browser.ping(PAGE)
        assert detector.tick() == []
    clock.advance(STALL - 1)
    browser.snap(PAGE, draft="typing meanwhile is not progress", streaming=True)
    clock.advance(2)
    (failure,) = detector.tick()
    assert failure.kind == "stalled"
    assert detector.tick() == []
    assert [f.kind for f in vault.list_failures()] == ["stalled"]


def test_one_open_failure_per_conversation_and_kind(browser, vault):
    browser.streaming(PAGE)
    assert len(browser.signal(PAGE, "error_message", detail="Something went wrong")) == 1
    assert browser.signal(PAGE, "error_message", detail="Something went wrong") == []
    # a second tab of the same conversation adds nothing either
    browser.snap(PAGE2, add=[("user", "Explain monads.")], streaming=True)
    assert browser.signal(PAGE2, "error_message", detail="Something went wrong") == []
    # another kind is another failure
    assert [f.kind for f in browser.signal(PAGE, "http_error", status=500)] == ["http_error"]
    assert sorted(f.kind for f in vault.list_failures()) == ["error_message", "http_error"]
    # once the user dismissed it, the next error is news again
    (first,) = [f for f in vault.list_failures() if f.kind == "error_message"]
    vault.resolve_failure(first.id, "dismissed")
    assert len(browser.signal(PAGE, "error_message", detail="Something went wrong")) == 1


def test_resent_frame_is_not_observed_twice(browser, vault, detector):
    browser.streaming(PAGE)
    frame = frames.signal(browser.seq + 1, "error_message", page=PAGE, conv="conv-site-1", url="https://chatgpt.com/",
                          detail="Something went wrong")
    assert len(detector.observe(browser.client_id, frame, vault.apply(browser.client_id, frame))) == 1
    vault.resolve_failures(vault.conversation_for_page(PAGE), "dismissed")
    assert detector.observe(browser.client_id, frame, vault.apply(browser.client_id, frame)) == []


def test_resolves_itself_when_a_later_answer_completes(browser, vault, detector):
    browser.streaming(PAGE)
    (failure,) = browser.signal(PAGE, "error_message", detail="There was an error generating a response")
    # the page's own last snapshot after the error: not a completion
    browser.snap(PAGE, answer="The answer starts, and", streaming=False)
    assert [f.id for f in vault.list_failures(resolved=False)] == [failure.id]
    # the user presses "Regenerate": a new answer streams and finishes
    browser.snap(PAGE, answer="A", streaming=True)
    assert detector.state(PAGE) == "streaming"
    browser.snap(PAGE, answer="A monad is a monoid in the category of endofunctors.", streaming=False)
    assert vault.list_failures(resolved=False) == []
    (done,) = vault.list_failures(resolved=True)
    assert (done.id, done.resolution) == (failure.id, "completed")
    assert detector.state(PAGE) == "idle"


def test_a_new_answer_too_quick_to_see_streaming_resolves(browser, vault):
    browser.streaming(PAGE)
    browser.signal(PAGE, "http_error", status=502)
    browser.snap(PAGE, answer="The answer starts, and more", streaming=False)  # the same answer: still failed
    assert vault.list_failures(resolved=False) != []
    # the user retried; the whole new answer arrived between two snapshots
    browser.snap(PAGE, add=[("user", "Again?"), ("assistant", "Yes: a monad is ...")], streaming=False)
    assert [(f.kind, f.resolution) for f in vault.list_failures()] == [("http_error", "completed")]


def test_stalled_answer_that_goes_on_resolves(browser, vault):
    browser.streaming(PAGE)
    browser.signal(PAGE, "stalled", detail="no new text for 30 s")
    browser.snap(PAGE, answer="The answer starts, finally", streaming=True)
    assert vault.list_failures(resolved=False) != []
    browser.snap(PAGE, answer="The answer starts, finally, and ends.", streaming=False)
    assert [(f.kind, f.resolution) for f in vault.list_failures()] == [("stalled", "completed")]


def test_reloaded_tab_showing_the_whole_answer_resolves(browser, vault):
    browser.streaming(PAGE)
    (failure,) = browser.signal(PAGE, "page_closed")
    assert failure.kind == "tab_closed"
    browser.turns[PAGE2] = list(browser.turns[PAGE])
    browser.snap(PAGE2, answer="The answer starts", streaming=False)  # no further: still failed
    assert vault.list_failures(resolved=False) != []
    browser.turns[PAGE2] = list(browser.turns[PAGE])
    browser.snap(PAGE2, answer="The answer starts and, on the server, went on to the end.", streaming=False)
    assert [(f.kind, f.resolution) for f in vault.list_failures()] == [("tab_closed", "completed")]


def test_new_chat_failure_attaches_to_the_page_conversation(browser, vault):
    browser.snap(PAGE, conv=None, draft="")
    assert browser.signal(PAGE, "logged_out") == []  # a blank new chat: nothing to lose
    browser.snap(PAGE, conv=None, draft="my first prompt, not sent yet")
    page_conversation = vault.conversation_for_page(PAGE)
    assert page_conversation is not None
    (failure,) = browser.signal(PAGE, "error_message", detail="Something went wrong")
    assert failure.conversation == page_conversation
    assert vault.get_conversation(page_conversation).draft.text == "my first prompt, not sent yet"


def test_provider_outage_labels_failures(vault, clock):
    detector = Detector(vault, silence_after_s=SILENCE, clock=clock, outage=lambda site: True)
    browser = Browser(vault, detector)
    browser.streaming(PAGE)
    (failure,) = browser.signal(PAGE, "http_error", status=503)
    assert failure.provider_outage is True
    assert vault.list_failures()[0].provider_outage is True


def test_states_of_a_page(browser, detector):
    assert detector.state(PAGE) is None
    browser.snap(PAGE, add=[("user", "Hi"), ("assistant", "Hello")], draft="")
    assert detector.state(PAGE) == "idle"
    browser.snap(PAGE, draft="next question")
    assert detector.state(PAGE) == "draft_pending"
    browser.snap(PAGE, add=[("user", "next question")], draft="")
    browser.snap(PAGE, answer="Wor", streaming=True)
    assert detector.state(PAGE) == "streaming"
    browser.signal(PAGE, "http_error", status=502)
    assert detector.state(PAGE) == "failed"
    browser.signal(PAGE, "page_closed")
    assert detector.state(PAGE) is None


def test_conversation_deleted_while_its_page_is_open(browser, vault):
    browser.streaming(PAGE)
    assert vault.delete_conversation(vault.conversation_for_page(PAGE))
    assert browser.signal(PAGE, "error_message", detail="Something went wrong", conv=None) == []
    # the page's next snapshot saves it anew, and its failures count again
    browser.snap(PAGE, answer="The answer starts again", streaming=True)
    (failure,) = browser.signal(PAGE, "http_error", status=500)
    assert failure.conversation == vault.conversation_for_page(PAGE)
