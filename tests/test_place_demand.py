"""Demand per source for each named place of the hotspot list (issue 11), on the sample + collisions.

References: counts by a GeoPandas spatial join of the incidents with the places; the known answer
of the constructed STATS19-layout file (its four persistent map points, tests/data/README.md).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from hotspots._errors import InputError
from hotspots.cli import main
from hotspots.demand import place_demand
from hotspots.filters import Filter
from hotspots.hotspot_list import find_hotspots
from hotspots.ingest import PartnerMapping, ingest
from hotspots.store import Store

DATA = Path(__file__).parent / "data"
YEAR = Filter(month_from="2025-01", month_to="2025-12")
SOURCES = ("police.uk", "collisions")


@pytest.fixture(scope="module")
def store_path(sample_store_path, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("place_demand") / "store.duckdb"
    shutil.copy(sample_store_path, path)
    with Store(path) as store:
        m = PartnerMapping.from_file(DATA / "stats19.toml")
        ingest([DATA / "stats19_constructed.csv"], store=store, source="collisions", mapping=m)
    return path


@pytest.fixture(scope="module")
def loaded(store_path):
    with Store(store_path, read_only=True) as store:
        inc, geo = store.incidents(), store.geography()
    places = find_hotspots(inc, geography=geo, filt=YEAR)
    return inc, geo, places, place_demand(inc, places, sources=SOURCES, filt=YEAR)


def known_points() -> gpd.GeoDataFrame:
    pts = pd.read_csv(DATA / "stats19_constructed_persistent.csv")
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(pts["Longitude"], pts["Latitude"]), crs=4326).to_crs(
        27700
    )


# ---------------------------------------------------------------------------- checks outputs
def test_counts_and_shares_per_place_equal_a_spatial_join(loaded):
    inc, _, places, table = loaded
    assert len(table) == len(places) and list(table["name"]) == list(places["name"])
    located = inc[np.isfinite(inc["x"].to_numpy(dtype=float))]
    pts = gpd.GeoDataFrame(
        {"source": located["source"].astype(str).to_numpy()},
        geometry=gpd.points_from_xy(located["x"], located["y"]),
        crs=27700,
    )
    joined = gpd.sjoin(pts, places[["rank", "geometry"]], predicate="intersects")
    for s in SOURCES:
        hand = joined[joined["source"] == s].groupby("rank").size().reindex(places["rank"], fill_value=0)
        assert table[f"count_{s}"].tolist() == hand.tolist(), s
        total = int((pts["source"] == s).sum())
        assert table[f"share_{s}"].to_numpy() == pytest.approx(hand.to_numpy() / total)
    assert table["composite"].to_numpy() == pytest.approx(
        (table["share_police.uk"] + table["share_collisions"]).to_numpy() / 2
    )
    assert table.loc[table["composite"].idxmax(), "composite_rank"] == 1


def test_persistent_places_are_the_places_of_the_known_points(loaded):
    _, _, places, table = loaded
    holding = places.sjoin(known_points(), predicate="contains")["rank"].unique()
    assert len(holding) == 4  # each constructed persistent point lies in a listed place
    assert sorted(table.loc[table["persistent"], "rank"]) == sorted(holding)
    assert (table.loc[table["persistent"], "multi_high_months"] >= 6).all()
    assert table.loc[table["persistent"], "composite_rank"].max() <= 4  # the top four by composite
    assert "holding most of its incidents" in table.attrs["params"]["place_rule"]


def test_cli_demand_by_place(store_path, loaded, tmp_path, capsys):
    _, _, places, table = loaded
    out = tmp_path / "places.gpkg"
    args = [
        "demand",
        "--store",
        str(store_path),
        "--sources",
        *SOURCES,
        "--from",
        "2025-01",
        "--to",
        "2025-12",
    ]
    assert main([*args, "--unit", "place", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"4 of the {len(places):,} places of the eb_count list hold a persistent cell" in printed
    g = gpd.read_file(out, layer="demand")
    assert g["name"].tolist() == table["name"].tolist()
    assert g["share_collisions"].to_numpy() == pytest.approx(table["share_collisions"].to_numpy())
    # point places (repeat: map points) hold the incidents at their point
    csv = tmp_path / "repeat.csv"
    assert main([*args, "--unit", "place", "--method", "repeat", "--out", str(csv)]) == 0
    rep = pd.read_csv(csv)
    assert len(rep) == 20 and rep["count_police.uk"].gt(0).all()
    capsys.readouterr()
    assert main([*args, "--method", "kde", "--out", str(csv)]) == 1
    assert "--method applies with --unit place" in capsys.readouterr().err


# ---------------------------------------------------------------------------- checks inputs
def test_place_demand_input_errors(loaded):
    inc, _, places, _ = loaded
    with pytest.raises(InputError, match="`places` must be a hotspot list .*missing: name"):
        place_demand(inc, places.drop(columns="name"), sources=SOURCES)
    with pytest.raises(InputError, match="`places` must be in EPSG:27700 .*; got EPSG:4326"):
        place_demand(inc, places.to_crs(4326), sources=SOURCES)
    with pytest.raises(InputError, match="source\\(s\\) 'fly-tipping' are not in the data"):
        place_demand(inc, places, sources=("police.uk", "fly-tipping"))
