"""Search: the index's ranked texts mapped to conversations, filtered, with snippets.

The sealed index (index.py) ranks texts: runs of turns, drafts, branch turns and
titles (titles are indexed as blobs too, `conversations.title_bid`; the sealed `title`
field is what is shown). All query words must occur in one text; the best text ranks
its conversation. Search as you type: the last query word is a prefix (3+ characters)
when the query does not end in a space. Snippets come from the decrypted best hit of
each conversation (only that blob is decrypted; in a run, the turn that holds the
run's most specific query word most often, as the index says, so a hit inflates one
turn, not the run); recent hits' plaintext is kept in a small in-memory LRU
(HitCache, cleared on delete; nothing plaintext on disk).
"""

from __future__ import annotations

from typing import Literal

import msgspec

from .. import models
from ..crypto import Tampered
from . import branches
from .db import Tx
from .index import WORD, words
from .records import Records, Turn, blobs_by_id, searchable
from .snippets import best_turn, snippet

MAX_PREFIX_WORDS = 16  # each completion costs BM25 work on every hit: keep it to the likeliest (shortest)
HIT_CACHE_CHARS = 4_000_000


class BestText(msgspec.Struct):
    """A conversation's best matching text."""

    cid: int
    id: str
    site: str
    updated_at: str
    sealed_title: bytes | None
    kind: Literal["turns", "draft", "branch", "title"]
    first_turn: int | None  # for "turns": the index of the run's first turn; for "branch": the turn's
    bid: int
    branch: int | None = None  # for "branch": which earlier thread
    at: int = -1  # for "turns": the turn that holds the most specific query word most often (Ranked.turn; -1: not known)


class Found(msgspec.Struct):
    hits: list[BestText]  # best first
    exact: set[str]  # the query's whole words
    prefix: str | None  # its unfinished last word


class HitCache:
    """(hash, turn) -> (decrypted content, its characters) of recent search hits: a text or a whole
    run (turn None), or one turn's text of a run (memory only)."""

    def __init__(self, max_chars: int = HIT_CACHE_CHARS):
        self._hits: dict[tuple[bytes | None, int | None], tuple[list[Turn] | str, int]] = {}
        self._chars = 0
        self._max = max_chars

    def get(self, rec: Records, h: bytes | None, data: bytes | None, turn: int | None = None) -> list[Turn] | str:
        """A text or a run's turns; with `turn`, that turn's text of a run (only it is inflated: records.open_turn)."""
        entry = self._hits.pop((h, turn), None)
        if entry is None:
            content = rec.open_any(h, data) if turn is None else searchable(rec.open_turn(h, data, turn))
            entry = (content, len(content) if isinstance(content, str) else sum(len(t[1]) for t in content))
            self._chars += entry[1]
        self._hits[(h, turn)] = entry  # content-addressed: a hash always names the same content
        while self._chars > self._max and len(self._hits) > 1:
            self._chars -= self._hits.pop(next(iter(self._hits)))[1]
        return entry[0]

    def clear(self) -> None:
        self._hits.clear()
        self._chars = 0


def filters(site, since, until, status=None) -> tuple[str, dict]:
    """SQL (" AND ..." over conversations `c`) and its parameters for the list and search filters."""
    where, params = "", {}
    if site:
        where += " AND c.site = :site"
        params["site"] = site
    if since:
        where += " AND c.updated_at >= :since"
        params["since"] = since
    if until:
        # a prefix compare, so a date alone ("2026-11-23") includes that whole day
        where += " AND substr(c.updated_at, 1, length(:until)) <= :until"
        params["until"] = until
    if status == "failed":
        where += " AND EXISTS(SELECT 1 FROM failures f WHERE f.cid=c.cid AND f.resolved_at IS NULL)"
    elif status == "active":
        where += " AND NOT EXISTS(SELECT 1 FROM failures f WHERE f.cid=c.cid AND f.resolved_at IS NULL)"
    return where, params


def _match(tx: Tx, q: str) -> tuple[list[list[str]], set[str], str | None] | None:
    """The index query for `q` (groups of words, one of each must occur), the exact words, and the prefix."""
    ws = words(q)
    if not ws:
        return None
    prefix = None
    if len(ws[-1]) >= 3 and WORD.match(q[-1:] or " "):
        prefix = ws.pop()  # search as you type: the unfinished last word
    groups = [[w] for w in dict.fromkeys(ws)]
    if prefix is not None:
        completions = tx.index.complete(prefix, MAX_PREFIX_WORDS)
        groups.append(completions if prefix in completions else [prefix] + completions)
    return groups, set(ws), prefix


