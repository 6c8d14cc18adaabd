import folium
import streamlit as st

from dashboard import analysis, data, demand_ui, disclosure_ui, layers, maps, register_ui, state, ui

filt = st.session_state["filter"]
path, version = data.key()
ui.header("Map", filt)
disclosure_ui.note()

LAYERS = {
    "areas": "Areas: count, rate or harm",
    "places": "Hotspot places (as on the Hotspots page)",
    "kde": "KDE surface",
    "gistar": "Gi* hot and cold spots",
    "dbscan": "DBSCAN clusters",
    "repeat": "Repeat locations",
    "incidents": "Incidents by map point",
}
MEASURES = {"count": "Incidents", "rate": "Rate per 1,000 residents", "harm": "Harm per 1,000 residents"}
state.url_value("measure", "count", options=list(MEASURES))
state.url_value("layers", ["areas", "places"], options=list(LAYERS), cast=state.split)
state.url_value("tiles", False, cast=lambda v: v == "1")

# the layer list has a row of its own: in a column, its chosen layers' chips were cut off
c1, c2 = st.columns([5, 1.4], vertical_alignment="center")
c1.radio("Colour areas by", list(MEASURES), key="measure", format_func=MEASURES.get, horizontal=True)
c2.toggle("Street map", key="tiles", help="OpenStreetMap tiles under the layers; needs internet.")
st.multiselect("Layers", list(LAYERS), key="layers", format_func=LAYERS.get)
state.write_url(
    {
        "measure": st.session_state.measure,
        "layers": st.session_state.layers,
        "tiles": int(st.session_state.tiles),
    },
    ("measure", "layers", "tiles"),
)
chosen = st.session_state.layers

table = data.area_table(path, version, filt)
table, secret = disclosure_ui.area_columns(table, filt, filt.level)  # restricted sources, own columns
total = data.filtered_count(path, version, filt)
placed = int(table["count"].sum())
pop = int(table["population"].sum())
m1, m2, m3, m4 = st.columns(4)
m1.metric("Incidents", ui.number(total))
if total > placed:
    m1.caption(f"{ui.number(total - placed)} of them in no area on this map (outside it, or no location)")
m2.metric("Rate per 1,000 residents", ui.number(placed / pop * 1000 if pop else 0, 1))
m3.metric(f"Highest {data.LEVEL_LABELS[filt.level]}", ui.number(table["count"].iloc[0]) if placed else "–")
m3.caption(table["area_name"].iloc[0] if placed else "")
m4.metric("Residents", ui.number(pop))

shapes = data.area_shapes(path, version, filt.level)
shown = shapes[shapes["area_code"].isin(table["area_code"])]
shown = shown.merge(table[["area_code", "count", "rate_per_1000", "rank", *secret]], on="area_code")
m = maps.base_map(shown.total_bounds, tiles=st.session_state.tiles)
maps.add_outline(m, data.study_area_shape(path, version))
# notes that come and go with the filter and layers are written here: one element however many,
# so that the map after them keeps its place in the page (a map that moves is rebuilt, losing its zoom)
notes = st.container()
if note := layers.outline_note(filt):
    notes.caption(note)
params = {}
groups: list[folium.FeatureGroup] = []  # the layers: swapped inside the live map on a change


def group(label: str) -> folium.FeatureGroup:
    """A new layer group named ``label`` (shown in the layer control)."""
    groups.append(folium.FeatureGroup(name=maps.esc(label)))
    return groups[-1]


harm = demand_ui.weights() if st.session_state.measure == "harm" else None
if harm is not None:  # harm of the same incidents, with the weights of the Demand & harm page
    ht = demand_ui.harm_table(path, version, filt, filt.level, harm)
    shown = shown.merge(ht[["area_code", "harm", "harm_per_1000"]], on="area_code", how="left")
    with notes:
        demand_ui.harm_caption(harm, {}, lead="Areas coloured by **harm** per 1,000 residents")
if "areas" in chosen:
    value, title, decimals = {
        "count": ("count", "Incidents", 0),
        "rate": ("rate_per_1000", "Incidents per 1,000 residents", 1),
        "harm": ("harm_per_1000", "Harm per 1,000 residents", 0),
    }[st.session_state.measure]
    maps.add_areas(
        group(f"{data.LEVEL_LABELS[filt.level]} areas"),
        shown,
        value=value,
        title=title,
        decimals=decimals,
        name=f"{data.LEVEL_LABELS[filt.level]} areas",
        highlight=filt.areas,
        fields=[
            ("count", "Incidents"),
            ("rate_per_1000", "Per 1,000 residents"),
            ("rank", "Rank"),
            ("population", "Residents"),
            ("district_name", "District"),
            *((("harm_per_1000", "Harm per 1,000 residents"),) if harm is not None else ()),
            *((c, c) for c in secret),
        ],
    )
