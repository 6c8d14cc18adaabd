"""Warm the heavy caches once, when the server starts, so that the first visitor does not wait.

``app.py`` runs :func:`warm_up` from the server's start-up hook (``st.App(lifespan=...)``):
it imports what the pages import and asks the cached loaders for what each page shows first
with the default filter (every month, every type, ward level). The keys are the ones the pages
use, so the first page load finds them in the cache. If this ever drifts from the pages, only
the first load gets slower: nothing here changes what a page shows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from streamlit.logger import get_logger

from dashboard import analysis, data
from hotspots.filters import Filter

LOG = get_logger(__name__)
#: The Hotspots page's evaluation window when it opens (months).
TEST_MONTHS = 3
PROFILE_LEVELS = ("ward", "locality", "district")
#: Streamlit warns once per cached call made outside a page run; here that is expected.
_CONTEXT_LOG = "streamlit.runtime.scriptrunner_utils.script_run_context"


def default_filter(opts: dict) -> Filter:
    """The filter the sidebar starts with when the address has no query: every month held."""
    months = opts["months"]
    return Filter(month_from=months[0], month_to=months[-1]) if months else Filter()


def _imports() -> None:
    # Not streamlit_folium: a component registers itself only when imported inside a page run.
    import folium  # noqa: F401

    from dashboard import charts, layers, loading, maps, profile, state, ui  # noqa: F401


def _map_page(path: str, version: int, filt: Filter) -> None:
    data.area_table(path, version, filt)
    data.filtered_count(path, version, filt)
    data.area_shapes(path, version, filt.level)
    data.study_area_shape(path, version)


def _hotspots_page(path: str, version: int, filt: Filter) -> None:
    method = analysis.DEFAULT_METHOD  # the method the page opens with
    items = analysis.default_items(method)
    table, _ = analysis.hotspots(path, version, filt, method, items)
    analysis.to_map(table)
    analysis.evaluation(path, version, filt, method, items, TEST_MONTHS)


def _trends_page(path: str, version: int, filt: Filter) -> None:
    exp = analysis.expected_series(path, version, filt)
    analysis.events_by_month(tuple(exp["month"].dt.strftime("%Y-%m")))
    analysis.rolling_compare(path, version, filt)
    analysis.rising(path, version, filt, 3)
    analysis.seasonal_profile(path, version, filt)
    analysis.emerging_cells(path, version, filt)


def _profile_page(path: str, version: int, filt: Filter) -> None:
    from dashboard import profile

    level = filt.level if filt.level in PROFILE_LEVELS else "ward"
    table = data.area_table(path, version, filt.replace(level=level, areas=()), level)
    if table.empty:
        return
    code = str(table["area_code"].iloc[0])
    pf = filt.replace(level=level, areas=(code,))
    profile.build(path, version, filt, level, code)
    analysis.rising(path, version, pf, 3)
    analysis.expected_series(path, version, pf)
    analysis.category_mix(path, version, pf)
    method = analysis.DEFAULT_METHOD  # the profile's top places
    analysis.hotspots(path, version, pf, method, analysis.default_items(method))
    data.area_shapes(path, version, level)


def warm_up(*, started: float | None = None) -> dict[str, float]:
    """Fill the caches each page asks for first; return the seconds each step took.

    Parameters
    ----------
    started
        ``time.perf_counter()`` before this module was imported, to count that import too.

    Never raises: a failure is logged and the app starts anyway (the page then computes what
    it needs, as it would with no warm-up).
    """
    timings: dict[str, float] = {}
    if started is not None:
        timings["import the analysis stack"] = round(time.perf_counter() - started, 2)
    context_log = logging.getLogger(_CONTEXT_LOG)
    level = context_log.level
    context_log.setLevel(logging.ERROR)

    def step(name: str, fn: Callable[..., Any], *args: Any) -> Any:
        t = time.perf_counter()
        out = fn(*args)
        timings[name] = round(time.perf_counter() - t, 2)
        return out

    try:
        step("import the page modules", _imports)
        if data.store().is_empty():
            return timings
        path, version = data.key()
        step("incidents", data.coded, path, version)
        opts = step("filter options", data.options, path, version)
        filt = default_filter(opts)
        for name, fn in (
            ("Map", _map_page),
            ("Hotspots", _hotspots_page),
            ("Trends & seasonality", _trends_page),
            ("Ward profile", _profile_page),
        ):
            step(name, fn, path, version, filt)
    except Exception:  # the app must start even if a warm-up step fails
        LOG.exception("warming the caches failed after %s", timings)
    finally:
        context_log.setLevel(level)
    LOG.info("caches warmed in %.1f s: %s", sum(timings.values()), timings)
    return timings
