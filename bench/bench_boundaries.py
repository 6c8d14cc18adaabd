"""Choosing a study area: time and memory, against reading the whole national LSOA file.

Budget (issue 12): choosing a force reads only what it needs, in ≤ 2 s on this machine, and the
national LSOAs are not kept in memory afterwards.

Each way runs in a fresh Python process (so that nothing is cached and peak memory is its own):

* ``study_area``: :func:`boundaries.study_area` (reads the force's districts' row groups only and
  builds its LSOA layer: names, wards, districts, residents);
* ``whole file``: the obvious alternative: ``geopandas.read_parquet`` of the whole shipped national
  LSOA file, then keep the force's LSOAs (no names or residents joined: less work than the above);
* ``whole ONS file``: the same on the project's reference copy in EPSG:4326, then ``to_crs(27700)``
  (what reading the ONS GeoParquet as published costs), when ``../shared/data`` is there.

Printed per force: seconds and peak resident memory of the process, both after the ONS lookups
and Census residents are read (both ways need them; their first read is printed apart, a user's
first choice pays it once), and the ratios to ``study_area``.

Run: ``.venv/bin/python bench/bench_boundaries.py``
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONS = ROOT.parent.parent / "shared" / "data" / "boundaries" / "national" / "lsoa21_dec2021_ew_bsc.parquet"
FORCES = ["Cheshire", "West Midlands", "Metropolitan Police", "Dyfed-Powys"]

CHILD = r"""
import json, resource, sys, time
way, force, ons = sys.argv[1], sys.argv[2], sys.argv[3]
import geopandas as gpd
import boundaries
from boundaries import national
t = time.perf_counter()
boundaries.lsoa_ward_lookup(), boundaries.population(), boundaries.areas_of_kind("force")
lookups = time.perf_counter() - t
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
if way == "study_area":
    geo = boundaries.study_area(force=force)
    n = len(geo.lsoas)
else:
    code, _ = boundaries.match_area(force, kind="force")
    districts = boundaries.areas_of_kind("force").set_index("code").loc[code, "districts"]
    codes = boundaries.lsoa_ward_lookup().query("ltla24_code in @districts")["lsoa21_code"]
    if way == "whole file":
        g = gpd.read_parquet(national.LSOA21_FILE)
    else:
        g = gpd.read_parquet(ons).to_crs(27700)
    g = g[g["LSOA21CD"].isin(set(codes))]
    n = len(g)
sec = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": sec, "lsoas": n, "peak_mb": (peak - base) / 1024, "lookups": lookups}))
"""


def run(way: str, force: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, way, force, str(ONS)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print the figures."""
    ways = ["study_area", "whole file"] + (["whole ONS file"] if ONS.exists() else [])
    with open("/proc/loadavg") as fh:
        print(f"load average at start: {fh.read().split()[0]} (2-core machine shared with other work)")
    print(f"{'force':<22}{'way':<16}{'LSOAs':>7}{'seconds':>9}{'peak MB':>9}{'x time':>8}{'x memory':>10}")
    lookups = []
    for force in FORCES:
        res = {w: run(w, force) for w in ways}
        ref = res["study_area"]
        lookups += [r["lookups"] for r in res.values()]
        for w in ways:
            r = res[w]
            print(
                f"{force:<22}{w:<16}{r['lsoas']:>7}{r['seconds']:>9.2f}{r['peak_mb']:>9.0f}"
                f"{r['seconds'] / ref['seconds']:>8.1f}{r['peak_mb'] / max(ref['peak_mb'], 1):>10.1f}"
            )
    print(
        f"first read of the lookups and residents (once per process): median {sorted(lookups)[len(lookups) // 2]:.2f} s"
    )


if __name__ == "__main__":
    main()
