"""The server store: PostgreSQL with PostGIS behind the same :class:`hotspots.store.Store` API.

``HOTSPOTS_STORE=postgresql://user@host:5432/db`` (or ``--store URL``) selects it. The tables
are those of the embedded store, created from the same portable DDL through
:func:`hotspots.pg_sql.to_postgres` (``DOUBLE`` → ``DOUBLE PRECISION``, ``BLOB`` → ``BYTEA``); PostGIS (installed in its own schema
``postgis``, since it defines a type named like the store's ``geography`` table) adds views with
point geometries in EPSG:27700 for GIS desktops (``locations_geom``, ``incidents_geom``).

Guarantees, as for the embedded store
-------------------------------------
* Every write (:meth:`hotspots.store.Store.transaction`) is one PostgreSQL transaction that
  first takes one transaction-scoped advisory lock, so writes take turns (a second load waits
  for the first to commit, then sees its rows: nothing is lost and nothing counted twice).
* A client killed mid-load leaves nothing: the server rolls back the open transaction.
* Readers use their own autocommit connection and see the last committed state.

Loads (:func:`hotspots.ingest.ingest`) run the embedded store's own write logic on an
in-memory DuckDB copy of what a load reads (:func:`mirror`: the locations, the load log, and
only the stored incidents the load meets: those with its ids, found by index, and those at
locations no polygon holds), then send the difference (new incidents, locations, rejected rows
and log lines; changed outcomes, areas and flags) to PostgreSQL in the same transaction with
``COPY``. So both backends give the same rows by construction, and a monthly load costs in
proportion to the month. The reported-code rule's counts of every incident by code and month
are kept on the server by triggers (``reported_coverage``).

Reads outside a write go through ADBC's PostgreSQL driver (binary ``COPY`` decoded into Arrow
in C++; psycopg hands each row to Python). The incident frame is read as the incidents' own
columns plus the locations once, joined and sorted with Arrow (:meth:`ServerBackend.incident_table`);
:meth:`hotspots.store.Store.incidents_where` sends a filter's conditions with it, served by the
``(category, month)`` and BRIN ``month`` indexes.

Other modules' tables: write portable SQL (``VARCHAR``, ``INTEGER``/``BIGINT``, ``DOUBLE``,
``DATE``, ``TIMESTAMP``, ``BOOLEAN``, ``BLOB``; ``?`` parameters); the connection a
transaction yields translates it. ``con.register(name, frame)`` makes a temporary table.

Passwords: give them through ``~/.pgpass`` or ``$PGPASSWORD`` rather than the URL (the store's
label, printed by the command line, drops any password from the URL).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from hotspots._errors import InputError
from hotspots.pg_sql import to_postgres
from hotspots.store import INCIDENT_OWN_COLUMNS, LOCATION_COLUMNS

#: The advisory lock key every write takes (one writer at a time, as the embedded store's flock).
WRITE_LOCK_KEY = 0x686F7473  # "hots"

_OID_ARROW = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    25: pa.string(),
    700: pa.float32(),
    701: pa.float64(),
    1042: pa.string(),
    1043: pa.string(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
    1700: pa.float64(),
}

POSTGIS_VIEWS = """
CREATE OR REPLACE VIEW locations_geom AS
SELECT l.*, postgis.ST_SetSRID(postgis.ST_MakePoint(l.x, l.y), 27700)::postgis.geometry(Point, 27700) AS geom
FROM locations l;
CREATE OR REPLACE VIEW incidents_geom AS
SELECT i.*, l.lsoa_code, l.ward_code, l.district_code,
       postgis.ST_SetSRID(postgis.ST_MakePoint(l.x, l.y), 27700)::postgis.geometry(Point, 27700) AS geom
FROM incidents i JOIN locations l USING (location_id);
"""
#: ``duckdb_columns()`` for the library's schema checks (a temporary table's database is ``temp``).
DUCKDB_COLUMNS = """
CREATE OR REPLACE FUNCTION duckdb_columns()
RETURNS TABLE (database_name text, table_name text, column_name text) LANGUAGE sql STABLE AS $$
SELECT CASE WHEN c.table_schema LIKE 'pg_temp%' THEN 'temp' ELSE c.table_catalog::text END,
       c.table_name::text, c.column_name::text
