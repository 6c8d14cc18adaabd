"""Emerging hot spots: Mann–Kendall against hand values and scipy; every category on known grids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from hotspots._errors import InputError
from hotspots.emerging import (
    CATEGORIES,
    EMERGING_COLUMNS,
    classify_emerging,
    emerging_from_counts,
    emerging_hotspots,
    mann_kendall,
    pattern_strings,
)
from hotspots.filters import Filter
from hotspots.grid import Grid


# ---------------------------------------------------------------------------- Mann–Kendall
def test_mann_kendall_hand_computation():
    # 1, 3, 2, 4: pairs (1,3)+ (1,2)+ (1,4)+ (3,2)- (3,4)+ (2,4)+ -> S = 4
    r = mann_kendall([1, 3, 2, 4])
    assert r.s == 4
    assert_allclose(r.var_s, 4 * 3 * 13 / 18)  # n(n-1)(2n+5)/18, no ties
    assert_allclose(r.z, (4 - 1) / np.sqrt(4 * 3 * 13 / 18))
    assert_allclose(r.tau, 4 / 6)
    assert_allclose(r.p, 2 * stats.norm.sf(r.z))
    # ties: 1, 1, 2 -> S = 2; Var = (3*2*11 - 2*1*9) / 18 (one tied pair, t = 2)
    t = mann_kendall([1, 1, 2])
    assert t.s == 2
    assert_allclose(t.var_s, (66 - 18) / 18)
    # falling series
    assert mann_kendall([5, 4, 3, 2, 1]).s == -10


def test_mann_kendall_equals_scipy_kendalltau_with_ties():
    rng = np.random.default_rng(11)
    x = rng.integers(0, 4, size=(12, 200)).astype(float)  # many ties
    r = mann_kendall(x, continuity=False)
    for k in range(0, 200, 7):
        ref = stats.kendalltau(np.arange(12), x[:, k], method="asymptotic")
        if np.isnan(ref.pvalue):
            assert r.var_s[k] == 0
            continue
        assert_allclose(r.p[k], ref.pvalue, rtol=1e-10)


# ---------------------------------------------------------------------------- classification rules
def _flags(patterns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    hot = np.array([[c == "H" for c in p] for p in patterns]).T
    cold = np.array([[c == "C" for c in p] for p in patterns]).T
    return hot, cold


# pattern (oldest first), Mann–Kendall z, p  ->  category
RULES = [
    ("...........H", 0.0, 1.0, "new hot spot"),
    ("........HHHH", 0.0, 1.0, "consecutive hot spot"),
    (".HHHHHHHHHHH", 3.0, 0.001, "intensifying hot spot"),
    ("HHHHHHHHHHHH", 0.5, 0.6, "persistent hot spot"),
    ("HHHHHHHHHHHH", -3.0, 0.001, "diminishing hot spot"),
    ("H..H...HH..H", 0.0, 1.0, "sporadic hot spot"),
    ("HH.HH...HHHH", 0.0, 1.0, "sporadic hot spot"),  # a final run with hot spots before it
    ("CC...C..H..H", 0.0, 1.0, "oscillating hot spot"),
    ("C..........H", 0.0, 1.0, "oscillating hot spot"),  # earlier cold: not "new"
    ("HHHHHHHHHHH.", 0.0, 1.0, "historical hot spot"),
    ("...........C", 0.0, 1.0, "new cold spot"),
    ("..........CC", 0.0, 1.0, "consecutive cold spot"),
    ("CCCCCCCCCCCC", -3.0, 0.001, "intensifying cold spot"),
    ("CCCCCCCCCCCC", 0.2, 0.8, "persistent cold spot"),
    ("CCCCCCCCCCCC", 3.0, 0.001, "diminishing cold spot"),
    ("C...C.....CC", 0.0, 1.0, "sporadic cold spot"),
    ("..H.......CC", 0.0, 1.0, "oscillating cold spot"),
    ("CCCCCCCCCCC.", 0.0, 1.0, "historical cold spot"),
    ("............", 0.0, 1.0, "no pattern detected"),
    ("HHHHHHHHHH..", 0.0, 1.0, "no pattern detected"),  # 10 of 12 < 90% and not hot now
    ("HHHHHHHHH..H", 0.0, 1.0, "sporadic hot spot"),  # hot now, 10 of 12 hot
]


def test_every_category_rule():
    hot, cold = _flags([r[0] for r in RULES])
    got = classify_emerging(hot, cold, [r[1] for r in RULES], [r[2] for r in RULES])
    for (pattern, _, _, want), have in zip(RULES, got, strict=True):
        assert have == want, pattern
    assert {r[3] for r in RULES} == set(CATEGORIES)
    assert pattern_strings(hot, cold)[7] == "CC...C..H..H"


def test_ninety_percent_with_ten_periods():
    # 9 of 10 = 90%: persistent; the same share with the final period cold is historical
    hot, cold = _flags(["H.HHHHHHHH", "HHHHHHHHH."])
    assert classify_emerging(hot, cold, [0, 0], [1, 1]).tolist() == [
        "persistent hot spot",
        "historical hot spot",
    ]


# ---------------------------------------------------------------------------- constructed grids
def _background(t: int, ny: int = 21, nx: int = 21) -> np.ndarray:
    yy, xx = np.mgrid[0:ny, 0:nx]
    base = 2.0 + ((yy + xx) % 2)  # a checkerboard of 2s and 3s: no clusters
    return np.repeat(base[None], t, axis=0)


def _block(cube, k_periods, value, cy=10, cx=10):
    for k in k_periods:
        cube[k, cy - 1 : cy + 2, cx - 1 : cx + 2] = value


@pytest.mark.parametrize(
    ("build", "want"),
    [
        (lambda c: _block(c, [11], 30), "new hot spot"),
        (lambda c: _block(c, [8, 9, 10, 11], 30), "consecutive hot spot"),
        (lambda c: [_block(c, [k], 15 + 5 * k) for k in range(12)], "intensifying hot spot"),
        (lambda c: _block(c, range(12), 30), "persistent hot spot"),
        (lambda c: [_block(c, [k], 80 - 5 * k) for k in range(12)], "diminishing hot spot"),
        (lambda c: _block(c, [0, 4, 8, 11], 30), "sporadic hot spot"),
        (lambda c: (_block(c, [0, 1, 2], 0), _block(c, [11], 30)), "oscillating hot spot"),
        (lambda c: _block(c, range(11), 30), "historical hot spot"),
    ],
)
def test_hot_categories_on_constructed_grids(build, want):
    cube = _background(12)
    build(cube)
    if want == "oscillating hot spot":
        cube[[0, 1, 2]] *= 8  # a busy surround makes the empty block a cold spot early on
        _block(cube, [0, 1, 2], 0)
    res = emerging_from_counts(cube)
    assert res["category"][10, 10] == want
    assert res["category"][2, 2] == "no pattern detected"  # background far from the block


@pytest.mark.parametrize(
    ("periods", "want"),
    [
        ([11], "new cold spot"),
        ([9, 10, 11], "consecutive cold spot"),
        (range(12), "persistent cold spot"),
        (range(11), "historical cold spot"),
        ([1, 5, 11], "sporadic cold spot"),
    ],
)
def test_cold_categories_on_constructed_grids(periods, want):
    cube = _background(12) * 10  # busy everywhere …
    for k in periods:
        cube[k, 7:14, 7:14] = 0  # … except an empty 7 x 7 block
    res = emerging_from_counts(cube)
    assert res["category"][10, 10] == want
    assert res["n_cold_periods"][10, 10] == len(list(periods))


def test_cold_trends_and_oscillation_on_constructed_grids():
    cube = _background(12) * 10
    for k in range(12):
        cube[k, 7:14, 7:14] = max(0.0, 12 - k)  # emptier and emptier: intensifying cold
    assert emerging_from_counts(cube)["category"][10, 10] == "intensifying cold spot"
    cube = _background(12) * 10
    for k in range(12):
        cube[k, 7:14, 7:14] = k  # filling up again: diminishing cold
    res = emerging_from_counts(cube)
    assert res["n_cold_periods"][10, 10] >= 11 and res["category"][10, 10] == "diminishing cold spot"
    cube = _background(12) * 10
    _block(cube, [2], 300)
    cube[11, 7:14, 7:14] = 0
    assert emerging_from_counts(cube)["category"][10, 10] == "oscillating cold spot"


def test_mask_is_respected():
    cube = _background(12)
    _block(cube, range(12), 30)
    mask = np.ones(cube.shape[1:], dtype=bool)
    mask[:, :3] = False
    res = emerging_from_counts(cube, mask=mask)
    assert res["category"][0, 0] == "" and np.isnan(res["mk_z"][0, 0])
    assert res["category"][10, 10] == "persistent hot spot"


# ---------------------------------------------------------------------------- from incidents
def _grid(n: int = 21, cell: float = 100.0) -> Grid:
    return Grid(x0=0.0, y0=0.0, cell=cell, nx=n, ny=n, mask=np.ones((n, n), dtype=bool))


def _points_from_cube(cube: np.ndarray, grid: Grid, start: str = "2024-01") -> pd.DataFrame:
    t, ny, nx = cube.shape
    k, iy, ix = np.nonzero(cube)
    reps = cube[k, iy, ix].astype(int)
    months = pd.date_range(start + "-01", periods=t, freq="MS")
    return pd.DataFrame(
        {
            "month": np.repeat(months.to_numpy()[k], reps),
            "category": "X",
            "source": "police.uk",
            "x": np.repeat(grid.x0 + (ix + 0.5) * grid.cell, reps),
            "y": np.repeat(grid.y0 + (iy + 0.5) * grid.cell, reps),
        }
    )


def test_emerging_hotspots_from_incidents_matches_the_cube():
    grid = _grid()
    cube = _background(12)
    _block(cube, [8, 9, 10, 11], 30)
    inc = _points_from_cube(cube, grid)
    out = emerging_hotspots(inc, grid=grid)
    assert list(out.columns) == EMERGING_COLUMNS
    assert out.crs.to_epsg() == 27700 and len(out) == 21 * 21
    centre = out.set_index("cell_id").loc[10 * 21 + 10]
    assert centre["category"] == "consecutive hot spot"
    assert centre["pattern"] == "........HHHH"
    assert centre["count_total"] == 4 * 30 + 8 * cube[0, 10, 10]
    assert out.attrs["params"]["periods"][0] == "2024-01"
    assert out.attrs["params"]["periods_left_out"] == []


def test_a_month_not_loaded_is_left_out_and_reported():
    grid = _grid()
    cube = _background(13)
    inc = _points_from_cube(cube, grid)
    inc = inc[inc["month"] != pd.Timestamp("2024-05-01")]
    out = emerging_hotspots(inc, grid=grid)
    assert out.attrs["params"]["periods_left_out"] == ["2024-05"]
    assert (out["n_periods"] == 12).all()
    with pytest.raises(InputError, match="needs at least 10 periods with data loaded; the filter gives 9"):
        emerging_hotspots(inc, grid=grid, filt=Filter(month_from="2024-01", month_to="2024-10"))


def test_quarterly_periods_and_real_data(real_incidents, geography):
    out = emerging_hotspots(
        real_incidents, study_area=geography.study_area, filt=Filter(categories=("Anti-social behaviour",))
    )
    assert set(out["category"]) <= set(CATEGORIES)
    assert out["n_periods"].eq(12).all()
    asb = real_incidents.query("category == 'Anti-social behaviour'")
    # every incident inside the study area is in a cell of the grid's mask; a few police.uk
    # points fall outside the force area and outside the mask
    assert asb["ward_code"].notna().sum() <= out["count_total"].sum() <= asb["x"].notna().sum()
    with pytest.raises(InputError, match="needs at least 10 periods"):
        emerging_hotspots(real_incidents, study_area=geography.study_area, period_months=3)


# ---------------------------------------------------------------------------- checks inputs
def test_input_checks():
    with pytest.raises(InputError, match="needs at least 3 time steps; got 2"):
        mann_kendall([1, 2])
    with pytest.raises(InputError, match="`x` has missing values"):
        mann_kendall([1, np.nan, 2])
    with pytest.raises(InputError, match="`x` must be one series or a"):
        mann_kendall(np.zeros((3, 2, 2)))
    with pytest.raises(InputError, match="both a hot and a cold spot"):
        classify_emerging(np.ones((3, 1), bool), np.ones((3, 1), bool), [0], [1])
    with pytest.raises(InputError, match="`hot` and `cold` must be"):
        classify_emerging(np.ones((3, 1), bool), np.ones((3, 2), bool), [0], [1])
    with pytest.raises(InputError, match=r"`cube` must be a \(periods, ny, nx\) array"):
        emerging_from_counts(np.zeros((3, 3)))
    with pytest.raises(InputError, match="needs at least 10 periods; got 4"):
        emerging_from_counts(np.zeros((4, 3, 3)))
    inc = _points_from_cube(_background(12), _grid())
    with pytest.raises(InputError, match="pass `grid` or `study_area`"):
        emerging_hotspots(inc)
    with pytest.raises(InputError, match="`period_months` must be a whole number"):
        emerging_hotspots(inc, grid=_grid(), period_months=0)
    with pytest.raises(InputError, match="remove the months-of-year selection"):
        emerging_hotspots(inc, grid=_grid(), filt=Filter(months_of_year=(6, 7)))
    with pytest.raises(InputError, match="no incidents to analyse"):
        emerging_hotspots(inc.iloc[:0], grid=_grid())
