"""Harm through every hotspot method (issue 11): the registry's methods, the ranked list, evaluation, CLI.

References: harm weights looked up by hand from the shipped CSV (csv module), cells and places
found by a GeoPandas spatial join, DBSCAN by scikit-learn on the raw points.
"""

from __future__ import annotations

import csv
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import DBSCAN
from sklearn.metrics import adjusted_rand_score

from hotspots._errors import InputError
from hotspots.cli import main
from hotspots.dbscan import dbscan
from hotspots.evaluate import evaluate
from hotspots.filters import Filter
from hotspots.grid import make_grid
from hotspots.harm import DEFAULT_FILE, HarmWeights, default_weights
from hotspots.hotspot_list import HARM_COLUMNS, HOTSPOT_COLUMNS, find_hotspots, study_area_for
from hotspots.methods import REGISTRY

STOKE = "E06000021"
#: Stoke-on-Trent, the second half of 2025: a small real subset every method makes a list from.
FILT = Filter(month_from="2025-07", month_to="2025-12", level="district", areas=(STOKE,))
#: The county over the same months: DBSCAN's default min_samples (25 x the density) finds one
#: cluster in Stoke alone, so the method comparison runs it on the county.
COUNTY = Filter(month_from="2025-07", month_to="2025-12")
ONES = HarmWeights((), default=1.0, name="every incident 1")


