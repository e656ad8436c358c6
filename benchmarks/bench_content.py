"""Content script cost in Chromium with the real extension, on the fake chatgpt.com
(tests/sitepages) with a 5-turn and a 500-turn conversation, and a 500-turn one showing
10 images (generated images as chatgpt.com renders them, tests/sitepages/images.py), put
in just before typing starts: content/attachments.js fetches and sends them while the
keys and the pieces come, and its own time is counted in the flushes after it.

Figures, measured in this run (capture.js reports them when chrome.storage.local
`debugCapture` is set: the time of each debounced flush plus the MutationObserver
callbacks before it, the part of it spent in chrome.runtime.sendMessage handing the
frame to the worker (the same for any length), and the bytes of the frames it sent;
the content script's clock is coarse, 0.1 ms):
  - per keystroke: one key, then a pause longer than the debounce, so each flush is one keystroke
  - per mutation batch: an answer streaming in pieces, one piece per flush
  - bytes sent per keystroke
  - all scripts per keystroke: the renderer's ScriptDuration (DevTools protocol) over the
    typing, divided by the keys: capture, signals.js and the page, each key's whole cost
  - baseline: a naive capture that reads every turn on each change (adapter.readTurn over
    all turns, timed in the page), the cost the per-turn cache avoids
  - images kept: attachment frames in the worker's outbox at the end (one per image; each
    fetched once: the fetches the estuary route saw)
Goals: under 2 ms per keystroke and per batch, flat from 5 to 500 turns and with 10 images;
bytes per keystroke independent of the conversation's length.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sitepages import chatgpt  # noqa: E402
from sitepages.base import CHROMIUM, CHROMIUM_FLAGS, EXTENSION_DIR  # noqa: E402
from sitepages.images import GENERATED, INSERT, Estuary, png  # noqa: E402

EXTENSION_ID = "chplhlmlobckblhjmicoamkpblapcgpg"
KEYS = 25
PIECES = 25
PAUSE = 0.4  # > capture's 300 ms debounce: one flush per key / piece

NAIVE = """async () => {
  const a = (await import('chrome-extension://%s/sites/chatgpt.js')).default;
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    a.turnElements(document).map((el) => a.readTurn(el));
    times.push(performance.now() - t0);
  }
  return times.sort((x, y) => x - y)[2];
}""" % EXTENSION_ID


def worker(context):
    for w in context.service_workers:
        if w.url.startswith(f"chrome-extension://{EXTENSION_ID}/"):
            return w
    return context.wait_for_event("serviceworker", timeout=15000)


def metrics(sw, url):
    """The flushes capture.js measured since the last call ([] while it is loading)."""
    answer = sw.evaluate(
        """async (url) => { const [tab] = (await chrome.tabs.query({})).filter((t) => t.url === url);
             return chrome.tabs.sendMessage(tab.id, {type: 'dv:debug-metrics'}).catch(() => null); }""",
        url,
    )
    return answer["flushes"] if answer else []


def turns(n: int):
    out = []
    for i in range(n):
        if i % 2 == 0:
            out.append(("user", f"Question {i}: how does part {i} of the pipeline work, and why?"))
        else:
            out.append(("assistant", f"Part {i} works like this:\n\n- it reads **input**\n- it writes `output`\n\n"
                        f"```python\ndef part_{i}(x):\n    return x + {i}\n```\n\nThat is all."))
    return out


QUEUED = """async () => {
  const db = await new Promise((ok, fail) => { const r = indexedDB.open('draftvault'); r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error); });
  const all = await new Promise((ok) => { const r = db.transaction('frames').objectStore('frames').getAll();
    r.onsuccess = () => ok(r.result); });
  return all.filter((e) => e.frame.type === 'attachment' && e.frame.parts > 0).length;
}"""


def measure(context, sw, site, n: int, estuary: Estuary | None = None) -> dict:
    tab = site.open(f"bench-{n}{'-images' if estuary else ''}", turns=turns(n), title=f"Bench {n}")
    url = tab.page.url
    deadline = time.monotonic() + 30
    while not any(f["bytes"] and f["turnCount"] == n for f in metrics(sw, url)):
        if time.monotonic() > deadline:
            raise SystemExit(f"no full snapshot of the {n}-turn chat")
        time.sleep(0.2)
    queued = sw.evaluate(QUEUED)
    if estuary:  # ten answers spread over the chat get a generated image each
        tab.page.evaluate(INSERT, [[1 + k * (n // 10), GENERATED.format(src=estuary.url(id))]
                                   for k, id in enumerate(estuary.files)])
    cdp = context.new_cdp_session(tab.page)
    cdp.send("Performance.enable")
    tab.page.click(chatgpt.CONFIG["composer"])
    time.sleep(PAUSE)
    before = script_seconds(cdp)
    for ch in "the quick brown fox jumps"[:KEYS]:
        tab.page.keyboard.type(ch)
        time.sleep(PAUSE)
    time.sleep(PAUSE)
    all_scripts = (script_seconds(cdp) - before) * 1000 / KEYS
    keys = [f for f in metrics(sw, url) if f["turnsFrom"] == f["turnCount"] == n and f["bytes"]]
    tab.stream_start()
    for i in range(PIECES):
        tab.stream_chunk(f"piece {i} ")
        time.sleep(PAUSE)
    time.sleep(PAUSE)
    batches = [f for f in metrics(sw, url) if f["turnCount"] == n + 1 and f["turnsFrom"] == n]
    naive = tab.page.evaluate(NAIVE)
    images = fetched = 0
    if estuary:
        deadline = time.monotonic() + 30
        while (images := sw.evaluate(QUEUED) - queued) < len(estuary.files) and time.monotonic() < deadline:
            tab.page.wait_for_timeout(200)  # route handlers run inside Playwright's calls
        fetched = sum(len(estuary.fetched(id)) for id in estuary.files)
    tab.close()
    return {"keys": keys, "batches": batches, "naive": naive, "all": all_scripts, "images": images, "fetched": fetched}


def script_seconds(cdp) -> float:
    """The renderer's total script time so far (every world: page, capture, signals)."""
    return next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"] if m["name"] == "ScriptDuration")


