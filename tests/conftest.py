"""Shared fixtures: the real 2025 Staffordshire police.uk sample and the shipped geography."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_ZIP = ROOT / "sample_data" / "staffordshire-2025-street.zip"
ARTIFACTS = ROOT / "tests" / "artifacts"

os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")


def read_sample_raw() -> pd.DataFrame:
    """The 12 real police.uk files exactly as published, all columns as text, plus the file name."""
    frames = []
    with zipfile.ZipFile(SAMPLE_ZIP) as zf:
        for name in sorted(n for n in zf.namelist() if n.endswith(".csv")):
            with zf.open(name) as fh:
                df = pd.read_csv(fh, dtype=str, keep_default_na=False)
            df["_file"] = name
            frames.append(df)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, one per test module (tests/browser_util.py)."""
    from browser_util import chromium

    with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def sample_raw() -> pd.DataFrame:
    return read_sample_raw()


@pytest.fixture(scope="session")
def geography():
    import boundaries

    return boundaries.default_geography()


@pytest.fixture(scope="session")
def real_incidents(sample_raw, geography) -> pd.DataFrame:
    """The real sample as an incident frame (independent of hotspots.ingest).

    Columns: incident_id, source, month, category, outcome, location_name, lon, lat, x, y,
    location_id, lsoa_code, ward_code, district_code, locality. Rows with no location have
    NaN x/y and location_id -1. Crime IDs that repeat keep their first month.
    """
    raw = sample_raw
    raw = raw[~((raw["Crime ID"] != "") & raw.duplicated("Crime ID"))]
    lon = pd.to_numeric(raw["Longitude"], errors="coerce").to_numpy()
    lat = pd.to_numeric(raw["Latitude"], errors="coerce").to_numpy()
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(27700)
    df = pd.DataFrame(
        {
            "incident_id": raw["Crime ID"].to_numpy(),
            "source": "police.uk",
            "month": pd.to_datetime(raw["Month"] + "-01").to_numpy(),
            "category": raw["Crime type"].to_numpy(),
            "outcome": raw["Last outcome category"].to_numpy(),
            "location_name": raw["Location"].to_numpy(),
            "lon": lon,
            "lat": lat,
            "x": np.where(np.isfinite(lon), pts.x.to_numpy(), np.nan),
            "y": np.where(np.isfinite(lon), pts.y.to_numpy(), np.nan),
        }
    )
    has = np.isfinite(df["x"].to_numpy())
    key = df["x"].round(0).astype(str) + "," + df["y"].round(0).astype(str)
    df["location_id"] = np.where(has, pd.factorize(key)[0], -1).astype("int64")
    gdf = gpd.GeoDataFrame(df[has], geometry=gpd.points_from_xy(df.x[has], df.y[has]), crs=27700)
    joined = gpd.sjoin(
        gdf,
        geography.lsoas[["lsoa_code", "ward_code", "district_code", "geometry"]],
        how="left",
        predicate="within",
    )
    joined = joined[~joined.index.duplicated()]
    for col in ("lsoa_code", "ward_code", "district_code"):
        df[col] = joined[col].reindex(df.index)
    df["locality"] = df["ward_code"].map(geography.ward_localities())
    return df.reset_index(drop=True)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def sample_store_path(tmp_path_factory) -> Path:
    """A store file loaded once with the real sample (read-only use in tests, please)."""
    from hotspots.ingest import ingest
    from hotspots.store import Store

    path = tmp_path_factory.mktemp("sample_store") / "sample.duckdb"
    store = Store(path)
    ingest([SAMPLE_ZIP], store=store)
    store.close()
    return path


