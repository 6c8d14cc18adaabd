"""PAI of the default hotspot method against the plain count on many real train → test splits.

Run:  .venv/bin/python bench/bench_pai_splits.py [--area-share 0.01]   (about 2 minutes)

Every split is scored with :func:`hotspots.evaluate.evaluate` on the same grid for each method:
9 month splits within 2025 × 11 crime filters × 16 areas (the county, its 9 districts, the 6
busiest wards), leaving out splits with fewer than 20 training or 10 test incidents. Prints, for
each method, splits won / tied / lost against the plain count of the training period and the
change in test incidents caught (the table in ``docs/methods.md``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import boundaries  # noqa: E402
from hotspots._errors import InputError  # noqa: E402
from hotspots.evaluate import evaluate  # noqa: E402
from hotspots.filters import Filter  # noqa: E402

CATEGORIES = {
    "all crime": (),
    "ASB": ("Anti-social behaviour",),
    "violence": ("Violence and sexual offences",),
    "vehicle crime": ("Vehicle crime",),
    "burglary": ("Burglary",),
    "shoplifting": ("Shoplifting",),
    "criminal damage": ("Criminal damage and arson",),
    "public order": ("Public order",),
    "drugs": ("Drugs",),
    "robbery": ("Robbery",),
    "other theft": ("Other theft",),
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
METHODS = {
    "count": ("count", {}),
    "eb_count (default)": ("eb_count", {}),
    "kde, one cell": ("kde", {}),
    "kde, Silverman": ("kde", {"bandwidth_rule": "silverman"}),
}


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
    """Score every split and print the win / tie / loss table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--area-share", type=float, default=0.01)
    args = ap.parse_args(argv)
    import conftest

    geo = boundaries.default_geography()
    incidents = conftest.real_incidents.__wrapped__(conftest.read_sample_raw(), geo)
    t0 = time.perf_counter()
    rows = []
    for area, (level, base) in areas(incidents, geo).items():
        for cat, cats in CATEGORIES.items():
            filt = base.replace(categories=cats)
            for split, (a, b, c, d) in SPLITS.items():
                train = filt.replace(month_from=a, month_to=b)
                test = filt.replace(month_from=c, month_to=d)
                row = {"level": level, "area": area, "category": cat, "split": split}
                try:
                    for label, (method, opts) in METHODS.items():
                        r = evaluate(
                            incidents,
                            method=method,
                            train=train,
                            test=test,
                            area_share=args.area_share,
                            geography=geo,
                            **opts,
                        )
                        row[label] = r["hits"]
                        row["n_train"], row["n_test"] = r["n_train"], r["n_test"]
                except InputError:  # an empty training or test period: no split
                    continue
                if row["n_train"] >= 20 and row["n_test"] >= 10:
                    rows.append(row)
    res = pd.DataFrame(rows)
    print(f"{len(res):,} splits at {args.area_share:.0%} of the area in {time.perf_counter() - t0:.0f} s")
    print("won / tied / lost against the plain count, change in test incidents caught\n")
    others = [m for m in METHODS if m != "count"]
    print("| subset | splits | " + " | ".join(others) + " |")
    print("|---|---|" + "---|" * len(others))
    groups = [("all", res)]
    groups += [(k, g) for k, g in res.groupby("level", sort=False)]
    groups += [(k, g) for k, g in res.groupby("category", sort=False)]
    groups += [(k, g) for k, g in res.groupby("split", sort=False)]
    for name, g in groups:
        cells = []
        for m in others:
            d = g[m] - g["count"]
            gain = g[m].sum() / g["count"].sum() - 1
            cells.append(f"{int((d > 0).sum())} / {int((d == 0).sum())} / {int((d < 0).sum())}, {gain:+.1%}")
        print(f"| {name} | {len(g)} | " + " | ".join(cells) + " |")
    county = res[(res["level"] == "county") & (res["category"] == "all crime")]
    print("\nall crime over the county, hits (count -> default):")
    for _, r in county.iterrows():
        print(f"  {r['split']}: {r['count']:,.0f} -> {r['eb_count (default)']:,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
