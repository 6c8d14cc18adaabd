"""Area assignment: polygons first, then the reported LSOA code outside the boundaries.

Real data: the Staffordshire sample holds 632 located rows outside the Staffordshire LSOAs,
reported in 80 other districts. Another force's month is built from the 312 real rows the
sample reports in West Midlands LSOAs (their real map points, codes, locations, categories),
each repeated 12 times with new ids in one month: the points and codes are real, the volume
(3,744 rows, 1.3 per 1,000 West Midlands residents) is constructed so that the data cover the
force area as a force's own file would (a real West Midlands month has about 27,000 rows).
"""

from __future__ import annotations

import hashlib
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import boundaries
from hotspots import assign
from hotspots.areas import area_table
from hotspots.assign import reported_areas
from hotspots.cli import main
from hotspots.filters import Filter
from hotspots.ingest import STREET_COLUMNS, ingest
from hotspots.store import Store

WM = "E23000014"  # West Midlands police force area
COPIES = 12


def force_of(codes: pd.Series) -> pd.Series:
    look = boundaries.lsoa_ward_lookup().set_index("lsoa21_code")["ltla24_code"]
    return pd.Series(
        boundaries.district_forces()["pfa24_code"].reindex(look.reindex(codes).to_numpy()).to_numpy(),
        index=codes.index,
    )


def mode_code(rows: pd.DataFrame) -> pd.Series:
    """The most common reported code at each map point (ties: the smallest), by hand."""
    n = rows.groupby(["Longitude", "Latitude", "LSOA code"]).size().rename("n").reset_index()
    n = n.sort_values(["Longitude", "Latitude", "n", "LSOA code"], ascending=[True, True, False, True])
    return n.drop_duplicates(["Longitude", "Latitude"]).set_index(["Longitude", "Latitude"])["LSOA code"]


def inside_polygons(rows: pd.DataFrame, geography) -> np.ndarray:
    lon, lat = rows["Longitude"].astype(float), rows["Latitude"].astype(float)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326).to_crs(27700)
    hit = gpd.sjoin(pts, geography.lsoas[["geometry"]], predicate="within").index.unique()
    out = np.zeros(len(rows), dtype=bool)
    out[hit] = True
    return out


def outside_rows(sample_raw, geography) -> pd.DataFrame:
    """Located, first-seen rows outside the Staffordshire LSOAs, with ``mode`` (the most common
    reported code at their map point) and ``mode_force``."""
    located = sample_raw[sample_raw["Longitude"] != ""]
    located = located[~((located["Crime ID"] != "") & located["Crime ID"].duplicated())].reset_index(
        drop=True
    )
    out = located[~inside_polygons(located, geography)].copy()
    out["mode"] = mode_code(out).reindex(pd.MultiIndex.from_frame(out[["Longitude", "Latitude"]])).to_numpy()
    out["mode_force"] = force_of(out["mode"]).to_numpy()
    return out


@pytest.fixture(scope="module")
def wm_rows(sample_raw) -> pd.DataFrame:
    """The sample's real rows reported in West Midlands LSOAs (all have coordinates)."""
    rows = sample_raw[force_of(sample_raw["LSOA code"]) == WM].reset_index(drop=True)
    assert len(rows) == 312 and (rows["Longitude"] != "").all()
    return rows


def street_file(rows: pd.DataFrame, path, *, month: str, copies: int = COPIES) -> pd.DataFrame:
    """Write ``rows`` ``copies`` times as one police.uk street file for ``month``."""
    out = pd.concat([rows] * copies, ignore_index=True)
    out["Month"] = month
    out["Reported by"] = out["Falls within"] = "West Midlands Police"
    has_id = out["Crime ID"] != ""
    out.loc[has_id, "Crime ID"] = [
        hashlib.sha256(f"{path.name}-{i}".encode()).hexdigest() for i in np.flatnonzero(has_id)
    ]
    out[STREET_COLUMNS].to_csv(path, index=False)
    return out


@pytest.fixture(scope="module")
def wm_file(wm_rows, tmp_path_factory):
    path = tmp_path_factory.mktemp("wm") / "2025-06-west-midlands-street.csv"
    return path, street_file(wm_rows, path, month="2025-06")


