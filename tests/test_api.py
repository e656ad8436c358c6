"""The HTTP API's shapes (DESIGN.md contract) and the no-plaintext-on-disk promise,
against a real `draftvault serve` fed over its WebSocket."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from datetime import datetime
from pathlib import Path

import frames
from draftvault import config, protocol
from frames import encode, signal, snapshot
from sitepages.base import REAL_FIXTURES

REAL = REAL_FIXTURES / "chatgpt-export"
CANARY = "The quokka canary sings 7341 zebra-striped lullabies at midnight"
DRAFT_CANARY = "Unsent: the axolotl canary hums 9052 violet sonatas"


def feed(server, pages: list[dict], client_id: str = "client-api-1") -> None:
    """Sends one snapshot per entry of `pages` (keyword arguments of frames.snapshot), each acked."""
    with server.connect(client_id) as (ws, welcome):
        for seq, fields in enumerate(pages, start=welcome.last_seq + 1):
            ws.send(frames.encode(frames.snapshot(seq, **fields)))
            got = protocol.decode_server_frame(ws.recv(timeout=10))
            assert got == protocol.Ack(seq=seq), got


def send_signal(server, kind: str, **fields) -> None:
    with server.connect("client-api-1") as (ws, welcome):
        ws.send(frames.encode(frames.signal(welcome.last_seq + 1, kind, **fields)))
        ws.recv(timeout=10)


def page(conv: str | None, turns, *, page_id: str, site="chatgpt", draft=None, title=None) -> dict:
    return dict(pairs=turns, page=page_id, conv=conv, site=site, url=f"https://example.test/{conv or page_id}",
                draft=draft, title=title)


def seed(server) -> dict[str, str]:
    feed(server, [
        page("c-alpha", [("user", "How do I sort a list in Python?"), ("assistant", "Use `sorted(xs)`.")],
             page_id="page-alpha-01", title="Sorting", draft="and in reverse?"),
        page("c-beta", [("user", "Bonjour"), ("assistant", "Salut !")], page_id="page-beta-001", site="claude",
             title="French"),
    ])
    return {c["title"]: c["id"] for c in server.api("GET", "/api/conversations")["items"]}


SUMMARY_KEYS = {"id", "site", "conversation_id", "title", "url", "status", "turn_count", "updated_at"}


def test_conversation_list_and_detail_shapes(server):
    ids = seed(server)
    items = server.api("GET", "/api/conversations")["items"]
    assert all(set(item) == SUMMARY_KEYS for item in items)
    sorting = next(i for i in items if i["title"] == "Sorting")
    assert (sorting["site"], sorting["conversation_id"], sorting["status"], sorting["turn_count"]) == \
        ("chatgpt", "c-alpha", "active", 2)

    detail = server.api("GET", f"/api/conversations/{ids['Sorting']}")
    assert SUMMARY_KEYS <= set(detail)
    seen = [t.pop("first_seen") for t in detail["turns"]]
    assert detail["turns"] == [
        {"index": 0, "role": "user", "text": "How do I sort a list in Python?"},
        {"index": 1, "role": "assistant", "text": "Use `sorted(xs)`."},
    ]
    assert all(datetime.fromisoformat(s) <= datetime.fromisoformat(detail["updated_at"]) for s in seen)
    assert set(detail["draft"]) == {"text", "updated_at"} and detail["draft"]["text"] == "and in reverse?"
    assert server.api("GET", f"/api/conversations/{ids['French']}")["draft"] is None

    assert [i["title"] for i in server.api("GET", "/api/conversations", params={"site": "claude"})["items"]] == ["French"]
    assert server.api("GET", "/api/conversations", params={"status": "failed"})["items"] == []
    assert [i["title"] for i in server.api("GET", "/api/conversations", params={"q": "bonjour"})["items"]] == ["French"]
    by_page = server.api("GET", "/api/conversations", params={"page_id": "page-alpha-01"})["items"]
    assert by_page == [sorting]
    assert server.api("GET", "/api/conversations", params={"page_id": "page-unknown-1"})["items"] == []
    assert server.request("GET", "/api/conversations/nope").status == 404
    assert server.request("GET", "/api/conversations", params={"site": "myspace"}).status == 400


def test_search(server):
    ids = seed(server)
    hits = server.api("GET", "/api/search", params={"q": "sort python"})["items"]
    assert hits[0]["conversation"] == ids["Sorting"] and hits[0]["title"] == "Sorting"
    assert "sort" in hits[0]["snippet"].lower()
    assert server.api("GET", "/api/search", params={"q": "sort", "site": "claude"})["items"] == []
    assert server.request("GET", "/api/search").status == 400


def test_resume_and_exports(server):
    ids = seed(server)
    pack = server.api("GET", f"/api/conversations/{ids['Sorting']}/resume", params={"target": "claude"})
    assert set(pack) == {"target", "text", "chars", "omitted_turns"} and pack["target"] == "claude"
    assert "and in reverse?" in pack["text"] and pack["chars"] == len(pack["text"])
    assert server.request("GET", f"/api/conversations/{ids['Sorting']}/resume", params={"target": "altavista"}).status == 400
    assert server.request("GET", "/api/conversations/nope/resume").status == 404

    res = server.request("GET", f"/api/conversations/{ids['Sorting']}/export.md")
    assert res.status == 200 and res.headers["Content-Type"].startswith("text/markdown")
    assert res.headers["Content-Disposition"].startswith("attachment; filename=") and ".md" in res.headers["Content-Disposition"]
    assert "How do I sort a list in Python?" in res.body.decode()
    exported = server.api("GET", f"/api/conversations/{ids['French']}/export.json")
    assert "Bonjour" in json.dumps(exported)

    res = server.request("POST", "/api/export", json={"format": "md"})
    assert res.status == 200 and res.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(res.body)) as zf:
        assert len(zf.namelist()) == 2
    res = server.request("POST", "/api/export", json={"ids": [ids["French"]], "format": "json"})
    with zipfile.ZipFile(io.BytesIO(res.body)) as zf:
        assert [n.endswith(".json") for n in zf.namelist()] == [True]


def test_delete(server):
    ids = seed(server)
    assert server.request("DELETE", f"/api/conversations/{ids['French']}").status == 204
    assert server.request("GET", f"/api/conversations/{ids['French']}").status == 404
    assert server.request("DELETE", f"/api/conversations/{ids['French']}").status == 404
    assert [i["title"] for i in server.api("GET", "/api/conversations")["items"]] == ["Sorting"]


def test_failures_list_and_resolve(server):
    seed(server)
    send_signal(server, "http_error", page="page-alpha-01", conv="c-alpha", site="chatgpt", status=502)
    (failure,) = server.api("GET", "/api/failures")["items"]
    assert {"id", "conversation", "kind", "detected_at", "resolved"} <= set(failure)
    assert (failure["kind"], failure["resolved"]) == ("http_error", False)
    assert [i["title"] for i in server.api("GET", "/api/conversations", params={"status": "failed"})["items"]] == ["Sorting"]

    done = server.api("POST", f"/api/failures/{failure['id']}/resolve", json={"resolution": "dismissed"})
    assert (done["resolved"], done["resolution"]) == (True, "dismissed")
    assert server.api("GET", "/api/failures", params={"resolved": "false"})["items"] == []
    assert server.request("POST", "/api/failures/nope/resolve", json={"resolution": "dismissed"}).status == 404
    assert server.request("POST", f"/api/failures/{failure['id']}/resolve", json={"resolution": "x"}).status == 400


def test_import_upload(server):
    """The file is the body; its kind is found from its content, or named."""
    res = server.request("POST", "/api/import", params={"name": "chatgpt-tree.json"},
                         data=(REAL / "chatgpt-tree.json").read_bytes())
    assert res.status == 200, res.body
    assert res.json()["created"] == 1
    claude = REAL.parent / "claude-export" / "artifacts.json"
    res = server.request("POST", "/api/import", params={"name": "conversations.json", "kind": "claude-export"},
                         data=claude.read_bytes())
    assert (res.status, res.json()["created"]) == (200, 1), res.body
    assert res.json()["notes"] == ["10 thinking blocks kept apart from the answers' text"]
    again = server.api("POST", "/api/import", params={"name": "conversations.json"}, data=claude.read_bytes())
    assert (again["created"], again["unchanged"]) == (0, 1)
    takeout = b'[{"header": "Gemini Apps", "title": "Prompted hi", "time": "2025-01-01T00:00:00Z"}]'
    assert server.api("POST", "/api/import", params={"name": "My Activity.json"}, data=takeout)["created"] == 1
    page = ('<html><body><div class="outer-cell"><div class="header-cell">Gemini Apps</div><div class="content-cell">'
            'Prompted hello<br>Jan 2, 2025, 9:00:00 AM UTC<br><p>Hi.</p></div></div></body></html>').encode()
    assert server.api("POST", "/api/import", params={"name": "My Activity.html"}, data=page)["created"] == 1

    res = server.request("POST", "/api/import", params={"name": "conversations.json"}, data=b'{"not": "an export"}')
    assert res.status == 400 and res.json()["detail"].startswith("conversations.json: byte 0: expected a JSON array")
    res = server.request("POST", "/api/import", params={"name": "x.json"}, data=b'[{"a": nope}]')
    assert res.status == 400 and res.json()["detail"].startswith("x.json: conversation 0 (byte 1): JSON is malformed")
    res = server.request("POST", "/api/import", params={"kind": "bard"}, data=b"[]")
    assert res.status == 400
    body, boundary = multipart("file", "chatgpt-tree.json", (REAL / "chatgpt-tree.json").read_bytes())
    res = server.request("POST", "/api/import", data=body,
                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert res.status == 415 and "as the request body" in res.json()["detail"]
    assert len(server.api("GET", "/api/conversations")["items"]) == 4
    assert not [p for p in server.home.iterdir() if p.name.startswith(".import-")]


def multipart(field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "dvboundary7MA4YWxkTrZu0gW"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def test_tampered_record_is_reported_and_the_rest_stays_readable(server):
    ids = seed(server)
    with sqlite3.connect(config.db_path(server.home)) as db:
        (bid,) = db.execute(
            "SELECT t.bid FROM turns t JOIN conversations c USING (cid) WHERE c.id=? AND t.idx=1", (ids["Sorting"],)
        ).fetchone()
        db.execute("UPDATE blobs SET data = substr(data, 1, length(data) - 1) || x'00' WHERE bid=?", (bid,))
    detail = server.api("GET", f"/api/conversations/{ids['Sorting']}")
    assert any("turn 1" in c for c in detail["corrupt"])
    assert detail["turns"][0]["text"] == "How do I sort a list in Python?"
    assert server.api("GET", f"/api/conversations/{ids['French']}")["corrupt"] == []
    assert server.api("GET", "/api/search", params={"q": "bonjour"})["items"]


def files_holding(home: Path, needle: bytes, extra: list[Path] = ()) -> list[str]:
    return [str(p) for p in [*home.rglob("*"), *extra] if p.is_file() and needle in p.read_bytes()]


def test_canary_is_found_through_the_api_and_is_nowhere_on_disk(server):
    feed(server, [
        page("c-canary", [("user", "Remember this for me."), ("assistant", CANARY)], page_id="page-canary-1",
             draft=DRAFT_CANARY, title="Canary title 4417"),
    ])
    (hit,) = server.api("GET", "/api/search", params={"q": "quokka lullabies"})["items"]
    detail = server.api("GET", f"/api/conversations/{hit['conversation']}")
    assert detail["turns"][1]["text"] == CANARY and detail["draft"]["text"] == DRAFT_CANARY
    assert server.api("GET", "/api/search", params={"q": "axolotl sonatas"})["items"][0]["conversation"] == detail["id"]

    needles = [CANARY, DRAFT_CANARY, "quokka", "axolotl", "Canary title 4417", "c-canary", "https://example.test/c-canary"]
    log = server.log_path
    for needle in needles:
        assert files_holding(server.home, needle.encode(), [log]) == [], needle
    server.stop()  # closing checkpoints the WAL into the database file
    for needle in needles:
        assert files_holding(server.home, needle.encode(), [log]) == [], needle


def test_capture_health_names_a_degraded_site_until_it_reads_again(server):
    assert server.api("GET", "/api/capture-health") == {"degraded": []}
    broken = "https://claude.ai/chat/c-gamma"
    with server.connect("client-api-1") as (ws, welcome):
        seq = welcome.last_seq
        ws.send(encode(signal(seq + 1, "adapter_broken", page="page-gamma-01", conv="c-gamma", site="claude",
                              url=broken, detail="no turns found on /chat/c-gamma")))
        ws.recv(timeout=10)
        (first,) = server.api("GET", "/api/capture-health")["degraded"]
        assert (first["site"], first["host"], first["detail"]) == ("claude", "claude.ai", "no turns found on /chat/c-gamma")
        # A second page failing the same way keeps the time it started.
        ws.send(encode(signal(seq + 2, "adapter_broken", page="page-gamma-02", conv="c-gamma", site="claude", url=broken)))
        ws.recv(timeout=10)
        assert server.api("GET", "/api/capture-health")["degraded"] == [first]
        # Other sites' pages do not clear it; a Claude page read with its text does.
        ws.send(encode(snapshot(seq + 3, [("user", "Hi"), ("assistant", "Hello")], page="page-delta-01", conv="c-d")))
        ws.recv(timeout=10)
        assert server.api("GET", "/api/capture-health")["degraded"] == [first]
        ws.send(encode(snapshot(seq + 4, [("user", "Hi"), ("assistant", "Hello")], page="page-gamma-03", conv="c-gamma",
                                site="claude")))
        ws.recv(timeout=10)
        assert server.api("GET", "/api/capture-health") == {"degraded": []}
        # Turns that come without any text are degraded capture too.
        ws.send(encode(snapshot(seq + 5, [("user", ""), ("assistant", "")], page="page-eps-001", conv="c-eps",
                                site="gemini")))
        ws.recv(timeout=10)
        (empty,) = server.api("GET", "/api/capture-health")["degraded"]
        assert (empty["site"], empty["host"]) == ("gemini", "gemini.google.com")
    assert server.request("GET", "/api/capture-health", token=None).status == 401


def test_capture_health_stays_degraded_while_the_turns_come_from_the_pages_json(server):
    """ChatGPT's JSON second source keeps capture going when the adapter fails: its text
    (`from_json`) never clears the health the adapter's failure set; text the adapter reads does."""
    json_text = {"from_json": True}
    with server.connect("client-api-2") as (ws, welcome):
        seq = welcome.last_seq
        ws.send(encode(signal(seq + 1, "adapter_broken", page="page-json-01", conv="c-json", detail="no turns read")))
        ws.recv(timeout=10)
        (first,) = server.api("GET", "/api/capture-health")["degraded"]
        # Another page of the same chat, its turns taken from the JSON (all, or the answer only).
        ws.send(encode(snapshot(seq + 2, [("user", "Hi", json_text), ("assistant", "Hello", json_text)],
                                page="page-json-02", conv="c-json")))
        ws.recv(timeout=10)
        ws.send(encode(snapshot(seq + 3, [("user", "Hi"), ("assistant", "Hello", json_text)],
                                page="page-json-03", conv="c-json")))
        ws.recv(timeout=10)
        assert server.api("GET", "/api/capture-health")["degraded"] == [first]
        ws.send(encode(snapshot(seq + 4, [("user", "Hi"), ("assistant", "Hello")], page="page-json-04", conv="c-json")))
        ws.recv(timeout=10)
        assert server.api("GET", "/api/capture-health") == {"degraded": []}


