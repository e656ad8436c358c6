"""Conversations as the API shows them: lookups, lists, one conversation read whole, deletion.

`conversations` rows: title, url, model and the site's conversation id sealed (see
records); looked up by `site_key`, a keyed hash of (site, site conversation id). Site,
times and counts are plaintext metadata. `pages`: page_id -> its current conversation
(a new chat has one before the site gives it an id; navigating inside the single-page
app moves the page).
"""

from __future__ import annotations

from typing import Sequence

import msgspec

from .. import models
from ..crypto import Tampered
from ..markdown import without_image_placeholders
from . import attachments, branches, failures, search
from .db import Tx
from .records import Records, turns_name


class Conv(msgspec.Struct):
    """The plaintext columns of a conversations row that writes need."""

    cid: int
    id: str
    site: str
    site_key: bytes | None
    turn_count: int
    draft: int | None
    writer: str | None = None  # the page that last changed its turns
    streaming_turn: int | None = None  # the turn a streaming frame wrote and no finished frame has since


def find(tx: Tx, where: str, params: Sequence) -> Conv | None:
    row = tx.one(
        f"SELECT cid, id, site, site_key, turn_count, draft, writer, streaming_turn FROM conversations WHERE {where}", params
    )
    return Conv(*row) if row else None


def public_id(tx: Tx, cid: int | None) -> str | None:
    if cid is None:
        return None
    return tx.one("SELECT id FROM conversations WHERE cid=?", (cid,))[0]


def of_page(tx: Tx, page_id: str) -> str | None:
    """The conversation the page shows now."""
    row = tx.one("SELECT c.id FROM pages p JOIN conversations c USING (cid) WHERE p.page_id=?", (page_id,))
    return row[0] if row else None


_OPEN_FAILURE = "EXISTS(SELECT 1 FROM failures f WHERE f.cid=c.cid AND f.resolved_at IS NULL)"
_SUMMARY_COLS = f"c.cid, c.id, c.site, c.site_conv, c.title, c.url, c.turn_count, c.updated_at, {_OPEN_FAILURE} AS failed"


def _summary(rec: Records, row: tuple) -> models.ConversationSummary:
    cid, id, site, site_conv, title, url, turn_count, updated_at, failed = row
    return models.ConversationSummary(
        id=id,
        site=site,
        conversation_id=rec.field_or_none(id, "conversation_id", site_conv),
        title=rec.field_or_none(id, "title", title),
        url=rec.field_or_none(id, "url", url),
        status="failed" if failed else "active",
        turn_count=turn_count,
        updated_at=updated_at,
    )


def list_summaries(
    tx: Tx, rec: Records, *, q, site, status, since, until, limit: int, offset: int
) -> list[models.ConversationSummary]:
    """The newest first, or with `q` the best matches first (the index must be flushed)."""
    where, params = search.filters(site, since, until, status)
    if q:
        found = search.best_texts(tx, q, site=site, since=since, until=until, status=status, limit=10_000)
        if not found:
            return []
        order = {hit.cid: n for n, hit in enumerate(found.hits)}
        rows = tx.q(
            f"SELECT {_SUMMARY_COLS} FROM conversations c WHERE c.cid IN ({','.join(map(str, order))}) {where}", params
        )
        rows.sort(key=lambda r: order[r[0]])
        rows = rows[offset : offset + limit]
    else:
        rows = tx.q(
            f"SELECT {_SUMMARY_COLS} FROM conversations c WHERE 1 {where} "
            "ORDER BY c.updated_at DESC, c.cid DESC LIMIT :limit OFFSET :offset",
            {**params, "limit": limit, "offset": offset},
        )
    return [_summary(rec, r) for r in rows]


def summary_of_page(tx: Tx, rec: Records, page_id: str) -> models.ConversationSummary | None:
    """The summary of the conversation a page shows (the extension's lookup for an open tab)."""
    row = tx.one(
        f"SELECT {_SUMMARY_COLS} FROM pages p JOIN conversations c USING (cid) WHERE p.page_id=?", (page_id,)
    )
    return _summary(rec, row) if row else None


