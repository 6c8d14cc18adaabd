"""The problem-solving cycle on the command line: ``place-evaluate``, ``agenda`` and ``pack``.

``hotspots.cli`` calls :func:`register` to add the commands.

Examples
--------
::

    hotspots place-evaluate --place 1 --start 2025-07 --json
    hotspots place-evaluate --place estate.gpkg --start 2025-07 --control E05008354 --buffer-m 300
    hotspots agenda --group "Stoke North GIG" --date 2025-12 --out agenda.xlsx
    hotspots pack --group "Stoke North GIG" --date 2025-12 --out pack.pdf
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from hotspots._errors import InputError

PLACE_FILE_SUFFIXES = (".geojson", ".json", ".gpkg")


def _is_file(value: str) -> bool:
    return Path(value).suffix.lower() in PLACE_FILE_SUFFIXES or Path(value).exists()


def _polygon_from_file(path: str, geo: Any, *, what: str) -> Any:
    from hotspots.register import check_polygon, read_place_file

    gdf = read_place_file(path)
    return check_polygon(gdf, study_area=geo.study_area, name=f"{what} file {Path(path).name}")


def resolve_place(store: Any, value: str, geo: Any) -> tuple[Any, str | None]:
    """A registered place (an id) or a polygon read from a GeoJSON/GeoPackage file, and its name.

    Raises
    ------
    InputError
        If ``value`` is neither a place id of the register nor a readable place file.
    """
    if value.isdigit():
        from hotspots.register import ensure_schema, get_place

        try:
            ensure_schema(store)
        except InputError:
            raise
        except Exception as exc:  # read-only store written before the register existed
            raise InputError(
                f"--place {value}: the store holds no place register yet; add one with `hotspots places add`"
            ) from exc
        return get_place(store, int(value)), None
    if not _is_file(value):
        raise InputError(
            f"--place must be a place id from the register (hotspots places list) or a .geojson/.gpkg file; "
            f"got {value!r}"
        )
    return _polygon_from_file(value, geo, what="place"), Path(value).stem


def print_evaluation(ev: Any) -> None:
    """The evaluation in a few lines."""
    print(
        f"{ev.place_name}: before {ev.before_from} to {ev.before_to}, after {ev.after_from} to {ev.after_to}"
    )
    print(f"  ({ev.months} months each; before = {ev.window_rule})")
    print(ev.table().to_string(index=False))
    print(ev.verdict)
    print(ev.displacement)
    if not ev.too_few:
        print(
            f"effect {ev.effect * 100:+.1f}% (95% interval {ev.effect_low * 100:+.1f}% to "
            f"{ev.effect_high * 100:+.1f}%); success measure {ev.success_measure:+.4f}, buffer measure "
            f"{ev.buffer_measure:+.4f}, WDQ {ev.wdq:+.2f}, total net effect {ev.tne:+.0f} incidents"
        )
    print(f"method: {ev.method}")


# ---------------------------------------------------------------------------- commands
def cmd_place_evaluate(args: argparse.Namespace) -> int:
    """Before/after in a place against a control, with displacement into its buffer ring."""
    from hotspots.cli import open_from_args
    from hotspots.place_eval import evaluate_place

    store = open_from_args(args)
    incidents, geo = store.incidents(), store.geography()
    place, name = resolve_place(store, args.place, geo)
    control: Any = args.control
    if control is not None and _is_file(control):
        control = _polygon_from_file(control, geo, what="control")
    ev = evaluate_place(
        incidents,
        place,
        start=args.start,
        months=args.months,
        buffer_m=args.buffer_m,
        control=control,
        geography=geo,
        categories=tuple(args.category),
        name=name,
        crs=27700,
    )
    if args.json:
        print(json.dumps(ev.to_dict(), indent=2))
    else:
        print_evaluation(ev)
    return 0


def cmd_agenda(args: argparse.Namespace) -> int:
    """What changed in a group's area since its last meeting; optionally written to CSV/Excel."""
    from hotspots.agenda import meeting_agenda, record_meeting
    from hotspots.cli import open_from_args

    store = open_from_args(args, read_only=not args.record)
    agenda = meeting_agenda(store, group=args.group, date=args.date)
    print(f"{agenda.group}: meeting {agenda.date}, {agenda.area}; since {agenda.since} ({agenda.since_rule})")
    for name, df in agenda.sections().items():
        if name == "summary":
            continue
        print(f"\n{name.replace('_', ' ')} ({len(df)}):")
        print(
            df.drop(columns=["displacement"], errors="ignore").to_string(index=False)
            if len(df)
            else "  (none)"
        )
    if args.out is not None:
        agenda.write(args.out)
        print(f"\nwrote the agenda to {args.out}")
    if args.record:
        record_meeting(store, args.group, date=agenda.date)
        print(f"recorded the meeting of {agenda.group} in {agenda.date}: the next agenda starts from it")
    return 0


