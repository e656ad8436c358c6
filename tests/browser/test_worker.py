"""The service worker delivers every frame to the real service, in order, exactly
once: while connected, across a service outage, across a worker stopped through
the DevTools protocol, with a full outbox, and after a `need_full` answer.

Frames are handed to the worker as a content script does (dv:frame). Each frame
carries a distinct draft, and the vault keeps the recent versions of a draft in
order (a version that merely extends the previous one replaces it, so these drafts
are numbered, never prefixes of each other), so the draft history shows order and
exactly-once delivery."""

import pytest

pytestmark = pytest.mark.browser

DRAFT_HISTORY = 20  # versions the vault keeps per conversation


def conversation(server, site_id: str) -> dict:
    items = server.api("GET", "/api/conversations", params={"limit": 500})["items"]
    (summary,) = [c for c in items if c["conversation_id"] == site_id]
    return server.api("GET", f"/api/conversations/{summary['id']}")


def drafts_of(detail: dict) -> list[str]:
    """Non-empty draft versions, oldest first."""
    return [d["text"] for d in reversed(detail["drafts"]) if d["text"]]


def edits(ctx, page_id: str, conv: str, label: str, n: int, turns_from: int) -> list[dict]:
    """A user rewriting the draft of a chat with `turns_from` turns, n times: one delta each."""
    return [ctx.snapshot(page_id, conversation_id=conv, turns_from=turns_from, draft=d) for d in versions(label, n)]


def versions(label: str, n: int, start: int = 0) -> list[str]:
    return [f"{label} {i:03d}" for i in range(start, start + n)]


def chat(ctx, page_id: str, conv: str, n_turns: int) -> dict:
    roles = ["user", "assistant"]
    return ctx.snapshot(page_id, conversation_id=conv,
                        turns=[(roles[i % 2], f"turn {i} of {conv}") for i in range(n_turns)], draft="")


def wait_all_saved(ctx, timeout=60):
    return ctx.wait_status(lambda s: s["state"] == "connected" and s["queued"] == 0, timeout, "an empty outbox")


def test_frames_reach_the_service_in_order_exactly_once(browser_ctx, server):
    ctx = browser_ctx
    ctx.wait_status(lambda s: s["state"] == "connected", what="a connection")
    frames = [chat(ctx, "page-order-1", "conv-order", 4)] + edits(ctx, "page-order-1", "conv-order", "order", 15, 4)
    answers = ctx.send_frames(frames)
    assert [a["seq"] for a in answers] == list(range(1, 17))
    status = wait_all_saved(ctx)
    assert status["lastAckAt"]
    detail = conversation(server, "conv-order")
    assert [t["text"] for t in detail["turns"]] == [f"turn {i} of conv-order" for i in range(4)]
    assert detail["draft"]["text"] == "order 014"
    assert drafts_of(detail) == versions("order", 15)
    assert ctx.sw_eval("chrome.action.getBadgeText({})") == ""


def test_service_outage_loses_nothing(browser_ctx, server):
    ctx = browser_ctx
    ctx.wait_status(lambda s: s["state"] == "connected", what="a connection")
    ctx.send_frames([chat(ctx, "page-outage-1", "conv-outage", 2)])
    wait_all_saved(ctx)

    server.stop()
    ctx.send_frames(edits(ctx, "page-outage-1", "conv-outage", "before", 6, 2))
    # The user sends; an answer streams in while the service is away; the user types on.
    ctx.send_frames([ctx.snapshot("page-outage-1", conversation_id="conv-outage", turns_from=2, streaming=True,
                                  turns=[("user", "question"), ("assistant", "half an ans")], draft="")])
    ctx.send_frames([ctx.snapshot("page-outage-1", conversation_id="conv-outage", turns_from=3,
                                  turns=[("assistant", "half an answer, finished")], draft="")])
    ctx.send_frames(edits(ctx, "page-outage-1", "conv-outage", "after", 6, 4))
    status = ctx.wait_status(lambda s: s["queued"] == 14 and s["state"] != "connected", what="14 queued frames")
    assert status["state"] == "offline"
    assert ctx.sw_eval("chrome.action.getBadgeText({})") == "14"

    server.start()
    wait_all_saved(ctx)
    detail = conversation(server, "conv-outage")
    assert [t["text"] for t in detail["turns"]] == [
        "turn 0 of conv-outage", "turn 1 of conv-outage", "question", "half an answer, finished"]
    assert detail["draft"]["text"] == "after 005"
    assert drafts_of(detail) == versions("before", 6) + versions("after", 6)
    assert ctx.sw_eval("chrome.action.getBadgeText({})") == ""


