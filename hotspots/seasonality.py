"""Seasonal profiles: month of year, and day of week × hour for sources with exact times.

The month-of-year index says how busy a calendar month is compared with an average month,
per day (so that February's 28 days do not look like a 10% dip): 1.20 means 20% more
incidents per day than the average month.

With two or more years the index is estimated net of each calendar year's level, so a rise or
fall from one year to the next is not mistaken for a season. With fewer than 24 months of
history that is impossible: the profile is just the shape of the months available (with one
year, that year's monthly shape — a steady rise through the year would look like a season),
and every row says so in ``note``.
"""

from __future__ import annotations

import calendar

import numpy as np
import pandas as pd
from scipy import stats

from hotspots._errors import InputError
from hotspots._validate import check_choice
from hotspots.filters import DAY_NAMES, LEVELS, Filter
from hotspots.trends import month_ordinals, monthly_series

BY_CHOICES = (None, "category", "area", "area+category")
PROFILE_COLUMNS = [
    "area_code",
    "category",
    "month_of_year",
    "month_name",
    "count",
    "days",
    "n_years",
    "index",
    "lower",
    "upper",
    "dispersion",
    "model",
    "note",
]
DAY_HOUR_COLUMNS = ["day_of_week", "day_name", "hour", "count", "index", "lower", "upper"]
MIN_MONTHS_FOR_SEASON = 24

NOTE_SHORT = (
    "fewer than 24 months of history ({months} months, {span}): this is the shape of these months, "
    "not a seasonal pattern — season cannot be separated from trend; interval shows Poisson noise only"
)
NOTE_NO_MONTH = "not estimated: no loaded data for this month of the year"
NOTE_NO_DATA = "not estimated: no incidents in the filter"


