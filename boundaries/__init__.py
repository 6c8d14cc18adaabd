"""ONS geography for the partnership areas: LSOAs, wards, districts, localities and residents.

Shipped data (``boundaries/data``, see its README): 2021 LSOAs for Staffordshire and
Stoke-on-Trent tagged with their best-fit May 2024 ward and district, Dec 2022 ward shapes,
Dec 2024 districts, Census 2021 usual residents and ONS lookups. Everything is returned in
EPSG:27700 (British National Grid).

A :class:`Geography` bundles the area layers used to assign incidents to places. The default
is built from the shipped LSOAs; :func:`geography_from_lsoas` builds one for any area of
England and Wales from a user's 2021 LSOA boundary file.

Areas known only from the national lookups (another force's data, placed by its reported LSOA
codes; see ``docs/areas.md``) join a geography through :meth:`Geography.with_reported_areas`
with names and Census 2021 residents from the national files and an *approximate* outline
(the buffered convex hull of the incident locations in each LSOA), marked in the ``outline``
column. Only rows whose ``outline`` is :data:`OUTLINE_BOUNDARY` are used for point-in-polygon.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots._errors import InputError

DATA = Path(__file__).parent / "data"
BNG = 27700
LEVELS = ("lsoa", "ward", "district", "locality")

LSOA_FILE = DATA / "lsoa21_staffs_stoke_with_ward24.geojson"
WARDS_2022_FILE = DATA / "wards_dec2022_staffs_stoke.geojson"
DISTRICTS_FILE = DATA / "districts_dec2024_staffs_stoke.geojson"
POPULATION_FILE = DATA / "census2021_ts021_lsoa21_total_usual_residents.csv.gz"
LOOKUP_LSOA_WARD = DATA / "lookup_lsoa21_ward24_ltla24.csv.gz"
LOOKUP_LSOA11 = DATA / "lookup_lsoa11_lsoa21_ltla22.csv.gz"
LOOKUP_CSP = DATA / "lookup_ltla24_csp24_pfa24.csv"
LOOKUP_CED = DATA / "lookup_ward19_county_electoral_division19.csv.gz"

AREA_COLUMNS = ["area_code", "area_name", "level", "district_code", "district_name", "population", "outline"]

#: ``outline`` of an area drawn from a boundary file (shipped ONS or a user's upload).
OUTLINE_BOUNDARY = "boundary"
#: Buffer (metres) around the incident locations of an area known only from the lookups.
APPROX_BUFFER_M = 150.0
#: ``outline`` of an area known only from the lookups: its shape is made from its incidents.
OUTLINE_APPROXIMATE = f"approximate: convex hull of incident locations buffered by {APPROX_BUFFER_M:.0f} m"
#: ``outline`` of a locality that mixes both kinds.
OUTLINE_MIXED = "partly approximate"


@lru_cache(maxsize=1)
def population() -> pd.Series:
    """Census 2021 usual residents, indexed by 2021 LSOA code (England and Wales)."""
    df = pd.read_csv(POPULATION_FILE, dtype={"lsoa21_code": str, "total_residents": "int64"})
    return df.set_index("lsoa21_code")["total_residents"]


@lru_cache(maxsize=1)
def lsoa_ward_lookup() -> pd.DataFrame:
    """LSOA 2021 → best-fit ward May 2024 → district 2024, England and Wales."""
    return pd.read_csv(LOOKUP_LSOA_WARD, dtype=str)


@lru_cache(maxsize=1)
def lsoa11_to_lsoa21() -> pd.DataFrame:
    """2011 LSOA → 2021 LSOA with the ONS change code (U, S, M, X)."""
    return pd.read_csv(LOOKUP_LSOA11, dtype=str)


@lru_cache(maxsize=1)
def csp_lookup() -> pd.DataFrame:
    """District 2024 → community safety partnership → police force area."""
    return pd.read_csv(LOOKUP_CSP, dtype=str)


@lru_cache(maxsize=1)
def district_forces() -> pd.DataFrame:
    """District 2024 → police force area, one row per district (index ``ltla24_code``).

    Columns: ltla24_name, pfa24_code, pfa24_name. Police force areas are whole districts.
    """
    return (
        csp_lookup()
        .drop_duplicates("ltla24_code")
        .set_index("ltla24_code")[["ltla24_name", "pfa24_code", "pfa24_name"]]
    )


@lru_cache(maxsize=1)
def _lsoa11_summary() -> pd.DataFrame:
    """Per 2011 LSOA: how many 2021 LSOAs (n), the first one, and the change code."""
    return (
        lsoa11_to_lsoa21()
        .groupby("lsoa11_code")
        .agg(n=("lsoa21_code", "nunique"), first=("lsoa21_code", "first"), change=("change_code", "first"))
    )


@lru_cache(maxsize=1)
def _lsoa21_district() -> pd.Series:
    return lsoa_ward_lookup().set_index("lsoa21_code")["ltla24_code"]


def resolve_reported_lsoa(codes) -> pd.DataFrame:
    """Resolve reported LSOA codes (2011 or 2021) to one 2021 LSOA each, or say why not.

    Parameters
    ----------
    codes
        LSOA codes as police.uk reports them (2011 codes before 2023, 2021 codes after).

    Returns
    -------
    One row per distinct non-blank code (index ``code``) with ``lsoa21_code`` (None when it
    cannot be resolved), ``vintage`` (``2021``, ``2011`` or None), ``change`` (the ONS change
    code of a 2011 code: U, M, S or X), ``reason`` (None when resolved; else ``kind: detail``)
    and ``district_code`` (2024; for an unresolved 2011 code, that of its first 2021 LSOA).

    Notes
    -----
    A code that is a 2021 LSOA is taken as one: every 2011 code still in use in 2021 is an
    unchanged LSOA (change code U), so the code alone tells the vintage. A 2011 code maps
    through the ONS 2011 → 2021 lookup: unchanged (U) and merged (M) LSOAs have one 2021 LSOA;
    a split (S) or an irregular change (X) does not say which 2021 LSOA the place is in.
    """
    uniq = pd.Index(pd.Series(codes, dtype=object).dropna().astype(str).str.strip().unique(), name="code")
    uniq = uniq[uniq != ""]
    out = pd.DataFrame(index=uniq, columns=["lsoa21_code", "vintage", "change", "reason"], dtype=object)
    is21 = population().index.get_indexer(uniq) >= 0
    out.loc[is21, "lsoa21_code"] = uniq[is21]
    out.loc[is21, "vintage"] = "2021"
    rest = uniq[~is21]
    g = _lsoa11_summary().reindex(rest)
    known = g["n"].notna().to_numpy()
    out.loc[rest[known], "vintage"] = "2011"
    out.loc[rest, "change"] = g["change"].to_numpy()
    unique = known & (g["change"] != "X").to_numpy() & (g["n"] == 1).to_numpy()
    out.loc[rest[unique], "lsoa21_code"] = g["first"].to_numpy()[unique]
    n_children = g["n"].fillna(0).astype(int).astype(str).to_numpy()
    reason = np.select(
        [~known, (g["change"] == "X").to_numpy(), known & ~unique],
        [
            "not a 2011 or 2021 LSOA code: " + rest,
            "2011 LSOA changed irregularly in 2021, ambiguous (ONS change X): " + rest,
            "2011 LSOA split in 2021, ambiguous (ONS change S): " + rest + " → " + n_children + " 2021 LSOAs",
        ],
        default=None,
    )
    out.loc[rest, "reason"] = reason
    # the district holds every 2021 LSOA a 2011 code went to, except after an X change
    child = pd.Series(g["first"].to_numpy(), index=rest).where(known)
    district = _lsoa21_district()
    out["district_code"] = district.reindex(out["lsoa21_code"].fillna(child.reindex(out.index))).to_numpy()
    out = out.astype(object).where(out.notna(), None)
    return out


def ward_to_ced() -> pd.DataFrame:
    """Ward (May 2019) → county electoral division (May 2019), with names.

    Columns: ward_code, ward_name, district_code, county_code, county_name, ced_code, ced_name.
    """
    df = pd.read_csv(LOOKUP_CED, dtype=str)
    return df.rename(
        columns={
            "WD19CD": "ward_code",
            "WD19NM": "ward_name",
            "LAD19CD": "district_code",
            "CTY19CD": "county_code",
            "CTY19NM": "county_name",
            "CED19CD": "ced_code",
            "CED19NM": "ced_name",
        }
    )[["ward_code", "ward_name", "district_code", "county_code", "county_name", "ced_code", "ced_name"]]


def _read_vector(path: Path | str, *, name: str) -> gpd.GeoDataFrame:
    """Read a GeoJSON, GeoPackage or zipped Shapefile and return it in EPSG:27700.

    Raises
    ------
    InputError
        If the file cannot be read, has no features, or states no CRS.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{name} file not found: {path}")
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".zip" else path.suffix.lower()
    if suffix not in (".geojson", ".json", ".gpkg", ".zip", ".shp.zip"):
        raise InputError(
            f"{path.name}: boundary files must be GeoJSON (.geojson), GeoPackage (.gpkg) or a "
            f"zipped Shapefile (.zip); got '{path.suffix}'"
        )
    target: str | Path = path
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as zf:
            shp = [n for n in zf.namelist() if n.lower().endswith(".shp")]
        if not shp:
            raise InputError(
                f"{path.name}: the zip holds no .shp file; zip the .shp, .shx, .dbf and .prj together"
            )
        target = f"/vsizip/{path}/{shp[0]}"
    try:
        gdf = gpd.read_file(target, engine="pyogrio")
    except Exception as exc:
        raise InputError(f"{path.name}: could not be read as a boundary file ({exc})") from exc
    if gdf.empty:
        raise InputError(f"{path.name}: has no features")
    if gdf.crs is None:
        raise InputError(
            f"{path.name}: states no CRS; save it with its coordinate reference system "
            "(for a Shapefile include the .prj file)"
        )
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    return gdf.to_crs(BNG)


