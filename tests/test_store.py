"""The store's guarantees on both backends: the embedded DuckDB file and a real PostgreSQL/PostGIS.

``new_store_location`` (conftest) gives a fresh DuckDB path or a new database on a throwaway
PostgreSQL 15 + PostGIS cluster started for the session. Data: real months of the 2025
Staffordshire sample; counts are checked against pandas hand counts of the raw CSVs and the
two backends against each other.
"""

from __future__ import annotations

import threading
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from hotspots._errors import InputError
from hotspots.ingest import InputFile, ingest, load_input
from hotspots.store import Store

SAMPLE_ZIP = Path(__file__).resolve().parents[1] / "sample_data" / "staffordshire-2025-street.zip"
LOG_COLUMNS = [
    "ingest_id",
    "file",
    "sha256",
    "source",
    "kind",
    "rows_read",
    "accepted",
    "duplicate",
    "rejected",
]


@pytest.fixture(scope="module")
def months(tmp_path_factory) -> dict[str, Path]:
    """January to March 2025 as published, plus a file repeating half of February."""
    folder = tmp_path_factory.mktemp("months3")
    out = {}
    with zipfile.ZipFile(SAMPLE_ZIP) as zf:
        for m in ("01", "02", "03"):
            path = folder / f"2025-{m}-staffordshire-street.csv"
            path.write_bytes(zf.read(f"2025-{m}/2025-{m}-staffordshire-street.csv"))
            out[m] = path
    lines = out["02"].read_text(encoding="utf-8").splitlines()
    half = folder / "feb-half-again.csv"
    half.write_text("\n".join(lines[: 1 + (len(lines) - 1) // 2]) + "\n", encoding="utf-8")
    out["02half"] = half
    return out


def raw(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def reference(months, tmp_path_factory) -> Store:
    """January and February in an embedded store: what every backend must hold."""
    s = Store(tmp_path_factory.mktemp("ref") / "ref.duckdb")
    ingest([months["01"], months["02"]], store=s)
    return s


def snapshot(store: Store) -> dict:
    return {
        "counts": store.counts(),
        "version": store.version(),
        "incidents": store.sql("SELECT incident_id, outcome, flags FROM incidents ORDER BY 1").to_dict(
            "list"
        ),
        "log": store.sql("SELECT sha256 FROM ingests ORDER BY 1")["sha256"].tolist(),
    }


def test_a_load_gives_the_same_rows_on_every_backend(new_store_location, months, reference):
    s = Store(new_store_location())
    reports = ingest([months["01"], months["02"]], store=s)
    jan, feb = raw(months["01"]), raw(months["02"])
    # hand count: every row is an incident, except Crime IDs already seen (ids are unique per month)
    both = pd.concat([jan, feb])
    with_id = both[both["Crime ID"] != ""]
    expected = len(both) - int(with_id["Crime ID"].duplicated().sum())
    assert s.counts()["incidents"] == expected == reference.counts()["incidents"]
    assert [r.rows_read for r in reports] == [len(jan), len(feb)]
    for r in reports:
        assert r.accepted + r.duplicate + r.rejected == r.rows_read
    # location ids are numbered in the order DuckDB yields distinct points (not fixed): compare
    # everything else, and the points with their areas
    pd.testing.assert_frame_equal(
        s.incidents().drop(columns="location_id"), reference.incidents().drop(columns="location_id")
    )

    def points(store: Store) -> pd.DataFrame:
        return store.locations().drop(columns="location_id").sort_values(["lon", "lat"], ignore_index=True)

    pd.testing.assert_frame_equal(points(s), points(reference))
    pd.testing.assert_frame_equal(
        s.ingest_log()[LOG_COLUMNS], reference.ingest_log()[LOG_COLUMNS], check_dtype=False
    )
    assert s.version() == reference.version()
    months_held = [f"{m:%Y-%m}" for m in s.months()]
    assert months_held == ["2025-01", "2025-02"]
    pd.testing.assert_frame_equal(s.assignment_summary(), reference.assignment_summary(), check_dtype=False)


def test_reloading_adds_nothing_and_overlaps_are_counted_once(new_store_location, months):
    s = Store(new_store_location())
    ingest([months["01"], months["02"]], store=s)
    before = snapshot(s)
    again = ingest([months["01"], months["02"]], store=s)
    assert [r.status for r in again] == ["already loaded", "already loaded"]
    assert snapshot(s) == before
    (half,) = ingest([months["02half"]], store=s)
    rows = raw(months["02half"])
    assert half.rows_read == len(rows) and half.accepted == 0
    assert half.duplicate + half.rejected == len(rows)
    ids = s.sql("SELECT count(*) AS n, count(DISTINCT incident_id) AS d FROM incidents")
    assert int(ids["n"][0]) == int(ids["d"][0]) == before["counts"]["incidents"]
    assert s.counts()["rejected"] == before["counts"]["rejected"] + len(rows)


def fail_a_load(store: Store, path: Path, stage: str) -> None:
    def boom(at: str) -> None:
        if at == stage:
            raise RuntimeError(f"failed after {at}")

    with pytest.raises(RuntimeError, match=f"failed after {stage}"):
        load_input(store, path.name, [InputFile(path.name, path.read_bytes())], fail_after=boom)


@pytest.mark.parametrize("stage", ["dedupe", "locations", "rejected"])
def test_a_load_that_fails_leaves_the_store_as_it_was(new_store_location, months, stage):
    location = new_store_location()
    s = Store(location)
    ingest([months["01"]], store=s)
    before = snapshot(s)
    fail_a_load(s, months["02"], stage)
    assert snapshot(s) == before
    assert snapshot(Store(location, read_only=True)) == before  # another reader's view


def test_a_server_load_that_fails_after_sending_its_rows_leaves_nothing(pg_server, months):
    import pg_cluster

    s = Store(pg_cluster.new_database(pg_server))
    ingest([months["01"]], store=s)
    before = snapshot(s)
    fail_a_load(s, months["02"], "server")  # after every COPY and UPDATE, before the commit
    assert snapshot(s) == before


def test_racing_loads_take_turns(new_store_location, months):
    location = new_store_location()
    Store(location).close()
    errors: list[BaseException] = []

    def load(paths: list[Path]) -> None:
        try:
            ingest(paths, store=Store(location))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=load, args=([months["01"], months["02"]],)),
        threading.Thread(target=load, args=([months["02"], months["03"]],)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    s = Store(location, read_only=True)
    log = s.ingest_log()
    assert (log["rows_read"] == log["accepted"] + log["duplicate"] + log["rejected"]).all()
    # February was read twice: once it is loaded, once its file is already there (or all duplicate)
    n = s.sql("SELECT count(*) AS n, count(DISTINCT incident_id) AS d FROM incidents")
    assert int(n["n"][0]) == int(n["d"][0])
    every = pd.concat([raw(months[m]) for m in ("01", "02", "03")])
    with_id = every[every["Crime ID"] != ""]
    assert int(n["n"][0]) == len(every) - int(with_id["Crime ID"].duplicated().sum())


def test_localities_and_geography_round_trip(new_store_location, months, geography):
    s = Store(new_store_location())
    ingest([months["01"]], store=s)
    wards = geography.lsoas[["ward_code", "district_name"]].drop_duplicates("ward_code").head(30)
    loc = pd.DataFrame({"ward_code": wards["ward_code"], "locality": "North " + wards["district_name"]})
    msg = s.set_localities(loc)
    assert msg.startswith(f"{loc['locality'].nunique()} localities set from 30 wards")
    got = s.geography().ward_localities()
    assert (got.reindex(loc["ward_code"]).to_numpy() == loc["locality"].to_numpy()).all()
    assert s.incidents()["locality"].isin(set(loc["locality"])).any()
    assert s.set_localities(None) == "localities reset to the districts"
    with pytest.raises(
        InputError, match=r"1 ward codes are not wards of the study area \(first: E05999999\)"
    ):
        s.set_localities(pd.DataFrame({"ward_code": ["E05999999"], "locality": ["Nowhere"]}))


def test_the_command_line_summary_reads_either_backend(new_store_location, months, capsys):
    import json

    from hotspots.cli import main

    location = str(new_store_location())
    assert main(["ingest", str(months["01"]), "--store", location]) == 0
    capsys.readouterr()
    assert main(["summary", "--store", location, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["by_month"] == {"2025-01": len(raw(months["01"]))}
    assert "secret" not in out["store"]


def test_postgis_places_the_points_as_geopandas_does(pg_server, months, geography):
    import pg_cluster

    s = Store(pg_cluster.new_database(pg_server))
    ingest([months["01"]], store=s)
    district = geography.lsoas.dissolve("district_code").loc[["E07000197"]]  # Stafford
    wkt = district.geometry.iloc[0].wkt
    n_postgis = s.sql(
        "SELECT count(*) AS n FROM locations_geom WHERE postgis.ST_Within(geom, postgis.ST_GeomFromText(?, 27700))",
        [wkt],
    )["n"][0]
    locs = s.locations()
    pts = gpd.GeoDataFrame(locs, geometry=gpd.points_from_xy(locs.x, locs.y), crs=27700)
    n_geopandas = len(gpd.sjoin(pts, district[["geometry"]], predicate="within"))
    assert int(n_postgis) == n_geopandas == int((locs["district_code"] == "E07000197").sum())
    assert n_geopandas > 100


def test_a_server_without_postgis_rights_says_so(pg_server):
    import psycopg

    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as con:
        con.execute("CREATE ROLE analyst LOGIN")
        con.execute("CREATE DATABASE analyst_db OWNER analyst")
    with pytest.raises(InputError, match=r"needs the PostGIS extension .*postgresql-15-postgis-3"):
        Store(pg_server.replace("postgres@", "analyst@") + "/analyst_db")


def test_an_unreachable_server_is_named(pg_server):
    with pytest.raises(
        InputError, match=r"cannot connect to the store postgresql://postgres@127\.0\.0\.1:1/x"
    ):
        Store("postgresql://postgres:secret@127.0.0.1:1/x")


def test_boundaries_can_be_set_again_on_either_backend(new_store_location, months, reference):
    from hotspots.assign import set_geography

    s = Store(new_store_location())
    ingest([months["01"], months["02"]], store=s)
    before = s.incidents().drop(columns="location_id")
    n = set_geography(s, None)  # the shipped geography again: every location re-assigned, same areas
    assert n == s.counts()["locations"] == reference.counts()["locations"]
    pd.testing.assert_frame_equal(s.incidents().drop(columns="location_id"), before)
    pd.testing.assert_frame_equal(s.assignment_summary(), reference.assignment_summary(), check_dtype=False)


@pytest.fixture(scope="module")
def monthly_reference(months, tmp_path_factory) -> Store:
    """January, February, then March, each in its own load, in an embedded store."""
    s = Store(tmp_path_factory.mktemp("monthly") / "ref.duckdb")
    for m in ("01", "02", "03"):
        ingest([months[m]], store=s)
    return s


def test_monthly_loads_give_the_same_rows_on_every_backend(new_store_location, months, monthly_reference):
    s = Store(new_store_location())
    for m in ("01", "02", "03"):
        (report,) = ingest([months[m]], store=s)
        assert report.accepted + report.duplicate + report.rejected == report.rows_read == len(raw(months[m]))
    (half,) = ingest([months["02half"]], store=s)  # February's first half again: all duplicates
    assert half.accepted == 0 and half.duplicate == len(raw(months["02half"]))
    ref = monthly_reference
    pd.testing.assert_frame_equal(
        s.incidents().drop(columns="location_id"), ref.incidents().drop(columns="location_id")
    )
    pd.testing.assert_frame_equal(s.assignment_summary(), ref.assignment_summary(), check_dtype=False)
    assert s.counts()["incidents"] == ref.counts()["incidents"]
    n = s.sql("SELECT count(*) AS n, count(DISTINCT incident_id) AS d FROM incidents")
    assert int(n["n"][0]) == int(n["d"][0])


def coverage_by_hand(s: Store) -> pd.DataFrame:
    """Incidents by reported code and month, counted from the stored incidents."""
    inc = s.sql("SELECT lsoa_code_reported AS code, month FROM incidents")
    inc = inc[inc["code"].notna() & (inc["code"] != "")]
    out = inc.groupby(["code", "month"]).size().rename("n").reset_index()
    return out.sort_values(["code", "month"], ignore_index=True)


def test_a_monthly_server_load_reads_only_the_incidents_it_meets(pg_server, months):
    """The load's mirror holds the stored incidents with the month's ids or at unplaced points."""
    import hashlib

    import pg_cluster

    from hotspots.ingest import parse_input
    from hotspots.store_server import mirror

    s = Store(pg_cluster.new_database(pg_server))
    ingest([months["01"], months["02"]], store=s)
    again = months["02half"]  # February's first half again: ids that are all in the store
    data = again.read_bytes()
    parsed = parse_input(again.name, [InputFile(again.name, data)], sha=hashlib.sha256(data).hexdigest())
    ids = parsed.batch.incidents.column("incident_id").combine_chunks()
    stored = s.sql("SELECT incident_id FROM incidents")["incident_id"]
    unplaced = s.sql(
        "SELECT i.incident_id FROM incidents i JOIN locations l USING (location_id) "
        "WHERE l.assigned_by IS DISTINCT FROM 'polygon'"
    )["incident_id"]
    expected = set(stored[stored.isin(set(ids.to_pylist()))]) | set(unplaced)
    assert 0 < len(expected) < len(stored) / 2
    with s.transaction() as con:
        duck = mirror(con, incident_ids=ids)
        held = duck.execute("SELECT incident_id FROM incidents").df()["incident_id"]
        coverage = duck.execute("SELECT code, month, n FROM stored_coverage ORDER BY code, month").df()
        duck.close()
    assert len(held) == len(set(held)) and set(held) == expected
    # the counts the coverage rule reads: kept by the server's triggers, equal to a count by hand
    pd.testing.assert_frame_equal(coverage, coverage_by_hand(s), check_dtype=False)


def test_the_server_keeps_the_coverage_counts_through_every_change(pg_server, months):
    import pg_cluster

    from hotspots.assign import set_geography

    s = Store(pg_cluster.new_database(pg_server))

    def kept() -> pd.DataFrame:
        return s.sql("SELECT code, month, n FROM reported_coverage ORDER BY code, month")

    ingest([months["01"]], store=s)
    pd.testing.assert_frame_equal(kept(), coverage_by_hand(s), check_dtype=False)
    ingest([months["02"], months["02half"]], store=s)
    set_geography(s, None)  # updates every incident's flags
    with s.transaction() as con:  # changes made outside the library count too
        con.execute("DELETE FROM incidents WHERE month = DATE '2025-01-01' AND category = 'Burglary'")
        con.execute("UPDATE incidents SET lsoa_code_reported = 'E01000001' WHERE category = 'Drugs'")
    got, want = kept(), coverage_by_hand(s)
    assert len(want) > 500 and (want["code"] == "E01000001").any()
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    with s.transaction() as con:
        con.execute("TRUNCATE incident_extras, incidents")
    assert kept().empty


FILTERS = [
    "month_from=2025-02&categories=Anti-social behaviour,Burglary,Vehicle crime",
    "month_to=2025-01&sources=collisions",
    "level=district&areas=E07000197",
    "level=locality&areas=Stafford,Cannock Chase&months_of_year=2",
    "days_of_week=5,6&hours=7,8,17",
    "sources=collisions&extra=Speed_limit=30",
    "categories=No such category",
]


def test_filtered_frames_are_the_same_from_both_backends(pg_server, months, tmp_path):
    """``Store.incidents_where`` on both backends: equal frames, dtype for dtype, equal to the filter
    applied to the whole frame (police.uk January and February plus a partner file with times)."""
    import pg_cluster

    from hotspots.filters import Filter
    from hotspots.ingest import PartnerMapping

    data = Path(__file__).resolve().parent / "data"
    mapping = PartnerMapping.from_file(data / "stats19.toml")
    stores = [Store(tmp_path / "f.duckdb"), Store(pg_cluster.new_database(pg_server))]
    for s in stores:
        ingest([months["01"], months["02"]], store=s)
        (partner,) = ingest([data / "stats19_constructed.csv"], store=s, source="collisions", mapping=mapping)
    duck, pg = stores
    whole = duck.incidents()
    assert whole["extra"].notna().sum() == partner.accepted > 200  # a few collisions have no time
    assert partner.accepted - 10 < whole["occurred_at"].notna().sum() <= partner.accepted
    sizes = []
    for query in FILTERS:
        filt = Filter.from_query(dict(p.split("=", 1) for p in query.split("&")))
        a, b = duck.incidents_where(filt), pg.incidents_where(filt)
        pd.testing.assert_frame_equal(a.drop(columns="location_id"), b.drop(columns="location_id"))
        assert [t.name for t in a.dtypes] == [t.name for t in whole.dtypes]  # categoricals hold fewer values
        # the reference: the filter's own mask on every incident, values compared as text
        want = filt.apply(whole).reset_index(drop=True)
        pd.testing.assert_frame_equal(a.astype(str), want.astype(str))
        sizes.append(len(a))
    assert sizes[-1] == 0 and all(n > 0 for n in sizes[:-1]) and max(sizes) < len(whole)


def test_the_arrow_reader_names_an_unreachable_server():
    from hotspots.store_server import ServerBackend

    backend = ServerBackend("postgresql://postgres:secret@127.0.0.1:1/x")
    with pytest.raises(
        InputError, match=r"cannot connect to the store postgresql://postgres@127\.0\.0\.1:1/x"
    ):
        backend._arrow_reader()
    with pytest.raises(InputError) as err:
        backend._arrow_reader()
    assert "secret" not in str(err.value)


def test_the_server_reader_keeps_the_locations_until_they_change(pg_server, months):
    import pg_cluster

    from hotspots.filters import Filter

    location = pg_cluster.new_database(pg_server)
    s = Store(location)
    ingest([months["01"]], store=s)
    filt = Filter(level="district", areas=("E07000197",))
    before = s.incidents_where(filt)
    kept = s._db._locations
    assert kept is not None and kept[1].num_rows == s.counts()["locations"]
    s.incidents_where(filt)
    assert s._db._locations is kept  # nothing changed: not read again
    # a change by another client, in SQL: the counter moves and the next read sees it
    writer = Store(location)
    with writer.transaction() as con:
        con.execute("UPDATE locations SET district_code = 'E07000198' WHERE district_code = 'E07000197'")
    assert len(s.incidents_where(filt)) == 0
    moved = s.incidents_where(filt.replace(areas=("E07000198",)))
    assert set(before["incident_id"]) <= set(moved["incident_id"])
    assert s._db._locations[0][1] > kept[0][1]


def test_an_outcomes_file_updates_the_stored_incidents_on_every_backend(new_store_location, months):
    s = Store(new_store_location())
    ingest([months["01"]], store=s)
    before = s.incidents().set_index("incident_id")["outcome"].astype(str)
    jan = raw(months["01"])
    known = jan.loc[jan["Crime ID"] != "", "Crime ID"].iloc[:3].tolist()
    header = (
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type"
    )
    rows = [
        f"{cid},2025-03,Staffordshire Police,Staffordshire Police,,,No location,,,Offender given a caution"
        for cid in known
    ]
    rows.append("ffff,2025-03,Staffordshire Police,Staffordshire Police,,,No location,,,Suspect charged")
    name = "2025-03-staffordshire-outcomes.csv"
    report = load_input(s, name, [InputFile(name, "\n".join([header, *rows]).encode())])
    assert (report.kind, report.rows_read, report.accepted, report.rejected) == ("outcomes", 4, 3, 1)
    inc = s.incidents().set_index("incident_id")
    assert (inc.loc[known, "outcome"] == "Offender given a caution").all()
    pd.testing.assert_series_equal(inc["outcome"].astype(str).drop(index=known), before.drop(index=known))
    got = s.sql("SELECT outcome_month FROM incidents WHERE incident_id IN (?, ?, ?)", known)
    assert (pd.to_datetime(got["outcome_month"]) == pd.Timestamp("2025-03-01")).all()
    assert s.counts()["incidents"] == len(jan) - int(
        jan.loc[jan["Crime ID"] != "", "Crime ID"].duplicated().sum()
    )


def test_the_remembered_version_follows_a_load_by_another_store(tmp_path, months):
    """``version()`` and ``is_empty()`` are remembered per file state: a load elsewhere shows."""
    path = tmp_path / "s.duckdb"
    reader, writer = Store(path), Store(path)
    assert reader.is_empty() and reader.version() == reader.version()
    before = reader.version()
    ingest([months["01"]], store=writer)  # another Store (as another process would) loads
    assert not reader.is_empty()
    assert reader.version() != before
    assert reader.version() == writer.version() == snapshot(writer)["version"]
    loaded = reader.version()
    with reader.transaction() as con:  # inside a write, its own changes count at once
        con.execute("INSERT INTO localities (ward_code, locality) VALUES ('E05000001', 'Town')")
        assert reader.version() == loaded + 1
    assert reader.version() == writer.version() == loaded + 1  # and after it, for every reader


def test_an_in_memory_store_reads_its_version_afresh(months):
    store = Store(":memory:")  # written in place: nothing on disk says it changed
    assert store.is_empty() and store.version() == 0
    ingest([months["01"]], store=store)
    assert not store.is_empty() and store.version() > 0