if "kde" in chosen:
    surface, params["KDE"] = layers.kde_layer(path, version, filt, None, None, "quartic")
    fg = group("KDE surface")
    maps.add_classed_polygons(fg, surface, name="KDE surface", opacity=0.65)
    maps.Legend(
        "KDE density (incidents per km²)", layers.kde_legend(params["KDE"]), position="bottomleft"
    ).add_to(fg)
if "gistar" in chosen:
    cells, params["Gi*"] = layers.gistar_layer(path, version, filt, None, 1)
    fg = group("Gi* hot and cold spots")
    maps.add_classed_polygons(fg, cells, name="Gi* hot and cold spots", opacity=0.75)
    maps.Legend(
        "Gi* (FDR-corrected)",
        [(maps.GISTAR[b], lab) for b, lab in maps.GISTAR_LABELS.items()],
        position="bottomleft",
    ).add_to(fg)
if "places" in chosen:
    method = analysis.DEFAULT_METHOD
    found, params[LAYERS["places"]] = analysis.hotspots(
        path, version, filt, method, analysis.default_items(method)
    )
    groups.append(maps.hotspot_group(m, analysis.to_map(found.head(maps.MAX_PLACES)), name=LAYERS["places"]))
    if len(found) > maps.MAX_PLACES:
        notes.caption(
            f"Hotspot places: the first {maps.MAX_PLACES} of {len(found):,} are drawn (the Hotspots page lists all)."
        )
for method in ("dbscan", "repeat"):
    if method in chosen:
        found, params[LAYERS[method]] = analysis.hotspots(path, version, filt, method, ())
        prefix = {"dbscan": "D", "repeat": "R"}[method]  # told apart from the hotspot places' numbers
        groups.append(
            maps.hotspot_group(
                m, analysis.to_map(found.head(50)), name=f"{LAYERS[method]} ({prefix}1, {prefix}2…)",
                labels=15, prefix=prefix,
            )
        )  # fmt: skip
if "incidents" in chosen:
    pts, n_points = layers.incident_points(path, version, filt)
    maps.add_points(group("Incidents by map point"), pts, name="Incidents by map point", colour=maps.INCIDENT)
    if n_points > len(pts):
        notes.caption(f"Incidents layer: the {len(pts):,} busiest of {n_points:,} map points.")
layers.layered_map(m, groups, key=f"map_{filt.level}", height=640)
ui.attribution()
if "places" in chosen:  # "add to register" for a hotspot place drawn on the map
    items = analysis.default_items(analysis.DEFAULT_METHOD)
    register_ui.add_hotspot_chooser(
        lambda: analysis.hotspots(path, version, filt, analysis.DEFAULT_METHOD, items), key="map_reg"
    )

left, right = st.columns([3, 2])
with left:
    st.subheader(f"{data.LEVEL_LABELS[filt.level]} areas, highest first")
    st.dataframe(
        table[["rank", "area_name", "district_name", "count", *secret, "rate_per_1000", "population"]][:25],
        hide_index=True,
        width="stretch",
        column_config={
            "rank": "Rank",
            "area_name": "Area",
            "district_name": "District",
            "count": "Incidents",
            "rate_per_1000": st.column_config.NumberColumn("Per 1,000 residents", format="%.1f"),
            "population": st.column_config.NumberColumn("Residents", format="%d"),
        },
    )
    if secret:
        st.caption(disclosure_ui.area_totals())
    ui.downloads(
        table.drop(columns="unplaced"), stem=f"areas_{filt.level}", filt=filt, title="Counts by area",
        formats=(".csv", ".xlsx"), key="map_dl",
    )  # fmt: skip
with right:
    ui.methods(
        "**Areas** are coloured in five classes (quantiles of the areas with incidents). Rates are per "
        "1,000 usual residents (Census 2021). Incidents with no location or outside the area "
        f"({int(table['unplaced'].iloc[0]):,} here) are counted in the total but not in any area.\n\n"
        "**KDE** (kernel density): quartic kernel, bandwidth one grid cell, cells sized "
        "from the map extent; the classes are the top 50/30/15/5/1% of cells with any density.\n\n"
        "**Gi\\*** (Getis-Ord): counts per grid cell against their queen neighbours, self included; "
        "confidence judged on Benjamini-Hochberg FDR-adjusted p-values.\n\n"
        "**DBSCAN** clusters police.uk map points weighted by their incidents (eps in metres and "
        "min_samples chosen from the data; noise is not a hotspot). **Repeat locations** are the "
        "busiest map points. Both show their top places, numbered by rank.\n\n"
        "**Hotspot places** are the Hotspots page's list with its default method: outlines, with a "
        "marker for each place while the map is zoomed out (a small place is then only a few pixels "
        "wide); hover or click a place for its name and count.",
        {f"{k}: {p}": v for k, d in params.items() for p, v in d.items()},
    )