def cmd_pack(args: argparse.Namespace) -> int:
    """Write the meeting pack PDF."""
    from hotspots.cli import open_from_args
    from hotspots.pack import meeting_pack

    if args.out.suffix.lower() != ".pdf":
        raise InputError(f"the meeting pack is a PDF: --out must end in .pdf; got {args.out.name}")
    store = open_from_args(args)
    pdf = meeting_pack(store, group=args.group, date=args.date)
    args.out.write_bytes(pdf)
    print(f"wrote the meeting pack of {args.group} to {args.out} ({len(pdf) / 1024:,.0f} KB)")
    return 0


def register(subparsers: Any) -> None:
    """Add ``place-evaluate``, ``agenda`` and ``pack`` to the ``hotspots`` command."""
    from hotspots.cli import add_store_arg
    from hotspots.place_eval import BUFFER_M

    p = subparsers.add_parser(
        "place-evaluate",
        help="did crime fall in a place after its start, against a control, and did it move (WDQ)?",
    )
    p.add_argument(
        "--place", required=True, metavar="ID|FILE", help="register id, or a .geojson/.gpkg polygon"
    )
    p.add_argument(
        "--start", metavar="YYYY-MM", help="intervention start (default: the registered place's start)"
    )
    p.add_argument(
        "--months",
        type=int,
        help="months in each window (default: all loaded after, up to 12, and no further than the place's end)",
    )
    p.add_argument("--buffer-m", type=float, default=BUFFER_M, help="buffer ring width, metres (default 250)")
    p.add_argument(
        "--control",
        metavar="CODE|FILE",
        help="control area: district/ward/LSOA code or a polygon file (default: rest of the district)",
    )
    p.add_argument("--category", nargs="+", default=[], metavar="NAME", help="categories to count")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_store_arg(p)
    p.set_defaults(func=cmd_place_evaluate)

    p = subparsers.add_parser("agenda", help="a group's meeting agenda: what changed since the last meeting")
    p.add_argument(
        "--group", required=True, metavar="NAME", help="problem-solving group (hotspots places group)"
    )
    p.add_argument("--date", metavar="YYYY-MM", help="meeting month (default: the latest loaded month)")
    p.add_argument("--out", type=Path, help="also write the agenda to .csv or .xlsx")
    p.add_argument(
        "--record", action="store_true", help="record the meeting, so the next agenda starts from it"
    )
    add_store_arg(p)
    p.set_defaults(func=cmd_agenda)

    p = subparsers.add_parser("pack", help="the meeting pack: one A4-landscape PDF for a group's meeting")
    p.add_argument(
        "--group", required=True, metavar="NAME", help="problem-solving group (hotspots places group)"
    )
    p.add_argument("--date", metavar="YYYY-MM", help="meeting month (default: the latest loaded month)")
    p.add_argument("--out", type=Path, required=True, help="the PDF to write")
    add_store_arg(p)
    p.set_defaults(func=cmd_pack)
