"""Multi-agency demand: shares, composite, persistence (known answer), dual KDE, the command."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspots._errors import InputError
from hotspots.cli import main
from hotspots.demand import DemandCube, demand, dual_kde
from hotspots.filters import Filter
from hotspots.grid import make_grid
from hotspots.ingest import PartnerMapping, ingest
from hotspots.store import Store

DATA = Path(__file__).parent / "data"
CELL = 150.0
PERSISTENT_MONTHS = 8  # Jan-Aug 2025


def _cell_centre(x: float, y: float) -> tuple[float, float]:
    return (math.floor(x / CELL) + 0.5) * CELL, (math.floor(y / CELL) + 0.5) * CELL


@pytest.fixture(scope="module")
def with_partners(real_incidents):
    """The real sample plus two constructed partner sources with a known persistent set.

    Five cells (centres of cells holding real police.uk map points, far apart) get 5
    fly-tipping and 5 council ASB reports in each of Jan-Aug 2025. Every other partner report
    is alone in its cell over the whole year (a cell is never used twice), so it can be high
    in at most one month for its source.
    """
    rng = np.random.default_rng(11)
    located = real_incidents[np.isfinite(real_incidents["x"])]
    cells = located.assign(cx=np.floor(located["x"] / CELL), cy=np.floor(located["y"] / CELL))
    cells = cells.drop_duplicates(["cx", "cy"]).sample(frac=1.0, random_state=3).reset_index(drop=True)
    persistent = cells.iloc[:5]
    background = cells.iloc[5:805]
    rows = []
    for src in ("fly-tipping", "council-asb"):
        for m in range(1, PERSISTENT_MONTHS + 1):
            for _, c in persistent.iterrows():
                for _ in range(5):
                    rows.append((src, m, c))
        bg = background.iloc[:400] if src == "fly-tipping" else background.iloc[400:]
        for _, c in bg.iterrows():
            rows.append((src, int(rng.integers(1, 13)), c))
    part = pd.DataFrame(
        {
            "incident_id": [f"p{k}" for k in range(len(rows))],
            "source": [r[0] for r in rows],
            "month": [pd.Timestamp(2025, r[1], 1) for r in rows],
            "category": [r[0] for r in rows],
            "x": [_cell_centre(r[2]["x"], r[2]["y"])[0] for r in rows],
            "y": [_cell_centre(r[2]["x"], r[2]["y"])[1] for r in rows],
            "lsoa_code": [r[2]["lsoa_code"] for r in rows],
            "ward_code": [r[2]["ward_code"] for r in rows],
            "district_code": [r[2]["district_code"] for r in rows],
            "locality": [r[2]["locality"] for r in rows],
        }
    )
    frame = pd.concat([real_incidents, part], ignore_index=True)
    for c in ("source", "category", "lsoa_code", "ward_code", "district_code", "locality"):
        frame[c] = frame[c].astype("category")
    ids = {
        int(math.floor(y / CELL)) * 10_000_000 + int(math.floor(x / CELL))
        for x, y in zip(persistent["x"], persistent["y"], strict=True)
    }
    return frame, ids


# ---------------------------------------------------------------------------- checks outputs
def test_constructed_persistent_places_are_found_exactly(with_partners):
    frame, ids = with_partners
    cube = DemandCube(frame, cell_size=CELL)
    t = cube.table(Filter(month_from="2025-01", month_to="2025-12"))
    assert set(t.loc[t["persistent"], "unit_id"]) == ids
    assert t.attrs["params"]["sources"] == ["council-asb", "fly-tipping", "police.uk"]
    # only the two partner sources: still exactly the five
    t2 = cube.table(Filter(month_from="2025-01", month_to="2025-12"), sources=("fly-tipping", "council-asb"))
    assert set(t2.loc[t2["persistent"], "unit_id"]) == ids
    assert (t2.loc[t2["persistent"], "multi_high_months"] == PERSISTENT_MONTHS).all()
    # k above the months they were high: none; k equal: all five
    t3 = cube.table(sources=("fly-tipping", "council-asb"), min_months=PERSISTENT_MONTHS + 1)
    assert not t3["persistent"].any()
    t4 = cube.table(sources=("fly-tipping", "council-asb"), min_months=PERSISTENT_MONTHS)
    assert set(t4.loc[t4["persistent"], "unit_id"]) == ids
    # the last 4 months (Sep-Dec) hold none of the constructed months
    t5 = cube.table(
        Filter(month_from="2025-09", month_to="2025-12"),
        sources=("fly-tipping", "council-asb"),
        months=4,
        min_months=1,
    )
    assert not set(t5.loc[t5["persistent"], "unit_id"]) & ids


def test_shares_and_composite_equal_a_direct_count(with_partners, real_incidents):
    frame, _ = with_partners
    filt = Filter(month_from="2025-03", month_to="2025-10")
    t = demand(frame, filt=filt, cell_size=CELL).set_index("unit_id")
    # hand: police.uk counts by 150 m cell with pandas
    sub = real_incidents[
        (real_incidents["month"] >= "2025-03-01") & (real_incidents["month"] <= "2025-10-01")
    ]
    sub = sub[np.isfinite(sub["x"])]
    key = np.floor(sub["y"] / CELL).astype(np.int64) * 10_000_000 + np.floor(sub["x"] / CELL).astype(np.int64)
    hand = key.value_counts()
    got = t["count_police.uk"]
    assert got[got > 0].sort_index().to_dict() == hand.sort_index().to_dict()
    np.testing.assert_allclose(t["share_police.uk"], t["count_police.uk"] / hand.sum())
    for s in ("police.uk", "fly-tipping", "council-asb"):
        assert t[f"share_{s}"].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(
        t["composite"], t[["share_police.uk", "share_fly-tipping", "share_council-asb"]].mean(axis=1)
    )
    assert t["composite_rank"].min() == 1 and t["composite"].iloc[0] == t["composite"].max()


def test_area_filters_count_what_pandas_counts(with_partners, real_incidents):
    """An area filter reads only its areas' incidents (sorted once per level): same counts as pandas."""
    frame, _ = with_partners
    cube = DemandCube(frame, cell_size=CELL)
    districts = ("E06000021", "E07000197")  # Stoke-on-Trent, Stafford
    filt = Filter(
        month_from="2025-02",
        month_to="2025-09",
        categories=("Burglary", "Anti-social behaviour"),
        level="district",
        areas=districts,
    )
    t = cube.table(filt, sources=("police.uk", "fly-tipping"), min_sources=1).set_index("unit_id")
    sub = real_incidents[
        real_incidents["district_code"].isin(districts)
        & real_incidents["category"].isin(filt.categories)
        & (real_incidents["month"] >= "2025-02-01")
        & (real_incidents["month"] <= "2025-09-01")
        & np.isfinite(real_incidents["x"])
    ]
    key = np.floor(sub["y"] / CELL).astype(np.int64) * 10_000_000 + np.floor(sub["x"] / CELL).astype(np.int64)
    got = t["count_police.uk"]
    assert got[got > 0].sort_index().to_dict() == key.value_counts().sort_index().to_dict()
    assert (t["count_fly-tipping"] == 0).all()  # no fly-tipping category in the filter
    wards = tuple(sub["ward_code"].dropna().unique()[:3])
    w = cube.table(Filter(level="ward", areas=wards), sources=("police.uk", "fly-tipping"), min_sources=1)
    pw = real_incidents[real_incidents["ward_code"].isin(wards) & np.isfinite(real_incidents["x"])]
    assert int(w["count_police.uk"].sum()) == len(pw)


