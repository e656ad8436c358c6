"""Import of Google Takeout's Gemini activity into a real vault on disk.

No real Takeout with an open licence exists (see ../shared/fixtures/real/SOURCES.md);
the file here follows its documented shape: newest first, one entry per prompt, the
answer as HTML, no conversation ids, other activity mixed in.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from draftvault.importers import detect, takeout_html
from draftvault.importers.gemini import import_gemini_takeout
from draftvault.importers.source import ImportFailed
from frames import snapshot


def entry(prompt: str | None, time: str, html: str = "", **extra) -> dict:
    e = {"header": "Gemini Apps", "title": f"Prompted {prompt}" if prompt else "Used Gemini Apps", "time": time,
         "products": ["Gemini Apps"], "activityControls": ["Gemini Apps Activity"], **extra}
    if html:
        e["safeHtmlItem"] = [{"html": html}]
    return e


ENTRIES = [  # newest first, as Takeout writes them
    entry("Explain TCP", "2025-05-02T15:00:00.000Z", "<p>A reliable byte stream.</p>"),
    entry(None, "2025-05-02T14:00:00.000Z"),
    entry("Make it about snow", "2025-05-02T08:10:00.000Z", "<p>White hush on the pines</p><script>alert(1)</script>"),
    entry("Write a haiku about rain", "2025-05-02T08:00:00.000Z",
          "<p>Soft rain on the roof</p><ul><li>five</li><li>seven</li></ul><pre><code>print(5)</code></pre>",
          attachedFiles=["rain.jpg"]),
    {"header": "Search", "title": "Searched for quokka", "time": "2025-05-01T12:00:00.000Z", "products": ["Search"]},
    entry("And Florence?", "2025-05-01T10:02:00.000Z", "<p>Two hours by train.</p>"),
    entry("Plan a trip to Rome", "2025-05-01T10:00:00.000Z", "<p>Start at the <b>Colosseum</b>.</p>"),
    entry("Where do they live?", "2025-05-01T09:03:00.000Z", "<p>Rottnest Island.</p>"),
    entry("What is a quokka?", "2025-05-01T09:00:00.000Z", "<p>A small wallaby.</p>"),
]


def takeout(tmp_path: Path, entries=ENTRIES) -> Path:
    archive = tmp_path / "takeout-20250503.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Takeout/My Activity/Gemini Apps/My Activity.json", json.dumps(entries, indent=2))
        zf.writestr("Takeout/archive_browser.html", "<html></html>")
    return archive


def capture_live(vault) -> None:
    """Two Gemini conversations the extension captured: one holds both quokka prompts,
    the other only the first prompt about Rome."""
    vault.apply("client-gem-1", snapshot(1, [("user", "What is a quokka?"), ("assistant", "A small wallaby."),
                                             ("user", "Where  do they live?"), ("assistant", "Rottnest Island.")],
                                         site="gemini", conv="aaa111", page="page-gem-1", title="Quokkas"))
    vault.apply("client-gem-1", snapshot(2, [("user", "Plan a trip to Rome"), ("assistant", "Start at the Colosseum.")],
                                         site="gemini", conv="bbb222", page="page-gem-2", title="Rome trip"))


def by_title(vault) -> dict:
    return {c.title: vault.get_conversation(c.id) for c in vault.list_conversations(site="gemini")}


def test_groups_by_live_conversations_and_time_gaps(vault, tmp_path):
    capture_live(vault)
    archive = takeout(tmp_path)
    assert detect(archive) == "gemini-takeout"
    result = import_gemini_takeout(vault, archive)
    assert (result.conversations, result.created, result.turns) == (3, 3, 10)
    assert result.notes == [
        "7 prompts grouped into conversations: 1 by matching Gemini conversations captured live, 2 by time gaps "
        "(a new conversation after 30 minutes without a prompt); 1 already captured live were skipped"
    ]
    convs = by_title(vault)
    assert set(convs) == {"Quokkas", "Rome trip", "Write a haiku about rain", "Explain TCP"}
    assert convs["Quokkas"].conversation_id == "aaa111"  # the live one, untouched
    rome = [c for c in convs.values() if c.title == "Rome trip" and c.conversation_id != "bbb222"]
    assert [(t.role, t.text) for t in rome[0].turns] == [
        ("user", "Plan a trip to Rome"), ("assistant", "Start at the **Colosseum**."),
        ("user", "And Florence?"), ("assistant", "Two hours by train."),
    ]
    haiku = convs["Write a haiku about rain"]
    assert haiku.created_at.startswith("2025-05-02T08:00:00")
    assert [(t.role, t.text) for t in haiku.turns] == [
        ("user", "Write a haiku about rain\n\n[File: rain.jpg]"),
        ("assistant", "Soft rain on the roof\n\n- five\n- seven\n\n```\nprint(5)\n```"),
        ("user", "Make it about snow"), ("assistant", "White hush on the pines"),
    ]
    assert [(t.role, t.text) for t in convs["Explain TCP"].turns] == [
        ("user", "Explain TCP"), ("assistant", "A reliable byte stream.")]

    again = import_gemini_takeout(vault, archive)
    assert (again.conversations, again.created, again.updated, again.unchanged) == (3, 0, 0, 3)
    assert len(vault.list_conversations(site="gemini")) == 5


def test_without_live_conversations_time_gaps_decide(vault, tmp_path):
    path = tmp_path / "My Activity.json"
    path.write_text(json.dumps(ENTRIES))
    result = import_gemini_takeout(vault, path)
    assert result.conversations == 4  # quokka, Rome (10:00 is 57 minutes after 09:03), haiku, TCP
    assert "0 by matching Gemini conversations captured live, 4 by time gaps" in result.notes[0]
    assert by_title(vault)["What is a quokka?"].turn_count == 4


@pytest.mark.parametrize("entries, place", [
    (ENTRIES[:2] + [{**ENTRIES[2], "time": "yesterday"}], "entry 2 (byte "),
    (ENTRIES[:1] + [{**ENTRIES[1], "safeHtmlItem": "<p>x</p>"}], "entry 1 (byte "),
])
def test_malformed_takeout_names_file_and_place_and_keeps_nothing(vault, tmp_path, entries, place):
    archive = takeout(tmp_path, entries)
    with pytest.raises(ImportFailed) as e:
        import_gemini_takeout(vault, archive)
    assert str(e.value).startswith(f"{archive}!Takeout/My Activity/Gemini Apps/My Activity.json: {place}")
    assert vault.list_conversations() == []


def cell(header: str, body: str, products: str | None = None, beside: str = "") -> str:
    """One entry of My Activity.html, as Takeout writes it."""
    return ('<div class="outer-cell mdl-cell mdl-cell--12-col mdl-shadow--2dp"><div class="mdl-grid">'
            f'<div class="header-cell mdl-cell mdl-cell--12-col"><p class="mdl-typography--title">{header}<br></p></div>'
            f'<div class="content-cell mdl-cell mdl-cell--6-col mdl-typography--body-1">{body}</div>'
            f'<div class="content-cell mdl-cell mdl-cell--6-col mdl-typography--body-1 mdl-typography--text-right">{beside}</div>'
            '<div class="content-cell mdl-cell mdl-cell--12-col mdl-typography--caption"><b>Products:</b><br>'
            f'&emsp;{products or header}<br></div></div></div>')


def page(*cells: str) -> str:
    return '<html><head><style>.mdl-grid{}</style></head><body><div class="mdl-grid">' + "".join(cells) + "</div></body></html>"


def test_takeout_in_html_reads_as_its_json(vault, tmp_path):
    """HTML is Takeout's default format: prompts, files, times in the account's language, answers."""
    archive = tmp_path / "takeout.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Takeout/My Activity/Gemini Apps/MyActivity.html", page(
            cell("Gemini Apps", "Prompted&nbsp;And Florence?<br>May 1, 2025, 6:02:00\u202fAM EDT<br><p>Two hours by train.</p>",
                 beside='<a href="map-33a1.png"><img src="map-33a1.png"></a>'),
            cell("Gemini Apps", "Prompted<br>Attached 1 file.<br>-&nbsp;<a href=\"image_8-1e98.png\">image_8.png</a><br>"
                                "May 1, 2025, 6:01:00 AM EDT<p>The <b>Colosseum</b>.</p>"),
            cell("Gemini Apps", 'Prompted <a href="https://gemini.google.com/app/abc">Plan a trip to Rome</a><br>in May<br>'
                                "May 1, 2025, 6:00:00 AM EDT<br><p>Start early.</p>"),
            cell("Gemini Apps", "Used Gemini Apps<br>May 1, 2025, 5:59:00 AM EDT<br>")))
        zf.writestr("Takeout/archive_browser.html", "<html>An index of the archive</html>")
        zf.writestr("Takeout/Meine Aktivitäten/Gemini-Apps/MeineAktivitäten.html", page(
            cell("Gemini-Apps", "Eingegebener Prompt: Wie spät ist es in Tokio?<br>18.04.2026, 17:38:51 MESZ<br><p>00:38 Uhr.</p>")))
    assert detect(archive) == "gemini-takeout"
    result = import_gemini_takeout(vault, archive)
    assert (result.conversations, result.turns) == (2, 8)
    convs = by_title(vault)
    rome = convs["Plan a trip to Rome"]
    assert rome.created_at.startswith("2025-05-01T10:00:00")  # EDT is four hours behind
    assert [(t.role, t.text) for t in rome.turns] == [
        ("user", "Plan a trip to Rome\nin May"), ("assistant", "Start early."),
        ("user", "[File: image_8-1e98.png]"), ("assistant", "The **Colosseum**."),
        ("user", "And Florence?\n\n[File: map-33a1.png]"), ("assistant", "Two hours by train."),
    ]
    tokyo = convs["Wie spät ist es in Tokio?"]
    assert (tokyo.created_at[:19], tokyo.turns[1].text) == ("2026-04-18T15:38:51", "00:38 Uhr.")


def test_geminis_activity_in_html_is_read_before_other_products_in_json(vault, tmp_path):
    archive = tmp_path / "takeout.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Takeout/My Activity/Gemini Apps/MyActivity.html",
                    page(cell("Gemini Apps", "Prompted hello<br>Jan 2, 2025, 9:00:00 AM UTC<br><p>Hi.</p>")))
        zf.writestr("Takeout/My Activity/Search/MyActivity.json", json.dumps(ENTRIES[4:5]))
    assert import_gemini_takeout(vault, archive).conversations == 1


def test_an_html_entry_is_geminis_by_its_products_too(vault, tmp_path):
    path = tmp_path / "Moje aktivita.html"
    path.write_text(page(cell("Konverzace", "Pokyn&nbsp;Ahoj<br>1. 1. 2026 10:00:00\n SEČ<br><p>Dobrý den.</p>",
                              products="Aplikace Gemini")))
    import_gemini_takeout(vault, path)
    (c,) = by_title(vault).values()
    assert ([(t.role, t.text) for t in c.turns], c.created_at[:19]) == (
        [("user", "Ahoj"), ("assistant", "Dobrý den.")], "2026-01-01T09:00:00")


def test_an_html_entry_past_the_record_limit_is_refused_by_place(vault, tmp_path):
    archive = tmp_path / "takeout.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Takeout/My Activity/Gemini Apps/MyActivity.html", page(
            cell("Gemini Apps", "Prompted a<br>Jan 2, 2025, 9:00:00 AM UTC<br><p>" + "x" * (33 << 20) + "</p>"),
            cell("Gemini Apps", "Prompted b<br>Jan 2, 2025, 9:01:00 AM UTC<br><p>b</p>")))
    with pytest.raises(ImportFailed, match=r"MyActivity\.html: entry 0 \(byte \d+\): larger than 32 MiB, the limit for one entry"):
        import_gemini_takeout(vault, archive)
    assert vault.list_conversations() == []


def test_a_page_that_is_not_takeouts_is_refused(vault, tmp_path):
    path = tmp_path / "chat.html"
    path.write_text("<html><body><p>A ChatGPT export's page</p></body></html>")
    with pytest.raises(ImportFailed, match=r"chat\.html: byte 0: is a page without Takeout's activity entries"):
        import_gemini_takeout(vault, path)


def test_a_time_in_html_in_a_form_not_read_is_named(vault, tmp_path):
    path = tmp_path / "My Activity.html"
    path.write_text(page(cell("Gemini Apps", "Prompted x<br>12 Tishrei 5787, 15:34<br><p>y</p>")))
    with pytest.raises(ImportFailed, match=r"entry 0 \(byte \d+\): no time in a form read here among \['Prompted x', "
                                           r"'12 Tishrei 5787, 15:34', 'y'\]: in Takeout, choose JSON"):
        import_gemini_takeout(vault, path)


@pytest.mark.parametrize("text, utc", [
    ("Apr 12, 2026, 3:34:31 PM EDT", "2026-04-12T19:34:31"), ("Apr 12, 2026, 12:05:00\u202fAM PST", "2026-04-12T08:05:00"),
    ("12 Apr 2026, 15:34:31 BST", "2026-04-12T14:34:31"), ("18.04.2026, 17:38:51 MEZ", "2026-04-18T16:38:51"),
    ("10 de mai. de 2026, 03:46:09 BRT", "2026-05-10T06:46:09"), ("2026/04/12 15:34:31 GMT+09:00", "2026-04-12T06:34:31"),
    ("2026年4月12日 15:34:31 JST", "2026-04-12T06:34:31"), ("2026-09-02T12:00:00Z", "2026-09-02T12:00:00"),
    ("2 juil. 2026, 09:00:00 CEST", "2026-07-02T07:00:00"), ("2 juin 2026, 09:00:00 UTC", "2026-06-02T09:00:00"),
    ("Jul 2, 2026 at 9:00:00 AM PDT", "2026-07-02T16:00:00"),
    ("1. 1. 2026 10:00:00 SEČ", "2026-01-01T09:00:00"),
])
def test_takeout_times_in_several_languages(text, utc):
    assert takeout_html.parse_time(text).isoformat()[:19] == utc


def test_other_products_activity_is_not_read(vault, tmp_path):
    archive = tmp_path / "takeout.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Takeout/My Activity/Gemini Apps/My Activity.json", json.dumps(ENTRIES[:1]))
        zf.writestr("Takeout/My Activity/Search/My Activity.json", "[not even JSON")
    assert import_gemini_takeout(vault, archive).conversations == 1


def test_an_answer_nested_deeper_than_pythons_stack_keeps_its_text(vault, tmp_path):
    """5,000 nested <div>s: markdownify recursed past Python's limit and the whole Takeout was refused."""
    deep = "<div>" * 5000 + "<p>Deep <b>answer</b></p>" + "</div>" * 5000
    entries = [entry("Normal", "2025-05-02T15:00:00.000Z", "<p>Fine.</p>"), entry("Nested", "2025-05-02T14:00:00.000Z", deep)]
    result = import_gemini_takeout(vault, takeout(tmp_path, entries))
    assert result.conversations == 2
    texts = sorted(t.text for s in vault.list_conversations() for t in vault.get_conversation(s.id).turns)
    assert texts == ["Deep answer", "Fine.", "Nested", "Normal"]


