"""The site adapters on layouts the real captures in ../shared/fixtures/real/ predate.

The markup here is hand-written: the element and attribute names as other tools that
read these sites measured them on the live pages (named per test), the text our own.
"""

from __future__ import annotations

import pytest
from sitepages import claude
from sitepages.base import open_markup, read_adapter, wait_for

pytestmark = pytest.mark.browser


def page(title: str, body: str) -> str:
    return f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head><body>{body}</body></html>'


def only_turn(context, url: str, site: str, body: str) -> dict:
    """The one turn the adapter reads from a page holding `body`."""
    (turn,) = read_adapter(context, url, page("Chat", body), site)["turns"]
    return turn


# ---- ChatGPT, 2026-09 ----------------------------------------------------------------
# One div[data-turn-key] holds a prompt and its answer, each a unit naming its message
# ids; no data-message-author-role, no .markdown: the answer's heading
# h4[data-conversation-role=assistant], its body [data-markdown-text-style]; code blocks
# are a marked container (header excluded from copies, <code> without <pre>); generated
# pictures are buttons in a gallery beside the body; a unit's ids may name a tool call
# before the answer, whose own id is on its body (obsidian-AI-exporter's
# docs/investigation/chatgpt-dom-2026-09.md and the tools quoting the same hooks).

CHATGPT_PAIRS = page("Grocery script - ChatGPT", """
<nav><div data-app-action-sidebar-scroll=""></div></nav>
<main><div data-app-action-timeline-scroll="" style="display:flex;flex-direction:column-reverse"><div class="flex flex-col">
 <div data-turn-key="k-1"><div data-content-search-turn-key="fallback-turn-3">
  <div data-chatgpt-search-unit-key="fallback-turn-3:0:user" data-chatgpt-search-message-ids="k-1">
   <div data-content-search-unit-key="fallback-turn-3:0:user"><div data-user-message-bubble="true">
    <div class="text-size-chat whitespace-pre-wrap">Sum my list:
  eggs 2
  milk 1</div></div></div></div>
  <div data-chatgpt-search-unit-key="fallback-turn-3:1:assistant" data-chatgpt-search-message-ids="tool-1 a-1">
   <h4 class="sr-only" data-conversation-role="assistant">ChatGPT said:</h4>
   <div data-chatgpt-selection-message-id="a-1"><div data-markdown-text-style="assistant-message">
    <p>Use <strong>this</strong>:</p>
    <div data-markdown-copy="code-block"><div data-markdown-copy="exclude"><span>python</span><button>Copy code</button></div>
     <div><code class="whitespace-pre block"><span>def total(items):</span><span>
    return sum(items)

</span><span>print(total([2, 1]))</span>
</code></div></div>
    <p>From <a href="https://docs.python.org/3/library/functions.html#sum"><span data-markdown-copy="exclude"><img alt="" src="data:,"></span><span>the docs</span></a>.</p>
   </div></div>
  </div>
 </div></div>
 <div data-turn-key="k-2"><div data-content-search-turn-key="fallback-turn-4">
  <div data-chatgpt-search-unit-key="fallback-turn-4:0:user" data-chatgpt-search-message-ids="k-2">
   <div data-user-message-bubble="true"><div class="whitespace-pre-wrap">Draw the basket</div></div></div>
  <div data-chatgpt-search-message-ids="a-2 a-2">
   <h4 class="sr-only" data-conversation-role="assistant">ChatGPT said:</h4>
   <div data-testid="generated-image-gallery"><div><button type="button" data-testid="generated-image-preview" aria-hidden="false">
    <img src="blob:https://chatgpt.com/0c1d" alt="Generated image 1"></button></div></div>
  </div>
 </div></div>
</div></div></main>
<form><div contenteditable="true" class="ProseMirror" id="prompt-textarea"><p>and bread</p></div></form>""")


