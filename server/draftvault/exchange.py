"""Exports that other tools import: ChatGPT's `conversations.json` and Open WebUI's chat JSON.

Both formats hold a conversation as a tree of messages. The current thread and every
branch (`ConversationDetail.branches`, each from where it leaves the current thread)
become one tree: turns the threads share are one node; the last turn of every thread is
a node of its own, so every thread ends in its own leaf even when it is a prefix of
another, and a re-import finds each one again (DraftVault's ChatGPT import takes the
path to `current_node` as the current thread and the path to every other leaf as a
branch). Node ids are UUIDs derived from the conversation id and the node's place, so
the same vault exports the same ids. Files are JSON arrays written one conversation at
a time: memory stays flat however large the vault.

In ChatGPT's shape a turn's thinking and documents come before its message, as ChatGPT
writes them: a `thoughts` message, then for each document a `canmore.create_textdoc` call
holding it whole (importers/canvas.py reads them back; a code language outside
[a-z0-9+#-]{1,32}, as ChatGPT's canvas types have them, comes back without a language).
Open WebUI's format has no place for them: its messages carry the text only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, Callable, Literal

import msgspec

from . import export, models
from .importers.canvas import CREATE, canvas_type
from .importers.chatgpt import RENDERED_MARK
from .protocol import Document

Format = Literal["chatgpt", "openwebui"]
_NAMESPACE = uuid.UUID("8d0f5a8e-5d1b-4f7e-9a51-0c6c3c1f2a77")  # DraftVault's, for uuid5 node ids


@dataclass
class Node:
    id: str
    parent: str | None
    role: str
    text: str
    thinking: str | None = None
    documents: tuple[Document, ...] = ()
    children: list[str] = field(default_factory=list)


Said = tuple[str, str, str | None, tuple[Document, ...]]  # a turn's role, text, thinking, documents


def _uuid(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


def _said(t: models.TurnOut) -> Said:
    return (t.role, t.text, t.thinking, tuple(t.documents))


def tree(detail: models.ConversationDetail) -> tuple[Node, list[Node], str]:
    """(root, the message nodes in creation order, the current thread's last node id).

    The root carries no message (ChatGPT's exports have one too)."""
    threads = [[_said(t) for t in detail.turns]]
    current = threads[0]
    for b in detail.branches:
        threads.append(current[: b.from_index] + [_said(t) for t in b.turns])
    root = Node(_uuid(f"{detail.id}/root"), None, "system", "")
    nodes: list[Node] = []
    shared: dict[tuple[str, Said], Node] = {}  # (parent id, what the turn says) -> a thread's inner node
    leaf = root.id
    for n, thread in enumerate(threads):
        at = root
        for i, said in enumerate(thread):
            last = i == len(thread) - 1
            key = (at.id, said)
            if not last and key in shared:
                at = shared[key]
                continue
            node = Node(_uuid(f"{detail.id}/{len(nodes)}"), at.id, *said)
            at.children.append(node.id)
            nodes.append(node)
            if not last:
                shared[key] = node
            at = node
        if n == 0:
            leaf = at.id
    return root, nodes, leaf


def _epoch(iso: str | None) -> float | None:
    return datetime.fromisoformat(iso).timestamp() if iso else None


def chatgpt_conversation(detail: models.ConversationDetail) -> dict:
    """One conversation in the shape of ChatGPT's data export."""
    root, nodes, leaf = tree(detail)
    site_id = detail.conversation_id or detail.id

    def message(id: str, role: str, content: dict, recipient: str = "all") -> dict:
        return {
            "id": id, "author": {"role": role, "name": None, "metadata": {}},
            "create_time": None, "update_time": None, "content": content,
            "status": "finished_successfully", "end_turn": True if role == "assistant" and recipient == "all" else None,
            "weight": 1.0, "recipient": recipient,
            # LibreChat reads the model per message; DraftVault keeps one per conversation.
            "metadata": {RENDERED_MARK: True, **({"model_slug": detail.model} if role == "assistant" and detail.model else {})},
        }

    def before(node: Node) -> list[dict]:
        """The messages ChatGPT writes before a turn's own: its reasoning, then its canvas calls."""
        out = []
        if node.thinking:
            out.append(message(_uuid(f"{node.id}/thoughts"), "assistant", {"content_type": "thoughts", "thoughts": [
                {"summary": "", "content": node.thinking, "chunks": [], "finished": True}]}))
        for i, doc in enumerate(node.documents):
            call = {"name": doc.title, "type": canvas_type(doc), "content": doc.text}
            out.append(message(_uuid(f"{node.id}/canvas/{i}"), "assistant", {
                "content_type": "code", "language": "json", "text": msgspec.json.encode(call).decode()}, CREATE))
        return out

    mapping = {root.id: {"id": root.id, "message": None, "parent": None, "children": root.children}}
    for node in nodes:
        parent = node.parent
        for m in before(node):  # a chain in the turn's place under its parent, the turn at its end
            siblings = mapping[parent]["children"]
            siblings[siblings.index(node.id)] = m["id"]
            mapping[m["id"]] = {"id": m["id"], "message": m, "parent": parent, "children": [node.id]}
            parent = m["id"]
        mapping[node.id] = {"id": node.id, "message": message(node.id, node.role, {"content_type": "text", "parts": [node.text]}),
                            "parent": parent, "children": node.children}
    return {
        "title": detail.title, "create_time": _epoch(detail.created_at), "update_time": _epoch(detail.updated_at),
        "mapping": mapping, "moderation_results": [], "current_node": leaf,
        "plugin_ids": None, "conversation_id": site_id, "conversation_template_id": None, "gizmo_id": None,
        "is_archived": False, "safe_urls": [], "default_model_slug": detail.model, "id": site_id,
    }


def openwebui_chat(detail: models.ConversationDetail) -> dict:
    """One conversation as Open WebUI's chat export (Settings > Chats > Export) writes it."""
    root, nodes, leaf = tree(detail)
    model = detail.model or detail.site
    updated = int(_epoch(detail.updated_at) or 0)
    created = int(_epoch(detail.created_at) or updated)
    by_id = {node.id: node for node in nodes}

    def message(node: Node) -> dict:
        out = {
            "id": node.id, "parentId": None if node.parent == root.id else node.parent,
            "childrenIds": node.children, "role": node.role, "content": node.text, "timestamp": created,
        }
        if node.role == "assistant":
            out.update(model=model, modelName=model, done=True)
        else:
            out["models"] = [model]
        return out

    history = {node.id: message(node) for node in nodes}
    thread, at = [], by_id.get(leaf)
    while at is not None:
        thread.append(history[at.id])
        at = by_id.get(at.parent)
    chat = {
        "id": detail.id, "title": detail.title or "Untitled conversation", "models": [model], "params": {},
        "history": {"messages": history, "currentId": leaf if leaf in by_id else None},
        "messages": thread[::-1], "tags": [], "timestamp": created * 1000, "files": [],
    }
    return {
        "id": detail.id, "user_id": "", "title": chat["title"], "chat": chat, "updated_at": updated,
        "created_at": created, "share_id": None, "archived": False, "pinned": False, "meta": {"tags": []},
        "folder_id": None,
    }


_RENDER: dict[str, Callable[[models.ConversationDetail], dict]] = {
    "chatgpt": chatgpt_conversation, "openwebui": openwebui_chat,
}


def write(vault, ids: list[str] | None, fmt: Format, out: BinaryIO, progress: models.Progress | None = None) -> int:
    """Writes the conversations (all when `ids` is None) as one JSON array; returns how many."""
    render = _RENDER[fmt]
    ids = export.all_ids(vault) if ids is None else ids
    written = 0
    out.write(b"[")
    for done, id in enumerate(ids, 1):
        detail = vault.get_conversation(id)
        if detail is not None:
            out.write((b",\n" if written else b"\n") + msgspec.json.encode(render(detail)))
            written += 1
        if progress:
            progress(done, len(ids))
    out.write(b"\n]\n")
    return written
