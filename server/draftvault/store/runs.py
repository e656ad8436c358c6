"""The turn-run layout: a conversation's turns as rows of `turns` (`idx`, `n`), each row a
run of consecutive turns sealed as one blob (msgpack of [role, text] pairs).

Settled turns (all but the last LIVE_TURNS, which may still stream or be edited) are
sealed together, up to RUN_BYTES of text a run: zlib then sees the conversation's
repetitions and a run costs one row and one seal instead of one per turn, which is
most of what keeps the vault near the compressed size of its content. The live turns
are one per row, so a streaming answer rewrites only itself; once the settled rows
after the last full run (one of PACK_TURNS turns or PACK_BYTES sealed) reach that much
together, they are sealed into one run. A snapshot rewrites only the rows whose turns
changed (a row is compared by the keyed hash of its turns, without decrypting). The
price: a damaged run loses its turns together, and search matches a run.
"""

from __future__ import annotations

from typing import Sequence

from ..crypto import Tampered
from .conversations import Conv
from .db import Tx
from .records import Records, Turn, encode_run, put_blob

RUN_BYTES = 128 * 1024  # text in a run: zlib sees the conversation's repetitions; a search hit decrypts one
RUN_TURNS = 256
LIVE_TURNS = 2  # the question and the answer being written may still change
PACK_BYTES = 12 * 1024  # a run this big sealed (or of PACK_TURNS) is full: the settled rows after it wait for as much
PACK_TURNS = 32

Row = tuple[int, list[Turn]]  # (first index, turns) of a row to write
Replaced = tuple[Turn, int | None]  # a replaced turn, and its row's blob if the row held it alone


def store_turns(
    tx: Tx,
    rec: Records,
    conv: Conv,
    start: int,
    incoming: Sequence[Turn | None],
    count: int,
    live: int = LIVE_TURNS,
) -> tuple[bool, dict[int, Replaced]]:
    """Stores turns `start`.. (None: unknown, left out) and drops those from `count` on.

    Only rows whose turns change are rewritten: a row inside `incoming` is compared by
    the keyed hash of its turns, one that straddles it is opened and spliced. The
    rewritten turns are laid out again (group), then settled one-turn rows are
    packed when there are enough of them. Returns whether anything changed, and the
    stored turns that were replaced or dropped, by index, each with its row's blob when
    the row held only that turn (a version can keep that blob: nothing sealed or indexed
    again). Only rewritten rows are opened.
    """
    end = start + len(incoming)
    rows = tx.q(
        "SELECT t.idx, t.n, t.bid, b.hash, b.data FROM turns t LEFT JOIN blobs b USING (bid) "
        "WHERE t.cid=? AND t.idx + t.n > ? ORDER BY t.idx",
        (conv.cid, min(start, count)),
    )
    pending: dict[int, Turn | None] = {}
    replaced: dict[int, Replaced] = {}
    covered: set[int] = set()
    for idx, n, bid, h, data in rows:
        covered.update(range(idx, idx + n))
        stop = min(idx + n, count)
        if idx >= end and idx + n <= count:
            continue  # after the incoming turns, and kept
        old = None
        if start <= idx and idx + n <= min(end, count):
            new = incoming[idx - start : idx + n - start]
            if None not in new and rec.run_hash(encode_run(new)) == h:
                continue
        else:
            old = _open_or_unknown(rec, h, data, n)
            new = [incoming[i - start] if start <= i < end else old[i - idx] for i in range(idx, stop)]
            if stop == idx + n and new == old:
                continue
        for k, was in enumerate(old or _open_or_unknown(rec, h, data, n)):
            if was is not None and (k >= len(new) or new[k] != was):
                replaced[idx + k] = (was, bid if n == 1 else None)
        pending.update(zip(range(idx, stop), new))
        tx.conn.execute("DELETE FROM turns WHERE cid=? AND idx=?", (conv.cid, idx))
        tx.freed.add(bid)
    pending.update((i, incoming[i - start]) for i in range(start, min(end, count)) if i not in covered)
    settled = count - live
    write_runs(tx, rec, conv, group(sorted((i, t) for i, t in pending.items() if t is not None), settled))
    packed = _pack_settled(tx, rec, conv, settled)
    return bool(pending) or packed, replaced


def _open_or_unknown(rec: Records, h: bytes | None, data: bytes | None, n: int) -> list[Turn | None]:
    """A row's turns; unknown (None) when it cannot be read (verify reports it)."""
    try:
        return [tuple(t) for t in rec.open_run(h, data)]
    except Tampered:
        return [None] * n


