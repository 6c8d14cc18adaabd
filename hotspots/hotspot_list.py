"""One ranked hotspot list, whatever the method.

:func:`find_hotspots` runs a method on the filtered incidents and returns a
:class:`HotspotList`: a GeoDataFrame (EPSG:27700) with one row per hotspot and the fixed
columns :data:`HOTSPOT_COLUMNS`, plus a ``params`` dict saying how it was produced.

Methods and what a "hotspot" is for each:

* ``eb_count`` (default): the cells with the highest recent count smoothed towards their
  neighbours (:mod:`hotspots.eb`: incidents weighted by recency, half-life ``half_life``
  months, then Poisson–gamma empirical Bayes towards the mean of the 8 neighbouring cells),
  ``top_share`` of the study area's cells, made into places (see below). Of the
  methods here it is the one that best predicted later months on the real sample.
* ``kde``: the densest cells of the kernel density surface (``top_share`` of the
  study area's cells), made into places.
* ``gistar``: cells that are significant Getis-Ord Gi* hot spots (FDR-corrected, at ``alpha``)
  and hold at least one incident, made into places.
* ``dbscan``: DBSCAN clusters of locations; the outline is the hull of the member locations,
  buffered by ``eps / 2``.
* ``repeat``: the ``top_n`` busiest single locations (police.uk snap points).
* ``count``: the busiest grid cells (``top_share``), made into places (the plain baseline).

Each method is a module of :mod:`hotspots.methods` behind one small interface (a score per
cell; for ``dbscan`` and ``repeat`` also places made of map points), looked up in its registry:
this function never branches on the method's name.

Places of the grid methods (``split``, :func:`hotspots.cell_places.label_places`): by default
(``"peaks"``) the selected cells are joined along edges only and split at saddles, so that each
place holds one peak of the method's score (a steepest-ascent partition); ``"edges"`` joins
cells sharing an edge, ``"touching"`` cells touching at an edge or a corner (the rule before,
which made the Stoke/Newcastle conurbation one 36 km² place). Which cells are hotspots — and so
the evaluation, which works on cells — does not depend on ``split``.

Membership is fixed by the method: grid methods count the incidents in the hotspot's cells,
``dbscan`` and ``repeat`` the incidents at its locations. The previous-period count uses the
same rule on the equal-length period just before (``Filter.previous_period``) applied to the
full ``incidents`` — so pass the unfiltered incidents together with ``filt``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots._errors import InputError
from hotspots._validate import BNG, check_choice, check_positive, check_projected
from hotspots.cell_places import DEFAULT_SPLIT, SPLIT_RULES, SPLIT_TEXT, places_from_cells, top_cells
from hotspots.coded import IncidentCodes, PlaceRows, codes_for, count_pairs, top_labels_of_pairs
from hotspots.filters import Filter
from hotspots.grid import CELL_SIZE_TEXT, MAX_PLACE_KM2, Grid, analysis_cell_size, make_grid
from hotspots.harm import HarmWeights, check_measure, default_weights, incident_weights
from hotspots.methods import DEFAULT_METHOD, REGISTRY
from hotspots.methods import get as get_method
from hotspots.naming import NAMING_RULE, namer_for
from hotspots.repeat import check_incidents

#: The methods, from the registry (:mod:`hotspots.methods`), the default first.
METHODS = tuple(REGISTRY)
#: The methods whose hotspots are grid cells made into places (``split`` applies to them).
GRID_METHODS = tuple(name for name, m in REGISTRY.items() if m.kind == "cells")
#: Options each method accepts (through ``**params``), with their defaults (from the registry).
METHOD_PARAMS: dict[str, dict[str, Any]] = {name: dict(m.options) for name, m in REGISTRY.items()}
COMMON_PARAMS = {"top_categories": 3}

#: The fixed columns of a hotspot list, in order.
HOTSPOT_COLUMNS = [
    "hotspot_id",
    "rank",
    "name",
    "method",
    "count",
    "share_of_incidents",
    "area_km2",
    "incidents_per_km2",
    "top_categories",
    "top_locations",
    "wards",
    "ward_codes",
    "district",
    "district_code",
    "months_active",
    "first_month",
    "last_month",
    "previous_count",
    "change",
    "change_pct",
    "params",
    "geometry",
]
#: Added after ``share_of_incidents`` when the list measures harm (``measure="harm"``): the
#: place's harm (sum of its incidents' weights), its share of all harm, harm per km², the
#: previous period's harm and the change. The list is then ranked by harm.
HARM_COLUMNS = ["harm", "share_of_harm", "harm_per_km2", "previous_harm", "harm_change"]


class HotspotList(gpd.GeoDataFrame):
    """A ranked hotspot table (GeoDataFrame, EPSG:27700) with a ``params`` dict.

    ``params`` (also kept in ``attrs["params"]``) holds the method, every parameter with the
    value chosen from the data where it was left empty, the filter, the period and the
    previous period compared, and how many incidents were used and left off.
    """

    _metadata = [*gpd.GeoDataFrame._metadata, "params"]

    @classmethod
    def build(cls, table: gpd.GeoDataFrame, params: dict[str, Any]) -> HotspotList:
        """Wrap ``table`` with its parameters."""
        out = cls(table, geometry="geometry", crs=BNG)
        out.params = params
        out.attrs["params"] = params
        return out


# ---------------------------------------------------------------------------- helpers
def _check_params(method: str, params: dict[str, Any]) -> dict[str, Any]:
    allowed = {**get_method(method).options, **COMMON_PARAMS}
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise InputError(
            f"method {method!r} has no option {', '.join(repr(u) for u in unknown)}; "
            f"its options are {', '.join(sorted(allowed))}"
        )
    return {**allowed, **{k: v for k, v in params.items() if v is not None or k in ("seed",)}}


def study_area_for(geography: Any, filt: Filter | None) -> gpd.GeoSeries:
    """The area analysed: the filter's areas when it names some, else the whole study area.

    Raises
    ------
    InputError
        If the filter names areas the geography does not hold.
    CRSError
        If the geography's layers are not in EPSG:27700.
    """
    if geography is None or not hasattr(geography, "study_area"):
        raise InputError(
            "`geography` must be a boundaries.Geography (for example boundaries.default_geography())"
        )
    if filt is not None and filt.areas:
        areas = geography.areas(filt.level)
        check_projected(areas, name="geography")
        chosen = areas[areas["area_code"].isin(filt.areas)]
        missing = sorted(set(filt.areas) - set(chosen["area_code"]))
        if missing:
            raise InputError(
                f"the filter names {filt.level} area(s) not in the geography: {', '.join(missing)}; "
                f"check the codes (e.g. {areas['area_code'].iloc[0]})"
            )
        return chosen.geometry
    area = geography.study_area
    check_projected(area, name="geography")
    return area


def _period(filt: Filter | None, codes: IncidentCodes, keep: np.ndarray) -> Filter | None:
    """The filter with its month range closed on the selected rows' months when it was left open."""
    base = filt or Filter()
    if base.month_from and base.month_to:
        return base
    span = codes.month_range(keep)
    if span is None:
        return None
    return base.replace(
        month_from=base.month_from or span[0].strftime("%Y-%m"),
        month_to=base.month_to or span[1].strftime("%Y-%m"),
    )


