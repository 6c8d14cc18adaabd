"""``eb_count`` (the default): recent counts smoothed towards their neighbours by empirical Bayes."""

from __future__ import annotations

from typing import Any

import numpy as np

from hotspots.eb import DEFAULT_HALF_LIFE, eb_count
from hotspots.grid import Grid
from hotspots.methods import CellScore, Method


def score(
    x: np.ndarray,
    y: np.ndarray,
    grid: Grid,
    *,
    months: Any = None,
    reference_month: str | None = None,
    half_life: float | None = None,
    weights: np.ndarray | None = None,
    cells: np.ndarray | None = None,
    **_: Any,
) -> CellScore:
    """Recency-weighted counts (x ``weights``: harm) smoothed by spatial empirical Bayes (:func:`hotspots.eb.eb_count`)."""
    kw = {} if half_life is None else {"half_life": half_life}
    res = eb_count(
        x, y, grid=grid, months=months, reference_month=reference_month, weights=weights, cells=cells, **kw
    )
    params = {k: v for k, v in res.params.items() if k != "method"}
    if weights is not None:
        params["score_units"] = "expected harm per cell in the period (recency-weighted)"
    return CellScore(res.score, params)


METHOD = Method(
    name="eb_count",
    kind="cells",
    options={"cell_size": None, "half_life": DEFAULT_HALF_LIFE, "top_share": 0.01},
    score_options=("half_life",),
    score=score,
    summary="the cells with the highest recent count smoothed towards their neighbours (top_share of "
    "the area), made into places",
)
