"""When in the day and week incidents happen: the hour-of-day and day-of-week profile.

Only incidents with an exact time can be placed in an hour. Which ones have one:

* **police.uk** publishes the month only (no day, no time): its incidents never have one.
* A **partner source** has one when its mapping names a ``date`` column and a ``time`` column
  (or a ``date`` column holding times): the store keeps ``occurred_at``.
* A partner source mapped with a ``date`` column but **no times** stores every incident at
  midnight. Rule: a source whose every ``occurred_at`` in the store is exactly 00:00:00 is
  treated as dates without times, and left out of the profile (all at 00:00 would be a false
  peak). It is named in the result so the page can say so; a source with real times
  where some incidents happen at 00:00:00 keeps them.

The profile is :func:`hotspots.seasonality.day_hour_profile`'s table of 7 days x 24 hours
(Monday first, as :class:`~hotspots.filters.Filter` numbers days: 0 = Monday), counting (or
weighing by harm) the filtered incidents of those sources.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotspots.filters import DAY_NAMES, Filter
from hotspots.harm import HarmWeights, check_measure, incident_weights
from hotspots.seasonality import day_hour_profile

#: Day names for sentences (the table's ``day_name`` is :data:`hotspots.filters.DAY_NAMES`).
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def timed_sources(incidents: pd.DataFrame) -> dict[str, str]:
    """How each source records when an incident happened: ``"time"``, ``"date"`` or ``"month"``.

    ``"time"``: at least one incident has a time other than midnight; ``"date"``: every
    incident has a date at midnight (dates without times, module notes); ``"month"``: none has
    ``occurred_at`` (police.uk).
    """
    src = incidents["source"].astype(str).to_numpy()
    when = (
        incidents["occurred_at"] if "occurred_at" in incidents else pd.Series(pd.NaT, index=incidents.index)
    )
    when = pd.to_datetime(when)
    has = when.notna().to_numpy()
    midnight = has & (when.dt.normalize() == when).fillna(False).to_numpy(dtype=bool)
    out = {}
    for s in sorted(set(src)):
        of = src == s
        if not has[of].any():
            out[s] = "month"
        elif midnight[of & has].all():
            out[s] = "date"
        else:
            out[s] = "time"
    return out


def hour_profile(
    incidents: pd.DataFrame,
    *,
    filt: Filter | None = None,
    measure: str = "count",
    weights: HarmWeights | None = None,
) -> pd.DataFrame:
    """Incidents by day of week and hour of day, for the filtered incidents with an exact time.

    :func:`hotspots.seasonality.day_hour_profile` on the incidents of the sources that record
    times (:func:`timed_sources`), saying what it leaves out.

    Parameters
    ----------
    incidents
        The incident frame (columns ``source``, ``category``, ``month``, ``occurred_at`` …).
    filt
        Which incidents (None: all). Its day and hour filters apply as everywhere.
    measure
        ``count`` (default) or ``harm``: adds a ``harm`` column, the sum of the incidents' harm
        weights (:mod:`hotspots.harm`).
    weights
        Harm weights for ``measure="harm"`` (None: the shipped ONS Crime Severity Score weights).

    Returns
    -------
    DataFrame
        168 rows (7 days x 24 hours, Monday 00 first) with
        :data:`hotspots.seasonality.DAY_HOUR_COLUMNS` (+ ``harm``); all counts 0 when no
        filtered incident has a time. ``attrs``: ``sources`` (source → ``"time"``, ``"date"`` or
        ``"month"``, over the whole frame), ``in_profile`` (source → filtered incidents in the
        profile), ``n_timed`` (incidents in the profile),
        ``left_out`` (source → filtered incidents without a time), ``measure``.

    Raises
    ------
    InputError
        If ``measure`` is not ``count`` or ``harm``.
    """
    check_measure(measure)
    kinds = timed_sources(incidents)
    sel = filt.apply(incidents) if filt is not None else incidents
    src = sel["source"].astype(str)
    when = pd.to_datetime(sel["occurred_at"]) if "occurred_at" in sel else pd.Series(pd.NaT, index=sel.index)
    timed = (when.notna() & src.map(kinds).eq("time")).to_numpy()
    if timed.any():
        out = day_hour_profile(sel[timed])
    else:
        out = pd.DataFrame(
            {
                "day_of_week": np.repeat(np.arange(7), 24),
                "day_name": np.repeat(np.array(DAY_NAMES, dtype=object), 24),
                "hour": np.tile(np.arange(24), 7),
                "count": np.zeros(168, dtype=np.int64),
                "index": np.nan,
                "lower": np.nan,
                "upper": np.nan,
            }
        )
    if measure == "harm":
        t = when[timed]
        w = incident_weights(sel[timed], measure="harm", weights=weights)
        slot = t.dt.dayofweek.to_numpy() * 24 + t.dt.hour.to_numpy()
        out["harm"] = np.bincount(slot, weights=w, minlength=168)
    left = src[~timed].value_counts()
    used = src[timed].value_counts()
    out.attrs = {
        "sources": kinds,
        "in_profile": {str(k): int(v) for k, v in used.items() if v},
        "n_timed": int(timed.sum()),
        "left_out": {str(k): int(v) for k, v in left.items()},
        "measure": measure,
    }
    return out


def left_out_sentence(profile: pd.DataFrame) -> str:
    """Which filtered incidents the profile leaves out and why, in one sentence ('' if none)."""
    kinds = profile.attrs.get("sources", {})
    parts = []
    for s, n in sorted(profile.attrs.get("left_out", {}).items()):
        why = {
            "month": "the source publishes the month only, not the day or time",
            "date": "the source has dates without times",
        }.get(kinds.get(s, "month"), "no time recorded")
        parts.append(f"{s}: {n:,} incidents ({why})")
    return ("Not in this profile: " + "; ".join(parts) + ".") if parts else ""


__all__ = ["DAYS", "hour_profile", "left_out_sentence", "timed_sources"]
