"""Disclosure control on the pages: a viewer against an analyst, on the real 2025 sample plus a
restricted partner source (the constructed STATS19-layout file loaded as ``collisions``).

Every suppressed cell is checked against a hand count made here, independently of the app: the
partner CSV's points joined to the shipped ward and district polygons with GeoPandas.
"""

from __future__ import annotations

import html
import io
import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pytest
from app_util import app_page, store_env
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from hotspots import audit, disclosure
from hotspots.areas import area_table
from hotspots.filters import Filter
from hotspots.store import Store

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SOURCE = "collisions"
COLUMN = f"{SOURCE} (restricted)"
C = disclosure.SUPPRESSED


@pytest.fixture(scope="module")
def restricted_store(restricted_store_path, tmp_path_factory):
    """A copy of the store with ``collisions`` restricted (conftest); police-only ward counts."""
    path = tmp_path_factory.mktemp("disclose_app") / "store.duckdb"
    shutil.copy(restricted_store_path, path)  # this module's refusals are recorded in its own copy
    with Store(path, read_only=True) as store:
        police = area_table(
            store.incidents(), geography=store.geography(), filt=Filter(sources=("police.uk",))
        )
    with store_env(path):
        yield {"path": path, "police": police.set_index("area_code")["count"]}


@pytest.fixture(scope="module")
def hand(geography):
    """Collisions by ward, by district and month: the raw CSV's points joined to the polygons."""
    raw = pd.read_csv(DATA / "stats19_constructed.csv", dtype=str)
    pts = gpd.GeoDataFrame(
        {"month": pd.to_datetime(raw["Date"], format="%d/%m/%Y").dt.strftime("%Y-%m")},
        geometry=gpd.points_from_xy(raw["Longitude"].astype(float), raw["Latitude"].astype(float)),
        crs=4326,
    ).to_crs(27700)
    j = gpd.sjoin(pts, geography.lsoas[["ward_code", "district_code", "geometry"]], predicate="within")
    j["category"] = raw.loc[j.index, "Accident_Severity"].map({"1": "Fatal", "2": "Serious", "3": "Slight"})
    return {
        "ward": j.groupby("ward_code").size(),
        "ward_category": j.groupby(["ward_code", "category"]).size(),
        "district_month": j.groupby(["district_code", "month"]).size(),
    }


