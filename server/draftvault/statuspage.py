"""The provider's public status page (Statuspage v2 `summary.json`), polled when switched on.

Off by default: the options page's switch (`StatusCheck.switch`, PUT
/api/settings/status-check) sets `Settings.statuspage_check`; it polls
`Settings.statuspage_url`, by default OpenAI's page. The detector asks
`StatusCheck.outage(site)` when it records a failure, to label it "outage confirmed
by the provider"; when the page turns operational again after an outage, the
site counts as recovered (recovery.py: "Send again"). Pages that only look like
Statuspage (OpenAI's leaves fields out) are read tolerantly: anything missing or
unknown counts as "no outage".
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import msgspec

from . import config, models
from .protocol import Site

log = logging.getLogger(__name__)

OUTAGE_INDICATORS = {"major", "critical"}
OUTAGE_COMPONENT_STATUSES = {"major_outage", "partial_outage"}
DONE_INCIDENT_STATUSES = {"resolved", "postmortem", "completed"}
# What the switch turns on: ChatGPT's provider (Settings.statuspage_site says whose page it is).
DEFAULT_URL = "https://status.openai.com/api/v2/summary.json"


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

    def __init__(
        self, url: str, interval: float = 60.0, *, timeout: float = 10.0, on_recovered: Callable[[], None] = lambda: None
    ):
        self.url = url
        self.on_recovered = on_recovered  # called when a fetched page says "operational" after an outage
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
        was, self.current, self.last_error = self.current, parse_summary(doc), None
        if was is not None and self.current is None:
            self.on_recovered()
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


class StatusCheck:
    """The status-page check as the options page switches it: the poller of the
    settings' page, or none. `outage(site)` is what the detector asks."""

    def __init__(self, home: Path, on_recovered: Callable[[Site], None]):
        self.home = home
        self.on_recovered = on_recovered
        self._lock = threading.Lock()
        self._running = False
        settings = config.load_settings(home)
        self.site, self.poller = settings.statuspage_site, self._poller(settings)

    def _poller(self, settings: config.Settings) -> Poller | None:
        if not settings.statuspage_on:
            return None
        site = settings.statuspage_site
        url = settings.statuspage_url or DEFAULT_URL
        return Poller(url, settings.statuspage_interval, on_recovered=lambda: self.on_recovered(site))

    def outage(self, site: Site) -> bool:
        poller = self.poller
        return poller is not None and site == self.site and poller.outage()

    def start(self) -> None:
        with self._lock:
            self._running = True
            if self.poller:
                self.poller.start()

    def stop(self) -> None:
        with self._lock:
            self._running = False
            if self.poller:
                self.poller.stop()

    def state(self) -> models.StatusCheckOut:
        settings = config.load_settings(self.home)
        url = settings.statuspage_url or DEFAULT_URL
        return models.StatusCheckOut(
            enabled=settings.statuspage_on, url=url, host=urlsplit(url).hostname or url,
            site=settings.statuspage_site, interval_s=settings.statuspage_interval,
        )

    def switch(self, enabled: bool) -> models.StatusCheckOut:
        """Turns the check on or off, in settings.json and at once (with the file's
        page, interval and site as they are now)."""
        with self._lock:
            settings = msgspec.structs.replace(config.load_settings(self.home), statuspage_check=enabled)
            config.save_settings(self.home, settings)
            if self.poller:
                self.poller.stop()
            self.site, self.poller = settings.statuspage_site, self._poller(settings)
            if self.poller and self._running:
                self.poller.start()
        return self.state()