def test_chatgpt_prompt_and_answer_in_one_turn_key(context):
    got = read_adapter(context, "https://chatgpt.com/c/6a1f-pairs", CHATGPT_PAIRS, "chatgpt")
    assert (got["title"], got["draft"], got["listed"]) == ("Grocery script", "and bread", 4)
    assert [(t["role"], t["message_id"]) for t in got["turns"]] == [
        ("user", "k-1"), ("assistant", "a-1"), ("user", "k-2"), ("assistant", "a-2"),
    ]
    user, answer, _, picture = (t["text"] for t in got["turns"])
    assert user == "Sum my list:\n  eggs 2\n  milk 1"
    # The code keeps its lines and its language; the header's label and button are not text.
    assert answer == (
        "Use **this**:\n\n"
        "```python\ndef total(items):\n    return sum(items)\n\nprint(total([2, 1]))\n```\n\n"
        "From [the docs](https://docs.python.org/3/library/functions.html#sum)."
    )
    assert picture == "[Image: Generated image 1]"


# 2026 citation chips: a[data-testid=chatgpt-citation] with a favicon and the source's
# title, its aria-label "Title - Site, URL"; some without href (the address only in the
# aria-label), as tools reading chatgpt.com in 2026 record them.
CHATGPT_CHIPS = page("Chips - ChatGPT", """<main><div data-turn-key="k-5">
 <div data-chatgpt-search-unit-key="fallback-turn-1:1:assistant" data-chatgpt-search-message-ids="a-5">
  <div data-markdown-text-style="assistant-message"><p>Rivers flood in spring<a href="https://example.org/floods"
   data-testid="chatgpt-citation" aria-label="Spring floods - Example, https://example.org/floods" target="_blank"><img
   src="https://t0.gstatic.com/faviconV2?url=https%3A%2F%2Fexample.org" class="absolute inset-0">Spring floods - Example</a><a
   data-testid="chatgpt-citation" aria-label="Snowmelt - Hydro Weekly, https://hydro.example/snowmelt"><img src="data:,"></a>.</p></div>
 </div></div></main>""")


def test_chatgpt_citation_chips_are_links(context):
    got = read_adapter(context, "https://chatgpt.com/c/6a1f-chips", CHATGPT_CHIPS, "chatgpt")
    assert got["turns"][0]["text"] == (
        "Rivers flood in spring [Spring floods - Example](https://example.org/floods)"
        " [Snowmelt - Hydro Weekly](https://hydro.example/snowmelt)."
    )

# An answer shown in the turn outside every unit (tools reading the live 2026 page look
# for the answer's body there when no unit is the assistant's): one more turn, read whole.
CHATGPT_LOOSE = page("Loose - ChatGPT", """<main><div class="flex flex-col"><div data-turn-key="k-7">
 <div data-content-search-turn-key="fallback-turn-1">
  <div data-chatgpt-search-unit-key="fallback-turn-1:0:user" data-chatgpt-search-message-ids="k-7">
   <div data-user-message-bubble="true"><div class="whitespace-pre-wrap">Plan a walk</div></div></div>
  <div class="agent-turn"><h4 class="sr-only" data-conversation-role="assistant">ChatGPT said:</h4>
   <div><div data-markdown-text-style="assistant-message"><p>Start at the river.</p></div></div>
   <div><div data-markdown-text-style="assistant-message"><p>End at the hill.</p></div></div>
   <div role="status" aria-busy="true"></div></div>
 </div></div></div></main>""")


def test_chatgpt_answer_outside_the_units(context):
    got = read_adapter(context, "https://chatgpt.com/c/6a1f-loose", CHATGPT_LOOSE, "chatgpt")
    assert [(t["role"], t["text"]) for t in got["turns"]] == [
        ("user", "Plan a walk"), ("assistant", "Start at the river.\n\nEnd at the hill."),
    ]