def _poisson_interval(
    count: np.ndarray, dispersion: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) Poisson interval for a count, widened by a dispersion factor.

    With dispersion ``phi`` the count is treated as ``phi`` times a Poisson count of
    ``count / phi`` (quasi-Poisson); ``phi = 1`` gives the exact Garwood interval.
    """
    a = (1.0 - level) / 2.0
    c = np.asarray(count, dtype=float)
    phi = np.asarray(dispersion, dtype=float)
    k = c / phi
    with np.errstate(invalid="ignore"):
        lo = np.where(k > 0, phi * stats.gamma.ppf(a, np.where(k > 0, k, 1.0)), 0.0)
        hi = phi * stats.gamma.ppf(1.0 - a, k + 1.0)
    return lo, hi


def _fit_year_month(c: np.ndarray, d: np.ndarray, obs: np.ndarray, *, iterations: int = 200) -> tuple:
    """Poisson log-linear fit ``mu[y, m] = A[y] * S[m] * days[y, m]`` on observed cells.

    Iterative proportional fitting (the maximum-likelihood solution for a two-way table with
    missing cells). Arrays are (groups, years, 12). Returns (A, S, mu).
    """
    g, y, _ = c.shape
    c = np.where(obs, c, 0.0)
    d = np.where(obs, d, 0.0)
    A = np.ones((g, y))
    S = np.ones((g, 12))
    for _ in range(iterations):
        den = (S[:, None, :] * d).sum(axis=2)
        A_new = np.divide(c.sum(axis=2), den, out=np.zeros_like(den), where=den > 0)
        den = (A_new[:, :, None] * d).sum(axis=1)
        S_new = np.divide(c.sum(axis=1), den, out=np.zeros_like(den), where=den > 0)
        done = np.allclose(S_new, S, rtol=1e-10, atol=1e-12) and np.allclose(A_new, A, rtol=1e-10, atol=1e-12)
        A, S = A_new, S_new
        if done:
            break
    mu = A[:, :, None] * S[:, None, :] * d
    return A, S, mu


def seasonal_profile(
    incidents: pd.DataFrame,
    *,
    filt: Filter | None = None,
    by: str | None = None,
    level: str | None = None,
    conf_level: float = 0.95,
    loaded_months=None,
) -> pd.DataFrame:
    """Month-of-year seasonal index with its uncertainty.

    Parameters
    ----------
    incidents
        Incident frame.
    filt
        Which incidents to use (month range, categories, areas…).
    by
        ``None`` (one profile), ``"category"``, ``"area"`` or ``"area+category"``.
    level
        Area level for ``by="area"``; default the filter's level.
    conf_level
        Coverage of the interval (default 0.95).
    loaded_months
        Months for which data was loaded (see :func:`hotspots.trends.monthly_series`).

    Returns
    -------
    DataFrame
        Columns ``area_code, category, month_of_year, month_name, count, days, n_years, index,
        lower, upper, dispersion, model, note``; 12 rows per group. ``count`` is the total over
        the loaded months of that month of the year, ``days`` their number of days, ``n_years``
        how many times that month of the year is in the data. ``index`` is the incidents per
        day in that month relative to the average month (the 12 indices average 1);
        ``lower``/``upper`` its interval. ``model`` is ``"year + month of year"`` (24 months or
        more: each calendar year has its own level) or ``"month of year only"``; ``note``
        explains what could not be estimated. ``attrs["note"]`` holds the note for the whole
        table.

    Raises
    ------
    InputError
        If ``by`` or ``level`` is not valid or ``conf_level`` is not between 0 and 1.

    Notes
    -----
    Model: counts are Poisson with mean ``A[year] * S[month] * days``, fitted by maximum
    likelihood (iterative proportional fitting, which allows missing months). ``index[m] =
    S[m] / mean(S)``. With two or more years the Pearson dispersion
    ``phi = X² / (cells - years - 11)`` (at least 1) widens the interval, so that
    year-to-year variation in the seasonal shape is counted as uncertainty; the interval is
    the exact Poisson (Garwood) interval on the month's count, scaled by ``phi``
    (quasi-Poisson), divided by the fitted expected count per unit of index. The uncertainty
    of the average month is ignored (it rests on 12 times as much data).
    With fewer than 24 months, years are not separated, ``phi`` cannot be estimated and is set
    to 1, and the interval shows only the Poisson noise of the counts.
    """
    check_choice(by, BY_CHOICES, name="by")
    if not 0 < conf_level < 1:
        raise InputError(f"`conf_level` must be between 0 and 1, such as 0.95; got {conf_level!r}")
    filt = filt or Filter()
    if level is not None:
        check_choice(level, LEVELS, name="level")
    use_level = (level or filt.level) if by in ("area", "area+category") else None
    series = monthly_series(
        incidents,
        filt=filt,
        level=use_level,
        by_category=by in ("category", "area+category"),
        loaded_months=loaded_months,
    )
    return profile_from_series(series, conf_level=conf_level)


def profile_from_series(series: pd.DataFrame, *, conf_level: float = 0.95) -> pd.DataFrame:
    """Seasonal index from a monthly series (see :func:`seasonal_profile`).

    Parameters
    ----------
    series
        Output of :func:`hotspots.trends.monthly_series`.
    conf_level
        Coverage of the interval.

    Returns
    -------
    DataFrame
        Columns as in :func:`seasonal_profile`.
    """
    if not 0 < conf_level < 1:
        raise InputError(f"`conf_level` must be between 0 and 1, such as 0.95; got {conf_level!r}")
    if len(series) == 0:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in PROFILE_COLUMNS})
        out.attrs["note"] = NOTE_NO_DATA
        return out
    df = series.copy()
    for col in ("area_code", "category"):
        if col not in df.columns:
            df[col] = "all"
    loaded = (
        df["loaded"].astype(bool).to_numpy() if "loaded" in df.columns else df["count"].notna().to_numpy()
    )
    df = df.loc[loaded & df["count"].notna().to_numpy()]
    groups = series[["area_code", "category"]].drop_duplicates().reset_index(drop=True)
    ordn = month_ordinals(df["month"]) if len(df) else np.array([], dtype=np.int64)
    all_loaded = np.unique(ordn)
    n_months = len(all_loaded)
    span_text = (
        f"{all_loaded.min() // 12}-{all_loaded.min() % 12 + 1:02d} to {all_loaded.max() // 12}-{all_loaded.max() % 12 + 1:02d}"
        if n_months
        else "none"
    )
    separate_years = n_months >= MIN_MONTHS_FOR_SEASON

    years = np.unique(ordn // 12) if n_months else np.array([0])
    g_idx = pd.MultiIndex.from_frame(groups).get_indexer(
        pd.MultiIndex.from_frame(df[["area_code", "category"]])
    )
    y_idx = np.searchsorted(years, ordn // 12) if separate_years else np.zeros(len(df), dtype=np.int64)
    m_idx = ordn % 12
    G, Y = len(groups), (len(years) if separate_years else 1)
    c = np.zeros((G, Y, 12))
    d = np.zeros((G, Y, 12))
    obs = np.zeros((G, Y, 12), dtype=bool)
    days = pd.DatetimeIndex(df["month"]).days_in_month.to_numpy().astype(float) if len(df) else np.array([])
    np.add.at(c, (g_idx, y_idx, m_idx), df["count"].to_numpy(dtype=float))
    np.add.at(d, (g_idx, y_idx, m_idx), days)
    np.logical_or.at(obs, (g_idx, y_idx, m_idx), True)

    A, S, mu = _fit_year_month(c, d, obs)
    month_obs = obs.any(axis=1)  # (G, 12)
    n_years = obs.sum(axis=1)
    total = c.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        s_mean = np.where(month_obs, S, np.nan)
        s_mean = np.nanmean(np.where(month_obs.any(axis=1, keepdims=True), s_mean, 1.0), axis=1)
        index = S / s_mean[:, None]
    if separate_years:
        with np.errstate(invalid="ignore", divide="ignore"):
            resid = np.where(obs & (mu > 0), (c - mu) ** 2 / np.where(mu > 0, mu, 1.0), 0.0).sum(axis=(1, 2))
            n_par = (obs.any(axis=2)).sum(axis=1) + month_obs.sum(axis=1) - 1
            df_res = obs.sum(axis=(1, 2)) - n_par
            phi = np.where(df_res > 0, resid / np.maximum(df_res, 1), 1.0)
        phi = np.maximum(phi, 1.0)
    else:
        phi = np.ones(G)
    month_total = c.sum(axis=1)
    # expected count of the month's total for an index of 1: mean(S) * sum over years of A * days
    per_index = s_mean[:, None] * (A[:, :, None] * d).sum(axis=1)
    lo, hi = _poisson_interval(month_total, np.repeat(phi[:, None], 12, axis=1), conf_level)
    with np.errstate(invalid="ignore", divide="ignore"):
        lower = lo / per_index
        upper = hi / per_index

    ok = month_obs & (total[:, None] > 0)
    index = np.where(ok, index, np.nan)
    lower = np.where(ok, lower, np.nan)
    upper = np.where(ok, upper, np.nan)
    if separate_years:
        model = "year + month of year"
        base_note = ""
    else:
        model = "month of year only"
        base_note = NOTE_SHORT.format(months=n_months, span=span_text)
    notes = np.full((G, 12), base_note, dtype=object)
    notes[~month_obs] = NOTE_NO_MONTH
    notes[(total == 0)] = NOTE_NO_DATA

    out = pd.DataFrame(
        {
            "area_code": np.repeat(groups["area_code"].to_numpy(dtype=object), 12),
            "category": np.repeat(groups["category"].to_numpy(dtype=object), 12),
            "month_of_year": np.tile(np.arange(1, 13), G),
            "month_name": np.tile(np.array(calendar.month_abbr[1:], dtype=object), G),
            "count": month_total.ravel().astype(np.int64),
            "days": d.sum(axis=1).ravel().astype(np.int64),
            "n_years": n_years.ravel().astype(np.int64),
            "index": index.ravel(),
            "lower": lower.ravel(),
            "upper": upper.ravel(),
            "dispersion": np.repeat(phi, 12),
            "model": model,
            "note": notes.ravel(),
        }
    )
    out.attrs["note"] = base_note or f"{len(years)} calendar years ({span_text}); year levels removed"
    out.attrs["months"] = n_months
    return out[PROFILE_COLUMNS]


def day_hour_profile(
    incidents: pd.DataFrame, *, filt: Filter | None = None, conf_level: float = 0.95
) -> pd.DataFrame:
    """Day of week × hour of day profile for incidents with an exact time.

    Parameters
    ----------
    incidents
        Incident frame with ``occurred_at`` (partner sources; police.uk gives only the month).
    filt
        Which incidents to use.
    conf_level
        Coverage of the interval (default 0.95).

    Returns
    -------
    DataFrame
        Columns ``day_of_week`` (0 = Monday), ``day_name``, ``hour``, ``count``, ``index``
        (count relative to the average of the 168 hours of the week), ``lower``, ``upper``
        (exact Poisson interval divided by the average). 168 rows. ``attrs["untimed"]`` is the
        number of filtered incidents left out because they have no exact time.

    Raises
    ------
    InputError
        If no incident in the filter has an exact time.

    Notes
    -----
    Each day of the week occurs almost equally often in any period of several weeks, so raw
    counts are compared; the uncertainty of the weekly average is ignored.
    """
    if not 0 < conf_level < 1:
        raise InputError(f"`conf_level` must be between 0 and 1, such as 0.95; got {conf_level!r}")
    filt = filt or Filter()
    sel = filt.apply(incidents) if "month" in incidents.columns else incidents
    when = sel["occurred_at"] if "occurred_at" in sel.columns else pd.Series(dtype="datetime64[ns]")
    when = pd.to_datetime(when).dropna()
    if len(when) == 0:
        raise InputError(
            "no incident in the filter has an exact time (`occurred_at`); police.uk data gives only "
            "the month — day and hour profiles need a partner source with dates and times"
        )
    cell = when.dt.day_of_week.to_numpy() * 24 + when.dt.hour.to_numpy()
    counts = np.bincount(cell, minlength=168).astype(np.int64)
    mean = counts.sum() / 168.0
    lo, hi = _poisson_interval(counts, np.ones(168), conf_level)
    out = pd.DataFrame(
        {
            "day_of_week": np.repeat(np.arange(7), 24),
            "day_name": np.repeat(np.array(DAY_NAMES, dtype=object), 24),
            "hour": np.tile(np.arange(24), 7),
            "count": counts,
            "index": counts / mean,
            "lower": lo / mean,
            "upper": hi / mean,
        }
    )
    out.attrs["untimed"] = int(len(sel) - len(when))
    return out[DAY_HOUR_COLUMNS]