FROM information_schema.columns c
$$
"""
#: Lookups by id (loads) and location; a few categories over a period, and a period alone (BRIN:
#: rows arrive month by month), for :meth:`hotspots.store.Store.incidents_where`.
INDEXES = """
CREATE INDEX IF NOT EXISTS incidents_incident_id ON incidents (incident_id);
CREATE INDEX IF NOT EXISTS incidents_ingest_id ON incidents (ingest_id);
CREATE INDEX IF NOT EXISTS incidents_location_id ON incidents (location_id);
CREATE INDEX IF NOT EXISTS locations_location_id ON locations (location_id);
CREATE INDEX IF NOT EXISTS incident_extras_incident_id ON incident_extras (incident_id);
CREATE INDEX IF NOT EXISTS incidents_category_month ON incidents (category, month);
CREATE INDEX IF NOT EXISTS incidents_month_brin ON incidents USING brin (month);
"""


def _label(url: str) -> str:
    """The URL without its password (for messages and the dashboard's cache keys)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = (parts.username or "") + "@" + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class Result:
    """What :meth:`Connection.execute` returns: ``fetchall()``, ``fetchone()``, ``df()``."""

    def __init__(self, cursor):
        self._cur = cursor

    def fetchall(self) -> list[tuple]:
        """All rows."""
        return self._cur.fetchall() if self._cur.description else []

    def fetchone(self) -> tuple | None:
        """The next row, or None."""
        return self._cur.fetchone() if self._cur.description else None

    def df(self) -> pd.DataFrame:
        """The rows as a DataFrame (dates as datetime64, numerics as floats, bytea as bytes)."""
        desc = self._cur.description
        if not desc:
            return pd.DataFrame()
        cols = [d.name for d in desc]
        df = pd.DataFrame(self._cur.fetchall(), columns=cols)
        for d in desc:
            col = df[d.name]
            if d.type_code in (1082, 1114) and len(col):
                df[d.name] = pd.to_datetime(col)
            elif d.type_code == 1700 and len(col):
                df[d.name] = pd.to_numeric(col.map(lambda v: float(v) if isinstance(v, Decimal) else v))
            elif d.type_code == 17:
                df[d.name] = col.map(lambda v: bytes(v) if v is not None else None)
        return df


class Connection:
    """A psycopg connection that takes the embedded store's SQL (see :func:`to_postgres`)."""

    def __init__(self, conn):
        self.raw = conn

    def execute(self, query: str, params: list | tuple | None = None) -> Result:
        """Run one statement of the store's SQL (``?`` parameters)."""
        cur = self.raw.cursor()
        if params:
            cur.execute(to_postgres(query, params=True), [_plain(p) for p in params])
        else:
            cur.execute(to_postgres(query))
        return Result(cur)

    def register(self, name: str, data: pd.DataFrame | pa.Table) -> None:
        """Make ``data`` a temporary table ``name`` (as DuckDB's ``register`` makes a view)."""
        table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
        cols = ", ".join(f'"{f.name}" {_pg_type(f.type)}' for f in table.schema)
        with self.raw.cursor() as cur:
            cur.execute(f'DROP TABLE IF EXISTS "{name}"')
            cur.execute(f'CREATE TEMP TABLE "{name}" ({cols})')
        copy_in(self, name, table)

    def unregister(self, name: str) -> None:
        """Drop the temporary table ``name``."""
        with self.raw.cursor() as cur:
            cur.execute(f'DROP TABLE IF EXISTS "{name}"')


def _plain(value: object) -> object:
    """NumPy scalars and pandas timestamps as the Python values psycopg adapts."""
    if hasattr(value, "item") and not isinstance(value, (bytes, str)):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _pg_type(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_integer(t):
        return "BIGINT"
    if pa.types.is_floating(t):
        return "DOUBLE PRECISION"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "BYTEA"
    return "TEXT"


def _csv_ready(table: pa.Table) -> pa.Table:
    """Dictionary columns decoded and null-typed columns as text, for the CSV writer."""
    cols = []
    for col in table.columns:
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        elif pa.types.is_null(col.type):
            col = col.cast(pa.string())
        elif pa.types.is_timestamp(col.type) and col.type.tz is not None:
            col = col.cast(pa.timestamp("us"))
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def copy_in(con: Connection, name: str, table: pa.Table, *, chunk_rows: int = 200_000) -> None:
    """Append an Arrow table to a PostgreSQL table with ``COPY … FROM STDIN`` (CSV, in chunks)."""
    if table.num_rows == 0:
        return
    table = _csv_ready(table)
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    opts = pacsv.WriteOptions(include_header=False)
    with con.raw.cursor() as cur, cur.copy(f'COPY "{name}" ({cols}) FROM STDIN (FORMAT csv)') as cp:
        for start in range(0, table.num_rows, chunk_rows):
            buf = io.BytesIO()
            pacsv.write_csv(table.slice(start, chunk_rows), buf, write_options=opts)
            cp.write(buf.getvalue())


def read_arrow(con: Connection, query: str) -> pa.Table:
    """A query's rows as an Arrow table, through ``COPY … TO STDOUT`` (CSV parsed by Arrow)."""
    sql = to_postgres(query)
    with con.raw.cursor() as cur:
        cur.execute(f"SELECT * FROM ({sql}) AS q LIMIT 0")
        desc = cur.description
        buf = io.BytesIO()
        with cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as cp:
            for block in cp:
                buf.write(block)
    names = [d.name for d in desc]
    types = {d.name: _OID_ARROW.get(d.type_code, pa.string()) for d in desc}
    if buf.tell() == 0:
        return pa.table({n: pa.array([], types[n]) for n in names})
    buf.seek(0)
    return pacsv.read_csv(
        buf,
        read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            null_values=[""],
            true_values=["t"],
            false_values=["f"],
        ),
    )


_FIELD_SEP, _NULL_MARK = "\x1e", "\x1f"


def read_packed(con: Connection, query: str) -> pa.Table:
    """A query's rows as an Arrow table, each column sent as one value (for reads in a write).

    Parameters
    ----------
    con
        A psycopg connection of the store (a load's transaction: what it reads must be read
        there, under the write lock).
    query
        SQL in the store's dialect.

    Returns
    -------
    The rows with the types :func:`read_arrow` gives.

    Notes
    -----
    psycopg hands ``COPY`` data to Python one row at a time (about 10 µs a row, the cost of
    reading 100k rows in a load). Here the server joins each column's text into one value
    (``string_agg``, separated by U+001E, NULL as U+001F) and Arrow splits it. A value holding
    either control character would shift the columns: the split is counted, and a mismatch falls
    back to :func:`read_arrow`, as does a type Arrow cannot parse from PostgreSQL's text.
    """
    sql = to_postgres(query)
    with con.raw.cursor() as cur:
        cur.execute(f"SELECT * FROM ({sql}) AS q LIMIT 0")
        desc = cur.description
    names = [d.name for d in desc]
    types = [_OID_ARROW.get(d.type_code, pa.string()) for d in desc]
    if any(pa.types.is_boolean(t) for t in types) or len(set(names)) != len(names):
        return read_arrow(con, query)
    parts = ", ".join(
        f"convert_to(string_agg(coalesce(q.\"{n}\"::text, E'\\x1f'), E'\\x1e'), 'UTF8')" for n in names
    )
    with con.raw.cursor(binary=True) as cur:
        cur.execute(f"SELECT count(*), {parts} FROM ({sql}) AS q")
        row = cur.fetchone()
    count = int(row[0])
    if count == 0:
        return pa.table({n: pa.array([], t) for n, t in zip(names, types, strict=True)})
    sep = _FIELD_SEP.encode()
    null = pa.scalar(_NULL_MARK.encode(), pa.binary())
    cols = []
    for value, typ in zip(row[1:], types, strict=True):
        col = pc.split_pattern(pa.array([bytes(value)], pa.binary()), pattern=sep).values
        if len(col) != count:
            return read_arrow(con, query)
        col = pc.if_else(pc.equal(col, null), pa.scalar(None, pa.binary()), col)
        try:
            col = col.cast(pa.string()).cast(typ)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return read_arrow(con, query)
        cols.append(col)
    return pa.table(cols, names=names)


#: Session settings of every store connection. The incident frame's reads are whole-table
#: scans: JIT compilation costs seconds and saves nothing there, and sorts fit in a larger
#: work_mem. The tables are read from memory or SSD: PostgreSQL's default random_page_cost (4,
#: for spinning disks) makes it scan 1M incidents rather than look up a month's ids by index.
SESSION = (
    "SET TIME ZONE 'UTC'",
    "SET jit = off",
    "SET work_mem = '128MB'",
    "SET random_page_cost = 1.1",
)


def sort_incidents(table: pa.Table) -> pa.Table:
    """Rows by ``month``, ``ingest_id``, ``line`` (the frame's order); those keys dropped but month.

    Rows usually come back from the heap already in that order (monthly loads append in
    order): a linear check skips the sort then.
    """
    month = table.column("month").cast(pa.int32()).to_numpy()
    load = table.column("ingest_id").to_numpy()
    line = table.column("line").to_numpy()
    dm, dg, dl = np.diff(month), np.diff(load), np.diff(line)
    if not bool(np.all((dm > 0) | ((dm == 0) & ((dg > 0) | ((dg == 0) & (dl >= 0)))))):
        table = table.take(np.lexsort((line, load, month)))
    return table.drop_columns(["ingest_id", "line"])


def join_locations(incidents: pa.Table, locations: pa.Table) -> pa.Table:
    """Each incident with its location's :data:`LOCATION_COLUMNS` (missing without a location).

    ``location_id`` becomes -1 for incidents with none, as in the embedded store's query.
    """
    ids = incidents.column("location_id").to_numpy(zero_copy_only=False)
    ids = np.where(np.isnan(ids), -1, ids).astype(np.int64) if ids.dtype.kind == "f" else ids.astype(np.int64)
    loc_ids = locations.column("location_id").to_numpy().astype(np.int64)
    size = int(max(loc_ids.max(initial=-1), ids.max(initial=-1))) + 1
    where = np.full(size + 1, -1, dtype=np.int64)  # the last slot answers -1 (no location)
    where[loc_ids] = np.arange(len(loc_ids))
    pos = where[np.where(ids >= 0, ids, size)]
    take = pa.array(pos, mask=pos < 0)
    cols = [incidents.column(c) for c in INCIDENT_OWN_COLUMNS if c != "location_id"]
    names = [c for c in INCIDENT_OWN_COLUMNS if c != "location_id"]
    k = names.index("flags")
    cols.insert(k, pa.array(ids.astype(np.int32)))
    names.insert(k, "location_id")
    for c in LOCATION_COLUMNS:
        cols.append(locations.column(c).take(take))
        names.append(c)
    cols.append(incidents.column("extra"))
    names.append("extra")
    return pa.table(cols, names=names)


def _has_adbc() -> bool:
    """True when ADBC's PostgreSQL driver is installed (a dependency; without it reads are slower)."""
    try:
        import adbc_driver_postgresql.dbapi  # noqa: F401
    except ImportError:  # pragma: no cover - an environment not synced to requirements.lock
        return False
    return True


class ServerBackend:
    """The PostgreSQL side of :class:`hotspots.store.Store`."""

    def __init__(self, url: str):
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - psycopg is a dependency
            raise InputError("the PostgreSQL store needs psycopg: pip install 'psycopg[binary]'") from exc
        self.url = url
        self.label = _label(url)
        self._psycopg = psycopg
        self._con: Connection | None = None
        self._adbc = None
        self._locations: tuple[tuple, pa.Table] | None = None

    def _connect(self, *, autocommit: bool) -> Connection:
        try:
            raw = self._psycopg.connect(self.url, autocommit=autocommit)
        except self._psycopg.Error as exc:
            raise InputError(
                f"cannot connect to the store {self.label}: {' '.join(str(exc).split())}"
            ) from exc
        for setting in SESSION:
            raw.execute(setting)
        return Connection(raw)

    def _arrow_reader(self):
        """The ADBC connection bulk reads use (autocommit; reconnected after an error)."""
        if self._adbc is None:
            import adbc_driver_postgresql.dbapi as adbc

            try:
                con = adbc.connect(self.url, autocommit=True)
            except adbc.Error as exc:
                raise InputError(
                    f"cannot connect to the store {self.label}: {' '.join(str(exc).split())}"
                ) from exc
            with con.cursor() as cur:
                for setting in SESSION:
                    cur.execute(setting)
            self._adbc = con
        return self._adbc

    def _read_adbc(self, sql: str) -> pa.Table:
        import adbc_driver_postgresql.dbapi as adbc

        for attempt in (1, 2):
            con = self._arrow_reader()
            try:
                with con.cursor() as cur:
                    cur.execute(sql)
                    table = cur.fetch_arrow_table()
                break
            except adbc.OperationalError:
                self._close_adbc()  # a dropped connection: once more on a new one
                if attempt == 2:
                    raise
        # plain fields (ADBC tags each with its PostgreSQL type)
        return table.cast(pa.schema([pa.field(f.name, f.type) for f in table.schema]))

    def _close_adbc(self) -> None:
        if self._adbc is not None:
            try:
                self._adbc.close()
            except Exception:  # closing a broken connection
                pass
            self._adbc = None

    def exists(self) -> bool:
        """True when the store's tables are there."""
        return self.has_table(self.reader(), "ingests")

    def reader(self) -> Connection:
        """The autocommit connection reads use (reconnected if it broke)."""
        if self._con is None or self._con.raw.closed or self._con.raw.broken:
            self._con = self._connect(autocommit=True)
        return self._con

    @contextmanager
    def writer(self) -> Iterator[Connection]:
        """A transaction on its own connection, holding the write lock; committed when the block ends."""
        con = self._connect(autocommit=False)
        try:
            con.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
            try:
                yield con
            except BaseException:
                con.raw.rollback()
                raise
            con.raw.commit()
        finally:
            con.raw.close()

    def arrow(self, con: Connection, query: str) -> pa.Table:
        """A query's rows as Arrow.

        Outside a write, through ADBC's PostgreSQL driver (binary ``COPY`` decoded in C++ into
        Arrow: psycopg hands each row to Python, about 10 µs a row); inside a write transaction,
        on its own connection (:func:`read_arrow`), so the transaction's changes are seen.
        """
        if con is not self._con or not _has_adbc():
            return read_arrow(con, query)
        return self._read_adbc(to_postgres(query))

    def incident_table(self, con: Connection, *, extras: bool, where: str = "") -> pa.Table:
        """The incident frame's rows: incidents from the server, areas joined here.

        The server sends each incident's own columns (only those ``where`` keeps, a condition
        from :func:`hotspots.store.filter_sql`), and the locations once; the coordinates and
        areas are joined by ``location_id`` with Arrow, and the rows sorted by month, load and
        line with Arrow too. Both are much cheaper here than on the server, which would send
        seven more columns per incident (four of them 17-digit floats) and sort 1M wide rows in
        one process.
        """
        if extras:  # no partner columns kept: no join (the column is all missing either way)
            extras = bool(con.execute("SELECT EXISTS (SELECT 1 FROM incident_extras)").fetchall()[0][0])
        cols = ", ".join(f"i.{c}" for c in INCIDENT_OWN_COLUMNS)
        query = (
            f"SELECT {cols}, {'e.extra' if extras else 'CAST(NULL AS VARCHAR) AS extra'}, "
            "i.ingest_id, i.line FROM incidents i "
            + ("LEFT JOIN incident_extras e ON e.incident_id = i.incident_id " if extras else "")
            + (f"WHERE {where}" if where else "")
        )
        inc = self.arrow(con, query)
        return join_locations(sort_incidents(inc), self.locations(con))

    def locations(self, con: Connection) -> pa.Table:
        """The locations the incident frame joins, kept between reads while ``locations_version`` stays.

        The counter is raised by a trigger on every change to ``locations`` (whoever makes it),
        and read before the locations: a load committing in between only makes the next read
        fetch them again. Inside a write, and on stores without the counter, always fetched.
        """
        version = None
        if con is self._con:
            try:
                # with the database's oid: a database dropped and restored under its name is new
                version = con.raw.execute(
                    "SELECT (SELECT oid FROM pg_database WHERE datname = current_database()), n "
                    "FROM locations_version"
                ).fetchone()
            except self._psycopg.errors.UndefinedTable:
                version = None
        if version is not None and self._locations is not None and self._locations[0] == version:
            return self._locations[1]
        locs = self.arrow(con, f"SELECT location_id, {', '.join(LOCATION_COLUMNS)} FROM locations")
        if version is not None:
            self._locations = (version, locs)
        return locs

    def has_table(self, con: Connection, table: str) -> bool:
        """True when ``table`` exists in the store's schema."""
        row = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_name = ?",
            [table],
        ).fetchall()
        return bool(row[0][0])

    def has_column(self, con: Connection, table: str, column: str) -> bool:
        """True when ``table`` has ``column``."""
        row = con.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? AND column_name = ?",
            [table, column],
        ).fetchall()
        return bool(row[0][0])

    def create_schema(self, con: Connection, schema: str) -> None:
        """PostGIS, the tables (portable DDL translated), indexes and the geometry views."""
        try:
            # in its own schema: PostGIS defines a type called geography, the name of a store table
            con.execute("CREATE SCHEMA IF NOT EXISTS postgis")
            con.execute("CREATE EXTENSION IF NOT EXISTS postgis SCHEMA postgis")
        except self._psycopg.Error as exc:
            raise InputError(
                f"the store {self.label} needs the PostGIS extension ({' '.join(str(exc).split())}); install "
                "postgresql-15-postgis-3 on the server, or have an administrator run CREATE EXTENSION postgis"
            ) from exc
        for statement in schema.split(";"):
            if statement.strip():
                con.execute(statement)
        con.execute(INDEXES)
        con.execute(POSTGIS_VIEWS)
        con.execute(DUCKDB_COLUMNS)
        ensure_coverage(con)

    def close(self) -> None:
        """Close the reading connections."""
        if self._con is not None:
            self._con.raw.close()
            self._con = None
        self._close_adbc()


