"""Frames and imports to rows: a snapshot's turns, fields and draft; a signal; a whole
exported conversation; and a new chat's page joining the site conversation it becomes."""

from __future__ import annotations

from typing import Sequence

import msgspec

from .. import protocol
from . import attachments, branches, conversations, drafts, runs, versions
from .conversations import Conv
from .db import Tx
from .errors import NeedFull, Refused
from ..times import now_iso
from .records import NO_META, Records, Turn, TurnMeta, content_key, meta_of, new_id, put_blob, with_meta


def snapshot(tx: Tx, rec: Records, f: protocol.Snapshot) -> int | None:
    """Stores a snapshot; the conversation it belongs to (None for an empty new chat).

    A new chat's page (no site id yet) stays its own conversation when the page moves on
    to a chat that does not continue it (another conversation, or another new chat), and
    joins the site conversation it gets the id of only when their turns agree; otherwise
    nothing of the new chat (turns, drafts, failures) is moved or dropped."""
    now = now_iso()
    page = tx.one("SELECT cid FROM pages WHERE page_id=?", (f.page_id,))
    page_cid = page[0] if page else None
    page_conv = conversations.find(tx, "cid=?", (page_cid,)) if page_cid is not None else None
    new_chat = page_conv is not None and page_conv.site_key is None and _continues(tx, rec, page_conv, f)
    if f.conversation_id is not None:
        key = rec.site_key(f.site, f.conversation_id)
        conv = conversations.find(tx, "site_key=?", (key,))
        if conv is None and new_chat:
            cid = page_conv.cid  # the new chat got its id
            tx.conn.execute(
                "UPDATE conversations SET site_key=?, site_conv=? WHERE cid=?",
                (key, rec.seal_field(page_conv.id, "conversation_id", f.conversation_id), cid),
            )
        elif conv is None:
            cid = _create(tx, rec, f.site, now, key, f.conversation_id)
        else:
            cid = conv.cid
            if new_chat and page_conv.cid != cid and page_conv.turn_count > 0 and _agree(tx, rec, page_conv, conv):
                _join(tx, rec, page_conv, conv, now)
                page_cid = cid
    elif new_chat:
        cid = page_conv.cid
    elif f.turns or f.turn_count or (f.draft and f.draft.strip()):
        cid = _create(tx, rec, f.site, now, None, None)
    else:
        cid = None  # an empty new chat: nothing to keep yet
    if cid is not None:
        _content(tx, rec, cid, f, now, seen=page_cid == cid)
    tx.conn.execute(
        "INSERT INTO pages VALUES (?, ?, ?) ON CONFLICT(page_id) DO UPDATE SET cid=excluded.cid, seen_at=excluded.seen_at",
        (f.page_id, cid, now),
    )
    return cid


def _continues(tx: Tx, rec: Records, page_conv: Conv, f: protocol.Snapshot) -> bool:
    """Whether the frame shows the page's new chat still (not a tab moved on to another chat)."""
    if f.turns_from > 0 or page_conv.turn_count == 0:
        return True  # a delta on what the page sent, or nothing to lose
    if not f.turns:
        return f.turn_count > 0
    stored = runs.read(tx, rec, page_conv.cid, 0, len(f.turns))
    return _compatible(stored, {t.index: (t.role, t.text) for t in f.turns})


def _agree(tx: Tx, rec: Records, src: Conv, dst: Conv) -> bool:
    """Whether two conversations' turns agree where both have them (one may have streamed further)."""
    n = min(src.turn_count, dst.turn_count)
    return _compatible(runs.read(tx, rec, src.cid, 0, n), runs.read(tx, rec, dst.cid, 0, n))


def _compatible(a: dict[int, Turn], b: dict[int, Turn]) -> bool:
    return all(
        a[i][0] == b[i][0] and (a[i][1].startswith(b[i][1]) or b[i][1].startswith(a[i][1])) for i in a.keys() & b.keys()
    )


def _cid_of(tx: Tx, rec: Records, f: protocol.Signal | protocol.Attachment) -> int | None:
    """The conversation a page's frame belongs to (by the site's id, else the page's), if any."""
    cid = None
    if f.conversation_id is not None:
        conv = conversations.find(tx, "site_key=?", (rec.site_key(f.site, f.conversation_id),))
        cid = conv.cid if conv else None
    if cid is None:
        page = tx.one("SELECT cid FROM pages WHERE page_id=?", (f.page_id,))
        cid = page[0] if page else None
    return cid


