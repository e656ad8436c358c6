"""Fake claude.ai built from the real capture claude-pages-2026-01/claude-chat-simple
(turn blocks, title button, model selector, tiptap/ProseMirror composer). See __init__."""

from __future__ import annotations

import html
from functools import lru_cache

from .base import (
    SiteSpec,
    document,
    element_span,
    must_find,
    read_capture,
    real_capture_html,
    render_turns,
    set_children,
)

CAPTURE = "claude-pages-2026-01/claude-chat-simple.2026-01-29.html"
TURN = '<div data-test-render-count="'
EMPTY_COMPOSER = '<p data-placeholder="Reply..." class="is-empty is-editor-empty"><br class="ProseMirror-trailingBreak"></p>'
ERROR_TEXT = "Claude’s response was interrupted. Please check your network connection or contact support if the issue persists."


@lru_cache(maxsize=1)
def _parts() -> dict:
    cap = read_capture(CAPTURE)
    first = must_find(cap, TURN)
    s1, e1 = element_span(cap, first)
    s2, e2 = element_span(cap, must_find(cap, TURN, e1))
    last = cap.rindex(TURN)
    _, last_end = element_span(cap, last)

    user = cap[s1:e1].replace("<div", "<div data-dv-turn", 1)
    user = set_children(user, must_find(user, '<p class="whitespace-pre-wrap break-words">'), "{{TEXT}}")
    reply = cap[s2:e2].replace("<div", "<div data-dv-turn", 1)
    reply = reply.replace('data-is-streaming="false"', 'data-is-streaming="{{STREAMING}}"')
    reply = set_children(reply, must_find(reply, "<div\n                        class=\"standard-markdown"), "{{HTML}}", attrs="data-dv-html")

    before, after = cap[:first], cap[last_end:]
    thread_tag = '<div class="flex-1 flex flex-col px-4 max-w-3xl mx-auto w-full pt-1">'
    before = before.replace(thread_tag, thread_tag[:-1] + " data-dv-thread>", 1)
    after = set_children(after, must_find(after, '<div class="shrink-0 flex items-center">'), "", attrs="data-dv-actions")
    after = set_children(after, must_find(after, '<div\n                            contenteditable="true"'), EMPTY_COMPOSER)
    return {"before": before, "after": after, "user": user, "assistant": reply}


def build_page(conv, conversation_id, options) -> str:
    parts = _parts()
    title = conv.title if conv and conv.title else ""
    before = parts["before"].replace("Claude の HTML構造テスト", title)
    body = before + render_turns(CONFIG, conv.turns if conv else []) + parts["after"]
    return document(f"{title} - Claude" if title else "Claude", body)


CONFIG = {
    "site": "claude",
    "composer": '[data-testid="chat-input"]',
    "emptyComposer": EMPTY_COMPOSER,
    "sendButton": 'button[aria-label="Send message"]',
    "stopButton": 'button[aria-label="Stop response"]',
    "sendButtonHtml": '<button type="button" aria-label="Send message" class="Button_claude__c_hZy">Send</button>',
    "stopButtonHtml": '<button type="button" aria-label="Stop response" class="Button_claude__c_hZy">Stop</button>',
    "streamingAttr": ["[data-is-streaming]", "data-is-streaming", "true", "false"],
    "errorHtml": '<div data-dv-error role="alert" data-sonner-toast class="rounded-lg border p-3">{{TEXT}}</div>',
    "errorInBody": True,
    "errorText": ERROR_TEXT,
    "loginHtml": '<div><h1>Impossible? Possible.</h1><button>Continue with Google</button><input type="email"></div>',
    "loginPath": "/login",
    "newChatPath": "/new",
    "conversationPath": "/chat/{id}",
    "idPattern": r"^/chat/([A-Za-z0-9_-]+)",
    "defaultTitle": "Claude",
    "titleSelector": '[data-testid="chat-title-button"] .truncate',
}

SPEC = SiteSpec(name="claude", origins=["https://claude.ai"], build_page=build_page, parts=_parts, config=CONFIG)
serve = SPEC.serve


# ---- the real capture with components it lacks -----------------------------------------


def capture_page(*, user: str | None = None, answers: tuple[str | None, ...] = ()) -> str:
    """The real capture as a page, its first user message's content and its answers'
    contents replaced (in order; None keeps one)."""
    page = real_capture_html(CAPTURE)
    starts, at = [], 0
    for _ in answers:
        at = must_find(page, 'class="font-claude-response ', at + 1)
        starts.append(page.rindex("<div", 0, at))
    for start, answer in reversed(list(zip(starts, answers))):
        if answer is not None:
            page = set_children(page, start, answer)
    if user is not None:
        page = set_children(page, page.rindex("<div", 0, must_find(page, 'data-testid="user-message"')), user)
    return page


def markdown_part(markup: str) -> str:
    """A text part of an answer, as Claude renders it."""
    return f'<div><div class="standard-markdown grid-cols-1 grid [&amp;_&gt;_*]:min-w-0 gap-3">{markup}</div></div>'


def artifact_card(title: str, label: str, preview: str) -> str:
    """An artifact's card in an answer: its title, its kind ("Code · HTML") and a
    truncated preview of its source as literal text."""
    return (
        '<div class="flex flex-col gap-2 py-2 pl-2"><div class="group/artifact-block">'
        '<div role="button" tabindex="0" aria-label="Preview contents" class="flex text-left font-ui rounded-lg">'
        '<div class="artifact-block-cell group/artifact-block flex flex-1 align-start justify-between w-full">'
        f'<div class="flex flex-col gap-1 py-4 pl-4"><div class="leading-tight text-sm line-clamp-1">{html.escape(title)}</div>'
        f'<div class="text-xs line-clamp-1 text-text-400">{html.escape(label)}</div></div>'
        f'<div class="overflow-hidden font-mono text-[0.5rem] whitespace-pre">{html.escape(preview)}</div>'
        "</div></div></div></div>"
    )


__all__ = ["serve", "SPEC", "CONFIG", "ERROR_TEXT", "capture_page", "markdown_part", "artifact_card"]