@pytest.fixture(scope="module")
def wm_store(wm_file, tmp_path_factory):
    path = tmp_path_factory.mktemp("wm_store") / "wm.duckdb"
    s = Store(path)
    (report,) = ingest([wm_file[0]], store=s)
    s.close()
    return path, report


@pytest.fixture(scope="module")
def mixed_store(sample_store_path, wm_file, tmp_path_factory):
    """The real Staffordshire year, then the West Midlands month."""
    path = tmp_path_factory.mktemp("mixed") / "mixed.duckdb"
    shutil.copy(sample_store_path, path)
    s = Store(path)
    ingest([wm_file[0]], store=s)
    s.close()
    return path


# ---------------------------------------------------------------------------- checks outputs
def test_real_border_rows_stay_outside_with_their_reason(sample_store_path, sample_raw, geography):
    s = Store(sample_store_path, read_only=True)
    summary = s.assignment_summary().set_index("assigned_by")["incidents"]
    not_covered = "unassigned: force area not covered by the loaded data"
    reached = "unassigned: force area reached by the boundaries, where polygons decide"
    outside = outside_rows(sample_raw, geography)
    staffs = outside["mode_force"] == "E23000015"
    assert summary[not_covered] == (~staffs).sum() == 589
    assert summary[reached] == staffs.sum() == 43
    assert "reported_lsoa" not in summary.index
    assert s.incidents()["flags"].astype(str).str.contains("outside_area").sum() == 632
    assert len(s.geography().lsoas) == 697  # no other force's areas: its data are not loaded
    s.close()


def test_real_border_rows_get_wards_from_their_reported_code(tmp_path, monkeypatch, sample_raw, geography):
    """With the coverage test waived, the 589 real rows outside Staffordshire's force area are
    placed in the wards their reported 2021 code gives (hand count through the ONS lookup)."""
    from conftest import SAMPLE_ZIP

    monkeypatch.setattr(assign, "MIN_COVERAGE_PER_1000", 0.0)
    s = Store(tmp_path / "s.duckdb")
    (r,) = ingest([SAMPLE_ZIP], store=s)
    assert r.outside_area == 43  # only the points in gaps of Staffordshire's own boundaries
    outside = outside_rows(sample_raw, geography)
    outside = outside[outside["mode_force"] != "E23000015"]
    ward = boundaries.lsoa_ward_lookup().set_index("lsoa21_code")["ward24_code"]
    hand = pd.Series(ward.reindex(outside["mode"]).to_numpy()).value_counts().sort_index()
    inc = s.incidents()
    placed = inc[
        inc["location_id"].isin(
            s.sql("SELECT location_id FROM locations WHERE assigned_by = 'reported_lsoa'")["location_id"]
        )
    ]
    got = placed["ward_code"].astype(str).value_counts().sort_index()
    assert len(placed) == 589 and hand.sum() == 589
    pd.testing.assert_series_equal(got, hand, check_names=False)
    geo = s.geography()
    assert geo.has_reported and not geo.has_approximate and "West Midlands" in geo.name
    table = area_table(inc, geography=geo, level="ward").set_index("area_code")
    assert (table.loc[hand.index, "count"] == hand).all()
    assert (table.loc[hand.index, "outline"] == boundaries.OUTLINE_BOUNDARY).all()
    s.close()


def test_another_forces_month_is_placed_in_its_wards(wm_store, wm_file, geography):
    path, report = wm_store
    _, rows = wm_file
    assert report.accepted == len(rows) == 312 * COPIES and report.rejected == 0
    assert report.outside_area == 0
    inside = inside_polygons(rows, geography)
    # by hand: Staffordshire polygons first (a few West Midlands points fall in them), then the
    # ward of the most common reported code at the point
    code = mode_code(rows).reindex(pd.MultiIndex.from_frame(rows[["Longitude", "Latitude"]]))
    ward = boundaries.lsoa_ward_lookup().set_index("lsoa21_code")["ward24_code"]
    hand = pd.Series(ward.reindex(code.to_numpy()).to_numpy())[~inside].value_counts().sort_index()
    s = Store(path, read_only=True)
    inc = s.incidents()
    look = boundaries.lsoa_ward_lookup()
    districts = boundaries.district_forces().query("pfa24_code == @WM").index
    wm_wards = set(look.loc[look["ltla24_code"].isin(districts), "ward24_code"])
    got = (
        inc[inc["ward_code"].astype(str).isin(wm_wards)]["ward_code"].astype(str).value_counts().sort_index()
    )
    pd.testing.assert_series_equal(got, hand, check_names=False)
    summary = s.assignment_summary().set_index("assigned_by")
    assert summary.loc["reported_lsoa", "incidents"] == (~inside).sum()
    assert summary.loc["polygon", "incidents"] == inside.sum()
    s.close()


