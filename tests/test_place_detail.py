"""place_detail on the real 2025 sample, checked against a direct GeoPandas sjoin of the raw points."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots._errors import CRSError, InputError
from hotspots.filters import Filter
from hotspots.place_detail import (
    CELL_COLUMNS,
    POINT_COLUMNS,
    TABLE_COLUMNS,
    default_detail_cell_size,
    place_detail,
)

#: Hanley town centre (Stoke-on-Trent): Huntbach Street, the market and the shops,
#: an L-shaped place so that cells are clipped.
HANLEY = shapely.union(
    shapely.box(388100, 347400, 388700, 347950), shapely.box(388700, 347600, 388850, 347800)
)


@pytest.fixture(scope="module")
def points(real_incidents) -> gpd.GeoDataFrame:
    """The sample's located incidents as points (built from the raw files in conftest)."""
    df = real_incidents[np.isfinite(real_incidents["x"].to_numpy())]
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=27700)


@pytest.fixture(scope="module")
def inside(points) -> gpd.GeoDataFrame:
    """The incidents in HANLEY by a direct sjoin (the independent reference)."""
    place = gpd.GeoDataFrame(geometry=[HANLEY], crs=27700)
    return gpd.sjoin(points, place, predicate="intersects").drop(columns="index_right")


@pytest.fixture(scope="module")
def detail(real_incidents):
    return place_detail(real_incidents, HANLEY)


# ---------------------------------------------------------------------------- outputs
def test_counts_match_a_direct_sjoin(detail, inside):
    assert detail.count == len(inside) > 1000
    assert list(detail.cells.columns) == CELL_COLUMNS
    assert list(detail.points.columns) == POINT_COLUMNS
    assert list(detail.locations.columns) == list(detail.categories.columns) == TABLE_COLUMNS
    cats = inside["category"].value_counts()
    assert detail.categories.set_index("name")["count"].to_dict() == cats.to_dict()
    streets = inside["location_name"].str.removeprefix("On or near ").value_counts()
    assert detail.locations.set_index("name")["count"].to_dict() == streets.to_dict()
    assert detail.locations["count"].is_monotonic_decreasing
    assert detail.categories["share"].sum() == pytest.approx(1.0)


def test_a_street_count_by_hand_from_the_raw_files(detail, sample_raw):
    """Huntbach Street's count, counted on the published rows (first month of a repeated Crime ID)."""
    raw = sample_raw[~((sample_raw["Crime ID"] != "") & sample_raw.duplicated("Crime ID"))]
    raw = raw[raw["Location"] == "On or near Huntbach Street"]
    xy = gpd.GeoSeries(
        gpd.points_from_xy(pd.to_numeric(raw["Longitude"]), pd.to_numeric(raw["Latitude"])), crs=4326
    ).to_crs(27700)
    by_hand = int(shapely.intersects_xy(HANLEY, xy.x.to_numpy(), xy.y.to_numpy()).sum())
    assert by_hand > 100
    assert detail.locations.set_index("name").loc["Huntbach Street", "count"] == by_hand


def test_points_are_the_map_points_with_their_counts(detail, inside):
    ref = inside.groupby("location_id").size().sort_values(ascending=False)
    got = detail.points.set_index("location_id")["count"]
    assert got.sort_index().to_dict() == ref.sort_index().to_dict()
    assert detail.points["count"].is_monotonic_decreasing
    assert detail.params["n_points"] == inside["location_id"].nunique()
    top = detail.points.iloc[0]
    names = inside[inside["location_id"] == top["location_id"]]["location_name"]
    assert top["location_name"] == names.value_counts().index[0].removeprefix("On or near ")
    assert detail.points.crs.to_epsg() == 27700
    assert detail.points.geometry.within(HANLEY.buffer(1e-6)).all()


def test_cells_match_a_sjoin_with_the_cells(detail, inside):
    assert detail.params["cell_size"] == 75.0  # 550 m shorter side / 8 ≈ 69 → 75
    assert detail.cells["count"].sum() == detail.count
    joined = gpd.sjoin(inside[["geometry"]], detail.cells, predicate="within")
    ref = joined.groupby("cell_id").size()
    got = detail.cells.set_index("cell_id")["count"]
    assert got[got > 0].to_dict() == ref.to_dict()
    assert (got == 0).any()  # empty cells are kept (drawn as a faint grid)
    # every cell lies in the place and together they cover it
    assert detail.cells.geometry.union_all().symmetric_difference(HANLEY).area < 1.0


