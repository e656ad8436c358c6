"""A turn's parts besides its text, read by the site adapters (issue 13 items 2 and 4) on
the real captures in ../shared/fixtures/real/ with the components they lack placed where
the sites put them:

- a ChatGPT canvas: the card `div[id^="textdoc-message-"]` with its title in
  `span.min-w-0.truncate` (the structure tools reading chatgpt.com rely on), holding a
  real ChatGPT CodeMirror editor (chatgpt-fragments-2026) for code, or rich text for a
  document; CodeMirror 6 names its language in `data-language` on `.cm-content`;
- ChatGPT's "Thought for 12s" toggle and a reasoning summary shown with it;
- Gemini's open "Show thinking" (`model-thoughts`, in the real capture's empty
  `.thoughts-container`);
- Claude's extended thinking: the answer as a two-row grid, the thinking's
  `.standard-markdown` chunks in a `group/thinking` block in the first row (in the DOM
  even while collapsed), the answer in the second (the structure measured on claude.ai
  by obsidian-AI-exporter, docs/investigation/claude-extended-thinking-dom.md);
- Claude's artifacts: cards in the answers of the real conversation (sitepages.claude)
  and the real open artifact panel (`#markdown-artifact`, claude-artifacts.html) beside
  the thread, as claude.ai shows them.
"""

from __future__ import annotations

import pytest
from sitepages import claude
from sitepages.base import (
    READ_ADAPTER,
    must_find,
    open_markup,
    read_adapter,
    read_capture,
    real_capture_html,
    set_children,
)
from sitepages.chatgpt import canvas, codemirror_editor

pytestmark = pytest.mark.browser

CHATGPT_SIMPLE = "chatgpt-pages-2026-01/chatgpt-chat-simple.2026-01-29.html"
GEMINI_SIMPLE = "gemini-pages-2026-01/gemini-chat-simple.2026-01-29.html"
CLAUDE_PANEL = "claude-pages-2026-01/claude-artifacts.html"
REPORT = "Claude Code：AI がプログラミングを手伝ってくれるツール"  # the panel's document's heading


def markdown_part(html: str) -> str:
    return f'<div class="markdown prose dark:prose-invert w-full wrap-break-word dark markdown-new-styling">{html}</div>'


def chatgpt_page(answer: str) -> str:
    """The real ChatGPT capture with its first answer's content replaced."""
    page = real_capture_html(CHATGPT_SIMPLE)
    at = must_find(page, 'data-message-author-role="assistant"')
    return set_children(page, must_find(page, '<div class="flex w-full flex-col gap-1', at), answer)


def test_chatgpt_canvas_and_thinking_are_kept_apart_from_the_text(context):
    doc = (
        '<div class="ProseMirror markdown prose" contenteditable="true"><h1>Launch plan</h1>'
        "<ul><li><p>Ship on Monday</p></li><li><p>Tell the team</p></li></ul></div>"
    )
    answer = (
        '<div class="truncate"><button class="flex items-center gap-1">Thought for 12s</button></div>'
        '<div class="text-token-text-secondary markdown prose"><p>Weighing a generator against a list.</p></div>'
        + markdown_part("<p>Here is the generator:</p>")
        + canvas("a1", "fibonacci.py", codemirror_editor("python"))
        + markdown_part("<p>And the plan:</p>")
        + canvas("b2", "Launch plan", doc)
    )
    got = read_adapter(context, "https://chatgpt.com/c/6979a1b2-0c3d-8e4f", chatgpt_page(answer), "chatgpt")
    turn = got["turns"][1]
    assert turn["text"] == "Here is the generator:\n\nAnd the plan:"
    assert turn["thinking"] == "Thought for 12s\n\nWeighing a generator against a list."
    code, plan = turn["documents"]
    assert (code["title"], code["kind"], code["language"]) == ("fibonacci.py", "code", "python")
    assert code["text"].startswith("def fibonacci_generator(n):\n    a, b = 0, 1\n    for _ in range(n):\n")
    assert plan == {"title": "Launch plan", "kind": "document", "text": "# Launch plan\n\n- Ship on Monday\n- Tell the team"}
    # The other turns of the real capture carry no parts.
    assert all("documents" not in t and "thinking" not in t for k, t in enumerate(got["turns"]) if k != 1)


