"""The dashboard in headless Chromium, started as `make run` starts it.

Every request that leaves the machine is refused (as on an offline meeting-room laptop), so
the map must draw with the vendored Leaflet and no basemap tiles. Screenshots are kept in
tests/artifacts/.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from browser_util import (  # noqa: F401 (re-exported: older browser tests import them from here)
    ARTIFACTS,
    CHROMIUM_ARGS,
    FOLIUM,
    LOCAL,
    ROOT,
    choose,
    free_port,
    launch,
    legend,
    map_window,
    new_page,
    open_data_tab,
    open_map,
    pick,
    serving,
    shot,
    start_app,
    stop_app,
    upload,
    uploader,
    wait_idle,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("browser")
    store = tmp / "store.duckdb"
    with serving(store, tmp / "app.log") as url:
        yield url, store


PAGES = {
    "": (f"{FOLIUM}", "Map"),
    "hotspots": ('[data-testid="stDataFrame"]', "Hotspots"),
    "trends": ('[data-testid="stVegaLiteChart"]', "Trends & seasonality"),
    "profile": ('[data-testid="stVegaLiteChart"]', "Ward profile"),
    "data": ('[data-testid="stTabs"]', "Data"),
}


#: in the Map page's iframe: set a mark on the window, zoom in one step, return the new zoom
MARK_AND_ZOOM = """() => {
    const m = Object.values(window).find((v) => v instanceof L.Map);
    window.__kept = true;
    m.setZoom(m.getZoom() + 1, {animate: false});
    return m.getZoom();
}"""
MAP_STATE = """() => {
    const m = Object.values(window).find((v) => v instanceof L.Map);
    return {marked: window.__kept === true, zoom: m.getZoom(),
            legends: document.querySelectorAll('.hs-legend').length,
            controls: document.querySelectorAll('.leaflet-control-layers').length,
            overlays: document.querySelectorAll('.leaflet-control-layers-overlays label').length};
}"""


@pytest.mark.parametrize("path", list(PAGES), ids=[p or "map" for p in PAGES])
def test_each_page_loads_with_its_main_element(app, browser, path):
    url, _ = app
    page = new_page(browser)
    page.goto(f"{url}/{path}")
    selector, title = PAGES[path]
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=60000)
    page.locator(selector).first.wait_for(timeout=60000)
    wait_idle(page, 60)
    assert not page.locator('[data-testid="stException"]').count()
    if path in ("", "hotspots", "profile"):
        legend_or_map = page.frame_locator(FOLIUM).first.locator(".leaflet-container")
        legend_or_map.wait_for(timeout=30000)
    page.wait_for_timeout(500)
    shot(page, f"page_{path or 'map'}")
    # nothing is fetched from outside the machine (the favicon once came from fonts.gstatic.com)
    assert page.refused == []
    assert page.evaluate("document.querySelector('link[rel~=icon]').href").startswith(url)
    page.close()


def test_filter_change_updates_map_and_table_and_url_reproduces_it(app, browser):
    url, _ = app
    page = new_page(browser)
    page.goto(f"{url}/")
    before_legend = legend(page)
    table = page.locator('[data-testid="stDataFrame"]').first
    table.wait_for()
    before_metric = page.locator('[data-testid="stMetricValue"]').first.inner_text()
    frame = map_window(page)
    zoom = frame.evaluate(MARK_AND_ZOOM)  # mark the live map's window, and zoom in one step
    choose(page, "Crime and ASB types", "Burglary")
    page.get_by_text("Showing: 2025-01 to 2025-12; Burglary").wait_for(timeout=30000)
    wait_idle(page)
    page.wait_for_function(
        '(before) => { const f = document.querySelector("' + FOLIUM.replace('"', '\\"') + '");'
        " const l = f && f.contentDocument && f.contentDocument.querySelector('.hs-legend');"
        " return l && l.innerText !== before; }",
        arg=before_legend,
        timeout=30000,
    )
    after_legend = legend(page)
    after_metric = page.locator('[data-testid="stMetricValue"]').first.inner_text()
    assert after_legend != before_legend
    assert after_metric != before_metric
    assert "categories=Burglary" in page.url
    # the layers changed inside the same live map: not rebuilt, the user's zoom kept, and one
    # legend and one layer control (the old ones went with the old layers)
    kept = map_window(page).evaluate(MAP_STATE)
    assert kept == {"marked": True, "zoom": zoom, "legends": 1, "controls": 1, "overlays": 2}, kept
    shot(page, "map_burglary")

    other = new_page(browser)
    other.goto(page.url)
    other.get_by_text("Showing: 2025-01 to 2025-12; Burglary").wait_for(timeout=60000)
    assert legend(other) == after_legend
    assert other.locator('[data-testid="stMetricValue"]').first.inner_text() == after_metric
    shot(other, "map_from_copied_url")
    other.close()
    page.close()


def test_map_layer_list_shows_every_chosen_layer_on_a_laptop_screen(app, browser):
    url, _ = app
    page = new_page(browser)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{url}/?layers=areas,places,kde,dbscan")
    legend(page)
    wait_idle(page, 60)
    box = page.locator('[data-testid="stMultiSelect"]').filter(has=page.get_by_text("Layers", exact=True))
    outer = box.locator('div[role="group"]').first.bounding_box()
    chips = box.locator("[data-tag]")
    assert chips.count() == 4
    for i in range(4):  # each chip whole, inside the box (a narrow column cut them off)
        chip = chips.nth(i).bounding_box()
        assert outer["x"] <= chip["x"] and chip["x"] + chip["width"] <= outer["x"] + outer["width"], (i, chip)
        text = chips.nth(i).locator("span[title]")
        assert text.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), text.inner_text()  # not cut short
    shot(page, "map_four_layers")
    page.close()


def test_map_register_chooser_is_made_when_opened_and_the_map_stays(app, browser):
    """The Map page's "add to register" expander is lazy: opening it runs the page and shows
    the place chooser, and the live map above it is not rebuilt (its zoom stays)."""
    url, _ = app
    page = open_map(browser, f"{url}/")
    zoom = map_window(page).evaluate(MARK_AND_ZOOM)
    chooser = page.locator('[data-testid="stSelectbox"]').filter(
        has=page.get_by_text("Hotspot place", exact=True)
    )
    assert chooser.count() == 0  # closed: not made
    page.get_by_text("Add a hotspot place to the place register").click()
    chooser.wait_for(timeout=60000)
    wait_idle(page, 60)
    assert chooser.locator("input").input_value().startswith("1. ")  # rank 1 by default, with its name
    assert page.get_by_role("button", name="Add to register").count() == 1
    kept = map_window(page).evaluate(MAP_STATE)
    assert kept["marked"] and kept["zoom"] == zoom, kept
    shot(page, "map_register_chooser")
    page.close()


def test_hotspots_overview_keeps_its_map_when_method_and_filter_change(app, browser):
    """The overview's places change inside the live map: the zoom stays, whatever notes come and go."""
    url, _ = app
    page = open_map(browser, f"{url}/hotspots")
    assert page.get_by_text("The map draws the first 300 of the").count() == 1  # a note above the map
    zoom = map_window(page).evaluate(MARK_AND_ZOOM)
    pick(page, "Method", "DBSCAN: clusters of incidents")
    choose(page, "Crime and ASB types", "Robbery")
    page.get_by_text("Showing: 2025-01 to 2025-12; Robbery").wait_for(timeout=60000)
    wait_idle(page, 60)
    assert page.get_by_text("The map draws the first 300 of the").count() == 0  # fewer places: no note
    page.wait_for_function(
        '() => { const f = document.querySelector("' + FOLIUM.replace('"', '\\"') + '");'
        " const w = f && f.contentWindow; return !!w && (w.feature_group || []).length > 0"
        " && [...f.contentDocument.querySelectorAll('.leaflet-control-layers-overlays label')]"
        ".some((l) => l.innerText.includes('DBSCAN')); }",
        timeout=60000,
    )
    kept = map_window(page).evaluate(MAP_STATE)
    assert kept == {"marked": True, "zoom": zoom, "legends": 0, "controls": 1, "overlays": 2}, kept
    page.locator(FOLIUM).first.scroll_into_view_if_needed()
    shot(page, "hotspots_dbscan_robbery_zoom_kept")
    page.close()


