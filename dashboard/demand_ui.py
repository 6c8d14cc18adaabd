"""Dashboard pieces for harm weights and multi-agency demand (used by the Demand & harm page).

Cached loaders take plain values (store path and version, a Filter, numbers, a HarmWeights
value); the chosen weights live in session state under ``harm_weights`` so that every page can
measure harm with the same weights (:func:`weights`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import data, maps
from hotspots.areas import area_table as _area_table
from hotspots.demand import (
    DEFAULT_CELL_SIZE,
    DEFAULT_MIN_MONTHS,
    DEFAULT_MONTHS,
    DEFAULT_TOP_SHARE,
    DemandCube,
    dual_kde,
    place_demand,
)
from hotspots.filters import Filter
from hotspots.harm import HarmWeights, default_weights

HASH = {Filter: lambda f: f.to_json(), HarmWeights: lambda w: w.to_json()}
PERSISTENT = "#b2182b"
COMPOSITE = ["#fee8c8", "#fdbb84", "#fc8d59", "#e34a33"]
DIVERGING = ["#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b"]


# ---------------------------------------------------------------------------- harm weights
#: How the pages offer the measure (``count`` or ``harm``, :mod:`hotspots.harm`).
MEASURE_LABELS = {"count": "Incidents", "harm": "Harm (weighted by category)"}


def harm_caption(
    w: HarmWeights | None, params: dict, *, lead: str = "Ranked by **harm**", tail: str = ""
) -> None:
    """Say that a result measures harm, with which weights and where to change them (nothing for counts).

    Always one element (a container), as :func:`dashboard.disclosure_ui.note`.
    """
    slot = st.container()
    if w is None:
        return
    share = params.get("share_of_harm_in_hotspots")
    slot.caption(
        f"{lead}: each incident weighs its category's harm weight; "
        + (f"these places hold {share:.0%} of the harm. " if share is not None else "")
        + w.describe()
        + ". Edit the weights on the **Demand & harm** page; downloads carry them."
        + (f" {tail}" if tail else "")
    )


def weights() -> HarmWeights:
    """The harm weights chosen on the Demand & harm page (the shipped defaults until edited)."""
    return st.session_state.get("harm_weights") or default_weights()


def weights_editor() -> HarmWeights:
    """An editable table of the weight per category; the result is kept for every page."""
    base = default_weights()
    inc = data.incidents()
    cats = sorted(set(inc["category"].dropna().astype(str).unique()) | set(base.as_dict()))
    frame = pd.DataFrame({"category": cats, "weight": [base.weight(c) for c in cats]})
    edited = st.data_editor(
        frame,
        key="harm_editor",
        hide_index=True,
        disabled=["category"],
        num_rows="fixed",
        width="stretch",
        column_config={
            "category": "Category",
            "weight": st.column_config.NumberColumn("Harm weight", min_value=0.0, format="%.1f"),
        },
    )
    changes = {
        c: float(w)
        for c, w in zip(edited["category"], edited["weight"], strict=True)
        if pd.notna(w) and float(w) != base.weight(c)
    }
    chosen = base.replace(changes, name="edited on the dashboard") if changes else base
    st.session_state["harm_weights"] = chosen
    return chosen


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=HASH)
def harm_table(path: str, version: int, filt: Filter, level: str, w: HarmWeights) -> pd.DataFrame:
    """Area table measured by harm (see :func:`hotspots.areas.area_table`)."""
    return _area_table(
        data.incidents(),
        geography=data.store().geography(),
        filt=filt,
        level=level,
        measure="harm",
        weights=w,
    )


# ---------------------------------------------------------------------------- demand
@st.cache_resource(show_spinner=False, max_entries=2)
def cube(path: str, version: int, cell_size: float) -> DemandCube:
    """Incidents coded by 150 m cell, source and month, once per store version."""
    return DemandCube(data.incidents(), cell_size=cell_size)


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=HASH)
def demand_cells(
    path: str,
    version: int,
    filt: Filter,
    sources: tuple[str, ...],
    months: int,
    min_months: int,
    top_share: float,
    cell_size: float,
) -> tuple[gpd.GeoDataFrame, dict, str]:
    """The demand table with cell squares (EPSG:27700), its parameters and its sentence."""
    c = cube(path, version, cell_size)
    t = c.table(
        filt.replace(sources=()), sources=sources, months=months, min_months=min_months, top_share=top_share
    )
    attrs = dict(t.attrs)
    return c.geometry(t), attrs["params"], attrs["describe"]


def demand_layer(cells: gpd.GeoDataFrame, sources: tuple[str, ...], *, limit: int = 1500) -> gpd.GeoDataFrame:
    """Cells to draw (EPSG:4326): persistent ones in red, the rest of the top by composite in four classes."""
    top = cells[cells["persistent"] | (cells["composite_rank"] <= limit)].copy()
    q = np.quantile(top["composite"], [0.5, 0.8, 0.95]) if len(top) else [0, 0, 0]
    cls = np.searchsorted(q, top["composite"].to_numpy(), side="right")
    top["colour"] = np.where(top["persistent"], PERSISTENT, np.array(COMPOSITE)[cls])
    head = np.where(top["persistent"], "Persistent multi-agency high demand", "High composite demand")
    tip = (
        "<b>"
        + pd.Series(head, index=top.index)
        + "</b><br>composite rank "
        + top["composite_rank"].astype(str)
        + "; months with 2 or more sources high: "
        + top["multi_high_months"].astype(str)
    )
    for s in sources:
        tip = tip + f"<br>{maps.esc(s)}: " + top[f"count_{s}"].astype(str)
    top["tip"] = tip
    return maps.to_wgs84(top)


def persistent_points(layer: gpd.GeoDataFrame) -> pd.DataFrame:
    """The persistent cells of :func:`demand_layer` as points (``lon``, ``lat``, ``count``, ``tip``)."""
    pts = layer[layer["persistent"]]
    centre = pts.geometry.representative_point()
    return pd.DataFrame(
        {"lon": centre.x, "lat": centre.y, "count": 1.0, "tip": pts["tip"]} if len(pts) else {}
    )


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=HASH)
def dual_layer(
    path: str, version: int, filt: Filter, a: str, b: str, mode: str
) -> tuple[gpd.GeoDataFrame, dict]:
    """Dual KDE of two sources on the display grid, classed for drawing (EPSG:4326)."""
    from dashboard import layers

    grid = layers.grid_for(filt)
    d = dual_kde(data.incidents(), source_a=a, source_b=b, grid=grid, filt=filt, mode=mode)
    v = d["value"].to_numpy()
    if mode == "ratio":
        v = np.log2(v)
    lim = np.quantile(np.abs(v), 0.98) if len(v) else 1.0
    breaks = np.array([-0.6, -0.2, 0.2, 0.6]) * (lim or 1.0)
    d["colour"] = np.array(DIVERGING)[np.searchsorted(breaks, v)]
    word = "difference of shares" if mode == "difference" else "ratio of shares"
    d["tip"] = [
        f"{maps.esc(a)} {sa:.2%} of its total; {maps.esc(b)} {sb:.2%}; {word} {val:.3g}"
        for sa, sb, val in zip(d["share_a"], d["share_b"], d["value"], strict=True)
    ]
    half = grid.cell / 2
    import shapely

    geom = shapely.box(d["x"] - half, d["y"] - half, d["x"] + half, d["y"] + half)
    g = maps.to_wgs84(gpd.GeoDataFrame(d, geometry=geom, crs=27700))
    return g, d.attrs["params"]


@st.cache_data(show_spinner="Demand per source for the places…", max_entries=32, hash_funcs=HASH)
def place_table(
    path: str,
    version: int,
    filt: Filter,
    sources: tuple[str, ...],
    method: str,
    items: tuple,
    harm: HarmWeights | None = None,
    months: int = DEFAULT_MONTHS,
    min_months: int = DEFAULT_MIN_MONTHS,
    top_share: float = DEFAULT_TOP_SHARE,
) -> gpd.GeoDataFrame:
    """Demand per source for the places of the Hotspots list (:func:`hotspots.demand.place_demand`).

    The list is the Hotspots page's for these settings (the same cache); persistence follows the
    rule of the Demand & harm page (its 150 m cells; the defaults unless given).
    """
    from dashboard import analysis

    spots, _ = analysis.hotspots(path, version, filt, method, items, harm)
    cells, _, _ = demand_cells(path, version, filt, sources, months, min_months, top_share, DEFAULT_CELL_SIZE)
    return place_demand(data.incidents(), spots, filt=filt.replace(sources=sources), cells=cells)


def place_columns(table: pd.DataFrame, sources: tuple[str, ...]) -> tuple[list[str], dict]:
    """The columns of a place demand table shown on the pages, and how they are headed."""
    cols = ["composite_rank", "rank", "name"]
    config: dict = {
        "composite_rank": "Rank by composite",
        "rank": "Rank in the list",
        "name": st.column_config.TextColumn("Place", width="large"),
    }
    for s in sources:
        cols += [f"count_{s}", f"share_{s}"]
        config[f"count_{s}"] = s
        config[f"share_{s}"] = st.column_config.NumberColumn(f"{s} share", format="%.3f%%")
    cols += ["composite", "persistent"]
    config["composite"] = st.column_config.NumberColumn("Composite", format="%.3f%%")
    config["persistent"] = "Persistent multi-agency"
    return cols, config


def show_places(table: pd.DataFrame, sources: tuple[str, ...], *, key: str, limit: int = 200) -> None:
    """The place demand table, highest composite first, shares in percent."""
    cols, config = place_columns(table, sources)
    shown = table.sort_values(["composite_rank", "rank"])[cols].head(limit).copy()
    for c in cols:
        if c.startswith("share_") or c == "composite":
            shown[c] = shown[c] * 100
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config, key=key)


def hotspots_option(
    path: str,
    version: int,
    filt: Filter,
    table: gpd.GeoDataFrame,
    method: str,
    items: tuple,
    harm: HarmWeights | None = None,
) -> gpd.GeoDataFrame:
    """The Hotspots page's demand option: demand per source for each place, and the persistent ones.

    A place is of persistent multi-agency high demand when it holds a persistent 150 m cell (a cell
    belongs to the place holding most of its incidents; the default rule of the Demand & harm page,
    every source). Adds ``multi_agency``, each source's ``share_<source>`` and ``composite``.
    """
    from dashboard import disclosure_ui

    sources = disclosure_ui.visible_sources(data.options(path, version)["sources"])  # viewers: public only
    if len(sources) < 2 or table.empty:
        return table
    pd_ = place_table(path, version, filt, sources, method, items, harm).set_index("rank")
    extra = {"multi_agency": table["rank"].map(pd_["persistent"]).fillna(False).astype(bool)}
    for s in sources:
        extra[f"share_{s}"] = table["rank"].map(pd_[f"share_{s}"])
    extra["composite"] = table["rank"].map(pd_["composite"])
    out = table.assign(**extra)
    n = int(out["multi_agency"].sum())
    sentence = pd_.attrs.get("describe", "")
    only = st.toggle(
        f"Only places of persistent multi-agency high demand ({n})",
        key="hs_multi_agency",
        help=sentence + " (the rule of the Demand & harm page).",
    )
    marked = out[out["multi_agency"]]
    slot = st.container()  # always one element: what follows keeps its place (a map, its zoom)
    if n:
        slot.caption(
            "Persistent multi-agency high demand: "
            + ", ".join(f"#{r} {nm}" for r, nm in list(zip(marked["rank"], marked["name"], strict=True))[:8])
        )
    with st.expander(f"Demand per source for these places ({', '.join(sources)})"):
        show_places(pd_.reset_index(), sources, key="hs_place_demand")
        st.caption(
            "Each source's incidents in the place as a share of that source's incidents in the filter "
            "(so every source weighs the same whatever its volume); composite: the mean of the shares. "
            + pd_.attrs["params"]["place_rule"].capitalize()
            + "."
        )
    return out[out["multi_agency"]] if only and n else out


# ---------------------------------------------------------------------------- time of day
@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=HASH)
def hour_profile(path: str, version: int, filt: Filter) -> pd.DataFrame:
    """Incidents by day of week and hour for the filter (:func:`hotspots.timeofday.hour_profile`)."""
    from hotspots.timeofday import hour_profile as _hour_profile

    return _hour_profile(data.incidents(), filt=filt)


NO_TIMES = (
    "police.uk publishes the month of each incident only, not its day or time, so it has no "
    "hour-of-day profile. Load a partner source with a date and a time column on the **Data** page "
    "(road collisions, council ASB reports…) to see one."
)


def hour_section(path: str, version: int, filt: Filter) -> pd.DataFrame:
    """The hour-of-day and day-of-week chart, what it leaves out, and its table; returns the profile."""
    from dashboard import charts
    from hotspots.timeofday import DAYS, left_out_sentence

    prof = hour_profile(path, version, filt)
    left = left_out_sentence(prof)
    n = prof.attrs["n_timed"]
    if n == 0:
        st.info(NO_TIMES + (f" {left}" if left else ""))
        return prof
    st.altair_chart(charts.hour_profile(prof), width="stretch")
    by_hour = prof.groupby("hour")["count"].sum()
    by_day = prof.groupby("day_of_week")["count"].sum()
    h, d = int(by_hour.idxmax()), int(by_day.idxmax())
    timed = ", ".join(sorted(prof.attrs["in_profile"]))
    st.caption(
        f"{n:,} incidents with an exact time ({timed}). Busiest hour {h:02d}:00–{h:02d}:59 "
        f"({int(by_hour[h]):,}, {by_hour[h] / n:.0%}); busiest day {DAYS[d]} ({int(by_day[d]):,}). " + left
    )
    with st.expander("Incidents by hour and day (table)"):
        table = prof.pivot(index="hour", columns="day_name", values="count")[
            list(dict.fromkeys(prof["day_name"]))
        ]
        table.insert(7, "All days", table.sum(axis=1))
        table.index = [f"{h:02d}:00" for h in table.index]
        st.dataframe(
            table.rename_axis("Hour").reset_index(), hide_index=True, width="stretch", key="hour_table"
        )
    return prof


# ---------------------------------------------------------------------------- harm over time
@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=HASH)
def harm_series(path: str, version: int, filt: Filter, w: HarmWeights) -> pd.DataFrame:
    """Harm by month for the filter (:func:`hotspots.trends.monthly_series` with ``measure="harm"``)."""
    from hotspots.trends import monthly_series

    return monthly_series(data.incidents(), filt=filt, measure="harm", weights=w)


def measure_choice(key: str) -> HarmWeights | None:
    """A "Measure" radio (incidents or harm, mirrored in the URL); the harm weights when harm is chosen."""
    from dashboard import state

    state.url_value(key, "count", options=list(MEASURE_LABELS))
    st.radio("Measure", list(MEASURE_LABELS), key=key, format_func=MEASURE_LABELS.get, horizontal=True)
    state.sync_page_params([key])
    return weights() if st.session_state[key] == "harm" else None
