"""The ``hotspots`` command line: monthly loads, area tables, hotspots, trends and exports.

Every command takes ``--store FILE`` (default ``$HOTSPOTS_STORE`` or ``data/hotspots.duckdb``)
and the analysis commands share the filter options of ``hotspots areas``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

import boundaries
from boundaries import Geography
from hotspots import audit
from hotspots._errors import HotspotsError, InputError
from hotspots.filters import LEVELS, Filter
from hotspots.store import Store, default_path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
#: Exit code when the reader of the output went away (``hotspots summary | head``): 128 + SIGPIPE,
#: as a shell reports a Unix tool that SIGPIPE ended.
EXIT_PIPE = 141
# modules that add their own subcommands with a `register(subparsers)` function
PLUGINS = (
    "hotspots.cli_engine",
    "hotspots.cli_trends",
    "hotspots.cli_places",
    "hotspots.cli_demand",
    "hotspots.cli_cycle",
    "hotspots.cli_boundaries",
    "hotspots.cli_access",
)


def add_store_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--store FILE``."""
    parser.add_argument(
        "--store",
        type=str,
        default=None,
        metavar="FILE|URL",
        help=f"store file or postgresql:// URL (default: $HOTSPOTS_STORE or {default_path()})",
    )


def add_filter_args(parser: argparse.ArgumentParser, *, level: bool = True) -> None:
    """Add the shared filter options (months, season, categories, sources, areas, days, hours)."""
    g = parser.add_argument_group("filter")
    g.add_argument("--from", dest="month_from", metavar="YYYY-MM", help="first month (inclusive)")
    g.add_argument("--to", dest="month_to", metavar="YYYY-MM", help="last month (inclusive)")
    g.add_argument(
        "--months-of-year",
        type=int,
        nargs="+",
        metavar="M",
        default=[],
        help="only these months of the year, e.g. 6 7 8 for summer",
    )
    g.add_argument("--category", nargs="+", default=[], metavar="NAME", help="categories to keep")
    g.add_argument(
        "--source",
        dest="sources",
        nargs="+",
        default=[],
        metavar="NAME",
        help="sources to keep (police.uk or a partner source)",
    )
    if level:
        g.add_argument("--level", choices=LEVELS, default="ward", help="area level (default: ward)")
    g.add_argument(
        "--area",
        dest="areas",
        nargs="+",
        default=[],
        metavar="CODE",
        help="area codes (or locality names) at --level to keep",
    )
    g.add_argument(
        "--day",
        dest="days_of_week",
        type=int,
        nargs="+",
        default=[],
        metavar="D",
        help="days of week 0=Mon..6=Sun (exact-time sources only)",
    )
    g.add_argument(
        "--hour",
        dest="hours",
        type=int,
        nargs="+",
        default=[],
        metavar="H",
        help="hours 0-23 (exact-time sources only)",
    )
    g.add_argument(
        "--extra",
        nargs="+",
        default=[],
        metavar="COLUMN=VALUE",
        help="values of partner columns kept by a mapping's `extra` (e.g. Speed_limit=30)",
    )


