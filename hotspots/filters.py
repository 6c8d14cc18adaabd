"""The one filter definition shared by the library, the command line and every page.

A :class:`Filter` is a plain, hashable value: it can be a ``st.cache_data`` key, be written
into an export (``Filter.to_dict``) and be mirrored in a URL query (``Filter.to_query``).
"""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from hotspots._errors import InputError

LEVELS = ("lsoa", "ward", "district", "locality")
LEVEL_COLUMN = {
    "lsoa": "lsoa_code",
    "ward": "ward_code",
    "district": "district_code",
    "locality": "locality",
}
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def parse_month(value: str | None, *, name: str = "month") -> pd.Timestamp | None:
    """Parse ``YYYY-MM`` into the first day of that month.

    Raises
    ------
    InputError
        If the text is not a month in the form ``YYYY-MM``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_period("M").to_timestamp()
    m = _MONTH_RE.match(str(value).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InputError(f"`{name}` must be a month written YYYY-MM, such as 2025-06; got {value!r}")
    return pd.Timestamp(int(m.group(1)), int(m.group(2)), 1)


@dataclass(frozen=True)
class Filter:
    """Which incidents an analysis uses.

    Empty tuples mean "all". Months are inclusive and written ``YYYY-MM``.

    Parameters
    ----------
    month_from, month_to
        Inclusive month range.
    months_of_year
        Months of the year to keep (1-12), for seasons across years: ``(6, 7, 8)`` for summer,
        ``(10, 11)`` for bonfire season.
    categories
        Crime types / partner categories to keep.
    sources
        Sources to keep (``police.uk`` or a partner source name).
    level
        Area level that ``areas`` refer to, and the default level for area tables.
    areas
        Area codes (or locality names) at ``level`` to keep.
    days_of_week
        0 = Monday … 6 = Sunday; applies only to incidents with an exact time.
    hours
        Hours of the day 0-23; applies only to incidents with an exact time.
    extra
        Values of partner columns kept by a mapping's ``extra``, written ``COLUMN=VALUE``
        (e.g. ``Speed_limit=30``): values of one column are alternatives, different columns
        must all match; applies only to incidents that have those columns.
    """

    month_from: str | None = None
    month_to: str | None = None
    months_of_year: tuple[int, ...] = ()
    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    level: str = "ward"
    areas: tuple[str, ...] = ()
    days_of_week: tuple[int, ...] = ()
    hours: tuple[int, ...] = field(default=())
    extra: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("months_of_year", "categories", "sources", "areas", "days_of_week", "hours", "extra"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(sorted(set(value))) if value else ())
        start = parse_month(self.month_from, name="month_from")
        end = parse_month(self.month_to, name="month_to")
        object.__setattr__(self, "month_from", start.strftime("%Y-%m") if start else None)
        object.__setattr__(self, "month_to", end.strftime("%Y-%m") if end else None)
        if start is not None and end is not None and start > end:
            raise InputError(
                f"`month_from` ({self.month_from}) is after `month_to` ({self.month_to}); "
                "swap them or widen the range"
            )
        if self.level not in LEVELS:
            raise InputError(f"`level` must be one of {', '.join(LEVELS)}; got {self.level!r}")
        bad = [m for m in self.months_of_year if not 1 <= int(m) <= 12]
        if bad:
            raise InputError(f"`months_of_year` must be between 1 and 12; got {bad}")
        bad = [d for d in self.days_of_week if not 0 <= int(d) <= 6]
        if bad:
            raise InputError(f"`days_of_week` must be 0 (Monday) to 6 (Sunday); got {bad}")
        bad = [h for h in self.hours if not 0 <= int(h) <= 23]
        if bad:
            raise InputError(f"`hours` must be between 0 and 23; got {bad}")
        bad = [e for e in self.extra if "=" not in e or not e.split("=", 1)[0].strip()]
        if bad:
            raise InputError(f"`extra` items must be written COLUMN=VALUE, such as Speed_limit=30; got {bad}")

    # ------------------------------------------------------------------ conversions
    def to_dict(self) -> dict[str, Any]:
        """Return the filter as plain JSON-ready values (lists for tuples)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Filter:
        """Build a filter from :meth:`to_dict` output, ignoring unknown keys."""
        names = {f.name for f in fields(cls)}
        kwargs = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in names}
        return cls(**kwargs)

    def to_json(self) -> str:
        """Return the filter as a JSON string (written into every export)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def to_query(self) -> dict[str, str]:
        """Return URL query parameters; only non-default values are included."""
        out: dict[str, str] = {}
        default = Filter()
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name):
                continue
            out[f.name] = ",".join(str(v) for v in value) if isinstance(value, tuple) else str(value)
        return out

    @classmethod
    def from_query(cls, query: dict[str, str | list[str]]) -> Filter:
        """Build a filter from URL query parameters written by :meth:`to_query`.

        Category names contain no commas in police.uk data; partner categories with commas
        are not supported in links.
        """
        ints = {"months_of_year", "days_of_week", "hours"}
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in query:
                continue
            raw = query[f.name]
            raw = raw[-1] if isinstance(raw, list) else raw
            if f.name in ("month_from", "month_to", "level"):
                kwargs[f.name] = raw or None if f.name != "level" else raw
            else:
                parts = [p for p in str(raw).split(",") if p != ""]
                kwargs[f.name] = tuple(int(p) for p in parts) if f.name in ints else tuple(parts)
        return cls(**kwargs)

    def replace(self, **changes: Any) -> Filter:
        """Return a copy with some fields changed."""
        return replace(self, **changes)

    def describe(self) -> str:
        """Return the filter in plain words, for captions and export headers."""
        parts = []
        if self.month_from or self.month_to:
            parts.append(f"{self.month_from or 'start'} to {self.month_to or 'latest'}")
        else:
            parts.append("all months")
        if self.months_of_year:
            parts.append("only " + ", ".join(calendar.month_abbr[m] for m in self.months_of_year))
        parts.append(", ".join(self.categories) if self.categories else "all categories")
        if self.sources:
            parts.append("sources: " + ", ".join(self.sources))
        if self.areas:
            plural = {"locality": "localities", "lsoa": "LSOAs"}.get(self.level, f"{self.level}s")
            parts.append(f"{plural}: " + ", ".join(self.areas))
        if self.days_of_week:
            parts.append("days: " + ", ".join(DAY_NAMES[d] for d in self.days_of_week))
        if self.hours:
            parts.append("hours: " + ", ".join(f"{h:02d}" for h in self.hours))
        for col, values in self.extra_values().items():
            parts.append(f"{col}: " + " or ".join(values))
        return "; ".join(parts)

    def extra_values(self) -> dict[str, tuple[str, ...]]:
        """``extra`` as column → accepted values."""
        out: dict[str, list[str]] = {}
        for item in self.extra:
            col, value = item.split("=", 1)
            out.setdefault(col.strip(), []).append(value.strip())
        return {c: tuple(v) for c, v in out.items()}

    # ------------------------------------------------------------------ applying
    def mask(self, incidents: pd.DataFrame) -> np.ndarray:
        """Return a boolean array selecting the rows of ``incidents`` this filter keeps.

        ``incidents`` follows the incident record (columns ``month``, ``category``, ``source``,
        the area code columns and optional ``occurred_at``). Day and hour filters keep only
        incidents with an exact time.
        """
        n = len(incidents)
        keep = np.ones(n, dtype=bool)
        if n == 0:
            return keep
        month = incidents["month"]
        if self.month_from:
            keep &= (month >= parse_month(self.month_from)).to_numpy()
        if self.month_to:
            keep &= (month <= parse_month(self.month_to)).to_numpy()
        if self.months_of_year:
            keep &= month.dt.month.isin(self.months_of_year).to_numpy()
        if self.categories:
            keep &= incidents["category"].isin(self.categories).to_numpy()
        if self.sources:
            keep &= incidents["source"].isin(self.sources).to_numpy()
        if self.areas:
            keep &= incidents[LEVEL_COLUMN[self.level]].isin(self.areas).to_numpy()
        if self.extra:
            keep &= extra_mask(incidents, self.extra_values())
        if self.days_of_week or self.hours:
            when = incidents["occurred_at"] if "occurred_at" in incidents else None
            if when is None:
                return np.zeros(n, dtype=bool)
            has_time = when.notna().to_numpy()
            keep &= has_time
            if self.days_of_week:
                keep &= when.dt.dayofweek.isin(self.days_of_week).to_numpy()
            if self.hours:
                keep &= when.dt.hour.isin(self.hours).to_numpy()
        return keep

    def apply(self, incidents: pd.DataFrame) -> pd.DataFrame:
        """Return the rows of ``incidents`` this filter keeps (a new frame)."""
        return incidents.loc[self.mask(incidents)]

    def previous_period(self) -> Filter | None:
        """Return the same filter over the equal-length period just before this one.

        Returns None when the month range is open at either end.
        """
        if not (self.month_from and self.month_to):
            return None
        start = pd.Period(self.month_from, "M")
        end = pd.Period(self.month_to, "M")
        length = end.ordinal - start.ordinal + 1
        return self.replace(month_from=str(start - length), month_to=str(end - length))


def extra_values_of(incidents: pd.DataFrame, column: str) -> pd.Series:
    """The value of one kept partner column for each incident (None where it has none).

    The JSON text of ``incidents["extra"]`` is read once per distinct value, not per row.
    """
    if "extra" not in incidents:
        return pd.Series(None, index=incidents.index, dtype=object)
    ex = incidents["extra"]
    if not isinstance(ex.dtype, pd.CategoricalDtype):
        ex = ex.astype("category")
    per_code = [json.loads(t).get(column) for t in ex.cat.categories] + [None]
    values = np.array(per_code, dtype=object)[ex.cat.codes.to_numpy()]
    return pd.Series(values, index=incidents.index, dtype=object)


def extra_columns_of(incidents: pd.DataFrame) -> list[str]:
    """The kept partner columns present in an incident frame, in first-seen order."""
    if "extra" not in incidents:
        return []
    ex = incidents["extra"]
    cats = ex.cat.categories if isinstance(ex.dtype, pd.CategoricalDtype) else ex.dropna().unique()
    seen: dict[str, None] = {}
    for t in cats:
        for k in json.loads(t):
            seen.setdefault(k, None)
    return list(seen)


def extra_mask(incidents: pd.DataFrame, wanted: dict[str, tuple[str, ...]]) -> np.ndarray:
    """Rows whose kept partner columns match ``wanted`` (column → accepted values)."""
    keep = np.ones(len(incidents), dtype=bool)
    for col, values in wanted.items():
        keep &= extra_values_of(incidents, col).isin(values).to_numpy()
    return keep


def expand_extra(incidents: pd.DataFrame) -> pd.DataFrame:
    """The incidents with one column per kept partner column (``extra`` JSON spread out).

    For exports: the kept columns are added after the incident record's columns, in the
    order they were first seen; ``extra`` itself is dropped.
    """
    out = incidents.drop(columns=["extra"], errors="ignore").copy()
    for col in extra_columns_of(incidents):
        name = col if col not in out.columns else f"extra_{col}"
        out[name] = extra_values_of(incidents, col).to_numpy()
    return out
