"""A site back after failures ("Send again"): the detector and vault in-process, then the
`recovered` frame and `recovered_at` through a real service, and the status-page switch."""

import json

import pytest

from draftvault import auth, config, protocol
from draftvault.detector import Detector
from draftvault.statuspage import StatusCheck
from frames import encode, signal, snapshot
from sitepages.base import wait_for
from test_statuspage import StatusSite

QUESTION = [("user", "How do I sort a list?")]
ANSWERED = [*QUESTION, ("assistant", "Use sorted().")]


class Pages:
    """Frames into the vault, then to the detector, as ingest does."""

    def __init__(self, vault):
        self.vault, self.detector, self.seq = vault, Detector(vault), 0

    def send(self, make, *args, **kw):
        self.seq += 1
        frame = make(self.seq, *args, **kw)
        return self.detector.observe("client-recovery", frame, self.vault.apply("client-recovery", frame))

    def fail(self, page, conv, site="chatgpt"):
        self.send(snapshot, QUESTION, page=page, conv=conv, site=site, streaming=True)
        return self.send(signal, "error_message", page=page, conv=conv, site=site, detail="Something went wrong")

    def answer(self, page, conv, site="chatgpt"):
        """A whole answer on `page`: streaming, then finished. Returns what the finish pushes."""
        self.send(snapshot, QUESTION, page=page, conv=conv, site=site, streaming=True)
        return self.send(snapshot, ANSWERED, page=page, conv=conv, site=site)


@pytest.fixture
def pages(vault):
    return Pages(vault)


def test_an_answer_completed_in_another_chat_recovers_the_sites_failures(pages, vault):
    (failure,) = pages.fail("page-failed-1", "conv-failed")
    (claude_failure,) = pages.fail("page-claude-1", "conv-claude", site="claude")
    assert pages.detector.recovery.annotate(vault.list_failures())[0].recovered_at is None

    (recovered,) = pages.answer("page-other-1", "conv-other")
    assert isinstance(recovered, protocol.Recovered)
    assert (recovered.site, recovered.via, recovered.failures) == ("chatgpt", "answer", [failure.id])
    listed = {f.id: f for f in pages.detector.recovery.annotate(vault.list_failures(resolved=False))}
    assert listed[failure.id].recovered_at == recovered.recovered_at
    assert listed[claude_failure.id].recovered_at is None  # Claude has not answered yet
    assert not listed[failure.id].resolved  # the lost prompt is still lost: only the person sends it

    # Nothing new failed on ChatGPT: its next answers announce nothing again.
    assert pages.answer("page-other-2", "conv-other-2") == []
    (claude_back,) = pages.answer("page-claude-2", "conv-claude-2", site="claude")
    assert (claude_back.site, claude_back.failures) == ("claude", [claude_failure.id])


def test_the_failed_chat_answering_itself_resolves_it_and_announces_nothing(pages, vault):
    pages.fail("page-failed-1", "conv-failed")
    assert pages.answer("page-failed-1", "conv-failed") == []  # a whole new answer in the same chat
    assert [f.resolution for f in vault.list_failures()] == ["completed"]


def test_a_new_failure_after_a_recovery_waits_for_the_next_one(pages, vault):
    pages.fail("page-a", "conv-a")
    pages.answer("page-b", "conv-b")
    (second,) = pages.fail("page-c", "conv-c")
    (recovered,) = pages.answer("page-d", "conv-d")
    assert second.id in recovered.failures
    resolved_by_user = recovered.failures[0]
    vault.resolve_failure(resolved_by_user, "dismissed")
    assert resolved_by_user not in {f.id for f in pages.detector.recovery.annotate(vault.list_failures(resolved=False))}


def test_recovered_frame_is_pushed_after_the_acks_and_listed_by_the_api(server):
    with server.connect("client-recovery-1") as (ws, _):
        def send(frame):
            ws.send(encode(frame))

        send(snapshot(1, QUESTION, page="page-failed-1", conv="conv-failed", streaming=True))
        send(signal(2, "error_message", page="page-failed-1", conv="conv-failed", detail="Something went wrong"))
        send(snapshot(3, QUESTION, page="page-other-1", conv="conv-other", streaming=True))
        send(snapshot(4, ANSWERED, page="page-other-1", conv="conv-other"))
        frames = []
        while not any(isinstance(f, protocol.Recovered) for f in frames):
            frames.append(protocol.decode_server_frame(ws.recv(timeout=10)))
    # After the ack of the frame that showed the answer complete, as failures are.
    assert 4 in [f.seq for f in frames if isinstance(f, protocol.Ack)]
    failure = next(f for f in frames if isinstance(f, protocol.Failure))
    recovered = frames[-1]
    assert (recovered.site, recovered.via, recovered.failures) == ("chatgpt", "answer", [failure.id])
    (listed,) = server.api("GET", "/api/failures", params={"resolved": "false"})["items"]
    assert (listed["id"], listed["recovered_at"]) == (failure.id, recovered.recovered_at)


