"""One frame builder for every test: frames as the extension sends them.

`snapshot` and `signal` build protocol Structs (for the vault, the detector and
`ingest.Session` in-process); `encode` turns any frame into the JSON text a
WebSocket carries. Turns are given as (role, text) pairs, or (role, text, extras) with
extras the optional Turn fields (thinking, documents as dicts); their indexes follow
`turns_from`, and `turn_count` defaults to the length after applying them.
"""

from __future__ import annotations

from typing import Iterable

from draftvault import protocol

PAGE = "page-0001"
CONV = "c-1111"


def url_of(conv: str | None, site: str = "chatgpt") -> str:
    host = {"chatgpt": "chatgpt.com/c", "claude": "claude.ai/chat", "gemini": "gemini.google.com/app"}[site]
    return f"https://{host}/{conv}" if conv else f"https://{host.split('/')[0]}/"


def turns(pairs: Iterable[tuple], start: int = 0) -> list[protocol.Turn]:
    out = []
    for i, (role, text, *extras) in enumerate(pairs):
        fields = dict(extras[0]) if extras else {}
        fields["documents"] = [protocol.Document(**d) for d in fields.get("documents", [])]
        out.append(protocol.Turn(index=start + i, role=role, text=text, **fields))
    return out


def snapshot(seq: int, pairs: Iterable[tuple] = (), *, page: str = PAGE, conv: str | None = CONV,
             site: str = "chatgpt", turns_from: int = 0, turn_count: int | None = None, url: str | None = None,
             **fields) -> protocol.Snapshot:
    """A snapshot; `fields` are the optional ones (draft, title, model, streaming...)."""
    listed = turns(pairs, turns_from)
    return protocol.Snapshot(
        seq=seq, page_id=page, conversation_id=conv, site=site, url=url or url_of(conv, site),
        turn_count=turns_from + len(listed) if turn_count is None else turn_count,
        turns_from=turns_from, turns=listed, **fields,
    )


def signal(seq: int, kind: str, *, page: str = PAGE, conv: str | None = CONV, site: str = "chatgpt",
           url: str | None = None, **fields) -> protocol.Signal:
    """A page signal; `fields` are detail, status, captured_at."""
    return protocol.Signal(seq=seq, page_id=page, conversation_id=conv, site=site, url=url or url_of(conv, site),
                           kind=kind, **fields)


def attachment(seq: int, data: bytes | None, *, turn: int = 0, name: str = "image.png", mime: str = "image/png",
               key: str = "k1", size: int | None = None, page: str = PAGE, conv: str | None = CONV,
               site: str = "chatgpt", alt: str | None = None) -> list[protocol.Attachment]:
    """An image or file as the extension sends it: its parts, numbered from `seq` (one frame without
    bytes when `data` is None: recorded by name, type and `size` only); `alt`: an image's alt text."""
    common = dict(page_id=page, conversation_id=conv, site=site, url=url_of(conv, site), turn_index=turn, key=key,
                  name=name, mime=mime, alt=alt)
    if data is None:
        return [protocol.Attachment(seq=seq, size=size or 0, parts=0, **common)]
    step = protocol.ATTACHMENT_PART_BYTES
    chunks = [data[i : i + step] for i in range(0, len(data), step)] or [b""]
    return [protocol.Attachment(seq=seq + n, size=len(data), parts=len(chunks), part=n, data=chunk, **common)
            for n, chunk in enumerate(chunks)]


def hello(token: str, client_id: str, version: int = protocol.PROTOCOL_VERSION) -> protocol.Hello:
    return protocol.Hello(protocol=version, token=token, client_id=client_id)


def encode(frame: protocol.Frame) -> str:
    return protocol.encode(frame).decode()
