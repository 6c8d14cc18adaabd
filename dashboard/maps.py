"""Folium map builders: areas, surfaces, clusters, cells and points, drawn without basemap tiles.

Every builder takes data already in EPSG:4326 (the library works in EPSG:27700; conversion for
drawing happens in :mod:`dashboard.layers`). Every text taken from data is HTML-escaped before
it reaches a tooltip, popup or legend. Maps draw on a plain background; OpenStreetMap tiles are
an option (they need internet). Leaflet itself is served from the repository
(:mod:`dashboard.offline`), so the map works offline.
"""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement, Template
from pyproj import CRS, Transformer

from dashboard import folium_render
from dashboard.offline import make_offline
from hotspots import ATTRIBUTION

folium_render.install()  # map text is never compiled again as a template (see the module)

#: ColorBrewer YlOrRd (colour-blind safe, prints in grey): counts and rates by area.
SEQUENTIAL = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
#: ColorBrewer Purples: the KDE surface, distinct from the area colours.
SURFACE = ("#dadaeb", "#bcbddc", "#9e9ac8", "#756bb1", "#54278f")
#: ColorBrewer RdBu (colour-blind safe): Gi* hot (red) and cold (blue) by confidence.
GISTAR = {
    3: "#b2182b",
    2: "#ef8a62",
    1: "#fddbc7",
    -1: "#d1e5f0",
    -2: "#67a9cf",
    -3: "#2166ac",
}
GISTAR_LABELS = {
    3: "Hot spot, 99% confidence",
    2: "Hot spot, 95% confidence",
    1: "Hot spot, 90% confidence",
    -1: "Cold spot, 90% confidence",
    -2: "Cold spot, 95% confidence",
    -3: "Cold spot, 99% confidence",
}
CLUSTER = "#1b7837"  # green outline for DBSCAN clusters and hotspot areas
REPEAT = "#00441b"
INCIDENT = "#525252"
BACKGROUND = "#f2f2ee"
SHORT_ATTRIBUTION = (
    "Crime data: data.police.uk; boundaries and residents: ONS (Census 2021). "
    "Open Government Licence v3.0. Contains OS data © Crown copyright and database right 2024."
)


#: PROJ state belongs to a thread, and Streamlit runs every page run in a new thread, where a
#: first transform costs ~45 ms (a sixth of a Map page run). Transforms for drawing run here,
#: in one long-lived thread that keeps its transformers.
_PROJ_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hotspots-proj")


@functools.lru_cache(maxsize=8)
def _to_wgs84_from(crs: CRS) -> Transformer:
    return Transformer.from_crs(crs, 4326, always_xy=True)


def to_wgs84(table: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``table`` in EPSG:4326 for drawing: what ``table.to_crs(4326)`` gives, at a fraction of the cost.

    ``to_crs`` sets PROJ up again in every new thread (about 45 ms); here the transform runs in
    one kept thread with one transformer per source CRS.
    """
    if table.crs is None or table.crs.equals(4326):
        return table.to_crs(4326) if table.crs is None else table
    crs = CRS(table.crs)

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(_to_wgs84_from(crs).transform(xy[:, 0], xy[:, 1]))

    shapes = _PROJ_THREAD.submit(shapely.transform, table.geometry.to_numpy(), project).result()
    return table.set_geometry(gpd.GeoSeries(shapes, index=table.index, crs=4326))


def esc(value: object) -> str:
    """Text for HTML: escaped, with missing values as an empty string."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    # backslash, backtick and dollar too: folium puts some texts in JavaScript template literals
    return html.escape(str(value)).replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


def base_map(bounds: Sequence[float], *, tiles: bool = False, height: int = 620) -> folium.Map:
    """An empty map fitted to ``bounds`` (minx, miny, maxx, maxy in EPSG:4326).

    With ``tiles=False`` (default) the map has a plain background and needs no internet.
    """
    minx, miny, maxx, maxy = bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=9,
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
        zoom_snap=0.25,
    )
    if tiles:
        folium.TileLayer("OpenStreetMap", name="Street map (needs internet)", control=True).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    style = (
        f"<style>.leaflet-container{{background:{BACKGROUND};font-size:15px}}"
        ".leaflet-control-layers{font-size:15px}"
        # the data credits stay clear of the scale bar (bottom left): a right-hand block of small text
        ".leaflet-control-attribution{font-size:11px;line-height:1.3;max-width:55%;text-align:right}"
        ".leaflet-tooltip,.leaflet-popup-content{font-size:15px;line-height:1.35}"
        ".leaflet-tooltip th,.leaflet-popup-content th{text-align:left;padding-right:8px}"
        ".hs-legend{background:rgba(255,255,255,.92);padding:8px 10px;border-radius:4px;"
        "box-shadow:0 1px 4px rgba(0,0,0,.3);font-size:14px;line-height:1.4;max-width:260px}"
        ".hs-legend b{display:block;margin-bottom:4px}"
        ".hs-legend i{display:inline-block;width:18px;height:14px;margin-right:6px;"
        "vertical-align:-2px;border:1px solid #777}</style>"
    )
    m.get_root().header.add_child(Element(style))
    _Attribution(SHORT_ATTRIBUTION).add_to(m)
    _WheelAfterClick().add_to(m)
    return m


