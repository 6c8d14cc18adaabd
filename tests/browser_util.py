"""What every browser test and browser bench shares: starting the app as `make run` does,
Debian Chromium with the agreed flags, an offline page, and robust widget helpers.

Every request that leaves the machine is refused (as on an offline meeting-room laptop), so
the map must draw with the vendored Leaflet and no basemap tiles. Screenshots go to
tests/artifacts/.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
LOCAL = ("http://localhost", "http://127.0.0.1", "ws://localhost", "data:", "blob:", "about:")
FOLIUM = "iframe[title='streamlit_folium.st_folium']"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, store: Path, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`make run` with a port and store, in its own process group; returns once the port answers.

    ``env`` adds to (or overrides) the environment, e.g. ``{"HOTSPOTS_LOCAL_ROLE": "viewer"}``.
    """
    full = {k: v for k, v in os.environ.items() if k != "HOTSPOTS_STORE"} | (env or {})
    proc = subprocess.Popen(
        ["make", "run", f"PORT={port}", f"STORE={store}"],
        cwd=ROOT,
        env=full,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"make run exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.5)
    stop_app(proc)
    raise RuntimeError(f"the app did not listen on port {port}: {log.read_text()[-2000:]}")


def stop_app(proc: subprocess.Popen) -> None:
    """Stop the app's whole process group (make, streamlit and its children)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


@contextmanager
def serving(store: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """The app serving ``store`` on a free port, for the ``with`` block; yields its URL."""
    port = free_port()
    proc = start_app(port, store, log, env)
    try:
        yield f"http://localhost:{port}"
    finally:
        stop_app(proc)


def launch(playwright):
    """Debian's headless Chromium (Playwright's own browser download does not work here)."""
    exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("Debian chromium is not installed (make browser)")
    return playwright.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)


@contextmanager
def chromium() -> Iterator:
    """A launched browser for the ``with`` block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, navigation_timeout: float = 90):
    """An offline page: requests that leave the machine are refused, and listed in ``page.refused``.

    ``navigation_timeout`` (seconds) is long: a shared 2-core machine under load, or an app
    warming its caches on first start, can take over 30 s.
    """
    page = browser.new_page(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
    page.set_default_navigation_timeout(navigation_timeout * 1000)
    page.refused = []

    def offline(route) -> None:
        if route.request.url.startswith(LOCAL):
            route.continue_()
        else:
            page.refused.append(route.request.url)
            route.abort()

    page.route("**/*", offline)
    return page


def open_map(browser, address: str):
    """A new offline page at ``address``, once its map has drawn its rank labels and the app is idle."""
    page = new_page(browser)
    page.goto(address)
    page.frame_locator(FOLIUM).first.locator(".hs-rank").first.wait_for(timeout=60000)
    wait_idle(page, 60)
    return page


def map_window(page):
    """The live map's frame (streamlit-folium's iframe), to evaluate scripts in."""
    return page.locator(FOLIUM).first.element_handle().content_frame()


def wait_idle(page, timeout: float = 30) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_timeout(150)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout * 1000
    )


def legend(page) -> str:
    """The text of the map's first legend (inside the streamlit-folium iframe)."""
    box = page.frame_locator(FOLIUM).first.locator(".hs-legend").first
    box.wait_for(timeout=30000)
    return box.inner_text()


def pick(page, label: str, option: str, attempts: int = 3) -> None:
    """Pick ``option`` in the selectbox or multiselect labelled ``label``.

    Each pick reruns the script; a box typed into while a rerun redraws the form loses its text
    and never lists the option, so wait for the app to be idle and try again.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        wait_idle(page, 60)
        box = page.get_by_label(label, exact=True)
        box.scroll_into_view_if_needed()
        box.click()
        box.fill(option)
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=15000)
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the multiselect labelled ``label`` and close its list."""
    pick(page, label, option)
    page.keyboard.press("Escape")


def open_data_tab(page, url: str, tab: str) -> None:
    """Open the Data page and its tab named ``tab``."""
    page.goto(f"{url}/data")
    page.get_by_role("tab", name=tab).wait_for(timeout=60000)
    wait_idle(page, 60)
    page.get_by_role("tab", name=tab).click()


def uploader(page):
    """The file input of the Data page's open tab (the first one if the tab has two)."""
    return page.locator('[role="tabpanel"]:visible [data-testid="stFileUploaderDropzoneInput"]')


def upload(page, path: Path, nth: int = 0) -> None:
    """Put ``path`` in the open tab's ``nth`` file uploader and wait until the app has it."""
    uploader(page).nth(nth).set_input_files(str(path))
    chip = page.locator(f'[role="tabpanel"]:visible [data-testid="stFileChip"][aria-label^="{path.name},"]')
    chip.first.wait_for(timeout=60000)
    chip.locator('[data-testid="stFileChipIconSpinner"]').first.wait_for(state="detached", timeout=60000)


def shot(page, name: str) -> Path:
    """Screenshot the page into tests/artifacts/NAME.png (look at them)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
