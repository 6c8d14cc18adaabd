"""Map builders: escaping of data text, classed legends, and maps that need no internet."""

from __future__ import annotations

import re
import threading

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import streamlit_folium
from shapely.geometry import Point, box

from dashboard import maps
from dashboard.profile import html_report

EVIL = '<img src=x onerror="alert(1)">`${alert(2)}`\\'


def rendered(m) -> str:
    """The text streamlit-folium sends to the browser, with JSON unicode escapes undone."""
    m.get_root().render()
    text = (
        streamlit_folium._get_map_string(m) + streamlit_folium._get_header(m) + streamlit_folium._get_html(m)
    )
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g.group(1), 16)), text)


def areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "area_code": ["A", "B", "C"],
            "area_name": [EVIL, "Hanley", "Leek"],
            "district_name": ["X", "Y", "Z"],
            "count": [0, 10, 100],
            "rate_per_1000": [0.0, 1.5, np.nan],
        },
        geometry=[box(-2.2, 53.0, -2.1, 53.1), box(-2.1, 53.0, -2.0, 53.1), box(-2.0, 53.0, -1.9, 53.1)],
        crs=4326,
    )


def test_esc_escapes_html_and_template_literal_characters():
    out = maps.esc(EVIL)
    assert "<" not in out and "`" not in out and "${" not in out and "\\" not in out
    assert maps.esc(None) == "" and maps.esc(float("nan")) == ""


def test_area_tooltips_and_legend_escape_data_text():
    m = maps.base_map(areas().total_bounds)
    maps.add_areas(m, areas(), value="count", title="Incidents <b>", fields=[("count", "Incidents")])
    maps.finish(m)
    text = rendered(m)
    assert "<img src=x" not in text
    assert 'onerror=\\"alert' not in text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in text
    assert "Incidents &lt;b&gt;" in text


def test_points_and_hotspots_escape_data_text():
    pts = pd.DataFrame(
        {"lon": [-2.0, -2.1], "lat": [53.0, 53.05], "count": [5, 50], "tip": [maps.esc(EVIL), "ok"]}
    )
    hs = gpd.GeoDataFrame(
        {
            "rank": [1],
            "name": [EVIL],
            "count": [9],
            "share_of_incidents": [0.5],
            "top_categories": [EVIL],
            "top_locations": [EVIL],
            "wards": [EVIL],
        },
        geometry=[Point(-2.0, 53.0)],
        crs=4326,
    )
    m = maps.base_map(areas().total_bounds, tiles=True)
    maps.add_points(m, pts, name="points", colour=maps.INCIDENT)
    maps.add_hotspots(m, hs)
    maps.add_count_labels(m, pts)
    maps.finish(m)
    text = rendered(m)
    assert "<img src=x" not in text and "${alert" not in text


def test_places_have_markers_while_zoomed_out_and_labels_from_one_script():
    n = 40
    hs = gpd.GeoDataFrame(
        {
            "rank": range(1, n + 1),
            "name": [f"High Street {i}, Leek" for i in range(1, n + 1)],
            "count": range(10 * n, 0, -10),
            "share_of_incidents": 0.01,
            "top_categories": "Shoplifting (3)",
            "wards": "Leek North",
        },
        geometry=[box(-2.0 + i * 0.01, 53.1, -1.995 + i * 0.01, 53.105) for i in range(n)],
        crs=4326,
    )
    m = maps.base_map(hs.total_bounds)
    maps.add_hotspots(m, hs, labels=30)
    maps.finish(m)
    text = rendered(m)
    assert f"map.getZoom() < {maps.MARKER_ZOOM}" in text  # markers only while zoomed out
    assert text.count('"hs-rank"') == 1  # one script writes every rank label
    labels = re.search(r"\[\[.*?\]\]\.forEach", text).group(0)
    assert labels.count("], [") + 1 == 30
    assert "<b>1. High Street 1, Leek</b>" in text


def test_maps_load_no_script_or_style_from_the_internet():
    m = maps.base_map(areas().total_bounds)
    maps.add_areas(m, areas(), value="rate_per_1000", title="Rate", decimals=1)
    maps.finish(m)
    text = rendered(m)
    assert not re.findall(r"(?:src|href)=[\"']https?://", text)
    assert m.default_js[0][1].startswith("data:text/javascript;base64,")
    assert all(url.startswith("data:") for _, url in m.default_css)