def read(tx: Tx, rec: Records, cid: int, start: int, stop: int) -> dict[int, Turn]:
    """The stored turns start..stop-1 that can be read, by index (opens the rows that hold them)."""
    out: dict[int, Turn] = {}
    for idx, n, h, data in tx.q(
        "SELECT t.idx, t.n, b.hash, b.data FROM turns t LEFT JOIN blobs b USING (bid) "
        "WHERE t.cid=? AND t.idx + t.n > ? AND t.idx < ? ORDER BY t.idx",
        (cid, start, stop),
    ):
        out.update((idx + k, t) for k, t in enumerate(_open_or_unknown(rec, h, data, n)) if t is not None and start <= idx + k < stop)
    return out


def group(turns: list[tuple[int, Turn]], settled: int) -> list[Row]:
    """(first index, turns) of each row for these (index, turn) pairs, ascending: consecutive
    turns before `settled` share a run of up to RUN_BYTES of text or RUN_TURNS; the others are one a row."""
    groups: list[Row] = []
    size = 0
    for i, turn in turns:
        if groups:
            first, run = groups[-1]
            if i == first + len(run) and i < settled and size < RUN_BYTES and len(run) < RUN_TURNS:
                run.append(turn)
                size += len(turn[1])
                continue
        groups.append((i, [turn]))
        size = len(turn[1])
    return groups


def write_runs(tx: Tx, rec: Records, conv: Conv, groups: list[Row]) -> None:
    """Writes the rows `group` laid out."""
    for idx, turns in groups:
        payload = encode_run(turns)
        h = rec.run_hash(payload)
        bid = put_blob(tx, rec, payload, h, run=True)
        tx.conn.execute(
            "INSERT INTO turns VALUES (?,?,?,?,?)", (conv.cid, idx, len(turns), bid, rec.run_tag(conv.id, idx, len(turns), h))
        )


def _pack_settled(tx: Tx, rec: Records, conv: Conv, settled: int) -> bool:
    """Packs the settled rows after the last full run (PACK_TURNS turns or PACK_BYTES sealed)
    into runs, once together they are that much."""
    rows = tx.q(
        "SELECT t.idx, t.n, t.bid, b.hash, b.data FROM turns t LEFT JOIN blobs b USING (bid) "
        "WHERE t.cid=:c AND t.idx + t.n <= :settled AND t.idx >= ("
        "  SELECT COALESCE(MAX(f.idx + f.n), 0) FROM turns f JOIN blobs fb USING (bid)"
        "  WHERE f.cid=:c AND (f.n >= :turns OR length(fb.data) >= :bytes)"
        ") ORDER BY t.idx",
        {"c": conv.cid, "settled": settled, "turns": PACK_TURNS, "bytes": PACK_BYTES},
    )
    if len(rows) < 2 or (sum(r[1] for r in rows) < PACK_TURNS and sum(len(r[4] or b"") for r in rows) < PACK_BYTES):
        return False
    turns, readable = [], []
    for row in rows:
        try:
            turns += [(row[0] + k, t) for k, t in enumerate(rec.open_run(row[3], row[4]))]
            readable.append(row)
        except Tampered:
            continue  # left as it is, for verify to report
    groups = group(turns, settled)
    if [(first, len(run)) for first, run in groups] == [(idx, n) for idx, n, *_ in readable]:
        return False  # as packed as they get (e.g. runs of huge, very compressible turns)
    for idx, _, bid, _, _ in readable:
        tx.conn.execute("DELETE FROM turns WHERE cid=? AND idx=?", (conv.cid, idx))
        tx.freed.add(bid)
    write_runs(tx, rec, conv, groups)
    return True


def move_turns(tx: Tx, rec: Records, src: Conv, dst: Conv) -> None:
    """Gives `dst` the turns of `src` (a new chat's page joining its site conversation): the rows
    keep their blobs and get `dst`'s tags; `dst`'s own turns are freed."""
    tx.freed.update(r[0] for r in tx.q("SELECT bid FROM turns WHERE cid=?", (dst.cid,)))
    tx.conn.execute("DELETE FROM turns WHERE cid=?", (dst.cid,))
    rows = tx.q("SELECT t.idx, t.n, t.bid, b.hash FROM turns t LEFT JOIN blobs b USING (bid) WHERE t.cid=?", (src.cid,))
    tx.conn.executemany(
        "INSERT INTO turns VALUES (?,?,?,?,?)",
        [(dst.cid, idx, n, bid, rec.run_tag(dst.id, idx, n, h or b"")) for idx, n, bid, h in rows],
    )
