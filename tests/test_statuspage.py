"""The status-page poller on real Statuspage answers, fetched over HTTP from a local server."""

import http.server
import os
import threading
import time
from pathlib import Path

import pytest

from draftvault.statuspage import Outage, Poller, parse_summary

REAL = Path(
    os.environ.get("DRAFTVAULT_REAL_FIXTURES")
    or Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "real"
) / "statuspage"


class StatusSite:
    """A local HTTP server answering /summary.json with whatever `body` and `status` say."""

    def __init__(self):
        site = self
        self.body = b"{}"
        self.status = 200
        self.hits = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                site.hits += 1
                self.send_response(site.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(site.body)))
                self.end_headers()
                self.wfile.write(site.body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/summary.json"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def serve(self, name: str):
        self.body = (REAL / name).read_bytes()
        self.status = 200


@pytest.fixture
def site():
    s = StatusSite()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def test_all_operational_is_no_outage(site):
    site.serve("summary-2019-12-30.json")
    poller = Poller(site.url)
    assert poller.poll() is None
    assert poller.outage() is False
    assert poller.last_error is None


def test_major_outage_is_confirmed_with_components(site):
    site.serve("outage-2020-04-02.summary.json")
    poller = Poller(site.url)
    outage = poller.poll()
    assert poller.outage() is True
    assert outage.description == "Partial System Outage"
    assert "Git Operations" in outage.components
    assert "GitHub Actions" in outage.components  # partial_outage counts
    assert "GitHub Pages" not in outage.components  # operational
    assert outage.incidents == ["Incident on 2020-04-02 20:20 UTC"]


def test_unresolved_incidents_on_components_are_an_outage(site):
    site.serve("twilio_incident.summary.json")
    poller = Poller(site.url)
    outage = poller.poll()
    assert poller.outage() is True
    assert outage.components == []  # only degraded_performance there
    assert outage.incidents == [
        "SMS Delivery Delays to Mozambique Movitel",
        "SMS Delivery Delays from Subset of Twilio Short Codes to US Sprint",
    ]


def test_maintenance_is_not_an_outage(site):
    site.serve("cloudamqp_maintenance.summary.json")
    poller = Poller(site.url)
    assert poller.poll() is None
    assert poller.outage() is False


def test_unreachable_or_broken_page_confirms_nothing(site):
    site.serve("outage-2020-04-02.summary.json")
    poller = Poller(site.url)
    assert poller.poll() is not None and poller.outage()
    site.status = 503
    site.body = b"<html>Service Unavailable</html>"
    assert poller.poll() is None
    assert poller.outage() is False
    assert "503" in poller.last_error
    site.status, site.body = 200, b"not json"
    assert poller.poll() is None and poller.last_error
    gone = Poller("http://127.0.0.1:9/summary.json", timeout=2)
    assert gone.poll() is None and gone.outage() is False and gone.last_error


@pytest.mark.parametrize(
    "doc",
    [
        None,
        [],
        {},
        {"status": None},
        {"status": {"indicator": "none"}},
        {"status": {"indicator": "something-new"}, "components": "nope"},
        {"status": {"description": "fine"}, "components": [None, 3, {"name": "A"}], "incidents": None},
        {"incidents": [{"name": "done", "status": "resolved", "impact": "major", "components": [{"name": "A"}]}]},
        {"incidents": [{"name": "note", "status": "investigating", "impact": "none", "components": [{"name": "A"}]}]},
        {"incidents": [{"name": "no components", "status": "investigating", "impact": "minor"}]},
    ],
    ids=repr,
)
def test_tolerant_parse_no_outage(doc):
    assert parse_summary(doc) is None


@pytest.mark.parametrize(
    "doc, expected",
    [
        ({"status": {"indicator": "critical"}}, Outage(None, [], [])),
        ({"status": {"indicator": "major", "description": "Down"}, "page": {}}, Outage("Down", [], [])),
        ({"components": [{"status": "major_outage"}]}, Outage(None, ["?"], [])),
        ({"components": [{"id": "c1", "status": "partial_outage"}]}, Outage(None, ["c1"], [])),
        ({"incidents": [{"name": "Elevated errors", "impact": "critical"}]}, Outage(None, [], ["Elevated errors"])),
        (
            {"incidents": [{"name": "ChatGPT errors", "status": "identified", "components": [{"name": "ChatGPT"}]}]},
            Outage(None, [], ["ChatGPT errors"]),
        ),
    ],
    ids=repr,
)
def test_tolerant_parse_outage(doc, expected):
    assert parse_summary(doc) == expected


def test_poller_thread_follows_the_page(site):
    site.serve("summary-2019-12-30.json")
    poller = Poller(site.url, interval=0.05)
    poller.start()
    try:
        _until(lambda: site.hits >= 1)
        _until(lambda: poller.last_error is None and site.hits >= 2)
        assert poller.outage() is False
        site.serve("outage-2020-04-02.summary.json")
        _until(poller.outage)
        site.serve("summary-2019-12-30.json")
        _until(lambda: not poller.outage())
    finally:
        poller.stop()
    hits = site.hits
    time.sleep(0.2)
    assert site.hits == hits  # stopped means no more requests
    poller.start()  # and it starts again
    _until(lambda: site.hits > hits)
    poller.stop()


def _until(check, limit=10.0):
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, "the poller did not get there"
        time.sleep(0.02)

