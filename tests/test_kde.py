import math

import numpy as np
import pytest
from sklearn.neighbors import KernelDensity

from hotspots._errors import InputError
from hotspots.grid import make_grid
from hotspots.kde import (
    bandwidth_normal_reference,
    bandwidth_silverman,
    choose_bandwidth,
    hotspot_polygons,
    kde,
    kernel_values,
    unique_locations,
)


@pytest.fixture(scope="module")
def located(real_incidents):
    df = real_incidents[np.isfinite(real_incidents["x"])]
    return df["x"].to_numpy(), df["y"].to_numpy()


@pytest.fixture(scope="module")
def stoke_grid(geography):
    """200 m cells over Stoke-on-Trent (the densest district)."""
    d = geography.areas("district")
    return make_grid(d[d["area_name"] == "Stoke-on-Trent"], cell_size=200)


def brute_force(x, y, grid, h, kernel):
    """Exact KDE at cell centres by summing the kernel over every unique location (numpy)."""
    ux, uy, uw, _ = unique_locations(x, y)
    cx, cy = grid.centres()
    cxf, cyf = cx.ravel(), cy.ravel()
    out = np.zeros(cxf.size)
    for s in range(0, ux.size, 500):
        d2 = (cxf[None, :] - ux[s : s + 500, None]) ** 2 + (cyf[None, :] - uy[s : s + 500, None]) ** 2
        out += (kernel_values(d2, h, kernel) * uw[s : s + 500, None]).sum(axis=0)
    return out.reshape(cx.shape) * 1e6


def sklearn_density(x, y, grid, h):
    """scikit-learn's exact Gaussian KDE at the cell centres, in incidents per km²."""
    ux, uy, uw, _ = unique_locations(x, y)
    kd = KernelDensity(kernel="gaussian", bandwidth=h, rtol=1e-6).fit(np.c_[ux, uy], sample_weight=uw)
    cx, cy = grid.centres()
    return np.exp(kd.score_samples(np.c_[cx.ravel(), cy.ravel()])).reshape(cx.shape) * uw.sum() * 1e6


def top_overlap(a, b, mask, share=0.01):
    k = max(1, round(share * mask.sum()))
    ta = set(np.argsort(-np.where(mask, a, -1).ravel())[:k])
    tb = set(np.argsort(-np.where(mask, b, -1).ravel())[:k])
    return len(ta & tb) / k


# ---------------------------------------------------------------- checks inputs
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kernel": "epanechnikov"}, "`kernel` must be one of 'quartic', 'gaussian'; got 'epanechnikov'"),
        (
            {"bandwidth_rule": "scott"},
            "`bandwidth_rule` must be one of 'cell', 'silverman', 'normal_reference'",
        ),
        ({"bandwidth": -1}, "`bandwidth` must be a positive number of metres; got -1"),
        ({"multiplier": 0}, "`multiplier` must be a positive number; got 0"),
        ({"algorithm": "grid"}, "`algorithm` must be one of 'auto', 'exact', 'fft'"),
    ],
)
def test_rejects_bad_options(stoke_grid, kwargs, match):
    with pytest.raises(InputError, match=match):
        kde(np.array([1.0]), np.array([1.0]), grid=stoke_grid, **kwargs)


def test_rejects_bandwidth_smaller_than_cell(stoke_grid):
    with pytest.raises(InputError, match="`bandwidth` 100 m is too small for 200 m cells.*at least 142 m"):
        kde(np.array([1.0]), np.array([1.0]), grid=stoke_grid, bandwidth=100)
    # the Gaussian spreads far enough at half a cell
    kde(np.array([1.0]), np.array([1.0]), grid=stoke_grid, bandwidth=100, kernel="gaussian")


def test_rejects_mismatched_input(stoke_grid):
    with pytest.raises(InputError, match="`x` and `y` must have the same length; got 2 and 1"):
        kde(np.array([1.0, 2.0]), np.array([1.0]), grid=stoke_grid)
    with pytest.raises(InputError, match="`weights` must have one value per point"):
        kde(np.array([1.0]), np.array([1.0]), grid=stoke_grid, weights=np.ones(3))
    with pytest.raises(InputError, match="`weights` must be finite and non-negative"):
        kde(np.array([1.0]), np.array([1.0]), grid=stoke_grid, weights=np.array([-1.0]))
    with pytest.raises(InputError, match="`grid` must be a hotspots.grid.Grid"):
        kde(np.array([1.0]), np.array([1.0]), grid=None)


