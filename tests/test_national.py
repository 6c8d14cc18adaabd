"""The national geography: choosing partnerships, forces and districts, on a real month of another force.

Real data: ``tests/data/2017-01-cheshire-street.csv`` holds the first 140 rows of Cheshire
Constabulary's police.uk street file for January 2017, unchanged (Cheshire East, 2011 LSOA
codes; provenance in ``tests/data/README.md``). Independent references: a GeoPandas spatial join
on the whole shipped national LSOA file, the ONS lookup and the Census 2021 CSV read directly
with pandas.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import boundaries
from hotspots import assign
from hotspots._errors import InputError
from hotspots.areas import area_table
from hotspots.cli import main
from hotspots.ingest import ingest
from hotspots.store import Store

ROOT = Path(__file__).resolve().parents[1]
CHESHIRE = ROOT / "tests" / "data" / "2017-01-cheshire-street.csv"
DATA = ROOT / "boundaries" / "data"
CSPS = ["cheshire east", "Cheshire West"]  # two partnerships at once, forgiving names


@pytest.fixture(scope="module")
def lookup() -> pd.DataFrame:
    return pd.read_csv(DATA / "lookup_lsoa21_ward24_ltla24.csv.gz", dtype=str)


@pytest.fixture(scope="module")
def census() -> pd.Series:
    df = pd.read_csv(
        DATA / "census2021_ts021_lsoa21_total_usual_residents.csv.gz", dtype={"lsoa21_code": str}
    )
    return df.set_index("lsoa21_code")["total_residents"]


@pytest.fixture(scope="module")
def national_lsoas() -> gpd.GeoDataFrame:
    """The whole shipped national LSOA file, read directly by GeoPandas (the reference)."""
    return gpd.read_parquet(boundaries.national.LSOA21_FILE)


@pytest.fixture(scope="module")
def cheshire_store(tmp_path_factory) -> Path:
    """A new user's store: choose the two Cheshire partnerships, then load the Cheshire month."""
    path = tmp_path_factory.mktemp("cheshire") / "store.duckdb"
    with Store(path) as store:
        assert assign.set_geography(store, boundaries.study_area(csp=CSPS)) == 0
        (report,) = ingest([CHESHIRE], store=store)
        assert report.accepted == 140 and report.rejected == 0
    return path


# ---------------------------------------------------------------------------- names
@pytest.mark.parametrize(
    ("query", "kind", "code"),
    [
        ("cheshire east", "csp", "E22000354"),
        ("E22000354", "csp", "E22000354"),
        ("Stoke", "district", "E06000021"),
        ("Cheshire Constabulary", "force", "E23000006"),
        ("devon and cornwall police", "force", "E23000035"),
        ("City of London Police", "force", "E23000034"),
        ("dyfed powys", "force", "W15000004"),
        ("Cardiff", "csp", None),
    ],
)
def test_names_are_matched_forgivingly(query, kind, code):
    got, name = boundaries.match_area(query, kind=kind)
    if code is not None:
        assert got == code
    else:
        assert name == "Cardiff" and got.startswith("W")


def test_unknown_and_ambiguous_names_say_what_to_do():
    with pytest.raises(
        InputError, match=r"`force` 'Chesire': no police force area of that name .*closest: Cheshire"
    ):
        boundaries.match_area("Chesire", kind="force")
    with pytest.raises(
        InputError,
        match=r"`district` 'Newcastle' matches 2 areas \(district\): Newcastle upon Tyne \(E08000021\); "
        r"Newcastle-under-Lyme \(E07000195\); give more of the name or the code",
    ):
        boundaries.match_area("Newcastle", kind="district")
    with pytest.raises(InputError, match=r"`csp` 'qqqq': .*list them with `hotspots boundaries --list csp`"):
        boundaries.match_area("qqqq", kind="csp")
    with pytest.raises(InputError, match=r"`kind` must be one of csp, district, force; got 'county'"):
        boundaries.areas_of_kind("county")
    with pytest.raises(InputError, match="choose at least one `csp`, `force` or `district`"):
        boundaries.study_area()


