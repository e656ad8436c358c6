"""Site components the real captures lack, built from the markup the sites ship and
placed inside the real captures (or the fake sites made from them): Gemini's math
(`data-math`, KaTeX without a TeX annotation), `table-block` tables and generic code
label; Claude's user turns with lists and the widgets between the parts of an
answer; ChatGPT's title in the tab and in the sidebar.
"""

from __future__ import annotations

import pytest
from sitepages import gemini
from sitepages.claude import artifact_card, capture_page, markdown_part
from sitepages.base import (
    READ_ADAPTER,
    must_find,
    read_adapter,
    real_capture_html,
    route_extension_modules,
    set_children,
)

pytestmark = pytest.mark.browser

CHATGPT_SIMPLE = "chatgpt-pages-2026-01/chatgpt-chat-simple.2026-01-29.html"


# ---- Gemini ------------------------------------------------------------------------------

# As gemini.google.com renders it: the TeX only in data-math (KaTeX's HTML output,
# aria-hidden, and no MathML annotation), tables inside <table-block> with a footer
# of buttons, code blocks labelled "Code snippet" when Gemini knows no language.
KATEX_E = (
    '<span class="katex"><span class="katex-html" aria-hidden="true"><span class="base">'
    '<span class="strut"></span><span class="mord mathnormal">E</span><span class="mrel">=</span>'
    '<span class="mord mathnormal">m</span><span class="mord"><span class="mord mathnormal">c</span>'
    '<span class="msupsub"><span class="vlist-t"><span class="vlist-r"><span class="vlist">'
    '<span class="sizing reset-size6 size3 mtight"><span class="mord mtight">2</span></span>'
    "</span></span></span></span></span></span></span></span>"
)


def code_block(label: str, code: str) -> str:
    return (
        '<response-element class="ng-star-inserted"><code-block _nghost-ng-c1 class="ng-star-inserted">'
        '<div class="code-block ng-tns-c1 ng-trigger"><div class="code-block-decoration header-formatted gds-title-s">'
        f'<span>{label}</span><div class="buttons"><button aria-label="Copy code"><mat-icon fonticon="content_copy">'
        '</mat-icon></button></div></div><div class="formatted-code-block-internal-container"><div class="animated-opacity">'
        f'<pre><code role="text" data-test-id="code-content" class="code-container formatted">{code}</code></pre>'
        "</div></div></div></code-block></response-element>"
    )


GEMINI_ANSWER = (
    '<p data-path-to-node="0">Energy is <span class="math-inline" data-math="E = mc^2" data-index-in-node="10">'
    f"{KATEX_E}</span> and the integral is:</p>"
    '<div class="math-block" data-math="\\int_0^1 x\\,dx = \\tfrac{1}{2}" data-path-to-node="1">'
    f'<span class="katex-display">{KATEX_E}</span></div>'
    '<response-element class="ng-star-inserted"><table-block _nghost-ng-c2 class="ng-star-inserted">'
    '<div class="table-block-component"><div class="horizontal-scroll-wrapper"><div class="table-block has-export-button">'
    '<table data-path-to-node="2"><thead><tr><td><span data-path-to-node="2,0,0,0">Model</span></td>'
    "<td><strong>Speed</strong></td></tr></thead><tbody><tr><td><span>Flash</span></td><td><span>Fast</span></td></tr>"
    "<tr><td><span>Pro</span></td><td><span>Thorough</span></td></tr></tbody></table></div></div>"
    '<div class="table-footer hide-from-message-actions"><button mat-button class="export-sheets-button">'
    '<span class="mdc-button__label">Export to Sheets</span></button><copy-button><button aria-label="Copy table">'
    '<mat-icon fonticon="content_copy"></mat-icon></button></copy-button></div></div></table-block></response-element>'
    + code_block("Code snippet", 'print("hi")\n')
    + code_block("Markdown", "# Title\n- item\n")
    + f'<p data-path-to-node="5">Shown without TeX: {KATEX_E}.</p>'
)


