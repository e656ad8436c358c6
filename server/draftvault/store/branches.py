"""A conversation's earlier threads: `branch_turns` (today the branches of an imported
ChatGPT tree; issue 12 adds live versions to the same model).

A branch is stored from the position of its first turn (0.1.0 stored whole paths from
the first turn), a row per turn sealed as a text blob and tagged with (conversation,
branch, index, role, content hash). The API gives a branch from where it leaves the
current thread (`from_index`): its leading turns that equal the thread's are left out.
"""

from __future__ import annotations

from .. import models
from ..crypto import Tampered
from .db import Tx
from .records import Records


def read(tx: Tx, rec: Records, cid: int, id: str, current: list[models.TurnOut],
         corrupt: list[str]) -> list[models.BranchOut]:
    """The branches of conversation `cid`; rows that fail authentication are named in `corrupt`."""
    paths: dict[int, list[tuple[int, str, str]]] = {}
    for branch, idx, role, tag, h, data in tx.q(
        "SELECT t.branch, t.idx, t.role, t.tag, b.hash, b.data FROM branch_turns t LEFT JOIN blobs b USING (bid) "
        "WHERE t.cid=? ORDER BY t.branch, t.idx",
        (cid,),
    ):
        try:
            if h is None or tag != rec.branch_tag(id, branch, idx, role, h):
                raise Tampered("branch turn moved")
            paths.setdefault(branch, []).append((idx, role, rec.open_text(h, data)))
        except Tampered:
            corrupt.append(f"turn {idx} of branch {branch}")
    thread = {t.index: (t.role, t.text) for t in current}
    out = []
    for branch, turns in paths.items():
        # Shown from where it leaves the thread: leading turns the thread has at the same place are left out.
        skip = 0
        while skip < len(turns) and thread.get(turns[skip][0]) == turns[skip][1:]:
            skip += 1
        start = turns[skip][0] if skip < len(turns) else turns[-1][0] + 1
        out.append(models.BranchOut(
            id=str(branch), from_index=start, reason="imported",
            turns=[models.TurnOut(index=idx, role=role, text=text) for idx, role, text in turns[skip:]],
        ))
    return out