# ---------------------------------------------------------------- checks outputs
@pytest.fixture(scope="module")
def sklearn_stoke(located, stoke_grid):
    return sklearn_density(*located, stoke_grid, 300)


@pytest.mark.parametrize("algorithm", ["exact", "fft"])
def test_gaussian_matches_sklearn_on_real_data(located, stoke_grid, sklearn_stoke, algorithm):
    x, y = located
    res = kde(x, y, grid=stoke_grid, bandwidth=300, kernel="gaussian", algorithm=algorithm)
    ref = sklearn_stoke
    m = stoke_grid.mask
    err = np.abs(res.density - ref)[m].max() / ref[m].max()
    assert err <= 0.02
    assert top_overlap(res.density, ref, m) >= 0.95
    if algorithm == "exact":
        assert err < 1e-3  # exact but for the kernel's cut at 4 standard deviations


@pytest.mark.parametrize("algorithm", ["exact", "fft"])
def test_quartic_matches_brute_force_on_real_data(located, stoke_grid, algorithm):
    x, y = located
    res = kde(x, y, grid=stoke_grid, bandwidth=300, algorithm=algorithm)
    ref = brute_force(x, y, stoke_grid, 300, "quartic")
    m = stoke_grid.mask
    assert np.abs(res.density - ref)[m].max() / ref[m].max() <= 0.01
    assert top_overlap(res.density, ref, m) >= 0.95


def test_rejects_cell_rule_without_cell_size():
    with pytest.raises(InputError, match='`bandwidth_rule="cell"` needs the `cell_size`'):
        choose_bandwidth(np.array([1.0]), np.array([1.0]), rule="cell")


@pytest.mark.parametrize("rule", ["cell", "silverman"])
def test_default_county_surface(located, geography, rule):
    """On the whole county: 1,200 m cells, quartic; bandwidth one cell (default) or spatial Silverman."""
    x, y = located
    grid = make_grid(geography.study_area)
    res = kde(x, y, grid=grid) if rule == "cell" else kde(x, y, grid=grid, bandwidth_rule=rule)
    assert res.kernel == "quartic"
    if rule == "cell":
        assert res.bandwidth == 1200 and res.bandwidth_rule == "cell (one cell)"
    else:
        assert res.bandwidth_rule == "silverman"
        assert res.bandwidth == pytest.approx(bandwidth_silverman(x, y))
        assert 1000 < res.bandwidth < 4000
    ref = brute_force(x, y, grid, res.bandwidth, "quartic")
    assert np.abs(res.density - ref).max() / ref.max() <= 0.01
    # the surface integrates to the number of incidents (a few fall beyond the grid's edge)
    assert res.density.sum() * grid.cell_area_km2 == pytest.approx(len(x), rel=0.01)
    np.testing.assert_array_equal(res.counts, grid.counts(x, y))
    p = res.params
    assert p["bandwidth_m"] == pytest.approx(res.bandwidth, abs=1e-3) and p["cell_size_m"] == 1200
    assert p["n_incidents"] == len(x) and p["n_locations"] == np.unique(np.c_[x, y], axis=0).shape[0]


def test_bandwidth_rules_by_hand():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1000, 4000)
    y = rng.normal(0, 2000, 4000)

    # normal reference: MASS::bandwidth.nrd per axis, averaged
    def nrd(v):
        iqr = np.subtract(*np.percentile(v, [75, 25]))
        return 4 * 1.06 * min(np.std(v, ddof=1), iqr / 1.34) * len(v) ** -0.2

    assert bandwidth_normal_reference(x, y) == pytest.approx((nrd(x) + nrd(y)) / 2, rel=2e-3)
    d = np.hypot(x - x.mean(), y - y.mean())
    sd = math.sqrt(np.mean(d**2))
    expected = 0.9 * min(sd, math.sqrt(1 / math.log(2)) * np.median(d)) * 4000**-0.2
    assert bandwidth_silverman(x, y) == pytest.approx(expected, rel=1e-3)
    # weights at unique locations give the same as repeated points
    ux, uy, uw, _ = unique_locations(np.repeat(x[:50], 3), np.repeat(y[:50], 3))
    assert bandwidth_silverman(ux, uy, uw) == pytest.approx(
        bandwidth_silverman(np.repeat(x[:50], 3), np.repeat(y[:50], 3))
    )


