"""Shapes of newer ChatGPT exports (2024-2026), written small by hand from what real exports
hold: search answers whose words carry "attribution" references, entity marks, tools that
talk to the model (image generation, memory, file search, web search), o1-style reasoning
written by a tool, and calls whose input is text."""

from __future__ import annotations

import json

from draftvault.importers.chatgpt import import_chatgpt_export
from test_import_chatgpt import node, only


def conversation(*nodes, current: str) -> dict:
    mapping = dict([("root", {"id": "root", "message": None, "parent": None, "children": []}), *nodes])
    for key, n in mapping.items():
        if n["parent"] in mapping:
            mapping[n["parent"]]["children"].append(key)
    return {"title": "Newer", "create_time": 1.75e9, "update_time": 1.75e9, "mapping": mapping,
            "current_node": current, "conversation_id": "newer-1"}


def _import(vault, tmp_path, conv: dict) -> list:
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([conv]))
    import_chatgpt_export(vault, path)
    return only(vault).turns


def cited_answer() -> dict:
    cite = "\ue200cite\ue202turn0search0\ue201"
    entity = '\ue200entity["people","Stephen Covey","author"]\ue201'
    # \ue203 opens an attributed span, \ue204 ends it, \ue206 anchors it: the first is a "hidden" reference, the others bare.
    answer = f"\ue203The office number is 061-750-6114\ue204\ue206 {cite}.\n\nRead {entity} too."
    start = answer.index(cite)
    refs = [
        {"type": "hidden", "matched_text": "\ue203", "start_idx": 0, "end_idx": 1, "refs": ["hidden"]},
        {"type": "attribution", "matched_text": "The office number is 061-750-6114", "start_idx": 1, "end_idx": 34,
         "alt": "The office number is 061-750-6114"},
        {"type": "grouped_webpages", "matched_text": cite, "start_idx": start, "end_idx": start + len(cite),
         "items": [], "fallback_items": [{"title": "Office", "url": "https://example.org/office"}], "alt": "()"},
        {"type": "entity", "matched_text": entity, "start_idx": answer.index(entity),
         "end_idx": answer.index(entity) + len(entity), "alt": "Stephen Covey"},
    ]
    return conversation(
        node("u1", "root", "user", {"content_type": "text", "parts": ["Their phone number?"]}),
        node("a1", "u1", "assistant", {"content_type": "text", "parts": [answer]},
             metadata={"content_references": refs}),
        current="a1",
    )


def test_attributed_words_stay_and_entity_marks_read_as_their_names(vault, tmp_path):
    """An "attribution" reference spans words of the answer (no mark in them): they stay, the
    private-use characters around them go. A cite mark becomes its pages; an entity mark reads
    as the name ChatGPT shows (its `alt`)."""
    turns = _import(vault, tmp_path, cited_answer())
    assert turns[1].text == ("The office number is 061-750-6114 ([Office](https://example.org/office)).\n\n"
                             "Read Stephen Covey too.")


def tool_notes() -> dict:
    img = {"content_type": "image_asset_pointer", "asset_pointer": "sediment://file_1", "metadata": {"dalle": None}}
    return conversation(
        node("sys", "root", "system", {"content_type": "text", "parts": ["You are ChatGPT. Image input capabilities."]}),
        node("u1", "sys", "user", {"content_type": "text", "parts": ["Draw a fox and remember I like foxes"]}),
        node("bio", "u1", "assistant", {"content_type": "text", "parts": ["User likes foxes."]}, recipient="bio"),
        node("bio-ok", "bio", "tool", {"content_type": "text", "parts": ["Model set context updated."]},
             recipient="assistant", author={"role": "tool", "name": "bio"}),
        node("gen", "bio-ok", "assistant", {"content_type": "text", "parts": ['{"prompt": "a red fox"}']},
             recipient="t2uay3k.sj1i4kz"),
        node("pic", "gen", "tool", {"content_type": "multimodal_text", "parts": [img]},
             author={"role": "tool", "name": "t2uay3k.sj1i4kz"}),
        node("note", "pic", "tool", {"content_type": "text", "parts": ["GPT-4o returned 1 images. Do not say ANYTHING."]},
             recipient="assistant", author={"role": "tool", "name": "t2uay3k.sj1i4kz"}),
        node("shown", "note", "tool", {"content_type": "text", "parts": ["DALL·E displayed 1 images."]},
             author={"role": "tool", "name": "dalle.text2im"}),
        node("file", "shown", "tool", {"content_type": "multimodal_text", "parts": ["Make sure to cite", "page 1"]},
             author={"role": "tool", "name": "file_search"}, metadata={"command": "context_stuff"}),
        node("web", "file", "tool", {"content_type": "text", "parts": ["【turn0search0】 results"]},
             author={"role": "tool", "name": "web.run"}),
        node("page", "web", "tool", {"content_type": "sonic_webpage", "text": "a whole fetched page", "url": "https://a.b"},
             author={"role": "tool", "name": "web.run"}),
        node("quote", "page", "tool", {"content_type": "tether_quote", "text": "Foxes are red.", "url": "file-Cz1",
                                       "title": "foxes.pdf", "domain": "foxes.pdf"},
             author={"role": "tool", "name": "myfiles_browser"}),
        node("a1", "quote", "assistant", {"content_type": "text", "parts": ["Here is your fox."]}),
        current="a1",
    )


