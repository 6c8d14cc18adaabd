"""Multi-agency demand: where police and partner demand coincide, month after month.

For each unit (a micro grid cell, or an area at a level) and each source (``police.uk`` and
every partner source), this module gives the source's demand on a comparable scale, a
composite, and the flag **persistent multi-agency high demand**; and the difference or
ratio of two sources' kernel density surfaces (:func:`dual_kde`).

Scale and rules (defaults stated in the result's ``attrs['params']``)
-----------------------------------------------------------------------
* **Comparable scale: each source's share of its own total.** ``share_<source>`` is the
  unit's count of that source's incidents divided by the source's total in the period (both
  after the filter), so a source with 100 incidents and one with 100,000 weigh the same.
  Shares of one source sum to 1 over the units.
* **Composite**: the mean of the sources' shares (each source weighs equally), so it also
  sums to 1 over the units; ``composite_rank`` 1 is the highest.
* **High demand in a month**: a unit is in the *top share* of a source in a month when its
  count is at least the count of the ``ceil(top_share × units)``-th unit in that month and
  more than zero (ties at the threshold are all in). ``units`` are the units with any
  incident of any chosen source in the whole store (cells: grid cells holding a location;
  areas: every area at the level). Default ``top_share`` 0.05: the top 5% of places.
* **Persistent multi-agency high demand**: in at least ``min_months`` (k, default 6) of the
  last ``months`` (n, default 12) months of the period, the unit is in the top share of at
  least ``min_sources`` (default 2) sources. The months are counted in the month range of
  the filter (or the data's latest ``months`` months when the filter is open-ended).
* **Units**: ``cell`` — square cells of ``cell_size`` metres (default 150 m, the micro place
  scale of DESIGN.md) on a grid aligned to multiples of the cell size; or an area level
  (``lsoa``, ``ward``, ``district``, ``locality``).

Speed: :class:`DemandCube` integer-codes the incidents once (unit, source, month); a filter
change is then one boolean mask, one ``np.bincount`` into a (source × month × unit) array
and one ``np.partition`` per source-month (see ``bench/bench_demand.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots._errors import InputError
from hotspots.areas import CodedIncidents
from hotspots.filters import LEVEL_COLUMN, LEVELS, Filter

UNITS = ("cell", *LEVELS)
#: Largest (source × category × month × unit) count table kept for fast filter changes (int32).
_MAX_FULL = 60_000_000
DEFAULT_CELL_SIZE = 150.0
DEFAULT_MONTHS = 12
DEFAULT_MIN_MONTHS = 6
DEFAULT_TOP_SHARE = 0.05
DEFAULT_MIN_SOURCES = 2
#: Columns of every demand table, before the per-source columns
#: (``count_<source>``, ``share_<source>``, ``high_months_<source>``) and the composite ones.
DEMAND_COLUMNS = ["unit", "unit_id", "x", "y"]
COMPOSITE_COLUMNS = ["composite", "composite_rank", "multi_high_months", "persistent"]


@dataclass(frozen=True)
class DemandParams:
    """The parameters of a demand table, as plain values (written into exports)."""

    sources: tuple[str, ...]
    unit: str
    cell_size: float | None
    months: int
    min_months: int
    top_share: float
    min_sources: int
    month_window: tuple[str, str]
    scale: str = "share of the source's own total in the period"
    composite: str = "mean of the sources' shares"

    def describe(self) -> str:
        """One sentence for captions."""
        unit = f"{self.cell_size:g} m cells" if self.unit == "cell" else f"{self.unit}s"
        return (
            f"Persistent multi-agency high demand: {unit} in the top {self.top_share:.0%} of at least "
            f"{self.min_sources} of {', '.join(self.sources)} in at least {self.min_months} of the "
            f"{self.months} months {self.month_window[0]} to {self.month_window[1]}"
        )


def _check(
    *, months: int, min_months: int, top_share: float, min_sources: int, unit: str, cell_size: float | None
) -> None:
    """All input checks of the demand functions, with the valid values."""
    if unit not in UNITS:
        raise InputError(f"`unit` must be one of {', '.join(UNITS)}; got {unit!r}")
    if cell_size is not None and not (np.isfinite(cell_size) and cell_size > 0):
        raise InputError(f"`cell_size` must be a positive number of metres; got {cell_size!r}")
    if int(months) != months or months < 1:
        raise InputError(f"`months` must be a whole number of months, 1 or more; got {months!r}")
    if int(min_months) != min_months or not 1 <= min_months <= months:
        raise InputError(f"`min_months` must be between 1 and `months` ({months}); got {min_months!r}")
    if not 0 < top_share < 1:
        raise InputError(
            f"`top_share` must be between 0 and 1, such as 0.05 for the top 5%; got {top_share!r}"
        )
    if int(min_sources) != min_sources or min_sources < 1:
        raise InputError(f"`min_sources` must be a whole number, 1 or more; got {min_sources!r}")


class DemandCube:
    """Incidents coded once by unit, source and month, for fast demand tables.

    Parameters
    ----------
    incidents
        The incident frame (store's ``incidents()``), all sources.
    unit
        ``cell`` (default) or an area level.
    cell_size
        Cell side in metres for ``unit="cell"`` (None: :data:`DEFAULT_CELL_SIZE`, 150 m).
    geography
        Needed for area units (every area of the level is a unit, with its name).

    Raises
    ------
    InputError
        If ``unit`` or ``cell_size`` is not valid, or an area unit is asked without ``geography``.
    """

    def __init__(
        self, incidents: pd.DataFrame, *, unit: str = "cell", cell_size: float | None = None, geography=None
    ):
        _check(months=1, min_months=1, top_share=0.5, min_sources=1, unit=unit, cell_size=cell_size)
        self.incidents = incidents
        self.unit = unit
        self.coded = CodedIncidents(incidents)
        self.sources = tuple(str(s) for s in self.coded.codes["source"][1])
        if unit == "cell":
            self.cell_size = float(cell_size or DEFAULT_CELL_SIZE)
            x = incidents["x"].to_numpy(dtype=float)
            y = incidents["y"].to_numpy(dtype=float)
            ok = np.isfinite(x) & np.isfinite(y)
            c = self.cell_size
            ix = np.full(len(x), -1, dtype=np.int64)
            iy = np.full(len(x), -1, dtype=np.int64)
            ix[ok] = np.floor(x[ok] / c).astype(np.int64)
            iy[ok] = np.floor(y[ok] / c).astype(np.int64)
            key = np.where(ok, iy * 10_000_000 + ix, -1)
            cells, inverse = np.unique(key[ok], return_inverse=True)
            self.unit_index = np.full(len(x), -1, dtype=np.int64)
            self.unit_index[ok] = inverse
            self.unit_ids = cells  # iy * 1e7 + ix, on the national grid
            cx = (cells % 10_000_000 + 0.5) * c
            cy = (cells // 10_000_000 + 0.5) * c
            self.unit_xy = (cx, cy)
            self.unit_names = None
        else:
            if geography is None:
                raise InputError(f"`geography` is needed for demand by {unit}; pass the store's geography")
            self.cell_size = None
            areas = geography.areas(unit)
            codes = areas["area_code"].astype(str).to_numpy()
            col = incidents[LEVEL_COLUMN[unit]].astype(object)
            pos = pd.Index(codes).get_indexer(col.where(col.notna(), None))
            self.unit_index = pos.astype(np.int64)
            self.unit_ids = codes
            cent = areas.geometry.representative_point()
            self.unit_xy = (cent.x.to_numpy(), cent.y.to_numpy())
            self.unit_names = areas["area_name"].to_numpy()
            self.areas = areas
        self.n_units = len(self.unit_ids)
        # per incident, once: its (month, unit) slot; -1 when it has no unit
        located = self.unit_index >= 0
        self._slot = np.where(
            located, self.coded.month_idx.astype(np.int64) * self.n_units + self.unit_index, -1
        )
        self._src = self.coded.codes["source"][0].astype(np.int64)
        self._months = pd.period_range(
            pd.Period(ordinal=self.coded.month0, freq="M"), periods=self.coded.n_months, freq="M"
        ).to_timestamp()
        self._by_area: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # level column -> (order, bounds)
        # counts by (source, category, month, unit), once, when small enough: a filter of months,
        # month-of-year, categories and sources is then a slice and a sum (no pass over incidents)
        cat_codes, cat_cats = self.coded.codes["category"]
        n_src, n_cat, n_m = len(self.sources), len(cat_cats), self.coded.n_months
        self._full = None
        if n_src * n_cat * n_m * self.n_units <= _MAX_FULL:
            ok = (self._slot >= 0) & (cat_codes >= 0) & (self._src >= 0)
            flat = (self._src[ok] * n_cat + cat_codes[ok]) * (n_m * self.n_units) + self._slot[ok]
            full = np.bincount(flat, minlength=n_src * n_cat * n_m * self.n_units)
            self._full = full.astype(np.int32).reshape(n_src, n_cat, n_m, self.n_units)
            self._by_source = self._full.sum(axis=1, dtype=np.int32)

    # ------------------------------------------------------------------ the cube
    def counts(self, filt: Filter, sources: tuple[str, ...]) -> tuple[np.ndarray, pd.DatetimeIndex]:
        """Counts ``(source, month, unit)`` of the filtered incidents, and the months.

        Filters of months, months of the year, categories and sources are answered from the
        (source × category × month × unit) table built once; a filter of areas from the
        incidents of those areas only (incidents sorted by area once per level, on first use);
        filters of days, hours or partner columns from one pass over the incidents.
        """
        n_m = self.coded.n_months
        months = self._months
        src_cats = self.coded.codes["source"][1]
        if self._full is not None and not (filt.areas or filt.days_of_week or filt.hours or filt.extra):
            cat_cats = self.coded.codes["category"][1]
            s_idx = [src_cats.get_loc(s) for s in sources]
            if filt.categories:
                c_idx = cat_cats.get_indexer(list(filt.categories))
                c_idx = c_idx[c_idx >= 0]
                cube = np.zeros((len(s_idx), n_m, self.n_units), dtype=np.int64)
                for c in c_idx:  # a few categories: add their slices
                    cube += self._full[s_idx, c]
            else:
                cube = self._by_source[s_idx].astype(np.int64)
            in_range = np.ones(n_m, dtype=bool)
            if filt.month_from:
                in_range &= months >= pd.Timestamp(filt.month_from + "-01")
            if filt.month_to:
                in_range &= months <= pd.Timestamp(filt.month_to + "-01")
            if filt.months_of_year:
                in_range &= np.isin(months.month, filt.months_of_year)
            cube[:, ~in_range, :] = 0
            return cube, months
        # each chosen source's block of the cube starts at k * months * units
        offset = np.full(len(src_cats) + 1, -1, dtype=np.int64)
        for k, s in enumerate(sources):
            offset[src_cats.get_loc(s)] = k * n_m * self.n_units
        if filt.areas and not (filt.days_of_week or filt.hours or filt.extra):
            idx = self._area_rows(filt)
            idx = idx[self._keep_rows(idx, filt.replace(sources=sources, areas=()))]
        else:
            keep = self.coded.mask(filt.replace(sources=sources))  # only the chosen sources
            idx = np.flatnonzero(keep)
        slot = self._slot[idx]
        flat = offset[self._src[idx]] + slot
        flat = flat[slot >= 0]
        cube = np.bincount(flat, minlength=len(sources) * n_m * self.n_units)
        return cube.reshape(len(sources), n_m, self.n_units), months

    def _area_rows(self, filt: Filter) -> np.ndarray:
        """Rows of the incidents in the filter's areas (sorted by area once per level)."""
        col = LEVEL_COLUMN[filt.level]
        codes, cats = self.coded.codes[col]
        if col not in self._by_area:
            order = np.argsort(codes, kind="stable")
            bounds = np.searchsorted(codes[order], np.arange(-1, len(cats) + 1))
            self._by_area[col] = (order, bounds)
        order, bounds = self._by_area[col]
        pos = cats.get_indexer(list(filt.areas))
        pos = pos[pos >= 0]
        # bounds[c + 1] .. bounds[c + 2] are the rows of code c (bounds[0] is code -1: no area)
        parts = [order[bounds[c + 1] : bounds[c + 2]] for c in pos]
        return np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)

    def _keep_rows(self, idx: np.ndarray, filt: Filter) -> np.ndarray:
        """:meth:`CodedIncidents.mask` for the rows ``idx`` only (months, categories, sources)."""
        c = self.coded
        keep = np.ones(len(idx), dtype=bool)
        m = c.month_ordinal[idx]
        if filt.month_from:
            keep &= m >= pd.Period(filt.month_from, "M").ordinal
        if filt.month_to:
            keep &= m <= pd.Period(filt.month_to, "M").ordinal
        if filt.months_of_year:
            keep &= np.isin(c.moy[idx], filt.months_of_year)
        for field, col in (("categories", "category"), ("sources", "source")):
            values = getattr(filt, field)
            if values:
                codes, cats = c.codes[col]
                wanted = np.zeros(len(cats) + 1, dtype=bool)
                pos = cats.get_indexer(list(values))
                wanted[pos[pos >= 0]] = True
                keep &= wanted[codes[idx]]
        return keep

    def table(
        self,
        filt: Filter | None = None,
        *,
        sources: tuple[str, ...] | list[str] | None = None,
        months: int = DEFAULT_MONTHS,
        min_months: int = DEFAULT_MIN_MONTHS,
        top_share: float = DEFAULT_TOP_SHARE,
        min_sources: int = DEFAULT_MIN_SOURCES,
    ) -> pd.DataFrame:
        """Demand per source, composite and persistence for every unit (see the module notes).

        Parameters
        ----------
        filt
            Which incidents (month range, categories, areas …); ``filt.sources`` is ignored in
            favour of ``sources``.
        sources
            Sources to compare (None: every source in the data, or ``filt.sources`` if set).
        months, min_months, top_share, min_sources
            Persistence rule: in the top ``top_share`` of at least ``min_sources`` sources in at
            least ``min_months`` of the last ``months`` months (defaults 12, 6, 0.05, 2).

        Returns
        -------
        DataFrame
            One row per unit with any incident in the period: :data:`DEMAND_COLUMNS`, then per
            source ``count_<s>``, ``share_<s>``, ``high_months_<s>``, then
            :data:`COMPOSITE_COLUMNS`; sorted by ``composite_rank``. ``attrs['params']`` holds
            :class:`DemandParams` as a dict; ``attrs['persistent_units']`` their ids.

        Raises
        ------
        InputError
            For a source not in the data, fewer sources than ``min_sources``, or parameters
            out of range.
        """
        filt = filt or Filter()
        sources = tuple(sources or filt.sources or self.sources)
        unknown = [s for s in sources if s not in self.sources]
        if unknown:
            raise InputError(
                f"source(s) {', '.join(map(repr, unknown))} are not in the data; sources: {', '.join(self.sources)}"
            )
        if len(sources) < min_sources:
            raise InputError(
                f"multi-agency demand needs at least `min_sources` ({min_sources}) sources; got {', '.join(sources)}"
            )
        _check(
            months=months,
            min_months=min_months,
            top_share=top_share,
            min_sources=min_sources,
            unit=self.unit,
            cell_size=self.cell_size,
        )
        cube, all_months = self.counts(filt, sources)
        # the window: the last `months` months of the filter's range (or of the data)
        end = pd.Timestamp(filt.month_to + "-01") if filt.month_to else all_months[-1]
        start = pd.Timestamp(filt.month_from + "-01") if filt.month_from else all_months[0]
        end_i = int(np.searchsorted(all_months, end, side="right")) - 1
        start_i = max(int(np.searchsorted(all_months, start)), end_i - months + 1)
        window = cube[:, start_i : end_i + 1, :]
        total = cube.sum(axis=1)  # (source, unit) over the whole filtered period
        k = max(1, math.ceil(top_share * self.n_units))
        # K-th largest count of each source-month: partition along units
        if self.n_units >= k and window.shape[1]:
            thr = -np.partition(-window, k - 1, axis=2)[:, :, k - 1]
        else:
            thr = np.zeros(window.shape[:2], dtype=cube.dtype)
        high = (window >= thr[:, :, None]) & (window > 0)
        multi = high.sum(axis=0) >= min_sources  # (month, unit)
        multi_months = multi.sum(axis=0)
        persistent = multi_months >= min_months
        sums = total.sum(axis=1, keepdims=True).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(sums > 0, total / sums, 0.0)
        composite = share.mean(axis=0)
        high_months = high.sum(axis=1)  # (source, unit)
        present = np.flatnonzero(total.sum(axis=0) > 0)
        # highest composite first (ties by unit id), built in that order: no frame sort
        idx = present[np.lexsort((np.arange(len(present)), -composite[present]))]
        comp = composite[idx]
        first = np.r_[True, comp[1:] != comp[:-1]]
        rank = np.maximum.accumulate(np.where(first, np.arange(1, len(idx) + 1), 0))
        cols: dict[str, object] = {
            "unit": np.full(len(idx), self.unit, dtype=object),
            "unit_id": self.unit_ids[idx],
        }
        if self.unit_names is not None:
            cols["area_name"] = self.unit_names[idx]
        cols["x"] = self.unit_xy[0][idx]
        cols["y"] = self.unit_xy[1][idx]
        for j, s in enumerate(sources):
            cols[f"count_{s}"] = total[j, idx]
            cols[f"share_{s}"] = share[j, idx]
            cols[f"high_months_{s}"] = high_months[j, idx]
        cols["composite"] = comp
        cols["composite_rank"] = rank.astype(np.int64)
        cols["multi_high_months"] = multi_months[idx]
        cols["persistent"] = persistent[idx]
        out = pd.DataFrame(cols)
        win = (
            (all_months[start_i].strftime("%Y-%m"), all_months[end_i].strftime("%Y-%m"))
            if end_i >= start_i
            else ("", "")
        )
        params = DemandParams(
            sources=sources,
            unit=self.unit,
            cell_size=self.cell_size,
            months=int(months),
            min_months=int(min_months),
            top_share=float(top_share),
            min_sources=int(min_sources),
            month_window=win,
        )
        out.attrs["params"] = params.__dict__ | {"sources": list(sources), "month_window": list(win)}
        out.attrs["describe"] = params.describe()
        out.attrs["months_in_window"] = int(window.shape[1])
        out.attrs["units"] = self.n_units
        out.attrs["top_k"] = k
        return out

    def geometry(self, table: pd.DataFrame) -> gpd.GeoDataFrame:
        """The demand table with each unit's polygon (EPSG:27700): cell squares or area outlines."""
        if self.unit == "cell":
            c = self.cell_size
            ids = table["unit_id"].to_numpy()
            x0 = (ids % 10_000_000) * c
            y0 = (ids // 10_000_000) * c
            geom = shapely.box(x0, y0, x0 + c, y0 + c)
        else:
            geom = (
                self.areas.set_index(self.areas["area_code"].astype(str))
                .geometry.reindex(table["unit_id"])
                .to_numpy()
            )
        return gpd.GeoDataFrame(table, geometry=geom, crs=27700)


def demand(
    incidents: pd.DataFrame,
    *,
    sources: tuple[str, ...] | list[str] | None = None,
    filt: Filter | None = None,
    unit: str = "cell",
    cell_size: float | None = None,
    geography=None,
    months: int = DEFAULT_MONTHS,
    min_months: int = DEFAULT_MIN_MONTHS,
    top_share: float = DEFAULT_TOP_SHARE,
    min_sources: int = DEFAULT_MIN_SOURCES,
    with_geometry: bool = False,
) -> pd.DataFrame:
    """Demand per source, composite and persistent multi-agency high demand, per unit.

    One call of :meth:`DemandCube.table` on a cube built for these incidents; build a
    :class:`DemandCube` once to answer many filters. Parameters, returns and rules: see
    :class:`DemandCube`, :meth:`DemandCube.table` and the module notes.

    Raises
    ------
    InputError
        As :class:`DemandCube` and :meth:`DemandCube.table`.
    """
    cube = DemandCube(incidents, unit=unit, cell_size=cell_size, geography=geography)
    table = cube.table(
        filt,
        sources=sources,
        months=months,
        min_months=min_months,
        top_share=top_share,
        min_sources=min_sources,
    )
    if with_geometry:
        attrs = dict(table.attrs)
        table = cube.geometry(table)
        table.attrs.update(attrs)
    return table


# ---------------------------------------------------------------------------- places
#: Columns of :func:`place_demand` before the per-source ones (``count_<s>``, ``share_<s>``).
PLACE_COLUMNS = ["rank", "hotspot_id", "name"]
#: Its columns after them.
PLACE_COMPOSITE_COLUMNS = [
    "composite",
    "composite_rank",
    "persistent_cells",
    "multi_high_months",
    "persistent",
]
#: A point place (a ``repeat`` map point) holds the incidents within this many metres of it.
POINT_TOLERANCE_M = 0.5


def place_members(places: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Position (0-based) in ``places`` of the place holding each point, -1 for none.

    A point inside (or on the edge of) several places goes to the first of them (the best
    ranked, in a ranked list); a point place holds the points within
    :data:`POINT_TOLERANCE_M` metres.

    Notes
    -----
    Each distinct map point is tested once (police.uk snaps incidents to a fixed set of points),
    and only against the places whose bounding box holds it (points sorted by x once; a slab
    per place), with ``shapely.intersects_xy``: no point geometries are built.
    """
    out = np.full(len(x), -1, dtype=np.int64)
    geoms = places.geometry.to_numpy()
    fin = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if not len(geoms) or not len(fin):
        return out
    key = np.round(x[fin] * 1000).astype(np.int64) * 10_000_000_000 + np.round(y[fin] * 1000).astype(np.int64)
    codes, uniq = pd.factorize(key)
    first = np.full(len(uniq), len(fin), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(fin)))
    ux, uy = x[fin[first]], y[fin[first]]
    order = np.argsort(ux, kind="stable")
    sx = ux[order]
    best = np.full(len(uniq), -1, dtype=np.int64)
    bounds = shapely.bounds(geoms)
    is_point = np.isin(shapely.get_type_id(geoms), (0, 4))  # Point, MultiPoint
    tol = POINT_TOLERANCE_M
    for i, g in enumerate(geoms):  # best ranked first: a point keeps the first place holding it
        pad = tol if is_point[i] else 0.0
        x0, y0, x1, y1 = bounds[i] + np.array([-pad, -pad, pad, pad])
        lo, hi = np.searchsorted(sx, x0, side="left"), np.searchsorted(sx, x1, side="right")
        cand = order[lo:hi]
        cand = cand[(uy[cand] >= y0) & (uy[cand] <= y1) & (best[cand] < 0)]
        if not len(cand):
            continue
        if is_point[i]:
            inside = shapely.distance(g, shapely.points(ux[cand], uy[cand])) <= tol
        else:
            inside = shapely.intersects_xy(g, ux[cand], uy[cand])
        best[cand[inside]] = i
    out[fin] = best[codes]
    return out


def cell_owner(
    cells: pd.DataFrame, x: np.ndarray, y: np.ndarray, member: np.ndarray, *, cell_size: float
) -> np.ndarray:
    """For each cell of a demand table, the place holding most of its incidents (-1: none).

    Parameters
    ----------
    cells
        A cell demand table (``unit_id`` = ``iy * 10_000_000 + ix`` of ``cell_size`` cells).
    x, y, member
        The incidents' coordinates and place (:func:`place_members`, -1 for none).
    cell_size
        The cells' side in metres.

    Returns
    -------
    numpy.ndarray
        Position in the places of each cell's owner; ties go to the first place (the best ranked).
    """
    out = np.full(len(cells), -1, dtype=np.int64)
    ok = (member >= 0) & np.isfinite(x) & np.isfinite(y)
    if not ok.any() or not len(cells):
        return out
    key = np.floor(y[ok] / cell_size).astype(np.int64) * 10_000_000 + np.floor(x[ok] / cell_size).astype(
        np.int64
    )
    pairs = pd.DataFrame({"cell": key, "place": member[ok]}).value_counts().reset_index(name="n")
    pairs = pairs.sort_values(["cell", "n", "place"], ascending=[True, False, True]).drop_duplicates("cell")
    pos = pd.Index(cells["unit_id"].to_numpy()).get_indexer(pairs["cell"].to_numpy())
    out[pos[pos >= 0]] = pairs["place"].to_numpy()[pos >= 0]
    return out


def place_demand(
    incidents: pd.DataFrame,
    places: gpd.GeoDataFrame,
    *,
    sources: tuple[str, ...] | list[str] | None = None,
    filt: Filter | None = None,
    cells: pd.DataFrame | None = None,
    cell_size: float | None = None,
    months: int = DEFAULT_MONTHS,
    min_months: int = DEFAULT_MIN_MONTHS,
    top_share: float = DEFAULT_TOP_SHARE,
    min_sources: int = DEFAULT_MIN_SOURCES,
) -> gpd.GeoDataFrame:
    """Demand per source, composite and persistence for each named place of a hotspot list.

    Parameters
    ----------
    incidents
        The incident frame, all sources.
    places
        The places: a hotspot list (:func:`hotspots.hotspot_list.find_hotspots`; columns
        ``rank``, ``hotspot_id``, ``name``, geometry in EPSG:27700), or any polygons or points
        with those columns.
    sources
        Sources to compare (None: every source in the data, or ``filt.sources`` if set).
    filt
        Which incidents (month range, categories, areas …); ``filt.sources`` gives the sources
        when ``sources`` is None.
    cells
        The 150 m cell table (:func:`demand` with ``with_geometry=True``) for the same filter,
        sources and rule, if already computed (the dashboard's cached one); None computes it.
    cell_size, months, min_months, top_share, min_sources
        The cell rule (see :meth:`DemandCube.table`; defaults 150 m, 12, 6, 0.05, 2).

    Returns
    -------
    GeoDataFrame
        One row per place, in the places' order: :data:`PLACE_COLUMNS`, per source
        ``count_<s>`` (its incidents in the place) and ``share_<s>`` (of the source's incidents
        with a location in the filter: the comparable scale of the module notes), then
        :data:`PLACE_COMPOSITE_COLUMNS` and the geometry. ``attrs['params']`` as the cell table's
        plus ``place_rule``.

    Raises
    ------
    InputError
        As :meth:`DemandCube.table`, or if ``places`` lacks its columns or is not in EPSG:27700.

    Notes
    -----
    **Composite**: the mean of the sources' shares, as for cells and areas. **Persistent**: the
    place holds at least one persistent multi-agency 150 m cell, a cell belonging to the place
    that holds most of its incidents (:func:`cell_owner`), so that one persistent cell marks the
    one place where its demand is, not each place its corner overlaps (``persistent_cells`` counts them; ``multi_high_months`` is the most
    months any of its cells was high for ``min_sources`` sources). The rule stays on cells so
    that a place's flag does not depend on which other places the method listed. Incidents are in a place when their map point
    is inside its outline (a point place: within 0.5 m of it); a point inside two overlapping
    places counts for the better ranked one only.
    """
    missing = [c for c in PLACE_COLUMNS if c not in places.columns]
    if missing or not isinstance(places, gpd.GeoDataFrame):
        raise InputError(
            f"`places` must be a hotspot list (GeoDataFrame with {', '.join(PLACE_COLUMNS)}); "
            f"missing: {', '.join(missing) or 'geometry'}"
        )
    if places.crs is None or places.crs.to_epsg() != 27700:
        raise InputError(f"`places` must be in EPSG:27700 (British National Grid); got {places.crs}")
    filt = filt or Filter()
    if cells is None:
        cells = demand(
            incidents,
            sources=sources or filt.sources or None,
            filt=filt.replace(sources=()),
            cell_size=cell_size,
            months=months,
            min_months=min_months,
            top_share=top_share,
            min_sources=min_sources,
            with_geometry=True,
        )
    params = dict(cells.attrs["params"])
    sources = tuple(params["sources"])
    sel = filt.replace(sources=sources).apply(incidents)
    x = sel["x"].to_numpy(dtype=float)
    y = sel["y"].to_numpy(dtype=float)
    member = place_members(places, x, y)
    src = pd.Categorical(sel["source"].astype(str), categories=list(sources)).codes.astype(np.int64)
    n = len(places)
    ok = (member >= 0) & (src >= 0)
    counts = np.bincount(src[ok] * n + member[ok], minlength=len(sources) * n).reshape(len(sources), n)
    located = (src >= 0) & np.isfinite(x) & np.isfinite(y)  # the total of the cells' shares too
    totals = np.bincount(src[located], minlength=len(sources)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(totals[:, None] > 0, counts / totals[:, None], 0.0)
    composite = share.mean(axis=0)
    # each cell belongs to the place holding most of its incidents: a persistent cell marks one
    # place only, the one where its demand is
    owner = cell_owner(
        cells, x[src >= 0], y[src >= 0], member[src >= 0], cell_size=float(params["cell_size"])
    )
    held = owner >= 0
    n_cells = np.bincount(owner[held & cells["persistent"].to_numpy()], minlength=n)
    multi = np.zeros(n, dtype=np.int64)
    np.maximum.at(multi, owner[held], cells["multi_high_months"].to_numpy()[held])
    rank = pd.Series(composite).rank(method="min", ascending=False).to_numpy(dtype=np.int64)
    cols: dict[str, object] = {c: places[c].to_numpy() for c in PLACE_COLUMNS}
    for j, s in enumerate(sources):
        cols[f"count_{s}"] = counts[j]
        cols[f"share_{s}"] = share[j]
    cols["composite"] = composite
    cols["composite_rank"] = rank
    cols["persistent_cells"] = n_cells
    cols["multi_high_months"] = multi
    cols["persistent"] = n_cells > 0
    out = gpd.GeoDataFrame(cols, geometry=places.geometry.to_numpy(), crs=27700)
    params["unit"] = "place"
    params["place_rule"] = (
        "incidents at map points inside the place (a point place: within 0.5 m); shares of each "
        "source's total in the filter; persistent = holds a persistent multi-agency "
        f"{params.get('cell_size') or DEFAULT_CELL_SIZE:g} m cell (a cell belongs to the place holding most of its incidents)"
    )
    out.attrs["params"] = params
    out.attrs["describe"] = cells.attrs.get("describe", "")
    return out


# ---------------------------------------------------------------------------- dual KDE
DUAL_MODES = ("difference", "ratio")


def dual_kde(
    incidents: pd.DataFrame,
    *,
    source_a: str,
    source_b: str,
    grid,
    filt: Filter | None = None,
    bandwidth: float | None = None,
    mode: str = "difference",
    floor: float | None = None,
) -> pd.DataFrame:
    """The difference or ratio of two sources' kernel density surfaces (dual KDE).

    Parameters
    ----------
    incidents
        Incident frame.
    source_a, source_b
        The two sources (e.g. council ASB reports against fly-tipping).
    grid
        The grid (:func:`hotspots.grid.make_grid`).
    filt
        Which incidents (``filt.sources`` is ignored).
    bandwidth
        Quartic kernel radius in metres (None: :func:`hotspots.kde.kde`'s default, one cell).
    mode
        ``difference`` (default): ``share_a − share_b``, each surface divided by its own total
        so that the two are on the same scale (the comparable scale of the module notes);
        positive where A is relatively more concentrated. ``ratio``: ``(share_a + floor) /
        (share_b + floor)``.
    floor
        Added to both shares in ``ratio`` mode so that empty cells do not divide by zero
        (None: one hundredth of the mean non-zero share of B).

    Returns
    -------
    DataFrame
        One row per grid cell in the study area with any density: ``cell_id``, ``x``, ``y``
        (cell centre), ``share_a``, ``share_b``, ``value``; ``attrs['params']`` with both
        surfaces' KDE parameters.

    Raises
    ------
    InputError
        For a source not in the data, the same source twice, an unknown ``mode``, or a source
        with no located incident in the filter.
    """
    from hotspots.kde import kde

    if mode not in DUAL_MODES:
        raise InputError(f"`mode` must be one of {', '.join(DUAL_MODES)}; got {mode!r}")
    if source_a == source_b:
        raise InputError(f"dual KDE compares two different sources; got {source_a!r} twice")
    filt = (filt or Filter()).replace(sources=())
    present = set(incidents["source"].astype(str).unique())
    for s in (source_a, source_b):
        if s not in present:
            raise InputError(f"source {s!r} is not in the data; sources: {', '.join(sorted(present))}")
    shares, params = [], {}
    for name, s in (("a", source_a), ("b", source_b)):
        sub = filt.replace(sources=(s,)).apply(incidents)
        sub = sub[np.isfinite(sub["x"].to_numpy(dtype=float))]
        if not len(sub):
            raise InputError(f"source {s!r} has no incident with a location in the filter")
        res = kde(sub["x"].to_numpy(float), sub["y"].to_numpy(float), grid=grid, bandwidth=bandwidth)
        d = np.where(grid.mask, res.density, 0.0)
        shares.append(d / d.sum() if d.sum() > 0 else d)
        params[name] = {"source": s, **res.params}
    a, b = shares
    if mode == "difference":
        value = a - b
    else:
        if floor is None:
            nz = b[b > 0]
            floor = float(nz.mean() / 100) if len(nz) else 1e-12
        value = (a + floor) / (b + floor)
    keep = grid.mask & ((a > 0) | (b > 0))
    iy, ix = np.nonzero(keep)
    out = pd.DataFrame(
        {
            "cell_id": iy * grid.nx + ix,
            "x": grid.x0 + (ix + 0.5) * grid.cell,
            "y": grid.y0 + (iy + 0.5) * grid.cell,
            "share_a": a[keep],
            "share_b": b[keep],
            "value": value[keep],
        }
    )
    out.attrs["params"] = {"mode": mode, "floor": floor, "source_a": source_a, "source_b": source_b, **params}
    return out


__all__ = [
    "DemandCube",
    "DemandParams",
    "demand",
    "dual_kde",
    "cell_owner",
    "place_demand",
    "place_members",
    "UNITS",
    "DEMAND_COLUMNS",
    "COMPOSITE_COLUMNS",
    "PLACE_COLUMNS",
    "PLACE_COMPOSITE_COLUMNS",
]