def test_wheel_scrolls_the_page_until_the_map_is_clicked_and_rank_1_is_on_top(app, browser):
    url, _ = app
    page = open_map(browser, f"{url}/")
    iframe = page.locator(FOLIUM).first
    iframe.scroll_into_view_if_needed()
    frame = iframe.element_handle().content_frame()
    zoom = "() => Object.values(window).find((v) => v instanceof L.Map).getZoom()"
    before = frame.evaluate(zoom)
    box = iframe.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    page.mouse.wheel(0, 400)  # passing over the map on the way down the page
    page.wait_for_timeout(800)
    assert frame.evaluate(zoom) == before
    start, box = box, iframe.bounding_box()
    assert box["y"] < start["y"] - 100  # the page scrolled under the pointer instead
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4)
    enabled = "() => Object.values(window).find((v) => v instanceof L.Map).scrollWheelZoom.enabled()"
    assert frame.evaluate(enabled), "the wheel zoom is not on after a click"
    page.mouse.wheel(0, -400)  # after a click the wheel zooms the map
    frame.wait_for_function(f"(z) => ({zoom})() > z", arg=before, timeout=10000)
    # where rank labels overlap, the first places are drawn on top
    order = frame.evaluate(
        "() => [...document.querySelectorAll('.hs-rank')].map((e) => [e.innerText.trim(), +e.style.zIndex])"
    )
    z = dict(order)
    assert z["1"] > z["2"] > z["10"] > z["30"], order
    page.close()


