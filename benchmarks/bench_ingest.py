"""Ingest over one WebSocket against a real `draftvault serve`, beside plain SQLite.

- throughput: small delta snapshots (a draft being typed, now and then a new turn),
  pipelined over one connection, counted when acked (goal >= 2,000/s);
- ack latency p50/p99 at a steady 50 snapshots/s (goal p99 <= 20 ms);
- baseline: the same frame bytes inserted into a plain SQLite table (WAL, the vault's
  `synchronous` setting, one commit per frame, as the vault acks each frame durably).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_service import Service
from websockets.asyncio.client import connect

THROUGHPUT_FRAMES = 5000
LATENCY_FRAMES = 500  # 10 s at 50/s
SYNCHRONOUS = os.environ.get("DRAFTVAULT_SYNCHRONOUS", "FULL").upper()


def frames(n: int, page: str) -> list[bytes]:
    """Seq 1 is a full 20-turn snapshot; then the draft grows, with a new turn every 100 frames."""
    turns = [{"index": i, "role": "user" if i % 2 == 0 else "assistant", "text": f"turn {i} " + "lorem ipsum " * 20}
             for i in range(20)]
    out, count, draft = [], 20, ""
    for seq in range(1, n + 1):
        if seq == 1:
            delta, start = turns, 0
        elif seq % 100 == 0:
            delta, start = [{"index": count, "role": "user", "text": draft}], count
            count, draft = count + 1, ""
        else:
            delta, start, draft = [], count, draft + "word "
        out.append(json.dumps({
            "type": "snapshot", "seq": seq, "page_id": page, "conversation_id": f"conv-{page}", "site": "chatgpt",
            "url": f"https://chatgpt.com/c/conv-{page}", "turn_count": count, "turns_from": start, "turns": delta,
            "draft": draft,
        }).encode())
    return out


async def hello(ws, token: str, client_id: str) -> None:
    await ws.send(json.dumps({"type": "hello", "protocol": 1, "token": token, "client_id": client_id}))
    assert json.loads(await ws.recv())["type"] == "welcome"


async def throughput(service: Service, data: list[bytes]) -> float:
    async with connect(service.ws_url, max_size=None) as ws:
        await hello(ws, service.token, "bench-throughput")
        start = time.perf_counter()

        async def send_all():
            for raw in data:
                await ws.send(raw.decode())

        sender = asyncio.create_task(send_all())
        for seq in range(1, len(data) + 1):
            ack = json.loads(await ws.recv())
            assert ack == {"type": "ack", "seq": seq}, ack
        await sender
        return len(data) / (time.perf_counter() - start)


async def latency(service: Service, data: list[bytes], rate: float = 50.0) -> list[float]:
    out = []
    async with connect(service.ws_url, max_size=None) as ws:
        await hello(ws, service.token, "bench-latency")
        next_at = time.perf_counter()
        for seq, raw in enumerate(data, 1):
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            start = time.perf_counter()
            await ws.send(raw.decode())
            ack = json.loads(await ws.recv())
            out.append(time.perf_counter() - start)
            assert ack == {"type": "ack", "seq": seq}, ack
            next_at += 1 / rate
    return out


def sqlite_baseline(path: Path, data: list[bytes]) -> tuple[float, list[float]]:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
    db.execute("CREATE TABLE frames (seq INTEGER PRIMARY KEY, data BLOB)")
    times = []
    start = time.perf_counter()
    for seq, raw in enumerate(data, 1):
        t = time.perf_counter()
        db.execute("BEGIN")
        db.execute("INSERT INTO frames VALUES (?, ?)", (seq, raw))
        db.execute("COMMIT")
        times.append(time.perf_counter() - t)
    rate = len(data) / (time.perf_counter() - start)
    db.close()
    return rate, times


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        service = Service(Path(tmp) / "home")
        service.start()
        try:
            rate = asyncio.run(throughput(service, frames(THROUGHPUT_FRAMES, "page-throughput")))
            lat = asyncio.run(latency(service, frames(LATENCY_FRAMES, "page-latency")))
        finally:
            service.stop()
        base_rate, base_times = sqlite_baseline(Path(tmp) / "plain.db", frames(THROUGHPUT_FRAMES, "page-throughput"))

    print(f"synchronous={SYNCHRONOUS}; {THROUGHPUT_FRAMES} frames pipelined; {LATENCY_FRAMES} frames at 50/s")
    print(f"{'':32} {'frames/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'draftvault /ws (acked)':32} {rate:>10.0f} {pct(lat, 50):>8.2f} {pct(lat, 99):>8.2f}")
    print(f"{'plain SQLite insert+commit':32} {base_rate:>10.0f} {pct(base_times, 50):>8.2f} {pct(base_times, 99):>8.2f}")
    print("goals: >= 2000 frames/s; p99 <= 20 ms at 50 frames/s")


if __name__ == "__main__":
    sys.exit(main())
