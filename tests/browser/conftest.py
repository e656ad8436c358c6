"""Debian's Chromium with the real DraftVault extension loaded unpacked, paired with
the real service from the `server` fixture (tests/conftest.py).

`browser_ctx` gives each test a fresh browser profile whose extension already has
serverUrl, token and a fresh clientId in chrome.storage.local.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Worker, sync_playwright

from sitepages.base import CHROMIUM, CHROMIUM_FLAGS, EXTENSION_DIR, wait_for

EXTENSION_ID = "chplhlmlobckblhjmicoamkpblapcgpg"  # fixed by the manifest's `key`


# chrome.runtime.sendMessage to the worker, failing after 15 s instead of hanging
# the test when the worker never answers.
ASK_WORKER = """message => Promise.race([
    chrome.runtime.sendMessage(message),
    new Promise((_, reject) => setTimeout(
        () => reject(new Error('the service worker did not answer ' + message.type)), 15000)),
])"""




class BrowserCtx:
    """One browser profile with the extension; see the module docstring."""

    def __init__(self, playwright, server, profile_dir: Path, extension_dir: Path = EXTENSION_DIR):
        self.server = server
        self.extension_dir = extension_dir  # a copy of extension/ with changes, for some tests
        self.extension_id = EXTENSION_ID
        self.client_id = "test-" + secrets.token_urlsafe(9)
        self._playwright = playwright
        self._profile_dir = profile_dir
        self._producer: Page | None = None
        self.context: BrowserContext = self._launch()
        self.set_storage(serverUrl=server.url, token=server.token, clientId=self.client_id)

    def _launch(self) -> BrowserContext:
        context = self._playwright.chromium.launch_persistent_context(
            str(self._profile_dir),
            executable_path=CHROMIUM,
            headless=True,
            args=[
                f"--disable-extensions-except={self.extension_dir}",
                f"--load-extension={self.extension_dir}",
                *CHROMIUM_FLAGS,
            ],
        )
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        return context

    def restart_browser(self) -> None:
        """Quit Chromium and start it again on the same profile (storage, outbox kept)."""
        self.context.close()
        self._producer = None
        self.context = self._launch()

    # ---- the service worker ---------------------------------------------------

    def _live_worker(self) -> Worker | None:
        prefix = f"chrome-extension://{self.extension_id}/"
        workers = [w for w in self.context.service_workers if w.url.startswith(prefix)]
        return workers[-1] if workers else None

    @property
    def sw(self) -> Worker:
        """The extension's service worker, woken up if Chromium stopped it."""
        worker = self._live_worker()
        if worker is not None:
            try:
                worker.evaluate("1")
                return worker
            except Exception:  # a stopped worker's handle is dead; wake a new one
                pass
        page = self.context.new_page()
        try:
            # Any extension page wakes the worker (chrome.runtime messaging).
            page.goto(f"chrome-extension://{self.extension_id}/options/options.html")
            page.evaluate("chrome.runtime.sendMessage({type: 'dv:status'}).catch(() => null)")

            def alive():
                w = self._live_worker()
                if w is None:
                    return None
                try:
                    w.evaluate("1")
                    return w
                except Exception:
                    return None

            return wait_for(alive, 15, "the extension's service worker (does the manifest name a missing file?)")
        finally:
            page.close()

    def sw_eval(self, expression: str, arg=None):
        """Evaluate in the service worker (an async function body or expression)."""
        return self.sw.evaluate(expression, arg)

    def set_storage(self, **items) -> None:
        self.sw_eval("items => chrome.storage.local.set(items)", items)

    def get_storage(self, *keys: str) -> dict:
        return self.sw_eval("keys => chrome.storage.local.get(keys)", list(keys))

    def status(self) -> dict:
        """What the popup sees: the worker's answer to dv:status."""
        page = self.extension_page()
        try:
            return page.evaluate(ASK_WORKER, {"type": "dv:status"})
        finally:
            page.close()

    def wait_status(self, predicate, timeout: float = 20, what: str = "worker status") -> dict:
        page = self.extension_page()
        try:
            def check():
                st = page.evaluate(ASK_WORKER, {"type": "dv:status"})
                return st if st and predicate(st) else None

            return wait_for(check, timeout, what)
        finally:
            page.close()

    def stop_service_worker(self) -> None:
        """Stop the extension's worker through the DevTools protocol, as Chromium
        does to idle workers; the next event starts a fresh one from storage."""
        page = self.context.new_page()
        try:
            cdp = self.context.new_cdp_session(page)
            cdp.send("ServiceWorker.enable")
            cdp.send("ServiceWorker.stopAllWorkers")
            cdp.detach()
        finally:
            page.close()

    # ---- pages -----------------------------------------------------------------

    def extension_page(self, path: str = "options/options.html") -> Page:
        page = self.context.new_page()
        page.goto(f"chrome-extension://{self.extension_id}/{path}")
        return page

    def popup(self, tab: Page | None = None) -> Page:
        """The popup as a page. `tab`: the page the popup acts on as "the current
        tab" (passed as ?tab=ID, since a popup opened as a page is its own tab)."""
        query = f"?tab={self.tab_id(tab)}" if tab is not None else ""
        return self.extension_page(f"popup/popup.html{query}")

    def tab_id(self, page: Page) -> int:
        """chrome.tabs id of a Playwright page (matched by its URL)."""
        url = page.url
        ids = self.sw_eval(
            "async url => (await chrome.tabs.query({})).filter(t => t.url === url).map(t => t.id)", url
        )
        assert len(ids) == 1, f"expected one tab at {url}, found {len(ids)}"
        return ids[0]

    def route_site(self, url_glob: str, handler) -> None:
        """Serve a site URL (e.g. "https://chatgpt.com/**") from the test."""
        self.context.route(url_glob, handler)

    def producer(self) -> Page:
        """An extension page that stands in for a content script: it sends frames
        (send_frames) and records the worker's dv:resend-full requests. It stays
        open, so the worker counts its pages as open."""
        if self._producer is None or self._producer.is_closed():
            self._producer = self.extension_page()
            self._producer.evaluate(
                """window.resendRequests = [];
                   chrome.runtime.onMessage.addListener(m => {
                     if (m.type === 'dv:resend-full') window.resendRequests.push(m.page_id); });"""
            )
        return self._producer

    def send_frames(self, frames: list[dict]) -> list[dict]:
        """Hand snapshot/signal frames (without seq) to the worker exactly as a
        content script does (dv:frame); returns the worker's answers."""
        return self.producer().evaluate(
            f"""async frames => {{ const ask = {ASK_WORKER}; const answers = [];
                 for (const frame of frames) answers.push(await ask({{type: 'dv:frame', frame}}));
                 return answers; }}""",
            frames,
        )

    def resend_requests(self) -> list[str]:
        """page_ids the worker asked the producer page to resend in full."""
        return self.producer().evaluate("window.resendRequests")

    @staticmethod
    def snapshot(page_id: str, *, turns=(), turns_from: int = 0, draft=None, conversation_id=None,
                 site: str = "chatgpt", streaming: bool = False, turn_count: int | None = None) -> dict:
        """A snapshot frame as a content script builds it (no seq). `turns`: list of
        (role, text) starting at `turns_from`."""
        url = f"https://chatgpt.com/c/{conversation_id}" if conversation_id else "https://chatgpt.com/"
        turn_list = [
            {"index": turns_from + i, "role": role, "text": text} for i, (role, text) in enumerate(turns)
        ]
        frame = {
            "type": "snapshot",
            "page_id": page_id,
            "conversation_id": conversation_id,
            "site": site,
            "url": url,
            "turn_count": turn_count if turn_count is not None else turns_from + len(turn_list),
            "turns_from": turns_from,
            "turns": turn_list,
            "streaming": streaming,
            "captured_at": int(time.time() * 1000),
        }
        if draft is not None:
            frame["draft"] = draft
        return frame

    def close(self) -> None:
        try:
            self.context.close()
        except Exception:
            pass


@pytest.fixture(scope="session")
def _playwright():
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def chromium(_playwright):
    """A plain Chromium (no extension), for tests of pages only."""
    browser = _playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


@pytest.fixture
def context(chromium):
    """A fresh context of the plain Chromium (adapter tests: sitepages.base.open_markup)."""
    ctx = chromium.new_context()
    yield ctx
    ctx.close()


@pytest.fixture
def browser_ctx(_playwright, server, tmp_path):
    ctx = BrowserCtx(_playwright, server, tmp_path / "profile")
    try:
        yield ctx
    finally:
        ctx.close()
