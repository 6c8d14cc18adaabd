"""``hotspots boundaries``: choose the study area, or use a user's own LSOA boundaries.

    hotspots boundaries --csp "cheshire east" [--csp ...]   # one or more partnerships
    hotspots boundaries --force Cheshire                    # a police force area
    hotspots boundaries --district Stoke                    # districts
    hotspots boundaries FILE                                # your own 2021 LSOA boundaries
    hotspots boundaries --reset                             # back to Staffordshire and Stoke-on-Trent
    hotspots boundaries --list csp|force|district           # the names to choose from
    hotspots boundaries --show                              # the study area now, and the vintages

Every stored location is re-assigned in one transaction (:func:`hotspots.assign.set_geography`):
a failure leaves the store as it was.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import boundaries
from hotspots._errors import InputError

EXIT_OK = 0


def _summary(geo: boundaries.Geography) -> str:
    lsoas = geo.boundary_lsoas
    return (
        f"{geo.name}: {len(lsoas):,} LSOAs, {lsoas['ward_code'].nunique():,} wards, "
        f"{lsoas['district_code'].nunique():,} districts, {int(lsoas['population'].sum()):,} residents"
    )


def cmd_boundaries(args: argparse.Namespace) -> int:
    """Choose the study area (partnerships, forces, districts, a file) or show it."""
    from hotspots.assign import set_geography
    from hotspots.cli import open_from_args

    if args.list:
        table = boundaries.areas_of_kind(args.list)
        for code, name in zip(table["code"], table["name"], strict=True):
            print(f"{code}\t{name}")
        return EXIT_OK
    chosen = bool(args.csp or args.force or args.district)
    if sum([chosen, args.file is not None, args.reset]) > 1:
        raise InputError("give one of: --csp/--force/--district (any together), a FILE, or --reset")
    if args.show:
        store = open_from_args(args, read_only=True)
        print("study area now: " + _summary(store.geography()))
        for level, vintage in boundaries.VINTAGES.items():
            print(f"{level}: {vintage}")
        return EXIT_OK
    if args.reset:
        store = open_from_args(args, read_only=False)
        n = set_geography(store, None)
        print(f"shipped Staffordshire geography restored; {n:,} locations re-assigned")
        return EXIT_OK
    if chosen:
        geo = boundaries.study_area(csp=args.csp, force=args.force, district=args.district)
        if args.name:
            geo = boundaries.Geography(lsoas=geo.lsoas, name=args.name)
    elif args.file is not None:
        geo = boundaries.geography_from_lsoas(args.file, code_field=args.code_field, name=args.name)
    else:
        raise InputError(
            "choose the study area with --csp, --force or --district (names or codes), give a 2021 LSOA "
            "boundary file (GeoJSON, GeoPackage or zipped Shapefile), or --reset"
        )
    store = open_from_args(args, read_only=False)
    n = set_geography(store, geo)
    print(f"study area set to {_summary(geo)}; {n:,} locations re-assigned")
    return EXIT_OK


def register(subparsers) -> None:
    """Add the ``boundaries`` subcommand."""
    from hotspots.cli import add_store_arg

    p = subparsers.add_parser(
        "boundaries",
        help="choose the study area: partnerships, a force or districts (England and Wales), or your own LSOAs",
    )
    p.add_argument("file", nargs="?", type=Path, help="your own 2021 LSOA boundary file")
    p.add_argument("--csp", action="append", help="a community safety partnership, name or code (repeatable)")
    p.add_argument("--force", action="append", help="a police force area, name or code (repeatable)")
    p.add_argument(
        "--district", action="append", help="a local authority district, name or code (repeatable)"
    )
    p.add_argument("--code-field", help="with FILE: column with the LSOA 2021 code (default LSOA21CD)")
    p.add_argument("--name", help="a name for the study area")
    p.add_argument("--reset", action="store_true", help="back to the shipped Staffordshire geography")
    p.add_argument("--list", choices=list(boundaries.KINDS), help="list the areas of a kind and stop")
    p.add_argument("--show", action="store_true", help="the study area now and the vintage of each level")
    add_store_arg(p)
    p.set_defaults(func=cmd_boundaries)