def test_a_prompt_of_only_a_picture_keeps_its_picture_and_answer(vault, tmp_path):
    """Takeout titles a prompt that was only an image "Prompted", with no space after it."""
    picture = {**entry(None, "2025-05-02T15:00:00.000Z", "<p>A quokka, smiling.</p>"), "title": "Prompted",
               "subtitles": [{"name": "Attached 1 file."}, {"name": "-  image_89b1bd.png", "url": "image_89b1bd-1e98.png"}],
               "imageFile": "image_89b1bd-1e98.png"}
    result = import_gemini_takeout(vault, takeout(tmp_path, [picture]))
    (c,) = by_title(vault).values()
    assert (result.turns, [(t.role, t.text) for t in c.turns]) == (2, [
        ("user", "[Image: image_89b1bd-1e98.png]"), ("assistant", "A quokka, smiling.")])


def localized(tmp_path: Path, member: str, entries) -> Path:
    archive = tmp_path / "takeout-20260301.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(member, json.dumps(entries))
        zf.writestr("Takeout/Gemini/gems.json", json.dumps({"gems": [{"name": "Tutor"}]}))  # Gemini's own settings
        zf.writestr("Takeout/archive_browser.html", "<html></html>")
    return archive


@pytest.mark.parametrize("member, wording, header", [
    ("Takeout/My Activity/Gemini Apps/MyActivity.json", "Prompted", "Gemini Apps"),  # en-US names it so
    ("Takeout/Meine Aktivitäten/Gemini-Apps/MeineAktivitäten.json", "Eingegebener Prompt:", "Gemini-Apps"),
    ("Takeout/My Activity/Bard/My Activity.json", "Prompted", "Bard"),  # Gemini's name until 2024
    ("Takeout/Moje aktivita/Aplikace Gemini/MojeAktivita.json", "Pokyn", "Aplikace Gemini"),
])
def test_takeouts_in_other_spellings_and_languages_are_read(vault, tmp_path, member, wording, header):
    entries = [{**e, "header": header, "products": [header], "title": e["title"].replace("Prompted", wording, 1)}
               for e in ENTRIES[5:]]
    archive = localized(tmp_path, member, entries)
    assert detect(archive) == "gemini-takeout"
    result = import_gemini_takeout(vault, archive)
    assert (result.conversations, result.turns) == (2, 8)
    rome = by_title(vault)["Plan a trip to Rome"]
    assert [(t.role, t.text) for t in rome.turns][:2] == [("user", "Plan a trip to Rome"),
                                                         ("assistant", "Start at the **Colosseum**.")]
    assert rome.created_at.startswith("2025-05-01T10:00:00")


