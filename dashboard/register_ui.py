"""The place register in the dashboard: the Places page's pieces and "add to register" elsewhere.

Changes made here are signed :data:`hotspots.register.DASHBOARD_AUTHOR` ("dashboard") until
sign-in exists. Register reads are small SQL queries on the store and are not cached: a change
made on one page shows on the next run of any page.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from dashboard import access, data, maps, ui
from hotspots import register as reg
from hotspots._errors import InputError

AUTHOR = reg.DASHBOARD_AUTHOR
STATUS_COLOURS = {"proposed": "#e69f00", "active": "#d7301f", "closed": "#7f7f7f"}
STATUS_LABELS = {"proposed": "Proposed", "active": "Active", "closed": "Closed"}
FLASH = "_register_flash"
PLACE_KEY = "reg_place"
#: A place just added (on any page), to be the chosen one when the Places page next draws.
PENDING = "_place_added"


# ---------------------------------------------------------------------------- shared
def flash(message: str) -> None:
    """Remember a message to show after the rerun that follows a change."""
    st.session_state[FLASH] = message


def show_flash() -> None:
    """Show (once) the message left by the last change."""
    if msg := st.session_state.pop(FLASH, None):
        st.success(msg, icon=":material/check_circle:")


def group_names() -> list[str]:
    """Groups known to the register (added, or named on a place)."""
    return reg.groups(data.store())["group"].tolist()


def _group_input(key: str, default: str = "") -> str:
    """A choice of the known groups and a box for a new one (which wins when filled)."""
    names = group_names()
    choice = ""
    if names:
        index = names.index(default) if default in names else 0
        choice = st.selectbox("Group (meeting)", names, index=index, key=f"{key}_group")
    new = st.text_input(
        "…or a new group" if names else "Group (meeting)",
        key=f"{key}_new_group",
        placeholder="e.g. Stoke North GIG",
    )
    return new.strip() or choice


def _month_text(ts: pd.Timestamp | None) -> str:
    return "" if ts is None or pd.isna(ts) else f"{ts:%Y-%m-%d}"


def add_form(
    source: dict[str, Any] | None, *, key: str, label: str = "Add to the place register"
) -> int | None:
    """A small form adding ``source`` (``{"geometry", "name", "source"}``, EPSG:27700) to the register.

    Returns the new place id when the form was submitted and the place was added (a link to the
    Places page is shown), else None. Problems (a bad polygon, an empty name…) are shown as
    errors and nothing is written.
    """
    if source is None:
        return None
    with st.form(key, border=True):
        st.markdown(f"**{label}**")
        name = st.text_input("Place name", value=source["name"], key=f"{key}_name")
        group = _group_input(key)
        c1, c2 = st.columns(2)
        status = c1.selectbox("Status", reg.STATUSES, key=f"{key}_status")
        start = c2.text_input("Start (YYYY-MM)", key=f"{key}_start", placeholder="not yet")
        st.caption(f"Outline from {source['source']}.")
        if not st.form_submit_button("Add to register", icon=":material/add_location_alt:"):
            return None
    try:
        pid = reg.add_place(
            data.store(),
            source["geometry"],
            name=name,
            group=group,
            status=status,
            start=start or None,
            source=source["source"],
            author=AUTHOR,
        )
    except InputError as exc:
        st.error(f"Not added: {exc}")
        return None
    st.session_state[PENDING] = pid
    st.success(
        f"Added place #{pid} {name} to the register ({group}, {status}).", icon=":material/check_circle:"
    )
    st.page_link("pages/places_page.py", label="Open it on the Places page", icon=":material/pin_drop:")
    return pid


def add_hotspot(table: gpd.GeoDataFrame, params: dict[str, Any], rank: int | None, *, key: str) -> int | None:
    """The "add to register" form for the hotspot of ``rank`` in a hotspot list (EPSG:27700)."""
    if rank is None or table.empty:
        return None
    t = gpd.GeoDataFrame(table, geometry="geometry", crs=table.crs)
    t.attrs["params"] = params
    return add_form(
        reg.place_from_hotspot(t, int(rank)), key=key, label=f"Add hotspot {int(rank)} to the place register"
    )


def add_hotspot_chooser(
    hotspot_list: Callable[[], tuple[gpd.GeoDataFrame, dict[str, Any]]], *, key: str
) -> int | None:
    """An expander to add any place of a hotspot list (EPSG:27700) to the register (for the Map page).

    ``hotspot_list()`` gives the list and its parameters. The expander's content is made only
    while it is open (Streamlit's ``on_change="rerun"`` expander): a filter change on the Map
    page does not rebuild a chooser of every place, and its form, that nobody sees while the
    expander is closed (a tenth of a Map run, and ~70 KB of every update, ``bench/bench_load.py``).
    """
    box = st.expander("Add a hotspot place to the place register", key=f"{key}_open", on_change="rerun")
    if not box.open:
        return None
    table, params = hotspot_list()
    with box:
        if table.empty:
            st.caption("No hotspot places with these filters.")
            return None
        names = table["name"] if "name" in table else table["top_locations"]
        labels = dict(zip(table["rank"].astype(int), names.astype(str), strict=True))
        rank = st.selectbox(
            "Hotspot place", list(labels), format_func=lambda r: f"{r}. {labels[r]}", key=f"{key}_rank"
        )
        return add_hotspot(table, params, rank, key=key)


# ---------------------------------------------------------------------------- the Places page
def choose_default(ids: list[int]) -> None:
    """Before the place chooser is drawn: a place just added, else keep the choice, else the newest."""
    pending = st.session_state.pop(PENDING, None)
    if pending in ids:
        st.session_state[PLACE_KEY] = pending
    elif ids and st.session_state.get(PLACE_KEY) not in ids:
        st.session_state[PLACE_KEY] = ids[-1]


def register_table(places: gpd.GeoDataFrame) -> None:
    """The register as a table (no geometry)."""
    table = places.drop(columns="geometry").assign(area_ha=(places.geometry.area / 10_000).round(1))
    st.dataframe(
        table[["place_id", "name", "group", "status", "start", "end", "area_ha", "updated_at", "updated_by"]],
        hide_index=True,
        width="stretch",
        key="pl_table",
        column_config={
            "place_id": st.column_config.NumberColumn("#", format="%d"),
            "name": st.column_config.TextColumn("Place", width="large"),
            "group": "Group",
            "status": "Status",
            "start": st.column_config.DateColumn("Start", format="YYYY-MM-DD"),
            "end": st.column_config.DateColumn("End", format="YYYY-MM-DD"),
            "area_ha": st.column_config.NumberColumn("Area (ha)", format="%.1f"),
            "updated_at": st.column_config.DatetimeColumn("Last change (UTC)", format="YYYY-MM-DD HH:mm"),
            "updated_by": "By",
        },
    )


def places_map(places: gpd.GeoDataFrame, selected: int | None) -> None:
    """The places on a map, coloured by status, the chosen one outlined in black."""
    path, version = data.key()
    shown = maps.to_wgs84(places)
    bounds = shown.total_bounds if len(shown) else data.study_area_shape(path, version).total_bounds
    if selected is not None and (shown["place_id"] == selected).any():
        minx, miny, maxx, maxy = shown[shown["place_id"] == selected].total_bounds
        pad = (
            max(maxx - minx, maxy - miny) * 0.4
        )  # the place with its surroundings (its buffer ring and more)
        bounds = (minx - pad, miny - pad / 1.6, maxx + pad, maxy + pad / 1.6)
    m = maps.base_map(bounds)
    maps.add_outline(m, data.study_area_shape(path, version))
    tip = (
        "<b>#" + shown["place_id"].astype(str) + " " + shown["name"].map(maps.esc) + "</b><br>"
        + shown["status"] + ", " + shown["group"].map(maps.esc)
    )  # fmt: skip
    colour = shown["status"].map(STATUS_COLOURS)
    line = shown["place_id"].eq(selected).map({True: "#000000", False: None})
    for is_sel in (False, True):
        part = shown[line.notna() == is_sel].assign(colour=colour, tip=tip)
        maps.add_classed_polygons(
            m,
            part,
            name="Chosen place" if is_sel else "Registered places",
            opacity=0.35,
            line="#000000" if is_sel else None,
            weight=4 if is_sel else 2,
        )
    m.add_child(maps.Legend("Status", [(STATUS_COLOURS[s], STATUS_LABELS[s]) for s in reg.STATUSES]))
    maps.finish(m)
    st_folium(m, key=f"pl_map_{selected}", height=420, use_container_width=True, returned_objects=[])
    ui.attribution()


def details(place: reg.Place) -> None:
    """The chosen place: state, edit form, notes and actions, history."""
    st.subheader(f"#{place.place_id} {place.name}")
    c = st.columns(4)
    c[0].metric("Status", STATUS_LABELS[place.status])
    c[1].metric("Intervention start", _month_text(place.start) or "not set")
    c[2].metric("End", _month_text(place.end) or "not set")
    c[3].metric("Area", f"{place.geometry.area / 10_000:,.1f} ha")
    st.caption(
        f"Group: {place.group}. Outline from {place.source or 'not recorded'}. Added "
        f"{place.created_at:%Y-%m-%d %H:%M} UTC by {place.created_by}; last changed "
        f"{place.updated_at:%Y-%m-%d %H:%M} UTC by {place.updated_by}."
    )
    key = f"pl_edit_{place.place_id}"
    with st.form(key):
        st.markdown("**Change this place**")
        c1, c2 = st.columns(2)
        name = c1.text_input("Name", value=place.name, key=f"{key}_name")
        with c2:
            group = _group_input(key, place.group)
        c3, c4, c5 = st.columns(3)
        status = c3.selectbox(
            "Status", reg.STATUSES, index=reg.STATUSES.index(place.status), key=f"{key}_status"
        )
        start = c4.text_input(
            "Intervention start (YYYY-MM or YYYY-MM-DD)", _month_text(place.start), key=f"{key}_start"
        )
        end = c5.text_input("End (YYYY-MM or YYYY-MM-DD)", _month_text(place.end), key=f"{key}_end")
        if st.form_submit_button("Save changes", type="primary"):
            _write(
                lambda: reg.update_place(
                    data.store(), place.place_id, author=AUTHOR, name=name, group=group, status=status,
                    start=start or None, end=end or None,
                ),
                f"Saved #{place.place_id}.",
            )  # fmt: skip
    with st.form(f"pl_note_{place.place_id}", clear_on_submit=True):
        st.markdown("**Add a note or an action**")
        c1, c2, c3 = st.columns([1, 1, 4])
        kind = c1.selectbox("Kind", reg.NOTE_KINDS, key=f"pl_note_kind_{place.place_id}")
        when = c2.text_input("Date (YYYY-MM-DD)", placeholder="today", key=f"pl_note_date_{place.place_id}")
        text = c3.text_input("Text", key=f"pl_note_text_{place.place_id}")
        if st.form_submit_button("Add"):
            _write(
                lambda: reg.add_note(
                    data.store(), place.place_id, text, kind=kind, date=when or None, author=AUTHOR
                ),
                f"Added the {kind} to #{place.place_id}.",
            )
    n = reg.notes(data.store(), place.place_id)
    st.markdown("**Notes and actions**")
    if len(n):
        st.dataframe(n, hide_index=True, width="stretch", key="pl_notes")
    else:
        st.caption("None yet.")
    with st.expander("History of every change"):
        h = reg.history(data.store(), place.place_id)
        geo = h["field"] == "geometry"
        for col in ("old", "new"):
            h.loc[geo, col] = h.loc[geo, col].map(lambda v: None if v is None else "(outline)")
        st.dataframe(h, hide_index=True, width="stretch", key="pl_history")


def _write(change: Any, message: str) -> None:
    try:
        change()
    except InputError as exc:
        st.error(f"Nothing changed: {exc}")
        return
    flash(message)
    st.rerun()


def new_place_forms() -> None:
    """Register a place from an uploaded GeoJSON/GeoPackage or from a set of wards or LSOAs."""
    opts = data.options(*data.key())["areas"]
    tab_file, tab_areas = st.tabs(["From a file", "From wards or LSOAs"])
    with tab_file:
        up = st.file_uploader(
            "GeoJSON or GeoPackage with the place's outline", type=["geojson", "json", "gpkg"]
        )
        src = None
        if up is not None:
            try:
                src = uploaded_place(up.name, up.getvalue())
            except InputError as exc:
                st.error(str(exc))
        _added(add_form(src, key="pl_add_file", label=f"Add {up.name if up else ''} to the register"))
    with tab_areas:
        level = st.radio(
            "Level", ["ward", "lsoa"], horizontal=True, format_func=str.upper, key="pl_add_level"
        )
        codes = st.multiselect(
            f"{'Wards' if level == 'ward' else 'LSOAs'} making up the place",
            list(opts[level]),
            format_func=opts[level].get,
            key=f"pl_add_codes_{level}",
        )
        src = reg.place_from_areas(data.store().geography(), codes, level=level) if codes else None
        _added(add_form(src, key="pl_add_areas"))


def _added(pid: int | None) -> None:
    if pid is not None:
        flash(f"Added place #{pid}.")
        st.rerun()


def uploaded_place(name: str, content: bytes) -> dict[str, Any]:
    """``{"geometry", "name", "source"}`` from an uploaded file, checked (see :func:`hotspots.register.check_polygon`)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(content)
        gdf = reg.read_place_file(path, name=name)
    geom = reg.check_polygon(gdf, study_area=data.store().geography().study_area, name=name)
    return {"geometry": geom, "name": Path(name).stem, "source": f"file {name}"}


def evaluation(place: reg.Place) -> None:
    """The place's evaluation (before/after, control, displacement) and the meeting pack, when available."""
    try:
        from hotspots.place_eval import evaluate_place
    except ImportError:
        return
    st.subheader("Did it work?")
    if place.start is None:
        st.info("Set the intervention start above to compare before and after.")
        return
    try:
        filt = st.session_state.get("filter")
        categories = filt.categories if filt is not None else ()
        ev = evaluate_place(
            data.incidents(), place, geography=data.store().geography(), categories=categories
        )
    except InputError as exc:
        st.info(f"No evaluation yet: {exc}")
        return
    st.markdown(f"**{ev.verdict}**")
    c = st.columns(4)
    c[0].metric("In the place", f"{ev.treated_before:,} → {ev.treated_after:,}")
    c[1].metric("Buffer ring", f"{ev.buffer_before:,} → {ev.buffer_after:,}")
    c[2].metric("Control", f"{ev.control_before:,} → {ev.control_after:,}")
    c[3].metric(
        "WDQ",
        f"{ev.wdq:.2f}" if ev.wdq_read else "not read",
        help=None if ev.wdq_read else "Not read: " + ev.displacement,
    )
    st.caption(
        f"{ev.displacement} Before {ev.before_from} to {ev.before_to}; after {ev.after_from} to {ev.after_to}."
    )
    with st.expander("How this was worked out"):
        st.markdown(ev.method)
        st.dataframe(ev.table(), hide_index=True)
        st.code(json.dumps(ev.to_dict(), indent=1, default=str), language="json")


def export_bytes(ext: str) -> bytes:
    """The whole register (with notes and history in Excel) as the bytes of a file of type ``ext``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = reg.export_places(data.store(), Path(tmp) / f"places{ext}")
        return path.read_bytes()


def pack_download(place: reg.Place) -> None:
    """The meeting pack (PDF) of the place's group, made when the button is clicked."""
    try:
        from hotspots.pack import meeting_pack
    except ImportError:
        return
    access.download_button(
        f"Meeting pack for {place.group} (PDF)",
        lambda: meeting_pack(data.store(), group=place.group),
        f"meeting_pack_{_slug(place.group)}.pdf",
        what=f"meeting pack of {place.group}",
        mime="application/pdf",
        on_click="ignore",
        icon=":material/picture_as_pdf:",
        key=f"pl_pack_{place.place_id}",
    )


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_") or "group"