# ChatGPT's red block written inside the answer's own message, in the answer's place
# (observed live 2026-09-06 when a chat reached its maximum length, as recorded in a
# Chat Bridge DOM contract): a notice, not the answer's text; its button is not its words.
CHATGPT_FULL = page("Long chat - ChatGPT", """<main><div class="flex flex-col">
<section data-turn-id="u-9" data-testid="conversation-turn-9" data-turn="user"><div data-message-author-role="user" data-message-id="u-9">
 <div class="whitespace-pre-wrap">One more thing</div></div></section>
<section data-turn-id="a-9" data-testid="conversation-turn-10" data-turn="assistant">
 <div data-message-author-role="assistant" data-message-id="a-9"><div class="text-token-text-error rounded-3xl border px-4 py-3">
  <div><p>You've reached the maximum length for this conversation, but you can keep talking by starting a new chat.</p></div>
  <button class="btn btn-secondary"><div><svg></svg>Start new chat</div></button></div></div></section>
</div></main>""")


def test_chatgpt_notice_in_the_answers_message(context):
    got = read_adapter(context, "https://chatgpt.com/c/6a1f-full", CHATGPT_FULL, "chatgpt")
    words = "You've reached the maximum length for this conversation, but you can keep talking by starting a new chat."
    assert got["error"] == words
    user, answer = got["turns"]
    assert (user["text"], answer["text"], answer["notice"], answer["message_id"]) == ("One more thing", "", words, "a-9")

# Files an answer made, shown in its Markdown as buttons named for them, with no link
# (observed 2026-07 in a section[data-turn] answer, as a ChatGPT DOM parser spec
# records it): the names are the answer's words; a copy button's are not.
CHATGPT_FILES = page("Files - ChatGPT", """<main><div class="flex flex-col">
<section data-turn-id="a-3" data-testid="conversation-turn-4" data-turn="assistant">
 <div data-message-author-role="assistant" data-message-id="a-3" data-turn-start-message="true">
  <div class="markdown prose markdown-new-styling"><p>Here are the files:</p>
   <p><button class="entity"><svg></svg><span>summary-table.csv</span></button></p>
   <p>and the archive <button><span>bundle.zip</span></button>.</p>
   <p>Visit <button>example.com</button> <button aria-label="Copy">Copy</button></p></div></div></section>
</div></main>""")


def test_chatgpt_files_made_are_named_in_the_answer(context):
    got = read_adapter(context, "https://chatgpt.com/c/6a1f-files", CHATGPT_FILES, "chatgpt")
    assert got["turns"][0]["text"] == "Here are the files:\n\nsummary-table.csv\n\nand the archive bundle.zip.\n\nVisit"

# ---- Claude, 2026-10 ("hub") ---------------------------------------------------------
# Rows [data-testid=transcript-row]; messages are data-cds components: UserMessage (its
# words in [data-testid=user-message], or only in .cds-user-message-body) and
# AssistantMessage ([data-testid=assistant-message][data-is-streaming], no
# .font-claude-response) with a screen-reader heading, TurnStatus rows ("Searched the
# web"), .standard-markdown text and an action bar; a code block is a data-not-prose
# group with its language in a header beside the <pre> (obsidian-AI-exporter's
# claude-hub-dom fixture, readela's claude-conversation fixture).


def claude_row(index: int, perf: str, body: str) -> str:
    return (f'<div data-rs-index="{index}" data-index="{index}" data-testid="transcript-row" data-perf-row="{perf}">'
            f'<div role="article"><div class="contents"><div data-transcript-row="">{body}</div></div></div></div>')


def claude_user(text_html: str, testid: bool = True) -> str:
    inner = f'<div data-testid="user-message" class="grid">{text_html}</div>' if testid else text_html
    return ('<h2 data-find-omitted="" class="sr-only">You said: it</h2><div data-user-scope="">'
            f'<div data-cds="UserMessage" data-turn-key="t-1"><div class="cds-user-message-body">{inner}</div>'
            '<div data-cds="MessageActions"><button>Edit</button><time>Oct 7</time></div></div></div>')


