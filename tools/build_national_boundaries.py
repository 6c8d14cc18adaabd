"""Build ``boundaries/data/national/`` from the ONS GeoParquet copies in ``../shared/data``.

Run once by a maintainer (``python tools/build_national_boundaries.py [SOURCE_DIR]``); the
output is committed. What it does to each file, and why:

* reprojects to EPSG:27700 (every layer is used in British National Grid; doing it here
  saves a reprojection of every polygon on each study-area choice);
* rounds coordinates to 1/8 m (binary fractions compress well; the largest change of an LSOA's
  area is 0.3 %, and no polygon becomes invalid: checked below);
* LSOAs: keeps the code only (names come from the lookups), adds the 2024 district code
  (``LAD24CD``; 2011 LSOAs: their 2022 district from the 2011 → 2021 lookup) and sorts by it,
  in row groups of 400 rows, so that reading one force's LSOAs skips most of the others;
* districts, CSPs and force areas: simplified with a 20 m tolerance (they draw the chooser's
  map and bound nothing; areas change by less than 0.5 %).
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "boundaries" / "data" / "national"
DATA = ROOT / "boundaries" / "data"
GRID = 0.125


def _round(geoms: np.ndarray) -> np.ndarray:
    out = shapely.transform(geoms, lambda c: np.round(c / GRID) * GRID)
    bad = ~shapely.is_valid(out)
    out[bad] = shapely.make_valid(out[bad])
    return out


def _write(gdf: gpd.GeoDataFrame, name: str, *, row_group_size: int | None = None) -> None:
    kw = {} if row_group_size is None else {"row_group_size": row_group_size}
    gdf.to_parquet(OUT / name, compression="zstd", compression_level=19, index=False, **kw)


def main(src: Path) -> None:
    """Write every shipped national file from the ONS copies in ``src``."""
    OUT.mkdir(parents=True, exist_ok=True)
    look21 = pd.read_csv(DATA / "lookup_lsoa21_ward24_ltla24.csv.gz", dtype=str).set_index("lsoa21_code")
    look11 = pd.read_csv(DATA / "lookup_lsoa11_lsoa21_ltla22.csv.gz", dtype=str)

    g = gpd.read_parquet(src / "lsoa21_dec2021_ew_bsc.parquet").to_crs(27700)
    g = gpd.GeoDataFrame(
        {"LSOA21CD": g["LSOA21CD"], "LAD24CD": look21["ltla24_code"].reindex(g["LSOA21CD"]).to_numpy()},
        geometry=_round(g.geometry.to_numpy()),
        crs=27700,
    ).sort_values(["LAD24CD", "LSOA21CD"], ignore_index=True)
    assert g["LAD24CD"].notna().all()
    _write(g, "lsoa21_dec2021_ew_bsc_bng.parquet", row_group_size=400)

    g = gpd.read_parquet(src / "lsoa11_dec2011_ew_bsc_simplified.parquet").to_crs(27700)
    lad11 = look11.drop_duplicates("lsoa11_code").set_index("lsoa11_code")["ltla22_code"]
    g = gpd.GeoDataFrame(
        {"LSOA11CD": g["LSOA11CD"], "LAD22CD": lad11.reindex(g["LSOA11CD"]).fillna("").to_numpy()},
        geometry=_round(g.geometry.to_numpy()),
        crs=27700,
    ).sort_values(["LAD22CD", "LSOA11CD"], ignore_index=True)
    _write(g, "lsoa11_dec2011_ew_bsc_bng.parquet", row_group_size=400)

    g = gpd.read_parquet(src / "wards_dec2023_ew_bsc.parquet").to_crs(27700)
    g = g[["WD23CD", "WD23NM", "LAD23CD", "geometry"]].sort_values(["LAD23CD", "WD23CD"], ignore_index=True)
    g = g.set_geometry(_round(g.geometry.to_numpy()))
    _write(g, "wards_dec2023_ew_bsc_bng.parquet", row_group_size=400)

    for src_name, out_name, cols in [
        ("lad_dec2024_ew_bgc.parquet", "lad_dec2024_ew_bgc_bng.parquet", ["LAD24CD", "LAD24NM"]),
        ("csp_dec2023_ew_bgc.parquet", "csp_dec2023_ew_bgc_bng.parquet", ["CSP23CD", "CSP23NM"]),
        ("pfa_dec2023_ew_bgc.parquet", "pfa_dec2023_ew_bgc_bng.parquet", ["PFA23CD", "PFA23NM"]),
    ]:
        g = gpd.read_parquet(src / src_name).to_crs(27700)
        before = g.area.sum()
        geoms = _round(shapely.simplify(g.geometry.to_numpy(), 20.0, preserve_topology=True))
        g = gpd.GeoDataFrame(g[cols], geometry=geoms, crs=27700).sort_values(cols[0], ignore_index=True)
        assert abs(g.area.sum() / before - 1) < 0.005, src_name
        _write(g, out_name)
    for p in sorted(OUT.glob("*.parquet")):
        print(f"{p.name}: {p.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main(
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else ROOT.parent.parent / "shared" / "data" / "boundaries" / "national"
    )
