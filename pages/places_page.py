import streamlit as st

from dashboard import access, data, register_ui, ui
from hotspots import register as reg

ui.header("Places")
st.markdown(
    "The **place register**: the places each problem-solving group has taken on, since when, and what "
    "it did. Add places from the **Hotspots** page or the **Map**, or below from a file or a set of wards. "
    "Every change is kept with its time and author; nothing is deleted (a place ends as *closed*)."
)
register_ui.show_flash()
store = data.store()
everything = reg.list_places(store)

c1, c2 = st.columns(2)
group = c1.selectbox("Group", ["All groups", *register_ui.group_names()], key="pl_group")
status = c2.selectbox(
    "Status", ["Any status", *reg.STATUSES], key="pl_status", format_func=lambda s: s.capitalize()
)
places = everything
if group != "All groups":
    places = places[places["group"] == group]
if status != "Any status":
    places = places[places["status"] == status]

if everything.empty:
    st.info("The register is empty: add a place from the Hotspots page, or from a file or wards below.")
else:
    st.caption(f"{len(places)} of {len(everything)} registered places.")
    register_ui.register_table(places)
    ids = places["place_id"].tolist()
    names = dict(zip(places["place_id"], places["name"], strict=True))
    register_ui.choose_default(ids)
    chosen = st.selectbox(
        "Place", ids, key=register_ui.PLACE_KEY, format_func=lambda i: f"#{i} {names.get(i, '')}"
    )
    register_ui.places_map(places, chosen)
    if chosen is not None:
        place = reg.get_place(store, chosen)
        register_ui.details(place)
        register_ui.evaluation(place)
        register_ui.pack_download(place)

st.subheader("Register a new place")
register_ui.new_place_forms()
access.download_button(
    "Download the register (Excel)",
    lambda: register_ui.export_bytes(".xlsx"),
    "place_register.xlsx",
    what="the place register",
    mime=ui.MIME[".xlsx"],
    on_click="ignore",
    icon=":material/download:",
    key="pl_dl",
)
