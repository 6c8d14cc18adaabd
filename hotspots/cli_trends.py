"""Command-line subcommands for trends: ``trends``, ``seasonality``, ``emerging`` and ``change``.

:func:`register` adds them to the ``hotspots`` command (``hotspots.cli`` calls it). Each
takes the shared filter options of ``hotspots areas`` and writes one table with
``export_table`` (CSV, Excel and, where the result has geometry, GeoJSON/GeoPackage), with
the filter and method parameters recorded in the file.
"""

from __future__ import annotations

import argparse
import calendar
from pathlib import Path

import numpy as np
import pandas as pd

from hotspots._errors import InputError

TREND_COLUMNS = [
    "area_code",
    "area_name",
    "category",
    "month",
    "count",
    "expected",
    "lower",
    "upper",
    "flag",
    "rolling_12",
    "model",
    "events",
    "note",
]


_MODEL_RULE = (
    "trend + season needs 24 loaded months; trend only from 12, where season cannot be separated from trend"
)


# ---------------------------------------------------------------------------- helpers
def _area_names(geo, level: str) -> pd.Series:
    areas = geo.areas(level)
    return pd.Series(areas["area_name"].to_numpy(), index=areas["area_code"].astype(str).to_numpy())


def _area_codes(geo, level: str, filt) -> list[str]:
    if filt.areas and filt.level == level:
        return list(filt.areas)
    return sorted(geo.areas(level)["area_code"].astype(str))


def change_sentence(row: pd.Series, *, what: str = "incidents") -> str:
    """One sentence on a period comparison row, in the partnerships' own style.

    ``row`` is a row of :func:`hotspots.trends.last12_vs_previous12` output.
    """
    end = row["period_b"].split(" to ")[-1]
    end_text = f"{calendar.month_name[int(end[5:7])]} {end[:4]}"
    count_b = row["count_b"]
    if pd.isna(count_b):
        return f"The 12 months to the end of {end_text} are not all loaded, so no total can be given."
    head = f"In the 12 months to the end of {end_text} there were {int(count_b):,} {what}"
    if row["direction"] == "not estimated":
        return head + "; the previous 12 months are not all loaded, so no change can be given."
    pct = row["pct_change"]
    pct_text = f"{abs(pct):.0f}% {'more' if pct > 0 else 'fewer'}" if np.isfinite(pct) else "a change"
    if row["direction"] in ("increase", "decrease"):
        return (
            head
            + f", {pct_text} than the previous 12 months ({int(row['count_a']):,}; p = {row['p_value']:.2g})."
        )
    return (
        head
        + f"; no significant change on the previous 12 months ({int(row['count_a']):,}, p = {row['p_value']:.2g})."
    )