def test_multiplier_and_normal_reference(located, stoke_grid):
    x, y = located
    a = kde(x, y, grid=stoke_grid, bandwidth_rule="silverman", multiplier=0.5)
    assert a.bandwidth == pytest.approx(0.5 * bandwidth_silverman(x, y))
    assert a.params["bandwidth_rule"] == "silverman x 0.5"
    c = kde(x, y, grid=stoke_grid, multiplier=2)
    assert c.bandwidth == 400 and c.params["bandwidth_rule"] == "cell x 2"
    b = kde(x, y, grid=stoke_grid, bandwidth_rule="normal_reference")
    assert b.bandwidth == pytest.approx(bandwidth_normal_reference(x, y))


def test_weights_equal_repeated_points(located, stoke_grid):
    x, y = located
    ux, uy, uw, _ = unique_locations(x, y)
    a = kde(x, y, grid=stoke_grid, bandwidth=400)
    b = kde(ux, uy, grid=stoke_grid, bandwidth=400, weights=uw)
    np.testing.assert_allclose(a.density, b.density, rtol=1e-9, atol=1e-9)


def test_empty_input(stoke_grid):
    res = kde(np.array([]), np.array([]), grid=stoke_grid)
    assert (res.density == 0).all() and res.n_incidents == 0
    assert "no incidents" in res.params["notes"]


def test_no_location_rows_are_counted(stoke_grid):
    res = kde(
        np.array([np.nan, np.inf, 388000.0]),
        np.array([np.nan, np.inf, 347000.0]),
        grid=stoke_grid,
        bandwidth=500,
    )
    assert res.n_left_off == 2 and res.n_incidents == 1


def test_single_incident_and_all_at_one_point(stoke_grid):
    cx, cy = stoke_grid.centres()
    iy, ix = np.argwhere(stoke_grid.mask)[len(np.argwhere(stoke_grid.mask)) // 2]
    px, py = cx[iy, ix], cy[iy, ix]
    one = kde(np.array([px]), np.array([py]), grid=stoke_grid)
    assert one.bandwidth == stoke_grid.cell and one.bandwidth_rule == "cell (one cell)"
    silv = kde(np.array([px]), np.array([py]), grid=stoke_grid, bandwidth_rule="silverman")
    assert silv.bandwidth == stoke_grid.cell and "raised to the cell size" in silv.bandwidth_rule
    assert one.density[iy, ix] == pytest.approx(3 / (math.pi * 200**2) * 1e6)
    many = kde(np.full(500, px), np.full(500, py), grid=stoke_grid, bandwidth_rule="normal_reference")
    assert many.n_locations == 1 and many.bandwidth == stoke_grid.cell
    np.testing.assert_allclose(many.density, 500 * one.density)


def test_hotspot_polygons(located, geography):
    x, y = located
    grid = make_grid(geography.study_area)
    res = kde(x, y, grid=grid)
    places = hotspot_polygons(res, grid, top_share=0.05)
    assert list(places.columns) == [
        "place_id",
        "n_cells",
        "area_km2",
        "count",
        "max_density",
        "mean_density",
        "geometry",
    ]
    assert places.crs.to_epsg() == 27700
    assert places["n_cells"].sum() == round(0.05 * grid.mask.sum())
    assert places["place_id"].tolist() == list(range(1, len(places) + 1))
    assert places["max_density"].is_monotonic_decreasing
    assert places.geometry.is_valid.all()
    assert (places.area / 1e6 - places["area_km2"]).abs().max() < 1e-6
    # the densest cell lies in place 1
    cx, cy = grid.centres()
    k = np.argmax(np.where(grid.mask, res.density, -1))
    import shapely

    assert places.geometry.iloc[0].contains(shapely.Point(cx.flat[k], cy.flat[k]))
    with pytest.raises(InputError, match="`top_share` must be a share of the area between 0 and 1"):
        hotspot_polygons(res, grid, top_share=5)
