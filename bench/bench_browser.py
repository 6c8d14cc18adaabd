"""Time the dashboard in headless Chromium: server start, every page's load and a filter change.

Starts the app as `make run` does (on a temporary store, which `make run` fills with the sample
first), then prints the times a person waits:

- the server start: `make run` until the port answers, then until the server answers requests
  (it warms its caches first, see dashboard/warm.py);
- the first page load after the server is up (nothing cached in the browser or the session);
- every page's load (three runs each, median);
- a filter change on the Map page: choosing a type until the map's legend shows the new classes.

Budgets (issue 5): a page load <= 3 s once the server is up; a filter change <= 1 s.

    .venv/bin/python bench/bench_browser.py [--store FILE]

``--store``: time the app on a copy of that store (for example the 1M-incident, three-year store
``bench/bench_engine.py --micro-only --store FILE`` builds) instead of the sample.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser_util import FOLIUM, free_port, launch, legend, new_page, start_app, stop_app, wait_idle

PAGE_BUDGET = 3.0
FILTER_BUDGET = 1.0
PAGES = {
    "Map": ("/", FOLIUM),
    "Hotspots": ("/hotspots", '[data-testid="stDataFrame"]'),
    "Hotspots, place 1 open": ("/hotspots?place=1", f"{FOLIUM} >> .hs-count"),
    "Trends & seasonality": ("/trends", '[data-testid="stVegaLiteChart"]'),
    "Ward profile": ("/profile", '[data-testid="stVegaLiteChart"]'),
    "Data": ("/data", '[data-testid="stTabs"]'),
}


def wait_ready(url: str, timeout: float = 300) -> None:
    """Wait until the server answers its health check (after the start-up warm-up)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer its health check within {timeout} s")


def load(browser, url: str, selector: str) -> float:
    """Seconds from opening ``url`` in a new tab to its main element drawn and the script done."""
    page = new_page(browser)
    t = time.perf_counter()
    page.goto(url)
    if " >> " in selector:  # an element inside the map's iframe
        frame, inner = selector.split(" >> ")
        page.frame_locator(frame).first.locator(inner).first.wait_for(timeout=60000)
    else:
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


def choose_places(browser, url: str, ranks: list[int]) -> list[float]:
    """Seconds from choosing a place on the Hotspots page to its micro-map drawn (counts at its points)."""
    page = new_page(browser)
    page.goto(url + "/hotspots")
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60000)
    wait_idle(page, 60)
    times = []
    for rank in ranks:
        page.get_by_label("Place", exact=True).click()
        option = page.get_by_role("option", name=re.compile(f"^{rank}\\. "))
        option.wait_for()
        t = time.perf_counter()
        option.click()
        page.get_by_role("heading", name=re.compile(f"^{rank}\\. ")).wait_for(timeout=60000)
        page.frame_locator(FOLIUM).first.locator(".hs-count").first.wait_for(timeout=60000)
        times.append(time.perf_counter() - t)
        wait_idle(page)
    page.close()
    return times


def runs(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} s  (runs: " + ", ".join(f"{v:.2f}" for v in values) + ")"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--store", type=Path, help="a store to time the app on (copied first); default: the sample"
    )
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    if args.store is not None:
        shutil.copy(args.store, tmp / "store.duckdb")
        print(f"store: a copy of {args.store}")
    port = free_port()
    url = f"http://localhost:{port}"
    t = time.perf_counter()
    proc = start_app(port, tmp / "store.duckdb", tmp / "app.log")
    listening = time.perf_counter() - t
    wait_ready(url)
    ready = time.perf_counter() - t
    print(
        f"make run: sample loaded and port open after {listening:.1f} s; server up (caches warm) after {ready:.1f} s"
    )
    verdicts = []
    try:
        with sync_playwright() as p:
            browser = launch(p)
            first = load(browser, url + "/", FOLIUM)
            print(f"first page load after the server is up (Map):  {first:.2f} s")
            verdicts.append(("first page load", first, PAGE_BUDGET))
            for name, (path, selector) in PAGES.items():
                times = [load(browser, url + path, selector) for _ in range(3)]
                print(f"page load {name:<22} {runs(times)}")
                verdicts.append((f"page load {name}", statistics.median(times), PAGE_BUDGET))
            picks = choose_places(browser, url, [2, 3, 4, 2])
            print(f"choosing a place on the Hotspots page, micro-map drawn: {runs(picks)}")
            verdicts.append(("choosing a place", statistics.median(picks), FILTER_BUDGET))
            changes = filter_change(browser, url + "/", ["Burglary", "Shoplifting", "Drugs", "Robbery"])
            print(f"filter change, map and table redrawn: {runs(changes)}")
            verdicts.append(("filter change", statistics.median(changes), FILTER_BUDGET))
            browser.close()
    finally:
        stop_app(proc)
    print("budgets:")
    for name, took, budget in verdicts:
        print(f"  {name:<32} {took:5.2f} s  budget {budget:.0f} s  {'ok' if took <= budget else 'OVER'}")
    print(f"server log: {tmp / 'app.log'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