def test_other_force_wards_have_census_residents_and_exact_outlines(wm_store):
    s = Store(wm_store[0], read_only=True)
    geo = s.geography()
    look = boundaries.lsoa_ward_lookup()
    districts = boundaries.district_forces().query("pfa24_code == @WM").index
    wm_lsoas = look[look["ltla24_code"].isin(districts)]
    wards = geo.areas("ward")
    wm = wards[wards["district_code"].isin(districts)]
    assert len(wm) == wm_lsoas["ward24_code"].nunique()
    census = boundaries.population().reindex(wm_lsoas["lsoa21_code"]).sum()
    assert wm["population"].sum() == census == 2_919_639
    assert (geo.areas("ward")["outline"] == "boundary").all()
    # every ward has its exact outline: the union of its national ONS LSOAs (no hulls)
    assert wm.geometry.notna().all() and not wm.geometry.is_empty.any()
    shapes = gpd.read_parquet(boundaries.national.LSOA21_FILE)
    shapes = shapes[shapes["LSOA21CD"].isin(wm_lsoas["lsoa21_code"])]
    ward_of = wm_lsoas.set_index("lsoa21_code")["ward24_code"]
    hand = shapes.geometry.area.groupby(ward_of.reindex(shapes["LSOA21CD"]).to_numpy()).sum()
    got = wm.set_index("area_code").geometry.area.reindex(hand.index)
    np.testing.assert_allclose(got.to_numpy(), hand.to_numpy(), rtol=1e-6)
    # a placed incident is near its ward (police.uk moves map points; codes are of the place)
    inc = s.incidents()
    placed = inc[inc["district_code"].astype(str).isin(districts)]
    outline = wards.set_index("area_code").geometry.reindex(placed["ward_code"].astype(str))
    pts = gpd.GeoSeries(gpd.points_from_xy(placed["x"], placed["y"]), crs=27700)
    dist = pts.distance(gpd.GeoSeries(outline.to_numpy(), crs=27700))
    assert (dist == 0).mean() > 0.9 and dist.max() < 2000
    # the boundaries used for point-in-polygon are still only Staffordshire's
    assert len(geo.boundary_lsoas) == 697
    s.close()


def test_later_load_covers_a_force_and_places_earlier_border_rows(mixed_store):
    """After the West Midlands month, the Staffordshire file's 283 rows outside the boundaries
    in West Midlands LSOAs are placed too; the other 349 stay outside."""
    s = Store(mixed_store, read_only=True)
    inc = s.incidents()
    flagged = inc["flags"].astype(str).str.contains("outside_area")
    assert flagged.sum() == 632 - 283
    assert (inc.loc[flagged, "ward_code"].isna()).all()
    summary = s.assignment_summary().set_index("assigned_by")["incidents"]
    assert summary["reported_lsoa"] == 283 * (COPIES + 1)
    s.close()


def test_cli_areas_find_and_summary_on_another_force(mixed_store, tmp_path, capsys):
    store = str(mixed_store)
    out = tmp_path / "wards.csv"
    assert main(["areas", "--store", store, "--level", "ward", "--out", str(out)]) == 0
    t = pd.read_csv(out)
    districts = boundaries.district_forces().query("pfa24_code == @WM").index
    wm = t[t["district_code"].isin(districts)].sort_values("count", ascending=False)
    top = wm.iloc[0]
    assert top["count"] > 0 and top["outline"] == boundaries.OUTLINE_BOUNDARY
    assert top["rate_per_1000"] == pytest.approx(top["count"] / top["population"] * 1000)
    hs = tmp_path / "hs.csv"
    args = ["find", "--store", store, "--method", "kde", "--level", "ward", "--area", top["area_code"]]
    assert main([*args, "--out", str(hs)]) == 0
    found = pd.read_csv(hs)
    assert len(found) >= 1 and (found["ward_codes"] == top["area_code"]).all()
    capsys.readouterr()
    assert main(["summary", "--store", store]) == 0


