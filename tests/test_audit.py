"""The audit log: entries written and read back; the command line's loads and exports recorded."""

from __future__ import annotations

import getpass
import json
import zipfile

import pandas as pd
import pytest
from conftest import SAMPLE_ZIP

from hotspots import audit
from hotspots._errors import InputError
from hotspots.cli import main
from hotspots.store import Store


@pytest.fixture()
def store(tmp_path):
    s = Store(tmp_path / "audit.duckdb")
    yield s
    s.close()


def test_entries_come_back_newest_first_with_user_role_and_time(store):
    before = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
    audit.record(store, "sign-in", user="ana@council.gov.uk", role="analyst", via="dashboard")
    audit.record(
        store, "export", user="vic@council.gov.uk", role="viewer", detail={"file": "asb.csv", "rows": 3}
    )
    audit.record(store, "load", detail="2025-01.csv: 9,215 rows read")
    log = audit.entries(store)
    assert list(log.columns) == audit.COLUMNS
    assert log["action"].tolist() == ["load", "export", "sign-in"]
    assert log["user"].tolist() == [getpass.getuser(), "vic@council.gov.uk", "ana@council.gov.uk"]
    assert log["role"].tolist() == ["analyst", "viewer", "analyst"]  # the command line acts as analyst
    assert json.loads(log["detail"].iloc[1]) == {"file": "asb.csv", "rows": 3}
    assert (log["time"] >= before).all() and (
        log["time"] <= pd.Timestamp.now(tz="UTC").tz_localize(None)
    ).all()
    assert audit.entries(store, action="export")["user"].tolist() == ["vic@council.gov.uk"]
    assert audit.entries(store, user="ana@council.gov.uk", limit=5)["action"].tolist() == ["sign-in"]


def test_audit_survives_reopening_and_does_not_change_the_data_version(tmp_path):
    path = tmp_path / "s.duckdb"
    with Store(path) as s:
        v = s.version()
        audit.record(s, "disclosure", user="admin@x", role="admin", detail="threshold 1-4 -> 1-9")
        assert s.version() == v
    with Store(path) as s:
        assert audit.entries(s)["detail"].tolist() == ["threshold 1-4 -> 1-9"]


def test_unknown_action_is_refused_with_the_valid_ones(store):
    with pytest.raises(
        InputError, match=r"audit action must be one of sign-in, sign-out, load, .*; got 'delete'"
    ):
        audit.record(store, "delete")
    with pytest.raises(InputError, match=r"audit action must be one of .*; got 'view'"):
        audit.entries(store, action="view")


def test_command_line_loads_and_exports_are_audited_as_the_local_analyst(tmp_path, capsys):
    month = tmp_path / "2025-01-staffordshire-street.csv"
    with zipfile.ZipFile(SAMPLE_ZIP) as zf:
        month.write_bytes(zf.read("2025-01/2025-01-staffordshire-street.csv"))
    path = tmp_path / "cli.duckdb"
    assert main(["ingest", str(month), "--store", str(path)]) == 0
    out = tmp_path / "wards.csv"
    assert main(["areas", "--level", "ward", "--out", str(out), "--store", str(path)]) == 0
    assert out.exists()
    capsys.readouterr()
    with Store(path) as s:
        log = audit.entries(s)
    assert log["action"].tolist() == ["export", "load"]
    assert set(log["user"]) == {getpass.getuser()} and set(log["role"]) == {"analyst"}
    load = log.iloc[1]
    assert load["via"] == "cli" and "2025-01-staffordshire-street.csv" in load["detail"]
    assert "9,215 rows read" in load["detail"] or "rows read" in load["detail"]
    export = json.loads(log.iloc[0]["detail"])
    assert export["out"] == str(out) and export["level"] == "ward"
    assert log.iloc[0]["via"] == "cli areas"


def test_restrict_and_audit_commands(tmp_path, capsys):
    path = tmp_path / "r.duckdb"
    partner = tmp_path / "asb.csv"
    partner.write_text("Ref,Month,Lon,Lat\nA1,2025-01,-2.18,53.0\nA2,2025-01,-2.17,53.01\n")
    mapping = tmp_path / "m.toml"
    mapping.write_text('id = "Ref"\nmonth = "Month"\ncategory_value = "ASB case"\nlon = "Lon"\nlat = "Lat"\n')
    assert (
        main(
            [
                "ingest",
                str(partner),
                "--source",
                "council-asb",
                "--mapping",
                str(mapping),
                "--store",
                str(path),
            ]
        )
        == 0
    )
    assert main(["restrict", "council-asb", "--store", str(path)]) == 0
    assert capsys.readouterr().out.strip().endswith("restricted sources: council-asb")
    assert main(["restrict", "nope", "--store", str(path)]) == 1
    assert "no incidents with source 'nope' in the store; known: council-asb" in capsys.readouterr().err
    out = tmp_path / "audit.csv"
    assert main(["audit", "--out", str(out), "--store", str(path)]) == 0
    log = pd.read_csv(out)
    assert log["action"].tolist() == ["restrict", "load"]  # this export is recorded once written
    assert "council-asb: restricted" in log["detail"].tolist()
    assert main(["audit", "--out", str(tmp_path / "a.txt"), "--store", str(path)]) == 1
    assert "--out must end in .csv or .xlsx; got 'a.txt'" in capsys.readouterr().err


def test_ingest_restricted_and_the_disclosure_command(tmp_path, capsys):
    from hotspots.disclosure import Rule, restricted_sources, stored_rule

    path = tmp_path / "d.duckdb"
    partner = tmp_path / "asb.csv"
    partner.write_text("Ref,Month,Lon,Lat\nA1,2025-01,-2.18,53.0\nA2,2025-01,-2.17,53.01\n")
    mapping = tmp_path / "m.toml"
    mapping.write_text('id = "Ref"\nmonth = "Month"\ncategory_value = "ASB case"\nlon = "Lon"\nlat = "Lat"\n')
    args = [
        "ingest",
        str(partner),
        "--source",
        "council-asb",
        "--mapping",
        str(mapping),
        "--store",
        str(path),
    ]
    assert main([*args, "--restricted"]) == 0
    assert main(["ingest", str(SAMPLE_ZIP), "--restricted", "--store", str(path)]) == 1
    err = capsys.readouterr().err
    assert (
        "--restricted marks a partner source (with --source and --mapping); police.uk data is public" in err
    )

    assert main(["disclosure", "--store", str(path)]) == 0
    assert "disclosure rule: counts of 1 to 4 from restricted partner sources are suppressed" in (
        capsys.readouterr().out
    )
    assert main(["disclosure", "--method", "round", "--base", "10", "--store", str(path)]) == 0
    assert "rounded to the nearest 10" in capsys.readouterr().out
    assert main(["disclosure", "--low", "5", "--high", "2", "--store", str(path)]) == 1
    assert "threshold must satisfy 1 <= low <= high; got low=5, high=2" in capsys.readouterr().err
    with Store(path, read_only=True) as store:
        assert restricted_sources(store) == frozenset({"council-asb"})
        assert stored_rule(store) == Rule(method="round", base=10)
        log = audit.entries(store)
    assert log["action"].tolist() == ["disclosure", "restrict", "load"]
    assert log["detail"].iloc[0] == "suppress 1-4 -> round to base 10, 1-4 shown as 10"