def read_boundary_file(
    path: Path | str, *, code_field: str | None = None, name_field: str | None = None
) -> gpd.GeoDataFrame:
    """Read a user's boundary file into ``area_code``, ``area_name``, ``geometry`` (EPSG:27700).

    Parameters
    ----------
    path
        GeoJSON, GeoPackage or zipped Shapefile, in any stated CRS.
    code_field, name_field
        Attribute columns holding each area's code and name. When omitted, the first column
        ending in ``CD`` (ONS style) or named ``code``/``id`` is used for the code and the first
        ending in ``NM`` or named ``name`` for the name.

    Raises
    ------
    InputError
        If the file cannot be read, has no CRS, or the code or name column cannot be found.
    """
    gdf = _read_vector(path, name="boundary")
    cols = [c for c in gdf.columns if c != gdf.geometry.name]

    def pick(given: str | None, suffix: str, names: tuple[str, ...], what: str) -> str:
        if given is not None:
            if given not in cols:
                raise InputError(
                    f"{Path(path).name}: has no column {given!r} for the {what}; columns: {', '.join(cols)}"
                )
            return given
        for c in cols:
            if c.upper().endswith(suffix) or c.lower() in names:
                return c
        raise InputError(
            f"{Path(path).name}: cannot tell which column holds the area {what}; "
            f"name it with --{what}-field (columns: {', '.join(cols)})"
        )

    code = pick(code_field, "CD", ("code", "id", "area_code"), "code")
    name = pick(name_field, "NM", ("name", "area_name"), "name")
    out = gpd.GeoDataFrame(
        {"area_code": gdf[code].astype(str), "area_name": gdf[name].astype(str)},
        geometry=gdf.geometry.values,
        crs=gdf.crs,
    )
    return out.dissolve(by=["area_code", "area_name"], as_index=False)


