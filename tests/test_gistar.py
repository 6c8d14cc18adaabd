import numpy as np
import pytest
from libpysal.weights import W
from scipy import stats

from hotspots._errors import InputError
from hotspots.gistar import benjamini_hochberg, gistar
from hotspots.grid import make_grid


def window_weights(mask: np.ndarray, band: int) -> W:
    """libpysal binary weights between masked cells within a (2*band+1)^2 window, self included."""
    ny, nx = mask.shape
    iy, ix = np.nonzero(mask)
    pos = {(a, b): k for k, (a, b) in enumerate(zip(iy, ix, strict=True))}
    neighbours = {}
    for k, (a, b) in enumerate(zip(iy, ix, strict=True)):
        neighbours[k] = [
            pos[(a + da, b + db)]
            for da in range(-band, band + 1)
            for db in range(-band, band + 1)
            if (a + da, b + db) in pos
        ]
    return W(neighbours, silence_warnings=True)


@pytest.fixture(scope="module")
def real_grid_counts(geography, real_incidents):
    grid = make_grid(geography.study_area, cell_size=2000)
    counts = grid.counts(real_incidents["x"], real_incidents["y"])
    return grid, counts


# ---------------------------------------------------------------- checks inputs
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"band": 0}, "`band` must be a whole number of cells, at least 1; got 0"),
        ({"band": 1.5}, "`band` must be a whole number"),
        ({"alpha": 1.5}, "`alpha` must be between 0 and 1"),
        ({"alpha": -1}, "`alpha` must be a positive number"),
        ({"permutations": -1}, "`permutations` must be a whole number, 0 or more"),
        ({"mask": np.ones((2, 2), bool)}, "`mask` must have the shape of `counts`"),
    ],
)
def test_rejects_bad_options(kwargs, match):
    with pytest.raises(InputError, match=match):
        gistar(np.ones((3, 3)), **kwargs)


def test_rejects_bad_counts():
    with pytest.raises(InputError, match="`counts` must be a 2-D grid"):
        gistar(np.ones(5))
    with pytest.raises(InputError, match="finite and non-negative"):
        gistar(np.array([[1.0, -1.0], [0.0, 2.0]]))


# ---------------------------------------------------------------- checks outputs
@pytest.mark.parametrize("band", [1, 2])
def test_z_equals_esda_on_real_grid(real_grid_counts, band):
    from esda import G_Local

    grid, counts = real_grid_counts
    res = gistar(counts, mask=grid.mask, band=band)
    w = window_weights(grid.mask, band)
    ref = G_Local(counts[grid.mask], w, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(res.z[grid.mask], ref.Zs, rtol=0, atol=1e-9)
    assert np.isnan(res.z[~grid.mask]).all()
    assert (res.bin[~grid.mask] == 0).all()


def test_p_q_and_bins(real_grid_counts):
    grid, counts = real_grid_counts
    res = gistar(counts, mask=grid.mask)
    z = res.z[grid.mask]
    np.testing.assert_allclose(res.p[grid.mask], 2 * stats.norm.sf(np.abs(z)))
    from scipy.stats import false_discovery_control

    np.testing.assert_allclose(res.q[grid.mask], false_discovery_control(res.p[grid.mask], method="bh"))
    b = res.bin[grid.mask]
    q = res.q[grid.mask]
    assert set(np.unique(b)) <= {-3, -2, -1, 0, 1, 2, 3}
    assert np.all((b == 3) == ((q <= 0.01) & (z > 0)))
    assert np.all((np.abs(b) == 2) == ((q > 0.01) & (q <= 0.05)))
    assert np.all((b == 0) == (q > 0.10))
    assert res.params["n_hot_cells"] == int(((b > 0) & (q <= 0.05)).sum())
    # the busiest cell is a hot spot at 99%
    assert res.bin.flat[np.argmax(np.where(grid.mask, counts, -1))] == 3
    # FDR is stricter than raw p
    raw = gistar(counts, mask=grid.mask, fdr=False)
    assert (np.abs(raw.bin) > 0).sum() >= (np.abs(b) > 0).sum()
    np.testing.assert_array_equal(raw.q, raw.p)


def test_benjamini_hochberg_hand_example():
    p = np.array([0.01, 0.04, 0.03, 0.20])
    np.testing.assert_allclose(benjamini_hochberg(p), [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.20])


def test_permutations_seeded_and_agree_with_analytic(real_grid_counts):
    grid, counts = real_grid_counts
    a = gistar(counts, mask=grid.mask, permutations=199, seed=7)
    b = gistar(counts, mask=grid.mask, permutations=199, seed=7)
    np.testing.assert_array_equal(a.p_sim, b.p_sim)
    ps = a.p_sim[grid.mask]
    assert ps.min() >= 1 / 200 and ps.max() <= 1
    # strong analytic hot spots are also extreme under permutation
    strong = a.z[grid.mask] > 5
    assert strong.any() and np.all(ps[strong] <= 0.01)
    assert gistar(counts, mask=grid.mask).p_sim is None


def test_permutation_matches_esda_distribution(real_grid_counts):
    """Pseudo p-values agree with esda's conditional randomisation up to Monte Carlo noise.

    Compared on clear hot spots (z > 2), where neither version meets ties.
    """
    from esda import G_Local

    grid, counts = real_grid_counts
    res = gistar(counts, mask=grid.mask, permutations=999, seed=1)
    ours = res.p_sim[grid.mask]
    ref = G_Local(
        counts[grid.mask],
        window_weights(grid.mask, 1),
        transform="B",
        star=True,
        permutations=999,
        seed=1,
        n_jobs=1,
    ).p_sim
    hot = res.z[grid.mask] > 2
    assert hot.sum() > 50
    assert np.mean(np.abs(ours[hot] - ref[hot])) < 0.01
    # where the window sum is in the bulk, ours is not significant while esda's ties may be
    empty = (counts[grid.mask] == 0) & (res.z[grid.mask] < 0) & (res.z[grid.mask] > -0.5)
    assert np.all(ours[empty] > 0.05)


def test_all_equal_counts_gives_no_spots():
    res = gistar(np.zeros((5, 5)))
    assert (res.z == 0).all() and (res.bin == 0).all()
    assert "same count" in res.params["note"]


def test_single_incident():
    c = np.zeros((9, 9))
    c[4, 4] = 1
    res = gistar(c, permutations=999, seed=0)
    assert res.z[4, 4] == res.z.max() > 0
    # the normal approximation overstates one incident in 81 cells (as in esda and ArcGIS);
    # the permutation p-values do not
    assert res.p_sim.min() > 0.05


def test_all_at_one_point_is_hot():
    c = np.zeros((30, 30))
    c[10, 10] = 500
    res = gistar(c, permutations=99, seed=0)
    assert res.bin[10, 10] == 3
    assert res.hot[9:12, 9:12].all()


def test_tiny_mask():
    res = gistar(np.ones((2, 2)), mask=np.array([[True, False], [False, False]]))
    assert np.isnan(res.z).all() and "fewer than 2 cells" in res.params["note"]
