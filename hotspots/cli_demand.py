"""Command line for partner data and multi-agency demand: ``hotspots incidents`` and ``hotspots demand``."""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd

from hotspots._errors import InputError
from hotspots.store import INCIDENT_COLUMNS

#: Columns of an incident export, before the kept partner columns: the incident frame's
#: (:data:`hotspots.store.INCIDENT_COLUMNS`) less the internal ones, the data flags last.
EXPORT_COLUMNS = [
    *(c for c in INCIDENT_COLUMNS if c not in ("lsoa_code_reported", "location_id", "flags", "extra")),
    "flags",
]


def cmd_incidents(args: argparse.Namespace) -> int:
    """Write the filtered incidents, one row each, with the partner columns kept by a mapping."""
    from hotspots.cli import check_categories, filter_from_args, load
    from hotspots.export import export_table
    from hotspots.filters import expand_extra, extra_columns_of

    incidents, _ = load(args)
    filt = filter_from_args(args)
    check_categories(incidents, filt)
    sub = filt.apply(incidents)
    kept = extra_columns_of(sub)
    table = expand_extra(sub)
    table = table[
        EXPORT_COLUMNS
        + [
            c
            for c in table.columns
            if c not in EXPORT_COLUMNS and c not in ("location_id", "lsoa_code_reported")
        ]
    ]
    table = table.reset_index(drop=True)
    if args.out.suffix.lower() in (".geojson", ".gpkg"):
        table = table[table["x"].notna()]
        table = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["x"], table["y"]), crs=27700)
    export_table(
        table,
        args.out,
        params={"partner_columns": kept},
        filt=filt,
        title="Incidents",
        layer="incidents",
    )
    print(
        f"wrote {len(table):,} incidents to {args.out}" + (f" with columns {', '.join(kept)}" if kept else "")
    )
    return 0


def cmd_demand(args: argparse.Namespace) -> int:
    """Write demand per source, the composite and persistent multi-agency high demand."""
    from hotspots.cli import filter_from_args, load
    from hotspots.demand import DemandCube
    from hotspots.export import export_table

    if args.method is not None and args.unit != "place":
        raise InputError(
            f"--method applies with --unit place (the places of a hotspot list), not --unit {args.unit}"
        )
    incidents, geo = load(args)
    if args.unit == "place":
        return _place_demand(args, incidents, geo)
    filt = filter_from_args(args).replace(sources=())
    cube = DemandCube(incidents, unit=args.unit, cell_size=args.cell_size, geography=geo)
    table = cube.table(
        filt,
        sources=tuple(args.demand_sources),
        months=args.months,
        min_months=args.min_months,
        top_share=args.top_share,
        min_sources=args.min_sources,
    )
    attrs = dict(table.attrs)
    if args.out.suffix.lower() in (".geojson", ".gpkg"):
        table = cube.geometry(table)
    export_table(table, args.out, params=attrs["params"], filt=filt, title=attrs["describe"], layer="demand")
    n = int(table["persistent"].sum())
    print(f"{attrs['describe']}: {n:,} of {len(table):,} {args.unit}s are persistent; wrote {args.out}")
    return 0


def _place_demand(args: argparse.Namespace, incidents, geo) -> int:
    """``hotspots demand --unit place``: demand per source for each place of a hotspot list."""
    from hotspots.cli import filter_from_args
    from hotspots.demand import place_demand
    from hotspots.export import export_table
    from hotspots.hotspot_list import DEFAULT_METHOD, find_hotspots

    filt = filter_from_args(args)
    method = args.method or DEFAULT_METHOD
    places = find_hotspots(incidents, method=method, geography=geo, filt=filt)
    table = place_demand(
        incidents,
        places,
        sources=tuple(args.demand_sources),
        filt=filt.replace(sources=()),
        cell_size=args.cell_size,
        months=args.months,
        min_months=args.min_months,
        top_share=args.top_share,
        min_sources=args.min_sources,
    )
    params = {**table.attrs["params"], "places": f"hotspot list ({method}): {places.params['filter_text']}"}
    out = table if args.out.suffix.lower() in (".geojson", ".gpkg") else table.drop(columns="geometry")
    export_table(out, args.out, params=params, filt=filt, title=table.attrs["describe"], layer="demand")
    n = int(table["persistent"].sum())
    print(
        f"{table.attrs['describe']}: {n:,} of the {len(table):,} places of the {method} list hold a "
        f"persistent cell; wrote {args.out}"
    )
    return 0


