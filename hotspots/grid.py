"""Square analysis grid over a study area in British National Grid (EPSG:27700).

Every grid method (counts, kernel density, Getis-Ord Gi*) and the evaluation share one
:class:`Grid`: its cells are aligned to whole multiples of the cell size in BNG, so surfaces
from different runs line up cell for cell and open cleanly in QGIS.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots._errors import InputError
from hotspots._validate import BNG, check_choice, check_positive, check_projected

logger = logging.getLogger(__name__)

#: Target number of cells along the shorter side of the study area's bounding box.
CELLS_ON_SHORTER_SIDE = 50
#: Smallest default cell size, in metres (police.uk snap points are rarely closer together).
MIN_CELL_SIZE = 50.0
#: Largest grid built without complaint (cells); beyond this a surface is too slow to draw.
MAX_CELLS = 25_000_000
#: The analysis unit of hotspot places (metres): micro-cells, whatever the extent (chosen by
#: measurement on real month splits, ``docs/methods.md``).
MICRO_CELL_SIZE = 125.0
#: Largest place, in km², before it is split at its peaks (a few streets a team can walk).
MAX_PLACE_KM2 = 0.5
#: Named cell-size rules: ``"micro"`` (the default for hotspot places and evaluation) and
#: ``"display"`` (about 50 cells on the shorter side: overview surfaces, and the old default).
CELL_SIZE_RULES = ("micro", "display")
CELL_SIZE_TEXT = {
    "micro": f"micro places: {MICRO_CELL_SIZE:.0f} m cells, or the display rule's where they are finer "
    "(a small area)",
    "display": "display: about 50 cells on the shorter side",
    "user": "user",
}


@dataclass(frozen=True)
class Grid:
    """Square cells in EPSG:27700.

    Cell ``(iy, ix)`` covers ``x0 + ix*cell <= x < x0 + (ix+1)*cell`` and
    ``y0 + iy*cell <= y < y0 + (iy+1)*cell``; row 0 is the southern edge. Its ``cell_id`` is
    ``iy * nx + ix``.

    Attributes
    ----------
    x0, y0
        South-west corner of the grid (metres, a whole multiple of ``cell``).
    cell
        Cell side in metres.
    nx, ny
        Number of columns and rows.
    mask
        ``(ny, nx)`` boolean array, True where the cell intersects the study area.
    study_area
        The study area polygon the grid was built on (used to clip cells), or None.
    edge
        ``(ny, nx)`` boolean array, True where the study area's boundary crosses the cell (only
        those cells need clipping), or None (unknown: clip every cell).
    """

    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    mask: np.ndarray = field(compare=False, hash=False, repr=False)
    study_area: shapely.Geometry | None = field(default=None, compare=False, hash=False, repr=False)
    edge: np.ndarray | None = field(default=None, compare=False, hash=False, repr=False)

    # ------------------------------------------------------------------ geometry
    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)``."""
        return (self.ny, self.nx)

    @property
    def cell_area_km2(self) -> float:
        """Area of one cell in square kilometres."""
        return self.cell * self.cell / 1e6

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` of the whole grid."""
        return (self.x0, self.y0, self.x0 + self.nx * self.cell, self.y0 + self.ny * self.cell)

    def index(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the column and row of each point, ``-1`` for points off the grid or NaN.

        Parameters
        ----------
        x, y
            Coordinates in EPSG:27700 metres.

        Returns
        -------
        tuple of numpy.ndarray
            ``(ix, iy)`` as int64 arrays; both are ``-1`` where the point is outside the grid.
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        with np.errstate(invalid="ignore"):
            fx = np.floor((x - self.x0) / self.cell)
            fy = np.floor((y - self.y0) / self.cell)
            inside = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        ix = np.where(inside, fx, -1).astype(np.int64)
        iy = np.where(inside, fy, -1).astype(np.int64)
        return ix, iy

    def flat_index(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return each point's ``cell_id`` (``iy * nx + ix``), ``-1`` off the grid."""
        ix, iy = self.index(x, y)
        return np.where(ix >= 0, iy * self.nx + ix, -1)

    def counts(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Count (or sum ``weights`` of) the points in each cell.

        Points off the grid or with NaN coordinates are left out. Cells outside the study area
        keep their counts; use :attr:`mask` to ignore them.

        Returns
        -------
        numpy.ndarray
            ``(ny, nx)`` float array.
        """
        flat = self.flat_index(x, y)
        keep = flat >= 0
        w = None if weights is None else np.asarray(weights, dtype=float)[keep]
        out = np.bincount(flat[keep], weights=w, minlength=self.nx * self.ny)
        return out.astype(float).reshape(self.ny, self.nx)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(cx, cy)``: ``(ny, nx)`` arrays of cell centre coordinates."""
        xs = self.x0 + (np.arange(self.nx) + 0.5) * self.cell
        ys = self.y0 + (np.arange(self.ny) + 0.5) * self.cell
        cx, cy = np.meshgrid(xs, ys)
        return cx, cy

    def boxes(self, cell_ids: np.ndarray | None = None) -> np.ndarray:
        """Return shapely boxes for the given cell ids (all cells when None)."""
        if cell_ids is None:
            cell_ids = np.arange(self.nx * self.ny)
        cell_ids = np.asarray(cell_ids, dtype=np.int64)
        ix = cell_ids % self.nx
        iy = cell_ids // self.nx
        minx = self.x0 + ix * self.cell
        miny = self.y0 + iy * self.cell
        return shapely.box(minx, miny, minx + self.cell, miny + self.cell)

    def to_geodataframe(
        self, values: dict[str, np.ndarray] | None = None, *, only_mask: bool = True, clip: bool = False
    ) -> gpd.GeoDataFrame:
        """Return the cells as polygons with per-cell values.

        Parameters
        ----------
        values
            Column name → ``(ny, nx)`` array (or a flat array of ``nx*ny``).
        only_mask
            Keep only cells in :attr:`mask` (default True).
        clip
            Clip the cell squares to the study area (slower; for display and exports).

        Returns
        -------
        geopandas.GeoDataFrame
            Columns ``cell_id``, ``x``, ``y`` (cell centre, BNG), one column per value, and
            ``geometry``, in EPSG:27700.
        """
        values = values or {}
        ids = np.flatnonzero(self.mask.ravel()) if only_mask else np.arange(self.nx * self.ny)
        cx, cy = self.centres()
        data: dict[str, np.ndarray] = {
            "cell_id": ids,
            "x": cx.ravel()[ids],
            "y": cy.ravel()[ids],
        }
        for name, arr in values.items():
            arr = np.asarray(arr)
            if arr.size != self.nx * self.ny:
                raise InputError(
                    f"`values[{name!r}]` must have one value per cell ({self.ny} x {self.nx}); "
                    f"got shape {arr.shape}"
                )
            data[name] = arr.ravel()[ids]
        geoms = self.boxes(ids)
        if clip and self.study_area is not None:
            geoms = shapely.intersection(geoms, self.study_area)
        return gpd.GeoDataFrame(pd.DataFrame(data), geometry=geoms, crs=BNG)

    def describe(self) -> dict[str, float | int]:
        """Return the grid's parameters for result ``params`` and exports."""
        return {
            "cell_size_m": float(self.cell),
            "grid_x0": float(self.x0),
            "grid_y0": float(self.y0),
            "grid_nx": int(self.nx),
            "grid_ny": int(self.ny),
            "grid_cells_in_area": int(self.mask.sum()),
        }


def default_cell_size(bounds: tuple[float, float, float, float]) -> float:
    """Choose a cell size from the extent of the study area.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` in metres.

    Returns
    -------
    float
        Cell side in metres.

    Notes
    -----
    As in sfhotspot: about :data:`CELLS_ON_SHORTER_SIDE` (50) cells along the shorter side of the
    bounding box, rounded to the nearest 50 m below 1 km and the nearest 100 m above, and never
    below :data:`MIN_CELL_SIZE` (50 m). Staffordshire and Stoke-on-Trent (about 60 x 89 km) get
    1,200 m cells; one town of 5 x 6 km gets 100 m cells.
    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    shorter = min(maxx - minx, maxy - miny)
    if not math.isfinite(shorter) or shorter <= 0:
        return MIN_CELL_SIZE
    raw = shorter / CELLS_ON_SHORTER_SIDE
    step = 50.0 if raw < 1000 else 100.0
    return max(MIN_CELL_SIZE, round(raw / step) * step)


