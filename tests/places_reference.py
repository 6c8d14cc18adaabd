"""The hotspot list as it was computed before the speed work of issue 9 (session 4), kept as an oracle.

A frozen copy of ``find_hotspots`` (and ``Namer.name``) from before the integer-coded path: it
copies the filtered frame (``Filter.apply``) and the previous period, maps ward and district
codes to names row by row, and names places from a copy of the hot rows.
``tests/test_coded.py`` checks that the library gives the same list, place for place and name
for name, and ``bench/bench_engine.py`` times it against the library in the same run ("the path
before").
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots._errors import InputError
from hotspots._validate import BNG, check_choice, check_positive
from hotspots.cell_places import DEFAULT_SPLIT, SPLIT_RULES, SPLIT_TEXT, places_from_cells, top_cells
from hotspots.filters import Filter
from hotspots.grid import CELL_SIZE_TEXT, MAX_PLACE_KM2, Grid, analysis_cell_size, make_grid
from hotspots.harm import HarmWeights, check_measure, default_weights, incident_weights
from hotspots.hotspot_list import (
    GRID_METHODS,
    HotspotList,
    _check_params,
    _columns,
    _empty,
    _plain,
    study_area_for,
)
from hotspots.methods import DEFAULT_METHOD
from hotspots.methods import get as get_method
from hotspots.naming import NAMING_RULE, SECOND_NAME_SHARE, grid_reference, namer_for
from hotspots.repeat import check_incidents, located_mask, top_text


def _codes(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 = missing) and the unique values of a column (categorical or not)."""
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object))
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy(dtype=np.int64), np.asarray(s.cat.categories, dtype=object)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _location_codes(df: pd.DataFrame) -> np.ndarray:
    from hotspots.kde import location_key

    if "location_id" in df.columns:
        ids = df["location_id"].to_numpy()
        if len(ids) and np.all(ids >= 0):
            return ids.astype(np.int64)
    return location_key(df["x"].to_numpy(dtype=float), df["y"].to_numpy(dtype=float))


def _busiest(key: np.ndarray, loc_inv: np.ndarray) -> dict[int, int]:
    """Row index (into the hot rows) of each place's busiest map point."""
    if loc_inv.size == 0:
        return {}
    n_loc = int(loc_inv.max()) + 1
    pair = key.astype(np.int64) * n_loc + loc_inv
    uniq, first, counts = np.unique(pair, return_index=True, return_counts=True)
    p = uniq // n_loc
    order = np.lexsort((uniq % n_loc, -counts, p))
    p, first = p[order], first[order]
    keep = np.r_[True, p[1:] != p[:-1]]
    return dict(zip(p[keep].tolist(), first[keep].tolist(), strict=True))


def _mode_per_key(key: np.ndarray, codes: np.ndarray, n_keys: int) -> np.ndarray:
    """The most common code per key (ties: the smallest code; -1 when none)."""
    out = np.full(n_keys + 1, -1, dtype=np.int64)
    ok = codes >= 0
    if not ok.any():
        return out
    n_codes = int(codes[ok].max()) + 1
    pair = key[ok].astype(np.int64) * n_codes + codes[ok]
    uniq, counts = np.unique(pair, return_counts=True)
    p = uniq // n_codes
    order = np.lexsort((uniq % n_codes, -counts, p))
    p, c = p[order], (uniq % n_codes)[order]
    keep = np.r_[True, p[1:] != p[:-1]]
    out[p[keep]] = c[keep]
    return out