class _Attribution(MacroElement):
    """Adds the data attribution to the map's attribution control (there are no tiles to carry it)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}"""
    )

    def __init__(self, text: str):
        super().__init__()
        self._name = "Attribution"
        self.text = html.escape(text)


class _WheelAfterClick(MacroElement):
    """The mouse wheel scrolls the page until the map is clicked; then it zooms, until the pointer leaves.

    A map fills most of a page's width: with wheel zoom always on, scrolling down the page past
    the map zooms it out to a speck instead. Buttons, double-click and keys still zoom.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function(map) {
            map.scrollWheelZoom.disable();
            map.on("click focus", function() { map.scrollWheelZoom.enable(); });
            // the container's own mouseleave: the map's "mouseout" also fires between features
            L.DomEvent.on(map.getContainer(), "mouseleave", function() { map.scrollWheelZoom.disable(); });
            map.on("blur", function() { map.scrollWheelZoom.disable(); });
        })({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "WheelAfterClick"


class Legend(MacroElement):
    """A classed legend drawn as a Leaflet control, on the map or with a feature group.

    Added to a :class:`folium.FeatureGroup`, the legend shows while the group is on the map: it
    goes when the layer control hides the group, or when the page replaces the group with a new
    one (the Map page's layers, see :func:`dashboard.layers.layered_map`).

    Parameters
    ----------
    title
        Legend heading with units, e.g. "Incidents per 1,000 residents".
    items
        ``(colour, label)`` pairs; labels are escaped here.
    position
        Leaflet control position.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function() {
                var div = L.DomUtil.create('div', 'hs-legend');
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            var parent = {{ this._parent.get_name() }};
            if (parent instanceof L.Map) { legend.addTo(parent); return; }
            parent.on('add', function() { legend.addTo(parent._map); });
            parent.on('remove', function() { legend.remove(); });
            if (parent._map) { legend.addTo(parent._map); }
        })();
        {% endmacro %}"""
    )

    def __init__(self, title: str, items: Sequence[tuple[str, str]], *, position: str = "bottomright"):
        super().__init__()
        self._name = "Legend"
        self.position = position
        rows = "".join(f'<div><i style="background:{esc(c)}"></i>{esc(label)}</div>' for c, label in items)
        self.html = f"<b>{esc(title)}</b>{rows}"


def class_breaks(values: Sequence[float], *, k: int = 5, decimals: int = 0) -> list[float]:
    """Upper bounds of up to ``k`` classes: quantiles of the positive values, rounded, unique.

    Zero gets no class of its own here; :func:`classify` puts it in the first class.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return [0.0]
    qs = np.quantile(v, np.linspace(0, 1, k + 1)[1:])
    factor = 10**decimals
    breaks = sorted({float(np.ceil(q * factor) / factor) for q in qs})
    breaks[-1] = max(breaks[-1], float(np.ceil(v.max() * factor) / factor))
    return breaks