def test_hotspot_downloads_open(app, browser, tmp_path):
    url, _ = app
    page = new_page(browser)
    page.goto(f"{url}/hotspots?method=kde")
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60000)
    wait_idle(page, 60)
    files = {}
    for label, ext in (
        ("Download CSV", ".csv"),
        ("Download GeoJSON", ".geojson"),
        ("Download GeoPackage", ".gpkg"),
    ):
        with page.expect_download(timeout=60000) as dl:
            page.get_by_role("button", name=label).click()
        path = tmp_path / f"hotspots{ext}"
        dl.value.save_as(path)
        files[ext] = path
    table = pd.read_csv(files[".csv"])
    assert len(table) > 0 and {"rank", "count", "filter", "parameters"} <= set(table.columns)
    gj = gpd.read_file(files[".geojson"])
    assert len(gj) == len(table) and gj.crs.to_epsg() == 4326
    gp = gpd.read_file(files[".gpkg"], layer="hotspots_kde")
    assert len(gp) == len(table) and gp.crs.to_epsg() == 27700
    shot(page, "hotspots")
    page.close()


def store_numbers(page) -> dict[str, str]:
    page.get_by_role("tab", name="What the store holds").click()
    values = page.locator('[data-testid="stMetric"]')
    values.first.wait_for()
    out = {}
    for i in range(values.count()):
        text = values.nth(i).inner_text().split("\n")
        out[text[0]] = text[-1]
    return out


def test_bad_upload_shows_its_error_and_leaves_the_store_unchanged(app, browser, tmp_path):
    url, store = app
    page = new_page(browser)
    page.goto(f"{url}/data")
    page.get_by_role("tab", name="police.uk files").wait_for(timeout=60000)
    wait_idle(page, 60)
    before = store_numbers(page)
    bad = tmp_path / "not-police.csv"
    bad.write_text("Name,Colour\nfox,red\nowl,brown\n")
    page.get_by_role("tab", name="police.uk files").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(bad))
    page.get_by_role("button", name="Load files").click()
    error = page.get_by_text("was not loaded")
    error.wait_for(timeout=60000)
    assert (
        "not a police.uk street-level or outcomes file"
        in page.locator('[data-testid="stAlert"]').first.inner_text()
    )
    shot(page, "data_bad_upload")
    assert store_numbers(page) == before
    page.close()


