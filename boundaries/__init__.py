"""ONS geography for England and Wales: LSOAs, wards, districts, partnerships, forces, residents.

The package has one module per concern; everything below is importable from ``boundaries``.

* :mod:`boundaries.national`: the shipped national ONS boundaries (GeoParquet, EPSG:27700),
  read a district at a time;
* :mod:`boundaries.selection`: choosing the study area (partnerships, forces, districts, by
  name or code) and the default one, Staffordshire and Stoke-on-Trent;
* :mod:`boundaries.lookups`: lookups between levels and vintages, and :data:`VINTAGES`, the one
  place stating which vintage of each level is in use;
* :mod:`boundaries.population`: Census 2021 residents;
* :mod:`boundaries.uploads`: a user's own boundary and localities files;
* :mod:`boundaries.geography`: the :class:`Geography` the other modules build.

Everything is returned in EPSG:27700 (British National Grid).
"""

from __future__ import annotations

import geopandas as gpd

from boundaries.geography import (
    AREA_COLUMNS,
    LEVELS,
    ORIGIN_REPORTED,
    ORIGIN_STUDY,
    OUTLINE_APPROXIMATE,
    OUTLINE_BOUNDARY,
    OUTLINE_MIXED,
    Geography,
    default_localities,
    lsoa_layer,
    national_lsoas,
)
from boundaries.lookups import (
    BNG,
    DATA,
    LOOKUP_CED,
    LOOKUP_CSP,
    LOOKUP_LSOA11,
    LOOKUP_LSOA_WARD,
    VINTAGES,
    csp_lookup,
    district_forces,
    lsoa11_to_lsoa21,
    lsoa_ward_lookup,
    resolve_reported_lsoa,
    ward_to_ced,
)
from boundaries.national import district_shapes, wards_2023
from boundaries.population import POPULATION_FILE, population, residents
from boundaries.selection import (
    DEFAULT_DISTRICTS,
    DEFAULT_NAME,
    KINDS,
    LSOA_FILE,
    areas_of_kind,
    choose,
    default_geography,
    force_of,
    match_area,
    study_area,
)
from boundaries.uploads import (
    geography_from_lsoas,
    geography_to_bytes,
    read_boundary_file,
    read_localities_csv,
)

WARDS_2022_FILE = DATA / "wards_dec2022_staffs_stoke.geojson"


def wards_2022() -> gpd.GeoDataFrame:
    """Dec 2022 ward shapes of Staffordshire and Stoke-on-Trent (before the 2023 reviews)."""
    gdf = gpd.read_file(WARDS_2022_FILE, engine="pyogrio").to_crs(BNG)
    return gdf.rename(
        columns={
            "WD22CD": "ward_code",
            "WD22NM": "ward_name",
            "LAD21CD": "district_code",
            "LAD21NM": "district_name",
        }
    )


def districts(codes=None) -> gpd.GeoDataFrame:
    """Dec 2024 district shapes with their community safety partnership and police force area.

    Parameters
    ----------
    codes
        District codes to return; None: the default study area's nine districts.
    """
    gdf = district_shapes().rename(columns={"LAD24CD": "district_code", "LAD24NM": "district_name"})
    if codes is None:
        codes = sorted(DEFAULT_DISTRICTS)
    gdf = gdf[gdf["district_code"].isin(list(codes))].reset_index(drop=True)
    look = csp_lookup().drop_duplicates("ltla24_code").set_index("ltla24_code")
    for col, src in (
        ("csp_code", "csp24_code"),
        ("csp_name", "csp24_name"),
        ("force_code", "pfa24_code"),
        ("force_name", "pfa24_name"),
    ):
        gdf[col] = gdf["district_code"].map(look[src])
    return gdf[
        ["district_code", "district_name", "csp_code", "csp_name", "force_code", "force_name", "geometry"]
    ]


__all__ = [
    "AREA_COLUMNS",
    "BNG",
    "DATA",
    "DEFAULT_DISTRICTS",
    "DEFAULT_NAME",
    "KINDS",
    "LEVELS",
    "LOOKUP_CED",
    "LOOKUP_CSP",
    "LOOKUP_LSOA11",
    "LOOKUP_LSOA_WARD",
    "LSOA_FILE",
    "ORIGIN_REPORTED",
    "ORIGIN_STUDY",
    "OUTLINE_APPROXIMATE",
    "OUTLINE_BOUNDARY",
    "OUTLINE_MIXED",
    "POPULATION_FILE",
    "VINTAGES",
    "WARDS_2022_FILE",
    "Geography",
    "areas_of_kind",
    "choose",
    "csp_lookup",
    "default_geography",
    "default_localities",
    "district_forces",
    "districts",
    "force_of",
    "geography_from_lsoas",
    "geography_to_bytes",
    "lsoa11_to_lsoa21",
    "lsoa_layer",
    "lsoa_ward_lookup",
    "match_area",
    "national_lsoas",
    "population",
    "read_boundary_file",
    "read_localities_csv",
    "residents",
    "resolve_reported_lsoa",
    "study_area",
    "ward_to_ced",
    "wards_2022",
    "wards_2023",
]