# ---------------------------------------------------------------------------- commands
def cmd_trends(args: argparse.Namespace) -> int:
    """Monthly counts with expected range, rolling 12-month totals and calendar events."""
    from hotspots.calendar_events import events_by_month, load_events
    from hotspots.cli import check_categories, filter_from_args, load, weights_from_args
    from hotspots.expected import expected_range, forecast
    from hotspots.export import export_table
    from hotspots.trends import last12_vs_previous12, monthly_series, rolling_12

    incidents, geo = load(args)
    filt = filter_from_args(args)
    check_categories(incidents, filt)
    level = None if args.whole_area else args.level
    by_category = bool(filt.categories) or args.by_category
    weights = weights_from_args(args)
    series = monthly_series(
        incidents,
        filt=filt,
        level=level,
        by_category=by_category,
        areas=_area_codes(geo, level, filt) if level else None,
        measure=args.measure,
        weights=weights,
    )
    if series.empty:
        raise InputError("no months to report: the store is empty or the filter selects no months")
    exp = expected_range(series, level=args.conf_level)
    roll = rolling_12(series)
    table = exp.merge(
        roll[["area_code", "category", "month", "rolling_12"]],
        on=["area_code", "category", "month"],
        how="left",
    )
    table["area_name"] = table["area_code"].map(_area_names(geo, level)) if level else "whole study area"
    events = load_events(args.calendar)
    labels = events_by_month(events, table["month"])
    table = table.merge(labels.rename(columns={"events": "events"}), on="month", how="left")
    table = table[TREND_COLUMNS]
    if weights is not None:  # harm per month and over the last 12 months, beside the counts
        keys = ["area_code", "category", "month"]
        harm = series[keys + ["harm"]].sort_values(keys)
        harm["harm_rolling_12"] = harm.groupby(["area_code", "category"])["harm"].transform(
            lambda h: h.rolling(12, min_periods=12).sum()
        )
        table = table.merge(harm, on=keys, how="left")
    comp = last12_vs_previous12(series)
    fc = forecast(series, args.forecast)
    params = {
        "level": level or "whole study area",
        "by_category": by_category,
        "expected_range": f"{args.conf_level:.0%} prediction interval; model by history (see note)",
        "models": sorted(table["model"].unique().tolist()),
        "calendar": str(args.calendar or "shipped Staffordshire calendar"),
        "unassigned_incidents": int(series.attrs.get("unassigned", 0)),
        "measure": args.measure,
    }
    if weights is not None:
        params["harm_weights"] = weights.to_dict()
    export_table(
        table,
        args.out,
        params=params,
        filt=filt,
        sheets={"last12_vs_previous12": comp, "forecast": fc},
        title="Monthly counts against the expected range",
        layer="trends",
    )
    flags = table["flag"].value_counts()
    n_series = table.groupby(["area_code", "category"]).ngroups
    print(
        f"wrote {len(table):,} rows ({n_series} series x {table['month'].nunique()} months) to {args.out}; "
        f"{flags.get('above', 0)} months above and {flags.get('below', 0)} below the expected range, "
        f"{flags.get('not estimated', 0)} not estimated"
    )
    models = table.drop_duplicates(["area_code", "category"])["model"].value_counts()
    print("model: " + ", ".join(f"{m} for {n} series" for m, n in models.items()) + f" ({_MODEL_RULE})")
    whole = last12_vs_previous12(monthly_series(incidents, filt=filt)).iloc[0]
    print(change_sentence(whole))
    return 0


def cmd_seasonality(args: argparse.Namespace) -> int:
    """Month-of-year seasonal index (and optionally a figure)."""
    from hotspots.cli import check_categories, filter_from_args, load
    from hotspots.export import export_table
    from hotspots.seasonality import seasonal_profile

    incidents, geo = load(args)
    filt = filter_from_args(args)
    check_categories(incidents, filt)
    by = None if args.by == "none" else args.by
    prof = seasonal_profile(incidents, filt=filt, by=by, level=args.level, conf_level=args.conf_level)
    if by in ("area", "area+category"):
        prof.insert(1, "area_name", prof["area_code"].map(_area_names(geo, args.level)))
    params = {
        "by": by or "none",
        "index": "incidents per day relative to the average month (12 indices average 1)",
        "interval": f"{args.conf_level:.0%}",
        "note": prof.attrs.get("note", ""),
    }
    export_table(prof, args.out, params=params, filt=filt, title="Seasonal profile", layer="seasonality")
    print(f"wrote {len(prof)} rows to {args.out}")
    print(prof.attrs.get("note", ""))
    if args.figure is not None:
        draw_profile(prof, args.figure, title=args.title or f"Seasonal profile: {filt.describe()}")
        print(f"wrote the figure to {args.figure}")
    return 0


def cmd_emerging(args: argparse.Namespace) -> int:
    """Emerging hot spot categories per grid cell."""
    from hotspots.cli import check_categories, filter_from_args, load
    from hotspots.emerging import emerging_hotspots
    from hotspots.export import export_table

    incidents, geo = load(args)
    filt = filter_from_args(args)
    check_categories(incidents, filt)
    out = emerging_hotspots(
        incidents,
        filt=filt,
        study_area=geo.study_area,
        cell_size=args.cell_size,
        period_months=args.period_months,
        band=args.band,
        alpha=args.alpha,
    )
    params = dict(out.attrs["params"])
    params.pop("filter", None)
    if args.only_patterns:
        out = out[out["category"] != "no pattern detected"]
    export_table(out, args.out, params=params, filt=filt, title="Emerging hot spots", layer="emerging")
    counts = out["category"].value_counts()
    print(
        f"wrote {len(out):,} cells ({params['cell_size_m']:.0f} m, {len(params['periods'])} periods "
        f"{params['periods'][0]} to {params['periods'][-1]}) to {args.out}"
    )
    if params["periods_left_out"]:
        print("periods left out (a month not loaded): " + ", ".join(params["periods_left_out"]))
    for cat, n in counts.items():
        print(f"  {cat}: {n:,}")
    return 0


