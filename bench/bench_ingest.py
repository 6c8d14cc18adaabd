"""Load 1M generated police.uk rows into a fresh store; time a filter → counts by ward and month.

Budget (DESIGN.md, 2-core machine): load ≤ 5 s; counts by area and month for a filter ≤ 20 ms.
The rows are realistic: every row reuses one of the real 2025 Staffordshire snap points (so many
rows share each point), with real categories, months spread over 2016–2025 and ~1/6 without a
Crime ID (ASB). Compared in the same run with the obvious alternatives: pandas ``read_csv`` of
the same files with a per-row point-in-polygon (geopandas ``sjoin`` on every row), and a pandas
``groupby`` for the counts.

Run: ``.venv/bin/python bench/bench_ingest.py [--rows 1000000]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots.areas import CodedIncidents
from hotspots.filters import Filter
from hotspots.ingest import ingest
from hotspots.store import Store

ROOT = Path(__file__).resolve().parents[1]


def make_files(
    out: Path, rows: int, seed: int = 1, *, first: str = "2016-01", last: str = "2025-12"
) -> list[Path]:
    """Write ``rows`` police.uk street rows spread evenly over the months ``first`` to ``last``."""
    with zipfile.ZipFile(ROOT / "sample_data" / "staffordshire-2025-street.zip") as zf:
        real = pd.concat(
            [
                pd.read_csv(zf.open(n), dtype=str, keep_default_na=False)
                for n in zf.namelist()
                if n.endswith(".csv")
            ]
        )
    rng = np.random.default_rng(seed)
    months = pd.period_range(first, last, freq="M")
    per = rows // len(months)
    paths = []
    for k, m in enumerate(months):
        n = per if k < len(months) - 1 else rows - per * (len(months) - 1)
        pick = real.iloc[rng.integers(0, len(real), n)].copy()
        pick["Month"] = str(m)
        ids = rng.integers(0, 2**63, n, dtype=np.int64)
        pick["Crime ID"] = [f"{k:04d}{v:060x}" for v in ids]
        pick.loc[pick["Crime type"] == "Anti-social behaviour", "Crime ID"] = ""
        p = out / f"{m}" / f"{m}-staffordshire-street.csv"
        p.parent.mkdir(parents=True, exist_ok=True)
        pick.to_csv(p, index=False)
        paths.append(p)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = make_files(tmp / "archive", args.rows)
        size = sum(p.stat().st_size for p in files) / 1e6
        store = Store(tmp / "bench.duckdb")
        store.geography()  # boundaries loaded once, as in a running app
        t0 = time.perf_counter()
        reports = ingest([tmp / "archive"], store=store)
        load_s = time.perf_counter() - t0
        accepted = sum(r.accepted for r in reports)
        read = sum(r.rows_read for r in reports)
        print(
            f"load: {read:,} rows in {len(files)} files ({size:.0f} MB) -> {accepted:,} incidents, "
            f"{store.counts()['locations']:,} unique locations in {load_s:.2f} s (budget 5 s) "
            f"= {read / load_s:,.0f} rows/s"
        )

        # the obvious alternative: read every file with pandas, point-in-polygon on every row
        geo = store.geography()
        t0 = time.perf_counter()
        raw = pd.concat([pd.read_csv(p) for p in files])
        raw = raw.dropna(subset=["Longitude"])
        pts = gpd.GeoDataFrame(
            geometry=gpd.points_from_xy(raw["Longitude"], raw["Latitude"]), crs=4326
        ).to_crs(27700)
        gpd.sjoin(pts, geo.lsoas[["lsoa_code", "geometry"]], predicate="within")
        naive_s = time.perf_counter() - t0
        print(
            f"naive (pandas read + per-row sjoin, no validation, no store): {naive_s:.2f} s; "
            f"ratio naive/ours = {naive_s / load_s:.2f}"
        )

        t0 = time.perf_counter()
        inc = store.incidents()
        frame_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        coded = CodedIncidents(inc)
        build_s = time.perf_counter() - t0
        print(
            f"incident frame from the store: {frame_s:.2f} s; coded index built once: {build_s * 1000:.0f} ms"
        )
        filters = [
            Filter(month_from="2024-01", month_to="2025-12"),
            Filter(categories=("Anti-social behaviour",)),
            Filter(
                month_from="2022-06", categories=("Burglary", "Vehicle crime"), months_of_year=(10, 11, 12)
            ),
            Filter(level="district", areas=("E06000021",)),
        ]
        times, naive = [], []
        for f in filters * 5:
            t0 = time.perf_counter()
            wide = coded.counts_by_area_month(f, "ward")
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            ref = f.apply(inc).groupby(["ward_code", "month"], observed=True).size()
            naive.append(time.perf_counter() - t0)
            assert int(wide.to_numpy().sum()) == int(ref.sum())
        ours_ms, naive_ms = np.median(times) * 1000, np.median(naive) * 1000
        print(
            f"filter -> counts by ward x month: median {ours_ms:.1f} ms, max {max(times) * 1000:.1f} ms "
            f"(budget 20 ms); pandas filter+groupby: {naive_ms:.1f} ms; ratio {naive_ms / ours_ms:.1f}x"
        )
        store.close()


if __name__ == "__main__":
    main()