def analysis_cell_size(
    study_area: gpd.GeoSeries | gpd.GeoDataFrame, cell_size: float | str | None = None
) -> tuple[float, str]:
    """The cell size of hotspot places and of the evaluation, and the rule that chose it.

    Parameters
    ----------
    study_area
        Polygons in EPSG:27700.
    cell_size
        Metres; ``"micro"`` or None (the default); ``"display"`` (the overview rule, the default
        before micro places).

    Returns
    -------
    tuple
        ``(cell size in metres, rule)`` where the rule is ``"micro"``, ``"display"`` or ``"user"``.

    Raises
    ------
    InputError
        If ``cell_size`` is neither a positive number nor one of :data:`CELL_SIZE_RULES`.
    CRSError
        If ``study_area`` is not in EPSG:27700.

    Notes
    -----
    ``"micro"``: :data:`MICRO_CELL_SIZE` (125 m) whatever the extent — crime concentrates at
    the scale of a street or a parade, and that is where a team acts. 125 m is the largest cell
    (of 75–250 m) whose PAI at 1% of the area is at least twice the display rule's on every
    county all-crime month split of 2025 (150 m: 1.93–1.96 times; 125 m: 2.13–2.19; tables in
    ``docs/methods.md``); larger cells make fewer, more walkable places and a cheaper grid.
    Where the display rule gives finer cells (a study area about 6 km across or less), those
    are used.
    """
    if isinstance(cell_size, str):
        check_choice(cell_size, CELL_SIZE_RULES, name="cell_size")
        rule = cell_size
    elif cell_size is None:
        rule = "micro"
    else:
        check_positive(cell_size, name="cell_size", unit="metres")
        return float(cell_size), "user"
    display = default_cell_size(shapely.bounds(_as_geometry(study_area)))
    return (display, rule) if rule == "display" else (min(MICRO_CELL_SIZE, display), rule)


