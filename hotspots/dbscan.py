"""DBSCAN clusters of incidents, run on unique locations weighted by their counts.

police.uk snaps every incident to one of a fixed set of anonymised map points, so a year of
Staffordshire's 100,000 incidents sits on about 14,000 points, and a town-centre point can
hold hundreds of incidents. DBSCAN on the raw points would hold every pair of duplicates in
memory; DBSCAN on the unique locations with ``sample_weight`` = count gives the same clusters
(a location is a core point when the incidents within ``eps`` number at least
``min_samples``, exactly as for the raw points) and the same labels, because locations are
visited in the order of their first incident (``tests/test_dbscan.py`` checks an adjusted Rand
index of 1.0 against scikit-learn on the raw points of real months).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sklearn.cluster import DBSCAN

from hotspots._errors import InputError
from hotspots._validate import BNG, check_points, check_positive
from hotspots.kde import unique_locations

#: Default neighbourhood radius in metres: a few street blocks, the scale of a town-centre
#: hotspot, and wider than the spacing of police.uk snap points in built-up areas.
DEFAULT_EPS = 200.0
#: A core location needs this many times the study area's average density of incidents
#: within ``eps`` ...
DENSITY_FACTOR = 25.0
#: ... and never fewer incidents than this.
MIN_SAMPLES_FLOOR = 5
DEFAULT_RULE = (
    f"eps {DEFAULT_EPS:.0f} m; min_samples = max({MIN_SAMPLES_FLOOR}, {DENSITY_FACTOR:g} x the incidents "
    "expected within eps at the study area's average density)"
)


@dataclass
class DBSCANResult:
    """DBSCAN labels on unique locations.

    Attributes
    ----------
    x, y
        Unique location coordinates (EPSG:27700), in order of first incident.
    weights
        Incidents (total weight) at each location.
    labels
        Cluster of each location, ``-1`` for noise (noise is not a hotspot).
    core
        True for core locations.
    inverse
        For each input point with a location, the index of its location.
    eps, min_samples
        Parameters used (metres, incidents).
    params
        Parameters and how they were chosen, as plain values.
    """

    x: np.ndarray
    y: np.ndarray
    weights: np.ndarray
    labels: np.ndarray
    core: np.ndarray
    inverse: np.ndarray
    eps: float
    min_samples: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n_clusters(self) -> int:
        """Number of clusters."""
        return int(self.labels.max()) + 1 if self.labels.size else 0

    @property
    def point_labels(self) -> np.ndarray:
        """Cluster label of every input point with a location (``-1`` noise)."""
        return self.labels[self.inverse]


def default_dbscan_params(n_incidents: float, area_km2: float) -> tuple[float, int]:
    """Choose ``eps`` and ``min_samples`` from the number of incidents and the area.

    Parameters
    ----------
    n_incidents
        Incidents in the filter (with a location).
    area_km2
        Area of the study area (or of the filtered areas), km².

    Returns
    -------
    tuple
        ``(eps_m, min_samples)``.

    Notes
    -----
    ``eps`` is 200 m. ``min_samples`` is 25 times the number of incidents that would fall within
    ``eps`` of a point if they were spread evenly over the area, and at least 5. A cluster is
    therefore always "25 times denser than average", which keeps the same meaning as a filter
    grows from 500 incidents (one crime type in one month: ``min_samples`` 5, clusters of
    repeat places) to 1,000,000 (ten years: ``min_samples`` ~1,800 over Staffordshire).
    """
    check_positive(area_km2, name="area_km2", unit="km²")
    if n_incidents < 0 or not math.isfinite(n_incidents):
        raise InputError(f"`n_incidents` must be a number of incidents, 0 or more; got {n_incidents!r}")
    expected = n_incidents * math.pi * (DEFAULT_EPS / 1000) ** 2 / float(area_km2)
    return DEFAULT_EPS, max(MIN_SAMPLES_FLOOR, math.ceil(DENSITY_FACTOR * expected))


def dbscan(
    x: np.ndarray,
    y: np.ndarray,
    *,
    eps: float | None = None,
    min_samples: int | None = None,
    weights: np.ndarray | None = None,
    area_km2: float | None = None,
) -> DBSCANResult:
    """DBSCAN clusters of incidents, computed on their unique locations.

    Parameters
    ----------
    x, y
        Incident coordinates in EPSG:27700 metres (or unique locations with ``weights``).
        Points with missing or infinite coordinates are left off and counted.
    eps
        Neighbourhood radius in metres; None uses :func:`default_dbscan_params`.
    min_samples
        Incidents within ``eps`` (the location itself included) that make a location a core
        point; None uses :func:`default_dbscan_params`.
    weights
        Incidents per point (default 1 each).
    area_km2
        Area the incidents come from, for the default ``min_samples``; None uses the area of
        the convex hull of the locations.

    Returns
    -------
    DBSCANResult

    Raises
    ------
    InputError
        If ``eps`` or ``min_samples`` is not positive, or the inputs do not line up.
    """
    check_positive(eps, name="eps", unit="metres")
    if min_samples is not None and (
        isinstance(min_samples, bool) or not isinstance(min_samples, int | np.integer) or min_samples < 1
    ):
        raise InputError(
            f"`min_samples` must be a whole number of incidents, at least 1; got {min_samples!r}"
        )
    check_positive(area_km2, name="area_km2", unit="km²")
    x, y, w = check_points(x, y, weights)
    has = np.isfinite(x) & np.isfinite(y)
    ux, uy, uw, inverse = unique_locations(x[has], y[has], w[has])
    n = float(uw.sum())
    params: dict[str, Any] = {
        "method": "dbscan",
        "n_incidents": n,
        "n_locations": int(ux.size),
        "n_left_off": int((~has).sum()),
    }
    if eps is None or min_samples is None:
        if area_km2 is None:
            hull = shapely.convex_hull(shapely.multipoints(np.c_[ux, uy])) if ux.size else None
            area_km2 = max(hull.area / 1e6 if hull is not None else 0.0, 1.0)
            params["area_rule"] = "convex hull of the locations (at least 1 km²)"
        d_eps, d_ms = default_dbscan_params(n, area_km2)
        params["area_km2"] = float(area_km2)
        params["default_rule"] = DEFAULT_RULE
    eps_used = float(eps) if eps is not None else d_eps
    ms_used = int(min_samples) if min_samples is not None else d_ms
    params.update(
        {
            "eps_m": eps_used,
            "eps_rule": "user" if eps is not None else "default",
            "min_samples": ms_used,
            "min_samples_rule": "user" if min_samples is not None else "default",
        }
    )
    if ux.size == 0:
        labels = np.empty(0, dtype=np.int64)
        core = np.empty(0, dtype=bool)
        params["note"] = "no incidents with a location: no clusters"
    else:
        model = DBSCAN(eps=eps_used, min_samples=ms_used).fit(np.c_[ux, uy], sample_weight=uw)
        labels = model.labels_.astype(np.int64)
        core = np.zeros(ux.size, dtype=bool)
        core[model.core_sample_indices_] = True
    params["n_clusters"] = int(labels.max()) + 1 if labels.size else 0
    params["n_noise_incidents"] = float(uw[labels < 0].sum()) if labels.size else 0.0
    return DBSCANResult(
        x=ux,
        y=uy,
        weights=uw,
        labels=labels,
        core=core,
        inverse=inverse,
        eps=eps_used,
        min_samples=ms_used,
        params=params,
    )


def cluster_polygons(result: DBSCANResult, *, buffer: float | None = None) -> gpd.GeoDataFrame:
    """Outline each cluster: the convex hull of its member locations, buffered.

    Parameters
    ----------
    result
        A :func:`dbscan` result.
    buffer
        Buffer distance in metres around the hull; None uses half of ``eps`` (so a cluster of
        one location is a disc of radius ``eps / 2``).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cluster, most incidents first: ``cluster`` (the DBSCAN label), ``count``,
        ``n_locations``, ``area_km2``, ``geometry`` (EPSG:27700).
    """
    check_positive(buffer, name="buffer", unit="metres")
    buf = result.eps / 2 if buffer is None else float(buffer)
    member = result.labels >= 0
    if not member.any():
        empty = {
            "cluster": pd.Series(dtype=np.int64),
            "count": pd.Series(dtype=float),
            "n_locations": pd.Series(dtype=np.int64),
            "area_km2": pd.Series(dtype=float),
        }
        out = gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=BNG), crs=BNG)
        out.attrs["buffer_m"] = buf
        return out
    lab = result.labels[member]
    order = np.argsort(lab, kind="stable")
    lab = lab[order]
    pts = shapely.points(result.x[member][order], result.y[member][order])
    clusters, start = np.unique(lab, return_index=True)
    multi = shapely.multipoints(pts, indices=np.searchsorted(clusters, lab))
    geoms = shapely.buffer(shapely.convex_hull(multi), buf)
    counts = np.bincount(lab, weights=result.weights[member][order], minlength=clusters.max() + 1)[clusters]
    n_loc = np.diff(np.append(start, lab.size))
    table = pd.DataFrame(
        {
            "cluster": clusters,
            "count": counts,
            "n_locations": n_loc,
            "area_km2": shapely.area(geoms) / 1e6,
        }
    )
    out = gpd.GeoDataFrame(table, geometry=geoms, crs=BNG)
    out = out.sort_values(["count", "cluster"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out.attrs["buffer_m"] = buf
    return out
