"""The history page at 10,000 conversations (DRAFTVAULT_BENCH_PAGE_N) in Debian's
Chromium (Playwright, headless) against a real `draftvault serve`.

Figures: the page's first paint and its first rows after a reload; scrolling the list
to its end (every conversation listed, as the page loads them while it scrolls).
Baselines, measured in this run from the same page: fetching the first page of rows
through the API, and fetching every row through the API in the page's pages (data
without the page's rendering); the rows rendered per second show what the page adds.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.request

from playwright.sync_api import sync_playwright

from bench_export import generated_vault
from bench_service import Service, median

N = int(os.environ.get("DRAFTVAULT_BENCH_PAGE_N", "10000"))
CHROMIUM = "/usr/bin/chromium"
RUNS = 3

FIRST_ROWS = "() => document.querySelectorAll('#results .row').length > 0 && performance.now()"
FIRST_PAINT = "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime"
# Fetches what the list fetches, in its page size, without rendering: the baseline.
FETCH_ALL = """async (page) => {
  const t0 = performance.now();
  let offset = 0, got = 0;
  for (;;) {
    const res = await fetch(`/api/conversations?limit=${page}&offset=${offset}`);
    const items = (await res.json()).items;
    got += items.length; offset += items.length;
    if (items.length < page) return [performance.now() - t0, got];
  }
}"""
FETCH_FIRST = """async (page) => {
  const t0 = performance.now();
  await (await fetch(`/api/conversations?limit=${page}`)).json();
  return performance.now() - t0;
}"""
# Scrolls the list to its end as a person would, until everything is listed.
SCROLL_TO_END = """async () => {
  const t0 = performance.now();
  const pane = document.getElementById("list-pane");
  const status = document.getElementById("list-status");
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  while (status.textContent.includes("more as you scroll")) {
    pane.scrollTo(0, pane.scrollHeight);
    await frame();
  }
  await frame();
  return [performance.now() - t0, document.querySelectorAll("#results .row").length];
}"""


def login_link(service: Service) -> str:
    req = urllib.request.Request(service.url + "/api/login-link", method="POST",
                                 headers={"Authorization": f"Bearer {service.token}"})
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read())["url"]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        vault = generated_vault(tmp, N)
        home = vault.home
        vault.close()
        service = Service(home)
        service.start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
                page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
                page.set_default_timeout(600_000)
                page.goto(login_link(service))
                page.wait_for_url(service.url + "/")
                page_size = 200  # list.js PAGE
                rows = {k: [] for k in ("api first", "paint", "rows", "api all", "scroll")}
                for _ in range(RUNS):
                    rows["api first"].append(page.evaluate(FETCH_FIRST, page_size))
                    page.reload()
                    rows["rows"].append(page.wait_for_function(FIRST_ROWS).json_value())
                    rows["paint"].append(page.evaluate(FIRST_PAINT))
                    ms, got = page.evaluate(FETCH_ALL, page_size)
                    assert got == N, f"the API listed {got} of {N}"
                    rows["api all"].append(ms)
                    ms, listed = page.evaluate(SCROLL_TO_END)
                    assert listed == N, f"the page listed {listed} of {N}"
                    rows["scroll"].append(ms)
                browser.close()
        finally:
            service.stop()
    first, every = median(rows["api first"]), median(rows["api all"])
    print(f"median of {RUNS} runs, {N} conversations, Chromium {CHROMIUM}")
    print(f"{'':48} {'ms':>9} {'vs baseline':>12}")
    print(f"{'API: first page of rows (baseline)':48} {first:9.1f}")
    print(f"{'page: first contentful paint':48} {median(rows['paint']):9.1f}")
    shown = median(rows["rows"])
    print(f"{'page: first rows shown':48} {shown:9.1f}")
    print(f"{'page: first rows after the first paint':48} {shown - median(rows['paint']):9.1f} {(shown - median(rows['paint'])) / first:11.1f}x")
    print(f"{'API: every row in pages (baseline)':48} {every:9.1f}")
    scroll = median(rows["scroll"])
    print(f"{'page: scroll to the end, every row listed':48} {scroll:9.1f} {scroll / every:11.1f}x")
    print(f"rows listed per second while scrolling: {N / scroll * 1000:.0f}")


if __name__ == "__main__":
    sys.exit(main())
