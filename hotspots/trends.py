"""Monthly series, rolling 12-month totals and period-on-period comparisons.

Everything here starts from the incident frame (one row per incident, ``month`` = first day
of the month) or from the monthly series :func:`monthly_series` returns, and gives tables
with a fixed set of columns.

Loaded months and gaps
----------------------
A month with no incidents can mean "nothing happened" or "no data was loaded for that month".
The two are kept apart: a month counts as *loaded* when the source(s) in the filter have at
least one incident of any kind in it (or when the caller lists it in ``loaded_months``, e.g.
from the store's load log). Loaded months with nothing matching the filter are real zeros;
months that were not loaded have a missing count (``<NA>``) and ``loaded = False``, and every
statistic that would need them says "not estimated" instead of treating them as zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from hotspots._errors import InputError
from hotspots._validate import check_choice
from hotspots.filters import LEVEL_COLUMN, LEVELS, Filter
from hotspots.harm import HarmWeights, check_measure, default_weights

ALL = "all"
SERIES_COLUMNS = ["area_code", "category", "month", "count", "loaded"]
ROLLING_COLUMNS = [*SERIES_COLUMNS, "rolling_12"]
COMPARE_COLUMNS = [
    "count_a",
    "count_b",
    "change",
    "pct_change",
    "rate_ratio",
    "p_value",
    "q_value",
    "significant",
    "direction",
]
PERIOD_COLUMNS = ["area_code", "category", "period_a", "period_b", *COMPARE_COLUMNS, "note"]


# ---------------------------------------------------------------------------- helpers
def month_ordinals(month: pd.Series | pd.Index | Sequence) -> np.ndarray:
    """Return months as integer month numbers (year * 12 + month - 1)."""
    m = pd.DatetimeIndex(pd.to_datetime(np.asarray(month)))
    return (m.year.to_numpy().astype(np.int64) * 12 + m.month.to_numpy() - 1).astype(np.int64)


def ordinal_to_month(ordinal: np.ndarray | Sequence[int]) -> pd.DatetimeIndex:
    """Return first-of-month timestamps for integer month numbers."""
    o = np.asarray(ordinal, dtype=np.int64)
    return pd.DatetimeIndex(pd.to_datetime({"year": o // 12, "month": o % 12 + 1, "day": 1}))


def _month_label(ordinal: int) -> str:
    return f"{ordinal // 12:04d}-{ordinal % 12 + 1:02d}"


def _check_incidents(incidents: pd.DataFrame, columns: Iterable[str]) -> None:
    if not isinstance(incidents, pd.DataFrame):
        raise InputError(f"`incidents` must be a DataFrame of incidents; got {type(incidents).__name__}")
    missing = [c for c in columns if c not in incidents.columns]
    if missing:
        raise InputError(
            f"`incidents` has no column(s) {', '.join(missing)}; pass the incident frame from the store"
        )


def _check_series(series: pd.DataFrame, *, name: str = "series") -> None:
    if not isinstance(series, pd.DataFrame):
        raise InputError(f"`{name}` must be a DataFrame from monthly_series(); got {type(series).__name__}")
    missing = [c for c in ("month", "count") if c not in series.columns]
    if missing:
        raise InputError(
            f"`{name}` has no column(s) {', '.join(missing)}; build it with hotspots.trends.monthly_series()"
        )


def _group_columns(series: pd.DataFrame) -> list[str]:
    return [c for c in ("area_code", "category") if c in series.columns]


def loaded_month_ordinals(incidents: pd.DataFrame, *, sources: Sequence[str] = ()) -> np.ndarray:
    """Return the months (as ordinals) in which the given sources have any incident.

    Parameters
    ----------
    incidents
        The incident frame.
    sources
        Sources to look at; empty means all.
    """
    df = incidents
    if sources and "source" in df.columns:
        df = df[df["source"].isin(sources)]
    if len(df) == 0:
        return np.array([], dtype=np.int64)
    return np.unique(month_ordinals(df["month"]))


# ---------------------------------------------------------------------------- series
def monthly_series(
    incidents: pd.DataFrame,
    *,
    filt: Filter | None = None,
    level: str | None = None,
    by_category: bool = False,
    areas: Sequence[str] | None = None,
    loaded_months: Iterable | None = None,
    measure: str = "count",
    weights: HarmWeights | None = None,
) -> pd.DataFrame:
    """Count incidents by month, zero-filled over the months of the range.

    Parameters
    ----------
    incidents
        Incident frame (columns ``month``, ``category``, ``source`` and the area code columns).
    filt
        Which incidents to count; None counts all of them.
    level
        Area level (``lsoa``, ``ward``, ``district``, ``locality``) to split by; None gives one
        series for everything in the filter with ``area_code = "all"``.
    by_category
        Split by ``category`` too; otherwise ``category = "all"``.
    areas
        Area codes to include even when they have no incidents (e.g. every ward of the
        geography). Default: the areas in the filter if it is at the same level, else the
        areas that have incidents.
    loaded_months
        Months (anything ``pandas.to_datetime`` reads) for which data was loaded. Default: the
        months in which the filter's sources have any incident.
    measure
        ``count`` (default) or ``harm``: adds a ``harm`` column, the sum of the incidents'
        harm weights (:mod:`hotspots.harm`); ``count`` stays the count (the expected ranges
        and tests, which need counts, keep using it).
    weights
        Harm weights for ``measure="harm"`` (None: the shipped ONS Crime Severity Score weights).

    Returns
    -------
    DataFrame
        Columns ``area_code, category, month, count, loaded``: one row per area × category ×
        month of the range. ``count`` is a nullable integer: 0 for a loaded month with nothing
        matching, ``<NA>`` for a month that was not loaded (``loaded = False``). The range is
        the filter's month range, or the first to the last month with data; only the months
        of ``filt.months_of_year`` are listed when that is set. ``attrs["unassigned"]`` holds
        the number of incidents left out because they have no area at ``level``.

    Raises
    ------
    InputError
        If ``level`` is not a valid level or ``incidents`` lacks the columns needed.

    Notes
    -----
    Counting uses one integer-coded ``bincount`` over area × category × month, never a loop
    over rows.
    """
    if level is not None:
        check_choice(level, LEVELS, name="level")
    filt = filt or Filter()
    need = ["month", "category", "source"] + ([LEVEL_COLUMN[level]] if level else [])
    _check_incidents(incidents, need)

    if loaded_months is None:
        loaded = loaded_month_ordinals(incidents, sources=filt.sources)
    else:
        loaded = np.unique(month_ordinals(list(loaded_months))) if loaded_months else np.array([], int)

    if filt.month_from and filt.month_to:
        start, end = month_ordinals([filt.month_from + "-01", filt.month_to + "-01"])
    else:
        known = loaded if len(loaded) else np.array([], dtype=np.int64)
        if len(known) == 0:
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _SERIES_DTYPES.items()})
        start = month_ordinals([filt.month_from + "-01"])[0] if filt.month_from else known.min()
        end = month_ordinals([filt.month_to + "-01"])[0] if filt.month_to else known.max()
    months = np.arange(start, end + 1, dtype=np.int64)
    if filt.months_of_year:
        months = months[np.isin(months % 12 + 1, filt.months_of_year)]

    sel = filt.apply(incidents)
    m_ord = month_ordinals(sel["month"]) if len(sel) else np.array([], dtype=np.int64)

    unassigned = 0
    if level is None:
        area_codes = np.array([ALL], dtype=object)
        a_idx = np.zeros(len(sel), dtype=np.int64)
    else:
        col = sel[LEVEL_COLUMN[level]]
        if areas is not None:
            area_list = list(dict.fromkeys(str(a) for a in areas))
        elif filt.areas and filt.level == level:
            area_list = list(filt.areas)
        else:
            area_list = sorted(col.dropna().astype(str).unique())
        area_codes = np.array(area_list, dtype=object)
        a_idx = pd.Categorical(col.astype(object), categories=area_list).codes.astype(np.int64)
        unassigned = int(col.isna().sum())

    if by_category:
        cats = list(filt.categories) if filt.categories else sorted(sel["category"].dropna().unique())
        cat_codes = np.array(cats, dtype=object)
        c_idx = pd.Categorical(sel["category"], categories=cats).codes.astype(np.int64)
    else:
        cat_codes = np.array([ALL], dtype=object)
        c_idx = np.zeros(len(sel), dtype=np.int64)

    m_idx = np.searchsorted(months, m_ord)
    m_ok = (
        (m_idx < len(months)) & (months[np.minimum(m_idx, len(months) - 1)] == m_ord)
        if len(months)
        else m_idx < 0
    )
    ok = (a_idx >= 0) & (c_idx >= 0) & m_ok
    na, nc, nm = len(area_codes), len(cat_codes), len(months)
    flat = (a_idx[ok] * nc + c_idx[ok]) * nm + m_idx[ok]
    counts = np.bincount(flat, minlength=na * nc * nm).astype(np.int64)
    check_measure(measure)
    harm = None
    if measure == "harm":
        weights = weights or default_weights()
        harm = np.bincount(flat, weights=weights.of(sel)[ok], minlength=na * nc * nm)

    is_loaded = np.isin(months, loaded)
    out = pd.DataFrame(
        {
            "area_code": pd.array(np.repeat(area_codes, nc * nm), dtype="str"),
            "category": pd.array(np.tile(np.repeat(cat_codes, nm), na), dtype="str"),
            "month": np.tile(ordinal_to_month(months).to_numpy(), na * nc),
            "count": pd.array(counts, dtype="Int64"),
            "loaded": np.tile(is_loaded, na * nc),
        }
    )
    out.loc[~out["loaded"], "count"] = pd.NA
    out.attrs["measure"] = measure
    if harm is not None:
        out["harm"] = pd.array(harm, dtype="Float64")
        out.loc[~out["loaded"], "harm"] = pd.NA
        out.attrs["weights"] = weights.to_dict()
    out.attrs["unassigned"] = unassigned
    out.attrs["filter"] = filt.to_dict()
    return out


_SERIES_DTYPES = {
    "area_code": "str",
    "category": "str",
    "month": "datetime64[ns]",
    "count": "Int64",
    "loaded": "bool",
}


def _wide(series: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Pivot a series to groups × consecutive months (float, NaN where missing/not loaded)."""
    _check_series(series)
    keys = _group_columns(series)
    df = series.copy()
    if not keys:
        df["_g"] = ALL
        keys = ["_g"]
    df["_m"] = month_ordinals(df["month"])
    values = df["count"].astype("Float64").astype(float)
    if "loaded" in df.columns:
        values = values.where(df["loaded"].astype(bool))
    df["_v"] = values
    wide = df.pivot_table(index=keys, columns="_m", values="_v", aggfunc="sum", dropna=False)
    # pivot_table sums NaN to 0; put the NaN back
    present = df.pivot_table(index=keys, columns="_m", values="_v", aggfunc="count", dropna=False)
    wide = wide.where(present.reindex_like(wide) > 0)
    if len(df):
        full = np.arange(df["_m"].min(), df["_m"].max() + 1)
        wide = wide.reindex(columns=full)
    return wide, keys