def test_high_months_follow_the_top_share_rule(with_partners, real_incidents):
    frame, _ = with_partners
    cube = DemandCube(frame, cell_size=CELL)
    t = cube.table(Filter(month_from="2025-06", month_to="2025-06"), months=1, min_months=1, top_share=0.01)
    k = math.ceil(0.01 * cube.n_units)
    assert t.attrs["top_k"] == k
    june = real_incidents[(real_incidents["month"] == "2025-06-01") & np.isfinite(real_incidents["x"])]
    key = np.floor(june["y"] / CELL).astype(np.int64) * 10_000_000 + np.floor(june["x"] / CELL).astype(
        np.int64
    )
    counts = key.value_counts()
    kth = counts.sort_values(ascending=False).iloc[k - 1]
    want = set(counts[counts >= kth].index)
    got = set(t.loc[t["high_months_police.uk"] == 1, "unit_id"])
    assert got == want and len(want) >= k


def test_ward_demand_counts_equal_the_area_table(with_partners, geography):
    from hotspots.areas import area_table

    frame, _ = with_partners
    t = demand(frame, unit="ward", geography=geography, with_geometry=True)
    at = area_table(frame, geography=geography, filt=Filter(sources=("police.uk",)), level="ward").set_index(
        "area_code"
    )
    got = t.set_index("unit_id")["count_police.uk"]
    assert (got == at.loc[got.index, "count"]).all()
    assert t.crs.to_epsg() == 27700 and "area_name" in t


