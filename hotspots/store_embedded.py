"""The embedded store's file: one DuckDB file that readers never wait for.

DuckDB lets one process write a file, and a read-write connection shuts every other process
out. So the store never writes the file in place and never keeps a write connection open:

* **Readers** (the dashboard, ``hotspots summary``, exports) attach the file read-only and keep
  that connection only while the file stays the same; each read first compares the file's
  inode, size and modification time with those seen at attach time (a ``stat``, microseconds)
  and re-attaches when they changed. Any number of processes read at once.
* **A write** (a load, new boundaries or localities, anything in :meth:`Store.transaction`)
  takes an exclusive ``flock`` on ``<store>.lock`` (a second writer waits, up to
  ``$HOTSPOTS_LOCK_TIMEOUT`` seconds, default 600), copies the file to a temporary snapshot
  beside it, writes and checkpoints the snapshot, flushes it to disk and swaps it in with
  ``os.replace`` (atomic on POSIX). Readers that are mid-query keep reading the old inode; their
  next read sees the new file. A writer killed at any point leaves the old file untouched (the
  kernel drops its lock; its snapshot is deleted by the next writer). A transaction that
  changed nothing does not swap.

Chosen over short-lived connections with retry because readers and writers never wait for
each other at all (with DuckDB's file lock, a dashboard reading a large frame would hold a
writer back and a long load would stall every page), and over in-place writes with a lock
server because it needs nothing running. The cost is one file copy per write (about 0.1 s per
100 MB from the page cache), which loads, boundary changes and register edits can afford.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from hotspots._errors import InputError

log = logging.getLogger(__name__)

#: Environment variable: seconds a write waits for another write to finish (default 600).
LOCK_TIMEOUT_VAR = "HOTSPOTS_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 600.0


def lock_timeout() -> float:
    """Seconds a write waits for another one: ``$HOTSPOTS_LOCK_TIMEOUT`` or 600.

    Raises
    ------
    InputError
        If the variable is set but is not a number of seconds.
    """
    raw = os.environ.get(LOCK_TIMEOUT_VAR)
    if not raw:
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise InputError(f"${LOCK_TIMEOUT_VAR} must be a number of seconds (0 or more); got {raw!r}")
    return value


@contextmanager
def write_lock(lock_path: Path, *, timeout: float | None = None) -> Iterator[None]:
    """Hold the exclusive write lock of a store (an ``flock`` on ``lock_path``).

    A second writer, in this process or another, waits until the first is done, or ``timeout``
    seconds (None: :func:`lock_timeout`). The kernel releases the lock when its holder exits,
    however it exits.

    Raises
    ------
    InputError
        If the lock is still held after ``timeout`` seconds (naming the process holding it).
    """
    timeout = lock_timeout() if timeout is None else timeout
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o664)
    try:
        start = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            waited = time.monotonic() - start
            if waited >= timeout:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                raise InputError(
                    f"the store is being written by another process (pid {holder}) and stayed locked for "
                    f"{waited:.0f} s (${LOCK_TIMEOUT_VAR} = {timeout:g}); try again when that load has "
                    "finished, or raise the timeout",
                    file=str(lock_path),
                )
            if not told and waited > 1:
                log.warning("waiting for another write to %s to finish", lock_path)
                told = True
            time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def _file_signature(path: Path) -> tuple:
    """What changes when a store file is swapped or written: inode, size, mtime (and its WAL's)."""
    out: list = []
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            st = os.stat(p)
        except FileNotFoundError:
            out.append(None)
        else:
            out.append((st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(out)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Embedded:
    """The DuckDB file: read-only attachments refreshed on change, writes through snapshots."""

    def __init__(self, path: Path):
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self._con: duckdb.DuckDBPyConnection | None = None
        self._sig: tuple | None = None
        #: answers that hold until the file changes (:meth:`Store._memo`)
        self.memo: dict[str, Any] = {}

    def exists(self) -> bool:
        return self.path.exists()

    def reader(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection to the current file (re-attached when the file changed)."""
        sig = _file_signature(self.path)
        if self._con is None or sig != self._sig:
            if self._con is not None:
                self._con.close()
                self._con = None
            # an in-memory database with the file attached: DuckDB's per-process instance cache
            # would otherwise hand back the instance still open on the old (replaced) file
            con = duckdb.connect(":memory:")
            try:
                con.execute(f"ATTACH '{_quote(self.path)}' AS store (READ_ONLY)")
                con.execute("USE store")
            except duckdb.Error as exc:
                con.close()
                raise InputError(f"cannot open the store {self.path}: {exc}") from exc
            self._con, self._sig = con, sig
            self.memo = {}
        return self._con

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction on a snapshot, swapped in atomically when it commits."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with write_lock(self.lock_path):
            for stale in self.path.parent.glob(f".{self.path.name}.*.tmp*"):
                stale.unlink(missing_ok=True)  # left by a writer that was killed
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
            tmp_wal = tmp.with_name(tmp.name + ".wal")
            try:
                if self.path.exists():
                    shutil.copyfile(self.path, tmp)
                    wal = self.path.with_name(self.path.name + ".wal")
                    if wal.exists():  # a file last written in place by an older version
                        shutil.copyfile(wal, tmp_wal)
                before = _file_signature(tmp) if tmp.exists() else None
                try:
                    con = duckdb.connect(str(tmp))
                except duckdb.Error as exc:
                    raise InputError(f"cannot open the store {self.path}: {exc}") from exc
                try:
                    con.begin()
                    try:
                        yield con
                    except BaseException:
                        con.rollback()
                        raise
                    con.commit()
                    changed = before is None or _file_signature(tmp) != before
                    if changed:
                        con.execute("CHECKPOINT")
                finally:
                    con.close()
                if changed:
                    _fsync(tmp)
                    os.replace(tmp, self.path)
                    _fsync(self.path.parent)
                    self.path.with_name(self.path.name + ".wal").unlink(missing_ok=True)
            finally:
                tmp.unlink(missing_ok=True)
                tmp_wal.unlink(missing_ok=True)

    def arrow(self, con: duckdb.DuckDBPyConnection, query: str):
        return con.sql(query).to_arrow_table()

    def incident_table(self, con: duckdb.DuckDBPyConnection, *, extras: bool, where: str = ""):
        from hotspots.store import incidents_query  # the store's query, shared with the server store

        return self.arrow(con, incidents_query(extras=extras, where=where))

    def has_column(self, con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
        n = con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() "
            "AND table_name = ? AND column_name = ?",
            [table, column],
        ).fetchall()[0][0]
        return bool(n)

    def has_table(self, con: duckdb.DuckDBPyConnection, table: str) -> bool:
        n = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND table_name = ?",
            [table],
        ).fetchall()[0][0]
        return bool(n)

    def create_schema(self, con: duckdb.DuckDBPyConnection, schema: str) -> None:
        con.execute(schema)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


class _Memory(_Embedded):
    """``Store(":memory:")``: one in-process database, written in place (tests, scratch work)."""

    def __init__(self):
        self.path = Path(":memory:")
        self._con = duckdb.connect(":memory:")

    def exists(self) -> bool:
        return True

    def reader(self) -> duckdb.DuckDBPyConnection:
        return self._con

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self._con.begin()
        try:
            yield self._con
        except BaseException:
            self._con.rollback()
            raise
        self._con.commit()


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")
