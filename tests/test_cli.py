import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from hotspots.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_ingest_summary_and_areas_end_to_end(tmp_path, capsys):
    store = tmp_path / "s.duckdb"
    assert main(["ingest", str(ROOT / "sample_data"), "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert "102,517 rows read, 102,451 accepted, 66 duplicate, 0 rejected" in out
    assert main(["ingest", "--if-empty", str(ROOT / "sample_data"), "--store", str(store)]) == 0
    assert "already holds data" in capsys.readouterr().out

    assert main(["summary", "--store", str(store), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["counts"]["incidents"] == 102_451
    assert summary["by_month"]["2025-07"] == 9_585
    assert summary["flags"]["no_location"] == 529
    assert summary["ingests"][0]["rows_read"] == 102_517
    placed = {r["assigned_by"]: r["incidents"] for r in summary["assigned_by"]}
    # located rows: inside the Staffordshire polygons, or outside and left in no area (docs/areas.md)
    assert (
        placed["polygon"] + sum(n for k, n in placed.items() if k.startswith("unassigned")) == 102_451 - 529
    )
    assert sum(n for k, n in placed.items() if k.startswith("unassigned")) == 632

    for ext in ("csv", "xlsx", "geojson", "gpkg"):
        out_file = tmp_path / f"wards.{ext}"
        rc = main(
            [
                "areas",
                "--store",
                str(store),
                "--level",
                "ward",
                "--category",
                "Anti-social behaviour",
                "--from",
                "2025-06",
                "--to",
                "2025-08",
                "--out",
                str(out_file),
            ]
        )
        assert rc == 0
        if ext == "csv":
            df = pd.read_csv(out_file)
        elif ext == "xlsx":
            df = pd.read_excel(out_file, sheet_name="wards")
            about = pd.read_excel(out_file, sheet_name="about")
            assert "data.police.uk" in " ".join(about["value"].astype(str))
        else:
            df = gpd.read_file(out_file)
            assert df.crs.to_epsg() == (4326 if ext == "geojson" else 27700)
        for col in (
            "area_code",
            "area_name",
            "level",
            "population",
            "count",
            "rate_per_1000",
            "share_of_incidents",
            "share_of_population",
            "rank",
        ):
            assert col in df.columns
        assert len(df) == 185 and df["count"].sum() > 0
    capsys.readouterr()
    assert (
        main(
            [
                "areas",
                "--store",
                str(store),
                "--level",
                "district",
                "--priority",
                "E06000021",
                "--out",
                str(tmp_path / "d.csv"),
            ]
        )
        == 0
    )
    assert "Priority districts have an all-crime rate of" in capsys.readouterr().out


def test_cli_errors_are_one_line_and_non_zero(tmp_path, capsys):
    store = tmp_path / "s.duckdb"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    assert main(["ingest", str(bad), "--store", str(store)]) == 1
    err = capsys.readouterr().err
    assert "error: " in err and "bad.csv: the file is empty" in err
    assert main(["ingest", str(tmp_path / "missing.csv"), "--store", str(store)]) == 1
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["areas", "--store", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "x.csv")]) == 1
    assert "no store at" in capsys.readouterr().err
    assert main(["ingest", str(bad), "--source", "fly", "--store", str(store)]) == 1
    assert "--source for partner data needs --mapping" in capsys.readouterr().err


def test_cli_rejects_unknown_category_and_output_type(sample_store_path, tmp_path, capsys):
    s = str(sample_store_path)
    assert main(["areas", "--store", s, "--category", "Drug", "--out", str(tmp_path / "x.csv")]) == 1
    assert "no incidents with category 'Drug' in the store; known:" in capsys.readouterr().err
    assert main(["areas", "--store", s, "--out", str(tmp_path / "x.txt")]) == 1
    assert "the output must end in .csv, .xlsx, .geojson, .gpkg" in capsys.readouterr().err
    assert main(["areas", "--store", s, "--from", "2025-13", "--out", str(tmp_path / "x.csv")]) == 1
    assert "YYYY-MM" in capsys.readouterr().err


def test_partner_ingest_with_mapping_file(tmp_path, capsys):
    csv = tmp_path / "fly.csv"
    csv.write_text("Ref,When,Kind,E,N\nA1,2025-02-03,Bags,389438,346650\nA2,2025-02-04,Sofa,389500,346700\n")
    mapping = tmp_path / "fly.toml"
    mapping.write_text('id = "Ref"\ndate = "When"\ncategory = "Kind"\neasting = "E"\nnorthing = "N"\n')
    store = tmp_path / "s.duckdb"
    assert (
        main(
            ["ingest", str(csv), "--source", "fly-tipping", "--mapping", str(mapping), "--store", str(store)]
        )
        == 0
    )
    assert "2 rows read, 2 accepted" in capsys.readouterr().out
    assert (
        main(
            [
                "areas",
                "--store",
                str(store),
                "--source",
                "fly-tipping",
                "--level",
                "district",
                "--out",
                str(tmp_path / "d.csv"),
            ]
        )
        == 0
    )
    d = pd.read_csv(tmp_path / "d.csv").set_index("area_code")
    assert d.loc["E06000021", "count"] == 2


def test_localities_csv(sample_store_path, tmp_path, capsys):
    import shutil

    store = tmp_path / "s.duckdb"
    shutil.copy(sample_store_path, store)
    loc = tmp_path / "loc.csv"
    loc.write_text("ward,locality\nE05014574,Hanley and around\nE05014478,Hanley and around\n")
    assert main(["localities", str(loc), "--store", str(store)]) == 0
    assert (
        main(["areas", "--store", str(store), "--level", "locality", "--out", str(tmp_path / "l.csv")]) == 0
    )
    t = pd.read_csv(tmp_path / "l.csv").set_index("area_code")
    assert "Hanley and around" in t.index and len(t) == 10
    bad = tmp_path / "bad.csv"
    bad.write_text("ward,locality\nE05014574,A\nE05014574,B\n")
    assert main(["localities", str(bad), "--store", str(store)]) == 1
    assert "bad.csv, line 3: ward E05014574 is listed twice" in capsys.readouterr().err
    bad.write_text("ward,locality\nE09999999,A\n")
    assert main(["localities", str(bad), "--store", str(store)]) == 1
    assert "are not wards of the study area" in capsys.readouterr().err


def test_installed_entry_point_runs():
    exe = Path(sys.executable).parent / "hotspots"
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True).stdout
    for cmd in ("ingest", "areas", "summary"):
        assert cmd in out


@pytest.mark.parametrize("level", ["lsoa", "district"])
def test_areas_levels(sample_store_path, tmp_path, level):
    out = tmp_path / f"{level}.csv"
    assert main(["areas", "--store", str(sample_store_path), "--level", level, "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert len(df) == {"lsoa": 697, "district": 9}[level]
    assert df["population"].sum() == 1_134_501


def test_user_boundaries_reassign_areas_and_flags(sample_store_path, tmp_path, capsys, geography):
    import shutil

    store = tmp_path / "s.duckdb"
    shutil.copy(sample_store_path, store)
    part = geography.lsoas[geography.lsoas.district_code == "E07000199"]  # Tamworth only
    f = tmp_path / "tamworth.geojson"
    gpd.GeoDataFrame({"LSOA21CD": part.lsoa_code}, geometry=part.geometry.to_numpy(), crs=27700).to_crs(
        4326
    ).to_file(f)
    assert main(["boundaries", str(f), "--store", str(store)]) == 0
    assert f"study area set to tamworth: {len(part)} LSOAs" in capsys.readouterr().out
    from hotspots.store import Store

    s = Store(store, read_only=True)
    inc = s.incidents()
    inside = inc["district_code"].notna()
    assert set(inc.loc[inside, "district_code"].astype(str)) == {"E07000199"}
    outside = inc["flags"].astype(str).str.contains("outside_area")
    assert (outside == (inc["location_id"].ge(0) & ~inside)).all()
    s.close()
    assert main(["boundaries", "--reset", "--store", str(store)]) == 0
    s = Store(store, read_only=True)
    assert s.incidents()["flags"].astype(str).str.contains("outside_area").sum() == 632


SAMPLE_ZIP_FOR_PIPE = Path(__file__).resolve().parents[1] / "sample_data" / "staffordshire-2025-street.zip"


@pytest.mark.parametrize(
    ("args", "reader"),
    [
        (["summary"], "head -1"),
        (["summary", "--json"], "true"),
        (["ingest", str(SAMPLE_ZIP_FOR_PIPE)], "true"),
        (["--help"], "true"),
    ],
    ids=["summary-head", "summary-json", "ingest", "help"],
)
def test_output_piped_into_a_reader_that_leaves_ends_quietly(args, reader, sample_store_path, tmp_path):
    store = tmp_path / "s.duckdb"
    store.write_bytes(sample_store_path.read_bytes())
    cmd = [sys.executable, "-m", "hotspots.cli", *args]
    if args[0] != "--help":
        cmd += ["--store", str(store)]
    line = " ".join(f"'{c}'" for c in cmd)
    out = subprocess.run(
        ["bash", "-c", f'{line} | {reader}; echo "status ${{PIPESTATUS[0]}}" >&2'],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in out.stderr and "BrokenPipeError" not in out.stderr, out.stderr
    assert len(out.stdout.splitlines()) == (1 if reader == "head -1" else 0)
    status = out.stderr.strip().splitlines()[-1]
    if reader == "true" and args[0] != "--help":  # the reader left before any output: as SIGPIPE does
        assert status == "status 141", out.stderr
    else:  # 0 when all the output fitted in the pipe before the reader left
        assert status in ("status 141", "status 0"), out.stderr