# Where a ranked text is used, one arm per kind of use (its number in _KINDS): the chunk's ids
# are materialized once and each arm looks them up in its table's index (a `bid IN (json_each)`
# per table cost ~2.5 times as much). Text columns come back as bytes: the connection's lenient
# text_factory is a Python call per value, and only the rows kept are decoded.
_KINDS: tuple[Literal["turns", "draft", "branch", "title"], ...] = ("turns", "draft", "branch", "title")
_REFS_SQL = "WITH hit(bid) AS MATERIALIZED (SELECT value FROM json_each(:bids))\n" + "\nUNION ALL ".join(
    "SELECT c.cid, CAST(c.id AS BLOB), CAST(c.site AS BLOB), CAST(c.updated_at AS BLOB), c.title, "
    f"{_KINDS.index(kind)}, {turn}, hit.bid, {branch} FROM hit {join} WHERE 1 {{where}}"
    for kind, turn, branch, join in (
        ("turns", "r.idx", "NULL", "JOIN turns r ON r.bid = hit.bid JOIN conversations c ON c.cid = r.cid"),
        ("draft", "NULL", "NULL", "JOIN drafts r ON r.bid = hit.bid JOIN conversations c ON c.cid = r.cid"),
        ("branch", "r.idx", "r.branch", "JOIN branch_turns r ON r.bid = hit.bid JOIN conversations c ON c.cid = r.cid"),
        ("title", "NULL", "NULL", "JOIN conversations c ON c.title_bid = hit.bid"),
    )
)


def best_texts(tx: Tx, q: str, *, site, since, until, status, limit: int) -> Found | None:
    """The best text per conversation, best first, for the `limit` best conversations (None: no words).

    The index ranks the matching texts; they are mapped to their conversations (and
    filtered) in rank order, a growing chunk at a time, until enough conversations
    have their best text. Deleted texts still in a segment map to nothing.
    """
    m = _match(tx, q)
    if m is None:
        return None
    groups, exact, prefix = m
    ranked = tx.index.search(groups)
    where, params = filters(site, since, until, status)
    best: dict[int, BestText] = {}
    start, step = 0, 2 * limit
    while start < len(ranked) and len(best) < limit:
        chunk = [bid for _, bid in ranked.best(start + step)[start:]]
        order = {bid: n for n, bid in enumerate(chunk)}
        start, step = start + step, step * 8
        rows = tx.q(_REFS_SQL.format(where=where), {"bids": msgspec.json.encode(chunk).decode(), **params})
        # best first; a text used twice in one conversation: the first kind, then the first turn wins
        rows.sort(key=lambda r: (order[r[7]], r[0], r[5], r[8] or 0, r[6] or 0))
        for cid, *texts, title, kind, turn, bid, branch in rows:
            if cid not in best:
                id, site, updated_at = (t.decode("utf-8", "replace") for t in texts)
                best[cid] = BestText(cid, id, site, updated_at, title, _KINDS[kind], turn, bid, branch)
    found = list(best.values())[:limit]
    for b in found:
        if b.kind == "turns":  # only a run's hit opens at a turn: looked up for the hits kept only
            b.at = ranked.turn(b.bid)
    return Found(found, exact, prefix)


def hits(tx: Tx, rec: Records, cache: HitCache, q: str, *, site, since, until, status, limit: int) -> list[models.SearchHit]:
    """The API's search hits: each conversation's best text, with a snippet of its best turn."""
    found = best_texts(tx, q, site=site, since=since, until=until, status=status, limit=limit)
    if found is None:
        return []
    blobs = {bid: (h, data) for bid, h, data in blobs_by_id(tx, [b.bid for b in found.hits])} if found.hits else {}
    out = []
    for best in found.hits:
        title = rec.field_or_none(best.id, "title", best.sealed_title)
        turn, branch = best.first_turn, best.branch
        h, data = blobs.get(best.bid, (None, None))
        try:
            if best.kind == "turns":  # a run: one of its turns
                k, text = _best_in_run(cache, rec, h, data, best.at, found)
            elif best.kind == "branch":
                content = cache.get(rec, h, data)
                k, text = _best_of(content, found)
                if not isinstance(content, str):  # a pack of kept versions (versions.py): the branch turn that is item k
                    branch, turn = branches.locate(tx, best.cid, best.bid, k) or (branch, turn)
                k = 0
            else:
                k, text = (0, title or "") if best.kind == "title" else _best_of(cache.get(rec, h, data), found)
            snip, marks = snippet(text, found.exact, found.prefix)
            if best.kind == "turns" and not marks:  # a turn past what the index can name (MAX_TF)
                k, text = _best_of(cache.get(rec, h, data), found)
                snip, marks = snippet(text, found.exact, found.prefix)
            turn = None if turn is None else turn + k
        except Tampered:
            snip, marks = snippet("", found.exact, found.prefix)
        out.append(
            models.SearchHit(
                conversation=best.id,
                title=title,
                snippet=snip,
                marks=marks,
                site=best.site,
                turn=turn if best.kind in ("turns", "branch") else None,
                updated_at=best.updated_at,
                branch=None if branch is None else str(branch),
            )
        )
    return out


def _best_in_run(cache: HitCache, rec: Records, h: bytes | None, data: bytes | None, at: int,
                 found: Found) -> tuple[int, str]:
    """(position, text) of the run's turn that holds its most specific query word most often (the
    index names it: only that turn is inflated); without that, the turn that holds the most query words."""
    if at < 0:  # an index row written before the index kept turns
        return _best_of(cache.get(rec, h, data), found)
    return at, cache.get(rec, h, data, at)


def _best_of(content: list[Turn] | str, found: Found) -> tuple[int, str]:
    """(position, text) of a text, or of a run's turn that holds the most query words."""
    if isinstance(content, str):
        return 0, content
    texts = [searchable(t) for t in content]
    k = best_turn(texts, found.exact, found.prefix)
    return k, texts[k]