def attachment(tx: Tx, rec: Records, client_id: str, f: protocol.Attachment) -> int:
    """Stores an attachment frame (a part of a file, or its link to a turn); its conversation."""
    cid = _cid_of(tx, rec, f)
    if cid is None:
        raise Refused("attachment frame: the vault holds no conversation of this page yet; its snapshot comes first")
    conv_id = conversations.public_id(tx, cid)
    attachments.store(tx, rec, client_id, cid, conv_id, f, _seen_with(tx, rec, cid, conv_id, f))
    return cid


def _seen_with(tx: Tx, rec: Records, cid: int, conv_id: str, f: protocol.Attachment) -> int | None:
    """The thread whose turn showed an image (None: the current one): the newest kept version whose
    turn at that index shows its placeholder, when the current turn there does not (the answer was
    replaced while the extension fetched the image). Read with the frame that links it only."""
    if not f.alt or f.part < f.parts - 1:
        return None
    placeholder = f"[Image: {f.alt}]"
    current = runs.read(tx, rec, cid, f.turn_index, f.turn_index + 1).get(f.turn_index)
    if current is not None and placeholder in current[1]:
        return None
    kept = branches.rows(tx, rec, cid, conv_id, [], "idx=:i", {"i": f.turn_index})
    return next((branch for branch, _, _, _, turn in reversed(kept) if placeholder in turn[1]), None)


def signal(tx: Tx, rec: Records, client_id: str, f: protocol.Signal) -> int | None:
    """Stores a page signal; the conversation it belongs to (by the site's id, else the page's), if any."""
    cid = _cid_of(tx, rec, f)
    id = new_id()
    tx.conn.execute(
        "INSERT INTO signals VALUES (?,?,?,?,?,?,?,?)",
        (id, cid, f.page_id, client_id, f.kind, f.status, rec.seal_detail("signal", id, f.detail), now_iso()),
    )
    return cid


def _create(tx: Tx, rec: Records, site: str, now: str, key: bytes | None, site_conv: str | None,
            created_at: str | None = None) -> int:
    id = new_id()
    cur = tx.conn.execute(
        "INSERT INTO conversations (id, site, site_key, site_conv, created_at, updated_at) VALUES (?,?,?,?,?,?)",
        (id, site, key, None if site_conv is None else rec.seal_field(id, "conversation_id", site_conv), created_at or now, now),
    )
    return cur.lastrowid


def _content(tx: Tx, rec: Records, cid: int, f: protocol.Snapshot, now: str, seen: bool) -> None:
    """The frame's turns, fields and draft; what it replaces or drops is kept as a version (versions).
    `seen`: the page showed this conversation before this frame (else it is a fresh view of it)."""
    conv = conversations.find(tx, "cid=?", (cid,))
    have = conv.turn_count
    if f.turns_from > have:
        raise NeedFull(have)
    incoming, restored = _incoming(tx, rec, conv, f, now)
    count = min(f.turn_count, max(have, f.turns_from + len(incoming)))
    # A tab showing an older state: another page changed the turns since this one last showed them.
    stale = seen and conv.writer not in (None, f.page_id)
    if stale and count < have and runs.read(tx, rec, cid, f.turns_from, f.turns_from + len(incoming)) == dict(
        enumerate(incoming, f.turns_from)
    ):
        count = have  # it never shortens what another tab saved later
    changed, replaced = runs.store_turns(tx, rec, conv, f.turns_from, incoming, count)
    if replaced:
        versions.keep(tx, rec, conv, replaced, dict(enumerate(incoming, f.turns_from)), count,
                      unfinished=conv.streaming_turn, stale=stale, now=now)
    for idx, branch in restored.items():  # an earlier version shown again shows its files again
        attachments.restore(tx, rec, cid, conv.id, idx, branch)
    changed |= count != have
    writer, streaming = conv.writer, conv.streaming_turn
    if changed or not stale:
        writer = f.page_id if changed else writer
        streaming = (f.turns_from + len(incoming) - 1 if incoming else streaming) if f.streaming else None
    changed |= _set_fields(tx, rec, conv, title=f.title, url=f.url, model=f.model)
    changed |= drafts.set_draft(tx, rec, conv, f.draft, now)
    if changed:
        tx.conn.execute("UPDATE conversations SET turn_count=?, updated_at=? WHERE cid=?", (count, now, cid))
    if (writer, streaming) != (conv.writer, conv.streaming_turn):
        tx.conn.execute("UPDATE conversations SET writer=?, streaming_turn=? WHERE cid=?", (writer, streaming, cid))


