"""Assign stored locations to areas (LSOA, ward, district): polygons first, then reported codes.

Unique (lon, lat) points are converted to British National Grid once, when first seen, and
assigned to the geography's 2021 LSOAs by point-in-polygon (``assigned_by = 'polygon'``);
every incident at a point shares its areas.

A location no polygon holds is placed from the LSOA code police.uk reports with its incidents
(``assigned_by = 'reported_lsoa'``) when all of these hold (see ``docs/areas.md``):

1. its incidents carry a reported code; the most common one is used (ties: the smallest code);
2. that code is one 2021 LSOA: a 2021 code, or a 2011 code that was unchanged (U) or merged (M);
   a split (S) or irregular (X) 2011 code is ambiguous;
3. the LSOA's police force area is not reached by the geography's boundaries (where boundaries
   exist, they decide, as DESIGN.md asks: the reported code is never trusted over a polygon);
4. the loaded data cover that force area: in at least one month, the incidents reporting codes
   there number :data:`MIN_COVERAGE_PER_1000` or more per 1,000 residents. A force's own
   police.uk file gives several per 1,000 a month; the few incidents a neighbouring force
   records over its border give about 0.01, and placing them would list dozens of wards
   whose counts are a sliver of their crime.

Otherwise the location stays unassigned, its ``assign_note`` says why, and its incidents are
flagged ``outside_area`` (which therefore means "in no area": outside the polygons and not
placed from the reported code). Replacing the geography re-assigns every location with the
same rule, in one transaction.
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from hotspots.store import Store

_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)

#: Incidents per 1,000 residents in one month above which the data cover a police force area.
MIN_COVERAGE_PER_1000 = 1.0
POLYGON = "polygon"
REPORTED = "reported_lsoa"
#: Columns :func:`reported_areas` returns.
ASSIGN_COLUMNS = ["location_id", "lsoa_code", "ward_code", "district_code", "assigned_by", "assign_note"]


def assign_locations(con, lon: np.ndarray, lat: np.ndarray, geography) -> np.ndarray:
    """Return location ids for coordinates, adding new unique locations to the store.

    New locations are converted to EPSG:27700 and assigned to LSOA, ward and district by
    point-in-polygon on the geography's 2021 LSOA boundaries. Then every location no polygon
    holds is placed from its incidents' reported LSOA codes where the rule in this module's
    notes allows; the codes of the incidents being loaded are read from the temporary table
    ``b`` of :func:`hotspots.ingest._write` when it exists in the transaction.
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
        nl["assigned_by"] = np.where(nl["lsoa_code"].notna(), POLYGON, None)
        con.register("new_locs", nl)
        con.execute(
            "INSERT INTO locations (location_id, lon, lat, x, y, lsoa_code, ward_code, district_code, "
            "assigned_by) SELECT location_id, lon, lat, x, y, lsoa_code, ward_code, district_code, "
            "assigned_by FROM new_locs"
        )
        con.unregister("new_locs")
    if new.any() or _has_batch(con):
        assign_from_reported(con, geography)
    lookup = merged.set_index(["lon", "lat"])["location_id"]
    out[has] = lookup.reindex(pd.MultiIndex.from_frame(key)).to_numpy(dtype=np.int64)
    return out


def areas_for_points(x: np.ndarray, y: np.ndarray, geography) -> pd.DataFrame:
    """LSOA, ward and district codes for points (EPSG:27700) by point-in-polygon.

    Only LSOAs with a real boundary are used (never the approximate outlines of areas known
    from the lookups).
    """
    lsoas = geography.boundary_lsoas if hasattr(geography, "boundary_lsoas") else geography.lsoas
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


