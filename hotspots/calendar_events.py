"""The partnership calendar: school holidays, Halloween, bonfire night, Christmas and local events.

The calendar is an editable CSV (``hotspots/data/calendar_staffordshire.csv`` by default)
with columns ``name, start, end, kind, recurring, note``:

* ``start``/``end`` are dates ``YYYY-MM-DD`` (inclusive); a one-day event has ``end = start``.
* ``recurring`` is ``yes`` for events on the same dates every year (Halloween, bonfire night,
  Christmas); the year in ``start`` is then only a placeholder. An event that runs over the
  new year (New Year's Eve to New Year's Day) has ``end`` in the following year.
* ``kind`` is free text used for colours and grouping (``school holiday``, ``campaign``,
  ``celebration``, ``event``…).

The shipped school-holiday dates for Staffordshire County Council maintained schools are
approximate (academies and Stoke-on-Trent schools set their own); check them against the
council's published term dates and edit the CSV.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hotspots._errors import InputError

DEFAULT_CALENDAR = Path(__file__).parent / "data" / "calendar_staffordshire.csv"
EVENT_COLUMNS = ["name", "start", "end", "kind", "recurring", "note"]
_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0", ""}


def load_events(path: str | Path | None = None) -> pd.DataFrame:
    """Read and check an events CSV.

    Parameters
    ----------
    path
        CSV file; None reads the shipped Staffordshire calendar.

    Returns
    -------
    DataFrame
        Columns ``name, start, end, kind, recurring, note``; ``start``/``end`` are timestamps,
        ``recurring`` is bool.

    Raises
    ------
    InputError
        If the file is missing, lacks a column, or a row has a bad date, an end before its
        start or a ``recurring`` value other than yes/no (the message names the line).
    """
    path = Path(path) if path is not None else DEFAULT_CALENDAR
    if not path.exists():
        raise InputError(
            f"events file {path} does not exist; pass a CSV with columns {', '.join(EVENT_COLUMNS)}"
        )
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw.columns = [c.strip().lower() for c in raw.columns]
    missing = [c for c in EVENT_COLUMNS[:4] if c not in raw.columns]
    if missing:
        raise InputError(
            f"the events file has no column(s) {', '.join(missing)}; expected {', '.join(EVENT_COLUMNS)}",
            file=str(path),
        )
    if "recurring" not in raw.columns:
        raw["recurring"] = "no"
    if "note" not in raw.columns:
        raw["note"] = ""
    starts, ends, rec = [], [], []
    for i, row in enumerate(raw.itertuples(index=False), start=2):  # line 1 is the header
        if not str(row.name).strip():
            raise InputError("an event has no name", file=str(path), line=i)
        try:
            s = pd.to_datetime(str(row.start).strip(), format="%Y-%m-%d")
            e = pd.to_datetime(str(row.end).strip(), format="%Y-%m-%d") if str(row.end).strip() else s
        except ValueError:
            raise InputError(
                f"dates must be written YYYY-MM-DD; got start {row.start!r}, end {row.end!r}",
                file=str(path),
                line=i,
            ) from None
        if e < s:
            raise InputError(f"`end` ({e.date()}) is before `start` ({s.date()})", file=str(path), line=i)
        r = str(row.recurring).strip().lower()
        if r not in _TRUE | _FALSE:
            raise InputError(f"`recurring` must be yes or no; got {row.recurring!r}", file=str(path), line=i)
        if r in _TRUE and (e - s).days > 366:
            raise InputError("a recurring event cannot last more than a year", file=str(path), line=i)
        starts.append(s)
        ends.append(e)
        rec.append(r in _TRUE)
    return pd.DataFrame(
        {
            "name": raw["name"].str.strip().to_numpy(dtype=object),
            "start": pd.DatetimeIndex(starts, dtype="datetime64[ns]") if starts else pd.DatetimeIndex([]),
            "end": pd.DatetimeIndex(ends, dtype="datetime64[ns]") if ends else pd.DatetimeIndex([]),
            "kind": raw["kind"].str.strip().to_numpy(dtype=object),
            "recurring": np.array(rec, dtype=bool),
            "note": raw["note"].to_numpy(dtype=object),
        }
    )


def _as_date(value: str | pd.Timestamp, *, name: str, end: bool = False) -> pd.Timestamp:
    text = str(value).strip() if not isinstance(value, pd.Timestamp) else None
    try:
        if text is not None and len(text) == 7:  # YYYY-MM
            ts = pd.Timestamp(text + "-01")
            return ts + pd.offsets.MonthEnd(0) if end else ts
        return pd.Timestamp(value)
    except ValueError:
        raise InputError(f"`{name}` must be a date YYYY-MM-DD or a month YYYY-MM; got {value!r}") from None


def events_in_range(
    events: pd.DataFrame, start: str | pd.Timestamp, end: str | pd.Timestamp, *, kinds: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Events that overlap a date range, with recurring events placed in each year.

    Parameters
    ----------
    events
        Output of :func:`load_events`.
    start, end
        Inclusive range: dates ``YYYY-MM-DD`` or months ``YYYY-MM`` (a month ``end`` means its
        last day).
    kinds
        Keep only these kinds; empty keeps all.

    Returns
    -------
    DataFrame
        Columns ``name, start, end, kind, note``, sorted by start.

    Raises
    ------
    InputError
        If a date cannot be read or ``end`` is before ``start``.
    """
    s = _as_date(start, name="start")
    e = _as_date(end, name="end", end=True)
    if e < s:
        raise InputError(f"`end` ({e.date()}) is before `start` ({s.date()})")
    ev = events if not kinds else events[events["kind"].isin(kinds)]
    rows = []
    for r in ev.itertuples(index=False):
        if r.recurring:
            for year in range(s.year - 1, e.year + 1):
                shift = year - r.start.year
                rs = _shift_year(r.start, shift)
                re_ = _shift_year(r.end, shift)
                if rs <= e and re_ >= s:
                    rows.append((r.name, rs, re_, r.kind, r.note))
        elif r.start <= e and r.end >= s:
            rows.append((r.name, r.start, r.end, r.kind, r.note))
    out = pd.DataFrame(rows, columns=["name", "start", "end", "kind", "note"])
    out["start"] = pd.to_datetime(out["start"]).astype("datetime64[ns]")
    out["end"] = pd.to_datetime(out["end"]).astype("datetime64[ns]")
    return out.sort_values(["start", "name"], kind="stable").reset_index(drop=True)


