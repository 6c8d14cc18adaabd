"""Cached loaders. Every cache key is a plain value: the store path, its version, a Filter.

The store is opened once per app process and shared as a resource. It holds no lock: it reads
the file through a read-only attachment that follows the file when a load swaps in a new one
(see :mod:`hotspots.store`), so command-line loads and other dashboard processes are never
blocked. ``Store.version()`` changes on every load, so results cached under an older version
are simply never asked for again, and :func:`notice_new_data` tells a session that the data
changed on its next interaction.
"""

from __future__ import annotations

import calendar

import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from hotspots.areas import AREA_TABLE_COLUMNS, CodedIncidents
from hotspots.areas import area_table as _area_table
from hotspots.filters import Filter
from hotspots.store import Store, default_path

#: Streamlit hashes a Filter by its JSON text (it is frozen, so this is stable).
HASH = {Filter: lambda f: f.to_json()}
LEVEL_LABELS = {"lsoa": "LSOA", "ward": "Ward", "district": "District (CSP)", "locality": "Locality"}
#: Boundaries are simplified to this tolerance (metres) before drawing.
SIMPLIFY_M = 25.0


@st.cache_resource(show_spinner=False)
def _open_store(path: str) -> Store:
    return Store(path)


def store() -> Store:
    """The app's store (``$HOTSPOTS_STORE`` or ./data/hotspots.duckdb), opened once."""
    where = default_path()
    return _open_store(where if isinstance(where, str) else str(where.resolve()))


def notice_new_data() -> str | None:
    """Show a short notice when the store changed since this session's last run; return its text.

    A load from the command line (or another session) changes :meth:`Store.version`; the first
    run of a session only records the version.
    """
    s = store()
    version = s.version()
    seen = st.session_state.get("_store_version")
    st.session_state["_store_version"] = version
    if seen is None or seen == version:
        return None
    months = s.months()
    n = s.counts()["incidents"]
    text = f"New data loaded: {n:,} incidents" + (
        f", {months[0]:%b %Y} to {months[-1]:%b %Y}." if months else "."
    )
    st.toast(text, icon=":material/update:")
    return text


def key() -> tuple[str, int]:
    """``(path, version)``: the first two arguments of every cached loader."""
    s = store()
    return str(s.path), s.version()


def incidents() -> pd.DataFrame:
    """All incidents (the store keeps one frame in memory per version; do not modify it)."""
    return store().incidents()


@st.cache_resource(show_spinner=False, max_entries=2)
def coded(path: str, version: int) -> CodedIncidents:
    """Integer-coded incidents for fast filtering (one per store version)."""
    return CodedIncidents(incidents())


@st.cache_data(show_spinner=False, max_entries=4)
def options(path: str, version: int) -> dict:
    """What the filters can choose from: months, categories, sources, areas by level."""
    inc = incidents()
    geo = store().geography()
    months = sorted(pd.DatetimeIndex(inc["month"].dropna().unique()).strftime("%Y-%m")) if len(inc) else []
    areas = {}
    for level in LEVEL_LABELS:
        a = geo.areas(level)
        names = a["area_name"].astype(str)
        if level in ("ward", "lsoa"):
            names = names + " (" + a["district_name"].astype(str) + ")"
        areas[level] = dict(zip(a["area_code"].astype(str), names, strict=True))
    return {
        "months": months,
        "categories": sorted(inc["category"].dropna().astype(str).unique()) if len(inc) else [],
        "sources": sorted(inc["source"].dropna().astype(str).unique()) if len(inc) else [],
        "areas": areas,
        "has_times": bool(len(inc) and inc["occurred_at"].notna().any()),
        "extras": extra_options(inc),
        "geography": geo.name,
    }


#: Partner columns with more distinct values than this are not offered as sidebar filters.
MAX_EXTRA_VALUES = 60


def extra_options(inc: pd.DataFrame) -> list[str]:
    """``COLUMN=VALUE`` choices for the partner columns kept by a mapping's ``extra``."""
    from hotspots.filters import extra_columns_of, extra_values_of

    out = []
    for col in extra_columns_of(inc):
        values = extra_values_of(inc, col).dropna().unique()
        if 0 < len(values) <= MAX_EXTRA_VALUES:
            out += [f"{col}={v}" for v in sorted(values, key=lambda v: (len(str(v)), str(v)))]
    return out


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=HASH)
def area_table(path: str, version: int, filt: Filter, level: str | None = None) -> pd.DataFrame:
    """Counts, rates per 1,000, shares and ranks by area (see :func:`hotspots.areas.area_table`)."""
    table = _area_table(incidents(), geography=store().geography(), filt=filt, level=level)
    return table[AREA_TABLE_COLUMNS].assign(unplaced=table.attrs.get("unplaced", 0))


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=HASH)
def filtered_count(path: str, version: int, filt: Filter) -> int:
    """Number of incidents the filter keeps (placed in an area or not)."""
    return int(coded(path, version).mask(filt).sum())


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=HASH)
def filtered(path: str, version: int, filt: Filter, columns: tuple[str, ...]) -> pd.DataFrame:
    """The filtered incidents, only ``columns`` (a copy)."""
    inc = incidents()
    return inc.loc[coded(path, version).mask(filt), list(columns)].reset_index(drop=True)


@st.cache_data(show_spinner=False, max_entries=8)
def area_shapes(path: str, version: int, level: str) -> gpd.GeoDataFrame:
    """Area outlines at ``level``, simplified for drawing, in EPSG:4326."""
    a = store().geography().areas(level)
    out = a[["area_code", "area_name", "district_name", "population", "geometry"]].copy()
    out = out[out.geometry.notna() & ~out.geometry.is_empty]  # areas with no outline yet (docs/areas.md)
    out["geometry"] = out.geometry.simplify(SIMPLIFY_M, preserve_topology=True)
    return _light(out.to_crs(4326))


@st.cache_data(show_spinner=False, max_entries=4)
def study_area_shape(path: str, version: int) -> gpd.GeoDataFrame:
    """The study area outline, simplified, in EPSG:4326."""
    sa = store().geography().study_area
    return _light(gpd.GeoDataFrame(geometry=sa.simplify(SIMPLIFY_M * 2), crs=sa.crs).to_crs(4326))


def _light(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Round EPSG:4326 coordinates to about 1 m, so the map sends less text to the browser."""
    out = gdf.copy()
    out["geometry"] = shapely.set_precision(out.geometry.to_numpy(), 1e-5)
    return out


def month_label(month: str) -> str:
    """``2025-06`` → ``Jun 2025``."""
    y, m = month.split("-")
    return f"{calendar.month_abbr[int(m)]} {y}"


def label_month(label: str) -> str:
    """``Jun 2025`` → ``2025-06``."""
    name, y = label.split(" ")
    return f"{y}-{list(calendar.month_abbr).index(name):02d}"