def rolling_12(series: pd.DataFrame, *, window: int = 12) -> pd.DataFrame:
    """Add the rolling total of the last ``window`` months (this month included).

    Parameters
    ----------
    series
        Output of :func:`monthly_series`.
    window
        Number of months in the rolling total (default 12).

    Returns
    -------
    DataFrame
        The rows of ``series`` with one more column, ``rolling_12`` (float): the total over
        the ``window`` calendar months ending with that month. It is NaN when any of those
        months is before the start of the series, not loaded, or not in the series (for
        example when ``months_of_year`` was used) — a rolling total with a hole in it is not
        reported.

    Raises
    ------
    InputError
        If ``series`` is not a monthly series or ``window`` is not a positive whole number.
    """
    _check_series(series)
    if not isinstance(window, int | np.integer) or window < 1:
        raise InputError(f"`window` must be a positive whole number of months; got {window!r}")
    out = series.copy()
    if len(out) == 0:
        out["rolling_12"] = pd.Series(dtype=float)
        return out
    wide, keys = _wide(series)
    roll = wide.T.rolling(window, min_periods=window).sum().T
    long = roll.stack(future_stack=True).rename("rolling_12").reset_index()
    long = long.rename(columns={"_m": "_m"})
    tmp = out.copy()
    if keys == ["_g"]:
        tmp["_g"] = ALL
    tmp["_m"] = month_ordinals(tmp["month"])
    merged = tmp.merge(long, on=[*keys, "_m"], how="left")
    out["rolling_12"] = merged["rolling_12"].to_numpy(dtype=float)
    return out


