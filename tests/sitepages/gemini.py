"""Fake gemini.google.com built from the real capture gemini-pages-2026-01/gemini-chat-simple
(Angular conversation containers holding user-query + model-response, Quill composer).
See __init__."""

from __future__ import annotations

import re
from functools import lru_cache

from .base import SiteSpec, document, element_span, must_find, read_capture, render_turns, set_children

CAPTURE = "gemini-pages-2026-01/gemini-chat-simple.2026-01-29.html"
EMPTY_COMPOSER = "<p><br></p>"
ERROR_TEXT = "Something went wrong. Please try again."


def _container_starts(cap: str) -> list[int]:
    return [cap.rindex("<div", 0, m.start()) for m in re.finditer(r'class="conversation-container ', cap)]


@lru_cache(maxsize=1)
def _parts() -> dict:
    cap = read_capture(CAPTURE)
    starts = _container_starts(cap)
    s1, e1 = element_span(cap, starts[0])
    _, last_end = element_span(cap, starts[-1])
    box = cap[s1:e1]
    ms, me = element_span(box, must_find(box, "<model-response"))
    reply = box[ms:me]
    user = box[:ms] + box[me:]
    user = user.replace("<div", "<div data-dv-turn", 1).replace('id="6cc71b18a6f630bb"', 'id="{{ID}}"', 1)
    line_at = user.rindex("<p", 0, must_find(user, 'class="query-text-line'))
    s, e = element_span(user, line_at)
    user = user[:s] + "{{TEXT}}" + user[e:]
    reply = reply.replace("r_6cc71b18a6f630bb", "r_{{ID}}").replace('aria-busy="false"', 'aria-busy="{{STREAMING}}"')
    md_at = reply.rindex("<div", 0, must_find(reply, 'class="markdown markdown-main-panel'))
    reply = set_children(reply, md_at, "{{HTML}}", attrs="data-dv-html")
    pair_open = user[: user.index(">") + 1]

    before, after = cap[:s1], cap[last_end:]
    scroller = before.rindex("<infinite-scroller")
    before = before[:scroller] + "<infinite-scroller data-dv-thread" + before[scroller + len("<infinite-scroller"):]
    editor = after.rindex("<div", 0, must_find(after, 'class="ql-editor'))
    after = set_children(after, editor, EMPTY_COMPOSER)
    after = after.replace("</rich-textarea", "</rich-textarea><div data-dv-actions></div", 1)
    return {"before": before, "after": after, "user": user, "assistant": reply, "pair": pair_open + "{{BODY}}</div>"}


def build_page(conv, conversation_id, options) -> str:
    parts = _parts()
    body = parts["before"] + render_turns(CONFIG, conv.turns if conv else []) + parts["after"]
    title = conv.title if conv and conv.title else None
    return document(f"{title} - Gemini" if title else "Gemini", body)


CONFIG = {
    "site": "gemini",
    "composer": "rich-textarea .ql-editor",
    "emptyComposer": EMPTY_COMPOSER,
    "sendButton": 'button[aria-label="Send message"]',
    "stopButton": 'button[aria-label="Stop response"]',
    "sendButtonHtml": '<button aria-label="Send message" class="send-button">Send</button>',
    "stopButtonHtml": '<button aria-label="Stop response" class="send-button stop">'
    '<mat-icon fonticon="stop" data-mat-icon-name="stop"></mat-icon></button>',
    "streamingAttr": ["[aria-busy]", "aria-busy", "true", "false"],
    "errorHtml": '<mat-snack-bar-container data-dv-error><div role="alert" class="mat-mdc-snack-bar-label">'
    "{{TEXT}}</div></mat-snack-bar-container>",
    "errorInBody": True,
    "errorText": ERROR_TEXT,
    "loginHtml": '<div><a href="https://accounts.google.com/ServiceLogin">Sign in</a></div>',
    "newChatPath": "/app",
    "conversationPath": "/app/{id}",
    "idPattern": r"^/app/([A-Za-z0-9_-]+)",
    "newIdHex": True,
    "defaultTitle": "Gemini",
    "pairs": True,
    "pairEnd": "</div>",
    "assistantRoot": "model-response",
    "userLine": '<p class="query-text-line ng-star-inserted">{{LINE}}</p>',
}

SPEC = SiteSpec(name="gemini", origins=["https://gemini.google.com"], build_page=build_page, parts=_parts, config=CONFIG)
serve = SPEC.serve


__all__ = ["serve", "SPEC", "CONFIG", "ERROR_TEXT"]