def classify(values: Sequence[float], breaks: Sequence[float]) -> np.ndarray:
    """Class index (0-based) of each value for upper bounds ``breaks``; -1 for missing."""
    v = np.asarray(values, dtype=float)
    idx = np.searchsorted(np.asarray(breaks), v, side="left")
    idx = np.minimum(idx, len(breaks) - 1)
    return np.where(np.isfinite(v), idx, -1)


def break_labels(breaks: Sequence[float], *, decimals: int = 0) -> list[str]:
    """Legend labels for upper bounds ``breaks``: "0 – 12", "13 – 40", … (or 0.1 steps)."""
    step = 10**-decimals
    labels, lo = [], 0.0
    for b in breaks:
        labels.append(f"{lo:,.{decimals}f} – {b:,.{decimals}f}")
        lo = b + step
    return labels


def _palette(colours: Sequence[str], n: int) -> list[str]:
    """``n`` colours spread over a palette (the darkest always last)."""
    if n >= len(colours):
        return list(colours)
    idx = np.round(np.linspace(len(colours) - n, len(colours) - 1, n)).astype(int)
    return [colours[i] for i in idx]


def add_areas(
    m: folium.Map,
    areas: gpd.GeoDataFrame,
    *,
    value: str,
    title: str,
    decimals: int = 0,
    name: str = "Areas",
    highlight: Sequence[str] = (),
    fields: Sequence[tuple[str, str]] = (),
) -> None:
    """A choropleth of ``areas[value]`` with a classed legend.

    Parameters
    ----------
    areas
        EPSG:4326 polygons with ``area_code``, ``area_name`` and the value columns.
    value
        Column to colour by.
    title
        Legend heading with units.
    highlight
        Area codes to outline thickly (the areas chosen in the filter).
    fields
        ``(column, label)`` pairs shown in the tooltip and popup.
    """
    breaks = class_breaks(areas[value], decimals=decimals)
    colours = _palette(SEQUENTIAL, len(breaks))
    cls = classify(areas[value], breaks)
    chosen = set(highlight)
    feats = []
    values = areas[[col for col, _ in fields]].to_dict("records")  # labels need not be identifiers
    for i, (row, vals, c) in enumerate(zip(areas.itertuples(index=False), values, cls, strict=True)):
        rows = "".join(
            f"<tr><th>{esc(label)}</th><td>{esc(_fmt(vals[col]))}</td></tr>"  # styled in base_map
            for col, label in fields
        )
        props = {
            "tip": f"<b>{esc(row.area_name)}</b><table>{rows}</table>",
            "fill": colours[c] if c >= 0 else "#ffffff",
            "weight": 3.5 if row.area_code in chosen else 0.6,
            "line": "#000000" if row.area_code in chosen else "#555555",
        }
        # a short feature id keeps folium's per-feature style table small
        feats.append(
            {"type": "Feature", "id": i, "properties": props, "geometry": row.geometry.__geo_interface__}
        )
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": feats},
        name=esc(name),  # Leaflet's layer control shows names as HTML
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": f["properties"]["line"],
            "weight": f["properties"]["weight"],
            "fillOpacity": 0.75,
        },
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        popup=folium.GeoJsonPopup(fields=["tip"], labels=False),
        smooth_factor=0.5,
    )
    layer.add_to(m)
    Legend(title, list(zip(colours, break_labels(breaks, decimals=decimals), strict=True))).add_to(m)


def _fmt(v: object) -> str:
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        return "" if np.isnan(v) else f"{float(v):,.1f}"
    return "" if v is None else str(v)


def add_outline(m: folium.Map, shape: gpd.GeoDataFrame, *, name: str = "Study area") -> None:
    """A white land shape with a dark outline under everything else (no tooltip)."""
    folium.GeoJson(
        json.loads(shape.to_json()),
        name=esc(name),  # Leaflet's layer control shows names as HTML
        style_function=lambda f: {
            "fillColor": "#ffffff",
            "fillOpacity": 1,
            "color": "#333333",
            "weight": 1.5,
        },
        control=False,
        interactive=False,
    ).add_to(m)