def test_a_served_app_links_maps_to_its_own_leaflet_route(monkeypatch):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from dashboard import offline

    monkeypatch.setattr(offline, "_served_at", None)
    route = offline.leaflet_route()  # what app.py mounts; maps made from now on link to it
    m = maps.finish(maps.base_map(areas().total_bounds))
    assert m.default_js == [("leaflet", "/hs-leaflet/leaflet.js")]
    assert m.default_css == [("leaflet_css", "/hs-leaflet/leaflet.css")]
    assert not re.search(r"(?:src|href)=[\"']https?://", rendered(m))
    client = TestClient(Starlette(routes=[route]))
    js = client.get("/hs-leaflet/leaflet.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert js.content == (offline.STATIC / "leaflet.js").read_bytes()
    css = client.get("/hs-leaflet/leaflet.css")  # its layer-control icons resolve beside it
    assert "url(images/layers.png)" in css.text
    assert client.get("/hs-leaflet/images/layers.png").headers["content-type"] == "image/png"
    assert client.get("/hs-leaflet/../offline.py").status_code == 404  # only the Leaflet folder


def test_the_leaflet_route_sits_under_the_servers_base_url_path(monkeypatch):
    from streamlit import config

    from dashboard import offline

    monkeypatch.setattr(offline, "_served_at", None)
    original = config.get_option("server.baseUrlPath")
    config.set_option("server.baseUrlPath", "/hotspots/")  # e.g. behind a proxy at /hotspots
    try:
        assert offline.leaflet_route().path == "/hotspots/hs-leaflet"
        m = maps.finish(maps.base_map(areas().total_bounds))
        assert m.default_js == [("leaflet", "/hotspots/hs-leaflet/leaflet.js")]
    finally:
        config.set_option("server.baseUrlPath", original)


def test_no_tiles_by_default_and_street_map_on_request():
    assert "tile.openstreetmap" not in rendered(maps.finish(maps.base_map(areas().total_bounds)))
    assert "tile.openstreetmap" in rendered(maps.finish(maps.base_map(areas().total_bounds, tiles=True)))


def test_class_breaks_cover_the_values_and_label_them():
    values = [0, 1, 2, 3, 10, 50, 200]
    breaks = maps.class_breaks(values)
    assert breaks == sorted(breaks) and breaks[-1] >= 200
    cls = maps.classify(values, breaks)
    assert cls.min() == 0 and cls.max() == len(breaks) - 1
    assert list(cls) == sorted(cls)
    labels = maps.break_labels(breaks)
    assert labels[0].startswith("0 – ") and len(labels) == len(breaks)
    assert maps.classify([np.nan], breaks)[0] == -1


def test_class_breaks_with_no_positive_values():
    assert maps.class_breaks([0, 0, np.nan]) == [0.0]


def test_printable_profile_escapes_everything():
    from dashboard.profile import Profile
    from hotspots.filters import Filter

    p = Profile(EVIL, EVIL, "ward", 100, 5, 50.0, 1, 10, None, None, 20.0, sentences=[EVIL])
    page = html_report(p, Filter(), {"Places": pd.DataFrame({"Place": [EVIL]})}, [EVIL])
    assert "<img src=x" not in page
    assert page.count("&lt;img src=x") >= 3


@pytest.mark.parametrize("month", ["2025-01", "2024-12"])
def test_month_labels_round_trip(month):
    from dashboard.data import label_month, month_label

    assert label_month(month_label(month)) == month


def test_to_wgs84_gives_to_crs_coordinates_from_any_thread(geography):
    wards = geography.areas("ward")  # EPSG:27700, real ONS ward outlines
    expected = wards.to_crs(4326)
    results: list[gpd.GeoDataFrame] = []
    worker = threading.Thread(target=lambda: results.append(maps.to_wgs84(wards)))  # as a page run
    worker.start()
    worker.join()
    got = results[0]
    assert got.crs.equals(expected.crs) and got.index.equals(expected.index)
    assert list(got.columns) == list(expected.columns) and got.geometry.name == expected.geometry.name
    assert got.geometry.geom_equals_exact(expected.geometry, tolerance=0).all()
    assert got.drop(columns="geometry").equals(expected.drop(columns="geometry"))
    assert wards.crs.to_epsg() == 27700  # the input is left as it was
    assert maps.to_wgs84(got) is got  # already in EPSG:4326
    with pytest.raises(ValueError, match="naive geometries"):
        maps.to_wgs84(gpd.GeoDataFrame(geometry=[Point(0, 0)]))


def test_base_map_leaves_the_wheel_to_the_page_until_clicked():
    m = maps.base_map((-2.2, 52.5, -1.6, 53.2))
    text = rendered(m)
    assert "scrollWheelZoom.disable()" in text and 'map.on("click focus"' in text
