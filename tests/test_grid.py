import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy import ndimage

from hotspots._errors import CRSError, InputError
from hotspots.cell_places import label_places, places_from_cells
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
    assert hash(county_grid) == hash(
        Grid(county_grid.x0, county_grid.y0, 1200.0, county_grid.nx, county_grid.ny, None)
    )


# ---------------------------------------------------------------- places from cells
def _peak_reference(sel, score):
    """Steepest ascent by explicit loops (whole basins, no ties): the peak each selected cell climbs to."""
    ny, nx = sel.shape
    out = {}
    for iy in range(ny):
        for ix in range(nx):
            if not sel[iy, ix]:
                continue
            y, x = iy, ix
            while True:
                best = None
                for dy, dx in ((-1, 0), (0, -1), (0, 1), (1, 0)):
                    v, u = y + dy, x + dx
                    if 0 <= v < ny and 0 <= u < nx and sel[v, u] and score[v, u] > score[y, x]:
                        if best is None or score[v, u] > score[best]:
                            best = (v, u)
                if best is None:
                    break
                y, x = best
            out[(iy, ix)] = (y, x)
    return out


def _partition(labels):
    """The places as a set of frozensets of cells (label numbers do not matter)."""
    groups: dict[int, set] = {}
    for iy, ix in zip(*np.nonzero(labels), strict=True):
        groups.setdefault(int(labels[iy, ix]), set()).add((int(iy), int(ix)))
    return {frozenset(g) for g in groups.values()}


def test_two_peaks_joined_by_a_saddle_give_two_places():
    score = np.array(
        [[0, 0, 0, 0, 0, 0, 0], [0, 6, 9, 5, 8, 7, 0], [0, 5, 7, 4, 6, 6, 0], [0, 0, 0, 0, 0, 0, 0.0]]
    )
    sel = score > 0
    labels, n = label_places(sel, score, peak_share=0)
    assert n == 2
    # the saddle column (5, 4) goes to the higher side of each cell; each peak in its own place
    assert labels[1, 2] != labels[1, 4]
    assert labels[1, 3] == labels[1, 2] and labels[2, 3] == labels[2, 2]
    assert set(labels[sel]) == {1, 2} and (labels[~sel] == 0).all()
    # the old rule and edge joins make one place of them
    assert label_places(sel, split="touching")[1] == 1
    assert label_places(sel, split="edges")[1] == 1


def test_corner_only_contact_gives_two_places():
    sel = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]], dtype=bool)
    score = sel.astype(float)
    score[0, 0] = score[3, 3] = 2.0  # one peak each side of the corner
    assert label_places(sel, score)[1] == 2
    assert label_places(sel, split="edges")[1] == 2
    assert label_places(sel, split="touching")[1] == 1
    # even when the corner cells are the peaks, a corner never joins cells
    score[0, 0] = score[3, 3] = 1.0
    score[1, 1] = score[2, 2] = 100.0
    assert label_places(sel, score, peak_share=0)[1] == 2


def test_plateau_is_one_place():
    score = np.zeros((5, 6))
    score[1:4, 1:5] = 3.0  # a 3 x 4 flat top: one peak
    sel = score > 0
    labels, n = label_places(sel, score)
    assert n == 1 and (labels[sel] == 1).all()
    # a plateau ring around a lower cell, and a plateau with lower slopes, are one place each
    score[2, 2] = 2.0
    score[1, 1] = 2.0
    assert label_places(sel, score, peak_share=0)[1] == 1


def test_plateau_with_an_exit_drains_to_its_higher_side():
    # a flat shelf of 5s between a peak of 9 (east) and a lower peak of 7 (west, across a saddle of 2)
    score = np.array([[7.0, 2, 5, 5, 5, 5, 9]])
    labels, n = label_places(score > 0, score, peak_share=0)
    assert n == 2
    assert len(set(labels[0, 2:])) == 1 and labels[0, 0] != labels[0, 6]
    # two equal highest neighbours: the cell goes to the first in grid order (the western one)
    score = np.array([[9.0, 5, 9]])
    labels, n = label_places(score > 0, score, peak_share=0)
    assert n == 2 and labels[0, 1] == labels[0, 0]


def test_half_peak_rule_splits_a_long_shoulder():
    # a peak of 10 whose basin runs down a shoulder of 4s: the shoulder is a place of its own
    score = np.array([[10.0, 6, 4, 4, 3]])
    sel = score > 0
    labels, n = label_places(sel, score)
    assert n == 2
    assert labels[0, 0] == labels[0, 1] != labels[0, 2]
    assert len(set(labels[0, 2:])) == 1
    assert label_places(sel, score, peak_share=0)[1] == 1
    assert label_places(sel, score, peak_share=0.7)[1] == 3  # 10 | 6 | 4 4 3


