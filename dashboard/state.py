"""The shared sidebar filters, held in session state and mirrored in the URL query.

Session state is set once per session from the URL (so a copied link opens the same view),
then the widgets own it; after every run the current filter is written back to
``st.query_params``. Page-specific settings (a chosen method, a ward) use :func:`url_value`
and :func:`write_url` the same way.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

import streamlit as st

from dashboard import data
from hotspots._errors import InputError
from hotspots.filters import DAY_NAMES, LEVELS, Filter

FILTER_KEYS = tuple(f.name for f in fields(Filter))
_READY = "_filters_ready"
_MONTHS_KEY = "_months_key"


def _query_filter() -> Filter:
    try:
        return Filter.from_query(st.query_params.to_dict())
    except (InputError, ValueError):
        return Filter()


def _init(opts: dict, version: int) -> None:
    """Set the widget values from the URL once per session; re-check them after each load."""
    ready = st.session_state.get(_READY)
    if ready == version:
        return
    q = _query_filter() if ready is None else current_filter()
    months = opts["months"] or ["2025-01"]
    lo = q.month_from if q.month_from in months else months[0]
    hi = q.month_to if q.month_to in months else months[-1]
    # a range that reached the first or last month held keeps doing so when a load adds months
    held = st.session_state.get("_months_held")
    if held and q.month_from == held[0]:
        lo = months[0]
    if held and q.month_to == held[1]:
        hi = months[-1]
    st.session_state["_months_held"] = (months[0], months[-1])
    if lo > hi:
        lo, hi = months[0], months[-1]
    # The range slider takes its first value through `value=` (AppTest mishandles a range set in
    # session state). Its key names the months it offers, so that when a load adds months it is a
    # new widget showing the new range: a new `value=` alone would not move the browser's slider.
    months_key = f"f_months_{months[0]}_{months[-1]}"
    if _MONTHS_KEY in st.session_state:
        st.session_state.pop(st.session_state[_MONTHS_KEY], None)
    st.session_state[_MONTHS_KEY] = months_key
    st.session_state["_months_start"] = (data.month_label(lo), data.month_label(hi))
    st.session_state["f_moy"] = list(q.months_of_year)
    st.session_state["f_categories"] = [c for c in q.categories if c in opts["categories"]]
    st.session_state["f_sources"] = [s for s in q.sources if s in opts["sources"]]
    st.session_state["f_level"] = q.level
    st.session_state["f_areas"] = [a for a in q.areas if a in opts["areas"][q.level]]
    st.session_state["f_days"] = list(q.days_of_week)
    st.session_state["f_hours"] = list(q.hours)
    st.session_state["f_extra"] = [e for e in q.extra if e in opts.get("extras", [])]
    st.session_state[_READY] = version


def current_filter() -> Filter:
    """The filter the sidebar widgets describe."""
    ss = st.session_state
    lo, hi = ss.get(ss[_MONTHS_KEY], (None, None)) if _MONTHS_KEY in ss else (None, None)
    return Filter(
        month_from=data.label_month(lo) if lo else None,
        month_to=data.label_month(hi) if hi else None,
        months_of_year=tuple(ss.get("f_moy", ())),
        categories=tuple(ss.get("f_categories", ())),
        sources=tuple(ss.get("f_sources", ())),
        level=ss.get("f_level", "ward"),
        areas=tuple(ss.get("f_areas", ())),
        days_of_week=tuple(ss.get("f_days", ())),
        hours=tuple(ss.get("f_hours", ())),
        extra=tuple(ss.get("f_extra", ())),
    )


def _level_changed() -> None:
    st.session_state["f_areas"] = []


def sidebar_filters() -> Filter:
    """Draw the shared filters in the sidebar and return the Filter they describe."""
    path, version = data.key()
    opts = data.options(path, version)
    _init(opts, version)
    sb = st.sidebar
    sb.header("Filters")
    if opts["months"]:
        # options are the labels themselves (AppTest mishandles a range slider with format_func)
        sb.select_slider(
            "Months",
            options=[data.month_label(m) for m in opts["months"]],
            value=st.session_state["_months_start"],
            key=st.session_state[_MONTHS_KEY],
        )
    sb.multiselect(
        "Crime and ASB types",
        opts["categories"],
        key="f_categories",
        placeholder="All types",
    )
    sb.selectbox(
        "Area level", LEVELS, key="f_level", format_func=data.LEVEL_LABELS.get, on_change=_level_changed
    )
    level = st.session_state["f_level"]
    names = opts["areas"][level]
    sb.multiselect(
        f"{data.LEVEL_LABELS[level]} areas",
        list(names),
        key="f_areas",
        format_func=lambda c: names.get(c, c),
        placeholder="Whole partnership area",
    )
    with sb.expander("Season, sources, days and hours"):
        st.multiselect(
            "Only these months of the year",
            list(range(1, 13)),
            key="f_moy",
            format_func=lambda m: calendar.month_name[m],
            placeholder="All months",
            help="For seasons across years: e.g. June to August, or October and November (bonfire season).",
        )
        st.multiselect("Sources", opts["sources"], key="f_sources", placeholder="All sources")
        if opts["has_times"]:
            st.multiselect("Days of the week", range(7), key="f_days", format_func=DAY_NAMES.__getitem__)
            st.multiselect("Hours of the day", range(24), key="f_hours", format_func=lambda h: f"{h:02d}:00")
        else:
            st.caption("Day and hour filters appear when a source with exact times is loaded.")
        if opts.get("extras"):
            st.multiselect(
                "Partner columns",
                opts["extras"],
                key="f_extra",
                placeholder="Any value",
                help="Columns kept from partner files (the mapping's `extra`): values of one column are "
                "alternatives, different columns must all match; incidents without them are left out.",
            )
    filt = current_filter()
    write_url(filt.to_query(), FILTER_KEYS)
    return filt


def split(text: str) -> list[str]:
    """``"a,b"`` → ``["a", "b"]`` (for list settings in the URL)."""
    return [t for t in text.split(",") if t]


def url_value(key: str, default: Any, *, options: Sequence | None = None, cast: Callable = str) -> None:
    """Set ``st.session_state[key]`` once from the URL (or ``default``), before its widget is drawn."""
    if key in st.session_state:
        return
    raw = st.query_params.get(key)
    value = default
    if raw is not None:
        try:
            value = cast(raw)
        except (TypeError, ValueError):
            value = default
    if options is not None:
        if isinstance(value, list):
            value = [v for v in value if v in options]
        elif value not in options:
            value = default
    st.session_state[key] = value


def write_url(values: dict[str, Any], keys: Sequence[str]) -> None:
    """Mirror ``values`` in the URL query: set changed ``keys``, drop the ones not in ``values``."""
    q = st.query_params
    for k in keys:
        want = values.get(k)
        if isinstance(want, (list, tuple)):
            want = ",".join(map(str, want)) or None
        want = None if want is None else str(want)
        if q.get(k) != want:
            if want is None:
                del q[k]
            else:
                q[k] = want


def sync_page_params(keys: Sequence[str]) -> None:
    """Write page settings held in session state under ``keys`` to the URL."""
    write_url({k: st.session_state.get(k) for k in keys}, keys)
