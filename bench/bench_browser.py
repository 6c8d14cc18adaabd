"""Time the dashboard in headless Chromium: page loads and a filter change.

Starts the app as `make run` does (on a temporary store loaded with the sample), then prints
the times a person waits. Budgets (issue 5): page load <= 3 s, filter change redraw <= 1 s.

    .venv/bin/python bench/bench_browser.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_browser import FOLIUM, free_port, launch, legend, new_page, start_app, stop_app, wait_idle

PAGES = {
    "Map": ("/", FOLIUM),
    "Hotspots": ("/hotspots", '[data-testid="stDataFrame"]'),
    "Trends & seasonality": ("/trends", '[data-testid="stVegaLiteChart"]'),
    "Ward profile": ("/profile", '[data-testid="stVegaLiteChart"]'),
    "Data": ("/data", '[data-testid="stTabs"]'),
}


def load(browser, url: str, selector: str) -> float:
    page = new_page(browser)
    t = time.perf_counter()
    page.goto(url)
    page.locator(selector).first.wait_for(timeout=60000)
    if selector == FOLIUM:
        legend(page)
    wait_idle(page, 60)
    took = time.perf_counter() - t
    page.close()
    return took


def filter_change(browser, url: str, categories: list[str]) -> list[float]:
    """Seconds from choosing a category to the map's legend showing the new classes."""
    page = new_page(browser)
    page.goto(url)
    current = legend(page)
    wait_idle(page)
    times = []
    for cat in categories:
        box = page.get_by_label("Crime and ASB types", exact=True)
        box.click()
        box.fill(cat)
        option = page.get_by_role("option", name=cat, exact=True)
        option.wait_for()
        t = time.perf_counter()
        option.click()
        page.wait_for_function(
            '(before) => { const f = document.querySelector("' + FOLIUM.replace('"', '\\"') + '");'
            " const l = f && f.contentDocument && f.contentDocument.querySelector('.hs-legend');"
            " return l && l.innerText !== before; }",
            arg=current,
            timeout=30000,
        )
        times.append(time.perf_counter() - t)
        page.keyboard.press("Escape")
        wait_idle(page)
        current = legend(page)
    page.close()
    return times


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    port = free_port()
    t = time.perf_counter()
    proc = start_app(port, tmp / "store.duckdb", tmp / "app.log")
    print(f"make run (load the sample, start the server): {time.perf_counter() - t:.1f} s")
    url = f"http://localhost:{port}"
    try:
        with sync_playwright() as p:
            browser = launch(p)
            first = load(browser, url + "/", FOLIUM)
            print(f"first page load after start (cold caches): {first:.2f} s")
            worst = 0.0
            for name, (path, selector) in PAGES.items():
                runs = [load(browser, url + path, selector) for _ in range(3)]
                worst = max(worst, statistics.median(runs))
                print(
                    f"page load {name:<22} median {statistics.median(runs):.2f} s  (runs: "
                    + ", ".join(f"{r:.2f}" for r in runs)
                    + ")"
                )
            changes = filter_change(browser, url + "/", ["Burglary", "Shoplifting", "Drugs", "Robbery"])
            print(
                "filter change, map and table redrawn: median "
                f"{statistics.median(changes):.2f} s (runs: " + ", ".join(f"{c:.2f}" for c in changes) + ")"
            )
            browser.close()
    finally:
        stop_app(proc)
    print(
        f"budgets: page load <= 3 s (worst median {worst:.2f} s: {'ok' if worst <= 3 else 'OVER'}); "
        f"filter change <= 1 s ({'ok' if statistics.median(changes) <= 1 else 'OVER'})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
