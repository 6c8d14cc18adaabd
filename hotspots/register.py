"""The place register: which places a problem-solving group took on, since when, and what it did.

A *place* is a polygon (EPSG:27700) with a name, an owning group (the meeting), a status
(:data:`STATUSES`), an intervention start and an optional end, and dated notes and actions. The
register lives in the store, in four tables created by :func:`ensure_schema`:

register_places
    The current state of each place (geometry as WKB).
register_history
    Every change: time, author, field, old and new value (geometry as WKT). Adding a place
    records each of its fields with no old value, so the history alone rebuilds the register.
register_notes
    Dated notes and actions, never edited.
register_groups
    Problem-solving groups and their area (a level and area codes).

Every change is one transaction, written only after every check passed: a bad polygon or an
unknown status changes nothing. Nothing is ever deleted: a place that is no longer worked on is
``closed`` (and can be reopened), and its history stays.

Polygons come from a hotspot list row (:func:`place_from_hotspot`), a GeoJSON or GeoPackage file
(:func:`read_place_file`) or a set of wards or LSOAs (:func:`place_from_areas`), and are checked
by :func:`check_polygon`; these live in :mod:`hotspots.place_shapes` and are importable from here.

The SQL is portable (VARCHAR, INTEGER, DATE, TIMESTAMP, BLOB) so another store backend can carry
the same tables.
"""

from __future__ import annotations

import getpass
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date as _date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots._errors import InputError
from hotspots._validate import BNG
from hotspots.place_shapes import (
    GROUP_LEVELS,
    check_polygon,
    place_from_areas,
    place_from_hotspot,
    read_place_file,
)

#: The statuses of a place, in the order a place usually goes through them.
STATUSES = ("proposed", "active", "closed")
#: Kinds of dated entries on a place.
NOTE_KINDS = ("note", "action")
#: Fields :func:`update_place` may change.
EDITABLE = ("name", "group", "status", "start", "end", "geometry", "source")
#: Columns of :func:`list_places`, in order.
PLACE_COLUMNS = [
    "place_id",
    "name",
    "group",
    "status",
    "start",
    "end",
    "source",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "geometry",
]
#: Author of changes made in the dashboard (until sign-in exists).
DASHBOARD_AUTHOR = "dashboard"

SCHEMA = """
CREATE TABLE IF NOT EXISTS register_places (
    place_id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    group_name VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    start_date DATE,
    end_date DATE,
    geometry BLOB NOT NULL,
    source VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS register_history (
    change_id INTEGER NOT NULL,
    place_id INTEGER,
    changed_at TIMESTAMP NOT NULL,
    author VARCHAR NOT NULL,
    field VARCHAR NOT NULL,
    old VARCHAR,
    new VARCHAR
);
CREATE TABLE IF NOT EXISTS register_notes (
    note_id INTEGER NOT NULL,
    place_id INTEGER NOT NULL,
    note_date DATE NOT NULL,
    kind VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    author VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS register_groups (
    group_name VARCHAR NOT NULL,
    level VARCHAR NOT NULL,
    codes VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR NOT NULL
);
"""

_COLUMN = {"name": "name", "group": "group_name", "status": "status", "start": "start_date"}
_COLUMN |= {"end": "end_date", "geometry": "geometry", "source": "source"}


@dataclass(frozen=True)
class Place:
    """One registered place, its current state.

    Attributes
    ----------
    place_id
        The register's number for the place (1, 2, …; never reused).
    name, group, status
        Its name, the owning problem-solving group (meeting), and one of :data:`STATUSES`.
    start, end
        Intervention start and end (first of a month, or a date), or None.
    geometry
        Polygon or MultiPolygon, EPSG:27700.
    source
        Where the polygon came from, e.g. ``"hotspot list: eb_count 2025-07 to 2025-12 #1 …"``,
        ``"file estate.gpkg"``, ``"wards E05…"``.
    created_at, created_by, updated_at, updated_by
        When (UTC) and by whom the place was added and last changed.
    """

    place_id: int
    name: str
    group: str
    status: str
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    geometry: shapely.Geometry
    source: str
    created_at: pd.Timestamp
    created_by: str
    updated_at: pd.Timestamp
    updated_by: str

    def to_dict(self) -> dict[str, Any]:
        """Plain values (dates as ISO text, geometry as WKT, area in hectares) for JSON."""
        out = {k: getattr(self, k) for k in PLACE_COLUMNS if k != "geometry"}
        for k in ("start", "end"):
            out[k] = None if out[k] is None else out[k].strftime("%Y-%m-%d")
        for k in ("created_at", "updated_at"):
            out[k] = out[k].isoformat(timespec="seconds")
        out["area_ha"] = round(float(self.geometry.area) / 10_000, 2)
        out["geometry_wkt"] = self.geometry.wkt
        return out


