"""Command line for who sees what: ``hotspots restrict``, ``hotspots disclosure`` and ``hotspots audit``.

The command line acts as the local analyst (the OS user): what it changes is recorded in the
audit log under that name.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hotspots import audit, disclosure
from hotspots._errors import InputError


def cmd_restrict(args: argparse.Namespace) -> int:
    """Mark partner sources restricted (or lift it with --lift); list them without names."""
    from hotspots.cli import open_from_args

    store = open_from_args(args, read_only=False)
    if args.sources:
        known = set(store.sql("SELECT DISTINCT source FROM incidents")["source"].astype(str))
        unknown = [s for s in args.sources if s not in known]
        if unknown:
            raise InputError(
                f"no incidents with source {', '.join(map(repr, unknown))} in the store; "
                f"known: {', '.join(sorted(known)) or '(none)'}"
            )
        for source in args.sources:
            disclosure.set_restricted(store, source, not args.lift)
    now = sorted(disclosure.restricted_sources(store))
    print("restricted sources: " + (", ".join(now) if now else "none"))
    return 0


def cmd_disclosure(args: argparse.Namespace) -> int:
    """Print the disclosure rule in force; with any option, store a new one (audited)."""
    from hotspots.cli import open_from_args

    store = open_from_args(args, read_only=False)
    rule = disclosure.stored_rule(store)
    wanted = {k: getattr(args, k) for k in ("low", "high", "method", "base") if getattr(args, k) is not None}
    if wanted:
        new = disclosure.Rule(**{**rule.__dict__, **wanted})
        if new != rule:
            disclosure.set_rule(store, new)
        rule = new
    print(f"disclosure rule: {rule.describe()}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """Print the audit log, or write it to --out (CSV or Excel)."""
    from hotspots.cli import open_from_args

    store = open_from_args(args, read_only=False)
    log = audit.entries(store, action=args.action, user=args.user, limit=args.limit)
    if args.out is None:
        print(log.to_string(index=False) if len(log) else "the audit log is empty")
    elif args.out.suffix.lower() == ".xlsx":
        log.to_excel(args.out, index=False)
    elif args.out.suffix.lower() == ".csv":
        log.to_csv(args.out, index=False)
    else:
        raise InputError(f"--out must end in .csv or .xlsx; got {args.out.name!r}")
    return 0


def register(subparsers) -> None:
    """Add the ``restrict`` and ``audit`` subcommands."""
    from hotspots.cli import add_store_arg

    p = subparsers.add_parser(
        "restrict",
        help="mark partner sources restricted: viewers see them only aggregated, small counts suppressed",
    )
    p.add_argument("sources", nargs="*", help="source names as loaded (none: list the restricted ones)")
    p.add_argument("--lift", action="store_true", help="lift the restriction instead")
    add_store_arg(p)
    p.set_defaults(func=cmd_restrict)

    p = subparsers.add_parser(
        "disclosure",
        help="show or set how viewers see counts from restricted sources (suppress 1-4, or round)",
    )
    p.add_argument("--low", type=int, default=None, help="smallest count withheld (default 1)")
    p.add_argument("--high", type=int, default=None, help="largest count withheld (default 4)")
    p.add_argument("--method", choices=disclosure.METHODS, default=None, help="suppress (default) or round")
    p.add_argument("--base", type=int, default=None, help="rounding base for --method round (default 5)")
    add_store_arg(p)
    p.set_defaults(func=cmd_disclosure)

    p = subparsers.add_parser(
        "audit", help="the audit log: sign-ins, loads, exports, setting and role changes"
    )
    p.add_argument("--action", choices=audit.ACTIONS, default=None, help="only this action")
    p.add_argument("--user", default=None, help="only this user")
    p.add_argument("--limit", type=int, default=None, help="at most this many entries, newest first")
    p.add_argument("--out", type=Path, default=None, help="write to .csv or .xlsx instead of printing")
    add_store_arg(p)
    p.set_defaults(func=cmd_audit)
