"""A conversation's earlier threads, as the API shows them: `branch_turns` and `branches`
(the branches of an imported tree, and live versions: see versions.py for how they are kept).

A branch is stored from the position of its first turn (0.1.0 stored whole paths from
the first turn), a row per turn sealed as a text blob and tagged with (conversation,
branch, index, role, content hash). The API gives an imported branch from where it
leaves the current thread (`from_index`): its leading turns that equal the thread's are
left out. A live version is shown as kept: it starts where the page replaced it.
"""

from __future__ import annotations

from typing import get_args

from .. import models
from ..crypto import Tampered
from .db import Tx
from .records import NO_META, Records, Turn, meta_of


def turn_out(index: int, turn: Turn) -> models.TurnOut:
    """The API's view of a stored turn (of the thread or of a branch)."""
    meta = meta_of(turn) or NO_META
    return models.TurnOut(index=index, role=turn[0], text=turn[1], first_seen=meta.first_seen, thinking=meta.thinking,
                          documents=list(meta.documents))


def branch_turn(rec: Records, role: str, h: bytes | None, data: bytes | None) -> Turn:
    """A branch turn: a text blob, or a run of that one turn (the live row that held it, or a
    turn with thinking or documents: versions.py)."""
    content = rec.open_any(h, data)
    if isinstance(content, str):
        return (role, content)
    if len(content) != 1 or content[0][0] != role:
        raise Tampered("a run where a branch turn belongs")
    return content[0]


def read(tx: Tx, rec: Records, cid: int, id: str, current: list[models.TurnOut],
         corrupt: list[str]) -> list[models.BranchOut]:
    """The branches of conversation `cid`; rows that fail authentication are named in `corrupt`."""
    paths: dict[int, list[tuple[int, Turn]]] = {}
    kinds = {branch: (reason, at) for branch, reason, at in tx.q("SELECT branch, reason, replaced_at FROM branches WHERE cid=?", (cid,))}
    for branch, idx, role, tag, h, data in tx.q(
        "SELECT t.branch, t.idx, t.role, t.tag, b.hash, b.data FROM branch_turns t LEFT JOIN blobs b USING (bid) "
        "WHERE t.cid=? ORDER BY t.branch, t.idx",
        (cid,),
    ):
        try:
            if h is None or tag != rec.branch_tag(id, branch, idx, role, h):
                raise Tampered("branch turn moved")
            turn = branch_turn(rec, role, h, data)
            paths.setdefault(branch, []).append((idx, turn))
        except Tampered:
            corrupt.append(f"turn {idx} of branch {branch}")
    thread = {t.index: (t.role, t.text) for t in current}
    out = []
    for branch, turns in paths.items():
        reason, at = kinds.get(branch, ("imported", None))
        if reason not in get_args(models.BranchReason):
            corrupt.append(f"reason of branch {branch}")
            reason = "imported"  # the one reason that claims nothing about when or why
        # An imported branch is shown from where it leaves the thread: leading turns the thread has at the same place are left out.
        skip = 0
        while reason == "imported" and skip < len(turns) and thread.get(turns[skip][0]) == turns[skip][1][:2]:
            skip += 1
        start = turns[skip][0] if skip < len(turns) else turns[-1][0] + 1
        out.append(models.BranchOut(
            id=str(branch), from_index=start, reason=reason, replaced_at=at,
            turns=[turn_out(idx, turn) for idx, turn in turns[skip:]],
        ))
    return out