def read_localities_csv(path: Path | str) -> pd.DataFrame:
    """Read a two-column localities CSV (ward code → locality name).

    The first column must hold ward codes and the second locality names; a header row is
    expected (any names).

    Raises
    ------
    InputError
        If the file does not have two columns or has blank or repeated ward codes.
    """
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as exc:
        raise InputError(f"{path.name}: could not be read as CSV ({exc})") from exc
    if df.shape[1] != 2:
        raise InputError(
            f"{path.name}: a localities file needs exactly two columns (ward code, locality name); "
            f"found {df.shape[1]}: {', '.join(df.columns)}"
        )
    df.columns = ["ward_code", "locality"]
    df["ward_code"] = df["ward_code"].str.strip()
    df["locality"] = df["locality"].str.strip()
    blank = df.index[(df["ward_code"] == "") | (df["locality"] == "")]
    if len(blank):
        raise InputError("a ward code or locality name is blank", file=path.name, line=int(blank[0]) + 2)
    dup = df.index[df["ward_code"].duplicated()]
    if len(dup):
        raise InputError(
            f"ward {df.loc[dup[0], 'ward_code']} is listed twice; each ward belongs to one locality",
            file=path.name,
            line=int(dup[0]) + 2,
        )
    return df


@dataclass
class Geography:
    """The area layers incidents are assigned to, all in EPSG:27700.

    Attributes
    ----------
    lsoas
        One row per 2021 LSOA: lsoa_code, lsoa_name, ward_code, ward_name, district_code,
        district_name, population, outline, geometry. ``outline`` is :data:`OUTLINE_BOUNDARY`
        for areas from a boundary file (added when missing) and :data:`OUTLINE_APPROXIMATE` for
        areas known only from the lookups (their geometry may be missing: no located incident).
    localities
        ward_code → locality; by default each ward's district name.
    name
        A label for the study area.
    """

    lsoas: gpd.GeoDataFrame
    localities: pd.DataFrame = field(default_factory=pd.DataFrame)
    name: str = "Staffordshire and Stoke-on-Trent"

    def __post_init__(self) -> None:
        if "outline" not in self.lsoas.columns:
            self.lsoas = self.lsoas.assign(outline=OUTLINE_BOUNDARY)
        if self.localities is None or self.localities.empty:
            self.localities = default_localities(self.lsoas)
        self._cache: dict[str, gpd.GeoDataFrame] = {}

    @property
    def study_area(self) -> gpd.GeoSeries:
        """The union of all LSOAs (approximate outlines included), one polygon (EPSG:27700)."""
        if "_study" not in self._cache:
            self._cache["_study"] = gpd.GeoDataFrame(
                geometry=[self.lsoas.geometry.union_all()], crs=self.lsoas.crs
            )
        return self._cache["_study"].geometry

    @property
    def boundary_lsoas(self) -> gpd.GeoDataFrame:
        """The LSOAs with a real boundary (the only ones used for point-in-polygon)."""
        if "_boundary" not in self._cache:
            self._cache["_boundary"] = self.lsoas[self.lsoas["outline"] == OUTLINE_BOUNDARY]
        return self._cache["_boundary"]

    @property
    def has_approximate(self) -> bool:
        """True when some areas are known only from the lookups (approximate outlines)."""
        return bool((self.lsoas["outline"] != OUTLINE_BOUNDARY).any())

    def forces_reached(self) -> set[str]:
        """Police force area codes (E23…) holding at least one LSOA with a real boundary."""
        forces = district_forces()["pfa24_code"]
        return set(forces.reindex(self.boundary_lsoas["district_code"].unique()).dropna())

    def with_reported_areas(self, points: pd.DataFrame, *, buffer_m: float = APPROX_BUFFER_M) -> Geography:
        """Add the areas of police force areas known only from reported LSOA codes.

        Parameters
        ----------
        points
            Locations placed by their reported LSOA code: ``lsoa_code`` (2021) and ``x``, ``y``
            (EPSG:27700).
        buffer_m
            Buffer around each LSOA's convex hull of locations, in metres.

        Returns
        -------
        A new geography holding, besides this one's LSOAs, every 2021 LSOA of each police
        force area that ``points`` fall in and that this geography's boundaries do not reach,
        with names, wards, districts and Census 2021 residents from the national files and the
        outline :data:`OUTLINE_APPROXIMATE` (None for an LSOA with no location). Whole force
        areas are added so that ward and district residents are complete. This geography is
        returned unchanged when there is nothing to add.
        """
        if points is None or points.empty:
            return self
        look = lsoa_ward_lookup().set_index("lsoa21_code")
        forces = district_forces()["pfa24_code"]
        district = look["ltla24_code"].reindex(points["lsoa_code"].astype(str)).dropna()
        wanted = set(forces.reindex(district.unique()).dropna()) - self.forces_reached()
        if not wanted:
            return self
        districts = forces.index[forces.isin(wanted)]
        extra = approximate_lsoas(points, districts=districts, buffer_m=buffer_m)
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
            lsoas=lsoas,
            localities=self.localities,
            name=f"{self.name} + {added} (approximate outlines)",
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


