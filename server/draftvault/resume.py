"""Resume packs: the saved context of a conversation as one text to paste elsewhere.

A pack is a short preamble (the chat was interrupted; continue it), the transcript
in Markdown under role headings (images and files named: "[image: name.png]"), then the unsent draft as the next message. When
it is over the target's budget it keeps the first user turn and the latest turns,
whole, and says how many turns it left out: whole turns keep code fences and math
intact. Only when the latest turn alone is too long is it cut, from its start, at a
block boundary (a cut inside a code or math block reopens the fence). Deterministic:
the same conversation, target and budget give the same text.

A pack is built from the current thread. With `replaced`, it also carries the answer
that the last answer replaced (the latest earlier version of it, regenerated or cut off,
say), under its own heading after the transcript, for a person who wants to pick up
from the answer they liked better. Turns carry their documents (canvas, artifacts); their
thinking only with `thinking` (it is the model's scratch work, not what it answered).
"""

from __future__ import annotations

from . import models
from .markdown import blocks, opens_block
from .turn_parts import turn_body
from .vocabulary import BRANCH_REASONS, failure_in_words, role_heading, site_name

# Characters, preamble and draft included. Sized to each assistant's input box,
# with room left for the answer:
BUDGETS: dict[models.ResumeTarget, int] = {
    # ChatGPT's free plan has an 8K-token window (~32,000 characters of English);
    # half of it leaves the answer room, and paid plans fit it easily.
    "chatgpt": 16_000,
    # claude.ai takes long pastes (it turns them into an attached text) and has a
    # 200K-token window; a pack this size still reads as one message.
    "claude": 40_000,
    # Gemini's web box accepts about 32,000 characters in one prompt.
    "gemini": 30_000,
    # Copilot's box holds about 10,000 characters; stay well below it.
    "copilot": 8_000,
    # Anything else: fits an 8K-token model with room for the answer.
    "generic": 12_000,
}

DRAFT_HEADING = "### My next message"
REPLACED_HEADING = "### The earlier answer to my last message ({why}; the answer above replaced it)"
SEP = "\n\n"
MIN_BUDGET = 500  # below this not even a preamble and a cut turn fit


def _preamble(detail: models.ConversationDetail, has_turns: bool, has_draft: bool) -> str:
    title = (detail.title or "").strip()
    if len(title) > 100:
        title = title[:99] + "…"
    where = f"a {site_name(detail.site)} chat" + (f" titled “{title}”" if title else "")
    what = {
        (True, True): "Below is the conversation so far, then the message I was about to send.",
        (True, False): "Below is the conversation so far.",
        (False, True): "Below is the message I was about to send.",
        (False, False): "Nothing of it was saved.",
    }[(has_turns, has_draft)]
    return f"I was in the middle of {where} when it was interrupted. {what} Please continue from where it stopped."


# Failures that take the answer in progress with them (the others: a page or tab gone).
ANSWER_LOST: frozenset[str] = frozenset(
    {"error_message", "rate_limited", "capacity", "http_error", "stream_incomplete", "stalled", "offline"}
)


def _lost(detail: models.ConversationDetail) -> str | None:
    """What became of the last answer, when an open failure took it: the site's notice
    was never the assistant's words (capture leaves it out), so the pack says so."""
    failure = next((f for f in reversed(detail.failures) if not f.resolved and f.kind in ANSWER_LOST), None)
    if failure is None:
        return None
    why = failure_in_words(failure.kind, detail.site)
    if failure.detail:
        why += f" (“{failure.detail[:300]}”)"
    if detail.turns and detail.turns[-1].role == "assistant":
        return f"[The last answer did not finish: {why}.]"
    return f"[The answer to my last message was lost: {why}.]"


def _turn(turn: models.TurnOut, thinking: bool) -> str:
    return f"### {role_heading(turn.role)}{SEP}{turn_body(turn, thinking)}"


def _omitted(n: int) -> str:
    return f"[{n} earlier turn{'s' if n != 1 else ''} omitted]"


def _cut_block(block: str, limit: int) -> str:
    """The end of one block in at most `limit` characters, whole lines, a code or math
    block reopened with its opening line."""
    lines = block.split("\n")
    head = lines[0] + "\n" if opens_block(lines[0]) and len(lines) > 1 else ""
    kept: list[str] = []
    size = len(head)
    for line in reversed(lines[1:] if head else lines):
        if size + len(line) + 1 > limit:
            break
        kept.insert(0, line)
        size += len(line) + 1
    if not kept:  # one enormous line: its end
        return block[-limit:] if limit > 0 else ""
    return head + "\n".join(kept)


