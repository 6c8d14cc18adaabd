"""The partnership calendar: shipped defaults, recurring events, and every bad-file message."""

from __future__ import annotations

import pandas as pd
import pytest

from hotspots._errors import InputError
from hotspots.calendar_events import (
    DEFAULT_CALENDAR,
    EVENT_COLUMNS,
    events_by_month,
    events_in_range,
    load_events,
)

HEADER = "name,start,end,kind,recurring,note\n"


def _write(tmp_path, text: str):
    path = tmp_path / "events.csv"
    path.write_text(text)
    return path


def test_shipped_calendar_has_the_staffordshire_defaults():
    ev = load_events()
    assert list(ev.columns) == EVENT_COLUMNS
    names = set(ev["name"])
    for expected in (
        "Halloween",
        "Bonfire night",
        "Bonfire season (Operation Good Guy)",
        "Christmas",
        "V Festival (Weston Park)",
    ):
        assert expected in names
    assert any(n.startswith("Freshers' week") for n in names)
    assert any(n.startswith("New Year") for n in names)
    school = ev[ev["kind"] == "school holiday"]
    assert set(school["start"].dt.year) >= {2024, 2025, 2026, 2027}
    assert school["note"].str.contains("approximate").all()
    v = ev[ev["name"] == "V Festival (Weston Park)"].iloc[0]
    assert v["start"].year == 2017 and not v["recurring"] and "ended after 2017" in v["note"]
    assert DEFAULT_CALENDAR.name == "calendar_staffordshire.csv"


def test_recurring_events_repeat_every_year():
    ev = load_events()
    got = events_in_range(ev, "2026-10", "2027-11")
    halloween = got[got["name"] == "Halloween"]
    assert halloween["start"].dt.strftime("%Y-%m-%d").tolist() == ["2026-10-31", "2027-10-31"]
    assert "V Festival (Weston Park)" not in set(got["name"])
    assert list(got.columns) == ["name", "start", "end", "kind", "note"]


def test_new_year_runs_over_the_year_end():
    ev = load_events()
    got = events_in_range(ev, "2026-01-01", "2026-01-01")
    ny = got[got["name"].str.startswith("New Year")].iloc[0]
    assert (ny["start"], ny["end"]) == (pd.Timestamp("2025-12-31"), pd.Timestamp("2026-01-01"))


def test_kinds_and_months():
    ev = load_events()
    only = events_in_range(ev, "2025-01", "2025-12", kinds=("school holiday",))
    assert set(only["kind"]) == {"school holiday"}
    labels = events_by_month(ev, pd.date_range("2025-06-01", "2025-11-01", freq="MS"))
    lab = dict(zip(labels["month"].dt.month, labels["events"], strict=True))
    assert "Summer school holiday" in lab[8]
    assert "Halloween" in lab[10] and "Bonfire night" in lab[11]
    assert events_by_month(ev, pd.DatetimeIndex([])).empty


def test_a_users_file(tmp_path):
    path = _write(tmp_path, "Name,Start,End,Kind\nStone Show,2025-05-10,,event\n")
    ev = load_events(path)
    assert ev.loc[0, "end"] == pd.Timestamp("2025-05-10") and not ev.loc[0, "recurring"]
    assert ev.loc[0, "start"] == ev.loc[0, "end"]
    assert len(events_in_range(ev, "2025-05", "2025-05")) == 1


# ---------------------------------------------------------------------------- checks inputs
def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="events file .* does not exist"):
        load_events(tmp_path / "nope.csv")


def test_missing_column(tmp_path):
    with pytest.raises(InputError, match=r"events.csv: the events file has no column\(s\) kind"):
        load_events(_write(tmp_path, "name,start,end\nX,2025-01-01,2025-01-02\n"))


def test_bad_rows_name_the_line(tmp_path):
    with pytest.raises(InputError, match=r"events.csv, line 3: dates must be written YYYY-MM-DD"):
        load_events(_write(tmp_path, HEADER + "A,2025-01-01,2025-01-02,x,no,\nB,1st May,2025-05-02,x,no,\n"))
    with pytest.raises(InputError, match=r"line 2: `end` \(2025-01-01\) is before `start` \(2025-02-01\)"):
        load_events(_write(tmp_path, HEADER + "A,2025-02-01,2025-01-01,x,no,\n"))
    with pytest.raises(InputError, match="line 2: `recurring` must be yes or no; got 'sometimes'"):
        load_events(_write(tmp_path, HEADER + "A,2025-02-01,2025-02-01,x,sometimes,\n"))
    with pytest.raises(InputError, match="line 2: an event has no name"):
        load_events(_write(tmp_path, HEADER + ",2025-02-01,2025-02-01,x,no,\n"))
    with pytest.raises(InputError, match="line 2: a recurring event cannot last more than a year"):
        load_events(_write(tmp_path, HEADER + "A,2024-01-01,2025-06-01,x,yes,\n"))


def test_bad_range():
    ev = load_events()
    with pytest.raises(InputError, match=r"`end` \(2025-01-31\) is before `start` \(2025-02-01\)"):
        events_in_range(ev, "2025-02", "2025-01")
    with pytest.raises(InputError, match="`start` must be a date YYYY-MM-DD or a month YYYY-MM"):
        events_in_range(ev, "soon", "2025-01")