def _names(geography: Any, code_col: str, name_col: str) -> pd.Series:
    lsoas = pd.DataFrame(geography.lsoas[[code_col, name_col]])  # not the geometry
    return lsoas.drop_duplicates(code_col).set_index(code_col)[name_col]


def _columns(measure: str) -> list[str]:
    """The list's columns: :data:`HOTSPOT_COLUMNS`, with :data:`HARM_COLUMNS` after ``share_of_incidents`` for harm."""
    if measure != "harm":
        return HOTSPOT_COLUMNS
    i = HOTSPOT_COLUMNS.index("share_of_incidents") + 1
    return [*HOTSPOT_COLUMNS[:i], *HARM_COLUMNS, *HOTSPOT_COLUMNS[i:]]


def _empty(method: str, params: dict[str, Any]) -> HotspotList:
    cols = _columns(params.get("measure", "count"))[:-1]
    table = gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols}, geometry=[], crs=BNG)
    return HotspotList.build(table, params)


# ---------------------------------------------------------------------------- methods
def _grid_places(
    method: str,
    x: np.ndarray,
    y: np.ndarray,
    grid: Grid,
    opts: dict[str, Any],
    params: dict[str, Any],
    *,
    months: Any = None,
    reference_month: str | None = None,
    split: str = DEFAULT_SPLIT,
    max_cells: int | None = None,
    weights: np.ndarray | None = None,
    cells: np.ndarray | None = None,
) -> tuple[np.ndarray, gpd.GeoDataFrame]:
    """Labels grid (0 = no hotspot) and place polygons for the grid methods."""
    m = get_method(method)
    opts_m = {k: v for k, v in opts.items() if k in m.options and k not in ("cell_size", "top_share")}
    if weights is not None:  # harm (a method without it in its signature takes **_)
        opts_m["weights"] = weights
    res = m.score(x, y, grid, months=months, reference_month=reference_month, cells=cells, **opts_m)
    params.update(res.params)
    if res.hot is None:
        params["top_share"] = float(opts["top_share"])
        selected = top_cells(res.score, grid.mask, opts["top_share"], name="top_share")
    else:
        selected = res.hot
    order = np.where(np.isfinite(res.score), res.score, 0.0)
    params["split"] = split
    params["places_rule"] = SPLIT_TEXT[split] + (
        f"; places over {max_cells} cells split at their peaks (grown from each peak, busiest cells first)"
        if max_cells is not None
        else ""
    )
    labels, places = places_from_cells(
        selected, grid, {"order": order}, how={"order": "max"}, score=order, split=split, max_cells=max_cells
    )
    params["n_hotspot_cells"] = int(selected.sum())
    return labels, places


