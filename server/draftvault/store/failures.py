"""Failed sessions the detector noticed: recorded, listed (with their conversation's title
and site), resolved. A conversation with an open failure has status "failed"."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Sequence

from .. import models
from ..crypto import Tampered
from .db import Tx
from ..times import iso, now_iso
from .records import Records, new_id


def record(tx: Tx, rec: Records, cid: int, kind: str, *, detail, page_id, provider_outage) -> models.FailureOut:
    id = new_id()
    tx.conn.execute(
        "INSERT INTO failures (id, cid, kind, detail, page_id, provider_outage, detected_at) VALUES (?,?,?,?,?,?,?)",
        (id, cid, kind, rec.seal_detail("failure", id, detail), page_id, int(provider_outage), _failure_time(tx)),
    )
    return select(tx, rec, "f.id=?", (id,))[0]


def _failure_time(tx: Tx) -> str:
    """Now, but after the newest failure, so failures list in the order they were recorded."""
    at = now_iso()
    last = tx.one("SELECT MAX(detected_at) FROM failures")[0]
    if last is not None and at <= last:
        at = iso(datetime.fromisoformat(last) + timedelta(milliseconds=1))
    return at


def listed(tx: Tx, rec: Records, *, resolved: bool | None, conversation: str | None) -> list[models.FailureOut]:
    where, params = "1", []
    if resolved is not None:
        where += " AND f.resolved_at IS " + ("NOT NULL" if resolved else "NULL")
    if conversation is not None:
        where += " AND c.id=?"
        params.append(conversation)
    return select(tx, rec, where, params)


def select(tx: Tx, rec: Records, where: str, params: Sequence) -> list[models.FailureOut]:
    out = []
    for id, conv, site, title, kind, detail, outage, detected_at, resolved_at, resolution in tx.q(
        "SELECT f.id, c.id, c.site, c.title, f.kind, f.detail, f.provider_outage, f.detected_at, f.resolved_at, "
        f"f.resolution FROM failures f JOIN conversations c USING (cid) WHERE {where} ORDER BY f.detected_at, f.id",
        params,
    ):
        try:
            text = None if detail is None else rec.open_detail("failure", id, detail)
        except Tampered:
            text = None
        out.append(
            models.FailureOut(
                id=id,
                conversation=conv,
                kind=kind,
                detected_at=detected_at,
                resolved=resolved_at is not None,
                detail=text,
                resolved_at=resolved_at,
                resolution=resolution,
                provider_outage=bool(outage),
                title=rec.field_or_none(conv, "title", title),
                site=site,
            )
        )
    return out


def resolve(tx: Tx, rec: Records, id: str, resolution: str) -> models.FailureOut | None:
    tx.conn.execute(
        "UPDATE failures SET resolved_at=?, resolution=? WHERE id=? AND resolved_at IS NULL", (now_iso(), resolution, id)
    )
    found = select(tx, rec, "f.id=?", (id,))
    return found[0] if found else None


def resolve_open(tx: Tx, conversation: str, resolution: str) -> list[str]:
    """Resolves the conversation's open failures; their ids."""
    ids = [
        r[0]
        for r in tx.q(
            "SELECT f.id FROM failures f JOIN conversations c USING (cid) WHERE c.id=? AND f.resolved_at IS NULL",
            (conversation,),
        )
    ]
    tx.conn.executemany("UPDATE failures SET resolved_at=?, resolution=? WHERE id=?", [(now_iso(), resolution, i) for i in ids])
    return ids
