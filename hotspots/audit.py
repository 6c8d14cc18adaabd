"""The audit log: who signed in, loaded, exported, changed a setting or was refused, and when.

Information governance asks of a deployment holding partner data: *who saw or took what, and
when?* Every sign-in, load, export, disclosure setting change, role change and refused action
is one row of the store's ``audit_log`` table (user, role, action, detail, where it came from,
time in UTC). Nothing here deletes or changes a row.

The command line records as the local analyst (the OS user, :func:`local_user`); the dashboard
records the signed-in user's e-mail (or ``local`` in single-user mode).

The table is portable SQL (VARCHAR and TIMESTAMP only) so that a PostgreSQL store carries it.
Each entry is one small write transaction (:meth:`hotspots.store.Store.transaction`), so an
entry is as durable as a load; it does not change :meth:`~hotspots.store.Store.version`, so
the dashboard's caches stay warm.
"""

from __future__ import annotations

import getpass
import json

import pandas as pd

from hotspots._errors import InputError
from hotspots.store import Store

#: What can be recorded.
ACTIONS = ("sign-in", "sign-out", "load", "export", "disclosure", "role", "restrict", "refused")
COLUMNS = ["time", "user", "role", "action", "detail", "via"]
SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    recorded_at TIMESTAMP NOT NULL,
    user_name VARCHAR NOT NULL,
    role VARCHAR,
    action VARCHAR NOT NULL,
    detail VARCHAR,
    via VARCHAR NOT NULL
)
"""


def _has_table(store: Store) -> bool:
    n = store.sql("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'audit_log'")
    return bool(int(n["n"].iloc[0]))


def local_user() -> str:
    """The OS user running the command line (``unknown`` where the system has no name for it)."""
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"


def record(
    store: Store,
    action: str,
    *,
    user: str | None = None,
    role: str | None = None,
    detail: str | dict = "",
    via: str = "cli",
) -> None:
    """Add one entry to the audit log.

    Parameters
    ----------
    store
        The store (its ``audit_log`` table is created on first use).
    action
        One of :data:`ACTIONS`.
    user
        Who did it: an e-mail from the sign-in, ``local`` in the dashboard's single-user mode;
        ``None``: the OS user (:func:`local_user`), as on the command line.
    role
        Their role (viewer, analyst, admin); ``None`` with ``user=None``: ``analyst``, the
        command line's role.
    detail
        What, in words (the file, the export, the setting); a dict is written as JSON.
    via
        ``cli`` or ``dashboard`` (or a page's name).

    Raises
    ------
    InputError
        If ``action`` is not one of :data:`ACTIONS`.
    """
    if action not in ACTIONS:
        raise InputError(f"audit action must be one of {', '.join(ACTIONS)}; got {action!r}")
    if user is None:
        user, role = local_user(), role or "analyst"
    text = json.dumps(detail, default=str, sort_keys=True) if isinstance(detail, dict) else str(detail)
    now = pd.Timestamp.now(tz="UTC").tz_localize(None).to_pydatetime()
    with store.transaction() as con:
        con.execute(SCHEMA)
        con.execute(
            "INSERT INTO audit_log (recorded_at, user_name, role, action, detail, via) VALUES (?, ?, ?, ?, ?, ?)",
            [now, user, role, action, text, via],
        )


def entries(
    store: Store, *, action: str | None = None, user: str | None = None, limit: int | None = None
) -> pd.DataFrame:
    """The audit log, newest first.

    Parameters
    ----------
    store
        The store.
    action, user
        Keep only this action / this user; ``None``: all.
    limit
        At most this many rows; ``None``: all.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS` (``time`` in UTC, without a time zone).

    Raises
    ------
    InputError
        If ``action`` is not one of :data:`ACTIONS`.
    """
    if action is not None and action not in ACTIONS:
        raise InputError(f"audit action must be one of {', '.join(ACTIONS)}; got {action!r}")
    if not _has_table(store):  # nothing recorded yet (or an older store)
        return pd.DataFrame(
            {c: pd.Series(dtype="datetime64[ns]" if c == "time" else object) for c in COLUMNS}
        )
    where, params = [], []
    if action is not None:
        where.append("action = ?")
        params.append(action)
    if user is not None:
        where.append("user_name = ?")
        params.append(user)
    query = "SELECT recorded_at, user_name, role, action, detail, via FROM audit_log"
    if where:
        query += " WHERE " + " AND ".join(where)
    query += " ORDER BY recorded_at DESC"
    if limit is not None:
        query += f" LIMIT {int(limit)}"
    df = store.sql(query, params).rename(columns={"recorded_at": "time", "user_name": "user"})
    return df[COLUMNS]
