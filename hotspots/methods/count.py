"""``count``: incidents per grid cell, the plain baseline."""

from __future__ import annotations

from typing import Any

import numpy as np

from hotspots.grid import Grid
from hotspots.methods import CellScore, Method


def score(
    x: np.ndarray,
    y: np.ndarray,
    grid: Grid,
    *,
    weights: np.ndarray | None = None,
    cells: np.ndarray | None = None,
    **_: Any,
) -> CellScore:
    """Incidents per cell (or the sum of their ``weights``: harm per cell), from their cell ids when known."""
    if cells is None:
        return CellScore(grid.counts(x, y, weights))
    cells = np.asarray(cells)
    on = cells >= 0  # the same sums, in the same order, as Grid.counts
    w = None if weights is None else np.asarray(weights, dtype=float)[on]
    counts = np.bincount(cells[on], weights=w, minlength=grid.nx * grid.ny).astype(float)
    return CellScore(counts.reshape(grid.ny, grid.nx))


METHOD = Method(
    name="count",
    kind="cells",
    options={"cell_size": None, "top_share": 0.01},
    score_options=(),
    score=score,
    summary="the busiest grid cells (top_share of the area), made into places: the plain baseline",
)
