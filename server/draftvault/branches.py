"""A conversation's other threads (today: the branches of an imported ChatGPT tree).

The vault keeps each branch as a whole path from the first turn (`branch_turns`) and
has no public read for them yet: this module reads them with the vault's own sealed
record checks, and gives them as `models.BranchOut`, each from where it leaves the
current thread. It belongs in the store (`Vault.get_conversation` filling `branches`);
when the store offers that, this module goes.
"""

from __future__ import annotations

from . import models
from .crypto import Tampered


def read_branches(vault, detail: models.ConversationDetail) -> list[models.BranchOut]:
    rows_by_branch: dict[int, list[tuple[int, str, str]]] = {}
    with vault._read():
        rows = vault._q(
            "SELECT t.branch, t.idx, t.role, t.tag, b.hash, b.data FROM branch_turns t "
            "JOIN conversations c USING (cid) LEFT JOIN blobs b USING (bid) WHERE c.id=? ORDER BY t.branch, t.idx",
            (detail.id,),
        )
        for branch, idx, role, tag, h, data in rows:
            try:
                if h is None or tag != vault._branch_tag(detail.id, branch, idx, role, h):
                    raise Tampered("branch turn moved")
                text = vault._open_blob(h, data)
            except Tampered:
                detail.corrupt.append(f"turn {idx} of branch {branch}")
                continue
            rows_by_branch.setdefault(branch, []).append((idx, role, text))
    current = [(t.role, t.text) for t in detail.turns]
    out = []
    for branch, turns in rows_by_branch.items():
        start = 0
        while start < min(len(turns), len(current)) and (turns[start][1], turns[start][2]) == current[start]:
            start += 1
        out.append(models.BranchOut(
            id=str(branch), from_index=start, reason="imported",
            turns=[models.TurnOut(index=idx, role=role, text=text) for idx, role, text in turns[start:]],
        ))
    return out


def with_branches(vault, detail: models.ConversationDetail | None) -> models.ConversationDetail | None:
    """The conversation with its branches filled in (None stays None)."""
    if detail is not None:
        detail.branches = read_branches(vault, detail)
    return detail