def reported_areas(
    location_codes: pd.DataFrame,
    coverage: pd.DataFrame,
    geography,
    *,
    locations: pd.Index | np.ndarray | None = None,
    min_coverage: float | None = None,
) -> pd.DataFrame:
    """Areas of locations no polygon holds, from their incidents' reported LSOA codes.

    Parameters
    ----------
    location_codes
        ``location_id``, ``code`` (reported LSOA code, 2011 or 2021), ``n`` (incidents at that
        location reporting that code).
    coverage
        ``code``, ``month``, ``n``: every incident of the data by reported code and month (to
        tell which police force areas the data cover).
    geography
        The :class:`boundaries.Geography`; force areas its boundaries reach are left to them.
    locations
        Location ids to answer for (default: those in ``location_codes``); ids with no code
        get the note ``no reported LSOA code``.
    min_coverage
        Incidents per 1,000 residents in one month from which a force area counts as covered
        (None: :data:`MIN_COVERAGE_PER_1000`).

    Returns
    -------
    One row per location, columns :data:`ASSIGN_COLUMNS`: the 2021 LSOA, its best-fit 2024
    ward and 2024 district and ``assigned_by = 'reported_lsoa'``, or no areas and
    ``assigned_by`` None; ``assign_note`` says which code was used or why none was
    (``kind: detail``).

    Notes
    -----
    The rule is in this module's docstring and ``docs/areas.md``.
    """
    import boundaries

    if min_coverage is None:
        min_coverage = MIN_COVERAGE_PER_1000
    ids = pd.Index(
        location_codes["location_id"].unique() if locations is None else np.asarray(locations),
        name="location_id",
    ).astype("int64")
    out = pd.DataFrame(index=ids, columns=ASSIGN_COLUMNS[1:], dtype=object)
    out["assign_note"] = "no reported LSOA code"
    lc = location_codes[
        location_codes["code"].notna() & (location_codes["code"].astype(str).str.strip() != "")
    ]
    lc = lc.assign(code=lc["code"].astype(str).str.strip())
    lc = lc[lc["location_id"].isin(ids)]
    if lc.empty:
        return out.reset_index()[ASSIGN_COLUMNS]
    total = lc.groupby("location_id")["n"].sum()
    top = lc.sort_values(["location_id", "n", "code"], ascending=[True, False, True]).drop_duplicates(
        "location_id"
    )
    top = top.set_index("location_id")
    res = boundaries.resolve_reported_lsoa(pd.concat([top["code"], coverage["code"]]))
    look, pop_force = _lookups()
    forces = boundaries.district_forces()
    r = res.reindex(top["code"])
    r.index = top.index
    force = forces["pfa24_code"].reindex(r["district_code"]).to_numpy()
    force_name = forces["pfa24_name"].reindex(r["district_code"]).fillna("").to_numpy()
    # coverage: the busiest month of each force area, per 1,000 residents
    cov = coverage.assign(district=res["district_code"].reindex(coverage["code"].astype(str)).to_numpy())
    cov["force"] = forces["pfa24_code"].reindex(cov["district"]).to_numpy()
    monthly = cov.groupby(["force", "month"])["n"].sum()
    rate = (monthly.groupby(level="force").max() / pop_force * 1000).reindex(force).fillna(0.0).to_numpy()
    reached = np.isin(force, list(geography.forces_reached()))
    lsoa = r["lsoa21_code"]
    ok = lsoa.notna().to_numpy() & ~reached & (rate >= min_coverage)
    code = top["code"].to_numpy()
    note = np.select(
        [
            r["reason"].notna().to_numpy(),
            reached,
            rate < min_coverage,
        ],
        [
            r["reason"].to_numpy(),
            "force area reached by the boundaries, where polygons decide: " + code + " in " + force_name,
            "force area not covered by the loaded data: "
            + code
            + " in "
            + force_name
            + pd.Series(rate)
            .map(
                lambda v: (
                    f" (at most {v:.2f} incidents per 1,000 residents in a month; needs {min_coverage:g})"
                )
            )
            .to_numpy(),
        ],
        default="",
    ).astype(object)
    used = np.where(
        r["vintage"].to_numpy() == "2011",
        "reported 2011 LSOA, one 2021 LSOA (ONS change "
        + r["change"].fillna("").to_numpy().astype(str)
        + "): "
        + code
        + " → "
        + lsoa.fillna("").to_numpy().astype(str),
        "reported 2021 LSOA: " + code,
    )
    counts = " (" + top["n"].astype(str).to_numpy() + " of " + total.reindex(top.index).astype(str).to_numpy()
    note[ok] = (used + counts + " incidents)")[ok]
    placed = lsoa[ok]
    out.loc[top.index, "assign_note"] = note
    out.loc[placed.index, "lsoa_code"] = placed.to_numpy()
    out.loc[placed.index, "ward_code"] = look["ward24_code"].reindex(placed).to_numpy()
    out.loc[placed.index, "district_code"] = look["ltla24_code"].reindex(placed).to_numpy()
    out.loc[placed.index, "assigned_by"] = REPORTED
    out = out.astype(object).where(out.notna(), None)
    return out.reset_index()[ASSIGN_COLUMNS]


