"""Crash test: SIGKILL the service at random moments while a client streams snapshots.

After each restart: every acked snapshot is in the vault, `welcome.last_seq` lies between
the last ack and the last frame sent (a frame committed just before the kill may not
have been acked), and once the client has resent what was not acked, as the extension's
outbox does, last_seq equals the last ack. PRAGMA integrity_check and `draftvault verify` are clean.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import threading
import time

from websockets.exceptions import ConnectionClosed

import frames
from draftvault import config, protocol

CLIENT = "client-crash-1"
ROUNDS = 5


def frame(seq: int) -> str:
    # Seq n appends turn n-1 (a delta) and updates the draft: a lost or reordered frame shows.
    role = "user" if seq % 2 else "assistant"
    return frames.encode(frames.snapshot(seq, [(role, text(seq))], page="page-crash-01", conv="c-crash",
                                         turns_from=seq - 1, draft=f"draft after {seq} " + "x" * (seq % 50)))


def text(seq: int) -> str:
    return f"turn {seq}: " + " ".join(f"w{seq * 7 + i}" for i in range(seq % 30))


class Stream:
    """Sends frames in windows of 4 and records what was sent and acked, until the socket dies."""

    def __init__(self, server):
        self.server = server
        self.sent = self.acked = 0
        self.problem: str | None = None

    def run(self) -> None:
        try:
            with self.server.connect(CLIENT) as (ws, welcome):
                seq = welcome.last_seq  # resend everything after it, as the extension's outbox does
                while True:
                    window = range(seq + 1, seq + 5)
                    for s in window:
                        ws.send(frame(s))
                        self.sent = s
                    for s in window:
                        got = protocol.decode_server_frame(ws.recv(timeout=30))
                        if got != protocol.Ack(seq=s):
                            self.problem = f"expected ack {s}, got {got}"
                            return
                        self.acked = s
                    seq += 4
        except (ConnectionClosed, OSError):
            pass  # the kill


def check(server, acked: int, sent: int) -> int:
    with server.connect(CLIENT) as (ws, welcome):
        assert acked <= welcome.last_seq <= sent, (acked, welcome.last_seq, sent)
        for s in range(acked + 1, sent + 1):  # the outbox: everything not acked, in order
            ws.send(frame(s))
        acks = [protocol.decode_server_frame(ws.recv(timeout=30)) for _ in range(acked + 1, sent + 1)]
        assert acks == [protocol.Ack(seq=s) for s in range(acked + 1, sent + 1)]
    with server.connect(CLIENT) as (_, welcome):
        assert welcome.last_seq == sent  # == the last ack now
    (item,) = server.api("GET", "/api/conversations")["items"]
    detail = server.api("GET", f"/api/conversations/{item['id']}")
    assert [t["text"] for t in detail["turns"]] == [text(s) for s in range(1, welcome.last_seq + 1)]
    assert detail["corrupt"] == []
    with sqlite3.connect(config.db_path(server.home)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    verify = subprocess.run([sys.executable, "-m", "draftvault", "verify"], capture_output=True, text=True)
    assert verify.returncode == 0 and " 0 bad" in verify.stdout, verify.stdout + verify.stderr
    return welcome.last_seq


def test_acked_snapshots_survive_sigkill(server):
    rng = random.Random(20261123)
    total_acked = 0
    for round_ in range(ROUNDS):
        stream = Stream(server)
        thread = threading.Thread(target=stream.run)
        thread.start()
        deadline = time.monotonic() + 30
        while stream.acked <= total_acked and time.monotonic() < deadline:  # streaming has begun
            time.sleep(0.01)
        time.sleep(rng.uniform(0.05, 1.0))
        server.kill()
        thread.join(30)
        assert stream.problem is None, stream.problem
        assert stream.acked > total_acked, f"round {round_}: nothing acked"
        server.start()
        total_acked = check(server, stream.acked, stream.sent)