def test_what_tools_tell_the_model_is_not_a_turn(vault, tmp_path):
    """System instructions (even unmarked), image generation's "do not say anything" note, the
    memory tool's receipt, DALL-E's "displayed 1 images", a file's pages given to cite and web
    results are for the model: the page shows none. The picture made is shown in the answer,
    the calls are code, and a quote of an uploaded file names the file."""
    turns = _import(vault, tmp_path, tool_notes())
    assert [(t.role, t.text) for t in turns] == [
        ("user", "Draw a fox and remember I like foxes"),
        ("assistant", "```\nUser likes foxes.\n```"),
        ("assistant", '```\n{"prompt": "a red fox"}\n```'),
        ("assistant", "[Image]"),
        ("tool", "> Foxes are red.\n\nfoxes.pdf"),
        ("assistant", "Here is your fox."),
    ]


CODE = "# Build the table\nimport csv\nrows = list(csv.reader(open('a.csv')))"


def python_as_text() -> dict:
    return conversation(
        node("u1", "root", "user", {"content_type": "text", "parts": ["Count the rows"]}),
        node("c1", "u1", "assistant", {"content_type": "text", "parts": [CODE]}, recipient="python"),
        node("o1", "c1", "tool", {"content_type": "execution_output", "text": "3"},
             author={"role": "tool", "name": "python"}),
        node("c2", "o1", "assistant", {"content_type": "code", "language": "python", "text": "plt.show()"},
             recipient="python"),
        node("o2", "c2", "tool", {"content_type": "execution_output", "text": "\n<<ImageDisplayed>>"},
             author={"role": "tool", "name": "python"},
             metadata={"aggregate_result": {"messages": [{"message_type": "image", "image_url": "file-service://f"}]}}),
        node("a1", "o2", "assistant", {"content_type": "text", "parts": ["Three rows."]}),
        current="a1",
    )


def test_python_written_as_text_is_python_code(vault, tmp_path):
    """Code sent to python as text is python; a chart it showed is a picture, not "<<ImageDisplayed>>"."""
    turns = _import(vault, tmp_path, python_as_text())
    assert [(t.role, t.text) for t in turns] == [
        ("user", "Count the rows"), ("assistant", f"```python\n{CODE}\n```"), ("tool", "```\n3\n```"),
        ("assistant", "```python\nplt.show()\n```"), ("tool", "[Image]"), ("assistant", "Three rows."),
    ]


def reasoning_tool() -> dict:
    return conversation(
        node("u1", "root", "user", {"content_type": "text", "parts": ["Sync OneDrive?"]}),
        node("r1", "u1", "tool", {"content_type": "text", "parts": ["**Planning**\n\nThe user asks about sync."]},
             author={"role": "tool", "name": "a8km123"},
             metadata={"initial_text": "Reasoning", "finished_text": "Thought for 16 seconds"}),
        node("r2", "r1", "tool", {"content_type": "text", "parts": [""]},
             author={"role": "tool", "name": "a8km123"}, metadata={"finished_text": "Worked for 3m"}),
        node("a1", "r2", "assistant", {"content_type": "text", "parts": ["Open OneDrive settings."]}),
        current="a1",
    )


def test_reasoning_written_by_the_reasoning_tool_is_the_answers_thinking(vault, tmp_path):
    """o1 and later write their reasoning as the tool a8km123's message ("Thought for 16s" in
    its metadata, the summary as its text): it is the next answer's thinking, not a turn."""
    turns = _import(vault, tmp_path, reasoning_tool())
    assert [(t.role, t.text) for t in turns] == [("user", "Sync OneDrive?"), ("assistant", "Open OneDrive settings.")]
    assert turns[1].thinking == "Thought for 16 seconds\n\nWorked for 3m\n\n**Planning**\n\nThe user asks about sync."