def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main() -> None:
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True,
            args=[f"--disable-extensions-except={EXTENSION_DIR}", f"--load-extension={EXTENSION_DIR}", *CHROMIUM_FLAGS],
        )
        sw = worker(context)
        # No service: frames wait in the outbox, which costs the page nothing.
        sw.evaluate("chrome.storage.local.set({debugCapture: true, serverUrl: 'http://127.0.0.1:9'})")
        site = chatgpt.serve(context)
        results = {n: measure(context, sw, site, n) for n in (5, 500)}
        results["images"] = measure(context, sw, site, 500, Estuary(context, {f"file_{k:02d}": png(k + 2) for k in range(10)}))
        context.close()

    print(f"{'':34}{'5 turns':>14}{'500 turns':>14}{'500 + 10 images':>16}")
    own = lambda f: f["ms"] - f["sendMs"]  # noqa: E731
    rows = [
        ("keystroke ms (median)", lambda r: statistics.median(f["ms"] for f in r["keys"])),
        ("  capture's own work (median)", lambda r: statistics.median(own(f) for f in r["keys"])),
        ("  capture's own work (p95)", lambda r: p([own(f) for f in r["keys"]], 0.95)),
        ("  runtime.sendMessage (median)", lambda r: statistics.median(f["sendMs"] for f in r["keys"])),
        ("mutation batch ms (median)", lambda r: statistics.median(f["ms"] for f in r["batches"])),
        ("  capture's own work (median)", lambda r: statistics.median(own(f) for f in r["batches"])),
        ("  capture's own work (p95)", lambda r: p([own(f) for f in r["batches"]], 0.95)),
        ("  runtime.sendMessage (median)", lambda r: statistics.median(f["sendMs"] for f in r["batches"])),
        ("bytes per keystroke (median)", lambda r: statistics.median(f["bytes"] for f in r["keys"])),
        ("all page scripts ms per keystroke", lambda r: r["all"]),
        ("baseline: naive re-read ms", lambda r: r["naive"]),
    ]
    for name, fn in rows:
        print(f"{name:34}{fn(results[5]):>14.3f}{fn(results[500]):>14.3f}{fn(results['images']):>16.3f}")
    print(f"samples: {len(results[500]['keys'])} keystrokes, {len(results[500]['batches'])} batches per size")
    print(f"images kept: {results['images']['images']} of 10 (fetches: {results['images']['fetched']})")
    print("goal: < 2 ms per keystroke and per batch, flat; bytes per keystroke independent of length")


if __name__ == "__main__":
    main()