# ------------------------------------------------------------------ loading data in the browser
SAMPLE_ZIP = ROOT / "sample_data" / "staffordshire-2025-street.zip"
LSOAS = ROOT / "boundaries" / "data" / "lsoa21_staffs_stoke_with_ward24.geojson"
LAST_MONTH = "2025-12/2025-12-staffordshire-street.csv"


@pytest.fixture(scope="module")
def partial_app(tmp_path_factory) -> Iterator[tuple[str, Path, Path]]:
    """The app on a store holding January to November of the sample; December kept to upload.

    Yields the URL, the store path and the December CSV (real, as published by police.uk).
    """
    import zipfile

    from hotspots.ingest import ingest
    from hotspots.store import Store

    tmp = tmp_path_factory.mktemp("browser_uploads")
    months = tmp / "months"
    with zipfile.ZipFile(SAMPLE_ZIP) as zf:
        names = sorted(n for n in zf.namelist() if n.endswith(".csv"))
        for name in names:
            zf.extract(name, months)
    december = months / LAST_MONTH
    store = tmp / "store.duckdb"
    with Store(store) as s:
        ingest([months / n for n in names if n != LAST_MONTH], store=s)
    with serving(store, tmp / "app.log") as url:
        yield url, store, december


def as_int(text: str) -> int:
    return int(text.replace(",", ""))


def test_police_upload_loads_a_month_and_shows_its_summary(partial_app, browser):
    url, _, december = partial_app
    page = new_page(browser)
    open_data_tab(page, url, "police.uk files")
    before = store_numbers(page)
    page.get_by_role("tab", name="police.uk files").click()
    upload(page, december)
    page.get_by_role("button", name="Load files").click()
    summary = page.locator('[data-testid="stAlert"]').filter(has_text="2025-12-staffordshire-street.csv")
    summary.first.wait_for(timeout=120000)
    wait_idle(page, 60)
    text = summary.first.inner_text()
    assert "accepted" in text and "rows read" in text, text
    assert page.locator('[data-testid="stDataFrame"]').first.is_visible()
    shot(page, "data_upload_month")
    after = store_numbers(page)
    assert as_int(after["Files loaded"]) == as_int(before["Files loaded"]) + 1
    assert as_int(after["Incidents"]) > as_int(before["Incidents"]) + 5000
    assert page.get_by_text("Months held: Jan 2025 to Dec 2025").is_visible()
    # the month range that ended at the last month held now ends at the new one
    thumbs = page.locator('[data-testid="stSidebar"] [data-testid="stSliderThumbValue"]').all_inner_texts()
    assert thumbs == ["Jan 2025", "Dec 2025"], thumbs
    shot(page, "data_store_after_upload")
    page.close()


def test_a_big_upload_shows_a_progress_bar_then_its_summary(partial_app, browser):
    """The sample's year as downloaded (one zip, 12 CSVs): a bar while it loads, then the summary."""
    url, _, _ = partial_app
    page = new_page(browser)
    open_data_tab(page, url, "police.uk files")
    upload(page, SAMPLE_ZIP)
    page.get_by_role("button", name="Load files").click()
    bar = page.locator('[data-testid="stProgress"]')
    bar.first.wait_for(timeout=60000)
    page.wait_for_function(
        "() => /Checked|Placed|Saved/.test(document.querySelector('[data-testid=\"stProgress\"]')?.innerText)",
        timeout=60000,
        polling=50,
    )
    shot(page, "data_upload_progress")
    summary = page.locator('[data-testid="stAlert"]').filter(has_text="staffordshire-2025-street.zip")
    summary.first.wait_for(timeout=180000)
    bar.first.wait_for(state="detached", timeout=30000)  # the page reran: filters offer new months
    assert "102,517 rows read" in summary.first.inner_text()
    shot(page, "data_upload_zip_summary")
    page.close()