def cmd_change(args: argparse.Namespace) -> int:
    """Change between two periods per area or grid cell."""
    from hotspots.change import change_between
    from hotspots.cli import check_categories, filter_from_args, load
    from hotspots.export import export_table
    from hotspots.grid import make_grid

    incidents, geo = load(args)
    filt = filter_from_args(args)
    check_categories(incidents, filt)
    before = filt.replace(month_from=args.before_from, month_to=args.before_to)
    after = filt.replace(month_from=args.after_from, month_to=args.after_to)
    if args.grid:
        level = make_grid(geo.study_area, cell_size=args.cell_size)
    else:
        level = args.level
    out = change_between(
        incidents,
        before=before,
        after=after,
        level=level,
        areas=None if args.grid else _area_codes(geo, args.level, filt),
        relative_to=args.relative_to,
        alpha=args.alpha,
    )
    if not args.grid:
        out.insert(1, "area_name", out["area_code"].map(_area_names(geo, args.level)))
        spatial = args.out.suffix.lower() in (".geojson", ".gpkg")
        if spatial:
            import geopandas as gpd

            shapes = geo.areas(args.level)[["area_code", "geometry"]]
            out = gpd.GeoDataFrame(
                out.merge(shapes, on="area_code", how="left"), geometry="geometry", crs=27700
            )
    params = dict(out.attrs.get("params", {}))
    for k in ("filter_before", "filter_after"):
        params.pop(k, None)
    export_table(out, args.out, params=params, filt=filt, title="Change between two periods", layer="change")
    d = out["direction"].value_counts()
    unit = "cells" if args.grid else f"{args.level}s"
    print(
        f"wrote {len(out):,} {unit} to {args.out}: {d.get('increase', 0)} significant increases, "
        f"{d.get('decrease', 0)} significant decreases (FDR {args.alpha:g}); "
        f"total {int(out['count_before'].sum()):,} before, {int(out['count_after'].sum()):,} after"
    )
    return 0


# ---------------------------------------------------------------------------- figure
PALETTE = ["#1b6ca8", "#d1495b", "#2e933c", "#edae49", "#6d597a", "#00798c"]


