"""Every page renders in AppTest on a store loaded with the real sample, and filters change it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from app_util import app_page, store_env
from streamlit.testing.v1 import AppTest

from hotspots.ingest import ingest
from hotspots.store import Store

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = {
    "pages/map_page.py": "Map",
    "pages/hotspots_page.py": "Hotspots",
    "pages/trends_page.py": "Trends & seasonality",
    "pages/profile_page.py": "Ward profile",
    "pages/data_page.py": "Data",
}


@pytest.fixture(scope="session")
def app_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("app") / "store.duckdb"
    with Store(path) as store:
        reports = ingest([ROOT / "sample_data" / "staffordshire-2025-street.zip"], store=store)
        assert reports[0].status == "loaded"
    with store_env(path):
        yield path


def open_page(page: str, query: dict[str, str] | None = None) -> AppTest:
    return app_page(None if page == "pages/map_page.py" else page, query=query, timeout=120)


def numbers(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def set_categories(at: AppTest, categories: list[str]) -> None:
    at.sidebar.multiselect(key="f_categories").set_value(categories).run()
    assert not at.exception, at.exception


@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders_with_its_title(app_store, page):
    at = open_page(page)
    assert [t.value for t in at.title][0] == PAGES[page]
    assert not at.error, [e.value for e in at.error]


def test_map_numbers_follow_the_filter(app_store):
    at = open_page("pages/map_page.py")
    before = numbers(at)
    assert before["Incidents"] == "102,451"
    set_categories(at, ["Burglary"])
    after = numbers(at)
    assert after["Incidents"] != before["Incidents"]
    assert int(after["Incidents"].replace(",", "")) < 10_000
    assert "Burglary" in at.caption[0].value


def map_args(at: AppTest) -> dict:
    """The arguments the Map page passes to streamlit-folium's component."""
    return json.loads(at.get("component_instance")[0].proto.json_args)


def test_map_filter_change_swaps_layers_in_the_same_map(app_store):
    at = open_page("pages/map_page.py")
    before = map_args(at)
    assert '"Ward areas" : feature_group_feature_group_0' in before["layer_control"]
    set_categories(at, ["Burglary"])
    after = map_args(at)
    # the base map (its script, hence the component's key) is the same: the browser keeps the
    # live map and swaps the layers, which changed with the filter (counts in the tooltips)
    assert after["script"] == before["script"] and after["key"] == before["key"]
    assert after["feature_group"] != before["feature_group"]
    assert after["script"].count("L.geoJson(") == 1  # the study area's outline only
    assert after["feature_group"].count("L.geoJson(") == 3  # areas; places' outlines and markers
    assert "hs-legend" in after["feature_group"] and "hs-legend" not in after["script"]
    at.multiselect(key="layers").set_value(["areas"]).run()
    assert map_args(at)["layer_control"].count("feature_group_feature_group_") == 1


def test_hotspots_overview_swaps_places_in_the_same_map(app_store):
    at = open_page("pages/hotspots_page.py")
    before = map_args(at)
    # the base: the study area's outline and the area outlines; the places come as a layer group
    assert before["script"].count("L.geoJson(") == 2 and "hs-rank" not in before["script"]
    assert "Area outlines" in before["layer_control"]
    assert before["feature_group"].count("hs-rank") >= 1  # the places, with their rank labels
    set_categories(at, ["Burglary"])
    at.selectbox(key="method").set_value("dbscan").run()
    after = map_args(at)
    # filter and method changed: same base map (so the browser keeps it, with its zoom), new places
    assert after["script"] == before["script"] and after["key"] == before["key"]
    assert after["feature_group"] != before["feature_group"]
    assert after["layer_control"].count(": feature_group_feature_group_") == 1
    assert '"DBSCAN: clusters of incidents" : feature_group_feature_group_0' in after["layer_control"]
    at.selectbox(key="place").set_value(1).run()  # a chosen place: its own micro-map
    assert not at.exception, at.exception
    micro = map_args(at)
    assert micro["key"] != before["key"] and not micro["feature_group"]


