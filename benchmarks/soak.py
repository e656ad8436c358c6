"""Soak run (not a test): N WebSocket clients for M minutes against a real `draftvault
serve` on a fresh vault, each sending a growing conversation (one turn appended per
snapshot, as a delta) and waiting for its ack; one more client searches now and then.

Prints, each minute and at the end: the service's RSS, its open file descriptors and the
p50/p99 ack latency of that minute. Goal: flat from the first minute to the last.
Usage: scripts/soak [--clients 20] [--minutes 10] [--interval 0.5]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from websockets.sync.client import connect  # noqa: E402

from draftvault import auth, protocol  # noqa: E402
from frames import encode, hello, snapshot  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_figures(pid: int) -> tuple[int, int]:
    """(RSS in MB, open descriptors) of the service."""
    rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmRSS:"))
    return rss // 1024, len(os.listdir(f"/proc/{pid}/fd"))


class Latencies:
    def __init__(self):
        self._lock = threading.Lock()
        self._window: list[float] = []
        self.errors = 0

    def add(self, seconds: float) -> None:
        with self._lock:
            self._window.append(seconds)

    def take(self) -> list[float]:
        with self._lock:
            window, self._window = self._window, []
        return sorted(window)


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(p * len(sorted_values)))]


def client(n: int, url: str, token: str, stop: threading.Event, interval: float, lat: Latencies) -> None:
    conv, words = f"c-soak-{n}", [secrets.token_hex(4) for _ in range(200)]
    with connect(url, max_size=None, open_timeout=30) as ws:
        ws.send(encode(hello(token, f"soak-client-{n}")))
        welcome = protocol.decode_server_frame(ws.recv(timeout=30))
        seq = welcome.last_seq
        while not stop.is_set():
            seq += 1
            idx = seq - 1
            text = " ".join(secrets.choice(words) for _ in range(60))
            frame = snapshot(seq, [("user" if idx % 2 == 0 else "assistant", text)], conv=conv,
                             page=f"page-soak-{n:04}", site="chatgpt", turns_from=idx, title=f"Soak {n}")
            sent = time.monotonic()
            ws.send(encode(frame))
            reply = protocol.decode_server_frame(ws.recv(timeout=60))
            if isinstance(reply, protocol.Ack):
                lat.add(time.monotonic() - sent)
            else:
                lat.errors += 1
            stop.wait(interval)


def searcher(base: str, token: str, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        req = urllib.request.Request(f"{base}/api/search?q=soak", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=30) as res:
            res.read()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--interval", type=float, default=0.5, help="seconds between a client's ack and its next snapshot")
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="draftvault-soak-"))
    port = free_port()
    db = auth.connect(home)
    token = auth.create_token(db, "soak")
    db.conn.close()
    env = {**os.environ, "DRAFTVAULT_HOME": str(home), "DRAFTVAULT_PORT": str(port)}
    service = subprocess.Popen([sys.executable, "-m", "draftvault", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/api/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        stop, lat = threading.Event(), Latencies()
        threads = [threading.Thread(target=client, args=(n, f"ws://127.0.0.1:{port}/ws", token, stop, args.interval, lat),
                                    daemon=True) for n in range(args.clients)]
        threads.append(threading.Thread(target=searcher, args=(base, token, stop), daemon=True))
        for t in threads:
            t.start()
        print(f"soak: {args.clients} clients for {args.minutes} min, vault {home}")
        print("minute  rss_MB  fds  acks  p50_ms  p99_ms  errors")
        rows = []
        end = time.monotonic() + args.minutes * 60
        minute = 0
        while time.monotonic() < end:
            time.sleep(min(60, max(0, end - time.monotonic())))
            minute += 1
            window = lat.take()
            rss, fds = proc_figures(service.pid)
            rows.append((minute, rss, fds, len(window), percentile(window, 0.5) * 1e3, percentile(window, 0.99) * 1e3))
            print("%6d  %6d  %3d  %5d  %6.1f  %6.1f  %6d" % (*rows[-1], lat.errors), flush=True)
        stop.set()
        for t in threads:  # each finishes the frame it waits for
            t.join(timeout=90)
        first, last = rows[0], rows[-1]
        print(f"start: rss {first[1]} MB, {first[2]} fds, p99 {first[5]:.1f} ms; "
              f"end: rss {last[1]} MB, {last[2]} fds, p99 {last[5]:.1f} ms; {lat.errors} errors")
    finally:
        service.terminate()
        service.wait(30)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