# ---------------------------------------------------------------------- loads
STORE_TABLES = ("incidents", "locations", "ingests")

#: Incidents by reported LSOA code and month, kept by triggers on ``incidents`` (server store only):
#: the coverage rule of :func:`hotspots.assign.assign_from_reported` reads it instead of every incident.
COVERAGE_DDL = """
CREATE TABLE IF NOT EXISTS reported_coverage (
    code VARCHAR NOT NULL, month DATE NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (code, month)
);
CREATE OR REPLACE FUNCTION reported_coverage_change() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM reported_coverage;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO reported_coverage AS c (code, month, n)
        SELECT lsoa_code_reported, month, count(*) FROM new_rows
        WHERE lsoa_code_reported IS NOT NULL AND lsoa_code_reported <> '' GROUP BY 1, 2
        ON CONFLICT (code, month) DO UPDATE SET n = c.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE reported_coverage c SET n = c.n - o.n FROM (
            SELECT lsoa_code_reported AS code, month, count(*) AS n FROM old_rows
            WHERE lsoa_code_reported IS NOT NULL AND lsoa_code_reported <> '' GROUP BY 1, 2
        ) o WHERE c.code = o.code AND c.month = o.month;
    ELSE
        INSERT INTO reported_coverage AS c (code, month, n)
        SELECT code, month, sum(n) FROM (
            SELECT lsoa_code_reported AS code, month, count(*) AS n FROM new_rows
            WHERE lsoa_code_reported IS NOT NULL AND lsoa_code_reported <> '' GROUP BY 1, 2
            UNION ALL
            SELECT lsoa_code_reported, month, -count(*) FROM old_rows
            WHERE lsoa_code_reported IS NOT NULL AND lsoa_code_reported <> '' GROUP BY 1, 2
        ) d GROUP BY 1, 2 HAVING sum(n) <> 0
        ON CONFLICT (code, month) DO UPDATE SET n = c.n + excluded.n;
    END IF;
    DELETE FROM reported_coverage WHERE n <= 0;
    RETURN NULL;
END $f$;
DROP TRIGGER IF EXISTS reported_coverage_insert ON incidents;
CREATE TRIGGER reported_coverage_insert AFTER INSERT ON incidents
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION reported_coverage_change();
DROP TRIGGER IF EXISTS reported_coverage_update ON incidents;
CREATE TRIGGER reported_coverage_update AFTER UPDATE ON incidents
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reported_coverage_change();
DROP TRIGGER IF EXISTS reported_coverage_delete ON incidents;
CREATE TRIGGER reported_coverage_delete AFTER DELETE ON incidents
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION reported_coverage_change();
DROP TRIGGER IF EXISTS reported_coverage_truncate ON incidents;
CREATE TRIGGER reported_coverage_truncate AFTER TRUNCATE ON incidents
    FOR EACH STATEMENT EXECUTE FUNCTION reported_coverage_change();
CREATE TABLE IF NOT EXISTS locations_version (n BIGINT NOT NULL);
INSERT INTO locations_version SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM locations_version);
CREATE OR REPLACE FUNCTION locations_version_bump() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    UPDATE locations_version SET n = n + 1;
    RETURN NULL;
END $f$;
DROP TRIGGER IF EXISTS locations_version_bump ON locations;
CREATE TRIGGER locations_version_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON locations
    FOR EACH STATEMENT EXECUTE FUNCTION locations_version_bump();
"""


