"""ONS geography for the partnership areas: LSOAs, wards, districts, localities and residents.

Shipped data (``boundaries/data``, see its README): 2021 LSOAs for Staffordshire and
Stoke-on-Trent tagged with their best-fit May 2024 ward and district, Dec 2022 ward shapes,
Dec 2024 districts, Census 2021 usual residents and ONS lookups. Everything is returned in
EPSG:27700 (British National Grid).

A :class:`Geography` bundles the area layers used to assign incidents to places. The default
is built from the shipped LSOAs; :func:`geography_from_lsoas` builds one for any area of
England and Wales from a user's 2021 LSOA boundary file.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

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

AREA_COLUMNS = ["area_code", "area_name", "level", "district_code", "district_name", "population"]


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
        district_name, population, geometry.
    localities
        ward_code → locality; by default each ward's district name.
    name
        A label for the study area.
    """

    lsoas: gpd.GeoDataFrame
    localities: pd.DataFrame = field(default_factory=pd.DataFrame)
    name: str = "Staffordshire and Stoke-on-Trent"

    def __post_init__(self) -> None:
        if self.localities is None or self.localities.empty:
            self.localities = default_localities(self.lsoas)
        self._cache: dict[str, gpd.GeoDataFrame] = {}

    @property
    def study_area(self) -> gpd.GeoSeries:
        """The union of all LSOAs, one polygon (EPSG:27700)."""
        if "_study" not in self._cache:
            self._cache["_study"] = gpd.GeoDataFrame(
                geometry=[self.lsoas.geometry.union_all()], crs=self.lsoas.crs
            )
        return self._cache["_study"].geometry

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
    """Serialise the LSOA layer as GeoPackage bytes (for storing a user's geography)."""
    buf = io.BytesIO()
    geo.lsoas.to_file(buf, driver="GPKG", engine="pyogrio")
    return buf.getvalue()
