"""The :class:`Geography`: the area layers incidents are assigned to, all in EPSG:27700.

A geography is one LSOA layer (2021 LSOAs with their best-fit ward, district and Census 2021
residents: :func:`lsoa_layer`); wards, districts and localities are its LSOAs dissolved.
Its LSOAs come from the study-area choice (:mod:`boundaries.selection`), from a user's file
(:mod:`boundaries.uploads`) or, for another force's data placed by reported LSOA codes,
from the shipped national LSOAs (:meth:`Geography.with_reported_areas`): every area has its
exact ONS outline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from boundaries import national
from boundaries.lookups import BNG, district_forces, lsoa_lookup_indexed, lsoa_ward_lookup
from boundaries.population import residents
from hotspots._errors import InputError

LEVELS = ("lsoa", "ward", "district", "locality")
AREA_COLUMNS = ["area_code", "area_name", "level", "district_code", "district_name", "population", "outline"]

#: ``outline`` of an area drawn from a boundary (shipped ONS, national or a user's upload).
OUTLINE_BOUNDARY = "boundary"
#: ``outline`` of an area drawn from incident points. No longer made (every area has its ONS
#: outline since the national LSOAs ship); kept so that older code and stores can name it.
OUTLINE_APPROXIMATE = "approximate: convex hull of incident locations"
#: ``outline`` of a locality that mixes both kinds.
OUTLINE_MIXED = "partly approximate"

#: ``origin`` of an LSOA of the study area: its polygon places incidents (point-in-polygon).
ORIGIN_STUDY = "study area"
#: ``origin`` of an LSOA added for locations placed by their reported LSOA code: drawn and
#: counted, never used for point-in-polygon (see ``docs/areas.md``).
ORIGIN_REPORTED = "reported LSOA code"


def lsoa_layer(shapes: gpd.GeoDataFrame, code_col: str, *, origin: str = ORIGIN_STUDY) -> gpd.GeoDataFrame:
    """The LSOA layer of a :class:`Geography` from 2021 LSOA polygons.

    Parameters
    ----------
    shapes
        Polygons with a 2021 LSOA code column, in any stated CRS.
    code_col
        The column holding the codes.
    origin
        :data:`ORIGIN_STUDY` (places incidents) or :data:`ORIGIN_REPORTED`.

    Returns
    -------
    lsoa_code, lsoa_name, ward_code, ward_name, district_code, district_name, population,
    outline, origin, geometry; names, best-fit May 2024 wards and 2024 districts from the ONS
    lookup, residents from Census 2021.

    Raises
    ------
    InputError
        If a code is not a 2021 LSOA of England and Wales.
    """
    look = lsoa_lookup_indexed()
    codes = pd.Index(shapes[code_col].astype(str).to_numpy(dtype=object), dtype=object)
    pos = look.index.get_indexer(codes)
    if (pos < 0).any():
        unknown = sorted(set(codes[pos < 0]))
        raise InputError(
            f"{len(unknown)} LSOA codes are not 2021 LSOAs of England and Wales "
            f"(first: {unknown[0]}); the boundary file must hold 2021 LSOAs"
        )
    lk = look.iloc[pos]
    return gpd.GeoDataFrame(
        {
            "lsoa_code": codes.to_numpy(),
            "lsoa_name": lk["lsoa21_name"].to_numpy(),
            "ward_code": lk["ward24_code"].to_numpy(),
            "ward_name": lk["ward24_name"].to_numpy(),
            "district_code": lk["ltla24_code"].to_numpy(),
            "district_name": lk["ltla24_name"].to_numpy(),
            "population": residents(codes).to_numpy(),
            "outline": OUTLINE_BOUNDARY,
            "origin": origin,
        },
        geometry=shapes.geometry.to_numpy(),
        crs=shapes.crs,
    ).to_crs(BNG)


def national_lsoas(districts: Iterable[str], *, origin: str = ORIGIN_STUDY) -> gpd.GeoDataFrame:
    """The LSOA layer of whole 2024 districts, with exact outlines from the shipped national file.

    Reads only those districts' row groups (:func:`boundaries.national.lsoa21_shapes`).
    """
    shapes = national.lsoa21_shapes(districts=list(districts))
    return lsoa_layer(shapes.sort_values("LSOA21CD", ignore_index=True), "LSOA21CD", origin=origin)


def default_localities(lsoas: pd.DataFrame) -> pd.DataFrame:
    """Each ward's locality is its district (the partnership area)."""
    wards = lsoas.drop_duplicates("ward_code")
    return pd.DataFrame(
        {"ward_code": wards["ward_code"].to_numpy(), "locality": wards["district_name"].to_numpy()}
    )