@lru_cache(maxsize=1)
def _lookups() -> tuple[pd.DataFrame, pd.Series]:
    """The LSOA 2021 lookup indexed by code, and Census 2021 residents per police force area."""
    import boundaries

    look = boundaries.lsoa_ward_lookup().set_index("lsoa21_code")
    forces = boundaries.district_forces()["pfa24_code"]
    pop_district = (
        boundaries.population().groupby(look["ltla24_code"].reindex(boundaries.population().index)).sum()
    )
    return look, pop_district.groupby(forces.reindex(pop_district.index).to_numpy()).sum()


def _has_batch(con) -> bool:
    """True when the loader's temporary table ``b`` (with reported codes) is in the transaction."""
    n = con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE database_name = 'temp' AND table_name = 'b' "
        "AND column_name IN ('lon', 'lat', 'month', 'lsoa_code_reported')"
    ).fetchall()[0][0]
    return n == 4


def _has_counts_table(con, name: str) -> bool:
    """True when the connection has a table ``name`` with a column ``n``.

    Only a server load's DuckDB mirror (:func:`hotspots.store_server.mirror`) has
    ``stored_coverage``; on PostgreSQL itself the check reads the ``duckdb_columns()`` function
    the server store defines.
    """
    n = con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE table_name = ? AND column_name = 'n'", [name]
    ).fetchall()[0][0]
    return n > 0


def assign_from_reported(con, geography, *, min_coverage: float | None = None) -> int:
    """Place every location no polygon holds from its incidents' reported LSOA codes.

    Runs inside the caller's transaction. Incidents being loaded are read from the temporary
    table ``b`` when it exists. Only locations whose areas change are written, and the
    ``outside_area`` flags of their stored incidents are set to match.

    Returns
    -------
    The number of locations placed by their reported code.
    """
    cand = con.execute(
        "SELECT location_id, lsoa_code, assigned_by, assign_note FROM locations "
        "WHERE assigned_by IS DISTINCT FROM 'polygon'"
    ).df()
    if cand.empty:
        return 0
    batch = _has_batch(con)
    nonpoly = "(SELECT location_id, lon, lat FROM locations WHERE assigned_by IS DISTINCT FROM 'polygon')"
    codes_sql = f"SELECT i.location_id, i.lsoa_code_reported AS code FROM incidents i JOIN {nonpoly} l USING (location_id)"
    # every stored incident by reported code and month: the server store's loads hold only some
    # incidents in their DuckDB mirror, with these counts (kept by the server) in stored_coverage
    if _has_counts_table(con, "stored_coverage"):
        months_sql = "SELECT code, month, n FROM stored_coverage"
    else:
        months_sql = "SELECT lsoa_code_reported AS code, CAST(month AS DATE) AS month, 1 AS n FROM incidents"
    if batch:
        codes_sql += (
            f" UNION ALL SELECT l.location_id, b.lsoa_code_reported FROM b JOIN {nonpoly} l "
            "ON l.lon = round(b.lon, 6) AND l.lat = round(b.lat, 6)"
        )
        months_sql += " UNION ALL SELECT lsoa_code_reported, CAST(month AS DATE), 1 FROM b"
    location_codes = con.execute(
        f"SELECT location_id, code, count(*) AS n FROM ({codes_sql}) WHERE code IS NOT NULL GROUP BY ALL"
    ).df()
    coverage = con.execute(
        f"SELECT code, month, CAST(sum(n) AS BIGINT) AS n FROM ({months_sql}) WHERE code IS NOT NULL "
        "AND code <> '' GROUP BY ALL"
    ).df()
    new = reported_areas(
        location_codes,
        coverage,
        geography,
        locations=cand["location_id"].to_numpy(),
        min_coverage=min_coverage,
    )
    old = cand.set_index("location_id").reindex(new["location_id"])
    changed = (
        (old["lsoa_code"].fillna("").to_numpy() != new["lsoa_code"].fillna("").to_numpy())
        | (old["assigned_by"].fillna("").to_numpy() != new["assigned_by"].fillna("").to_numpy())
        | (old["assign_note"].fillna("").to_numpy() != new["assign_note"].fillna("").to_numpy())
    )
    upd = new[changed]
    if len(upd):
        con.register("upd_rep", upd)
        con.execute(
            "UPDATE locations SET lsoa_code = u.lsoa_code, ward_code = u.ward_code, "
            "district_code = u.district_code, assigned_by = u.assigned_by, assign_note = u.assign_note "
            "FROM upd_rep u WHERE locations.location_id = u.location_id"
        )
        # stored incidents at these locations: outside_area exactly when still in no area
        con.execute(
            "UPDATE incidents SET flags = trim(both ';' FROM replace(replace(flags, 'outside_area', ''), ';;', ';')) "
            "FROM upd_rep u WHERE incidents.location_id = u.location_id AND u.lsoa_code IS NOT NULL"
        )
        con.execute(
            "UPDATE incidents SET flags = CASE WHEN flags = '' THEN 'outside_area' ELSE flags || ';outside_area' END "
            "FROM upd_rep u WHERE incidents.location_id = u.location_id AND u.lsoa_code IS NULL "
            "AND flags NOT LIKE '%outside_area%'"
        )
        con.unregister("upd_rep")
    return int((new["assigned_by"] == REPORTED).sum())


