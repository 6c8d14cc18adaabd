"""Pieces of the Data page: load reports, messages, the mapping form, the study-area chooser.

The study-area chooser picks partnerships, forces or districts; the coverage prompt offers the
force of loaded data that the study area misses.

A load changes what the filters can offer (months, types, sources, areas), so the page keeps
its message in session state and reruns; the next run shows the message with fresh filters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from dashboard import data, loading
from hotspots._errors import InputError
from hotspots.ingest import FileReport, PartnerMapping


def show_reports(reports: list[FileReport]) -> None:
    """One message per loaded file (what was added, noted, rejected), then the summary table."""
    for r in reports:
        if r.status == "failed":
            hint = (
                " Partner data (fly-tipping, council ASB…) loads on the **Partner data** tab."
                if "mapping" in str(r.error)
                else ""
            )
            st.error(f"**{r.file}** was not loaded: {r.error}. The store is unchanged.{hint}")
        elif r.status == "already loaded":
            st.info(r.line())
        elif r.accepted == 0 and r.duplicate:
            st.info(f"{r.line()}. Every row was already in the store: nothing added.")
        else:
            st.success(r.line())
            for w in r.warnings[:10]:
                st.caption(f"Note: {w}")
            for reason, n in r.rejected_reasons.items():
                st.caption(f"Rejected {n:,}: {reason}")
            if r.accepted and r.outside_area > r.accepted / 2:
                st.warning(
                    f"{r.outside_area:,} of {r.accepted:,} incidents in {r.file} are in no area of the study "
                    f"area ({data.options(*data.key())['geography']}). To analyse another area, upload its "
                    "2021 LSOA boundaries on the **Boundaries and localities** tab (ONS Open Geography "
                    "Portal, GeoJSON or GeoPackage)."
                )
    if reports:
        st.dataframe(loading.reports_table(reports), hide_index=True, width="stretch")


def progress_bar() -> Callable[[float, str], None]:
    """A progress bar, and the ``progress(fraction, text)`` callback that moves it."""
    bar = st.progress(0.0, text="Loading…")
    return lambda x, text: bar.progress(x, text=text)


def run_then_rerun(
    key: str, action: Callable[..., str], *args: Any, file: str | None = None, **kwargs: Any
) -> None:
    """Run a boundary or localities change, keep its message under ``key``, and rerun the page."""
    try:
        st.session_state[f"msg_{key}"] = ("success", action(*args, **kwargs))
    except InputError as exc:
        where = f"{file}: " if file else ""
        st.session_state[f"msg_{key}"] = ("error", f"{where}{exc}. Nothing was changed.")
    st.rerun()


def show_message(key: str) -> None:
    """The message :func:`run_then_rerun` kept under ``key``, if any."""
    kind, text = st.session_state.get(f"msg_{key}", (None, None))
    if kind == "success":
        st.success(text)
    elif kind == "error":
        st.error(text)


def _none(c: str | None) -> str:
    return "(none)" if c is None else c


def mapping_form(name: str, cols: list[str]) -> tuple[str, PartnerMapping] | None:
    """The column-mapping form for a partner CSV; the source name and mapping once submitted."""
    choice = [None, *cols]
    with st.form("mapping"):
        source = st.text_input("Source name", value=name.rsplit(".", 1)[0], help="e.g. fly-tipping")
        c1, c2 = st.columns(2)
        when = c1.radio("When", ["date", "month"], horizontal=True, help="A date column, or YYYY-MM months")
        when_col = c2.selectbox("Date or month column", cols)
        c1, c2 = st.columns(2)
        cat_col = c1.selectbox(
            "Category column", choice, help="Leave empty to give one category to every row", format_func=_none
        )
        cat_value = c2.text_input("…or one category for every row")
        xy = st.radio("Coordinates", ["lon/lat (WGS84)", "easting/northing (BNG)"], horizontal=True)
        c1, c2 = st.columns(2)
        x_col = c1.selectbox("Longitude or easting", cols)
        y_col = c2.selectbox("Latitude or northing", cols)
        c1, c2, c3 = st.columns(3)
        id_col = c1.selectbox("Case reference (optional)", choice, format_func=_none)
        loc_col = c2.selectbox("Place description (optional)", choice, format_func=_none)
        out_col = c3.selectbox("Outcome or status (optional)", choice, format_func=_none)
        more = mapping_extras(cols)
        if not st.form_submit_button("Load partner data", type="primary"):
            return None
    ll = xy.startswith("lon")
    try:
        time_col, date_format, labels_text, extra = more
        category_labels = parse_labels(labels_text)
        if time_col and when != "date":
            raise InputError("a separate time column needs a date column (choose 'date' under When)")
        mapping = PartnerMapping(
            id=id_col,
            date=when_col if when == "date" else None,
            month=when_col if when == "month" else None,
            category=cat_col,
            category_value=cat_value or None,
            lon=x_col if ll else None,
            lat=y_col if ll else None,
            easting=None if ll else x_col,
            northing=None if ll else y_col,
            location=loc_col,
            outcome=out_col,
            time=time_col,
            date_format=date_format,
            category_labels=category_labels,
            extra=extra,
        )
    except InputError as exc:
        st.error(f"The mapping is not complete: {exc}")
        return None
    return source.strip() or name.rsplit(".", 1)[0], mapping


def parse_labels(text: str) -> dict[str, str]:
    """``1=Fatal, 2=Serious, 3=Slight`` (commas or new lines between pairs) as code → label.

    Raises
    ------
    InputError
        If a pair has no ``=``.
    """
    out = {}
    for part in text.replace("\n", ",").split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise InputError(f"category labels are written code=label, such as 1=Fatal; got {part.strip()!r}")
        code, label = part.split("=", 1)
        out[code.strip()] = label.strip().strip('"')
    return out


def mapping_extras(cols: list[str]) -> tuple:
    """The mapping form's further options: time column, date format, category labels, extra columns.

    Returns ``(time, date_format, labels_text, extra)``; the labels are parsed on submit
    (:func:`parse_labels`) so that a mistake shows beside the form.
    """
    with st.expander("Time of day, coded categories, more columns"):
        c1, c2 = st.columns(2)
        time_col = c1.selectbox(
            "Time column (when separate from the date)",
            [None, *cols],
            format_func=_none,
            help="HH:MM, such as STATS19's Time; day and hour filters then work on this source",
        )
        date_format = c2.text_input(
            "Date format (optional)", help="e.g. %d/%m/%Y; ISO and day-first UK dates are read without it"
        )
        labels = st.text_input(
            "Category labels for coded categories (optional)",
            placeholder="1=Fatal, 2=Serious, 3=Slight",
            help="code=label pairs; codes without a label are kept as they are",
        )
        extra = st.multiselect(
            "More columns to keep",
            cols,
            help="kept with each incident, offered as filters and written into exports",
        )
    return time_col, date_format.strip() or None, labels, extra


@st.cache_data(show_spinner=False, max_entries=4)
def _uncovered(path: str, version: int) -> list[tuple[str, str, int]]:
    """(force code, force name, incidents) of the data the study area does not reach."""
    from hotspots.assign import uncovered_forces

    t = uncovered_forces(data.store())
    return list(zip(t["force_code"], t["force_name"], t["incidents"].astype(int), strict=True))


@st.cache_data(show_spinner=False, max_entries=4)
def _study_name(path: str, version: int) -> str:
    """The study area's own name (without force areas added from reported LSOA codes)."""
    import boundaries

    row = data.store().sql("SELECT name FROM geography LIMIT 1")
    return str(row["name"].iloc[0]) if len(row) else boundaries.DEFAULT_NAME


