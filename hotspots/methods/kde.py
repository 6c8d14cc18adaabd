"""``kde``: the densest cells of the kernel density surface."""

from __future__ import annotations

from typing import Any

import numpy as np

from hotspots.grid import Grid
from hotspots.kde import DEFAULT_BANDWIDTH_RULE, kde
from hotspots.methods import CellScore, Method

_KDE_OPTIONS = ("bandwidth", "kernel", "bandwidth_rule", "multiplier")


def score(
    x: np.ndarray, y: np.ndarray, grid: Grid, *, weights: np.ndarray | None = None, **opts: Any
) -> CellScore:
    """Kernel density at each cell centre (:func:`hotspots.kde.kde`), of ``weights`` (harm) if given."""
    kw = {k: opts[k] for k in _KDE_OPTIONS if opts.get(k) is not None}
    res = kde(x, y, grid=grid, weights=weights, **kw)
    params = {k: v for k, v in res.params.items() if k not in ("method", "n_incidents", "n_left_off")}
    return CellScore(res.density, params)


METHOD = Method(
    name="kde",
    kind="cells",
    options={
        "cell_size": None,
        "bandwidth": None,
        "kernel": "quartic",
        "bandwidth_rule": DEFAULT_BANDWIDTH_RULE,
        "multiplier": 1.0,
        "top_share": 0.01,
    },
    score_options=_KDE_OPTIONS,
    score=score,
    summary="the densest cells of the kernel density surface (top_share of the area), made into places",
)
