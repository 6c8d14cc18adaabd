"""The hotspot subcommands end to end on a store loaded with the real 2025 sample."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from hotspots.cli import main
from hotspots.hotspot_list import HOTSPOT_COLUMNS

SPLIT = ["--train-from", "2025-01", "--train-to", "2025-09", "--test-from", "2025-10", "--test-to", "2025-12"]


@pytest.fixture(scope="module")
def store(tmp_path_factory, sample_raw):
    from conftest import SAMPLE_ZIP

    path = tmp_path_factory.mktemp("store") / "hotspots.duckdb"
    assert main(["ingest", str(SAMPLE_ZIP), "--store", str(path)]) == 0
    return str(path)


def test_find_csv_and_excel(store, tmp_path, capsys):
    out = tmp_path / "kde.csv"
    assert main(["find", "--store", store, "--from", "2025-07", "--to", "2025-12", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "eb_count: cell_size_m=125, half_life_months=6, prior_strength=" in text
    df = pd.read_csv(out)
    assert list(df.columns) == [c for c in HOTSPOT_COLUMNS if c != "geometry"] + ["filter", "parameters"]
    assert df["rank"].tolist() == list(range(1, len(df) + 1)) and len(df) >= 8
    p = json.loads(df["parameters"].iloc[0])
    assert p["method"] == "eb_count" and p["recency"] == "weight halves every 6 months before 2025-12"
    assert p["max_place_km2"] == 0.5 and df["area_km2"].head(20).max() <= 0.5 and df["name"].notna().all()
    kde_out = tmp_path / "kde.csv"
    display = ["--cell-size", "display"]
    assert main(["find", "--store", store, "--method", "kde", *display, "--out", str(kde_out)]) == 0
    text = capsys.readouterr().out
    assert "kde: cell_size_m=1200, bandwidth_m=1200, bandwidth_rule=cell (one cell)" in text
    silverman = [
        "find",
        "--store",
        store,
        "--method",
        "kde",
        "--bandwidth-rule",
        "silverman",
        *display,
        "--out",
        str(kde_out),
    ]
    assert main(silverman) == 0
    assert "bandwidth_rule=silverman" in capsys.readouterr().out
    xlsx = tmp_path / "kde.xlsx"
    assert main(["find", "--store", store, "--method", "repeat", "--top-n", "5", "--out", str(xlsx)]) == 0
    sheets = pd.read_excel(xlsx, sheet_name=None)
    assert set(sheets) == {"hotspots", "about"} and len(sheets["hotspots"]) == 5


@pytest.mark.parametrize(("method", "ext"), [("dbscan", ".gpkg"), ("gistar", ".geojson")])
def test_find_spatial(store, tmp_path, method, ext):
    out = tmp_path / f"h{ext}"
    args = [
        "find",
        "--store",
        store,
        "--method",
        method,
        "--category",
        "Anti-social behaviour",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    gdf = gpd.read_file(out, layer="hotspots") if ext == ".gpkg" else gpd.read_file(out)
    assert len(gdf) >= 3 and gdf.crs.to_epsg() == (27700 if ext == ".gpkg" else 4326)
    assert gdf["method"].eq(method).all()


def test_find_user_parameters(store, tmp_path, capsys):
    out = tmp_path / "d.csv"
    assert (
        main(
            [
                "find",
                "--store",
                store,
                "--method",
                "dbscan",
                "--eps",
                "150",
                "--min-samples",
                "30",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "eps_m=150, min_samples=30" in capsys.readouterr().out
    p = json.loads(pd.read_csv(out)["parameters"].iloc[0])
    assert p["eps_rule"] == "user" and p["min_samples"] == 30


@pytest.mark.parametrize("method", ["count", "eb_count", "kde", "gistar"])
def test_surface_csv(store, tmp_path, method, real_incidents):
    out = tmp_path / f"{method}.csv"
    assert (
        main(["surface", "--store", store, "--method", method, "--cell-size", "2000", "--out", str(out)]) == 0
    )
    df = pd.read_csv(out)
    assert list(df.columns[:8]) == ["cell_id", "x", "y", "count", "value", "p", "q", "bin"]
    located = np.isfinite(real_incidents["x"])
    assert df["count"].sum() <= located.sum() and df["count"].sum() > 0.98 * located.sum()
    assert ((df["x"] - 1000) % 2000 == 0).all()  # BNG cell centres on a 2 km grid
    if method == "gistar":
        assert set(df["bin"].unique()) <= {-3, -2, -1, 0, 1, 2, 3} and df["q"].notna().all()
    if method == "count":
        assert (df["value"] == df["count"]).all()
    if method == "eb_count":  # the busiest cell keeps the top score (little smoothing of all crime)
        assert df["value"].idxmax() == df["count"].idxmax()


def test_surface_gpkg_clipped(store, tmp_path):
    out = tmp_path / "kde.gpkg"
    assert main(["surface", "--store", store, "--bandwidth", "3000", "--out", str(out)]) == 0
    gdf = gpd.read_file(out, layer="surface")
    assert gdf.crs.to_epsg() == 27700 and (gdf.area <= 1200**2 + 1e-6).all()
    about = gpd.read_file(out, layer="about")
    assert (about["key"] == "parameter: bandwidth_m").any()


def test_evaluate_prints_and_json(store, capsys):
    assert main(["evaluate", "--store", store, "--method", "count", "kde", *SPLIT]) == 0
    text = capsys.readouterr().out
    for key in ("hit_rate", "area_share", "pai", "pei", "rri"):
        assert key in text
    assert main(["evaluate", "--store", store, *SPLIT, "--json"]) == 0
    default = json.loads(capsys.readouterr().out)
    assert main(["evaluate", "--store", store, "--method", "count", *SPLIT, "--json"]) == 0
    count = json.loads(capsys.readouterr().out)
    assert default["method"] == "eb_count" and default["params"]["half_life_months"] == 6
    assert default["hits"] > count["hits"]  # the default beats the plain count (issue 3)
    assert (
        main(["evaluate", "--store", store, "--method", "count", *SPLIT, "--area-share", "0.05", "--json"])
        == 0
    )
    r = json.loads(capsys.readouterr().out)
    assert r["method"] == "count" and 0.04 < r["area_share"] < 0.06 and r["pai"] > 5


def test_errors_are_reported(store, tmp_path, capsys):
    out = str(tmp_path / "x.csv")
    assert main(["find", "--store", store, "--method", "dbscan", "--bandwidth", "300", "--out", out]) == 1
    assert "method 'dbscan' has no option 'bandwidth'" in capsys.readouterr().err
    assert main(["surface", "--store", store, "--method", "count", "--bandwidth", "300", "--out", out]) == 1
    assert "--bandwidth applies to --method kde" in capsys.readouterr().err
    assert main(["find", "--store", store, "--method", "kde", "--bandwidth", "40", "--out", out]) == 1
    assert "too small for 125 m cells" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["find", "--store", store, "--cell-size", "huge", "--out", out])
    assert "expected metres (such as 125) or a rule: micro or display; got 'huge'" in capsys.readouterr().err
    assert main(["find", "--store", store, "--bandwidth", "300", "--out", out]) == 1
    assert "method 'eb_count' has no option 'bandwidth'" in capsys.readouterr().err
    assert main(["surface", "--store", store, "--method", "kde", "--half-life", "3", "--out", out]) == 1
    assert "--half-life applies to --method eb_count" in capsys.readouterr().err
    assert main(["evaluate", "--store", store, *SPLIT, "--from", "2025-01"]) == 1
    assert "not --from/--to" in capsys.readouterr().err
    assert main(["find", "--store", store, "--category", "Shed theft", "--out", out]) == 1
    assert "Shed theft" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(
            [
                "evaluate",
                "--store",
                store,
                "--train-from",
                "2025-13",
                "--train-to",
                "2025-09",
                "--test-from",
                "2025-10",
                "--test-to",
                "2025-12",
            ]
        )
    assert "YYYY-MM" in capsys.readouterr().err


def test_unknown_area_is_reported(store, tmp_path, capsys):
    out = tmp_path / "e.csv"
    assert (
        main(
            [
                "find",
                "--store",
                store,
                "--from",
                "2025-03",
                "--to",
                "2025-03",
                "--category",
                "Robbery",
                "--area",
                "E05999999",
                "--out",
                str(out),
            ]
        )
        == 1
    )
    assert "not in the geography" in capsys.readouterr().err


def test_find_split_rule_is_chosen_and_printed(store, tmp_path, capsys):
    """One place per peak by default; --split touching joins cells that touch into fewer, bigger places."""
    sizes = {}
    for split in ("peaks", "touching"):
        out = tmp_path / f"{split}.csv"
        assert main(["find", "--store", store, "--split", split, "--out", str(out)]) == 0
        assert f"split={split}" in capsys.readouterr().out
        df = pd.read_csv(out)
        assert json.loads(df["parameters"].iloc[0])["split"] == split
        sizes[split] = (len(df), df["area_km2"].max(), int(df["count"].sum()))
    assert sizes["peaks"][0] > sizes["touching"][0] and sizes["peaks"][1] < sizes["touching"][1]
    assert sizes["peaks"][2] == sizes["touching"][2]  # the same top cells, divided differently
    with pytest.raises(SystemExit):
        main(["find", "--store", store, "--split", "blobs", "--out", str(tmp_path / "x.csv")])
