"""The Demand & harm page on the real sample plus the constructed STATS19-layout partner file."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from app_util import store_env
from streamlit.testing.v1 import AppTest

from hotspots.areas import area_table
from hotspots.demand import demand
from hotspots.filters import Filter
from hotspots.ingest import PartnerMapping, ingest
from hotspots.store import Store

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def partner_store(sample_store_path, tmp_path_factory):
    path = tmp_path_factory.mktemp("demand_app") / "store.duckdb"
    shutil.copy(sample_store_path, path)
    with Store(path) as store:
        mapping = PartnerMapping.from_file(DATA / "stats19.toml")
        ingest([DATA / "stats19_constructed.csv"], store=store, source="collisions", mapping=mapping)
        inc, geo = store.incidents(), store.geography()
        filt = Filter(month_from="2025-01", month_to="2025-12")
        expected = {  # computed by the library before the app opens the store
            "demand": demand(inc, sources=("collisions", "police.uk"), filt=filt),
            "demand6": demand(inc, sources=("collisions", "police.uk"), filt=filt, months=6, min_months=6),
            "harm": area_table(inc, geography=geo, filt=filt, level="ward", measure="harm"),
            "count": area_table(inc, geography=geo, filt=filt, level="ward"),
        }
        from hotspots.hotspot_list import find_hotspots

        spots = find_hotspots(inc, geography=geo, filt=filt)
        # the known answer: the places holding the constructed file's four persistent map points
        known = pd.read_csv(DATA / "stats19_constructed_persistent.csv")
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(known["Longitude"], known["Latitude"]), crs=4326)
        hit = spots.sjoin(pts.to_crs(27700), predicate="contains")
        expected["multi_agency_ranks"] = sorted(set(hit["rank"]))
        expected["multi_agency_names"] = spots.set_index("rank").loc[expected["multi_agency_ranks"], "name"]
        expected["harm_list"] = find_hotspots(inc, geography=geo, filt=filt, measure="harm")
        from hotspots.harm import default_weights

        w = default_weights()
        expected["edited"] = w.replace({"Shoplifting": 5000.0}, name="edited on the dashboard")
        expected["edited_list"] = find_hotspots(
            inc, geography=geo, filt=filt, measure="harm", weights=expected["edited"]
        )
        by = inc.groupby([inc["month"], inc["category"].astype(str)], observed=True).size()
        hand = pd.Series([n * w.weight(c) for (_, c), n in by.items()], index=by.index)
        expected["harm_by_month"] = hand.groupby(level=0).sum().sort_index()
        busiest = expected["count"]["area_code"].iloc[0]
        ward = filt.replace(level="ward", areas=(busiest,))
        expected["ward_harm_list"] = find_hotspots(inc, geography=geo, filt=ward, measure="harm")
        sub = inc[inc["ward_code"] == busiest]
        by = sub.groupby([sub["month"], sub["category"].astype(str)], observed=True).size()
        hand = pd.Series([n * w.weight(c) for (_, c), n in by.items()], index=by.index)
        expected["ward_harm_by_month"] = hand.groupby(level=0).sum().sort_index()
    with store_env(path):
        yield expected


def test_demand_page_shows_persistent_cells_and_harm(partner_store):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    at.switch_page("pages/demand_page.py").run()
    assert not at.exception, at.exception
    want, harm = partner_store["demand"], partner_store["harm"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Persistent multi-agency high demand"] == f"{int(want['persistent'].sum()):,} cells"
    assert int(want["persistent"].sum()) >= 1
    assert metrics["Months counted"] == "2025-01 to 2025-12"
    frames = [df.value for df in at.dataframe]
    harm_shown = next(f for f in frames if "harm" in f.columns)
    assert harm_shown["area_name"].iloc[0] == harm["area_name"].iloc[0]
    assert harm_shown["harm"].iloc[0] == pytest.approx(harm["harm"].iloc[0])
    assert any("harm weights: ONS Crime Severity Score" in c.value for c in at.caption)
    # the named places of the Hotspots list, per source: the four known places first
    places = next(f for f in frames if "composite" in f.columns and "name" in f.columns)
    assert set(places.head(4)["name"]) == set(partner_store["multi_agency_names"])
    assert places.head(4)["persistent"].all() and places["count_collisions"].head(4).ge(20).all()
    assert any(
        c.value.startswith("The places of the Hotspots list") and "4 hold a persistent cell" in c.value
        for c in at.caption
    )
    # fewer months: the page follows
    at.number_input(key="demand_months").set_value(6).run()
    at.number_input(key="demand_k").set_value(6).run()
    assert not at.exception, at.exception
    want6 = partner_store["demand6"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Persistent multi-agency high demand"] == f"{int(want6['persistent'].sum()):,} cells"
    assert metrics["Months counted"] == "2025-07 to 2025-12"
    at.number_input(key="demand_months").set_value(3).run()  # below k: k follows, no error
    assert not at.exception, at.exception
    assert at.number_input(key="demand_k").value == 3


def test_ward_profile_states_harm(partner_store):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/profile_page.py").run()
    assert not at.exception, at.exception
    busiest = partner_store["count"]["area_code"].iloc[0]  # the page opens on the busiest ward
    harm = partner_store["harm"].set_index("area_code")
    rank = int(harm["harm_per_1000"].rank(ascending=False, method="min")[busiest])
    text = next(m.value for m in at.markdown if "Weighted by harm" in m.value)
    assert "ONS Crime Severity Score weights" in text
    assert f"{harm.loc[busiest, 'harm_per_1000']:,.0f} per 1,000 residents" in text
    assert f"of the {len(harm)} wards" in text and (
        f"the {rank}th" in text
        or f"the {rank}st" in text
        or f"the {rank}nd" in text
        or f"the {rank}rd" in text
    )


def test_sidebar_filters_partner_columns(partner_store):
    raw = pd.read_csv(DATA / "stats19_constructed.csv", dtype=str, keep_default_na=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["sources"] = "collisions"
    at.run()
    assert not at.exception, at.exception
    assert "Speed_limit=30" in at.sidebar.multiselect(key="f_extra").options
    at.sidebar.multiselect(key="f_extra").set_value(["Speed_limit=30", "Speed_limit=40"]).run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}["Incidents"]
    assert shown == f"{int(raw['Speed_limit'].isin(['30', '40']).sum()):,}"
    assert at.query_params["extra"] in ("Speed_limit=30,Speed_limit=40", ["Speed_limit=30,Speed_limit=40"])


def test_hotspots_page_marks_places_of_persistent_demand(partner_store):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.run()
    at.switch_page("pages/hotspots_page.py").run()
    assert not at.exception, at.exception
    ranks = partner_store["multi_agency_ranks"]
    toggle = at.toggle(key="hs_multi_agency")
    assert toggle.label == f"Only places of persistent multi-agency high demand ({len(ranks)})"
    assert len(ranks) == 4
    # demand per source for each place: the four hold most of the collisions' share
    per_place = next(df.value for df in at.dataframe if "composite" in df.value.columns)
    assert set(per_place.head(4)["name"]) == set(partner_store["multi_agency_names"])
    assert per_place.head(4)["persistent"].all() and not per_place["persistent"].iloc[4:].any()
    toggle.set_value(True).run()
    assert not at.exception, at.exception
    caption = next(
        c.value
        for c in at.caption
        if c.value.endswith("incidents with a location.") or "hotspots hold" in c.value
    )
    assert caption.startswith(f"{len(ranks)} hotspots hold")


def test_hotspots_page_ranks_by_harm_and_states_the_weights(partner_store):
    want = partner_store["harm_list"]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.query_params["hs_measure"] = "harm"
    at.run()
    at.switch_page("pages/hotspots_page.py").run()
    assert not at.exception, at.exception
    assert at.radio(key="hs_measure").value == "harm"
    shown = next(df.value for df in at.dataframe if "harm" in df.value.columns)
    assert list(shown["name"].head(10)) == list(want["name"].head(10))
    assert shown["harm"].head(10).to_numpy() == pytest.approx(want["harm"].head(10).to_numpy())
    caption = next(c.value for c in at.caption if "Ranked by **harm**" in c.value)
    assert "harm weights: ONS Crime Severity Score" in caption
    assert f"these places hold {want.params['share_of_harm_in_hotspots']:.0%} of the harm" in caption
    # back to incidents: the harm column goes
    at.radio(key="hs_measure").set_value("count").run()
    assert not at.exception, at.exception
    assert all("harm" not in df.value.columns for df in at.dataframe)


def test_trends_page_shows_the_hour_of_day_profile_of_the_collisions(partner_store):
    raw = pd.read_csv(DATA / "stats19_constructed.csv", dtype=str, keep_default_na=False)
    timed = raw[raw["Time"] != ""]
    when = pd.to_datetime(timed["Date"] + " " + timed["Time"], format="%d/%m/%Y %H:%M")
    hand = pd.crosstab(when.dt.hour, when.dt.day_of_week).reindex(
        index=range(24), columns=range(7), fill_value=0
    )
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.run()
    at.switch_page("pages/trends_page.py").run()
    assert not at.exception, at.exception
    table = next(df.value for df in at.dataframe if "All days" in df.value.columns)
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert table[days].to_numpy().tolist() == hand.to_numpy().tolist()
    assert table["All days"].tolist() == hand.sum(axis=1).tolist()
    busiest = int(hand.sum(axis=1).idxmax())
    caption = next(c.value for c in at.caption if "with an exact time" in c.value)
    assert caption.startswith(f"{len(timed):,} incidents with an exact time (collisions).")
    assert f"Busiest hour {busiest:02d}:00–{busiest:02d}:59 ({int(hand.sum(axis=1)[busiest]):,}" in caption
    assert "police.uk: 102,451 incidents (the source publishes the month only" in caption
    # police.uk alone: the page says why there is no profile instead of an empty chart
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.query_params["sources"] = "police.uk"
    at.run()
    at.switch_page("pages/trends_page.py").run()
    assert not at.exception, at.exception
    info = " ".join(i.value for i in at.info)
    assert "police.uk publishes the month of each incident only" in info
    assert all("All days" not in df.value.columns for df in at.dataframe)


def chart_data(element) -> pd.DataFrame:
    """The data of an Altair chart drawn by the page (its one dataset, read from Arrow)."""
    import pyarrow as pa

    return pa.ipc.open_stream(element.proto.datasets[0].data.data).read_all().to_pandas()


def test_trends_page_measures_harm_by_month(partner_store):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.query_params["trend_measure"] = "harm"
    at.run()
    at.switch_page("pages/trends_page.py").run()
    assert not at.exception, at.exception
    shown = next(chart_data(c) for c in at.get("vega_lite_chart") if "harm" in chart_data(c).columns)
    # hand: count by month x category times the shipped weight (the harm area table's weights)
    want = partner_store["harm_by_month"]
    assert shown["harm"].to_numpy() == pytest.approx(want.to_numpy())
    caption = next(c.value for c in at.caption if c.value.startswith("Measured by **harm**"))
    assert "ONS Crime Severity Score" in caption and "stay on incidents" in caption


def test_ward_profile_measures_harm(partner_store):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.query_params["profile_measure"] = "harm"
    at.run()
    at.switch_page("pages/profile_page.py").run()
    assert not at.exception, at.exception
    shown = next(chart_data(c) for c in at.get("vega_lite_chart") if "harm" in chart_data(c).columns)
    assert shown["harm"].to_numpy() == pytest.approx(partner_store["ward_harm_by_month"].to_numpy())
    want = partner_store["ward_harm_list"]
    places = next(df.value for df in at.dataframe if "Harm" in df.value.columns)
    assert list(places["Place"]) == list(want["name"].head(len(places)))
    assert places["Harm"].to_numpy() == pytest.approx(want["harm"].head(len(places)).to_numpy())
    assert any(c.value.startswith("Top places ranked by **harm**") for c in at.caption)


def test_map_colours_areas_by_harm(partner_store):
    import re

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.query_params["measure"] = "harm"
    at.run()
    assert not at.exception, at.exception
    html = at.get("component_instance")[0].proto.json_args
    # each ward's popup carries its harm per 1,000 residents: those of the harm area table
    shown = re.findall(r"Harm per 1,000 residents\W+u003c/th\W+u003e\W+u003ctd\W+u003e([\d,.]+)", html)
    want = partner_store["harm"]
    assert sorted(shown) == sorted(f"{v:,.1f}" for v in want["harm_per_1000"])
    assert "Harm per 1,000 residents" in html  # the legend's title
    assert any(c.value.startswith("Areas coloured by **harm** per 1,000 residents") for c in at.caption)


def test_hotspots_page_follows_edited_weights(partner_store):
    """Weights edited on the Demand & harm page (kept in the session) re-rank the Hotspots page."""
    edited, want, before = partner_store["edited"], partner_store["edited_list"], partner_store["harm_list"]
    assert list(want["name"].head(5)) != list(before["name"].head(5))  # shoplifting x 385 moves places
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.query_params["hs_measure"] = "harm"
    at.session_state["harm_weights"] = edited
    at.run()
    at.switch_page("pages/hotspots_page.py").run()
    assert not at.exception, at.exception
    shown = next(df.value for df in at.dataframe if "harm" in df.value.columns)
    assert list(shown["name"].head(10)) == list(want["name"].head(10))
    assert shown["harm"].head(10).to_numpy() == pytest.approx(want["harm"].head(10).to_numpy())
    caption = next(c.value for c in at.caption if "Ranked by **harm**" in c.value)
    assert "harm weights: edited on the dashboard (highest: Shoplifting 5000" in caption
