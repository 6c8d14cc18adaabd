"""Benchmark: a filter change through the default hotspot score and places + KDE + Gi* + DBSCAN at 1,000,000 incidents.

Also the micro places (the default of hotspot lists, issue 9): a filter change through the
default places (budget 0.3 s) and the full ranked list with names (budget 0.5 s), on 1M
police.uk rows over three years (2023-01 to 2025-12; real snap points, categories and location
names resampled by ``bench_ingest.make_files``) loaded through the real ingest into a store and
read back as the dashboard holds them (``Store.incidents()``). Each is timed against the path
before (``tests/places_reference.py``: the filtered frame and its previous period copied, text
columns and names grouped from the copies) in the same run, and checked to give the same list;
the place outlines and text columns also against GeoPandas' dissolve and a pandas groupby.

Run:  .venv/bin/python bench/bench_engine.py [--n 1000000] [--repeat 5] [--micro-only] [--store FILE]

(``--store``: keep the micro places' store there and reuse it on the next run; building it takes
about 40 s.)

For the rest, the incidents are the real 2025 Staffordshire sample resampled with replacement to N rows
(keeping each incident's exact police.uk snap point, so — as in real data — many incidents share
a location; months and categories are resampled with them). A "filter change" is: apply a
:class:`Filter` (a month range and two categories, or all incidents), count incidents per
location with ``np.bincount`` on ``location_id`` (the store's unique-location table), then
the default hotspot score (``eb_count``: recency-weighted cell counts smoothed by empirical
Bayes, from the filtered incidents' coordinates and months), the hotspot places of that score
(the top 2% of cells made into one place per peak, ``split="peaks"``, dissolved into polygons),
the KDE surface (default grid and bandwidth, one cell), Gi* z-scores with FDR bins, and DBSCAN
(default parameters) on the weighted unique locations. The whole ranked list
(:func:`hotspots.hotspot_list.find_hotspots`, default method, with its text columns and the
previous period) is timed on its own at the end, with the places rule before (``"touching"``)
for comparison.

The references are measured in the same run: scikit-learn ``KernelDensity`` (exact, Gaussian,
on the grid cell centres), scikit-learn ``DBSCAN`` on the raw duplicated points, and PySAL
``esda.G_Local``. The first two are far too slow (or large) for 1M points, so they run on a
random subsample and the time is scaled to the full size (linearly for the KDE, which is
linear in the number of points; DBSCAN is at least linear, so its ratio is a lower bound). The
script prints what it did.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import boundaries  # noqa: E402
from hotspots.cell_places import places_from_cells, top_cells  # noqa: E402
from hotspots.dbscan import dbscan  # noqa: E402
from hotspots.eb import eb_count  # noqa: E402
from hotspots.filters import Filter  # noqa: E402
from hotspots.gistar import gistar  # noqa: E402
from hotspots.grid import make_grid  # noqa: E402
from hotspots.hotspot_list import find_hotspots  # noqa: E402
from hotspots.kde import kde  # noqa: E402


def build_incidents(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, boundaries.Geography]:
    """Resample the real sample to ``n`` incidents; return (incidents, locations, geography)."""
    import conftest

    geo = boundaries.default_geography()
    real = conftest.real_incidents.__wrapped__(conftest.read_sample_raw(), geo)
    real = real[np.isfinite(real["x"])].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    df = real.iloc[rng.integers(0, len(real), n)].reset_index(drop=True)
    for col in ("category", "location_name", "ward_code", "district_code"):  # as the store hands them out
        df[col] = df[col].astype("category")
    locs = real.groupby("location_id")[["x", "y"]].first().sort_index()
    locations = pd.DataFrame({"x": np.full(locs.index.max() + 1, np.nan), "y": np.nan})
    locations.loc[locs.index, ["x", "y"]] = locs.to_numpy()
    return df, locations, geo


def timed(fn, repeat: int):
    """Best wall time over ``repeat`` runs and the last result."""
    best = float("inf")
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--kde-sample", type=int, default=20_000, help="points for the sklearn KDE reference")
    ap.add_argument("--dbscan-sample", type=int, default=50_000, help="points for the raw DBSCAN reference")
    ap.add_argument("--micro-only", action="store_true", help="only the micro places (list and places)")
    ap.add_argument(
        "--store", type=Path, help="store file of the micro places' 3-year frame (reused if present)"
    )
    args = ap.parse_args(argv)
    if args.micro_only:
        micro_places(*store_incidents(args.n, args.store), args.repeat)
        return 0

    t0 = time.perf_counter()
    df, locations, geo = build_incidents(args.n)
    grid = make_grid(geo.study_area)
    area_km2 = float(geo.study_area.area.sum() / 1e6)
    lx = locations["x"].to_numpy()
    ly = locations["y"].to_numpy()
    print(
        f"built {len(df):,} incidents on {df['location_id'].nunique():,} unique locations "
        f"in {time.perf_counter() - t0:.1f} s; grid {grid.nx} x {grid.ny} cells of {grid.cell:.0f} m "
        f"({int(grid.mask.sum())} in the study area)"
    )

    filters = {
        "all incidents": Filter(),
        "Jun-Dec, violence + ASB": Filter(
            month_from="2025-06",
            month_to="2025-12",
            categories=("Violence and sexual offences", "Anti-social behaviour"),
        ),
    }
    loc_ids = df["location_id"].to_numpy()
    all_x = df["x"].to_numpy()
    all_y = df["y"].to_numpy()
    all_months = df["month"].to_numpy()
    rows = []
    for label, filt in filters.items():

        def select(filt=filt):
            keep = filt.mask(df)
            w = np.bincount(loc_ids[keep], minlength=len(locations)).astype(float)
            has = w > 0
            return lx[has], ly[has], w[has], int(keep.sum())

        t_sel, (ux, uy, uw, n_sel) = timed(select, args.repeat)

        def default_score(filt=filt):
            keep = filt.mask(df)
            return eb_count(
                all_x[keep], all_y[keep], grid=grid, months=all_months[keep], reference_month=filt.month_to
            )

        t_eb, eres = timed(default_score, args.repeat)

        def places(split, score=eres.score):
            top = top_cells(score, grid.mask, 0.02, name="top_share")
            return places_from_cells(top, grid, {"order": score}, how={"order": "max"}, split=split)[1]

        t_pl, pres = timed(lambda: places("peaks"), args.repeat)
        t_pl_old, pold = timed(lambda: places("touching"), args.repeat)
        t_kde, kres = timed(lambda ux=ux, uy=uy, uw=uw: kde(ux, uy, grid=grid, weights=uw), args.repeat)
        counts = kres.counts
        t_gi, gres = timed(lambda counts=counts: gistar(counts, mask=grid.mask), args.repeat)
        t_db, dres = timed(
            lambda ux=ux, uy=uy, uw=uw: dbscan(ux, uy, weights=uw, area_km2=area_km2), args.repeat
        )
        total = t_sel + t_eb + t_pl + t_kde + t_gi + t_db
        rows.append((label, n_sel, ux.size, t_sel, t_kde, t_gi, t_db, total, kres, gres, dres))
        print(f"\nfilter: {label}: {n_sel:,} incidents at {ux.size:,} locations")
        print(f"  filter + per-location counts {t_sel * 1000:7.1f} ms")
        print(
            f"  default score (eb_count, half-life {eres.half_life:g} months, filter included) "
            f"{t_eb * 1000:7.1f} ms  (prior strength {eres.prior_strength:.3g})"
        )
        print(
            f"  places (top 2%, one per peak) {t_pl * 1000:7.1f} ms  ({len(pres)} places, largest "
            f"{pres['area_km2'].max():.2f} km²; cells touching at edge or corner: {t_pl_old * 1000:.1f} ms, "
            f"{len(pold)} places, largest {pold['area_km2'].max():.2f} km²)"
        )
        print(
            f"  KDE ({kres.kernel}, h={kres.bandwidth:.0f} m {kres.bandwidth_rule}, {kres.algorithm}) "
            f"{t_kde * 1000:7.1f} ms"
        )
        print(
            f"  Gi* z, p, BH-FDR bins        {t_gi * 1000:7.1f} ms  ({gres.params['n_hot_cells']} hot cells)"
        )
        print(
            f"  DBSCAN (eps {dres.eps:.0f} m, min_samples {dres.min_samples}) {t_db * 1000:7.1f} ms "
            f" ({dres.n_clusters} clusters)"
        )
        print(
            f"  TOTAL                        {total * 1000:7.1f} ms   budget 300 ms: "
            f"{'OK' if total <= 0.3 else 'OVER'}"
        )

    # without the store's location ids: KDE straight from 1M raw coordinates (hashing them to
    # unique locations inside kde)
    xr = df["x"].to_numpy()
    yr = df["y"].to_numpy()
    t_raw_kde, _ = timed(lambda: kde(xr, yr, grid=grid), args.repeat)
    print(
        f"\nKDE from {len(df):,} raw coordinates (no location ids; unique locations found inside): "
        f"{t_raw_kde * 1000:.1f} ms"
    )

    # the whole ranked list (default method) on the full frame, places one per peak and as before;
    # the frame's codes and the namer are built once per frame (at load in the app): not timed
    find_hotspots(df, geography=geo, filt=Filter(categories=("Robbery",)))
    for split in ("peaks", "touching"):
        t_list, hl = timed(
            lambda split=split: find_hotspots(df, geography=geo, split=split), max(1, args.repeat // 2)
        )
        print(
            f"find_hotspots (default, whole list, split={split}) on {len(df):,} incidents: {t_list * 1000:.0f} ms "
            f"({len(hl)} places, largest {hl['area_km2'].max():.2f} km², first holds "
            f"{hl['share_of_incidents'].iloc[0]:.1%})"
        )

    # ------------------------------------------------------------------ references
    label, n_sel, n_loc, _, t_kde, t_gi, t_db, _, kres, gres, dres = rows[0]
    print(f"\nreferences on '{label}' ({n_sel:,} incidents), measured in this run:")
    from sklearn.cluster import DBSCAN
    from sklearn.neighbors import KernelDensity

    rng = np.random.default_rng(1)
    x = df["x"].to_numpy()
    y = df["y"].to_numpy()
    cx, cy = grid.centres()
    centres = np.c_[cx[grid.mask], cy[grid.mask]]
    sub = rng.choice(len(df), args.kde_sample, replace=False)
    t_ours_g, _ = timed(
        lambda: kde(x[sub], y[sub], grid=grid, bandwidth=kres.bandwidth / 2, kernel="gaussian"), 3
    )
    t = time.perf_counter()
    KernelDensity(kernel="gaussian", bandwidth=kres.bandwidth / 2, rtol=1e-6).fit(
        np.c_[x[sub], y[sub]]
    ).score_samples(centres)
    t_sk = time.perf_counter() - t
    t_sk_full = t_sk * n_sel / args.kde_sample
    print(
        f"  sklearn KernelDensity (Gaussian, h={kres.bandwidth / 2:.0f} m) on a {args.kde_sample:,}-point subsample: "
        f"{t_sk * 1000:.0f} ms -> {t_sk_full:.1f} s scaled to {n_sel:,} points "
        f"(ours on the same subsample: {t_ours_g * 1000:.1f} ms); "
        f"ratio to our KDE at full size: {t_sk_full / t_kde:,.0f}x"
    )

    sub = rng.choice(len(df), args.dbscan_sample, replace=False)
    frac = args.dbscan_sample / n_sel
    ms = max(2, round(dres.min_samples * frac))
    t_ours_d, _ = timed(lambda: dbscan(x[sub], y[sub], eps=dres.eps, min_samples=ms), 3)
    t = time.perf_counter()
    DBSCAN(eps=dres.eps, min_samples=ms).fit(np.c_[x[sub], y[sub]])
    t_raw = time.perf_counter() - t
    t_raw_full = t_raw / frac
    print(
        f"  sklearn DBSCAN on raw points, {args.dbscan_sample:,}-point subsample (min_samples scaled to {ms}): "
        f"{t_raw * 1000:.0f} ms (ours on the same subsample: {t_ours_d * 1000:.1f} ms, "
        f"{t_raw / t_ours_d:.0f}x); scaled linearly to {n_sel:,} points: {t_raw_full:.1f} s, "
        f"ratio to our DBSCAN at full size >= {t_raw_full / t_db:,.0f}x"
    )

    from esda import G_Local
    from libpysal.weights import lat2W, w_subset

    t = time.perf_counter()
    w_full = lat2W(grid.ny, grid.nx, rook=False)
    ids = [int(i) for i in np.flatnonzero(grid.mask.ravel())]
    w = w_subset(w_full, ids, silence_warnings=True)
    t_w = time.perf_counter() - t
    y_cells = kres.counts.ravel()[ids]
    t_esda, ref = timed(lambda: G_Local(y_cells, w, transform="B", star=True, permutations=0), 3)
    diff = np.abs(ref.Zs - gres.z.ravel()[ids]).max()
    print(
        f"  esda G_Local (star, binary, no permutations) on the same {len(ids)} cells: {t_esda * 1000:.1f} ms "
        f"(+ {t_w * 1000:.0f} ms to build the weights); ours {t_gi * 1000:.2f} ms: "
        f"{t_esda / t_gi:.0f}x ({(t_esda + t_w) / t_gi:.0f}x with weights); max |z diff| {diff:.1e}"
    )
    micro_places(*store_incidents(args.n, args.store), args.repeat)
    return 0


def _top_text_groupby(keys, values, k=3, *, counts=True):
    """The obvious top-k text per key: a pandas groupby with a Python join per group (the code before)."""
    df = pd.DataFrame({"key": np.asarray(keys), "val": pd.Series(np.asarray(values, dtype=object))})
    df = df[df["val"].notna()]
    df["val"] = df["val"].astype(str)
    c = df.groupby(["key", "val"], sort=False).size().reset_index(name="n")
    c = c.sort_values(["key", "n", "val"], ascending=[True, False, True], kind="stable")
    c = c.groupby("key", sort=False).head(k)
    c["txt"] = c["val"] + " (" + c["n"].astype(str) + ")" if counts else c["val"]
    return c.groupby("key", sort=True)["txt"].agg("; ".join)


def store_incidents(n: int, where: Path | None) -> tuple[pd.DataFrame, boundaries.Geography]:
    """``n`` police.uk rows over three years loaded through the real ingest; the frame the dashboard holds.

    The rows are ``bench_ingest.make_files``' (real 2025 Staffordshire snap points, categories
    and location names resampled; months spread evenly over 2023-01 to 2025-12), loaded into a
    store with :func:`hotspots.ingest.ingest` and read back with ``Store.incidents()``: the same
    dtypes (categorical text, Arrow strings for the ids) as in the app. ``where``: a store file
    to reuse (built there on the first run).
    """
    import tempfile

    from bench_ingest import make_files

    from hotspots.ingest import ingest
    from hotspots.store import Store

    if where is None:
        where = Path(tempfile.mkdtemp(prefix="bench-engine-")) / "store.duckdb"
    if not where.exists():
        t = time.perf_counter()
        files = make_files(where.parent / "archive", n, first="2023-01", last="2025-12")
        store = Store(where)
        ingest([where.parent / "archive"], store=store)
        print(
            f"store of {n:,} rows in {len(files)} monthly files built in {time.perf_counter() - t:.0f} s: {where}"
        )
    store = Store(where)
    return store.incidents(), store.geography()


def timed_runs(fn, repeat: int) -> tuple[float, float, float, object]:
    """Median and best wall time over ``repeat`` runs, the median CPU time, and the last result.

    The CPU time (``time.process_time``) is what the work itself took: on a shared machine the
    wall time also holds the waits for a core.
    """
    times, cpu = [], []
    out = None
    for _ in range(repeat):
        c = time.process_time()
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return float(np.median(times)), min(times), float(np.median(cpu)), out


def micro_places(df: pd.DataFrame, geo, repeat: int) -> None:
    """Micro places (the default): a filter change through the default places, and the named list.

    Each against the path before (``tests/places_reference.py``: the filtered frame and the
    previous period copied, text columns and names grouped from the copies), in the same run.
    """
    import geopandas as gpd
    from places_reference import find_hotspots_before

    from hotspots.cell_places import bound_places, cell_outlines, label_places
    from hotspots.coded import codes_for
    from hotspots.grid import MICRO_CELL_SIZE, analysis_cell_size
    from hotspots.hotspot_list import _assign_cells
    from hotspots.repeat import located_mask, top_text

    months = df["month"]
    first, last = months.min().strftime("%Y-%m"), months.max().strftime("%Y-%m")
    cell, _ = analysis_cell_size(geo.study_area)
    grid = make_grid(geo.study_area, cell_size=cell)
    t = time.perf_counter()
    codes = codes_for(df)
    codes.cells(grid)
    t_codes = time.perf_counter() - t
    print(
        f"\nmicro places at {len(df):,} incidents ({first} to {last}, {df['location_id'].nunique():,} map points; "
        f"{MICRO_CELL_SIZE:.0f} m cells: {grid.nx} x {grid.ny}, {int(grid.mask.sum()):,} in the study area). "
        f"The frame is coded once per load ({t_codes * 1000:.0f} ms: months, text codes, each incident's cell), "
        f"then every filter reuses it. Times: median wall (best wall; median CPU) of {repeat} runs; load "
        f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores."
    )
    max_cells = int(0.5e6 // cell**2)
    t = time.perf_counter()
    find_hotspots(df, geography=geo, filt=Filter(categories=("Robbery",)))  # the namer, once per frame
    print(f"  the namer of this frame built once per load: {time.perf_counter() - t:.1f} s with a first list")
    filters = {
        "every month (the Hotspots page opening)": Filter(month_from=first, month_to=last),
        "a type chosen: Burglary, every month": Filter(
            month_from=first, month_to=last, categories=("Burglary",)
        ),
        "2025 (its previous period in the data)": Filter(month_from="2025-01", month_to="2025-12"),
        "Jun-Dec 2025, violence + ASB": Filter(
            month_from="2025-06",
            month_to="2025-12",
            categories=("Violence and sexual offences", "Anti-social behaviour"),
        ),
    }

    def places(x, y, m, ref, cells=None):
        res = eb_count(x, y, grid=grid, months=m, reference_month=ref, cells=cells)
        top = top_cells(res.score, grid.mask, 0.01, name="top_share")
        return places_from_cells(
            top, grid, {"order": res.score}, how={"order": "max"}, score=res.score, max_cells=max_cells
        )

    rows = []
    for label, filt in filters.items():
        prev = filt.previous_period()
        covered = prev is not None and prev.month_from >= first

        def change_new(filt=filt, prev=prev, covered=covered):
            keep = np.flatnonzero(filt.mask(df) & codes.located)
            cells = codes.cells(grid)[keep]
            labels, pl = places(codes.x[keep], codes.y[keep], codes.month[keep], filt.month_to, cells)
            counts = np.bincount(_assign_cells(labels, cells), minlength=len(pl) + 1)[1:]
            if covered:
                pk = np.flatnonzero(prev.mask(df) & codes.located)
                before = np.bincount(_assign_cells(labels, codes.cells(grid)[pk]), minlength=len(pl) + 1)[1:]
                counts = counts - before
            return pl, counts

        def change_old(filt=filt, prev=prev, covered=covered):
            cur = filt.apply(df)
            cur = cur[located_mask(cur)]
            x, y = cur["x"].to_numpy(dtype=float), cur["y"].to_numpy(dtype=float)
            labels, pl = places(x, y, cur["month"].to_numpy(), filt.month_to)
            ix, iy = grid.index(x, y)
            member = np.where(ix >= 0, labels[iy, ix], 0)
            counts = np.bincount(member, minlength=len(pl) + 1)[1:]
            if covered:
                p = prev.apply(df)
                p = p[located_mask(p)]
                ix, iy = grid.index(p["x"].to_numpy(dtype=float), p["y"].to_numpy(dtype=float))
                counts = counts - np.bincount(np.where(ix >= 0, labels[iy, ix], 0), minlength=len(pl) + 1)[1:]
            return pl, counts

        c_new, c_best, c_cpu, (pl, counts) = timed_runs(change_new, repeat)
        c_old, _, c_old_cpu, (_, counts_old) = timed_runs(change_old, max(1, repeat // 2))
        assert np.array_equal(counts, counts_old)
        l_new, l_best, l_cpu, hl = timed_runs(
            lambda filt=filt: find_hotspots(df, geography=geo, filt=filt), repeat
        )
        l_old, _, l_old_cpu, old = timed_runs(
            lambda filt=filt: find_hotspots_before(df, geography=geo, filt=filt), max(1, repeat // 2)
        )
        same = hl.drop(columns="geometry").equals(old.drop(columns="geometry"))
        n_sel = int((filt.mask(df) & codes.located).sum())
        rows.append((label, c_new, l_new))
        print(
            f"  {label}: {n_sel:,} incidents, {len(hl):,} places (largest {hl['area_km2'].max():.2f} km²)\n"
            f"    filter change through the places (filter, eb_count, top 1%, places split at peaks <= 0.5 km², "
            f"outlines, counts{' and change' if covered else ''}): {c_new * 1000:.0f} ms ({c_best * 1000:.0f}; "
            f"CPU {c_cpu * 1000:.0f}) budget 300 ms {'OK' if c_new <= 0.3 else 'OVER'}; the path before "
            f"{c_old * 1000:.0f} ms (CPU {c_old_cpu * 1000:.0f}): {c_old / c_new:.1f}x\n"
            f"    the full ranked list with names (find_hotspots): {l_new * 1000:.0f} ms ({l_best * 1000:.0f}; "
            f"CPU {l_cpu * 1000:.0f}) budget 500 ms {'OK' if l_new <= 0.5 else 'OVER'}; the path before "
            f"{l_old * 1000:.0f} ms (CPU {l_old_cpu * 1000:.0f}): {l_old / l_new:.1f}x; same list, names and "
            f"numbers: {same}"
        )

    # the obvious approach, on the same places: GeoPandas dissolve and groupby text
    x_all, y_all, m_all = codes.x, codes.y, codes.month
    ok = codes.located
    res = eb_count(x_all[ok], y_all[ok], grid=grid, months=m_all[ok], reference_month=last)
    top = top_cells(res.score, grid.mask, 0.01, name="top_share")
    lab, n = label_places(top, res.score)
    lab, n = bound_places(lab, res.score, max_cells=max_cells)
    t_ours, _ = timed(lambda: cell_outlines(lab, grid, n), repeat)

    def dissolve():
        flat = lab.ravel()
        ids = np.flatnonzero(flat)
        cells = gpd.GeoDataFrame({"p": flat[ids]}, geometry=grid.boxes(ids), crs=27700)
        return cells.dissolve(by="p")

    t_dis, _ = timed(dissolve, 1)
    key = _assign_cells(lab, codes.cells(grid))
    inside = key > 0
    hot = df[inside]
    cols = ("category", "location_name", "ward_code")
    t_txt, _ = timed(lambda: [top_text(key[inside], hot[c], 3) for c in cols], repeat)
    t_txt_gb, _ = timed(lambda: [_top_text_groupby(key[inside], hot[c], 3) for c in cols], 1)
    print(
        f"  outlines of {n:,} places traced from cell edges {t_ours * 1000:.0f} ms; GeoPandas dissolve of the "
        f"cells {t_dis * 1000:.0f} ms ({t_dis / t_ours:.0f}x)"
    )
    print(
        f"  top categories, locations and wards of the places' {int(inside.sum()):,} incidents from integer codes "
        f"{t_txt * 1000:.0f} ms; pandas groupby with a join per place {t_txt_gb * 1000:.0f} ms ({t_txt_gb / t_txt:.0f}x)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
