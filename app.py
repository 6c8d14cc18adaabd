"""The dashboard frame: page config, navigation, the shared sidebar filters.

Run with ``make run`` (loads the sample on first run) or ``streamlit run app.py``.

``streamlit run app.py`` finds the ``st.App`` below and serves this same file as the
Streamlit script. The app's start-up hook warms the heavy caches
(:func:`dashboard.warm.warm_up`) before the first request is answered, so the first visitor
does not wait for them. Each visit runs the file as a script (``__name__ == "__main__"``),
which draws the frame with :func:`main`.
"""

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import streamlit as st


def main() -> None:
    """Page config, navigation, the shared sidebar filters, then the chosen page."""
    from dashboard import access, data, disclosure_ui, state

    st.set_page_config(
        page_title="Crime and ASB hotspots",
        # a file, not ":material/…:": Streamlit fetches a material icon favicon from
        # fonts.gstatic.com, which an offline meeting-room laptop cannot reach
        page_icon=str(Path(__file__).parent / "dashboard" / "static" / "favicon.png"),
        layout="wide",
        initial_sidebar_state="expanded",
    )
    _user, role = access.gate()  # signed out: only the sign-in page; refused: only the refusal

    def page(script: str, **kw: str | bool) -> st.Page:  # a page the role lacks is kept out of the
        allowed = access.may_open(str(kw["url_path"]), role)  # menu but routable, so it can refuse
        return st.Page(script, visibility="visible" if allowed else "hidden", **kw)

    pages = [
        page("pages/map_page.py", title="Map", icon=":material/map:", url_path="map", default=True),
        page(
            "pages/hotspots_page.py",
            title="Hotspots",
            icon=":material/local_fire_department:",
            url_path="hotspots",
        ),
        page(
            "pages/trends_page.py",
            title="Trends & seasonality",
            icon=":material/show_chart:",
            url_path="trends",
        ),
        page(
            "pages/profile_page.py",
            title="Ward profile",
            icon=":material/person_pin_circle:",
            url_path="profile",
        ),
        page("pages/places_page.py", title="Places", icon=":material/pin_drop:", url_path="places"),
        page("pages/meeting_page.py", title="Meeting", icon=":material/groups:", url_path="meeting"),
        page(
            "pages/demand_page.py",
            title="Demand & harm",
            icon=":material/stacked_bar_chart:",
            url_path="demand",
        ),
        page("pages/data_page.py", title="Data", icon=":material/upload_file:", url_path="data"),
        page("pages/audit_page.py", title="Audit log", icon=":material/policy:", url_path="audit"),
        page("pages/users_page.py", title="Users and roles", icon=":material/group:", url_path="users"),
    ]
    chosen = st.navigation(pages)
    if not access.may_open(chosen.url_path, role):
        access.require_page(chosen.url_path)  # records the refusal, says so, stops: nothing else is drawn
    if data.store().is_empty() and chosen.url_path not in ("data", "audit", "users"):
        st.info("The store holds no data yet: load police.uk files on the **Data** page (or run `make run`).")
        if access.may_open("data", role):
            st.page_link(pages[7], label="Go to the Data page", icon=":material/upload_file:")
        st.stop()
    data.notice_new_data()
    if chosen.url_path != "data":
        from dashboard import data_ui

        data_ui.coverage_prompt(on_data_page=False)
    # a viewer's pages never count restricted partner sources with others (docs/access.md)
    st.session_state["filter"] = disclosure_ui.page_filter(state.sidebar_filters())
    access.sidebar_note()
    chosen.run()


def timed(run: Callable[[], None]) -> None:
    """``run()``; with ``$HOTSPOTS_RUN_LOG`` set, append how long the server took to that file.

    One line per run, tab-separated: when it ended (Unix seconds) and the seconds from the
    start of the script to its end (``bench/bench_load.py`` reads it: the server's part of a
    page update, apart from the browser's).
    """
    log = os.environ.get("HOTSPOTS_RUN_LOG")
    started = time.perf_counter()
    try:
        run()
    finally:
        if log:
            with open(log, "a", encoding="utf-8") as f:
                f.write(f"{time.time():.3f}\t{time.perf_counter() - started:.3f}\n")


def _warm_up() -> None:
    started = time.perf_counter()
    from dashboard import warm  # the analysis stack: pandas, GeoPandas, scikit-learn, DuckDB…

    warm.warm_up(started=started)


@asynccontextmanager
async def warm_caches(_app: object) -> AsyncIterator[None]:
    """Server start-up: warm the caches in a worker thread; requests are answered once it is done."""
    from streamlit.runtime.pages_manager import PagesManager

    # The app declares its pages with st.navigation. Without this, Streamlit treats the `pages/`
    # folder as old-style pages until the first visit has run, and that first visit, if it opens
    # a page's address (/hotspots, /data…), is told "Page not found".
    PagesManager.uses_pages_directory = False
    await asyncio.to_thread(_warm_up)
    yield


if __name__ == "__main__":
    timed(main)
else:
    from dashboard.offline import leaflet_route

    # Leaflet from this server (not sent as data URLs with every map update)
    app = st.App(__file__, lifespan=warm_caches, routes=[leaflet_route()])
