"""Getis-Ord Gi* on grid counts, with Benjamini-Hochberg FDR and confidence bins.

The statistic uses binary weights within a square window of ``(2*band+1)**2`` cells (``band=1``
is queen contiguity), the cell itself included, over the cells inside the study area only.
The analytic z-scores are computed for every cell at once by convolution, so they cost a few
milliseconds whatever the number of cells; they equal PySAL ``esda.G_Local(y, w, star=True,
transform="B")`` ``Zs`` (checked in ``tests/test_gistar.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage, special

from hotspots._errors import InputError
from hotspots._validate import check_positive

#: Confidence levels of the bins: ±3 = 99%, ±2 = 95%, ±1 = 90%.
BIN_LEVELS = {3: 0.01, 2: 0.05, 1: 0.10}
#: Plain-words label of each bin.
BIN_LABELS = {
    3: "Hot spot, 99% confidence",
    2: "Hot spot, 95% confidence",
    1: "Hot spot, 90% confidence",
    0: "Not significant",
    -1: "Cold spot, 90% confidence",
    -2: "Cold spot, 95% confidence",
    -3: "Cold spot, 99% confidence",
}


@dataclass
class GiStarResult:
    """Gi* statistics per grid cell; cells outside the mask hold NaN (``bin`` 0).

    Attributes
    ----------
    z
        ``(ny, nx)`` analytic z-scores.
    p
        Two-sided p-values from the normal distribution.
    q
        Benjamini-Hochberg adjusted p-values (q-values) over the cells in the mask; equal to
        ``p`` when ``fdr=False``.
    bin
        ``(ny, nx)`` int: +3/+2/+1 hot spot at 99/95/90% confidence, -3/-2/-1 cold spot,
        0 not significant; confidence judged on ``q`` (FDR) or ``p``.
    significant
        ``(ny, nx)`` bool: ``q`` (or ``p``) at most ``alpha``.
    p_sim
        One-sided pseudo p-values from conditional permutations, in the direction of the
        observed value, ties counted as at least as extreme (only when ``permutations > 0``),
        else None.
    params
        The parameters used, including the number of cells and neighbours.
    """

    z: np.ndarray
    p: np.ndarray
    q: np.ndarray
    bin: np.ndarray
    significant: np.ndarray
    p_sim: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def hot(self) -> np.ndarray:
        """``(ny, nx)`` bool: significant cells with a positive z (hot spots)."""
        return self.significant & (np.nan_to_num(self.z) > 0)


def _window_sum(a: np.ndarray, band: int) -> np.ndarray:
    """Sum of ``a`` over the ``(2*band+1)**2`` window around each cell (zeros beyond the edge)."""
    ones = np.ones(2 * band + 1)
    out = ndimage.correlate1d(a, ones, axis=0, mode="constant", cval=0.0)
    return ndimage.correlate1d(out, ones, axis=1, mode="constant", cval=0.0)


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Return Benjamini-Hochberg adjusted p-values (q-values) of a 1-D array.

    A test is significant at false discovery rate ``alpha`` when its q-value is at most alpha.
    """
    p = np.asarray(p, dtype=float)
    n = p.size
    if n == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order] * n / np.arange(1, n + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(n)
    q[order] = np.minimum(ranked, 1.0)
    return q


def gistar(
    counts: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    band: int = 1,
    fdr: bool = True,
    alpha: float = 0.05,
    permutations: int = 0,
    seed: int | None = None,
) -> GiStarResult:
    """Getis-Ord Gi* hot and cold spots on grid counts.

    Parameters
    ----------
    counts
        ``(ny, nx)`` incidents (or any non-negative value) per cell.
    mask
        ``(ny, nx)`` bool, the cells in the study area (``grid.mask``); None uses every cell.
        Cells outside the mask are neither analysed nor counted as neighbours.
    band
        Neighbourhood half-width in cells: the window is ``(2*band+1)**2`` cells, self
        included. ``1`` (default) is queen contiguity.
    fdr
        Judge significance on Benjamini-Hochberg adjusted p-values (default) rather than the
        raw p-values, so that testing thousands of cells does not produce false hot spots.
    alpha
        Level for :attr:`GiStarResult.significant` (default 0.05).
    permutations
        Number of conditional permutations for pseudo p-values (0, default, skips them; they
        cost much more than the analytic z and are off the dashboard's hot path).
    seed
        Seed for the permutations (``numpy.random.default_rng``).

    Returns
    -------
    GiStarResult

    Raises
    ------
    InputError
        If ``counts`` is not 2-D, ``mask`` has another shape, ``band`` is not a positive
        integer, ``alpha`` is not in (0, 1), or ``permutations`` is negative.

    Notes
    -----
    With ``n`` cells in the mask, mean ``x̄`` and standard deviation ``s`` (dividing by ``n``),
    and ``W_i`` cells in the window of cell ``i``,
    ``z_i = (Σ_j x_j - x̄ W_i) / (s √((n W_i - W_i²)/(n - 1)))`` (Getis and Ord 1995, as in
    ArcGIS and esda). When every cell holds the same count (for example none), ``s`` is 0 and
    every z is 0 (nothing stands out). The bins follow ArcGIS's "Hot Spot Analysis" with FDR
    correction: ±3 where q ≤ 0.01, ±2 where q ≤ 0.05, ±1 where q ≤ 0.10.
    """
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2:
        raise InputError(f"`counts` must be a 2-D grid of cell counts (ny, nx); got shape {counts.shape}")
    if mask is None:
        mask = np.ones(counts.shape, dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != counts.shape:
        raise InputError(f"`mask` must have the shape of `counts` {counts.shape}; got {mask.shape}")
    if isinstance(band, bool) or not isinstance(band, int | np.integer) or band < 1:
        raise InputError(f"`band` must be a whole number of cells, at least 1; got {band!r}")
    check_positive(alpha, name="alpha")
    if not 0 < alpha < 1:
        raise InputError(f"`alpha` must be between 0 and 1, such as 0.05; got {alpha!r}")
    if isinstance(permutations, bool) or not isinstance(permutations, int | np.integer) or permutations < 0:
        raise InputError(
            f"`permutations` must be a whole number, 0 or more (such as 999); got {permutations!r}"
        )
    if not np.all(np.isfinite(counts[mask])) or np.any(counts[mask] < 0):
        raise InputError("`counts` must be finite and non-negative in every cell of the mask")

    band = int(band)
    x = np.where(mask, counts, 0.0)
    m = mask.astype(float)
    n = int(mask.sum())
    shape = counts.shape
    z = np.full(shape, np.nan)
    p = np.full(shape, np.nan)
    q = np.full(shape, np.nan)
    bins = np.zeros(shape, dtype=np.int8)
    params: dict[str, Any] = {
        "method": "gistar",
        "band_cells": band,
        "window_cells": (2 * band + 1) ** 2,
        "neighbours": "queen (3 x 3 window, self included)"
        if band == 1
        else f"{2 * band + 1} x {2 * band + 1} window, self included",
        "fdr": bool(fdr),
        "alpha": float(alpha),
        "permutations": int(permutations),
        "seed": seed,
        "n_cells": n,
    }
    if n < 2:
        params["note"] = "fewer than 2 cells in the study area: no statistic"
        return GiStarResult(z=z, p=p, q=q, bin=bins, significant=np.zeros(shape, bool), params=params)

    vals = x[mask]
    mean = vals.mean()
    s = np.sqrt(max((vals**2).mean() - mean**2, 0.0))
    lag = _window_sum(x, band)
    card = np.rint(_window_sum(m, band))
    if s <= 1e-12 * max(1.0, abs(mean)):
        zz = np.zeros(n)
        params["note"] = "every cell holds the same count: no hot or cold spots"
    else:
        c = card[mask]
        denom = s * np.sqrt(c * (n - c) / (n - 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            zz = (lag[mask] - mean * c) / denom
        zz = np.where(np.isfinite(zz), zz, 0.0)  # a window covering every cell carries no signal
    pp = 2.0 * special.ndtr(-np.abs(zz))
    qq = benjamini_hochberg(pp) if fdr else pp
    level = np.zeros(n, dtype=np.int8)
    for b, a in sorted(BIN_LEVELS.items()):
        level[qq <= a] = b
    z[mask] = zz
    p[mask] = pp
    q[mask] = qq
    bins[mask] = (np.sign(zz) * level).astype(np.int8)
    significant = np.zeros(shape, dtype=bool)
    significant[mask] = qq <= alpha
    params["n_hot_cells"] = int(((bins > 0) & significant).sum())
    params["n_cold_cells"] = int(((bins < 0) & significant).sum())

    p_sim = None
    if permutations:
        p_sim = np.full(shape, np.nan)
        p_sim[mask] = _permutation_p(x, mask, card, lag, band, permutations, seed)
    return GiStarResult(z=z, p=p, q=q, bin=bins, significant=significant, p_sim=p_sim, params=params)


def _permutation_p(
    x: np.ndarray,
    mask: np.ndarray,
    card: np.ndarray,
    lag: np.ndarray,
    band: int,
    permutations: int,
    seed: int | None,
) -> np.ndarray:
    """Conditional-permutation pseudo p-values, one-sided in the direction of the observed value.

    Each cell keeps its own count and its ``W_i - 1`` neighbours are drawn without
    replacement from the other cells; the same draws are shared by all cells (esda's scheme).
    ``p = (#{sims at least as extreme} + 1) / (permutations + 1)``, where "as extreme" means
    ``>=`` the observed window sum for cells above their expected sum and ``<=`` below it.
    Unlike esda's folding (``min(larger, permutations - larger)``), ties count against
    significance: an empty cell among empty cells, or a lone incident whose neighbours are
    always empty, gets p near 1 rather than ``1 / (permutations + 1)``.
    """
    rng = np.random.default_rng(seed)
    vals = x[mask]
    n = vals.size
    cards = card[mask].astype(np.int64)
    obs = lag[mask]
    kmax = int(cards.max()) - 1
    # one random ordering of the other n-1 cells per permutation, first kmax kept
    draws = np.empty((permutations, kmax), dtype=np.int64)
    for k in range(permutations):  # permutations, not rows: at most a few thousand
        draws[k] = rng.choice(n - 1, size=kmax, replace=False)
    # expected lag under the permutation: own count plus W_i - 1 draws from the others' mean
    others_mean = (vals.sum() - vals) / max(n - 1, 1)
    expected = vals + (cards - 1) * others_mean
    upper = obs >= expected
    larger = np.zeros(n)
    chunk = max(1, int(4e7 // max(1, permutations * max(kmax, 1))))
    for start in range(0, n, chunk):
        idx = np.arange(start, min(n, start + chunk))
        ids = draws[None, :, :] + (draws[None, :, :] >= idx[:, None, None])  # skip self
        sims = np.cumsum(vals[ids], axis=2)  # (cells, perms, kmax)
        kk = cards[idx] - 2  # position of the (W_i - 1)th neighbour
        sim = np.where(
            kk[:, None] >= 0, np.take_along_axis(sims, np.maximum(kk, 0)[:, None, None], 2)[..., 0], 0.0
        )
        sim = sim + vals[idx, None]
        as_high = (sim >= obs[idx, None]).sum(axis=1)
        as_low = (sim <= obs[idx, None]).sum(axis=1)
        larger[idx] = np.where(upper[idx], as_high, as_low)
    return (larger + 1.0) / (permutations + 1.0)
