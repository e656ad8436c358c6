"""Markdown / JSON export of conversations, one at a time and as a .zip from a real vault."""

from __future__ import annotations

import io
import json
import re
import zipfile

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from draftvault import models
from draftvault.export import conversation_json, conversation_markdown, export_zip, file_stem, front_matter


def detail(title: str | None = "Adding numbers: a \"quick\" one", **kw) -> models.ConversationDetail:
    fields = dict(
        id="Xy_z-0123456789",
        site="chatgpt",
        conversation_id="6650f8a1-0000",
        title=title,
        url="https://chatgpt.com/c/6650f8a1-0000",
        status="active",
        turn_count=2,
        updated_at="2026-11-23T08:30:00.123+00:00",
        created_at="2026-11-23T08:00:00.000+00:00",
        model="gpt-4o",
        turns=[
            models.TurnOut(index=0, role="user", text="How do I add $a+b$ in Python?"),
            models.TurnOut(index=1, role="assistant", text="Like this:\n\n```python\nprint(1 + 2)\n```\n\nIt prints $3$.\n"),
        ],
        draft=models.DraftOut(text="And in Rust?", updated_at="2026-11-23T08:31:00.000+00:00"),
    )
    fields.update(kw)
    return models.ConversationDetail(**fields)


def test_markdown_reads_as_a_person_expects():
    assert conversation_markdown(detail()) == (
        "---\n"
        'id: "Xy_z-0123456789"\n'
        'title: "Adding numbers: a \\"quick\\" one"\n'
        'site: "chatgpt"\n'
        'url: "https://chatgpt.com/c/6650f8a1-0000"\n'
        "created: 2026-11-23T08:00:00.000+00:00\n"
        "updated: 2026-11-23T08:30:00.123+00:00\n"
        'model: "gpt-4o"\n'
        "---\n"
        "\n"
        '# Adding numbers: a "quick" one\n'
        "\n"
        "## User\n"
        "\n"
        "How do I add $a+b$ in Python?\n"
        "\n"
        "## Assistant\n"
        "\n"
        "Like this:\n"
        "\n"
        "```python\n"
        "print(1 + 2)\n"
        "```\n"
        "\n"
        "It prints $3$.\n"
        "\n"
        "## Unsent draft\n"
        "\n"
        "And in Rust?\n"
    )


def test_missing_values_are_empty_in_front_matter():
    fm = front_matter(detail(title=None, url=None, model=None))
    assert "\ntitle:\n" in fm and "\nurl:\n" in fm and "\nmodel:\n" in fm
    assert conversation_markdown(detail(title=None, draft=None)).split("\n---\n", 1)[1].startswith(
        "\n# Untitled conversation\n\n## User\n"
    )


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_front_matter_escapes_any_title(title):
    fm = front_matter(detail(title=title))
    lines = fm.split("\n")
    assert lines[0] == "---" and lines[8] == "---" and lines[9] == ""  # no title can add or break a line
    assert lines[1] == 'id: "Xy_z-0123456789"' and lines[2].startswith("title: ")
    value = lines[2][len("title: ") :]
    # A JSON string is a YAML double-quoted scalar; no character YAML forbids is left raw.
    assert json.loads(value) == title
    assert not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]", value)


@given(st.text(), st.text(min_size=1))
def test_file_names_are_safe(title, id):
    stem = file_stem(title, id)
    assert re.fullmatch(r"[\w-]{1,69}", stem)
    assert not stem.startswith(("-", ".", "_"))


def test_json_export_round_trips():
    d = detail()
    assert msgspec.json.decode(conversation_json(d), type=models.ConversationDetail) == d


def add(vault, n: int, title: str, turns: int = 2) -> str:
    id, _ = vault.import_conversation(
        site="chatgpt",
        conversation_id=f"conv-{n}",
        title=title,
        url=f"https://chatgpt.com/c/conv-{n}",
        model="gpt-4o",
        created_at="2026-01-01T00:00:00.000+00:00",
        updated_at=f"2026-01-01T00:{n:02d}:00.000+00:00",
        turns=[("user" if k % 2 == 0 else "assistant", f"turn {k} of conversation {n}") for k in range(turns)],
    )
    return id


def test_zip_of_everything(vault):
    ids = [add(vault, n, "Same title / twice?" if n < 2 else f"Conversation {n}") for n in range(4)]
    out = io.BytesIO()
    steps = []
    assert export_zip(vault, None, "md", out, progress=lambda d, t: steps.append((d, t))) == 4
    assert steps == [(1, 4), (2, 4), (3, 4), (4, 4)]
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as zf:
        names = zf.namelist()
        assert len(set(names)) == 4
        files = {name: zf.read(name).decode() for name in names}
    expected = {file_stem(vault.get_conversation(i).title, i) + ".md": conversation_markdown(vault.get_conversation(i)) for i in ids}
    assert files == expected
    assert sum(name.startswith("same-title-twice-") for name in names) == 2


def test_zip_of_a_selection_as_json(vault, tmp_path):
    ids = [add(vault, n, f"Conversation {n}") for n in range(3)]
    path = tmp_path / "out.zip"
    assert export_zip(vault, [ids[2], "no-such-id", ids[0]], "json", path) == 2
    with zipfile.ZipFile(path) as zf:
        got = {msgspec.json.decode(zf.read(n), type=models.ConversationDetail).id for n in zf.namelist()}
        assert all(n.endswith(".json") for n in zf.namelist())
    assert got == {ids[0], ids[2]}


def test_markdown_keeps_earlier_versions_in_collapsed_callouts():
    old = "Old answer:\n\n> quoted line\n\n```python\nprint('old')\n```"
    d = detail(branches=[
        models.BranchOut(id="b1", from_index=1, reason="regenerated", replaced_at="2026-11-23T08:20:00.000+00:00",
                         turns=[models.TurnOut(index=1, role="assistant", text=old)]),
        models.BranchOut(id="b2", from_index=0, reason="imported",
                         turns=[models.TurnOut(index=0, role="user", text="Another question")]),
    ])
    md = conversation_markdown(d)
    current, _, versions = md.partition("\n> [!note]-")
    assert "print(1 + 2)" in current and "print('old')" not in current  # the current thread first
    assert "> [!note]- Earlier version, regenerated 2026-11-23 08:20 UTC (from turn 2)\n" in md
    assert "> [!note]- Earlier version, imported (from turn 1)\n> ### User\n>\n> Another question\n" in md
    # The old answer's quote and code fence nest inside the callout, line by line.
    assert "> ### Assistant\n>\n> Old answer:\n>\n> > quoted line\n>\n> ```python\n> print('old')\n> ```\n" in md
    assert md.index("## Unsent draft") < md.index("[!note]-")


def test_json_export_gives_the_branches():
    branch = models.BranchOut(id="b1", from_index=1, reason="edited", replaced_at="2026-11-23T08:20:00.000+00:00",
                              turns=[models.TurnOut(index=1, role="assistant", text="the replaced answer")])
    data = json.loads(conversation_json(detail(branches=[branch])))
    assert data["branches"] == [msgspec.to_builtins(branch)]