def test_gemini_math_tables_and_code_labels(context):
    site = gemini.serve(context)
    route_extension_modules(context, "https://gemini.google.com")
    tab = site.open("a1b2c3d4e5", turns=[("user", "Explain"), ("assistant", GEMINI_ANSWER)])
    text = tab.page.evaluate(READ_ADAPTER, ["gemini", None])["turns"][1]["text"]
    assert text == (
        "Energy is $E = mc^2$ and the integral is:\n\n"
        "$$\n\\int_0^1 x\\,dx = \\tfrac{1}{2}\n$$\n\n"
        "| Model | **Speed** |\n| --- | --- |\n| Flash | Fast |\n| Pro | Thorough |\n\n"
        '```\nprint("hi")\n```\n\n'
        "```markdown\n# Title\n- item\n```\n\n"
        # A formula with no TeX anywhere keeps the text it shows.
        "Shown without TeX: E=mc2."
    )


# ---- Claude ------------------------------------------------------------------------------


def test_claude_user_turn_keeps_lists_and_line_breaks(context):
    user = (
        '<p class="whitespace-pre-wrap break-words">Compare these two,\nbriefly:</p>'
        '<ul class="[&amp;:not(:last-child)_ul]:pb-1 list-disc space-y-2.5 pl-7">'
        '<li class="whitespace-normal break-words">the <code class="bg-text-200/5">sqlite</code> way</li>'
        # A line break in the Markdown source of a list item shows as a space.
        '<li class="whitespace-normal break-words">the <strong>Postgres</strong>\nway</li></ul>'
        '<p class="whitespace-pre-wrap break-words">Thanks</p>'
    )
    got = read_adapter(context, "https://claude.ai/chat/list-1", capture_page(user=user), "claude")
    assert got["turns"][0] == {
        "role": "user",
        "text": "Compare these two,\nbriefly:\n\n- the `sqlite` way\n- the **Postgres** way\n\nThanks",
        "message_id": None,
    }


# Claude's widgets between an answer's text parts: an artifact card (title, "Code ·
# HTML", a truncated preview of the document as literal text) and a tool block.
ARTIFACT_CARD = artifact_card("Landing page", "Code · HTML", '<!DOCTYPE html>\n<html lang="en">\n<head>\n## Features\n- fast')
TOOL_BLOCK = (
    '<div class="ease-out transition-all flex flex-col font-ui leading-normal rounded-lg border-0.5">'
    '<button class="group/row flex flex-row items-center rounded-lg px-3 py-2"><span>Creating the landing page</span>'
    '</button><div class="flex flex-row items-center gap-2 px-3 pb-2 text-text-300 text-sm">'
    '<div class="rounded-full bg-success-100 size-2"></div><span>Done</span></div></div>'
)


def test_claude_answer_leaves_out_widgets(context):
    answer = (
        markdown_part('<p class="font-claude-response-body">Here is the page:</p>')
        + ARTIFACT_CARD
        + TOOL_BLOCK
        + markdown_part('<p class="font-claude-response-body">Open it in a browser, then <code>Ctrl+R</code>.</p>')
    )
    got = read_adapter(context, "https://claude.ai/chat/widgets-1", capture_page(answers=(answer,)), "claude")
    assert got["turns"][1]["text"] == "Here is the page:\n\nOpen it in a browser, then `Ctrl+R`."
    # Markup with no text blocks Claude's way: the whole answer's visible text,
    # the artifact card still left out.
    plain = answer.replace("standard-markdown", "reply-text")
    got = read_adapter(context, "https://claude.ai/chat/widgets-2", capture_page(answers=(plain,)), "claude")
    text = got["turns"][1]["text"]
    assert text.startswith("Here is the page:\n\n") and text.endswith("Open it in a browser, then `Ctrl+R`.")
    assert "Code · HTML" not in text and "DOCTYPE" not in text and "Landing page" not in text


