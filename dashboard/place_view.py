"""The Hotspots page's places: the list by name, the chosen place, its micro-map and its details.

The page shows one map: every place of the list on the study area while no place is chosen,
and the chosen place's micro-map (its cells shaded by count, its map points with their counts,
the other places' outlines around it), fitted to the place, once one is.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from dashboard import data, maps, state
from hotspots.filters import Filter
from hotspots.place_detail import PlaceDetail

#: The place chosen on the Hotspots page (a rank, or 0 for the overview); also in the URL.
KEY = "place"
#: Table columns, name first, and how they are headed.
COLUMNS = {
    "rank": "Rank",
    "name": st.column_config.TextColumn("Place", width="large"),
    "count": "Incidents",
    "harm": st.column_config.NumberColumn("Harm", format="%.0f", help="Sum of the incidents' harm weights"),
    "share_of_incidents": st.column_config.NumberColumn("Share", format="percent"),
    "area_km2": st.column_config.NumberColumn("Area (km²)", format="%.2f"),
    "wards": st.column_config.TextColumn("Wards", width="medium"),
    "change_pct": st.column_config.NumberColumn("Change on previous period", format="percent"),
    "top_categories": st.column_config.TextColumn("Top categories", width="medium"),
    "months_active": "Months active",
    "district": "District",
}


def place_table(table: gpd.GeoDataFrame) -> object:
    """The ranked list, one row per place, name first; row selection chooses a place."""
    cols = [c for c in COLUMNS if c in table.columns]  # "harm" when the list measures harm
    secret = [c for c in table.columns if c.endswith(" (restricted)")]  # disclosure_ui.place_columns
    at = cols.index("count") + 1 if "count" in cols else len(cols)
    cols[at:at] = secret
    if table["change_pct"].isna().all():  # no earlier period in the data: the caption says so
        cols.remove("change_pct")
    return st.dataframe(
        table[cols],
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="hs_table",
        column_config={c: COLUMNS.get(c, c) for c in cols},
    )


def label(row: pd.Series | None) -> str:
    """How a place is offered in the chooser: "3. Huntbach Street, Hanley Park … (492)"; None: the overview."""
    if row is None:
        return "All places (overview of the area)"
    return f"{int(row['rank'])}. {row['name']} ({int(row['count']):,})"


def choose(table: gpd.GeoDataFrame, event: object) -> int | None:
    """The rank of the chosen place (None: overview), from the chooser or a table row.

    Choosing a row in the table sets the chooser; the chooser is mirrored in the URL.
    """
    ranks = [0, *table["rank"].astype(int).tolist()]
    rows = list(event.selection.rows) if event else []
    picked = int(table["rank"].iloc[rows[0]]) if rows else None
    if picked is not None and picked != st.session_state.get("_place_row"):
        st.session_state[KEY] = picked
    st.session_state["_place_row"] = picked
    state.url_value(KEY, 0, options=ranks, cast=int)
    if st.session_state.get(KEY) not in ranks:
        st.session_state[KEY] = 0
    names = dict(
        zip(
            ranks[1:],
            table["rank"].astype(int).astype(str)
            + ". "
            + table["name"].astype(str)
            + " ("
            + table["count"].map("{:,}".format)
            + ")",
            strict=True,
        )
    )
    names[0] = label(None)
    st.selectbox(
        "Place",
        ranks,
        key=KEY,
        format_func=names.get,
        help="Or choose a row in the table.",
    )
    state.write_url({KEY: st.session_state[KEY] or None}, [KEY])  # the overview leaves the address
    return st.session_state[KEY] or None


def drawn_note(n: int) -> str:
    """A caption when the overview draws only the first :data:`dashboard.maps.MAX_PLACES` places."""
    if n <= maps.MAX_PLACES:
        return ""
    return (
        f"The map draws the first {maps.MAX_PLACES} of the {n:,} places; choose a place to see it "
        "with the places around it."
    )


#: Least span of a place's view in degrees (about 200 m): a point place (a repeat location) has none.
MIN_SPAN = 0.003


def _bounds(shape: gpd.GeoSeries, pad: float = 0.0) -> list[float]:
    minx, miny, maxx, maxy = shape.total_bounds
    dx = max((maxx - minx) * pad, (MIN_SPAN - (maxx - minx)) / 2)
    dy = max((maxy - miny) * pad, (MIN_SPAN - (maxy - miny)) / 2)
    return [minx - dx, miny - dy, maxx + dx, maxy + dy]


def places_map(
    path: str,
    version: int,
    filt: Filter,
    shown: gpd.GeoDataFrame,
    *,
    name: str,
    rank: int | None,
    detail: PlaceDetail | None,
) -> tuple[folium.Map, list[folium.FeatureGroup]]:
    """The map: every place on the area (overview), or the chosen place's micro-map fitted to it.

    ``shown`` is the list in EPSG:4326. Returns the map and, for the overview, its places as a
    feature group for :func:`dashboard.layers.layered_map` (the base map, with the area
    outlines, stays the same while the filter or method changes, so the places change inside
    the live map and its zoom is kept); for a micro-map, the whole map (finished) and no group.
    """
    if rank is None or detail is None:
        whole = data.study_area_shape(path, version)
        m = maps.base_map(whole.total_bounds if not filt.areas else shown.total_bounds)
        maps.add_outline(m, whole)
        areas = data.area_shapes(path, version, filt.level)
        maps.add_classed_polygons(
            m,
            areas.assign(colour="#ffffff", tip=areas["area_name"].map(maps.esc)),
            name="Area outlines",
            opacity=0.0,
            line="#777777",
            weight=0.7,
        )
        return m, [maps.hotspot_group(m, shown.head(maps.MAX_PLACES), name=name)]
    place = shown[shown["rank"] == rank]
    view = _bounds(place.geometry, 0.3)
    near = shown[shown.intersects(shapely.box(*_bounds(place.geometry, 1.5)))]  # the places around it
    pos = int((near["rank"] == rank).to_numpy().argmax())
    m = maps.base_map(view)
    areas = data.area_shapes(path, version, filt.level)
    maps.add_classed_polygons(
        m,
        areas.assign(colour="#ffffff", tip=areas["area_name"].map(maps.esc)),
        name="Area outlines",
        opacity=0.0,
        line="#777777",
        weight=1.0,
    )
    maps.add_place_cells(m, maps.to_wgs84(detail.cells), cell_size=detail.params["cell_size"], name="Cells")
    maps.add_hotspots(m, near, name=name, selected=pos, labels=len(near), marker_zoom=0, fill=False)
    pts = detail.points.assign(
        tip=[
            f"<b>{maps.esc(n)}</b><br>{c:,} incidents<br>most often: {maps.esc(t)}"
            for n, c, t in zip(
                detail.points["location_name"],
                detail.points["count"],
                detail.points["top_category"],
                strict=True,
            )
        ]
    )
    maps.add_points(m, pts, name="Map points (incidents)", colour=maps.INCIDENT, popup=True)
    maps.add_count_labels(m, pts, name="Counts at the busiest points")
    return maps.finish(m, collapsed=True), []


def panel(detail: PlaceDetail, row: pd.Series) -> st.delta_generator.DeltaGenerator:
    """The chosen place's numbers and tables; returns an empty slot for actions on the place."""
    st.markdown(f"### {int(row['rank'])}. {row['name']}")
    c1, c2, c3 = st.columns(3)
    c1.metric("Incidents", f"{detail.count:,}")
    c2.metric("Map points", f"{detail.params['n_points']:,}")
    c3.metric("Area (km²)", f"{detail.params['area_km2']:.2f}")
    st.caption(f"{row['wards']}; {row['district']}.")
    # Actions on the chosen place (e.g. "add to the register", dashboard/register_ui.py) go here.
    actions = st.container()
    tables = {
        "Streets and landmarks": detail.locations,
        "Categories": detail.categories,
    }
    for title, df in tables.items():
        st.markdown(f"**{title}**")
        st.dataframe(
            df.head(8),
            hide_index=True,
            width="stretch",
            column_config={
                "name": st.column_config.TextColumn(title.split(" ")[0].capitalize()),
                "count": "Incidents",
                "share": st.column_config.NumberColumn("Share", format="percent"),
            },
        )
    st.markdown("**Months**")
    months = detail.months.assign(month=detail.months["month"].dt.strftime("%Y-%m"))
    st.bar_chart(months, x="month", y="count", x_label="", y_label="Incidents", height=180)
    st.caption(
        f"Cells of {detail.params['cell_size']:,.0f} m ({detail.params['cell_size_rule']}); "
        "circles are police.uk map points sized by their incidents."
    )
    return actions


__all__ = ["choose", "drawn_note", "label", "panel", "place_table", "places_map"]