def claude_answer(parts: str, streaming: str = "false") -> str:
    return ('<div data-reply-scope=""><div data-cds="AssistantMessage" data-testid="assistant-message" '
            f'data-turn-key="t-1-hub-reply" data-is-streaming="{streaming}">'
            '<h2 data-find-omitted="" class="sr-only">Claude responded: Sure</h2>'
            f'<div class="flex flex-col">{parts}</div>'
            '<div><div data-cds="MessageActions" role="toolbar"><button aria-label="Copy"></button>'
            '<time datetime="2026-10-07T10:00:00Z">Oct 7</time></div></div></div></div>')


def claude_prose(html: str) -> str:
    return ('<div data-transcript-engine-root="" class="contents"><div data-cds="Prose" class="prose">'
            f'<div class="standard-markdown grid">{html}</div></div></div>')


CLAUDE_STATUS = ('<div data-cds="TurnStatus" data-state="done"><div data-cds-row="" title="Searched the web">'
                 '<span class="text-muted"><bdi>Searched the web</bdi></span><button aria-expanded="false"></button></div>'
                 '<span class="sr-only" role="status">Searched the web</span></div>')
CLAUDE_CODE = ('<div data-not-prose=""><div role="group" aria-label="Code"><div class="head"><span>rust</span>'
               '<button>Copy</button></div><div class="overflow-auto"><pre class="code-block__code"><code>'
               'fn main() {\n    println!("hi");\n}</code></pre></div></div></div>')

CLAUDE_HUB = page("Rust hello — Claude", """
<div data-testid="bardhub-claudechat-root"><div data-autoscroll-container="true">
<div role="feed" aria-label="Chat messages"><div data-testid="transcript-sizer">"""
    + claude_row(0, "human", claude_user('<div class="contents"><p class="whitespace-pre-wrap">Hello in Rust?\nplease</p></div>'))
    + claude_row(1, "assistant", claude_answer(CLAUDE_STATUS + claude_prose(
        "<p>Sure:</p>" + CLAUDE_CODE + '<ul><li>Run <code>cargo run</code></li></ul>') + claude_prose("<p>Done.</p>")))
    + claude_row(2, "human", claude_user('<p class="whitespace-pre-wrap">And in Go?</p>', testid=False))
    + claude_row(3, "assistant", claude_answer(claude_prose("<p>Writing</p>"), streaming="true"))
    + """</div></div></div></div>
<fieldset><div class="ProseMirror" contenteditable="true" data-testid="chat-input"><p>thanks</p></div></fieldset>""")


def test_claude_hub_layout(context):
    got = read_adapter(context, "https://claude.ai/chat/0a1b2c3d-hub", CLAUDE_HUB, "claude")
    assert (got["title"], got["draft"], got["streaming"], got["listed"]) == ("Rust hello", "thanks", True, 4)
    assert [(t["role"], t["text"]) for t in got["turns"]] == [
        ("user", "Hello in Rust?\nplease"),
        # The status row, the screen-reader heading, the action bar and the code's
        # header are not what Claude said; the code keeps the header's language.
        ("assistant", 'Sure:\n\n```rust\nfn main() {\n    println!("hi");\n}\n```\n\n- Run `cargo run`\n\nDone.'),
        ("user", "And in Go?"),
        ("assistant", "Writing"),
    ]


# While an answer streams, the composer's button is a stop button, named
# "composer-stop-button" in 2026 (a Chat Bridge DOM contract), "stop-button" before.
@pytest.mark.parametrize("testid", ["stop-button", "composer-stop-button"])
def test_chatgpt_stop_button_means_streaming(context, testid):
    for attrs, streaming in ((f'id="composer-submit-button" data-testid="{testid}"', True),
                             (f'data-testid="{testid}"', True),
                             ('id="composer-submit-button" data-testid="send-button"', False)):
        markup = page("Streams - ChatGPT", f'<main></main><form><div id="prompt-textarea" contenteditable="true"></div>'
                                         f'<button {attrs} aria-label="Stop">.</button></form>')
        got = read_adapter(context, "https://chatgpt.com/c/6a1f-stream", markup, "chatgpt")
        assert got["streaming"] is streaming, attrs


