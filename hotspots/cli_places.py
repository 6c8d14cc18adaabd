"""``hotspots places``: the place register on the command line (add, list, show, update, export, group).

``hotspots.cli`` calls :func:`register` to add the command. Changes are signed with the OS
user's name and kept in the register's history (:mod:`hotspots.register`).

Examples
--------
::

    hotspots places add --hotspot 1 --from 2025-07 --to 2025-12 --group "Stoke North GIG"
    hotspots places add --file estate.gpkg --name "Bentilee estate" --group "Stoke North GIG"
    hotspots places add --wards E05008354 E05008355 --name "Hanley" --group "Stoke North GIG"
    hotspots places update 1 --status active --start 2025-09 --action "Extra patrols Fri/Sat nights"
    hotspots places list --group "Stoke North GIG"
    hotspots places show 1
    hotspots places export --out places.xlsx
    hotspots places group add "Stoke North GIG" --district E06000021
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pandas as pd

from hotspots._errors import InputError


def _open(args: argparse.Namespace, *, write: bool) -> Any:
    from hotspots.cli import open_from_args
    from hotspots.register import ensure_schema

    store = open_from_args(args, read_only=not write)
    try:
        ensure_schema(store)
    except InputError:
        raise
    except Exception as exc:  # a read-only store written before the register existed
        raise InputError(
            f"the store {store.path} holds no place register yet; add a place with `hotspots places add`"
        ) from exc
    return store


def _when(ts: Any) -> str:
    return "" if ts is None or pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%d")


def _line(p: Any) -> str:
    dates = f"from {_when(p.start)}" if _when(p.start) else "no start set"
    if _when(p.end):
        dates += f" to {_when(p.end)}"
    return f"#{p.place_id} {p.name} [{p.status}] group {p.group}; {dates}; {p.geometry.area / 10_000:,.1f} ha"


# ---------------------------------------------------------------------------- commands
def cmd_add(args: argparse.Namespace) -> int:
    """Add a place from a hotspot, a file, or wards/LSOAs."""
    from hotspots import register as reg

    store = _open(args, write=True)
    if args.hotspot is not None:
        from hotspots.cli import check_categories, filter_from_args
        from hotspots.hotspot_list import find_hotspots

        incidents, geo = store.incidents(), store.geography()
        filt = filter_from_args(args)
        check_categories(incidents, filt)
        kwargs = {"split": args.split} if args.split else {}
        hl = find_hotspots(incidents, method=args.method, geography=geo, filt=filt, **kwargs)
        src = reg.place_from_hotspot(hl, args.hotspot)
    elif args.file is not None:
        gdf = reg.read_place_file(args.file)
        src = {"geometry": gdf, "name": args.file.stem, "source": f"file {args.file.name}"}
    else:
        level, codes = ("ward", args.wards) if args.wards else ("lsoa", args.lsoas)
        src = reg.place_from_areas(store.geography(), codes, level=level)
    pid = reg.add_place(
        store,
        src["geometry"],
        name=args.name or src["name"],
        group=args.group,
        status=args.status,
        start=args.start,
        end=args.end,
        source=src["source"],
        author=args.author,
    )
    print(f"added {_line(reg.get_place(store, pid))}\n  source: {src['source']}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Print the register."""
    from hotspots.register import list_places

    places = list_places(_open(args, write=False), group=args.group, status=args.status)
    if args.json:
        out = places.drop(columns="geometry").assign(area_ha=(places.geometry.area / 10_000).round(2))
        print(out.to_json(orient="records", date_format="iso", indent=2))
        return 0
    if not len(places):
        print("no places in the register" + (" for this choice" if args.group or args.status else ""))
        return 0
    for p in places.itertuples():
        print(_line(p))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print one place: state, notes and actions, history."""
    from hotspots import register as reg

    store = _open(args, write=False)
    place = reg.get_place(store, args.place_id)
    notes, hist = reg.notes(store, args.place_id), reg.history(store, args.place_id)
    geo = hist["field"] == "geometry"
    for col in ("old", "new"):
        hist.loc[geo, col] = hist.loc[geo, col].map(lambda v: None if v is None else "(polygon)")
    if args.json:
        out = place.to_dict()
        out["notes"] = json.loads(notes.to_json(orient="records", date_format="iso"))
        out["history"] = json.loads(hist.to_json(orient="records", date_format="iso"))
        print(json.dumps(out, indent=2))
        return 0
    print(_line(place))
    print(f"  source: {place.source}")
    print(f"  added {place.created_at:%Y-%m-%d %H:%M} UTC by {place.created_by}; ", end="")
    print(f"last changed {place.updated_at:%Y-%m-%d %H:%M} UTC by {place.updated_by}")
    print("\nnotes and actions:")
    for n in notes.itertuples():
        print(f"  {n.date:%Y-%m-%d} {n.kind:<6} {n.text} ({n.author})")
    if not len(notes):
        print("  (none)")
    print("\nhistory:")
    for h in hist.itertuples():
        old = "" if h.old is None else f"{h.old} → "
        print(f"  {h.changed_at:%Y-%m-%d %H:%M} {h.author}: {h.field} {old}{h.new}")
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    """Change a place and/or add a note or action."""
    from hotspots import register as reg

    store = _open(args, write=True)
    changes = {k: getattr(args, k) for k in ("name", "group", "status", "start", "end") if getattr(args, k)}
    if args.file is not None:
        changes["geometry"] = reg.read_place_file(args.file)
        changes["source"] = f"file {args.file.name}"
    if not changes and not args.note and not args.action:
        raise InputError(
            "nothing to change: give --name, --group, --status, --start, --end, --file, --note or --action"
        )
    reg.get_place(store, args.place_id)
    if changes:
        reg.update_place(store, args.place_id, author=args.author, **changes)
    for kind, text in (("note", args.note), ("action", args.action)):
        if text:
            reg.add_note(store, args.place_id, text, kind=kind, date=args.date, author=args.author)
    print(f"updated {_line(reg.get_place(store, args.place_id))}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the register to CSV, Excel, GeoJSON or GeoPackage."""
    from hotspots.register import export_places, list_places

    store = _open(args, write=False)
    path = export_places(store, args.out, group=args.group, status=args.status)
    n = len(list_places(store, group=args.group, status=args.status))
    print(f"wrote {n} places to {path}")
    return 0


