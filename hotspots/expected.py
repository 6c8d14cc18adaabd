"""Expected monthly counts from trend and season, with prediction intervals, and forecasts.

The model (per area × category series) is a Poisson log-linear regression with overdispersion
(quasi-Poisson), fitted by iteratively reweighted least squares::

    log E[count_t] = b0 + b1 * t + s[month_of_year(t)] + log(days_in_month_t)

How much history decides the model (``model`` column):

* 24 or more loaded months, each month of the year seen at least twice → ``"trend + season"``.
* 12 to 23 loaded months → ``"trend only"``: season cannot be separated from trend, so it is
  not modelled; the month-to-month (partly seasonal) variation inflates the dispersion and
  so widens the interval. Flags then mean "unusual against the year's level and trend", not
  "unusual for the time of year", and ``note`` says so.
* fewer than 12 loaded months, or no incidents at all → ``"not estimated"``: no expected
  value, ``flag = "not estimated"`` and the reason in ``note``.

Months that were not loaded (gaps) are left out of the fit; they get an expected value but
``flag = "not estimated"`` because there is no count to judge.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from hotspots._errors import InputError
from hotspots.trends import ALL, _check_series, month_ordinals, ordinal_to_month

MIN_SEASON_MONTHS = 24
MIN_TREND_MONTHS = 12
OUTLIER_SD = 3.0
FLAGS = ("above", "below", "within", "not estimated")
EXPECTED_COLUMNS = [
    "area_code",
    "category",
    "month",
    "count",
    "expected",
    "lower",
    "upper",
    "flag",
    "model",
    "note",
]
FORECAST_COLUMNS = [
    "area_code",
    "category",
    "month",
    "expected",
    "lower",
    "upper",
    "pct_vs_latest",
    "model",
    "note",
]

NOTE_TREND_ONLY = (
    "trend only: {n} loaded months (fewer than 24), so season cannot be separated from trend; "
    "the interval is widened by the month-to-month variation (dispersion {phi:.1f})"
)
NOTE_TOO_SHORT = "not estimated: {n} loaded months; at least 12 are needed for an expected range"
NOTE_NO_INCIDENTS = "not estimated: no incidents in the history"
NOTE_GAP = "not estimated: no data loaded for this month"


class _Fit:
    """A fitted quasi-Poisson log-linear model on month ordinals."""

    def __init__(self, ordinals: np.ndarray, counts: np.ndarray, *, season: bool):
        self.season = season
        self.t0 = float(ordinals.mean())
        X = self.design(ordinals)
        off = np.log(_days(ordinals))
        y = counts.astype(float)
        beta = np.zeros(X.shape[1])
        beta[0] = np.log(max(y.mean(), 1e-9) / _days(ordinals).mean())
        ridge = 1e-8 * np.eye(X.shape[1])
        for _ in range(100):
            eta = np.clip(X @ beta + off, -30, 30)
            mu = np.exp(eta)
            z = eta - off + (y - mu) / mu
            XtW = X.T * mu
            new = np.linalg.solve(XtW @ X + ridge, XtW @ z)
            if np.max(np.abs(new - beta)) < 1e-9:
                beta = new
                break
            beta = new
        mu = np.exp(np.clip(X @ beta + off, -30, 30))
        self.beta = beta
        df = len(y) - X.shape[1]
        pearson = float(np.sum((y - mu) ** 2 / mu))
        self.dispersion = max(1.0, pearson / df) if df > 0 else 1.0
        self.cov = self.dispersion * np.linalg.inv((X.T * mu) @ X + ridge)

    def design(self, ordinals: np.ndarray) -> np.ndarray:
        t = (np.asarray(ordinals, dtype=float) - self.t0) / 12.0
        cols = [np.ones_like(t), t]
        if self.season:
            moy = np.asarray(ordinals) % 12
            cols += [(moy == m).astype(float) for m in range(1, 12)]
        return np.column_stack(cols)

    def predict(self, ordinals: np.ndarray, conf_level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return expected count and prediction interval (integers) for the given months."""
        X = self.design(ordinals)
        eta = X @ self.beta + np.log(_days(ordinals))
        var_eta = np.einsum("ij,jk,ik->i", X, self.cov, X)
        mu = np.exp(eta)
        return (mu, *predictive_interval(mu, self.dispersion, var_eta, conf_level))


