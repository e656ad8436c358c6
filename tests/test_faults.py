"""Fault test: the vault's disk fills up during ingest and search (a small tmpfs; we run
as root in CI; skipped where mounting is not permitted).

While the disk is full a snapshot gets an `unavailable` error frame, never a dropped
connection or a lost ack; every acked snapshot is kept; the service stays healthy; search
never answers a silent empty list for acked text. Once space returns, the extension's
resend (from `welcome.last_seq`) is stored and search finds everything acked.
(The damaged key and database are in test_broken_vault.py.)
"""

from __future__ import annotations

import os
import secrets
import subprocess

import pytest
from websockets.exceptions import ConnectionClosed

from needs import missing
from draftvault import protocol
from frames import encode, snapshot

SIZE = "4m"
BALLAST = 1 << 20


@pytest.fixture
def home(tmp_path, monkeypatch):
    path = tmp_path / "home"
    path.mkdir(mode=0o700)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs", str(path)],
                          capture_output=True)
    if done.returncode != 0:
        missing(f"mount is not permitted here: {done.stderr.decode().strip()}")
    monkeypatch.setenv("DRAFTVAULT_HOME", str(path))
    monkeypatch.delenv("DRAFTVAULT_PASSPHRASE", raising=False)
    (path / "ballast").write_bytes(os.urandom(BALLAST))  # freed later: space comes back
    yield path
    subprocess.run(["umount", "-l", str(path)], check=False)


def words(n: int) -> str:
    """Text that neither compresses nor repeats: each word a new one for the index."""
    return " ".join(f"w{secrets.token_hex(6)}" for _ in range(n))


def fill(ws, start: int) -> tuple[dict[int, str], int]:
    """Snapshots of new conversations until the vault says it is full: (acked seq -> canary, last seq sent)."""
    acked: dict[int, str] = {}
    sent: dict[int, str] = {}
    seq = start
    while True:
        seq += 1
        canary = f"canary{secrets.token_hex(8)}"
        sent[seq] = canary
        ws.send(encode(snapshot(seq, [("user", f"{canary} {words(1500)}")], conv=f"c-full-{seq}",
                                page=f"page-full-{seq:05}", title=f"Full {seq}")))
        reply = protocol.decode_server_frame(ws.recv(timeout=30))
        if isinstance(reply, protocol.Ack):
            acked[reply.seq] = sent[reply.seq]
            continue
        assert isinstance(reply, protocol.Error) and reply.code == "unavailable", reply
        assert "full" in reply.message, reply.message
        return acked, seq


def fill_up(server) -> tuple[dict[int, str], int]:
    with server.connect("client-full-1") as (ws, welcome):
        acked, last = fill(ws, welcome.last_seq)
        with pytest.raises(ConnectionClosed):  # the service stores nothing more on this connection
            while True:
                ws.recv(timeout=10)
    assert len(acked) >= 3, "the disk should fill after a few snapshots"
    assert server.request("GET", "/api/health", token=None).status == 200
    return acked, last


def test_disk_full_during_ingest_then_space_returns(server, home):
    acked, last = fill_up(server)
    (home / "ballast").unlink()
    with server.connect("client-full-1") as (ws, welcome):
        assert max(acked) <= welcome.last_seq <= last
        for again in range(welcome.last_seq + 1, last + 1):
            ws.send(encode(snapshot(again, [("user", f"resent {again}")], conv=f"c-full-{again}",
                                    page=f"page-full-{again:05}", title=f"Full {again}")))
            assert protocol.decode_server_frame(ws.recv(timeout=30)) == protocol.Ack(seq=again)
    titles = {c["title"] for c in server.api("GET", "/api/conversations", params={"limit": 500})["items"]}
    assert {f"Full {s}" for s in acked} <= titles
    for seq, canary in acked.items():
        hits = server.api("GET", "/api/search", params={"q": canary})["items"]
        assert [h["title"] for h in hits] == [f"Full {seq}"], canary


def test_search_while_the_disk_is_full_is_never_silently_empty(server, home):
    acked, _ = fill_up(server)
    for canary in acked.values():
        res = server.request("GET", "/api/search", params={"q": canary})
        if res.status == 200:
            body = res.json()
            assert body["items"] or body.get("partial") is True, body
        else:
            assert res.status in (503, 507) and "detail" in res.json()


def test_an_import_larger_than_the_free_space(server, home):
    res = server.request("POST", "/api/import", params={"name": "big.json"}, data=b"[" + b" " * (5 << 20) + b"]")
    assert res.status == 507, res.body
    assert res.json()["detail"].startswith("the import could not be stored: [Errno 28] No space left on device")
    assert not [p for p in home.iterdir() if p.name.startswith(".import-")]
    assert server.request("GET", "/api/health", token=None).status == 200
    assert server.api("GET", "/api/conversations")["items"] == []