def test_gemini_open_thinking_is_kept_apart_from_the_answer(context):
    page = real_capture_html(GEMINI_SIMPLE)
    thoughts = (
        '<model-thoughts data-test-id="model-thoughts"><button data-test-id="thoughts-header-button">Show thinking'
        '</button><div data-test-id="thoughts-content" class="thoughts-content"><message-content>'
        '<div class="markdown"><p><strong>Answering briefly</strong></p><p>The user wants a yes.</p></div>'
        "</message-content></div></model-thoughts>"
    )
    page = set_children(page, must_find(page, '<div _ngcontent-ng-c3491825120="" class="thoughts-container">'), thoughts)
    got = read_adapter(context, "https://gemini.google.com/app/6cc71b18a6f630bb", page, "gemini")
    answer = got["turns"][1]
    assert answer["text"] == "はい"
    assert answer["thinking"] == "**Answering briefly**\n\nThe user wants a yes."
    assert answer["message_id"] == "r_6cc71b18a6f630bb"


def test_real_extension_keeps_a_canvas_and_its_earlier_version(browser_ctx):
    """The real extension on the ChatGPT page built from the real capture: a canvas appears
    in the answer, then the person edits it; the vault holds the new document on the turn
    and the earlier one as an `edited` version, the answer's text unchanged."""
    from sitepages import chatgpt
    from sitepages.base import wait_for

    server = browser_ctx.server
    site = chatgpt.serve(browser_ctx.context)
    tab = site.open("canvas-1", turns=[("user", "Plan the launch"), ("assistant", "Here is a plan.")], title="Launch")

    def detail():
        items = [c for c in server.api("GET", "/api/conversations")["items"] if c["conversation_id"] == "canvas-1"]
        return items and server.api("GET", f"/api/conversations/{items[0]['id']}")

    card = canvas("c3", "Launch plan", '<div class="ProseMirror markdown prose"><h1>Launch plan</h1><p>Ship on Monday</p></div>')
    tab.page.evaluate("(html) => { [...document.querySelectorAll('[data-message-author-role=\"assistant\"]')].at(-1)"
                      ".insertAdjacentHTML('beforeend', html); }", card)
    first = wait_for(lambda: (d := detail()) and d["turns"][-1].get("documents") and d, what="the canvas")
    assert first["turns"][-1]["documents"] == [{"title": "Launch plan", "kind": "document", "text": "# Launch plan\n\nShip on Monday"}]
    assert first["turns"][-1]["text"] == "Here is a plan."
    tab.page.evaluate("() => { document.querySelector('#textdoc-message-c3 .ProseMirror p').textContent = 'Ship on Tuesday'; }")
    d = wait_for(lambda: (d := detail()) and d["branches"] and d, what="the earlier version")
    assert d["turns"][-1]["documents"][0]["text"] == "# Launch plan\n\nShip on Tuesday"
    (branch,) = d["branches"]
    assert (branch["reason"], branch["from_index"]) == ("edited", 1)
    assert branch["turns"][0]["documents"][0]["text"] == "# Launch plan\n\nShip on Monday"


def claude_thinking(chunks: list[str], answer: str, rows: str = "0fr_1fr") -> str:
    """An answer with extended thinking, as claude.ai lays it out (collapsed: 0fr_1fr)."""
    parts = "".join(f'<div class="standard-markdown">{chunk}</div>' for chunk in chunks)
    return (
        f'<div class="grid grid-rows-[{rows}]"><div class="row-start-1"><div style="overflow:hidden; min-height:0;">'
        '<div class="group/thinking border rounded"><div><button>Claude\'s Thoughts</button><div><div>'
        f'<div class="grid">{parts}</div></div></div></div></div></div></div>'
        f'<div class="row-start-2"><div>{answer}</div></div></div>'
    )


def test_claude_thinking_is_kept_apart_from_the_answer_collapsed_or_open(context):
    chunks = ["<p>The user wants <strong>one word</strong>.</p>", "<ul><li>yes</li><li>no</li></ul>"]
    answer = claude.markdown_part("<p>はい</p>")
    for rows in ("0fr_1fr", "1fr_1fr"):
        page = claude.capture_page(answers=(claude_thinking(chunks, answer, rows),))
        turns = read_adapter(context, f"https://claude.ai/chat/think-{rows[0]}", page, "claude")["turns"]
        assert turns[1]["text"] == "はい"
        assert turns[1]["thinking"] == "The user wants **one word**.\n\n- yes\n- no"
        assert all("thinking" not in t for k, t in enumerate(turns) if k != 1)