@pytest.fixture(scope="session")
def cycle_store_path(tmp_path_factory, sample_store_path) -> Path:
    """A copy of the sample store with a problem-solving group and two places (issue 10).

    Group "Stoke Central" covers Stoke-on-Trent (E06000021). Place 1 "Hanley bus station": a 200 m
    circle in Hanley, active from 2025-08, with an action and a note. Place 2 "Quiet corner":
    proposed, no start.
    """
    import shutil

    import shapely

    from hotspots import register as reg
    from hotspots.store import Store

    path = tmp_path_factory.mktemp("cycle_store") / "cycle.duckdb"
    shutil.copy(sample_store_path, path)
    store = Store(path)
    reg.add_group(store, "Stoke Central", level="district", codes=("E06000021",), author="tester")
    pid = reg.add_place(
        store,
        shapely.Point(388_380, 347_530).buffer(200),
        name="Hanley bus station",
        group="Stoke Central",
        status="active",
        start="2025-08",
        source="test circle",
        author="tester",
        crs=27700,
    )
    reg.add_note(
        store,
        pid,
        "Dispersal order and extra PCSO patrols",
        kind="action",
        date="2025-08-04",
        author="tester",
    )
    reg.add_note(store, pid, "Shop watch restarted with 12 retailers", date="2025-09-10", author="tester")
    reg.add_place(
        store,
        shapely.Point(387_100, 345_900).buffer(80),
        name="Quiet corner",
        group="Stoke Central",
        source="test circle",
        author="tester",
        crs=27700,
    )
    store.close()
    return path


@pytest.fixture(scope="session")
def cycle_agenda(cycle_store_path):
    """The agenda of "Stoke Central" for December 2025 (computed once)."""
    from hotspots.agenda import meeting_agenda
    from hotspots.store import Store

    store = Store(cycle_store_path, read_only=True)
    agenda = meeting_agenda(store, group="Stoke Central", date="2025-12")
    store.close()
    return agenda


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL + PostGIS cluster for the session (skipped only if not installable)."""
    import pg_cluster

    why = pg_cluster.missing()
    if why:
        pytest.skip(why)
    with pg_cluster.cluster() as url:
        yield url


@pytest.fixture(params=["duckdb", "postgresql"])
def new_store_location(request, tmp_path):
    """A factory of empty store locations on each backend: a DuckDB file path or a PostgreSQL URL."""
    import itertools

    import pg_cluster

    n = itertools.count()
    if request.param == "duckdb":
        return lambda: tmp_path / f"store{next(n)}.duckdb"
    server = request.getfixturevalue("pg_server")
    return lambda: pg_cluster.new_database(server)


@pytest.fixture(scope="module")
def oidc_provider() -> Iterator[str]:
    """A real OpenID Connect provider (oidc-provider-mock) on a free local port; yields its issuer URL.

    Start the app against it with ``oidc_util.signed_in_app`` and sign in with ``oidc_util.sign_in``
    (the people and their roles: ``oidc_util.USERS`` and ``oidc_util.ROLES``).
    """
    from oidc_util import provider

    with provider() as issuer:
        yield issuer


@pytest.fixture(scope="session")
def restricted_store_path(tmp_path_factory, sample_store_path) -> Path:
    """A copy of the sample store plus a restricted partner source (issue 14, disclosure control).

    The constructed STATS19-layout file ``tests/data/stats19_constructed.csv`` (246 collisions)
    loaded as source ``collisions`` and marked restricted: viewers see it only in its own
    columns, ``collisions (restricted)``, with counts of 1 to 4 as ``[c]`` (docs/access.md).
    """
    import shutil

    from hotspots import disclosure
    from hotspots.ingest import PartnerMapping, ingest
    from hotspots.store import Store

    path = tmp_path_factory.mktemp("restricted_store") / "restricted.duckdb"
    shutil.copy(sample_store_path, path)
    data = ROOT / "tests" / "data"
    with Store(path) as store:
        mapping = PartnerMapping.from_file(data / "stats19.toml")
        ingest([data / "stats19_constructed.csv"], store=store, source="collisions", mapping=mapping)
        disclosure.set_restricted(store, "collisions")
    return path
