"""The provider's public status page (Statuspage v2 `summary.json`), polled when configured.

Off by default: `Settings.statuspage_url` turns it on. The detector asks
`Poller.outage()` when it records a failure, to label it "outage confirmed by the
provider". Pages that only look like Statuspage (OpenAI's leaves fields out) are
read tolerantly: anything missing or unknown counts as "no outage".
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request

import msgspec

log = logging.getLogger(__name__)

OUTAGE_INDICATORS = {"major", "critical"}
OUTAGE_COMPONENT_STATUSES = {"major_outage", "partial_outage"}
DONE_INCIDENT_STATUSES = {"resolved", "postmortem", "completed"}


class Outage(msgspec.Struct):
    description: str | None  # the page's own summary, e.g. "Partial System Outage"
    components: list[str]  # components in partial or major outage
    incidents: list[str]  # unresolved incidents that affect something


def _list(value) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _name(item: dict) -> str:
    return str(item.get("name") or item.get("id") or "?")


def parse_summary(doc) -> Outage | None:
    """The outage a summary.json reports, or None when everything it says is fine."""
    if not isinstance(doc, dict):
        return None
    status = doc.get("status") if isinstance(doc.get("status"), dict) else {}
    down = [_name(c) for c in _list(doc.get("components")) if c.get("status") in OUTAGE_COMPONENT_STATUSES]
    incidents = [
        _name(i)
        for i in _list(doc.get("incidents"))
        if i.get("status") not in DONE_INCIDENT_STATUSES
        and i.get("impact") != "none"
        and (_list(i.get("components")) or i.get("impact") in OUTAGE_INDICATORS)
    ]
    if status.get("indicator") in OUTAGE_INDICATORS or down or incidents:
        description = status.get("description")
        return Outage(str(description) if description else None, down, incidents)
    return None


class Poller:
    """Polls `url` every `interval` seconds in a daemon thread: `start()` / `stop()`
    (sync, so they fit litestar's on_startup / on_shutdown), `outage()` any time."""

    def __init__(self, url: str, interval: float = 60.0, *, timeout: float = 10.0):
        self.url = url
        self.interval = interval
        self.timeout = timeout
        self.current: Outage | None = None
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def outage(self) -> bool:
        return self.current is not None

    def poll(self) -> Outage | None:
        """Fetch and parse once. An unreachable or unreadable page confirms nothing."""
        request = urllib.request.Request(
            self.url, headers={"Accept": "application/json", "User-Agent": "draftvault"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                doc = json.loads(response.read())
        except (OSError, ValueError) as exc:
            self.current, self.last_error = None, f"{self.url}: {exc}"
            log.warning("status page: %s", self.last_error)
            return None
        self.current, self.last_error = parse_summary(doc), None
        return self.current

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="statuspage", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.timeout + 1)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(self.interval)