# The hub as another reader of claude.ai recorded it on 2026-10-03: the answer's text in
# [data-perf-reply-text] without .standard-markdown, its action bar
# [data-testid=message-actions] with the time; just after sending, the answer is an
# empty frame with no data-is-streaming yet while the stop button (chat-input-stop) shows.
CLAUDE_HUB_BARE = page("Claude", """<div role="feed">"""
    + claude_row(0, "human", claude_user('<p class="whitespace-pre-wrap">Name three rivers</p>'))
    + claude_row(1, "assistant", '<div data-testid="assistant-message" data-cds="AssistantMessage" data-turn-key="t-2-hub-reply" '
        'data-is-streaming="false"><h2 class="sr-only">Claude responded: Nile</h2><div>' + CLAUDE_STATUS
        + '<div data-transcript-engine-root=""><div data-cds="Prose"><div data-perf-reply-text=""><ol><li>Nile</li>'
        '<li>Amazon</li><li>Danube</li></ol></div></div></div></div><div><div data-testid="message-actions">'
        '<button aria-label="Copy"></button><time>Oct 3</time></div></div></div>')
    + claude_row(2, "human", claude_user('<p class="whitespace-pre-wrap">Two more</p>'))
    + claude_row(3, "assistant", '<div data-testid="assistant-message" data-cds="AssistantMessage" data-turn-key="t-3-hub-reply">'
        '<div data-cds="TurnStatus" data-state="pending"></div></div>')
    + """</div><div data-testid="chat-input" contenteditable="true" role="textbox"><p><br></p></div>
<button data-testid="chat-input-stop" aria-label="応答を停止">.</button>""")


def test_claude_hub_answer_without_standard_markdown(context):
    got = read_adapter(context, "https://claude.ai/chat/0a1b2c3d-bare", CLAUDE_HUB_BARE, "claude")
    assert (got["draft"], got["streaming"]) == ("", True)
    assert [(t["role"], t["text"]) for t in got["turns"]] == [
        ("user", "Name three rivers"), ("assistant", "1. Nile\n2. Amazon\n3. Danube"), ("user", "Two more"), ("assistant", ""),
    ]


# ---- the real extension on these layouts, to the vault -----------------------------------


@pytest.mark.parametrize("url, markup, site, turns", [
    ("https://chatgpt.com/c/6a1f-pairs-e2e", CHATGPT_PAIRS, "chatgpt", [
        ("user", "Sum my list:\n  eggs 2\n  milk 1"),
        ("assistant", "Use **this**:\n\n```python\ndef total(items):\n    return sum(items)\n\nprint(total([2, 1]))\n```\n\n"
                      "From [the docs](https://docs.python.org/3/library/functions.html#sum)."),
        ("user", "Draw the basket"),
        ("assistant", "[Image: Generated image 1]"),
    ]),
    ("https://claude.ai/chat/0a1b2c3d-hub-e2e", CLAUDE_HUB_BARE, "claude", [
        # The answer still coming is an empty turn for now.
        ("user", "Name three rivers"), ("assistant", "1. Nile\n2. Amazon\n3. Danube"), ("user", "Two more"), ("assistant", ""),
    ]),
])
def test_the_extension_captures_these_layouts(browser_ctx, url, markup, site, turns):
    server = browser_ctx.server
    open_markup(browser_ctx.context, url, markup)
    conversation_id = url.rsplit("/", 1)[1]

    def held():
        items = server.api("GET", "/api/conversations", params={"site": site})["items"]
        item = next((i for i in items if i["conversation_id"] == conversation_id), None)
        detail = item and server.api("GET", f"/api/conversations/{item['id']}")
        held.seen = detail and [(t["role"], t["text"]) for t in detail["turns"]]
        return held.seen == turns

    wait_for(held, what=f"the {site} page's turns in the vault")