def test_status_page_turning_operational_recovers_its_site(tmp_path):
    status = StatusSite()
    try:
        status.serve("outage-2020-04-02.summary.json")
        config.save_settings(tmp_path, config.Settings(statuspage_check=True, statuspage_url=status.url))
        back = []
        check = StatusCheck(tmp_path, back.append)
        check.poller.poll()
        assert check.outage("chatgpt") and not check.outage("claude")  # OpenAI's page speaks for ChatGPT only
        assert back == []
        status.serve("summary-2019-12-30.json")
        check.poller.poll()
        assert back == ["chatgpt"] and not check.outage("chatgpt")
        check.poller.poll()
        assert back == ["chatgpt"]  # once per outage
    finally:
        status.httpd.shutdown()
        status.httpd.server_close()


def test_status_check_switch_through_the_api(server):
    state = server.api("GET", "/api/settings/status-check")
    assert state == {"enabled": False, "url": "https://status.openai.com/api/v2/summary.json",
                     "host": "status.openai.com", "site": "chatgpt", "interval_s": 60.0}

    status = StatusSite()
    try:
        status.serve("summary-2019-12-30.json")
        # Where it polls stays the settings file's (an older file's statuspage_url); the switch turns it on.
        settings = config.load_settings(server.home)
        config.save_settings(server.home, config.Settings(statuspage_url=status.url, statuspage_check=False,
                                                          allowed_origins=settings.allowed_origins))
        on = server.api("PUT", "/api/settings/status-check", json={"enabled": True})
        assert (on["enabled"], on["host"]) == (True, "127.0.0.1")
        wait_for(lambda: status.hits, what="the first poll of the status page")
        assert json.loads(config.settings_path(server.home).read_bytes())["statuspage_check"] is True

        assert server.request("PUT", "/api/settings/status-check", json={"enabled": "yes"}).status == 400
        assert server.request("PUT", "/api/settings/status-check", json={"enabled": False}, token=None).status == 401
        off = server.api("PUT", "/api/settings/status-check", json={"enabled": False})
        assert off["enabled"] is False and config.load_settings(server.home).statuspage_on is False
    finally:
        status.httpd.shutdown()
        status.httpd.server_close()


def test_read_only_token_cannot_switch_the_status_check(server):
    db = auth.connect(server.home)
    token = auth.create_token(db, "reader", read_only=True)
    db.conn.close()
    assert server.request("PUT", "/api/settings/status-check", json={"enabled": True}, token=token).status == 403
    assert server.api("GET", "/api/settings/status-check", token=token)["enabled"] is False


def test_status_page_back_to_operational_pushes_recovered_through_the_service(server):
    status = StatusSite()
    try:
        status.serve("outage-2020-04-02.summary.json")
        settings = config.load_settings(server.home)
        config.save_settings(server.home, config.Settings(
            statuspage_url=status.url, statuspage_interval=0.2, allowed_origins=settings.allowed_origins))
        assert server.api("PUT", "/api/settings/status-check", json={"enabled": True})["enabled"] is True
        wait_for(lambda: status.hits, what="the first poll")
        with server.connect("client-recovery-2") as (ws, _):
            ws.send(encode(snapshot(1, QUESTION, page="page-failed-2", conv="conv-failed-2", streaming=True)))
            ws.send(encode(signal(2, "http_error", page="page-failed-2", conv="conv-failed-2", status=503)))
            frames = [protocol.decode_server_frame(ws.recv(timeout=10)) for _ in range(3)]
            failure = next(f for f in frames if isinstance(f, protocol.Failure))
            assert failure.provider_outage is True  # the page said outage when it failed

            status.serve("summary-2019-12-30.json")  # all systems operational again
            while not isinstance(frame := protocol.decode_server_frame(ws.recv(timeout=10)), protocol.Recovered):
                pass
        assert (frame.site, frame.via, frame.failures) == ("chatgpt", "status_page", [failure.id])
    finally:
        server.api("PUT", "/api/settings/status-check", json={"enabled": False})
        status.httpd.shutdown()
        status.httpd.server_close()