def cmd_group_add(args: argparse.Namespace) -> int:
    """Add a problem-solving group and its area."""
    from hotspots.register import add_group

    level, codes = "district", []
    for lvl in ("district", "ward", "lsoa", "locality"):
        if getattr(args, lvl):
            level, codes = lvl, getattr(args, lvl)
    add_group(_open(args, write=True), args.name, level=level, codes=codes, author=args.author)
    print(f"added group {args.name}: {level} {' '.join(codes)}".rstrip())
    return 0


def cmd_group_list(args: argparse.Namespace) -> int:
    """Print the groups."""
    from hotspots.register import groups

    g = groups(_open(args, write=False))
    if not len(g):
        print("no groups yet")
    for r in g.itertuples():
        area = f"{r.level} {' '.join(r.codes)}" if isinstance(r.level, str) else "(no area set)"
        print(f"{r.group}: {area}")
    return 0


# ---------------------------------------------------------------------------- registration
def _date(value: str) -> str:
    from hotspots.register import _day

    try:
        _day(value, name="date")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return value


def register(subparsers: Any) -> None:
    """Add ``hotspots places …``."""
    from hotspots.cli import add_filter_args, add_store_arg
    from hotspots.hotspot_list import DEFAULT_METHOD, METHODS
    from hotspots.register import STATUSES

    places = subparsers.add_parser("places", help="the place register: add, list, show, update, export")
    sub = places.add_subparsers(dest="places_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        add_store_arg(p)
        p.add_argument("--author", help="who makes the change (default: your user name)")

    p = sub.add_parser("add", help="add a place from a hotspot, a GeoJSON/GPKG file, or wards/LSOAs")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--hotspot", type=int, metavar="RANK", help="the hotspot of this rank in `hotspots find`"
    )
    src.add_argument(
        "--file", type=Path, help="GeoJSON or GeoPackage with the place's outline (any stated CRS)"
    )
    src.add_argument("--wards", nargs="+", metavar="CODE", help="ward codes (E05…): their union")
    src.add_argument("--lsoas", nargs="+", metavar="CODE", help="LSOA codes (E01…): their union")
    p.add_argument(
        "--name", help="the place's name (default: the hotspot's name, the areas' names, the file name)"
    )
    p.add_argument("--group", required=True, help="the problem-solving group (meeting) that owns it")
    p.add_argument("--status", choices=STATUSES, default="proposed", help="default proposed")
    p.add_argument("--start", type=_date, metavar="YYYY-MM", help="intervention start (month or YYYY-MM-DD)")
    p.add_argument("--end", type=_date, metavar="YYYY-MM", help="intervention end")
    g = p.add_argument_group("with --hotspot: how the hotspot list is made (as `hotspots find`)")
    g.add_argument("--method", choices=METHODS, default=DEFAULT_METHOD, help=f"default {DEFAULT_METHOD}")
    g.add_argument("--split", choices=("peaks", "edges", "touching"), help="how grid cells become places")
    add_filter_args(p)
    common(p)
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("list", help="the register, one line per place")
    p.add_argument("--group", help="only this group's places")
    p.add_argument("--status", choices=STATUSES, help="only places with this status")
    p.add_argument("--json", action="store_true")
    add_store_arg(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="one place: state, notes and actions, history")
    p.add_argument("place_id", type=int, metavar="ID")
    p.add_argument("--json", action="store_true")
    add_store_arg(p)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("update", help="change a place, add a dated note or action")
    p.add_argument("place_id", type=int, metavar="ID")
    p.add_argument("--name")
    p.add_argument("--group")
    p.add_argument("--status", choices=STATUSES)
    p.add_argument("--start", type=_date, metavar="YYYY-MM")
    p.add_argument("--end", type=_date, metavar="YYYY-MM")
    p.add_argument(
        "--file", type=Path, help="a new outline (GeoJSON or GeoPackage); the old one stays in the history"
    )
    p.add_argument("--note", metavar="TEXT", help="add a dated note")
    p.add_argument("--action", metavar="TEXT", help="add a dated action")
    p.add_argument(
        "--date", type=_date, metavar="YYYY-MM-DD", help="date of the note or action (default today)"
    )
    common(p)
    p.set_defaults(func=cmd_update)

    p = sub.add_parser("export", help="write the register to .csv, .xlsx, .geojson or .gpkg")
    p.add_argument("--group", help="only this group's places")
    p.add_argument("--status", choices=STATUSES, help="only places with this status")
    p.add_argument("--out", type=Path, required=True, help="output .csv, .xlsx, .geojson or .gpkg")
    add_store_arg(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("group", help="problem-solving groups and their areas")
    gsub = p.add_subparsers(dest="group_command", required=True)
    q = gsub.add_parser("add", help="add a group and the area it covers")
    q.add_argument("name")
    area = q.add_mutually_exclusive_group()
    area.add_argument("--district", nargs="+", metavar="CODE", help="district codes (E06…/E07…)")
    area.add_argument("--ward", nargs="+", metavar="CODE", help="ward codes (E05…)")
    area.add_argument("--lsoa", nargs="+", metavar="CODE", help="LSOA codes (E01…)")
    area.add_argument("--locality", nargs="+", metavar="NAME", help="locality names")
    common(q)
    q.set_defaults(func=cmd_group_add)
    q = gsub.add_parser("list", help="the groups")
    add_store_arg(q)
    q.set_defaults(func=cmd_group_list)