@pytest.fixture
def downloads(monkeypatch):
    """The files behind the page's download buttons, by file name (made as a click would make them)."""
    made = {}
    original = MediaFileManager.add_deferred

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        made[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return made


def open_as(role: str, monkeypatch, page: str | None = None) -> AppTest:
    monkeypatch.setenv("HOTSPOTS_LOCAL_ROLE", role)
    return app_page(page, timeout=300)


def statement(at: AppTest) -> str:
    found = [c.value for c in at.caption if "Disclosure control:" in c.value]
    assert len(found) == 1, [c.value for c in at.caption]
    return found[0]


def popups(at: AppTest) -> dict[tuple[str, str], str]:
    """(area name, district) -> the restricted cell, read from the area layer's popup HTML."""
    args = json.loads(at.get("component_instance")[0].proto.json_args)
    script = args["script"] + (args["feature_group"] or "")  # the Map page's layers are feature groups
    out = {}
    for m in re.finditer(r'"tip": ("(?:[^"\\]|\\.)*")', script):
        tip = json.loads(m.group(1))
        cell = re.search(re.escape(COLUMN) + r"</th><td>(.*?)</td>", tip)
        if cell:
            name = html.unescape(re.search(r"<b>(.*?)</b>", tip).group(1))
            district = html.unescape(re.search(r"District</th><td>(.*?)</td>", tip).group(1))
            out[(name, district)] = html.unescape(cell.group(1))
    return out


def check_against_hand_count(cells: pd.Series, hand: pd.Series) -> None:
    """Small counts withheld; every count shown is the hand count; withheld cells cannot be recovered."""
    counts = hand.reindex(cells.index).fillna(0).astype(int)
    small = counts.between(1, 4)
    assert small.sum() > 20  # the test means something: many wards have 1-4 collisions
    assert (cells[small] == C).all()
    shown = cells != C
    assert (cells[shown].astype(int) == counts[shown]).all()
    secondary = ~small & ~shown
    assert (counts[secondary] >= 5).all()  # a cell withheld to protect another is not small


def try_to_recover(cells: pd.Series, total: int) -> list[int]:
    """What a reader can work out from the total and the cells shown: each withheld cell is at
    least 1 (zeros are shown), so the total pins one down only if a single cell is withheld or all
    are 1s. Returns the cells' possible values if one is pinned, else []."""
    withheld = int((cells == C).sum())
    left = total - int(cells[cells != C].astype(int).sum())
    if withheld == 1 or left == withheld:
        return [left] if withheld == 1 else [1] * withheld
    return []


def test_viewer_sees_restricted_counts_suppressed_in_table_popup_and_csv(
    restricted_store, hand, monkeypatch, downloads
):
    at = open_as("viewer", monkeypatch)
    text = statement(at)
    assert "collisions (restricted partner data) is left out of every count" in text
    assert "counts of 1 to 4 from restricted partner sources are suppressed (shown as [c])" in text
    # the page works on police.uk only; its own filter still names every source
    assert at.session_state["filter"].sources == ("police.uk",)

    # the download: every ward, as a click would write it
    csv = pd.read_csv(io.BytesIO(downloads["areas_ward.csv"]()), dtype={COLUMN: str})
    cells = csv.set_index("area_code")[COLUMN]
    check_against_hand_count(cells, hand["ward"])
    assert "Disclosure control: collisions" in csv["parameters"].iloc[0]
    # police.uk counts are the police.uk counts, untouched
    assert (csv.set_index("area_code")["count"] == restricted_store["police"].reindex(cells.index)).all()

    # secondary suppression: the total shown under the table cannot give a withheld cell away
    total = re.search(re.escape(COLUMN) + r": (\d+) in these areas", " ".join(c.value for c in at.caption))
    assert int(total.group(1)) == int(hand["ward"].reindex(cells.index).fillna(0).sum())
    assert try_to_recover(cells, int(total.group(1))) == []

    # the table on screen shows the same cells
    table = at.dataframe[0].value
    assert COLUMN in table.columns
    by_name = csv.set_index(["area_name", "district_name"])[COLUMN]
    for name, district, cell in table[["area_name", "district_name", COLUMN]].to_numpy():
        assert cell == by_name[(name, district)]

    # the popup of every ward on the map
    tips = popups(at)
    assert len(tips) == len(csv)
    assert all(tips[k] == v for k, v in by_name.items())
    assert sum(v == C for v in tips.values()) == int((cells == C).sum())


def test_analyst_sees_exact_restricted_counts(restricted_store, hand, monkeypatch, downloads):
    at = open_as("analyst", monkeypatch)
    assert "you see exact counts (role analyst)" in statement(at)
    assert at.session_state["filter"].sources == ()
    csv = pd.read_csv(io.BytesIO(downloads["areas_ward.csv"]()))
    cells = csv.set_index("area_code")[COLUMN]
    assert (cells == hand["ward"].reindex(cells.index).fillna(0).astype(int)).all()
    # an analyst's incident counts include the partner source
    police = restricted_store["police"].reindex(cells.index)
    assert (csv.set_index("area_code")["count"] == police + cells).all()
    tips = popups(at)
    assert C not in tips.values()


def chart_data(at: AppTest, title: str) -> pd.DataFrame:
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        if title in str(spec.get("title")):
            return pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_pandas()
    raise AssertionError(f"no chart titled {title!r}")


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_trends_chart_of_a_district_suppresses_for_viewers_only(restricted_store, hand, monkeypatch, role):
    by_month = hand["district_month"]
    small = by_month[by_month.between(1, 4)]
    district = small.groupby(level=0).size().idxmax()  # the district with the most small months
    at = open_as(role, monkeypatch, "pages/trends_page.py")
    at.sidebar.selectbox(key="f_level").set_value("district").run()
    at.sidebar.multiselect(key="f_areas").set_value([district]).run()
    assert not at.exception, at.exception
    data = chart_data(at, "Restricted partner sources by month").set_index("month")
    counts = by_month[district].reindex(data.index).fillna(0).astype(int)
    if role == "analyst":
        assert (data["count"] == counts).all() and (data["shown"] != C).all()
        return
    withheld = data["shown"] == C
    assert withheld[counts.between(1, 4)].all() and counts.between(1, 4).sum() >= 3
    assert data.loc[withheld, "count"].isna().all()  # no bar carries the withheld value
    assert (data.loc[~withheld, "count"] == counts[~withheld]).all()
    assert try_to_recover(data["shown"], int(counts.sum())) == []


def test_viewer_ward_profile_table_and_printable_profile(restricted_store, hand, monkeypatch, downloads):
    at = open_as("viewer", monkeypatch, "pages/profile_page.py")
    assert "except its own columns" in statement(at)
    code = at.session_state["area"]
    table = next(d.value for d in at.dataframe if COLUMN in d.value.columns).set_index("category")[COLUMN]
    counts = hand["ward_category"][code]  # collisions by severity in this ward, by hand
    assert table["Total"] == str(counts.sum()) and counts.between(1, 4).any()
    cells = table.drop("Total")
    counts = counts.reindex(cells.index).fillna(0).astype(int)
    assert (cells[counts.between(1, 4)] == C).all()
    assert (cells[cells != C].astype(int) == counts[cells != C]).all()
    assert try_to_recover(cells, int(table["Total"])) == []
    report = downloads[f"profile_{code}.html"]()
    report = report.decode() if isinstance(report, bytes) else report
    assert "Disclosure control: collisions" in report and "<h2>Restricted partner sources</h2>" in report


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_hotspot_list_has_the_restricted_source_in_its_own_column(
    restricted_store, monkeypatch, downloads, role
):
    at = open_as(role, monkeypatch, "pages/hotspots_page.py")
    assert ("except its own columns" if role == "viewer" else "you see exact counts") in statement(at)
    name = next(n for n in downloads if n.startswith("hotspots_") and n.endswith(".geojson"))
    places = gpd.read_file(io.BytesIO(downloads[name]())).to_crs(27700)
    assert "Disclosure control: collisions" in str(places["parameters"].iloc[0])
    # collisions inside each place, by hand: the raw CSV's points in the exported outlines
    raw = pd.read_csv(DATA / "stats19_constructed.csv", dtype=str)
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(raw["Longitude"].astype(float), raw["Latitude"].astype(float)), crs=4326
    ).to_crs(27700)
    counts = gpd.sjoin(pts, places[["rank", "geometry"]], predicate="within").groupby("rank").size()
    cells = places.set_index("rank")[COLUMN].astype(str)
    counts = counts.reindex(cells.index).fillna(0).astype(int)
    assert counts.between(1, 4).sum() >= 5
    if role == "analyst":
        assert (cells == counts.astype(str)).all()
        return
    assert (cells[counts.between(1, 4)] == C).all()
    assert (cells[cells != C].astype(int) == counts[cells != C]).all()
    # a viewer's list is police.uk only, and no other column counts the restricted source
    assert not [c for c in places.columns if SOURCE in c and c != COLUMN]
    assert not [e for e in at.expander if SOURCE in e.label]


