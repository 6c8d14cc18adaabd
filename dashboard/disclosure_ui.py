"""Disclosure control in the dashboard: what a viewer sees of restricted partner sources.

One rule, applied once (``docs/access.md``, "Disclosure control"):

* **No mixed counts for viewers.** ``app.py`` hands every page :func:`page_filter` of the
  sidebar's filter: for a viewer, the restricted sources are taken out of it
  (:func:`hotspots.disclosure.public_filter`). Every count, rate, map layer (areas, KDE, Gi*,
  DBSCAN, repeat locations, incident points), hotspot list, chart and download a page already
  draws therefore holds police.uk and unrestricted partner data only, and no point of a
  restricted source reaches a viewer's browser.
* **Restricted sources in their own columns, protected.** Where a page shows counts by area
  (the Map page's table, popups and download), by month (Trends) or by category (Ward profile),
  each restricted source the filter includes gets its own column or chart, made by
  :func:`hotspots.disclosure.protect` with the stored rule (:func:`hotspots.disclosure.stored_rule`):
  small counts are shown as ``[c]`` and further cells are withheld so that none can be worked
  out from the totals shown.
* Analysts and admins get the sidebar's filter unchanged and the same columns with exact counts.

Each page states it in one line starting "Disclosure control:" (:func:`note`), and every
download carries the statement in its parameters (:func:`export_params`).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import access, data
from hotspots import disclosure
from hotspots._errors import InputError
from hotspots.filters import Filter

#: The sidebar's own filter (restricted sources included), kept beside the page's filter.
FULL_KEY = "filter_full"
#: Where the statement starts, on every page and in every export (stable for tests).
MARK = "Disclosure control:"


#: Where :func:`page_filter` keeps this run's restricted sources and rule (read once per run).
_NOW = "_disclosure_now"


def restricted() -> tuple[str, ...]:
    """The sources marked restricted now (read from the store once per run: a change shows at once)."""
    if _NOW in st.session_state:
        return st.session_state[_NOW][0]
    return tuple(sorted(disclosure.restricted_sources(data.store())))


def protects() -> bool:
    """True when the current user sees restricted sources only protected (a viewer)."""
    return access.current_user()[1] == "viewer"


def rule() -> disclosure.Rule:
    """The stored rule (default: suppress 1 to 4)."""
    if _NOW in st.session_state:
        return st.session_state[_NOW][1]
    return disclosure.stored_rule(data.store())


def page_filter(filt: Filter) -> Filter:
    """The filter a page works on: for a viewer, ``filt`` without the restricted sources.

    Called once per run in ``app.py``; the sidebar's own filter is kept in
    ``st.session_state["filter_full"]`` for :func:`in_play`.
    """
    st.session_state[FULL_KEY] = filt
    st.session_state.pop(_NOW, None)  # read afresh on every run, then kept for the run
    st.session_state[_NOW] = (restricted(), rule())
    r = restricted()
    if not r or not protects():
        return filt
    return disclosure.public_filter(filt, r, data.options(*data.key())["sources"])


def visible_sources(sources: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``sources`` a page may count per source for this user: a viewer's lose the restricted ones."""
    hidden = set(restricted()) if protects() else set()
    return tuple(s for s in sources if s not in hidden)


def in_play() -> tuple[str, ...]:
    """The restricted sources the sidebar's filter includes (all of them when it names no source)."""
    full = st.session_state.get(FULL_KEY)
    r = restricted()
    if full is None or not full.sources:
        return r
    return tuple(s for s in r if s in full.sources)


def statement(*, own_columns: bool = True, quote: Callable[[str], str] = str) -> str | None:
    """The one-line statement for the page and the export (``None``: nothing restricted in the filter)."""
    srcs = in_play()
    if not srcs:
        return None
    names = ", ".join(map(quote, srcs))
    if not protects():
        return (
            f"{MARK} {names} {'is' if len(srcs) == 1 else 'are'} restricted partner data; you see exact "
            f"counts (role {access.current_user()[1]}). Viewers see {'it' if len(srcs) == 1 else 'them'} "
            f"only in {'its' if len(srcs) == 1 else 'their'} own columns, where {rule().describe()}."
        )
    text = f"{MARK} {names} (restricted partner data) {'is' if len(srcs) == 1 else 'are'} left out of every count, map layer, hotspot and chart on this page"
    if own_columns:
        text += f" except {'its' if len(srcs) == 1 else 'their'} own columns, where {rule().describe()}"
    return text + "."


