"""Recent cell counts smoothed towards their neighbours by empirical Bayes (the default hotspot score).

police.uk snaps every incident to one of a fixed set of map points, and the same points come
back month after month, so the plain count of a grid cell is already a very good forecast of
where crime will be (on the 2025 Staffordshire sample the top 1% of cells by training count
catch 99.5% of what the best possible cells would). Two things still improve on it, and this
module does both, by named rules:

* **Recency.** Each incident is weighted ``0.5 ** (age / half_life)``, its age being the months
  between its month and the last month of the period (default half-life 6 months), so places
  that have cooled down count for less than places that are busy now.
* **Spatial empirical Bayes** (Poisson–gamma, as in Clayton & Kaldor 1987 and GeoDa's spatial
  EB smoother). A cell's count ``X`` is a noisy Poisson reading of its rate; the prior for the
  rate has as mean ``m`` the average (weighted) count of the cell's eight neighbours (queen,
  inside the study area, the cell itself left out) and variance ``m / beta``. The posterior
  mean is ``(X + beta * m) / (1 + beta)``. The prior strength ``beta`` is estimated from the
  data by the method of moments: ``E[(X - m)^2] = m / c + m / beta``, where ``c = sum(w) /
  sum(w^2)`` corrects the Poisson variance for the recency weights (1 without them). Dense,
  strongly clustered data (all crime over a county) give a tiny ``beta``: the score is the
  count, with the neighbourhood only breaking ties; sparse data (burglary in one district)
  give a larger ``beta``: a lone incident in a quiet street counts for less than a steady run
  of incidents in a busy block.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from hotspots._errors import InputError
from hotspots._validate import check_points, check_positive
from hotspots.grid import Grid

logger = logging.getLogger(__name__)

#: Default recency half-life in months (chosen on 1,450 real splits; see docs/methods.md).
DEFAULT_HALF_LIFE = 6.0
_QUEEN = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])


@dataclass
class EBResult:
    """An empirical Bayes smoothed count per grid cell.

    Attributes
    ----------
    score
        ``(ny, nx)`` posterior mean of the (recency-weighted) incidents per cell; 0 outside the
        study area.
    counts
        ``(ny, nx)`` recency-weighted incidents per cell.
    prior_mean
        ``(ny, nx)`` mean weighted count of the cell's neighbours in the study area.
    prior_strength
        ``beta``: how many "periods" of the neighbours' mean the prior is worth (``inf`` when
        the cells vary no more than Poisson noise, 0 with no neighbourhood signal).
    half_life
        Recency half-life in months, or None (no recency weighting).
    reference_month
        The month ages are counted from (``YYYY-MM``), or None.
    cell_size
        Cell side in metres.
    n_incidents
        Incidents used (unweighted).
    n_effective
        Sum of the recency weights.
    """

    score: np.ndarray
    counts: np.ndarray
    prior_mean: np.ndarray
    prior_strength: float
    half_life: float | None
    reference_month: str | None
    cell_size: float
    n_incidents: int = 0
    n_effective: float = 0.0

    @property
    def params(self) -> dict[str, Any]:
        """The parameters behind the score as plain values."""
        beta = self.prior_strength
        return {
            "method": "eb_count",
            "half_life_months": None if self.half_life is None else float(self.half_life),
            "recency": (
                "none (every incident weighs 1)"
                if self.half_life is None
                else f"weight halves every {self.half_life:g} months before {self.reference_month or 'the last month'}"
            ),
            "smoothing": "Poisson-gamma empirical Bayes towards the mean of the 8 neighbouring cells",
            "prior_strength": round(float(beta), 6) if np.isfinite(beta) else None,
            "prior_strength_rule": "method of moments over the study area's cells",
            "cell_size_m": float(self.cell_size),
            "score_units": "expected incidents per cell in the period (recency-weighted)",
            "n_effective": round(float(self.n_effective), 3),
        }


def recency_weights(
    months: Any, *, half_life: float | None, reference_month: str | None = None
) -> np.ndarray:
    """Weight ``0.5 ** (age / half_life)`` per incident, age in whole months before the reference.

    Parameters
    ----------
    months
        Each incident's month (anything ``pandas.to_datetime`` reads).
    half_life
        Months after which an incident weighs half; None gives every incident weight 1.
    reference_month
        ``YYYY-MM`` the ages are counted from (age 0); None uses the latest month given.
        Incidents after it weigh 1.

    Raises
    ------
    InputError
        If ``half_life`` is not a positive number or a month cannot be read.
    """
    check_positive(half_life, name="half_life", unit="months")
    codes, index = _month_codes(months)
    if half_life is None or codes.size == 0:
        return np.ones(codes.size)
    return _age_weights(index, float(half_life), reference_month)[codes]


def _age_weights(index: np.ndarray, half_life: float, reference_month: str | None) -> np.ndarray:
    """``0.5 ** (age / half_life)`` for months given as months since 1970-01."""
    ref = _month_codes([reference_month + "-01"])[1][0] if reference_month else index.max()
    age = np.maximum(ref - index, 0).astype(float)
    return 0.5 ** (age / half_life)


def _month_codes(months: Any) -> tuple[np.ndarray, np.ndarray]:
    """Factorise months: a code per incident and, per code, months since 1970-01 as integers.

    Hashing first and converting only the distinct months keeps this fast for a million
    incidents (a filter change on the dashboard).
    """
    arr = np.asarray(months)
    try:
        if not np.issubdtype(arr.dtype, np.datetime64):
            arr = pd.to_datetime(pd.Series(arr)).to_numpy()
        codes, uniques = pd.factorize(arr.view(np.int64) if arr.dtype == "datetime64[ns]" else arr)
        uniques = (
            np.asarray(uniques).view(arr.dtype) if arr.dtype == "datetime64[ns]" else np.asarray(uniques)
        )
        index = uniques.astype("datetime64[M]").astype(np.int64)
    except (ValueError, TypeError) as exc:
        raise InputError(f"incident months must be dates such as 2025-01-01; {exc}") from exc
    return codes, index


def neighbour_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of each cell's queen neighbours that lie in ``mask`` (the cell itself left out)."""
    inside = mask.astype(float)
    total = ndimage.convolve(values * inside, _QUEEN, mode="constant")
    n = ndimage.convolve(inside, _QUEEN, mode="constant")
    return np.where(n > 0, total / np.maximum(n, 1.0), 0.0)