@dataclass
class Geography:
    """The area layers incidents are assigned to, all in EPSG:27700.

    Attributes
    ----------
    lsoas
        One row per 2021 LSOA: lsoa_code, lsoa_name, ward_code, ward_name, district_code,
        district_name, population, outline, origin, geometry. ``outline`` is
        :data:`OUTLINE_BOUNDARY` (added when missing); ``origin`` is :data:`ORIGIN_STUDY` for
        the study area's LSOAs (added when missing) and :data:`ORIGIN_REPORTED` for those of
        force areas known from reported LSOA codes.
    localities
        ward_code → locality; by default each ward's district name.
    name
        A label for the study area (with the force areas added from reported codes, if any).
    study_name
        The label of the study area alone (default: ``name``).
    """

    lsoas: gpd.GeoDataFrame
    localities: pd.DataFrame = field(default_factory=pd.DataFrame)
    name: str = "Staffordshire and Stoke-on-Trent"
    study_name: str = ""

    def __post_init__(self) -> None:
        self.study_name = self.study_name or self.name
        if "outline" not in self.lsoas.columns:
            self.lsoas = self.lsoas.assign(outline=OUTLINE_BOUNDARY)
        if "origin" not in self.lsoas.columns:
            self.lsoas = self.lsoas.assign(origin=ORIGIN_STUDY)
        if self.localities is None or self.localities.empty:
            self.localities = default_localities(self.lsoas)
        self._cache: dict[str, gpd.GeoDataFrame] = {}

    @property
    def study_area(self) -> gpd.GeoSeries:
        """The union of all LSOAs (those added from reported codes included), one polygon (EPSG:27700)."""
        if "_study" not in self._cache:
            self._cache["_study"] = gpd.GeoDataFrame(
                geometry=[self.lsoas.geometry.union_all()], crs=self.lsoas.crs
            )
        return self._cache["_study"].geometry

    @property
    def boundary_lsoas(self) -> gpd.GeoDataFrame:
        """The study area's LSOAs: the only ones used for point-in-polygon."""
        if "_boundary" not in self._cache:
            keep = (self.lsoas["outline"] == OUTLINE_BOUNDARY) & (self.lsoas["origin"] == ORIGIN_STUDY)
            self._cache["_boundary"] = self.lsoas[keep]
        return self._cache["_boundary"]

    @property
    def has_approximate(self) -> bool:
        """True when some areas have approximate outlines (only geographies from older stores)."""
        return bool((self.lsoas["outline"] != OUTLINE_BOUNDARY).any())

    @property
    def has_reported(self) -> bool:
        """True when some areas were added for locations placed by reported LSOA codes."""
        return bool((self.lsoas["origin"] != ORIGIN_STUDY).any())

    def forces_reached(self) -> set[str]:
        """Police force area codes (E23…, W15…) holding at least one LSOA of the study area."""
        forces = district_forces()["pfa24_code"]
        return set(forces.reindex(self.boundary_lsoas["district_code"].unique()).dropna())

    def with_reported_areas(self, points: pd.DataFrame) -> Geography:
        """Add the areas of police force areas known only from reported LSOA codes.

        Parameters
        ----------
        points
            Locations placed by their reported LSOA code: ``lsoa_code`` (2021).

        Returns
        -------
        A new geography holding, besides this one's LSOAs, every 2021 LSOA of each police
        force area that ``points`` fall in and that the study area does not reach, with their
        exact outlines from the shipped national LSOAs, names, wards, districts and Census
        2021 residents, and ``origin`` :data:`ORIGIN_REPORTED` (drawn and counted, never used
        for point-in-polygon). Whole force areas are added so that ward and district residents
        are complete. This geography is returned unchanged when there is nothing to add.
        """
        if points is None or points.empty:
            return self
        look = lsoa_ward_lookup().set_index("lsoa21_code")
        forces = district_forces()["pfa24_code"]
        district = look["ltla24_code"].reindex(points["lsoa_code"].astype(str)).dropna()
        wanted = set(forces.reindex(district.unique()).dropna()) - self.forces_reached()
        if not wanted:
            return self
        extra = national_lsoas(forces.index[forces.isin(wanted)], origin=ORIGIN_REPORTED)
        extra = extra[~extra["lsoa_code"].isin(self.lsoas["lsoa_code"])]
        if extra.empty:
            return self
        lsoas = gpd.GeoDataFrame(
            pd.concat([self.lsoas, extra.to_crs(self.lsoas.crs)], ignore_index=True),
            geometry="geometry",
            crs=self.lsoas.crs,
        )
        names = district_forces().drop_duplicates("pfa24_code").set_index("pfa24_code")["pfa24_name"]
        added = ", ".join(sorted(names.reindex(sorted(wanted)).astype(str)))
        return Geography(
            lsoas=lsoas, localities=self.localities, name=f"{self.name} + {added}", study_name=self.study_name
        )

    def ward_localities(self) -> pd.Series:
        """Locality name for each ward code (wards missing from the CSV fall back to district)."""
        wards = self.lsoas.drop_duplicates("ward_code").set_index("ward_code")["district_name"]
        given = self.localities.set_index("ward_code")["locality"]
        return given.reindex(wards.index).fillna(wards)

    def areas(self, level: str) -> gpd.GeoDataFrame:
        """Return the areas at ``level`` with :data:`AREA_COLUMNS` and geometry.

        Raises
        ------
        InputError
            If ``level`` is not one of ``lsoa``, ``ward``, ``district``, ``locality``.
        """
        if level not in LEVELS:
            raise InputError(f"`level` must be one of {', '.join(LEVELS)}; got {level!r}")
        if level in self._cache:
            return self._cache[level]
        lsoas = self.lsoas.copy()
        lsoas["locality"] = lsoas["ward_code"].map(self.ward_localities())
        key, name = {
            "lsoa": ("lsoa_code", "lsoa_name"),
            "ward": ("ward_code", "ward_name"),
            "district": ("district_code", "district_name"),
            "locality": ("locality", "locality"),
        }[level]
        groups = lsoas.groupby(key, sort=True)
        first = groups[list(dict.fromkeys([name, "district_code", "district_name"]))].first()
        approx = (lsoas["outline"] != OUTLINE_BOUNDARY).groupby(lsoas[key]).mean().reindex(first.index)
        outline = np.where(
            approx == 0, OUTLINE_BOUNDARY, np.where(approx == 1, OUTLINE_APPROXIMATE, OUTLINE_MIXED)
        )
        if level == "locality":
            # a locality may span districts: name the districts it touches
            first["district_code"] = groups["district_code"].agg(lambda s: ";".join(sorted(set(s))))
            first["district_name"] = groups["district_name"].agg(lambda s: "; ".join(sorted(set(s))))
        if level == "lsoa":
            geometry = lsoas.set_index(key).geometry.reindex(first.index).to_numpy()
        else:
            geometry = lsoas.dissolve(by=key).geometry.reindex(first.index).to_numpy()
        out = gpd.GeoDataFrame(
            {
                "area_code": first.index.astype(str).to_numpy(),
                "area_name": first[name].astype(str).to_numpy(),
                "level": level,
                "district_code": first["district_code"].to_numpy(),
                "district_name": first["district_name"].to_numpy(),
                "population": groups["population"].sum().reindex(first.index).astype("int64").to_numpy(),
                "outline": outline,
            },
            geometry=geometry,
            crs=BNG,
        )
        self._cache[level] = out
        return out