# ---------------------------------------------------------------------------- tests on counts
def poisson_exact_p(
    count_a: np.ndarray | int, count_b: np.ndarray | int, *, length_a: float = 1.0, length_b: float = 1.0
) -> np.ndarray:
    """Two-sided Poisson exact test of equal rates, conditional on the total.

    Under equal rates per unit of time, ``count_b`` given ``n = count_a + count_b`` is
    Binomial(n, length_b / (length_a + length_b)); the p-value is the two-sided binomial test
    (``scipy.stats.binomtest`` definition: the total probability of outcomes no more likely
    than the one observed). With equal lengths this is ``min(1, 2 * min(P[X<=k], P[X>=k]))``.

    Returns
    -------
    ndarray
        p-values; 1 where both counts are 0 (nothing to compare).
    """
    a = np.atleast_1d(np.asarray(count_a, dtype=np.int64))
    b = np.atleast_1d(np.asarray(count_b, dtype=np.int64))
    a, b = np.broadcast_arrays(a, b)
    n = a + b
    p0 = float(length_b) / (float(length_a) + float(length_b))
    if np.isclose(p0, 0.5):
        lo = stats.binom.cdf(b, n, 0.5)
        hi = stats.binom.sf(b - 1, n, 0.5)
        p = np.minimum(1.0, 2.0 * np.minimum(lo, hi))
    else:
        p = np.array(
            [stats.binomtest(int(k), int(t), p0).pvalue if t > 0 else 1.0 for k, t in zip(b, n, strict=True)]
        )
    p = np.where(n == 0, 1.0, p)
    return p


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values, NaN kept as NaN."""
    p = np.asarray(p, dtype=float)
    q = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(p[ok], method="bh")
    return q


def compare_periods(
    counts_a: np.ndarray | Sequence[int] | int,
    counts_b: np.ndarray | Sequence[int] | int,
    *,
    length_a: float = 1.0,
    length_b: float = 1.0,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Compare counts in an earlier period (a) and a later period (b).

    Parameters
    ----------
    counts_a, counts_b
        Counts per row (area, category…) in the earlier and the later period. Missing values
        (NaN/``<NA>``) give a row with no test.
    length_a, length_b
        Lengths of the periods (e.g. in months); the test compares rates per unit of time.
    alpha
        Significance level for ``significant``, applied to the FDR-adjusted ``q_value``.

    Returns
    -------
    DataFrame
        Columns ``count_a, count_b, change, pct_change, rate_ratio, p_value, q_value,
        significant, direction``. ``change = count_b - count_a``; ``pct_change`` is
        ``100 * (rate_b / rate_a - 1)`` (NaN when the earlier count is 0); ``rate_ratio`` is
        ``rate_b / rate_a``; ``p_value`` is the Poisson exact test (:func:`poisson_exact_p`);
        ``q_value`` is Benjamini–Hochberg across the rows; ``direction`` is ``"increase"``,
        ``"decrease"``, ``"no significant change"``, ``"no incidents"`` or ``"not estimated"``.

    Raises
    ------
    InputError
        If the counts are negative, of different lengths, or ``alpha`` is not in (0, 1).

    Notes
    -----
    A percentage change on small numbers is easily over-read: 4 to 8 is +100% but
    ``p = 0.39``. The exact test conditions on the total, so it is valid for any count.
    """
    a = pd.array(np.atleast_1d(np.asarray(counts_a, dtype=object)), dtype="Float64")
    b = pd.array(np.atleast_1d(np.asarray(counts_b, dtype=object)), dtype="Float64")
    if len(a) != len(b):
        raise InputError(f"`counts_a` and `counts_b` must have the same length; got {len(a)} and {len(b)}")
    if not 0 < alpha < 1:
        raise InputError(f"`alpha` must be between 0 and 1; got {alpha!r}")
    for name, val in (("length_a", length_a), ("length_b", length_b)):
        if not float(val) > 0:
            raise InputError(f"`{name}` must be a positive period length; got {val!r}")
    af = a.to_numpy(dtype=float, na_value=np.nan)
    bf = b.to_numpy(dtype=float, na_value=np.nan)
    if np.nanmin(np.r_[af, bf, 0.0]) < 0:
        raise InputError("`counts_a` and `counts_b` must be counts (0 or more); got a negative value")
    ok = np.isfinite(af) & np.isfinite(bf)
    p = np.full(len(af), np.nan)
    if ok.any():
        p[ok] = poisson_exact_p(
            af[ok].astype(np.int64), bf[ok].astype(np.int64), length_a=length_a, length_b=length_b
        )
    q = _bh(np.where(ok & (af + bf > 0), p, np.nan))
    q = np.where(ok & (af + bf == 0), 1.0, q)
    rate_a = af / float(length_a)
    rate_b = bf / float(length_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(rate_a > 0, rate_b / rate_a, np.nan)
    sig = ok & (q <= alpha)
    direction = np.where(
        ~ok,
        "not estimated",
        np.where(
            (af + bf) == 0,
            "no incidents",
            np.where(
                sig & (rate_b > rate_a),
                "increase",
                np.where(sig & (rate_b < rate_a), "decrease", "no significant change"),
            ),
        ),
    )
    return pd.DataFrame(
        {
            "count_a": pd.array(np.where(ok | np.isfinite(af), af, np.nan), dtype="Float64").astype("Int64"),
            "count_b": pd.array(np.where(ok | np.isfinite(bf), bf, np.nan), dtype="Float64").astype("Int64"),
            "change": pd.array(bf - af, dtype="Float64").astype("Int64"),
            "pct_change": np.where(
                rate_a > 0, 100.0 * (rate_b - rate_a) / np.where(rate_a > 0, rate_a, 1.0), np.nan
            ),
            "rate_ratio": ratio,
            "p_value": p,
            "q_value": q,
            "significant": sig,
            "direction": direction.astype(object),
        }
    )


def _compare_windows(
    series: pd.DataFrame, months_a: np.ndarray, months_b: np.ndarray, *, alpha: float
) -> pd.DataFrame:
    wide, keys = _wide(series)
    label_a = f"{_month_label(months_a[0])} to {_month_label(months_a[-1])}"
    label_b = f"{_month_label(months_b[0])} to {_month_label(months_b[-1])}"
    wa = wide.reindex(columns=months_a)
    wb = wide.reindex(columns=months_b)
    complete_a = wa.notna().all(axis=1).to_numpy()
    complete_b = wb.notna().all(axis=1).to_numpy()
    sum_a = np.where(complete_a, wa.sum(axis=1, min_count=1).to_numpy(), np.nan)
    sum_b = np.where(complete_b, wb.sum(axis=1, min_count=1).to_numpy(), np.nan)
    res = compare_periods(sum_a, sum_b, length_a=len(months_a), length_b=len(months_b), alpha=alpha)

    def missing(w: pd.DataFrame, months: np.ndarray) -> np.ndarray:
        miss = w.isna().to_numpy()
        return np.array([", ".join(_month_label(m) for m in months[row]) for row in miss], dtype=object)

    miss_a, miss_b = missing(wa, months_a), missing(wb, months_b)
    notes = []
    for ma, mb in zip(miss_a, miss_b, strict=True):
        parts = []
        if ma:
            parts.append(f"period a has no data for {_shorten(ma)}")
        if mb:
            parts.append(f"period b has no data for {_shorten(mb)}")
        notes.append("; ".join(parts) + ("; not estimated" if parts else ""))
    index = wide.index.to_frame(index=False)
    out = pd.DataFrame(
        {
            "area_code": index["area_code"].to_numpy() if "area_code" in index else ALL,
            "category": index["category"].to_numpy() if "category" in index else ALL,
            "period_a": label_a,
            "period_b": label_b,
        }
    )
    out = pd.concat([out, res], axis=1)
    out["note"] = notes
    return out[PERIOD_COLUMNS]


def _shorten(months: str) -> str:
    parts = months.split(", ")
    return months if len(parts) <= 3 else f"{len(parts)} months ({parts[0]} … {parts[-1]})"


def _end_ordinal(series: pd.DataFrame, end: str | None) -> int:
    if end is not None:
        return int(month_ordinals([pd.Timestamp(str(end) + ("-01" if len(str(end)) == 7 else ""))])[0])
    loaded = series.loc[series["loaded"].astype(bool)] if "loaded" in series.columns else series
    if len(loaded) == 0:
        raise InputError("`series` has no loaded months; load data or pass `end` as YYYY-MM")
    return int(month_ordinals(loaded["month"]).max())


def last12_vs_previous12(
    series: pd.DataFrame, *, end: str | None = None, months: int = 12, alpha: float = 0.05
) -> pd.DataFrame:
    """The latest ``months`` months against the ``months`` before them, per area and category.

    Parameters
    ----------
    series
        Output of :func:`monthly_series` (needs consecutive months: do not use a
        ``months_of_year`` filter).
    end
        Last month of the latest period, ``YYYY-MM``; default the last loaded month.
    months
        Length of each period (default 12: "the 12 months to October against the previous 12").
    alpha
        Significance level on the FDR-adjusted q-value.

    Returns
    -------
    DataFrame
        Columns ``area_code, category, period_a, period_b`` + :func:`compare_periods` columns +
        ``note``. Period a is the earlier one. When any month of either period is missing or
        not loaded the counts of that period are ``<NA>``, ``direction = "not estimated"`` and
        ``note`` names the missing months (with one year of data the previous 12 months cannot
        be estimated, and the output says so).

    Raises
    ------
    InputError
        If ``series`` is not a monthly series, ``months`` is not a positive whole number or
        ``end`` is not a month.
    """
    _check_series(series)
    if not isinstance(months, int | np.integer) or months < 1:
        raise InputError(f"`months` must be a positive whole number; got {months!r}")
    if end is not None:
        Filter(month_to=end)  # validates YYYY-MM with a clear message
    e = _end_ordinal(series, end)
    months_b = np.arange(e - months + 1, e + 1)
    months_a = months_b - months
    return _compare_windows(series, months_a, months_b, alpha=alpha)


def year_to_date(series: pd.DataFrame, *, end: str | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """January to ``end`` of this year against the same months of last year.

    Parameters
    ----------
    series
        Output of :func:`monthly_series`.
    end
        Last month of the year-to-date period, ``YYYY-MM``; default the last loaded month.
    alpha
        Significance level on the FDR-adjusted q-value.

    Returns
    -------
    DataFrame
        Same columns as :func:`last12_vs_previous12`; period a is last year's months.

    Raises
    ------
    InputError
        If ``series`` is not a monthly series or ``end`` is not a month.
    """
    _check_series(series)
    if end is not None:
        Filter(month_to=end)
    e = _end_ordinal(series, end)
    months_b = np.arange(e - e % 12, e + 1)
    return _compare_windows(series, months_b - 12, months_b, alpha=alpha)
