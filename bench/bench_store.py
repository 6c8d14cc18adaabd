"""Both store backends on the same 1M generated police.uk rows: load, read, filter → counts.

Backends: the embedded DuckDB file (snapshot writes, see ``hotspots/store.py``) and PostgreSQL 15
with PostGIS (a throwaway cluster on a free local port with PostgreSQL's default durability,
``tests/pg_cluster.py``; needs Debian's ``postgresql`` and ``postgresql-15-postgis-3``). The rows
are those of ``bench_ingest.py`` (real Staffordshire snap points and categories, 2016–2025).

Printed for each backend, in the same run:
* load: 1M rows into an empty store (DESIGN.md budget for the embedded store: ≤ 5 s);
* a monthly load on top (a month's worth of new rows, 1/120 of the archive, into the 1M store:
  the embedded store copies its file once per write; the server store sends the month's ids and
  reads back only the stored incidents they meet);
* the incident frame the dashboard reads (``Store.incidents()``, 1M rows), and a filtered frame
  (``Store.incidents_where``: two years, three categories, as the dashboard's filter describes
  it; the issue asks PostgreSQL to be within 2× of the embedded store);
* filter → counts by ward × month on the frame (the dashboard's hot path, same code for both).

Run: ``.venv/bin/python bench/bench_store.py [--rows 1000000]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]

from bench_ingest import make_files  # noqa: E402
from pg_cluster import cluster, missing, new_database  # noqa: E402

from hotspots.areas import CodedIncidents  # noqa: E402
from hotspots.filters import Filter  # noqa: E402
from hotspots.ingest import ingest  # noqa: E402
from hotspots.store import Store  # noqa: E402

FILTER = Filter(month_from="2024-01", categories=("Anti-social behaviour", "Burglary", "Vehicle crime"))


def one_month(path: Path, rows: int, *, month: str = "2026-01", seed: int = 7) -> Path:
    """A police.uk street file of ``rows`` new incidents in ``month`` (rows as ``make_files``)."""
    with zipfile.ZipFile(ROOT / "sample_data" / "staffordshire-2025-street.zip") as zf:
        real = pd.concat(
            [
                pd.read_csv(zf.open(n), dtype=str, keep_default_na=False)
                for n in zf.namelist()
                if n.endswith(".csv")
            ]
        )
    rng = np.random.default_rng(seed)
    pick = real.iloc[rng.integers(0, len(real), rows)].copy()
    pick["Month"] = month
    ids = rng.integers(0, 2**63, rows, dtype=np.int64)
    pick["Crime ID"] = [f"9{seed:03d}{v:060x}" for v in ids]
    pick.loc[pick["Crime type"] == "Anti-social behaviour", "Crime ID"] = ""
    pick.to_csv(path, index=False)
    return path


def best(fn, repeat: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def run(location, files: list[Path], extra: Path) -> dict:
    store = Store(location)
    store.geography()
    t0 = time.perf_counter()
    reports = ingest(files, store=store)
    load_s = time.perf_counter() - t0
    rows = sum(r.rows_read for r in reports)
    t0 = time.perf_counter()
    (month_report,) = ingest([extra], store=store)
    month_s = time.perf_counter() - t0

    def frame():
        store._frame = None
        return store.incidents()

    frame_s, inc = best(frame)

    filt_s, table = best(lambda: store.incidents_where(FILTER))
    coded = CodedIncidents(inc)
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        wide = coded.counts_by_area_month(FILTER, "ward")
        times.append(time.perf_counter() - t0)
    placed = int(wide.to_numpy().sum())
    store.close()
    return {
        "rows": rows,
        "load": load_s,
        "month": month_s,
        "month_rows": month_report.accepted,
        "frame": frame_s,
        "n": len(inc),
        "filtered": filt_s,
        "n_filtered": len(table),
        "counts_ms": float(np.median(times) * 1000),
        "placed": placed,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = make_files(tmp / "archive", args.rows)
        extra = one_month(tmp / "2026-01-staffordshire-street.csv", args.rows // 120)
        results = {"duckdb": run(tmp / "bench.duckdb", files, extra)}
        why = missing()
        if why:
            print(f"PostgreSQL not measured: {why}")
        else:
            with cluster(durable=True) as server:
                results["postgresql"] = run(new_database(server), files, extra)
    for name, r in results.items():
        print(
            f"{name:10s} load {r['rows']:,} rows: {r['load']:.2f} s ({r['rows'] / r['load']:,.0f} rows/s); "
            f"a month more on top ({r['month_rows']:,} rows): {r['month']:.2f} s\n"
            f"{'':10s} incident frame ({r['n']:,} rows): {r['frame']:.2f} s; filtered frame "
            f"({r['n_filtered']:,} rows, Store.incidents_where): {r['filtered']:.2f} s; filter -> counts by ward x month: "
            f"{r['counts_ms']:.1f} ms ({r['placed']:,} incidents placed)"
        )
    if "postgresql" in results:
        d, p = results["duckdb"], results["postgresql"]
        assert d["n"] == p["n"] and d["n_filtered"] == p["n_filtered"] and d["placed"] == p["placed"]
        print(
            f"postgresql / duckdb: load {p['load'] / d['load']:.2f}x, month {p['month'] / d['month']:.2f}x, "
            f"incident frame {p['frame'] / d['frame']:.2f}x, filtered frame {p['filtered'] / d['filtered']:.2f}x "
            "(issue 13 asks <= 2x for reading), "
            f"counts {p['counts_ms'] / d['counts_ms']:.2f}x (same in-memory code)"
        )


if __name__ == "__main__":
    main()
