"""Canvas documents and reasoning in a ChatGPT export become a turn's documents and thinking,
as live capture keeps them.

The real exports under ../shared/fixtures/real/chatgpt-export/ (2023-2024) have no canvas
and no reasoning, so the export here is written in the shape OpenAI's export has for them
(2025 exports in public repositories, read by hand):
- a canvas call is an assistant message to `canmore.create_textdoc` or
  `canmore.update_textdoc` whose input is a JSON string: `{name, type, content}` or
  `{updates: [{pattern, multiple, replacement}]}`, as `code` content (language "json") in
  newer exports and as the first of a `text` message's parts in older ones;
- the canvas tool answers with a receipt: author role "tool", name "canmore.create_textdoc",
  text "Successfully created text document 'X' which will be referenced ... textdoc_id: '…'",
  metadata {canvas: {textdoc_id, textdoc_type, version, title}, command};
- reasoning is a `thoughts` message ([{summary, content, chunks, finished}]) and a
  `reasoning_recap` message ("Thought for 9s") before the answer.
"""

from __future__ import annotations

import json

import msgspec
import pytest

from draftvault.export import conversation_markdown
from draftvault.importers import chatgpt
from draftvault.importers.chatgpt import import_chatgpt_export
from draftvault.protocol import Document
from frames import snapshot

CONV_ID = "6830c0de-0000-4000-8000-00000000ca57"
CODE_1 = 'import sys\n\nwords = open(sys.argv[1]).read().split()\nprint(len(words))\n'
CODE_2 = ('import sys\nfrom collections import Counter\n\nwords = open(sys.argv[1]).read().split()\n'
          'for word, n in Counter(words).most_common(10):\n    print(word, n)\n')
NOTES = "# Release notes\n\n- Counts words in a file.\n- Prints the ten most common ones."
NOTES_SHORT = "# Notes\n\nCounts words; prints the top ten."


class Export:
    """A conversation in the export's shape, one message after another (each the child of the last)."""

    def __init__(self) -> None:
        self.mapping: dict = {"root": {"id": "root", "message": None, "parent": None, "children": []}}
        self.last = "root"
        self.t = 1_748_000_000.0

    def add(self, role: str, content: dict, *, name: str | None = None, recipient: str = "all",
            metadata: dict | None = None, parent: str | None = None) -> str:
        id = f"m{len(self.mapping):02d}-0000-4000-8000-000000000000"
        self.t += 7.5
        parent = parent or self.last
        self.mapping[id] = {"id": id, "parent": parent, "children": [], "message": {
            "id": id, "author": {"role": role, "name": name, "metadata": {}}, "create_time": self.t,
            "update_time": None, "content": content, "status": "finished_successfully",
            "end_turn": role == "assistant" and recipient == "all", "weight": 1.0,
            "metadata": {"model_slug": "gpt-5", **(metadata or {})}, "recipient": recipient, "channel": None}}
        self.mapping[parent]["children"].append(id)
        self.last = id
        return id

    def say(self, role: str, text: str, **kw) -> str:
        return self.add(role, {"content_type": "text", "parts": [text]}, **kw)

    def think(self, summary: str, body: str, recap: str) -> None:
        self.add("assistant", {"content_type": "thoughts", "thoughts": [
            {"summary": summary, "content": body, "chunks": [], "finished": True}],
            "source_analysis_msg_id": "a1b2"})
        self.add("assistant", {"content_type": "reasoning_recap", "content": recap},
                 metadata={"reasoning_status": "reasoning_ended"})

    def create(self, name: str, type: str, content: str, textdoc: str) -> None:
        self.add("assistant", {"content_type": "code", "language": "json", "response_format_name": None,
                               "text": json.dumps({"name": name, "type": type, "content": content})},
                 recipient="canmore.create_textdoc")
        self.receipt("create_textdoc", textdoc, type, f"Successfully created text document '{name}' which will be "
                     f"referenced in all future messages with the unique identifier textdoc_id: '{textdoc}'")

    def update(self, updates: list, textdoc: str, type: str) -> None:
        self.say("assistant", json.dumps({"updates": updates}), recipient="canmore.update_textdoc")
        self.receipt("update_textdoc", textdoc, type, f"Successfully updated text document with textdoc_id '{textdoc}'")

    def receipt(self, command: str, textdoc: str, type: str, text: str) -> None:
        self.say("tool", text, name=f"canmore.{command}",
                 metadata={"canvas": {"textdoc_id": textdoc, "textdoc_type": type, "version": 1}, "command": command})

    def conversation(self) -> dict:
        return {"title": "Word count", "create_time": 1_748_000_000.0, "update_time": self.t, "mapping": self.mapping,
                "current_node": self.last, "conversation_id": CONV_ID, "id": CONV_ID, "default_model_slug": "gpt-5"}


