"""Benchmark: what disclosure control adds to a viewer's page run.

On a store of the real 2025 Staffordshire sample, the police.uk counts are treated as if they
were one restricted source (the worst case: 102,451 incidents, many small cells), and timed:

* :func:`hotspots.disclosure.protect` (suppression with secondary suppression) on the tables
  the pages protect: areas x 1 source at ward and LSOA level (Map page), LSOAs x 12 months (a
  larger two-way table than any page draws), categories x 1 (Ward profile);
* the area table the Map page computes anyway (:func:`hotspots.areas.area_table`), the obvious
  baseline: protection should cost a fraction of it;
* reading the restricted sources and the stored rule from the store (done once per page run).

Run:  .venv/bin/python bench/bench_disclosure.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from hotspots import disclosure
from hotspots.areas import area_table
from hotspots.filters import Filter
from hotspots.ingest import ingest
from hotspots.store import Store

ROOT = Path(__file__).resolve().parents[1]


def best(f, repeat: int) -> float:
    """Best of ``repeat`` runs, in milliseconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "b.duckdb")
        ingest([ROOT / "sample_data" / "staffordshire-2025-street.zip"], store=store)
        disclosure.set_restricted(store, "some-partner")
        inc, geo = store.incidents(), store.geography()
        filt = Filter()
        ward = area_table(inc, geography=geo, filt=filt, level="ward").set_index("area_code")[["count"]]
        lsoa = area_table(inc, geography=geo, filt=filt, level="lsoa").set_index("area_code")[["count"]]
        lsoa_month = pd.crosstab(inc["lsoa_code"], inc["month"])
        cats = inc.loc[inc["ward_code"] == ward["count"].idxmax()].groupby("category").size().to_frame("n")
        rows = [
            ("area table, ward (the Map page's own work)", lambda: area_table(inc, geography=geo, filt=filt)),
            ("protect: wards x 1", lambda: disclosure.protect(ward)),
            ("area table, LSOA", lambda: area_table(inc, geography=geo, filt=filt, level="lsoa")),
            ("protect: LSOAs x 1", lambda: disclosure.protect(lsoa)),
            ("protect: LSOAs x 12 months", lambda: disclosure.protect(lsoa_month)),
            ("protect: categories x 1 (one ward)", lambda: disclosure.protect(cats)),
            ("restricted_sources (once per run)", lambda: disclosure.restricted_sources(store)),
            ("stored_rule (once per run)", lambda: disclosure.stored_rule(store)),
        ]
        print(f"police.uk counts as if restricted: {len(inc):,} incidents; best of {args.repeat}")
        print(f"load average {os.getloadavg()[0]:.1f} (a shared 2-core machine)")
        ms = {}
        for name, f in rows:
            ms[name] = best(f, args.repeat)
            print(f"  {name:<45} {ms[name]:9.1f} ms")
        for level, table in (
            ("wards", "area table, ward (the Map page's own work)"),
            ("LSOAs", "area table, LSOA"),
        ):
            ratio = ms[f"protect: {level} x 1"] / ms[table]
            print(f"protect {level} x 1 / its area table: {ratio:.2f}")
        p = disclosure.protect(lsoa_month)
        print(
            f"LSOAs x months: {int(p.primary.to_numpy().sum()):,} primary and "
            f"{int(p.secondary.to_numpy().sum()):,} secondary cells of {p.primary.size:,}"
        )
        store.close()


if __name__ == "__main__":
    main()
