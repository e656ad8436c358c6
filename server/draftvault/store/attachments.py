"""Images and files shown in conversations: their bytes, stored once, and the turns that show them.

- `attachments`: one row per distinct file, found by the keyed hash of its bytes (records:
  `attachment_hasher`), so a picture shown in ten turns or two conversations is stored once.
  Its bytes are `attachment_parts` rows, one sealed part each (protocol.ATTACHMENT_PART_BYTES),
  so neither storing nor serving nor verifying a file holds more than one part in memory.
  While the parts of an upload arrive (one frame each, in seq order) the row has `upload` (a
  keyed hash of client, page and the extension's key) and no hash; the last part computes the
  hash and either completes the row or, when the vault already holds those bytes, drops it.
  Uploads left unfinished (a tab closed mid-way) are dropped after STALE_DAYS.
- `attachment_links`: (conversation, branch, turn index, file), with the name, type and size the
  page showed (and an image's alt text) sealed; `aid` NULL for a file recorded by name, type and size only. A frame links
  a file to the current thread (branch NULL), or to the newest kept version whose turn shows the image's
  placeholder when the current turn does not (an answer replaced while the extension fetched its image: apply.py). Links follow the text they were seen with: when
  versions.keep keeps replaced turns as a branch, their links go into it (`keep`), so a new
  answer at that index starts with none (a file the page shows again with it is linked again,
  its bytes stored once); a turn whose replacement still shows its files (an edited prompt:
  the site keeps its files; a text that contains the old one: a file's placeholder rendered
  late) leaves a copy in the branch and keeps them; a branch renumbered into another conversation renumbers its links
  (`move`; a joining page's turns kept as a `conflict` version take the links that page's side showed with them), a branch deleted deletes them (`drop`), and a kept version the page shows again
  (its version switcher) shows them again (`restore`: the extension sends a file once a page).
- Deleting a conversation or a branch deletes its links, and a file when no link is left (`collect`).
"""

from __future__ import annotations

import sqlite3
from typing import Iterable, Iterator

import msgspec

from .. import models, protocol
from ..crypto import Tampered
from ..times import now_iso
from .db import Tx
from .errors import Refused
from .records import HASH_BYTES, Records, new_id

STALE_DAYS = 1


def store(tx: Tx, rec: Records, client_id: str, cid: int, conv_id: str, f: protocol.Attachment,
          branch: int | None = None) -> None:
    """One attachment frame: a part of a file's bytes, and with the last part (or with none) its link,
    to the current thread or to kept version `branch` (a late image of a replaced answer)."""
    aid = h = None
    if f.parts:
        aid = _take_part(tx, rec, client_id, f)
        if f.part < f.parts - 1:
            return  # more parts to come
        aid, h = _complete(tx, rec, aid, f.size, f.parts)
    _link(tx, rec, cid, conv_id, f.turn_index, aid, h, (f.name, f.mime, f.size, f.alt), branch)


def _take_part(tx: Tx, rec: Records, client_id: str, f: protocol.Attachment) -> int:
    upload = rec.upload_key(client_id, f.page_id, f.key)
    row = tx.one(
        "SELECT aid, size, parts, (SELECT COUNT(*) FROM attachment_parts p WHERE p.aid=a.aid) FROM attachments a "
        "WHERE upload=?", (upload,),
    )
    if f.part == 0:
        if row is not None:  # the same upload started again: its earlier parts go
            _drop(tx, row[0])
        aid = tx.conn.execute(
            "INSERT INTO attachments (id, size, parts, upload, started_at) VALUES (?,?,?,?,?)",
            (new_id(), f.size, f.parts, upload, now_iso()),
        ).lastrowid
    elif row is None or tuple(row[1:]) != (f.size, f.parts, f.part):
        held = "none" if row is None else f"{row[3]} of {row[2]} parts of a file of {row[1]} bytes"
        raise Refused(f"attachment frame: part {f.part} of {f.parts} of upload {f.key!r} does not follow what the vault "
                      f"holds of it ({held}); send the upload again from part 0")
    else:
        aid = row[0]
    tx.conn.execute("INSERT INTO attachment_parts VALUES (?,?,?)", (aid, f.part, rec.seal_part(aid, f.part, f.data)))
    return aid


