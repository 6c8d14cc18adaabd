"""The embedded store never blocks: readers and writers in several processes at once.

Real police.uk months of the 2025 Staffordshire sample, loaded by real ``hotspots`` processes:
a reader holding the store open while the command line loads and summarises, two loads racing
on overlapping files, and loads killed with SIGKILL at points spread over their whole run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from hotspots._errors import InputError
from hotspots.ingest import ingest
from hotspots.store import ReadOnlyStoreError, Store, write_lock

ROOT = Path(__file__).resolve().parents[1]
HOTSPOTS = [sys.executable, "-m", "hotspots.cli"]
SAMPLE_ZIP = ROOT / "sample_data" / "staffordshire-2025-street.zip"


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HOTSPOTS_STORE"}
    return subprocess.run(
        [*HOTSPOTS, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def start_cli(*args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "HOTSPOTS_STORE"}
    return subprocess.Popen(
        [*HOTSPOTS, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.fixture(scope="session")
def month_files(tmp_path_factory) -> dict[str, Path]:
    """The twelve real monthly CSVs of the sample, extracted: ``{"2025-01": path, …}``."""
    folder = tmp_path_factory.mktemp("months")
    out = {}
    with zipfile.ZipFile(SAMPLE_ZIP) as zf:
        for name in sorted(n for n in zf.namelist() if n.endswith(".csv")):
            path = folder / Path(name).name
            path.write_bytes(zf.read(name))
            out[Path(name).name[:7]] = path
    return out


def folder_of(tmp: Path, files: list[Path]) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copy(f, tmp / f.name)
    return tmp


@pytest.fixture(scope="session")
def jan_to_nov_store(month_files, tmp_path_factory) -> Path:
    """A store holding January to November 2025 (copy it before writing)."""
    path = tmp_path_factory.mktemp("jan_nov") / "store.duckdb"
    with Store(path) as s:
        ingest([month_files[f"2025-{m:02d}"] for m in range(1, 12)], store=s)
    return path


def copy_store(src: Path, dst_dir: Path) -> Path:
    dst_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dst_dir / src.name)
    return dst_dir / src.name


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_reader_never_blocks_a_command_line_load_and_sees_it(jan_to_nov_store, month_files, tmp_path):
    path = copy_store(jan_to_nov_store, tmp_path)
    reader = Store(path)  # as the dashboard holds it: open for the life of the process
    before = reader.incidents()
    v0 = reader.version()
    assert before["month"].max().strftime("%Y-%m") == "2025-11"
    done = run_cli("ingest", str(month_files["2025-12"]), "--store", str(path))
    assert done.returncode == 0, done.stderr
    summary = run_cli("summary", "--store", str(path))
    assert summary.returncode == 0, summary.stderr
    assert "2025-12" in summary.stdout
    # the open reader sees the load on its next read
    assert reader.version() > v0
    after = reader.incidents()
    dec = after[after["month"] == "2025-12-01"]
    raw_dec = sum(1 for _ in month_files["2025-12"].open(encoding="utf-8")) - 1
    assert 0 < len(dec) <= raw_dec
    assert len(after) == len(before) + len(dec)
    reader.close()


def test_summaries_and_readers_work_while_a_load_runs(jan_to_nov_store, month_files, tmp_path):
    path = copy_store(jan_to_nov_store, tmp_path)
    readers = [Store(path, read_only=True) for _ in range(2)]  # two dashboard processes' worth
    n0 = readers[0].counts()["incidents"]
    load = start_cli("ingest", str(month_files["2025-12"]), "--store", str(path))
    summaries = 0
    while load.poll() is None:
        out = run_cli("summary", "--json", "--store", str(path))
        assert out.returncode == 0, out.stderr
        summaries += 1
        for r in readers:
            assert r.counts()["incidents"] >= n0
    assert load.wait() == 0, load.stderr.read()
    assert summaries >= 1
    for r in readers:
        assert "2025-12" in {f"{m:%Y-%m}" for m in r.months()}
        r.close()


def test_two_racing_loads_of_overlapping_files_lose_nothing_and_count_nothing_twice(
    month_files, tmp_path, sample_store_path
):
    path = tmp_path / "race.duckdb"
    a = folder_of(tmp_path / "a", [month_files[f"2025-{m:02d}"] for m in range(1, 8)])  # Jan–Jul
    b = folder_of(tmp_path / "b", [month_files[f"2025-{m:02d}"] for m in range(6, 13)])  # Jun–Dec
    procs = [start_cli("ingest", str(d), "--store", str(path), "--json") for d in (a, b)]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    with Store(path, read_only=True) as s:
        log = s.ingest_log()
        assert (log["rows_read"] == log["accepted"] + log["duplicate"] + log["rejected"]).all()
        raw_rows = sum(sum(1 for _ in f.open(encoding="utf-8")) - 1 for f in month_files.values())
        # every row of both folders was read once per load and accounted for
        assert int(log["rows_read"].sum()) == raw_rows + sum(
            sum(1 for _ in month_files[f"2025-{m:02d}"].open(encoding="utf-8")) - 1 for m in (6, 7)
        )
        ids = s.sql("SELECT count(*) AS n, count(DISTINCT incident_id) AS d FROM incidents")
        assert int(ids["n"][0]) == int(ids["d"][0])
        n_rej = s.sql("SELECT count(*) AS n FROM rejected")["n"][0]
        assert int(n_rej) == int(log["duplicate"].sum() + log["rejected"].sum())
        # the same incidents as one load of the whole year
        with Store(sample_store_path, read_only=True) as ref:
            assert s.counts()["incidents"] == ref.counts()["incidents"]
            mine = s.sql("SELECT incident_id FROM incidents ORDER BY 1")["incident_id"].tolist()
            theirs = ref.sql("SELECT incident_id FROM incidents ORDER BY 1")["incident_id"].tolist()
            assert mine == theirs


@pytest.mark.slow
def test_a_load_killed_at_any_point_leaves_the_store_unchanged_and_readable(
    jan_to_nov_store, month_files, tmp_path
):
    # one load of the whole year on top of Jan–Nov (it adds December); timed, then killed at
    # moments spread over its run: reading, checking, writing the snapshot, swapping it in
    started = time.monotonic()
    timing = run_cli("ingest", str(SAMPLE_ZIP), "--store", str(copy_store(jan_to_nov_store, tmp_path / "t")))
    run_time = time.monotonic() - started
    assert timing.returncode == 0, timing.stderr
    with Store(jan_to_nov_store, read_only=True) as ref:
        ref_counts, ref_version = ref.counts(), ref.version()
    outcomes = []
    for k, frac in enumerate((0.2, 0.5, 0.75, 0.9, 0.97)):
        path = copy_store(jan_to_nov_store, tmp_path / f"k{k}")
        before = sha(path)
        p = start_cli("ingest", str(SAMPLE_ZIP), "--store", str(path))
        time.sleep(run_time * frac)
        p.send_signal(signal.SIGKILL)
        p.wait()
        with Store(path, read_only=True) as s:  # readable
            if p.returncode == -signal.SIGKILL and sha(path) == before:
                outcomes.append("unchanged")
                assert s.counts() == ref_counts and s.version() == ref_version
            else:  # it had finished: then the whole load is there
                outcomes.append("complete")
                assert s.counts()["ingests"] == ref_counts["ingests"] + 1
    # the next load cleans up after the killed one and succeeds
    again = run_cli("ingest", str(month_files["2025-12"]), "--store", str(path))
    assert again.returncode == 0, again.stderr
    assert not list(path.parent.glob(f".{path.name}.*"))
    assert outcomes.count("unchanged") >= 3, outcomes


def test_a_transaction_that_changes_nothing_keeps_the_file(tmp_path):
    path = tmp_path / "s.duckdb"
    s = Store(path)
    ino = path.stat().st_ino
    with s.transaction() as con:
        con.execute("CREATE TABLE IF NOT EXISTS ingests (ingest_id INTEGER)")
    assert path.stat().st_ino == ino
    with s.transaction() as con:
        con.execute("INSERT INTO localities VALUES ('E05000001', 'North')")
    assert path.stat().st_ino != ino
    assert s.sql("SELECT * FROM localities")["locality"].tolist() == ["North"]


def test_a_failed_transaction_leaves_the_file(tmp_path):
    path = tmp_path / "s.duckdb"
    s = Store(path)
    before = sha(path)
    with pytest.raises(RuntimeError, match="boom"), s.transaction() as con:
        con.execute("INSERT INTO localities VALUES ('E05000001', 'North')")
        assert len(s.sql("SELECT * FROM localities")) == 1  # reads inside see the block's changes
        raise RuntimeError("boom")
    assert sha(path) == before
    assert len(s.sql("SELECT * FROM localities")) == 0


def test_a_second_writer_waits_then_says_who_holds_the_lock(tmp_path, monkeypatch):
    path = tmp_path / "s.duckdb"
    s = Store(path)
    monkeypatch.setenv("HOTSPOTS_LOCK_TIMEOUT", "0.3")
    with write_lock(path.with_name(path.name + ".lock")):
        with pytest.raises(InputError, match=rf"being written by another process \(pid {os.getpid()}\)"):
            with s.transaction():
                pass
        assert s.counts()["ingests"] == 0  # reading is never blocked
    with s.transaction() as con:  # free again
        con.execute("INSERT INTO localities VALUES ('E05000001', 'North')")


def test_lock_timeout_must_be_seconds(tmp_path, monkeypatch):
    s = Store(tmp_path / "s.duckdb")
    monkeypatch.setenv("HOTSPOTS_LOCK_TIMEOUT", "soon")
    with pytest.raises(InputError, match=r"\$HOTSPOTS_LOCK_TIMEOUT must be a number of seconds .*got 'soon'"):
        with s.transaction():
            pass


def test_a_read_only_store_refuses_to_write(tmp_path):
    Store(tmp_path / "s.duckdb").close()
    ro = Store(tmp_path / "s.duckdb", read_only=True)
    with pytest.raises(ReadOnlyStoreError, match=r"was opened read-only; open it with read_only=False"):
        with ro.transaction():
            pass


def test_a_missing_store_cannot_be_read(tmp_path):
    with pytest.raises(InputError, match=r"no store at .*none\.duckdb; load data first"):
        Store(tmp_path / "none.duckdb", read_only=True)