def test_cells_line_up_with_the_hotspot_grid(real_incidents):
    d = place_detail(real_incidents, HANLEY, cell_size=150)
    full = d.cells[np.isclose(d.cells.area, 150 * 150)]
    b = full.bounds.to_numpy()
    assert len(full) > 5
    assert np.allclose(b % 150, 0)
    assert d.params["cell_size_rule"] == "given"


def test_filter_months_and_categories(real_incidents, inside):
    filt = Filter(month_from="2025-03", month_to="2025-05", categories=("Shoplifting",))
    d = place_detail(real_incidents, HANLEY, filt=filt)
    ref = inside[
        (inside["category"] == "Shoplifting")
        & (inside["month"] >= "2025-03-01")
        & (inside["month"] <= "2025-05-01")
    ]
    assert d.count == len(ref) > 10
    assert d.months["month"].dt.strftime("%Y-%m").tolist() == ["2025-03", "2025-04", "2025-05"]
    assert d.months["count"].tolist() == ref["month"].value_counts().sort_index().tolist()
    assert d.categories["name"].tolist() == ["Shoplifting"]
    assert d.params["filter"]["categories"] == ["Shoplifting"]


def test_months_cover_the_data_with_zeros_and_geoseries_input(real_incidents):
    quiet = gpd.GeoSeries([shapely.box(400000, 300000, 400300, 300300)], crs=27700)  # open country
    d = place_detail(real_incidents, quiet)
    assert len(d.months) == 12 and d.months["count"].sum() == d.count
    assert d.params["area_km2"] == pytest.approx(0.09)
    assert d.params["cell_size"] == 50.0


def test_default_cell_size_rule():
    assert default_detail_cell_size(shapely.box(0, 0, 300, 600)) == 50.0  # 37.5 m → at least 50
    assert default_detail_cell_size(shapely.box(0, 0, 800, 900)) == 100.0
    assert default_detail_cell_size(shapely.box(0, 0, 3000, 3000)) == 150.0  # at most 150


def test_does_not_modify_its_input(real_incidents):
    before = real_incidents.copy()
    place_detail(real_incidents, HANLEY, filt=Filter(categories=("Burglary",)))
    pd.testing.assert_frame_equal(real_incidents, before)


def test_without_location_ids_points_are_keyed_by_coordinates(real_incidents, detail):
    d = place_detail(real_incidents.drop(columns=["location_id", "lon", "lat"]), HANLEY)
    assert d.count == detail.count
    assert sorted(d.points["count"]) == sorted(detail.points["count"])
    assert (d.points["location_id"] == -1).all()
    assert d.points["lat"].between(52.9, 53.1).all()


# ---------------------------------------------------------------------------- inputs
def test_rejects_missing_columns(real_incidents):
    with pytest.raises(InputError, match=r"`incidents` is missing column\(s\) location_name"):
        place_detail(real_incidents.drop(columns="location_name"), HANLEY)
    with pytest.raises(InputError, match="`incidents` must be a DataFrame of incident records; got list"):
        place_detail([], HANLEY)


def test_rejects_shapes_that_are_not_polygons(real_incidents):
    with pytest.raises(InputError, match="`place_geometry` must be a Polygon or MultiPolygon .* got Point"):
        place_detail(real_incidents, shapely.Point(388400, 347700))
    with pytest.raises(InputError, match=r"got Polygon \(empty\)"):
        place_detail(real_incidents, shapely.Polygon())
    with pytest.raises(InputError, match="got str"):
        place_detail(real_incidents, "Hanley")


def test_rejects_longitude_latitude(real_incidents):
    with pytest.raises(CRSError, match="`place_geometry` looks like longitude/latitude"):
        place_detail(real_incidents, shapely.box(-2.18, 53.02, -2.17, 53.03))
    with pytest.raises(CRSError, match=r"`place_geometry` is in a geographic CRS"):
        place_detail(real_incidents, gpd.GeoSeries([shapely.box(-2.18, 53.02, -2.17, 53.03)], crs=4326))


def test_rejects_a_bad_cell_size(real_incidents):
    with pytest.raises(InputError, match="`cell_size` must be a positive number of metres; got -5"):
        place_detail(real_incidents, HANLEY, cell_size=-5)
