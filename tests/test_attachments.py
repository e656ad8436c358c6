"""Images and files over the real WebSocket and API: parts, the size cap, bad frames, one copy
per file, deletion and verify (protocol.Attachment, store/attachments.py, routes/attachments.py)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import urllib.parse
import zipfile

import frames
from draftvault import config, protocol
from draftvault.store import Vault

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")  # a PNG's first bytes: enough here


def recv(ws) -> protocol.ServerFrame:
    return protocol.decode_server_frame(ws.recv(timeout=10))


def send_all(ws, items) -> list[protocol.ServerFrame]:
    for f in items:
        ws.send(frames.encode(f))
    return [recv(ws) for _ in items]


def detail(server, conv: str = frames.CONV) -> dict:
    [item] = [c for c in server.api("GET", "/api/conversations")["items"] if c["conversation_id"] == conv]
    return server.api("GET", f"/api/conversations/{item['id']}")


def rows(server, table: str) -> int:
    """Row counts are plaintext metadata: read straight from the vault file (WAL: the service's commits included)."""
    conn = sqlite3.connect(config.db_path(server.home))
    try:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def two_turns(seq: int, conv: str = frames.CONV, page: str = frames.PAGE):
    return frames.snapshot(seq, [("user", "What is in this picture?"), ("assistant", "A cat.")], conv=conv, page=page)


def test_a_large_file_comes_in_parts_and_is_served_as_it_was(server):
    big = os.urandom(2 * protocol.ATTACHMENT_PART_BYTES + 12345)
    parts = frames.attachment(2, big, turn=0, name="holiday photo.png", key="big")
    assert len(parts) == 3 and all(len(frames.encode(p)) < protocol.MAX_FRAME_BYTES for p in parts)
    with server.connect() as (ws, _):
        assert send_all(ws, [two_turns(1)]) == [protocol.Ack(seq=1)]
        assert send_all(ws, parts) == [protocol.Ack(seq=n) for n in (2, 3, 4)]
    [turn0, turn1] = detail(server)["turns"]
    [shown] = turn0["attachments"]
    assert shown["name"] == "holiday photo.png" and shown["type"] == "image/png" and shown["bytes"] == len(big)
    assert "attachments" not in turn1
    res = server.request("GET", f"/api/attachments/{shown['id']}")
    assert res.status == 200 and hashlib.sha256(res.body).digest() == hashlib.sha256(big).digest()
    assert res.headers["Content-Type"] == "image/png"
    assert res.headers["Content-Disposition"].startswith('inline; filename="holiday photo.png"')
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in res.headers["Content-Security-Policy"]
    assert server.request("GET", f"/api/attachments/{shown['id']}", token=None).status == 401


def test_a_file_over_the_cap_is_recorded_by_name_type_and_size(server):
    with server.connect() as (ws, _):
        send_all(ws, [two_turns(1)])
        assert send_all(ws, frames.attachment(2, None, turn=0, name="scan.pdf", mime="application/pdf",
                                              size=80_000_000)) == [protocol.Ack(seq=2)]
    [shown] = detail(server)["turns"][0]["attachments"]
    assert shown == {"id": None, "name": "scan.pdf", "type": "application/pdf", "bytes": 80_000_000}
    assert rows(server, "attachments") == 0


def test_bad_attachment_frames_get_a_clear_error_and_change_nothing(server):
    with server.connect() as (ws, _):
        send_all(ws, [two_turns(1)])
        before = detail(server)
        first, second = frames.attachment(2, os.urandom(protocol.ATTACHMENT_PART_BYTES + 10), key="gap")
        second.seq = 2
        ws.send(frames.encode(second))  # part 1 with no part 0 before it
        err = recv(ws)
        assert (err.code, err.seq) == ("bad_frame", 2) and "part 1 of 2" in err.message and "from part 0" in err.message
        [short] = frames.attachment(3, b"0123456789")
        raw = json.loads(frames.encode(short))
        raw["size"] = 11  # bytes that do not add up to the size
        ws.send(json.dumps(raw))
        err = recv(ws)
        assert (err.code, err.seq) == ("bad_frame", 3) and "holds 10 bytes" in err.message
        [orphan] = frames.attachment(3, PNG, page="page-unknown", conv="c-unknown")
        ws.send(frames.encode(orphan))  # no snapshot of that page or conversation yet
        err = recv(ws)
        assert (err.code, err.seq) == ("bad_frame", 3) and "no conversation" in err.message
        raw = json.loads(frames.encode(short))
        raw["data"] = "A" * (protocol.MAX_FRAME_BYTES + 10)
        ws.send(json.dumps(raw))
        assert recv(ws).code == "too_large"
        # The connection goes on: a good frame after the bad ones is stored.
        assert send_all(ws, frames.attachment(4, PNG, key="good")) == [protocol.Ack(seq=4)]
    after = detail(server)
    assert [len(t.get("attachments", [])) for t in after["turns"]] == [1, 0]
    assert {**after, "turns": before["turns"], "updated_at": None} == {**before, "updated_at": None}
    assert rows(server, "attachments") == 1 and rows(server, "attachment_parts") == 1


def test_an_upload_started_again_replaces_its_unfinished_parts(server):
    data = os.urandom(protocol.ATTACHMENT_PART_BYTES + 5)
    with server.connect() as (ws, _):
        send_all(ws, [two_turns(1)])
        assert send_all(ws, frames.attachment(2, data, key="again")[:1]) == [protocol.Ack(seq=2)]
        assert send_all(ws, frames.attachment(3, data, key="again")) == [protocol.Ack(seq=3), protocol.Ack(seq=4)]
    assert rows(server, "attachments") == 1 and rows(server, "attachment_parts") == 2


def test_the_same_bytes_are_stored_once_and_deleted_with_the_last_conversation(server):
    with server.connect() as (ws, _):
        send_all(ws, [two_turns(1, conv="c-a", page="page-aaaa"), two_turns(2, conv="c-b", page="page-bbbb")])
        send_all(ws, frames.attachment(3, PNG, turn=0, conv="c-a", page="page-aaaa", name="a.png"))
        send_all(ws, frames.attachment(4, PNG, turn=1, conv="c-a", page="page-aaaa", name="a.png", key="k2"))
        send_all(ws, frames.attachment(5, PNG, turn=1, conv="c-b", page="page-bbbb", name="b.png"))
        send_all(ws, frames.attachment(6, PNG, turn=1, conv="c-b", page="page-bbbb", name="b.png", key="k9"))  # again
    a, b = detail(server, "c-a"), detail(server, "c-b")
    ids = {x["id"] for d in (a, b) for t in d["turns"] for x in t.get("attachments", [])}
    assert len(ids) == 1 and rows(server, "attachments") == 1 and rows(server, "attachment_links") == 3
    [id] = ids
    server.api("DELETE", f"/api/conversations/{a['id']}")
    assert server.request("GET", f"/api/attachments/{id}").body == PNG
    server.api("DELETE", f"/api/conversations/{b['id']}")
    assert server.request("GET", f"/api/attachments/{id}").status == 404
    assert (rows(server, "attachments"), rows(server, "attachment_parts"), rows(server, "attachment_links")) == (0, 0, 0)


def test_scripts_in_captured_files_never_run_from_the_service(server):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    with server.connect() as (ws, _):
        send_all(ws, [two_turns(1)])
        send_all(ws, frames.attachment(2, svg, name="x.svg", mime="image/svg+xml", key="svg"))
        send_all(ws, frames.attachment(3, b"alert(1)", name="x.js", mime="text/javascript", key="js"))
    by_name = {x["name"]: x["id"] for x in detail(server)["turns"][0]["attachments"]}
    res = server.request("GET", f"/api/attachments/{by_name['x.svg']}")
    assert res.headers["Content-Type"] == "image/svg+xml" and res.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in res.headers["Content-Security-Policy"] and "script-src" not in res.headers["Content-Security-Policy"]
    res = server.request("GET", f"/api/attachments/{by_name['x.js']}")
    assert res.headers["Content-Type"] == "application/octet-stream"


def test_verify_checks_every_file_and_names_a_damaged_one(vault, home):
    vault.apply("c1", two_turns(1))
    for f in frames.attachment(2, os.urandom(protocol.ATTACHMENT_PART_BYTES + 1), name="p.png"):
        vault.apply("c1", f)
    vault.apply("c1", frames.attachment(4, None, name="f.zip", mime="application/zip", size=9, key="meta")[0])
    report = vault.verify()
    assert report.bad == [] and report.checked > 0
    [id] = [x.id for t in vault.get_conversation(vault.list_conversations()[0].id).turns for x in t.attachments if x.id]
    vault.db.execute("UPDATE attachment_parts SET data = data || x'00' WHERE part = 1")
    assert vault.verify().bad == [f"attachment {id}"]


def test_files_survive_a_restart_and_unfinished_uploads_go_after_a_day(home):
    v = Vault.open(home)
    v.apply("c1", two_turns(1))
    v.apply("c1", frames.attachment(2, os.urandom(protocol.ATTACHMENT_PART_BYTES + 1), key="half")[0])
    v.apply("c1", frames.attachment(3, PNG, key="whole")[0])
    v.db.execute("UPDATE attachments SET started_at='2000-01-01T00:00:00+00:00'")
    v.close()
    v = Vault.open(home)
    try:
        [shown] = v.get_conversation(v.list_conversations()[0].id).turns[0].attachments
        file, parts = v.attachment(shown.id)
        assert b"".join(parts) == PNG and file.name == "image.png"
        assert v.db.execute("SELECT COUNT(*) FROM attachments").fetchone()[0] == 1
    finally:
        v.close()


def test_exports_carry_the_files_with_links_that_resolve_and_packs_name_them(server):
    with server.connect() as (ws, _):
        send_all(ws, [two_turns(1)])
        send_all(ws, frames.attachment(2, PNG, turn=0, name="my cat (1).png"))
        send_all(ws, frames.attachment(3, None, turn=0, name="notes.pdf", mime="application/pdf", size=30_000_000))
    conv = detail(server)
    body = server.api("POST", "/api/export", json={"ids": [conv["id"]]})
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        [note] = [n for n in zf.namelist() if n.endswith(".md")]
        md = zf.read(note).decode()
        [target] = re.findall(r"!\[my cat \(1\)\.png\]\(([^)]+)\)", md.replace("\\(", "(").replace("\\)", ")"))
        assert not target.startswith("/") and zf.read(urllib.parse.unquote(target)) == PNG
        assert "[file: notes.pdf]" in md
    single = server.request("GET", f"/api/conversations/{conv['id']}/export.md").body.decode()
    assert "[image: my cat (1).png]" in single  # a note alone has nowhere to link
    pack = server.api("GET", f"/api/conversations/{conv['id']}/resume", params={"target": "claude"})["text"]
    assert "[image: my cat (1).png]" in pack and "[file: notes.pdf]" in pack


def test_an_image_kept_as_a_file_is_shown_once_and_one_not_kept_keeps_its_placeholder(server):
    """docs/markdown.md, "Images kept as files": the text keeps the placeholder as captured; the
    API's shown_text, the Markdown export and the resume pack leave it out where the image is kept."""
    asked = "[Image: Uploaded image]\n[Image: Uploaded image]\nWhich of these is older?"
    answered = "[Image: Generated image]\n\nThe left one. Here are both, side by side."
    with server.connect() as (ws, _):
        send_all(ws, [frames.snapshot(1, [("user", asked), ("assistant", answered)])])
        send_all(ws, frames.attachment(2, PNG, turn=0, name="uploaded-image-a1b2c3.png", alt="Uploaded image"))
        # The second photo was over the size cap: kept by name only, so its placeholder stays.
        send_all(ws, frames.attachment(3, None, turn=0, key="k2", name="uploaded-image-d4e5f6.png", size=40_000_000,
                                       alt="Uploaded image"))
        send_all(ws, frames.attachment(4, PNG + b"2", turn=1, key="k3", name="generated-image-x1y2z3.png",
                                       alt="Generated image"))
    conv = detail(server)
    user, answer = conv["turns"]
    assert (user["text"], answer["text"]) == (asked, answered)  # as captured, in the vault and JSON exports
    assert user["shown_text"] == "[Image: Uploaded image]\nWhich of these is older?"
    assert answer["shown_text"] == "The left one. Here are both, side by side."
    assert [a.get("alt") for a in user["attachments"]] == ["Uploaded image", "Uploaded image"]
    pack = server.api("GET", f"/api/conversations/{conv['id']}/resume", params={"target": "claude"})["text"]
    assert pack.count("Uploaded image") == 1 and "Generated image" not in pack
    assert "[image: uploaded-image-a1b2c3.png]" in pack and "[image: generated-image-x1y2z3.png]" in pack
    body = server.api("POST", "/api/export", json={"ids": [conv["id"]]})
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        [note] = [n for n in zf.namelist() if n.endswith(".md")]
        md = zf.read(note).decode()
    assert md.count("[Image: Uploaded image]") == 1 and "[Image: Generated image]" not in md
    assert len(re.findall(r"!\[[^\]]*\]\(attachments/", md)) == 2


def test_a_damaged_file_is_refused_with_a_clear_answer(server):
    with server.connect() as (ws, _):
        send_all(ws, [two_turns(1)])
        send_all(ws, frames.attachment(2, PNG))
    [shown] = detail(server)["turns"][0]["attachments"]
    conn = sqlite3.connect(config.db_path(server.home))
    with conn:
        conn.execute("UPDATE attachments SET size = size + 1")  # the row no longer matches its tag
    conn.close()
    res = server.request("GET", f"/api/attachments/{shown['id']}")
    assert res.status == 410 and "integrity" in res.json()["detail"]


def test_a_new_chats_attachments_follow_it_into_the_conversation_it_joins(vault):
    pairs = [("user", "Look at this"), ("assistant", "Nice.")]
    vault.apply("c1", frames.snapshot(1, pairs, page="page-aaaa", conv="c-join"))
    vault.apply("c1", frames.snapshot(2, pairs, page="page-bbbb", conv=None))  # another tab's new chat
    vault.apply("c1", frames.attachment(3, PNG, page="page-bbbb", conv=None)[0])
    vault.apply("c1", frames.snapshot(4, pairs, page="page-bbbb", conv="c-join"))  # it gets the same id: joined
    [conv] = vault.list_conversations()
    [shown] = vault.get_conversation(conv.id).turns[0].attachments
    assert shown.name == "image.png" and b"".join(vault.attachment(shown.id)[1]) == PNG
    assert vault.verify().bad == []


def test_draftvault_export_and_verify_carry_the_files(home, tmp_path):
    vault = Vault.open(home)
    vault.apply("c1", two_turns(1))
    vault.apply("c1", frames.attachment(2, PNG, turn=1, name="chart.png")[0])
    vault.close()

    def dv(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "draftvault", *args], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "DRAFTVAULT_HOME": str(home)})
        assert done.returncode == 0, done.stderr
        return done.stdout

    dv("export", "--out", str(tmp_path / "all.zip"))
    with zipfile.ZipFile(tmp_path / "all.zip") as zf:
        [note] = [n for n in zf.namelist() if n.endswith(".md")]
        [link] = re.findall(r"!\[chart\.png\]\(([^)]+)\)", zf.read(note).decode())
        assert zf.read(link) == PNG
    dv("export", "--out", str(tmp_path / "notes") + "/")
    [note] = (tmp_path / "notes").glob("*.md")
    [link] = re.findall(r"!\[chart\.png\]\(([^)]+)\)", note.read_text())
    assert (tmp_path / "notes" / link).read_bytes() == PNG
    assert dv("verify").endswith(", 0 bad\n")