def claude_with_panel(*answers: str) -> str:
    """The real Claude conversation with these answers, the real artifact panel open beside it."""
    return claude.capture_page(answers=answers).replace("</body>", read_capture(CLAUDE_PANEL) + "</body>", 1)


# Moves the open panel out of the page and back (JS: [action, text]): "close" removes it,
# "edit" puts it back with its first paragraph's text replaced (a new version).
PANEL_ACTION = """([action, text]) => {
  const panel = document.querySelector('#markdown-artifact');
  if (action === 'close') { window.__panel = panel; panel.remove(); return; }
  window.__panel.querySelector('p').textContent = text;
  document.body.append(window.__panel);
}"""


def test_claude_artifact_in_the_open_panel_joins_the_turn_of_its_card(context):
    landing = claude.artifact_card("Landing page", "Code · HTML", '<!DOCTYPE html>\n<html lang="en">')
    report = claude.artifact_card(REPORT, "Document", f"# {REPORT}\n\n**Claude Code は")
    page = open_markup(context, "https://claude.ai/chat/art-2", claude_with_panel(
        claude.markdown_part("<p>The page:</p>") + landing, claude.markdown_part("<p>The report:</p>") + report))
    shown = page.evaluate(READ_ADAPTER, ["claude", "#markdown-artifact"])["turns"][0]["text"]
    assert shown.startswith(f"# {REPORT}\n\n**Claude Code は、Anthropic が開発した")
    got = page.evaluate(READ_ADAPTER, ["claude", None])
    assert got["listed"] == 4  # the panel is no turn
    turns = got["turns"]
    # The card titled as the panel's document gets the whole of it; its preview is no text.
    assert turns[3]["text"] == "The report:"
    assert turns[3]["documents"] == [{"title": REPORT, "kind": "document", "text": shown}]
    # The other card was never opened: no document, and only its words as text.
    assert turns[1]["text"] == "The page:" and "documents" not in turns[1]
    # Closed, the panel's document stays with its turn; edited, the turn holds the new text.
    page.evaluate(PANEL_ACTION, ["close", ""])
    assert page.evaluate(READ_ADAPTER, ["claude", None])["turns"][3]["documents"][0]["text"] == shown
    page.evaluate(PANEL_ACTION, ["edit", "Version two."])
    (doc,) = page.evaluate(READ_ADAPTER, ["claude", None])["turns"][3]["documents"]
    assert doc["text"].startswith(f"# {REPORT}\n\nVersion two.\n\n## そもそも Claude Code とは何か")


def test_claude_artifact_matched_by_its_preview_or_as_the_only_one(context):
    # Titles unlike the document's heading: the card whose preview starts like the panel.
    other = claude.artifact_card("Notes", "Document", "# Shopping\n- milk")
    guide = claude.artifact_card("Claude Code guide", "Document", f"# {REPORT}\n\n**Claude Code は、Anthropic")
    got = read_adapter(context, "https://claude.ai/chat/art-3", claude_with_panel(guide, other), "claude")
    assert [d["title"] for d in got["turns"][1].get("documents", [])] == ["Claude Code guide"]
    assert "documents" not in got["turns"][3]
    # One artifact in the chat (its versions titled alike): its last card, whatever its preview.
    again = claude.artifact_card("Guide", "Document", "")
    got = read_adapter(context, "https://claude.ai/chat/art-4", claude_with_panel(again, again), "claude")
    assert "documents" not in got["turns"][1] and got["turns"][3]["documents"][0]["title"] == "Guide"
    # Two artifacts and nothing that names the panel's: attached to neither.
    got = read_adapter(context, "https://claude.ai/chat/art-5", claude_with_panel(again, other), "claude")
    assert all("documents" not in t for t in got["turns"])