def test_reassignment_applies_the_same_rule(mixed_store, tmp_path, geography):
    from hotspots.assign import set_geography

    path = tmp_path / "m.duckdb"
    shutil.copy(mixed_store, path)
    s = Store(path)
    before = s.incidents()[["incident_id", "ward_code", "flags"]].astype(str)
    part = geography.lsoas[geography.lsoas.district_code == "E07000199"]  # Tamworth only
    set_geography(s, boundaries.Geography(lsoas=part.copy(), name="Tamworth"))
    inc = s.incidents()
    # West Midlands stays placed by its codes; the rest of Staffordshire is outside (force reached)
    assert set(inc["district_code"].dropna().astype(str)) <= {
        "E07000199",
        *boundaries.district_forces().query("pfa24_code == @WM").index,
    }
    note = s.sql(
        "SELECT assign_note FROM locations WHERE district_code IS NULL AND assign_note LIKE 'force area reached%'"
    )
    assert len(note) > 1000
    set_geography(s, None)
    after = s.incidents()[["incident_id", "ward_code", "flags"]].astype(str)
    pd.testing.assert_frame_equal(before, after)
    s.close()


def test_2011_coded_file_u_codes_placed_split_codes_ambiguous(wm_rows, tmp_path):
    """The same real points reported with 2011 codes, as police.uk did before 2023: unchanged
    LSOAs (U) are placed; the 6 rows in LSOAs split in 2021 (S) report the 2011 parent, which
    is ambiguous, and stay outside with that reason."""
    l11 = boundaries.lsoa11_to_lsoa21()
    parent = l11.drop_duplicates("lsoa21_code").set_index("lsoa21_code")
    rows = wm_rows.copy()
    rows["LSOA code"] = parent["lsoa11_code"].reindex(rows["LSOA code"]).to_numpy()
    split = parent["change_code"].reindex(wm_rows["LSOA code"]).to_numpy() == "S"
    assert split.sum() == 6
    f = tmp_path / "2019-06-west-midlands-street.csv"
    street_file(rows, f, month="2019-06")
    s = Store(tmp_path / "s.duckdb")
    (r,) = ingest([f], store=s)
    locs = s.locations()
    ambiguous = locs[locs["assign_note"].astype(str).str.startswith("2011 LSOA split in 2021, ambiguous")]
    split_points = rows.loc[split, ["Longitude", "Latitude"]].astype(float).drop_duplicates()
    assert len(ambiguous) == len(split_points)
    placed = s.assignment_summary().set_index("assigned_by")["incidents"]
    inside = inside_polygons(rows, boundaries.default_geography())
    assert placed["reported_lsoa"] == (~inside & ~split).sum() * COPIES
    assert r.outside_area == (~inside & split).sum() * COPIES
    s.close()


# ---------------------------------------------------------------------------- the rule, unit by unit
def _codes(rows):
    return pd.DataFrame(rows, columns=["location_id", "code", "n"])