# ---------------------------------------------------------------------------- schema and helpers
def ensure_schema(store: Any) -> None:
    """Create the register's tables in ``store`` if they are missing (idempotent)."""
    if getattr(store, "_register_ready", False):
        return
    have = store.sql(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_name IN "
        "('register_places', 'register_history', 'register_notes', 'register_groups')"
    )["n"].iloc[0]
    if int(have) == 4:
        store._register_ready = True
        return
    with store.transaction() as con:
        for stmt in SCHEMA.split(";"):
            if stmt.strip():
                con.execute(stmt)
    store._register_ready = True


def _author(author: str | None) -> str:
    """``author``, or the OS user (the command line's default)."""
    if author is not None and str(author).strip():
        return str(author).strip()
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"


def _now() -> pd.Timestamp:
    """Now, UTC, without a time zone (as stored), to the second."""
    return pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")


def _day(value: Any, *, name: str) -> pd.Timestamp | None:
    """Parse ``YYYY-MM`` (first of the month), ``YYYY-MM-DD``, a date or a Timestamp; None/"" → None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, (pd.Timestamp, _date)):
        ts = pd.Timestamp(value)
        return None if pd.isna(ts) else ts.normalize().tz_localize(None) if ts.tz else ts.normalize()
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}", text):
        text += "-01"
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise InputError(
            f"`{name}` must be a month YYYY-MM or a date YYYY-MM-DD, such as 2025-06; got {value!r}"
        )
    try:
        return pd.Timestamp(text)
    except ValueError as exc:
        raise InputError(f"`{name}` is not a real date: {value!r}") from exc


def _check_text(value: Any, *, name: str) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise InputError(f"`{name}` must not be empty; give the place a {name} the group will recognise")
    return text


def _check_status(status: Any) -> str:
    if status not in STATUSES:
        raise InputError(f"`status` must be one of {', '.join(STATUSES)}; got {status!r}")
    return str(status)


def _check_dates(start: pd.Timestamp | None, end: pd.Timestamp | None) -> None:
    if start is not None and end is not None and end < start:
        raise InputError(
            f"`end` ({end:%Y-%m-%d}) is before `start` ({start:%Y-%m-%d}); an intervention ends after it starts"
        )


_STUDY_AREAS: dict[tuple[str, int], shapely.Geometry] = {}


def _study_area(store: Any) -> shapely.Geometry:
    """The store's study area, kept per (store path, version).

    A register write drops the store's own geography cache, but only a load or new boundaries
    change the study area (and the version).
    """
    key = (str(store.path), int(store.version()))
    if key not in _STUDY_AREAS:
        if len(_STUDY_AREAS) > 8:
            _STUDY_AREAS.clear()
        _STUDY_AREAS[key] = store.geography().study_area.iloc[0]
    return _STUDY_AREAS[key]


def _next_id(con: Any, table: str, column: str) -> int:
    return int(con.execute(f"SELECT coalesce(max({column}), 0) + 1 FROM {table}").fetchall()[0][0])


def _text(field: str, value: Any) -> str | None:
    """A value as history text (dates ISO, geometry WKT)."""
    if value is None:
        return None
    if field == "geometry":
        return value.wkt if isinstance(value, shapely.Geometry) else shapely.from_wkb(bytes(value)).wkt
    if isinstance(value, (pd.Timestamp, _date)):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    return str(value)


def _record(con: Any, place_id: int | None, when: pd.Timestamp, author: str, changes: list) -> None:
    cid = _next_id(con, "register_history", "change_id")
    for k, (field, old, new) in enumerate(changes):
        con.execute(
            "INSERT INTO register_history VALUES (?, ?, ?, ?, ?, ?, ?)",
            [cid + k, place_id, when.to_pydatetime(), author, field, _text(field, old), _text(field, new)],
        )


def _sql_value(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field == "geometry":
        return shapely.to_wkb(value)
    if field in ("start", "end"):
        return value.date()
    return value


# ---------------------------------------------------------------------------- reading
def _place_from_row(row: pd.Series) -> Place:
    def ts(v: Any) -> pd.Timestamp | None:
        return None if v is None or pd.isna(v) else pd.Timestamp(v)

    return Place(
        place_id=int(row["place_id"]),
        name=str(row["name"]),
        group=str(row["group_name"]),
        status=str(row["status"]),
        start=ts(row["start_date"]),
        end=ts(row["end_date"]),
        geometry=shapely.from_wkb(bytes(row["geometry"])),
        source=str(row["source"]),
        created_at=pd.Timestamp(row["created_at"]),
        created_by=str(row["created_by"]),
        updated_at=pd.Timestamp(row["updated_at"]),
        updated_by=str(row["updated_by"]),
    )


def get_place(store: Any, place_id: int) -> Place:
    """The current state of one place.

    Raises
    ------
    InputError
        If the register has no place with that id (the message lists the ids it has).
    """
    ensure_schema(store)
    df = store.sql("SELECT * FROM register_places WHERE place_id = ?", [_check_id(place_id)])
    if not len(df):
        ids = store.sql("SELECT place_id FROM register_places ORDER BY place_id")["place_id"].tolist()
        have = f"the register holds places {_ranges(ids)}" if ids else "the register is empty"
        raise InputError(f"no place {place_id} in the register; {have}")
    return _place_from_row(df.iloc[0])


def _check_id(place_id: Any) -> int:
    try:
        return int(place_id)
    except (TypeError, ValueError) as exc:
        raise InputError(f"`place_id` must be a whole number; got {place_id!r}") from exc


def _ranges(ids: list[int]) -> str:
    if len(ids) > 8:
        return f"{', '.join(map(str, ids[:8]))} … {ids[-1]}"
    return ", ".join(map(str, ids))


def list_places(store: Any, *, group: str | None = None, status: str | None = None) -> gpd.GeoDataFrame:
    """The register: one row per place, current state, EPSG:27700.

    Parameters
    ----------
    group, status
        Keep only this group's places / places with this status (None: all).

    Returns
    -------
    GeoDataFrame with :data:`PLACE_COLUMNS`, ordered by place id; ``start``/``end`` are
    datetimes (NaT when not set).

    Raises
    ------
    InputError
        If ``status`` is not one of :data:`STATUSES`.
    """
    ensure_schema(store)
    where, params = [], []
    if group is not None:
        where.append("group_name = ?")
        params.append(str(group))
    if status is not None:
        params.append(_check_status(status))
        where.append("status = ?")
    q = "SELECT * FROM register_places" + (" WHERE " + " AND ".join(where) if where else "")
    df = store.sql(q + " ORDER BY place_id", params)
    geoms = [shapely.from_wkb(bytes(b)) for b in df["geometry"]]
    out = pd.DataFrame(
        {
            "place_id": df["place_id"].astype("int64"),
            "name": df["name"].astype(str),
            "group": df["group_name"].astype(str),
            "status": df["status"].astype(str),
            "start": pd.to_datetime(df["start_date"]),
            "end": pd.to_datetime(df["end_date"]),
            "source": df["source"].astype(str),
            "created_at": pd.to_datetime(df["created_at"]),
            "created_by": df["created_by"].astype(str),
            "updated_at": pd.to_datetime(df["updated_at"]),
            "updated_by": df["updated_by"].astype(str),
        }
    )
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, crs=BNG), crs=BNG)[PLACE_COLUMNS]


def notes(store: Any, place_id: int) -> pd.DataFrame:
    """A place's dated notes and actions, oldest first: ``date``, ``kind``, ``text``, ``author``, ``recorded_at``.

    Raises
    ------
    InputError
        If the register has no place with that id.
    """
    get_place(store, place_id)
    df = store.sql(
        "SELECT note_date AS date, kind, text, author, recorded_at FROM register_notes "
        "WHERE place_id = ? ORDER BY note_date, note_id",
        [int(place_id)],
    )
    df["date"] = pd.to_datetime(df["date"])
    df["recorded_at"] = pd.to_datetime(df["recorded_at"])
    return df


def history(store: Any, place_id: int) -> pd.DataFrame:
    """Every change to a place, oldest first: ``changed_at``, ``author``, ``field``, ``old``, ``new``.

    Adding the place is recorded as one row per field with no ``old`` value; geometry values
    are WKT (EPSG:27700), dates ``YYYY-MM-DD``; notes and actions appear as field ``note``/``action``.

    Raises
    ------
    InputError
        If the register has no place with that id.
    """
    get_place(store, place_id)
    df = store.sql(
        "SELECT changed_at, author, field, old, new FROM register_history WHERE place_id = ? ORDER BY change_id",
        [int(place_id)],
    )
    df["changed_at"] = pd.to_datetime(df["changed_at"])
    for col in ("old", "new"):
        df[col] = df[col].astype(object).where(df[col].notna(), None)
    return df


def groups(store: Any) -> pd.DataFrame:
    """The problem-solving groups: ``group``, ``level``, ``codes`` (list), ``created_at``, ``created_by``.

    Groups named only on places (never added with :func:`add_group`) are listed too, with no
    level and no codes, so that every place's group appears.
    """
    ensure_schema(store)
    df = store.sql(
        "SELECT group_name, level, codes, created_at, created_by FROM register_groups ORDER BY group_name"
    )
    rows = [
        {
            "group": r.group_name,
            "level": r.level,
            "codes": json.loads(r.codes),
            "created_at": pd.Timestamp(r.created_at),
            "created_by": r.created_by,
        }
        for r in df.itertuples()
    ]
    named = store.sql(
        "SELECT group_name, min(created_at) AS created_at FROM register_places GROUP BY 1 ORDER BY 1"
    )
    have = set(df["group_name"])
    for r in named.itertuples():
        if r.group_name not in have:
            rows.append(
                {
                    "group": r.group_name,
                    "level": None,
                    "codes": [],
                    "created_at": pd.Timestamp(r.created_at),
                    "created_by": None,
                }
            )
    out = pd.DataFrame(rows, columns=["group", "level", "codes", "created_at", "created_by"])
    out = out.sort_values("group", kind="stable").reset_index(drop=True)
    for col in ("level", "created_by"):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


# ---------------------------------------------------------------------------- writing
def add_place(
    store: Any,
    geometry: Any,
    *,
    name: str,
    group: str,
    status: str = "proposed",
    start: Any = None,
    end: Any = None,
    source: str = "",
    author: str | None = None,
    crs: Any = None,
) -> int:
    """Add a place to the register (one transaction, recorded in the history).

    Parameters
    ----------
    store
        The open :class:`hotspots.store.Store`.
    geometry
        The place's polygon: a shapely geometry, a GeoSeries or a GeoDataFrame (features are
        joined). See :func:`check_polygon` for the checks.
    name, group
        The place's name and the problem-solving group that owns it (both required).
    status
        One of :data:`STATUSES`; default ``"proposed"`` (a place a meeting has not yet agreed).
    start, end
        Intervention start and end: ``YYYY-MM`` (the first of that month), ``YYYY-MM-DD``, a
        date or a Timestamp; None when not yet known.
    source
        Where the polygon came from (see :func:`place_from_hotspot`, :func:`place_from_areas`).
    author
        Who made the change; None: the OS user (the command line's rule; the dashboard
        passes :data:`DASHBOARD_AUTHOR`).
    crs
        The CRS of a bare shapely ``geometry``; None: EPSG:27700.

    Returns
    -------
    The new place's id.

    Raises
    ------
    InputError
        If the polygon fails a check (no CRS, empty, not an area, crosses itself, outside the
        study area), the name or group is empty, the status is unknown, a date cannot be read or
        the end is before the start. Nothing is written then.
    """
    name = _check_text(name, name="name")
    group = _check_text(group, name="group")
    status = _check_status(status)
    start_ts, end_ts = _day(start, name="start"), _day(end, name="end")
    _check_dates(start_ts, end_ts)
    geom = check_polygon(geometry, crs=crs, study_area=_study_area(store), name="the place's polygon")
    who, when = _author(author), _now()
    ensure_schema(store)
    values = {"name": name, "group": group, "status": status, "start": start_ts, "end": end_ts}
    values |= {"geometry": geom, "source": str(source or "")}
    with store.transaction() as con:
        pid = _next_id(con, "register_places", "place_id")
        con.execute(
            "INSERT INTO register_places VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                pid,
                *(
                    _sql_value(f, values[f])
                    for f in ("name", "group", "status", "start", "end", "geometry", "source")
                ),
                when.to_pydatetime(),
                who,
                when.to_pydatetime(),
                who,
            ],
        )
        _record(con, pid, when, who, [(f, None, v) for f, v in values.items() if v not in (None, "")])
    return pid


def update_place(store: Any, place_id: int, *, author: str | None = None, **changes: Any) -> Place:
    """Change a place's name, group, status, start, end, geometry or source (one transaction).

    Parameters
    ----------
    store
        The open store.
    place_id
        The place to change.
    author
        Who made the change; None: the OS user.
    **changes
        New values (see :data:`EDITABLE`); ``start=None``/``end=None`` clear a date. Values
        equal to the current ones are not recorded.

    Returns
    -------
    The place after the change. Each changed field is one history row (time, author, old, new).

    Raises
    ------
    InputError
        If the place does not exist, a field is not editable, or a new value fails the checks of
        :func:`add_place` (the start and end are checked together). Nothing is written then.
    """
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InputError(
            f"cannot change {', '.join(unknown)}; a place's editable fields are {', '.join(EDITABLE)}"
        )
    place = get_place(store, place_id)
    new: dict[str, Any] = {}
    for field, value in changes.items():
        if field in ("name", "group"):
            new[field] = _check_text(value, name=field)
        elif field == "status":
            new[field] = _check_status(value)
        elif field in ("start", "end"):
            new[field] = _day(value, name=field)
        elif field == "geometry":
            new[field] = check_polygon(value, study_area=_study_area(store), name="the place's polygon")
        else:
            new[field] = str(value or "")
    _check_dates(new.get("start", place.start), new.get("end", place.end))
    diffs = []
    for field, value in new.items():
        old = getattr(place, field)
        same = old.equals(value) if field == "geometry" else old == value
        if not same:
            diffs.append((field, old, value))
    if not diffs:
        return place
    who, when = _author(author), _now()
    with store.transaction() as con:
        sets = ", ".join(f"{_COLUMN[f]} = ?" for f, _, _ in diffs)
        con.execute(
            f"UPDATE register_places SET {sets}, updated_at = ?, updated_by = ? WHERE place_id = ?",
            [*(_sql_value(f, v) for f, _, v in diffs), when.to_pydatetime(), who, place.place_id],
        )
        _record(con, place.place_id, when, who, diffs)
    return get_place(store, place.place_id)


def add_note(
    store: Any, place_id: int, text: str, *, kind: str = "note", date: Any = None, author: str | None = None
) -> None:
    """Add a dated note or action to a place (kept for good; also a history row).

    Parameters
    ----------
    text
        What was noted or done.
    kind
        ``"note"`` (default) or ``"action"`` (something the group did or agreed to do).
    date
        The date it refers to (``YYYY-MM-DD``, ``YYYY-MM``, a date); None: today (UTC).
    author
        Who wrote it; None: the OS user.

    Raises
    ------
    InputError
        If the place does not exist, the text is empty, the kind is not note/action, or the
        date cannot be read.
    """
    text = _check_text(text, name="text")
    if kind not in NOTE_KINDS:
        raise InputError(f"`kind` must be one of {', '.join(NOTE_KINDS)}; got {kind!r}")
    day = _day(date, name="date") or _now().normalize()
    place = get_place(store, place_id)
    who, when = _author(author), _now()
    with store.transaction() as con:
        nid = _next_id(con, "register_notes", "note_id")
        con.execute(
            "INSERT INTO register_notes VALUES (?, ?, ?, ?, ?, ?, ?)",
            [nid, place.place_id, day.date(), kind, text, who, when.to_pydatetime()],
        )
        _record(con, place.place_id, when, who, [(kind, None, f"{day:%Y-%m-%d}: {text}")])


def add_group(
    store: Any, name: str, *, level: str = "district", codes: Sequence[str] = (), author: str | None = None
) -> None:
    """Add a problem-solving group (a meeting) and the area it covers.

    Parameters
    ----------
    name
        The group's name, as places name it (e.g. ``"Stoke North GIG"``).
    level
        Level of the area codes: ``"district"`` (default: a partnership's meeting covers its
        district), ``"ward"``, ``"lsoa"`` or ``"locality"``.
    codes
        The area codes (or locality names) at ``level`` the group covers.
    author
        Who added it; None: the OS user.

    Raises
    ------
    InputError
        If the name is empty or taken, the level is unknown, or a code is not an area of the
        study area. Nothing is written then.
    """
    name = _check_text(name, name="group")
    if level not in GROUP_LEVELS:
        raise InputError(f"`level` must be one of {', '.join(GROUP_LEVELS)}; got {level!r}")
    codes = [str(c).strip() for c in codes if str(c).strip()]
    if codes:
        known = set(store.geography().areas(level)["area_code"].astype(str))
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise InputError(
                f"{len(unknown)} {level} code(s) are not {level}s of the study area: {', '.join(unknown[:5])}"
            )
    ensure_schema(store)
    taken = store.sql("SELECT count(*) AS n FROM register_groups WHERE group_name = ?", [name])["n"].iloc[0]
    if taken:
        raise InputError(f"a group named {name!r} already exists; choose another name")
    who, when = _author(author), _now()
    with store.transaction() as con:
        con.execute(
            "INSERT INTO register_groups VALUES (?, ?, ?, ?, ?)",
            [name, level, json.dumps(codes), when.to_pydatetime(), who],
        )
        _record(con, None, when, who, [("group", None, f"{name}: {level} {' '.join(codes)}".strip())])


def export_places(
    store: Any, path: Path | str, *, group: str | None = None, status: str | None = None
) -> Path:
    """Write the register (with each place's notes and actions) to CSV, Excel, GeoJSON or GeoPackage.

    Tabular formats get the polygon as WKT (EPSG:27700) and the area in hectares; Excel and
    GeoPackage get the notes and the history as extra sheets/tables.

    Raises
    ------
    InputError
        If the file type is not one of the export formats.
    """
    from hotspots.export import export_table

    places = list_places(store, group=group, status=status)
    places.insert(places.columns.get_loc("source"), "area_ha", (places.geometry.area / 10_000).round(2))
    path = Path(path)
    spatial = path.suffix.lower() in (".geojson", ".gpkg")
    table = (
        places
        if spatial
        else pd.DataFrame(places.drop(columns="geometry").assign(wkt=places.geometry.to_wkt()))
    )
    for col in ("start", "end"):
        table[col] = table[col].dt.strftime("%Y-%m-%d")
    sheets = {}
    if path.suffix.lower() in (".xlsx", ".gpkg"):
        ids = places["place_id"].tolist()
        sheets["notes"] = pd.concat(
            [notes(store, i).assign(place_id=i) for i in ids] or [pd.DataFrame()], ignore_index=True
        )
        hist = pd.concat(
            [history(store, i).assign(place_id=i) for i in ids] or [pd.DataFrame()], ignore_index=True
        )
        if len(hist):
            hist.loc[hist["field"] == "geometry", ["old", "new"]] = hist.loc[
                hist["field"] == "geometry", ["old", "new"]
            ].map(lambda v: None if v is None else f"{len(v)} characters of WKT")
        sheets["history"] = hist
    params = {"group": group or "all", "status": status or "all", "places": len(places)}
    return export_table(table, path, params=params, title="Place register", layer="places", sheets=sheets)


__all__ = [
    "STATUSES",
    "NOTE_KINDS",
    "GROUP_LEVELS",
    "PLACE_COLUMNS",
    "DASHBOARD_AUTHOR",
    "Place",
    "add_place",
    "get_place",
    "list_places",
    "update_place",
    "add_note",
    "notes",
    "history",
    "add_group",
    "groups",
    "check_polygon",
    "place_from_hotspot",
    "place_from_areas",
    "read_place_file",
    "export_places",
    "ensure_schema",
]
