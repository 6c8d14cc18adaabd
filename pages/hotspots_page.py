import streamlit as st
from streamlit_folium import st_folium

from dashboard import analysis, data, demand_ui, disclosure_ui, layers, place_view, register_ui, state, ui

filt = st.session_state["filter"]
path, version = data.key()
ui.header("Hotspots", filt)
disclosure_ui.note()

state.url_value("method", analysis.DEFAULT_METHOD, options=list(analysis.METHOD_LABELS))
state.url_value("hs_measure", "count", options=list(demand_ui.MEASURE_LABELS))
c_method, c_measure = st.columns([3, 2])
c_method.selectbox(
    "Method", list(analysis.METHOD_LABELS), key="method", format_func=analysis.METHOD_LABELS.get
)
c_measure.radio(
    "Rank by", list(demand_ui.MEASURE_LABELS), key="hs_measure", format_func=demand_ui.MEASURE_LABELS.get
)
method = st.session_state.method
harm = demand_ui.weights() if st.session_state.hs_measure == "harm" else None
defaults = analysis.editable_params(method)
keys = [f"hp_{method}_{k}" for k in defaults]
with st.expander("Method parameters (empty = chosen from the data)", expanded=False):
    st.markdown(analysis.METHOD_HELP[method])
    cols = st.columns(3)
    for i, (name, default) in enumerate(defaults.items()):
        key = f"hp_{method}_{name}"
        col = cols[i % 3]
        if name in analysis.CHOICES:
            state.url_value(key, default, options=analysis.CHOICES[name])
            col.selectbox(name.replace("_", " ").capitalize(), analysis.CHOICES[name], key=key)
        else:
            label, step = analysis.NUMERIC.get(name, (name.replace("_", " ").capitalize(), 1.0))
            integer = isinstance(step, int)
            state.url_value(key, default, cast=int if integer else float)
            col.number_input(label, min_value=step, step=step, key=key, placeholder="auto")
# the address holds the method's settings that differ from their defaults, and no other method's
changed = {
    k: st.session_state[k] for k, d in zip(keys, defaults.values(), strict=True) if st.session_state[k] != d
}
stale = [k for k in st.query_params if k.startswith("hp_") and k not in changed]
state.write_url(
    {"method": method, "hs_measure": st.session_state.hs_measure, **changed},
    ["method", "hs_measure", *keys, *stale],
)
items = tuple((name, st.session_state[f"hp_{method}_{name}"]) for name in defaults)

table, params = analysis.hotspots(path, version, filt, method, items, harm)
if table.empty:
    st.warning(f"No hotspots for these settings. {params.get('note', '')}")
    st.stop()
table = demand_ui.hotspots_option(
    path, version, filt, table, method, items, harm
)  # multi-agency demand (issue 11)
table = disclosure_ui.place_columns(table, filt)  # restricted sources in each place, own columns
st.caption(
    f"{len(table)} hotspots hold {params.get('share_in_hotspots', 0):.0%} of {params['n_incidents']:,.0f} incidents "
    f"with a location. Compared with {params.get('previous_period', 'the previous period')}."
)
demand_ui.harm_caption(harm, params)

event = place_view.place_table(table)
rank = place_view.choose(table, event)
shown = analysis.to_map(table)
notes = st.container()  # one element however many notes: the map after it keeps its place (and zoom)
for note in (layers.outline_note(filt), place_view.drawn_note(len(table)) if rank is None else ""):
    if note:
        notes.caption(note)
left, right = st.columns([3, 2]) if rank is not None else (st.container(), None)
detail = analysis.place_detail(path, version, filt, method, items, rank, harm) if rank is not None else None
with left:
    m, groups = place_view.places_map(
        path, version, filt, shown, name=analysis.METHOD_LABELS[method], rank=rank, detail=detail
    )
    if groups:  # the overview: the places change inside the live map
        layers.layered_map(m, groups, key=f"hs_map_{filt.level}", height=620)
    else:
        st_folium(m, key=f"hs_map_{method}_{rank}", height=620, use_container_width=True, returned_objects=[])
if right is not None:
    with right:
        actions = place_view.panel(detail, table[table["rank"] == rank].iloc[0])
    with actions:
        register_ui.add_hotspot(table, params, rank, key="hs_register")
else:
    st.caption("Choose a place (in the list or the chooser) to see its streets, map points and months.")
ui.attribution()

st.subheader("Download this list")
ui.downloads(
    table,
    stem=f"hotspots_{method}" + ("_harm" if harm is not None else ""),
    filt=filt,
    params=params,
    title=f"Hotspots ({method}{', ranked by harm' if harm is not None else ''})",
    key="hs",
)

st.subheader("How well would these settings have predicted the latest months?")
test_months = st.radio(
    "Test on the last", [1, 3, 6], index=1, horizontal=True, format_func=lambda n: f"{n} months"
)
ev = analysis.evaluation(path, version, filt, method, items, test_months, harm)
if "error" in ev:
    st.info(f"Evaluation not available: {ev['error']}.")
else:
    e1, e2, e3, e4 = st.columns(4)
    caught = "harm" if harm is not None else "incidents"
    e1.metric(
        "Hit rate", f"{ev['hit_rate']:.0%}", help=f"Share of the test months' {caught} inside the hotspots."
    )
    e2.metric(
        "PAI",
        f"{ev['pai']:.1f}",
        help="Predictive Accuracy Index: hit rate ÷ share of the area (1 = chance).",
    )
    e3.metric(
        "PEI",
        f"{ev['pei']:.0%}",
        help="Predictive Efficiency Index: hits ÷ the most possible in that much area.",
    )
    e4.metric("RRI", f"{ev['rri']:.2f}", help="Recapture Rate Index: how well the hotspots held their share.")
    st.caption(
        f"Trained on {ev['train']}; tested on {ev['test']}; hotspots = {ev['area_share']:.1%} of the area "
        f"({ev['cells_selected']} of {ev['n_cells']} cells)."
    )
ui.methods(analysis.METHOD_HELP[method], {k: v for k, v in params.items() if k not in ("filter",)})
