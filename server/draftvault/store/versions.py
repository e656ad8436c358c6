"""Versions instead of deletes: the stored turns a frame replaces or drops become a branch.

One model with imported branches: a branch is `branch_turns` rows (from the position
of its first turn, a text blob each, tagged like every row) and a `branches` row with
its reason and when it was replaced. A frame that replaces or drops stored turns keeps
the old ones as one branch from the first of them:
- `regenerated`: an answer replaced by another; `cut_off`: an answer that was still
  streaming (the frame that wrote it had streaming=true) replaced by a text that does
  not continue it; `edited`: a prompt replaced, or turns dropped (an edit of an earlier
  prompt); `conflict`: a tab showing an older state overwrote newer turns.
- A replaced turn that had a row of its own (the live turns: the answer being replaced)
  keeps that row's blob, a run of one turn, already sealed and indexed: a regeneration
  costs the new answer only, not a second copy and index entries for the old one.
- A turn's thinking and documents (a canvas or an artifact) are part of it (records.TurnMeta):
  when only they change (a document edited later), the turn is kept as an `edited` version;
  a turn that only gains them (or another time) loses nothing and leaves no version;
  a branch turn with them is stored as a run of that one turn (records.py), one without as a text.
- A streaming answer that grows leaves nothing: an unfinished text continued by the
  new one is not a version (its thinking and documents may change with it). Empty texts
  are not kept, and a branch identical to one already kept (same turns at the same
  places, compared by blob) is not kept twice.
"""

from __future__ import annotations

from ..models import BranchReason as Reason
from .conversations import Conv
from .db import Tx
from .records import Records, Turn, encode_run, meta_of, only_adds, put_blob
from .runs import Replaced

def keep(tx: Tx, rec: Records, conv: Conv, replaced: dict[int, Replaced], incoming: dict[int, Turn], count: int, *,
         unfinished: int | None, stale: bool, now: str) -> int | None:
    """Keeps the replaced turns that deserve it as a branch; its number, or None."""
    kept: dict[int, Replaced] = {}
    for idx, (turn, bid) in replaced.items():
        new = incoming.get(idx) if idx < count else None
        grows = new is not None and idx == unfinished and new[0] == turn[0] and new[1].startswith(turn[1])
        meta = meta_of(turn)
        same = new is not None and only_adds(new, turn)  # e.g. an import giving another time, a canvas shown
        if (turn[1].strip() or (meta and (meta.thinking or meta.documents))) and not grows and not same:
            kept[idx] = (turn, bid)
    if not kept:
        return None
    first = min(kept)
    same_text = all(idx in incoming and idx < count and incoming[idx][:2] == turn[:2] for idx, (turn, _) in kept.items())
    if stale:
        reason: Reason = "conflict"
    elif max(kept) >= count or any(turn[0] == "user" for turn, _ in kept.values()) or same_text:
        reason = "edited"
    else:
        reason = "cut_off" if first == unfinished else "regenerated"
    return add(tx, rec, conv, [(idx, turn) for idx, (turn, _) in sorted(kept.items())], reason, now,
               blobs={idx: bid for idx, (_, bid) in kept.items() if bid is not None})


def add(tx: Tx, rec: Records, conv: Conv, turns: list[tuple[int, Turn]], reason: Reason, at: str | None,
        once: bool = True, blobs: dict[int, int] | None = None) -> int | None:
    """Stores a branch of (index, turn) pairs; its number (None: `once` and the same branch is already kept).
    `blobs`: for some indexes, the blob of the row that held that turn alone (a run of one, already
    sealed and indexed): the branch keeps it instead of sealing the text again."""
    rows = []
    for idx, turn in turns:
        role, text = turn[0], turn[1]
        bid = (blobs or {}).get(idx)
        if bid is None and meta_of(turn) is not None:
            payload = encode_run([turn])
            h = rec.run_hash(payload)
            bid = put_blob(tx, rec, payload, h, run=True)
        elif bid is None:
            h = rec.text_hash(text)
            bid = put_blob(tx, rec, text.encode(), h)
        else:
            h = tx.one("SELECT hash FROM blobs WHERE bid=?", (bid,))[0]
        rows.append((idx, role, h, bid))
    shape = ",".join(f"{idx}:{bid}" for idx, _, _, bid in rows)
    same = once and tx.one(
        "SELECT 1 FROM (SELECT group_concat(idx || ':' || bid, ',') AS shape FROM "
        "(SELECT branch, idx, bid FROM branch_turns WHERE cid=? ORDER BY branch, idx) GROUP BY branch) WHERE shape=?",
        (conv.cid, shape),
    )
    if same:
        return None
    branch = tx.one(
        "SELECT COALESCE(MAX(branch), -1) + 1 FROM (SELECT branch FROM branch_turns WHERE cid=:c "
        "UNION ALL SELECT branch FROM branches WHERE cid=:c)",
        {"c": conv.cid},
    )[0]
    tx.conn.executemany(
        "INSERT INTO branch_turns VALUES (?,?,?,?,?,?)",
        [(conv.cid, branch, idx, role, bid, rec.branch_tag(conv.id, branch, idx, role, h)) for idx, role, h, bid in rows],
    )
    tx.conn.execute("INSERT INTO branches VALUES (?,?,?,?)", (conv.cid, branch, reason, at))
    return branch


def drop(tx: Tx, cid: int, where: str = "1", params: dict | None = None) -> bool:
    """Deletes the conversation's branches whose `branches` row matches `where`; whether any went."""
    args = {"c": cid, **(params or {})}
    chosen = f"SELECT branch FROM branches WHERE cid=:c AND ({where})"
    tx.freed.update(r[0] for r in tx.q(f"SELECT bid FROM branch_turns WHERE cid=:c AND branch IN ({chosen})", args))
    tx.conn.execute(f"DELETE FROM branch_turns WHERE cid=:c AND branch IN ({chosen})", args)
    return tx.conn.execute(f"DELETE FROM branches WHERE cid=:c AND ({where})", args).rowcount > 0


def move(tx: Tx, rec: Records, src: Conv, dst: Conv) -> None:
    """Gives `dst` the branches of `src` (a new chat's page joining its conversation), renumbered and re-tagged."""
    base = tx.one("SELECT COALESCE(MAX(branch), -1) + 1 FROM branches WHERE cid=?", (dst.cid,))[0]
    for branch, idx, role, bid, h in tx.q(
        "SELECT t.branch, t.idx, t.role, t.bid, b.hash FROM branch_turns t LEFT JOIN blobs b USING (bid) WHERE t.cid=?",
        (src.cid,),
    ):
        tx.conn.execute(
            "UPDATE branch_turns SET cid=?, branch=?, tag=? WHERE cid=? AND branch=? AND idx=?",
            (dst.cid, base + branch, rec.branch_tag(dst.id, base + branch, idx, role, h or b""), src.cid, branch, idx),
        )
    tx.conn.execute("UPDATE branches SET cid=?, branch=branch + ? WHERE cid=?", (dst.cid, base, src.cid))