def hand_weights() -> dict[str, float]:
    """The shipped weights read with the csv module (not hotspots.harm)."""
    with open(DEFAULT_FILE, newline="", encoding="utf-8-sig") as fh:
        return {r["category"]: float(r["weight"]) for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def stoke(real_incidents) -> pd.DataFrame:
    """The filtered incidents with a location, and each one's hand-looked-up harm weight."""
    sub = FILT.apply(real_incidents)
    sub = sub[np.isfinite(sub["x"].to_numpy(dtype=float))].copy()
    w = hand_weights()
    sub["w"] = [w.get(c, 1.0) for c in sub["category"]]
    return sub


def harm_within(polygons: gpd.GeoSeries, inc: pd.DataFrame) -> np.ndarray:
    """Sum of the incidents' hand weights within each polygon (GeoPandas spatial join)."""
    pts = gpd.GeoDataFrame(inc[["w"]], geometry=gpd.points_from_xy(inc["x"], inc["y"]), crs=27700)
    poly = gpd.GeoDataFrame({"i": np.arange(len(polygons))}, geometry=polygons.to_numpy(), crs=27700)
    j = gpd.sjoin(pts, poly, predicate="within")
    return j.groupby("i")["w"].sum().reindex(range(len(polygons)), fill_value=0.0).to_numpy()


# ---------------------------------------------------------------------------- checks outputs
def test_harm_cell_scores_equal_a_hand_computation(stoke, geography):
    """The count method's harm per 125 m cell = the hand weights summed over a spatial join."""
    grid = make_grid(study_area_for(geography, FILT), cell_size=125.0)
    x, y = stoke["x"].to_numpy(float), stoke["y"].to_numpy(float)
    w = default_weights().of(stoke)
    np.testing.assert_array_equal(w, stoke["w"].to_numpy())
    score = REGISTRY["count"].score(x, y, grid, weights=w).score
    cells = grid.to_geodataframe({"score": score}, clip=False)
    hand = harm_within(cells.geometry, stoke)
    np.testing.assert_allclose(cells["score"].to_numpy(), hand, rtol=1e-12, atol=1e-9)
    assert hand.sum() == pytest.approx(stoke["w"].sum())
    # Gi* runs on the same harm per cell; kde's density integrates the harm
    assert np.isfinite(REGISTRY["gistar"].score(x, y, grid, weights=w).score).any()


@pytest.mark.parametrize("method", ["count", "eb_count", "kde", "gistar"])
def test_harm_of_each_place_equals_a_hand_sum(method, stoke, real_incidents, geography):
    hl = find_hotspots(real_incidents, method=method, geography=geography, filt=FILT, measure="harm")
    assert len(hl) > 5
    np.testing.assert_allclose(hl["harm"].to_numpy(), harm_within(hl.geometry, stoke), rtol=1e-9)
    assert hl["share_of_harm"].to_numpy() == pytest.approx(hl["harm"].to_numpy() / stoke["w"].sum())
    assert (np.diff(hl["harm"].to_numpy()) <= 0).all() and list(hl["rank"]) == list(range(1, len(hl) + 1))
    assert hl.params["measure"] == "harm" and hl.params["harm_weights"]["weights"]["Robbery"] == 746


def test_repeat_by_harm_is_the_hand_ranking_of_map_points(stoke, real_incidents, geography):
    hl = find_hotspots(real_incidents, method="repeat", geography=geography, filt=FILT, measure="harm")
    by_point = stoke.groupby("location_id")["w"].sum().sort_values(ascending=False)
    np.testing.assert_allclose(hl["harm"].to_numpy(), by_point.to_numpy()[: len(hl)], rtol=1e-12)


def test_raising_one_weight_moves_the_place_with_most_of_it_to_the_top(stoke, real_incidents, geography):
    w = default_weights()
    before = find_hotspots(real_incidents, method="repeat", geography=geography, filt=FILT, measure="harm")
    shop = stoke[stoke["category"] == "Shoplifting"].groupby("location_id").size()
    # a weight that outweighs any map point's other harm: the point with most shoplifting leads
    w2 = w.replace({"Shoplifting": 1e7})
    after = find_hotspots(
        real_incidents, method="repeat", geography=geography, filt=FILT, measure="harm", weights=w2
    )
    top = after.iloc[0]
    at_top = stoke[np.isclose(stoke["x"], top.geometry.x) & np.isclose(stoke["y"], top.geometry.y)]
    assert (at_top["category"] == "Shoplifting").sum() == shop.max()
    assert before.iloc[0]["name"] != top["name"]  # it was not first by the shipped weights
    # a cell's harm moves by exactly (new - old weight) x its shoplifting count
    grid = make_grid(study_area_for(geography, FILT), cell_size=125.0)
    x, y = stoke["x"].to_numpy(float), stoke["y"].to_numpy(float)
    s1 = REGISTRY["count"].score(x, y, grid, weights=w.of(stoke)).score
    s2 = REGISTRY["count"].score(x, y, grid, weights=w2.of(stoke)).score
    is_shop = (stoke["category"] == "Shoplifting").to_numpy()
    n_shop = grid.counts(x[is_shop], y[is_shop])
    np.testing.assert_allclose(s2 - s1, (1e7 - w.weight("Shoplifting")) * n_shop, rtol=1e-9)


@pytest.mark.parametrize("method", list(REGISTRY))
def test_each_method_accepts_harm(method, real_incidents, geography):
    """Every registered method lists and evaluates by harm; weights of 1 give the count list."""
    filt = COUNTY if method == "dbscan" else FILT
    plain = find_hotspots(real_incidents, method=method, geography=geography, filt=filt)
    ones = find_hotspots(
        real_incidents, method=method, geography=geography, filt=filt, measure="harm", weights=ONES
    )
    assert list(plain.columns) == HOTSPOT_COLUMNS and set(HARM_COLUMNS) <= set(ones.columns)
    np.testing.assert_array_equal(ones["count"], plain["count"])
    np.testing.assert_array_equal(ones["harm"], plain["count"].astype(float))
    assert ones.geometry.geom_equals(plain.geometry).all()
    harm = find_hotspots(real_incidents, method=method, geography=geography, filt=filt, measure="harm")
    assert len(harm) and (np.diff(harm["harm"].to_numpy()) <= 0).all()
    assert harm.params["measure"] == "harm" and "ONS Crime Severity Score" in harm.params["harm_weights_text"]
    assert json.loads(harm["params"].iloc[0])["harm_weights"]["name"].startswith("ONS")
    split = {
        "train": FILT.replace(month_from="2025-01", month_to="2025-09"),
        "test": FILT.replace(month_from="2025-10", month_to="2025-12"),
    }
    e_count = evaluate(real_incidents, method=method, geography=geography, **split)
    e_ones = evaluate(
        real_incidents, method=method, geography=geography, measure="harm", weights=ONES, **split
    )
    for key in ("hit_rate", "pai", "pei", "n_test", "hits"):
        assert e_ones[key] == pytest.approx(e_count[key]), key
    e_harm = evaluate(real_incidents, method=method, geography=geography, measure="harm", **split)
    assert e_harm["measure"] == "harm" and 0 < e_harm["hit_rate"] <= 1 and e_harm["pei"] <= 1 + 1e-12
    assert e_harm["n_test"] > 10 * e_count["n_test"]  # harm, in days of custody, not incidents


def test_evaluation_by_harm_counts_the_test_harm(stoke, real_incidents, geography):
    r = evaluate(
        real_incidents,
        method="count",
        geography=geography,
        measure="harm",
        train=FILT.replace(month_from="2025-07", month_to="2025-09"),
        test=FILT.replace(month_from="2025-10", month_to="2025-12"),
    )
    test = stoke[stoke["month"] >= "2025-10-01"]
    assert r["n_test"] == pytest.approx(test["w"].sum(), rel=1e-12)


def test_dbscan_by_harm_matches_sklearn_on_raw_points(stoke):
    """Weighted core-point density: scikit-learn's DBSCAN with sample_weight = harm on every incident."""
    x, y, w = stoke["x"].to_numpy(float), stoke["y"].to_numpy(float), stoke["w"].to_numpy()
    res = dbscan(x, y, weights=w, eps=150.0, min_samples=20_000)
    raw = DBSCAN(eps=150.0, min_samples=20_000).fit(np.c_[x, y], sample_weight=w).labels_
    assert res.n_clusters >= 3
    assert adjusted_rand_score(raw, res.labels[res.inverse]) == 1.0
    by_count = dbscan(x, y, eps=150.0, min_samples=60)
    assert by_count.n_clusters != res.n_clusters or (by_count.labels != res.labels).any()


def test_cli_find_and_evaluate_by_harm(sample_store_path, tmp_path, capsys):
    wfile = tmp_path / "w.csv"
    wfile.write_text("category,weight\nAnti-social behaviour,0\nBurglary,500\n*,1\n")
    out = tmp_path / "hs.csv"
    args = ["--store", str(sample_store_path), "--from", "2025-10", "--to", "2025-12"]
    assert (
        main(
            [
                "find",
                *args,
                "--method",
                "kde",
                "--measure",
                "harm",
                "--weights",
                str(wfile),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "ranked by harm" in printed and "w.csv" in printed
    df = pd.read_csv(out)
    assert {"harm", "share_of_harm", "previous_harm"} <= set(df.columns)
    assert (np.diff(df["harm"].to_numpy()) <= 0).all() and (df["harm"] <= 500 * df["count"]).all()
    assert "w.csv" in df["parameters"].iloc[0] and '"measure": "harm"' in df["params"].iloc[0]
    ev = [
        "evaluate",
        "--store",
        str(sample_store_path),
        "--train-from",
        "2025-01",
        "--train-to",
        "2025-09",
        "--test-from",
        "2025-10",
        "--test-to",
        "2025-12",
        "--method",
        "count",
        "dbscan",
    ]
    assert main([*ev, "--measure", "harm", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert [r["measure"] for r in res] == ["harm", "harm"]
    assert res[0]["params"]["harm_weights"]["weights"]["Robbery"] == 746
    assert main([*ev, "--measure", "harm"]) == 0
    assert "measured by harm" in capsys.readouterr().out


def test_cli_surface_by_harm(sample_store_path, stoke, geography, tmp_path):
    """``hotspots surface --measure harm``: harm per cell equals the hand weights over a spatial join."""
    args = ["surface", "--store", str(sample_store_path), "--from", "2025-07", "--to", "2025-12"]
    args += ["--level", "district", "--area", STOKE, "--cell-size", "500"]
    out = tmp_path / "harm.gpkg"
    assert main([*args, "--method", "count", "--measure", "harm", "--out", str(out)]) == 0
    cells = gpd.read_file(out, layer="surface")
    # the store's incidents of the filter are the fixture's (same sample, same filter)
    assert cells["value"].to_numpy() == pytest.approx(harm_within(cells.geometry, stoke), rel=1e-9)
    assert (cells["harm"] == cells["value"]).all() and cells["count"].sum() == len(stoke)
    for method in ("eb_count", "kde", "gistar"):
        csv_out = tmp_path / f"{method}.csv"
        assert main([*args, "--method", method, "--measure", "harm", "--out", str(csv_out)]) == 0
        df = pd.read_csv(csv_out)
        assert (
            df["harm"].sum() == pytest.approx(stoke["w"].sum())
            and '"measure": "harm"' in df["parameters"].iloc[0]
        )


# ---------------------------------------------------------------------------- checks inputs
def test_bad_measure_or_weights_are_refused(real_incidents, geography, sample_store_path, tmp_path, capsys):
    with pytest.raises(InputError, match="`measure` must be one of count, harm; got 'severity'"):
        find_hotspots(real_incidents, geography=geography, filt=FILT, measure="severity")
    with pytest.raises(InputError, match="`weights` must be hotspots.harm.HarmWeights .*; got dict"):
        find_hotspots(real_incidents, geography=geography, filt=FILT, measure="harm", weights={"Robbery": 1})
    with pytest.raises(InputError, match="`measure` must be one of count, harm; got 'cost'"):
        evaluate(real_incidents, geography=geography, train=FILT, test=FILT, measure="cost")
    code = main(
        [
            "find",
            "--store",
            str(sample_store_path),
            "--weights",
            str(DEFAULT_FILE),
            "--out",
            str(tmp_path / "x.csv"),
        ]
    )
    assert code == 1 and "--weights applies only with --measure harm" in capsys.readouterr().err
