"""The deployment examples in deploy/ (docs/deploy.md): systemd units and backups with restore.

Backups are tested by a round trip on both backends: the embedded store copied by
``deploy/backup.sh`` while a load runs (the copy is one committed state, before or after the
load), the server store dumped with ``pg_dump`` and restored with ``pg_restore``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from hotspots.ingest import ingest
from hotspots.store import Store

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
SAMPLE_ZIP = ROOT / "sample_data" / "staffordshire-2025-street.zip"


@pytest.fixture(scope="module")
def jan_feb(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("janfeb")
    out = []
    with zipfile.ZipFile(SAMPLE_ZIP) as zf:
        for m in ("01", "02"):
            p = folder / f"2025-{m}-staffordshire-street.csv"
            p.write_bytes(zf.read(f"2025-{m}/2025-{m}-staffordshire-street.csv"))
            out.append(p)
    return out


def test_systemd_units_verify(tmp_path):
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.skip("systemd-analyze is not installed here; the units were not verified")
    for unit in ("hotspots-dashboard@.service", "hotspots-monthly.service", "hotspots-monthly.timer"):
        text = (DEPLOY / unit).read_text().replace("/opt/hotspots", str(ROOT))
        (tmp_path / unit).write_text(text)
    units = sorted(str(p) for p in tmp_path.iterdir())
    out = subprocess.run([exe, "verify", *units], capture_output=True, text=True)
    assert out.returncode == 0 and out.stderr.strip() == "", out.stderr
    # the check can fail: a misspelt key is reported
    bad = tmp_path / "bad.service"
    bad.write_text(
        (tmp_path / "hotspots-dashboard@.service").read_text().replace("Type=simple", "Typo=simple")
    )
    out = subprocess.run([exe, "verify", str(bad)], capture_output=True, text=True)
    assert "Unknown key 'Typo'" in out.stderr


def backup(store: str | Path, folder: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOTSPOTS_STORE": str(store), "BACKUP_DIR": str(folder), "KEEP": "2"}
    return subprocess.run([str(DEPLOY / "backup.sh")], env=env, capture_output=True, text=True, timeout=300)


def test_a_duckdb_backup_taken_during_a_load_restores_one_committed_state(jan_feb, tmp_path):
    store = tmp_path / "live" / "store.duckdb"
    store.parent.mkdir()
    with Store(store) as s:
        ingest(jan_feb[:1], store=s)
        jan_only = s.counts()
    load = subprocess.Popen(
        [sys.executable, "-m", "hotspots.cli", "ingest", str(jan_feb[1]), "--store", str(store)],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "HOTSPOTS_STORE"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    taken = []
    while load.poll() is None or not taken:
        out = backup(store, tmp_path / "backups")
        assert out.returncode == 0, out.stderr
        taken.append(Path(out.stdout.strip().removeprefix("backup: ")))
    assert load.wait() == 0, load.stderr.read()
    assert len(list((tmp_path / "backups").glob("hotspots-*"))) <= 2  # KEEP=2
    with Store(store, read_only=True) as s:
        both = s.counts()
        live_frame = s.incidents()
    for b in taken:
        if not b.exists():  # rotated away (KEEP=2)
            continue
        with Store(b, read_only=True) as s:
            assert s.counts() in (jan_only, both)
    # restore the newest backup (taken after the load finished) and read it as the store
    final = backup(store, tmp_path / "backups")
    restored = tmp_path / "restored" / "store.duckdb"
    restored.parent.mkdir()
    shutil.copy(Path(final.stdout.strip().removeprefix("backup: ")), restored)
    with Store(restored, read_only=True) as s:
        assert s.counts() == both
        pd.testing.assert_frame_equal(s.incidents(), live_frame)


def test_a_postgresql_dump_restores_the_same_store(pg_server, jan_feb, tmp_path):
    import pg_cluster
    import psycopg

    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore are not installed (postgresql-client)")
    url = pg_cluster.new_database(pg_server)
    with Store(url) as s:
        ingest(jan_feb, store=s)
        before = s.incidents()
        counts = s.counts()
        log = s.ingest_log()
    out = backup(url, tmp_path / "backups")
    assert out.returncode == 0, out.stderr
    dump = Path(out.stdout.strip().removeprefix("backup: "))
    assert dump.suffix == ".dump" and dump.stat().st_size > 0
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as con:
        con.execute("CREATE DATABASE restored")
    done = subprocess.run(
        ["pg_restore", "--no-owner", "-d", f"{pg_server}/restored", str(dump)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    with Store(f"{pg_server}/restored", read_only=True) as s:
        assert s.counts() == counts
        pd.testing.assert_frame_equal(s.incidents(), before)
        pd.testing.assert_frame_equal(s.ingest_log(), log)
        n = s.sql("SELECT count(*) AS n FROM locations_geom WHERE geom IS NOT NULL")["n"][0]
        assert int(n) == counts["locations"]
