"""A conversation's earlier threads, as the API shows them: `branch_turns` and `branches`
(the branches of an imported tree, and live versions: see versions.py for how they are kept).

A branch is stored from the position of its first turn (0.1.0 stored whole paths from
the first turn), a row per turn tagged with (conversation, branch, index, role, content
hash, and `k` when it has one). A row's turn is its blob alone (a text, or the run of
one turn its live row held), or, once packed (versions.py), item `k` of a run of the
conversation's kept texts. The API gives an imported branch from where it leaves the
current thread (`from_index`): its leading turns that equal the thread's are left out.
A live version is shown as kept: it starts where the page replaced it.
"""

from __future__ import annotations

from typing import get_args

from .. import models
from ..crypto import Tampered
from .db import Tx
from .records import NO_META, Records, Turn, blobs_by_id, meta_of

Row = tuple[int, int, str, int, Turn]  # a branch turn: (branch, index, role, blob, turn)
Stored = dict[int, list[tuple[int, Turn]]]  # branch -> its (index, turn), ascending


def turn_out(index: int, turn: Turn) -> models.TurnOut:
    """The API's view of a stored turn (of the thread or of a branch)."""
    meta = meta_of(turn) or NO_META
    return models.TurnOut(index=index, role=turn[0], text=turn[1], first_seen=meta.first_seen, thinking=meta.thinking,
                          documents=list(meta.documents))


def branch_turn(content: list[Turn] | str, role: str, k: int | None) -> Turn:
    """A branch turn in its blob's content: a text, a run of one (the live row that held it, or a
    turn with thinking or documents), or a pack with item k."""
    if isinstance(content, str) and k is None:
        return (role, content)
    at = k or 0
    if isinstance(content, str) or (k is None and len(content) != 1) or not 0 <= at < len(content) or content[at][0] != role:
        raise Tampered("not the turn a branch row names")
    return content[at]


def rows(tx: Tx, rec: Records, cid: int, id: str, corrupt: list[str], where: str = "1",
         params: dict | None = None) -> list[Row]:
    """The conversation's branch turns (those `where` picks), each blob opened once (a pack holds
    many), by branch and index; rows that fail authentication are named in `corrupt`."""
    found = tx.q(
        f"SELECT branch, idx, role, k, bid, tag FROM branch_turns WHERE cid=:c AND ({where}) ORDER BY branch, idx",
        {"c": cid, **(params or {})},
    )
    blobs = {bid: (h, data) for bid, h, data in blobs_by_id(tx, sorted({r[4] for r in found}))}
    opened: dict[int, list[Turn] | str | None] = {}  # None: unreadable
    out: list[Row] = []
    for branch, idx, role, k, bid, tag in found:
        h, data = blobs.get(bid, (None, None))
        try:
            if h is None or tag != rec.branch_tag(id, branch, idx, role, h, k):
                raise Tampered("branch turn moved")
            if bid not in opened:
                try:
                    opened[bid] = rec.open_any(h, data)
                except Tampered:
                    opened[bid] = None
            if opened[bid] is None:
                raise Tampered("unreadable content")
            out.append((branch, idx, role, bid, branch_turn(opened[bid], role, k)))
        except Tampered:
            corrupt.append(f"turn {idx} of branch {branch}")
    return out


def stored(tx: Tx, rec: Records, cid: int, id: str, corrupt: list[str], where: str = "1",
           params: dict | None = None) -> Stored:
    """rows(), as each branch's (index, turn)."""
    out: Stored = {}
    for branch, idx, _, _, turn in rows(tx, rec, cid, id, corrupt, where, params):
        out.setdefault(branch, []).append((idx, turn))
    return out


def locate(tx: Tx, cid: int, bid: int, k: int) -> tuple[int, int] | None:
    """(branch, index) of a turn of the conversation's branches held by blob `bid` at `k` (a search hit)."""
    return tx.one(
        "SELECT branch, idx FROM branch_turns WHERE cid=? AND bid=? AND COALESCE(k, 0)=? ORDER BY branch, idx LIMIT 1",
        (cid, bid, k),
    )


def read(tx: Tx, rec: Records, cid: int, id: str, current: list[models.TurnOut],
         corrupt: list[str]) -> list[models.BranchOut]:
    """The branches of conversation `cid`; rows that fail authentication are named in `corrupt`."""
    paths = stored(tx, rec, cid, id, corrupt)
    kinds = {branch: (reason, at) for branch, reason, at in tx.q("SELECT branch, reason, replaced_at FROM branches WHERE cid=?", (cid,))}
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