def default_localities(lsoas: pd.DataFrame) -> pd.DataFrame:
    """Each ward's locality is its district (the partnership area)."""
    wards = lsoas.drop_duplicates("ward_code")
    return pd.DataFrame(
        {"ward_code": wards["ward_code"].to_numpy(), "locality": wards["district_name"].to_numpy()}
    )


def approximate_lsoas(
    points: pd.DataFrame, *, districts, buffer_m: float = APPROX_BUFFER_M
) -> gpd.GeoDataFrame:
    """Every 2021 LSOA of ``districts`` with an outline made from the points that lie in it.

    Parameters
    ----------
    points
        ``lsoa_code`` (2021), ``x``, ``y`` (EPSG:27700) of located incidents or locations.
    districts
        District 2024 codes whose LSOAs to return (all of them, with or without points).
    buffer_m
        Buffer around the convex hull of each LSOA's points, in metres (a lone point becomes a
        circle of this radius).

    Returns
    -------
    The LSOA layer columns of :class:`Geography` with ``outline`` :data:`OUTLINE_APPROXIMATE`;
    ``geometry`` is None for an LSOA with no point.

    Raises
    ------
    InputError
        If ``buffer_m`` is not a positive number.
    """
    if not (isinstance(buffer_m, (int, float)) and buffer_m > 0):
        raise InputError(f"`buffer_m` must be a positive number of metres; got {buffer_m!r}")
    look = lsoa_ward_lookup()
    look = look[look["ltla24_code"].isin(list(districts))].sort_values("lsoa21_code")
    pts = points[points["lsoa_code"].isin(look["lsoa21_code"])]
    codes, idx = np.unique(pts["lsoa_code"].astype(str).to_numpy(), return_inverse=True)
    geoms = pd.Series([None] * len(look), index=look["lsoa21_code"].to_numpy(), dtype=object)
    if len(codes):
        order = np.argsort(idx, kind="stable")
        xy = np.column_stack([pts["x"].to_numpy(float), pts["y"].to_numpy(float)])[order]
        hulls = shapely.convex_hull(shapely.multipoints(shapely.points(xy), indices=idx[order]))
        geoms[codes] = shapely.buffer(hulls, buffer_m)
    pop = population().reindex(look["lsoa21_code"]).fillna(0).astype("int64")
    return gpd.GeoDataFrame(
        {
            "lsoa_code": look["lsoa21_code"].to_numpy(),
            "lsoa_name": look["lsoa21_name"].to_numpy(),
            "ward_code": look["ward24_code"].to_numpy(),
            "ward_name": look["ward24_name"].to_numpy(),
            "district_code": look["ltla24_code"].to_numpy(),
            "district_name": look["ltla24_name"].to_numpy(),
            "population": pop.to_numpy(),
            "outline": OUTLINE_APPROXIMATE,
        },
        geometry=gpd.GeoSeries(geoms.to_numpy(), crs=BNG).to_numpy(),
        crs=BNG,
    )


