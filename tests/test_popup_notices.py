"""What the popup tells a person who must act (extension/popup/notices.js, under Node):
which side to update when the versions do not meet, and what to click when Chrome's
Local Network Access stands between the extension and the service."""

import pytest

from test_extension_static import run_module

NOTICE = "(globalThis.chrome.runtime = {id: 'abcdefghijklmnop'}, noticeFor(arg.status, arg.lna))"


@pytest.mark.parametrize("state, lna, words", [
    ("service_outdated", None, "Update the service: run `pipx upgrade draftvault`"),
    ("extension_outdated", "granted", "Update the extension"),
    ("offline", "denied", "chrome://settings/content/siteDetails?site=chrome-extension://abcdefghijklmnop"),
    ("offline", "prompt", "click Allow"),
    ("offline", None, "`draftvault service install`"),
])
def test_notice_says_what_to_do(state, lna, words):
    assert words in run_module("popup/notices.js", "noticeFor", NOTICE, {"status": {"state": state}, "lna": lna})


@pytest.mark.parametrize("state", ["connected", "connecting", "unpaired"])
def test_no_notice_when_there_is_nothing_to_do(state):
    assert run_module("popup/notices.js", "noticeFor", NOTICE, {"status": {"state": state}, "lna": "denied"}) is None
