"""Export of 10,000 conversations (DRAFTVAULT_BENCH_EXPORT_N) from a generated vault.

Baseline, measured in this run: reading every conversation (`vault.get_conversation`,
which decrypts it), the least any export must do. Then the .zip export as Markdown
and as JSON, which read, render, compress and write each conversation.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

from draftvault.export import all_ids, export_zip
from draftvault.store import Vault

N = int(os.environ.get("DRAFTVAULT_BENCH_EXPORT_N", "10000"))
WORDS = ("the of and to in is that for it as with was on be by this are from or have an not but what all "
         "vault draft answer model token stream error capacity python function return value list table").split()


def fill(vault: Vault, n: int) -> None:
    rng = random.Random(7)

    def text(k: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(k))

    with vault.transaction():
        for i in range(n):
            turns = [("user" if k % 2 == 0 else "assistant", text(rng.randint(10, 120))) for k in range(rng.randint(2, 12))]
            if rng.random() < 0.3:
                turns[-1] = ("assistant", turns[-1][1] + "\n\n```python\nprint('hello')\n```")
            vault.import_conversation(
                site="chatgpt", conversation_id=f"bench-{i}", title=text(5), url=f"https://chatgpt.com/c/bench-{i}",
                model="gpt-4o", created_at="2026-01-01T00:00:00.000+00:00",
                updated_at=f"2026-01-01T00:00:{i % 60:02d}.000+00:00", turns=turns,
            )


def generated_vault(tmp: str, n: int) -> Vault:
    """A vault of `n` generated conversations in `tmp`/home (also used by bench_page.py)."""
    home = Path(tmp) / "home"
    home.mkdir(mode=0o700)
    vault = Vault.open(home)
    t = time.perf_counter()
    fill(vault, n)
    print(f"generated a vault of {n} conversations in {time.perf_counter() - t:.1f} s")
    return vault


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        vault = generated_vault(tmp, N)

        t = time.perf_counter()
        ids = all_ids(vault)
        for id in ids:
            vault.get_conversation(id)
        base = time.perf_counter() - t
        rows = [("read every conversation (baseline)", base, None)]
        for fmt in ("md", "json"):
            out = Path(tmp) / f"export-{fmt}.zip"
            t = time.perf_counter()
            count = export_zip(vault, None, fmt, out)
            rows.append((f"export_zip {fmt}", time.perf_counter() - t, out.stat().st_size))
            assert count == N, f"exported {count} of {N}"
        vault.close()
    print(f"{'':36} {'time s':>8} {'conv/s':>8} {'zip MB':>7} {'vs baseline':>12}")
    for name, s, size in rows:
        mb = f"{size / 2**20:7.1f}" if size else f"{'':7}"
        print(f"{name:36} {s:8.2f} {N / s:8.0f} {mb} {s / base:11.2f}x")


if __name__ == "__main__":
    sys.exit(main())
