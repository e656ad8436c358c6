"""The Chrome store build (`draftvault extension`, no development key, so an id of
its own) in Debian's Chromium: a person pairs it from the popup with the code of
`draftvault pair`, and it connects to the service on 127.0.0.1 (Chrome's Local
Network Access lets it through) and saves a chat. And the popup's words when the
service and the extension speak different protocol versions."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from websockets.sync.server import serve as ws_serve

from draftvault import packaging, protocol

from frames import encode
from sitepages import chatgpt
from sitepages.base import CHROMIUM, CHROMIUM_FLAGS, wait_for

pytestmark = pytest.mark.browser


class StoreBuild:
    def __init__(self, context, extension_id: str):
        self.context, self.id = context, extension_id

    def popup(self):
        page = self.context.new_page()
        page.goto(f"chrome-extension://{self.id}/popup/popup.html")
        return page


@pytest.fixture
def store_build(_playwright, tmp_path):
    folder = packaging.write_extension(tmp_path / "chrome", "chrome")
    context = _playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True,
        args=[f"--disable-extensions-except={folder}", f"--load-extension={folder}", *CHROMIUM_FLAGS],
    )
    try:
        worker = context.service_workers[0] if context.service_workers else context.wait_for_event("serviceworker")
        yield StoreBuild(context, worker.url.split("/")[2])
    finally:
        context.close()


def test_store_build_pairs_from_the_popup_and_saves_a_chat(store_build, server):
    assert store_build.id != "chplhlmlobckblhjmicoamkpblapcgpg"  # not the development key's id
    popup = store_build.popup()
    popup.evaluate("url => chrome.storage.local.set({serverUrl: url})", server.url)
    code = subprocess.run([sys.executable, "-m", "draftvault", "pair"], capture_output=True, text=True, check=True,
                          env=server.env).stdout.strip()
    popup.fill("#pair-code", code)
    popup.click("#pair-button")
    popup.get_by_text("Connected").wait_for(timeout=20_000)
    site = chatgpt.serve(store_build.context)
    chat = site.open("c-store-1", turns=[("user", "Is the store build saving?"), ("assistant", "It is.")], title="Store")

    def saved():
        items = server.api("GET", "/api/conversations")["items"]
        return [c for c in items if c["conversation_id"] == "c-store-1"]

    wait_for(saved, 30, "the store build's snapshot in the vault")
    chat.close()


def stand_in_service(answer: protocol.Error):
    """A WebSocket endpoint that answers every hello as a service of another protocol
    version does (the real frames of protocol.py); returns (url, stop)."""
    def handler(ws):
        ws.recv()
        ws.send(encode(answer))
        ws.close()

    server = ws_serve(handler, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.socket.getsockname()[1]}", server.shutdown


@pytest.mark.parametrize("protocols, words", [
    (None, "Update the service: run `pipx upgrade draftvault`"),  # a service from before ACCEPTED_PROTOCOLS
    ([protocol.PROTOCOL_VERSION + 1], "Update the extension"),
])
def test_popup_says_which_side_to_update(browser_ctx, protocols, words):
    url, stop = stand_in_service(protocol.Error(
        code="bad_protocol", message="protocol 1 is not spoken here", protocols=protocols))
    try:
        browser_ctx.set_storage(serverUrl=url)
        state = "service_outdated" if protocols is None else "extension_outdated"
        browser_ctx.wait_status(lambda s: s["state"] == state, what=state)
        popup = browser_ctx.popup()
        popup.locator("#notice").get_by_text(words).wait_for(timeout=10_000)
    finally:
        stop()