def add_classed_polygons(
    m: folium.Map,
    shapes: gpd.GeoDataFrame,
    *,
    name: str,
    colour: str = "colour",
    tip: str = "tip",
    opacity: float = 0.7,
    line: str | None = None,
    weight: float = 0.0,
    show: bool = True,
) -> None:
    """Polygons already classed: columns ``colour`` and ``tip`` (escaped HTML) per feature."""
    if shapes.empty:
        return
    gj = json.loads(shapes[[colour, tip, "geometry"]].rename(columns={colour: "c", tip: "t"}).to_json())
    folium.GeoJson(
        gj,
        name=esc(name),  # Leaflet's layer control shows names as HTML
        show=show,
        style_function=lambda f: {
            "fillColor": f["properties"]["c"],
            "fillOpacity": opacity,
            "color": line or f["properties"]["c"],
            "weight": weight,
        },
        tooltip=folium.GeoJsonTooltip(fields=["t"], labels=False),
    ).add_to(m)


def add_points(
    m: folium.Map,
    points: pd.DataFrame,
    *,
    name: str,
    colour: str,
    size: str = "count",
    tip: str = "tip",
    max_radius: float = 16,
    show: bool = True,
    popup: bool = False,
) -> None:
    """Circles sized by ``points[size]`` at ``lon``/``lat``; ``tip`` is escaped HTML (also a popup if asked).

    Drawn as one GeoJSON layer (not one marker each), so thousands of points stay light.
    """
    if points.empty:
        folium.FeatureGroup(name=esc(name), show=show).add_to(m)
        return
    s = points[size].to_numpy(dtype=float)
    radius = 3 + (max_radius - 3) * np.sqrt(s / max(s.max(), 1))
    feats = [
        {
            "type": "Feature",
            "id": i,
            "properties": {"t": t, "r": round(float(r), 1)},
            "geometry": {"type": "Point", "coordinates": [round(float(x), 6), round(float(y), 6)]},
        }
        for i, (x, y, r, t) in enumerate(zip(points["lon"], points["lat"], radius, points[tip], strict=True))
    ]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": feats},
        name=esc(name),  # Leaflet's layer control shows names as HTML
        show=show,
        marker=folium.CircleMarker(radius=5, fill=True),
        style_function=lambda f: {
            "radius": f["properties"]["r"],
            "color": "#ffffff",
            "weight": 1,
            "fillColor": colour,
            "fillOpacity": 0.85,
        },
        tooltip=folium.GeoJsonTooltip(fields=["t"], labels=False),
        popup=folium.GeoJsonPopup(fields=["t"], labels=False) if popup else None,
    ).add_to(m)


#: Most places drawn on one map (the first by rank): a county list of micro places runs to
#: thousands, and each drawn place costs the browser; pages say when the list is longer.
MAX_PLACES = 300
#: Below this zoom a place is drawn as a marker as well as its outline: a 0.1–0.5 km² place
#: is then only a few pixels wide (about 23 m a pixel at zoom 12 in Staffordshire).
MARKER_ZOOM = 14


class _ShowBelowZoom(MacroElement):
    """Keeps ``layer`` in ``group`` only while the map's zoom is below ``zoom``.

    The map forgets the zoom handler when the group is replaced by a newer one of the same name
    (the Map page swaps its layers in place on every filter change).
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function() {
            var map = {{ this.map.get_name() }}, group = {{ this.group.get_name() }};
            var layer = {{ this.layer.get_name() }};
            function toggle() {
                if (map.getZoom() < {{ this.zoom }}) { group.addLayer(layer); }
                else { group.removeLayer(layer); }
            }
            var handlers = map._hsZoomHandlers = map._hsZoomHandlers || {};
            var key = {{ this.key|tojson }};
            if (handlers[key]) { map.off('zoomend', handlers[key]); }
            handlers[key] = toggle;
            map.on('zoomend', toggle);
            toggle();
        })();
        {% endmacro %}"""
    )

    def __init__(self, m: folium.Map, group: folium.FeatureGroup, layer: folium.GeoJson, zoom: int):
        super().__init__()
        self._name = "ShowBelowZoom"
        self.map, self.group, self.layer, self.zoom = m, group, layer, int(zoom)
        self.key = group.layer_name