FLY_TIPPING = """Reference,Date reported,Type,Easting,Northing,Street
FT-0001,03/02/2025,Household waste,388150,347420,Town Road
FT-0002,11/02/2025,Household waste,388170,347400,Town Road
FT-0003,24/03/2025,Green waste,388900,346900,Bucknall New Road
FT-0004,02/04/2025,Tyres,387450,348100,Etruria Road
FT-0005,15/05/2025,Household waste,388160,347430,Town Road
"""


def test_partner_csv_loads_through_the_mapping_form_as_its_own_source(partial_app, browser, tmp_path):
    url, _, _ = partial_app
    csv = tmp_path / "fly-tipping-2025.csv"
    csv.write_text(FLY_TIPPING)
    page = new_page(browser)
    open_data_tab(page, url, "Partner data")
    before = store_numbers(page)
    page.get_by_role("tab", name="Partner data").click()
    upload(page, csv)
    page.get_by_text("Columns found: Reference, Date reported").wait_for(timeout=60000)
    source = page.get_by_role("textbox", name="Source name")
    source.fill("fly-tipping")
    pick(page, "Date or month column", "Date reported")
    pick(page, "Category column", "Type")
    page.get_by_text("easting/northing (BNG)").click()
    pick(page, "Longitude or easting", "Easting")
    pick(page, "Latitude or northing", "Northing")
    pick(page, "Case reference (optional)", "Reference")
    pick(page, "Place description (optional)", "Street")
    shot(page, "data_partner_mapping")
    page.get_by_role("button", name="Load partner data").click()
    summary = page.locator('[data-testid="stAlert"]').filter(has_text="fly-tipping-2025.csv")
    summary.first.wait_for(timeout=60000)
    wait_idle(page, 60)
    text = summary.first.inner_text()
    assert "5 accepted" in text and "fly-tipping" in text, text
    shot(page, "data_partner_loaded")
    after = store_numbers(page)
    assert as_int(after["Incidents"]) == as_int(before["Incidents"]) + 5
    # the new source is offered in the shared filters, on every page
    page.goto(f"{url}/?sources=fly-tipping")
    page.get_by_text("sources: fly-tipping").first.wait_for(timeout=60000)
    # the source filter sits in a closed sidebar expander: open it and see the chosen source
    page.locator('[data-testid="stSidebar"]').get_by_text("Season, sources, days and hours").click()
    sources = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(
        has_text="Sources"
    )
    sources.get_by_text("fly-tipping", exact=True).wait_for(timeout=30000)
    page.frame_locator(FOLIUM).first.locator(".leaflet-container").wait_for(timeout=60000)
    wait_idle(page, 60)
    assert page.locator('[data-testid="stMetricValue"]').first.inner_text() == "5"
    shot(page, "map_fly_tipping_only")
    page.close()


