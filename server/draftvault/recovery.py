"""Sites back after failures: when to offer "Send again".

A site counts as recovered when an answer completes on any page of it (the detector
calls `site_back(site, "answer")`), or when the provider's status page turns
operational after an outage (statuspage.StatusCheck, only when the person switched
the check on: `site_back(site, "status_page")`). Then every unresolved failure of
that site gets a `recovered_at`, and the service pushes one `recovered` frame naming
them; the extension offers to send each lost prompt again (it never sends by itself).

The times are kept in memory: after a restart every site may hold failures from
before, so the first answer completed on each site is checked against the vault.
Afterwards a site is checked again only once a new failure happened on it, so a
completed answer costs nothing while all is well.
"""

from __future__ import annotations

import threading
from typing import get_args

import msgspec

from . import models, protocol
from .times import now_iso
from .protocol import RecoveryVia, Site

SITES: tuple[Site, ...] = get_args(Site)
MAX_FAILED = 1000  # failed conversations looked at per recovery (the popup lists far fewer)


class Recovery:
    def __init__(self, vault):
        self.vault = vault
        self._lock = threading.Lock()
        self._pending: set[Site] = set(SITES)  # sites that may hold failures not yet recovered
        self._at: dict[str, str] = {}  # failure id -> recovered_at (unresolved failures only)

    def failed(self, site: Site) -> None:
        """A failure was recorded on `site`: its next completed answer is a recovery."""
        with self._lock:
            self._pending.add(site)

    def site_back(self, site: Site, via: RecoveryVia) -> protocol.Recovered | None:
        """The frame to push when `site` works again and has unresolved failures, else None."""
        with self._lock:
            if site not in self._pending:
                return None
            self._pending.discard(site)
            on_site = {c.id for c in self.vault.list_conversations(status="failed", site=site, limit=MAX_FAILED)}
            unresolved = self.vault.list_failures(resolved=False)
            ids = [f.id for f in unresolved if f.conversation in on_site]
            live = {f.id for f in unresolved}
            self._at = {id: at for id, at in self._at.items() if id in live}  # forget resolved ones
            if not ids:
                return None
            at = now_iso()
            self._at.update(dict.fromkeys(ids, at))
            return protocol.Recovered(site=site, recovered_at=at, via=via, failures=ids)

    def annotate(self, failures: list[models.FailureOut]) -> list[models.FailureOut]:
        """The failures with their `recovered_at`, for the API."""
        with self._lock:
            at = dict(self._at)
        return [msgspec.structs.replace(f, recovered_at=at[f.id]) if f.id in at else f for f in failures]