def _as_geometry(study_area: gpd.GeoSeries | gpd.GeoDataFrame) -> shapely.Geometry:
    if not isinstance(study_area, gpd.GeoSeries | gpd.GeoDataFrame):
        raise InputError(
            "`study_area` must be a GeoSeries or GeoDataFrame in EPSG:27700 "
            f"(for example `geography.study_area`); got {type(study_area).__name__}"
        )
    check_projected(study_area, name="study_area")
    geoms = study_area.geometry if isinstance(study_area, gpd.GeoDataFrame) else study_area
    geoms = geoms[geoms.notna() & ~geoms.is_empty]
    if geoms.empty:
        raise InputError("`study_area` has no geometry; pass the areas to analyse as polygons")
    geom = shapely.union_all(geoms.to_numpy())
    if geom.area <= 0:
        raise InputError("`study_area` has no area; pass polygons, not points or lines")
    return geom


def make_grid(study_area: gpd.GeoSeries | gpd.GeoDataFrame, *, cell_size: float | None = None) -> Grid:
    """Build a square grid covering ``study_area``.

    Parameters
    ----------
    study_area
        Polygons in EPSG:27700 (for example ``geography.study_area``).
    cell_size
        Cell side in metres; None chooses it with :func:`default_cell_size`.

    Returns
    -------
    Grid
        Cells aligned to multiples of the cell size; :attr:`Grid.mask` marks the cells that
        intersect the study area.

    Raises
    ------
    CRSError
        If ``study_area`` has no CRS, a geographic CRS, or is not EPSG:27700.
    InputError
        If ``cell_size`` is not a positive number, or the grid would exceed 25 million cells.
    """
    check_positive(cell_size, name="cell_size", unit="metres")
    geom = _as_geometry(study_area)
    minx, miny, maxx, maxy = shapely.bounds(geom)
    if cell_size is None:
        cell = default_cell_size((minx, miny, maxx, maxy))
        logger.info("cell size set to %.0f m (about 50 cells on the shorter side)", cell)
    else:
        cell = float(cell_size)
    x0 = math.floor(minx / cell) * cell
    y0 = math.floor(miny / cell) * cell
    nx = max(1, math.ceil((maxx - x0) / cell))
    ny = max(1, math.ceil((maxy - y0) / cell))
    if nx * ny > MAX_CELLS:
        raise InputError(
            f"`cell_size` {cell:g} m gives {nx * ny:,} cells over this study area (limit "
            f"{MAX_CELLS:,}); use a cell size of at least {math.ceil(cell * math.sqrt(nx * ny / MAX_CELLS))} m"
        )
    key = (hash(shapely.to_wkb(geom)), float(x0), float(y0), cell, int(nx), int(ny))
    if key in _GRIDS:
        return _GRIDS[key]
    mask, edge = _intersecting_cells(geom, x0, y0, cell, nx, ny)
    mask.flags.writeable = False
    edge.flags.writeable = False
    grid = Grid(
        x0=float(x0), y0=float(y0), cell=cell, nx=int(nx), ny=int(ny), mask=mask, study_area=geom, edge=edge
    )
    _GRIDS[key] = grid
    while len(_GRIDS) > _GRID_CACHE:
        _GRIDS.pop(next(iter(_GRIDS)))
    return grid