class _Labels(MacroElement):
    """Text labels at points, added to ``group`` by one script (not one folium element each).

    ``items`` are ``(lat, lon, text)``, the one to keep readable first (it is drawn on top of
    the others where they overlap); ``style`` is the CSS of every label box; ``anchor`` the
    label's offset from its point in pixels. Texts are escaped here.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function() {
            var group = {{ this.group.get_name() }};
            {{ this.items|tojson }}.forEach(function(p, i, all) {
                L.marker([p[0], p[1]], {
                    interactive: false,
                    keyboard: false,
                    zIndexOffset: (all.length - i) * 1000,  // the first (rank 1) on top
                    icon: L.divIcon({className: {{ this.css_class|tojson }}, iconSize: null,
                                     iconAnchor: {{ this.anchor|tojson }},
                                     html: '<div style="' + {{ this.style|tojson }} + '">' + p[2] + '</div>'})
                }).addTo(group);
            });
        })();
        {% endmacro %}"""
    )

    def __init__(
        self,
        group: folium.FeatureGroup,
        items: Sequence[tuple[float, float, str]],
        *,
        style: str,
        anchor: tuple[int, int],
        css_class: str,
    ):
        super().__init__()
        self._name = "Labels"
        self.group, self.style, self.anchor, self.css_class = group, style, list(anchor), css_class
        self.items = [[round(float(lat), 6), round(float(lon), 6), esc(t)] for lat, lon, t in items]


def place_tip(row: object) -> str:
    """Tooltip HTML for one place of a hotspot list: rank, name, count and share, categories, wards."""
    name = getattr(row, "name", "") or getattr(row, "top_locations", "")
    return (
        f"<b>{int(row.rank)}. {esc(name)}</b><br>{int(row.count):,} incidents ({row.share_of_incidents:.1%})"
        f"<br>{esc(row.top_categories)}<br><i>{esc(row.wards)}</i>"
    )


def add_hotspots(m: folium.Map, table: gpd.GeoDataFrame, **options: Any) -> None:
    """Ranked places drawn on ``m``: :func:`hotspot_group` (same options) added to the map."""
    hotspot_group(m, table, **options).add_to(m)


def hotspot_group(
    m: folium.Map,
    table: gpd.GeoDataFrame,
    *,
    name: str = "Hotspots",
    selected: int | None = None,
    labels: int = 30,
    marker_zoom: int = MARKER_ZOOM,
    fill: bool = True,
    prefix: str = "",
) -> folium.FeatureGroup:
    """Ranked places (EPSG:4326) readable at every zoom: outlines, markers when small, rank labels.

    Returns a feature group for map ``m``, not yet added to it.

    ``table`` has the hotspot list columns (rank, name, count, top_categories, wards, …).
    Outlines (or circles for point places) are always drawn; below ``marker_zoom`` each place
    also gets a marker at a point inside it, so that a place of a few hundred metres stays
    visible on a county overview. The first ``labels`` places carry their rank. The row at
    position ``selected`` is drawn thicker. Tooltips and popups give the name and count.
    ``fill=False`` draws outlines only (over a micro-map's shaded cells). ``prefix`` goes
    before each rank label, to tell two ranked layers apart on one map ("D1" for DBSCAN's first).
    """
    fg = folium.FeatureGroup(name=esc(name))
    if table.empty:
        return fg
    feats, marks = [], []
    points = table.geometry.representative_point()
    # coordinates to 1e-6° (about 0.1 m): a third less outline text for the browser to parse
    shapes = shapely.transform(table.geometry.to_numpy(), lambda xy: np.round(xy, 6))
    for i, (row, shape, p) in enumerate(zip(table.itertuples(index=False), shapes, points, strict=True)):
        tip = place_tip(row)
        feats.append(
            {
                "type": "Feature",
                "id": i,
                "properties": {"t": tip, "sel": i == selected},
                "geometry": shape.__geo_interface__,
            }
        )
        marks.append(
            {
                "type": "Feature",
                "id": i,
                "properties": {"t": tip, "sel": i == selected},
                "geometry": {"type": "Point", "coordinates": [round(p.x, 6), round(p.y, 6)]},
            }
        )

    def style(f: dict) -> dict:
        sel = f["properties"]["sel"]
        return {
            "color": "#000000" if sel else CLUSTER,
            "weight": 5 if sel else 2.5,
            "fillColor": CLUSTER,
            "fillOpacity": 0.25 if fill else 0.0,
            "radius": 9,
        }

    folium.GeoJson(
        {"type": "FeatureCollection", "features": feats},
        name=f"{esc(name)} outlines",
        marker=folium.CircleMarker(radius=9, fill=True),
        style_function=style,
        tooltip=folium.GeoJsonTooltip(fields=["t"], labels=False),
        popup=folium.GeoJsonPopup(fields=["t"], labels=False),
    ).add_to(fg)
    markers = folium.GeoJson(
        {"type": "FeatureCollection", "features": marks},
        name=f"{esc(name)} markers",
        marker=folium.CircleMarker(radius=6, fill=True),
        style_function=lambda f: {
            "color": "#ffffff",
            "weight": 1.5,
            "fillColor": "#000000" if f["properties"]["sel"] else CLUSTER,
            "fillOpacity": 0.9,
            "radius": 6,
        },
        tooltip=folium.GeoJsonTooltip(fields=["t"], labels=False),
        popup=folium.GeoJsonPopup(fields=["t"], labels=False),
    )
    markers.add_to(fg)
    top = table.head(labels)
    _Labels(
        fg,
        [(p.y, p.x, f"{prefix}{int(r)}") for r, p in zip(top["rank"], points[: len(top)], strict=True)],
        style=f"font:bold 14px sans-serif;color:#000;background:#fff;border:1.5px solid {CLUSTER};"
        "border-radius:10px;padding:0 5px;display:inline-block;white-space:nowrap",
        anchor=(-6, 10),
        css_class="hs-rank",
    ).add_to(fg)
    _ShowBelowZoom(m, fg, markers, marker_zoom).add_to(fg)
    return fg