def test_an_answered_entry_in_an_unknown_wording_is_kept_title_and_all(vault, tmp_path):
    entries = [{**e, "title": e["title"].replace("Prompted ", "Requête : ", 1)} for e in ENTRIES[:1]]
    entries.append({**entry(None, "2025-05-02T14:00:00.000Z"), "title": "Gemini utilisé"})  # no answer: not a prompt
    result = import_gemini_takeout(vault, takeout(tmp_path, entries))
    (c,) = by_title(vault).values()
    assert [(t.role, t.text) for t in c.turns] == [("user", "Requête : Explain TCP"),
                                                  ("assistant", "A reliable byte stream.")]
    assert result.notes[1] == "1 answered entries whose title is no prompt wording known here were read as prompts, title and all"


def test_an_answer_of_several_items_is_read_whole_with_its_sources_and_a_picture_is_named_once(vault, tmp_path):
    """Real Takeouts hold up to five safeHtmlItems for one prompt, name its picture in both
    attachedFiles and imageFile, and its cited pages among the subtitles."""
    many = {**entry("Name a cat", "2025-05-02T15:00:00.000Z"), "attachedFiles": ["cat-1e98.png"], "imageFile": "cat-1e98.png",
            "safeHtmlItem": [{"html": "<p>Miso.</p>"}, {"html": "<p>Tofu.</p>"}, {"html": "<p>Bo.</p>"}],
            "subtitles": [{"name": "-  cat.png", "url": "cat-1e98.png"}, {"name": "https://cats.example/names",
                          "url": "https://cats.example/names"}, {"name": "https://cats.example/names", "url": "https://cats.example/names"},
                          {"name": "Namer was used in this chat. Manage your Gems.", "url": "https://gemini.google.com/gems/view"}]}
    import_gemini_takeout(vault, takeout(tmp_path, [many]))
    (c,) = by_title(vault).values()
    assert [(t.role, t.text) for t in c.turns] == [
        ("user", "Name a cat\n\n[File: cat-1e98.png]"),
        ("assistant", "Miso.\n\nTofu.\n\nBo.\n\nSources:\n- [https://cats.example/names](https://cats.example/names)")]


def test_files_named_in_a_shape_not_seen_yet_do_not_refuse_the_takeout(vault, tmp_path):
    odd = entry("Describe these", "2025-05-02T15:00:00.000Z", "<p>Two photos.</p>",
                attachedFiles=["a.jpg", {"name": "b.jpg"}, 7], imageFile={"url": "c.png"})
    import_gemini_takeout(vault, takeout(tmp_path, [odd]))
    (c,) = by_title(vault).values()
    assert c.turns[0].text == "Describe these\n\n[File: a.jpg]"
