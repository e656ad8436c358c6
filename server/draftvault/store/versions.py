"""Versions instead of deletes: the stored turns a frame replaces or drops become a branch.

One model with imported branches: a branch is `branch_turns` rows (from the position
of its first turn, tagged like every row) and a `branches` row with its reason and
when it was replaced. A frame that replaces or drops stored turns keeps the old ones
as one branch from the first of them:
- `regenerated`: an answer replaced by another; `cut_off`: an answer that was still
  streaming (the frame that wrote it had streaming=true) replaced by a text that does
  not continue it; `edited`: a prompt replaced, or turns dropped (an edit of an earlier
  prompt); `conflict`: a tab showing an older state overwrote newer turns.
- A replaced turn that had a row of its own (the live turns: the answer being replaced)
  keeps that row's blob, a run of one turn, already sealed: a regeneration costs the
  new answer only. Other kept turns get a text blob each.
- Packs: once the conversation's kept turns with a blob of their own (its "loose" rows)
  are PACK_TURNS or PACK_BYTES sealed together, they are sealed into one run, a pack,
  with the newest pack's turns while it holds less than runs.RUN_BYTES of text (a text
  kept twice is in it once), and each row names
  its item `k`. Like settled turns in runs: zlib sees the versions' shared words, and
  a pack costs one blob, one seal and one document in the index instead of one per
  version (the loose blobs go; those not indexed yet never are). Deleting a branch
  seals its packs again without it, so its text leaves the disk.
- A turn's thinking and documents (a canvas or an artifact) are part of it (records.TurnMeta):
  when only they change (a document edited later), the turn is kept as an `edited` version;
  a turn that only gains them (or another time) loses nothing and leaves no version. A
  loose kept turn with them is stored as a run of that one turn, one without as a text;
  a pack holds whole turns, meta included.
- A streaming answer that grows leaves nothing: an unfinished text continued by the
  new one is not a version (its thinking and documents may change with it). Empty texts
  are not kept (unless they showed a file: an answer that was only an image), and a
  branch identical to one already kept (same turns, same places, same content) is not
  kept twice.
- Images and files go with their turns (attachments.keep): the links of the turns kept
  move into their branch (into the identical one already kept, when it is), so a new
  answer shows only its own; a turn whose replacement still shows its files (an edited
  prompt, a text that contains the old one) leaves a copy there. A deleted branch deletes
  its links, and a branch moved to another conversation takes them along.
"""

from __future__ import annotations

import msgspec

from ..models import BranchReason as Reason
from . import attachments, branches
from .branches import Row
from .conversations import Conv
from .db import Tx
from .records import Records, Turn, content_key, encode_run, meta_of, only_adds, put_blob
from .runs import RUN_BYTES, Replaced

PACK_BYTES = 12 * 1024  # loose kept turns sealed this big together (or PACK_TURNS of them) are packed
PACK_TURNS = 32


def keep(tx: Tx, rec: Records, conv: Conv, replaced: dict[int, Replaced], incoming: dict[int, Turn], count: int, *,
         unfinished: int | None, stale: bool, now: str) -> int | None:
    """Keeps the replaced turns that deserve it as a branch; its number, or None."""
    kept: dict[int, Replaced] = {}
    shown = attachments.linked(tx, conv.cid, replaced)
    for idx, (turn, bid) in replaced.items():
        new = incoming.get(idx) if idx < count else None
        grows = new is not None and idx == unfinished and new[0] == turn[0] and new[1].startswith(turn[1])
        meta = meta_of(turn)
        same = new is not None and only_adds(new, turn)  # e.g. an import giving another time, a canvas shown
        if (turn[1].strip() or (meta and (meta.thinking or meta.documents)) or idx in shown) and not grows and not same:
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
    turns = [(idx, turn) for idx, (turn, _) in sorted(kept.items())]
    branch, new = kept_or_added(tx, rec, conv, turns, reason, now,
                                blobs={idx: bid for idx, (_, bid) in kept.items() if bid is not None})
    stay = {idx for idx, (turn, _) in kept.items() if _shows_its_files(turn, incoming.get(idx) if idx < count else None)}
    attachments.keep(tx, rec, conv.cid, conv.id, kept, branch, stay)
    return branch if new else None