def test_localities_and_boundary_uploads_reassign_areas(partial_app, browser, tmp_path):
    url, _, _ = partial_app
    lsoas = gpd.read_file(LSOAS)
    stoke = lsoas[lsoas["LAD24NM"] == "Stoke-on-Trent"]
    wards = sorted(stoke["WD24CD"].unique())
    localities = tmp_path / "stoke-localities.csv"
    pd.DataFrame(
        {
            "ward code": wards,
            "locality": ["North Stoke" if i % 2 else "South Stoke" for i in range(len(wards))],
        }
    ).to_csv(localities, index=False)
    page = new_page(browser)
    open_data_tab(page, url, "Boundaries and localities")
    upload(page, localities, 1)
    page.get_by_role("button", name="Use these localities").click()
    page.get_by_text("2 localities set from").wait_for(timeout=60000)
    wait_idle(page, 60)
    shot(page, "data_localities")
    page.goto(f"{url}/?level=locality")
    wait_idle(page, 60)
    choose(page, "Locality areas", "North Stoke")
    page.get_by_text(re.compile(r"^Showing: .*North Stoke")).wait_for(timeout=30000)
    open_data_tab(page, url, "Boundaries and localities")

    geojson = tmp_path / "stoke_lsoa21.geojson"
    stoke[["LSOA21CD", "LSOA21NM", "geometry"]].to_file(geojson, driver="GeoJSON")
    page.get_by_role("tab", name="Boundaries and localities").click()
    upload(page, geojson)
    page.get_by_role("button", name="Use these boundaries").click()
    done = page.get_by_text("Study area set to stoke_lsoa21")
    done.wait_for(timeout=120000)
    wait_idle(page, 60)
    assert f"{len(stoke):,} LSOAs" in done.inner_text()
    assert "locations re-assigned" in done.inner_text()
    assert page.get_by_text("Now: stoke_lsoa21").is_visible()
    shot(page, "data_boundaries")

    # the map now covers Stoke-on-Trent only: one district, its residents
    residents = re.search(r"([\d,]+) residents", done.inner_text()).group(1)
    page.goto(f"{url}/?level=district")
    page.frame_locator(FOLIUM).first.locator(".leaflet-container").wait_for(timeout=60000)
    wait_idle(page, 60)
    metrics = page.locator('[data-testid="stMetric"]').all_inner_texts()
    assert any(m.startswith("Residents") and m.strip().endswith(residents) for m in metrics), metrics
    assert page.get_by_text("Stoke-on-Trent", exact=True).first.is_visible()
    shot(page, "map_after_boundaries")

    open_data_tab(page, url, "Boundaries and localities")
    page.get_by_role("button", name="Restore the shipped Staffordshire boundaries").click()
    page.get_by_text("Shipped Staffordshire and Stoke-on-Trent geography restored").wait_for(timeout=120000)
    page.close()


WARD = "Hanley Park, Joiner's Square & Shelton"


def test_new_user_loads_a_month_finds_a_wards_top_hotspots_and_exports_them(partial_app, browser, tmp_path):
    """As a new user: open the app, load a month on Data, find a ward's top hotspots, export them."""
    url, _, december = partial_app
    page = new_page(browser)
    page.goto(url)
    page.frame_locator(FOLIUM).first.locator(".leaflet-container").wait_for(timeout=60000)
    wait_idle(page, 60)
    shot(page, "new_user_1_open")

    page.get_by_role("link", name="Data").click()
    page.get_by_role("tab", name="police.uk files").wait_for(timeout=60000)
    wait_idle(page, 60)
    upload(page, december)
    page.get_by_role("button", name="Load files").click()
    page.locator('[data-testid="stAlert"]').filter(
        has_text="2025-12-staffordshire-street.csv"
    ).first.wait_for(timeout=120000)
    wait_idle(page, 60)
    shot(page, "new_user_2_loaded")

    page.get_by_role("link", name="Hotspots").click()
    page.get_by_role("heading", name="Hotspots", exact=True).first.wait_for(timeout=120000)
    # the Data page's tables (in tabs, hidden) linger until the new page replaces them
    page.locator('[data-testid="stDataFrame"]:visible').first.wait_for(timeout=120000)
    wait_idle(page, 120)
    box = page.get_by_label("Ward areas", exact=True)
    box.click()
    box.fill("Hanley Park")
    page.get_by_role("option", name=re.compile("^" + re.escape(WARD))).click()
    page.keyboard.press("Escape")
    page.get_by_text(re.compile(r"^Showing: 2025-01 to 2025-12; .*wards: " + re.escape(WARD))).wait_for(
        timeout=60000
    )
    wait_idle(page, 60)
    page.frame_locator(FOLIUM).first.locator(".leaflet-container").wait_for(timeout=60000)
    page.wait_for_timeout(500)
    shot(page, "new_user_3_ward_hotspots")

    with page.expect_download(timeout=60000) as dl:
        page.get_by_role("button", name="Download CSV").click()
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    table = pd.read_csv(path)
    assert len(table) > 0
    assert table["wards"].str.contains(WARD, regex=False).all(), table["wards"].tolist()
    assert "2025-12" in table["filter"].iloc[0]
    with page.expect_download(timeout=60000) as dl:
        page.get_by_role("button", name="Download Excel").click()
    xlsx = tmp_path / dl.value.suggested_filename
    dl.value.save_as(xlsx)
    assert len(pd.read_excel(xlsx, sheet_name=0)) == len(table)
    page.close()