# ---- ChatGPT titles ----------------------------------------------------------------------

CHAT_ID = "6979a1b2-0c3d-8e4f"


def sidebar_item(conversation_id: str, title: str, active: bool) -> str:
    """A chat in chatgpt.com's sidebar, with its options button."""
    return (
        f'<a tabindex="0" data-fill="" class="group __menu-item hoverable"{" data-active" if active else ""} '
        f'draggable="true" data-discover="true" href="/c/{conversation_id}"><div class="flex min-w-0 grow items-center '
        f'gap-2.5"><div class="truncate"><span class="" dir="auto">{title}</span></div></div>'
        '<div class="trailing highlight text-token-text-tertiary"><button tabindex="0" data-trailing-button="" '
        'class="__menu-item-trailing-btn" data-testid="history-item-0-options" aria-label="Open conversation options">'
        '<div><svg width="20" height="20" aria-hidden="true"></svg></div></button></div></a>'
    )


SIDEBAR = (
    '<nav class="group/scrollport relative flex h-full w-full flex-1 flex-col" aria-label="Chat history">'
    '<aside class="pt-2"><h2 class="__menu-label">Chats</h2><div id="history">'
    + sidebar_item("68f0aaaa-1111-2222", "Packing list for Kyoto", False)
    + sidebar_item(CHAT_ID, "What ChatGPT can do", True)
    + "</div></aside></nav>"
)


def chatgpt_page(title: str, sidebar: str = SIDEBAR) -> str:
    page = real_capture_html(CHATGPT_SIMPLE, title)
    return page.replace("<body>", "<body>" + sidebar, 1)


@pytest.mark.parametrize(
    ("title", "path", "sidebar", "expected"),
    [
        ("Kyoto trip", CHAT_ID, SIDEBAR, "Kyoto trip"),
        ("ChatGPT - Kyoto trip", CHAT_ID, SIDEBAR, "Kyoto trip"),
        ("Kyoto trip | ChatGPT", CHAT_ID, SIDEBAR, "Kyoto trip"),
        # The tab says only "ChatGPT": the sidebar's item for this chat ...
        ("ChatGPT", "68f0aaaa-1111-2222", SIDEBAR, "Packing list for Kyoto"),
        # ... else its current item, and null only when the page has no title at all.
        ("ChatGPT", "77aa0000-9999", SIDEBAR, "What ChatGPT can do"),
        ("ChatGPT", CHAT_ID, "", None),
    ],
)
def test_chatgpt_title_from_the_page(context, title, path, sidebar, expected):
    got = read_adapter(context, f"https://chatgpt.com/c/{path}", chatgpt_page(title, sidebar), "chatgpt")
    assert got["title"] == expected
    assert len(got["turns"]) == 9  # the sidebar is not read as turns


def test_chatgpt_answer_in_parts_keeps_every_part(context):
    # An answer written around a card (a canvas, a tool call): text, card, text.
    answer = (
        '<div class="flex w-full flex-col gap-1 empty:hidden first:pt-[3px]"><div class="markdown prose w-full '
        'break-words dark:prose-invert light markdown-new-styling"><p>Here is a first draft.</p></div></div>'
        '<div class="my-4"><div class="flex items-center gap-2 rounded-2xl border"><span>kyoto-itinerary.md</span>'
        "<button>Open</button></div></div>"
        '<div class="flex w-full flex-col gap-1 empty:hidden"><div class="markdown prose w-full break-words '
        'dark:prose-invert light markdown-new-styling"><p>Tell me what to change.</p></div></div>'
    )
    page = real_capture_html(CHATGPT_SIMPLE)
    page = set_children(page, page.rindex("<div", 0, must_find(page, 'data-message-author-role="assistant"')), answer)
    got = read_adapter(context, f"https://chatgpt.com/c/{CHAT_ID}", page, "chatgpt")
    assert got["turns"][1]["text"] == "Here is a first draft.\n\nTell me what to change."
