"""Benchmark: the problem-solving cycle on the real 2025 sample — evaluate a place, the agenda, the pack.

Run:  .venv/bin/python bench/bench_cycle.py [--repeat 5]

Loads the sample into a temporary store, adds a group (Stoke-on-Trent) and one active place (a
200 m circle in Hanley from 2025-08), then times:

- ``evaluate_place`` (place, 250 m ring, the rest of the district as control), against the
  obvious alternative measured in the same run: GeoPandas points built from x/y and a spatial
  join (``sjoin``, predicate ``within``) against the three polygons, then a groupby by month;
  both must give the same six counts;
- ``meeting_agenda`` for the group (two hotspot lists, expected ranges for its wards, repeat
  locations, the place's evaluation);
- ``meeting_pack`` from that agenda (the PDF).

Prints medians of ``--repeat`` runs and the machine's load average (a shared 2-core machine).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def median_time(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def main() -> None:
    import geopandas as gpd
    import pandas as pd
    import shapely

    from hotspots import register as reg
    from hotspots.agenda import meeting_agenda
    from hotspots.ingest import ingest
    from hotspots.pack import meeting_pack
    from hotspots.place_eval import evaluate_place
    from hotspots.store import Store

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    try:
        store = Store(tmp / "bench.duckdb")
        ingest([ROOT / "sample_data" / "staffordshire-2025-street.zip"], store=store)
        circle = shapely.Point(388_380, 347_530).buffer(200)
        reg.add_group(store, "Stoke Central", level="district", codes=("E06000021",), author="bench")
        reg.add_place(store, circle, name="Hanley bus station", group="Stoke Central", status="active",
                      start="2025-08", author="bench", crs=27700)  # fmt: skip
        incidents, geo = store.incidents(), store.geography()
        print(
            f"{len(incidents):,} incidents; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )

        t_eval, ev = median_time(
            lambda: evaluate_place(incidents, circle, crs=27700, start="2025-08", geography=geo), args.repeat
        )
        zones = gpd.GeoDataFrame(
            {"zone": ["place", "buffer", "control"]},
            geometry=[ev.place_geometry, ev.buffer_geometry, ev.control_geometry],
            crs=27700,
        )

        def sjoin_counts():
            located = incidents[incidents["x"].notna()]
            pts = gpd.GeoDataFrame(
                {"month": located["month"].to_numpy()},
                geometry=gpd.points_from_xy(located["x"], located["y"]),
                crs=27700,
            )
            j = gpd.sjoin(pts, zones, predicate="within")
            return j.groupby(["zone", "month"]).size()

        t_sjoin, ref = median_time(sjoin_counts, args.repeat)
        before = pd.date_range(f"{ev.before_from}-01", f"{ev.before_to}-01", freq="MS")
        after = pd.date_range(f"{ev.after_from}-01", f"{ev.after_to}-01", freq="MS")
        for zone, attr in (("place", "treated"), ("buffer", "buffer"), ("control", "control")):
            r = ref.loc[zone]
            assert int(r.reindex(before, fill_value=0).sum()) == getattr(ev, f"{attr}_before")
            assert int(r.reindex(after, fill_value=0).sum()) == getattr(ev, f"{attr}_after")
        print(
            f"evaluate_place: {t_eval * 1000:.0f} ms median (GeoPandas sjoin of the same incidents: "
            f"{t_sjoin * 1000:.0f} ms, {t_sjoin / t_eval:.1f}x; same six counts)"
        )
        t_agenda, agenda = median_time(
            lambda: meeting_agenda(store, group="Stoke Central", date="2025-12"), 1
        )
        print(f"meeting_agenda (Stoke-on-Trent, 2025-12): {t_agenda:.1f} s (one run)")
        t_pack, pdf = median_time(lambda: meeting_pack(store, group="Stoke Central", agenda=agenda), 1)
        print(f"meeting_pack from that agenda: {t_pack:.1f} s, {len(pdf) / 1024:.0f} KB (one run)")
        store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
