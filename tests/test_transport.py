"""Transport limits against a real `draftvault serve`: bodies, slow and many connections,
error answers, headers, the log, one service per vault, concurrent pairing guesses."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from websockets.exceptions import ConnectionClosed

from draftvault import auth, pump, transport
from draftvault.routes import base


def test_small_routes_refuse_large_bodies_before_reading_them(server):
    # (POST /api/login-link takes no body and never reads one: uvicorn stops reading at 64 KiB.)
    for path in ("/api/pair", "/api/failures/x/resolve"):
        res = server.request("POST", path, data=b"{" + b" " * (4 * base.MAX_BODY) + b"}",
                             headers={"Content-Type": "application/json"}, token=None if "pair" in path else server.token)
        assert res.status == 413, (path, res.status)
        assert res.json()["status_code"] == 413
    assert server.request("GET", "/api/health", token=None).status == 200


def test_malformed_requests_get_4xx_with_json_and_the_service_stays_up(server):
    deep = b"[" * 5000 + b"]" * 5000
    cases = [
        ("POST", "/api/pair", deep, None),
        ("POST", "/api/export", b'{"ids": ' + deep + b"}", server.token),
        ("GET", "/static/app.js%00.txt", None, None),
    ]
    for method, path, body, token in cases:
        res = server.request(method, path, data=body, headers={"Content-Type": "application/json"}, token=token)
        assert 400 <= res.status < 500, (path, res.status, res.body)
        assert res.json()["detail"], path
    assert "Traceback" not in server.log
    assert server.request("GET", "/api/health", token=None).status == 200


def test_static_files_and_api_answers_carry_the_security_headers(server):
    page = server.request("GET", "/static/index.html", token=None)
    assert page.status == 200
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    api = server.request("GET", "/api/conversations")
    assert api.headers["Cache-Control"] == "no-store" and api.headers["X-Content-Type-Options"] == "nosniff"


def test_half_sent_request_heads_cannot_starve_the_service(server):
    """Slowloris: connections that never finish their request head. The oldest make
    room for new ones, so /api/health and the extension's socket still get through."""
    head = f"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nX-Slow: ".encode()
    slow = []
    try:
        for _ in range(transport.MAX_HEADLESS + 20):
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(head)
            slow.append(sock)
        assert server.request("GET", "/api/health", token=None).status == 200
        with server.connect("client-during-the-flood") as (_, welcome):
            assert welcome.last_seq == 0
        for sock in slow[:20]:  # the longest waiting were closed
            sock.settimeout(transport.HEAD_TIMEOUT_S / 2)
            assert closed_by_peer(sock)
    finally:
        for sock in slow:
            sock.close()


def closed_by_peer(sock: socket.socket) -> bool:
    """True once the service has closed the socket; a timeout (still open) raises.
    A close arrives as end of stream or, when the service closed before reading the
    bytes sent (a burst of accepts on a loaded machine), as a reset."""
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


def test_a_flood_of_one_error_logs_one_line(server):
    for _ in range(50):
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            sock.settimeout(10)
            assert sock.recv(100).startswith(b"HTTP/1.1 400")
    assert server.log.count("Invalid HTTP request received") == 1


def test_pairing_code_dies_after_its_attempts_however_concurrent_the_guesses(server):
    code = auth.create_pair_code(auth.connect(server.home))
    guesses = [f"{c}{c}{c}-{c}{c}{c}" for c in "ABCDEFGHJKMNPQRSTUVW"]
    with ThreadPoolExecutor(len(guesses)) as pool:
        statuses = list(pool.map(
            lambda guess: server.request("POST", "/api/pair", json={"code": guess}, token=None).status, guesses))
    assert statuses == [403] * len(guesses)
    assert server.request("POST", "/api/pair", json={"code": code}, token=None).status == 403


def test_one_service_per_vault_even_when_started_together(home, port_source):
    env = {**os.environ, "DRAFTVAULT_HOME": str(home)}
    ports = [port_source(), port_source()]
    procs = [
        subprocess.Popen([sys.executable, "-m", "draftvault", "serve", "--port", str(port)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        for port in ports
    ]
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.05)
        (loser,) = [p for p in procs if p.poll() is not None]
        (winner,) = [p for p in procs if p is not loser]
        stderr = loser.stderr.read()
        assert loser.returncode == 2, stderr
        won_port = ports[procs.index(winner)]
        assert "already running on this vault" in stderr and "Traceback" not in stderr
        assert (f"pid {winner.pid}, port {won_port}" in stderr) or "starting up" in stderr, stderr
        assert winner.poll() is None
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
            p.communicate(timeout=15)  # waits for it and closes its pipes


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def test_memory_stays_bounded_under_large_inputs_without_a_token(server):
    """The adversarial run's sizes: a 400 MB POST /api/pair (5.4 GB before) and forty
    30 MiB WebSocket frames before hello (3 GB before)."""
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(f"POST /api/pair HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {400 * 1024 * 1024}\r\n\r\n".encode() + b"{" * 65536)
        sock.settimeout(30)
        assert sock.recv(100).startswith(b"HTTP/1.1 413")
    frame = b'{"type": "hello", "token": "' + b"x" * (30 * 1024 * 1024) + b'"}'
    closed = []
    with ExitStack() as stack:
        sockets = [stack.enter_context(server.connect(hello=False))[0] for _ in range(40)]
        for ws in sockets:
            try:
                ws.send(frame)
                ws.recv(timeout=30)
            except ConnectionClosed as e:
                closed.append(e.rcvd.code if e.rcvd else None)
            except OSError:  # the server closed while the frame was still being written
                closed.append(1009)
    # Past the waiting room (pump.MAX_WAITING) connections are turned away at once (1013); on
    # a loaded machine a socket may wait past the hello time-out before its frame goes (1008).
    assert len(closed) == 40 and set(closed) <= {1008, 1009, 1013} and 1009 in closed
    assert closed.count(1013) <= 40 - pump.MAX_WAITING
    assert server.request("GET", "/api/health", token=None).status == 200
    assert peak_rss_mb(server.proc.pid) < 300
