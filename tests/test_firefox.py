"""The Firefox build for real: Debian's firefox-esr, driven by its own remote protocol
(Marionette, `marionette-driver`), with the build of `draftvault extension --browser
firefox` installed as a temporary add-on, pages served as https://chatgpt.com/...
through a local TLS proxy whose CA the test profile trusts (certutil), and the real
`draftvault serve`. A person pairs it from the popup, a chat and its draft are
saved, and a failed session is resumed into a new ChatGPT chat."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from draftvault import packaging

from ports import free_port
from sitepages import chatgpt
from sitepages.base import wait_for
from sitepages.tls_proxy import TlsProxy

pytestmark = pytest.mark.firefox

FIREFOX = shutil.which("firefox-esr")
CERTUTIL = shutil.which("certutil")

PREFS = {
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.aboutwelcome.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "extensions.autoDisableScopes": 0,
    # console output of pages and the add-on goes to firefox.log (the test's tmp dir)
    "devtools.console.stdout.content": True,
    "devtools.console.stdout.chrome": True,
    # https goes to the proxy; 127.0.0.1 (the service) is never proxied.
    "network.proxy.type": 1,
    "network.proxy.ssl": "127.0.0.1",
}


class Firefox:
    """One firefox-esr with the add-on; `m` is the Marionette client."""

    def __init__(self, m, extension_uuid: str, proxy: TlsProxy):
        self.m, self.proxy = m, proxy
        self.base = f"moz-extension://{extension_uuid}"

    def open(self, url: str) -> None:
        if not url.startswith("moz-extension:"):
            self.m.navigate(url)
            return
        # Marionette refuses to navigate web content to an extension page; the
        # browser's own UI may, as when a person opens it.
        with self.m.using_context("chrome"):
            self.m.execute_script(
                "Services.wm.getMostRecentWindow('navigator:browser').openTrustedLinkIn(arguments[0], 'current')",
                script_args=[url])
        wait_for(lambda: self.m.get_url() == url and self.page_js("page.document.readyState") == "complete", 20, url)

    def page_js(self, expression: str, *args):
        """An expression over the page's own globals (`page` is its window)."""
        return self.m.execute_script(f"const page = window.wrappedJSObject; return {expression};", script_args=args)

    def text(self, selector: str) -> str:
        return self.page_js("page.document.querySelector(arguments[0])?.textContent ?? null", selector)

    def el(self, selector: str):
        return self.m.find_element("css selector", selector)

    def shortcut(self, key: str) -> None:
        """Alt+Shift+`key` to the browser window, as a person presses it."""
        from marionette_driver.keys import Keys

        with self.m.using_context("chrome"):
            (self.m.actions.sequence("key", "keyboard").key_down(Keys.ALT).key_down(Keys.SHIFT)
             .key_down(key).key_up(key).key_up(Keys.SHIFT).key_up(Keys.ALT).perform())

    def clipboard(self) -> str | None:
        with self.m.using_context("chrome"):
            return self.m.execute_script("""
                const t = Cc["@mozilla.org/widget/transferable;1"].createInstance(Ci.nsITransferable);
                t.init(null);
                t.addDataFlavor("text/plain");
                Services.clipboard.getData(t, Services.clipboard.kGlobalClipboard);
                const data = {};
                try { t.getTransferData("text/plain", data); } catch (e) { return null; }
                return data.value.QueryInterface(Ci.nsISupportsString).data;""")


@pytest.fixture
def firefox(tmp_path, server):
    if not FIREFOX or not CERTUTIL:
        pytest.fail("firefox-esr and certutil are needed: scripts/test installs firefox-esr and libnss3-tools")
    from marionette_driver.addons import Addons
    from marionette_driver.marionette import Marionette

    build = packaging.write_extension(tmp_path / "firefox-build", "firefox")
    proxy = TlsProxy(tmp_path).start()
    profile = tmp_path / "profile"
    profile.mkdir()
    db = f"sql:{profile}"
    subprocess.run([CERTUTIL, "-N", "-d", db, "--empty-password"], check=True, capture_output=True)
    subprocess.run([CERTUTIL, "-A", "-d", db, "-n", "DraftVault test CA", "-t", "C,,", "-i", str(proxy.ca_pem)],
                   check=True, capture_output=True)
    extension_uuid = str(uuid.uuid4())
    port = free_port()
    prefs = {**PREFS, "marionette.port": port, "network.proxy.ssl_port": proxy.port,
             "extensions.webextensions.uuids": json.dumps({packaging.GECKO_ID: extension_uuid})}
    (profile / "user.js").write_text("".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items()))
    log = (tmp_path / "firefox.log").open("wb")
    proc = subprocess.Popen([FIREFOX, "--headless", "--marionette", "-remote-allow-system-access", "--no-remote", "--profile", str(profile)],
                            env={**os.environ, "MOZ_HEADLESS": "1"}, stdout=log, stderr=subprocess.STDOUT)
    m = Marionette(host="127.0.0.1", port=port)
    try:
        m.start_session(timeout=120)
        Addons(m).install(str(build), temp=True)
        yield Firefox(m, extension_uuid, proxy)
    finally:
        try:
            m.delete_session()
        except Exception:
            pass
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        proxy.stop()