def test_falls_within_names_a_force():
    assert boundaries.force_of("Cheshire Constabulary") == ("E23000006", "Cheshire")
    assert boundaries.force_of("Staffordshire Police") == ("E23000015", "Staffordshire")
    assert boundaries.force_of("British Transport Police") is None
    assert boundaries.force_of("Police Service of Northern Ireland") is None
    # every England and Wales force area is named by "<name> Police" / "<name> Constabulary"
    forces = boundaries.areas_of_kind("force")
    assert len(forces) == 43
    for code, name in zip(forces["code"], forces["name"], strict=True):
        assert boundaries.force_of(f"{name} Police")[0] == code


# ---------------------------------------------------------------------------- study areas
def test_several_partnerships_and_a_force(lookup, census):
    geo = boundaries.study_area(csp=CSPS)
    assert geo.name == "Cheshire East + Cheshire West and Chester"
    districts = {"E06000049", "E06000050"}
    want = lookup[lookup["ltla24_code"].isin(districts)]
    assert set(geo.lsoas["lsoa_code"]) == set(want["lsoa21_code"]) and geo.lsoas["lsoa_code"].is_unique
    assert geo.lsoas.crs.to_epsg() == 27700
    wards = geo.areas("ward")
    assert len(wards) == want["ward24_code"].nunique()
    # ward residents: the Census 2021 sum over each ward's LSOAs
    hand = census.reindex(want["lsoa21_code"]).groupby(want["ward24_code"].to_numpy()).sum()
    pd.testing.assert_series_equal(
        wards.set_index("area_code")["population"].sort_index(), hand.sort_index(), check_names=False
    )
    for level in boundaries.LEVELS:  # no area lacks an outline
        a = geo.areas(level)
        assert (
            a.geometry.notna().all() and not a.geometry.is_empty.any() and (a["outline"] == "boundary").all()
        )
    force = boundaries.study_area(force="Cheshire")
    assert force.name == "Cheshire (police force area)"
    assert set(force.lsoas["district_code"]) == {"E06000049", "E06000050", "E06000006", "E06000007"}
    # a choice inside Staffordshire uses the shipped Staffordshire LSOAs: --force Staffordshire is the default
    staffs = boundaries.study_area(force="staffordshire")
    default = boundaries.default_geography()
    assert set(default.lsoas["district_code"]) == boundaries.DEFAULT_DISTRICTS
    assert staffs.lsoas["lsoa_code"].tolist() == default.lsoas["lsoa_code"].tolist()
    assert staffs.lsoas.geometry.geom_equals(default.lsoas.geometry).all()


def test_reading_a_district_reads_only_its_lsoas(lookup, national_lsoas):
    got = boundaries.national.lsoa21_shapes(districts=["E06000049"])
    want = national_lsoas[
        national_lsoas["LSOA21CD"].isin(lookup.query("ltla24_code == 'E06000049'")["lsoa21_code"])
    ]
    assert sorted(got["LSOA21CD"]) == sorted(want["LSOA21CD"])
    assert (
        got.set_index("LSOA21CD")
        .geometry.geom_equals(want.set_index("LSOA21CD").geometry.reindex(got["LSOA21CD"]))
        .all()
    )
    assert len(boundaries.national.lsoa21_shapes(districts=[])) == 0
    # the national file holds every 2021 LSOA of the lookup, each once
    assert (
        set(national_lsoas["LSOA21CD"]) == set(lookup["lsoa21_code"]) and national_lsoas["LSOA21CD"].is_unique
    )


