"""``count``: incidents per grid cell, the plain baseline."""

from __future__ import annotations

from typing import Any

import numpy as np

from hotspots.grid import Grid
from hotspots.methods import CellScore, Method


def score(
    x: np.ndarray, y: np.ndarray, grid: Grid, *, weights: np.ndarray | None = None, **_: Any
) -> CellScore:
    """Incidents per cell (or the sum of their ``weights``: harm per cell)."""
    return CellScore(grid.counts(x, y, weights))


METHOD = Method(
    name="count",
    kind="cells",
    options={"cell_size": None, "top_share": 0.01},
    score_options=(),
    score=score,
    summary="the busiest grid cells (top_share of the area), made into places: the plain baseline",
)
