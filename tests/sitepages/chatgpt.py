"""Fake chatgpt.com built from the real capture chatgpt-pages-2026-01/chatgpt-chat-simple
(turn markup, header with the model switcher, ProseMirror composer). See __init__."""

from __future__ import annotations

import re
from functools import lru_cache

from .base import (
    SiteSpec,
    document,
    element_span,
    must_find,
    read_capture,
    render_turns,
    set_children,
)

CAPTURE = "chatgpt-pages-2026-01/chatgpt-chat-simple.2026-01-29.html"
EMPTY_COMPOSER = '<p data-placeholder="Ask anything" class="placeholder"><br class="ProseMirror-trailingBreak"></p>'
ERROR_TEXT = (
    "Something went wrong while generating the response. If this issue persists please contact us "
    "through our help center at help.openai.com."
)


def _ids(template: str, turn_id: str, message_id: str) -> str:
    template = template.replace(f'data-turn-id="{turn_id}"', 'data-turn-id="{{ID}}"')
    template = template.replace(f'data-message-id="{message_id}"', 'data-message-id="{{ID}}"')
    template = re.sub(r'data-testid="conversation-turn-\d+"', 'data-testid="conversation-turn-{{N}}"', template)
    return template.replace("<article", "<article data-dv-turn", 1)


@lru_cache(maxsize=1)
def _parts() -> dict:
    cap = read_capture(CAPTURE)
    first = must_find(cap, "<article")
    s1, e1 = element_span(cap, first)
    s2, e2 = element_span(cap, must_find(cap, "<article", e1))
    last_end = cap.rindex("</article>") + len("</article>")

    user = cap[s1:e1]
    text_at = must_find(user, '<div class="whitespace-pre-wrap">')
    s, e = element_span(user, text_at)
    user = user[:s] + '<div class="whitespace-pre-wrap">{{TEXT}}</div>' + user[e:]
    user = _ids(user, "431e2776-4dc3-4ade-a109-25619a1f7f21", "431e2776-4dc3-4ade-a109-25619a1f7f21")

    reply = cap[s2:e2]
    reply = set_children(reply, must_find(reply, '<div\n                            class="markdown prose'), "{{HTML}}", attrs="data-dv-html")
    reply = _ids(reply, "5c07c153-09fa-4de0-9242-7d90adc1ee44", "d6c3824e-9c23-4bfe-b8fb-9127dfc0ee9a")

    before, after = cap[:first], cap[last_end:]
    thread_tag = '<div class="flex flex-col text-sm pb-25">'
    thread_at = before.rindex(thread_tag)
    before = before[:thread_at] + '<div data-dv-thread class="flex flex-col text-sm pb-25">' + before[thread_at + len(thread_tag):]
    after = after.replace("</form>", '<div data-dv-actions class="flex items-center"></div></form>', 1)
    after = set_children(after, must_find(after, '<div\n                                contenteditable="true"'), EMPTY_COMPOSER)
    return {"before": before, "after": after, "user": user, "assistant": reply}


def _composer(after: str, kind: str) -> str:
    if kind != "textarea":
        return after
    at = must_find(after, '<div\n                                contenteditable="true"')
    s, e = element_span(after, at)
    return after[:s] + '<textarea id="prompt-textarea" placeholder="Ask anything"></textarea>' + after[e:]


def build_page(conv, conversation_id, options) -> str:
    parts = _parts()
    turns = conv.turns if conv else []
    body = parts["before"] + render_turns(CONFIG, turns) + _composer(parts["after"], options["composer"])
    title = (conv.title if conv and conv.title else None) or "ChatGPT"
    return document(title, body)


CONFIG = {
    "site": "chatgpt",
    "composer": "#prompt-textarea",
    "emptyComposer": EMPTY_COMPOSER,
    "sendButton": '[data-testid="send-button"]',
    "stopButton": '[data-testid="stop-button"]',
    "sendButtonHtml": '<button id="composer-submit-button" data-testid="send-button" aria-label="Send prompt" '
    'class="composer-submit-btn">Send</button>',
    "stopButtonHtml": '<button id="composer-submit-button" data-testid="stop-button" aria-label="Stop streaming" '
    'class="composer-submit-btn">Stop</button>',
    # As chatgpt.com shows a failed answer: red text in the thread with a retry button.
    "errorHtml": '<div data-dv-error class="flex flex-col items-start"><div class="text-token-text-error '
    'border-token-text-error/15 mb-2 rounded-3xl border px-4 py-3 text-sm">{{TEXT}}</div>'
    '<button class="btn btn-secondary mt-2">Retry</button></div>',
    "errorText": ERROR_TEXT,
    "loginHtml": '<div class="flex h-full flex-col items-center justify-center"><h1>Welcome back</h1>'
    '<button data-testid="login-button" class="btn btn-primary">Log in</button>'
    '<button data-testid="signup-button" class="btn btn-secondary">Sign up for free</button></div>',
    "newChatPath": "/",
    "conversationPath": "/c/{id}",
    "idPattern": r"/c/([A-Za-z0-9_-]+)",
    "defaultTitle": "ChatGPT",
}


SPEC = SiteSpec(name="chatgpt", origins=["https://chatgpt.com", "https://chat.openai.com"], build_page=build_page, parts=_parts, config=CONFIG)
serve = SPEC.serve


# ---- components the capture lacks -----------------------------------------------------

CODEMIRROR = "chatgpt-fragments-2026/codeblocks--chatgpt-codemirror.html"


def codemirror_editor(language: str) -> str:
    """The real CodeMirror editor of the ChatGPT capture, its content naming its language."""
    markup = read_capture(CODEMIRROR)
    s, e = element_span(markup, markup.rindex("<div", 0, must_find(markup, 'class="cm-editor"')))
    return markup[s:e].replace('class="cm-content', f'data-language="{language}" class="cm-content', 1)


def canvas(id: str, title: str, body: str) -> str:
    """A canvas card in an answer: `div[id^="textdoc-message-"]` with its title in
    `span.min-w-0.truncate` (the structure tools reading chatgpt.com rely on) and the
    document's editor (`codemirror_editor` for code, a ProseMirror for a document)."""
    return (
        f'<div id="textdoc-message-{id}" class="relative w-full"><div class="flex items-center gap-2 px-4 py-2">'
        f'<span class="min-w-0 truncate">{title}</span><button aria-label="Copy">Copy</button></div>'
        f'<div class="overflow-hidden">{body}</div></div>'
    )


__all__ = ["serve", "SPEC", "CONFIG", "ERROR_TEXT", "codemirror_editor", "canvas"]
