"""The dashboard frame: page config, navigation, the shared sidebar filters.

Run with ``make run`` (loads the sample on first run) or ``streamlit run app.py``.
"""

import streamlit as st

from dashboard import data, state

st.set_page_config(
    page_title="Crime and ASB hotspots",
    page_icon=":material/map:",
    layout="wide",
    initial_sidebar_state="expanded",
)

PAGES = [
    st.Page("pages/map_page.py", title="Map", icon=":material/map:", url_path="map", default=True),
    st.Page(
        "pages/hotspots_page.py",
        title="Hotspots",
        icon=":material/local_fire_department:",
        url_path="hotspots",
    ),
    st.Page(
        "pages/trends_page.py", title="Trends & seasonality", icon=":material/show_chart:", url_path="trends"
    ),
    st.Page(
        "pages/profile_page.py", title="Ward profile", icon=":material/person_pin_circle:", url_path="profile"
    ),
    st.Page("pages/data_page.py", title="Data", icon=":material/upload_file:", url_path="data"),
]

page = st.navigation(PAGES)
if data.store().is_empty() and page.url_path != "data":
    st.info("The store holds no data yet: load police.uk files on the **Data** page (or run `make run`).")
    st.page_link(PAGES[-1], label="Go to the Data page", icon=":material/upload_file:")
    st.stop()
st.session_state["filter"] = state.sidebar_filters()
page.run()
