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
environment variable or the ``--store`` option. A ``postgresql://`` URL there selects the
server store (PostgreSQL with PostGIS, :mod:`hotspots.store_server`): same tables, same results.

The embedded store's files: readers never block writers
--------------------------------------------------------
See :mod:`hotspots.store_embedded`: readers attach the file read-only; a write takes a lock,
writes a snapshot and swaps it in atomically.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow.compute as pc

import boundaries
from hotspots._errors import HotspotsError, InputError
from hotspots.store_embedded import (  # noqa: F401 (write_lock, lock_timeout: part of this module's interface)
    DEFAULT_LOCK_TIMEOUT,
    LOCK_TIMEOUT_VAR,
    _Embedded,
    _Memory,
    _quote,
    lock_timeout,
    write_lock,
)

log = logging.getLogger(__name__)

ENV_VAR = "HOTSPOTS_STORE"
DEFAULT_PATH = Path("data") / "hotspots.duckdb"
#: URL prefixes that select the server store.
SERVER_SCHEMES = ("postgresql://", "postgres://")

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

#: The incident frame's columns held by the incident itself, in the frame's order.
INCIDENT_OWN_COLUMNS = (
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
)
#: The incident frame's columns taken from the incident's location.
LOCATION_COLUMNS = ("lon", "lat", "x", "y", "lsoa_code", "ward_code", "district_code")
#: The incident frame's columns: its own, its location's, then the locality and partner columns.
INCIDENT_COLUMNS = [*INCIDENT_OWN_COLUMNS, *LOCATION_COLUMNS, "locality", "extra"]


def incidents_query(*, extras: bool = True, where: str = "") -> str:
    """The incident frame's query: every incident with its location's coordinates and areas.

    ``extras``: join the partner columns kept in ``incident_extras`` (False for stores from
    before that table; the column is then all missing). ``where``: a condition on the
    incidents (alias ``i``), as :func:`filter_sql` writes it; empty: every incident.
    """
    return f"""
    SELECT i.incident_id, i.source, i.month, i.occurred_at, i.category, i.outcome,
           i.location_name, i.lsoa_code_reported,
           coalesce(i.location_id, -1) AS location_id, i.flags,
           l.lon, l.lat, l.x, l.y, l.lsoa_code, l.ward_code, l.district_code,
           {"e.extra" if extras else "CAST(NULL AS VARCHAR) AS extra"}
    FROM incidents i LEFT JOIN locations l USING (location_id)
    {"LEFT JOIN incident_extras e ON e.incident_id = i.incident_id" if extras else ""}
    {f"WHERE {where}" if where else ""}
    ORDER BY i.month, i.ingest_id, i.line
    """


def _literals(values) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def filter_sql(filt, geography: boundaries.Geography) -> str:
    """The part of a :class:`hotspots.filters.Filter` the store can apply: a SQL condition.

    Parameters
    ----------
    filt
        The filter.
    geography
        The store's geography (a locality is the wards the geography gives it).

    Returns
    -------
    A condition on the incidents (alias ``i``) for both backends: month range, months of the
    year, categories, sources, areas (through the locations' codes), days and hours; empty
    when the filter keeps everything. Partner ``extra`` values are not translated: the caller
    applies :meth:`Filter.mask` to what comes back, which also makes the result exactly the
    rows :meth:`Filter.apply` keeps.
    """
    from hotspots.filters import LEVEL_COLUMN, parse_month

    conds = []
    if filt.month_from:
        conds.append(f"i.month >= DATE '{parse_month(filt.month_from):%Y-%m-%d}'")
    if filt.month_to:
        conds.append(f"i.month <= DATE '{parse_month(filt.month_to):%Y-%m-%d}'")
    if filt.months_of_year:
        conds.append(
            f"extract(month FROM i.month) IN ({', '.join(str(int(m)) for m in filt.months_of_year)})"
        )
    if filt.categories:
        conds.append(f"i.category IN ({_literals(filt.categories)})")
    if filt.sources:
        conds.append(f"i.source IN ({_literals(filt.sources)})")
    if filt.areas:
        column, codes = LEVEL_COLUMN[filt.level], list(filt.areas)
        if filt.level == "locality":
            localities = geography.ward_localities()
            column, codes = "ward_code", sorted(localities.index[localities.isin(codes)])
        conds.append(
            f"i.location_id IN (SELECT location_id FROM locations WHERE {column} IN ({_literals(codes)}))"
            if codes
            else "FALSE"
        )
    if filt.days_of_week or filt.hours:
        conds.append("i.occurred_at IS NOT NULL")
    if filt.days_of_week:
        days = ", ".join(str(int(d) + 1) for d in filt.days_of_week)
        conds.append(f"extract(isodow FROM i.occurred_at) IN ({days})")
    if filt.hours:
        conds.append(f"extract(hour FROM i.occurred_at) IN ({', '.join(str(int(h)) for h in filt.hours)})")
    return " AND ".join(conds)


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


