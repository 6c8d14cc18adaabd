"""Input checks shared by the analysis functions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np

from hotspots._errors import CRSError, InputError

BNG = 27700
WGS84 = 4326


def check_projected(gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, name: str = "layer") -> None:
    """Raise unless ``gdf`` is in British National Grid (EPSG:27700).

    Raises
    ------
    CRSError
        If the layer has no CRS, a geographic CRS, or another projected CRS.
    """
    if gdf.crs is None:
        raise CRSError(
            f"`{name}` has no CRS; police.uk coordinates are WGS84 — set it with "
            f"`{name}.set_crs(4326)` and then `.to_crs(27700)`"
        )
    if gdf.crs.is_geographic:
        raise CRSError(
            f"`{name}` is in a geographic CRS ({gdf.crs.to_string()}); distances need metres — "
            f"convert it with `{name}.to_crs(27700)`"
        )
    if gdf.crs.to_epsg() != BNG:
        raise CRSError(
            f"`{name}` is in {gdf.crs.to_string()}, expected EPSG:27700 (British National Grid); "
            f"convert it with `{name}.to_crs(27700)`"
        )


def check_choice(value: Any, choices: Iterable[Any], *, name: str) -> None:
    """Raise unless ``value`` is one of ``choices``, listing the valid ones."""
    choices = list(choices)
    if value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise InputError(f"`{name}` must be one of {valid}; got {value!r}")


def check_positive(value: float | None, *, name: str, unit: str = "") -> None:
    """Raise unless ``value`` is None or a positive finite number."""
    if value is None:
        return
    try:
        ok = float(value) > 0 and float(value) < float("inf")
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError(
            f"`{name}` must be a positive number{(' of ' + unit) if unit else ''}; got {value!r}"
        )


def check_points(x, y, weights=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``x``, ``y`` and ``weights`` as flat float arrays of one length (weights default 1).

    Raises
    ------
    InputError
        If the lengths differ or a weight is negative or not finite.
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise InputError(f"`x` and `y` must have the same length; got {x.size} and {y.size}")
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape != x.shape:
        raise InputError(f"`weights` must have one value per point ({x.size}); got {w.size}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InputError("`weights` must be finite and non-negative")
    return x, y, w