def _incoming(tx: Tx, rec: Records, conv: Conv, f: protocol.Snapshot, now: str) -> tuple[list[Turn], dict[int, int]]:
    """The frame's turns as stored, with their meta, and the earlier versions it shows again
    (index -> branch). A turn that continues the stored one at its place (same role, the
    stored text a start of it: a streaming answer that grows, or the same turn sent again)
    keeps the stored first_seen (none for turns kept before times were), and the stored
    thinking and documents when the page shows none (a collapsed block not rendered after a
    reload is not a change). A turn that replaces the stored one with an earlier version's
    text (the page's version switcher) keeps that version's time; any other turn is first
    seen now. A turn past the stored ones with the text of a kept version that showed files
    (the tail of an edit, switched back to) is that version again too, for its files only."""
    stored = runs.read(tx, rec, conv.cid, f.turns_from, f.turns_from + len(f.turns)) if f.turns else {}
    with_files = attachments.kept_indexes(tx, conv.cid) if len(f.turns) > len(stored) else set()
    out, restored = [], {}
    for i, t in enumerate(f.turns, f.turns_from):
        old = stored.get(i)
        meta = TurnMeta(first_seen=now, thinking=t.thinking, documents=tuple(t.documents))
        if old is not None and old[0] == t.role and t.text.startswith(old[1]):
            was = meta_of(old) or NO_META
            meta = TurnMeta(first_seen=was.first_seen, thinking=t.thinking if t.thinking is not None else was.thinking,
                            documents=meta.documents or was.documents)
        elif (old is not None or i in with_files) and (kept := _kept_version(tx, rec, conv, i, t.role, t.text)):
            restored[i], turn = kept
            if old is not None:
                meta = TurnMeta(first_seen=(meta_of(turn) or NO_META).first_seen, thinking=t.thinking,
                                documents=meta.documents)
        out.append(with_meta(t.role, t.text, meta))
    return out, restored


def _kept_version(tx: Tx, rec: Records, conv: Conv, idx: int, role: str, text: str) -> tuple[int, Turn] | None:
    """A kept version's (branch, turn) at `idx` with this role and text, if any (opens those branch turns only)."""
    found = branches.rows(tx, rec, conv.cid, conv.id, [], "idx=:i AND role=:r", {"i": idx, "r": role})
    return next(((branch, turn) for branch, _, _, _, turn in found if turn[1] == text), None)


def _set_fields(tx: Tx, rec: Records, conv: Conv, **values: str | None) -> bool:
    """Seals the given fields (title, url, model) that changed; None keeps the stored value."""
    wanted = {k: v for k, v in values.items() if v is not None}
    if not wanted:
        return False
    row = tx.one(f"SELECT {', '.join(wanted)} FROM conversations WHERE cid=?", (conv.cid,))
    changed = False
    for (field, value), sealed in zip(wanted.items(), row):
        if sealed is not None and rec.field_or_none(conv.id, field, sealed) == value:
            continue  # (an unreadable value is overwritten with the page's current one)
        tx.conn.execute(f"UPDATE conversations SET {field}=? WHERE cid=?", (rec.seal_field(conv.id, field, value), conv.cid))
        if field == "title":
            _set_title_blob(tx, rec, conv.cid, value)
        changed = True
    return changed


def _set_title_blob(tx: Tx, rec: Records, cid: int, title: str) -> None:
    """Titles are searchable too: the index finds them as blobs (the sealed field is what is shown)."""
    old = tx.one("SELECT title_bid FROM conversations WHERE cid=?", (cid,))[0]
    bid = put_blob(tx, rec, title.encode(), rec.text_hash(title))
    tx.conn.execute("UPDATE conversations SET title_bid=? WHERE cid=?", (bid, cid))
    if old is not None and old != bid:
        tx.freed.add(old)


