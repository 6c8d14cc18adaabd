"""Maps render without their text being compiled again as a template (dashboard/folium_render.py).

Real maps of the 2025 sample (wards, named places, points) render to exactly the same page with
and without the change; template syntax in data (a location name, an area name, a tooltip)
stays text instead of being evaluated on the server.
"""

from __future__ import annotations

import itertools

import folium
import geopandas as gpd
import pandas as pd
import pytest
import streamlit_folium
from branca.element import Element
from shapely.geometry import Point, box

from dashboard import folium_render, maps
from hotspots.hotspot_list import find_hotspots

INJECT = '{{ 7*7 }}Q {% if true %}branch{% endif %} {# c #} it\'s "quoted"'


@pytest.fixture
def stable_ids(monkeypatch):
    """Element ids from a counter (branca draws them at random), restarted by calling it."""

    def restart() -> None:
        counter = itertools.count()
        monkeypatch.setattr(Element, "_generate_id", classmethod(lambda cls: f"{next(counter):032x}"))

    restart()
    return restart


def county_map(incidents: pd.DataFrame, geography) -> folium.Map:
    wards = geography.areas("ward")
    counts = incidents.groupby("ward_code").size()
    wards = wards.assign(count=counts.reindex(wards["area_code"]).fillna(0).to_numpy()).to_crs(4326)
    places = find_hotspots(incidents, geography=geography).head(40).to_crs(4326)
    pts = incidents.groupby(["lon", "lat"]).size().rename("count").reset_index().head(300)
    pts["tip"] = [f"{c} incidents" for c in pts["count"]]
    m = maps.base_map(wards.total_bounds)
    maps.add_areas(m, wards, value="count", title="Incidents", fields=[("count", "Incidents")])
    maps.add_hotspots(m, places, labels=15)
    maps.add_points(m, pts, name="Incidents by map point", colour=maps.INCIDENT)
    return maps.finish(m)


def page_text(m: folium.Map) -> str:
    """The whole page as folium writes it, and the parts streamlit-folium sends."""
    root = m.get_root().render()
    return root + streamlit_folium._get_map_string(m) + streamlit_folium._get_header(m)


def test_real_maps_render_exactly_as_before(real_incidents, geography, stable_ids):
    folium_render.uninstall()
    try:
        before = page_text(county_map(real_incidents, geography))
    finally:
        folium_render.install()
    stable_ids()
    after = page_text(county_map(real_incidents, geography))
    assert len(after) > 100_000  # wards, places and points are all there
    assert after == before


def test_template_syntax_in_data_stays_text(stable_ids):
    areas = gpd.GeoDataFrame(
        {
            "area_code": ["A", "B"],
            "area_name": [INJECT, "Leek"],
            "district_name": ["X", "Y"],
            "count": [1, 2],
        },
        geometry=[box(-2.2, 53.0, -2.1, 53.1), box(-2.1, 53.0, -2.0, 53.1)],
        crs=4326,
    )
    places = gpd.GeoDataFrame(
        {"rank": [1], "name": [INJECT], "count": [9], "share_of_incidents": [0.5], "top_categories": [INJECT],
         "top_locations": [INJECT], "wards": [INJECT]},
        geometry=[Point(-2.0, 53.0).buffer(0.01)], crs=4326,
    )  # fmt: skip
    pts = pd.DataFrame({"lon": [-2.05], "lat": [53.05], "count": [3], "tip": [maps.esc(INJECT)]})
    m = maps.base_map(areas.total_bounds)
    maps.add_areas(m, areas, value="count", title="Incidents", fields=[("count", "Incidents")])
    maps.add_hotspots(m, places)
    maps.add_points(m, pts, name="points", colour=maps.INCIDENT)
    maps.finish(m)
    text = m.get_root().render()  # before the change: TemplateSyntaxError (the quote in the JSON)
    assert "49Q" not in text and "{{ 7*7 }}Q" in text
    assert "{% if true %}branch{% endif %}" in text


def test_without_the_change_data_text_is_evaluated_as_a_template():
    """Why the change exists: branca compiles rendered map text again (it prints 49)."""
    gj = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"t": "{{ 7*7 }}Q"}, "geometry": {"type": "Point", "coordinates": [-2, 53]}}
    ]}  # fmt: skip
    folium_render.uninstall()
    try:
        m = folium.Map(tiles=None)
        folium.GeoJson(gj, tooltip=folium.GeoJsonTooltip(fields=["t"])).add_to(m)
        assert "49Q" in m.get_root().render()
    finally:
        folium_render.install()
    m = folium.Map(tiles=None)
    folium.GeoJson(gj, tooltip=folium.GeoJsonTooltip(fields=["t"])).add_to(m)
    text = m.get_root().render()
    assert "49Q" not in text and "{{ 7*7 }}Q" in text


@pytest.mark.parametrize("text", ["a\r\nb\rc\n", "plain", "two\n\n", "", "\n"])
def test_rendered_text_is_what_jinja_makes_of_text_without_syntax(text):
    from jinja2 import Template

    assert folium_render.RenderedText(text).render() == Template(text).render()
    assert folium_render.jinja_text(text) == Template(text).render()
