"""A translation is one file: the extension with one more `_locales/<locale>/messages.json`
shows that file's words everywhere a person looks, and English where the file lacks a
message.

Debian's Chromium carries only its en-US interface, so the translation here is
`_locales/en_US/` (Chromium prefers it to `en`): a pseudo-translation that brackets
every message, ⟦like this⟧, except one left out. The popup (unpaired; then paired,
with a chat tab and a failed session) and the options page must then show no letter
outside the brackets, besides what the person's chats hold (a title, the site's
error) and the browser's own date format."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from conftest import BrowserCtx
from sitepages import chatgpt
from sitepages.base import EXTENSION_DIR
from test_popup import open_popup, vault_conversation, wait_until

pytestmark = pytest.mark.browser

LEFT_OUT = "pairButton"  # not in the translation: English, from _locales/en
# The popup and the page as a person reads them (innerText: what is rendered).
SHOWN = "() => document.body.innerText"


def pseudo(text: str) -> str:
    return f"⟦{text}⟧"


def outside_brackets(text: str, *data: str) -> str:
    """What is left of `text` without the translated words (innermost brackets first:
    a message's placeholder may hold another message), the chats' own `data` and the
    browser's dates and times."""
    for item in data:
        text = text.replace(item, "")
    while (shorter := re.sub(r"⟦[^⟦⟧]*⟧", "", text)) != text:
        text = shorter
    return re.sub(r"\d{1,2}:\d{2}(:\d{2})?\s?[AP]M", "", text)


def letters(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", text)


@pytest.fixture
def translated_ctx(_playwright, server, tmp_path):
    ext = tmp_path / "extension"
    shutil.copytree(EXTENSION_DIR, ext)
    messages = json.loads((ext / "_locales" / "en" / "messages.json").read_text(encoding="utf-8"))
    translation = {key: {**m, "message": pseudo(m["message"])} for key, m in messages.items()
                   if key not in (LEFT_OUT, "language")}
    (ext / "_locales" / "en_US").mkdir()
    (ext / "_locales" / "en_US" / "messages.json").write_text(json.dumps(translation, ensure_ascii=False), encoding="utf-8")
    ctx = BrowserCtx(_playwright, server, tmp_path / "profile", ext)
    try:
        yield ctx
    finally:
        ctx.close()


def test_a_translation_file_reaches_every_word_shown(translated_ctx, server, vault):
    ctx = translated_ctx
    assert ctx.sw_eval("chrome.i18n.getUILanguage()") == "en-US"
    assert ctx.sw_eval("chrome.runtime.getManifest().name") == pseudo("DraftVault")

    # Not paired: the pairing form; the left-out message falls back to English.
    ctx.set_storage(token=None)
    popup = open_popup(ctx)
    wait_until(popup, "() => document.querySelector('#status-text').textContent.includes('⟦')")
    assert popup.text_content("#pair-button") == "Pair"
    assert popup.get_attribute("#pair-code", "placeholder") == pseudo("ABC-123")
    assert popup.title() == pseudo("DraftVault")
    assert letters(outside_brackets(popup.evaluate(SHOWN), "Pair")) == [], popup.evaluate(SHOWN)
    popup.close()

    # Paired, a chat in a tab, a failed session listed with its actions.
    ctx.set_storage(token=server.token)
    chat = chatgpt.serve(ctx.context).open("c0ffee-i18n-1", turns=[("user", "Ping?"), ("assistant", "Pong.")],
                                           title="Table tennis")
    chat.type("unsent words")
    detail = vault_conversation(server, ctx, "c0ffee-i18n-1", draft="unsent words")
    vault.record_failure(detail["id"], "error_message", detail="Something went wrong")
    popup = open_popup(ctx, tab=chat.page)
    popup.wait_for_selector("li.failure")
    wait_until(popup, "() => !document.querySelector('#tab').classList.contains('hidden')")
    wait_until(popup, "() => document.querySelector('#status-text').textContent.startsWith('⟦Connected')")
    shown = popup.evaluate(SHOWN)
    assert "⟦⟦ChatGPT⟧ showed an error⟧" in shown  # the vocabulary's words, translated too
    assert letters(outside_brackets(shown, "Table tennis", "Something went wrong")) == [], shown
    assert popup.get_attribute(".open-target", "aria-label") == pseudo("Assistant to open")
    assert pseudo("DraftVault: 1 failed session — click to resume") == ctx.sw_eval("chrome.action.getTitle({})")

    options = ctx.extension_page("options/options.html")
    wait_until(options, "() => document.querySelector('#state-text').textContent.startsWith('⟦')")
    wait_until(options, "() => !document.querySelector('#status-check').disabled")
    assert options.title() == pseudo("DraftVault options")
    assert options.evaluate("document.documentElement.lang") == "en"
    assert letters(outside_brackets(options.evaluate(SHOWN))) == [], options.evaluate(SHOWN)
