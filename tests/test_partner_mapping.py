"""Partner mappings as real files need them: a separate time column, value labels, extra columns.

Checked on the constructed STATS19-layout extract in ``tests/data`` (see its README) against
a direct read of the same CSV with pandas.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hotspots._errors import InputError
from hotspots.cli import main
from hotspots.filters import Filter, extra_columns_of, extra_values_of
from hotspots.ingest import InputFile, PartnerMapping, ingest, load_input
from hotspots.seasonality import day_hour_profile
from hotspots.store import Store

DATA = Path(__file__).parent / "data"
STATS19 = DATA / "stats19_constructed.csv"
MAPPING = DATA / "stats19.toml"
SEVERITY = {"1": "Fatal", "2": "Serious", "3": "Slight"}


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return pd.read_csv(STATS19, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    path = tmp_path_factory.mktemp("stats19") / "s.duckdb"
    with Store(path) as store:
        reports = ingest(
            [STATS19], store=store, source="collisions", mapping=PartnerMapping.from_file(MAPPING)
        )
    store = Store(path, read_only=True)  # read-only, as the command line opens it too
    yield store, reports[0]
    store.close()


# ---------------------------------------------------------------------------- checks outputs
def test_stats19_loads_with_labels_and_times(loaded, raw):
    store, report = loaded
    assert report.status == "loaded", report.error
    assert report.rows_read == len(raw) == report.accepted
    inc = store.incidents()
    assert len(inc) == len(raw)
    # coded severities load as their labels, in the same numbers as the codes
    want = raw["Accident_Severity"].map(SEVERITY).value_counts().sort_index()
    got = inc["category"].astype(str).value_counts().sort_index()
    pd.testing.assert_series_equal(got, want, check_names=False)
    # date and time are joined: the exact time equals Date + Time read by hand
    by_id = inc.set_index(inc["incident_id"].astype(str).str.removeprefix("collisions:"))
    timed = raw[raw["Time"] != ""]
    hand = pd.to_datetime(timed["Date"] + " " + timed["Time"], format="%d/%m/%Y %H:%M")
    got_at = by_id.loc[timed["Accident_Index"], "occurred_at"].to_numpy()
    assert (got_at == hand.to_numpy()).all()
    # empty times keep the date's month but no exact time
    untimed = raw[raw["Time"] == ""]
    assert len(untimed) >= 2
    assert by_id.loc[untimed["Accident_Index"], "occurred_at"].isna().all()
    months = pd.to_datetime(untimed["Date"], format="%d/%m/%Y").dt.to_period("M").dt.to_timestamp()
    assert (by_id.loc[untimed["Accident_Index"], "month"].to_numpy() == months.to_numpy()).all()


def test_hour_of_day_profile_and_hour_filter_work_on_it(loaded, raw):
    store, _ = loaded
    inc = store.incidents()
    prof = day_hour_profile(inc)
    timed = raw[raw["Time"] != ""]
    when = pd.to_datetime(timed["Date"] + " " + timed["Time"], format="%d/%m/%Y %H:%M")
    hand = pd.crosstab(when.dt.day_of_week, when.dt.hour).reindex(
        index=range(7), columns=range(24), fill_value=0
    )
    assert prof["count"].to_numpy().tolist() == hand.to_numpy().ravel().tolist()
    assert prof.attrs["untimed"] == len(raw) - len(timed)
    eight = Filter(hours=(8,)).apply(inc)
    assert len(eight) == int((timed["Time"].str[:2] == "08").sum()) > 0
    weekend = Filter(days_of_week=(5, 6)).apply(inc)
    assert len(weekend) == int(when.dt.day_of_week.isin([5, 6]).sum())


def test_extra_columns_are_kept_labelled_and_filter(loaded, raw):
    store, _ = loaded
    inc = store.incidents()
    assert extra_columns_of(inc) == [
        "Speed_limit",
        "Light_Conditions",
        "Weather_Conditions",
        "Number_of_Casualties",
    ]
    speed = extra_values_of(inc, "Speed_limit")
    by_id = dict(zip(inc["incident_id"].astype(str).str.removeprefix("collisions:"), speed, strict=True))
    assert [by_id[i] for i in raw["Accident_Index"]] == raw["Speed_limit"].tolist()
    n30 = len(Filter(extra=("Speed_limit=30",)).apply(inc))
    assert n30 == int((raw["Speed_limit"] == "30").sum()) > 0
    # labelled extra column; two values of one column are alternatives, two columns must both match
    dark = Filter(extra=("Light_Conditions=Darkness - lights lit",)).apply(inc)
    assert len(dark) == int((raw["Light_Conditions"] == "4").sum())
    both = Filter(extra=("Speed_limit=30", "Speed_limit=40", "Weather_Conditions=Fine no high winds"))
    want = raw["Speed_limit"].isin(["30", "40"]) & (raw["Weather_Conditions"] == "1")
    assert len(both.apply(inc)) == int(want.sum())
    assert "Speed_limit: 30 or 40" in both.describe()
    # police.uk-only frames have no extras: the filter keeps nothing
    assert Filter(extra=("Speed_limit=30",)).mask(inc.assign(extra=None)).sum() == 0
    # the same filter through a URL query
    assert Filter.from_query(both.to_query()) == both


def test_incidents_export_shows_extra_columns(loaded, tmp_path, raw, capsys):
    store, _ = loaded
    out = tmp_path / "collisions.csv"
    code = main(["incidents", "--store", str(store.path), "--extra", "Speed_limit=30", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(df) == int((raw["Speed_limit"] == "30").sum())
    assert {"Speed_limit", "Weather_Conditions", "Light_Conditions"} <= set(df.columns)
    assert set(df["Speed_limit"]) == {"30"}
    assert set(df["category"]) <= set(SEVERITY.values())
    assert "Speed_limit" in json.loads(df["filter"].iloc[0])["extra"][0]


def test_mapping_to_dict_round_trip():
    m = PartnerMapping.from_file(MAPPING)
    assert m.category_labels == SEVERITY
    assert m.labels["Weather_Conditions"]["9"] == "Unknown"
    again = PartnerMapping.from_dict(m.to_dict())
    assert again == m
    m2 = PartnerMapping(date="Date", category="c", lon="x", lat="y", extra="*")
    assert m2.extra_columns(["Date", "c", "x", "y", "Road", "Notes"]) == ["Road", "Notes"]


# ---------------------------------------------------------------------------- checks inputs
def test_time_and_label_mapping_errors(tmp_path):
    with pytest.raises(InputError, match="the mapping gives `time` without `date`"):
        PartnerMapping(month="M", time="T", category="c", lon="x", lat="y")
    with pytest.raises(InputError, match="the mapping gives `category_labels` without `category`"):
        PartnerMapping(date="D", category_value="Collision", category_labels={1: "a"}, lon="x", lat="y")
    with pytest.raises(InputError, match=r"`category_labels` must be a table of code → label, such as"):
        PartnerMapping(date="D", category="c", category_labels=["Fatal"], lon="x", lat="y")
    with pytest.raises(
        InputError,
        match=r"`extra` must be a list of column names or \"\*\" \(every other column\); got 'all'",
    ):
        PartnerMapping(date="D", category="c", lon="x", lat="y", extra="all")
    with pytest.raises(InputError, match=r"`extra` must be a list of column names or \"\*\"; got int"):
        PartnerMapping(date="D", category="c", lon="x", lat="y", extra=3)
    with pytest.raises(InputError, match=r"`labels` must be a table of column → \{code → label\}; got list"):
        PartnerMapping(date="D", category="c", lon="x", lat="y", labels=["x"])
    cfg = tmp_path / "m.toml"
    cfg.write_text('date = "D"\ncategory = "c"\nlon = "x"\nlat = "y"\nextra = "everything"\n')
    with pytest.raises(InputError, match=r"m.toml: `extra` must be a list"):
        PartnerMapping.from_file(cfg)


def test_bad_times_and_missing_extra_columns_name_the_line(tmp_path):
    text = "Ref,Date,Time,Sev,lon,lat,Road\nA1,03/02/2025,25:10,3,-2.1,52.8,A34\nA2,03/02/2025,noon,2,-2.1,52.8,A34\nA3,03/02/2025,08:15,2,-2.1,52.8,A34\n"
    p = tmp_path / "c.csv"
    p.write_text(text)
    m = PartnerMapping(
        id="Ref",
        date="Date",
        date_format="%d/%m/%Y",
        time="Time",
        category="Sev",
        category_labels={"2": "Serious"},
        lon="lon",
        lat="lat",
        extra=["Road"],
    )
    store = Store(tmp_path / "s.duckdb")
    r = ingest([p], store=store, source="c", mapping=m)[0]
    assert (r.accepted, r.rejected) == (1, 2)
    rej = store.rejected().sort_values("line")
    assert rej["line"].tolist() == [2, 3]
    assert rej["reason"].tolist() == [
        "Time '25:10' is not a time of day written HH:MM",
        "Time 'noon' is not a time of day written HH:MM",
    ]
    inc = store.incidents()
    assert inc["category"].astype(str).tolist() == ["Serious"]
    assert inc["occurred_at"].iloc[0] == pd.Timestamp("2025-02-03 08:15")
    bad = PartnerMapping(date="Date", category="Sev", lon="lon", lat="lat", extra=["Speed"])
    with pytest.raises(
        InputError,
        match=r"c.csv, line 1: the mapping names column\(s\) 'Speed' that the file does not have; the header has: Ref, Date",
    ):
        load_input(store, "c.csv", [InputFile("c.csv", text.encode() + b"\n")], source="c2", mapping=bad)
    store.close()


def test_unlabelled_codes_are_kept_and_named(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("Date,Sev,lon,lat\n2025-02-03,3,-2.1,52.8\n2025-02-04,7,-2.1,52.8\n")
    m = PartnerMapping(date="Date", category="Sev", category_labels={"3": "Slight"}, lon="lon", lat="lat")
    store = Store(tmp_path / "s.duckdb")
    r = ingest([p], store=store, source="c", mapping=m)[0]
    assert r.accepted == 2
    assert any(
        "Sev codes without a label in `category_labels` are kept as they are: 7" in w for w in r.warnings
    )
    assert sorted(store.incidents()["category"].astype(str)) == ["7", "Slight"]
    store.close()


def test_bad_extra_filter_is_rejected():
    with pytest.raises(
        InputError, match=r"`extra` items must be written COLUMN=VALUE, such as Speed_limit=30; got \['30'\]"
    ):
        Filter(extra=("30",))


def test_null_coordinates_and_times_are_missing_not_rejected(tmp_path):
    # STATS19 extracts write a missing location or time as NULL
    p = tmp_path / "n.csv"
    p.write_text(
        "accident_index,date,time,accident_severity,longitude,latitude\n"
        "X1,05/03/2025,NULL,3,NULL,NULL\nX2,05/03/2025,17:42,2,-2.18,53.02\n"
    )
    m = PartnerMapping(
        id="accident_index",
        date="date",
        time="time",
        category="accident_severity",
        category_labels=SEVERITY,
        lon="longitude",
        lat="latitude",
    )
    with Store(tmp_path / "s.duckdb") as store:
        r = ingest([p], store=store, source="collisions", mapping=m)[0]
        assert (r.accepted, r.rejected, r.no_location) == (2, 0, 1)
        inc = store.incidents().set_index("incident_id")
        assert pd.isna(inc.loc["collisions:X1", "occurred_at"]) and pd.isna(inc.loc["collisions:X1", "x"])
        assert inc.loc["collisions:X1", "month"] == pd.Timestamp("2025-03-01")
        assert inc.loc["collisions:X2", "occurred_at"] == pd.Timestamp("2025-03-05 17:42")
        assert inc.loc["collisions:X2", "category"] == "Serious"