class ReadOnlyStoreError(HotspotsError, PermissionError):
    """A write through a store opened read-only (the store is unchanged)."""


def is_server(location: object) -> bool:
    """True when ``location`` is a server store URL (``postgresql://…``)."""
    return str(location).startswith(SERVER_SCHEMES)


def default_path() -> Path | str:
    """The store: ``$HOTSPOTS_STORE`` if set (a file, or a ``postgresql://`` URL), else ``./data/hotspots.duckdb``."""
    env = os.environ.get(ENV_VAR)
    if env and is_server(env):
        return env
    return Path(env or DEFAULT_PATH)


class Store:
    """An open store: a DuckDB file, or a PostgreSQL/PostGIS database given by URL.

    Parameters
    ----------
    path
        The DuckDB file (created with its folder on the first write), or a ``postgresql://``
        URL. None: :func:`default_path`.
    read_only
        Never write (not even the schema); the store must exist.

    Notes
    -----
    No connection that could stop another process is ever held: see the module notes. The
    public API (``transaction``, ``sql``, ``incidents``, ``geography``, ``version``) is the
    same for both backends.
    """

    def __init__(self, path: Path | str | None = None, *, read_only: bool = False):
        location = path if path is not None else default_path()
        self.read_only = read_only
        self._lock = threading.RLock()
        self._local = threading.local()
        self._frame: tuple[int, pd.DataFrame] | None = None
        self._geo: tuple[int, boundaries.Geography] | None = None
        if is_server(location):
            from hotspots.store_server import ServerBackend

            self._db = ServerBackend(str(location))
            self.backend = "postgresql"
            self.path = self._db.label
        else:
            self.path = Path(location)
            self._db = _Memory() if str(location) == ":memory:" else _Embedded(self.path)
            self.backend = "duckdb"
        if read_only and not self._db.exists():
            raise InputError(f"no store at {self.path}; load data first with `hotspots ingest PATH`")
        if not read_only:
            self._ensure_schema()
        self._assigned_by = self._has_column("locations", "assigned_by")

    def _ensure_schema(self) -> None:
        """Create missing tables (one write, only when something is missing) and migrate."""
        tables = re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", SCHEMA)
        if not self._db.exists() or not all(self._has_column(t, None) for t in tables):
            with self.transaction() as con:
                self._db.create_schema(con, SCHEMA)
        self._migrate()

    def _has_column(self, table: str, column: str | None) -> bool:
        with self._reading() as con:
            if column is None:
                return self._db.has_table(con, table)
            return self._db.has_column(con, table, column)

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
        """Close the reading connection (nothing else is ever held open)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def _reading(self) -> Iterator:
        """The connection reads go through: this thread's open transaction, else the reader."""
        txn = getattr(self._local, "txn", None)
        if txn is not None:
            yield txn
            return
        with self._lock:
            yield self._db.reader()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run a block in one transaction: all of it is written, or none of it.

        Writers take turns (the second waits for the first); readers, in this process or any
        other, keep reading the last committed state meanwhile and see the new one on their next
        read after the commit. Inside the block, this store's reads (``sql``, ``version``…) see
        the block's own changes. A nested call joins the outer transaction.

        Raises
        ------
        ReadOnlyStoreError
            If the store was opened read-only.
        InputError
            If another write held the store past the lock timeout.
        """
        outer = getattr(self._local, "txn", None)
        if outer is not None:
            yield outer
            return
        if self.read_only:
            raise ReadOnlyStoreError(
                f"the store {self.path} was opened read-only; open it with read_only=False to change it"
            )
        with self._db.writer() as con:
            self._local.txn = con
            try:
                yield con
            finally:
                self._local.txn = None
        self._frame = None
        self._geo = None

    def sql(self, query: str, params: list | None = None) -> pd.DataFrame:
        """Run a read query and return a DataFrame."""
        with self._reading() as con:
            return con.execute(query, params or []).df()

    # ------------------------------------------------------------------ state
    def version(self) -> int:
        """A number that changes whenever data is loaded (the last ingest id plus settings)."""
        return self._memo("version", self._version)

    def _memo(self, name: str, read: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
        """``read(con)``, remembered until the store file changes (embedded store, outside a write).

        Every page run asks for the version and whether the store is empty several times; the
        file's signature (a ``stat``) says whether the answer can have changed.
        """
        # a server, or an in-memory store (written in place, no file to stat): always read
        if getattr(self._local, "txn", None) is not None or type(self._db) is not _Embedded:
            with self._reading() as con:
                return read(con)
        with self._lock:
            con = self._db.reader()  # re-attached, forgetting the memo, when the file changed
            if name not in self._db.memo:
                self._db.memo[name] = read(con)
            return self._db.memo[name]

    @staticmethod
    def _version(con) -> int:
        n = con.execute(
            "SELECT coalesce(max(ingest_id), 0) * 1000 + (SELECT count(*) FROM localities) % 1000"
            " + (SELECT count(*) FROM geography) FROM ingests"
        ).fetchall()
        return int(n[0][0])

    def is_empty(self) -> bool:
        """True when no file has been loaded."""
        return self._memo(
            "empty", lambda con: con.execute("SELECT count(*) FROM ingests").fetchall()[0][0] == 0
        )

    def counts(self) -> dict[str, int]:
        """Row counts of each table."""
        out = {}
        with self._reading() as con:
            for t in ("incidents", "locations", "rejected", "ingests"):
                out[t] = int(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0])
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
        with self._reading() as con:
            version = self._version(con)
            if self._frame is not None and self._frame[0] == version:
                return self._frame[1]
            has_extras = self._has_column("incident_extras", "extra")
            table = self._db.incident_table(con, extras=has_extras)
        df = self._frame_from(table)
        self._frame = (version, df)
        return df

    def incidents_where(self, filt) -> pd.DataFrame:
        """The incidents a filter keeps, read from the store rather than from the whole frame.

        Parameters
        ----------
        filt
            A :class:`hotspots.filters.Filter`.

        Returns
        -------
        The rows ``filt.apply(store.incidents())`` gives, in the same order, with the same
        columns and dtypes (categoricals hold the values present), and a fresh index. Not
        cached.

        Notes
        -----
        The month range, months of the year, categories, sources, areas, days and hours go to
        the database as a condition (:func:`filter_sql`), so only matching rows are read; then
        :meth:`Filter.mask` runs on them (partner ``extra`` values, and as a check).
        """
        geo = self.geography()
        where = filter_sql(filt, geo)
        with self._reading() as con:
            has_extras = self._has_column("incident_extras", "extra")
            table = self._db.incident_table(con, extras=has_extras, where=where)
        df = self._frame_from(table)
        return df.loc[filt.mask(df)].reset_index(drop=True)

    def _frame_from(self, table) -> pd.DataFrame:
        """The incident frame from the backend's Arrow table (:data:`INCIDENT_COLUMNS` but locality)."""
        # through Arrow: text with few values is dictionary-encoded there, then handed to pandas
        # as categoricals (about 6x faster than .df() and astype at 1M rows)
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
        return df[INCIDENT_COLUMNS]

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


__all__ = [
    "Store",
    "open_store",
    "default_path",
    "is_server",
    "write_lock",
    "INCIDENT_COLUMNS",
    "INCIDENT_OWN_COLUMNS",
    "LOCATION_COLUMNS",
    "empty_incidents",
]
