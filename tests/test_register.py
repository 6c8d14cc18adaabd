"""The place register on the real 2025 Staffordshire sample: round trip, history, bad polygons."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from hotspots import register as reg
from hotspots._errors import InputError
from hotspots.store import Store

#: A 400 m square in Hanley (Stoke-on-Trent), EPSG:27700.
HANLEY = box(388_000, 347_300, 388_400, 347_700)


@pytest.fixture(scope="module")
def hotspot_list(sample_store_path):
    from hotspots.filters import Filter
    from hotspots.hotspot_list import find_hotspots

    with Store(sample_store_path, read_only=True) as s:
        inc, geo = s.incidents(), s.geography()
    return find_hotspots(
        inc, method="count", geography=geo, filt=Filter(month_from="2025-07", month_to="2025-12")
    )


@pytest.fixture
def store(sample_store_path, tmp_path):
    """A writable copy of the sample store (the session store stays read-only)."""
    path = tmp_path / "register.duckdb"
    shutil.copy(sample_store_path, path)
    s = Store(path)
    yield s
    s.close()


def _rows(store) -> dict[str, int]:
    reg.ensure_schema(store)
    return {
        t: int(store.sql(f"SELECT count(*) AS n FROM {t}")["n"].iloc[0])
        for t in ("register_places", "register_history", "register_notes", "register_groups")
    }


# ---------------------------------------------------------------------------- checks outputs
def test_round_trip_add_update_close_notes_history_survives_restart(store, hotspot_list):
    src = reg.place_from_hotspot(hotspot_list, 2)
    row = hotspot_list[hotspot_list["rank"] == 2].iloc[0]
    assert src["geometry"].equals(row.geometry)
    assert src["name"] == row["name"]  # the list's own place name
    assert src["source"].startswith("hotspot list: count 2025-07")
    assert src["source"].endswith(f"#2 {row['name']}")
    # the same list as a plain GeoDataFrame with its params in attrs (as the dashboard caches it)
    plain = gpd.GeoDataFrame(hotspot_list.copy(), geometry="geometry", crs=27700)
    plain.attrs["params"] = dict(hotspot_list.params)
    assert reg.place_from_hotspot(plain, 2)["source"] == src["source"]
    # a list without names (an older export): the first top location and first ward, counts dropped
    loc = row["top_locations"].split(";")[0].rsplit(" (", 1)[0].removeprefix("On or near ")
    ward = row["wards"].split(";")[0].rsplit(" (", 1)[0]
    assert reg.place_from_hotspot(hotspot_list.drop(columns="name"), 2)["name"] == f"{loc}, {ward}"

    pid = reg.add_place(
        store, src["geometry"], name=src["name"], group="East Staffs GIG", source=src["source"], author="ana"
    )
    assert pid == 1
    place = reg.get_place(store, pid)
    assert (place.status, place.start, place.end, place.created_by) == ("proposed", None, None, "ana")
    assert place.geometry.equals(row.geometry)

    reg.update_place(store, pid, status="active", start="2025-09", author="ben")
    reg.add_note(
        store, pid, "Extra patrols Fri and Sat nights", kind="action", date="2025-09-05", author="ben"
    )
    reg.add_note(store, pid, "Licensing visit to the nightclub", date="2025-10-01", author="cat")
    closed = reg.update_place(store, pid, status="closed", end="2025-12-31", author="cat")
    assert (closed.status, closed.start, closed.end) == (
        "closed",
        pd.Timestamp("2025-09-01"),
        pd.Timestamp("2025-12-31"),
    )
    assert (closed.updated_by, closed.created_by) == ("cat", "ana")
    # an update to the same values records nothing
    n_hist = len(reg.history(store, pid))
    assert reg.update_place(store, pid, status="closed", author="dan") == closed
    assert len(reg.history(store, pid)) == n_hist

    second = reg.add_place(
        store, HANLEY, name="Hanley bus station", group="Stoke GIG", status="active", start="2025-10-01"
    )
    assert second == 2
    path = store.path
    store.close()

    # a new process opens the file: everything is still there
    code = (
        "import json; from hotspots.store import Store; from hotspots import register as r\n"
        f"s = Store({str(path)!r}, read_only=True)\n"
        "print(json.dumps({'place': r.get_place(s, 1).to_dict(), 'hist': r.history(s, 1).to_dict('records'),"
        " 'notes': r.notes(s, 1).to_dict('records'), 'n': len(r.list_places(s)),"
        " 'closed': r.list_places(s, status='closed')['place_id'].tolist(),"
        " 'stoke': r.list_places(s, group='Stoke GIG')['name'].tolist()}, default=str))"
    )
    out = json.loads(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    )
    assert out["place"]["status"] == "closed" and out["place"]["start"] == "2025-09-01"
    assert out["place"]["end"] == "2025-12-31"
    assert shapely.from_wkt(out["place"]["geometry_wkt"]).equals(row.geometry)
    assert (out["n"], out["closed"], out["stoke"]) == (2, [1], ["Hanley bus station"])
    fields = [(h["field"], h["old"], h["new"], h["author"]) for h in out["hist"]]
    assert fields[:3] == [
        ("name", None, row["name"], "ana"),
        ("group", None, "East Staffs GIG", "ana"),
        ("status", None, "proposed", "ana"),
    ]
    assert ("status", "proposed", "active", "ben") in fields
    assert ("start", None, "2025-09-01", "ben") in fields
    assert ("status", "active", "closed", "cat") in fields
    assert ("end", None, "2025-12-31", "cat") in fields
    assert ("action", None, "2025-09-05: Extra patrols Fri and Sat nights", "ben") in fields
    assert [(n["kind"], n["author"]) for n in out["notes"]] == [("action", "ben"), ("note", "cat")]


def test_reopen_and_geometry_change_keep_the_old_polygon(store):
    pid = reg.add_place(store, HANLEY, name="Hanley", group="Stoke GIG", author="ana")
    bigger = HANLEY.buffer(100, join_style="mitre")
    reg.update_place(store, pid, status="closed", author="ana")
    reg.update_place(store, pid, status="active", geometry=bigger, author="ben")  # reopened, redrawn
    h = reg.history(store, pid)
    geo = h[h["field"] == "geometry"]
    assert shapely.from_wkt(geo["old"].iloc[-1]).equals(HANLEY)
    assert shapely.from_wkt(geo["new"].iloc[-1]).equals(bigger)
    assert h[h["field"] == "status"]["new"].tolist() == ["proposed", "closed", "active"]
    assert reg.get_place(store, pid).geometry.area == pytest.approx(600 * 600)


def test_author_defaults_to_the_os_user(store):
    import getpass

    pid = reg.add_place(store, HANLEY, name="Hanley", group="Stoke GIG")
    assert reg.get_place(store, pid).created_by == getpass.getuser()


def test_polygon_from_wards_is_the_union_of_their_lsoas(store):
    geo = store.geography()
    wards = sorted(geo.lsoas.loc[geo.lsoas["district_code"] == "E06000021", "ward_code"].unique())[:3]
    got = reg.place_from_areas(geo, wards, level="ward")
    # independent: the LSOAs of those wards, unioned directly from the shipped layer
    ref = geo.lsoas[geo.lsoas["ward_code"].isin(wards)].geometry.union_all()
    assert got["geometry"].symmetric_difference(ref).area < 1.0
    assert got["source"] == "wards " + " ".join(wards)
    assert got["name"].endswith("and 2 more")
    pid = reg.add_place(store, got["geometry"], name=got["name"], group="Stoke GIG", source=got["source"])
    assert reg.get_place(store, pid).geometry.area == pytest.approx(ref.area, rel=1e-9)
    one = reg.place_from_areas(geo, [geo.lsoas["lsoa_code"].iloc[0]], level="lsoa")
    assert one["name"] == geo.lsoas["lsoa_name"].iloc[0]


def test_polygon_from_a_file_in_wgs84_is_converted(store, tmp_path):
    path = tmp_path / "estate.geojson"
    gpd.GeoDataFrame({"n": [1, 2]}, geometry=[HANLEY, HANLEY.buffer(50)], crs=27700).to_crs(4326).to_file(
        path
    )
    pid = reg.add_place(
        store, reg.read_place_file(path), name="Estate", group="Stoke GIG", source="file estate.geojson"
    )
    got = reg.get_place(store, pid).geometry
    assert got.area == pytest.approx(
        HANLEY.buffer(50).area, rel=1e-3
    )  # the two features joined, back in metres
    assert got.bounds[0] == pytest.approx(HANLEY.bounds[0] - 50, abs=1)


def test_groups_and_export(store, tmp_path):
    reg.add_group(store, "Stoke GIG", level="district", codes=["E06000021"], author="ana")
    reg.add_place(store, HANLEY, name="Hanley", group="Stoke GIG", status="active", start="2025-06")
    pid = reg.add_place(store, HANLEY.buffer(-100), name="Hanley centre", group="Other meeting")
    reg.add_note(store, pid, "Walkabout with the council", kind="action", date="2025-07-02")
    g = reg.groups(store)
    assert g["group"].tolist() == ["Other meeting", "Stoke GIG"]
    assert g.set_index("group").loc["Stoke GIG", "codes"] == ["E06000021"]
    for ext in ("csv", "xlsx", "geojson", "gpkg"):
        out = reg.export_places(store, tmp_path / f"places.{ext}")
        if ext == "csv":
            back = pd.read_csv(out)
            assert back["name"].tolist() == ["Hanley", "Hanley centre"]
            assert back["start"].iloc[0] == "2025-06-01"
            assert back["area_ha"].tolist() == [16.0, 4.0]
            assert shapely.from_wkt(back["wkt"].iloc[0]).equals(HANLEY)
        elif ext == "xlsx":
            sheets = pd.read_excel(out, sheet_name=None)
            assert sheets["notes"]["text"].tolist() == ["Walkabout with the council"]
            assert "history" in sheets
        else:
            back = gpd.read_file(out, layer="places") if ext == "gpkg" else gpd.read_file(out)
            assert len(back) == 2
            assert back.to_crs(27700).geometry.iloc[0].area == pytest.approx(HANLEY.area, rel=1e-4)
    only = reg.export_places(store, tmp_path / "stoke.csv", group="Stoke GIG")
    assert pd.read_csv(only)["name"].tolist() == ["Hanley"]


# ---------------------------------------------------------------------------- checks inputs
BAD_POLYGONS = [
    (
        Polygon([(388_000, 347_300), (388_400, 347_700), (388_400, 347_300), (388_000, 347_700)]),
        r"not a valid polygon: self-intersection at easting 388200, northing 347500 \(53\.\d+° N, -2\.\d+° E\); "
        r"fix the outline there",
    ),
    (Polygon(), "is empty: it holds no shape"),
    (Point(388_000, 347_300), "is a Point, not an area; a place must be a Polygon or MultiPolygon"),
    (LineString([(388_000, 347_300), (388_400, 347_700)]), "is a LineString, not an area"),
    (box(530_000, 180_000, 530_500, 180_500), r"outside the study area \(it lies at 51\.\d+° N"),
    (box(-2.18, 53.02, -2.17, 53.03), "look like longitude/latitude .* pass crs=4326"),
    (gpd.GeoDataFrame(geometry=[HANLEY]), "has no CRS"),
    (gpd.GeoDataFrame(geometry=[HANLEY.buffer(0)], crs=27700).iloc[:0], "is empty"),
]


@pytest.mark.parametrize(("geometry", "match"), BAD_POLYGONS)
def test_bad_polygons_are_refused_and_change_nothing(store, geometry, match):
    pid = reg.add_place(store, HANLEY, name="Hanley", group="Stoke GIG")
    before = _rows(store)
    with pytest.raises(InputError, match=match):
        reg.add_place(store, geometry, name="Bad", group="Stoke GIG")
    with pytest.raises(InputError, match=match):
        reg.update_place(store, pid, geometry=geometry, name="Renamed")
    assert _rows(store) == before
    assert reg.get_place(store, pid).name == "Hanley"


def test_bad_file_polygons(store, tmp_path):
    nocrs = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        gpd.GeoDataFrame(geometry=[HANLEY]).to_file(nocrs)
    with pytest.raises(InputError, match="has no CRS"):
        reg.add_place(store, reg.read_place_file(nocrs), name="x", group="g")
    with pytest.raises(InputError, match=r"x\.shp: a place file must be GeoJSON \(\.geojson\) or GeoPackage"):
        reg.read_place_file(tmp_path / "x.shp")
    with pytest.raises(InputError, match="place file not found"):
        reg.read_place_file(tmp_path / "missing.geojson")
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputError, match="empty.geojson is empty: it holds no features"):
        reg.read_place_file(empty)
    junk = tmp_path / "junk.geojson"
    junk.write_text("not json")
    with pytest.raises(InputError, match="junk.geojson: could not be read as GeoJSON or GeoPackage"):
        reg.read_place_file(junk)
    assert _rows(store)["register_places"] == 0


def test_bad_values_are_refused_and_change_nothing(store, hotspot_list):
    pid = reg.add_place(store, HANLEY, name="Hanley", group="Stoke GIG", start="2025-06")
    before = _rows(store)
    cases = [
        (lambda: reg.get_place(store, 99), r"no place 99 in the register; the register holds places 1"),
        (lambda: reg.update_place(store, 99, name="x"), "no place 99 in the register"),
        (lambda: reg.notes(store, 7), "no place 7 in the register"),
        (lambda: reg.history(store, 7), "no place 7 in the register"),
        (lambda: reg.get_place(store, "one"), "`place_id` must be a whole number; got 'one'"),
        (
            lambda: reg.update_place(store, pid, status="done"),
            "`status` must be one of proposed, active, closed; got 'done'",
        ),
        (
            lambda: reg.add_place(store, HANLEY, name="x", group="g", status="open"),
            "`status` must be one of proposed",
        ),
        (lambda: reg.list_places(store, status="open"), "`status` must be one of proposed"),
        (
            lambda: reg.update_place(store, pid, end="2025-05-31"),
            r"`end` \(2025-05-31\) is before `start` \(2025-06-01\)",
        ),
        (
            lambda: reg.add_place(store, HANLEY, name="x", group="g", start="2025-06", end="2025-01"),
            r"`end` \(2025-01-01\) is before `start`",
        ),
        (
            lambda: reg.update_place(store, pid, start="June 2025"),
            "`start` must be a month YYYY-MM or a date YYYY-MM-DD",
        ),
        (
            lambda: reg.update_place(store, pid, start="2025-02-30"),
            "`start` is not a real date: '2025-02-30'",
        ),
        (lambda: reg.update_place(store, pid, name="  "), "`name` must not be empty"),
        (lambda: reg.add_place(store, HANLEY, name="x", group=""), "`group` must not be empty"),
        (
            lambda: reg.update_place(store, pid, created_by="me"),
            "cannot change created_by; a place's editable fields",
        ),
        (
            lambda: reg.add_note(store, pid, "x", kind="todo"),
            "`kind` must be one of note, action; got 'todo'",
        ),
        (lambda: reg.add_note(store, pid, ""), "`text` must not be empty"),
        (lambda: reg.add_note(store, 42, "x"), "no place 42 in the register"),
        (
            lambda: reg.add_group(store, "G", level="county"),
            "`level` must be one of district, ward, lsoa, locality",
        ),
        (
            lambda: reg.add_group(store, "G", codes=["E06999999"]),
            "1 district code\\(s\\) are not districts of the study area: E06999999",
        ),
        (
            lambda: reg.place_from_areas(store.geography(), ["E05999999"]),
            r"not wards of the study area: E05999999 \(wards are E05",
        ),
        (lambda: reg.place_from_areas(store.geography(), []), "give at least one ward code"),
        (lambda: reg.place_from_areas(store.geography(), ["x"], level="county"), "`level` must be one of"),
        (
            lambda: reg.place_from_hotspot(hotspot_list, 10_000),
            r"`rank` 10000 is not in the hotspot list; it holds ranks 1 to \d+",
        ),
        (lambda: reg.place_from_hotspot(hotspot_list.iloc[:0], 1), "the list is empty"),
    ]
    for call, match in cases:
        with pytest.raises(InputError, match=match):
            call()
    assert _rows(store) == before
    reg.add_group(store, "G")
    with pytest.raises(InputError, match="a group named 'G' already exists"):
        reg.add_group(store, "G")
    assert reg.get_place(store, pid).start == pd.Timestamp("2025-06-01")


def test_register_round_trip_on_every_backend(new_store_location):
    """The same register on the embedded DuckDB file and on PostgreSQL, kept over a reopen."""
    loc = new_store_location()
    s = Store(loc)
    pid = reg.add_place(s, HANLEY, name="Hanley", group="Stoke GIG", start="2025-06", author="ana")
    reg.update_place(s, pid, status="active", geometry=HANLEY.buffer(50, join_style="mitre"), author="ben")
    reg.add_note(s, pid, "Patrols", kind="action", date="2025-06-03", author="ben")
    reg.add_group(s, "Stoke GIG", codes=["E06000021"], author="ana")
    with pytest.raises(InputError, match="`status` must be one of"):
        reg.update_place(s, pid, status="gone")
    s.close()
    s = Store(loc, read_only=True)
    place = reg.get_place(s, pid)
    assert (place.status, place.start, place.updated_by) == ("active", pd.Timestamp("2025-06-01"), "ben")
    assert place.geometry.area == pytest.approx(500 * 500)
    h = reg.history(s, pid)
    assert h["field"].tolist() == [
        "name",
        "group",
        "status",
        "start",
        "geometry",
        "status",
        "geometry",
        "action",
    ]
    assert shapely.from_wkt(h["old"].iloc[6]).equals(HANLEY)
    assert reg.notes(s, pid)["text"].tolist() == ["Patrols"]
    assert reg.groups(s)["codes"].tolist() == [["E06000021"]]
    assert reg.list_places(s).crs.to_epsg() == 27700
    s.close()