def coverage_prompt(*, on_data_page: bool) -> None:
    """Offer the force of loaded data that the study area does not cover (once per session).

    On the Data page it is a button that makes that force the study area; elsewhere a note that
    points there. Nothing shows when the study area reaches every force the data come from.
    """
    store = data.store()
    if store.is_empty() or st.session_state.get("coverage_dismissed"):
        return
    missing = _uncovered(*data.key())
    if not missing:
        return
    code, name, n = missing[0]
    now = _study_name(*data.key())
    text = (
        f"The loaded data hold {n:,} incidents in **{name}** police force area, which the study area "
        f"({now}) does not cover: they are in no ward or are placed only by their reported LSOA code."
    )
    if not on_data_page:
        st.warning(text + " Choose the study area on the **Data** page, tab *Boundaries and localities*.")
        return
    st.warning(text)
    c1, c2 = st.columns(2)
    if c1.button(f"Use {name} as the study area", type="primary", key="use_uncovered"):
        with st.spinner(f"Reading {name}'s boundaries and assigning every location…"):
            run_then_rerun("geo", loading.choose_study_area, store, force=[code], file=name)
    if c2.button("Keep the study area", key="keep_study_area"):
        st.session_state["coverage_dismissed"] = True
        st.rerun()


def study_area_form() -> None:
    """Choose partnerships, force areas and districts of England and Wales as the study area."""
    import boundaries

    def names(kind: str) -> list[str]:
        return boundaries.areas_of_kind(kind)["name"].tolist()

    with st.form("study_area"):
        st.markdown("**Choose partnerships, a force or districts** (any together; several at once for a VRU)")
        csp = st.multiselect("Community safety partnerships", names("csp"), placeholder="Type a name…")
        c1, c2 = st.columns(2)
        force = c1.multiselect("Police force areas", names("force"), placeholder="Type a name…")
        district = c2.multiselect("Districts", names("district"), placeholder="Type a name…")
        if st.form_submit_button("Use this study area", type="primary"):
            if not (csp or force or district):
                st.session_state["msg_geo"] = ("error", "Choose at least one partnership, force or district.")
                st.rerun()
            with st.spinner("Reading the chosen areas' boundaries and assigning every location…"):
                run_then_rerun(
                    "geo", loading.choose_study_area, data.store(), csp=csp, force=force, district=district
                )