def _cut_start(text: str, limit: int) -> str:
    """The end of `text` in at most `limit` characters, after a marker saying what was cut."""
    if len(text) <= limit:
        return text
    kept: list[str] = []
    size = 0
    marker_room = len(f"[… {len(text)} characters cut]") + len(SEP)
    for block in reversed(blocks(text)):
        extra = len(block) + (len(SEP) if kept else 0)
        if size + extra + marker_room > limit:
            if not kept:
                kept.append(_cut_block(block, limit - marker_room))
                size = len(kept[0])
            break
        kept.insert(0, block)
        size += extra
    tail = SEP.join(kept)
    return f"[… {len(text) - len(tail)} characters cut]{SEP}{tail}"


def replaced_answer(detail: models.ConversationDetail) -> tuple[models.BranchOut, models.TurnOut] | None:
    """The latest earlier version of the current thread's last answer, with its branch:
    a branch's turn at that answer's index, an answer too; the latest replaced wins
    (branches without a time count as oldest, then the later listed)."""
    last = next((t for t in reversed(detail.turns) if t.role == "assistant"), None)
    if last is None:
        return None
    found = [
        (b.replaced_at or "", n, b, t)
        for n, b in enumerate(detail.branches)
        for t in b.turns
        if t.index == last.index and t.role == "assistant" and t.text.strip() and t.text != last.text
    ]
    return max(found, key=lambda f: f[:2])[2:] if found else None


def build_pack(
    detail: models.ConversationDetail,
    target: models.ResumeTarget,
    budget: int | None = None,
    replaced: bool = False,
    thinking: bool = False,
) -> models.ResumePack:
    budget = BUDGETS[target] if budget is None else budget
    if budget < MIN_BUDGET:
        raise ValueError(f"a resume pack needs a budget of at least {MIN_BUDGET} characters, not {budget}")
    draft = detail.draft.text if detail.draft and detail.draft.text.strip() else None
    preamble = _preamble(detail, bool(detail.turns), draft is not None)
    head = [preamble]
    lost = _lost(detail)
    tail = [lost] if lost else []
    if draft is not None:
        # The draft comes first (it exists nowhere else) but leaves the transcript a quarter.
        room = budget - len(preamble) - len(SEP) * 2 - len(DRAFT_HEADING) - sum(len(p) + len(SEP) for p in tail)
        tail += [DRAFT_HEADING, _cut_start(draft, room - (budget // 4 if detail.turns else 0))]
    earlier = replaced_answer(detail) if replaced else None
    if earlier is not None:
        # At most a quarter of what the transcript had left: the current thread comes first.
        heading = REPLACED_HEADING.format(why=BRANCH_REASONS.get(earlier[0].reason, earlier[0].reason))
        room = (budget - len(preamble) - sum(len(p) + len(SEP) for p in tail)) // 4 - len(heading) - len(SEP) * 2
        at = 1 if lost else 0  # after the line that says the last answer was lost
        tail[at:at] = [heading, _cut_start(earlier[1].text, max(room, 0))]
    fixed = sum(len(p) for p in head + tail) + len(SEP) * len(head + tail)
    avail = budget - fixed  # for the transcript pieces, each followed by SEP or preceded by one

    blocks = [_turn(t, thinking) for t in detail.turns]
    body, omitted = _select(blocks, detail.turns, avail)
    text = SEP.join(head + body + tail)
    return models.ResumePack(target=target, text=text, chars=len(text), omitted_turns=omitted)


def _select(blocks: list[str], turns: list[models.TurnOut], avail: int) -> tuple[list[str], int]:
    """The transcript pieces that fit in `avail` characters (each costs its length + SEP)."""
    if sum(len(b) + len(SEP) for b in blocks) <= avail:
        return blocks, 0
    last = len(blocks) - 1
    marker_room = len(_omitted(len(blocks))) + len(SEP)
    # The latest turn always: cut from its start when it alone is too long.
    heading, _, text = blocks[last].partition(SEP)
    room = avail - marker_room - len(heading) - len(SEP) * 2
    latest = blocks[last] if len(blocks[last]) + len(SEP) <= avail - marker_room else heading + SEP + _cut_start(text, max(room, 0))
    used = marker_room + len(latest) + len(SEP)
    first = next((i for i, t in enumerate(turns) if t.role == "user"), None)
    keep_first = first is not None and first < last and used + len(blocks[first]) + len(SEP) <= avail
    if keep_first:
        used += len(blocks[first]) + len(SEP)
    start = last
    while start - 1 > (first if keep_first else -1) and used + len(blocks[start - 1]) + len(SEP) <= avail:
        start -= 1
        used += len(blocks[start]) + len(SEP)
    kept_head = [blocks[first]] if keep_first else []
    omitted = len(blocks) - len(kept_head) - (len(blocks) - start)
    middle = [_omitted(omitted)] if omitted else []
    return kept_head + middle + blocks[start:last] + [latest], omitted