def test_claude_code_artifact_from_the_panel_is_fenced_code(context):
    card = claude.artifact_card("Landing page", "Code · HTML", '<!DOCTYPE html>\n<html lang="en">')
    page = claude_with_panel(claude.markdown_part("<p>Here it is.</p>") + card)
    markdown = must_find(page, 'class="standard-markdown grid-cols-1 grid [&amp;_&gt;_*]:min-w-0 gap-3 !gap-3.5"')
    code = '<pre><code class="language-html">&lt;!DOCTYPE html&gt;\n&lt;html lang="en"&gt;&lt;/html&gt;\n</code></pre>'
    got = read_adapter(context, "https://claude.ai/chat/art-6", set_children(page, page.rindex("<div", 0, markdown),
                                                                             f"<div>{code}</div>"), "claude")
    assert got["turns"][1]["documents"] == [
        {"title": "Landing page", "kind": "code", "language": "html", "text": '<!DOCTYPE html>\n<html lang="en"></html>\n'}
    ]


def test_real_extension_keeps_a_claude_artifact_from_the_panel_and_its_earlier_version(browser_ctx):
    """The real extension on the Claude page built from the real capture: the answer shows
    an artifact's card, then the person opens the real panel beside the thread, then the
    artifact changes there; the vault holds the panel's text as the answer's document and
    the earlier text as an `edited` version, the answer's text unchanged."""
    from sitepages.base import route_extension_modules, wait_for

    server = browser_ctx.server
    site = claude.serve(browser_ctx.context)
    route_extension_modules(browser_ctx.context, "https://claude.ai")  # to read the panel as the adapter does
    tab = site.open("art-live-1", turns=[("user", "Write the report"), ("assistant", "Here is the report.")], title="Report")

    def detail():
        items = [c for c in server.api("GET", "/api/conversations")["items"] if c["conversation_id"] == "art-live-1"]
        return items and server.api("GET", f"/api/conversations/{items[0]['id']}")

    card = claude.artifact_card(REPORT, "Document", f"# {REPORT}")
    tab.page.evaluate("(html) => { [...document.querySelectorAll('.font-claude-response')].at(-1)"
                      ".insertAdjacentHTML('beforeend', html); }", card)
    tab.page.evaluate("(html) => document.body.insertAdjacentHTML('beforeend', html)", read_capture(CLAUDE_PANEL))
    shown = tab.page.evaluate(READ_ADAPTER, ["claude", "#markdown-artifact"])["turns"][0]["text"]
    first = wait_for(lambda: (d := detail()) and d["turns"][-1].get("documents") and d, what="the artifact")
    assert first["turns"][-1]["documents"] == [{"title": REPORT, "kind": "document", "text": shown}]
    assert first["turns"][-1]["text"] == "Here is the report."
    assert "documents" not in first["turns"][0]
    tab.page.evaluate("() => { document.querySelector('#markdown-artifact p').textContent = 'Version two.'; }")
    d = wait_for(lambda: (d := detail()) and d["branches"] and d, what="the earlier version")
    assert d["turns"][-1]["documents"][0]["text"].startswith(f"# {REPORT}\n\nVersion two.\n\n")
    (branch,) = d["branches"]
    assert (branch["reason"], branch["from_index"]) == ("edited", 1)
    assert branch["turns"][0]["documents"][0]["text"] == shown


def test_real_extension_keeps_claude_thinking_out_of_the_answer(browser_ctx):
    """The real extension on the Claude page built from the real capture: an answer with
    collapsed extended thinking reaches the vault with the thinking apart from its text."""
    from sitepages.base import wait_for

    server = browser_ctx.server
    tab = claude.serve(browser_ctx.context).open("think-live-1", turns=[("user", "Yes or no?")], title="Yes")
    answer = claude_thinking(["<p>One word is <em>enough</em>.</p>"], claude.markdown_part("<p>Yes.</p>"))
    tab.page.evaluate("(html) => { const turn = [...document.querySelectorAll('[data-test-render-count]')].at(-1);"
                      " const reply = document.createElement('div'); reply.setAttribute('data-test-render-count', '1');"
                      " reply.innerHTML = `<div class=\"font-claude-response\" data-is-streaming=\"false\">${html}</div>`;"
                      " turn.after(reply); }", answer)

    def stored():
        items = [c for c in server.api("GET", "/api/conversations")["items"] if c["conversation_id"] == "think-live-1"]
        d = items and server.api("GET", f"/api/conversations/{items[0]['id']}")
        return d if d and len(d["turns"]) == 2 and d["turns"][1].get("thinking") else None

    d = wait_for(stored, what="the answer with its thinking")
    assert (d["turns"][1]["text"], d["turns"][1]["thinking"]) == ("Yes.", "One word is *enough*.")