# Gemini's title: since 2026-03 no conversation-title element (obsidian-AI-exporter's
# selector notes); the sidebar's link to the chat names it, its icon is no title.
def test_gemini_title_from_the_sidebar_link(context):
    markup = page("Gemini", '<nav><a href="/app/77aa88bb99cc"><mat-icon fonticon="push_pin">push_pin</mat-icon>'
                            '<span> Bread recipes </span></a><a href="/app/1234567890ab">Other</a></nav><main></main>')
    assert read_adapter(context, "https://gemini.google.com/app/77aa88bb99cc", markup, "gemini")["title"] == "Bread recipes"
    titled = page("Soup ideas – Gemini", "<main></main>")
    assert read_adapter(context, "https://gemini.google.com/app/77aa88bb99cd", titled, "gemini")["title"] == "Soup ideas"


# Claude's 2024 answers were .font-claude-message (the class readers of claude.ai kept
# as a fallback), beside [data-testid=user-message] prompts.
def test_claude_font_claude_message(context):
    markup = page("Old - Claude", '<div class="flex-1"><div data-test-render-count="1"><div data-testid="user-message">'
                                  '<p class="whitespace-pre-wrap">Hi</p></div></div><div data-test-render-count="1">'
                                  '<div class="font-claude-message"><div class="grid-cols-1 grid"><p>Hello</p></div></div></div></div>')
    got = read_adapter(context, "https://claude.ai/chat/0a1b2c3d-2024", markup, "claude")
    assert [(t["role"], t["text"]) for t in got["turns"]] == [("user", "Hi"), ("assistant", "Hello")]


# Claude in 2026 before the hub: the user's bubble is [data-user-message-bubble] (its
# testid not always inside), the open artifact panel [data-skill-file-viewer] titled by
# its h2[title] header (a reader of claude.ai recording its 2026 selectors, lo-2478).
def test_claude_2026_bubble_and_file_viewer_panel(context):
    card = claude.artifact_card("Trip plan", "Document", "# Three days")
    markup = page("Trip - Claude", '<div class="flex-1"><div data-test-render-count="1"><div data-user-message-bubble="true">'
                  '<p class="whitespace-pre-wrap break-words">Plan my trip</p><button>Edit</button></div></div>'
                  '<div data-test-render-count="1"><div class="font-claude-response" data-is-streaming="false">'
                  + claude.markdown_part("<p>Here it is:</p>") + card + '</div></div></div>'
                  '<div data-skill-file-viewer=""><div class="header"><h2 title="Trip plan">Trip plan</h2>'
                  '<button aria-label="Download">Download</button></div>'
                  '<div class="standard-markdown"><h1>Three days</h1><ul><li>Lisbon</li><li>Porto</li></ul></div></div>')
    got = read_adapter(context, "https://claude.ai/chat/0a1b2c3d-trip", markup, "claude")
    user, answer = got["turns"]
    assert (user["role"], user["text"], answer["text"]) == ("user", "Plan my trip", "Here it is:")
    assert answer["documents"] == [{"title": "Trip plan", "kind": "document", "text": "# Three days\n\n- Lisbon\n- Porto"}]


# A picture the person uploaded sits beside their words in the turn (Claude's thumbnail,
# div.group/thumbnail; the hub's MessageAttachments): its placeholder, then the words.
def test_claude_uploaded_picture_in_the_user_turn(context):
    turn = only_turn(context, "https://claude.ai/chat/0a1b2c3d-pic", "claude",
                     '<div class="flex-1"><div data-test-render-count="1"><div class="relative group/thumbnail">'
                     '<img alt="receipt.png" src="data:,"></div><div data-testid="user-message">'
                     '<p class="whitespace-pre-wrap">What is the total?</p></div></div></div>')
    assert turn["text"] == "[Image: receipt.png]\n\nWhat is the total?"


