"""A place's polygon: checked (:func:`check_polygon`) and taken from a hotspot list row, a file or areas.

For the place register (:mod:`hotspots.register`): a place is one valid (Multi)Polygon in
EPSG:27700 that overlaps the study area. A polygon that is not one is refused with a message
saying what is wrong and where (a self-crossing at an easting and northing, a layer with no CRS,
a point where an area was expected).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from boundaries.uploads import read_features
from hotspots._errors import InputError
from hotspots._validate import BNG

#: Area levels a group or a place can be drawn from.
GROUP_LEVELS = ("district", "ward", "lsoa", "locality")
_VALIDITY_RE = re.compile(r"^(?P<what>[^\[]+)\[(?P<x>[-0-9.e+]+) (?P<y>[-0-9.e+]+)\]")


def _to_lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = Transformer.from_crs(BNG, 4326, always_xy=True).transform(x, y)
    return float(lon), float(lat)


def check_polygon(
    geometry: Any, *, crs: Any = None, study_area: Any = None, name: str = "geometry"
) -> shapely.Geometry:
    """Check a place's polygon and return it as one (Multi)Polygon in EPSG:27700.

    Parameters
    ----------
    geometry
        A shapely geometry, a GeoSeries or a GeoDataFrame (its features are joined into one).
    crs
        The CRS of a bare shapely geometry. None: a GeoSeries/GeoDataFrame's own CRS, and for a
        bare geometry EPSG:27700 (the register's CRS, that of every hotspot list); a bare
        geometry whose coordinates look like longitude/latitude is refused rather than guessed.
    study_area
        The study area (a shapely geometry or GeoSeries in EPSG:27700); a polygon that does not
        overlap it is refused. None: not checked.
    name
        What to call the polygon in messages (a file name, "hotspot #3"…).

    Returns
    -------
    A valid Polygon or MultiPolygon in EPSG:27700.

    Raises
    ------
    InputError
        If the layer has no CRS, the polygon is empty, is not an area (a point or a line),
        crosses itself (the message says where and how to fix it), or lies outside the study area.
    """
    if isinstance(geometry, (gpd.GeoDataFrame, gpd.GeoSeries)):
        layer = geometry.geometry if isinstance(geometry, gpd.GeoDataFrame) else geometry
        if layer.crs is None:
            raise InputError(
                f"{name} has no CRS (coordinate reference system); save it with its CRS, e.g. "
                "EPSG:27700 (British National Grid) or EPSG:4326 (longitude/latitude)"
            )
        layer = layer[layer.notna() & ~layer.is_empty]
        if len(layer) == 0:
            raise InputError(f"{name} is empty: it holds no shape; draw or choose an area first")
        _check_parts(layer.to_numpy(), name=name)
        if layer.crs.to_epsg() != BNG:
            layer = layer.to_crs(BNG)
        geom = shapely.union_all(layer.to_numpy()) if len(layer) > 1 else layer.iloc[0]
    else:
        if geometry is None or not isinstance(geometry, shapely.Geometry):
            raise InputError(f"{name} is empty: expected a polygon, got {type(geometry).__name__}")
        if geometry.is_empty:
            raise InputError(f"{name} is empty: it holds no shape; draw or choose an area first")
        _check_parts([geometry], name=name)
        geom = geometry
        if crs is not None and CRS.from_user_input(crs).to_epsg() != BNG:
            geom = gpd.GeoSeries([geom], crs=crs).to_crs(BNG).iloc[0]
        elif crs is None:
            minx, miny, maxx, maxy = geom.bounds
            if -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90:
                raise InputError(
                    f"{name} has coordinates that look like longitude/latitude ({minx:.4f}, {miny:.4f}) "
                    "but no CRS was given; pass crs=4326 (or the CRS it is in)"
                )
    geom = _polygonal(geom, name=name)
    if study_area is not None:
        area = study_area.union_all() if isinstance(study_area, gpd.GeoSeries) else study_area
        if not geom.intersects(area):
            c = geom.representative_point()
            lon, lat = _to_lonlat(c.x, c.y)
            raise InputError(
                f"{name} is outside the study area (it lies at {lat:.4f}° N, {lon:.4f}° E, "
                f"easting {c.x:.0f}, northing {c.y:.0f}); check its CRS, or change the study area"
            )
    return geom


def _check_parts(geoms: Sequence[shapely.Geometry], *, name: str) -> None:
    for g in geoms:
        kinds = {p.geom_type for p in shapely.get_parts(g)}
        bad = kinds - {"Polygon", "MultiPolygon"}
        if bad:
            raise InputError(
                f"{name} is a {', '.join(sorted(bad))}, not an area; a place must be a Polygon or "
                "MultiPolygon (draw its outline, or buffer a point or line first)"
            )
        if not shapely.is_valid(g):
            reason = shapely.is_valid_reason(g)
            m = _VALIDITY_RE.match(reason)
            where = ""
            if m:
                x, y = float(m.group("x")), float(m.group("y"))
                if -180 <= x <= 180 and -90 <= y <= 90:
                    where = f" at {y:.5f}° N, {x:.5f}° E"
                else:
                    lon, lat = _to_lonlat(x, y)
                    where = f" at easting {x:.0f}, northing {y:.0f} ({lat:.5f}° N, {lon:.5f}° E)"
            what = (m.group("what") if m else reason).strip().lower()
            raise InputError(
                f"{name} is not a valid polygon: {what}{where}; fix the outline there (in QGIS: "
                "Vector > Geometry Tools > Fix Geometries) or draw it again"
            )


def _polygonal(geom: shapely.Geometry, *, name: str) -> shapely.Geometry:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    if not polys:
        raise InputError(
            f"{name} is a {geom.geom_type}, not an area; a place must be a Polygon or MultiPolygon"
        )
    return shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0]


def place_from_hotspot(hotspots: gpd.GeoDataFrame, rank: int) -> dict[str, Any]:
    """The polygon, a name and a source string for one row of a hotspot list.

    Parameters
    ----------
    hotspots
        A hotspot list (:func:`hotspots.hotspot_list.find_hotspots`), EPSG:27700.
    rank
        The row's ``rank`` (1 = the top hotspot).

    Returns
    -------
    ``{"geometry", "name", "source"}``: the hotspot's polygon; its ``name`` column when the list
    has one, else its top location and ward; and ``"hotspot list: <method> <period> #<rank> <name>"``.

    Raises
    ------
    InputError
        If no row has that rank.
    """
    ranks = pd.to_numeric(hotspots["rank"], errors="coerce") if "rank" in hotspots else pd.Series(dtype=float)
    rows = hotspots[ranks == int(rank)]
    if not len(rows):
        top = int(ranks.max()) if len(ranks) and ranks.notna().any() else 0
        raise InputError(
            f"`rank` {rank} is not in the hotspot list; it holds ranks 1 to {top}"
            if top
            else f"`rank` {rank} is not in the hotspot list: the list is empty (widen the filter)"
        )
    row = rows.iloc[0]
    name = _hotspot_name(row)
    params = hotspots.attrs.get("params") or getattr(hotspots, "params", None)
    params = params if isinstance(params, dict) else {}  # (a plain frame's `params` is its column)
    method = str(params.get("method", row.get("method", "")))
    period = str(params.get("period", "")).replace(" to ", "–")
    source = " ".join(p for p in ("hotspot list:", method, period, f"#{int(rank)}", name) if p)
    return {"geometry": row.geometry, "name": name, "source": source}


def _first_of(text: Any) -> str:
    """The first entry of a list cell (``"A (12); B (5)"`` or a list), without its count."""
    if isinstance(text, (list, tuple)):
        text = text[0] if text else ""
    first = str(text or "").split(";")[0].strip()
    return re.sub(r"\s*\([\d,]+\)$", "", first)


def _hotspot_name(row: pd.Series) -> str:
    name = row.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    street = re.sub(r"^On or near\s+", "", _first_of(row.get("top_locations")), flags=re.I)
    label = ", ".join(p for p in (street, _first_of(row.get("wards"))) if p)
    return label or f"hotspot #{int(row['rank'])}"


def read_place_file(path: Path | str, *, name: str | None = None) -> gpd.GeoDataFrame:
    """Read a GeoJSON or GeoPackage of one place (all features become one polygon).

    Parameters
    ----------
    path
        ``.geojson``/``.json`` or ``.gpkg`` in any stated CRS.
    name
        The file's name in messages (an upload's original name); None: the path's name.

    Returns
    -------
    The file's features (still in their CRS: :func:`check_polygon` converts and checks them).

    Raises
    ------
    InputError
        If the file is missing, of another type, cannot be read or has no features.
    """
    path = Path(path)
    label = name or path.name
    if path.suffix.lower() not in (".geojson", ".json", ".gpkg"):
        raise InputError(
            f"{label}: a place file must be GeoJSON (.geojson) or GeoPackage (.gpkg); got '{path.suffix}'"
        )
    if not path.exists():
        raise InputError(f"place file not found: {path}")
    return read_features(
        path,
        unreadable=f"{label}: could not be read as GeoJSON or GeoPackage",
        empty=f"{label} is empty: it holds no features",
    )


def place_from_areas(geography: Any, codes: Iterable[str], *, level: str = "ward") -> dict[str, Any]:
    """One polygon from a set of wards or LSOAs (dissolved), with a name and a source string.

    Parameters
    ----------
    geography
        The store's :class:`boundaries.Geography`.
    codes
        Area codes at ``level`` (wards E05…, LSOAs E01…/W01…).
    level
        ``"ward"`` (default), ``"lsoa"``, ``"district"`` or ``"locality"``.

    Returns
    -------
    ``{"geometry", "name", "source"}``: the dissolved polygon, the areas' names joined, and
    ``"<level>s <codes>"``.

    Raises
    ------
    InputError
        If no code is given, a code is not an area of the study area, or ``level`` is unknown.
    """
    if level not in GROUP_LEVELS:
        raise InputError(f"`level` must be one of {', '.join(GROUP_LEVELS)}; got {level!r}")
    codes = [str(c).strip() for c in codes if str(c).strip()]
    if not codes:
        raise InputError(f"give at least one {level} code")
    areas = geography.areas(level)
    known = areas.set_index("area_code")
    unknown = [c for c in codes if c not in known.index]
    if unknown:
        raise InputError(
            f"{len(unknown)} {level} code(s) are not {level}s of the study area: {', '.join(unknown[:5])}"
            + (" (wards are E05…/W05…, May 2024)" if level == "ward" else "")
        )
    chosen = known.loc[list(dict.fromkeys(codes))]
    geoms = [g for g in chosen.geometry if g is not None and not g.is_empty]
    if not geoms:
        raise InputError(f"the {level}s {', '.join(codes)} have no outline (known only from lookups)")
    geom = shapely.union_all(geoms)
    names = chosen["area_name"].astype(str).tolist()
    label = names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"
    return {"geometry": geom, "name": label, "source": f"{level}s {' '.join(chosen.index)}"}


__all__ = [
    "GROUP_LEVELS",
    "check_polygon",
    "place_from_areas",
    "place_from_hotspot",
    "read_place_file",
]