def note(*, own_columns: bool = True) -> None:
    """Say on the page how restricted sources are shown (nothing when none is in the filter).

    Always one element (a container), shown or not, so that the elements after it keep their
    place when the filter changes (a map that moves is rebuilt and loses its zoom).
    """
    with st.container():
        if text := statement(own_columns=own_columns, quote=_plain_markdown):
            st.caption(f":material/lock: {text}")


def _plain_markdown(name: str) -> str:
    """A source name (typed by a person) shown as itself in markdown: punctuation escaped."""
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~:$])", r"\\\1", name)


def export_params(*, own_columns: bool = True) -> dict[str, str]:
    """``{"disclosure": statement}`` for an export's parameters (empty when nothing is restricted)."""
    text = statement(own_columns=own_columns)
    return {"disclosure": text} if text else {}


def column(source: str) -> str:
    """The column label of a restricted source's counts (stable: tests and docs name it)."""
    return f"{source} (restricted)"


def _protected(counts: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Rows x sources: (cells as shown, the column totals as shown); protected for viewers."""
    if protects():
        shown = disclosure.protect(counts, rule=rule()).text()
        shown = shown.drop(columns="Total", errors="ignore")
        return shown.drop(index="Total").rename_axis(counts.index.name), shown.loc["Total"]
    return counts.astype("Int64"), counts.sum().astype("Int64")


def area_columns(table: pd.DataFrame, filt: Filter, level: str) -> tuple[pd.DataFrame, list[str]]:
    """``table`` (an area table) with one column of counts per restricted source in the filter.

    Returns the table and the added column labels. For a viewer the columns are protected as
    one table (areas x sources, with the column totals shown in :func:`area_totals`).
    """
    srcs = in_play()
    if not srcs:
        return table, []
    path, version = data.key()
    tables = {s: data.area_table(path, version, filt.replace(sources=(s,)), level) for s in srcs}
    counts = pd.DataFrame({s: t.set_index("area_code")["count"] for s, t in tables.items()})
    counts = counts.reindex(table["area_code"].to_numpy()).fillna(0).astype(int)
    shown, totals = _protected(counts)
    st.session_state["_restricted_totals"] = totals
    out = table.copy()
    for s in srcs:
        out[column(s)] = shown[s].to_numpy()
    return out, [column(s) for s in srcs]


def area_totals() -> str:
    """The restricted columns' totals, as shown, in words (after :func:`area_columns`)."""
    totals = st.session_state.get("_restricted_totals")
    if totals is None:
        return ""
    return "; ".join(f"{column(s)}: {v} in these areas" for s, v in totals.items())


def place_columns(table: pd.DataFrame, filt: Filter) -> pd.DataFrame:
    """A hotspot list (EPSG:27700 outlines) with one column per restricted source in the filter.

    Each column counts the source's incidents inside each place: protected for a viewer (one
    table, places x sources), exact for others.
    """
    import geopandas as gpd

    srcs = in_play()
    if not srcs or table.empty:
        return table
    path, version = data.key()
    pts = data.filtered(path, version, filt.replace(sources=srcs), ("x", "y", "source")).dropna(subset=["x"])
    pts = gpd.GeoDataFrame(pts, geometry=gpd.points_from_xy(pts["x"], pts["y"]), crs=table.crs)
    inside = gpd.sjoin(pts, table[["rank", "geometry"]], predicate="within")
    counts = (
        pd.crosstab(inside["rank"], inside["source"].astype(str))
        .reindex(index=table["rank"].to_numpy(), columns=list(srcs), fill_value=0)
        .astype(int)
    )
    shown, _totals = _protected(counts)
    return table.assign(**{column(s): shown[s].to_numpy() for s in srcs})


def _months(filt: Filter) -> list[str]:
    months = data.options(*data.key())["months"]
    lo, hi = filt.month_from or months[0], filt.month_to or months[-1]
    moy = set(filt.months_of_year)
    return [m for m in months if lo <= m <= hi and (not moy or int(m[5:]) in moy)]


def crosstab(filt: Filter, by: str, rows: list[str] | None = None) -> pd.DataFrame:
    """Counts of the restricted sources in play under ``filt``: rows by ``by``, one column per source."""
    srcs = in_play()
    path, version = data.key()
    inc = data.filtered(path, version, filt.replace(sources=srcs), (by, "source"))
    key = inc[by].dt.strftime("%Y-%m") if by == "month" else inc[by].astype(str)
    counts = pd.crosstab(key, inc["source"].astype(str)).reindex(columns=list(srcs), fill_value=0)
    if rows is not None:
        counts = counts.reindex(rows, fill_value=0)
    counts.index.name, counts.columns.name = by, None
    return counts.astype(int)


def monthly_chart(filt: Filter) -> pd.DataFrame | None:
    """Draw the restricted sources' counts by month (protected for viewers); return the chart's data."""
    srcs = in_play()
    if not srcs:
        return None
    months = _months(filt)
    shown, _totals = _protected(crosstab(filt, "month", months))
    long = shown.reset_index().melt(id_vars="month", var_name="source", value_name="shown")
    long["count"] = pd.to_numeric(long["shown"].astype(str), errors="coerce")
    long["shown"] = long["shown"].astype(str)
    long["label"] = long["month"].map(lambda m: f"{calendar.month_abbr[int(m[5:])]} {m[:4]}")
    base = alt.Chart(long).encode(
        x=alt.X("label:N", sort=None, title=None), xOffset="source:N", color=alt.Color("source:N", title=None)
    )
    bars = base.mark_bar().encode(
        y=alt.Y("count:Q", title="Incidents"),
        tooltip=[
            alt.Tooltip("label:N", title="Month"),
            "source:N",
            alt.Tooltip("shown:N", title="Incidents"),
        ],
    )
    marks = base.mark_text(dy=-8, fontSize=13).encode(y=alt.datum(0), text="shown:N")
    chart = (bars + marks.transform_filter(alt.datum.shown == disclosure.SUPPRESSED)).properties(
        title=f"Restricted partner sources by month ({disclosure.SUPPRESSED}: suppressed)", height=300
    )
    st.altair_chart(chart, width="stretch")
    return long


def category_table(filt: Filter) -> pd.DataFrame | None:
    """Draw the restricted sources' counts by category under ``filt`` (protected); return the table."""
    if not in_play():
        return None
    counts = crosstab(filt, "category")
    if counts.empty:
        return None
    shown, totals = _protected(counts)
    out = pd.concat([shown, totals.to_frame("Total").T]).rename_axis("category").reset_index()
    out.columns = ["category", *(column(s) for s in counts.columns)]
    st.dataframe(out, hide_index=True, width="stretch")
    return out


# ---------------------------------------------------------------------------- Data page controls
def _may_change() -> bool:
    """Analysts and admins change restrictions and the rule; a viewer is refused (and it is recorded)."""
    user, role = access.current_user()
    if role in ("analyst", "admin"):
        return True
    st.error(f"Only an analyst or an admin may change disclosure settings; you are signed in as {role}.")
    access.record(data.store(), "refused", "disclosure settings")
    return False


def restricted_checkbox() -> bool:
    """The partner form's "restricted" box (drawn above the mapping form)."""
    return st.checkbox(
        "Restricted source (under a data-sharing agreement)",
        key="partner_restricted",
        help="Viewers then see its counts only in their own columns, with small counts suppressed, and "
        "never its points. Change it later under **What the store holds**.",
    )


def after_load(report, source: str, restrict: bool) -> None:
    """Mark a partner source restricted once its file is in the store (the box was ticked)."""
    if restrict and report.status in ("loaded", "already loaded") and _may_change():
        user, role = access.current_user()
        disclosure.set_restricted(data.store(), source, True, user=user, role=role)


def settings() -> None:
    """Which partner sources are restricted, and the rule viewers get (analysts and admins)."""
    st.session_state.pop(_NOW, None)  # the settings as stored, not as this run began
    st.subheader("Disclosure control")
    st.caption(f"Now: {rule().describe()}. Restricted: {', '.join(restricted()) or 'none'}.")
    partner = [s for s in data.options(*data.key())["sources"] if s != disclosure.POLICE_SOURCE]
    now = set(restricted())
    with st.form("disclosure"):
        chosen = st.multiselect(
            "Restricted partner sources", partner, default=[s for s in partner if s in now], key="dc_sources"
        )
        r = rule()
        c1, c2, c3, c4 = st.columns(4)
        method = c1.selectbox("Method", disclosure.METHODS, index=disclosure.METHODS.index(r.method))
        low = c2.number_input("Smallest count withheld", min_value=1, value=r.low, step=1)
        high = c3.number_input("Largest count withheld", min_value=1, value=r.high, step=1)
        base = c4.number_input("Rounding base", min_value=2, value=r.base, step=1)
        if not st.form_submit_button("Save disclosure settings") or not _may_change():
            return
    user, role = access.current_user()
    store = data.store()
    try:
        new = disclosure.Rule(low=int(low), high=int(high), method=method, base=int(base))
    except InputError as exc:
        st.error(str(exc))
        return
    for s in partner:
        if (s in chosen) != (s in now):
            disclosure.set_restricted(store, s, s in chosen, user=user, role=role)
    if new != r:
        disclosure.set_rule(store, new, user=user, role=role)
    st.success(f"Saved: {new.describe()}. Restricted: {', '.join(sorted(chosen)) or 'none'}.")
