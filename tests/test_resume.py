"""Resume packs: budgets per target, trimming that keeps whole turns, determinism, round trip."""

import os
import re
import typing
from pathlib import Path

import msgspec
import pytest

from draftvault import models
from draftvault.resume import BUDGETS, build_pack

REAL = Path(
    os.environ.get("DRAFTVAULT_REAL_FIXTURES")
    or Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "real"
) / "chatgpt-fragments-2026"
TARGETS = list(typing.get_args(models.ResumeTarget))


def _body(name: str) -> str:
    """A real fragment's expected Markdown, without its front matter."""
    text = (REAL / name).read_text()
    return text.split("```\n", 1)[1].strip() if text.startswith("```json") else text.strip()


CODE = _body("codeblocks--chatgpt-codemirror.md")  # fenced python from a real ChatGPT page
CITED = _body("extractor--chatgpt-citations.md")  # headings, lists, links
MATH = "The roots are $x = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}$, and\n\n$$\n\\int_0^1 x^2\\,dx = \\tfrac13\n$$\n\nso the area is $1/3$."


def _detail(turns: list[tuple[str, str]], draft: str | None = "and now for $n$ terms?", title="Fibonacci"):
    return models.ConversationDetail(
        id="conv1",
        site="chatgpt",
        conversation_id="abc",
        title=title,
        url="https://chatgpt.com/c/abc",
        status="failed",
        turn_count=len(turns),
        updated_at="2026-11-23T08:00:00.000+00:00",
        created_at="2026-11-23T07:00:00.000+00:00",
        model=None,
        turns=[models.TurnOut(index=i, role=r, text=t) for i, (r, t) in enumerate(turns)],
        draft=None if draft is None else models.DraftOut(text=draft, updated_at="2026-11-23T08:00:00.000+00:00"),
    )


def _long(n: int = 60) -> list[tuple[str, str]]:
    answers = [CODE, CITED, MATH]
    turns = [("user", "First question: write Fibonacci in Python, then explain it with math.")]
    for i in range(1, n):
        turns.append(("assistant", f"Answer {i}.\n\n{answers[i % 3]}") if i % 2 else ("user", f"Follow-up {i}: go on."))
    return turns


def _kept_in_order(pack: models.ResumePack, detail) -> list[int]:
    """Indexes of the turns whose text appears verbatim in the pack, checking they appear in order."""
    kept, pos = [], 0
    for turn in detail.turns:
        at = pack.text.find(turn.text, pos)
        if at >= 0:
            kept.append(turn.index)
            pos = at + len(turn.text)
    return kept


def _balanced(text: str) -> bool:
    fences = [line for line in text.split("\n") if re.match(r"^ {0,3}```", line)]
    displays = [line for line in text.split("\n") if line.strip() == "$$"]
    return len(fences) % 2 == 0 and len(displays) % 2 == 0


def test_every_target_has_a_budget_sized_to_its_box():
    assert set(BUDGETS) == set(TARGETS)
    assert BUDGETS["copilot"] <= 8000  # Copilot's box holds about 10,000 characters
    assert all(1000 < b <= 40_000 for b in BUDGETS.values())


@pytest.mark.parametrize("target", TARGETS)
def test_short_conversation_is_whole(target):
    detail = _detail([("user", "Write Fibonacci."), ("assistant", CODE), ("user", "And the closed form?"), ("assistant", MATH)])
    pack = build_pack(detail, target)
    assert pack.target == target and pack.omitted_turns == 0 and pack.chars == len(pack.text)
    assert pack.text.startswith("I was in the middle of a ChatGPT chat titled “Fibonacci” when it was interrupted.")
    assert "continue" in pack.text.split("\n")[0]
    assert _kept_in_order(pack, detail) == [0, 1, 2, 3]
    assert "### User\n\nWrite Fibonacci.\n\n### Assistant\n\n" + CODE in pack.text
    assert pack.text.endswith("### My next message\n\nand now for $n$ terms?")
    assert "omitted" not in pack.text
    assert _balanced(pack.text)


@pytest.mark.parametrize("target", TARGETS)
def test_long_conversation_keeps_first_and_latest_whole_turns(target):
    detail = _detail(_long(60))
    pack = build_pack(detail, target)
    assert pack.chars == len(pack.text) <= BUDGETS[target]
    kept = _kept_in_order(pack, detail)
    assert kept[0] == 0  # the first user turn
    assert kept[-1] == 59  # the latest turn, whole
    latest = kept[1:]
    assert latest == list(range(latest[0], 60))  # the latest turns, contiguous
    assert pack.omitted_turns == 60 - len(kept) > 0
    assert f"[{pack.omitted_turns} earlier turns omitted]" in pack.text
    # the marker sits where the turns were left out
    assert pack.text.index(detail.turns[0].text) < pack.text.index("earlier turns omitted") < pack.text.index(
        detail.turns[latest[0]].text
    )
    assert pack.text.endswith("### My next message\n\nand now for $n$ terms?")
    assert _balanced(pack.text)
    # a bigger budget never keeps fewer turns
    assert build_pack(detail, target, budget=BUDGETS[target] * 2).omitted_turns <= pack.omitted_turns


