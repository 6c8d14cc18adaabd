"""What is inside one place: its micro-cells, map points, streets, categories and months.

:func:`place_detail` takes the incidents and one place outline (a hotspot from
:func:`hotspots.hotspot_list.find_hotspots`, a registered place, or any polygon in
EPSG:27700) and returns a :class:`PlaceDetail`: the counts a team looks at before going out.

* ``cells``: a grid of small cells over the place, clipped to its outline, with their counts
  (the "micro-map": where in the place the incidents are);
* ``points``: the police.uk map points inside the place with their counts, location names and
  most common category (police.uk snaps every incident to one of a fixed set of anonymised
  points, so many incidents share one);
* ``locations``: the streets and landmarks (location names) with their counts;
* ``categories`` and ``months``: the mix and the run of months.

An incident is in the place when its map point lies in the outline or on its edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots._errors import CRSError, InputError
from hotspots._validate import BNG, check_positive, check_projected
from hotspots.filters import Filter

#: Columns of :attr:`PlaceDetail.cells`, in order.
CELL_COLUMNS = ["cell_id", "count", "share", "geometry"]
#: Columns of :attr:`PlaceDetail.points`, in order.
POINT_COLUMNS = ["location_id", "location_name", "count", "share", "top_category", "lon", "lat", "geometry"]
#: Columns of :attr:`PlaceDetail.locations` and :attr:`PlaceDetail.categories` (``name`` is the
#: location or the category).
TABLE_COLUMNS = ["name", "count", "share"]
REQUIRED = ("x", "y", "category", "month", "location_name")
#: The default micro-cell size: about this many cells across the place's shorter side …
CELLS_ACROSS = 8
#: … rounded to a multiple of this many metres (so that 100, 125 and 150 m cells line up with
#: the hotspot grid, which is anchored at multiples of its cell size) …
CELL_STEP = 25.0
#: … and kept within these bounds (metres): police.uk map points are a few tens of metres
#: apart in town centres, so smaller cells only repeat the points; larger ones are coarser
#: than the micro places themselves.
CELL_RANGE = (50.0, 150.0)
PREFIX = "On or near "


@dataclass
class PlaceDetail:
    """The contents of one place (see the module docstring).

    Attributes
    ----------
    count
        Incidents in the place (after the filter).
    cells
        GeoDataFrame (EPSG:27700), :data:`CELL_COLUMNS`: every cell of the micro-grid that
        overlaps the place, clipped to it, with its count (zero included) and share of
        ``count``; ordered by ``cell_id`` (row-major from the south-west).
    points
        GeoDataFrame (EPSG:27700), :data:`POINT_COLUMNS`: one row per map point with incidents,
        busiest first; ``location_name`` is the most common name recorded there.
    locations, categories
        DataFrames, :data:`TABLE_COLUMNS`, busiest first (ties alphabetical). Location names
        lose police.uk's "On or near " prefix.
    months
        DataFrame ``month`` (first of month), ``count``: every month of the filter's range
        (or of the incidents' range when the filter leaves it open), zeros included.
    params
        ``cell_size`` (metres) and ``cell_size_rule``, ``area_km2`` of the place, ``n_points``,
        the ``filter`` as a dict.
    """

    count: int
    cells: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    locations: pd.DataFrame
    categories: pd.DataFrame
    months: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)


def default_detail_cell_size(place: shapely.Geometry) -> float:
    """The micro-cell size for a place: about :data:`CELLS_ACROSS` cells across its shorter side.

    Rounded to a multiple of :data:`CELL_STEP` metres and kept within :data:`CELL_RANGE`.
    """
    minx, miny, maxx, maxy = place.bounds
    side = min(maxx - minx, maxy - miny)
    size = round(side / CELLS_ACROSS / CELL_STEP) * CELL_STEP
    return float(min(max(size, CELL_RANGE[0]), CELL_RANGE[1]))


def _as_place(place: Any) -> shapely.Geometry:
    if isinstance(place, (gpd.GeoSeries, gpd.GeoDataFrame)):
        check_projected(place, name="place_geometry")
        place = place.geometry.union_all() if len(place) else None
    if not isinstance(place, (shapely.Polygon, shapely.MultiPolygon)) or place.is_empty:
        raise InputError(
            "`place_geometry` must be a Polygon or MultiPolygon in EPSG:27700 (metres); "
            f"got {type(place).__name__ if not isinstance(place, shapely.Geometry) else place.geom_type}"
            f"{' (empty)' if isinstance(place, shapely.Geometry) and place.is_empty else ''}"
        )
    minx, miny, maxx, maxy = place.bounds
    if -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90:
        raise CRSError(
            f"`place_geometry` looks like longitude/latitude (bounds {minx:.3f}, {miny:.3f}, {maxx:.3f}, "
            f"{maxy:.3f}); pass it in EPSG:27700, e.g. `gpd.GeoSeries([shape], crs=4326).to_crs(27700)`"
        )
    return place


def _check_incidents(incidents: pd.DataFrame) -> None:
    if not isinstance(incidents, pd.DataFrame):
        raise InputError(
            f"`incidents` must be a DataFrame of incident records; got {type(incidents).__name__}"
        )
    missing = [c for c in REQUIRED if c not in incidents.columns]
    if missing:
        raise InputError(
            f"`incidents` is missing column(s) {', '.join(missing)}; expected the incident record "
            f"({', '.join(REQUIRED)}, as `Store.incidents()` returns)"
        )


def _table(values: pd.Series, total: int) -> pd.DataFrame:
    c = values.dropna().astype(str).value_counts()
    out = c.rename_axis("name").rename("count").reset_index()
    out = out.sort_values(["count", "name"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out["count"] = out["count"].astype("int64")
    out["share"] = out["count"] / total if total else 0.0
    return out[TABLE_COLUMNS]


def _months(inside: pd.DataFrame, filt: Filter | None, months: pd.Series) -> pd.DataFrame:
    """Incidents per month in the filter's months (the selected incidents' first to last when open)."""
    month = pd.to_datetime(months)
    lo = pd.Timestamp(filt.month_from + "-01") if filt and filt.month_from else month.min()
    hi = pd.Timestamp(filt.month_to + "-01") if filt and filt.month_to else month.max()
    if pd.isna(lo) or pd.isna(hi):
        return pd.DataFrame({"month": pd.DatetimeIndex([]), "count": np.array([], dtype="int64")})
    span = pd.date_range(lo, hi, freq="MS")
    c = pd.to_datetime(inside["month"]).value_counts()
    return pd.DataFrame({"month": span, "count": c.reindex(span, fill_value=0).to_numpy().astype("int64")})


def _cells(place: shapely.Geometry, x: np.ndarray, y: np.ndarray, cell: float) -> gpd.GeoDataFrame:
    minx, miny, maxx, maxy = place.bounds
    x0, y0 = math.floor(minx / cell) * cell, math.floor(miny / cell) * cell
    nx = max(1, math.ceil((maxx - x0) / cell))
    ny = max(1, math.ceil((maxy - y0) / cell))
    ix = np.clip(np.floor((x - x0) / cell).astype(int), 0, nx - 1)
    iy = np.clip(np.floor((y - y0) / cell).astype(int), 0, ny - 1)
    counts = np.bincount(iy * nx + ix, minlength=nx * ny)
    jj, ii = np.divmod(np.arange(nx * ny), nx)
    boxes = shapely.box(x0 + ii * cell, y0 + jj * cell, x0 + (ii + 1) * cell, y0 + (jj + 1) * cell)
    shapely.prepare(place)
    keep = shapely.intersects(place, boxes) & ~shapely.touches(place, boxes)
    clipped = shapely.intersection(boxes[keep], place)
    total = int(counts.sum())
    out = gpd.GeoDataFrame(
        {
            "cell_id": np.flatnonzero(keep).astype("int64"),
            "count": counts[keep].astype("int64"),
            "share": counts[keep] / total if total else np.zeros(int(keep.sum())),
        },
        geometry=clipped,
        crs=BNG,
    )
    return out[CELL_COLUMNS].reset_index(drop=True)


def _points(inside: pd.DataFrame, total: int) -> gpd.GeoDataFrame:
    if "location_id" in inside.columns:
        key = inside["location_id"].to_numpy()
    else:
        key = pd.factorize(inside["x"].round(0).astype(str) + "," + inside["y"].round(0).astype(str))[0]
    df = inside.assign(_key=key)
    name = (
        df.groupby(["_key", "location_name"], sort=False, observed=True)
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["_key", "n", "location_name"], ascending=[True, False, True], kind="stable")
        .drop_duplicates("_key")
        .set_index("_key")["location_name"]
    )
    cat = (
        df.groupby(["_key", "category"], sort=False, observed=True)
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["_key", "n", "category"], ascending=[True, False, True], kind="stable")
        .drop_duplicates("_key")
        .set_index("_key")["category"]
    )
    has_lonlat = {"lon", "lat"} <= set(df.columns)
    agg = df.groupby("_key").agg(
        count=("x", "size"),
        x=("x", "first"),
        y=("y", "first"),
        **({"lon": ("lon", "first"), "lat": ("lat", "first")} if has_lonlat else {}),
    )
    agg["location_name"] = name.reindex(agg.index).astype(str).str.removeprefix(PREFIX)
    agg["top_category"] = cat.reindex(agg.index).astype(str)
    if not has_lonlat:
        ll = gpd.GeoSeries(gpd.points_from_xy(agg["x"], agg["y"]), crs=BNG).to_crs(4326)
        agg["lon"], agg["lat"] = ll.x.to_numpy(), ll.y.to_numpy()
    agg["share"] = agg["count"] / total if total else 0.0
    agg["location_id"] = agg.index.to_numpy() if "location_id" in inside.columns else -1
    agg = agg.sort_values(["count", "location_name"], ascending=[False, True], kind="stable")
    out = gpd.GeoDataFrame(agg, geometry=gpd.points_from_xy(agg["x"], agg["y"]), crs=BNG)
    out["count"] = out["count"].astype("int64")
    return out[POINT_COLUMNS].reset_index(drop=True)


def place_detail(
    incidents: pd.DataFrame,
    place_geometry: shapely.Geometry | gpd.GeoSeries | gpd.GeoDataFrame,
    *,
    cell_size: float | None = None,
    filt: Filter | None = None,
) -> PlaceDetail:
    """The incidents inside one place, by micro-cell, map point, location, category and month.

    Parameters
    ----------
    incidents
        Incident records (EPSG:27700 ``x``/``y``, ``category``, ``month``, ``location_name``;
        ``location_id`` and ``lon``/``lat`` used when present). Rows without a location are
        never in a place. Not modified.
    place_geometry
        The place's outline: a shapely Polygon/MultiPolygon in EPSG:27700, or a GeoSeries /
        GeoDataFrame in EPSG:27700 (its shapes are joined).
    cell_size
        Side of the micro-cells in metres. None: about :data:`CELLS_ACROSS` cells across the
        place's shorter side, a multiple of :data:`CELL_STEP` m within :data:`CELL_RANGE`
        (:func:`default_detail_cell_size`); the value used is in ``params``.
    filt
        Which incidents count (months, categories, …; its areas apply too). None: all.

    Returns
    -------
    PlaceDetail
        Counts by cell, map point, location, category and month, and the parameters used.

    Raises
    ------
    InputError
        If ``incidents`` lacks a required column, ``place_geometry`` is not a non-empty
        polygon, or ``cell_size`` is not a positive number.
    CRSError
        If ``place_geometry`` is a layer not in EPSG:27700, or a shape whose coordinates look
        like longitude/latitude.

    Notes
    -----
    The micro-grid is anchored at multiples of the cell size in British National Grid, as the
    hotspot grid is, so with the same cell size its cells are the hotspot's own cells. Cells
    are counted by position (each map point in exactly one cell), then clipped to the outline
    for drawing.
    """
    _check_incidents(incidents)
    place = _as_place(place_geometry)
    check_positive(cell_size, name="cell_size", unit="metres")
    rule = "given"
    if cell_size is None:
        cell_size = default_detail_cell_size(place)
        rule = (
            f"about {CELLS_ACROSS} cells across the place's shorter side, a multiple of {CELL_STEP:.0f} m "
            f"within {CELL_RANGE[0]:.0f}–{CELL_RANGE[1]:.0f} m"
        )
    cell_size = float(cell_size)

    # a mask over the shared frame, not a copy of the filtered rows (a million on the dashboard)
    keep = filt.mask(incidents) if filt is not None else None
    x = incidents["x"].to_numpy(dtype=float)
    y = incidents["y"].to_numpy(dtype=float)
    minx, miny, maxx, maxy = place.bounds
    near = np.isfinite(x) & (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
    if keep is not None:
        near &= keep
    idx = np.flatnonzero(near)
    shapely.prepare(place)
    idx = idx[shapely.intersects_xy(place, x[idx], y[idx])]
    cols = [
        c
        for c in ("x", "y", "lon", "lat", "location_id", "location_name", "category", "month")
        if c in incidents
    ]
    inside = incidents.iloc[idx][cols]
    total = len(inside)

    cells = _cells(place, x[idx], y[idx], cell_size)
    points = _points(inside, total)
    names = (
        inside["location_name"].astype(str).str.removeprefix(PREFIX).where(inside["location_name"].notna())
    )
    params = {
        "cell_size": cell_size,
        "cell_size_rule": rule,
        "area_km2": round(place.area / 1e6, 4),
        "n_points": len(points),
        "filter": (filt or Filter()).to_dict(),
    }
    return PlaceDetail(
        count=total,
        cells=cells,
        points=points,
        locations=_table(names, total),
        categories=_table(inside["category"], total),
        months=_months(inside, filt, incidents["month"] if keep is None else incidents["month"][keep]),
        params=params,
    )


__all__ = [
    "CELL_COLUMNS",
    "POINT_COLUMNS",
    "TABLE_COLUMNS",
    "PlaceDetail",
    "default_detail_cell_size",
    "place_detail",
]