def old_name(self, place: np.ndarray, incidents: pd.DataFrame) -> pd.Series:
    """Name the places of a list.

    Parameters
    ----------
    place
        Place id of each row of ``incidents`` (1, 2, …; 0 = in no place).
    incidents
        The incidents the places were counted from (same rows as ``place``).

    Returns
    -------
    pandas.Series
        The name of each place id that holds incidents, indexed by place id.
    """
    place = np.asarray(place, dtype=np.int64)
    inside = place > 0
    if not inside.any():
        return pd.Series(dtype=object)
    hot = incidents[inside]
    key = place[inside]
    n_places = int(key.max())
    x = hot["x"].to_numpy(dtype=float)
    y = hot["y"].to_numpy(dtype=float)
    if "location_name" in hot:
        raw_codes = _codes(hot["location_name"])
        # map this frame's categories onto the namer's when they differ
        nid = self._map_names(raw_codes)
    else:
        nid = np.full(len(hot), -1, dtype=np.int64)
    n_names = len(self.names) + 1
    pair = key * n_names + (nid + 1)
    uniq, counts = np.unique(pair, return_counts=True)
    p_of, n_of = uniq // n_names, uniq % n_names - 1
    order = np.lexsort((n_of, -counts, p_of))
    p_of, n_of, counts = p_of[order], n_of[order], counts[order]
    # busiest map point of each place (for "near …" and the grid reference)
    loc = _location_codes(hot)
    linv = pd.factorize(loc)[0].astype(np.int64)
    busiest = _busiest(key, linv)
    gen_rows = np.flatnonzero((nid >= 0) & self.generic[np.maximum(nid, 0)])
    busiest_generic = {p: int(gen_rows[r]) for p, r in _busiest(key[gen_rows], linv[gen_rows]).items()}
    ward_codes, ward_u = (
        _codes(hot["ward_code"])
        if "ward_code" in hot
        else (
            np.full(len(hot), -1, dtype=np.int64),
            np.empty(0, dtype=object),
        )
    )
    main_ward = _mode_per_key(key, ward_codes, n_places)
    out: dict[int, str] = {}
    start = np.searchsorted(p_of, np.arange(1, n_places + 2))
    for pid in range(1, n_places + 1):
        a, b = start[pid - 1], start[pid]
        if a == b:
            continue
        names = [(int(n), int(c)) for n, c in zip(n_of[a:b], counts[a:b], strict=True) if n >= 0]
        chosen = names[:1]
        if len(names) > 1 and names[1][1] >= SECOND_NAME_SHARE * names[0][1]:
            chosen.append(names[1])
        text = " & ".join(str(self.names[n]) for n, _ in chosen)
        bi = busiest[pid]
        if chosen and all(self.generic[n] for n, _ in chosen):
            gi = busiest_generic.get(pid, bi)
            street = self.nearest_street(float(x[gi]), float(y[gi]))
            if street:
                text += f" near {street}"
        if not text:
            text = "Unnamed map points"
        w = main_ward[pid]
        ward_code = ward_u[w] if w >= 0 else None
        if ward_code is not None:
            ward = self.ward_names.get(ward_code, str(ward_code))
            town = self.towns.get(ward_code)
            text += f", {town} ({ward})" if town and town != ward else f", {ward}"
        out[pid] = text
    names = pd.Series(out, dtype=object)
    dup = names.duplicated(keep=False)
    for pid in names.index[dup]:
        bi = busiest[pid]
        names[pid] = f"{names[pid]} · {grid_reference(x[bi], y[bi])}"
    still = names.duplicated(keep="first")
    for k, pid in enumerate(names.index[still], start=2):
        names[pid] = f"{names[pid]} ({k})"
    return names


def _period(filt: Filter | None, selected: pd.DataFrame) -> Filter | None:
    """The filter with its month range closed on the data when it was left open."""
    base = filt or Filter()
    if base.month_from and base.month_to:
        return base
    if selected.empty:
        return None
    months = pd.to_datetime(selected["month"])
    return base.replace(
        month_from=base.month_from or months.min().strftime("%Y-%m"),
        month_to=base.month_to or months.max().strftime("%Y-%m"),
    )


def _names(geography: Any, code_col: str, name_col: str) -> pd.Series:
    lsoas = geography.lsoas
    return lsoas.drop_duplicates(code_col).set_index(code_col)[name_col]


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
) -> tuple[np.ndarray, gpd.GeoDataFrame]:
    """Labels grid (0 = no hotspot) and place polygons for the grid methods."""
    m = get_method(method)
    opts_m = {k: v for k, v in opts.items() if k in m.options and k not in ("cell_size", "top_share")}
    if weights is not None:  # harm (a method without it in its signature takes **_)
        opts_m["weights"] = weights
    res = m.score(x, y, grid, months=months, reference_month=reference_month, **opts_m)
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