def test_worker_stopped_mid_stream_loses_nothing(browser_ctx, server):
    ctx = browser_ctx
    ctx.wait_status(lambda s: s["state"] == "connected", what="a connection")
    ctx.send_frames([chat(ctx, "page-stop-1", "conv-stop", 2)] + edits(ctx, "page-stop-1", "conv-stop", "stop", 8, 2))
    ctx.sw_eval("self.beforeStop = true")
    ctx.stop_service_worker()  # frames may be in flight, unacked
    more = [ctx.snapshot("page-stop-1", conversation_id="conv-stop", turns_from=2, draft=d)
            for d in versions("stop", 8, start=8)]
    ctx.send_frames(more)
    assert ctx.sw_eval("self.beforeStop === undefined"), "the worker was not restarted"

    # Stopped again while the service is away: the outbox alone carries the frames.
    server.stop()
    ctx.send_frames([ctx.snapshot("page-stop-1", conversation_id="conv-stop", turns_from=2, draft="after both")])
    ctx.stop_service_worker()
    server.start()
    ctx.wait_status(lambda s: s["state"] == "connected", what="a connection")  # wakes the worker
    wait_all_saved(ctx)
    detail = conversation(server, "conv-stop")
    assert len(detail["turns"]) == 2
    assert drafts_of(detail) == versions("stop", 16)[-19:] + ["after both"]


def test_full_outbox_is_compacted_keeping_every_page_and_the_newest_drafts(browser_ctx, server):
    ctx = browser_ctx
    ctx.set_storage(outboxLimits={"frames": 12, "bytes": 20 * 1024 * 1024})
    ctx.wait_status(lambda s: s["state"] == "connected", what="a connection")
    server.stop()
    frames = []
    for page in ("a", "b"):
        conv = f"conv-cap-{page}"
        frames.append(chat(ctx, f"page-cap-{page}", conv, 2))
        frames += edits(ctx, f"page-cap-{page}", conv, f"early {page}", 10, 2)
        frames.append(ctx.snapshot(f"page-cap-{page}", conversation_id=conv, turns_from=2,
                                   turns=[("user", f"sent by {page}")], draft=""))
        frames += edits(ctx, f"page-cap-{page}", conv, f"late {page}", 5, 3)
    ctx.send_frames(frames)
    status = ctx.status()
    assert status["queued"] <= 12, status
    server.start()
    wait_all_saved(ctx)
    for page in ("a", "b"):
        detail = conversation(server, f"conv-cap-{page}")
        assert [t["text"] for t in detail["turns"]] == [
            f"turn 0 of conv-cap-{page}", f"turn 1 of conv-cap-{page}", f"sent by {page}"]
        assert detail["draft"]["text"] == f"late {page} 004"


def test_need_full_asks_the_page_for_a_full_snapshot(browser_ctx, server):
    ctx = browser_ctx
    ctx.wait_status(lambda s: s["state"] == "connected", what="a connection")
    # A delta for turns the vault never got (say the page's first snapshot was lost).
    ctx.send_frames([ctx.snapshot("page-full-1", conversation_id="conv-full", turns_from=3,
                                  turns=[("assistant", "only the tail")], draft="tail draft")])
    ctx.wait_status(lambda s: s["queued"] == 0, what="the refused frame dropped")
    ctx.wait_status(lambda s: ctx.resend_requests() == ["page-full-1"], what="a dv:resend-full request")
    # The page answers with its full state, as content/capture.js does.
    ctx.send_frames([ctx.snapshot("page-full-1", conversation_id="conv-full",
                                  turns=[("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "only the tail")],
                                  draft="tail draft")])
    wait_all_saved(ctx)
    detail = conversation(server, "conv-full")
    assert [t["text"] for t in detail["turns"]] == ["q1", "a1", "q2", "only the tail"]
    assert detail["draft"]["text"] == "tail draft"


def test_browser_restart_keeps_the_outbox(browser_ctx, server):
    ctx = browser_ctx
    ctx.wait_status(lambda s: s["state"] == "connected", what="a connection")
    server.stop()
    frames = [chat(ctx, "page-restart-1", "conv-restart", 2)] + edits(ctx, "page-restart-1", "conv-restart", "restart", 6, 2)
    ctx.send_frames(frames)
    ctx.wait_status(lambda s: s["queued"] == 7, what="7 queued frames")
    ctx.restart_browser()
    server.start()
    wait_all_saved(ctx)
    detail = conversation(server, "conv-restart")
    assert [t["text"] for t in detail["turns"]] == ["turn 0 of conv-restart", "turn 1 of conv-restart"]
    assert drafts_of(detail) == versions("restart", 6)
    # Numbering goes on after the restart instead of starting again at 1.
    assert ctx.send_frames([ctx.snapshot("page-restart-2", conversation_id="conv-restart-2", draft="x")])[0]["seq"] == 8


def test_tab_closed_mid_answer_is_reported_by_the_worker(browser_ctx, server):
    """A tab that goes away without a word from its page (the worker sees
    chrome.tabs.onRemoved) becomes a tab_closed failure when an answer was streaming."""
    ctx = browser_ctx
    ctx.wait_status(lambda s: s["state"] == "connected", what="a connection")
    ctx.send_frames([ctx.snapshot("page-closed-1", conversation_id="conv-closed", streaming=True,
                                  turns=[("user", "long question"), ("assistant", "half an ans")])])
    wait_all_saved(ctx)
    ctx.producer().close()  # the tab that sent the frames

    def failures():
        return server.api("GET", "/api/failures", params={"resolved": "false"})["items"]

    ctx.wait_status(lambda s: failures(), what="a failure")
    detail = conversation(server, "conv-closed")
    assert [(f["conversation"], f["kind"]) for f in failures()] == [(detail["id"], "tab_closed")]
