"""Exports people can use: CSV, Excel, GeoJSON (EPSG:4326) and GeoPackage (EPSG:27700).

Every export carries the filter and the method parameters that produced it, and the data
attribution: as columns ``filter`` and ``parameters`` (JSON text) in CSV and GeoJSON, and as
an ``about`` sheet / table in Excel and GeoPackage.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspots import ATTRIBUTION, __version__
from hotspots._errors import InputError
from hotspots.filters import Filter

FORMATS = (".csv", ".xlsx", ".geojson", ".gpkg")


def about_table(*, params: dict[str, Any] | None, filt: Filter | None, title: str = "") -> pd.DataFrame:
    """The metadata rows written beside every export (key, value)."""
    rows = [
        ("title", title),
        ("generated", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("software", f"hotspots {__version__}"),
        ("filter", filt.describe() if filt else "all incidents"),
        ("filter_json", filt.to_json() if filt else "{}"),
    ]
    for k, v in (params or {}).items():
        rows.append((f"parameter: {k}", v if isinstance(v, str) else json.dumps(v, default=str)))
    rows.append(("attribution", ATTRIBUTION))
    return pd.DataFrame(rows, columns=["key", "value"])


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Drop geometry and turn list/dict/categorical cells into plain text for tabular formats."""
    out = pd.DataFrame(
        df.drop(columns=[c for c in df.columns if isinstance(df[c].dtype, gpd.array.GeometryDtype)])
    )
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(object)
        if out[c].dtype == object and out[c].map(lambda v: isinstance(v, (list, dict, tuple))).any():
            out[c] = out[c].map(
                lambda v: json.dumps(v, default=str) if isinstance(v, (list, dict, tuple)) else v
            )
        if pd.api.types.is_datetime64_any_dtype(out[c]) and getattr(out[c].dt, "tz", None) is not None:
            out[c] = out[c].dt.tz_localize(None)
    return out


def export_table(
    table: pd.DataFrame,
    path: Path | str,
    *,
    params: dict[str, Any] | None = None,
    filt: Filter | None = None,
    sheets: dict[str, pd.DataFrame] | None = None,
    title: str = "",
    layer: str = "hotspots",
) -> Path:
    """Write a result table to ``path``; the format follows the file extension.

    Parameters
    ----------
    table
        The result; a GeoDataFrame (EPSG:27700) for the spatial formats.
    path
        Output file ending in ``.csv``, ``.xlsx``, ``.geojson`` or ``.gpkg``.
    params
        Method parameters to record with the result.
    filt
        The filter that selected the incidents.
    sheets
        Extra tables: Excel sheets or GeoPackage attribute tables.
    title
        A short description written into the metadata.
    layer
        Layer name in a GeoPackage.

    Returns
    -------
    The path written.

    Raises
    ------
    InputError
        If the extension is not supported, or a spatial format is asked of a table without
        geometry, or the table's CRS is not EPSG:27700.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in FORMATS:
        raise InputError(f"cannot write {path.name}: the output must end in {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    about = about_table(params=params, filt=filt, title=title)
    if ext == ".csv":
        out = _plain(table)
        out["filter"] = filt.to_json() if filt else "{}"
        out["parameters"] = json.dumps(params or {}, default=str)
        out.to_csv(path, index=False)
    elif ext == ".xlsx":
        with pd.ExcelWriter(path, engine="openpyxl") as xw:
            _plain(table).to_excel(xw, sheet_name=(layer[:31] or "table"), index=False)
            for name, df in (sheets or {}).items():
                _plain(df).to_excel(xw, sheet_name=name[:31], index=False)
            about.to_excel(xw, sheet_name="about", index=False)
    else:
        if not isinstance(table, gpd.GeoDataFrame) or table.geometry.name not in table:
            raise InputError(f"cannot write {path.name}: this result has no geometry; write .csv or .xlsx")
        if table.crs is None or table.crs.to_epsg() != 27700:
            raise InputError(f"cannot write {path.name}: the result must be in EPSG:27700, got {table.crs}")
        gdf = gpd.GeoDataFrame(_plain(table), geometry=table.geometry.to_numpy(), crs=table.crs)
        if ext == ".geojson":
            gdf["filter"] = filt.to_json() if filt else "{}"
            gdf["parameters"] = json.dumps(params or {}, default=str)
            path.unlink(missing_ok=True)
            gdf.to_crs(4326).to_file(path, driver="GeoJSON", engine="pyogrio")
        else:
            path.unlink(missing_ok=True)
            gdf.to_file(path, driver="GPKG", layer=layer, engine="pyogrio")
            import pyogrio

            pyogrio.write_dataframe(about, path, layer="about", driver="GPKG", append=False)
            for name, df in (sheets or {}).items():
                pyogrio.write_dataframe(_plain(df), path, layer=name, driver="GPKG")
    return path
