"""The draft-history policy: the composer's text as the current draft, and its recent versions.

The history keeps the recent versions of each draft (DRAFT_VERSIONS). Typing that only
extends the newest version, or keeps deleting from its end, updates that version
instead of adding one, so the history holds the peaks of each edit rather than one
entry per keystroke.
"""

from __future__ import annotations

from ..crypto import Tampered
from .conversations import Conv
from .db import Tx
from .records import Records, put_blob

DRAFT_VERSIONS = 20
DRAFT_ZLIB_LEVEL = 6  # rewritten on every keystroke: a faster level


def set_draft(tx: Tx, rec: Records, conv: Conv, draft: str | None, now: str) -> bool:
    """Keeps the composer's text as the current draft and in the draft history; whether anything changed."""
    if draft is None:
        return False  # the page did not read its composer: keep what we have
    if not draft.strip():
        if conv.draft is None:
            return False
        tx.conn.execute("UPDATE conversations SET draft=NULL WHERE cid=?", (conv.cid,))
        conv.draft = None
        return True
    h = rec.text_hash(draft)
    versions = tx.q(
        "SELECT d.did, d.bid, b.hash, b.data FROM drafts d LEFT JOIN blobs b USING (bid) "
        "WHERE d.cid=? ORDER BY d.did DESC LIMIT 2",
        (conv.cid,),
    )
    if versions and versions[0][2] == h:
        if conv.draft == versions[0][0]:
            return False
        did = versions[0][0]  # the same text again after it was cleared
    else:
        bid = put_blob(tx, rec, draft.encode(), h, DRAFT_ZLIB_LEVEL)
        if versions and conv.draft == versions[0][0] and _continues(rec, draft, versions):
            did, old_bid = versions[0][0], versions[0][1]
            tx.conn.execute(
                "UPDATE drafts SET bid=?, at=?, tag=? WHERE did=?", (bid, now, rec.draft_tag(conv.id, did, now, h), did)
            )
            tx.freed.add(old_bid)
        else:
            did = tx.conn.execute("INSERT INTO drafts (cid, bid, at, tag) VALUES (?,?,?,x'')", (conv.cid, bid, now)).lastrowid
            tx.conn.execute("UPDATE drafts SET tag=? WHERE did=?", (rec.draft_tag(conv.id, did, now, h), did))
            old = tx.q("SELECT did, bid FROM drafts WHERE cid=? ORDER BY did DESC LIMIT -1 OFFSET ?", (conv.cid, DRAFT_VERSIONS))
            if old:
                tx.conn.executemany("DELETE FROM drafts WHERE did=?", [(d,) for d, _ in old])
                tx.freed.update(b for _, b in old)
    tx.conn.execute("UPDATE conversations SET draft=? WHERE cid=?", (did, conv.cid))
    conv.draft = did
    return True


def _continues(rec: Records, draft: str, versions: list[tuple]) -> bool:
    """Whether `draft` continues the newest version's edit: typing on, or deleting on."""
    try:
        newest = rec.open_text(versions[0][2], versions[0][3])
        if draft.startswith(newest):
            return True
        if newest.startswith(draft) and len(versions) > 1:
            return rec.open_text(versions[1][2], versions[1][3]).startswith(newest)
    except (Tampered, TypeError):
        pass
    return False


def move_drafts(tx: Tx, rec: Records, src: Conv, dst: Conv) -> None:
    """Gives `dst` the draft history (and the current draft) of `src`, re-tagged for `dst`."""
    for did, at, h in tx.q("SELECT d.did, d.at, b.hash FROM drafts d LEFT JOIN blobs b USING (bid) WHERE d.cid=?", (src.cid,)):
        tx.conn.execute("UPDATE drafts SET cid=?, tag=? WHERE did=?", (dst.cid, rec.draft_tag(dst.id, did, at, h or b""), did))
    if src.draft is not None:
        tx.conn.execute("UPDATE conversations SET draft=? WHERE cid=?", (src.draft, dst.cid))
        dst.draft = src.draft