def cmd_weights(args: argparse.Namespace) -> int:
    """Write the shipped harm weights (with their basis) as a CSV to edit and pass to --weights."""
    import shutil

    from hotspots.harm import DEFAULT_FILE, read_weights

    if args.out.suffix.lower() != ".csv":
        raise InputError(f"cannot write {args.out.name}: the weights file must end in .csv")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEFAULT_FILE, args.out)
    w = read_weights(args.out)
    print(
        f"wrote {len(w.weights)} category weights to {args.out} (ONS Crime Severity Score, median offence "
        "weight per category; see docs/demand.md); edit them, add rows for partner categories or '*,w' for "
        "every other category, then use --measure harm --weights FILE"
    )
    return 0


def register(subparsers) -> None:
    """Add the ``incidents``, ``demand`` and ``weights`` subcommands."""
    from hotspots.cli import add_filter_args, add_store_arg
    from hotspots.demand import (
        DEFAULT_CELL_SIZE,
        DEFAULT_MIN_MONTHS,
        DEFAULT_MIN_SOURCES,
        DEFAULT_MONTHS,
        DEFAULT_TOP_SHARE,
        UNITS,
    )
    from hotspots.methods import DEFAULT_METHOD, REGISTRY

    p = subparsers.add_parser(
        "demand", help="demand per source, composite and persistent multi-agency high demand"
    )
    p.add_argument(
        "--sources",
        dest="demand_sources",
        nargs="+",
        required=True,
        metavar="SOURCE",
        help="sources to compare, e.g. police.uk fly-tipping",
    )
    p.add_argument(
        "--months", type=int, default=DEFAULT_MONTHS, help=f"last N months counted (default {DEFAULT_MONTHS})"
    )
    p.add_argument(
        "--min-months",
        type=int,
        default=DEFAULT_MIN_MONTHS,
        help=f"persistent if high in at least K of them (default {DEFAULT_MIN_MONTHS})",
    )
    p.add_argument(
        "--top-share",
        type=float,
        default=DEFAULT_TOP_SHARE,
        help=f"high = in the top share of places of a source in a month (default {DEFAULT_TOP_SHARE})",
    )
    p.add_argument(
        "--min-sources",
        type=int,
        default=DEFAULT_MIN_SOURCES,
        help=f"high for at least this many sources in a month (default {DEFAULT_MIN_SOURCES})",
    )
    p.add_argument(
        "--unit",
        choices=(*UNITS, "place"),
        default="cell",
        help="micro grid cells (default), an area level, or place: the named places of the hotspot list",
    )
    p.add_argument(
        "--method",
        choices=tuple(REGISTRY),
        default=None,
        help=f"with --unit place: the method making the list (default {DEFAULT_METHOD})",
    )
    p.add_argument(
        "--cell-size", type=float, default=None, help=f"cell side in metres (default {DEFAULT_CELL_SIZE:g})"
    )
    add_filter_args(p)
    add_store_arg(p)
    p.add_argument("--out", type=Path, required=True, help="output .csv, .xlsx, .geojson or .gpkg")
    p.set_defaults(func=cmd_demand)

    p = subparsers.add_parser("weights", help="write the shipped harm weights to a CSV you can edit")
    p.add_argument("--out", type=Path, required=True, help="output .csv")
    p.set_defaults(func=cmd_weights)

    p = subparsers.add_parser(
        "incidents", help="the filtered incidents, one row each, with kept partner columns"
    )
    add_filter_args(p)
    add_store_arg(p)
    p.add_argument("--out", type=Path, required=True, help="output .csv, .xlsx, .geojson or .gpkg")
    p.set_defaults(func=cmd_incidents)