def _robust_fit(ordinals: np.ndarray, counts: np.ndarray, *, season: bool) -> _Fit:
    """Fit, then refit without months more than 3 standard deviations from the first fit.

    As in the Farrington outbreak-detection method, an exceptional month should not widen
    the interval for every other month. At most 10% of months are left out, and a month left
    out still gets its expected value and its flag.
    """
    fit = _Fit(ordinals, counts, season=season)
    mu = fit.predict(ordinals, 0.95)[0]
    r = np.abs(counts - mu) / np.sqrt(fit.dispersion * mu)
    out = r > OUTLIER_SD
    limit = int(0.1 * len(counts))
    if 0 < out.sum() <= limit:
        fit = _Fit(ordinals[~out], counts[~out], season=season)
    elif out.sum() > limit and limit > 0:
        worst = np.argsort(-r)[:limit]
        keep = np.ones(len(counts), bool)
        keep[worst] = False
        fit = _Fit(ordinals[keep], counts[keep], season=season)
    return fit


def _days(ordinals: np.ndarray) -> np.ndarray:
    return ordinal_to_month(ordinals).days_in_month.to_numpy().astype(float)


def predictive_interval(
    mu: np.ndarray, dispersion: float, var_log_mu: np.ndarray, conf_level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Central prediction interval for a new count.

    The new count has mean ``mu`` and variance ``dispersion * mu + mu**2 * var_log_mu``
    (sampling noise plus the uncertainty of the fitted mean, by the delta method); the
    interval is the quantiles of the negative binomial with that mean and variance (Poisson
    when the variance does not exceed the mean).
    """
    a = (1.0 - conf_level) / 2.0
    mu = np.asarray(mu, dtype=float)
    var = dispersion * mu + mu**2 * np.asarray(var_log_mu, dtype=float)
    over = var > mu * (1 + 1e-9)
    lo = stats.poisson.ppf(a, mu)
    hi = stats.poisson.ppf(1 - a, mu)
    if over.any():
        r = mu[over] ** 2 / (var[over] - mu[over])
        p = r / (r + mu[over])
        lo[over] = stats.nbinom.ppf(a, r, p)
        hi[over] = stats.nbinom.ppf(1 - a, r, p)
    return lo, hi


def _one_series(g: pd.DataFrame, conf_level: float, horizon: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    ordn = month_ordinals(g["month"])
    count = g["count"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    loaded = (
        g["loaded"].astype(bool).to_numpy() if "loaded" in g.columns else np.ones(len(g), bool)
    ) & np.isfinite(count)
    n = int(loaded.sum())
    moy_seen = np.bincount(ordn[loaded] % 12, minlength=12)
    expected = np.full(len(g), np.nan)
    lower = np.full(len(g), np.nan)
    upper = np.full(len(g), np.nan)
    flag = np.full(len(g), "not estimated", dtype=object)
    note = np.full(len(g), "", dtype=object)
    future = np.arange(ordn[loaded].max() + 1, ordn[loaded].max() + 1 + horizon) if n else np.array([], int)
    fc = pd.DataFrame(
        {
            "month": ordinal_to_month(future) if len(future) else pd.DatetimeIndex([]),
            "expected": np.nan,
            "lower": np.nan,
            "upper": np.nan,
            "pct_vs_latest": np.nan,
        }
    )

    if n >= MIN_SEASON_MONTHS and (moy_seen >= 2).all():
        model, season = "trend + season", True
    elif n >= MIN_TREND_MONTHS:
        model, season = "trend only", False
    else:
        model, season = "not estimated", None
    if season is not None and np.nansum(count[loaded]) == 0:
        model, season = "not estimated", None
        base_note = NOTE_NO_INCIDENTS
    elif season is None:
        base_note = NOTE_TOO_SHORT.format(n=n)
    else:
        fit = _robust_fit(ordn[loaded], count[loaded], season=season)
        expected, lower, upper = fit.predict(ordn, conf_level)
        ok = loaded
        flag = np.where(
            ~ok,
            "not estimated",
            np.where(count > upper, "above", np.where(count < lower, "below", "within")),
        ).astype(object)
        base_note = "" if season else NOTE_TREND_ONLY.format(n=n, phi=fit.dispersion)
        if len(future):
            mu, lo, hi = fit.predict(future, conf_level)
            last = fit.predict(np.array([ordn[loaded].max()]), conf_level)[0][0]
            fc["expected"], fc["lower"], fc["upper"] = mu, lo, hi
            fc["pct_vs_latest"] = 100.0 * (mu / last - 1.0) if last > 0 else np.nan
    note[:] = base_note
    note[~loaded] = NOTE_GAP if season is not None else base_note
    out = pd.DataFrame(
        {
            "month": g["month"].to_numpy(),
            "count": g["count"].astype("Int64").to_numpy(),
            "expected": expected,
            "lower": lower,
            "upper": upper,
            "flag": flag,
            "model": model,
            "note": note,
        }
    )
    fc["model"] = model
    fc["note"] = base_note
    return out, fc


def _run(series: pd.DataFrame, conf_level: float, horizon: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    _check_series(series)
    if not 0 < conf_level < 1:
        raise InputError(f"`level` must be between 0 and 1, such as 0.95; got {conf_level!r}")
    df = series.copy()
    for col in ("area_code", "category"):
        if col not in df.columns:
            df[col] = ALL
    if "loaded" not in df.columns:
        df["loaded"] = df["count"].notna()
    df = df.sort_values(["area_code", "category", "month"], kind="stable")
    ords = month_ordinals(df["month"]) if len(df) else np.array([], dtype=np.int64)
    dup = (
        pd.Series(ords)
        .groupby([df["area_code"].to_numpy(), df["category"].to_numpy()])
        .apply(lambda s: s.duplicated().any())
    )
    if len(dup) and dup.any():
        raise InputError(
            "`series` has more than one row for the same month in a series; pass one row per "
            "area_code × category × month (the output of monthly_series)"
        )
    outs, fcs = [], []
    for (area, cat), g in df.groupby(["area_code", "category"], sort=False):
        o, f = _one_series(g, conf_level, horizon)
        o.insert(0, "category", cat)
        o.insert(0, "area_code", area)
        f.insert(0, "category", cat)
        f.insert(0, "area_code", area)
        outs.append(o)
        fcs.append(f)
    if not outs:
        return (
            pd.DataFrame({c: pd.Series(dtype=object) for c in EXPECTED_COLUMNS}),
            pd.DataFrame({c: pd.Series(dtype=object) for c in FORECAST_COLUMNS}),
        )
    return (
        pd.concat(outs, ignore_index=True)[EXPECTED_COLUMNS],
        pd.concat(fcs, ignore_index=True)[FORECAST_COLUMNS],
    )


def expected_range(series: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Expected count and prediction interval for every month of a series, and a flag.

    Parameters
    ----------
    series
        Output of :func:`hotspots.trends.monthly_series` (one or many area × category series;
        columns ``month``, ``count`` and optionally ``area_code``, ``category``, ``loaded``).
    level
        Coverage of the prediction interval (default 0.95: about 1 month in 20 is flagged by
        chance alone).

    Returns
    -------
    DataFrame
        Columns ``area_code, category, month, count, expected, lower, upper, flag, model,
        note``. ``flag`` is ``"above"`` (count > upper), ``"below"`` (count < lower),
        ``"within"`` or ``"not estimated"`` (month not loaded, or no model: see ``note``).
        ``lower``/``upper`` are whole numbers of incidents.

    Raises
    ------
    InputError
        If ``series`` is not a monthly series, has duplicate months, or ``level`` is not
        between 0 and 1.

    Notes
    -----
    The rule for how much history is needed is in the module docstring: 24 loaded months for
    trend + season, 12 for trend only, otherwise not estimated. The expected value of a month
    comes from a fit that includes that month (an in-sample check: a single very unusual month
    pulls its own expected value up a little, so flags are slightly conservative).
    """
    return _run(series, level, 0)[0]


def forecast(series: pd.DataFrame, months: int = 3, *, level: float = 0.95) -> pd.DataFrame:
    """Expected counts for the months after the last loaded month, with prediction intervals.

    Parameters
    ----------
    series
        Output of :func:`hotspots.trends.monthly_series`.
    months
        How many months ahead (default 3).
    level
        Coverage of the prediction interval.

    Returns
    -------
    DataFrame
        Columns ``area_code, category, month, expected, lower, upper, pct_vs_latest, model,
        note``; ``pct_vs_latest`` compares the expected count with the model's expected count
        for the last loaded month ("expect ASB to rise by 12% in July"). Series with too
        little history have NaN values and ``model = "not estimated"``.

    Raises
    ------
    InputError
        If ``months`` is not a whole number from 1 to 24, or as :func:`expected_range`.
    """
    if not isinstance(months, int | np.integer) or not 1 <= months <= 24:
        raise InputError(f"`months` must be a whole number of months from 1 to 24; got {months!r}")
    return _run(series, level, int(months))[1]
