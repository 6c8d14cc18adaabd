"""hotspots place-evaluate, agenda and pack end to end on a store loaded with the real 2025 sample."""

from __future__ import annotations

import json
import shutil

import geopandas as gpd
import pytest
import shapely

from hotspots.cli import main

KEYS = [
    "treated_before",
    "treated_after",
    "buffer_before",
    "buffer_after",
    "control_before",
    "control_after",
    "wdq",
    "effect",
    "effect_low",
    "effect_high",
    "verdict",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory, sample_store_path):
    path = tmp_path_factory.mktemp("cycle") / "hotspots.duckdb"
    shutil.copy(sample_store_path, path)
    from hotspots.register import ensure_schema
    from hotspots.store import Store

    s = Store(path)
    ensure_schema(s)
    s.close()
    return str(path)


@pytest.fixture(scope="module")
def hanley_file(tmp_path_factory):
    """A 200 m circle in Hanley town centre, saved in longitude/latitude as a user would draw it."""
    path = tmp_path_factory.mktemp("places") / "hanley.geojson"
    circle = shapely.Point(388_380, 347_530).buffer(200)
    gpd.GeoDataFrame({"name": ["Hanley"]}, geometry=[circle], crs=27700).to_crs(4326).to_file(path)
    return path


def test_place_evaluate_json_from_a_file_equals_the_library(store, hanley_file, capsys):
    from hotspots.place_eval import evaluate_place
    from hotspots.register import check_polygon, read_place_file
    from hotspots.store import Store

    assert (
        main(
            ["place-evaluate", "--store", store, "--place", str(hanley_file), "--start", "2025-07", "--json"]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert all(k in out for k in KEYS)
    s = Store(store, read_only=True)
    geom = check_polygon(read_place_file(hanley_file))
    ev = evaluate_place(
        s.incidents(), geom, crs=27700, start="2025-07", geography=s.geography(), name="hanley"
    )
    s.close()
    assert {k: out[k] for k in KEYS} == {k: ev.to_dict()[k] for k in KEYS}
    assert out["treated_before"] > 50 and out["place_name"] == "hanley"


def test_place_evaluate_registered_place_text(store, hanley_file, capsys):
    assert main(["places", "add", "--store", store, "--file", str(hanley_file), "--name", "Hanley centre",
                 "--group", "Stoke Central"]) == 0  # fmt: skip
    assert main(["places", "update", "--store", store, "1", "--status", "active", "--start", "2025-09"]) == 0
    capsys.readouterr()
    args = ["place-evaluate", "--store", store, "--place", "1", "--buffer-m", "300", "--category",
            "Anti-social behaviour", "Shoplifting"]  # fmt: skip
    assert main(args) == 0
    text = capsys.readouterr().out
    assert text.startswith("Hanley centre: before 2025-05 to 2025-08, after 2025-09 to 2025-12")
    assert "buffer ring (300 m)" in text and "control: rest of Stoke-on-Trent" in text
    assert "method: Counts of incidents located inside each area" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--place", "Hanley", "--start", "2025-07"], "--place must be a place id from the register"),
        (["--place", "99", "--start", "2025-07"], "no place 99 in the register"),
        (["--place", "missing.geojson", "--start", "2025-07"], "place file not found"),
        (["--place", "HANLEY", "--start", "2025-13"], "`start` must be a month 'YYYY-MM'"),
        (["--place", "HANLEY", "--start", "2025-07", "--control", "E0000000X"], "is not a district, ward"),
    ],
)
def test_place_evaluate_errors(store, hanley_file, capsys, args, message):
    args = [str(hanley_file) if a == "HANLEY" else a for a in args]
    assert main(["place-evaluate", "--store", store, *args]) == 1
    assert message in capsys.readouterr().err


def test_agenda_and_pack_commands(cycle_store_path, tmp_path, capsys):
    store = str(tmp_path / "store.duckdb")
    shutil.copy(cycle_store_path, store)
    xlsx = tmp_path / "agenda.xlsx"
    args = ["agenda", "--store", store, "--group", "Stoke Central", "--date", "2025-12", "--out", str(xlsx)]
    assert main([*args, "--record"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(
        "Stoke Central: meeting 2025-12, district Stoke-on-Trent (E06000021); since 2025-11"
    )
    assert "repeat locations (10):" in text and "Hanley bus station" in text
    assert "recorded the meeting of Stoke Central in 2025-12" in text
    assert xlsx.exists()
    out = tmp_path / "pack.pdf"
    assert main(["pack", "--store", store, "--group", "Stoke Central", "--out", str(out)]) == 0
    assert "wrote the meeting pack of Stoke Central" in capsys.readouterr().out
    assert out.read_bytes().startswith(b"%PDF")
    assert (
        main(["pack", "--store", store, "--group", "Stoke Central", "--out", str(tmp_path / "pack.txt")]) == 1
    )
    assert "--out must end in .pdf; got pack.txt" in capsys.readouterr().err
    assert main(["agenda", "--store", store, "--group", "Nobody"]) == 1
    assert "no group 'Nobody' in the register" in capsys.readouterr().err
