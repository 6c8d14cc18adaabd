"""Emerging hot spots: Gi* per period on the grid, Mann–Kendall per cell, ArcGIS categories.

The method follows ArcGIS Pro's *Emerging Hot Spot Analysis*:

1. count incidents per grid cell and period (monthly by default) — a space-time cube;
2. Getis-Ord Gi* for every period (:func:`hotspots.gistar.gistar`, FDR-corrected), giving a
   z-score and a hot/cold/not-significant state per cell and period;
3. a Mann–Kendall trend test per cell on its series of Gi* z-scores;
4. a category per cell from the states and the trend (:func:`classify_emerging`; the rules
   are in ``docs/trends.md`` and in that function's docstring).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import special

from hotspots._errors import InputError
from hotspots.filters import Filter
from hotspots.gistar import gistar
from hotspots.grid import Grid, make_grid
from hotspots.trends import loaded_month_ordinals, month_ordinals

MIN_PERIODS = 10
THRESHOLD = 0.9
CATEGORIES = (
    "new hot spot",
    "consecutive hot spot",
    "intensifying hot spot",
    "persistent hot spot",
    "diminishing hot spot",
    "sporadic hot spot",
    "oscillating hot spot",
    "historical hot spot",
    "new cold spot",
    "consecutive cold spot",
    "intensifying cold spot",
    "persistent cold spot",
    "diminishing cold spot",
    "sporadic cold spot",
    "oscillating cold spot",
    "historical cold spot",
    "no pattern detected",
)
EMERGING_COLUMNS = [
    "cell_id",
    "x",
    "y",
    "category",
    "pattern",
    "trend",
    "mk_s",
    "mk_tau",
    "mk_z",
    "mk_p",
    "n_periods",
    "n_hot_periods",
    "n_cold_periods",
    "final_z",
    "count_total",
    "count_final",
    "geometry",
]


# ---------------------------------------------------------------------------- Mann–Kendall
@dataclass(frozen=True)
class MannKendallResult:
    """Mann–Kendall trend test, one value per series.

    Attributes
    ----------
    s
        ``S = Σ_{i<j} sign(x_j - x_i)``.
    var_s
        Variance of S under no trend, corrected for ties.
    z
        Standardised S (with the ±1 continuity correction unless switched off).
    p
        Two-sided p-value from the normal approximation.
    tau
        Kendall's tau-a, ``S / (n (n - 1) / 2)``.
    n
        Length of the series.
    """

    s: np.ndarray
    var_s: np.ndarray
    z: np.ndarray
    p: np.ndarray
    tau: np.ndarray
    n: int


def mann_kendall(x: np.ndarray, *, continuity: bool = True) -> MannKendallResult:
    """Mann–Kendall trend test on each column of ``x``.

    Parameters
    ----------
    x
        ``(n,)`` one series, or ``(n, m)``: ``m`` series of ``n`` time steps in time order.
    continuity
        Apply the usual continuity correction (``z = (S - 1)/√Var`` for ``S > 0``,
        ``(S + 1)/√Var`` for ``S < 0``). Off, ``z = S/√Var`` equals the asymptotic z of
        ``scipy.stats.kendalltau(time, x)``.

    Returns
    -------
    MannKendallResult

    Raises
    ------
    InputError
        If there are fewer than 3 time steps or missing values.

    Notes
    -----
    ``Var(S) = [n(n-1)(2n+5) - Σ_g t_g(t_g-1)(2t_g+5)] / 18`` with ``t_g`` the size of each
    group of tied values (Kendall 1975). The tie sum is computed without a loop: with ``c_i``
    the number of values equal to ``x_i`` (itself included), ``Σ_g f(t_g) = Σ_i f(c_i)/c_i``.
    """
    x = np.asarray(x, dtype=float)
    one = x.ndim == 1
    if one:
        x = x[:, None]
    if x.ndim != 2:
        raise InputError(f"`x` must be one series or a (time, series) array; got shape {x.shape}")
    n = x.shape[0]
    if n < 3:
        raise InputError(f"the Mann–Kendall test needs at least 3 time steps; got {n}")
    if not np.all(np.isfinite(x)):
        raise InputError("`x` has missing values; the Mann–Kendall test needs a complete series")
    i, j = np.triu_indices(n, k=1)
    s = np.sign(x[j] - x[i]).sum(axis=0)
    equal = (x[:, None, :] == x[None, :, :]).sum(axis=1).astype(float)  # c_i per series
    tie = (equal * (equal - 1) * (2 * equal + 5) / equal).sum(axis=0)
    var_s = (n * (n - 1) * (2 * n + 5) - tie) / 18.0
    with np.errstate(invalid="ignore", divide="ignore"):
        num = s - np.sign(s) if continuity else s
        z = np.where(var_s > 0, num / np.sqrt(var_s), 0.0)
    p = 2.0 * special.ndtr(-np.abs(z))
    tau = s / (n * (n - 1) / 2.0)
    if one:
        return MannKendallResult(s=s[0], var_s=var_s[0], z=z[0], p=p[0], tau=tau[0], n=n)
    return MannKendallResult(s=s, var_s=var_s, z=z, p=p, tau=tau, n=n)


# ---------------------------------------------------------------------------- classification
def _at_least(count: np.ndarray, n: int, share: float) -> np.ndarray:
    """``count / n >= share`` without floating-point surprises (11/12 >= 0.9, 9/10 >= 0.9)."""
    return count >= math.ceil(share * n - 1e-9)


def _final_run(flags: np.ndarray) -> np.ndarray:
    """Length of the run of True at the end of each column of ``flags`` (n, m)."""
    n = flags.shape[0]
    rev = flags[::-1]
    first_false = np.where(~rev.any(axis=0) | rev.all(axis=0), n, np.argmin(rev, axis=0))
    return np.where(rev[0], np.where(rev.all(axis=0), n, first_false), 0)


def _classify_side(
    sig: np.ndarray, other: np.ndarray, trend_up: np.ndarray, trend_down: np.ndarray, threshold: float
) -> np.ndarray:
    """Category suffix for one side (hot or cold); '' where none applies."""
    n, _ = sig.shape
    count = sig.sum(axis=0)
    final = sig[-1]
    mostly = _at_least(count, n, threshold)
    run = _final_run(sig)
    prior_any = (sig[:-1] | other[:-1]).any(axis=0)  # any significant period before the final
    before_run = np.zeros(sig.shape[1], dtype=bool)
    for k in np.unique(run[final]):
        cols = final & (run == k)
        before_run[cols] = (sig[: n - k, cols] | other[: n - k, cols]).any(axis=0)
    ever_other = other[:-1].any(axis=0)

    out = np.full(sig.shape[1], "", dtype=object)
    out[final & mostly & trend_up] = "intensifying"
    out[final & mostly & trend_down] = "diminishing"
    out[final & mostly & ~trend_up & ~trend_down] = "persistent"
    few = final & ~mostly
    out[few & ~prior_any] = "new"
    out[few & prior_any & (run >= 2) & ~before_run] = "consecutive"
    rest = few & prior_any & ~((run >= 2) & ~before_run)
    out[rest & ever_other] = "oscillating"
    out[rest & ~ever_other] = "sporadic"
    out[~final & mostly] = "historical"
    return out


def classify_emerging(
    hot: np.ndarray,
    cold: np.ndarray,
    mk_z: np.ndarray,
    mk_p: np.ndarray,
    *,
    trend_alpha: float = 0.05,
    threshold: float = THRESHOLD,
) -> np.ndarray:
    """Emerging hot spot category of each location.

    Parameters
    ----------
    hot, cold
        ``(n_periods, n_locations)`` booleans: significant hot / cold spot in each period
        (oldest first).
    mk_z, mk_p
        Mann–Kendall z and p of each location's Gi* z-score series.
    trend_alpha
        Significance level of the Mann–Kendall trend (default 0.05).
    threshold
        Share of periods that makes a location "mostly" hot (default 0.9: with 12 months,
        11 of them).

    Returns
    -------
    numpy.ndarray
        One of :data:`CATEGORIES` per location.

    Raises
    ------
    InputError
        If the arrays have different shapes or a location is both hot and cold in a period.

    Notes
    -----
    Rules for hot spots (cold spots are the mirror image, with "increasing" meaning the
    z-scores become more negative), after ArcGIS Pro's definitions. ``n`` periods, ``final`` the
    last one, "significant" = hot or cold:

    * **new**: hot in the final period; no significant period (hot or cold) before it.
    * **consecutive**: a single run of at least two hot periods ending in the final one, no
      significant period before the run, hot in fewer than 90% of periods.
    * **intensifying**: hot in at least 90% of periods including the final one, and a
      significant upward Mann–Kendall trend in the z-scores.
    * **persistent**: hot in at least 90% of periods including the final one, no significant
      trend.
    * **diminishing**: hot in at least 90% of periods including the final one, and a
      significant downward trend.
    * **sporadic**: hot in the final period and in fewer than 90% of periods, some earlier hot
      periods not part of the final run, never cold.
    * **oscillating**: hot in the final period and in fewer than 90% of periods, cold in some
      earlier period.
    * **historical**: not hot in the final period but hot in at least 90% of periods.
    * **no pattern detected**: none of the above.

    Where ArcGIS's wording overlaps (a location cold earlier and hot only in the final period
    would be both "new" and "oscillating"), a location with earlier significant periods is
    never "new" or "consecutive" — as in the R package sfdep.
    """
    hot = np.asarray(hot, dtype=bool)
    cold = np.asarray(cold, dtype=bool)
    if hot.shape != cold.shape or hot.ndim != 2:
        raise InputError(
            f"`hot` and `cold` must be (periods, locations) arrays of the same shape; got {hot.shape} and {cold.shape}"
        )
    if (hot & cold).any():
        raise InputError("a location cannot be both a hot and a cold spot in the same period")
    mk_z = np.broadcast_to(np.asarray(mk_z, dtype=float), hot.shape[1:])
    mk_p = np.broadcast_to(np.asarray(mk_p, dtype=float), hot.shape[1:])
    sig_trend = mk_p <= trend_alpha
    up = sig_trend & (mk_z > 0)
    down = sig_trend & (mk_z < 0)
    hot_cat = _classify_side(hot, cold, up, down, threshold)
    # for cold spots "intensifying" means z-scores falling (more strongly cold)
    cold_cat = _classify_side(cold, hot, down, up, threshold)
    out = np.full(hot.shape[1], "no pattern detected", dtype=object)
    has_hot = hot_cat != ""
    has_cold = cold_cat != ""
    out[has_hot] = hot_cat[has_hot] + " hot spot"
    out[has_cold & ~has_hot] = cold_cat[has_cold & ~has_hot] + " cold spot"
    return out


def pattern_strings(hot: np.ndarray, cold: np.ndarray) -> np.ndarray:
    """One character per period, oldest first: ``H`` hot, ``C`` cold, ``.`` not significant."""
    codes = np.where(hot, "H", np.where(cold, "C", "."))
    return np.array(["".join(col) for col in codes.T], dtype=object)


# ---------------------------------------------------------------------------- the cube
def emerging_from_counts(
    cube: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    band: int = 1,
    alpha: float = 0.05,
    fdr: bool = True,
    trend_alpha: float = 0.05,
    threshold: float = THRESHOLD,
) -> dict[str, np.ndarray]:
    """Emerging hot spot analysis on a space-time cube of counts.

    Parameters
    ----------
    cube
        ``(n_periods, ny, nx)`` counts per period and grid cell, oldest first.
    mask
        ``(ny, nx)`` cells in the study area; None uses all.
    band, alpha, fdr
        Passed to :func:`hotspots.gistar.gistar` for every period: a cell is hot (cold) in a
        period when its Gi* z is positive (negative) and its (FDR-adjusted) p-value ≤ ``alpha``.
    trend_alpha, threshold
        See :func:`classify_emerging`.

    Returns
    -------
    dict
        ``(ny, nx)`` arrays: ``category``, ``pattern``, ``trend``, ``mk_s``, ``mk_tau``,
        ``mk_z``, ``mk_p``, ``n_periods``, ``n_hot_periods``, ``n_cold_periods``, ``final_z``,
        ``count_total``, ``count_final``; and ``z``, the ``(n_periods, ny, nx)`` Gi* z cube.
        Cells outside the mask hold NaN / empty strings.

    Raises
    ------
    InputError
        If ``cube`` is not 3-D or has fewer than :data:`MIN_PERIODS` periods.
    """
    cube = np.asarray(cube, dtype=float)
    if cube.ndim != 3:
        raise InputError(f"`cube` must be a (periods, ny, nx) array of counts; got shape {cube.shape}")
    t, ny, nx = cube.shape
    if t < MIN_PERIODS:
        raise InputError(
            f"emerging hot spot analysis needs at least {MIN_PERIODS} periods; got {t} — "
            "widen the month range or use shorter periods"
        )
    mask = np.ones((ny, nx), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    z = np.full(cube.shape, np.nan)
    hot = np.zeros(cube.shape, dtype=bool)
    cold = np.zeros(cube.shape, dtype=bool)
    for k in range(t):
        res = gistar(cube[k], mask=mask, band=band, fdr=fdr, alpha=alpha)
        z[k] = res.z
        hot[k] = res.significant & (res.z > 0)
        cold[k] = res.significant & (res.z < 0)
    idx = np.flatnonzero(mask.ravel())
    zf = z.reshape(t, -1)[:, idx]
    hf = hot.reshape(t, -1)[:, idx]
    cf = cold.reshape(t, -1)[:, idx]
    mk = mann_kendall(np.nan_to_num(zf), continuity=True)
    cat = classify_emerging(hf, cf, mk.z, mk.p, trend_alpha=trend_alpha, threshold=threshold)
    trend = np.where(
        mk.p <= trend_alpha, np.where(mk.z > 0, "increasing", "decreasing"), "no significant trend"
    ).astype(object)

    def full(values: np.ndarray, fill: object, dtype: object = float) -> np.ndarray:
        arr = np.full(ny * nx, fill, dtype=dtype)
        arr[idx] = values
        return arr.reshape(ny, nx)

    counts = cube.reshape(t, -1)[:, idx]
    return {
        "category": full(cat, "", object),
        "pattern": full(pattern_strings(hf, cf), "", object),
        "trend": full(trend, "", object),
        "mk_s": full(mk.s, np.nan),
        "mk_tau": full(mk.tau, np.nan),
        "mk_z": full(mk.z, np.nan),
        "mk_p": full(mk.p, np.nan),
        "n_periods": full(np.full(len(idx), t), 0, np.int64),
        "n_hot_periods": full(hf.sum(axis=0), 0, np.int64),
        "n_cold_periods": full(cf.sum(axis=0), 0, np.int64),
        "final_z": full(zf[-1], np.nan),
        "count_total": full(counts.sum(axis=0), 0, np.int64),
        "count_final": full(counts[-1], 0, np.int64),
        "z": z,
    }


def emerging_hotspots(
    incidents: pd.DataFrame,
    *,
    filt: Filter | None = None,
    grid: Grid | None = None,
    study_area: gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    cell_size: float | None = None,
    period_months: int = 1,
    band: int = 1,
    alpha: float = 0.05,
    fdr: bool = True,
    trend_alpha: float = 0.05,
    loaded_months=None,
) -> gpd.GeoDataFrame:
    """Emerging hot spots on a grid from the incident frame.

    Parameters
    ----------
    incidents
        Incident frame (``x``, ``y`` in EPSG:27700, ``month``…).
    filt
        Which incidents (month range, categories…). Its area selection narrows the incidents,
        not the grid.
    grid
        The analysis grid; default ``make_grid(study_area, cell_size=cell_size)``.
    study_area
        Polygons for the default grid (``geography.study_area``); needed when ``grid`` is None.
    cell_size
        Cell size for the default grid (metres); None chooses it from the extent.
    period_months
        Months per period (1 = monthly, the default; 3 = quarters).
    band, alpha, fdr, trend_alpha
        See :func:`emerging_from_counts`.
    loaded_months
        Months for which data was loaded (default: months with any incident of the filter's
        sources).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per grid cell in the study area with columns :data:`EMERGING_COLUMNS`
        (EPSG:27700). ``attrs["params"]`` records the periods, the periods left out because a
        month in them was not loaded, the grid and the Gi* settings.

    Raises
    ------
    InputError
        If neither ``grid`` nor ``study_area`` is given, ``period_months`` is not a positive
        whole number, or there are fewer than :data:`MIN_PERIODS` complete periods.

    Notes
    -----
    Incidents with no location are left out (``attrs["params"]["unlocated"]``). Periods are
    consecutive blocks of ``period_months`` months ending with the last month of the range;
    an incomplete block at the start is dropped, and so is any period containing a month
    that was not loaded (a gap is not a month with no crime).
    """
    if (
        isinstance(period_months, bool)
        or not isinstance(period_months, int | np.integer)
        or period_months < 1
    ):
        raise InputError(
            f"`period_months` must be a whole number of months, 1 or more; got {period_months!r}"
        )
    if grid is None:
        if study_area is None:
            raise InputError(
                "pass `grid` or `study_area` (for example `geography.study_area`) so that the grid "
                "covers the whole area, including cells with no incidents"
            )
        grid = make_grid(study_area, cell_size=cell_size)
    filt = filt or Filter()
    if loaded_months is None:
        loaded = loaded_month_ordinals(incidents, sources=filt.sources)
    else:
        loaded = np.unique(month_ordinals(list(loaded_months)))
    sel = filt.apply(incidents)
    if filt.month_from and filt.month_to:
        first, last = month_ordinals([filt.month_from + "-01", filt.month_to + "-01"])
    elif len(loaded):
        first = month_ordinals([filt.month_from + "-01"])[0] if filt.month_from else loaded.min()
        last = month_ordinals([filt.month_to + "-01"])[0] if filt.month_to else loaded.max()
    else:
        raise InputError("no incidents to analyse; load data or widen the filter")
    months = np.arange(first, last + 1)
    if filt.months_of_year:
        raise InputError(
            "emerging hot spot analysis needs consecutive periods; remove the months-of-year "
            "selection (use a month range instead)"
        )
    n_periods = len(months) // period_months
    months = months[len(months) - n_periods * period_months :]
    period_of_month = (months - months[0]) // period_months
    complete = np.array(
        [np.isin(months[period_of_month == k], loaded).all() for k in range(n_periods)], dtype=bool
    )

    x = sel["x"].to_numpy(dtype=float)
    y = sel["y"].to_numpy(dtype=float)
    located = np.isfinite(x) & np.isfinite(y)
    m_ord = month_ordinals(sel["month"]) if len(sel) else np.array([], dtype=np.int64)
    pos = m_ord - months[0] if len(months) else m_ord
    in_range = (pos >= 0) & (pos < len(months)) & located
    period = np.where(in_range, pos // period_months, -1)
    keep_periods = np.flatnonzero(complete)
    if len(keep_periods) < MIN_PERIODS:
        raise InputError(
            f"emerging hot spot analysis needs at least {MIN_PERIODS} periods with data loaded; "
            f"the filter gives {len(keep_periods)} of {period_months} month(s) — widen the month range"
        )
    flat = grid.flat_index(x[in_range], y[in_range])
    per = period[in_range]
    ok = flat >= 0
    cube_all = np.zeros((n_periods, grid.ny * grid.nx))
    np.add.at(cube_all, (per[ok], flat[ok]), 1.0)
    cube = cube_all[keep_periods].reshape(len(keep_periods), grid.ny, grid.nx)
    res = emerging_from_counts(cube, mask=grid.mask, band=band, alpha=alpha, fdr=fdr, trend_alpha=trend_alpha)
    res.pop("z")
    gdf = grid.to_geodataframe(res)
    labels = [
        f"{_label(months[period_of_month == k][0])}"
        + (f" to {_label(months[period_of_month == k][-1])}" if period_months > 1 else "")
        for k in range(n_periods)
    ]
    gdf.attrs["params"] = {
        "method": "emerging hot spot analysis (Gi* per period + Mann-Kendall)",
        "periods": [labels[k] for k in keep_periods],
        "periods_left_out": [labels[k] for k in range(n_periods) if not complete[k]],
        "period_months": int(period_months),
        "cell_size_m": float(grid.cell),
        "band_cells": int(band),
        "alpha": float(alpha),
        "fdr": bool(fdr),
        "trend_alpha": float(trend_alpha),
        "threshold": THRESHOLD,
        "unlocated": int((~located).sum()),
        "filter": filt.to_dict(),
    }
    return gdf[EMERGING_COLUMNS]


def _label(ordinal: int) -> str:
    return f"{ordinal // 12:04d}-{ordinal % 12 + 1:02d}"