def test_map_draws_every_layer(app_store):
    at = open_page("pages/map_page.py")
    at.multiselect(key="layers").set_value(["areas", "kde", "gistar", "dbscan", "repeat", "incidents"]).run()
    assert not at.exception, at.exception
    layers = map_args(at)
    # DBSCAN's and the repeat locations' rank labels are told apart (D1…, R1…), and say so
    assert '"D1"' in layers["feature_group"] and '"R1"' in layers["feature_group"]
    assert '"DBSCAN clusters (D1, D2' in layers["layer_control"], layers["layer_control"]
    shown = at.dataframe[-1].value["parameter"].tolist()
    assert any(p.startswith("DBSCAN clusters: eps") for p in shown), shown
    assert any(p.startswith("KDE: bandwidth") for p in shown), shown
    at.radio(key="measure").set_value("rate").run()
    assert not at.exception, at.exception


def test_hotspots_list_follows_filter_and_method(app_store):
    at = open_page("pages/hotspots_page.py")
    before = at.caption[1].value
    set_categories(at, ["Shoplifting"])
    assert at.caption[1].value != before
    for method in ("gistar", "dbscan", "repeat", "count"):
        at.selectbox(key="method").set_value(method).run()
        assert not at.exception, (method, at.exception)
        assert at.dataframe, method
    assert {m.label for m in at.metric} >= {"Hit rate", "PAI", "PEI", "RRI"}


def test_hotspot_parameters_are_editable(app_store):
    at = open_page("pages/hotspots_page.py", {"method": "kde"})
    at.number_input(key="hp_kde_cell_size").set_value(500.0).run()
    assert not at.exception, at.exception
    assert at.query_params["hp_kde_cell_size"] in ("500.0", ["500.0"])
    # only settings that differ from their defaults, of the method in use, go in the address
    assert [k for k in at.query_params if k.startswith("hp_")] == ["hp_kde_cell_size"]
    at.selectbox(key="method").set_value("gistar").run()
    assert not at.exception, at.exception
    assert not [k for k in at.query_params if k.startswith("hp_")], dict(at.query_params)


def test_hotspots_place_chosen_opens_its_details(app_store):
    """A place from the URL: its heading, its count as in the list, its streets; 0 goes back to the overview."""
    at = open_page("pages/hotspots_page.py", {"place": "2"})
    listed = at.dataframe[0].value
    assert listed.columns[:3].tolist() == ["rank", "name", "count"]  # the place's name comes first
    second = listed[listed["rank"] == 2].iloc[0]
    assert at.selectbox(key="place").value == 2
    assert f"### 2. {second['name']}" in [m.value for m in at.markdown]
    assert numbers(at)["Incidents"] == f"{int(second['count']):,}"
    streets = at.dataframe[1].value
    assert streets["count"].is_monotonic_decreasing and streets["count"].iloc[0] > 0
    at.selectbox(key="place").set_value(0).run()
    assert not at.exception, at.exception
    assert not any(m.value.startswith("### ") for m in at.markdown)
    assert "place" not in at.query_params
    at.selectbox(key="method").set_value("repeat").run()  # a point place: its map points within 30 m
    at.selectbox(key="place").set_value(1).run()
    assert not at.exception, at.exception
    assert int(numbers(at)["Incidents"].replace(",", "")) >= int(at.dataframe[0].value["count"].iloc[0])


def test_trends_numbers_follow_the_filter(app_store):
    at = open_page("pages/trends_page.py")
    before = numbers(at)
    set_categories(at, ["Anti-social behaviour"])
    assert numbers(at) != before


def test_trends_on_a_short_range_explains_what_it_cannot_show(app_store):
    """Three months: no emerging hot spots (they need 10) and no 12-month total, each said, no crash."""
    at = open_page("pages/trends_page.py", {"month_from": "2025-04", "month_to": "2025-06"})
    info = [i.value for i in at.info]
    assert any(
        i.startswith("Emerging hot spots are not shown: emerging hot spot analysis needs at least 10 periods")
        for i in info
    ), info
    assert numbers(at)["Incidents, 2024-07 to 2025-06"] == "not all loaded"