def _complete(tx: Tx, rec: Records, aid: int, size: int, parts: int) -> tuple[int, bytes]:
    """The upload's file, by the keyed hash of its bytes: this row completed, or the one the vault already held."""
    hasher = rec.attachment_hasher()
    for data in _parts(tx, rec, aid, parts):
        hasher.update(data)
    h = hasher.digest()[:HASH_BYTES]
    held = tx.one("SELECT aid FROM attachments WHERE hash=?", (h,))
    if held is not None:
        _drop(tx, aid)
        return held[0], h
    tx.conn.execute(
        "UPDATE attachments SET hash=?, tag=?, upload=NULL WHERE aid=?", (h, rec.attachment_tag(aid, size, parts, h), aid)
    )
    return aid, h


CURRENT = -1  # the current thread's place in the unique index over (cid, COALESCE(branch, -1), idx, key)


def _link(tx: Tx, rec: Records, cid: int, conv_id: str, idx: int, aid: int | None, h: bytes | None,
          shown: tuple[str, str, int, str | None], branch: int | None = None) -> None:
    """`shown`: (name, type, size, alt) as the page showed the file."""
    name, type, size, alt = shown
    key = rec.link_key(h, name, type, size)
    if tx.one("SELECT 1 FROM attachment_links WHERE cid=? AND COALESCE(branch, -1)=? AND idx=? AND key=?",
              (cid, CURRENT if branch is None else branch, idx, key)):
        return
    lid = tx.conn.execute(
        "INSERT INTO attachment_links (cid, branch, idx, aid, key, meta, tag) VALUES (?,?,?,?,?,x'',x'')",
        (cid, branch, idx, aid, key),
    ).lastrowid
    tx.conn.execute(
        "UPDATE attachment_links SET meta=?, tag=? WHERE lid=?",
        (rec.seal_link(lid, name, type, size, alt), rec.link_tag(conv_id, idx, lid, h, branch), lid),
    )


def _copy(tx: Tx, rec: Records, cid: int, conv_id: str, link: tuple, to: int | None) -> None:
    """Links the file of `link` (lid, idx, aid, meta, hash) at its index of thread `to` too (a damaged link is not copied)."""
    lid, idx, aid, meta, h = link
    try:
        shown = rec.open_link(lid, meta)
    except Tampered:
        return  # the detail and verify name it
    _link(tx, rec, cid, conv_id, idx, aid, h, shown, to)


def _parts(tx: Tx, rec: Records, aid: int, parts: int) -> Iterator[bytes]:
    """A file's bytes, one opened part at a time (Tampered when one is missing or fails authentication)."""
    for n in range(parts):
        yield part(tx, rec, aid, n)


def part(tx: Tx, rec: Records, aid: int, n: int) -> bytes:
    row = tx.one("SELECT data FROM attachment_parts WHERE aid=? AND part=?", (aid, n))
    if row is None:
        raise Tampered(f"part {n} is missing")
    return rec.open_part(aid, n, row[0])


def _drop(tx: Tx, aid: int) -> None:
    tx.conn.execute("DELETE FROM attachment_parts WHERE aid=?", (aid,))
    tx.conn.execute("DELETE FROM attachments WHERE aid=?", (aid,))


# ---- reading ------------------------------------------------------------------------------


Shown = dict[tuple[int | None, int], list[models.AttachmentOut]]  # (branch or None, turn index) -> its files


def by_turn(tx: Tx, rec: Records, cid: int, conv_id: str, corrupt: list[str]) -> Shown:
    """The attachments of a conversation's turns, current and kept, by (branch, turn index), in the order they were seen."""
    out: Shown = {}
    for lid, branch, idx, aid, meta, tag, id, h in tx.q(
        "SELECT l.lid, l.branch, l.idx, l.aid, l.meta, l.tag, a.id, a.hash FROM attachment_links l "
        "LEFT JOIN attachments a USING (aid) WHERE l.cid=? ORDER BY l.idx, l.lid", (cid,),
    ):
        try:
            if tag != rec.link_tag(conv_id, idx, lid, h, branch) or (aid is not None and h is None):
                raise Tampered("link moved")
            name, type, size, alt = rec.open_link(lid, meta)
        except Tampered:
            corrupt.append(_name(idx, branch))
            continue
        out.setdefault((branch, idx), []).append(
            models.AttachmentOut(id=id if aid is not None else None, name=name, type=type, bytes=size, alt=alt))
    return out


