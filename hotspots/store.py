"""The embedded store: one DuckDB file holding every incident ever loaded.

Tables
------
incidents
    One row per incident (see the incident record in DESIGN.md); coordinates and areas live
    on the location.
locations
    One row per unique map point (police.uk snaps incidents to a fixed set of anonymised
    points): lon, lat, x, y (EPSG:27700), the areas assigned at load, ``assigned_by``
    (``polygon``: point-in-polygon; ``reported_lsoa``: outside the boundaries, placed from the
    incidents' reported LSOA code; NULL: in no area) and ``assign_note`` (the code used, or why
    none was). See :mod:`hotspots.assign` and ``docs/areas.md``.
rejected
    Every input row that did not become an incident: file, line, raw text, reason, and
    ``kind`` ``rejected`` (bad row) or ``duplicate`` (an incident already held).
ingests
    The load log: file, SHA-256, rows read / accepted / duplicate / rejected, flags, time.
localities
    ward_code → locality name (empty: localities are the districts).
geography
    A user's LSOA boundary layer (GeoPackage bytes), when one replaced the shipped one.
incident_extras
    Partner columns kept by a mapping's ``extra`` (one JSON object of text values per
    incident); shown as the incident frame's ``extra`` column.

The default path is ``./data/hotspots.duckdb``, overridden by the ``HOTSPOTS_STORE``
environment variable or the ``--store`` option.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.compute as pc

import boundaries
from hotspots._errors import InputError

log = logging.getLogger(__name__)

ENV_VAR = "HOTSPOTS_STORE"
DEFAULT_PATH = Path("data") / "hotspots.duckdb"

SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    incident_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    month DATE NOT NULL,
    occurred_at TIMESTAMP,
    category VARCHAR NOT NULL,
    outcome VARCHAR,
    outcome_month DATE,
    location_name VARCHAR,
    lsoa_code_reported VARCHAR,
    location_id INTEGER,
    flags VARCHAR NOT NULL DEFAULT '',
    ingest_id INTEGER NOT NULL,
    line INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS locations (
    location_id INTEGER NOT NULL,
    lon DOUBLE NOT NULL,
    lat DOUBLE NOT NULL,
    x DOUBLE NOT NULL,
    y DOUBLE NOT NULL,
    lsoa_code VARCHAR,
    ward_code VARCHAR,
    district_code VARCHAR,
    assigned_by VARCHAR,
    assign_note VARCHAR
);
CREATE TABLE IF NOT EXISTS rejected (
    ingest_id INTEGER NOT NULL,
    file VARCHAR NOT NULL,
    line INTEGER,
    raw VARCHAR,
    reason VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    source VARCHAR,
    incident_id VARCHAR
);
CREATE TABLE IF NOT EXISTS ingests (
    ingest_id INTEGER NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    encoding VARCHAR,
    rows_read INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    duplicate INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    no_location INTEGER NOT NULL,
    outside_area INTEGER NOT NULL,
    warnings VARCHAR,
    loaded_at TIMESTAMP NOT NULL,
    seconds DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS localities (ward_code VARCHAR NOT NULL, locality VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS geography (name VARCHAR, gpkg BLOB);
CREATE TABLE IF NOT EXISTS incident_extras (incident_id VARCHAR NOT NULL, extra VARCHAR NOT NULL);
"""

INCIDENT_COLUMNS = [
    "incident_id",
    "source",
    "month",
    "occurred_at",
    "category",
    "outcome",
    "location_name",
    "lsoa_code_reported",
    "location_id",
    "flags",
    "lon",
    "lat",
    "x",
    "y",
    "lsoa_code",
    "ward_code",
    "district_code",
    "locality",
    "extra",
]
CATEGORICAL = [
    "source",
    "category",
    "outcome",
    "location_name",
    "lsoa_code",
    "ward_code",
    "district_code",
    "locality",
    "flags",
    "extra",
]


