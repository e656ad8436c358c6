"""Capture health per site: when a site changes its page so that the extension's
adapter reads nothing or much less than before (the `adapter_broken` signal, with
why in its detail) or turns without any text, the site is degraded from then until
a page of that site gives turns with text again, read by the adapter itself: text the
extension took from the site's own conversation JSON (`Turn.from_json`, ChatGPT's
second source) keeps the capture going but says the adapter failed there, so a
snapshot holding any such turn clears nothing (the extension's `adapter_broken`
signal says what failed).
The popup and the history page show it ("capture degraded on claude.ai since …")
through `GET /api/capture-health`. Kept in memory: the pages report again after a
restart of the service.
"""

from __future__ import annotations

import threading

from . import models, protocol, times
from .vocabulary import SITES

class CaptureHealth:
    def __init__(self) -> None:
        self._degraded: dict[str, models.SiteDegraded] = {}
        self._lock = threading.Lock()

    def observe(self, frame: protocol.Snapshot | protocol.Signal) -> None:
        if isinstance(frame, protocol.Signal):
            if frame.kind == "adapter_broken":
                self._degrade(frame.site, frame.detail)
            return
        read = [turn for turn in frame.turns if turn.text.strip()]
        if read and not any(turn.from_json for turn in read):
            with self._lock:
                self._degraded.pop(frame.site, None)
        elif not read and len(frame.turns) >= 2 and not frame.streaming:
            # Several finished turns, every one empty: the page's text is no longer found.
            self._degrade(frame.site, "turns found, but no text in them")

    def _degrade(self, site: str, detail: str | None) -> None:
        """Degraded since the first report; the detail is the latest that says why (a page
        whose turns now come from the page's JSON says so after the page that found none)."""
        with self._lock:
            held = self._degraded.get(site)
            self._degraded[site] = models.SiteDegraded(
                site=site, host=SITES[site].hosts[0], since=held.since if held else times.now_iso(),
                detail=detail or (held.detail if held else None) or "no turns found",
            )

    def report(self) -> models.CaptureHealthOut:
        with self._lock:
            return models.CaptureHealthOut(degraded=sorted(self._degraded.values(), key=lambda d: d.since))