#: Grids built lately (a grid is read-only: its masks are frozen), so that a filter change over the
#: same area does not rebuild the mask of 100,000+ micro-cells.
_GRIDS: dict[tuple, Grid] = {}
_GRID_CACHE = 16


def _intersecting_cells(
    geom: shapely.Geometry, x0: float, y0: float, cell: float, nx: int, ny: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(mask, edge)``: cells that intersect ``geom``, and the cells its boundary crosses."""
    xs = x0 + (np.arange(nx) + 0.5) * cell
    ys = y0 + (np.arange(ny) + 0.5) * cell
    cx, cy = np.meshgrid(xs, ys)
    shapely.prepare(geom)
    mask = shapely.contains_xy(geom, cx, cy)
    boundary = shapely.boundary(geom)
    # cells crossed by the boundary: query the boundary's segments against the cell boxes
    segments = _segments(boundary)
    if len(segments):
        # candidate cells: those under each segment's bounding box (never the whole grid)
        sx0, sy0, sx1, sy1 = shapely.bounds(segments).T
        i0 = np.clip(np.floor((sx0 - x0) / cell).astype(np.int64), 0, nx - 1)
        i1 = np.clip(np.floor((sx1 - x0) / cell).astype(np.int64), 0, nx - 1)
        j0 = np.clip(np.floor((sy0 - y0) / cell).astype(np.int64), 0, ny - 1)
        j1 = np.clip(np.floor((sy1 - y0) / cell).astype(np.int64), 0, ny - 1)
        w, h = i1 - i0 + 1, j1 - j0 + 1
        seg = np.repeat(np.arange(len(segments)), w * h)
        k = np.arange(seg.size) - np.repeat(np.cumsum(w * h) - w * h, w * h)
        ix = i0[seg] + k % w[seg]
        iy = j0[seg] + k // w[seg]
        ids = iy * nx + ix
        minx = x0 + (ids % nx) * cell
        miny = y0 + (ids // nx) * cell
        hit = shapely.intersects(segments[seg], shapely.box(minx, miny, minx + cell, miny + cell))
        edge = np.zeros(nx * ny, dtype=bool)
        edge[np.unique(ids[hit])] = True
        edge = edge.reshape(ny, nx)
    else:
        edge = np.zeros((ny, nx), dtype=bool)
    return mask | edge, edge


def _segments(boundary: shapely.Geometry) -> np.ndarray:
    """Split a (multi)line boundary into its straight segments."""
    parts = shapely.get_parts(boundary)
    coords, index = shapely.get_coordinates(parts, return_index=True)
    if len(coords) < 2:
        return np.empty(0, dtype=object)
    same = index[1:] == index[:-1]
    start = coords[:-1][same]
    end = coords[1:][same]
    return shapely.linestrings(np.stack([start, end], axis=1))
