"""A turn's parts besides its text (issue 13 items 2, 4, 5), over the real WebSocket of a real
`draftvault serve`: when each turn was first seen, its thinking kept apart from the answer,
and the documents it made (canvas, artifacts) with their edits kept as versions."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from test_nothing_lost import browser, detail_of  # noqa: F401 (browser is a fixture)

PAGE_V1 = "# Launch plan\n\n- Ship on Monday\n- Tell the team"
PAGE_V2 = "# Launch plan\n\n- Ship on TUESDAYSHIP\n- Tell the team"
CODE = "def area(r):\n    return 3.14159 * r * r\n"


def doc(text, title="Launch plan", kind="document", **kw):
    return {"title": title, "kind": kind, "text": text, **kw}


def test_first_seen_stays_while_an_answer_streams_and_a_regenerated_one_gets_its_own(server, browser):
    browser.snap([("user", "Count SLOWLY please")])
    text = "One"
    for word in ("two", "three", "four"):
        text += f", {word}"
        browser.snap([("assistant", text)], turns_from=1, streaming=True)
    first = detail_of(server)["turns"][1]["first_seen"]
    browser.snap([("assistant", text + ", five.")], turns_from=1)
    browser.snap([("user", "Count SLOWLY please"), ("assistant", text + ", five.")])  # a reload sends it all again
    d = detail_of(server)
    assert d["turns"][1]["first_seen"] == first and d["branches"] == []
    assert datetime.fromisoformat(d["turns"][0]["first_seen"]) <= datetime.fromisoformat(first)

    browser.snap([("assistant", "A REGENERATED count")], turns_from=1)
    d = detail_of(server)
    (branch,) = d["branches"]
    assert branch["turns"][0]["first_seen"] == first  # the version keeps its own time
    assert datetime.fromisoformat(d["turns"][1]["first_seen"]) >= datetime.fromisoformat(first)
    # Flipping back to the first answer (the page's version switcher) is not a new answer.
    browser.snap([("assistant", text + ", five.")], turns_from=1)
    assert detail_of(server)["turns"][1]["first_seen"] == first


def test_thinking_is_kept_apart_and_left_out_of_a_default_resume_pack(server, browser):
    thinking = "The user wants PONDERWORD: weigh the options first."
    browser.snap([("user", "Which option?"), ("assistant", "Take option B.", {"thinking": thinking})], title="Think")
    d = detail_of(server)
    answer = d["turns"][1]
    assert (answer["text"], answer["thinking"]) == ("Take option B.", thinking)
    pack = server.api("GET", f"/api/conversations/{d['id']}/resume")["text"]
    assert "Take option B." in pack and "PONDERWORD" not in pack
    with_thinking = server.api("GET", f"/api/conversations/{d['id']}/resume", params={"thinking": "true"})["text"]
    assert "> [!quote]- Thinking\n> The user wants PONDERWORD" in with_thinking
    # A reload that does not render the collapsed block again changes nothing.
    browser.snap([("user", "Which option?"), ("assistant", "Take option B.")])
    assert detail_of(server)["turns"][1]["thinking"] == thinking and detail_of(server)["branches"] == []
    # Search finds answers and documents, not thinking (docs/markdown.md).
    assert server.api("GET", "/api/search", params={"q": "PONDERWORD "})["items"] == []


def test_a_document_edit_keeps_the_earlier_document_as_a_version(server, browser):
    browser.snap([("user", "Plan the launch"),
                  ("assistant", "Here is a plan.", {"documents": [doc(PAGE_V1), doc(CODE, "area.py", "code", language="python")]})],
                 title="Launch")
    first = detail_of(server)
    assert [d["title"] for d in first["turns"][1]["documents"]] == ["Launch plan", "area.py"]
    # The person edits the canvas: the same answer now shows the new document.
    browser.snap([("assistant", "Here is a plan.", {"documents": [doc(PAGE_V2), doc(CODE, "area.py", "code", language="python")]})],
                 turns_from=1)
    d = detail_of(server)
    assert d["turns"][1]["documents"][0]["text"] == PAGE_V2
    assert d["turns"][1]["first_seen"] == first["turns"][1]["first_seen"]
    (branch,) = d["branches"]
    assert (branch["reason"], branch["from_index"]) == ("edited", 1)
    assert branch["turns"][0]["documents"][0]["text"] == PAGE_V1 and branch["turns"][0]["text"] == "Here is a plan."
    (hit,) = server.api("GET", "/api/search", params={"q": "TUESDAYSHIP"})["items"]
    assert hit["conversation"] == d["id"] and "TUESDAYSHIP" in hit["snippet"]

    md = server.api("GET", f"/api/conversations/{d['id']}/export.md").decode()
    assert "> [!example] Document: area.py (code, python)\n> ```python\n> def area(r):" in md
    assert "> [!example] Document: Launch plan (document)\n> # Launch plan\n>\n> - Ship on TUESDAYSHIP" in md
    assert "> > [!example] Document: Launch plan (document)\n> > # Launch plan\n> >\n> > - Ship on Monday" in md  # the version
    exported = server.api("GET", f"/api/conversations/{d['id']}/export.json")
    assert exported["turns"][1]["documents"][1] == doc(CODE, "area.py", "code", language="python")
    pack = server.api("GET", f"/api/conversations/{d['id']}/resume")["text"]
    assert "Ship on TUESDAYSHIP" in pack and "return 3.14159 * r * r" in pack
    with zipfile.ZipFile(io.BytesIO(server.api("POST", "/api/export", json={"ids": [d["id"]], "format": "md"}))) as zf:
        (name,) = zf.namelist()
        assert "Ship on TUESDAYSHIP" in zf.read(name).decode()
