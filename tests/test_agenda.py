"""hotspots.agenda: a group's meeting agenda on the real sample (issue 10, item 3)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from hotspots._errors import InputError
from hotspots.agenda import meeting_agenda, meetings, record_meeting
from hotspots.place_eval import evaluate_place
from hotspots.store import Store

STOKE = "E06000021"


def test_agenda_sections_on_the_sample(cycle_agenda, cycle_store_path, real_incidents):
    a = cycle_agenda
    assert (a.group, a.date, a.since, a.data_to) == ("Stoke Central", "2025-12", "2025-11", "2025-12")
    assert a.since_rule.startswith("no earlier meeting recorded")
    assert a.area == "district Stoke-on-Trent (E06000021)"
    # repeat locations since the last meeting (December only) against a hand count of the raw sample
    dec = real_incidents[
        (real_incidents["month"] == "2025-12-01") & (real_incidents["district_code"] == STOKE)
    ]
    by_point = dec[dec["location_id"] >= 0].groupby("location_id").size().sort_values(ascending=False)
    assert a.repeat_locations["count"].tolist() == by_point.head(len(a.repeat_locations)).tolist()
    assert len(a.repeat_locations) == 10
    # the active place's progress is its evaluation; the proposed one is not listed
    store = Store(cycle_store_path, read_only=True)
    from hotspots.register import get_place

    ev = evaluate_place(store.incidents(), get_place(store, 1), geography=store.geography())
    store.close()
    assert a.places["name"].tolist() == ["Hanley bus station"]
    row = a.places.iloc[0]
    assert (row["treated_before"], row["treated_after"]) == (ev.treated_before, ev.treated_after)
    assert row["verdict"] == ev.verdict and row["after"] == "2025-08 to 2025-12"
    assert set(a.evaluations) == {1}
    # wards above their expected range: each row's count is above its upper bound, in the window
    assert (a.above_expected["count"] > a.above_expected["upper"]).all()
    assert a.above_expected["month"].isin(["2025-12"]).all()
    # new hotspots are top places of the current list
    assert set(a.new_hotspots["name"]) <= set(a.hotspots["name"])


def test_agenda_writes_csv_and_excel(cycle_agenda, tmp_path):
    xlsx = cycle_agenda.write(tmp_path / "agenda.xlsx")
    sheets = pd.read_excel(xlsx, sheet_name=None)
    assert list(sheets) == ["summary", "new_hotspots", "above_expected", "repeat_locations", "places"]
    assert sheets["places"]["name"].tolist() == ["Hanley bus station"]
    assert sheets["repeat_locations"]["count"].tolist() == cycle_agenda.repeat_locations["count"].tolist()
    text = cycle_agenda.write(tmp_path / "agenda.csv").read_text()
    assert text.startswith("section,item,value\nsummary,group,Stoke Central")
    assert "places,1,Hanley bus station" in text
    with pytest.raises(
        InputError, match="cannot write the agenda to agenda.pdf: the file must end in .csv or .xlsx"
    ):
        cycle_agenda.write(tmp_path / "agenda.pdf")


def test_recorded_meeting_is_the_next_since(cycle_store_path, tmp_path):
    path = tmp_path / "store.duckdb"
    shutil.copy(cycle_store_path, path)
    store = Store(path)
    assert meetings(store, "Stoke Central").empty
    record_meeting(store, "Stoke Central", date="2025-10", author="chair")
    m = meetings(store, "Stoke Central")
    assert m["month"].tolist() == [pd.Timestamp("2025-10-01")] and m["recorded_by"].tolist() == ["chair"]
    a = meeting_agenda(store, group="Stoke Central", date="2025-12")
    assert a.since == "2025-10" and a.since_rule == "the group's last recorded meeting (2025-10)"
    assert np.all(a.repeat_locations["months_active"] <= 2)  # November and December only
    with pytest.raises(InputError, match="no group 'Nobody' in the register; groups: 'Stoke Central'"):
        record_meeting(store, "Nobody", date="2025-10")
    with pytest.raises(InputError, match="`date` must be a month 'YYYY-MM'; got 'soon'"):
        record_meeting(store, "Stoke Central", date="soon")
    store.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"group": "Nobody"}, "no group 'Nobody' in the register; groups: 'Stoke Central'"),
        ({"group": "Stoke Central", "date": "2024-06"}, "`date` 2024-06 is before the first loaded month \\(2025-01\\)"),
        ({"group": "Stoke Central", "date": "June"}, "`date` must be a month 'YYYY-MM'; got 'June'"),
        ({"group": "Stoke Central", "date": "2025-06", "since": "2025-08"}, "`since` 2025-08 must be before the meeting month 2025-06"),
    ],
)  # fmt: skip
def test_agenda_errors(cycle_store_path, kwargs, message):
    store = Store(cycle_store_path, read_only=True)
    with pytest.raises(InputError, match=message):
        meeting_agenda(store, **kwargs)
    store.close()
