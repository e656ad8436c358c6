"""The site adapters (extension/sites/*.js) and content/dom-to-markdown.js on the real captures
in ../shared/fixtures/real/, each served at its site's URL in plain Chromium with the
extension's modules imported the way the content script imports them.

Expected values were read off the captures by hand (turn texts, code languages,
tables, citation URLs); the chatgpt-fragments captures come with their authors'
expected Markdown, which the checks follow.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
from sitepages import chatgpt, gemini
from sitepages.base import READ_ADAPTER as READ
from sitepages.base import (
    REAL_FIXTURES,
    REPO,
    open_markup,
    read_adapter,
    read_served,
    real_capture_html,
    route_extension_modules,
)

pytestmark = pytest.mark.browser

CHATGPT_SIMPLE = "chatgpt-pages-2026-01/chatgpt-chat-simple.2026-01-29.html"
CHATGPT_CODE = "chatgpt-pages-2026-01/chatgpt-chat-code.html"
CODEMIRROR = "chatgpt-fragments-2026/codeblocks--chatgpt-codemirror.html"
CITATIONS = "chatgpt-fragments-2026/extractor--chatgpt-citations.html"
CLAUDE_SIMPLE = "claude-pages-2026-01/claude-chat-simple.2026-01-29.html"
CLAUDE_ARTIFACT = "claude-pages-2026-01/claude-artifacts.html"
GEMINI_SIMPLE = "gemini-pages-2026-01/gemini-chat-simple.2026-01-29.html"
COVERED = {CHATGPT_SIMPLE, CHATGPT_CODE, CODEMIRROR, CITATIONS, CLAUDE_SIMPLE, CLAUDE_ARTIFACT, GEMINI_SIMPLE}

FILL = """async ([site, text]) => {
  const a = (await import('/__dv_ext/sites/' + site + '.js')).default;
  const ok = a.fillComposer(document, text);
  return {ok, draft: a.readDraft(document)};
}"""


def read(context, url: str, capture: str, site: str, *, title=None, selector=None) -> dict:
    return read_adapter(context, url, real_capture_html(capture, title), site, selector)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_every_real_capture_is_covered():
    found = {
        str(p.relative_to(REAL_FIXTURES))
        for prefix in ("chatgpt-", "claude-", "gemini-")
        for p in REAL_FIXTURES.glob(f"{prefix}*/*.html")
    }
    assert found == COVERED


# ---- ChatGPT ---------------------------------------------------------------------------


def test_chatgpt_real_conversation(context):
    got = read(context, "https://chatgpt.com/c/6979a1b2-0c3d-8e4f", CHATGPT_SIMPLE, "chatgpt",
               title="ChatGPTの機能 - ChatGPT")
    assert got["id"] == "6979a1b2-0c3d-8e4f"
    assert got["title"] == "ChatGPTの機能"
    assert got["model"] == "5.2"  # "Model selector, current model is 5.2"
    assert got["draft"] == ""  # the empty ProseMirror composer
    assert (got["streaming"], got["error"], got["loggedOut"], got["ignore"]) == (False, None, False, False)
    turns = got["turns"]
    assert [t["role"] for t in turns] == ["user", "assistant"] * 4 + ["assistant"]
    assert turns[0]["message_id"] == "431e2776-4dc3-4ade-a109-25619a1f7f21"
    assert turns[0]["text"] == "ChatGPTのhtml構造をテストするための質問です。「はい」とだけ答えて。"
    assert [turns[1]["text"], turns[2]["text"], turns[3]["text"]] == ["はい", "次は「いいえ」だけ答えて", "いいえ"]
    assert squash(turns[4]["text"]) == "この Research 依頼はテスト用です。最小のリサーチ結果を提供してください。"
    report = turns[8]["text"]
    assert report.startswith("# ChatGPTの機能概要\n\nChatGPTは会話形式のAIアシスタントで、**質問回答や概念説明**、")
    assert "\n\n## 主な機能・特徴\n\n- **文章生成・編集**：メールやブログ記事" in report
    assert "\n- **翻訳**：多言語間の翻訳も得意で" in report
    # Citation pills are links to their source.
    assert (
        "[help.openai.com](https://help.openai.com/en/articles/9260256-chatgpt-capabilities-overview#:~:text=,concepts)"
        in report
    )
    assert "[openai.com](https://openai.com/index/gpt-4-research/#:~:text=In%20a%20casual%20conversation%2C%20the,5)" in report
    assert "Research completed" not in report  # the button under the answer is chrome


def test_chatgpt_urls(context):
    page = open_markup(context, "https://chatgpt.com/", "<html><body></body></html>")
    urls = {
        "https://chatgpt.com/g/g-p-67a0b1c2d3-notes/c/68b1c2d3-aaaa-bbbb": ("68b1c2d3-aaaa-bbbb", False, False),
        "https://chat.openai.com/c/abc-123-def": ("abc-123-def", False, False),
        "https://chatgpt.com/?temporary-chat=true": (None, True, False),
        "https://chatgpt.com/": (None, False, False),
        "https://chatgpt.com/share/67e0-aaaa": (None, False, True),
    }
    for url, expected in urls.items():
        got = page.evaluate(
            """async (url) => { const a = (await import('/__dv_ext/sites/chatgpt.js')).default;
                 const loc = new URL(url); return [a.conversationId(loc), a.temporary(loc), a.ignore(loc)]; }""",
            url,
        )
        assert tuple(got) == expected, url


def test_chatgpt_code_block_keeps_language_and_code(context):
    got = read(context, "https://chatgpt.com/c/code-1", CHATGPT_CODE, "chatgpt")
    user, answer = got["turns"]
    assert (user["role"], user["message_id"]) == ("user", "msg-0")
    assert user["text"] == "Write a function to check if a number is prime in TypeScript."
    assert got["model"] == "gpt-4"  # no switcher: the message's model slug
    source = (REAL_FIXTURES / CHATGPT_CODE).read_text()
    code = html.unescape(re.search(r'<code class="language-typescript">(.*?)</code>', source, re.S).group(1))
    assert answer["text"] == (
        "Here's a TypeScript function to check if a number is prime:\n\n"
        f"```typescript\n{code.rstrip()}\n```\n\n"
        "This implementation uses the 6k±1 optimization for better performance."
    )


def test_chatgpt_codemirror_block_without_code_element(context):
    got = read(context, "https://chatgpt.com/c/cm-1", CODEMIRROR, "chatgpt", selector="main")
    text = got["turns"][0]["text"]
    expected = (REAL_FIXTURES / CODEMIRROR.replace(".html", ".md")).read_text()
    expected_code = re.search(r"```python\n.*?\n```", expected, re.S).group(0)
    got_code = re.search(r"```python\n.*?\n```", text, re.S).group(0)
    # The capture's CodeMirror has one more empty line than its authors' Markdown keeps.
    assert re.sub(r"\n{3,}", "\n\n", got_code) == expected_code
    assert "Copy" not in text and "Run" not in text
    assert text.endswith("This uses Python's `yield` keyword to lazily produce each number.")


def test_chatgpt_citations_tables_and_lists(context):
    got = read(context, "https://chatgpt.com/c/cit-1", CITATIONS, "chatgpt")
    user, answer = got["turns"]
    assert user["role"] == "user" and user["text"].startswith("How do I choose a good air purifier")
    text = answer["text"]
    expected = (REAL_FIXTURES / CITATIONS.replace(".html", ".md")).read_text()
    # Every source the authors list is cited as a link, in the pill's place.
    for url in re.findall(r"^\[\^\d+\]: \[[^\]]+\]\(([^)]+)\)", expected, re.M):
        assert f"]({url})" in text
    assert text.count("](https://") == 9  # one per citation pill
    assert "[US EPA](https://www.epa.gov/indoor-air-quality-iaq/what-hepa-filter?utm_source=chatgpt.com)" in text
    assert "[WIRED](https://www.wired.com/story/" in text
    assert "+1" not in text and "+2" not in text
    assert "### The 5 most important things to look for" in text
    assert "#### 1. **CADR (Clean Air Delivery Rate) — the most important specification**" in text
    assert "\n- Allergies\n- Pet dander\n- Dust\n- Pollen\n" in text
    assert "\n1. your bedroom size (m²),\n2. whether you have allergies" in text
    assert "\n---\n" in text
    # The table: header, separator, rows; the pictures' buttons are chrome.
    rows = [line for line in text.split("\n") if line.startswith("|")]
    assert rows[0].startswith("| Attribute | Coway Airmega 100 ilmanpuhdistin")
    assert rows[1] == "| --- | --- | --- | --- |"
    assert rows[2:] == [
        "| Bedroom-focused | Yes | Yes | Yes |",
        "| HEPA-style particle filtration | Yes | Yes | Yes |",
        "| Quiet operation emphasis | Good | Strong | Moderate |",
        "| Smart features | Limited | More extensive | Available on some versions |",
        "| Budget level | Mid-range | Mid-to-premium | Budget-to-mid |",
    ]


# KaTeX and images do not occur in the captures: this answer is KaTeX's documented
# output and ChatGPT's image markup, inside the real turn template.
MATH_ANSWER = (
    '<p>Energy is <span class="katex"><span class="katex-mathml"><math><semantics><mrow><mi>E</mi></mrow>'
    '<annotation encoding="application/x-tex">E = mc^2</annotation></semantics></math></span>'
    '<span class="katex-html" aria-hidden="true"><span class="base">E=mc2</span></span></span> and:</p>'
    '<span class="katex-display"><span class="katex"><span class="katex-mathml"><math display="block"><semantics>'
    '<annotation encoding="application/x-tex">\\int_0^1 x\\,dx = \\tfrac12</annotation></semantics></math></span>'
    '<span class="katex-html" aria-hidden="true">∫</span></span></span>'
    '<ul><li><p>outer <em>one</em></p><ul><li><p>inner <code>x[0]</code></p></li></ul></li><li><p>outer two</p></li></ul>'
    '<blockquote><p>quoted <a href="https://example.org/a">link</a></p></blockquote>'
    '<p><img alt="A diagram of the pipeline" src="https://files.oaiusercontent.com/file-abc"></p>'
)


def test_chatgpt_math_images_nested_lists(context):
    got = read_served(context, chatgpt.serve, "math-1", [("user", "Explain"), ("assistant", MATH_ANSWER)])
    assert got["turns"][1]["text"] == (
        "Energy is $E = mc^2$ and:\n\n"
        "$$\n\\int_0^1 x\\,dx = \\tfrac12\n$$\n\n"
        "- outer *one*\n  - inner `x[0]`\n- outer two\n\n"
        "> quoted [link](https://example.org/a)\n\n"
        "[Image: A diagram of the pipeline]"
    )


def test_chatgpt_fill_composer_prosemirror_and_textarea(context):
    page = open_markup(context, "https://chatgpt.com/c/fill-1", real_capture_html(CHATGPT_SIMPLE))
    got = page.evaluate(FILL, ["chatgpt", "Resume this chat.\nSecond line"])
    assert got == {"ok": True, "draft": "Resume this chat.\nSecond line"}
    old = open_markup(context, "https://chatgpt.com/c/fill-2",
                      '<html><body><form><textarea id="prompt-textarea"></textarea></form></body></html>')
    old.evaluate("document.querySelector('textarea').addEventListener('input', () => window.seen = true)")
    assert old.evaluate(FILL, ["chatgpt", "hello"]) == {"ok": True, "draft": "hello"}
    assert old.evaluate("window.seen") is True  # React listens for input events


def test_unknown_markup_yields_nothing_and_no_error(context):
    page = open_markup(context, "https://chatgpt.com/c/odd-1",
                       "<html><body><main><div class='new-layout'><p>Hello</p></div></main></body></html>")
    got = page.evaluate(READ, ["chatgpt", None])
    assert (got["id"], got["turns"], got["draft"], got["title"], got["model"]) == ("odd-1", [], None, None, None)


# ---- Claude and Gemini -----------------------------------------------------------------


def test_claude_real_conversation(context):
    got = read(context, "https://claude.ai/chat/5e1f2a3b-4c5d-6e7f", CLAUDE_SIMPLE, "claude")
    assert got["id"] == "5e1f2a3b-4c5d-6e7f"
    assert got["title"] == "Claude の HTML構造テスト"
    assert got["model"] == "Opus 4.5"
    assert (got["draft"], got["streaming"], got["loggedOut"]) == ("", False, False)
    assert [(t["role"], t["text"]) for t in got["turns"]] == [
        ("user", "Claude の html構造をテストするための質問です。「はい」とだけ答えて。"),
        ("assistant", "はい"),
        ("user", "次は「いいえ」だけ答えて。"),
        ("assistant", "いいえ"),
    ]
    page = open_markup(context, "https://claude.ai/chat/fill-1", real_capture_html(CLAUDE_SIMPLE))
    assert page.evaluate(FILL, ["claude", "Continue please"]) == {"ok": True, "draft": "Continue please"}


def test_claude_artifact_panel(context):
    got = read(context, "https://claude.ai/chat/art-1", CLAUDE_ARTIFACT, "claude", selector="#markdown-artifact")
    assert got["listed"] == 0  # the panel alone is not a chat turn
    (turn,) = got["turns"]
    text = turn["text"]
    assert turn["role"] == "assistant"
    assert text.startswith("# Claude Code：AI がプログラミングを手伝ってくれるツール\n\n**Claude Code は、Anthropic が開発した")
    assert "\n\n## そもそも Claude Code とは何か\n\n" in text
    assert "[Anthropic +2](https://support.anthropic.com/en/articles/8325610-how-much-does-claude-pro-cost)" in text
    assert "[GitHub](https://github.com/anthropics/claude-code)" in text
    assert "あの画面で `claude` と入力するだけで起動できます。" in text
    assert "| プラン名 | 月額料金 | 特徴 |\n| --- | --- | --- |\n| **Pro** | $20（約3,000円） | 個人利用の基本プラン。小規模なプロジェクト向け |" in text
    assert "| **Team** | $25〜/ユーザー | 5人以上のチーム向け |" in text
    assert "\n\n---\n\n## まとめ\n\n" in text


def test_gemini_real_conversation(context):
    got = read(context, "https://gemini.google.com/app/6cc71b18a6f630bb", GEMINI_SIMPLE, "gemini")
    assert got["id"] == "6cc71b18a6f630bb"
    assert got["model"] == "高速モード"
    assert (got["draft"], got["streaming"], got["loggedOut"]) == ("", False, False)
    turns = got["turns"]
    assert [(t["role"], t["message_id"]) for t in turns] == [
        ("user", "6cc71b18a6f630bb"),
        ("assistant", "r_6cc71b18a6f630bb"),
        ("user", "8ddc76bba1b10837"),
        ("assistant", "r_8ddc76bba1b10837"),
    ]
    assert squash(turns[0]["text"]) == "gemini chat の E2E テストのための質問をします。理解したら「はい」だけ回答してください。"
    assert [turns[1]["text"], turns[2]["text"], turns[3]["text"]] == [
        "はい",
        "ありがとうございます。次は「いいえ」と回答してください。",
        "いいえ",
    ]
    page = open_markup(context, "https://gemini.google.com/app/fill-1", real_capture_html(GEMINI_SIMPLE))
    assert page.evaluate(FILL, ["gemini", "Weiter bitte"]) == {"ok": True, "draft": "Weiter bitte"}


# Gemini's code block markup (not in the capture): the language sits in a header
# outside the <pre>.
GEMINI_CODE = (
    "<p>Like this:</p><code-block><div class=\"code-block\"><div class=\"code-block-decoration header-formatted\">"
    "<span>Python</span><div class=\"buttons\"><button aria-label=\"Copy code\">copy</button></div></div>"
    "<div class=\"formatted-code-block-internal-container\"><pre><code role=\"text\" data-test-id=\"code-content\" "
    "class=\"code-container formatted\">print(\"hi\")\nx = [1, 2]\n</code></pre></div></div></code-block>"
)


# A generated picture: an <img> inside the button that opens the viewer, beside buttons
# to share, copy and download it (the structure of a real gemini.google.com page of
# 2026-01 saved whole by obsidian-AI-exporter's authors, test/element-sample.html): its
# placeholder; the buttons' words and small icons are chrome.
GEMINI_PICTURE = (
    '<div><response-element><generated-image><single-image data-image-attachment-index="0"><div>'
    '<button><img loading="lazy" alt="A basket of bread" src="https://lh3.googleusercontent.com/gg/x=s1024"></button>'
    '<div overlay=""><share-button><button aria-label="Share image"><mat-icon fonticon="share"></mat-icon></button></share-button>'
    '<copy-button><button aria-label="Copy image"><img alt="copy" width="20" src="data:,"></button></copy-button>'
    '<download-generated-image-button><button aria-label="Download full size">Download</button>'
    '</download-generated-image-button></div></div></single-image></generated-image></response-element></div>'
)


@pytest.mark.parametrize("answer, text", [
    (GEMINI_CODE, 'Like this:\n\n```python\nprint("hi")\nx = [1, 2]\n```'),
    (GEMINI_PICTURE, "[Image: A basket of bread]"),
])
def test_gemini_code_block_language_and_picture(context, answer, text):
    got = read_served(context, gemini.serve, "c0de0123", [("user", "Show me"), ("assistant", answer)])
    assert got["turns"][1]["text"] == text


# A notice where the last answer should be, placed in the real page's last turn after its
# message (ChatGPT's red block with its Retry button), and error words in the answer itself.
NOTICE_IN_LAST_TURN = """(notice) => {
  const turns = document.querySelectorAll('article[data-testid^="conversation-turn"]');
  const last = turns[turns.length - 1];
  const md = last.querySelector(".markdown");
  md.insertAdjacentHTML("afterbegin", "<p>A network error occurred on the server, you said.</p>");
  md.closest("[data-message-author-role]").insertAdjacentHTML("afterend",
    '<div class="flex flex-col"><div class="text-token-text-error rounded-3xl border px-4 py-3">' + notice +
    '</div><button class="btn">Retry</button></div>');
}"""


def test_a_notice_in_a_real_turn_is_left_out_of_its_text(context):
    page = open_markup(context, "https://chatgpt.com/c/notice-1", real_capture_html(CHATGPT_SIMPLE))
    before = page.evaluate(READ, ["chatgpt", None])["turns"]
    page.evaluate(NOTICE_IN_LAST_TURN, "Message delivery timed out. Please try again.")
    after = page.evaluate(READ, ["chatgpt", None])["turns"]
    assert after[:-1] == before[:-1]
    assert after[-1]["text"] == "A network error occurred on the server, you said.\n\n" + before[-1]["text"]  # the answer's words
    assert after[-1]["notice"] == "Message delivery timed out. Please try again."
    assert all("notice" not in t for t in before + after[:-1])


# ---- the dialect's round trip ---------------------------------------------------------

STATIC_DIR = REPO / "server" / "draftvault" / "web" / "static"
HISTORY = "https://history.draftvault.test"
# Every real capture (and the KaTeX and Gemini code answers above), as an adapter reads it.
ROUND_TRIPS = [
    ("https://chatgpt.com/c/rt-1", CHATGPT_SIMPLE, "chatgpt", None),
    ("https://chatgpt.com/c/rt-2", CHATGPT_CODE, "chatgpt", None),
    ("https://chatgpt.com/c/rt-3", CODEMIRROR, "chatgpt", "main"),
    ("https://chatgpt.com/c/rt-4", CITATIONS, "chatgpt", None),
    ("https://claude.ai/chat/rt-5", CLAUDE_SIMPLE, "claude", None),
    ("https://claude.ai/chat/rt-6", CLAUDE_ARTIFACT, "claude", None),
    ("https://claude.ai/chat/rt-7", CLAUDE_ARTIFACT, "claude", "#markdown-artifact"),
    ("https://gemini.google.com/app/rt-8", GEMINI_SIMPLE, "gemini", None),
]

# The history page's renderers then the extension's readers on what they built: a
# user turn as typed (typed.js, read back as typed: plainText), the others' Markdown
# (markdown-to-dom.js in the page's .md body of a turn, read back by toMarkdown).
AGAIN = """async (turns) => {
  const { renderMarkdown } = await import('/__dv_static/markdown-to-dom.js');
  const { renderTyped } = await import('/__dv_static/typed.js');
  const { plainText, toMarkdown } = await import('/__dv_ext/content/dom-to-markdown.js');
  return turns.map(([role, text]) => {
    if (role === 'user') {
      document.body.replaceChildren(renderTyped(text));
      return plainText(document.body.firstChild);
    }
    const body = document.createElement('div');
    body.className = 'md';
    body.append(renderMarkdown(text));
    document.body.replaceChildren(body);
    return toMarkdown(body);
  });
}"""


def history_page(context):
    def static(route):
        path = (STATIC_DIR / urlsplit(route.request.url).path[len("/__dv_static/"):]).resolve()
        ok = STATIC_DIR in path.parents and path.is_file()
        route.fulfill(status=200 if ok else 404, content_type="text/javascript", body=path.read_text() if ok else "")

    route_extension_modules(context, HISTORY)
    context.route(f"{HISTORY}/__dv_static/**", static)
    context.route(f"{HISTORY}/", lambda route: route.fulfill(status=200, content_type="text/html", body="<!doctype html><body></body>"))
    page = context.new_page()
    page.goto(f"{HISTORY}/")
    return page


def test_markdown_round_trips_through_the_history_page(context):
    """Page -> Markdown (the adapter) -> the history page's DOM -> Markdown again: the same text."""
    texts = []
    for url, capture, site, selector in ROUND_TRIPS:
        turns = read(context, url, capture, site, selector=selector)["turns"]
        texts += [(f"{capture} turn {i}", t["role"], t["text"]) for i, t in enumerate(turns)]
    for site, serve, turns in (("chatgpt", chatgpt.serve, [("user", "Explain"), ("assistant", MATH_ANSWER)]),
                               ("gemini", gemini.serve, [("user", "Show me"), ("assistant", GEMINI_CODE)])):
        got = read_served(context, serve, "rt-answer", turns)["turns"]
        texts += [(f"{site} answer turn {i}", t["role"], t["text"]) for i, t in enumerate(got)]
    assert len(texts) == 27 and all(text for _, _, text in texts)  # every turn of every capture
    # User turns with lines indented as typed among them (the captures' pre-wrap text).
    assert any(role == "user" and re.search(r"\n[ \t]+\S", text) for _, role, text in texts)
    again = history_page(context).evaluate(AGAIN, [[role, text] for _, role, text in texts])
    differ = [(name, text, back) for (name, _, text), back in zip(texts, again) if back != text]
    assert not differ, "\n\n".join(f"{name}:\n{text!r}\n!=\n{back!r}" for name, text, back in differ)