def pair(ff: Firefox, server) -> None:
    """As a person does: the service address in the options, the code in the popup."""
    ff.open(f"{ff.base}/options/options.html")
    wait_for(lambda: ff.page_js("page.document.querySelector('#server-url').value"), 20, "the options page's settings")
    field = ff.el("#server-url")
    field.clear()
    field.send_keys(server.url)
    ff.el("#server-form button[type=submit]").click()
    wait_for(lambda: server.url.removeprefix("http://") in (ff.text("#message") or ""), 20, "the options page's 'Saved'")
    code = subprocess.run([sys.executable, "-m", "draftvault", "pair"], capture_output=True, text=True, check=True,
                          env=server.env).stdout.strip()
    ff.open(f"{ff.base}/popup/popup.html")
    wait_for(lambda: ff.text("#status-text") == "Not paired", 20, "the popup's 'Not paired'")
    ff.el("#pair-code").send_keys(code)
    ff.el("#pair-button").click()
    def connected():
        connected.seen = (ff.text("#status-text"), ff.text("#message"))
        return (connected.seen[0] or "").startswith("Connected")

    wait_for(connected, 30, "the popup's 'Connected'")


def conversation(server, site_id: str) -> dict | None:
    items = [c for c in server.api("GET", "/api/conversations")["items"] if c["conversation_id"] == site_id]
    return server.api("GET", f"/api/conversations/{items[0]['id']}") if items else None


def test_firefox_captures_a_chat_and_draft_and_resumes_a_failure(firefox, server):
    ff = firefox
    pair(ff, server)
    site = chatgpt.serve(ff.proxy)
    site.add("c-firefox-1", [("user", "Does DraftVault work in Firefox?"), ("assistant", "It **does**, in ESR.")],
             title="Firefox check")
    ff.open(site.url("c-firefox-1"))
    wait_for(lambda: ff.page_js("page.__dv_test && page.__dv_test.ready"), 20, "the fake ChatGPT page")
    ff.el(chatgpt.CONFIG["composer"]).send_keys("typed in Firefox, never sent")

    def saved():
        detail = conversation(server, "c-firefox-1")
        return detail if detail and (detail["draft"] or {}).get("text") == "typed in Firefox, never sent" else None

    detail = wait_for(saved, 30, "the chat and its draft in the vault")
    assert [(t["role"], t["text"]) for t in detail["turns"]] == [
        ("user", "Does DraftVault work in Firefox?"), ("assistant", "It **does**, in ESR.")]

    # The keyboard shortcut (Alt+Shift+Y in Firefox) copies the chat's resume pack: the
    # background page writes the clipboard itself (Chrome goes through an offscreen document).
    ff.shortcut("y")
    wait_for(lambda: "Does DraftVault work in Firefox?" in (ff.clipboard() or ""), 20, "the resume pack on the clipboard")

    ff.page_js("page.__dv_test.error()")
    failures = wait_for(lambda: server.api("GET", "/api/failures", params={"resolved": "false"})["items"], 30,
                        "the failure detected from Firefox's signal")
    assert failures[0]["conversation"] == detail["id"]

    chat_window = ff.m.current_window_handle
    ff.m.switch_to_window(ff.m.open(type="tab")["handle"])
    ff.open(f"{ff.base}/popup/popup.html")
    wait_for(lambda: ff.text("li.failure .title") == "Firefox check", 20, "the failure in the popup")
    before = set(ff.m.window_handles)
    ff.el("li.failure .resume").click()
    new_tab = wait_for(lambda: set(ff.m.window_handles) - before - {chat_window}, 20, "the new ChatGPT tab")
    ff.m.switch_to_window(new_tab.pop())
    wait_for(lambda: ff.page_js("page.__dv_test && page.__dv_test.ready"), 20, "the new chat page")
    draft = wait_for(lambda: ff.page_js("page.__dv_test.draft()"), 20, "the resume pack in the composer")
    assert "Does DraftVault work in Firefox?" in draft and "typed in Firefox, never sent" in draft
    wait_for(lambda: server.api("GET", "/api/failures", params={"resolved": "false"})["items"] == [], 20,
             "the failure resolved as resumed")
