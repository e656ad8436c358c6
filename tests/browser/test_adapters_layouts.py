"""The site adapters on layouts the real captures in ../shared/fixtures/real/ predate.

The markup here is hand-written: the element and attribute names as other tools that
read these sites measured them on the live pages (named per test), the text our own.
"""

from __future__ import annotations

import pytest
from sitepages.base import read_adapter

pytestmark = pytest.mark.browser


def page(title: str, body: str) -> str:
    return f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head><body>{body}</body></html>'


# ---- ChatGPT, 2026-09 ----------------------------------------------------------------
# One div[data-turn-key] holds a prompt and its answer, each a unit naming its message
# ids; no data-message-author-role, no .markdown: the answer's heading
# h4[data-conversation-role=assistant], its body [data-markdown-text-style]; code blocks
# are a marked container (header excluded from copies, <code> without <pre>); generated
# pictures are buttons in a gallery beside the body (obsidian-AI-exporter's
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
  <div data-chatgpt-search-unit-key="fallback-turn-3:1:assistant" data-chatgpt-search-message-ids="a-1 a-1">
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