def add_place_cells(m: folium.Map, cells: gpd.GeoDataFrame, *, cell_size: float, name: str = "Cells") -> None:
    """A place's micro-cells (EPSG:4326, columns ``count``, ``geometry``) shaded by count, with a legend.

    Empty cells are drawn as a faint grid; the others in classes of the counts (YlOrRd).
    """
    if cells.empty:
        return
    breaks = class_breaks(cells["count"])
    colours = _palette(SEQUENTIAL, len(breaks))
    cls = classify(cells["count"], breaks)
    shaded = cells.assign(
        colour=[colours[c] if n > 0 else "#ffffff" for c, n in zip(cls, cells["count"], strict=True)],
        tip=[f"{int(n):,} incidents in this {cell_size:,.0f} m cell" for n in cells["count"]],
    )
    add_classed_polygons(m, shaded, name=name, opacity=0.7, line="#999999", weight=0.6)
    Legend(
        f"Incidents per {cell_size:,.0f} m cell",
        list(zip(colours, break_labels(breaks), strict=True)),
        position="bottomleft",
    ).add_to(m)


def add_count_labels(m: folium.Map, points: pd.DataFrame, *, top: int = 12, name: str = "Counts") -> None:
    """The count of each of the ``top`` busiest points (``lon``, ``lat``, ``count``) written beside it."""
    fg = folium.FeatureGroup(name=esc(name))
    fg.add_to(m)
    head = points.head(top)
    _Labels(
        fg,
        [
            (lat, lon, f"{int(c):,}")
            for lat, lon, c in zip(head["lat"], head["lon"], head["count"], strict=True)
        ],
        style="font:bold 13px sans-serif;color:#000;background:#fff;border:1px solid #555;"
        "border-radius:3px;padding:0 3px;display:inline-block;white-space:nowrap",
        anchor=(-10, 8),
        css_class="hs-count",
    ).add_to(m)


def finish(m: folium.Map, *, collapsed: bool = False) -> folium.Map:
    """Add the layer control (open by default, for a shared screen) and serve Leaflet offline."""
    folium.LayerControl(collapsed=collapsed, position="topright").add_to(m)
    return make_offline(m)


__all__ = [
    "ATTRIBUTION",
    "Legend",
    "add_areas",
    "add_classed_polygons",
    "add_count_labels",
    "add_hotspots",
    "hotspot_group",
    "add_place_cells",
    "add_outline",
    "add_points",
    "base_map",
    "break_labels",
    "class_breaks",
    "classify",
    "esc",
    "finish",
]