def test_budgets_differ_in_what_they_keep():
    detail = _detail(_long(200))
    by_budget = sorted(TARGETS, key=BUDGETS.get)
    omitted = [build_pack(detail, t).omitted_turns for t in by_budget]
    assert omitted == sorted(omitted, reverse=True)  # a bigger box keeps at least as much
    assert omitted[0] > omitted[-1]


def test_pack_is_deterministic():
    detail = _detail(_long(80))
    for target in TARGETS:
        packs = {build_pack(detail, target).text for _ in range(3)}
        assert len(packs) == 1
    assert build_pack(_detail(_long(80)), "copilot") == build_pack(detail, "copilot")


def test_latest_turn_alone_over_budget_is_cut_from_its_start():
    paragraphs = [f"Paragraph {i}: " + "lorem ipsum " * 40 for i in range(60)]
    huge = "\n\n".join(paragraphs[:30]) + "\n\n" + CODE + "\n\n" + "\n\n".join(paragraphs[30:]) + "\n\nThe very end."
    detail = _detail([("user", "Summarise."), ("assistant", huge)], draft=None)
    pack = build_pack(detail, "copilot")
    assert len(pack.text) <= BUDGETS["copilot"]
    assert pack.omitted_turns == 0  # cut, not omitted
    assert pack.text.endswith("The very end.")
    assert re.search(r"### Assistant\n\n\[… \d+ characters cut\]\n\nParagraph \d+: ", pack.text)
    cut = int(re.search(r"\[… (\d+) characters cut\]", pack.text).group(1))
    tail = pack.text.split("characters cut]\n\n", 1)[1]
    assert huge.endswith(tail) and cut == len(huge) - len(tail)  # whole paragraphs, from a boundary
    assert "### User\n\nSummarise." in pack.text
    assert _balanced(pack.text)


def test_cut_inside_a_huge_code_block_reopens_the_fence():
    code = "```python\n" + "\n".join(f"value_{i} = {i} * 2  # step {i}" for i in range(2000)) + "\n```"
    detail = _detail([("user", "Generate the table."), ("assistant", code)], draft=None)
    pack = build_pack(detail, "copilot")
    assert len(pack.text) <= BUDGETS["copilot"]
    body = pack.text.split("characters cut]\n\n", 1)[1]
    assert body.startswith("```python\nvalue_")
    assert body.endswith("value_1999 = 1999 * 2  # step 1999\n```")
    assert _balanced(pack.text)


def test_math_block_is_never_split():
    detail = _detail([("user", "Integrate.")] + [("assistant", MATH), ("user", "More.")] * 400, draft=None)
    pack = build_pack(detail, "copilot")
    assert _balanced(pack.text) and pack.text.count("$$") % 2 == 0
    assert pack.text.endswith("### User\n\nMore.")


def test_new_chat_with_only_a_draft():
    detail = _detail([], draft="My long prompt\n\n```sql\nselect 1;\n```", title=None)
    pack = build_pack(detail, "generic")
    assert pack.text == (
        "I was in the middle of a ChatGPT chat when it was interrupted. Below is the message I was about to send. "
        "Please continue from where it stopped.\n\n### My next message\n\nMy long prompt\n\n```sql\nselect 1;\n```"
    )
    assert pack.omitted_turns == 0


@pytest.mark.parametrize("draft", [None, "", "   \n"])
def test_no_draft_no_next_message(draft):
    pack = build_pack(_detail([("user", "Hi"), ("assistant", "Hello")], draft=draft), "chatgpt")
    assert "My next message" not in pack.text
    assert pack.text.endswith("### Assistant\n\nHello")
    assert "Below is the conversation so far." in pack.text


def test_huge_draft_keeps_its_end_and_room_for_the_transcript():
    draft = "\n\n".join(f"Point {i}: " + "details " * 30 for i in range(200)) + "\n\nMy actual question?"
    detail = _detail(_long(10), draft=draft)
    pack = build_pack(detail, "copilot")
    assert len(pack.text) <= BUDGETS["copilot"]
    assert pack.text.endswith("My actual question?")
    assert "### Assistant" in pack.text and _kept_in_order(pack, detail)[-1] == 9