@pytest.mark.parametrize("seed", range(6))
def test_peaks_match_explicit_steepest_ascent(seed):
    rng = np.random.default_rng(seed)
    score = ndimage.gaussian_filter(rng.random((30, 40)), 1.5) + 1e-9 * rng.random((30, 40))  # no ties
    sel = score > np.quantile(score, 0.6)
    labels, n = label_places(sel, score, peak_share=0)
    ref = _peak_reference(sel, score)
    by_peak: dict = {}
    for cell, peak in ref.items():
        by_peak.setdefault(peak, set()).add(cell)
    assert _partition(labels) == {frozenset(g) for g in by_peak.values()}
    assert n == len(by_peak)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("peak_share", [0, 0.5])
def test_every_cell_in_one_connected_place_with_one_peak(seed, peak_share):
    """Integer scores (many ties and plateaus): each place is edge-connected and has one peak."""
    rng = np.random.default_rng(seed)
    score = rng.integers(0, 5, (25, 25)).astype(float)
    sel = score > 1
    labels, n = label_places(sel, score, peak_share=peak_share)
    assert set(np.unique(labels[sel])) == set(range(1, n + 1)) and (labels[~sel] == 0).all()
    for k in range(1, n + 1):
        place = labels == k
        assert ndimage.label(place)[1] == 1  # joined along edges
        # cells with no higher edge neighbour in the place form one flat, edge-connected group
        inside = np.where(place, score, -np.inf)
        pad = np.pad(inside, 1, constant_values=-np.inf)
        higher = np.zeros(score.shape, bool)
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            higher |= pad[1 + dy : 26 + dy, 1 + dx : 26 + dx] > score
        # regional maxima within the place: flat groups with no higher edge neighbour in it
        tops = 0
        for v in np.unique(score[place]):
            flat, k_flat = ndimage.label(place & (score == v))
            tops += sum(not higher[flat == j].any() for j in range(1, k_flat + 1))
        assert tops == 1
    again, _ = label_places(sel, score, peak_share=peak_share)
    np.testing.assert_array_equal(labels, again)  # deterministic


def test_places_from_cells_sums_and_rules():
    g = Grid(x0=0.0, y0=0.0, cell=100.0, nx=7, ny=4, mask=np.ones((4, 7), bool))
    score = np.array(
        [[0, 0, 0, 0, 0, 0, 0], [0, 6, 9, 5, 8, 7, 0], [0, 5, 7, 4, 6, 6, 0], [0, 0, 0, 0, 0, 0, 0.0]]
    )
    sel = score > 0
    counts = np.arange(28, dtype=float).reshape(4, 7)
    totals = {}
    for split in ("peaks", "edges", "touching"):
        labels, places = places_from_cells(
            sel, g, {"count": counts, "top": score}, how={"top": "max"}, split=split
        )
        totals[split] = places["count"].sum()
        assert places["n_cells"].sum() == sel.sum() and (labels > 0).sum() == sel.sum()
        assert places["place_id"].tolist() == list(range(1, len(places) + 1))
        assert places["top"].is_monotonic_decreasing
    assert len(set(totals.values())) == 1 and totals["peaks"] == counts[sel].sum()
    _, places = places_from_cells(sel, g, {"top": score}, how={"top": "max"}, split="peaks")
    # two peaks; the saddle cell of 4 is below half of its peak (9): a place of its own
    assert places["top"].tolist() == [9, 8, 4] and places["n_cells"].tolist() == [5, 4, 1]


def test_places_rejects_bad_rule():
    sel = np.ones((2, 2), bool)
    with pytest.raises(InputError, match="`split` must be one of 'peaks', 'edges', 'touching'; got 'blobs'"):
        label_places(sel, np.ones((2, 2)), split="blobs")
    with pytest.raises(InputError, match="`split='peaks'` needs the cell `score`"):
        label_places(sel)
    with pytest.raises(
        InputError, match="`score` must have the shape of `selected` \\(2, 2\\); got \\(3,\\)"
    ):
        label_places(sel, np.ones(3))
    with pytest.raises(InputError, match="`peak_share` must be a share of the peak between 0 and 1"):
        label_places(sel, np.ones((2, 2)), peak_share=2)


