"""A new user loads a road-collision extract (STATS19 layout) through the Data page's mapping form.

Separate date and time columns, coded severities with labels, an extra column kept; then the
Demand & harm page finds the persistent multi-agency places. The file is the constructed one in
``tests/data`` (see its README). Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from browser_util import new_page, pick, serving, shot, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def partner_app(sample_store_path, tmp_path_factory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("partner_app")
    store = tmp / "store.duckdb"
    shutil.copy(sample_store_path, store)
    with serving(store, tmp / "app.log") as url:
        yield url


def test_stats19_extract_through_the_mapping_form(partner_app, browser, tmp_path):
    raw = pd.read_csv(DATA / "stats19_constructed.csv", dtype=str, keep_default_na=False)
    page = new_page(browser)
    page.set_default_navigation_timeout(240000)  # the server answers once its caches are warm
    page.set_default_timeout(60000)
    page.goto(f"{partner_app}/data")
    page.get_by_role("tab", name="Partner data").wait_for(timeout=60000)
    wait_idle(page, 60)
    page.get_by_role("tab", name="Partner data").click()
    csv = tmp_path / "collisions-2025.csv"
    shutil.copy(DATA / "stats19_constructed.csv", csv)
    page.locator(
        '[role="tabpanel"]:visible [data-testid="stFileUploaderDropzoneInput"]'
    ).first.set_input_files(str(csv))
    page.get_by_text("Columns found: Accident_Index").wait_for(timeout=60000)
    page.get_by_role("textbox", name="Source name").fill("collisions")
    pick(page, "Date or month column", "Date")
    pick(page, "Category column", "Accident_Severity")
    pick(page, "Longitude or easting", "Longitude")
    pick(page, "Latitude or northing", "Latitude")
    pick(page, "Case reference (optional)", "Accident_Index")
    page.get_by_text("Time of day, coded categories, more columns").click()
    page.get_by_label("Time column (when separate from the date)", exact=True).wait_for()
    pick(page, "Time column (when separate from the date)", "Time")
    page.get_by_role("textbox", name="Date format (optional)").fill("%d/%m/%Y")
    page.get_by_role("textbox", name="Category labels for coded categories (optional)").fill(
        "1=Fatal, 2=Serious, 3=Slight"
    )
    pick(page, "More columns to keep", "Speed_limit")
    page.keyboard.press("Escape")  # a multiselect stays open after a pick
    shot(page, "data_partner_stats19_mapping")
    page.get_by_role("button", name="Load partner data").click()
    summary = page.locator('[data-testid="stAlert"]').filter(has_text="collisions-2025.csv")
    summary.first.wait_for(timeout=120000)
    wait_idle(page, 60)
    text = summary.first.inner_text()
    assert f"{len(raw)} accepted" in text and "collisions" in text, text
    shot(page, "data_partner_stats19_loaded")
    # the labels are the categories: the Map page counts the slight collisions
    slight = int((raw["Accident_Severity"] == "3").sum())
    page.goto(f"{partner_app}/?sources=collisions&categories=Slight")
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Incidents").first
    metric.wait_for(timeout=60000)
    wait_idle(page, 60)
    assert metric.locator('[data-testid="stMetricValue"]').inner_text().replace(",", "") == str(slight)
    # the Demand & harm page finds the constructed persistent places with police.uk
    page.goto(f"{partner_app}/demand")
    m = page.locator('[data-testid="stMetric"]').filter(has_text="Persistent multi-agency high demand")
    m.first.wait_for(timeout=120000)
    wait_idle(page, 90)
    assert m.first.locator('[data-testid="stMetricValue"]').inner_text() == "4 cells"
    page.wait_for_timeout(1500)
    shot(page, "demand_page")
