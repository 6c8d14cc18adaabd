"""The shipped national ONS boundaries (England and Wales), read a part at a time.

``boundaries/data/national/`` holds GeoParquet files in EPSG:27700 (see its README and
``tools/build_national_boundaries.py``): 2021 and 2011 LSOAs, Dec 2023 wards, Dec 2024
districts, Dec 2023 community safety partnerships and police force areas.

The LSOA files are sorted by district and written in row groups of 400 rows, so
:func:`lsoa21_shapes` reads only the row groups of the districts asked for (pyarrow filters on
the row-group statistics) and decodes only the polygons it returns. Nothing is cached: the
national LSOAs are never held in memory, only the study area's.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import shapely

from boundaries.lookups import BNG, DATA

NATIONAL = DATA / "national"
LSOA21_FILE = NATIONAL / "lsoa21_dec2021_ew_bsc_bng.parquet"
LSOA11_FILE = NATIONAL / "lsoa11_dec2011_ew_bsc_bng.parquet"
WARDS_FILE = NATIONAL / "wards_dec2023_ew_bsc_bng.parquet"
DISTRICTS_FILE = NATIONAL / "lad_dec2024_ew_bgc_bng.parquet"
CSPS_FILE = NATIONAL / "csp_dec2023_ew_bgc_bng.parquet"
FORCES_FILE = NATIONAL / "pfa_dec2023_ew_bgc_bng.parquet"


def _read(path: Path, *, column: str | None = None, values: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Rows of a shipped GeoParquet whose ``column`` is in ``values`` (all rows when None)."""
    values = None if values is None else sorted({str(v) for v in values})
    if values is not None and not values:
        table = pq.read_schema(path).empty_table()
    elif values is None:
        table = pq.read_table(path)
    else:
        table = pq.read_table(path, filters=[(column, "in", values)])
        table = table.filter(pc.is_in(table[column], value_set=pc.cast(values, table[column].type)))
    geoms = shapely.from_wkb(table["geometry"].to_numpy(zero_copy_only=False))
    cols = {c: table[c].to_numpy(zero_copy_only=False) for c in table.column_names if c != "geometry"}
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=BNG)


def lsoa21_shapes(
    *, districts: Iterable[str] | None = None, codes: Iterable[str] | None = None
) -> gpd.GeoDataFrame:
    """2021 LSOA polygons (LSOA21CD, LAD24CD, geometry; EPSG:27700) of districts or codes.

    Parameters
    ----------
    districts
        2024 district codes: every LSOA of them (row groups of other districts are skipped).
    codes
        2021 LSOA codes (read with the same row-group skipping when ``districts`` is also given).

    Notes
    -----
    With neither, the whole of England and Wales is read (35,672 polygons): only the benchmark
    and the tests do that.
    """
    if districts is not None:
        out = _read(LSOA21_FILE, column="LAD24CD", values=districts)
        if codes is not None:
            out = out[out["LSOA21CD"].isin(set(codes))].reset_index(drop=True)
        return out
    return _read(LSOA21_FILE, column="LSOA21CD", values=codes)


def lsoa11_shapes(
    *, districts: Iterable[str] | None = None, codes: Iterable[str] | None = None
) -> gpd.GeoDataFrame:
    """2011 LSOA polygons (LSOA11CD, LAD22CD, geometry; EPSG:27700) of 2022 districts or codes."""
    if districts is not None:
        out = _read(LSOA11_FILE, column="LAD22CD", values=districts)
        return out if codes is None else out[out["LSOA11CD"].isin(set(codes))].reset_index(drop=True)
    return _read(LSOA11_FILE, column="LSOA11CD", values=codes)


def wards_2023(*, districts: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Official electoral ward shapes, Dec 2023 (WD23CD, WD23NM, LAD23CD), EPSG:27700.

    The product's ward level is the best fit of 2021 LSOAs to May 2024 wards
    (:data:`boundaries.lookups.VINTAGES`); these shapes are for reference and comparison.
    """
    return _read(WARDS_FILE, column="LAD23CD", values=districts)


def district_shapes() -> gpd.GeoDataFrame:
    """Local authority districts Dec 2024 (LAD24CD, LAD24NM), simplified to 20 m, EPSG:27700."""
    return _read(DISTRICTS_FILE)


def csp_shapes() -> gpd.GeoDataFrame:
    """Community safety partnerships Dec 2023 (CSP23CD, CSP23NM), simplified to 20 m, EPSG:27700."""
    return _read(CSPS_FILE)


def force_shapes() -> gpd.GeoDataFrame:
    """Police force areas Dec 2023 (PFA23CD, PFA23NM), simplified to 20 m, EPSG:27700."""
    return _read(FORCES_FILE)