def test_viewer_may_not_change_disclosure_settings(restricted_store, monkeypatch):
    def page():
        from dashboard import disclosure_ui

        disclosure_ui._may_change()

    monkeypatch.setenv("HOTSPOTS_LOCAL_ROLE", "viewer")
    at = AppTest.from_function(page).run()
    assert at.error[0].value == (
        "Only an analyst or an admin may change disclosure settings; you are signed in as viewer."
    )
    with Store(restricted_store["path"], read_only=True) as store:
        assert audit.entries(store, action="refused")["detail"].iloc[0] == "disclosure settings"


def test_data_page_settings_are_stored_audited_and_used(restricted_store, hand, monkeypatch, downloads):
    def save(at: AppTest, **widgets) -> AppTest:
        for label, value in widgets.items():
            found = [w for w in [*at.selectbox, *at.number_input, *at.multiselect] if w.label == label]
            found[0].set_value(value)
        next(b for b in at.button if b.label == "Save disclosure settings").click().run()
        assert not at.exception, at.exception
        return at

    at = open_as("admin", monkeypatch, "pages/data_page.py")
    at = save(at, Method="round")
    assert at.success[0].value.startswith(
        "Saved: counts from restricted partner sources are rounded to the nearest 5"
    )
    with Store(restricted_store["path"], read_only=True) as store:
        assert disclosure.stored_rule(store) == disclosure.Rule(method="round")
        entry = audit.entries(store, action="disclosure").iloc[0]
    assert (entry["user"], entry["role"], entry["via"]) == ("local", "admin", "dashboard")
    assert entry["detail"] == "suppress 1-4 -> round to base 5, 1-4 shown as 5"

    # a viewer now gets rounded counts: 1-4 shown as 5, every count a multiple of 5
    view = open_as("viewer", monkeypatch)
    assert "rounded to the nearest 5 (counts of 1 to 4 shown as 5)" in statement(view)
    cells = pd.read_csv(io.BytesIO(downloads["areas_ward.csv"]())).set_index("area_code")[COLUMN]
    counts = hand["ward"].reindex(cells.index).fillna(0).astype(int)
    assert (cells[counts.between(1, 4)] == 5).all() and (cells % 5 == 0).all()
    assert (cells[counts >= 5] - counts[counts >= 5]).abs().max() <= 2

    # lifting the restriction on the Data page: the viewer sees no restricted column any more
    at = save(open_as("admin", monkeypatch, "pages/data_page.py"), **{"Restricted partner sources": []})
    view = open_as("viewer", monkeypatch)
    assert not [c.value for c in view.caption if "Disclosure control:" in c.value]
    assert view.session_state["filter"].sources == ()
    with Store(restricted_store["path"]) as store:  # as the other tests expect it
        assert audit.entries(store, action="restrict")["detail"].iloc[0] == "collisions: no longer restricted"
        disclosure.set_restricted(store, SOURCE)
        disclosure.set_rule(store, disclosure.Rule())


