"""Benchmark: multi-agency demand at 1,000,000 incidents from 3 sources (budget: ≤ 0.1 s per filter change).

Run:  .venv/bin/python bench/bench_demand.py [--n 1000000] [--repeat 5]

The incidents: the real 2025 Staffordshire police.uk sample resampled with replacement to 60%
of N (each keeps its police.uk snap point, month and category), plus two generated partner
sources of 20% of N each ("fly-tipping", "council-asb") placed on randomly chosen real snap
points moved by up to 100 m, in random months of 2025. Areas are those of the snap point.

A filter change is :meth:`hotspots.demand.DemandCube.table`: the filter mask, the
(source × month × cell) counts, each source's share of its own total, the composite, the top
5% of cells of every source in every month and the persistence flag (≥ 2 sources in ≥ 6 of the
last 12 months), on 150 m cells. The cube (integer codes per incident) is built once per load
and timed on its own. The reference, in the same run, is the obvious pandas way: filter the
frame, ``groupby([source, month, cell]).size()``, rank cells within each source-month,
then group again per cell.

An area filter reads only the incidents of its areas (the cube sorts the incidents by area once
per level, on first use: timed as "first area filter"); months, categories and sources are
answered from a (source x category x month x cell) count table built with the cube.

Demand per named place (:func:`hotspots.demand.place_demand`) is timed too, for the places of
the default hotspot list on the same incidents, against the obvious GeoPandas way (a spatial join
of every incident with the places, then a groupby).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import boundaries  # noqa: E402
from hotspots.demand import DemandCube, place_demand  # noqa: E402
from hotspots.filters import Filter  # noqa: E402


def build(n: int, seed: int = 0) -> pd.DataFrame:
    import conftest

    geo = boundaries.default_geography()
    real = conftest.real_incidents.__wrapped__(conftest.read_sample_raw(), geo)
    real = real[np.isfinite(real["x"])].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    police = real.iloc[rng.integers(0, len(real), int(n * 0.6))].reset_index(drop=True)
    parts = [police]
    for name in ("fly-tipping", "council-asb"):
        m = int(n * 0.2)
        base = real.iloc[rng.integers(0, len(real), m)].reset_index(drop=True)
        base["x"] = base["x"] + rng.uniform(-100, 100, m)
        base["y"] = base["y"] + rng.uniform(-100, 100, m)
        base["source"] = name
        base["category"] = name
        base["month"] = pd.to_datetime("2025-01-01") + pd.to_timedelta(0, "D")
        base["month"] = pd.DatetimeIndex(
            [pd.Timestamp(2025, int(k), 1) for k in rng.integers(1, 13, 12)]
        ).to_numpy()[rng.integers(0, 12, m)]
        parts.append(base)
    df = pd.concat(parts, ignore_index=True)
    for c in ("source", "category", "lsoa_code", "ward_code", "district_code", "locality"):
        df[c] = df[c].astype("category")
    return df


def pandas_reference(df: pd.DataFrame, filt: Filter, cell: float = 150.0) -> pd.DataFrame:
    """The obvious way: filter, groupby, rank within source-month, group per cell."""
    sub = filt.apply(df)
    sub = sub.assign(cell=(np.floor(sub["y"] / cell) * 1e7 + np.floor(sub["x"] / cell)).astype("int64"))
    counts = sub.groupby(["source", "month", "cell"], observed=True).size().rename("n").reset_index()
    units = df.assign(cell=(np.floor(df["y"] / cell) * 1e7 + np.floor(df["x"] / cell)).astype("int64"))[
        "cell"
    ].nunique()
    k = int(np.ceil(0.05 * units))
    kth = counts.groupby(["source", "month"], observed=True)["n"].transform(
        lambda s: s.nlargest(k).iloc[-1] if len(s) >= k else 1
    )
    counts["high"] = counts["n"] >= kth
    multi = counts[counts["high"]].groupby(["month", "cell"]).size() >= 2
    months = multi[multi].reset_index().groupby("cell").size()
    tot = counts.groupby(["source", "cell"], observed=True)["n"].sum().unstack(0, fill_value=0)
    share = tot / tot.sum()
    out = pd.DataFrame({"composite": share.mean(axis=1)})
    out["persistent"] = months.reindex(out.index).fillna(0) >= 6
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    df = build(args.n)
    print(
        f"{len(df):,} incidents: " + ", ".join(f"{k} {v:,}" for k, v in df["source"].value_counts().items())
    )
    t0 = time.perf_counter()
    cube = DemandCube(df, cell_size=150)
    print(f"cube built once per load: {time.perf_counter() - t0:.2f} s ({cube.n_units:,} cells of 150 m)")
    filters = {
        "all of 2025": Filter(),
        "Apr-Sep, ASB + fly-tipping + council-asb": Filter(
            month_from="2025-04",
            month_to="2025-09",
            categories=("Anti-social behaviour", "fly-tipping", "council-asb"),
        ),
        "one district, all months": Filter(
            level="district", areas=(str(df["district_code"].dropna().iloc[0]),)
        ),
    }
    for name, filt in filters.items():
        if filt.areas:
            t0 = time.perf_counter()
            cube.table(filt)
            print(
                f"first area filter (sorts the incidents by area once): {(time.perf_counter() - t0) * 1000:.0f} ms"
            )
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            t = cube.table(filt)
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ref = pandas_reference(df, filt)
        ref_s = time.perf_counter() - t0
        med = statistics.median(times)
        same = set(t.loc[t["persistent"], "unit_id"]) == set(ref.index[ref["persistent"]])
        print(
            f"filter change ({name}): median {med * 1000:.0f} ms (min {min(times) * 1000:.0f}) over "
            f"{args.repeat}; {int(t['persistent'].sum()):,} persistent cells; pandas groupby way "
            f"{ref_s * 1000:.0f} ms ({ref_s / med:.0f}x slower), same persistent cells: {same}"
        )
    places_bench(df, cube, args.repeat)


def places_bench(df: pd.DataFrame, cube: DemandCube, repeat: int) -> None:
    """Demand per source for the places of the default list, against a GeoPandas sjoin + groupby."""
    import geopandas as gpd

    from hotspots.hotspot_list import find_hotspots

    geo = boundaries.default_geography()
    t0 = time.perf_counter()
    places = find_hotspots(df, geography=geo)
    print(
        f"the default hotspot list on these incidents (once): {time.perf_counter() - t0:.1f} s, {len(places):,} places"
    )
    attrs = cube.table(Filter()).attrs
    cells = cube.geometry(cube.table(Filter()))
    cells.attrs.update(attrs)
    times = []
    for _ in range(max(1, repeat // 2)):
        t0 = time.perf_counter()
        pdm = place_demand(df, places, cells=cells)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    pts = gpd.GeoDataFrame(
        {"source": df["source"].astype(str).to_numpy()},
        geometry=gpd.points_from_xy(df["x"], df["y"]),
        crs=27700,
    )
    j = gpd.sjoin(pts, places[["rank", "geometry"]], predicate="intersects")
    j = j[~j.index.duplicated()]
    ref = j.groupby(["rank", "source"]).size().unstack(fill_value=0)
    ref_s = time.perf_counter() - t0
    med = statistics.median(times)
    same = all(
        (ref[s].reindex(places["rank"], fill_value=0).to_numpy() == pdm[f"count_{s}"].to_numpy()).all()
        for s in ref.columns
    )
    print(
        f"demand per source for {len(places):,} places: median {med * 1000:.0f} ms over {len(times)}; "
        f"GeoPandas sjoin + groupby {ref_s * 1000:.0f} ms ({ref_s / med:.1f}x slower), same counts: {same}; "
        f"{int(pdm['persistent'].sum())} places hold a persistent cell"
    )


if __name__ == "__main__":
    main()
