"""``repeat``: the busiest single map points (police.uk snap points)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from hotspots._errors import InputError
from hotspots.grid import Grid
from hotspots.kde import location_key
from hotspots.methods import CellScore, Method, PointPlaces
from hotspots.repeat import repeat_locations


def assign_locations(lookup: pd.Series, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Map points to place ids through a location-key → id lookup (0 = none)."""
    out = np.zeros(x.size, dtype=np.int64)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.any() and len(lookup):
        pos = lookup.index.get_indexer(location_key(x[ok], y[ok]))
        out[ok] = np.where(pos >= 0, lookup.to_numpy()[np.maximum(pos, 0)], 0)
    return out


def score(
    x: np.ndarray, y: np.ndarray, grid: Grid, *, weights: np.ndarray | None = None, **_: Any
) -> CellScore:
    """Incidents (or their ``weights``: harm) at each cell's busiest single map point."""
    codes, _u = pd.factorize(location_key(x, y))
    counts = np.bincount(codes, weights=weights)
    first = np.full(counts.size, x.size, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(x.size))
    flat = grid.flat_index(x[first], y[first])
    ok = flat >= 0
    out = np.zeros(grid.nx * grid.ny)
    np.maximum.at(out, flat[ok], counts[ok].astype(float))
    return CellScore(out.reshape(grid.shape))


def places(
    current: pd.DataFrame,
    x: np.ndarray,
    y: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    *,
    params: dict[str, Any],
    top_n: int = 20,
    weights: np.ndarray | None = None,
    **_: Any,
) -> PointPlaces:
    """The ``top_n`` busiest map points, each a place (a point: no area).

    With ``weights`` (harm) the ``top_n`` map points holding the most harm (ties: more
    incidents, then the first seen).
    """
    if isinstance(top_n, bool) or not isinstance(top_n, int | np.integer) or top_n < 1:
        raise InputError(f"`top_n` must be a whole number of locations, at least 1; got {top_n!r}")
    if weights is None:
        table = repeat_locations(current).head(int(top_n))
        params.update(
            {
                "top_n": int(top_n),
                **{k: v for k, v in table.attrs["params"].items() if k.startswith("locations_holding")},
            }
        )
        tx, ty = table["x"].to_numpy(), table["y"].to_numpy()
    else:
        codes, _u = pd.factorize(location_key(x, y))
        harm = np.bincount(codes, weights=weights)
        n = np.bincount(codes)
        first = np.full(n.size, x.size, dtype=np.int64)
        np.minimum.at(first, codes, np.arange(x.size))
        top = np.lexsort((first, -n, -harm))[: int(top_n)]
        params["top_n"] = int(top_n)
        params["repeat_rule"] = "the map points holding the most harm (ties: more incidents)"
        tx, ty = x[first[top]], y[first[top]]
    ids = np.arange(1, len(tx) + 1)
    lookup = pd.Series(ids, index=pd.Index(location_key(tx, ty)))
    return PointPlaces(
        member=assign_locations(lookup, x, y),
        prev_member=assign_locations(lookup, px, py),
        geometry=pd.Series(shapely.points(tx, ty), index=ids),
        area_km2=pd.Series(np.nan, index=ids),
    )


METHOD = Method(
    name="repeat",
    kind="points",
    options={"top_n": 20},
    score_options=(),
    score=score,
    places=places,
    summary="the top_n busiest single map points (police.uk snap points)",
)
