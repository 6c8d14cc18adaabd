"""Small page pieces used everywhere: headings, attribution, methods, downloads, numbers."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import access, data
from hotspots import ATTRIBUTION
from hotspots.export import export_table
from hotspots.filters import Filter

MIME = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".geojson": "application/geo+json",
    ".gpkg": "application/geopackage+sqlite3",
}
LABEL = {".csv": "CSV", ".xlsx": "Excel", ".geojson": "GeoJSON", ".gpkg": "GeoPackage"}


def header(title: str, filt: Filter | None = None) -> None:
    """Page title and, below it, the filter in plain words (areas by name, not code)."""
    st.title(title)
    if filt is not None:
        st.caption(f"Showing: {describe(filt)}")


def describe(filt: Filter) -> str:
    """:meth:`Filter.describe` with each chosen area's name in place of its code."""
    text = filt.describe()
    if filt.areas:
        names = data.options(*data.key())["areas"].get(filt.level, {})
        for code in filt.areas:
            text = text.replace(code, names.get(code, code))
    return text


def attribution() -> None:
    """The data attribution (shown under every map and chart)."""
    st.caption(ATTRIBUTION)


def methods(text: str, params: dict[str, Any] | None = None) -> None:
    """The method explained, and the parameters used, in an expander."""
    with st.expander("Methods and parameters"):
        st.markdown(text)
        if params:
            rows = [{"parameter": k, "value": _plain(v)} for k, v in params.items()]
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _plain(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v))
    return str(v)


def export_bytes(
    table: pd.DataFrame, ext: str, *, filt: Filter | None, params: dict | None, title: str, layer: str
) -> bytes:
    """Write ``table`` with :func:`hotspots.export.export_table` to a temporary file; return its bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export{ext}"
        export_table(table, path, params=params, filt=filt, title=title, layer=layer)
        return path.read_bytes()


def downloads(
    table: pd.DataFrame,
    *,
    stem: str,
    filt: Filter | None,
    params: dict | None = None,
    title: str = "",
    formats: Sequence[str] = (".csv", ".xlsx", ".geojson", ".gpkg"),
    key: str = "dl",
) -> None:
    """One download button per format; each file is written only when its button is clicked.

    The disclosure statement (:func:`dashboard.disclosure_ui.export_params`) is added to ``params``;
    it mentions the restricted sources' own columns when ``table`` has them.
    """
    from dashboard import disclosure_ui

    own = any(str(c).endswith(" (restricted)") for c in table.columns)  # disclosure_ui.column
    params = {**(params or {}), **disclosure_ui.export_params(own_columns=own)}
    cols = st.columns(len(formats))
    for col, ext in zip(cols, formats, strict=True):
        access.download_button(
            f"Download {LABEL[ext]}",
            _deferred(table, ext, filt=filt, params=params, title=title, layer=stem),
            f"{stem}{ext}",
            what=f"{title or stem}, {len(table):,} rows"
            + (f"; {filt.describe()}" if filt is not None else ""),
            where=col,
            mime=MIME[ext],
            key=f"{key}{ext}",
            on_click="ignore",
            icon=":material/download:",
        )


def _deferred(table: pd.DataFrame, ext: str, **kw: Any) -> Callable[[], bytes]:
    return lambda: export_bytes(table, ext, **kw)


def number(n: float, decimals: int = 0) -> str:
    """``12,345`` or ``12.3``."""
    return f"{n:,.{decimals}f}"


def change_words(pct: float | None) -> str:
    """Say a fractional change in words: up 12%, down 3%, no change."""
    if pct is None or pd.isna(pct):
        return "no comparison available"
    if abs(pct) < 0.005:
        return "no change"
    return f"{'up' if pct > 0 else 'down'} {abs(pct):.0%}"