def canvas_export() -> dict:
    e = Export()
    e.say("user", "Write a Python script that counts the words in a file. Put it in canvas.")
    e.think("Planning the script", "Read the file, split on white space, count.", "Thought for 9s")
    e.create("word_count.py", "code/python", CODE_1, "6830aaaa")
    e.say("assistant", "The script is in the canvas: run it with a file name.")
    e.say("user", "Make it print the ten most common words.")
    e.update([{"pattern": r"print\(len\(words\)\)\n", "multiple": False,
               "replacement": "for word, n in Counter(words).most_common(10):\n    print(word, n)\n"},
              {"pattern": "import sys\n", "multiple": False, "replacement": "import sys\nfrom collections import Counter\n"}],
             "6830aaaa", "code/python")
    e.say("assistant", "Done: it prints the ten most common words with their counts.")
    e.say("user", "Now write release notes as a document.")
    e.create("Release notes", "document", NOTES, "6830bbbb")
    e.say("assistant", "Here are the release notes.")
    e.say("user", "Say it was tested.")
    e.update([{"pattern": "never written", "multiple": False, "replacement": "Tested."}], "6830bbbb", "document")
    e.say("assistant", "I could not find that line; the notes are unchanged.")
    e.say("user", "Shorter, please.")
    e.update([{"pattern": ".*", "multiple": True, "replacement": NOTES_SHORT}], "6830bbbb", "document")
    e.say("assistant", "Shortened.")
    return e.conversation()


EXPECTED = [
    ("user", "Write a Python script that counts the words in a file. Put it in canvas.", None, []),
    ("assistant", "The script is in the canvas: run it with a file name.",
     "Thought for 9s\n\n**Planning the script**\n\nRead the file, split on white space, count.",
     [Document(title="word_count.py", kind="code", text=CODE_1, language="python")]),
    ("user", "Make it print the ten most common words.", None, []),
    ("assistant", "Done: it prints the ten most common words with their counts.", None,
     [Document(title="word_count.py", kind="code", text=CODE_2, language="python")]),
    ("user", "Now write release notes as a document.", None, []),
    ("assistant", "Here are the release notes.", None, [Document(title="Release notes", kind="document", text=NOTES)]),
    ("user", "Say it was tested.", None, []),
    ("assistant", "I could not find that line; the notes are unchanged.", None, []),  # the edit did not apply
    ("user", "Shorter, please.", None, []),
    ("assistant", "Shortened.", None, [Document(title="Release notes", kind="document", text=NOTES_SHORT)]),
]


def write(tmp_path, *convs) -> object:
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(list(convs)))
    return path


def only(vault):
    (summary,) = vault.list_conversations()
    return vault.get_conversation(summary.id)


def said(detail) -> list[tuple]:
    return [(t.role, t.text, t.thinking, t.documents) for t in detail.turns]


