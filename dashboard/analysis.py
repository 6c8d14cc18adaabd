"""Cached calls into the hotspot engine, keyed by plain values.

The keys are the store path and version, the Filter, the method and its parameters as a
tuple of pairs, and the harm weights when the list measures harm (``harm``; None = count).

Results are returned as plain frames plus their ``params`` dict, so the cache can copy them.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.maps import to_wgs84
from hotspots import calendar_events, emerging, expected, seasonality, trends
from hotspots._errors import InputError
from hotspots.evaluate import evaluate
from hotspots.filters import Filter
from hotspots.harm import HarmWeights
from hotspots.hotspot_list import find_hotspots
from hotspots.methods import DEFAULT_METHOD as DEFAULT_METHOD  # re-exported for the pages
from hotspots.methods import REGISTRY
from hotspots.methods import get as get_method
from hotspots.place_detail import CELL_RANGE as DETAIL_CELL_RANGE
from hotspots.place_detail import PlaceDetail
from hotspots.place_detail import place_detail as _place_detail

HASH = {**data.HASH, HarmWeights: lambda w: w.to_json()}
#: How the pages name each method (a method added to the registry without one shows its summary).
_LABELS = {
    "eb_count": "Busiest places now (default): recent counts smoothed towards their neighbours",
    "kde": "KDE: densest places",
    "gistar": "Gi*: statistically significant hot spots",
    "dbscan": "DBSCAN: clusters of incidents",
    "repeat": "Repeat locations: busiest single points",
    "count": "Counts: busiest grid cells",
}
METHOD_LABELS = {name: _LABELS.get(name, f"{name}: {m.summary}") for name, m in REGISTRY.items()}
MICRO = (
    " Places are built from micro-cells of 125 m (the analysis unit whatever the map extent; finer "
    "where the area is small), at most 0.5 km² each, split at their peaks, unless you set a cell size."
)
_HELP = {
    "eb_count": "The default, because it predicted the following months best on the real data (see "
    "docs/methods.md). Incidents are counted per grid cell with recent months weighing more (an incident's "
    "weight halves every *half life* months, default 6), then each cell's count is smoothed towards the "
    "average of its eight neighbours by empirical Bayes: a lone incident in a quiet street counts for less "
    "than a steady run in a busy block, while a busy cell keeps its own count. The strength of the "
    "smoothing is estimated from the data and shown below. The top share of the area's cells become "
    "places, one per peak (cells joined along edges, split where the score dips)." + MICRO,
    "kde": "Kernel density estimation smooths incidents into a surface; the densest cells (top share of the "
    "area) become places, one per peak. Quartic kernel, bandwidth one cell unless you set one or choose the "
    "spatial Silverman rule (as in ArcGIS, smoother: it suits one-centred data and blurs a county's towns "
    "together)." + MICRO,
    "gistar": "Getis-Ord Gi* compares each cell and its neighbours with the whole area; cells significant after "
    "Benjamini-Hochberg false-discovery correction (at alpha) are hot spots.",
    "dbscan": "DBSCAN groups map points with at least min_samples incidents within eps metres; noise is not a "
    "hotspot. Defaults scale with the number of incidents and the area.",
    "repeat": "The map points (police.uk's anonymised snap points) with the most incidents.",
    "count": "The grid cells with the most incidents, one place per peak: the plain baseline." + MICRO,
}
METHOD_HELP = {name: _HELP.get(name, m.summary) for name, m in REGISTRY.items()}
#: Options shown as number inputs (None = chosen from the data), with a label and step.
NUMERIC = {
    "cell_size": ("Cell size (m)", 50.0),
    "half_life": ("Half life of an incident's weight (months)", 1.0),
    "bandwidth": ("Bandwidth (m)", 50.0),
    "multiplier": ("Bandwidth multiplier", 0.1),
    "top_share": ("Share of the area kept as hotspots", 0.005),
    "band": ("Neighbourhood (cells each side)", 1),
    "alpha": ("Significance level (alpha)", 0.01),
    "eps": ("eps: neighbourhood radius (m)", 25.0),
    "min_samples": ("min_samples: incidents", 1),
    "buffer": ("Outline buffer (m)", 25.0),
    "top_n": ("How many locations", 5),
}
CHOICES = {"kernel": ("quartic", "gaussian"), "bandwidth_rule": ("cell", "silverman", "normal_reference")}
HIDDEN = {"permutations", "seed", "fdr"}


def editable_params(method: str) -> dict[str, Any]:
    """The method's options shown in the page, with their defaults (None: from the data)."""
    return {k: v for k, v in get_method(method).options.items() if k not in HIDDEN}


def default_items(method: str) -> tuple[tuple[str, Any], ...]:
    """The parameter items a page passes for ``method`` left at its defaults (one cache key)."""
    return tuple(editable_params(method).items())


