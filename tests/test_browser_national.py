"""Browser tests of issue 12 (headless Chromium, ``make run``): another partnership, as a new user.

Real data: ``tests/data/2017-01-cheshire-street.csv`` (the first 140 rows of Cheshire
Constabulary's January 2017 police.uk file, unchanged; see ``tests/data/README.md``).

1. A new user of Cheshire East opens the app (``make run``: the Staffordshire sample), chooses the
   two Cheshire partnerships on the Data page, loads the Cheshire month, sees Cheshire East's wards
   (exact ONS outlines, Census residents) and exports its top hotspots.
2. A store holding only the Cheshire month (loaded from the command line) opens with a prompt that
   the study area does not cover Cheshire; one click on the Data page makes Cheshire the study area.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from browser_util import FOLIUM, new_page, open_data_tab, serving, shot, upload, wait_idle

ROOT = Path(__file__).resolve().parents[1]
CHESHIRE = ROOT / "tests" / "data" / "2017-01-cheshire-street.csv"
CHESHIRE_EAST = "E06000049"
CENSUS = ROOT / "boundaries" / "data" / "census2021_ts021_lsoa21_total_usual_residents.csv.gz"
LOOKUP = ROOT / "boundaries" / "data" / "lookup_lsoa21_ward24_ltla24.csv.gz"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def patient_page(browser):
    """A page that waits for a loaded shared machine (the app warms its caches on first start)."""
    return new_page(browser, navigation_timeout=180)


def census_residents(district: str) -> int:
    look = pd.read_csv(LOOKUP, dtype=str)
    pop = pd.read_csv(CENSUS, dtype={"lsoa21_code": str}).set_index("lsoa21_code")["total_residents"]
    return int(pop.reindex(look.loc[look["ltla24_code"] == district, "lsoa21_code"]).sum())


def wards_of_the_month() -> tuple[list[str], int, int]:
    """Cheshire East wards holding the month's points (a spatial join on the shipped national
    LSOAs), their incidents and their Census 2021 residents."""
    import geopandas as gpd

    import boundaries

    raw = pd.read_csv(CHESHIRE, dtype=str)
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(raw["Longitude"].astype(float), raw["Latitude"].astype(float)), crs=4326
    ).to_crs(27700)
    hit = gpd.sjoin(pts, gpd.read_parquet(boundaries.national.LSOA21_FILE), predicate="within")
    look = pd.read_csv(LOOKUP, dtype=str).set_index("lsoa21_code")
    hit = hit[look["ltla24_code"].reindex(hit["LSOA21CD"]).to_numpy() == CHESHIRE_EAST]
    wards = sorted(set(look["ward24_code"].reindex(hit["LSOA21CD"])))
    pop = pd.read_csv(CENSUS, dtype={"lsoa21_code": str}).set_index("lsoa21_code")["total_residents"]
    residents = int(pop.reindex(look.index[look["ward24_code"].isin(wards)]).sum())
    return wards, len(hit), residents


@pytest.fixture(scope="module")
def sample_app(tmp_path_factory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("browser_national")
    with serving(tmp / "store.duckdb", tmp / "app.log") as url:  # make run loads the sample
        yield url


def test_new_user_chooses_partnerships_loads_a_month_sees_wards_and_exports_hotspots(
    sample_app, browser, tmp_path
):
    url = sample_app
    page = patient_page(browser)
    open_data_tab(page, url, "Boundaries and localities")
    box = page.get_by_label("Community safety partnerships", exact=True)
    for name in ("Cheshire East", "Cheshire West and Chester"):
        box.click()
        box.fill(name.split()[1] if name == "Cheshire East" else "West and Chester")
        page.get_by_role("option", name=name, exact=True).click()
    page.keyboard.press("Escape")
    shot(page, "national_1_chooser")
    page.get_by_role("button", name="Use this study area").click()
    done = page.get_by_text("Study area set to Cheshire East + Cheshire West and Chester")
    done.wait_for(timeout=240000)
    wait_idle(page, 120)
    assert "466 LSOAs" in done.inner_text()
    shot(page, "national_2_chosen")

    page.get_by_role("tab", name="police.uk files").click()
    upload(page, CHESHIRE)
    page.get_by_role("button", name="Load files").click()
    page.locator('[data-testid="stAlert"]').filter(has_text="2017-01-cheshire-street.csv").first.wait_for(
        timeout=240000
    )
    wait_idle(page, 120)
    shot(page, "national_3_loaded")

    # the ward map of Cheshire East: exact outlines, Census 2021 residents
    page.goto(f"{url}/?level=district&areas={CHESHIRE_EAST}&month_from=2017-01&month_to=2017-01")
    page.frame_locator(FOLIUM).first.locator(".leaflet-container").wait_for(timeout=120000)
    wait_idle(page, 120)
    metrics = page.locator('[data-testid="stMetric"]').all_inner_texts()
    residents = f"{census_residents(CHESHIRE_EAST):,}"
    assert any(m.startswith("Residents") and m.strip().endswith(residents) for m in metrics), metrics
    assert any(m.startswith("Incidents") and m.strip().endswith("137") for m in metrics), metrics
    # the outlines are drawn on a canvas: look at the screenshot (tests/test_national.py checks
    # every ward's outline against the national LSOAs)
    page.wait_for_timeout(500)
    shot(page, "national_4_district_map")
    wards, n, residents = wards_of_the_month()
    page.goto(f"{url}/?level=ward&areas={','.join(wards)}&month_from=2017-01&month_to=2017-01")
    page.frame_locator(FOLIUM).first.locator(".leaflet-container").wait_for(timeout=120000)
    wait_idle(page, 120)
    metrics = page.locator('[data-testid="stMetric"]').all_inner_texts()
    assert any(m.startswith("Residents") and m.strip().endswith(f"{residents:,}") for m in metrics), metrics
    assert any(m.startswith("Incidents") and m.strip().endswith(f"{n:,}") for m in metrics), metrics
    page.wait_for_timeout(500)
    shot(page, "national_4_ward_map")

    page.goto(f"{url}/hotspots?level=district&areas={CHESHIRE_EAST}&month_from=2017-01&month_to=2017-01")
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=120000)
    wait_idle(page, 120)
    page.wait_for_timeout(500)
    shot(page, "national_5_hotspots")
    with page.expect_download(timeout=120000) as dl:
        page.get_by_role("button", name="Download CSV").click()
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    table = pd.read_csv(path)
    assert len(table) > 0 and CHESHIRE_EAST in table["filter"].iloc[0]
    assert (table["district_code"] == CHESHIRE_EAST).all(), table[["district", "district_code"]]
    assert table["ward_codes"].astype(str).str.startswith("E05").all()
    page.close()


@pytest.fixture(scope="module")
def cheshire_app(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    from hotspots.ingest import ingest
    from hotspots.store import Store

    tmp = tmp_path_factory.mktemp("browser_prompt")
    store = tmp / "store.duckdb"
    with Store(store) as s:
        ingest([CHESHIRE], store=s)  # as `hotspots ingest` would: the default study area
    with serving(store, tmp / "app.log") as url:
        yield url, store


def test_first_run_prompts_for_the_force_the_data_come_from(cheshire_app, browser):
    url, _ = cheshire_app
    page = patient_page(browser)
    page.goto(url)
    note = page.get_by_text(re.compile(r"140 incidents in Cheshire police force area"))
    note.first.wait_for(timeout=120000)
    wait_idle(page, 60)
    shot(page, "national_6_prompt_map")
    open_data_tab(page, url, "Boundaries and localities")
    page.get_by_role("button", name="Use Cheshire as the study area").click()
    page.get_by_text("Study area set to Cheshire (police force area)").wait_for(timeout=240000)
    wait_idle(page, 120)
    assert page.get_by_text("Now: Cheshire (police force area)").is_visible()
    assert not page.get_by_text(re.compile(r"which the study area .* does not cover")).count()
    shot(page, "national_7_prompt_done")
    page.close()
