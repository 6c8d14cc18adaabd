import numpy as np
import pandas as pd
import pytest

from hotspots._errors import InputError
from hotspots.eb import eb_count, neighbour_mean, recency_weights
from hotspots.grid import Grid, make_grid


@pytest.fixture(scope="module")
def located(real_incidents):
    return real_incidents[np.isfinite(real_incidents["x"])]


@pytest.fixture(scope="module")
def county_grid(geography):
    return make_grid(geography.study_area)


def square_grid(n=5, cell=100.0):
    return Grid(0.0, 0.0, cell, n, n, mask=np.ones((n, n), dtype=bool))


# ---------------------------------------------------------------- checks inputs
def test_rejects_bad_inputs():
    g = square_grid()
    with pytest.raises(InputError, match="`grid` must be a hotspots.grid.Grid"):
        eb_count(np.array([1.0]), np.array([1.0]), grid="grid")
    with pytest.raises(InputError, match="`months` must give one month per incident; got 2 for 1 incidents"):
        eb_count(np.array([1.0]), np.array([1.0]), grid=g, months=["2025-01-01", "2025-02-01"])
    with pytest.raises(InputError, match="`half_life` must be a positive number of months; got 0"):
        eb_count(np.array([1.0]), np.array([1.0]), grid=g, months=["2025-01-01"], half_life=0)
    with pytest.raises(InputError, match="`x` and `y` must be finite"):
        eb_count(np.array([np.nan]), np.array([1.0]), grid=g)
    with pytest.raises(InputError, match="incident months must be dates"):
        recency_weights(["not a month"], half_life=6)
    with pytest.raises(
        InputError, match=r"`cells` must give one cell id per incident \(1\); got shape \(2,\)"
    ):
        eb_count(np.array([1.0]), np.array([1.0]), grid=g, cells=np.array([0, 1]))


# ---------------------------------------------------------------- checks outputs
def test_recency_weights_by_hand():
    months = pd.to_datetime(["2025-09-01", "2025-03-01", "2025-06-01", "2024-09-01"])
    np.testing.assert_allclose(recency_weights(months, half_life=6), [1, 0.5, 2**-0.5, 0.25])
    np.testing.assert_allclose(
        recency_weights(months, half_life=6, reference_month="2025-12"), [0.5**0.5, 0.5**1.5, 0.5, 0.5**2.5]
    )
    np.testing.assert_array_equal(recency_weights(months, half_life=None), np.ones(4))


def test_neighbour_mean_by_hand():
    values = np.arange(9, dtype=float).reshape(3, 3)
    mask = np.ones((3, 3), dtype=bool)
    mask[0, 0] = False
    out = neighbour_mean(values, mask)
    # the centre's neighbours in the mask: every cell but itself and the masked corner
    assert out[1, 1] == pytest.approx((1 + 2 + 3 + 5 + 6 + 7 + 8) / 7)
    # a corner: three neighbours, one of them masked
    assert out[2, 2] == pytest.approx((4 + 5 + 7) / 3)
    assert out[0, 1] == pytest.approx((2 + 3 + 4 + 5) / 4)


def test_matches_a_hand_computed_empirical_bayes_on_real_data(located, county_grid):
    """Poisson-gamma EB by explicit loops (no recency): (X + beta m) / (1 + beta), beta by moments."""
    tr = located[(located["month"] >= "2025-01-01") & (located["month"] <= "2025-09-01")]
    tr = tr[tr["category"] == "Burglary"]
    x, y = tr["x"].to_numpy(), tr["y"].to_numpy()
    res = eb_count(x, y, grid=county_grid)
    g = county_grid
    counts = np.zeros(g.shape)
    for ix, iy in zip(((x - g.x0) // g.cell).astype(int), ((y - g.y0) // g.cell).astype(int), strict=True):
        if 0 <= ix < g.nx and 0 <= iy < g.ny:  # a few incidents lie beyond the study area's grid
            counts[iy, ix] += 1
    prior = np.zeros(g.shape)
    for iy in range(g.ny):
        for ix in range(g.nx):
            nb = [
                counts[j, i]
                for j in range(iy - 1, iy + 2)
                for i in range(ix - 1, ix + 2)
                if (i, j) != (ix, iy) and 0 <= i < g.nx and 0 <= j < g.ny and g.mask[j, i]
            ]
            prior[iy, ix] = np.mean(nb) if nb else 0.0
    xm, mm = counts[g.mask], prior[g.mask]
    beta = mm.mean() / (np.mean((xm - mm) ** 2) - xm.mean())
    np.testing.assert_array_equal(res.counts, counts)
    np.testing.assert_allclose(res.prior_mean[g.mask], prior[g.mask])
    assert res.prior_strength == pytest.approx(beta)
    np.testing.assert_allclose(res.score[g.mask], ((counts + beta * prior) / (1 + beta))[g.mask])
    assert (res.score[~g.mask] == 0).all()
    # burglary is sparse: the neighbourhood carries real weight
    assert res.prior_strength > 0.05
    assert res.params["half_life_months"] is None and res.params["recency"].startswith("none")


def test_recency_weights_and_their_variance_correction(located, county_grid):
    tr = located[located["month"] <= "2025-09-01"]
    x, y, months = tr["x"].to_numpy(), tr["y"].to_numpy(), tr["month"].to_numpy()
    res = eb_count(x, y, grid=county_grid, months=months)
    w = recency_weights(months, half_life=6)
    np.testing.assert_allclose(res.counts, county_grid.counts(x, y, w))
    c = w.sum() / (w**2).sum()
    xm, mm = res.counts[county_grid.mask], res.prior_mean[county_grid.mask]
    assert res.prior_strength == pytest.approx(mm.mean() / (c * np.mean((xm - mm) ** 2) - xm.mean()))
    # all crime over the county is strongly clustered: little smoothing, the count leads
    assert 0 < res.prior_strength < 0.05
    p = res.params
    assert p["half_life_months"] == 6 and p["recency"] == "weight halves every 6 months before 2025-09"
    assert res.n_incidents == len(x) and res.n_effective == pytest.approx(w.sum())


def test_poisson_noise_alone_is_pooled():
    """Incidents spread evenly at random: no cell differs beyond Poisson noise, so neighbours decide."""
    rng = np.random.default_rng(1)
    g = square_grid(n=20)
    x, y = rng.uniform(0, 2000, 400), rng.uniform(0, 2000, 400)
    res = eb_count(x, y, grid=g)
    assert res.prior_strength > 1 or not np.isfinite(res.prior_strength)


def test_single_point_keeps_its_cell_on_top(county_grid):
    cx, cy = county_grid.centres()
    iy, ix = np.argwhere(county_grid.mask)[500]
    res = eb_count(np.full(200, cx[iy, ix]), np.full(200, cy[iy, ix]), grid=county_grid)
    assert np.unravel_index(np.argmax(res.score), county_grid.shape) == (iy, ix)


def test_known_cells_give_the_same_score(located, geography):
    """Cell ids computed once per frame (hotspots.coded) give the very same score as binning x, y."""
    grid = make_grid(geography.study_area, cell_size=125)
    x, y, m = located["x"].to_numpy(), located["y"].to_numpy(), located["month"].to_numpy()
    a = eb_count(x, y, grid=grid, months=m, reference_month="2025-12")
    b = eb_count(
        x, y, grid=grid, months=m, reference_month="2025-12", cells=grid.flat_index(x, y).astype(np.int32)
    )
    assert np.array_equal(a.score, b.score) and np.array_equal(a.counts, b.counts)
    assert a.prior_strength == b.prior_strength