def _shift_year(ts: pd.Timestamp, years: int) -> pd.Timestamp:
    try:
        return ts.replace(year=ts.year + years)
    except ValueError:  # 29 February in a year that has none
        return ts.replace(year=ts.year + years, day=28)


def events_by_month(events: pd.DataFrame, months: pd.Series | pd.DatetimeIndex) -> pd.DataFrame:
    """Name the events in each month, to label a monthly series.

    Parameters
    ----------
    events
        Output of :func:`load_events`.
    months
        First-of-month timestamps (e.g. ``series["month"]``).

    Returns
    -------
    DataFrame
        Columns ``month, events`` (names joined with ``"; "``, empty when none), one row per
        distinct month, sorted.
    """
    m = pd.DatetimeIndex(
        pd.to_datetime(pd.Series(months)).dt.to_period("M").dt.to_timestamp().unique()
    ).sort_values()
    if len(m) == 0:
        return pd.DataFrame({"month": pd.DatetimeIndex([]), "events": pd.Series(dtype=object)})
    found = events_in_range(events, m.min(), m.max() + pd.offsets.MonthEnd(0))
    labels = []
    for month in m:
        last = month + pd.offsets.MonthEnd(0)
        hit = found[(found["start"] <= last) & (found["end"] >= month)]
        labels.append("; ".join(dict.fromkeys(hit["name"])))
    return pd.DataFrame({"month": m.astype("datetime64[ns]"), "events": labels})
