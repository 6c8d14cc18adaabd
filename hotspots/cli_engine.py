"""Hotspot subcommands of the ``hotspots`` command line: ``find``, ``surface`` and ``evaluate``.

``hotspots.cli`` calls :func:`register` to add them. Every command takes the shared filter
options of ``hotspots areas`` and ``--store FILE``; every default chosen from the data is
printed and written into the export.

Examples
--------
::

    hotspots find --from 2025-07 --to 2025-12 --out hotspots.xlsx
    hotspots find --method kde --bandwidth-rule silverman --from 2025-07 --to 2025-12 --out kde.xlsx
    hotspots find --method dbscan --eps 150 --category "Anti-social behaviour" --out asb.gpkg
    hotspots find --measure harm --weights my_weights.csv --out harm.xlsx
    hotspots surface --method gistar --cell-size 500 --out gistar.csv
    hotspots evaluate --method count eb_count kde dbscan --train-from 2025-01 --train-to 2025-09 --test-from 2025-10 --test-to 2025-12
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from hotspots._errors import InputError

SURFACE_METHODS = ("count", "eb_count", "kde", "gistar")
SURFACE_COLUMNS = ["cell_id", "x", "y", "count", "value", "p", "q", "bin"]
#: Command-line option → keyword argument, for the method options.
METHOD_OPTIONS = {
    "cell_size": "cell_size",
    "half_life": "half_life",
    "bandwidth": "bandwidth",
    "kernel": "kernel",
    "bandwidth_rule": "bandwidth_rule",
    "multiplier": "multiplier",
    "top_share": "top_share",
    "band": "band",
    "alpha": "alpha",
    "permutations": "permutations",
    "seed": "seed",
    "eps": "eps",
    "min_samples": "min_samples",
    "buffer": "buffer",
    "top_n": "top_n",
    "max_place_km2": "max_place_km2",
}


def _cell_size(text: str) -> float | str:
    """``--cell-size``: metres, or a rule name (``micro``, ``display``)."""
    if text in ("micro", "display"):
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected metres (such as 125) or a rule: micro or display; got {text!r}"
        ) from None


def _add_method_options(p: argparse.ArgumentParser, *, which: tuple[str, ...]) -> None:
    g = p.add_argument_group("method options (left empty: chosen from the data and reported)")
    if "grid" in which:
        g.add_argument(
            "--cell-size",
            type=_cell_size,
            metavar="M",
            help="grid cell size in metres, or micro (hotspot places and evaluation: 125 m) or display "
            "(about 50 cells on the shorter side: surfaces, and the old default for places)",
        )
    if "places" in which:
        g.add_argument(
            "--max-place-km2",
            type=float,
            metavar="KM2",
            help="largest place before it is split at its peaks (default 0.5 km², none with "
            "--cell-size display)",
        )
    if "eb_count" in which:
        g.add_argument(
            "--half-life",
            type=float,
            metavar="MONTHS",
            help="eb_count: months after which an incident weighs half (default 6)",
        )
    if "kde" in which:
        g.add_argument("--bandwidth", type=float, metavar="M", help="KDE bandwidth in metres")
        g.add_argument("--kernel", choices=("quartic", "gaussian"), help="KDE kernel (default quartic)")
        g.add_argument(
            "--bandwidth-rule",
            choices=("cell", "silverman", "normal_reference"),
            help="rule for the default KDE bandwidth (default cell: one cell side)",
        )
        g.add_argument("--multiplier", type=float, metavar="X", help="factor on the rule's bandwidth")
    if "top_share" in which:
        g.add_argument(
            "--top-share",
            type=float,
            metavar="S",
            help="share of the area's cells kept as hotspots (eb_count, kde, count)",
        )
    if "gistar" in which:
        g.add_argument(
            "--band", type=int, metavar="K", help="Gi* window half-width in cells (default 1: queen)"
        )
    if "gistar_full" in which:
        g.add_argument("--alpha", type=float, help="Gi* significance level after FDR (default 0.05)")
        g.add_argument("--permutations", type=int, metavar="N", help="Gi* permutations for pseudo p-values")
        g.add_argument("--seed", type=int, help="seed for the permutations")
    if "dbscan" in which:
        g.add_argument("--eps", type=float, metavar="M", help="DBSCAN radius in metres")
        g.add_argument("--min-samples", type=int, metavar="N", help="DBSCAN incidents within eps for a core")
    if "dbscan_full" in which:
        g.add_argument(
            "--buffer", type=float, metavar="M", help="buffer around cluster hulls (default eps/2)"
        )
    if "repeat" in which:
        g.add_argument(
            "--top-n", type=int, metavar="N", help="locations listed by the repeat method (default 20)"
        )


def _method_kwargs(args: argparse.Namespace, allowed: set[str] | None = None) -> dict[str, Any]:
    out = {}
    for opt, kw in METHOD_OPTIONS.items():
        value = getattr(args, opt, None)
        if value is not None and (allowed is None or kw in allowed):
            out[kw] = value
    return out


#: The parameters a command prints after its run (those the result holds), in this order.
CHOSEN_KEYS = (
    "cell_size_m",
    "half_life_months",
    "prior_strength",
    "bandwidth_m",
    "bandwidth_rule",
    "kernel",
    "top_share",
    "band_cells",
    "alpha",
    "eps_m",
    "min_samples",
    "top_n",
    "split",
)


def _chosen(params: dict[str, Any], *, exclude: tuple[str, ...] = ()) -> str:
    """``key=value`` for the chosen parameters in ``params`` (:data:`CHOSEN_KEYS` less ``exclude``)."""
    parts = []
    for k in (k for k in CHOSEN_KEYS if k not in exclude):
        if k in params and params[k] is not None:
            v = params[k]
            parts.append(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}")
    return ", ".join(parts)


# ---------------------------------------------------------------------------- find
def cmd_find(args: argparse.Namespace) -> int:
    """Write the ranked hotspot list."""
    from hotspots.cli import check_categories, filter_from_args, load, weights_from_args
    from hotspots.export import export_table
    from hotspots.hotspot_list import find_hotspots

    weights = weights_from_args(args)
    incidents, geo = load(args)
    filt = filter_from_args(args)
    check_categories(incidents, filt)
    kwargs = _method_kwargs(args)
    if args.split is not None:
        kwargs["split"] = args.split
    hl = find_hotspots(
        incidents,
        method=args.method,
        geography=geo,
        filt=filt,
        measure=args.measure,
        weights=weights,
        **kwargs,
    )
    params = hl.params
    table = hl if args.out.suffix.lower() in (".geojson", ".gpkg") else hl.drop(columns="geometry")
    export_table(
        table,
        args.out,
        params=params,
        filt=filt,
        title=f"Hotspots ({args.method}{', by harm' if weights is not None else ''}): {filt.describe()}",
        layer="hotspots",
    )
    chosen = _chosen(params)
    print(f"{args.method}: {chosen}" if chosen else args.method)
    if weights is not None:
        print(f"ranked by harm; {weights.describe()}")
    if "note" in params:
        print(params["note"])
    print(
        f"wrote {len(hl)} hotspots to {args.out} ({params['n_incidents']:,} incidents with a location; "
        f"{params['n_left_off']:,} without a location left off)"
    )
    return 0


# ---------------------------------------------------------------------------- surface
def cmd_surface(args: argparse.Namespace) -> int:
    """Write a grid surface: one row per cell of the study area."""
    from hotspots.cli import check_categories, filter_from_args, load, weights_from_args
    from hotspots.eb import eb_count
    from hotspots.export import export_table
    from hotspots.gistar import gistar
    from hotspots.grid import CELL_SIZE_TEXT, analysis_cell_size, make_grid
    from hotspots.hotspot_list import study_area_for
    from hotspots.kde import kde
    from hotspots.repeat import located_mask

    weights = weights_from_args(args)
    incidents, geo = load(args)
    filt = filter_from_args(args)
    check_categories(incidents, filt)
    for opt, methods in (
        ("half_life", ("eb_count",)),
        ("bandwidth", ("kde",)),
        ("kernel", ("kde",)),
        ("bandwidth_rule", ("kde",)),
        ("multiplier", ("kde",)),
        ("band", ("gistar",)),
        ("alpha", ("gistar",)),
        ("permutations", ("gistar",)),
        ("seed", ("gistar",)),
    ):
        if getattr(args, opt, None) is not None and args.method not in methods:
            raise InputError(
                f"--{opt.replace('_', '-')} applies to --method {' or '.join(methods)}, not {args.method}"
            )
    area = study_area_for(geo, filt)
    cell = args.cell_size
    rule = "user" if cell is not None else "display"
    if isinstance(cell, str):
        cell, rule = analysis_cell_size(area, cell)
    grid = make_grid(area, cell_size=cell if cell is not None else None)
    sel = filt.apply(incidents)
    has = located_mask(sel)
    x = sel["x"].to_numpy(dtype=float)[has]
    y = sel["y"].to_numpy(dtype=float)[has]
    w = weights.of(sel[has]) if weights is not None else None  # harm: each incident its weight
    counts = grid.counts(x, y)
    harm = grid.counts(x, y, w) if w is not None else counts
    params: dict[str, Any] = {
        "method": args.method,
        **grid.describe(),
        "cell_size_rule": CELL_SIZE_TEXT[rule],
        "n_incidents": int(has.sum()),
        "n_left_off": int((~has).sum()),
        "measure": args.measure,
    }
    if weights is not None:
        params["harm_weights"] = weights.to_dict()
    nan = np.full(grid.shape, np.nan)
    values = {"count": counts, "value": harm, "p": nan, "q": nan, "bin": np.zeros(grid.shape, dtype=int)}
    if w is not None:
        values["harm"] = harm
    if args.method == "eb_count":
        res = eb_count(
            x,
            y,
            grid=grid,
            months=sel["month"].to_numpy()[has],
            reference_month=filt.month_to,
            weights=w,
            **_method_kwargs(args, {"half_life"}),
        )
        values["value"] = res.score
        params.update({k: v for k, v in res.params.items() if k not in ("method", "cell_size_m")})
        params["value"] = "recent count smoothed towards the neighbouring cells (empirical Bayes)"
    elif args.method == "kde":
        kw = {
            k: v
            for k, v in _method_kwargs(args, {"bandwidth", "kernel", "bandwidth_rule", "multiplier"}).items()
        }
        res = kde(x, y, grid=grid, weights=w, **kw)
        values["value"] = res.density
        params.update(
            {
                k: v
                for k, v in res.params.items()
                if k not in ("method", "cell_size_m", "n_incidents", "n_left_off")
            }
        )
        params["value"] = "kernel density, incidents per km² at the cell centre"
    elif args.method == "gistar":
        kw = _method_kwargs(args, {"band", "alpha", "permutations", "seed"})
        res = gistar(harm, mask=grid.mask, **kw)
        values.update({"value": res.z, "p": res.p, "q": res.q, "bin": res.bin})
        if res.p_sim is not None:
            values["p_sim"] = res.p_sim
        params.update({k: v for k, v in res.params.items() if k != "method"})
        params["value"] = "Gi* z-score; q = Benjamini-Hochberg adjusted p; bin = ±3/2/1 for 99/95/90% (FDR)"
    else:
        params["value"] = "incidents per cell"
    if w is not None:
        params["value"] += " (each incident weighed by its category's harm weight)"
    spatial = args.out.suffix.lower() in (".geojson", ".gpkg")
    table = grid.to_geodataframe(values, clip=spatial)
    if not spatial:
        table = table.drop(columns="geometry")
    export_table(table, args.out, params=params, filt=filt, title=f"Surface ({args.method})", layer="surface")
    chosen = _chosen(params, exclude=("top_share", "alpha", "eps_m", "min_samples", "top_n", "split"))
    print(f"{args.method}: {chosen}")
    print(
        f"wrote {len(table):,} cells to {args.out} ({params['n_incidents']:,} incidents with a location; "
        f"{params['n_left_off']:,} without a location left off)"
    )
    return 0


# ---------------------------------------------------------------------------- evaluate
def cmd_evaluate(args: argparse.Namespace) -> int:
    """Print hit rate, area share, PAI, PEI and RRI for each method."""
    from hotspots.cli import check_categories, filter_from_args, load, weights_from_args
    from hotspots.evaluate import SCORE_PARAMS, evaluate

    if args.month_from or args.month_to:
        raise InputError("evaluate takes --train-from/--train-to and --test-from/--test-to, not --from/--to")
    weights = weights_from_args(args)
    incidents, geo = load(args)
    base = filter_from_args(args)
    check_categories(incidents, base)
    train = base.replace(month_from=args.train_from, month_to=args.train_to)
    test = base.replace(month_from=args.test_from, month_to=args.test_to)
    results = []
    for method in args.method:
        opts = _method_kwargs(args, set(SCORE_PARAMS[method]))
        r = evaluate(
            incidents,
            method=method,
            train=train,
            test=test,
            area_share=args.area_share,
            geography=geo,
            cell_size=args.cell_size,
            measure=args.measure,
            weights=weights,
            **opts,
        )
        results.append(r)
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], indent=2, default=_json_default))
        return 0
    print(f"train: {train.describe()}\ntest:  {test.describe()}")
    unit = "test incidents"
    if weights is not None:
        print(f"measured by harm (hit rate = share of the test period's harm caught); {weights.describe()}")
        unit = "harm of the test incidents"
    for r in results:
        extra = _chosen(r["params"], exclude=("kernel", "top_share", "alpha", "top_n", "split"))
        print(f"\n{r['method']} ({extra})")
        for key in ("hit_rate", "area_share", "pai", "pei", "rri"):
            print(f"  {key:<10} {r[key]:.4f}")
        print(
            f"  {r['hits']:,.0f} of {r['n_test']:,.0f} {unit} in "
            f"{r['cells_selected']} of {r['n_cells']} cells"
        )
    return 0


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def _month(value: str) -> str:
    from hotspots.filters import parse_month

    try:
        parse_month(value, name="month")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return value


# ---------------------------------------------------------------------------- registration
def register(subparsers: Any) -> None:
    """Add the ``find``, ``surface`` and ``evaluate`` subcommands."""
    from hotspots.cli import add_filter_args, add_measure_args, add_store_arg
    from hotspots.evaluate import METHODS as EVAL_METHODS
    from hotspots.hotspot_list import DEFAULT_METHOD, METHODS

    p = subparsers.add_parser(
        "find",
        help="ranked hotspot list: smoothed recent counts, KDE, DBSCAN, Gi*, repeat locations or counts",
    )
    p.add_argument(
        "--method",
        choices=METHODS,
        default=DEFAULT_METHOD,
        help=f"default {DEFAULT_METHOD}: recent counts smoothed towards their neighbours (empirical Bayes)",
    )
    _add_method_options(
        p,
        which=(
            "grid",
            "places",
            "eb_count",
            "kde",
            "top_share",
            "gistar",
            "gistar_full",
            "dbscan",
            "dbscan_full",
            "repeat",
        ),
    )
    p.add_argument(
        "--split",
        choices=("peaks", "edges", "touching"),
        default=None,
        help="how top grid cells become places: peaks (default: one place per peak, joined along edges), "
        "edges (cells sharing an edge), touching (edge or corner)",
    )
    add_filter_args(p)
    add_store_arg(p)
    add_measure_args(p)
    p.add_argument("--out", type=Path, required=True, help="output .csv, .xlsx, .geojson or .gpkg")
    p.set_defaults(func=cmd_find)

    p = subparsers.add_parser(
        "surface", help="grid surface for QGIS: counts, smoothed counts, KDE density or Gi* z per cell"
    )
    p.add_argument("--method", choices=SURFACE_METHODS, default="kde", help="default kde")
    _add_method_options(p, which=("grid", "eb_count", "kde", "gistar", "gistar_full"))
    add_filter_args(p)
    add_store_arg(p)
    add_measure_args(p)
    p.add_argument("--out", type=Path, required=True, help="output .csv or .gpkg (also .xlsx, .geojson)")
    p.set_defaults(func=cmd_surface)

    p = subparsers.add_parser("evaluate", help="hit rate, PAI, PEI and RRI of hotspots on a later period")
    p.add_argument(
        "--method",
        choices=EVAL_METHODS,
        nargs="+",
        default=[DEFAULT_METHOD],
        help=f"one or more methods compared on the same split (default {DEFAULT_METHOD})",
    )
    p.add_argument("--train-from", type=_month, required=True, metavar="YYYY-MM")
    p.add_argument("--train-to", type=_month, required=True, metavar="YYYY-MM")
    p.add_argument("--test-from", type=_month, required=True, metavar="YYYY-MM")
    p.add_argument("--test-to", type=_month, required=True, metavar="YYYY-MM")
    p.add_argument(
        "--area-share", type=float, default=0.01, help="share of the area as hotspots (default 0.01)"
    )
    _add_method_options(p, which=("grid", "eb_count", "kde", "gistar", "dbscan"))
    add_filter_args(p)
    add_store_arg(p)
    add_measure_args(p)
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_evaluate)