def _assign_cells(labels: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """The place of each row from its cell id (-1 off the grid: no place)."""
    flat = labels.ravel()
    return np.where(cells >= 0, flat[np.maximum(cells, 0)], 0).astype(np.int64)


# ---------------------------------------------------------------------------- public API
def find_hotspots(
    incidents: pd.DataFrame,
    *,
    method: str = DEFAULT_METHOD,
    geography: Any,
    filt: Filter | None = None,
    split: str | None = None,
    max_place_km2: float | None = None,
    measure: str = "count",
    weights: HarmWeights | None = None,
    **params: Any,
) -> HotspotList:
    """Find hotspots and return them as one ranked list.

    Parameters
    ----------
    incidents
        The full incident frame (unfiltered: the previous period is taken from it). Incidents
        with no location are left off and counted in ``params["n_left_off"]``.
    method
        ``"eb_count"`` (default), ``"kde"``, ``"gistar"``, ``"dbscan"``, ``"repeat"`` or
        ``"count"``.
    geography
        The :class:`boundaries.Geography` (study area, ward and district names).
    filt
        Which incidents to use; None uses them all. When it names areas, the grid covers those
        areas only.
    split
        How a grid method's cells become places (``eb_count``, ``kde``, ``gistar``, ``count``):
        ``"peaks"`` (None: the default) one place per peak of the score, cells joined along
        edges only; ``"edges"`` cells sharing an edge; ``"touching"`` cells touching at an edge
        or a corner (the rule before). Reported as ``params["split"]`` and
        ``params["places_rule"]``.
    max_place_km2
        Largest place of a grid method, in km²: a larger one is split at its peaks
        (:func:`hotspots.cell_places.bound_places`). None: :data:`hotspots.grid.MAX_PLACE_KM2` (0.5 km²,
        a few streets a team can walk), or no bound with ``cell_size="display"`` (the old
        list, kept for comparison). Reported as ``params["max_place_km2"]`` and
        ``params["max_place_cells"]``.
    measure
        ``"count"`` (default: each incident 1) or ``"harm"``: each incident weighs its category's
        harm weight (:mod:`hotspots.harm`) in the method's score (see :mod:`hotspots.methods`
        for how each method uses it), the list gains :data:`HARM_COLUMNS` and is ranked by harm.
    weights
        Harm weights for ``measure="harm"`` (None: the shipped ONS Crime Severity Score
        weights); written into ``params["harm_weights"]``. Unused for ``count``.
    **params
        Method options (see :data:`METHOD_PARAMS`). ``cell_size`` (grid methods): metres, or
        None / ``"micro"`` for micro-places (125 m, finer in a small area:
        :func:`hotspots.grid.analysis_cell_size`), or ``"display"`` for the overview rule (about
        50 cells on the shorter side; 1,200 m on the county — the default before). Others:
        ``cell_size``, ``half_life``,
        ``top_share`` (eb_count); ``cell_size``, ``bandwidth``, ``kernel``,
        ``bandwidth_rule``, ``multiplier``, ``top_share`` (kde, count); ``cell_size``,
        ``band``, ``fdr``, ``alpha``, ``permutations``, ``seed`` (gistar); ``eps``,
        ``min_samples``, ``buffer`` (dbscan); ``top_n`` (repeat); and ``top_categories`` (all).
        Options left empty are chosen from the data and reported in ``params``.

    Returns
    -------
    HotspotList
        One row per hotspot, most incidents first, with :data:`HOTSPOT_COLUMNS`. An empty
        list (with a ``params["note"]``) when no incident matches the filter or no place
        qualifies.

    Raises
    ------
    InputError
        If the method or an option is unknown or invalid, ``split`` is given for ``dbscan`` or
        ``repeat``, ``measure`` is not ``count`` or ``harm``, ``weights`` is not a HarmWeights,
        or the filter names unknown areas.
    CRSError
        If the geography is not in EPSG:27700.

    Notes
    -----
    Places (``split="peaks"``): the top cells are joined along edges and split at saddles, each
    cell going to the peak its steepest ascent reaches (:func:`hotspots.cell_places.label_places`), so
    a conurbation of several busy centres gives one place per centre. Every hotspot cell is in
    exactly one place, so the places' counts add up to the incidents in the hotspot cells.
    ``share_of_incidents`` is over the filtered incidents that have a location.
    ``area_km2`` is the hotspot's area within the study area (cells clipped to it, DBSCAN
    hulls buffered by ``eps / 2``); a ``repeat`` hotspot is a point and has no area.
    ``previous_count`` is the same hotspot's count in the equal-length period just before the
    filter's months (closed on the data's first and last month when the filter leaves them
    open); it is empty when the incidents do not cover that period.
    """
    check_incidents(incidents)
    if filt is not None and not isinstance(filt, Filter):
        raise InputError(f"`filt` must be a hotspots.filters.Filter or None; got {type(filt).__name__}")
    opts = _check_params(method, params)
    check_measure(measure)
    if weights is not None and not isinstance(weights, HarmWeights):
        raise InputError(
            f"`weights` must be hotspots.harm.HarmWeights (read_weights or default_weights); got {type(weights).__name__}"
        )
    grid_method = get_method(method).kind == "cells"  # (an unknown method is refused with the list)
    if max_place_km2 is not None and not grid_method:
        raise InputError(
            f"`max_place_km2` applies to the grid methods ({', '.join(GRID_METHODS)}), not {method!r}; "
            "leave it empty"
        )
    if split is not None and not grid_method:
        raise InputError(
            f"`split` applies to the grid methods ({', '.join(GRID_METHODS)}), not {method!r}; leave it empty"
        )
    check_choice(DEFAULT_SPLIT if split is None else split, SPLIT_RULES, name="split")
    check_positive(opts["top_categories"], name="top_categories")
    area = study_area_for(geography, filt)
    # the rows are never copied: a filter is a mask over the frame's coded columns
    # (hotspots.coded), built once per frame and shared by every filter
    codes = codes_for(incidents)
    keep = filt.mask(incidents) if filt is not None else np.ones(codes.n, dtype=bool)
    cur = np.flatnonzero(keep & codes.located)
    out_params: dict[str, Any] = {
        "method": method,
        "filter": filt.to_dict() if filt is not None else {},
        "filter_text": filt.describe() if filt is not None else "all incidents",
        "n_incidents": int(cur.size),
        "n_left_off": int(keep.sum()) - int(cur.size),
        "measure": measure,
    }
    hw = None
    if measure == "harm":
        hw = weights if weights is not None else default_weights()
        out_params["harm_weights"] = hw.to_dict()
        out_params["harm_weights_text"] = hw.describe()
        out_params["ranked_by"] = "harm: the sum of the place's incidents' harm weights"
    period = _period(filt, codes, keep)
    prev = period.previous_period() if period is not None else None
    if period is not None:
        out_params["period"] = f"{period.month_from} to {period.month_to}"
    if cur.size == 0:
        out_params["note"] = (
            f"no incidents with a location match the filter ({out_params['filter_text']}); widen it"
        )
        return _empty(method, out_params)

    x = codes.x[cur]
    y = codes.y[cur]
    prev_rows = np.empty(0, dtype=np.int64)
    covered = False
    if prev is not None:
        first_month = codes.first_month()
        covered = first_month is not None and first_month <= pd.Timestamp(prev.month_from + "-01")
        if covered:
            prev_rows = np.flatnonzero(prev.mask(incidents) & codes.located)
            out_params["previous_period"] = f"{prev.month_from} to {prev.month_to}"
        else:
            out_params["previous_period"] = (
                f"{prev.month_from} to {prev.month_to} (not covered by the data: no change shown)"
            )
    w = pw = None
    if hw is not None:  # each incident's harm weight, from its category (the same values as per row)
        w_all = incident_weights(incidents, measure="harm", weights=hw)
        w = w_all[cur]
        pw = w_all[prev_rows] if covered else None

    if cur.size < get_method(method).min_incidents:
        out_params["note"] = (
            f"only {cur.size} incident(s) with a location: {get_method(method).min_incidents_why}"
        )
        return _empty(method, out_params)
    area_km2 = float(shapely.area(shapely.union_all(area.to_numpy())) / 1e6)
    out_params["study_area_km2"] = round(area_km2, 3)
    if grid_method:
        cell, rule = analysis_cell_size(area, opts["cell_size"])
        grid = make_grid(area, cell_size=cell)
        out_params.update(grid.describe())
        out_params["cell_size_rule"] = CELL_SIZE_TEXT[rule]
        bound = max_place_km2
        check_positive(bound, name="max_place_km2", unit="km²")
        if bound is None and rule != "display":
            bound = MAX_PLACE_KM2
        out_params["max_place_km2"] = None if bound is None else float(bound)
        max_cells = None if bound is None else max(1, int(float(bound) * 1e6 // (cell * cell)))
        out_params["max_place_cells"] = max_cells
        cells = codes.cells(grid)
        cur_cells = cells[cur]
        labels, places = _grid_places(
            method,
            x,
            y,
            grid,
            opts,
            out_params,
            months=codes.month[cur],
            reference_month=period.month_to if period is not None else None,
            split=DEFAULT_SPLIT if split is None else split,
            max_cells=max_cells,
            weights=w,
            cells=cur_cells,
        )
        member = _assign_cells(labels, cur_cells)
        prev_member = _assign_cells(labels, cells[prev_rows])
        geoms = places.set_index("place_id").geometry
        areas = places.set_index("place_id")["area_km2"]
    else:  # a method that labels map points itself
        m = get_method(method)
        pp = m.places(
            incidents.iloc[cur],
            x,
            y,
            codes.x[prev_rows],
            codes.y[prev_rows],
            area_km2=area_km2,
            params=out_params,
            **{k: v for k, v in opts.items() if k in m.options},
            **({} if w is None else {"weights": w}),
        )
        member, prev_member = pp.member, pp.prev_member
        geoms, areas = pp.geometry, pp.area_km2

    table, place_rows = _build_table(
        method, codes, cur, member, prev_member, geoms, areas, geography, opts, out_params, covered, w, pw
    )
    place_ids = table.attrs.pop("place_ids", None)
    if len(table):
        names = namer_for(incidents, geography).name_rows(place_rows)
        table["name"] = names.reindex(place_ids).to_numpy()
    return table


def _build_table(
    method: str,
    codes: IncidentCodes,
    cur: np.ndarray,
    member: np.ndarray,
    prev_member: np.ndarray,
    geoms: pd.Series,
    areas: pd.Series,
    geography: Any,
    opts: dict[str, Any],
    params: dict[str, Any],
    has_prev: bool,
    w: np.ndarray | None = None,
    pw: np.ndarray | None = None,
) -> tuple[HotspotList, PlaceRows | None]:
    """The ranked table from the place of each selected row (``cur``: row positions in the frame).

    Also the rows of its places (:class:`hotspots.coded.PlaceRows`, for naming them), None when
    no place qualifies.
    """
    n_places = len(geoms)
    params["n_hotspots"] = 0
    if n_places == 0 or not (member > 0).any():
        params["note"] = f"no place qualifies as a hotspot with these parameters ({method})"
        return _empty(method, params), None
    inside = member > 0
    rows = cur[inside]
    key = member[inside]
    ids = np.arange(1, n_places + 1)
    counts = pd.Series(np.bincount(key, minlength=n_places + 1)[1:], index=ids)
    k = int(opts["top_categories"])
    first, last, active = _month_stats(key, codes.month_code[rows], codes.month_values, n_places)
    place_rows = PlaceRows(codes, rows, key)
    pairs: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def text(col: str, kk: int, *, names: pd.Series | None = None, counted: bool = True) -> pd.Series:
        if col not in pairs:
            pairs[col] = place_rows.pairs(col)
        labels = codes.column(col)[1]
        if names is not None:
            labels = pd.Series(labels, dtype=object).map(names).to_numpy(dtype=object)
        return top_labels_of_pairs(*pairs[col], labels, kk, counts=counted)

    ward_names = _names(geography, "ward_code", "ward_name")
    district_names = _names(geography, "district_code", "district_name")
    total = cur.size
    table = pd.DataFrame(index=ids)
    table["count"] = counts
    table["share_of_incidents"] = counts / total
    table["area_km2"] = areas.reindex(ids).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["incidents_per_km2"] = np.where(
            table["area_km2"] > 0, table["count"] / table["area_km2"], np.nan
        )
    table["top_categories"] = text("category", k).reindex(ids)
    table["top_locations"] = text("location_name", k).reindex(ids)
    table["wards"] = text("ward_code", k, names=ward_names).reindex(ids)
    table["ward_codes"] = text("ward_code", k, counted=False).reindex(ids)
    table["district"] = text("district_code", 1, names=district_names, counted=False).reindex(ids)
    table["district_code"] = text("district_code", 1, counted=False).reindex(ids)
    table["months_active"] = active
    table["first_month"] = first
    table["last_month"] = last
    if has_prev:
        prev_counts = np.bincount(prev_member[prev_member > 0], minlength=n_places + 1)[1:]
        table["previous_count"] = prev_counts
        table["change"] = table["count"] - table["previous_count"]
        with np.errstate(divide="ignore", invalid="ignore"):
            table["change_pct"] = np.where(prev_counts > 0, 100.0 * table["change"] / prev_counts, np.nan)
    else:
        table["previous_count"] = np.nan
        table["change"] = np.nan
        table["change_pct"] = np.nan
    if w is not None:  # measured by harm: harm columns, ranked by harm (then count)
        harm = np.bincount(key, weights=w[inside], minlength=n_places + 1)[1:]
        table["harm"] = harm
        table["share_of_harm"] = harm / float(w.sum()) if w.sum() > 0 else 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            table["harm_per_km2"] = np.where(table["area_km2"] > 0, harm / table["area_km2"], np.nan)
        if pw is not None:
            table["previous_harm"] = np.bincount(
                prev_member[prev_member > 0], weights=pw[prev_member > 0], minlength=n_places + 1
            )[1:]
            table["harm_change"] = table["harm"] - table["previous_harm"]
        else:
            table["previous_harm"] = np.nan
            table["harm_change"] = np.nan
    table["geometry"] = geoms.reindex(ids).to_numpy()
    table = table[table["count"] > 0]
    by = ["harm", "count"] if w is not None else "count"
    table = table.sort_values(by, ascending=False, kind="stable")
    place_ids = table.index.to_numpy()
    table.insert(0, "name", None)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table.insert(0, "hotspot_id", [f"{method}-{r:03d}" for r in table["rank"]])
    table.insert(2, "method", method)
    params["n_hotspots"] = int(len(table))
    params["share_in_hotspots"] = float(table["count"].sum() / total)
    if w is not None:
        params["share_of_harm_in_hotspots"] = float(table["harm"].sum() / w.sum()) if w.sum() > 0 else 0.0
    params["naming_rule"] = NAMING_RULE
    table["params"] = json.dumps(_plain(params), sort_keys=True, default=str)
    table = table.reset_index(drop=True)[_columns("harm" if w is not None else "count")]
    gdf = gpd.GeoDataFrame(table, geometry="geometry", crs=BNG)
    out = HotspotList.build(gdf, params)
    out.attrs["place_ids"] = place_ids
    return out, place_rows


def _month_stats(
    key: np.ndarray, month_code: np.ndarray, month_values: np.ndarray, n_places: int
) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """First and last month (``YYYY-MM``) and the number of distinct months of each place 1..n."""
    ok = month_code >= 0
    p, c, _, _ = count_pairs(key[ok], month_code[ok])
    active = np.bincount(p, minlength=n_places + 1)[1:]
    lo = np.full(n_places + 1, np.iinfo(np.int64).max)
    hi = np.full(n_places + 1, -1)
    np.minimum.at(lo, p, c)
    np.maximum.at(hi, p, c)
    has = hi[1:] >= 0
    values = pd.DatetimeIndex(month_values) if month_values.size else pd.DatetimeIndex([])
    first = pd.Series(pd.NaT, index=np.arange(1, n_places + 1), dtype=values.dtype)
    last = first.copy()
    first[has] = values[lo[1:][has]]
    last[has] = values[hi[1:][has]]
    return first.dt.strftime("%Y-%m"), last.dt.strftime("%Y-%m"), active.astype(int)


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        elif isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


__all__ = [
    "GRID_METHODS",
    "HARM_COLUMNS",
    "HOTSPOT_COLUMNS",
    "METHODS",
    "METHOD_PARAMS",
    "HotspotList",
    "find_hotspots",
    "study_area_for",
]