def test_profile_numbers_follow_the_filter_and_the_area(app_store):
    at = open_page("pages/profile_page.py")
    before = numbers(at)
    set_categories(at, ["Vehicle crime"])
    after = numbers(at)
    assert after["Incidents"] != before["Incidents"]
    assert after["Residents"] == before["Residents"]
    said = " ".join(m.value for m in at.markdown)
    assert f"there were {after['Incidents']} incidents of Vehicle crime recorded in" in said, said
    set_categories(at, ["Vehicle crime", "Robbery"])
    said = " ".join(m.value for m in at.markdown)
    assert "incidents of Robbery or Vehicle crime recorded in" in said, said  # the filter sorts them
    at.selectbox(key="profile_level").set_value("district").run()
    assert not at.exception, at.exception
    assert numbers(at)["Residents"] != after["Residents"]
    assert any(d.label.startswith("Download a printable") for d in at.get("download_button"))
    places = next(d.value for d in at.dataframe if "Place" in d.value.columns)
    assert len(places) > 0 and places["Incidents"].is_monotonic_decreasing
    assert places["Place"].str.len().min() > 3  # named, not numbered


def test_data_page_shows_what_the_store_holds(app_store):
    at = open_page("pages/data_page.py")
    held = numbers(at)
    assert held["Incidents"] == "102,451"
    assert held["Files loaded"] == "1"


def test_url_query_sets_the_filter(app_store):
    at = open_page(
        "pages/map_page.py", {"categories": "Burglary", "month_from": "2025-03", "month_to": "2025-05"}
    )
    assert "2025-03 to 2025-05; Burglary" in at.caption[0].value
    assert at.query_params["categories"] in ("Burglary", ["Burglary"])
    at_all = open_page("pages/map_page.py")
    assert numbers(at)["Incidents"] != numbers(at_all)["Incidents"]


def test_bad_url_query_falls_back_to_everything(app_store):
    at = open_page("pages/map_page.py", {"month_from": "June", "level": "galaxy"})
    assert numbers(at)["Incidents"] == "102,451"


def test_warm_up_runs_every_page_step(app_store):
    from dashboard import warm

    timings = warm.warm_up()
    assert {"incidents", "Map", "Hotspots", "Trends & seasonality", "Ward profile"} <= set(timings)
    assert timings["Map"] < 30


def test_upload_progress_moves_through_the_stages_of_one_file(tmp_path, sample_raw):
    from dashboard import loading

    month = sample_raw[sample_raw["_file"].str.startswith("2025-03/")].drop(columns="_file")
    calls = []
    with Store(tmp_path / "store.duckdb") as store:
        reports = loading.load_uploads(
            store,
            [("2025-03-staffordshire-street.csv", month.to_csv(index=False).encode())],
            progress=lambda x, text: calls.append((x, text)),
        )
    assert reports[0].status == "loaded", reports[0].error
    fractions = [x for x, _ in calls]
    assert fractions == sorted(fractions) and fractions[0] == 0 and fractions[-1] == 1
    assert len({x for x in fractions if 0 < x < 1}) >= 3, calls  # stages inside the one file
    assert calls[0][1] == "Reading 2025-03-staffordshire-street.csv"


def test_run_log_records_each_run_when_asked(app_store, tmp_path, monkeypatch):
    log = tmp_path / "runs.tsv"
    monkeypatch.setenv("HOTSPOTS_RUN_LOG", str(log))
    at = open_page("pages/map_page.py")
    set_categories(at, ["Burglary"])
    rows = [line.split("\t") for line in log.read_text().splitlines()]
    assert len(rows) == 2  # the first run and the filter change
    for ended, seconds in rows:
        assert float(ended) > 1.7e9 and 0 < float(seconds) < 120
