"""Map layers from the library's results: cached by plain keys, returned in EPSG:4326.

Each function calls :mod:`hotspots` once and turns the result into what
:mod:`dashboard.maps` draws (classed polygons with escaped tooltips, sized points). The
analysis grid covers the areas chosen in the filter, or the whole study area.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st

from dashboard import data
from dashboard.maps import GISTAR, GISTAR_LABELS, SURFACE, esc, to_wgs84
from dashboard.offline import make_offline
from hotspots._errors import InputError
from hotspots.areas import APPROXIMATE_NOTE
from hotspots.filters import Filter
from hotspots.gistar import gistar
from hotspots.grid import Grid, make_grid
from hotspots.kde import kde

HASH = data.HASH
#: Lower bounds of the KDE display classes, as quantiles of the cells with any density.
KDE_CLASSES = ((0.5, "top 50%"), (0.7, "top 30%"), (0.85, "top 15%"), (0.95, "top 5%"), (0.99, "top 1%"))


def outline_note(filt: Filter) -> str:
    """A caption for the map when the analysed areas have approximate outlines, else ``""``.

    Areas of another force's data are placed from reported LSOA codes and drawn from their
    incident locations (see docs/areas.md); pages show this under the map and the table.
    """
    geo = data.store().geography()
    if not geo.has_approximate:
        return ""
    a = geo.areas(filt.level)
    if filt.areas:
        a = a[a["area_code"].isin(filt.areas)]
    if (a["outline"] == "boundary").all():
        return ""
    return APPROXIMATE_NOTE


def study_area(filt: Filter) -> gpd.GeoSeries:
    """The chosen areas' outline, or the whole study area (EPSG:27700).

    Areas known only from reported LSOA codes have approximate outlines (the buffered hull of
    their incident locations, see :func:`outline_note`); they bound the grid all the same.
    """
    geo = data.store().geography()
    if not filt.areas:
        return geo.study_area
    a = geo.areas(filt.level)
    a = a[a["area_code"].isin(filt.areas)]
    shape = a.geometry.union_all()
    if shape is None or shape.is_empty:
        raise InputError(
            f"the chosen {filt.level}(s) have no outline yet: no incident has been located there "
            "(areas placed from reported LSOA codes are drawn from their incident locations)"
        )
    return gpd.GeoSeries([shape], crs=a.crs)


@st.cache_resource(show_spinner=False, max_entries=16)
def grid(path: str, version: int, level: str, areas: tuple[str, ...], cell_size: float | None) -> Grid:
    """The analysis grid over ``areas`` at ``level`` (all: the study area)."""
    return make_grid(study_area(Filter(level=level, areas=areas)), cell_size=cell_size)


def grid_for(filt: Filter, cell_size: float | None = None) -> Grid:
    """The grid for a filter's areas."""
    path, version = data.key()
    return grid(path, version, filt.level, filt.areas, cell_size)


def xy(filt: Filter) -> tuple[np.ndarray, np.ndarray]:
    """BNG coordinates of the filtered incidents that have a location."""
    path, version = data.key()
    df = data.filtered(path, version, filt, ("x", "y"))
    df = df[np.isfinite(df["x"].to_numpy())]
    return df["x"].to_numpy(), df["y"].to_numpy()


def _dissolve(g: Grid, cells: np.ndarray, labels: np.ndarray) -> gpd.GeoDataFrame:
    """One polygon per label from grid cells (flat ids), in EPSG:4326."""
    rows, geoms = [], []
    for lab in pd.unique(labels):
        ids = cells[labels == lab]
        geoms.append(shapely.coverage_union_all(g.boxes(ids)))
        rows.append(lab)
    out = gpd.GeoDataFrame({"label": rows}, geometry=geoms, crs=27700)
    if g.study_area is not None:
        out["geometry"] = out.geometry.intersection(g.study_area)
    return to_wgs84(out)


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=HASH)
def kde_layer(
    path: str, version: int, filt: Filter, cell_size: float | None, bandwidth: float | None, kernel: str
) -> tuple[gpd.GeoDataFrame, dict]:
    """The KDE surface as five dissolved classes (top 50% … top 1% of cells with any density)."""
    g = grid(path, version, filt.level, filt.areas, cell_size)
    x, y = xy(filt)
    res = kde(x, y, grid=g, bandwidth=bandwidth, kernel=kernel)
    d = np.where(g.mask, res.density, np.nan).ravel()
    pos = d[np.isfinite(d) & (d > 0)]
    if pos.size == 0:
        return gpd.GeoDataFrame({"colour": [], "tip": []}, geometry=[], crs=4326), res.params
    lows = np.quantile(pos, [q for q, _ in KDE_CLASSES])
    cls = np.searchsorted(lows, np.nan_to_num(d, nan=-1), side="right") - 1
    cells = np.flatnonzero(cls >= 0)
    out = _dissolve(g, cells, cls[cells])
    highs = list(lows[1:]) + [float(pos.max())]
    out["colour"] = [SURFACE[i] for i in out["label"]]
    out["tip"] = [
        f"<b>KDE: {KDE_CLASSES[i][1]} of cells</b><br>{lows[i]:,.0f} – {highs[i]:,.0f} incidents per km²"
        for i in out["label"]
    ]
    params = res.params | {"display_classes": ", ".join(lab for _, lab in KDE_CLASSES)}
    return out.sort_values("label"), params


