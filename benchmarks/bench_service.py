"""Idle memory and start-up time of `draftvault serve`, beside baselines in the same run.

Goals (issue 2): idle RSS <= 80 MB; start-up to the first healthy /api/health <= 1.5 s.
Baselines: a bare `python -c pass` (interpreter start) and a bare uvicorn "hello" ASGI app.
Also used by bench_ingest.py: `Service` starts a real service on a free port.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from draftvault import auth  # noqa: E402

HELLO_APP = """
import uvicorn
async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), log_level="warning", lifespan="off")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(proc: subprocess.Popen, url: str, timeout: float = 30.0) -> float:
    """Seconds until `url` answers 200 (polled every 5 ms)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as res:
                if res.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"{url} not healthy after {timeout} s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Service:
    """A real `python -m draftvault serve` on a free port with its own DRAFTVAULT_HOME."""

    def __init__(self, home: Path, env: dict[str, str] | None = None):
        self.home, self.port = home, free_port()
        self.url, self.ws_url = f"http://127.0.0.1:{self.port}", f"ws://127.0.0.1:{self.port}/ws"
        self.env = {**os.environ, "DRAFTVAULT_HOME": str(home), **(env or {})}
        db = auth.connect(home)
        self.token = auth.create_token(db, "bench")
        db.conn.close()
        self.proc: subprocess.Popen | None = None

    def start(self) -> float:
        """Starts the service; returns the seconds until /api/health answered."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "draftvault", "serve", "--port", str(self.port)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return wait_healthy(self.proc, self.url + "/api/health")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)


def startup_and_rss(argv: list[str], url: str | None, env=None) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if url is None:
            proc.wait()
            return time.perf_counter() - start, float("nan")
        took = wait_healthy(proc, url)
        time.sleep(2.0)  # settle: idle memory, not start-up peaks
        return took, rss_mb(proc.pid)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(15)


def median(values) -> float:
    return statistics.median(values)


def main() -> None:
    runs = 5
    python_pass = median([startup_and_rss([sys.executable, "-c", "pass"], None)[0] for _ in range(runs)])
    hello = []
    for _ in range(runs):
        port = free_port()
        hello.append(startup_and_rss([sys.executable, "-c", HELLO_APP, str(port)], f"http://127.0.0.1:{port}/"))
    with tempfile.TemporaryDirectory() as tmp:
        first = Service(Path(tmp) / "home")
        first_start = first.start()  # first run: creates the vault and its key
        first.stop()
        service = []
        for _ in range(runs):
            s = Service(Path(tmp) / "home")
            service.append(startup_and_rss(
                [sys.executable, "-m", "draftvault", "serve", "--port", str(s.port)], s.url + "/api/health", env=s.env
            ))

    print(f"{'':36} {'start-up (median of 5)':>24} {'idle RSS':>10}")
    print(f"{'python -c pass':36} {python_pass * 1000:>21.0f} ms {'':>10}")
    print(f"{'bare uvicorn hello app':36} {median(t for t, _ in hello) * 1000:>21.0f} ms "
          f"{median(r for _, r in hello):>7.1f} MB")
    print(f"{'draftvault serve (first run)':36} {first_start * 1000:>21.0f} ms")
    print(f"{'draftvault serve':36} {median(t for t, _ in service) * 1000:>21.0f} ms "
          f"{median(r for _, r in service):>7.1f} MB")
    print("goals: start-up <= 1500 ms, idle RSS <= 80 MB")


if __name__ == "__main__":
    main()