def detail(tx: Tx, rec: Records, id: str) -> models.ConversationDetail | None:
    """The whole conversation; records that fail authentication are named in `corrupt`, the rest is shown."""
    row = tx.one(f"SELECT {_SUMMARY_COLS}, c.created_at, c.model, c.draft FROM conversations c WHERE c.id=?", (id,))
    if row is None:
        return None
    cid, id, site, site_conv, title, url, turn_count, updated_at, failed, created_at, model, current = row
    corrupt: list[str] = []
    fields = {
        name: rec.field_or_none(id, name, sealed, corrupt)
        for name, sealed in (("title", title), ("url", url), ("model", model), ("conversation_id", site_conv))
    }
    turns = []
    for idx, n, tag, h, data in tx.q(
        "SELECT t.idx, t.n, t.tag, b.hash, b.data FROM turns t LEFT JOIN blobs b USING (bid) WHERE t.cid=? ORDER BY t.idx",
        (cid,),
    ):
        try:
            if h is None or tag != rec.run_tag(id, idx, n, h):
                raise Tampered("turns moved")
            run = rec.open_run(h, data)
            if len(run) != n:
                raise Tampered("a run of another length")
            turns += [branches.turn_out(idx + k, turn) for k, turn in enumerate(run)]
        except Tampered:
            corrupt.append(turns_name(idx, n))
    shown = attachments.by_turn(tx, rec, cid, id, corrupt)
    for turn in turns:
        _show(turn, shown.get((None, turn.index), []))
    kept = branches.read(tx, rec, cid, id, turns, corrupt)
    for branch in kept:
        for turn in branch.turns:
            _show(turn, shown.get((int(branch.id), turn.index), []))
    drafts, draft = [], None
    for did, at, tag, h, data in tx.q(
        "SELECT d.did, d.at, d.tag, b.hash, b.data FROM drafts d LEFT JOIN blobs b USING (bid) "
        "WHERE d.cid=? ORDER BY d.did DESC",
        (cid,),
    ):
        try:
            if h is None or tag != rec.draft_tag(id, did, at, h):
                raise Tampered("draft moved")
            out = models.DraftOut(text=rec.open_text(h, data), updated_at=at)
        except Tampered:
            corrupt.append("draft" if did == current else f"draft version of {at}")
            continue
        drafts.append(out)
        if did == current:
            draft = out
    return models.ConversationDetail(
        id=id,
        site=site,
        conversation_id=fields["conversation_id"],
        title=fields["title"],
        url=fields["url"],
        status="failed" if failed else "active",
        turn_count=turn_count,
        updated_at=updated_at,
        created_at=created_at,
        model=fields["model"],
        turns=turns,
        branches=kept,
        draft=draft,
        drafts=drafts,
        failures=failures.select(tx, rec, "f.cid=?", (cid,)),
        corrupt=corrupt,
    )


def delete(tx: Tx, conv: Conv) -> None:
    """Removes the conversation's rows; its blobs are freed and its files unlinked (both collected by the caller)."""
    cid = conv.cid
    tx.freed.update(
        r[0]
        for r in tx.q(
            "SELECT bid FROM turns WHERE cid=:c UNION SELECT bid FROM drafts WHERE cid=:c "
            "UNION SELECT bid FROM branch_turns WHERE cid=:c "
            "UNION SELECT title_bid FROM conversations WHERE cid=:c AND title_bid NOT NULL",
            {"c": cid},
        )
    )
    for table in ("turns", "branch_turns", "branches", "drafts", "failures", "signals", "pages", "attachment_links",
                  "conversations"):
        tx.conn.execute(f"DELETE FROM {table} WHERE cid=?", (cid,))


def _show(turn: models.TurnOut, files: list[models.AttachmentOut]) -> None:
    """Gives a turn its files. Its text keeps the placeholder of an image kept as a file (what the
    page showed, the same on every capture: no version flips as files arrive); readers show the
    image instead (`shown_text`)."""
    turn.attachments = files
    kept = [a.alt for a in files if a.id is not None and a.alt]
    if kept and (text := without_image_placeholders(turn.text, kept)) != turn.text:
        turn.shown_text = text