def reasoning_steps() -> dict:
    busy = {"reasoning_status": "is_reasoning"}
    return conversation(
        node("u1", "root", "user", {"content_type": "text", "parts": ["Clean up this photo"]}),
        node("pre", "u1", "assistant", {"content_type": "text", "parts": ["I'll reduce the haze."]},
             metadata={"is_thinking_preamble_message": True}, channel="commentary"),
        node("t1", "pre", "assistant", {"content_type": "thoughts", "thoughts": [
            {"summary": "Planning", "content": "Dehaze, then sharpen.\ue200filecite\ue202turn0file0\ue201"}]}, metadata=busy),
        node("q", "t1", "assistant", {"content_type": "code", "language": "unknown",
                                      "text": '{"search_query": [{"q": "dehaze opencv"}]}'},
             recipient="web.run", metadata=busy),
        node("c", "q", "assistant", {"content_type": "code", "language": "unknown", "text": "img.size"},
             recipient="python", metadata=busy),
        node("o", "c", "tool", {"content_type": "execution_output", "text": "(750, 1334)"},
             author={"role": "tool", "name": "python"}, metadata=busy),
        node("r", "o", "assistant", {"content_type": "reasoning_recap", "content": "Thought for 38s"},
             metadata={"reasoning_status": "reasoning_ended"}),
        node("a1", "r", "assistant", {"content_type": "text", "parts": ["Here is the cleaned photo."]}),
        current="a1",
    )


def test_steps_a_reasoning_model_took_are_the_answers_thinking(vault, tmp_path):
    """GPT-5 Thinking and o3 search and run code while reasoning (reasoning_status "is_reasoning"),
    and say a preamble: ChatGPT shows all of it in the answer's thinking, in order (the marks
    its thoughts cite gone, as from answers)."""
    turns = _import(vault, tmp_path, reasoning_steps())
    assert [(t.role, t.text) for t in turns] == [("user", "Clean up this photo"),
                                                 ("assistant", "Here is the cleaned photo.")]
    assert turns[1].thinking == "\n\n".join([
        "Thought for 38s", "I'll reduce the haze.", "**Planning**\n\nDehaze, then sharpen.",
        '```\n{"search_query": [{"q": "dehaze opencv"}]}\n```', "```python\nimg.size\n```", "```\n(750, 1334)\n```",
    ])



def uploads() -> dict:
    photo = {"content_type": "image_asset_pointer", "asset_pointer": "sediment://file_00a1", "width": 1152}
    return conversation(
        node("u1", "root", "user", {"content_type": "multimodal_text", "parts": [photo, "What plugs in here?"]},
             metadata={"attachments": [
                 {"id": "file_00a1", "name": "IMG_8A67.jpeg", "mime_type": "image/jpeg", "size": 2280661},
                 {"id": "file-Xy7", "name": "wiring [2006].pdf", "mime_type": "application/pdf"}]}),
        node("a1", "u1", "assistant", {"content_type": "text", "parts": ["The knock sensor."]}),
        current="a1",
    )


def test_files_uploaded_with_a_message_are_named(vault, tmp_path):
    """A picture reads with its file's name; a file that is no picture (a PDF) is named first,
    as ChatGPT shows its chip above the message."""
    turns = _import(vault, tmp_path, uploads())
    assert turns[0].text == "[File: wiring (2006).pdf]\n\n[Image: IMG_8A67.jpeg]\n\nWhat plugs in here?"


# Read in the extension too (test_chatgpt_json); not uploads(): live capture keeps the files as the
# turn's attachments (their bytes come from the page), where an import can only name them.
NEWER = [cited_answer, tool_notes, python_as_text, reasoning_tool, reasoning_steps]


def test_null_children_and_a_null_mapping_do_not_refuse_the_export(vault, tmp_path):
    """Some exports write `children: null` on a leaf, or `mapping: null` for a conversation
    with no messages: the leaf is a leaf, the empty conversation imports empty, the others whole."""
    conv = conversation(node("u1", "root", "user", {"content_type": "text", "parts": ["Still here?"]}),
                        node("a1", "u1", "assistant", {"content_type": "text", "parts": ["Yes."]}), current="a1")
    conv["mapping"]["a1"]["children"] = None
    empty = {"title": "Empty", "create_time": 1.75e9, "update_time": 1.75e9, "mapping": None,
             "current_node": None, "conversation_id": "empty-1"}
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([conv, empty]))
    import_chatgpt_export(vault, path)
    imported = {c.title: vault.get_conversation(c.id) for c in vault.list_conversations()}
    assert [t.text for t in imported["Newer"].turns] == ["Still here?", "Yes."]
    assert imported["Empty"].turns == []