# ---------------------------------------------------------------------------- a real month of another force
def test_cheshire_ward_counts_equal_an_independent_spatial_join(cheshire_store, lookup, national_lsoas):
    raw = pd.read_csv(CHESHIRE, dtype=str)
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(raw["Longitude"].astype(float), raw["Latitude"].astype(float)), crs=4326
    ).to_crs(27700)
    hit = gpd.sjoin(pts, national_lsoas[["LSOA21CD", "geometry"]], predicate="within")
    hit = hit[~hit.index.duplicated()]
    look = lookup.set_index("lsoa21_code")
    district = look["ltla24_code"].reindex(hit["LSOA21CD"]).to_numpy()
    inside = hit[np.isin(district, ["E06000049", "E06000050"])]
    hand = look["ward24_code"].reindex(inside["LSOA21CD"]).value_counts().sort_index()
    # every point is in an LSOA; one Cheshire Constabulary map point lies over the border in Stockport
    assert len(hit) == 140 and set(district) == {"E06000049", "E08000007"}
    outside = int((district == "E08000007").sum())
    assert hand.sum() == 140 - outside and outside > 0
    with Store(cheshire_store, read_only=True) as s:
        geo = s.geography()
        inc = s.incidents()
        t = area_table(inc, geography=geo, level="ward").set_index("area_code")
        summary = s.assignment_summary().set_index("assigned_by")["incidents"]
    got = t.loc[t["count"] > 0, "count"].sort_index()
    pd.testing.assert_series_equal(got, hand, check_names=False, check_dtype=False)
    assert summary["polygon"] == hand.sum()
    assert inc["flags"].astype(str).str.contains("outside_area").sum() == outside
    assert (t["outline"] == "boundary").all() and t.attrs["note"] == ""
    assert len(t) == geo.areas("ward").shape[0]  # every ward of both partnerships is listed


def test_reported_2011_codes_map_into_the_chosen_partnership(cheshire_store, lookup):
    """The file's 2011 LSOA codes go through the ONS 2011 → 2021 lookup into Cheshire East."""
    raw = pd.read_csv(CHESHIRE, dtype=str)
    res = boundaries.resolve_reported_lsoa(raw["LSOA code"])
    l11 = pd.read_csv(DATA / "lookup_lsoa11_lsoa21_ltla22.csv.gz", dtype=str)
    assert set(raw["LSOA code"]) <= set(l11["lsoa11_code"]) and len(res) == raw["LSOA code"].nunique()
    # a 2011 code still in use in 2021 reads as 2021 (it is unchanged); the others map through the lookup
    changed = l11[l11["change_code"] != "U"]["lsoa11_code"]
    assert (res["vintage"] == "2011").sum() == res.index.isin(changed).sum()
    resolved = res[res["lsoa21_code"].notna()]
    splits = l11[l11["change_code"].isin(["S", "X"])]["lsoa11_code"]
    assert len(resolved) == len(res) - res.index.isin(splits).sum()
    district = lookup.set_index("lsoa21_code")["ltla24_code"]
    assert set(district.reindex(resolved["lsoa21_code"])) == {"E06000049"}
    with Store(cheshire_store, read_only=True) as s:
        kept = s.sql("SELECT lsoa_code_reported AS c, count(*) AS n FROM incidents GROUP BY 1")
    assert (
        kept.set_index("c")["n"].sort_index().to_dict()
        == raw["LSOA code"].value_counts().sort_index().to_dict()
    )


def test_reassignment_is_one_transaction(cheshire_store, tmp_path, monkeypatch):
    path = tmp_path / "copy.duckdb"
    shutil.copy(cheshire_store, path)
    with Store(path) as s:
        before = s.sql("SELECT * FROM locations ORDER BY location_id")
        geo_before = s.sql("SELECT name FROM geography")
        flags_before = s.sql("SELECT incident_id, flags FROM incidents ORDER BY incident_id")

        def boom(con, geography, **kw):
            raise RuntimeError("disk full")

        monkeypatch.setattr(assign, "assign_from_reported", boom)
        with pytest.raises(RuntimeError, match="disk full"):
            assign.set_geography(s, boundaries.study_area(district="Halton"))
        pd.testing.assert_frame_equal(s.sql("SELECT * FROM locations ORDER BY location_id"), before)
        pd.testing.assert_frame_equal(s.sql("SELECT name FROM geography"), geo_before)
        pd.testing.assert_frame_equal(
            s.sql("SELECT incident_id, flags FROM incidents ORDER BY incident_id"), flags_before
        )
        assert s.geography().name == "Cheshire East + Cheshire West and Chester"
        monkeypatch.undo()
        # and when it succeeds, every location moves at once: Halton holds none of these points
        assert assign.set_geography(s, boundaries.study_area(district="Halton")) == len(before)
        assert s.sql("SELECT count(*) AS n FROM locations WHERE lsoa_code IS NOT NULL")["n"].item() == 0
        assert s.incidents()["flags"].astype(str).str.contains("outside_area").all()