def ensure_coverage(con: Connection) -> None:
    """Create ``reported_coverage`` and its triggers if missing, filled from the stored incidents.

    Runs in the caller's write transaction (a store from before the table gets it on its next
    load, in one full count; every later change to ``incidents`` keeps it up to date), with the
    indexes a store from before them lacks (:data:`INDEXES`) and ``locations_version``, a
    counter every change to ``locations`` raises (readers keep the locations until it moves).
    """
    have = con.raw.execute(
        "SELECT to_regclass('reported_coverage') IS NOT NULL, to_regclass('locations_version') IS NOT NULL"
    ).fetchone()
    if all(have):
        return
    con.raw.execute(INDEXES)
    con.raw.execute(COVERAGE_DDL)
    if not have[0]:
        con.raw.execute(
            "INSERT INTO reported_coverage SELECT lsoa_code_reported, month, count(*) FROM incidents "
            "WHERE lsoa_code_reported IS NOT NULL AND lsoa_code_reported <> '' GROUP BY 1, 2"
        )


def mirror(con: Connection, *, incident_ids: pa.Array | None = None):
    """An in-memory DuckDB holding what a load reads of the store.

    Parameters
    ----------
    con
        The load's write transaction.
    incident_ids
        The incident ids the load brings (street rows and outcomes). None: every stored incident
        is copied (the behaviour before incremental loads).

    Returns
    -------
    The DuckDB connection, with the embedded schema: every location and load-log row; of the
    incidents, those with one of ``incident_ids`` (to dedupe against and update) and those at
    locations no polygon holds (which :func:`hotspots.assign.assign_from_reported` counts and
    re-flags); and ``stored_coverage``, every stored incident by reported code and month (the
    same function's coverage rule). ``rejected``, ``localities`` and ``geography`` stay empty:
    a load only appends to ``rejected`` and reads the geography it is given.

    Notes
    -----
    So a monthly load costs in proportion to the month, not to the store: the ids go to a
    temporary table, and the server picks the matching incidents by index.
    """
    import duckdb

    from hotspots.store import SCHEMA

    duck = duckdb.connect(":memory:")
    duck.execute(SCHEMA)
    ensure_coverage(con)
    for table in STORE_TABLES:
        cols = [r[0] for r in duck.execute(f"DESCRIBE {table}").fetchall()]
        query = f"SELECT {', '.join(cols)} FROM {table}"
        if table == "incidents" and incident_ids is not None:
            if not con.raw.execute("SELECT EXISTS (SELECT 1 FROM incidents)").fetchone()[0]:
                continue  # a first load: nothing to meet
            con.register("load_ids", pa.table({"incident_id": pc.unique(incident_ids.cast(pa.string()))}))
            con.raw.execute("ANALYZE load_ids")
            query = (
                f"{query} WHERE incident_id IN (SELECT incident_id FROM load_ids) UNION {query} "
                "WHERE location_id IN (SELECT location_id FROM locations "
                "WHERE assigned_by IS DISTINCT FROM 'polygon')"
            )
        data = read_packed(con, query)
        duck.register("pulled", data)
        duck.execute(f"INSERT INTO {table} SELECT * FROM pulled")
        duck.unregister("pulled")
    con.unregister("load_ids")
    coverage = read_packed(con, "SELECT code, month, n FROM reported_coverage")
    duck.register("pulled", coverage)
    duck.execute("CREATE TABLE stored_coverage AS SELECT code, CAST(month AS DATE) AS month, n FROM pulled")
    duck.unregister("pulled")
    duck.execute(
        "CREATE TABLE incidents_before AS SELECT incident_id, outcome, outcome_month, flags FROM incidents"
    )
    duck.execute("CREATE TABLE locations_before AS SELECT * FROM locations")
    return duck