def _name(idx: int, branch: int | None, conv_id: str | None = None) -> str:
    where = "" if branch is None else f" of branch {branch}"
    return f"attachment of turn {idx}{where}" + ("" if conv_id is None else f" of conversation {conv_id}")


class File(msgspec.Struct):
    """A stored file as GET /api/attachments/{id} serves it: name and type from a turn that shows it."""

    aid: int
    size: int
    parts: int
    name: str
    type: str


def find(tx: Tx, rec: Records, id: str) -> File | None:
    row = tx.one(
        "SELECT a.aid, a.size, a.parts, a.hash, a.tag, l.lid, l.meta FROM attachments a "
        "JOIN attachment_links l USING (aid) WHERE a.id=? AND a.hash IS NOT NULL ORDER BY l.lid LIMIT 1", (id,),
    )
    if row is None:
        return None
    aid, size, parts, h, tag, lid, meta = row
    if tag != rec.attachment_tag(aid, size, parts, h):
        raise Tampered("attachment row moved")
    name, type, *_ = rec.open_link(lid, meta)
    return File(aid=aid, size=size, parts=parts, name=name, type=type)


# ---- versions and upkeep -------------------------------------------------------------------


def linked(tx: Tx, cid: int, indexes: Iterable[int]) -> set[int]:
    """Those of the current thread's turn indexes that show a file."""
    return {idx for (idx,) in tx.q(
        "SELECT DISTINCT idx FROM attachment_links WHERE cid=? AND COALESCE(branch, -1)=? "
        "AND idx IN (SELECT value FROM json_each(?))", (cid, CURRENT, msgspec.json.encode(sorted(indexes)).decode()),
    )}


def keep(tx: Tx, rec: Records, cid: int, conv_id: str, indexes: Iterable[int], branch: int, stay: set[int]) -> None:
    """The current thread's links at these indexes go with their turns into `branch` (versions.keep);
    at the indexes in `stay` the turn that replaced them still shows them: they are copied. A link
    the branch has already (the same branch kept before) is not kept twice."""
    for lid, idx, aid, key, meta, h in tx.q(
        "SELECT l.lid, l.idx, l.aid, l.key, l.meta, a.hash FROM attachment_links l LEFT JOIN attachments a USING (aid) "
        "WHERE l.cid=? AND COALESCE(l.branch, -1)=? AND l.idx IN (SELECT value FROM json_each(?))",
        (cid, CURRENT, msgspec.json.encode(sorted(indexes)).decode()),
    ):
        if idx in stay:
            _copy(tx, rec, cid, conv_id, (lid, idx, aid, meta, h), branch)
        elif tx.one("SELECT 1 FROM attachment_links WHERE cid=? AND branch=? AND idx=? AND key=?", (cid, branch, idx, key)):
            tx.conn.execute("DELETE FROM attachment_links WHERE lid=?", (lid,))
        else:
            tx.conn.execute("UPDATE attachment_links SET branch=?, tag=? WHERE lid=?",
                            (branch, rec.link_tag(conv_id, idx, lid, h, branch), lid))


def kept_indexes(tx: Tx, cid: int) -> set[int]:
    """The turn indexes at which some kept version of the conversation shows a file."""
    return {idx for (idx,) in tx.q("SELECT DISTINCT idx FROM attachment_links WHERE cid=? AND branch NOT NULL", (cid,))}


def restore(tx: Tx, rec: Records, cid: int, conv_id: str, idx: int, branch: int) -> None:
    """The page shows a kept version's turn again (its version switcher): the version's files are
    linked to the current thread's turn too (the extension sends a file once per page)."""
    for link in tx.q(
        "SELECT l.lid, l.idx, l.aid, l.meta, a.hash FROM attachment_links l LEFT JOIN attachments a USING (aid) "
        "WHERE l.cid=? AND l.branch=? AND l.idx=? ORDER BY l.lid", (cid, branch, idx),
    ):
        _copy(tx, rec, cid, conv_id, link, None)


