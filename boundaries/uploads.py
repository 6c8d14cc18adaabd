"""A user's own files: LSOA or other boundary files, and a localities CSV.

Boundary files may be GeoJSON, GeoPackage or a zipped Shapefile in any stated CRS; they are
returned in EPSG:27700. A 2021 LSOA file becomes a :class:`~boundaries.geography.Geography`
(:func:`geography_from_lsoas`) with wards, districts and residents from the ONS lookups.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from boundaries.geography import Geography, lsoa_layer
from boundaries.lookups import BNG
from hotspots._errors import InputError


def read_features(target: str | Path, *, unreadable: str, empty: str) -> gpd.GeoDataFrame:
    """Read a vector file (GeoJSON, GeoPackage, a ``/vsizip/`` Shapefile) that must hold features.

    Raises
    ------
    InputError
        ``unreadable`` with the reader's reason when GDAL cannot read it; ``empty`` when it
        holds no features.
    """
    try:
        gdf = gpd.read_file(target, engine="pyogrio")
    except Exception as exc:
        raise InputError(f"{unreadable} ({exc})") from exc
    if gdf.empty:
        raise InputError(empty)
    return gdf


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
    gdf = read_features(
        target,
        unreadable=f"{path.name}: could not be read as a boundary file",
        empty=f"{path.name}: has no features",
    )
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
    lsoas = lsoa_layer(gdf, code_field)
    return Geography(lsoas=lsoas, name=name or Path(path).stem)


def geography_to_bytes(geo: Geography) -> bytes:
    """Serialise the LSOA layer as GeoPackage bytes (for storing a user's geography).

    Only LSOAs with a real boundary are written: areas known from the lookups are rebuilt
    from the store's locations.
    """
    buf = io.BytesIO()
    geo.boundary_lsoas.to_file(buf, driver="GPKG", engine="pyogrio")
    return buf.getvalue()