def push(duck, con: Connection, *, first_ingest_id: int) -> None:
    """Send what a load changed in the mirror to PostgreSQL (in the caller's transaction)."""
    loc_cols = [r[0] for r in duck.execute("DESCRIBE locations").fetchall()]
    changed_locs = duck.sql(
        f"SELECT {', '.join('l.' + c for c in loc_cols)} FROM locations l JOIN locations_before b USING (location_id) "
        "WHERE " + " OR ".join(f"l.{c} IS DISTINCT FROM b.{c}" for c in loc_cols if c != "location_id")
    ).to_arrow_table()
    if changed_locs.num_rows:
        con.register("changed_locations", changed_locs)
        sets = ", ".join(f"{c} = u.{c}" for c in loc_cols if c != "location_id")
        con.execute(
            f"UPDATE locations SET {sets} FROM changed_locations u WHERE locations.location_id = u.location_id"
        )
        con.unregister("changed_locations")
    new_locs = duck.sql(
        "SELECT * FROM locations WHERE location_id NOT IN (SELECT location_id FROM locations_before)"
    ).to_arrow_table()
    copy_in(con, "locations", new_locs)
    changed_inc = duck.sql(
        "SELECT i.incident_id, i.outcome, i.outcome_month, i.flags FROM incidents i "
        "JOIN incidents_before b USING (incident_id) WHERE i.outcome IS DISTINCT FROM b.outcome "
        "OR i.outcome_month IS DISTINCT FROM b.outcome_month OR i.flags IS DISTINCT FROM b.flags"
    ).to_arrow_table()
    if changed_inc.num_rows:
        con.register("changed_incidents", changed_inc)
        con.execute(
            "UPDATE incidents SET outcome = u.outcome, outcome_month = u.outcome_month, flags = u.flags "
            "FROM changed_incidents u WHERE incidents.incident_id = u.incident_id"
        )
        con.unregister("changed_incidents")
    for table in ("incidents", "rejected", "ingests"):
        rows = duck.sql(f"SELECT * FROM {table} WHERE ingest_id >= {int(first_ingest_id)}").to_arrow_table()
        copy_in(con, table, rows)
    # partner columns kept by a mapping (the mirror starts with none: every row is this load's)
    copy_in(con, "incident_extras", duck.sql("SELECT * FROM incident_extras").to_arrow_table())
    # fresh planner statistics: without them PostgreSQL misjudges the size of every later read.
    # The small tables always; incidents when this load added a tenth or more (autovacuum's own
    # threshold: a monthly load leaves it to autovacuum rather than sample 1M rows each time)
    con.execute("ANALYZE locations, incident_extras, rejected, ingests")
    added = duck.execute(
        f"SELECT count(*) FROM incidents WHERE ingest_id >= {int(first_ingest_id)}"
    ).fetchall()
    stored = con.raw.execute("SELECT reltuples FROM pg_class WHERE oid = 'incidents'::regclass").fetchone()
    if float(stored[0]) < 0 or added[0][0] * 10 >= float(stored[0]):
        con.execute("ANALYZE incidents")
