"""ChatGPT's notices where an answer should be (issue 13, item 7): each error and
waiting notice placed where ChatGPT puts it, inside the failed turn, with the real
extension and the real service: a failure of the right kind with the notice's words,
no notice stored as a turn (a turn that is only a notice is no turn), and a resume
pack that says the answer was lost instead of handing the notice on as an answer.
"""

from __future__ import annotations

import pytest
from sitepages import chatgpt
from sitepages.base import wait_for
from test_signals import CHAT, CONVERSATION, failed_chats, kinds, open_chat

pytestmark = pytest.mark.browser

QUESTION = "And the risks?"
PARTIAL = ["The first risk ", "is the schedule"]  # what streamed before the notice
RED = '<div class="text-token-text-error border-token-text-error/15 mb-2 rounded-3xl border px-4 py-3 text-sm">{}</div>'
RETRY = '<button class="btn btn-secondary mt-2">Retry</button>'

# (chat, the notice's markup, where in the turn, an answer begun before it, the words a user sees)
NOTICES = [
    ("timed-out", f'<div class="flex flex-col items-start">{RED.format("Message delivery timed out. Please try again.")}{RETRY}</div>',
     "turn", False, "Message delivery timed out. Please try again."),
    ("network", RED.format("A network error occurred. Please check your connection and try again. If this issue persists "
                           "please contact us through our help center at help.openai.com."),
     "turn", False, "A network error occurred. Please check your connection and try again. If this issue persists "
                    "please contact us through our help center at help.openai.com."),
    ("max-length", RED.format("You've reached the maximum length for this conversation, but you can keep talking by "
                              "starting a new chat."),
     "turn", False, "You've reached the maximum length for this conversation, but you can keep talking by starting a new chat."),
    # The 2026 waiting card: no error colour, no role, no Stop button.
    ("waiting", '<div class="mt-3 flex items-center gap-2 rounded-2xl border px-3 py-2"><div class="font-medium">Connection '
                'interrupted</div><div class="text-token-text-secondary">Waiting for the complete answer</div></div>',
     "message", True, "Connection interrupted Waiting for the complete answer"),
    ("resume-alert", f'<div role="alert" class="mt-2 rounded-xl px-3 py-2"><span>Resume stream unavailable</span>{RETRY}</div>',
     "turn", True, "Resume stream unavailable"),
    ("cache-expired", f'<div role="alert" class="mt-2"><span>Stream cache expired.</span> {RETRY}</div>',
     "turn", False, "Stream cache expired."),
    ("thinking-failed", '<div class="text-token-text-secondary text-sm"><span>Thinking failed</span></div>',
     "message", False, "Thinking failed"),
]

# The notice in the last (assistant) turn: after its message, or inside it after the
# answer's Markdown; an answer not begun shows nothing but the notice.
PLACE_NOTICE = """([markup, where, begun]) => {
  const turns = document.querySelectorAll("article");
  const md = turns[turns.length - 1].querySelector("[data-dv-html]");
  if (!begun) md.replaceChildren();
  (where === "message" ? md : md.closest("[data-message-author-role]")).insertAdjacentHTML("afterend", markup);
}"""


def stored_turns(server, conversation_id: str) -> list[tuple[str, str]]:
    [item] = [c for c in server.api("GET", "/api/conversations")["items"] if c["conversation_id"] == conversation_id]
    return [(t["role"], t["text"]) for t in server.api("GET", f"/api/conversations/{item['id']}")["turns"]], item["id"]


def test_notices_in_a_turn_are_failures_not_turns(browser_ctx, server):
    site = chatgpt.serve(browser_ctx.context)
    for cid, markup, where, begun, _ in NOTICES:
        chat = open_chat(site, server, cid, saved=True)
        chat.type(QUESTION)
        chat.send()
        chat.stream(PARTIAL if begun else [], finish=False)
        chat.finish()  # ChatGPT shows these notices without a Stop button
        chat.page.evaluate(PLACE_NOTICE, [markup, where, begun])

    got = failed_chats(server, {cid: True for cid, *_ in NOTICES})
    assert kinds(server) == ["error_message"] * len(NOTICES)  # once each, nothing else
    for cid, _, _, begun, words in NOTICES:
        assert [(f["kind"], f["detail"]) for f in got[cid]] == [("error_message", words)], cid
        answer = [("assistant", "".join(PARTIAL))] if begun else []
        expected = [*CHAT, ("user", QUESTION), *answer]
        turns, vault_id = wait_for(lambda cid=cid, expected=expected: (lambda got: got if got[0] == expected else None)(
            stored_turns(server, cid)), what=f"{cid}: the turns without the notice")
        pack = server.api("GET", f"/api/conversations/{vault_id}/resume", params={"target": "claude"})["text"]
        said = "The last answer did not finish" if begun else "The answer to my last message was lost"
        assert f"[{said}: ChatGPT showed an error (“{words}”).]" in pack, cid
        assert pack.count(words) == 1 and pack.rindex("### ") < pack.index(said), cid  # after the last turn, not in it


def test_an_answer_that_stops_coming_without_a_stop_button_stalls(browser_ctx, server):
    """ChatGPT's waiting state shows no Stop button: while the answer's request is still
    open and no text comes, the stall clock runs all the same."""
    browser_ctx.set_storage(stallSeconds=1)
    site = chatgpt.serve(browser_ctx.context)
    chat = open_chat(site, server, "no-stop-1", saved=True)
    chat.page.route(f"**{CONVERSATION}", lambda route: None)  # the answer's stream: open, silent
    chat.type(QUESTION)
    chat.send()
    chat.page.evaluate("path => { fetch(path, {method: 'POST', body: '{}'}); }", CONVERSATION)
    chat.stream(PARTIAL, finish=False)
    chat.finish()  # the Stop button goes; the request stays open
    got = failed_chats(server, {"no-stop-1": True})
    ((kind, detail),) = [(f["kind"], f["detail"]) for f in got["no-stop-1"]]
    assert kind == "stalled" and detail.startswith("no new text for "), detail