def _shows_its_files(old: Turn, new: Turn | None) -> bool:
    """Whether the turn that replaced `old` still shows old's files: an edited prompt (the site keeps
    a prompt's files through an edit, and the extension sends a file once a page), or a text that
    contains the old one (an image's placeholder rendered after the text was captured)."""
    return new is not None and (old[0] == "user" or bool(old[1].strip()) and old[1].strip() in new[1])


def kept_or_added(tx: Tx, rec: Records, conv: Conv, turns: list[tuple[int, Turn]], reason: Reason, now: str,
                  blobs: dict[int, int] | None = None) -> tuple[int, bool]:
    """The branch of these (index, turn) pairs: the same one kept before, else a new one (and the
    loose kept turns packed when there are enough); (its number, whether it is new)."""
    held = _kept(tx, rec, conv, turns)
    if held is not None:
        return held, False
    branch = add(tx, rec, conv, turns, reason, now, blobs)
    pack(tx, rec, conv)
    return branch, True


def add(tx: Tx, rec: Records, conv: Conv, turns: list[tuple[int, Turn]], reason: Reason, at: str | None,
        blobs: dict[int, int] | None = None) -> int:
    """Stores a branch of (index, turn) pairs; its number. `blobs`: for some indexes, the blob of the
    row that held that turn alone (a run of one, already sealed): the branch keeps it instead of
    sealing the text again."""
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
    branch = tx.one(
        "SELECT COALESCE(MAX(branch), -1) + 1 FROM (SELECT branch FROM branch_turns WHERE cid=:c "
        "UNION ALL SELECT branch FROM branches WHERE cid=:c)",
        {"c": conv.cid},
    )[0]
    tx.conn.executemany(
        "INSERT INTO branch_turns (cid, branch, idx, role, bid, tag) VALUES (?,?,?,?,?,?)",
        [(conv.cid, branch, idx, role, bid, rec.branch_tag(conv.id, branch, idx, role, h)) for idx, role, h, bid in rows],
    )
    tx.conn.execute("INSERT INTO branches VALUES (?,?,?,?)", (conv.cid, branch, reason, at))
    return branch


def _kept(tx: Tx, rec: Records, conv: Conv, turns: list[tuple[int, Turn]]) -> int | None:
    """The branch with these turns at these places kept already, if any (the branches at the same places are read)."""
    same_places = (
        "branch IN (SELECT branch FROM (SELECT branch, group_concat(idx, ',') AS places FROM "
        "(SELECT branch, idx FROM branch_turns WHERE cid=:c ORDER BY branch, idx) GROUP BY branch) WHERE places=:places)"
    )
    places = ",".join(str(idx) for idx, _ in turns)
    found = branches.stored(tx, rec, conv.cid, conv.id, [], same_places, {"places": places})
    def content(branch: list[tuple[int, Turn]]) -> list:
        return [(idx, content_key(turn)) for idx, turn in branch]
    wanted = content(turns)
    return next((branch for branch, held in found.items() if content(held) == wanted), None)


def pack(tx: Tx, rec: Records, conv: Conv) -> None:
    """Packs the conversation's loose kept turns once there are enough of them."""
    loose = tx.one(
        "SELECT COUNT(*), COALESCE(SUM(length(b.data)), 0) FROM branch_turns t JOIN blobs b USING (bid) "
        "WHERE t.cid=? AND t.k IS NULL",
        (conv.cid,),
    )
    if loose[0] >= 2 and (loose[0] >= PACK_TURNS or loose[1] >= PACK_BYTES):
        # the newest pack (packs fill in branch order: the one holding the newest packed branch) is
        # sealed again with them until it holds RUN_BYTES: zlib then sees more of the versions'
        # shared words (~20% fewer bytes for a regenerated answer); a full pack comes out of
        # _seal_packs with the same content, so the same blob
        row = tx.one("SELECT bid FROM branch_turns WHERE cid=? AND k IS NOT NULL ORDER BY branch DESC LIMIT 1", (conv.cid,))
        newest = row[0] if row else None
        rows = branches.rows(tx, rec, conv.cid, conv.id, [], "k IS NULL OR bid = :newest", {"newest": newest})
        _seal_packs(tx, rec, conv, rows)  # unreadable rows stay loose