def test_cli_chooses_lists_and_explains(cheshire_store, tmp_path, capsys):
    path = tmp_path / "cli.duckdb"
    shutil.copy(cheshire_store, path)
    store = ["--store", str(path)]
    assert main(["boundaries", "--force", "Cheshire Constabulary", *store]) == 0
    out = capsys.readouterr().out
    assert (
        out.startswith("study area set to Cheshire (police force area): ")
        and "84 locations re-assigned" in out
    )
    assert main(["boundaries", "--show", *store]) == 0
    out = capsys.readouterr().out
    assert "study area now: Cheshire (police force area)" in out and out.count("\n") == 1 + len(
        boundaries.VINTAGES
    )
    assert main(["boundaries", "--list", "force"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 43
    assert main(["boundaries", "--csp", "Chesire East", *store]) == 1  # a typo: the closest names
    assert "closest: Cheshire East" in capsys.readouterr().err
    assert main(["boundaries", "--force", "Chesire", *store]) == 1
    assert "closest: Cheshire" in capsys.readouterr().err
    assert main(["boundaries", "--force", "Cheshire", "--reset", *store]) == 1
    assert "give one of: --csp/--force/--district" in capsys.readouterr().err
    assert main(["boundaries", *store]) == 1
    assert "choose the study area with --csp, --force or --district" in capsys.readouterr().err


def test_uncovered_forces_names_the_force_of_the_loaded_data(tmp_path):
    with Store(tmp_path / "s.duckdb") as s:
        ingest([CHESHIRE], store=s)  # into the default study area, Staffordshire and Stoke-on-Trent
        t = assign.uncovered_forces(s)
        assert t[["force_code", "force_name", "incidents"]].values.tolist() == [
            ["E23000006", "Cheshire", 140]
        ]
        assert t["share"].item() == 1.0
        assign.set_geography(s, boundaries.study_area(force=t["force_code"].item()))
        assert assign.uncovered_forces(s).empty


def test_a_small_month_after_a_big_store_is_still_offered(sample_store_path, sample_raw, lookup, tmp_path):
    """Cheshire's 140 rows are 0.1 % of a store holding the Staffordshire year, but all of their file."""
    path = tmp_path / "s.duckdb"
    shutil.copy(sample_store_path, path)
    with Store(path) as s:
        assert assign.uncovered_forces(s).empty  # the sample's border rows (~1 %) are not offered
        ingest([CHESHIRE], store=s)
        t = assign.uncovered_forces(s)
    # by hand: the month's 140 rows and the sample's rows reporting LSOAs in Cheshire's districts
    cheshire = {"E06000049", "E06000050", "E06000006", "E06000007"}
    district = lookup.set_index("lsoa21_code")["ltla24_code"].reindex(sample_raw["LSOA code"])
    border = int(np.isin(district.to_numpy(), list(cheshire)).sum())
    assert 0 < border < 1000
    assert t[["force_name", "incidents"]].values.tolist() == [["Cheshire", 140 + border]]
    assert t["share"].item() < 0.01


def test_choosing_a_force_keeps_no_national_lsoas_in_memory():
    """In a fresh process: after the choice, no frame of more than 5,000 polygons is alive."""
    import subprocess
    import sys

    code = (
        "import gc, geopandas as gpd, boundaries\n"
        "geo = boundaries.study_area(force='West Midlands')\n"
        "gc.collect()\n"
        "big = [len(o) for o in gc.get_objects() if isinstance(o, gpd.GeoDataFrame) and len(o) > 5000]\n"
        "print(len(geo.lsoas), big)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.splitlines()[0] == "1719 []"