def _params(items: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    return {k: v for k, v in items if v is not None}


@st.cache_data(show_spinner="Finding hotspots…", max_entries=64, hash_funcs=HASH)
def hotspots(
    path: str,
    version: int,
    filt: Filter,
    method: str,
    items: tuple[tuple[str, Any], ...],
    harm: HarmWeights | None = None,
) -> tuple[gpd.GeoDataFrame, dict]:
    """The ranked hotspot list (EPSG:27700) and its parameters (ranked by harm with ``harm`` weights)."""
    h = find_hotspots(
        data.incidents(),
        method=method,
        geography=data.store().geography(),
        filt=filt,
        **({} if harm is None else {"measure": "harm", "weights": harm}),
        **_params(items),
    )
    return gpd.GeoDataFrame(h, geometry="geometry", crs=h.crs), dict(h.params)


#: Point places (repeat locations) are read within this radius of their map point (metres).
POINT_RADIUS = 30.0


@st.cache_data(show_spinner="Reading the place…", max_entries=64, hash_funcs=HASH)
def place_detail(
    path: str,
    version: int,
    filt: Filter,
    method: str,
    items: tuple[tuple[str, Any], ...],
    rank: int,
    harm: HarmWeights | None = None,
) -> PlaceDetail:
    """The micro-map data of the place ranked ``rank`` in the list for these settings.

    A place built from grid cells of at most 150 m is shown with its own cells; other places
    (larger cells, DBSCAN clusters, repeat locations) with :func:`hotspots.place_detail`'s rule.

    Raises ``KeyError`` when the list has no such rank.
    """
    table, params = hotspots(path, version, filt, method, items, harm)
    row = table[table["rank"] == rank]
    if row.empty:
        raise KeyError(f"no place ranked {rank} in this list")
    geom = row.geometry.iloc[0]
    if geom.geom_type in ("Point", "MultiPoint"):
        geom = geom.buffer(POINT_RADIUS)
    # a place made of micro-cells is shown with those cells; otherwise place_detail's rule
    cell = params.get("cell_size_m")
    cell = float(cell) if cell and float(cell) <= DETAIL_CELL_RANGE[1] else None
    return _place_detail(data.incidents(), geom, filt=filt, cell_size=cell)


@st.cache_data(show_spinner="Scoring against the latest months…", max_entries=64, hash_funcs=HASH)
def evaluation(
    path: str,
    version: int,
    filt: Filter,
    method: str,
    items: tuple[tuple[str, Any], ...],
    test_months: int,
    harm: HarmWeights | None = None,
) -> dict[str, Any]:
    """Hit rate, PAI, PEI and RRI of the current settings on the latest months.

    Trained on the filter's earlier months, tested on its last ``test_months`` months;
    ``{"error": …}`` when that split is impossible. With ``harm`` weights every count is harm.
    """
    months = data.options(path, version)["months"]
    lo = filt.month_from or months[0]
    hi = filt.month_to or months[-1]
    span = pd.period_range(lo, hi, freq="M")
    if len(span) < test_months + 2:
        return {"error": f"needs at least {test_months + 2} months in the filter to train and test"}
    train = filt.replace(month_from=str(span[0]), month_to=str(span[-test_months - 1]))
    test = filt.replace(month_from=str(span[-test_months]), month_to=str(span[-1]))
    m = get_method(method)
    allowed = (*m.score_options, "cell_size") if m.kind == "cells" else m.score_options
    params = {k: v for k, v in _params(items).items() if k in allowed}
    try:
        return evaluate(
            data.incidents(),
            method=method,
            train=train,
            test=test,
            geography=data.store().geography(),
            **({} if harm is None else {"measure": "harm", "weights": harm}),
            **params,
        )
    except InputError as exc:
        return {"error": str(exc)}


def to_map(table: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Hotspot outlines in EPSG:4326 for drawing."""
    return to_wgs84(table)


# ---------------------------------------------------------------------------- trends
@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=HASH)
def expected_series(path: str, version: int, filt: Filter) -> pd.DataFrame:
    """Monthly counts for the filter with the expected range and flags (one series)."""
    series = trends.monthly_series(data.incidents(), filt=filt)
    return expected.expected_range(series)


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=HASH)
def rolling_compare(path: str, version: int, filt: Filter) -> dict[str, Any]:
    """The 12 months to the filter's last month against the 12 before (one row as a dict)."""
    series = trends.monthly_series(data.incidents(), filt=filt.replace(month_from=None))
    row = trends.last12_vs_previous12(series, end=filt.month_to).iloc[0]
    return row.to_dict()


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=HASH)
def rising(path: str, version: int, filt: Filter, months: int = 3) -> pd.DataFrame:
    """Each category's last ``months`` months against the ``months`` before (FDR-tested)."""
    series = trends.monthly_series(data.incidents(), filt=filt.replace(month_from=None), by_category=True)
    out = trends.last12_vs_previous12(series, end=filt.month_to, months=months)
    return out.sort_values("change", ascending=False, na_position="last").reset_index(drop=True)


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=HASH)
def seasonal_profile(path: str, version: int, filt: Filter) -> pd.DataFrame:
    """Month-of-year index for the filter."""
    return seasonality.seasonal_profile(data.incidents(), filt=filt)


@st.cache_data(show_spinner=False, max_entries=4)
def events_by_month(months: tuple[str, ...]) -> pd.DataFrame:
    """The partnership calendar's events named per month (``month``, ``events``)."""
    ev = calendar_events.load_events()
    return calendar_events.events_by_month(ev, pd.DatetimeIndex(pd.to_datetime(list(months))))


@st.cache_data(show_spinner="Emerging hot spot analysis…", max_entries=32, hash_funcs=HASH)
def emerging_cells(path: str, version: int, filt: Filter) -> tuple[gpd.GeoDataFrame, dict]:
    """Emerging hot spot categories per grid cell (EPSG:27700), without the "no pattern" cells."""
    from dashboard.layers import study_area

    cells = emerging.emerging_hotspots(data.incidents(), filt=filt, study_area=study_area(filt))
    params = dict(cells.attrs.get("params", {}))
    return gpd.GeoDataFrame(cells[cells["category"] != "no pattern detected"]), params


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=HASH)
def category_mix(path: str, version: int, filt: Filter) -> pd.DataFrame:
    """Incidents by category in the filter (``category``, ``count``), largest first."""
    df = data.filtered(path, version, filt, ("category",))
    out = df["category"].astype(str).value_counts().rename_axis("category").rename("count").reset_index()
    return out