def _assign_cells(labels: np.ndarray, grid: Grid, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ix, iy = grid.index(x, y)
    out = np.zeros(x.size, dtype=np.int64)
    ok = ix >= 0
    out[ok] = labels[iy[ok], ix[ok]]
    return out


def find_hotspots_before(
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
    """The ranked list exactly as before the speed work (filter copies, pandas map, per-frame naming)."""
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
    selected = filt.apply(incidents) if filt is not None else incidents
    has = located_mask(selected)
    current = selected[has]
    out_params: dict[str, Any] = {
        "method": method,
        "filter": filt.to_dict() if filt is not None else {},
        "filter_text": filt.describe() if filt is not None else "all incidents",
        "n_incidents": int(len(current)),
        "n_left_off": int((~has).sum()),
        "measure": measure,
    }
    hw = None
    if measure == "harm":
        hw = weights if weights is not None else default_weights()
        out_params["harm_weights"] = hw.to_dict()
        out_params["harm_weights_text"] = hw.describe()
        out_params["ranked_by"] = "harm: the sum of the place's incidents' harm weights"
    period = _period(filt, selected)
    prev = period.previous_period() if period is not None else None
    if period is not None:
        out_params["period"] = f"{period.month_from} to {period.month_to}"
    if current.empty:
        out_params["note"] = (
            f"no incidents with a location match the filter ({out_params['filter_text']}); widen it"
        )
        return _empty(method, out_params)

    x = current["x"].to_numpy(dtype=float)
    y = current["y"].to_numpy(dtype=float)
    prev_inc = None
    if prev is not None:
        first_month = pd.to_datetime(incidents["month"]).min()
        if first_month <= pd.Timestamp(prev.month_from + "-01"):
            prev_inc = prev.apply(incidents)
            prev_inc = prev_inc[located_mask(prev_inc)]
            out_params["previous_period"] = f"{prev.month_from} to {prev.month_to}"
        else:
            out_params["previous_period"] = (
                f"{prev.month_from} to {prev.month_to} (not covered by the data: no change shown)"
            )
    px = prev_inc["x"].to_numpy(dtype=float) if prev_inc is not None else np.empty(0)
    py = prev_inc["y"].to_numpy(dtype=float) if prev_inc is not None else np.empty(0)
    w = incident_weights(current, measure="harm", weights=hw) if hw is not None else None
    pw = (
        incident_weights(prev_inc, measure="harm", weights=hw)
        if hw is not None and prev_inc is not None
        else None
    )

    if len(current) < get_method(method).min_incidents:
        out_params["note"] = (
            f"only {len(current)} incident(s) with a location: {get_method(method).min_incidents_why}"
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
        labels, places = _grid_places(
            method,
            x,
            y,
            grid,
            opts,
            out_params,
            months=current["month"].to_numpy(),
            reference_month=period.month_to if period is not None else None,
            split=DEFAULT_SPLIT if split is None else split,
            max_cells=max_cells,
            weights=w,
        )
        member = _assign_cells(labels, grid, x, y)
        prev_member = _assign_cells(labels, grid, px, py)
        geoms = places.set_index("place_id").geometry
        areas = places.set_index("place_id")["area_km2"]
    else:  # a method that labels map points itself
        m = get_method(method)
        pp = m.places(
            current,
            x,
            y,
            px,
            py,
            area_km2=area_km2,
            params=out_params,
            **{k: v for k, v in opts.items() if k in m.options},
            **({} if w is None else {"weights": w}),
        )
        member, prev_member = pp.member, pp.prev_member
        geoms, areas = pp.geometry, pp.area_km2

    table = _build_table(
        method, current, member, prev_member, geoms, areas, geography, opts, out_params, prev_inc, w, pw
    )
    if len(table):
        namer = namer_for(incidents, geography)
        names = old_name(namer, member, current)
        table["name"] = names.reindex(table.attrs.pop("place_ids")).to_numpy()
    return table


def _build_table(
    method: str,
    current: pd.DataFrame,
    member: np.ndarray,
    prev_member: np.ndarray,
    geoms: pd.Series,
    areas: pd.Series,
    geography: Any,
    opts: dict[str, Any],
    params: dict[str, Any],
    prev_inc: pd.DataFrame | None,
    w: np.ndarray | None = None,
    pw: np.ndarray | None = None,
) -> HotspotList:
    n_places = len(geoms)
    params["n_hotspots"] = 0
    if n_places == 0 or not (member > 0).any():
        params["note"] = f"no place qualifies as a hotspot with these parameters ({method})"
        return _empty(method, params)
    inside = member > 0
    hot = current[inside]
    key = member[inside]
    ids = np.arange(1, n_places + 1)
    counts = pd.Series(np.bincount(key, minlength=n_places + 1)[1:], index=ids)
    k = int(opts["top_categories"])
    months = pd.to_datetime(hot["month"])
    month_stats = (
        pd.DataFrame({"k": key, "m": months.to_numpy()}).groupby("k")["m"].agg(["nunique", "min", "max"])
    )
    ward_names = _names(geography, "ward_code", "ward_name")
    district_names = _names(geography, "district_code", "district_name")
    ward_code = hot["ward_code"] if "ward_code" in hot else pd.Series(np.nan, index=hot.index)
    district_code = hot["district_code"] if "district_code" in hot else pd.Series(np.nan, index=hot.index)
    wards = top_text(key, ward_code.astype(object).map(ward_names), k)
    wards_codes = top_text(key, ward_code.astype(object), k, counts=False)
    district = top_text(key, district_code.astype(object).map(district_names), 1, counts=False)
    district_c = top_text(key, district_code.astype(object), 1, counts=False)
    locations = top_text(key, hot["location_name"], k) if "location_name" in hot else pd.Series(dtype=object)
    total = len(current)
    table = pd.DataFrame(index=ids)
    table["count"] = counts
    table["share_of_incidents"] = counts / total
    table["area_km2"] = areas.reindex(ids).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["incidents_per_km2"] = np.where(
            table["area_km2"] > 0, table["count"] / table["area_km2"], np.nan
        )
    table["top_categories"] = top_text(key, hot["category"], k).reindex(ids)
    table["top_locations"] = locations.reindex(ids)
    table["wards"] = wards.reindex(ids)
    table["ward_codes"] = wards_codes.reindex(ids)
    table["district"] = district.reindex(ids)
    table["district_code"] = district_c.reindex(ids)
    table["months_active"] = month_stats["nunique"].reindex(ids).fillna(0).astype(int)
    table["first_month"] = month_stats["min"].reindex(ids).dt.strftime("%Y-%m")
    table["last_month"] = month_stats["max"].reindex(ids).dt.strftime("%Y-%m")
    if prev_inc is not None:
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
    return out
