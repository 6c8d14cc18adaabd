"""Assign stored locations to areas (LSOA, ward, district) by point-in-polygon in EPSG:27700.

Unique (lon, lat) points are converted to British National Grid once, when first seen, and
assigned to the geography's 2021 LSOAs; every incident at a point shares its areas. Replacing
the geography (a user's boundary file) re-assigns every stored location and the
``outside_area`` flags in one transaction.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from hotspots.store import Store

_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


def assign_locations(con, lon: np.ndarray, lat: np.ndarray, geography) -> np.ndarray:
    """Return location ids for coordinates, adding new unique locations to the store.

    New locations are converted to EPSG:27700 and assigned to LSOA, ward and district by
    point-in-polygon on the geography's 2021 LSOAs (points outside get no area).
    """
    out = np.full(len(lon), -1, dtype=np.int64)
    has = np.isfinite(lon) & np.isfinite(lat)
    if not has.any():
        return out
    key = pd.DataFrame({"lon": np.round(lon[has], 6), "lat": np.round(lat[has], 6)})
    uniq = key.drop_duplicates().reset_index(drop=True)
    con.register("new_pts", uniq)
    known = con.execute(
        "SELECT p.lon, p.lat, l.location_id FROM new_pts p JOIN locations l "
        "ON l.lon = p.lon AND l.lat = p.lat"
    ).df()
    con.unregister("new_pts")
    merged = uniq.merge(known, on=["lon", "lat"], how="left")
    new = merged["location_id"].isna().to_numpy()
    if new.any():
        start = con.execute("SELECT coalesce(max(location_id), -1) + 1 FROM locations").fetchall()[0][0]
        ids = np.arange(start, start + new.sum(), dtype=np.int64)
        merged.loc[new, "location_id"] = ids
        nl = merged.loc[new, ["location_id", "lon", "lat"]].copy()
        x, y = _TO_BNG.transform(nl["lon"].to_numpy(), nl["lat"].to_numpy())
        nl["x"], nl["y"] = x, y
        areas = areas_for_points(x, y, geography)
        nl = pd.concat([nl.reset_index(drop=True), areas], axis=1)
        nl["location_id"] = nl["location_id"].astype("int64")
        con.register("new_locs", nl)
        con.execute(
            "INSERT INTO locations SELECT location_id, lon, lat, x, y, lsoa_code, ward_code, "
            "district_code FROM new_locs"
        )
        con.unregister("new_locs")
    lookup = merged.set_index(["lon", "lat"])["location_id"]
    out[has] = lookup.reindex(pd.MultiIndex.from_frame(key)).to_numpy(dtype=np.int64)
    return out


def areas_for_points(x: np.ndarray, y: np.ndarray, geography) -> pd.DataFrame:
    """LSOA, ward and district codes for points (EPSG:27700) by point-in-polygon."""
    lsoas = geography.lsoas
    pts = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=27700)
    pi, ai = lsoas.sindex.query(pts, predicate="within")
    res = pd.DataFrame(
        {
            "lsoa_code": pd.Series([None] * len(x), dtype=object),
            "ward_code": pd.Series([None] * len(x), dtype=object),
            "district_code": pd.Series([None] * len(x), dtype=object),
        }
    )
    if len(pi):
        first = ~pd.Series(pi).duplicated().to_numpy()
        pi, ai = pi[first], ai[first]
        for col in ("lsoa_code", "ward_code", "district_code"):
            res.loc[pi, col] = lsoas[col].to_numpy()[ai]
    return res


def _reassign(con, geo) -> int:
    """Point-in-polygon for every stored location, and the outside_area flags to match."""
    locs = con.execute("SELECT location_id, x, y FROM locations").df()
    areas = areas_for_points(locs["x"].to_numpy(), locs["y"].to_numpy(), geo)
    con.register("upd", pd.concat([locs[["location_id"]], areas], axis=1))
    con.execute(
        "UPDATE locations SET lsoa_code = upd.lsoa_code, ward_code = upd.ward_code, "
        "district_code = upd.district_code FROM upd WHERE locations.location_id = upd.location_id"
    )
    con.unregister("upd")
    con.execute(
        "UPDATE incidents SET flags = trim(both ';' FROM replace(replace(flags, 'outside_area', ''), ';;', ';'))"
    )
    con.execute(
        "UPDATE incidents SET flags = CASE WHEN flags = '' THEN 'outside_area' ELSE flags || ';outside_area' END "
        "FROM locations l WHERE incidents.location_id = l.location_id AND l.lsoa_code IS NULL"
    )
    return len(locs)


def set_geography(store: Store, geography=None) -> int:
    """Replace the store's geography (None: the shipped one) and re-assign every location.

    One transaction: the geography, every location's areas and the ``outside_area`` flags
    change together.

    Returns
    -------
    The number of locations re-assigned.
    """
    import boundaries

    geo = geography or boundaries.default_geography()
    with store.transaction() as con:
        con.execute("DELETE FROM geography")
        if geography is not None:
            con.execute("INSERT INTO geography VALUES (?, ?)", [geo.name, boundaries.geography_to_bytes(geo)])
        n = _reassign(con, geo)
    store._geo = None
    return n


def reassign_areas(store: Store) -> int:
    """Re-run point-in-polygon for every stored location with the store's current geography."""
    geo = store.geography()
    with store.transaction() as con:
        return _reassign(con, geo)
