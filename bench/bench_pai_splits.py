"""Targeting across many real month splits: micro places (the default) against the display-rule cells.

Run:  .venv/bin/python bench/bench_pai_splits.py [--quick]   (about 15 minutes on a loaded 2-core machine)

Every split is scored with :func:`hotspots.evaluate.evaluate` (PAI and hit rate at 0.5%, 1%, 2%
and 5% of the area, one scoring per split and scale) for the default method (``eb_count``) at
two scales: the micro-cells of hotspot places (the default, 125 m; finer in a small area) and the
display rule (about 50 cells on the shorter side: 1,200 m on the county, the default before), plus
the plain count at the micro scale (is ``eb_count`` still the better score there?). Splits: 9
train → test month splits within 2025 × 6 crime filters × 16 areas (the county, its 9 districts,
the 6 busiest wards), leaving out splits with fewer than 20 training or 10 test incidents.

"Places a team can cover" (:func:`hotspots.evaluate.place_coverage`): the share of the test
period's incidents inside the top 10, 20 and 50 places of the list found on the training period,
for the county and each district, all crime and ASB, on every split, at both scales.

With ``--sizes`` it also prints the county all-crime PAI at 1% for cells of 75–250 m (how the
micro cell size was chosen). Prints markdown tables (those in ``docs/methods.md``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import boundaries  # noqa: E402
from hotspots._errors import InputError  # noqa: E402
from hotspots.evaluate import evaluate_shares, place_coverage  # noqa: E402
from hotspots.filters import Filter  # noqa: E402

CATEGORIES = {
    "all crime": (),
    "ASB": ("Anti-social behaviour",),
    "violence": ("Violence and sexual offences",),
    "vehicle crime": ("Vehicle crime",),
    "burglary": ("Burglary",),
    "shoplifting": ("Shoplifting",),
}
SPLITS = {
    "Jan-Sep > Oct-Dec": ("2025-01", "2025-09", "2025-10", "2025-12"),
    "Jan-Jun > Jul-Dec": ("2025-01", "2025-06", "2025-07", "2025-12"),
    "Jan-Jun > Jul-Sep": ("2025-01", "2025-06", "2025-07", "2025-09"),
    "Feb-Jul > Aug-Oct": ("2025-02", "2025-07", "2025-08", "2025-10"),
    "Mar-Aug > Sep-Nov": ("2025-03", "2025-08", "2025-09", "2025-11"),
    "Apr-Sep > Oct-Dec": ("2025-04", "2025-09", "2025-10", "2025-12"),
    "Jan-Nov > Dec": ("2025-01", "2025-11", "2025-12", "2025-12"),
    "May-Oct > Nov": ("2025-05", "2025-10", "2025-11", "2025-11"),
    "Jan-Mar > Apr-Jun": ("2025-01", "2025-03", "2025-04", "2025-06"),
}
SHARES = (0.005, 0.01, 0.02, 0.05)
SCALES = {"micro (default)": None, "display (before)": "display"}
TOP = (10, 20, 50)


def areas(incidents: pd.DataFrame, geo: boundaries.Geography) -> dict[str, tuple[str, Filter]]:
    """The county, every district and the 6 wards with the most incidents: ``name -> (level, filter)``."""
    out = {"county": ("county", Filter())}
    for r in geo.areas("district").itertuples():
        out[r.area_name] = ("district", Filter(level="district", areas=(r.area_code,)))
    names = geo.areas("ward").set_index("area_code")["area_name"]
    for code in incidents["ward_code"].value_counts().index[:6]:
        out[names[code]] = ("ward", Filter(level="ward", areas=(code,)))
    return out


def main(argv: list[str] | None = None) -> int:
    """Score every split and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="county and districts, all crime and ASB only")
    ap.add_argument("--sizes", action="store_true", help="also the county PAI at 1%% for 75-250 m cells")
    args = ap.parse_args(argv)
    import conftest

    geo = boundaries.default_geography()
    incidents = conftest.real_incidents.__wrapped__(conftest.read_sample_raw(), geo)
    t0 = time.perf_counter()
    rows = []
    cats = dict(list(CATEGORIES.items())[:2]) if args.quick else CATEGORIES
    for area, (level, base) in areas(incidents, geo).items():
        if args.quick and level == "ward":
            continue
        for cat, cat_filter in cats.items():
            filt = base.replace(categories=cat_filter)
            for split, (a, b, c, d) in SPLITS.items():
                train = filt.replace(month_from=a, month_to=b)
                test = filt.replace(month_from=c, month_to=d)
                try:
                    runs = {
                        label: evaluate_shares(
                            incidents, train=train, test=test, geography=geo, shares=SHARES, cell_size=cs
                        )
                        for label, cs in SCALES.items()
                    }
                    runs["count, micro"] = evaluate_shares(
                        incidents, method="count", train=train, test=test, geography=geo, shares=SHARES
                    )
                except InputError:  # an empty training or test period: no split
                    continue
                first = runs["micro (default)"][0]
                if first["n_train"] < 20 or first["n_test"] < 10:
                    continue
                for label, res in runs.items():
                    for r in res:
                        rows.append(
                            {
                                "level": level,
                                "area": area,
                                "category": cat,
                                "split": split,
                                "scale": label,
                                "share": r["params"]["area_share_requested"],
                                "pai": r["pai"],
                                "hit_rate": r["hit_rate"],
                                "hits": r["hits"],
                                "cell_size_m": r["params"]["cell_size_m"],
                            }
                        )
    res = pd.DataFrame(rows)
    n_splits = res.groupby(["area", "category", "split"]).ngroups
    print(f"{n_splits:,} splits in {time.perf_counter() - t0:.0f} s\n")

    print("PAI (hit rate) at each share of the area, median over the splits; micro = the default\n")
    print("| subset | splits | scale | 0.5% | 1% | 2% | 5% |")
    print("|---|---|---|---|---|---|---|")
    groups = [("all", res)] + [(k, g) for k, g in res.groupby("level", sort=False)]
    groups += [(k, g) for k, g in res.groupby("category", sort=False)]
    for name, g in groups:
        n = g.groupby(["area", "category", "split"]).ngroups
        for scale in (*SCALES, "count, micro"):
            s = g[g["scale"] == scale]
            cells = []
            for share in SHARES:
                t = s[np.isclose(s["share"], share)]
                cells.append(f"{t['pai'].median():.1f} ({t['hit_rate'].median():.0%})")
            print(f"| {name} | {n} | {scale} | " + " | ".join(cells) + " |")

    print("\nmicro against display, PAI at 1% of the area: splits where micro is at least twice display")
    one = res[np.isclose(res["share"], 0.01)].pivot_table(
        index=["level", "area", "category", "split"], columns="scale", values="pai"
    )
    ratio = one["micro (default)"] / one["display (before)"]
    for level, r in ratio.groupby(level="level", sort=False):
        print(f"  {level}: {int((r >= 2).sum())} of {len(r)}; median ratio {r.median():.2f}")
    eb = res[res["scale"] == "micro (default)"].set_index(["area", "category", "split", "share"])["hits"]
    cnt = res[res["scale"] == "count, micro"].set_index(["area", "category", "split", "share"])["hits"]
    d = (eb - cnt).xs(0.01, level="share")
    print(
        f"\neb_count against the plain count at the micro scale, 1% of the area: {int((d > 0).sum())} won / "
        f"{int((d == 0).sum())} tied / {int((d < 0).sum())} lost, "
        f"{eb.xs(0.01, level='share').sum() / cnt.xs(0.01, level='share').sum() - 1:+.1%} incidents caught"
    )
    county = one.xs(("county", "county", "all crime"), level=("level", "area", "category"))
    print("\nall crime over the county, PAI at 1% of the area (display -> micro):")
    for split, r in county.iterrows():
        print(f"  {split}: {r['display (before)']:.2f} -> {r['micro (default)']:.2f}")

    # places a team can cover
    t1 = time.perf_counter()
    cov = []
    for area, (level, base) in areas(incidents, geo).items():
        if level == "ward":
            continue
        for cat in ("all crime", "ASB"):
            filt = base.replace(categories=CATEGORIES[cat])
            for split, (a, b, c, d) in SPLITS.items():
                if args.quick and split not in ("Jan-Sep > Oct-Dec", "Jan-Jun > Jul-Dec", "Jan-Nov > Dec"):
                    continue
                train = filt.replace(month_from=a, month_to=b)
                test = filt.replace(month_from=c, month_to=d)
                for label, cs in SCALES.items():
                    try:
                        r = place_coverage(
                            incidents, train=train, test=test, geography=geo, top=TOP, cell_size=cs
                        )
                    except InputError:
                        continue
                    cov.append(
                        {
                            "level": level,
                            "area": area,
                            "category": cat,
                            "split": split,
                            "scale": label,
                            **{k: v for k, v in r.items() if k != "params"},
                        }
                    )
    cov = pd.DataFrame(cov)
    print(
        f"\nplaces a team can cover ({cov.groupby(['area', 'category', 'split']).ngroups} splits, {time.perf_counter() - t1:.0f} s): "
        "share of later incidents in the top N places (their area), median over the splits\n"
    )
    print("| subset | scale | top 10 | top 20 | top 50 |")
    print("|---|---|---|---|---|")
    for name, g in [
        ("county, all crime", cov[(cov["level"] == "county") & (cov["category"] == "all crime")]),
        ("county, ASB", cov[(cov["level"] == "county") & (cov["category"] == "ASB")]),
        ("districts, all crime", cov[(cov["level"] == "district") & (cov["category"] == "all crime")]),
        ("districts, ASB", cov[(cov["level"] == "district") & (cov["category"] == "ASB")]),
    ]:
        for scale in SCALES:
            s = g[g["scale"] == scale]
            cells = [
                f"{s[f'share_top{n}'].median():.1%} ({s[f'area_km2_top{n}'].median():.1f} km²)" for n in TOP
            ]
            print(f"| {name} | {scale} | " + " | ".join(cells) + " |")

    if args.sizes:
        from hotspots.evaluate import evaluate

        print("\ncounty, all crime, PAI at 1% of the area by cell size (display rule first):")
        for split, (a, b, c, d) in SPLITS.items():
            tr, te = Filter(month_from=a, month_to=b), Filter(month_from=c, month_to=d)
            vals = [
                evaluate(incidents, train=tr, test=te, geography=geo, cell_size=cs)["pai"]
                for cs in ("display", 250, 200, 150, 125, 100, 75)
            ]
            print(f"  {split}: " + " | ".join(f"{v:.1f}" for v in vals))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
