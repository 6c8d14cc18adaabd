import geopandas as gpd
import numpy as np
import pytest
import shapely

from hotspots._errors import CRSError, InputError
from hotspots.grid import Grid, default_cell_size, make_grid


@pytest.fixture(scope="module")
def county_grid(geography):
    return make_grid(geography.study_area)


# ---------------------------------------------------------------- checks inputs
def test_rejects_layer_without_crs(geography):
    with pytest.raises(CRSError, match="`study_area` has no CRS"):
        make_grid(gpd.GeoSeries(geography.study_area.to_numpy()))


def test_rejects_geographic_crs(geography):
    with pytest.raises(CRSError, match="geographic CRS.*to_crs\\(27700\\)"):
        make_grid(geography.study_area.to_crs(4326))


def test_rejects_bad_cell_size(geography):
    with pytest.raises(InputError, match="`cell_size` must be a positive number of metres; got -5"):
        make_grid(geography.study_area, cell_size=-5)


def test_rejects_huge_grid(geography):
    with pytest.raises(InputError, match="cells over this study area"):
        make_grid(geography.study_area, cell_size=5)


def test_rejects_non_geo_input():
    with pytest.raises(InputError, match="`study_area` must be a GeoSeries"):
        make_grid([shapely.box(0, 0, 1, 1)])


# ---------------------------------------------------------------- checks outputs
def test_default_cell_size_rules():
    assert default_cell_size((0, 0, 60_000, 90_000)) == 1200
    assert default_cell_size((0, 0, 5_000, 6_000)) == 100
    assert default_cell_size((0, 0, 12_000, 30_000)) == 250
    assert default_cell_size((0, 0, 500, 500)) == 50
    assert default_cell_size((0, 0, 0, 0)) == 50


def test_county_grid_default(county_grid, geography):
    g = county_grid
    assert g.cell == 1200
    assert g.x0 % g.cell == 0 and g.y0 % g.cell == 0
    minx, miny, maxx, maxy = geography.study_area.total_bounds
    assert g.x0 <= minx < g.x0 + g.cell and g.x0 + g.nx * g.cell >= maxx
    assert g.y0 <= miny < g.y0 + g.cell and g.y0 + g.ny * g.cell >= maxy
    # mask = cells intersecting the study area, checked against shapely one box at a time
    geom = geography.study_area.iloc[0]
    ref = shapely.intersects(geom, g.boxes()).reshape(g.shape)
    np.testing.assert_array_equal(g.mask, ref)
    # the masked cells cover the study area
    assert g.mask.sum() * g.cell_area_km2 >= geom.area / 1e6


def test_mask_matches_shapely_fine_grid(geography):
    g = make_grid(geography.areas("district").iloc[[0]], cell_size=200)
    geom = geography.areas("district").geometry.iloc[0]
    ref = shapely.intersects(geom, g.boxes()).reshape(g.shape)
    np.testing.assert_array_equal(g.mask, ref)


def test_index_and_counts_against_hand_count(county_grid, real_incidents):
    g = county_grid
    x = real_incidents["x"].to_numpy()
    y = real_incidents["y"].to_numpy()
    ix, iy = g.index(x, y)
    counts = g.counts(x, y)
    # hand count with pandas
    ok = ix >= 0
    ref = np.zeros(g.shape)
    s = real_incidents[ok].groupby([iy[ok], ix[ok]]).size()
    ref[s.index.get_level_values(0), s.index.get_level_values(1)] = s.to_numpy()
    np.testing.assert_array_equal(counts, ref)
    assert counts.sum() == ok.sum()
    # a point is inside the box of its cell
    cx, cy = g.centres()
    assert np.all(np.abs(x[ok] - cx[iy[ok], ix[ok]]) <= g.cell / 2)
    assert np.all(np.abs(y[ok] - cy[iy[ok], ix[ok]]) <= g.cell / 2)


def test_index_off_grid_and_nan():
    g = Grid(x0=0.0, y0=0.0, cell=100.0, nx=3, ny=2, mask=np.ones((2, 3), bool))
    ix, iy = g.index(np.array([-1, 0, 299.9, 300, np.nan, 150]), np.array([50, 0, 199, 50, 50, 150]))
    np.testing.assert_array_equal(ix, [-1, 0, 2, -1, -1, 1])
    np.testing.assert_array_equal(iy, [-1, 0, 1, -1, -1, 1])
    c = g.counts(np.array([50.0, 50.0, 250.0]), np.array([50.0, 60.0, 150.0]), weights=np.array([1, 2, 5]))
    np.testing.assert_array_equal(c, [[3, 0, 0], [0, 0, 5]])


def test_to_geodataframe(county_grid):
    g = county_grid
    vals = np.arange(g.nx * g.ny, dtype=float).reshape(g.shape)
    gdf = g.to_geodataframe({"v": vals})
    assert list(gdf.columns) == ["cell_id", "x", "y", "v", "geometry"]
    assert gdf.crs.to_epsg() == 27700
    assert len(gdf) == g.mask.sum()
    np.testing.assert_array_equal(gdf["v"], gdf["cell_id"])
    np.testing.assert_allclose(gdf.geometry.centroid.x, gdf["x"])
    np.testing.assert_allclose(gdf.geometry.area, g.cell**2)
    clipped = g.to_geodataframe({"v": vals}, clip=True)
    assert clipped.area.sum() == pytest.approx(g.study_area.area, rel=1e-6)
    with pytest.raises(InputError, match="one value per cell"):
        g.to_geodataframe({"v": np.zeros(3)})


def test_grid_is_hashable_value(county_grid):
    assert hash(county_grid) == hash(Grid(county_grid.x0, county_grid.y0, 1200.0, county_grid.nx, county_grid.ny, None))