def test_canvas_calls_become_the_answers_documents_and_reasoning_its_thinking(vault, tmp_path):
    result = import_chatgpt_export(vault, write(tmp_path, canvas_export()))
    assert (result.created, result.turns) == (1, 10)
    c = only(vault)
    assert said(c) == EXPECTED
    assert c.branches == []
    assert not any("canmore" in t.text or "textdoc_id" in t.text or '"updates"' in t.text for t in c.turns)
    # Search finds a document's words (they are in no turn's text); the Markdown shows the documents.
    assert [h.conversation for h in vault.search("most_common")] == [c.id]
    md = conversation_markdown(c)
    assert "> [!example] Document: word_count.py (code, python)\n> ```python\n> import sys\n" in md
    assert "> [!example] Document: Release notes (document)\n> # Notes\n>\n> Counts words; prints the top ten." in md
    assert "> [!quote]- Thinking\n> Thought for 9s\n>\n> **Planning the script**" in md


def test_reimport_adds_nothing(vault, tmp_path):
    path = write(tmp_path, canvas_export())
    import_chatgpt_export(vault, path)
    before = only(vault)
    again = import_chatgpt_export(vault, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert only(vault) == before


def legacy_import(vault, conv: dict) -> None:
    """What DraftVault made of `conv` before canvas documents (the importer's legacy form)."""
    c = msgspec.convert(conv, chatgpt._Conversation)
    old = chatgpt.thread(c, legacy=True)
    vault.import_conversation(site="chatgpt", conversation_id=CONV_ID, title=conv["title"],
                              url=f"https://chatgpt.com/c/{CONV_ID}", model=old.model,
                              created_at=chatgpt._iso(c.create_time), updated_at=chatgpt._iso(c.update_time),
                              turns=old.turns, branches=old.branches)


def test_legacy_form_is_what_imports_made_before():
    """The calls' JSON fenced or as it is, the canvas tool's receipts as tool turns, no thinking."""
    old = chatgpt.thread(msgspec.convert(canvas_export(), chatgpt._Conversation), legacy=True)
    assert [t[0] for t in old.turns][:6] == ["user", "assistant", "tool", "assistant", "user", "assistant"]
    create = json.dumps({"name": "word_count.py", "type": "code/python", "content": CODE_1})
    assert old.turns[1][1] == f"```json\n{create}\n```"
    assert old.turns[2][1].startswith("Successfully created text document 'word_count.py'")
    assert old.turns[5][1].startswith('{"updates": [{"pattern": ')
    assert all(len(t) < 3 or (t[2].thinking, t[2].documents) == (None, ()) for t in old.turns)


def test_an_older_import_is_replaced_quietly_by_the_new_form(vault, tmp_path):
    conv = canvas_export()
    legacy_import(vault, conv)
    assert len(only(vault).turns) == 20  # calls and receipts were turns
    result = import_chatgpt_export(vault, write(tmp_path, conv))
    assert (result.updated, result.unchanged) == (1, 0)
    c = only(vault)
    assert said(c) == EXPECTED
    assert c.branches == []  # the same export read better: no earlier version of JSON and receipts
    again = import_chatgpt_export(vault, write(tmp_path, conv))
    assert again.unchanged == 1


def test_an_older_import_changed_since_keeps_what_it_had(vault, tmp_path):
    """Something captured after the older import is no format change: it stays as a version."""
    conv = canvas_export()
    legacy_import(vault, conv)
    kept = "The script is in the canvas. (captured live, then the site lost it)"
    vault.apply("client-x", snapshot(1, [("assistant", kept)], conv=CONV_ID, turns_from=3, turn_count=20))
    import_chatgpt_export(vault, write(tmp_path, conv))
    c = only(vault)
    assert said(c) == EXPECTED
    # The live change kept the older answer; the import keeps the thread with the live answer.
    assert [b.reason for b in c.branches] == ["regenerated", "edited"]
    assert kept in [t.text for t in c.branches[1].turns]
    assert [h.conversation for h in vault.search("captured live")] == [c.id]


def test_a_canvas_call_on_an_edited_branch_gives_that_branch_its_document(vault, tmp_path):
    e = Export()
    e.say("user", "A haiku about rain, in canvas.")
    e.create("Rain", "document", "Soft rain on the roof", "d1")
    e.say("assistant", "Written.")
    e.say("user", "An haiku about snow instead.", parent="root")  # the prompt edited: another thread
    e.create("Snow", "code/other", "white", "d2")
    e.say("assistant", "Written too.")
    import_chatgpt_export(vault, write(tmp_path, e.conversation()))
    c = only(vault)
    assert said(c) == [("user", "An haiku about snow instead.", None, []),
                       ("assistant", "Written too.", None, [Document(title="Snow", kind="code", text="white")])]
    (branch,) = c.branches
    assert [(t.role, t.text, t.documents) for t in branch.turns] == [
        ("user", "A haiku about rain, in canvas.", []),
        ("assistant", "Written.", [Document(title="Rain", kind="document", text="Soft rain on the roof")])]


@pytest.mark.parametrize("content", [
    {"content_type": "code", "language": "json", "text": "{not json"},
    {"content_type": "text", "parts": [json.dumps({"name": "x", "type": "document"})]},  # no content
    {"content_type": "text", "parts": [json.dumps(["a list"])]},
])
def test_a_canvas_call_that_cannot_be_read_gives_no_document_and_no_json(vault, tmp_path, content):
    e = Export()
    e.say("user", "Draft it.")
    e.add("assistant", content, recipient="canmore.create_textdoc")
    e.update([{"pattern": "x", "replacement": "y"}], "d", "document")  # nothing to update
    e.say("assistant", "Drafted.")
    import_chatgpt_export(vault, write(tmp_path, e.conversation()))
    assert said(only(vault)) == [("user", "Draft it.", None, []), ("assistant", "Drafted.", None, [])]


def test_a_document_made_after_the_last_answer_goes_to_the_last_turn(vault, tmp_path):
    """An answer cut off after its canvas call: the document is kept (as the extension keeps it)."""
    e = Export()
    e.say("user", "Put a plan in canvas.")
    e.say("assistant", "Sure, writing it now.")
    e.create("Plan", "code/react", "export default () => null;", "d3")
    import_chatgpt_export(vault, write(tmp_path, e.conversation()))
    assert said(only(vault))[-1] == ("assistant", "Sure, writing it now.", None,
                                     [Document(title="Plan", kind="code", text="export default () => null;", language="react")])


def test_an_older_import_gains_thinking_without_a_version(vault, tmp_path):
    """Imports before kept no reasoning: the same answer with its thinking added is no new version."""
    e = Export()
    e.say("user", "Is 91 prime?")
    e.think("Checking divisors", "7 times 13 is 91.", "Thought for 2s")
    e.say("assistant", "No: 91 = 7 × 13.")
    conv = e.conversation()
    legacy_import(vault, conv)
    assert said(only(vault))[1] == ("assistant", "No: 91 = 7 × 13.", None, [])
    import_chatgpt_export(vault, write(tmp_path, conv))
    c = only(vault)
    assert said(c) == [("user", "Is 91 prime?", None, []),
                       ("assistant", "No: 91 = 7 × 13.", "Thought for 2s\n\n**Checking divisors**\n\n7 times 13 is 91.", [])]
    assert c.branches == []


def hostile_export(pattern: str, content: str, updates: int = 1) -> dict:
    """A canvas whose edit an attacker wrote, then a document written whole again."""
    e = Export()
    e.say("user", "Write it.")
    e.create("Hostile", "document", content, "6830cccc")
    e.say("assistant", "Written.")
    e.say("user", "Edit it.")
    for _ in range(updates):
        e.update([{"pattern": pattern, "multiple": True, "replacement": "b" * 64}], "6830cccc", "document")
    e.say("assistant", "Edited.")
    e.say("user", "Start over.")
    e.create("Fresh", "document", NOTES, "6830dddd")
    e.say("assistant", "Here it is again.")
    return e.conversation()


def test_a_pattern_that_backtracks_for_ever_leaves_its_document_unknown_and_the_import_goes_on(vault, tmp_path):
    # (a|aa)+$ over 60 a's and a "!" tries ~1.5e12 ways in Python's re: the import never ended.
    result = import_chatgpt_export(vault, write(tmp_path, hostile_export("(a|aa)+$", "a" * 60 + "!")))
    assert result.conversations == 1
    turns = only(vault).turns
    assert [d.title for t in turns for d in t.documents] == ["Hostile", "Fresh"]  # the edit's result is not guessed
    assert turns[1].documents[0].text == "a" * 60 + "!" and turns[-1].documents[0].text == NOTES
    assert [t.text for t in turns][-1] == "Here it is again."


def test_edits_that_copy_a_large_document_over_and_over_stop_at_the_replays_budget(vault, tmp_path):
    """Each edit of a 1 MB document makes a new 1 MB copy (and "multiple" replaces every "a" with
    64 b's: 64 MB from one edit): a 2 MB file could ask for terabytes. Past the budget the canvas
    is unknown until it is written whole again; every message is still imported."""
    big = "a" * (1 << 20)
    result = import_chatgpt_export(vault, write(tmp_path, hostile_export("a", big, updates=40)))
    assert result.conversations == 1
    turns = only(vault).turns
    assert [d.title for t in turns for d in t.documents] == ["Hostile", "Fresh"]
    assert [t.text for t in turns] == ["Write it.", "Written.", "Edit it.", "Edited.", "Start over.", "Here it is again."]


def test_the_replay_budget_counts_what_edits_read_and_write():
    from draftvault.importers import canvas

    doc = canvas.call("canmore.create_textdoc", json.dumps({"name": "N", "type": "document", "content": "x" * 100}), None)
    edit = canvas.call("canmore.update_textdoc", json.dumps({"updates": [
        {"pattern": "[xy]", "multiple": True, "replacement": "yy"}]}), None)
    replay = canvas.Replay(chars=1000)
    now, made = canvas.apply(replay, None, doc)
    now, made = canvas.apply(replay, now, edit)  # reads 100, writes 200
    assert made.text == "yy" * 100 and replay.chars_left == 700
    now, made = canvas.apply(replay, now, edit)  # reads 200, writes 400
    assert made.text == "yy" * 200 and replay.chars_left == 100
    now, made = canvas.apply(replay, now, edit)  # reads 400: over
    assert made is None and now.text is None
    now, made = canvas.apply(replay, now, doc)  # written whole again: known
    assert made.text == "x" * 100


def test_canvas_comments_read_as_comments_not_json(vault, tmp_path):
    e = Export()
    e.say("user", "Review my notes.")
    e.create("Release notes", "document", NOTES, "6830eeee")
    e.add("assistant", {"content_type": "code", "language": "json", "text": json.dumps({"comments": [
        {"pattern": "Counts words in a file\\.", "comment": "Say which encodings it reads."},
        {"pattern": "`top`", "comment": "Name the   number:\nten."},
        {"pattern": "x", "comment": 3}]})}, recipient="canmore.comment_textdoc")
    e.receipt("comment_textdoc", "6830eeee", "document", "Successfully added comments to text document")
    e.say("assistant", "I left two comments.")
    import_chatgpt_export(vault, write(tmp_path, e.conversation()))
    texts = [t.text for t in only(vault).turns]
    assert "Comments on the canvas:\n\n- `Counts words in a file\\.`: Say which encodings it reads.\n"  \
           "- `` `top` ``: Name the number: ten." in texts
    assert not any('"comments"' in t for t in texts)