def eb_count(
    x: np.ndarray,
    y: np.ndarray,
    *,
    grid: Grid,
    months: Any = None,
    half_life: float | None = DEFAULT_HALF_LIFE,
    reference_month: str | None = None,
    weights: np.ndarray | None = None,
    cells: np.ndarray | None = None,
) -> EBResult:
    """Score every grid cell by its recent count smoothed towards its neighbours (empirical Bayes).

    Parameters
    ----------
    x, y
        Incident coordinates in EPSG:27700 metres (incidents with a location).
    grid
        The analysis grid (:func:`hotspots.grid.make_grid`).
    months
        Each incident's month, for the recency weights; None weighs every incident 1.
    half_life
        Recency half-life in months (default 6); None turns recency weighting off.
    reference_month
        ``YYYY-MM`` the ages are counted from, usually the last month of the period; None uses
        the latest month among the incidents.
    weights
        What each incident counts for (its harm weight, :mod:`hotspots.harm`), multiplied into
        its recency weight; None: 1 each (a count).
    cells
        Each incident's ``cell_id`` on ``grid`` (:meth:`hotspots.grid.Grid.flat_index`, -1 off
        the grid) when already known (:mod:`hotspots.coded` keeps them per frame); None
        computes them from ``x`` and ``y``. The result is the same.

    Returns
    -------
    EBResult

    Raises
    ------
    InputError
        If ``grid`` is not a Grid, the arrays differ in length (``cells`` included), a
        coordinate is not finite, or ``half_life`` is not positive.

    Notes
    -----
    See the module notes for the rule. The score ranks cells; cells outside the study area
    score 0. With harm ``weights`` the same Poisson variance correction ``c = sum(w) / sum(w^2)``
    applies (a sum of Poisson incidents each weighing ``w`` has variance ``sum(w^2)``).
    """
    if not isinstance(grid, Grid):
        raise InputError(f"`grid` must be a hotspots.grid.Grid (from make_grid); got {type(grid).__name__}")
    x, y, harm = check_points(x, y, weights)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise InputError("`x` and `y` must be finite; leave off incidents with no location first")
    if months is None:
        check_positive(half_life, name="half_life", unit="months")
        w = np.ones(x.size)
        half_life = None
    else:
        if len(months) != x.size:
            raise InputError(
                f"`months` must give one month per incident; got {len(months)} for {x.size} incidents"
            )
        check_positive(half_life, name="half_life", unit="months")
        codes, index = _month_codes(months)
        if reference_month is None and x.size:
            reference_month = str(np.datetime64(int(index.max()), "M"))
        w = (
            _age_weights(index, float(half_life), reference_month)[codes]
            if half_life and x.size
            else np.ones(x.size)
        )
    if weights is not None:
        w = w * harm
    mask = grid.mask
    if cells is None:
        counts = grid.counts(x, y, w)
    else:
        cells = np.asarray(cells)
        if cells.shape != x.shape:
            raise InputError(
                f"`cells` must give one cell id per incident ({x.size}); got shape {cells.shape}"
            )
        on = cells >= 0  # the same sums, in the same order, as Grid.counts
        counts = np.bincount(cells[on], weights=w[on], minlength=grid.nx * grid.ny).astype(float)
        counts = counts.reshape(grid.ny, grid.nx)
    prior = neighbour_mean(counts, mask)
    beta = float("inf")
    if w.size:
        c = float(w.sum() / (w * w).sum())
        xm, mm = counts[mask], prior[mask]
        excess = c * float(np.mean((xm - mm) ** 2)) - float(xm.mean())
        mean_prior = float(mm.mean())
        if mean_prior <= 0:
            beta = 0.0
        elif excess > 0:
            beta = mean_prior / excess
    if np.isfinite(beta):
        score = (counts + beta * prior) / (1.0 + beta)
    else:  # the cells vary no more than Poisson noise: the neighbourhood decides, the count breaks ties
        score = prior + 1e-9 * counts
    score = np.where(mask, score, 0.0)
    logger.info("empirical Bayes prior strength %.4g; recency half-life %s months", beta, half_life)
    return EBResult(
        score=score,
        counts=counts,
        prior_mean=prior,
        prior_strength=beta,
        half_life=None if half_life is None else float(half_life),
        reference_month=reference_month if half_life is not None else None,
        cell_size=grid.cell,
        n_incidents=int(x.size),
        n_effective=float(w.sum()),
    )