def test_reported_areas_each_case_and_its_reason(geography):
    l11 = boundaries.lsoa11_to_lsoa21()
    merged = l11[l11.change_code == "M"].iloc[0]
    split = l11[l11.change_code == "S"].iloc[0]
    irregular = l11[l11.change_code == "X"].iloc[0]
    bham = "E01009245"  # Birmingham 016C, 2021 (unchanged since 2011)
    staffs = geography.lsoas["lsoa_code"].iloc[0]
    loc = _codes(
        [
            (1, bham, 3),
            (1, "E01009246", 1),
            (2, merged.lsoa11_code, 2),
            (3, split.lsoa11_code, 2),
            (4, irregular.lsoa11_code, 1),
            (5, "E0100000X", 4),
            (6, staffs, 5),
            (8, "E01009246", 2),
            (8, "E01009245", 2),
        ]
    )
    everywhere = pd.DataFrame(
        {
            "code": [bham, merged.lsoa21_code, split.lsoa21_code, irregular.lsoa21_code],
            "month": pd.Timestamp("2025-06-01"),
            "n": 10**6,
        }
    )
    out = reported_areas(loc, everywhere, geography, locations=[1, 2, 3, 4, 5, 6, 7, 8]).set_index(
        "location_id"
    )
    look = boundaries.lsoa_ward_lookup().set_index("lsoa21_code")
    assert out.loc[1, "lsoa_code"] == bham and out.loc[1, "assigned_by"] == "reported_lsoa"
    assert out.loc[1, "ward_code"] == look.loc[bham, "ward24_code"] == "E05011160"
    assert out.loc[1, "district_code"] == "E08000025"
    assert out.loc[1, "assign_note"] == f"reported 2021 LSOA: {bham} (3 of 4 incidents)"
    assert out.loc[2, "lsoa_code"] == merged.lsoa21_code
    assert out.loc[2, "assign_note"].startswith("reported 2011 LSOA, one 2021 LSOA (ONS change M)")
    assert out.loc[3, "assigned_by"] is None and out.loc[3, "assign_note"].startswith(
        "2011 LSOA split in 2021, ambiguous (ONS change S)"
    )
    assert out.loc[4, "assign_note"].startswith(
        "2011 LSOA changed irregularly in 2021, ambiguous (ONS change X)"
    )
    assert out.loc[5, "assign_note"] == "not a 2011 or 2021 LSOA code: E0100000X"
    assert out.loc[6, "assign_note"].startswith("force area reached by the boundaries, where polygons decide")
    assert out.loc[6, "lsoa_code"] is None
    assert out.loc[7, "assign_note"] == "no reported LSOA code"
    assert out.loc[8, "lsoa_code"] == "E01009245"  # a tie goes to the smallest code


def test_reported_areas_needs_the_force_area_covered(geography):
    loc = _codes([(1, "E01009245", 5)])
    wm_pop = 2_919_639
    just_under = pd.DataFrame(
        {"code": ["E01009245"], "month": [pd.Timestamp("2025-06-01")], "n": [wm_pop // 1000 - 1]}
    )
    out = reported_areas(loc, just_under, geography)
    assert out["assigned_by"].item() is None
    assert (
        out["assign_note"]
        .item()
        .startswith("force area not covered by the loaded data: E01009245 in West Midlands")
    )
    enough = just_under.assign(n=wm_pop // 1000 + 1)
    assert reported_areas(loc, enough, geography)["assigned_by"].item() == "reported_lsoa"
    assert (
        reported_areas(loc, just_under, geography, min_coverage=0.5)["assigned_by"].item() == "reported_lsoa"
    )


def test_store_from_before_assigned_by_is_migrated(tmp_path, wm_file):
    import duckdb

    path = tmp_path / "old.duckdb"
    s = Store(path)
    ingest([wm_file[0]], store=s)
    s.close()
    con = duckdb.connect(str(path))
    con.execute(
        "UPDATE locations SET lsoa_code = NULL, ward_code = NULL, district_code = NULL WHERE assigned_by <> 'polygon'"
    )
    con.execute("ALTER TABLE locations DROP COLUMN assign_note")
    con.execute("ALTER TABLE locations DROP COLUMN assigned_by")
    con.close()
    ro = Store(path, read_only=True)  # an old store opened read-only still works
    assert not ro.geography().has_reported
    assert ro.assignment_summary()["incidents"].sum() == 312 * COPIES
    ro.close()
    s = Store(path)
    summary = s.assignment_summary().set_index("assigned_by")["incidents"]
    assert summary["reported_lsoa"] > 3000 and s.geography().has_reported
    assert not s.incidents()["flags"].astype(str).str.contains("outside_area").any()
    s.close()


def test_filter_by_another_forces_ward(wm_store):
    s = Store(wm_store[0], read_only=True)
    inc = s.incidents()
    ward = inc["ward_code"].astype(str).value_counts().index[0]
    f = Filter(level="ward", areas=(ward,))
    assert f.mask(inc).sum() == (inc["ward_code"].astype(str) == ward).sum() > 0
    s.close()
