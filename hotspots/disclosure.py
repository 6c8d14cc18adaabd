"""Small-number disclosure control for restricted partner sources.

Partner data (council ASB case records, victim-related service data) can come under a
data-sharing agreement that forbids publishing small counts: a count of 2 ASB cases in a
street can identify a household. A source is marked *restricted* in the store
(:func:`set_restricted`, recorded in the audit log); for viewers, counts drawn from restricted
sources go through :func:`protect` before they are shown or exported:

* **primary suppression**: counts from ``low`` to ``high`` (default 1 to 4, the threshold
  most UK data-sharing agreements and the ONS use for small-area crime counts) are withheld;
  0 is shown (nothing to disclose);
* **secondary suppression**: a withheld cell must not be recoverable from the totals, so in
  every row and every column (whose totals are shown) that has exactly one withheld cell, the
  smallest other non-zero cell is withheld too, repeated until no line has exactly one;
* or **rounding** (``method="round"``): every count, totals included, to the nearest multiple
  of ``base`` (default 5), with counts from ``low`` to ``high`` shown as ``base``, so no small
  count is shown exactly and totals do not give one away.

police.uk data is public already and is never passed through this module. Point layers from
restricted sources are never shown to viewers (:func:`public_points`).

The rule in force is stored in the store (:func:`stored_rule`, :func:`set_rule`, audited as
``disclosure``); a withheld cell is shown as :data:`SUPPRESSED` (``[c]``, the Government
Statistical Service's mark for a confidential value) on screen and in exports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hotspots._errors import InputError
from hotspots.filters import Filter
from hotspots.store import Store

METHODS = ("suppress", "round")
POLICE_SOURCE = "police.uk"
#: How a withheld count is written on screen and in exports (GSS guidance: "[c]", confidential).
SUPPRESSED = "[c]"
RULE_SCHEMA = """
CREATE TABLE IF NOT EXISTS disclosure_settings (
    low INTEGER NOT NULL,
    high INTEGER NOT NULL,
    method VARCHAR NOT NULL,
    base INTEGER NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    changed_by VARCHAR NOT NULL
)
"""
SCHEMA = """
CREATE TABLE IF NOT EXISTS source_settings (
    source VARCHAR NOT NULL,
    restricted BOOLEAN NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    changed_by VARCHAR NOT NULL
)
"""


@dataclass(frozen=True)
class Rule:
    """How small counts are protected.

    Attributes
    ----------
    low, high
        Counts from ``low`` to ``high`` are small (default 1 to 4).
    method
        ``suppress`` (withhold, with secondary suppression) or ``round``.
    base
        The rounding base for ``round`` (default 5).
    """

    low: int = 1
    high: int = 4
    method: str = "suppress"
    base: int = 5

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"disclosure method must be one of {', '.join(METHODS)}; got {self.method!r}")
        if not 1 <= self.low <= self.high:
            raise InputError(
                f"disclosure threshold must satisfy 1 <= low <= high; got low={self.low}, high={self.high}"
            )
        if self.base < 2:
            raise InputError(f"rounding base must be at least 2; got {self.base}")

    def describe(self) -> str:
        """The rule in words, for the page and the export."""
        if self.method == "round":
            return (
                f"counts from restricted partner sources are rounded to the nearest {self.base} "
                f"(counts of {self.low} to {self.high} shown as {self.base})"
            )
        return (
            f"counts of {self.low} to {self.high} from restricted partner sources are suppressed (shown "
            f"as {SUPPRESSED}), with further cells suppressed so that they cannot be worked out from the totals"
        )


@dataclass(frozen=True)
class Protected:
    """A protected table and what was done to it.

    Attributes
    ----------
    table
        The counts as they may be shown: nullable integers, ``<NA>`` where withheld; with a
        ``Total`` row and column (from the unprotected counts, rounded under ``round``).
    primary, secondary
        Boolean frames (same shape as the input): cells withheld for being small, and cells
        withheld so that those cannot be recovered.
    note
        The sentence to state on the page and in the export.
    """

    table: pd.DataFrame
    primary: pd.DataFrame
    secondary: pd.DataFrame
    note: str

    def text(self) -> pd.DataFrame:
        """The table as text: counts as digits, withheld cells as :data:`SUPPRESSED`."""
        return as_text(self.table)


def as_text(table: pd.DataFrame) -> pd.DataFrame:
    """Counts as text (``"12"``), withheld (missing) counts as :data:`SUPPRESSED` (``"[c]"``)."""
    return table.apply(lambda col: col.map(lambda v: SUPPRESSED if pd.isna(v) else str(int(v))))


def _round(values: np.ndarray, rule: Rule) -> np.ndarray:
    out = (np.floor(values / rule.base + 0.5) * rule.base).astype(np.int64)
    small = (values >= rule.low) & (values <= rule.high)
    out[small] = rule.base
    return out


def protect(counts: pd.DataFrame | pd.Series, *, rule: Rule | None = None) -> Protected:
    """Protect a table of counts (rows x columns) drawn from restricted sources.

    Parameters
    ----------
    counts
        Non-negative integer counts; a Series is one column. Row and column totals are
        published with the table, so secondary suppression protects against both.
    rule
        The :class:`Rule`; ``None``: suppress 1 to 4.

    Returns
    -------
    Protected

    Raises
    ------
    InputError
        If a count is negative, missing or not a whole number.

    Notes
    -----
    Secondary suppression withholds, in each row or column with exactly one withheld cell,
    the smallest other non-zero cell (the cheapest to lose, the usual heuristic); it repeats
    until every row and column has none or at least two withheld cells. Zeros are shown, so a
    withheld cell is known to be at least 1: a line whose withheld cells are all 1s (their
    sum, read from the total, equals their number) is treated as exposed too. A line whose only
    non-zero cells are withheld already cannot be protected further except by withholding its
    total; its total is withheld then.
    """
    rule = rule or Rule()
    frame = counts.to_frame() if isinstance(counts, pd.Series) else counts
    values = frame.to_numpy(dtype=float)
    if np.isnan(values).any() or (values < 0).any() or (values != np.round(values)).any():
        raise InputError("counts must be whole numbers of 0 or more, with no missing values")
    values = values.astype(np.int64)
    primary = (values >= rule.low) & (values <= rule.high)
    secondary = np.zeros_like(primary)
    row_total = values.sum(axis=1)
    col_total = values.sum(axis=0)
    if rule.method == "round":
        shown = pd.DataFrame(_round(values, rule), index=frame.index, columns=frame.columns).astype("Int64")
        shown["Total"] = _round(row_total, rule)
        total = pd.DataFrame([[*_round(col_total, rule), int(_round(np.array([values.sum()]), rule)[0])]])
        total.index, total.columns = ["Total"], shown.columns
        table = pd.concat([shown, total.astype("Int64")])
        if isinstance(counts, pd.Series):
            table = table.drop(columns="Total")
        return Protected(table, _frame(primary, frame), _frame(secondary, frame), rule.describe() + ".")
    hidden = primary.copy()
    hide_row_total = np.zeros(len(values), dtype=bool)
    hide_col_total = np.zeros(values.shape[1], dtype=bool)
    for _ in range(values.size + 1):
        changed = False
        for axis in (1, 0):  # rows, then columns
            lines = hidden if axis == 1 else hidden.T
            vals = values if axis == 1 else values.T
            n_hidden = lines.sum(axis=1)
            # exposed: one withheld cell (total minus the rest gives it), or withheld cells that sum
            # to their number (zeros are shown, so each withheld cell is at least 1: all are 1)
            exposed = (n_hidden == 1) | ((n_hidden >= 2) & ((vals * lines).sum(axis=1) == n_hidden))
            for i in np.flatnonzero(exposed):
                candidates = np.flatnonzero(~lines[i] & (vals[i] > 0))
                if len(candidates) == 0:
                    (hide_row_total if axis == 1 else hide_col_total)[i] = True
                    continue
                j = candidates[np.argmin(vals[i][candidates])]
                if axis == 1:
                    hidden[i, j] = secondary[i, j] = True
                else:
                    hidden[j, i] = secondary[j, i] = True
                changed = True
        if not changed:
            break
    shown = pd.DataFrame(values, index=frame.index, columns=frame.columns).astype("Int64").mask(hidden)
    shown["Total"] = pd.array(row_total, dtype="Int64")
    shown.loc[hide_row_total, "Total"] = pd.NA
    tot = pd.array([*col_total, values.sum()], dtype="Int64")
    tot[np.flatnonzero(hide_col_total)] = pd.NA
    total_row = pd.DataFrame([list(tot)], index=["Total"], columns=shown.columns).astype("Int64")
    table = pd.concat([shown, total_row])
    if isinstance(counts, pd.Series):  # one column: its "Total" column would repeat it
        table = table.drop(columns="Total")
    n1, n2 = int(primary.sum()), int(secondary.sum())
    note = rule.describe() + f" ({n1} cell{'s' if n1 != 1 else ''} suppressed, {n2} more to protect them)."
    return Protected(table, _frame(primary, frame), _frame(secondary, frame), note)


def _frame(mask: np.ndarray, like: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(mask, index=like.index, columns=like.columns)


def public_points(incidents: pd.DataFrame, restricted: set[str] | frozenset[str]) -> pd.DataFrame:
    """The incidents whose points a viewer may see: none from a restricted source.

    Parameters
    ----------
    incidents
        The incident frame (column ``source``).
    restricted
        The restricted sources (:func:`restricted_sources`).

    Returns
    -------
    The rows of other sources (police.uk is never restricted).
    """
    return incidents[~incidents["source"].astype(str).isin(set(restricted) - {POLICE_SOURCE})]


#: The source a filter keeps when every source it names is restricted (no incident has it).
NO_PUBLIC_SOURCE = "(restricted sources only)"


def public_filter(filt: Filter, restricted: Iterable[str], sources: Iterable[str]) -> Filter:
    """``filt`` without the restricted sources: what a viewer's counts, maps and hotspots use.

    Parameters
    ----------
    filt
        The filter asked for (no sources named = every source).
    restricted
        The restricted sources (:func:`restricted_sources`; police.uk is never one).
    sources
        Every source the store holds (to spell out "every source but the restricted ones").

    Returns
    -------
    Filter
        ``filt`` keeping only unrestricted sources; when it named restricted sources only,
        a filter keeping :data:`NO_PUBLIC_SOURCE`, which no incident has (nothing to show).

    Notes
    -----
    A count that mixes restricted with public incidents is never shown to a viewer: with the
    police.uk part public, the restricted part would be its difference. The restricted sources
    are shown in their own columns instead, through :func:`protect`.
    """
    hidden = set(restricted) - {POLICE_SOURCE}
    if not hidden:
        return filt
    keep = tuple(s for s in (filt.sources or tuple(sources)) if s not in hidden)
    return filt.replace(sources=keep or (NO_PUBLIC_SOURCE,))


# ---------------------------------------------------------------------------- marking sources
def restricted_sources(store: Store) -> frozenset[str]:
    """The sources marked restricted now (the latest setting of each source wins)."""
    have = store.sql(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'source_settings'"
    )
    if not int(have["n"].iloc[0]):
        return frozenset()
    df = store.sql(
        "SELECT source, restricted FROM (SELECT source, restricted, row_number() OVER "
        "(PARTITION BY source ORDER BY changed_at DESC) AS k FROM source_settings) t WHERE k = 1"
    )
    return frozenset(df.loc[df["restricted"].astype(bool), "source"].astype(str))


def set_restricted(
    store: Store, source: str, restricted: bool = True, *, user: str | None = None, role: str | None = None
) -> None:
    """Mark a partner source restricted (or not), and record it in the audit log.

    Parameters
    ----------
    store
        The store.
    source
        A source name as loaded (``hotspots summary`` lists them).
    restricted
        True to restrict, False to lift it.
    user, role
        Who made the change (``None``: the local analyst, as on the command line).

    Raises
    ------
    InputError
        If ``source`` is police.uk (public data, never restricted).
    """
    from hotspots import audit

    if source == POLICE_SOURCE:
        raise InputError("police.uk data is published openly and cannot be marked restricted")
    who = user or audit.local_user()
    with store.transaction() as con:
        con.execute(SCHEMA)
        con.execute(
            "INSERT INTO source_settings VALUES (?, ?, ?, ?)",
            [source, bool(restricted), pd.Timestamp.now(tz="UTC").tz_localize(None).to_pydatetime(), who],
        )
    audit.record(
        store,
        "restrict",
        user=user,
        role=role,
        detail=f"{source}: {'restricted' if restricted else 'no longer restricted'}",
        via="cli" if user is None else "dashboard",
    )


# ---------------------------------------------------------------------------- the stored rule
def stored_rule(store: Store) -> Rule:
    """The rule in force: the latest :func:`set_rule`, or the default (suppress 1 to 4)."""
    have = store.sql(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'disclosure_settings'"
    )
    if not int(have["n"].iloc[0]):
        return Rule()
    df = store.sql("SELECT low, high, method, base FROM disclosure_settings ORDER BY changed_at DESC LIMIT 1")
    if df.empty:
        return Rule()
    r = df.iloc[0]
    return Rule(low=int(r["low"]), high=int(r["high"]), method=str(r["method"]), base=int(r["base"]))


def set_rule(store: Store, rule: Rule, *, user: str | None = None, role: str | None = None) -> None:
    """Store the disclosure rule the dashboard applies for viewers, and record it in the audit log.

    Parameters
    ----------
    store
        The store.
    rule
        The new :class:`Rule` (checked when it was made).
    user, role
        Who made the change (``None``: the local analyst, as on the command line).

    Notes
    -----
    Earlier settings are kept (the latest wins), so the log of changes is the table itself as
    well as the audit entries.
    """
    from hotspots import audit

    before = stored_rule(store)
    who = user or audit.local_user()
    with store.transaction() as con:
        con.execute(RULE_SCHEMA)
        con.execute(
            "INSERT INTO disclosure_settings VALUES (?, ?, ?, ?, ?, ?)",
            [
                rule.low,
                rule.high,
                rule.method,
                rule.base,
                pd.Timestamp.now(tz="UTC").tz_localize(None).to_pydatetime(),
                who,
            ],
        )
    audit.record(
        store,
        "disclosure",
        user=user,
        role=role,
        detail=f"{_words(before)} -> {_words(rule)}",
        via="cli" if user is None else "dashboard",
    )


def _words(rule: Rule) -> str:
    if rule.method == "round":
        return f"round to base {rule.base}, {rule.low}-{rule.high} shown as {rule.base}"
    return f"suppress {rule.low}-{rule.high}"