def test_dual_kde_difference_and_ratio(with_partners, geography):
    frame, ids = with_partners
    grid = make_grid(geography.study_area, cell_size=1000)
    d = dual_kde(frame, source_a="fly-tipping", source_b="police.uk", grid=grid, bandwidth=1500)
    assert d["share_a"].sum() == pytest.approx(1.0) and d["share_b"].sum() == pytest.approx(1.0)
    assert d["value"].sum() == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(d["value"], d["share_a"] - d["share_b"])
    r = dual_kde(frame, source_a="fly-tipping", source_b="police.uk", grid=grid, bandwidth=1500, mode="ratio")
    fl = r.attrs["params"]["floor"]
    np.testing.assert_allclose(r["value"], (r["share_a"] + fl) / (r["share_b"] + fl))
    # the fly-tipping surface peaks near a constructed persistent cell
    top = d.sort_values("value").iloc[-1]
    cx = [(i % 10_000_000 + 0.5) * CELL for i in ids]
    cy = [(i // 10_000_000 + 0.5) * CELL for i in ids]
    assert min(math.hypot(top["x"] - a, top["y"] - b) for a, b in zip(cx, cy, strict=True)) < 1500


def test_demand_command_on_the_sample_with_a_partner_file(sample_store_path, tmp_path, capsys):
    store_path = tmp_path / "s.duckdb"
    shutil.copy(sample_store_path, store_path)
    with Store(store_path) as store:
        ingest(
            [DATA / "stats19_constructed.csv"],
            store=store,
            source="collisions",
            mapping=PartnerMapping.from_file(DATA / "stats19.toml"),
        )
    out = tmp_path / "demand.gpkg"
    code = main(
        [
            "demand",
            "--store",
            str(store_path),
            "--sources",
            "police.uk",
            "collisions",
            "--months",
            "12",
            "--min-months",
            "6",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    import geopandas as gpd

    g = gpd.read_file(out, layer="demand")
    assert {"count_police.uk", "share_collisions", "composite", "persistent"} <= set(g.columns)
    # the persistent collision points of the constructed file are where both are high
    pts = pd.read_csv(DATA / "stats19_constructed_persistent.csv")
    hits = gpd.GeoDataFrame(geometry=gpd.points_from_xy(pts["Longitude"], pts["Latitude"]), crs=4326).to_crs(
        27700
    )
    flagged = g[g["persistent"].astype(bool)]
    assert len(flagged) >= 1 and "persistent" in printed
    inside = flagged.sjoin(hits, predicate="contains")
    assert len(inside) == len(flagged)  # every persistent cell holds one of the constructed points
    csv = tmp_path / "demand.csv"
    assert (
        main(
            [
                "demand",
                "--store",
                str(store_path),
                "--sources",
                "police.uk",
                "collisions",
                "--level",
                "ward",
                "--unit",
                "ward",
                "--out",
                str(csv),
            ]
        )
        == 0
    )
    assert "area_name" in pd.read_csv(csv).columns


# ---------------------------------------------------------------------------- checks inputs
def test_demand_input_errors(with_partners, geography):
    frame, _ = with_partners
    cube = DemandCube(frame, cell_size=CELL)
    with pytest.raises(
        InputError,
        match=r"source\(s\) 'fire' are not in the data; sources: council-asb, fly-tipping, police.uk",
    ):
        cube.table(sources=("police.uk", "fire"))
    with pytest.raises(
        InputError, match=r"multi-agency demand needs at least `min_sources` \(2\) sources; got police.uk"
    ):
        cube.table(sources=("police.uk",))
    with pytest.raises(InputError, match=r"`min_months` must be between 1 and `months` \(6\); got 7"):
        cube.table(months=6, min_months=7)
    with pytest.raises(InputError, match=r"`months` must be a whole number of months, 1 or more; got 0"):
        cube.table(months=0)
    with pytest.raises(
        InputError, match=r"`top_share` must be between 0 and 1, such as 0.05 for the top 5%; got 5"
    ):
        cube.table(top_share=5)
    with pytest.raises(InputError, match=r"`min_sources` must be a whole number, 1 or more; got 0"):
        cube.table(min_sources=0)
    with pytest.raises(
        InputError, match=r"`unit` must be one of cell, lsoa, ward, district, locality; got 'street'"
    ):
        DemandCube(frame, unit="street")
    with pytest.raises(InputError, match=r"`cell_size` must be a positive number of metres; got -5"):
        DemandCube(frame, cell_size=-5)
    with pytest.raises(InputError, match=r"`geography` is needed for demand by ward"):
        DemandCube(frame, unit="ward")
    grid = make_grid(geography.study_area, cell_size=2000)
    with pytest.raises(InputError, match=r"`mode` must be one of difference, ratio; got 'log'"):
        dual_kde(frame, source_a="fly-tipping", source_b="police.uk", grid=grid, mode="log")
    with pytest.raises(InputError, match=r"dual KDE compares two different sources; got 'police.uk' twice"):
        dual_kde(frame, source_a="police.uk", source_b="police.uk", grid=grid)
    with pytest.raises(InputError, match=r"source 'fire' is not in the data; sources:"):
        dual_kde(frame, source_a="fire", source_b="police.uk", grid=grid)
    with pytest.raises(
        InputError, match=r"source 'fly-tipping' has no incident with a location in the filter"
    ):
        dual_kde(
            frame,
            source_a="fly-tipping",
            source_b="police.uk",
            grid=grid,
            filt=Filter(month_from="2025-12", month_to="2025-12", categories=("Robbery",)),
        )


def test_precomputed_table_and_one_pass_agree(with_partners):
    frame, _ = with_partners
    fast = DemandCube(frame, cell_size=CELL)
    slow = DemandCube(frame, cell_size=CELL)
    slow._full = None  # force the pass over the incidents
    for filt in (
        Filter(),
        Filter(
            month_from="2025-02",
            month_to="2025-11",
            categories=("Anti-social behaviour", "fly-tipping", "Robbery"),
        ),
        Filter(months_of_year=(1, 2, 7)),
    ):
        a = fast.table(filt, min_months=2)
        b = slow.table(filt, min_months=2)
        pd.testing.assert_frame_equal(a, b)
