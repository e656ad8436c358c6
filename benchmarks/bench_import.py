"""Import of a generated ChatGPT data export of ~200 MB (DRAFTVAULT_BENCH_IMPORT_MB).

Figures, measured in this run, each in a fresh process:
  - baseline: `json.load` of the same file (the whole export in memory): time, peak RSS
  - parse only: our streaming split + decode of every conversation, nothing stored
  - import: `draftvault.importers.chatgpt.import_chatgpt_export` into a new vault
Peak RSS is the process's high-water mark minus its RSS before the work started,
so the interpreter and imported modules are not counted.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZE_MB = float(os.environ.get("DRAFTVAULT_BENCH_IMPORT_MB", "200"))
WORDS = ("the of and to in is that for it as with was on be by this are from or have an not but what all "
         "vault draft answer model token stream error capacity python function return value list table "
         "conversation resume export import search index cipher key").split()


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _message(rng: random.Random, node: str, role: str, t: float) -> dict:
    if role == "assistant" and rng.random() < 0.3:
        text = _text(rng, 60) + "\n\n```python\ndef f(x):\n    return x * 2  # " + _text(rng, 8) + "\n```\n"
    else:
        text = _text(rng, rng.randint(20, 260))
    return {
        "id": node, "author": {"role": role, "name": None, "metadata": {}}, "create_time": t, "update_time": None,
        "content": {"content_type": "text", "parts": [text]}, "status": "finished_successfully", "end_turn": True,
        "weight": 1.0, "metadata": {"model_slug": "gpt-4o", "request_id": "r" + node[:8], "timestamp_": "absolute"},
        "recipient": "all",
    }


def conversation(rng: random.Random, i: int) -> dict:
    t0 = 1.7e9 + i * 3600
    root = f"root-{i}"
    mapping = {root: {"id": root, "message": None, "parent": None, "children": []}}
    parent, last = root, root
    for k in range(rng.randint(6, 40)):
        node = f"n{i}-{k}"
        mapping[node] = {"id": node, "message": _message(rng, node, "user" if k % 2 == 0 else "assistant", t0 + k),
                         "parent": parent, "children": []}
        mapping[parent]["children"].append(node)
        if k % 2 == 1 and rng.random() < 0.1:  # a regenerated answer: a second child of the same question
            alt = node + "-alt"
            mapping[alt] = {"id": alt, "message": _message(rng, alt, "assistant", t0 + k), "parent": parent, "children": []}
            mapping[parent]["children"].append(alt)
        parent = last = node
    return {"title": _text(rng, 5), "create_time": t0, "update_time": t0 + 60, "mapping": mapping, "current_node": last,
            "conversation_id": f"bench-{i:08d}", "id": f"bench-{i:08d}", "default_model_slug": "gpt-4o",
            "moderation_results": [], "plugin_ids": None, "is_archived": False, "safe_urls": []}


def generate(path: Path, size_mb: float) -> int:
    rng = random.Random(5)
    limit = int(size_mb * 1024 * 1024)
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write("[")
        while f.tell() < limit:
            f.write((",\n" if n else "") + json.dumps(conversation(rng, n)))
            n += 1
        f.write("]\n")
    return n


# ---- the measured work, each run in a child process ---------------------------------

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
def rss_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
mode, path, home = sys.argv[1], sys.argv[2], sys.argv[3]
if mode != "json":
    from contextlib import ExitStack
    from draftvault.importers import chatgpt, source
    from draftvault.store import Vault
before = rss_kb()
t = time.perf_counter()
if mode == "json":
    with open(path, "rb") as f:
        n = len(json.load(f))
elif mode == "parse":
    n = 0
    with ExitStack() as stack:
        (src,) = source.find(Path(path), stack, lambda name: True, "conversations.json", lambda name: name)
        for _, _, raw in source.records(src, source.Meter(src.size, None)):
            chatgpt.thread(chatgpt._decoder.decode(raw))
            n += 1
else:
    vault = Vault.open(Path(home))
    n = chatgpt.import_chatgpt_export(vault, path).conversations
    vault.close()
elapsed = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"n": n, "s": elapsed, "peak_mb": (peak - before) / 1024}))
"""


def run(mode: str, path: Path, home: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(path), str(home)], check=True,
                         capture_output=True, text=True, env={**os.environ, "DRAFTVAULT_HOME": str(home)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "conversations.json"
        t = time.perf_counter()
        n = generate(path, SIZE_MB)
        mb = path.stat().st_size / 2**20
        print(f"generated {mb:.0f} MB, {n} conversations in {time.perf_counter() - t:.1f} s")
        rows = [("json.load (baseline)", run("json", path, Path(tmp) / "h0")),
                ("streamed parse only", run("parse", path, Path(tmp) / "h1")),
                ("import into vault", run("import", path, Path(tmp) / "h2"))]
        base = rows[0][1]
        print(f"{'':24} {'time s':>8} {'MB/s':>7} {'peak RSS MB':>12} {'vs baseline':>12}")
        for name, r in rows:
            print(f"{name:24} {r['s']:8.1f} {mb / r['s']:7.1f} {r['peak_mb']:12.0f} {r['peak_mb'] / base['peak_mb']:11.2f}x")
        assert all(r["n"] == n for _, r in rows), "every run must see every conversation"


if __name__ == "__main__":
    main()