def add_measure_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--measure {count,harm}`` and ``--weights FILE`` (harm weights, hotspots.harm)."""
    g = parser.add_argument_group("measure")
    g.add_argument(
        "--measure",
        choices=("count", "harm"),
        default="count",
        help="count incidents (default) or weigh each by its category's harm (ONS Crime Severity Score)",
    )
    g.add_argument(
        "--weights",
        type=Path,
        metavar="FILE",
        help="harm weights CSV (category,weight; a row '*,w' for categories not named); "
        "default: the shipped ONS Crime Severity Score weights",
    )


def weights_from_args(args: argparse.Namespace):  # -> HarmWeights | None
    """The harm weights asked for: ``--weights FILE``, else the shipped defaults (harm only)."""
    from hotspots.harm import default_weights, read_weights

    if getattr(args, "weights", None) is not None:
        if getattr(args, "measure", "count") != "harm":
            raise InputError("--weights applies only with --measure harm")
        return read_weights(args.weights)
    return default_weights() if getattr(args, "measure", "count") == "harm" else None


def filter_from_args(args: argparse.Namespace) -> Filter:
    """Build the :class:`Filter` from parsed filter options."""
    return Filter(
        month_from=args.month_from,
        month_to=args.month_to,
        months_of_year=tuple(args.months_of_year),
        categories=tuple(args.category),
        sources=tuple(args.sources),
        level=getattr(args, "level", "ward") or "ward",
        areas=tuple(args.areas),
        days_of_week=tuple(args.days_of_week),
        hours=tuple(args.hours),
        extra=tuple(getattr(args, "extra", ()) or ()),
    )


def open_from_args(args: argparse.Namespace, *, read_only: bool = True) -> Store:
    """Open the store named by ``--store`` (or the default)."""
    return Store(args.store, read_only=read_only)


def load(args: argparse.Namespace) -> tuple[pd.DataFrame, Geography]:
    """The incident frame and geography from the store named by ``--store``.

    Raises
    ------
    InputError
        If there is no store yet.
    """
    store = open_from_args(args)
    return store.incidents(), store.geography()


def check_categories(incidents: pd.DataFrame, filt: Filter) -> None:
    """Raise if a filter names categories or sources the store does not hold."""
    for field, col in (("categories", "category"), ("sources", "source")):
        wanted = getattr(filt, field)
        have = set(incidents[col].astype(str).unique())
        unknown = [w for w in wanted if w not in have]
        if unknown:
            raise InputError(
                f"no incidents with {col} {', '.join(repr(u) for u in unknown)} in the store; "
                f"known: {', '.join(sorted(have))}"
            )


# ---------------------------------------------------------------------------- commands
def cmd_ingest(args: argparse.Namespace) -> int:
    """Load files into the store and print a summary per file."""
    from hotspots.ingest import PartnerMapping, ingest, iter_reports_lines

    store = open_from_args(args, read_only=False)
    if args.if_empty and not store.is_empty():
        print(f"store {store.path} already holds data; nothing loaded (--if-empty)")
        return EXIT_OK
    mapping = None
    if args.mapping is not None:
        mapping = PartnerMapping.from_file(args.mapping)
        if not args.source:
            raise InputError("partner data needs --source NAME (e.g. --source fly-tipping)")
    elif args.source and args.source != "police.uk":
        raise InputError("--source for partner data needs --mapping FILE describing its columns")
    if args.restricted and mapping is None:
        raise InputError(
            "--restricted marks a partner source (with --source and --mapping); police.uk data is public"
        )
    reports = ingest(args.paths, store=store, source=args.source, mapping=mapping)
    for r in reports:  # the command line acts as the local analyst
        audit.record(store, "load", detail=f"{r.file}: {r.line()}", via="cli")
    if args.restricted:
        from hotspots import disclosure

        disclosure.set_restricted(store, args.source)
    if args.json:
        print(json.dumps([r.to_dict() for r in reports], indent=2, default=str))
    else:
        for line in iter_reports_lines(reports):
            print(line)
        c = store.counts()
        print(
            f"store {store.path}: {c['incidents']:,} incidents, {c['locations']:,} locations, "
            f"{c['rejected']:,} rejected or duplicate rows kept"
        )
    failed = [r for r in reports if r.status == "failed"]
    for r in failed:
        print(f"error: {r.error}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def cmd_areas(args: argparse.Namespace) -> int:
    """Write the area table for a filter."""
    from hotspots.areas import area_table, compare_priority
    from hotspots.export import export_table

    incidents, geo = load(args)
    filt = filter_from_args(args)
    check_categories(incidents, filt)
    spatial = args.out.suffix.lower() in (".geojson", ".gpkg")
    weights = weights_from_args(args)
    table = area_table(
        incidents,
        geography=geo,
        filt=filt,
        level=args.level,
        with_geometry=spatial,
        measure=args.measure,
        weights=weights,
    )
    params = {
        "level": args.level,
        "rate": "per 1,000 usual residents (Census 2021)",
        "unplaced_incidents": table.attrs["unplaced"],
        "measure": args.measure,
    }
    if weights is not None:
        params["harm_weights"] = weights.to_dict()
    if table.attrs.get("note"):
        params["areas_note"] = table.attrs["note"]
    sheets = {}
    if args.priority:
        cmp = compare_priority(table, args.priority)
        print(cmp.sentence())
        params["priority_areas"] = list(cmp.priority_areas)
        sheets["priority"] = pd.DataFrame([cmp.__dict__])
    export_table(
        table,
        args.out,
        params=params,
        filt=filt,
        sheets=sheets,
        title=f"Incidents by {args.level}",
        layer=f"{args.level}s",
    )
    print(
        f"wrote {len(table)} {args.level}s to {args.out} ({int(table['count'].sum()):,} incidents placed, "
        f"{table.attrs['unplaced']:,} without an area)"
    )
    return EXIT_OK


def cmd_summary(args: argparse.Namespace) -> int:
    """Print what the store holds."""
    store = open_from_args(args)
    by_month = store.sql(
        "SELECT strftime(month, '%Y-%m') AS month, count(*) AS n FROM incidents GROUP BY 1 ORDER BY 1"
    )
    by_cat = store.sql("SELECT category, count(*) AS n FROM incidents GROUP BY 1 ORDER BY 2 DESC")
    by_source = store.sql("SELECT source, count(*) AS n FROM incidents GROUP BY 1 ORDER BY 2 DESC")
    flags = store.sql(
        "SELECT flags, count(*) AS n FROM incidents WHERE flags <> '' GROUP BY 1 ORDER BY 2 DESC"
    )
    rejected = store.sql(
        "SELECT kind, regexp_replace(reason, '''[^'']*''', '…', 'g') AS reason, count(*) AS n "
        "FROM rejected GROUP BY 1, 2 ORDER BY 3 DESC"
    )
    log_ = store.ingest_log()
    assigned = store.assignment_summary()
    if args.json:
        out = {
            "store": str(store.path),
            "counts": store.counts(),
            "by_month": dict(zip(by_month["month"], by_month["n"].astype(int), strict=True)),
            "by_category": dict(zip(by_cat["category"], by_cat["n"].astype(int), strict=True)),
            "by_source": dict(zip(by_source["source"], by_source["n"].astype(int), strict=True)),
            "flags": dict(zip(flags["flags"], flags["n"].astype(int), strict=True)),
            "rejected": rejected.to_dict(orient="records"),
            "assigned_by": assigned.to_dict(orient="records"),
            "ingests": json.loads(log_.to_json(orient="records", date_format="iso")),
        }
        print(json.dumps(out, indent=2, default=str))
        return EXIT_OK
    pd.set_option("display.width", 160)
    pd.set_option("display.max_colwidth", 80)
    print(f"store: {store.path}")
    for title, df in (
        ("incidents by month", by_month),
        ("by category", by_cat),
        ("by source", by_source),
        ("flagged (kept)", flags),
        ("how locations were placed in areas (docs/areas.md)", assigned),
        ("rejected and duplicate rows by reason", rejected),
    ):
        print(f"\n{title}:")
        print(df.to_string(index=False) if len(df) else "  (none)")
    print("\nload log:")
    cols = [
        "ingest_id",
        "file",
        "kind",
        "source",
        "rows_read",
        "accepted",
        "duplicate",
        "rejected",
        "no_location",
        "outside_area",
        "loaded_at",
    ]
    print(log_[cols].to_string(index=False) if len(log_) else "  (nothing loaded)")
    return EXIT_OK


def cmd_localities(args: argparse.Namespace) -> int:
    """Set or reset the localities."""
    store = open_from_args(args, read_only=False)
    if args.reset:
        print(store.set_localities(None))
        return EXIT_OK
    if args.csv is None:
        raise InputError("give a localities CSV (ward code, locality name) or --reset")
    loc = boundaries.read_localities_csv(args.csv)
    print(store.set_localities(loc, file=args.csv.name))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="hotspots", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="load police.uk CSVs, folders, archive zips or partner CSVs")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    add_store_arg(p)
    p.add_argument("--source", help="source name for partner data (with --mapping)")
    p.add_argument("--mapping", type=Path, help="TOML or JSON column mapping for partner data")
    p.add_argument("--if-empty", action="store_true", help="load only if the store holds nothing")
    p.add_argument("--json", action="store_true", help="print the load reports as JSON")
    p.add_argument(
        "--restricted",
        action="store_true",
        help="mark the partner source restricted: viewers see it only aggregated, small counts suppressed",
    )
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("areas", help="counts, rates per 1,000 and shares by area")
    add_filter_args(p)
    add_store_arg(p)
    add_measure_args(p)
    p.add_argument("--priority", nargs="+", metavar="CODE", help="priority areas to compare with the rest")
    p.add_argument("--out", type=Path, required=True, help="output .csv, .xlsx, .geojson or .gpkg")
    p.set_defaults(func=cmd_areas)

    p = sub.add_parser("summary", help="what the store holds: months, categories, rejects, load log")
    add_store_arg(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("localities", help="group wards into localities from a CSV (ward code, locality)")
    p.add_argument("csv", nargs="?", type=Path)
    p.add_argument("--reset", action="store_true", help="localities back to the districts")
    add_store_arg(p)
    p.set_defaults(func=cmd_localities)

    for name in PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def audit_export(args: argparse.Namespace) -> None:
    """Record a command's ``--out`` file in the audit log, as the local analyst.

    A store another process holds for writing cannot take the entry: that is said on stderr
    (the export itself is done). A command that reads no store (``hotspots weights --out``
    writes the shipped defaults) has nothing to record.
    """
    if not hasattr(args, "store"):
        return
    detail = {k: v for k, v in vars(args).items() if k not in ("func", "store", "verbose") and v is not None}
    try:
        with Store(args.store) as store:
            audit.record(store, "export", detail=detail, via=f"cli {args.command}")
    except (HotspotsError, OSError) as exc:
        print(f"warning: the export was not recorded in the audit log ({exc})", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    When the reader of the output goes away (``hotspots summary | head -1``), the command stops
    quietly with exit code 141, as Unix tools ended by SIGPIPE do, instead of a
    ``BrokenPipeError`` traceback. A load has committed before it prints, so it is kept.
    """
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
        try:
            code = int(args.func(args) or 0)
            if code == EXIT_OK and getattr(args, "out", None) is not None:
                audit_export(args)
        except HotspotsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            code = EXIT_FAILED
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _stdout_to_devnull()
        return EXIT_PIPE
    except SystemExit:  # argparse's --help and usage errors
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _stdout_to_devnull()
        raise


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null so that Python's final flush does not fail on the closed pipe."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
    except (OSError, ValueError):  # stdout is not a real file (e.g. captured in tests)
        pass


if __name__ == "__main__":
    raise SystemExit(main())
