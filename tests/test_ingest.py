"""Ingest: real-sample figures, every bad-input case, duplicates, transactions."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from hotspots._errors import InputError
from hotspots.ingest import (
    InputFile,
    PartnerMapping,
    ingest,
    load_input,
    read_zip,
)
from hotspots.store import Store

SAMPLE_ZIP = Path(__file__).resolve().parents[1] / "sample_data" / "staffordshire-2025-street.zip"
#: sha256 of the sorted ids of the sample's rows without a Crime ID, as the first (pandas) version made them
DIGEST_2025_IDS = "c5649d48e1691e41e3ebec2c07afc5a723e7292d6104b4b0b451b15791d48523"


@pytest.fixture(scope="module")
def jan_lines() -> list[str]:
    """The header and first 40 rows of the real January 2025 file (from the shipped zip)."""
    with zipfile.ZipFile(SAMPLE_ZIP) as zf:
        text = zf.read("2025-01/2025-01-staffordshire-street.csv").decode("utf-8")
    return text.splitlines()[:41]


@pytest.fixture()
def store(tmp_path) -> Store:
    s = Store(tmp_path / "store.duckdb")
    yield s
    s.close()


@pytest.fixture(scope="module")
def loaded_sample(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("sample") / "store.duckdb")
    reports = ingest([SAMPLE_ZIP], store=s)
    return s, reports


def snapshot(store: Store) -> dict:
    """Everything a load could change."""
    return {
        "counts": store.counts(),
        "incidents": store.sql("SELECT incident_id, outcome, flags FROM incidents ORDER BY 1").to_dict(
            "list"
        ),
        "log": store.sql("SELECT sha256 FROM ingests ORDER BY 1")["sha256"].tolist(),
    }


def load_text(store: Store, text: str | bytes, name: str = "bad.csv", **kw):
    data = text.encode("utf-8") if isinstance(text, str) else text
    report = load_input(store, name, [InputFile(name, data)], **kw)
    assert report.accepted + report.duplicate + report.rejected == report.rows_read
    return report


def reasons(store: Store) -> list[tuple[int, str]]:
    df = store.rejected(kind="rejected")
    return list(zip(df["line"].astype(int), df["reason"], strict=True))


# ---------------------------------------------------------------------------- real data
def test_real_sample_load_figures_match_a_hand_count(loaded_sample, sample_raw, geography):
    store, reports = loaded_sample
    (r,) = reports
    raw = sample_raw
    ids = raw["Crime ID"]
    hand_duplicates = int(((ids != "") & ids.duplicated()).sum())
    kept = raw[~((ids != "") & ids.duplicated())]
    hand_no_location = int((kept["Longitude"] == "").sum())
    lon = pd.to_numeric(kept["Longitude"], errors="coerce")
    lat = pd.to_numeric(kept["Latitude"], errors="coerce")
    has = lon.notna()
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon[has], lat[has]), crs=4326).to_crs(27700)
    inside = gpd.sjoin(pts, geography.lsoas[["geometry"]], predicate="within").index.unique()
    hand_outside = int(has.sum() - len(inside))

    assert r.rows_read == len(raw) == 102_517
    assert r.duplicate == hand_duplicates == 66
    assert r.rejected == 0
    assert r.accepted == 102_517 - 66
    assert r.no_location == hand_no_location == 529
    assert r.outside_area == hand_outside
    assert 0.005 < r.outside_area / r.rows_read < 0.015  # about 1% lie in neighbouring districts
    assert store.counts()["incidents"] == r.accepted
    log = store.ingest_log().iloc[0]
    assert (log.rows_read, log.accepted, log.duplicate, log.rejected) == (102_517, 102_451, 66, 0)
    assert len(log.sha256) == 64


def test_ward_counts_equal_a_direct_geopandas_join(loaded_sample, real_incidents):
    store, _ = loaded_sample
    mine = store.incidents().groupby("ward_code", observed=True).size()
    mine.index = mine.index.astype(str)
    mine = mine.sort_index()
    reference = real_incidents.groupby("ward_code").size().sort_index()
    pd.testing.assert_series_equal(mine, reference, check_names=False, check_index_type=False)
    assert mine.sum() == 102_451 - 529 - (store.incidents()["flags"] == "outside_area").sum()


def test_repeated_crime_ids_keep_first_month_and_latest_outcome(loaded_sample, sample_raw):
    store, _ = loaded_sample
    raw = sample_raw[sample_raw["Crime ID"] != ""]
    rep = raw[raw["Crime ID"].duplicated(keep=False)].sort_values(["Crime ID", "Month"])
    first = rep.drop_duplicates("Crime ID", keep="first").set_index("Crime ID")
    last = rep.drop_duplicates("Crime ID", keep="last").set_index("Crime ID")
    got = store.incidents().set_index("incident_id").loc[first.index]
    assert (got["month"].dt.strftime("%Y-%m") == first["Month"]).all()
    assert (got["outcome"].astype(str) == last["Last outcome category"]).all()
    dups = store.rejected(kind="duplicate")
    assert len(dups) == 66 and dups["raw"].str.len().gt(50).all()
    assert dups["reason"].str.contains("already seen at").all()


def test_reloading_the_same_file_or_month_adds_nothing(loaded_sample, tmp_path):
    store, _ = loaded_sample
    before = snapshot(store)
    again = ingest([SAMPLE_ZIP], store=store)
    assert again[0].status == "already loaded"
    assert snapshot(store) == before
    # the same month from an extracted copy (different bytes: a different file) adds no incident
    with zipfile.ZipFile(SAMPLE_ZIP) as zf:
        data = zf.read("2025-03/2025-03-staffordshire-street.csv")
    copy = tmp_path / "2025-03-staffordshire-street.csv"
    copy.write_bytes(data + b"\n")
    (r,) = ingest([copy], store=store)
    assert r.status == "loaded" and r.accepted == 0 and r.duplicate == r.rows_read == 8_527
    assert store.counts()["incidents"] == before["counts"]["incidents"]


def test_folder_of_extracted_archive_loads_every_month(tmp_path, store):
    with zipfile.ZipFile(SAMPLE_ZIP) as zf:
        for name in ("2025-01/2025-01-staffordshire-street.csv", "2025-02/2025-02-staffordshire-street.csv"):
            zf.extract(name, tmp_path / "archive")
    reports = ingest([tmp_path / "archive"], store=store)
    assert [Path(r.file).name for r in reports] == [
        "2025-01-staffordshire-street.csv",
        "2025-02-staffordshire-street.csv",
    ]
    assert sum(r.rows_read for r in reports) == 7_522 + 6_885
    assert store.counts()["incidents"] == sum(r.accepted for r in reports)


def test_2011_lsoa_codes_do_not_matter(store, jan_lines):
    # an older file reports 2011 LSOA codes: areas come from the coordinates, not the code
    header, *rows = jan_lines[:6]
    old = [",".join(r.split(",")[:7] + ["E01999999", "Old name 001A"] + r.split(",")[9:]) for r in rows]
    load_text(store, "\n".join([header, *old]), name="2013-01-old-street.csv")
    placed = store.incidents()
    ref = load_text(Store(":memory:"), "\n".join(jan_lines[:6]), name="new.csv")
    assert ref.accepted == 5
    assert placed["lsoa_code_reported"].astype(str).eq("E01999999").all()


# ---------------------------------------------------------------------------- bad input
def test_missing_column_names_file_line_and_column(store, jan_lines):
    header = jan_lines[0].replace(",Crime type,", ",Offence,")
    with pytest.raises(InputError, match=r"bad.csv, line 1: missing column 'Crime type'"):
        load_text(store, "\n".join([header, *jan_lines[1:3]]))
    assert store.counts()["incidents"] == 0 and store.is_empty()


def test_renamed_column_close_to_the_original_is_hinted(store, jan_lines):
    header = jan_lines[0].replace(",Longitude,", ",Longtude,")
    with pytest.raises(InputError, match=r"missing column 'Longitude' \(is 'Longtude' it, renamed\?\)"):
        load_text(store, "\n".join([header, *jan_lines[1:3]]))


def test_columns_differing_in_case_or_underscores_are_read_with_a_note(store, jan_lines):
    header = jan_lines[0].replace("Crime type", "crime_type").replace("Month", "MONTH")
    r = load_text(store, "\n".join([header, *jan_lines[1:11]]))
    assert r.accepted == 10
    assert any("'crime_type' read as 'Crime type'" in w for w in r.warnings)


def test_extra_columns_are_ignored_with_a_note(store, jan_lines):
    lines = [jan_lines[0] + ",Officer notes"] + [row + ",x" for row in jan_lines[1:6]]
    r = load_text(store, "\n".join(lines))
    assert r.accepted == 5
    assert any("extra column ignored: Officer notes" in w for w in r.warnings)


def _edit(row: str, col: int, value: str) -> str:
    parts = row.split(",")
    parts[col] = value
    return ",".join(parts)


@pytest.mark.parametrize(
    ("col", "value", "reason"),
    [
        (4, "abc", "Longitude 'abc' is not a number"),
        (5, "52.x", "Latitude '52.x' is not a number"),
        (1, "2025-13", "Month '2025-13' is not a month written YYYY-MM"),
        (1, "Jan 2025", "Month 'Jan 2025' is not a month written YYYY-MM"),
        (9, "Cheese theft", "unknown Crime type 'Cheese theft'"),
        (9, "", "Crime type is empty"),
    ],
)
def test_bad_values_reject_the_row_with_file_line_and_reason(store, jan_lines, col, value, reason):
    rows = list(jan_lines[:8])
    rows[3] = _edit(rows[3], col, value)
    r = load_text(store, "\n".join(rows))
    assert (r.rows_read, r.accepted, r.rejected) == (7, 6, 1)
    ((line, why),) = reasons(store)
    assert line == 4 and reason in why
    raw = store.rejected()["raw"].iloc[0]
    assert raw == rows[3]


def test_coordinates_missing_zero_swapped_and_outside_gb(store, jan_lines):
    rows = list(jan_lines[:9])
    rows[1] = _edit(_edit(rows[1], 4, ""), 5, "")  # missing: kept, flagged
    rows[2] = _edit(_edit(rows[2], 4, "0"), 5, "0")  # zero: rejected
    lon, lat = rows[3].split(",")[4:6]
    rows[3] = _edit(_edit(rows[3], 4, lat), 5, lon)  # swapped: fixed, flagged
    rows[4] = _edit(_edit(rows[4], 4, "2.35"), 5, "48.85")  # Paris: rejected
    rows[5] = _edit(rows[5], 5, "")  # one of the two missing: rejected
    r = load_text(store, "\n".join(rows))
    assert (r.rows_read, r.accepted, r.rejected) == (8, 5, 3)
    assert r.no_location == 1 and r.coords_swapped == 1
    why = dict(reasons(store))
    assert "both 0" in why[3]
    assert "outside Great Britain" in why[5]
    assert "Latitude is missing but Longitude is given" in why[6]
    inc = store.incidents()
    fixed = inc[inc["flags"].astype(str).str.contains("coords_swapped")].iloc[0]
    assert fixed["lon"] == pytest.approx(float(lon)) and fixed["lat"] == pytest.approx(float(lat))
    assert inc["flags"].astype(str).str.contains("no_location").sum() == 1


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_text_encodings(store, jan_lines, encoding):
    rows = list(jan_lines[:4])
    rows[2] = _edit(rows[2], 6, "On or near Café Street – Hanley")
    r = load_text(store, "\n".join(rows).encode(encoding))
    assert r.accepted == 3
    names = set(store.incidents()["location_name"].astype(str))
    assert "On or near Café Street – Hanley" in names
    if encoding == "cp1252":
        assert any("Windows-1252" in w for w in r.warnings)


def test_blank_lines_are_skipped_and_line_numbers_stay_physical(store, jan_lines):
    rows = [jan_lines[0], "", jan_lines[1], "   ", "", _edit(jan_lines[2], 1, "bad"), jan_lines[3], ""]
    r = load_text(store, "\r\n".join(rows))
    assert (r.rows_read, r.accepted, r.rejected, r.blank_lines) == (3, 2, 1, 3)
    assert reasons(store)[0][0] == 6


def test_truncated_last_line_is_rejected_not_lost(store, jan_lines):
    text = "\n".join(jan_lines[:6]) + "\n" + jan_lines[6][:40]
    r = load_text(store, text)
    assert (r.rows_read, r.accepted, r.rejected) == (6, 5, 1)
    ((line, why),) = reasons(store)
    assert line == 7 and "too few fields (a truncated line?)" in why
    assert store.rejected()["raw"].iloc[0] == jan_lines[6][:40]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "bad.csv: the file is empty"),
        (b"\n\n  \n", "bad.csv: the file is empty"),
        (b"PK\x03\x04\x14\x00\x00\x00binary", "not a CSV text file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a CSV text file"),
        (b"just some words\nin a text file\n", "does not look like a CSV file"),
        (b"a,b,c\n1,2,3\n", "not a police.uk street-level or outcomes file"),
    ],
)
def test_files_that_cannot_be_read_leave_the_store_unchanged(store, data, match):
    before = snapshot(store)
    with pytest.raises(InputError, match=match):
        load_input(store, "bad.csv", [InputFile("bad.csv", data)])
    assert snapshot(store) == before


def test_stop_and_search_files_are_refused_with_a_reason(store):
    path = Path(
        "/work/shared/data/police-uk/format-samples/2024-06-staffordshire-stop-and-search.SAMPLE-first-4-rows.csv"
    )
    text = (
        path.read_bytes()
        if path.exists()
        else (
            b"Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,Age range,"
            b"Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,Outcome\n"
        )
    )
    with pytest.raises(InputError, match="stop-and-search file: searches are not crimes"):
        load_input(store, "ss.csv", [InputFile("ss.csv", text)])


def test_outcomes_file_updates_known_crime_ids_and_rejects_unknown(store, jan_lines):
    load_text(store, "\n".join(jan_lines[:6]), name="street.csv")
    known = [r.split(",")[0] for r in jan_lines[1:4]]
    header = (
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type"
    )
    rows = [
        f"{cid},2025-03,Staffordshire Police,Staffordshire Police,,,No location,,,Offender given a caution"
        for cid in known
    ] + ["ffff,2025-03,Staffordshire Police,Staffordshire Police,,,No location,,,Suspect charged"]
    r = load_text(store, "\n".join([header, *rows]), name="2025-03-staffordshire-outcomes.csv")
    assert (r.kind, r.rows_read, r.accepted, r.rejected, r.outcomes_updated) == ("outcomes", 4, 3, 1, 3)
    inc = store.incidents().set_index("incident_id")
    assert (inc.loc[known, "outcome"] == "Offender given a caution").all()
    assert "load the street-level file for its month first" in reasons(store)[0][1]


# ---------------------------------------------------------------------------- zips
def make_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_with_unexpected_members_loads_the_csvs_and_notes_the_rest(tmp_path, store, jan_lines):
    z = tmp_path / "archive.zip"
    z.write_bytes(
        make_zip(
            {
                "2025-01/2025-01-x-street.csv": "\n".join(jan_lines[:5]).encode(),
                "README.txt": b"hello",
                "logo.png": b"\x89PNG",
            }
        )
    )
    (r,) = ingest([z], store=store)
    assert r.status == "loaded" and r.accepted == 4
    assert any("skipped 'README.txt'" in w for w in r.warnings)
    assert any("skipped 'logo.png'" in w for w in r.warnings)


@pytest.mark.parametrize("member", ["../evil.csv", "/etc/evil.csv", "2025-01/../../evil.csv", "C:/evil.csv"])
def test_zip_with_unsafe_paths_is_refused(member, store):
    data = make_zip({member: b"Crime ID,Month\n"})
    with pytest.raises(InputError, match="unsafe member path"):
        read_zip("evil.zip", data=data)


def test_zip_that_is_not_a_zip_fails_cleanly(tmp_path, store):
    z = tmp_path / "broken.zip"
    z.write_bytes(b"PK\x03\x04 not really")
    (r,) = ingest([z], store=store)
    assert r.status == "failed" and "not a readable zip archive" in r.error
    assert store.is_empty()


# ---------------------------------------------------------------------------- transactions
@pytest.mark.parametrize("stage", ["dedupe", "locations", "rejected"])
def test_a_load_that_fails_midway_leaves_the_store_as_it_was(store, jan_lines, stage):
    load_text(store, "\n".join(jan_lines[:11]), name="first.csv")
    before = snapshot(store)
    locations_before = store.locations()

    def boom(at: str) -> None:
        if at == stage:
            raise RuntimeError(f"disk full at {at}")

    rows = [jan_lines[0], *jan_lines[5:41], _edit(jan_lines[20], 1, "bad")]
    with pytest.raises(RuntimeError, match="disk full"):
        load_input(store, "second.csv", [InputFile("second.csv", "\n".join(rows).encode())], fail_after=boom)
    assert snapshot(store) == before
    pd.testing.assert_frame_equal(store.locations(), locations_before)
    # and the same file loads afterwards
    r = load_input(store, "second.csv", [InputFile("second.csv", "\n".join(rows).encode())])
    assert r.status == "loaded" and r.rejected == 1


# ---------------------------------------------------------------------------- partner data
FLY = """CaseRef,Reported,Type,Easting,Northing,Street
FT1,03/05/2025 14:30,Black bags,389438,346650,Hope Street
FT2,2025-05-04T09:00,Mattress,389500,346700,Town Road
FT3,not a date,Black bags,389438,346650,Hope Street
FT4,05/05/2025,Tyres,,,Unknown
FT5,06/05/2025,Black bags,9999999,346650,Hope Street
"""


def test_partner_csv_with_easting_northing_and_dates(store):
    m = PartnerMapping(
        id="CaseRef",
        date="Reported",
        category="Type",
        easting="Easting",
        northing="Northing",
        location="Street",
    )
    r = load_text(store, FLY, name="flytipping.csv", source="fly-tipping", mapping=m)
    assert (r.kind, r.rows_read, r.accepted, r.rejected, r.no_location) == ("partner", 5, 3, 2, 1)
    why = dict(reasons(store))
    assert "Reported 'not a date' is not a date" in why[4]
    assert "outside Great Britain" in why[6]
    inc = store.incidents().set_index("incident_id")
    ft1 = inc.loc["fly-tipping:FT1"]
    assert ft1["source"] == "fly-tipping" and ft1["month"] == pd.Timestamp("2025-05-01")
    assert ft1["occurred_at"] == pd.Timestamp("2025-05-03 14:30")  # UK day-first date
    assert ft1["x"] == pytest.approx(389438, abs=1.5) and ft1["district_code"] == "E06000021"
    # reloading a changed copy adds only new cases
    r2 = load_text(
        store,
        FLY + "FT6,07/05/2025,Tyres,389438,346650,Hope Street\n",
        name="fly2.csv",
        source="fly-tipping",
        mapping=m,
    )
    assert (r2.accepted, r2.duplicate, r2.rejected) == (1, 3, 2)


def test_partner_mapping_errors_name_what_is_wrong(store, tmp_path):
    with pytest.raises(InputError, match="needs `date` or `month`"):
        PartnerMapping(category="Type", lon="x", lat="y")
    with pytest.raises(InputError, match="needs coordinates"):
        PartnerMapping(date="d", category="Type")
    with pytest.raises(InputError, match="needs `category`"):
        PartnerMapping(date="d", lon="x", lat="y")
    cfg = tmp_path / "m.toml"
    cfg.write_text('date = "Reported"\ncategory = "Type"\neasting = "E"\nnorthing = "N"\ncolour = "red"\n')
    with pytest.raises(InputError, match="m.toml: unknown mapping key\\(s\\) colour; valid keys:"):
        PartnerMapping.from_file(cfg)
    m = PartnerMapping(date="Reported", category="Kind", easting="Easting", northing="Northing")
    with pytest.raises(InputError, match="column\\(s\\) 'Kind' that the file does not have"):
        load_text(store, FLY, name="f.csv", source="fly", mapping=m)


def test_partner_rows_without_ids_get_stable_ids(store):
    text = "When,What,lon,lat\n2025-05,ASB,-2.18,53.02\n2025-05,ASB,-2.18,53.02\n2025-06,ASB,-2.18,53.02\n"
    m = PartnerMapping(month="When", category="What", lon="lon", lat="lat")
    r1 = load_text(store, text, name="a.csv", source="council-asb", mapping=m)
    r2 = load_text(store, text + "\n", name="b.csv", source="council-asb", mapping=m)
    assert (r1.accepted, r2.accepted, r2.duplicate) == (3, 0, 3)
    ids = store.incidents()["incident_id"]
    assert ids.is_unique and len(ids) == 3


def test_ids_are_deterministic_across_stores(tmp_path, jan_lines):
    a, b = Store(tmp_path / "a.duckdb"), Store(tmp_path / "b.duckdb")
    text = "\n".join(jan_lines)
    load_text(a, text)
    load_text(b, text)
    ia = np.sort(a.incidents()["incident_id"].to_numpy(str))
    ib = np.sort(b.incidents()["incident_id"].to_numpy(str))
    assert (ia == ib).all()


def test_progress_is_reported_within_one_large_input(store):
    """One zip of 12 months: a step per month read, then the write's stages, ending at the total."""
    calls: list[tuple[int, int, str]] = []
    files, _ = read_zip(SAMPLE_ZIP)
    report = load_input(store, SAMPLE_ZIP.name, files, progress=lambda d, t, text: calls.append((d, t, text)))
    assert report.accepted == 102_451
    done = [d for d, _, _ in calls]
    assert {t for _, t, _ in calls} == {12 + 3}
    assert done == sorted(done) and done[-1] == 15 and len(calls) == 15
    assert (
        calls[0][2]
        == "Checked staffordshire-2025-street.zip:2025-01/2025-01-staffordshire-street.csv (7,522 rows)"
    )
    assert calls[-1][2] == "Saved: 102,451 incidents added"


