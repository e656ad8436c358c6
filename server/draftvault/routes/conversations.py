"""/api/conversations: list, read, delete, resume packs and single-conversation exports."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, delete, get
from litestar.params import FromPath, FromQuery, QueryParameter

from .. import export, models, protocol, resume
from .base import errors, found, vault_of

MARKDOWN = "text/markdown"  # litestar adds charset=utf-8 to text/*
JSON = "application/json"


@get("/conversations", sync_to_thread=True, responses=errors(401))
def list_conversations(
    request: Request,
    page_id: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    site: FromQuery[protocol.Site | None] = None,
    status: FromQuery[models.ConversationStatus | None] = None,
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
    limit: FromQuery[int] = 100,
    offset: Annotated[int, QueryParameter(ge=0, le=2**53)] = 0,
) -> models.ConversationList:
    """`?page_id=` finds the conversation of one open tab (the extension's shortcut)."""
    items = vault_of(request).list_conversations(
        q=q, site=site, status=status, since=since, until=until, limit=max(1, min(limit, 1000)), offset=offset,
        page_id=page_id,
    )
    return models.ConversationList(items=items)


@get("/conversations/{id:str}", sync_to_thread=True, responses=errors(401, 404))
def get_conversation(request: Request, id: FromPath[str]) -> models.ConversationDetail:
    return found(vault_of(request).get_conversation(id))


@delete("/conversations/{id:str}", sync_to_thread=True, responses=errors(401, 404))
def delete_conversation(request: Request, id: FromPath[str]) -> None:
    found(vault_of(request).delete_conversation(id) or None)


@delete("/conversations/{id:str}/branches/{branch:str}", sync_to_thread=True, responses=errors(401, 404))
def delete_branch(request: Request, id: FromPath[str], branch: FromPath[str]) -> None:
    """One earlier thread (a version or an imported branch), deleted by a person (the page asks first)."""
    found(vault_of(request).delete_branch(id, branch) or None)


@get("/conversations/{id:str}/resume", sync_to_thread=True, responses=errors(401, 404))
def resume_pack(
    request: Request,
    id: FromPath[str],
    target: FromQuery[models.ResumeTarget] = "chatgpt",
    replaced: FromQuery[bool] = False,
    thinking: FromQuery[bool] = False,
) -> models.ResumePack:
    """`?replaced=true` adds the answer the last answer replaced (when there is one), labelled;
    `?thinking=true` keeps the turns' thinking (left out by default)."""
    return resume.build_pack(found(vault_of(request).get_conversation(id)), target, replaced=replaced, thinking=thinking)


def _attachment(detail: models.ConversationDetail, suffix: str, body: bytes, media_type: str) -> Response[bytes]:
    name = f"{export.file_stem(detail.title, detail.id)}.{suffix}"
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@get("/conversations/{id:str}/export.md", sync_to_thread=True, media_type=MARKDOWN, responses=errors(401, 404))
def export_markdown(request: Request, id: FromPath[str]) -> Response[bytes]:
    detail = found(vault_of(request).get_conversation(id))
    return _attachment(detail, "md", export.conversation_markdown(detail).encode(), MARKDOWN)


@get("/conversations/{id:str}/export.json", sync_to_thread=True, media_type=JSON, responses=errors(401, 404))
def export_json(request: Request, id: FromPath[str]) -> Response[bytes]:
    detail = found(vault_of(request).get_conversation(id))
    return _attachment(detail, "json", export.conversation_json(detail), JSON)


HANDLERS = [list_conversations, get_conversation, delete_conversation, delete_branch, resume_pack, export_markdown, export_json]
