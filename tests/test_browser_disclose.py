"""A viewer (``HOTSPOTS_LOCAL_ROLE=viewer``) in Chromium sees a restricted partner source suppressed.

The sample store plus the constructed STATS19-layout file loaded as ``collisions`` and marked
restricted. On the Map page: the statement, a ward popup showing ``[c]`` for a ward a hand count
puts at 1-4 collisions, and the same cell in the CSV the download button gives. Screenshots go
to tests/artifacts/ (disclose_viewer_map.png, disclose_viewer_table.png).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from browser_util import FOLIUM, new_page, serving, shot, wait_idle

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
def viewer_app(restricted_store_path, tmp_path_factory) -> Iterator[str]:
    """The app as a viewer sees it (``HOTSPOTS_LOCAL_ROLE=viewer``), on a copy of the restricted store."""
    tmp = tmp_path_factory.mktemp("disclose_app")
    store = tmp / "store.duckdb"
    shutil.copy(restricted_store_path, store)
    with serving(store, tmp / "app.log", env={"HOTSPOTS_LOCAL_ROLE": "viewer"}) as url:
        yield url


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


def test_viewer_sees_small_restricted_counts_suppressed(viewer_app, browser, geography, tmp_path):
    code, name = small_ward(geography)
    page = new_page(browser, navigation_timeout=240)  # the server answers once its caches are warm
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
    page.close()
