"""A monthly load from the command line while the dashboard serves (issue 13).

The app is started as `make run` starts it, on a store holding January to November 2025 of the
real Staffordshire sample. While it serves and a browser session is open, `hotspots ingest`
loads the real December file and `hotspots summary` keeps working; the open session then sees
December on its next interaction, with a short notice.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from browser_util import new_page, serving, shot, wait_idle

from hotspots.ingest import ingest
from hotspots.store import Store

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_ZIP = ROOT / "sample_data" / "staffordshire-2025-street.zip"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HOTSPOTS_STORE"}
    return subprocess.run(
        [sys.executable, "-m", "hotspots.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_new_month_loaded_while_the_dashboard_serves_shows_in_the_open_session(browser, tmp_path):
    months = {}
    with zipfile.ZipFile(SAMPLE_ZIP) as zf:
        for name in sorted(n for n in zf.namelist() if n.endswith(".csv")):
            months[name[:7]] = tmp_path / Path(name).name
            months[name[:7]].write_bytes(zf.read(name))
    store = tmp_path / "store.duckdb"
    with Store(store) as s:
        ingest([months[f"2025-{m:02d}"] for m in range(1, 12)], store=s)
    with serving(store, tmp_path / "app.log") as url:
        page = new_page(browser)
        page.goto(f"{url}/data", timeout=240000)
        page.get_by_role("tab", name="What the store holds").wait_for(timeout=90000)
        wait_idle(page, 90)
        page.get_by_role("tab", name="What the store holds").click()
        assert page.get_by_text("Jan 2025 to Nov 2025").is_visible()

        before = cli("summary", "--store", str(store))
        assert before.returncode == 0, before.stderr
        load = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hotspots.cli",
                "ingest",
                str(months["2025-12"]),
                "--store",
                str(store),
            ],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if k != "HOTSPOTS_STORE"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        during = cli("summary", "--json", "--store", str(store))  # while the load runs
        out, err = load.communicate(timeout=300)
        assert load.returncode == 0, err
        assert "2025-12-staffordshire-street.csv" in out
        assert during.returncode == 0, during.stderr
        after = cli("summary", "--store", str(store))
        assert after.returncode == 0, after.stderr
        assert "2025-12" in after.stdout and "2025-12" not in before.stdout

        # the open session's next interaction: go to the map and back through the sidebar
        page.get_by_role("link", name="Map").first.click()
        notice = page.get_by_text("New data loaded:")
        notice.wait_for(timeout=90000)
        assert "Jan 2025 to Dec 2025" in notice.inner_text()
        shot(page, "serve_new_month_notice")
        wait_idle(page, 90)
        page.get_by_role("link", name="Data").first.click()
        page.get_by_role("tab", name="What the store holds").wait_for(timeout=90000)
        wait_idle(page, 90)
        page.get_by_role("tab", name="What the store holds").click()
        # the tab's own summary (the new-data notice may still be shown above it)
        page.get_by_test_id("stTabs").get_by_text("Jan 2025 to Dec 2025").wait_for(timeout=30000)
        shot(page, "serve_new_month_data_page")