def test_partner_form_restricted_box_marks_the_source(sample_store_path, tmp_path, monkeypatch):
    path = tmp_path / "store.duckdb"
    shutil.copy(sample_store_path, path)
    csv = b"Ref,Month,Lon,Lat\nA1,2025-01,-2.18,53.0\nA2,2025-01,-2.17,53.01\nA3,2025-02,-2.17,53.01\n"
    with store_env(path):
        at = open_as("admin", monkeypatch, "pages/data_page.py")
        next(u for u in at.get("file_uploader") if u.key == "partner_file").upload(
            "council-asb.csv", csv, "text/csv"
        )
        at.run()
        next(c for c in at.checkbox if c.label.startswith("Restricted source")).check().run()
        choose = {s.label: s for s in at.selectbox}
        next(r for r in at.radio if r.label == "When").set_value("month")
        choose["Date or month column"].set_value("Month")
        choose["Longitude or easting"].set_value("Lon")
        choose["Latitude or northing"].set_value("Lat")
        choose["Case reference (optional)"].set_value("Ref")
        next(t for t in at.text_input if t.label == "…or one category for every row").input("ASB case")
        next(b for b in at.button if b.label == "Load partner data").click().run()
        assert not at.exception, at.exception
        with Store(path, read_only=True) as store:
            assert disclosure.restricted_sources(store) == frozenset({"council-asb"})
            entry = audit.entries(store, action="restrict").iloc[0]
            assert (
                int(store.sql("SELECT count(*) AS n FROM incidents WHERE source = 'council-asb'")["n"][0])
                == 3
            )
        assert (entry["user"], entry["role"], entry["detail"]) == (
            "local",
            "admin",
            "council-asb: restricted",
        )


def test_source_names_in_the_statement_are_not_markdown():
    from dashboard.disclosure_ui import _plain_markdown

    assert _plain_markdown("council_asb*") == r"council\_asb\*"
    assert _plain_markdown("[x](javascript:alert(1))") == r"\[x\]\(javascript\:alert\(1\)\)"
