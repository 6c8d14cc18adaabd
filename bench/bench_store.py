"""Both store backends on the same 1M generated police.uk rows: load, read, filter → counts.

Backends: the embedded DuckDB file (snapshot writes, see ``hotspots/store.py``) and PostgreSQL 15
with PostGIS (a throwaway cluster on a free local port with PostgreSQL's default durability,
``tests/pg_cluster.py``; needs Debian's ``postgresql`` and ``postgresql-15-postgis-3``). The rows
are those of ``bench_ingest.py`` (real Staffordshire snap points and categories, 2016–2025).

Printed for each backend, in the same run:
* load: 1M rows into an empty store (DESIGN.md budget for the embedded store: ≤ 5 s);
* a monthly load on top (one month of rows into the 1M store: the embedded store copies its
  file once per write);
* the incident frame the dashboard reads (``Store.incidents()``, 1M rows), and a filtered frame
  read with SQL (two years, three categories); the issue asks PostgreSQL to be within 2× of the
  embedded store;
* filter → counts by ward × month on the frame (the dashboard's hot path, same code for both).

Run: ``.venv/bin/python bench/bench_store.py [--rows 1000000]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]

from bench_ingest import make_files  # noqa: E402
from pg_cluster import cluster, missing, new_database  # noqa: E402

from hotspots.areas import CodedIncidents  # noqa: E402
from hotspots.filters import Filter  # noqa: E402
from hotspots.ingest import ingest  # noqa: E402
from hotspots.store import Store  # noqa: E402

FILTERED = (
    "SELECT i.incident_id, i.month, i.category, l.x, l.y, l.ward_code FROM incidents i "
    "JOIN locations l USING (location_id) WHERE i.month >= DATE '2024-01-01' "
    "AND i.category IN ('Anti-social behaviour', 'Burglary', 'Vehicle crime')"
)


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
    ingest([extra], store=store)
    month_s = time.perf_counter() - t0

    def frame():
        store._frame = None
        return store.incidents()

    frame_s, inc = best(frame)

    def filtered():
        with store._reading() as con:
            return store._db.arrow(con, FILTERED)

    filt_s, table = best(filtered)
    coded = CodedIncidents(inc)
    f = Filter(month_from="2024-01", categories=("Anti-social behaviour", "Burglary", "Vehicle crime"))
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        wide = coded.counts_by_area_month(f, "ward")
        times.append(time.perf_counter() - t0)
    placed = int(wide.to_numpy().sum())
    store.close()
    return {
        "rows": rows,
        "load": load_s,
        "month": month_s,
        "frame": frame_s,
        "n": len(inc),
        "filtered": filt_s,
        "n_filtered": table.num_rows,
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
        extra = make_files(tmp / "extra", args.rows // 120, seed=7)[-1]  # one more month's worth
        extra = extra.rename(extra.with_name("2026-01-extra-street.csv"))
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
            f"a month more on top: {r['month']:.2f} s\n"
            f"{'':10s} incident frame ({r['n']:,} rows): {r['frame']:.2f} s; filtered frame "
            f"({r['n_filtered']:,} rows) by SQL: {r['filtered']:.2f} s; filter -> counts by ward x month: "
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
