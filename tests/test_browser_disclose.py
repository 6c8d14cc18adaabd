"""A viewer (``HOTSPOTS_LOCAL_ROLE=viewer``) in Chromium sees a restricted partner source suppressed.

The sample store plus the constructed STATS19-layout file loaded as ``collisions`` and marked
restricted. On the Map page: the statement, a ward popup showing ``[c]`` for a ward a hand count
puts at 1-4 collisions, and the same cell in the CSV the download button gives. Screenshots go
to tests/artifacts/ (disclose_viewer_map.png, disclose_viewer_table.png).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from test_browser import FOLIUM, free_port, launch, new_page, shot, start_app, stop_app, wait_idle

from hotspots import disclosure
from hotspots.ingest import PartnerMapping, ingest
from hotspots.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]
DATA = Path(__file__).parent / "data"
COLUMN = "collisions (restricted)"

OPEN_POPUP = """(name) => {
  // the area layer's feature for this ward: open its popup as a click would, return its text
  const maps = [window.map, ...Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k])];
  for (const m of new Set(maps.filter(m => m instanceof L.Map))) {
    let hit = null;
    m.eachLayer(l => {
      if (l.feature && (l.feature.properties.tip || '').includes('<b>' + name + '</b>')) hit = l;
    });
    if (hit) {
      hit.fire('click', {latlng: hit.getBounds().getCenter()}, true);
      const box = document.querySelector('.leaflet-popup-content');
      return box ? box.innerText : 'no popup';
    }
  }
  return 'no such ward';
}"""


@pytest.fixture(scope="module")
def viewer_app(sample_store_path, tmp_path_factory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("disclose_app")
    store = tmp / "store.duckdb"
    shutil.copy(sample_store_path, store)
    with Store(store) as s:
        mapping = PartnerMapping.from_file(DATA / "stats19.toml")
        ingest([DATA / "stats19_constructed.csv"], store=s, source="collisions", mapping=mapping)
        disclosure.set_restricted(s, "collisions")
    old = os.environ.get("HOTSPOTS_LOCAL_ROLE")
    os.environ["HOTSPOTS_LOCAL_ROLE"] = "viewer"  # the app inherits it
    port = free_port()
    try:
        proc = start_app(port, store, tmp / "app.log")
    finally:
        if old is None:
            os.environ.pop("HOTSPOTS_LOCAL_ROLE", None)
        else:
            os.environ["HOTSPOTS_LOCAL_ROLE"] = old
    try:
        yield f"http://localhost:{port}"
    finally:
        stop_app(proc)


def small_ward(geography) -> tuple[str, str]:
    """(code, name) of the first ward (by code) with 3 collisions, by a hand count (GeoPandas sjoin)."""
    raw = pd.read_csv(DATA / "stats19_constructed.csv", dtype=str)
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(raw["Longitude"].astype(float), raw["Latitude"].astype(float)), crs=4326
    ).to_crs(27700)
    wards = geography.lsoas[["ward_code", "geometry"]]
    counts = gpd.sjoin(pts, wards, predicate="within").groupby("ward_code").size()
    code = sorted(counts[counts == 3].index)[0]
    names = geography.areas("ward").set_index("area_code")["area_name"]
    return code, str(names[code])


def test_viewer_sees_small_restricted_counts_suppressed(viewer_app, geography, tmp_path):
    from playwright.sync_api import sync_playwright

    code, name = small_ward(geography)
    with sync_playwright() as p:
        browser = launch(p)
        page = new_page(browser)
        page.set_default_navigation_timeout(240000)  # the server answers once its caches are warm
        page.set_default_timeout(60000)
        page.goto(viewer_app)
        page.get_by_text("Disclosure control: collisions (restricted partner data)").wait_for(timeout=120000)
        wait_idle(page, 90)
        page.frame_locator(FOLIUM).first.locator(".leaflet-container").wait_for(timeout=90000)
        page.locator(FOLIUM).first.scroll_into_view_if_needed()
        texts = [
            f.evaluate(OPEN_POPUP, name) for f in page.frames if f.evaluate("() => typeof L !== 'undefined'")
        ]
        popup = next(t for t in texts if t != "no such ward")
        assert re.search(re.escape(COLUMN) + r"\s+\[c\]", popup), popup
        page.wait_for_timeout(800)  # the popup fades in
        shot(page, "disclose_viewer_map")

        with page.expect_download() as dl:
            page.get_by_role("button", name="Download CSV").click()
        path = tmp_path / "areas.csv"
        dl.value.save_as(path)
        csv = pd.read_csv(path, dtype={COLUMN: str}).set_index("area_code")
        assert csv.loc[code, COLUMN] == "[c]"
        assert "Disclosure control: collisions" in csv["parameters"].iloc[0]
        page.get_by_text(f"{COLUMN}:").scroll_into_view_if_needed()
        shot(page, "disclose_viewer_table")
        browser.close()
