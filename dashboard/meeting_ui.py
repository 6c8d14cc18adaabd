"""The Meeting page's glue: the cached agenda, its downloads and the meeting pack.

The agenda is cached under plain values: the store's path and version, a stamp of the register
(places, notes and meetings change it without a load), the group and the meeting month.
"""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from dashboard import data
from hotspots.agenda import Agenda, meeting_agenda, meetings


def register_stamp() -> str:
    """Changes whenever a place, a note or a meeting is recorded (part of the agenda's cache key)."""
    s = data.store()
    parts = []
    for table, col in (
        ("register_places", "updated_at"),
        ("register_notes", "recorded_at"),
        ("meetings", "recorded_at"),
    ):
        try:
            row = s.sql(f"SELECT count(*) AS n, max({col}) AS m FROM {table}").iloc[0]
            parts.append(f"{row['n']}:{row['m']}")
        except Exception:  # table not made yet
            parts.append("-")
    return "|".join(parts)


@st.cache_data(
    show_spinner="Gathering the agenda (hotspot lists, expected ranges, evaluations)…", max_entries=8
)
def agenda(path: str, version: int, stamp: str, group: str, date: str) -> Agenda:
    """The group's agenda for a meeting month (cached on plain values)."""
    return meeting_agenda(data.store(), group=group, date=date)


def months() -> list[str]:
    """Loaded months, latest first ("YYYY-MM")."""
    ms = pd.DatetimeIndex(data.incidents()["month"].dropna().unique()).sort_values(ascending=False)
    return [m.strftime("%Y-%m") for m in ms]


def past_meetings(group: str) -> pd.DataFrame:
    """The group's recorded meetings, newest first."""
    m = meetings(data.store(), group)
    return m.sort_values("month", ascending=False).assign(month=lambda d: d["month"].dt.strftime("%Y-%m"))


def excel_bytes(a: Agenda) -> bytes:
    """The agenda as an Excel workbook (one sheet per section)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        for name, df in a.sections().items():
            df.to_excel(xl, sheet_name=name, index=False)
    return buf.getvalue()


def pack_bytes(a: Agenda) -> bytes:
    """The meeting pack PDF built from the cached agenda."""
    from hotspots.pack import meeting_pack

    return meeting_pack(data.store(), group=a.group, agenda=a)