def _reassign(con, geo) -> int:
    """Assign every stored location again (polygons, then reported codes) and the flags to match."""
    locs = con.execute("SELECT location_id, x, y FROM locations").df()
    areas = areas_for_points(locs["x"].to_numpy(), locs["y"].to_numpy(), geo)
    areas["assigned_by"] = np.where(areas["lsoa_code"].notna(), POLYGON, None)
    con.register("upd", pd.concat([locs[["location_id"]], areas], axis=1))
    con.execute(
        "UPDATE locations SET lsoa_code = upd.lsoa_code, ward_code = upd.ward_code, "
        "district_code = upd.district_code, assigned_by = upd.assigned_by, assign_note = NULL "
        "FROM upd WHERE locations.location_id = upd.location_id"
    )
    con.unregister("upd")
    assign_from_reported(con, geo)
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

    One transaction: the geography, every location's areas (polygons, then reported codes)
    and the ``outside_area`` flags change together.

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
    """Assign every stored location again with the store's current geography."""
    geo = store.geography()
    with store.transaction() as con:
        return _reassign(con, geo)


#: Share of the loaded incidents from which a force area outside the study area is offered.
MIN_UNCOVERED_SHARE = 0.05


def uncovered_forces(store: Store, *, min_share: float | None = None) -> pd.DataFrame:
    """Police force areas the loaded data come from but that the study area does not reach.

    Parameters
    ----------
    store
        The store.
    min_share
        Share of all incidents with a reported LSOA code from which a force area is listed
        (None: :data:`MIN_UNCOVERED_SHARE`, 5 %: more than the few rows a force records over its
        border, about 1 %). A force area that holds most of one loaded file's incidents (that
        file's own force) is listed whatever its share of the store.

    Returns
    -------
    force_code, force_name, incidents, share (of the store); most incidents first; empty when
    the study area reaches every force area the data come from.

    Notes
    -----
    The force is that of each incident's reported LSOA code (2011 codes through the ONS lookup,
    as :func:`boundaries.resolve_reported_lsoa`): for a police.uk file it is the force its
    "Falls within" column names, and it works for files loaded from the command line too.
    """
    import boundaries

    if min_share is None:
        min_share = MIN_UNCOVERED_SHARE
    counts = store.sql(
        "SELECT ingest_id, lsoa_code_reported AS code, count(*) AS n FROM incidents "
        "WHERE lsoa_code_reported IS NOT NULL AND lsoa_code_reported <> '' GROUP BY 1, 2"
    )
    cols = ["force_code", "force_name", "incidents", "share"]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    res = boundaries.resolve_reported_lsoa(counts["code"])
    forces = boundaries.district_forces()
    district = res["district_code"].reindex(counts["code"].astype(str)).to_numpy()
    by = counts.assign(force_code=forces["pfa24_code"].reindex(district).to_numpy())
    n = by.groupby("force_code")["n"].sum()
    per_load = by.groupby(["ingest_id", "force_code"])["n"].sum()
    load_share = per_load / per_load.groupby(level="ingest_id").transform("sum")
    own = set(load_share[load_share > 0.5].index.get_level_values("force_code"))
    out = pd.DataFrame({"force_code": n.index, "incidents": n.to_numpy().astype("int64")})
    out["share"] = out["incidents"] / counts["n"].sum()
    names = forces.drop_duplicates("pfa24_code").set_index("pfa24_code")["pfa24_name"]
    out["force_name"] = out["force_code"].map(names)
    reached = store.geography().forces_reached()
    keep = (out["share"] >= min_share) | out["force_code"].isin(list(own))
    out = out[keep & ~out["force_code"].isin(list(reached))]
    return out.sort_values("incidents", ascending=False, ignore_index=True)[cols]