def draw_profile(profile: pd.DataFrame, path: str | Path, *, title: str = "", width: int = 960) -> Path:
    """Draw the month-of-year index with its interval, one line per category, to PNG or SVG.

    PNG uses Pillow (installed with streamlit); SVG is written by hand, with no dependency.

    Raises
    ------
    InputError
        If ``path`` does not end in ``.png`` or ``.svg``, or the profile has no index.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".png", ".svg"):
        raise InputError(f"cannot draw {path.name}: the figure must end in .png or .svg")
    if profile.empty or profile["index"].isna().all():
        raise InputError("nothing to draw: the seasonal index could not be estimated for this filter")
    height = int(width * 0.6)
    left, right, top, bottom = 70, 230, 70, 80
    pw, ph = width - left - right, height - top - bottom
    groups = list(profile.groupby(["area_code", "category"], sort=False))
    ymax = float(np.nanmax(profile["upper"])) * 1.05
    ymin = min(0.5, float(np.nanmin(profile["lower"])) * 0.95)
    ymin, ymax = np.floor(ymin * 10) / 10, np.ceil(ymax * 10) / 10

    def px(m: float) -> float:
        return left + (m - 0.5) / 12 * pw

    def py(v: float) -> float:
        return top + (ymax - v) / (ymax - ymin) * ph

    prims: list[tuple] = []  # (kind, args, colour, width_or_size)
    for v in np.arange(ymin, ymax + 1e-9, 0.1 if ymax - ymin <= 1.2 else 0.2):
        prims.append(
            ("line", (left, py(v), left + pw, py(v)), "#dddddd" if abs(v - 1) > 1e-9 else "#555555", 1)
        )
        prims.append(("text", (left - 8, py(v), f"{v:.1f}", "end"), "#333333", 13))
    for m in range(1, 13):
        prims.append(("text", (px(m), top + ph + 20, calendar.month_abbr[m], "middle"), "#333333", 13))
    for k, ((area, cat), g) in enumerate(groups):
        colour = PALETTE[k % len(PALETTE)]
        g = g.sort_values("month_of_year")
        pts = [(px(m), py(v)) for m, v in zip(g["month_of_year"], g["index"], strict=True) if np.isfinite(v)]
        off = (k - (len(groups) - 1) / 2) * 6
        for m, lo, hi in zip(g["month_of_year"], g["lower"], g["upper"], strict=True):
            if np.isfinite(lo):
                prims.append(("line", (px(m) + off, py(lo), px(m) + off, py(hi)), colour, 2))
        for a, b in zip(pts[:-1], pts[1:], strict=True):
            prims.append(("line", (a[0], a[1], b[0], b[1]), colour, 3))
        for x, y in pts:
            prims.append(("dot", (x, y, 4), colour, 0))
        label = cat if area == "all" else f"{area} {cat}"
        ly = top + 20 + k * 40
        prims.append(("line", (left + pw + 15, ly, left + pw + 40, ly), colour, 3))
        for i, part in enumerate(_wrap(label, 24)):
            prims.append(("text", (left + pw + 46, ly + 16 * i, part, "start"), "#222222", 13))
    prims.append(("text", (left, 28, title, "start"), "#111111", 18))
    note = "index 1 = average month, incidents per day; bars: 95% interval"
    if (profile["model"] == "month of year only").all():
        note += "; one year of data: the year's monthly shape, not a season"
    prims.append(("text", (left, 52, note, "start"), "#555555", 12))
    prims.append(
        (
            "text",
            (left, height - 18, "Source: data.police.uk (Open Government Licence v3.0)", "start"),
            "#777777",
            11,
        )
    )

    path.parent.mkdir(parents=True, exist_ok=True)
    if ext == ".svg":
        path.write_text(_svg(prims, width, height), encoding="utf-8")
    else:
        _png(prims, width, height).save(path)
    return path


def _wrap(text: str, n: int) -> list[str]:
    """Split a legend label into at most two lines of about ``n`` characters."""
    if len(text) <= n:
        return [text]
    cut = text.rfind(" ", 0, n + 1)
    cut = cut if cut > 0 else n
    rest = text[cut:].strip()
    return [text[:cut].strip(), rest if len(rest) <= n else rest[: n - 1] + "..."]


def _svg(prims: list[tuple], width: int, height: int) -> str:
    from xml.sax.saxutils import escape

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="DejaVu Sans, Arial, sans-serif"><rect width="100%" height="100%" fill="white"/>'
    ]
    for kind, a, colour, size in prims:
        if kind == "line":
            out.append(
                f'<line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{a[2]:.1f}" y2="{a[3]:.1f}" stroke="{colour}" stroke-width="{size}"/>'
            )
        elif kind == "dot":
            out.append(f'<circle cx="{a[0]:.1f}" cy="{a[1]:.1f}" r="{a[2]}" fill="{colour}"/>')
        else:
            out.append(
                f'<text x="{a[0]:.1f}" y="{a[1]:.1f}" fill="{colour}" font-size="{size}" text-anchor="{a[3]}" '
                f'dominant-baseline="middle">{escape(a[2])}</text>'
            )
    out.append("</svg>")
    return "\n".join(out)


def _png(prims: list[tuple], width: int, height: int):
    from PIL import Image, ImageDraw, ImageFont

    scale = 2
    img = Image.new("RGB", (width * scale, height * scale), "white")
    draw = ImageDraw.Draw(img)
    fonts: dict[int, object] = {}
    anchors = {"start": "lm", "middle": "mm", "end": "rm"}
    for kind, a, colour, size in prims:
        if kind == "line":
            draw.line([c * scale for c in a], fill=colour, width=size * scale)
        elif kind == "dot":
            x, y, r = (v * scale for v in a)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
        else:
            font = fonts.setdefault(size, ImageFont.load_default(size=size * scale))
            draw.text((a[0] * scale, a[1] * scale), a[2], fill=colour, font=font, anchor=anchors[a[3]])
    return img


# ---------------------------------------------------------------------------- parser
def register(subparsers) -> None:
    """Add the ``trends``, ``seasonality``, ``emerging`` and ``change`` subcommands."""
    from hotspots.cli import add_filter_args, add_measure_args, add_store_arg

    p = subparsers.add_parser(
        "trends", help="monthly counts against the expected range, rolling 12 months, events"
    )
    add_filter_args(p)
    add_store_arg(p)
    add_measure_args(p)
    p.add_argument(
        "--whole-area", action="store_true", help="one series for the whole study area, not per area"
    )
    p.add_argument(
        "--by-category", action="store_true", help="one series per category (implied by --category)"
    )
    p.add_argument(
        "--conf-level", type=float, default=0.95, help="prediction interval coverage (default 0.95)"
    )
    p.add_argument(
        "--forecast", type=int, default=3, help="months to forecast, in the forecast sheet (default 3)"
    )
    p.add_argument(
        "--calendar", type=Path, default=None, help="events CSV (default: shipped Staffordshire calendar)"
    )
    p.add_argument(
        "--out", type=Path, required=True, help="output .csv or .xlsx (Excel adds comparison and forecast)"
    )
    p.set_defaults(func=cmd_trends)

    p = subparsers.add_parser("seasonality", help="month-of-year seasonal index with its interval")
    add_filter_args(p)
    add_store_arg(p)
    p.add_argument("--by", choices=("none", "category", "area", "area+category"), default="category")
    p.add_argument("--conf-level", type=float, default=0.95, help="interval coverage (default 0.95)")
    p.add_argument("--figure", type=Path, default=None, help="also draw the profile to a .png or .svg")
    p.add_argument("--title", default=None, help="figure title")
    p.add_argument("--out", type=Path, required=True, help="output .csv or .xlsx")
    p.set_defaults(func=cmd_seasonality)

    p = subparsers.add_parser(
        "emerging", help="emerging hot spots: Gi* per month + Mann-Kendall, ArcGIS categories"
    )
    add_filter_args(p)
    add_store_arg(p)
    p.add_argument(
        "--cell-size", type=float, default=None, help="grid cell in metres (default from the extent)"
    )
    p.add_argument(
        "--band", type=int, default=1, help="Gi* neighbourhood half-width in cells (default 1 = queen)"
    )
    p.add_argument("--period-months", type=int, default=1, help="months per period (default 1)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance on FDR-adjusted p (default 0.05)")
    p.add_argument("--only-patterns", action="store_true", help="leave out cells with no pattern")
    p.add_argument("--out", type=Path, required=True, help="output .csv, .xlsx, .geojson or .gpkg")
    p.set_defaults(func=cmd_emerging)

    p = subparsers.add_parser("change", help="change between two periods per area or grid cell, with a test")
    add_filter_args(p)
    add_store_arg(p)
    for name in ("before-from", "before-to", "after-from", "after-to"):
        p.add_argument(f"--{name}", required=True, metavar="YYYY-MM")
    p.add_argument("--grid", action="store_true", help="per grid cell instead of per area")
    p.add_argument("--cell-size", type=float, default=None, help="grid cell in metres with --grid")
    p.add_argument(
        "--relative-to",
        choices=("time", "overall"),
        default="time",
        help="'overall' tests each area against the change in the whole filter",
    )
    p.add_argument("--alpha", type=float, default=0.05, help="significance on FDR-adjusted p (default 0.05)")
    p.add_argument("--out", type=Path, required=True, help="output .csv, .xlsx, .geojson or .gpkg")
    p.set_defaults(func=cmd_change)