def move(tx: Tx, rec: Records, src_cid: int, dst_cid: int, dst_id: str, base: int) -> None:
    """A new chat's page conversation joins its site conversation: its links go along (tagged anew),
    those of its branches to their numbers there (`base` + the branch: versions.move)."""
    for lid, branch, idx, h in tx.q(
        "SELECT l.lid, l.branch, l.idx, a.hash FROM attachment_links l LEFT JOIN attachments a USING (aid) WHERE l.cid=?",
        (src_cid,),
    ):
        to = None if branch is None else base + branch
        tx.conn.execute(
            "UPDATE OR IGNORE attachment_links SET cid=?, branch=?, tag=? WHERE lid=?",
            (dst_cid, to, rec.link_tag(dst_id, idx, lid, h, to), lid),
        )
    tx.conn.execute("DELETE FROM attachment_links WHERE cid=?", (src_cid,))  # the ones the other already had


def drop(tx: Tx, cid: int, branches: str, params: dict) -> None:
    """Deletes the links of the conversation's branches that the SQL `branches` selects (versions.drop),
    and the files no other link shows."""
    gone = tx.q(f"SELECT DISTINCT aid FROM attachment_links WHERE cid=:c AND branch IN ({branches}) AND aid NOT NULL",
                {"c": cid, **params})
    tx.conn.execute(f"DELETE FROM attachment_links WHERE cid=:c AND branch IN ({branches})", {"c": cid, **params})
    collect(tx, [aid for (aid,) in gone])


def collect(tx: Tx, aids: list[int] | None = None) -> None:
    """Deletes the files no link shows any more (uploads in progress are not files yet); `aids`: only among those."""
    among = "1" if aids is None else "aid IN (SELECT value FROM json_each(:aids))"
    for (aid,) in tx.q(
        f"SELECT aid FROM attachments a WHERE upload IS NULL AND {among} "
        "AND NOT EXISTS(SELECT 1 FROM attachment_links l WHERE l.aid=a.aid)",
        {"aids": msgspec.json.encode(aids or []).decode()},
    ):
        _drop(tx, aid)


def forget_stale(conn: sqlite3.Connection, since: str) -> None:
    """Drops uploads that started before `since` and never finished (their tab went away mid-way)."""
    stale = "SELECT aid FROM attachments WHERE upload IS NOT NULL AND started_at < :since"
    conn.execute(f"DELETE FROM attachment_parts WHERE aid IN ({stale})", {"since": since})
    conn.execute(f"DELETE FROM attachments WHERE aid IN ({stale})", {"since": since})


def verify(tx: Tx, rec: Records) -> tuple[int, list[str]]:
    """Every file's parts authenticate and hash to the file's hash, and every link opens: (checked, bad)."""
    checked, bad = 0, []
    for aid, id, h, size, parts, tag in tx.q("SELECT aid, id, hash, size, parts, tag FROM attachments WHERE upload IS NULL"):
        checked += 1
        try:
            if h is None or tag != rec.attachment_tag(aid, size, parts, h):
                raise Tampered("attachment row moved")
            hasher, total = rec.attachment_hasher(), 0
            for data in _parts(tx, rec, aid, parts):
                hasher.update(data)
                total += len(data)
            if total != size or hasher.digest()[:HASH_BYTES] != h:
                raise Tampered("bytes that are not the file's")
        except Tampered:
            bad.append(f"attachment {id}")
    for lid, branch, idx, conv_id, meta, tag, aid, h in tx.q(
        "SELECT l.lid, l.branch, l.idx, c.id, l.meta, l.tag, l.aid, a.hash FROM attachment_links l "
        "LEFT JOIN conversations c USING (cid) LEFT JOIN attachments a USING (aid)"
    ):
        checked += 1
        try:
            if conv_id is None or (aid is not None and h is None) or tag != rec.link_tag(conv_id, idx, lid, h, branch):
                raise Tampered("link moved")
            rec.open_link(lid, meta)
        except Tampered:
            bad.append(_name(idx, branch, conv_id))
    return checked, bad