def test_round_trip_kept_turns_are_verbatim():
    """A pack pasted as one message and read back turn by turn gives every kept turn exactly."""
    detail = _detail(_long(40))
    pack = build_pack(detail, "copilot")
    pieces = re.split(r"\n\n### (User|Assistant|My next message)\n\n", pack.text)
    read_back = [text for role, text in zip(pieces[1::2], pieces[2::2]) if role != "My next message"]
    read_back = [t.split("\n\n[", 1)[0] if "earlier turns omitted]" in t else t for t in read_back]
    kept = _kept_in_order(pack, detail)
    assert read_back == [detail.turns[i].text for i in kept]
    assert pieces[-1] == "and now for $n$ terms?"


def test_budget_too_small_is_refused():
    with pytest.raises(ValueError, match="budget"):
        build_pack(_detail(_long(4)), "generic", budget=100)


def _with_branches(branches: list[models.BranchOut]):
    d = _detail([("user", "Write a haiku"), ("assistant", "NEW answer, the one shown now")], draft=None)
    return models.ConversationDetail(**{**msgspec.structs.asdict(d), "branches": branches})


def _answer(text: str, reason="regenerated", at=None, index=1):
    return models.BranchOut(id=f"b-{text[:3]}", from_index=index, reason=reason, replaced_at=at,
                            turns=[models.TurnOut(index=index, role="assistant", text=text)])


def test_pack_carries_the_replaced_answer_only_when_asked():
    d = _with_branches([_answer("OLDEST answer", at="2026-11-23T07:10:00.000+00:00"),
                        _answer("LATEST replaced answer", reason="cut_off", at="2026-11-23T07:30:00.000+00:00"),
                        _answer("an imported sibling", reason="imported")])
    plain = build_pack(d, "chatgpt")
    assert "replaced" not in plain.text and "LATEST" not in plain.text
    pack = build_pack(d, "chatgpt", replaced=True)
    heading = "### The earlier answer to my last message (cut off; the answer above replaced it)"
    assert pack.text.index("NEW answer") < pack.text.index(heading) < pack.text.index("LATEST replaced answer")
    assert "OLDEST" not in pack.text and "imported sibling" not in pack.text


def test_replaced_answer_fits_the_budget_and_the_current_thread_comes_first():
    d = _with_branches([_answer("old " * 20_000, at="2026-11-23T07:10:00.000+00:00")])
    pack = build_pack(d, "copilot", replaced=True)
    assert pack.chars <= BUDGETS["copilot"] and "NEW answer, the one shown now" in pack.text
    assert "characters cut]" in pack.text


def test_no_replaced_answer_no_heading():
    d = _with_branches([_answer("an edit of the question", index=0)])  # a branch of the question, not the answer
    d.branches[0].turns[0] = models.TurnOut(index=0, role="user", text="an edited question")
    assert build_pack(d, "chatgpt", replaced=True).text == build_pack(d, "chatgpt").text


def _failure(kind: str, detail: str | None, *, resolved=False) -> models.FailureOut:
    return models.FailureOut(id=f"f-{kind}", conversation="conv1", kind=kind, detected_at="2026-11-23T08:00:01.000+00:00",
                             resolved=resolved, detail=detail)


def test_a_pack_says_the_answer_was_lost_never_hands_on_the_notice_as_an_answer():
    timed_out = "Message delivery timed out. Please try again."
    detail = _detail([("user", "Plan the trip"), ("assistant", "Day one: Porto."), ("user", "And day two?")])
    detail.failures = [_failure("error_message", timed_out)]
    for target in TARGETS:
        pack = build_pack(detail, target)
        said = f"[The answer to my last message was lost: ChatGPT showed an error (“{timed_out}”).]"
        assert pack.text.index("And day two?") < pack.text.index(said) < pack.text.index("### My next message"), target
        assert pack.text.count(timed_out) == 1 and pack.chars <= BUDGETS[target]

    # An answer cut half-way: the turn is kept, and the pack says it did not finish.
    detail = _detail([("user", "Plan the trip"), ("assistant", "Day one: Por")], draft=None)
    detail.failures = [_failure("stream_incomplete", None)]
    assert build_pack(detail, "claude").text.endswith(
        "### Assistant\n\nDay one: Por\n\n[The last answer did not finish: The answer was cut off.]")

    # Resolved failures, and failures that lose no answer (a closed tab), say nothing.
    detail.failures = [_failure("error_message", timed_out, resolved=True), _failure("tab_closed", None)]
    assert "[The" not in build_pack(detail, "claude").text


def test_the_lost_answer_line_counts_in_the_budget():
    detail = _detail([("user", "x" * 400), ("assistant", "y" * 400)], draft="z" * 5000)
    detail.failures = [_failure("error_message", "A network error occurred. " * 20)]
    pack = build_pack(detail, "generic", budget=1200)
    assert pack.chars <= 1200 and "was lost" not in pack.text and "did not finish" in pack.text