def test_progress_of_a_multi_input_load_is_called_in_order(tmp_path, store):
    with zipfile.ZipFile(SAMPLE_ZIP) as zf:
        for name in ("2025-01/2025-01-staffordshire-street.csv", "2025-02/2025-02-staffordshire-street.csv"):
            (tmp_path / Path(name).name).write_bytes(zf.read(name))
    calls: list[tuple[int, int, str]] = []
    ingest(
        sorted(tmp_path.glob("*.csv")), store=store, progress=lambda d, t, text: calls.append((d, t, text))
    )
    assert [d for d, _, _ in calls] == [1, 2, 3, 4, 5] and {t for _, t, _ in calls} == {5}
    assert calls[0][2].endswith("2025-01-staffordshire-street.csv")


def test_ids_made_for_rows_without_a_crime_id_stay_the_same(loaded_sample):
    """The 15,455 ASB rows of 2025 get the ids earlier versions gave them, so stores built before keep matching."""
    store, _ = loaded_sample
    ids = store.sql("SELECT incident_id FROM incidents WHERE incident_id LIKE 'pu-%' ORDER BY 1")[
        "incident_id"
    ]
    assert len(ids) == 15_455
    assert hashlib.sha256("\n".join(ids).encode()).hexdigest() == DIGEST_2025_IDS
