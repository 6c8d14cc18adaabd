"""``dbscan``: DBSCAN clusters of map points; the outline is the members' hull, buffered."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hotspots.dbscan import cluster_polygons, dbscan
from hotspots.grid import Grid
from hotspots.kde import location_key
from hotspots.methods import CellScore, Method, PointPlaces
from hotspots.methods.repeat import assign_locations


def score(
    x: np.ndarray,
    y: np.ndarray,
    grid: Grid,
    *,
    area_km2: float | None = None,
    eps: float | None = None,
    min_samples: int | None = None,
    weights: np.ndarray | None = None,
    **_: Any,
) -> CellScore:
    """Incidents (or their ``weights``: harm) in DBSCAN clusters per cell (noise scores 0)."""
    res = dbscan(x, y, area_km2=area_km2, eps=eps, min_samples=min_samples, weights=weights)
    member = res.labels >= 0
    used = {"eps_m": res.eps, "min_samples": res.min_samples, "n_clusters": res.n_clusters}
    return CellScore(grid.counts(res.x[member], res.y[member], res.weights[member]), used)


def places(
    current: pd.DataFrame,
    x: np.ndarray,
    y: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    *,
    area_km2: float,
    params: dict[str, Any],
    eps: float | None = None,
    min_samples: int | None = None,
    buffer: float | None = None,
    weights: np.ndarray | None = None,
    **_: Any,
) -> PointPlaces:
    """One place per cluster (most incidents first), its incidents those at its map points.

    With ``weights`` (harm) a map point weighs the harm of its incidents (scikit-learn's
    ``sample_weight``): a core point has at least ``min_samples`` harm within ``eps``.
    """
    res = dbscan(x, y, eps=eps, min_samples=min_samples, area_km2=area_km2, weights=weights)
    params.update({k: v for k, v in res.params.items() if k not in ("method", "n_incidents", "n_left_off")})
    polys = cluster_polygons(res, buffer=buffer)
    params["buffer_m"] = polys.attrs.get("buffer_m", res.eps / 2 if buffer is None else buffer)
    # place id = 1 + position of the cluster in `polys` (most incidents first)
    to_id = np.zeros(res.n_clusters + 1, dtype=np.int64)
    to_id[polys["cluster"].to_numpy() + 1] = np.arange(1, len(polys) + 1)
    loc_id = to_id[res.labels + 1]
    lookup = pd.Series(loc_id, index=pd.Index(location_key(res.x, res.y)))
    lookup = lookup[lookup > 0]
    geoms = pd.Series(polys.geometry.to_numpy(), index=np.arange(1, len(polys) + 1))
    return PointPlaces(
        member=loc_id[res.inverse],
        prev_member=assign_locations(lookup, px, py),
        geometry=geoms,
        area_km2=pd.Series(polys["area_km2"].to_numpy(), index=geoms.index),
    )


METHOD = Method(
    name="dbscan",
    kind="points",
    options={"eps": None, "min_samples": None, "buffer": None},
    score_options=("eps", "min_samples"),
    score=score,
    places=places,
    summary="DBSCAN clusters of map points (weighted by their incidents); the outline is the hull of the "
    "member points, buffered by eps / 2",
)
