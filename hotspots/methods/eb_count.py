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
    **_: Any,
) -> CellScore:
    """Recency-weighted counts smoothed by spatial empirical Bayes (:func:`hotspots.eb.eb_count`)."""
    kw = {} if half_life is None else {"half_life": half_life}
    res = eb_count(x, y, grid=grid, months=months, reference_month=reference_month, **kw)
    return CellScore(res.score, {k: v for k, v in res.params.items() if k != "method"})


METHOD = Method(
    name="eb_count",
    kind="cells",
    options={"cell_size": None, "half_life": DEFAULT_HALF_LIFE, "top_share": 0.01},
    score_options=("half_life",),
    score=score,
    summary="the cells with the highest recent count smoothed towards their neighbours (top_share of "
    "the area), made into places",
)