def _lsoas_from_frame(gdf: gpd.GeoDataFrame, code_col: str) -> gpd.GeoDataFrame:
    look = lsoa_ward_lookup().set_index("lsoa21_code")
    codes = gdf[code_col].astype(str)
    unknown = sorted(set(codes) - set(look.index))
    if unknown:
        raise InputError(
            f"{len(unknown)} LSOA codes are not 2021 LSOAs of England and Wales "
            f"(first: {unknown[0]}); the boundary file must hold 2021 LSOAs"
        )
    lk = look.loc[codes]
    pop = population().reindex(codes).fillna(0).astype("int64")
    return gpd.GeoDataFrame(
        {
            "lsoa_code": codes.to_numpy(),
            "lsoa_name": lk["lsoa21_name"].to_numpy(),
            "ward_code": lk["ward24_code"].to_numpy(),
            "ward_name": lk["ward24_name"].to_numpy(),
            "district_code": lk["ltla24_code"].to_numpy(),
            "district_name": lk["ltla24_name"].to_numpy(),
            "population": pop.to_numpy(),
            "outline": OUTLINE_BOUNDARY,
        },
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
    )


@lru_cache(maxsize=1)
def _default_lsoas() -> gpd.GeoDataFrame:
    gdf = gpd.read_file(LSOA_FILE, engine="pyogrio").to_crs(BNG)
    return _lsoas_from_frame(gdf, "LSOA21CD")