def _seal_packs(tx: Tx, rec: Records, conv: Conv, turns: list[Row]) -> None:
    """Seals these branch turns into packs of up to RUN_BYTES of text, each text once, and points their rows there."""
    while turns:
        items: dict[bytes, tuple[int, Turn]] = {}  # a turn's content (msgpack) -> its item and the turn
        size, n = 0, 0
        for _, _, _, _, turn in turns:
            key = msgspec.msgpack.encode(content_key(turn))
            if key not in items:
                if items and size + len(turn[1]) > RUN_BYTES:
                    break
                items[key] = (len(items), turn)
                size += len(turn[1])
            n += 1
        chunk, turns = turns[:n], turns[n:]
        payload = encode_run([turn for _, turn in items.values()])
        h = rec.run_hash(payload)
        bid = put_blob(tx, rec, payload, h, run=True)
        rows = []
        for branch, idx, role, _, turn in chunk:
            k = items[msgspec.msgpack.encode(content_key(turn))][0]
            rows.append((bid, k, rec.branch_tag(conv.id, branch, idx, role, h, k), conv.cid, branch, idx))
        tx.conn.executemany("UPDATE branch_turns SET bid=?, k=?, tag=? WHERE cid=? AND branch=? AND idx=?", rows)
        tx.freed.update(old for _, _, _, old, _ in chunk)


def drop(tx: Tx, rec: Records, conv: Conv, where: str = "1", params: dict | None = None) -> bool:
    """Deletes the conversation's branches whose `branches` row matches `where`; whether any went.
    The packs that held their turns are sealed again without them."""
    args = {"c": conv.cid, **(params or {})}
    chosen = f"SELECT branch FROM branches WHERE cid=:c AND ({where})"
    attachments.drop(tx, conv.cid, chosen, params or {})
    dropped = tx.q(f"SELECT bid, k FROM branch_turns WHERE cid=:c AND branch IN ({chosen})", args)
    tx.freed.update(bid for bid, _ in dropped)
    tx.conn.execute(f"DELETE FROM branch_turns WHERE cid=:c AND branch IN ({chosen})", args)
    packs = sorted({bid for bid, k in dropped if k is not None})
    if packs:
        _seal_packs(tx, rec, conv, branches.rows(tx, rec, conv.cid, conv.id, [], "bid IN (SELECT value FROM json_each(:packs))",
                                                 {"packs": msgspec.json.encode(packs).decode()}))
    return tx.conn.execute(f"DELETE FROM branches WHERE cid=:c AND ({where})", args).rowcount > 0


def move(tx: Tx, rec: Records, src: Conv, dst: Conv) -> int:
    """Gives `dst` the branches of `src` (a new chat's page joining its conversation), renumbered and re-tagged;
    the number added to each (attachments.move renumbers their links)."""
    base = tx.one("SELECT COALESCE(MAX(branch), -1) + 1 FROM branches WHERE cid=?", (dst.cid,))[0]
    for branch, idx, role, k, h in tx.q(
        "SELECT t.branch, t.idx, t.role, t.k, b.hash FROM branch_turns t LEFT JOIN blobs b USING (bid) WHERE t.cid=?",
        (src.cid,),
    ):
        tx.conn.execute(
            "UPDATE branch_turns SET cid=?, branch=?, tag=? WHERE cid=? AND branch=? AND idx=?",
            (dst.cid, base + branch, rec.branch_tag(dst.id, base + branch, idx, role, h or b"", k), src.cid, branch, idx),
        )
    tx.conn.execute("UPDATE branches SET cid=?, branch=branch + ? WHERE cid=?", (dst.cid, base, src.cid))
    return base