def _join(tx: Tx, rec: Records, src: Conv, dst: Conv, now: str) -> None:
    """Moves a new chat's page conversation into the site conversation it turned out to be (their
    turns agree): the longer thread stays current, and a turn of the other that it does not
    contain (a longer answer) is kept as a `conflict` version."""
    src_wins = src.turn_count >= dst.turn_count
    if src_wins:
        winner, loser = runs.read(tx, rec, src.cid, 0, src.turn_count), runs.read(tx, rec, dst.cid, 0, dst.turn_count)
        runs.move_turns(tx, rec, src, dst)
        tx.conn.execute(
            "UPDATE conversations SET turn_count=?, writer=?, streaming_turn=? WHERE cid=?",
            (src.turn_count, src.writer, src.streaming_turn, dst.cid),  # the thread is the page's now
        )
        dst.turn_count = src.turn_count
    else:
        winner, loser = runs.read(tx, rec, dst.cid, 0, dst.turn_count), runs.read(tx, rec, src.cid, 0, src.turn_count)
        tx.freed.update(r[0] for r in tx.q("SELECT bid FROM turns WHERE cid=?", (src.cid,)))
    tx.conn.execute("DELETE FROM turns WHERE cid=?", (src.cid,))
    base = versions.move(tx, rec, src, dst)
    lost = [(i, t) for i, t in sorted(loser.items()) if i not in winner or not winner[i][1].startswith(t[1])]
    if lost:  # the files the loser showed with those turns go with them (src's: to the number move gives it)
        branch, _ = versions.kept_or_added(tx, rec, dst, lost, "conflict", now)
        side, number = (dst, branch) if src_wins else (src, branch - base)
        attachments.keep(tx, rec, side.cid, side.id, [i for i, _ in lost], number, stay=set())
    drafts.move_drafts(tx, rec, src, dst)
    attachments.move(tx, rec, src.cid, dst.cid, dst.id, base)
    for table in ("failures", "signals", "pages"):
        tx.conn.execute(f"UPDATE {table} SET cid=? WHERE cid=?", (dst.cid, src.cid))
    tx.freed.update(r[0] for r in tx.q("SELECT title_bid FROM conversations WHERE cid=? AND title_bid NOT NULL", (src.cid,)))
    tx.conn.execute("DELETE FROM conversations WHERE cid=?", (src.cid,))


def import_conversation(
    tx: Tx,
    rec: Records,
    *,
    site: str,
    conversation_id: str,
    title: str | None,
    url: str | None,
    model: str | None,
    created_at: str | None,
    updated_at: str | None,
    turns: list[Turn],
    branches: Sequence[tuple[int, list[Turn]]] = (),
    earlier: Sequence[list[Turn]] = (),
) -> tuple[str, str]:
    """Stores a whole conversation from an export; re-importing the same one changes nothing.
    `branches`: the other threads, each as (position of its first turn, its turns); a branch
    may repeat turns of the thread it leaves (the reader shows it from where it differs).
    `earlier`: the same thread as an older importer wrote it (a format since improved). When
    the stored thread is exactly one of these, the new form replaces it quietly: it is the
    same export read better, not something the site showed and no longer does. Any other
    difference keeps the replaced turns as an earlier version.
    (its vault id, "created" | "updated" | "unchanged")"""
    digest = rec.import_mac(msgspec.json.encode([title, url, model, created_at, updated_at, turns, list(branches)]))
    key = rec.site_key(site, conversation_id)
    conv = conversations.find(tx, "site_key=?", (key,))
    if conv is not None and tx.one("SELECT import_mac FROM conversations WHERE cid=?", (conv.cid,))[0] == digest:
        return conv.id, "unchanged"
    outcome = "updated" if conv is not None else "created"
    now = now_iso()
    if conv is None:
        conv = conversations.find(tx, "cid=?", (_create(tx, rec, site, now, key, conversation_id, created_at),))
    upgrade = outcome == "updated" and bool(earlier) and _stored_as(tx, rec, conv, earlier)
    _, replaced = runs.store_turns(tx, rec, conv, 0, turns, len(turns), live=0)  # an export's turns are settled
    if replaced and not upgrade:  # what was captured or imported before and the export no longer has
        versions.keep(tx, rec, conv, replaced, dict(enumerate(turns)), len(turns), unfinished=None, stale=False, now=now)
    versions.drop(tx, rec, conv, "reason='imported'")
    for start, branch in branches:
        versions.add(tx, rec, conv, list(enumerate(branch, start)), "imported", None)
    versions.pack(tx, rec, conv)
    _set_fields(tx, rec, conv, title=title, url=url, model=model)
    tx.conn.execute(
        "UPDATE conversations SET turn_count=?, updated_at=?, created_at=COALESCE(?, created_at), import_mac=? WHERE cid=?",
        (len(turns), updated_at or now, created_at, digest, conv.cid),
    )
    return conv.id, outcome


def _stored_as(tx: Tx, rec: Records, conv: Conv, forms: Sequence[list[Turn]]) -> bool:
    """The stored thread says exactly what one of `forms` says."""
    stored = runs.read(tx, rec, conv.cid, 0, conv.turn_count)
    said = [content_key(stored[i]) if i in stored else None for i in range(conv.turn_count)]
    return any(said == [content_key(t) for t in form] for form in forms)