MAP_VIEW = """() => {
    const m = Object.values(window).find((v) => v instanceof L.Map);
    const b = m.getBounds();
    let place = null;
    m.eachLayer((l) => {
        if (l.feature && l.feature.properties && l.feature.properties.sel && l.getBounds) {
            const p = l.getBounds();
            place = {bounds: [p.getWest(), p.getSouth(), p.getEast(), p.getNorth()], tip: l.feature.properties.t};
        }
    });
    return {zoom: m.getZoom(), bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], place: place};
}"""


def test_hotspots_page_names_places_and_zooms_to_the_chosen_one(app, browser, sample_store_path):
    """The county list names its places; choosing the third opens its micro-map fitted to it."""
    from hotspots.hotspot_list import find_hotspots
    from hotspots.store import Store

    with Store(sample_store_path, read_only=True) as s:  # the same sample, analysed here
        ref = find_hotspots(s.incidents(), geography=s.geography())
    names = ref["name"]
    third = ref.iloc[2]
    expected = f"3. {names.iloc[2]} ({int(third['count']):,})"
    west, south, east, north = gpd.GeoSeries([third.geometry], crs=27700).to_crs(4326).total_bounds

    url, _ = app
    page = new_page(browser)
    page.goto(f"{url}/hotspots")
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60000)
    wait_idle(page, 60)
    page.get_by_label("Place", exact=True).click()
    offered = page.get_by_role("option").all_inner_texts()
    assert offered[0] == "All places (overview of the area)"
    assert expected in offered, offered
    ward = third["wards"].split(" (")[0]  # its main ward, as the library lists it
    assert ward in names.iloc[2], (ward, names.iloc[2])  # named with its ward …
    streets = r"\b(Street|Road|Lane|Square|Place|Way|Avenue|Station|Area|Centre|Park)\b"
    assert sum(bool(re.search(streets, o)) for o in offered[1:]) >= len(offered[1:]) // 2, (
        offered
    )  # … and streets
    page.get_by_role("option", name=expected, exact=True).click()
    page.get_by_role("heading", name=expected.rsplit(" (", 1)[0]).wait_for(timeout=60000)
    wait_idle(page, 60)
    frame = page.frame_locator(FOLIUM).first
    frame.locator(".hs-count").first.wait_for(timeout=60000)  # counts at the map points
    page.wait_for_timeout(800)
    view = map_window(page).evaluate(MAP_VIEW)
    assert "place=3" in page.url
    # the chosen place is the one drawn as selected, and the map is fitted to it
    assert view["place"] is not None and names.iloc[2] in html.unescape(view["place"]["tip"])
    pw, ps, pe, pn = view["place"]["bounds"]
    assert pw == pytest.approx(west, abs=2e-4) and pn == pytest.approx(north, abs=2e-4)
    mw, ms, me, mn = view["bounds"]
    assert mw <= west and ms <= south and me >= east and mn >= north  # the whole place is in view
    assert (me - mw) < 4 * (east - west) + 0.01  # zoomed to it, not the county (0.9° wide)
    assert view["zoom"] >= 13
    assert west <= (mw + me) / 2 <= east and south <= (ms + mn) / 2 <= north
    page.locator(FOLIUM).first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    shot(page, "hotspots_place_micro_map")
    page.close()