def default_geography() -> Geography:
    """The shipped geography: Staffordshire's eight districts and Stoke-on-Trent."""
    return Geography(lsoas=_default_lsoas().copy())


def geography_from_lsoas(
    path: Path | str, *, code_field: str | None = None, name: str | None = None
) -> Geography:
    """Build a :class:`Geography` from a user's 2021 LSOA boundary file.

    Wards, districts and residents come from the shipped ONS lookups and Census 2021, so any
    area of England and Wales can be used.

    Raises
    ------
    InputError
        If the file cannot be read or its codes are not 2021 LSOA codes.
    """
    gdf = _read_vector(path, name="LSOA boundary")
    if code_field is None:
        code_field = next((c for c in gdf.columns if c.upper() in ("LSOA21CD", "LSOA_CODE", "CODE")), None)
        if code_field is None:
            raise InputError(
                f"{Path(path).name}: cannot find the LSOA code column (expected LSOA21CD); "
                f"name it with --code-field (columns: {', '.join(map(str, gdf.columns))})"
            )
    lsoas = _lsoas_from_frame(gdf, code_field)
    return Geography(lsoas=lsoas, name=name or Path(path).stem)


def wards_2022() -> gpd.GeoDataFrame:
    """Dec 2022 ward shapes (the official ward boundaries before the 2023 reviews)."""
    gdf = gpd.read_file(WARDS_2022_FILE, engine="pyogrio").to_crs(BNG)
    return gdf.rename(
        columns={
            "WD22CD": "ward_code",
            "WD22NM": "ward_name",
            "LAD21CD": "district_code",
            "LAD21NM": "district_name",
        }
    )


def districts() -> gpd.GeoDataFrame:
    """Dec 2024 district shapes with their community safety partnership."""
    gdf = gpd.read_file(DISTRICTS_FILE, engine="pyogrio").to_crs(BNG)
    gdf = gdf.rename(columns={"LAD24CD": "district_code", "LAD24NM": "district_name"})
    csp = csp_lookup().drop_duplicates("ltla24_code").set_index("ltla24_code")
    gdf["csp_code"] = gdf["district_code"].map(csp["csp24_code"])
    gdf["csp_name"] = gdf["district_code"].map(csp["csp24_name"])
    return gdf[["district_code", "district_name", "csp_code", "csp_name", "geometry"]]


def geography_to_bytes(geo: Geography) -> bytes:
    """Serialise the LSOA layer as GeoPackage bytes (for storing a user's geography).

    Only LSOAs with a real boundary are written: areas known from the lookups are rebuilt
    from the store's locations.
    """
    buf = io.BytesIO()
    geo.boundary_lsoas.to_file(buf, driver="GPKG", engine="pyogrio")
    return buf.getvalue()
