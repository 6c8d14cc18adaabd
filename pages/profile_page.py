import streamlit as st
from streamlit_folium import st_folium

from dashboard import access, analysis, charts, data, demand_ui, disclosure_ui, maps, profile, state, ui

filt = st.session_state["filter"]
path, version = data.key()
opts = data.options(path, version)
st.title("Ward profile")

LEVELS = ["ward", "locality", "district"]
state.url_value("profile_level", filt.level if filt.level in LEVELS else "ward", options=LEVELS)
c1, c2 = st.columns([1, 3])
c1.selectbox("Profile of a", LEVELS, key="profile_level", format_func=data.LEVEL_LABELS.get)
level = st.session_state.profile_level
names = opts["areas"][level]
busiest = data.area_table(path, version, filt.replace(level=level, areas=()), level)["area_code"].iloc[0]
first = filt.areas[0] if filt.level == level and filt.areas else busiest
if st.session_state.get("area") not in names:
    st.session_state.pop("area", None)
state.url_value("area", first, options=list(names))
c2.selectbox("Area", list(names), key="area", format_func=names.get)
state.sync_page_params(["profile_level", "area"])
code = st.session_state.area
pf = filt.replace(level=level, areas=(code,))

p = profile.build(path, version, filt, level, code)
st.header(p.name)
st.caption(f"Showing: {filt.replace(areas=()).describe()}")
disclosure_ui.note()
k1, k2, k3, k4 = st.columns(4)
k1.metric("Residents", ui.number(p.residents))
k2.metric("Incidents", ui.number(p.count))
k3.metric("Per 1,000 residents", ui.number(p.rate, 1))
k4.metric("Rank by rate", f"{p.rank} of {p.n_areas}")
for s in p.sentences:
    st.markdown(f"#### {s}")
rise = analysis.rising(path, version, pf, 3)
rising_text = profile.rising_sentence(rise)
st.markdown(f"#### {rising_text}")

harm = demand_ui.measure_choice("profile_measure")  # charts and top places by incidents or harm
left, right = st.columns([3, 2])
with left:
    if harm is None:
        exp = analysis.expected_series(path, version, pf)
        st.altair_chart(charts.monthly(exp, title=f"Incidents by month in {p.name}"), width="stretch")
    else:
        hs = demand_ui.harm_series(path, version, pf, harm)
        st.altair_chart(charts.monthly_harm(hs, title=f"Harm by month in {p.name}"), width="stretch")
with right:
    mix = analysis.category_mix(path, version, pf)
    st.altair_chart(charts.categories(mix.head(10), title="Mix of categories"), width="stretch")
secret = None
if disclosure_ui.in_play():
    st.subheader("Restricted partner sources")
    secret = disclosure_ui.category_table(pf)

st.subheader("Top places")
method = analysis.DEFAULT_METHOD
spots, spot_params = analysis.hotspots(path, version, pf, method, analysis.default_items(method), harm)
a, b = st.columns([2, 3])
with a:
    places = profile.top_places(spots)
    st.dataframe(places, hide_index=True, width="stretch")
    st.caption(profile.places_caption(spots, spot_params))
    demand_ui.harm_caption(harm, spot_params, lead="Top places ranked by **harm**")
with b:
    outline = data.area_shapes(path, version, level)
    outline = outline[outline["area_code"] == code]
    m = maps.base_map(outline.total_bounds, height=420)
    maps.add_classed_polygons(
        m,
        outline.assign(colour="#ffffff", tip=outline["area_name"].map(maps.esc)),
        name=p.name,
        opacity=0.9,
        line="#000000",
        weight=3,
    )
    maps.add_hotspots(m, analysis.to_map(spots.head(profile.TOP_PLACES)), name="Top places")
    maps.finish(m, collapsed=True)  # a small map: an open layer list would cover the area's top
    st_folium(m, key=f"profile_map_{code}", height=420, use_container_width=True, returned_objects=[])
ui.attribution()

report = profile.html_report(
    p,
    filt.replace(areas=()),
    {
        "Mix of categories": mix,
        "Top places": places,
        "Last 3 months against the 3 before": rise[
            ["category", "count_a", "count_b", "pct_change", "direction"]
        ],
    }
    | ({"Restricted partner sources": secret} if secret is not None else {}),
    [rising_text, *disclosure_ui.export_params().values()],
)
access.download_button(
    "Download a printable profile (HTML)",
    report,
    f"profile_{code}.html",
    what=f"ward profile of {code}",
    mime="text/html",
    on_click="ignore",
    icon=":material/print:",
    type="primary",
)
ui.methods(
    "Rates are per 1,000 usual residents (Census 2021, LSOAs summed to best-fit wards). Ranks are by "
    "rate among all areas at this level. Rising: Poisson exact test of the last 3 months against the 3 "
    "before, FDR-adjusted across categories. Top places: the Hotspots page's default list for this "
    "area (see the Hotspots page).",
    {k: v for k, v in spot_params.items() if k not in ("filter",)},
)
