"""``gistar``: cells that are significant Getis-Ord Gi* hot spots and hold an incident."""

from __future__ import annotations

from typing import Any

import numpy as np

from hotspots.gistar import gistar
from hotspots.grid import Grid
from hotspots.methods import CellScore, Method


def score(
    x: np.ndarray,
    y: np.ndarray,
    grid: Grid,
    *,
    band: int = 1,
    fdr: bool = True,
    alpha: float = 0.05,
    permutations: int = 0,
    seed: int | None = None,
    weights: np.ndarray | None = None,
    **_: Any,
) -> CellScore:
    """The Gi* z-score per cell (``-inf`` outside the area); hot = significant, bin > 0, with incidents.

    With ``weights`` (harm) Gi* runs on the harm per cell; "with incidents" stays a count.
    """
    counts = grid.counts(x, y)
    res = gistar(
        counts if weights is None else grid.counts(x, y, weights),
        mask=grid.mask,
        band=1 if band is None else band,
        fdr=True if fdr is None else fdr,
        alpha=0.05 if alpha is None else alpha,
        permutations=permutations or 0,
        seed=seed,
    )
    params = {k: v for k, v in res.params.items() if k != "method"}
    hot = res.hot
    if permutations:
        hot = hot & (np.nan_to_num(res.p_sim, nan=1.0) <= (0.05 if alpha is None else alpha))
        params["significance"] = "analytic q and permutation p both at most alpha"
    params["hot_cells_rule"] = "significant hot cells (bin > 0) holding at least one incident"
    return CellScore(np.nan_to_num(res.z, nan=-np.inf), params, hot & (counts > 0))


METHOD = Method(
    name="gistar",
    kind="cells",
    options={"cell_size": None, "band": 1, "fdr": True, "alpha": 0.05, "permutations": 0, "seed": None},
    score_options=("band",),
    score=score,
    min_incidents=30,
    min_incidents_why="Gi* needs at least 30 (as ArcGIS's guidance: its normal approximation flags a lone "
    "incident as a hot spot); widen the filter or use repeat",
    summary="cells that are significant Getis-Ord Gi* hot spots (FDR-corrected, at alpha) and hold at "
    "least one incident, made into places",
)