def test_failed_conversations_are_found_by_status_and_failures_name_their_conversation(server):
    seed(server)
    send_signal(server, "http_error", page="page-beta-001", conv="c-beta", site="claude", status=529)
    (failure,) = server.api("GET", "/api/failures")["items"]
    assert (failure["title"], failure["site"]) == ("French", "claude")  # the popup needs no other request
    hits = server.api("GET", "/api/search", params={"q": "salut", "status": "failed"})["items"]
    assert [h["title"] for h in hits] == ["French"]
    assert server.api("GET", "/api/search", params={"q": "sorted", "status": "failed"})["items"] == []
    assert [h["title"] for h in server.api("GET", "/api/search", params={"q": "sorted", "status": "active"})["items"]] == ["Sorting"]
    listed = server.api("GET", "/api/conversations", params={"q": "bonjour", "status": "failed"})["items"]
    assert [(c["title"], c["status"]) for c in listed] == [("French", "failed")]
    assert server.api("GET", "/api/conversations", params={"q": "sorted", "status": "failed"})["items"] == []
    assert server.request("GET", "/api/search", params={"q": "salut", "status": "broken"}).status == 400


def test_resume_pack_with_the_replaced_answer(server):
    from draftvault.store import Vault

    vault = Vault.open(server.home)
    try:
        id, _ = vault.import_conversation(
            site="chatgpt", conversation_id="c-regen", title="Regenerated", url=None, model=None,
            created_at=None, updated_at=None,
            turns=[("user", "Name a colour"), ("assistant", "Teal, the answer shown now")],
            branches=[(1, [("assistant", "Vermilion, the answer it replaced")])],
        )
    finally:
        vault.close()
    path = f"/api/conversations/{id}/resume"
    plain = server.api("GET", path, params={"target": "claude"})["text"]
    assert "Teal" in plain and "Vermilion" not in plain
    text = server.api("GET", path, params={"target": "claude", "replaced": "true"})["text"]
    assert text.index("Teal") < text.index("### The earlier answer to my last message (imported;") < text.index("Vermilion")
    assert server.request("GET", path, params={"replaced": "maybe"}).status == 400