# Gemini: a picture uploaded with a prompt is in user-query-file-preview, beside the
# typed lines (as readers of gemini.google.com select it): its placeholder, then the lines.
def test_gemini_uploaded_picture_in_the_prompt(context):
    turn = only_turn(context, "https://gemini.google.com/app/77aa88bb99ce", "gemini",
                     '<div class="conversation-container" id="c1"><user-query><user-query-content>'
                     '<div class="file-preview-container"><user-query-file-preview><button aria-label="bread.jpg">'
                     '<img alt="bread.jpg" src="data:,"></button></user-query-file-preview></div>'
                     '<div class="query-text"><p class="query-text-line"> What bread is this? </p>'
                     '<p class="query-text-line"> Be brief. </p></div></user-query-content></user-query></div>')
    assert turn["text"] == "[Image: bread.jpg]\n\nWhat bread is this?\nBe brief."


# Gemini's stop button has been seen to keep its "Stop response" label after the answer
# ended (OpenCLI #1101, 2026-04): the last answer's aria-busy decides; before an answer
# shows under the last prompt, the stop button does.
def test_gemini_streaming_from_the_answer_not_a_stale_stop_label(context):
    def answer(busy):
        return (f'<model-response><message-content id="message-content-id-r_1"><div class="markdown" aria-busy="{busy}">'
                '<p>Hi</p></div></message-content></model-response>')
    stop = '<button class="send-button stop" aria-label="Stop response"><mat-icon fonticon="stop"></mat-icon></button>'
    cases = [
        (answer("false") + stop, False),  # ended; the label stayed
        (answer("true") + stop, True),
        (answer("false") + "<user-query><p class='query-text-line'>More</p></user-query>" + stop, True),  # not shown yet
        (answer("false"), False),
    ]
    for body, streaming in cases:
        got = read_adapter(context, "https://gemini.google.com/app/77aa88bb99cf", page("Gemini", body), "gemini")
        assert got["streaming"] is streaming, body


# ChatGPT's composer without its id: [data-testid=prompt-textarea], or a form's textbox
# (the composer selectors readers of chatgpt.com use in 2026).
@pytest.mark.parametrize("editor", [
    '<div data-testid="prompt-textarea" contenteditable="true"><p>half a thought</p></div>',
    '<div contenteditable="true" role="textbox"><p>half a thought</p></div>',
])
def test_chatgpt_composer_without_its_id(context, editor):
    markup = page("Draft - ChatGPT", f"<main></main><form>{editor}</form>")
    assert read_adapter(context, "https://chatgpt.com/c/6a1f-draft", markup, "chatgpt")["draft"] == "half a thought"


# Gemini's Deep Research report shown inside the answer beside its short reply
# (#extended-response-…, where defuddle's Gemini extractor reads it): the turn's
# document titled by its heading, not its text.
def test_gemini_deep_research_report_is_the_answers_document(context):
    turn = only_turn(context, "https://gemini.google.com/app/77aa88bb99d0", "gemini",
                     '<div class="conversation-container"><model-response><message-content id="message-content-id-r_9">'
                     '<div class="markdown"><p>Your report is ready.</p></div></message-content>'
                     '<message-content id="extended-response-message-content"><div class="markdown" id="extended-response-markdown-content">'
                     '<h1>Rivers of Europe</h1><p>The Danube crosses ten countries.</p></div></message-content>'
                     '</model-response></div>')
    assert (turn["text"], turn["message_id"]) == ("Your report is ready.", "r_9")
    assert turn["documents"] == [{"title": "Rivers of Europe", "kind": "document",
                                  "text": "# Rivers of Europe\n\nThe Danube crosses ten countries."}]