# ---------------------------------------------------------------- micro places
def test_analysis_cell_size_rules(geography):
    from hotspots.grid import MICRO_CELL_SIZE, analysis_cell_size

    assert analysis_cell_size(geography.study_area) == (MICRO_CELL_SIZE, "micro")
    assert analysis_cell_size(geography.study_area, "micro") == (MICRO_CELL_SIZE, "micro")
    assert analysis_cell_size(geography.study_area, "display") == (1200.0, "display")
    assert analysis_cell_size(geography.study_area, 80) == (80.0, "user")
    ward = geography.areas("ward")
    small = ward[ward["area_name"] == "Hanley Park, Joiner's Square & Shelton"].geometry
    assert analysis_cell_size(small) == (50.0, "micro")  # the display rule is finer in a small area
    with pytest.raises(InputError, match="`cell_size` must be a positive number of metres; got -5"):
        analysis_cell_size(geography.study_area, -5)


def test_bound_places_grows_pieces_from_peaks():
    from hotspots.cell_places import bound_places

    # one 1 x 7 strip: peaks at both ends, a saddle in the middle
    score = np.array([[9.0, 8, 3, 1, 2, 7, 10]])
    labels = np.ones((1, 7), dtype=int)
    out, n = bound_places(labels, score, max_cells=3)
    assert n == 3
    assert out[0, 6] == out[0, 5] != out[0, 0] == out[0, 1]  # each peak keeps its busiest cells
    assert np.bincount(out.ravel())[1:].max() <= 3 and (out > 0).all()
    # a place within the bound is left alone; labels stay 0 outside places
    small = np.array([[1, 1, 0, 2]])
    same, n = bound_places(small, np.ones((1, 4)), max_cells=2)
    np.testing.assert_array_equal(same, small)
    assert n == 2
    with pytest.raises(InputError, match="`max_cells` must be a whole number of cells, at least 1; got 0"):
        bound_places(labels, score, max_cells=0)


def test_cell_outlines_equal_dissolved_boxes():
    """Traced outlines equal GeoPandas' dissolve of the cell boxes (holes, corner contacts, figure-eights)."""
    from scipy import ndimage

    from hotspots.cell_places import cell_outlines
    from hotspots.grid import Grid

    rng = np.random.default_rng(1)
    grid = Grid(x0=1000.0, y0=2000.0, cell=10.0, nx=14, ny=12, mask=np.ones((12, 14), bool))
    for trial in range(60):
        labels, n = ndimage.label(rng.random((12, 14)) < 0.55)
        if trial % 2:  # labels made of several separate pieces touching at corners
            labels = np.where(labels > 0, labels % 4 + 1, 0)
            labels = np.unique(labels, return_inverse=True)[1].reshape(labels.shape)
            n = int(labels.max())
        out = cell_outlines(labels, grid, n)
        flat = labels.ravel()
        ids = np.flatnonzero(flat)
        ref = gpd.GeoDataFrame({"p": flat[ids]}, geometry=grid.boxes(ids)).dissolve("p").geometry
        for label in range(1, n + 1):
            assert out[label - 1].is_valid
            assert out[label - 1].symmetric_difference(ref.loc[label]).area < 1e-6


def test_top_cells_ties_go_to_the_first_cells_as_a_stable_sort():
    """The selection without a full sort equals the first k of a stable sort (ties in cell order)."""
    from hotspots.cell_places import top_cells

    rng = np.random.default_rng(5)
    values = rng.integers(0, 6, (40, 50)).astype(float)  # many ties at every level
    values[rng.random(values.shape) < 0.05] = np.nan
    mask = rng.random(values.shape) < 0.8
    ids = np.flatnonzero(mask.ravel())
    v = np.nan_to_num(values.ravel()[ids], nan=-np.inf)
    for share in (0.001, 0.01, 0.1, 0.37, 0.9, 1.0):
        k = max(1, int(round(share * ids.size)))
        order = np.argsort(-v, kind="stable")[:k]
        expected = np.zeros(values.size, dtype=bool)
        expected[ids[order][v[order] > 0]] = True
        got = top_cells(values, mask, share)
        assert np.array_equal(got.ravel(), expected), share


def test_places_values_equal_ndimage_on_the_county(county_grid):
    """Per-place cell counts and maxima over the labelled cells equal scipy.ndimage's over the grid."""
    from hotspots.cell_places import top_cells

    rng = np.random.default_rng(6)
    score = np.where(county_grid.mask, rng.gamma(0.3, 10, county_grid.shape).round(1), 0.0)
    sel = top_cells(score, county_grid.mask, 0.1)
    labels, places = places_from_cells(sel, county_grid, {"peak": score, "total": score}, how={"peak": "max"})
    index = np.arange(1, len(places) + 1)
    assert np.array_equal(places["n_cells"], ndimage.sum_labels(np.ones(labels.shape), labels, index))
    assert np.array_equal(places["peak"], ndimage.maximum(score, labels, index))
    assert np.allclose(places["total"], ndimage.sum_labels(score, labels, index))