def default_path() -> Path:
    """The store path: ``$HOTSPOTS_STORE`` if set, else ``./data/hotspots.duckdb``."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)


class Store:
    """An open store file.

    Parameters
    ----------
    path
        The DuckDB file; created (with its folder) if missing. None: :func:`default_path`.
    read_only
        Open without write access (several readers may share the file).
    """

    def __init__(self, path: Path | str | None = None, *, read_only: bool = False):
        self.path = Path(path) if path is not None else default_path()
        if read_only and not self.path.exists():
            raise InputError(f"no store at {self.path}; load data first with `hotspots ingest PATH`")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise InputError(f"cannot open the store {self.path}: {exc}") from exc
        self._lock = threading.RLock()
        self._frame: tuple[int, pd.DataFrame] | None = None
        self._geo: tuple[int, boundaries.Geography] | None = None
        if not read_only:
            self.con.execute(SCHEMA)
            self._migrate()
        self._assigned_by = self._has_column("locations", "assigned_by")

    def _has_column(self, table: str, column: str) -> bool:
        n = self.con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE database_name <> 'temp' AND table_name = ? AND column_name = ?",
            [table, column],
        ).fetchall()[0][0]
        return bool(n)

    def _migrate(self) -> None:
        """Bring a store written by an older version up to the current schema (one transaction).

        Stores from before ``locations.assigned_by``: the columns are added, located points
        are marked ``polygon`` and the others are placed from their reported LSOA codes.
        """
        if self._has_column("locations", "assigned_by"):
            return
        from hotspots.assign import assign_from_reported

        geo = self.geography()
        with self.transaction() as con:
            con.execute("ALTER TABLE locations ADD COLUMN assigned_by VARCHAR")
            con.execute("ALTER TABLE locations ADD COLUMN assign_note VARCHAR")
            con.execute("UPDATE locations SET assigned_by = 'polygon' WHERE lsoa_code IS NOT NULL")
            n = assign_from_reported(con, geo)
        self._geo = None
        log.info(
            "store %s: added locations.assigned_by; %d locations placed by reported LSOA code", self.path, n
        )

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run a block in one transaction: all of it is written, or none of it."""
        with self._lock:
            self.con.begin()
            try:
                yield self.con
            except BaseException:
                self.con.rollback()
                raise
            else:
                self.con.commit()
                self._frame = None

    def sql(self, query: str, params: list | None = None) -> pd.DataFrame:
        """Run a read query and return a DataFrame."""
        with self._lock:
            return self.con.execute(query, params or []).df()

    # ------------------------------------------------------------------ state
    def version(self) -> int:
        """A number that changes whenever data is loaded (the last ingest id plus settings)."""
        with self._lock:
            n = self.con.execute(
                "SELECT coalesce(max(ingest_id), 0) * 1000 + (SELECT count(*) FROM localities) % 1000"
                " + (SELECT count(*) FROM geography) FROM ingests"
            ).fetchall()
        return int(n[0][0])

    def is_empty(self) -> bool:
        """True when no file has been loaded."""
        with self._lock:
            return self.con.execute("SELECT count(*) FROM ingests").fetchall()[0][0] == 0

    def counts(self) -> dict[str, int]:
        """Row counts of each table."""
        out = {}
        with self._lock:
            for t in ("incidents", "locations", "rejected", "ingests"):
                out[t] = int(self.con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0])
        return out

    def loaded_checksums(self) -> dict[str, str]:
        """SHA-256 of every file loaded → its file name."""
        df = self.sql("SELECT sha256, file FROM ingests WHERE accepted + duplicate + rejected >= 0")
        return dict(zip(df["sha256"], df["file"], strict=True))

    def ingest_log(self) -> pd.DataFrame:
        """The load log, oldest first."""
        return self.sql("SELECT * FROM ingests ORDER BY ingest_id")

    def rejected(self, *, kind: str | None = None) -> pd.DataFrame:
        """Rejected and duplicate rows with file, line, raw text and reason."""
        if kind is None:
            return self.sql("SELECT * FROM rejected ORDER BY ingest_id, line")
        return self.sql("SELECT * FROM rejected WHERE kind = ? ORDER BY ingest_id, line", [kind])

    # ------------------------------------------------------------------ geography
    def geography(self) -> boundaries.Geography:
        """The geography incidents are assigned to, with the store's localities.

        The boundaries (shipped, or a user's) plus the areas of police force areas known only
        from reported LSOA codes (locations ``assigned_by = 'reported_lsoa'``), with names and
        residents from the national lookups and approximate outlines (see
        :meth:`boundaries.Geography.with_reported_areas`). Cached per store version.
        """
        version = self.version()
        if self._geo is not None and self._geo[0] == version:
            return self._geo[1]
        row = self.sql("SELECT name, gpkg FROM geography LIMIT 1")
        if len(row):
            import io

            import geopandas as gpd

            lsoas = gpd.read_file(io.BytesIO(bytes(row["gpkg"].iloc[0])), engine="pyogrio")
            geo = boundaries.Geography(lsoas=lsoas, name=str(row["name"].iloc[0]))
        else:
            geo = boundaries.default_geography()
        if getattr(self, "_assigned_by", False):
            pts = self.sql("SELECT lsoa_code, x, y FROM locations WHERE assigned_by = 'reported_lsoa'")
            geo = geo.with_reported_areas(pts)
        loc = self.sql("SELECT ward_code, locality FROM localities")
        if len(loc):
            geo = boundaries.Geography(lsoas=geo.lsoas, localities=loc, name=geo.name)
        self._geo = (version, geo)
        return geo

    def set_localities(self, localities: pd.DataFrame | None, *, file: str | None = None) -> str:
        """Replace the localities (ward_code, locality); None restores the default (districts).

        Returns
        -------
        A one-line summary for the user.

        Raises
        ------
        InputError
            If a ward code is not a ward of the study area (the store is unchanged).
        """
        wards = set(self.geography().lsoas["ward_code"])
        if localities is not None and len(localities):
            unknown = sorted(set(localities["ward_code"]) - wards)
            if unknown:
                raise InputError(
                    f"{len(unknown)} ward codes are not wards of the study area (first: {unknown[0]}); "
                    "use May 2024 ward codes (E05…)",
                    file=file,
                )
        with self.transaction() as con:
            con.execute("DELETE FROM localities")
            if localities is not None and len(localities):
                df = localities[["ward_code", "locality"]].astype(str)
                con.register("new_localities", df)
                con.execute("INSERT INTO localities SELECT ward_code, locality FROM new_localities")
                con.unregister("new_localities")
        self._geo = None
        if localities is None or not len(localities):
            return "localities reset to the districts"
        missing = len(wards - set(localities["ward_code"]))
        return f"{localities['locality'].nunique()} localities set from {len(localities)} wards" + (
            f"; {missing} wards not listed stay in their district's locality" if missing else ""
        )

    # ------------------------------------------------------------------ reading incidents
    def incidents(self) -> pd.DataFrame:
        """All incidents as one frame with coordinates and areas (cached until the next load).

        Columns: :data:`INCIDENT_COLUMNS`. Text columns with few values are categorical;
        ``month`` is datetime64; ``x``/``y``/``lon``/``lat`` are NaN and ``location_id`` is -1
        for incidents with no location; area codes are missing outside the study area.
        The frame is shared: do not modify it.
        """
        version = self.version()
        with self._lock:
            if self._frame is not None and self._frame[0] == version:
                return self._frame[1]
            # through Arrow: text with few values is dictionary-encoded there, then handed to pandas
            # as categoricals (about 6x faster than .df() and astype at 1M rows)
            has_extras = self._has_column("incident_extras", "extra")
            table = self.con.sql(
                f"""
                SELECT i.incident_id, i.source, i.month, i.occurred_at, i.category, i.outcome,
                       i.location_name, i.lsoa_code_reported,
                       coalesce(i.location_id, -1) AS location_id, i.flags,
                       l.lon, l.lat, l.x, l.y, l.lsoa_code, l.ward_code, l.district_code,
                       {"e.extra" if has_extras else "CAST(NULL AS VARCHAR) AS extra"}
                FROM incidents i LEFT JOIN locations l USING (location_id)
                {"LEFT JOIN incident_extras e ON e.incident_id = i.incident_id" if has_extras else ""}
                ORDER BY i.month, i.ingest_id, i.line
                """
            ).to_arrow_table()
        for col in CATEGORICAL:
            if col in table.column_names:
                k = table.column_names.index(col)
                table = table.set_column(k, col, pc.dictionary_encode(table.column(k)))
        df = table.to_pandas(date_as_object=False)
        for col in CATEGORICAL:
            if col in df and isinstance(df[col].dtype, pd.CategoricalDtype):
                df[col] = df[col].cat.set_categories(sorted(df[col].cat.categories))
        geo = self.geography()
        df["locality"] = df["ward_code"].map(geo.ward_localities()).astype("category")
        df["month"] = df["month"].astype("datetime64[us]")
        df["occurred_at"] = df["occurred_at"].astype("datetime64[us]")
        df["location_id"] = df["location_id"].astype("int64")
        df = df[INCIDENT_COLUMNS]
        with self._lock:
            self._frame = (version, df)
        return df

    def assignment_summary(self) -> pd.DataFrame:
        """How locations were assigned to areas, with their incidents.

        Returns
        -------
        One row per way (``polygon``, ``reported_lsoa``, and for locations in no area the kind
        of reason, e.g. ``unassigned: no reported LSOA code``), with columns ``assigned_by``,
        ``locations`` and ``incidents``.
        """
        if not self._assigned_by:
            return self.sql(
                "SELECT CASE WHEN l.lsoa_code IS NULL THEN 'unassigned' ELSE 'polygon' END AS assigned_by, "
                "count(DISTINCT l.location_id) AS locations, count(*) AS incidents FROM incidents i "
                "JOIN locations l USING (location_id) GROUP BY 1 ORDER BY 3 DESC"
            )
        return self.sql(
            "SELECT coalesce(l.assigned_by, 'unassigned: ' || coalesce(split_part(l.assign_note, ':', 1), "
            "'not yet checked')) AS assigned_by, count(DISTINCT l.location_id) AS locations, "
            "count(*) AS incidents FROM incidents i JOIN locations l USING (location_id) GROUP BY 1 ORDER BY 3 DESC"
        )

    def locations(self) -> pd.DataFrame:
        """The unique locations with their assigned areas."""
        return self.sql("SELECT * FROM locations ORDER BY location_id")

    def months(self) -> list[pd.Timestamp]:
        """The months that hold incidents, oldest first."""
        df = self.sql("SELECT DISTINCT month FROM incidents ORDER BY month")
        return [pd.Timestamp(m) for m in df["month"]]


def open_store(path: Path | str | None = None, *, read_only: bool = False) -> Store:
    """Open (creating if needed) the store at ``path`` or the default path."""
    return Store(path, read_only=read_only)


def empty_incidents() -> pd.DataFrame:
    """An incident frame with no rows and the right columns."""
    df = pd.DataFrame({c: pd.Series(dtype="object") for c in INCIDENT_COLUMNS})
    df["month"] = pd.Series(dtype="datetime64[ns]")
    for c in ("lon", "lat", "x", "y"):
        df[c] = pd.Series(dtype="float64")
    df["location_id"] = pd.Series(dtype="int64")
    return df


__all__ = ["Store", "open_store", "default_path", "INCIDENT_COLUMNS", "empty_incidents"]