def kde_legend(params: dict) -> list[tuple[str, str]]:
    """Legend rows for the KDE classes."""
    return [(c, f"{lab} of cells") for c, (_, lab) in zip(SURFACE, KDE_CLASSES, strict=True)]


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=HASH)
def gistar_layer(
    path: str, version: int, filt: Filter, cell_size: float | None, band: int
) -> tuple[gpd.GeoDataFrame, dict]:
    """Gi* hot and cold cells (FDR-corrected), one polygon per confidence bin."""
    g = grid(path, version, filt.level, filt.areas, cell_size)
    x, y = xy(filt)
    res = gistar(g.counts(x, y), mask=g.mask, band=band)
    b = res.bin.ravel()
    cells = np.flatnonzero(b != 0)
    params = res.params | g.describe()
    if cells.size == 0:
        return gpd.GeoDataFrame({"colour": [], "tip": []}, geometry=[], crs=4326), params
    out = _dissolve(g, cells, b[cells])
    n = pd.Series(b[cells]).value_counts()
    out["colour"] = [GISTAR[int(v)] for v in out["label"]]
    out["tip"] = [
        f"<b>Gi* {esc(GISTAR_LABELS[int(v)])}</b><br>{int(n[v]):,} cells of {g.cell:,.0f} m"
        for v in out["label"]
    ]
    return out.sort_values("label"), params


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=HASH)
def incident_points(path: str, version: int, filt: Filter, limit: int = 3000) -> tuple[pd.DataFrame, int]:
    """Incidents aggregated to their map points (busiest ``limit``), with tooltips; and the total."""
    df = data.filtered(path, version, filt, ("location_id", "lon", "lat", "location_name", "category"))
    df = df[df["location_id"] >= 0]
    if df.empty:
        return pd.DataFrame(columns=["lon", "lat", "count", "tip"]), 0
    top_cat = (
        df.groupby(["location_id", "category"], observed=True)
        .size()
        .rename("n")
        .reset_index()
        .sort_values("n", ascending=False)
        .drop_duplicates("location_id")
        .set_index("location_id")
    )
    agg = df.groupby("location_id").agg(
        lon=("lon", "first"), lat=("lat", "first"), name=("location_name", "first"), count=("lon", "size")
    )
    total = len(agg)
    agg = agg.sort_values("count", ascending=False).head(limit)
    agg["tip"] = [
        f"<b>{esc(nm)}</b><br>{c:,} incidents<br>most often: {esc(top_cat.loc[i, 'category'])}"
        for i, nm, c in zip(agg.index, agg["name"], agg["count"], strict=True)
    ]
    return agg.reset_index(drop=True), total


#: Emerging hot spot categories: reds for hot (darkest = newest/intensifying), blues for cold.
EMERGING_COLOURS = {
    "new hot spot": "#67000d",
    "consecutive hot spot": "#a50f15",
    "intensifying hot spot": "#cb181d",
    "persistent hot spot": "#ef3b2c",
    "diminishing hot spot": "#fc9272",
    "sporadic hot spot": "#fcbba1",
    "oscillating hot spot": "#fee0d2",
    "historical hot spot": "#bdbdbd",
    "new cold spot": "#08306b",
    "consecutive cold spot": "#08519c",
    "intensifying cold spot": "#2171b5",
    "persistent cold spot": "#4292c6",
    "diminishing cold spot": "#6baed6",
    "sporadic cold spot": "#9ecae1",
    "oscillating cold spot": "#c6dbef",
    "historical cold spot": "#d9d9d9",
}


def emerging_layer(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Emerging hot spot cells dissolved by category, coloured, in EPSG:4326."""
    if cells.empty:
        return gpd.GeoDataFrame({"colour": [], "tip": []}, geometry=[], crs=4326)
    n = cells["category"].value_counts()
    out = to_wgs84(cells.dissolve(by="category", as_index=False)[["category", "geometry"]])
    out["colour"] = out["category"].map(EMERGING_COLOURS).fillna("#999999")
    out["tip"] = [f"<b>{esc(c.capitalize())}</b><br>{int(n[c]):,} cells" for c in out["category"]]
    return out


def layered_map(m: folium.Map, groups: list[folium.FeatureGroup], *, key: str, height: int = 640) -> None:
    """Show the base map ``m`` with ``groups`` of layers that change in place.

    streamlit-folium builds a new map (a new iframe that loads Leaflet and the component again)
    whenever the map's script changes. Here ``m`` holds only what stays the same while filters
    change (background, study-area outline, view), and the layers come as feature groups,
    which the component swaps inside the live map: a filter change costs the browser a small
    part of a rebuild (``bench/bench_load.py``), and the user's zoom and pan stay where they were.
    Each group carries its own legend (:class:`dashboard.maps.Legend`); the layer control is
    drawn afresh with the groups.
    """
    # imported here: a component registers itself only when imported inside a page run
    from streamlit_folium import st_folium

    make_offline(m)
    st_folium(
        m,
        key=key,
        height=height,
        use_container_width=True,
        returned_objects=[],
        feature_group_to_add=groups,
        layer_control=folium.LayerControl(collapsed=False, position="topright"),
    )
