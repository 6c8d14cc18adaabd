"""``hotspots places`` end to end on a copy of the store loaded with the real 2025 sample."""

from __future__ import annotations

import json
import shutil

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from hotspots.cli import main


@pytest.fixture(scope="module")
def store(sample_store_path, tmp_path_factory):
    path = tmp_path_factory.mktemp("places") / "places.duckdb"
    shutil.copy(sample_store_path, path)
    return str(path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_places_commands_end_to_end(store, tmp_path, capsys, geography):
    from hotspots.filters import Filter
    from hotspots.hotspot_list import find_hotspots
    from hotspots.store import Store

    s = ["--store", store]
    rc, out, _ = run(
        capsys, "places", "add", "--hotspot", "2", "--method", "count", "--from", "2025-07", "--to", "2025-12",
        "--group", "East Staffs GIG", "--author", "ana", *s,
    )  # fmt: skip
    assert rc == 0, out
    with Store(store, read_only=True) as st:  # the list's own name for rank 2, from an independent run
        listed = find_hotspots(
            st.incidents(),
            method="count",
            geography=st.geography(),
            filt=Filter(month_from="2025-07", month_to="2025-12"),
        )
    name = listed.loc[listed["rank"] == 2, "name"].iloc[0]
    assert out.startswith(f"added #1 {name} [proposed] group East Staffs GIG; no start set")
    assert f"source: hotspot list: count 2025-07–2025-12 #2 {name}" in out

    wards = sorted(
        geography.lsoas.loc[geography.lsoas["district_code"] == "E06000021", "ward_code"].unique()
    )[:2]
    rc, out, _ = run(
        capsys, "places", "add", "--wards", *wards, "--name", "Two wards", "--group", "Stoke GIG", *s
    )
    assert rc == 0 and "added #2 Two wards [proposed]" in out
    f = tmp_path / "estate.geojson"
    gpd.GeoDataFrame(geometry=[box(388_000, 347_300, 388_400, 347_700)], crs=27700).to_crs(4326).to_file(f)
    rc, out, _ = run(
        capsys,
        "places",
        "add",
        "--file",
        str(f),
        "--group",
        "Stoke GIG",
        "--status",
        "active",
        "--start",
        "2025-06",
        *s,
    )
    assert rc == 0 and "added #3 estate [active] group Stoke GIG; from 2025-06-01; 16.0 ha" in out

    rc, out, _ = run(
        capsys, "places", "update", "1", "--status", "active", "--start", "2025-09", "--action", "Extra patrols",
        "--date", "2025-09-05", "--author", "ben", *s,
    )  # fmt: skip
    assert rc == 0 and f"updated #1 {name} [active]" in out
    rc, out, _ = run(capsys, "places", "update", "1", "--note", "Quieter in October", *s)
    assert rc == 0

    rc, out, _ = run(capsys, "places", "list", "--group", "Stoke GIG", *s)
    assert out.splitlines() == [
        "#2 Two wards [proposed] group Stoke GIG; no start set; " + out.splitlines()[0].split("; ")[-1],
        "#3 estate [active] group Stoke GIG; from 2025-06-01; 16.0 ha",
    ]
    rc, out, _ = run(capsys, "places", "list", "--status", "active", "--json", *s)
    listed = json.loads(out)
    assert [p["place_id"] for p in listed] == [1, 3]
    assert listed[1]["area_ha"] == 16.0

    rc, out, _ = run(capsys, "places", "show", "1", *s)
    assert "2025-09-05 action Extra patrols (ben)" in out
    assert "ben: status proposed → active" in out
    assert "ana: geometry (polygon)" in out
    rc, out, _ = run(capsys, "places", "show", "1", "--json", *s)
    shown = json.loads(out)
    assert (shown["status"], shown["start"]) == ("active", "2025-09-01")
    assert [n["kind"] for n in shown["notes"]] == ["action", "note"]

    # the hotspot's polygon equals the row of an independent `find_hotspots` run
    with Store(store, read_only=True) as st:
        hl = find_hotspots(
            st.incidents(),
            method="count",
            geography=st.geography(),
            filt=Filter(month_from="2025-07", month_to="2025-12"),
        )
    row = hl[hl["rank"] == 2].iloc[0]
    assert row["name"] == name
    from shapely import from_wkt

    assert from_wkt(shown["geometry_wkt"]).equals(row.geometry)

    rc, out, _ = run(capsys, "places", "group", "add", "Stoke GIG", "--district", "E06000021", *s)
    assert rc == 0 and out.strip() == "added group Stoke GIG: district E06000021"
    rc, out, _ = run(capsys, "places", "group", "list", *s)
    assert out.splitlines() == ["East Staffs GIG: (no area set)", "Stoke GIG: district E06000021"]

    for ext in ("csv", "gpkg"):
        path = tmp_path / f"places.{ext}"
        rc, out, _ = run(capsys, "places", "export", "--out", str(path), *s)
        assert out.strip() == f"wrote 3 places to {path}"
    assert pd.read_csv(tmp_path / "places.csv")["name"].tolist() == [name, "Two wards", "estate"]
    assert gpd.read_file(tmp_path / "places.gpkg", layer="places").crs.to_epsg() == 27700


def test_places_errors(store, tmp_path, capsys):
    s = ["--store", store]
    rc, _, err = run(capsys, "places", "update", "1", *s)
    assert rc == 1 and "nothing to change: give --name, --group, --status" in err
    rc, _, err = run(capsys, "places", "show", "999", *s)
    assert rc == 1 and "error: no place 999 in the register" in err
    rc, _, err = run(capsys, "places", "update", "1", "--end", "2020-01", "--start", "2025-01", *s)
    assert rc == 1 and "`end` (2020-01-01) is before `start` (2025-01-01)" in err
    rc, _, err = run(capsys, "places", "add", "--hotspot", "9999", "--group", "G", "--method", "repeat", *s)
    assert rc == 1 and "`rank` 9999 is not in the hotspot list; it holds ranks 1 to" in err
    with pytest.raises(SystemExit):
        main(["places", "add", "--wards", "E05000001", "--group", "G", "--start", "Sept", *s])
    assert "`date` must be a month YYYY-MM or a date YYYY-MM-DD" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["places", "update", "1", "--status", "done", *s])
    assert "invalid choice: 'done' (choose from 'proposed', 'active', 'closed')" in capsys.readouterr().err

    # a read-only command on a store written before the register existed
    from hotspots.store import Store

    fresh = tmp_path / "fresh.duckdb"
    Store(fresh).close()
    rc, _, err = run(capsys, "places", "list", "--store", str(fresh))
    assert rc == 1 and f"the store {fresh} holds no place register yet" in err
