"""The problem-solving cycle in headless Chromium: register a hotspot, set its start, see its evaluation.

The app is started as `make run` starts it (the real 2025 sample loaded into a fresh store);
every request leaving the machine is refused. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from test_browser import FOLIUM, free_port, launch, new_page, shot, start_app, stop_app, wait_idle

from hotspots import register as reg

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def cycle_app(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("cycle")
    store = tmp / "store.duckdb"
    port = free_port()
    proc = start_app(port, store, tmp / "app.log")
    try:
        yield f"http://localhost:{port}", store
    finally:
        stop_app(proc)


@pytest.fixture(scope="module")
def cycle_browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def register_download(page, tmp: Path) -> pd.DataFrame:
    """The register as the Places page's Excel download holds it (the app holds the store open)."""
    with page.expect_download(timeout=60000) as dl:
        page.get_by_role("button", name="Download the register (Excel)").click()
    path = tmp / "register.xlsx"
    dl.value.save_as(path)
    return pd.read_excel(path, sheet_name=0)


def set_start_on_places_page(page, url: str, place_id: int, start: str) -> None:
    """Open the Places page on ``place_id``, set its start and make it active."""
    page.goto(f"{url}/places", timeout=180000)
    page.get_by_role("heading", name="Places").first.wait_for(timeout=120000)
    wait_idle(page, 120)
    page.get_by_label("Intervention start (YYYY-MM or YYYY-MM-DD)").fill(start)
    page.get_by_label("Intervention start (YYYY-MM or YYYY-MM-DD)").press("Tab")
    status = page.get_by_label("Status", exact=True).last  # the edit form's, after the register filter
    status.click()
    page.get_by_role("option", name="active", exact=True).click()
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text(f"Saved #{place_id}.").wait_for(timeout=60000)
    wait_idle(page, 120)


def test_register_from_wards_set_start_on_the_places_page(cycle_app, cycle_browser, tmp_path):
    url, _ = cycle_app
    page = new_page(cycle_browser)
    page.goto(f"{url}/places", timeout=180000)
    page.get_by_text("The register is empty").wait_for(timeout=120000)
    wait_idle(page, 120)
    page.get_by_role("tab", name="From wards or LSOAs").click()
    box = page.get_by_label("Wards making up the place", exact=True)
    box.click()
    box.fill("Hanley Park")
    page.get_by_role("option").first.click()
    page.keyboard.press("Escape")
    wait_idle(page, 60)
    page.get_by_label("Group (meeting)", exact=True).last.fill("Stoke North GIG")
    page.get_by_role("button", name="Add to register").last.click()
    page.get_by_text("Added place #1.").wait_for(timeout=60000)
    wait_idle(page, 60)
    set_start_on_places_page(page, url, 1, "2025-09")
    metrics = page.locator('[data-testid="stMetric"]').all_inner_texts()
    assert any("Intervention start" in m and "2025-09-01" in m for m in metrics), metrics
    assert any("Status" in m and "Active" in m for m in metrics), metrics
    page.frame_locator(FOLIUM).first.locator(".hs-legend").first.wait_for(timeout=60000)
    page.get_by_role("heading", name="Places").first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    shot(page, "places_page")
    page.get_by_role("button", name="Save changes").scroll_into_view_if_needed()
    shot(page, "places_page_details")
    rows = register_download(page, tmp_path)
    assert rows["name"].tolist()[0].startswith("Hanley Park")
    assert rows["status"].tolist() == ["active"]
    assert rows["start"].astype(str).tolist() == ["2025-09-01"]
    assert rows["updated_by"].tolist() == [reg.DASHBOARD_AUTHOR]
    assert rows["source"].iloc[0].startswith("wards E05")
    page.close()
