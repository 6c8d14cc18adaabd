"""Expected ranges and forecasts: the history rules, the fit against an independent optimiser."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import optimize, stats

from hotspots._errors import InputError
from hotspots.expected import (
    EXPECTED_COLUMNS,
    FORECAST_COLUMNS,
    _Fit,
    expected_range,
    forecast,
    predictive_interval,
)
from hotspots.filters import Filter
from hotspots.trends import month_ordinals, monthly_series

ASB = "Anti-social behaviour"
SHAPE = 1 + 0.4 * np.sin(2 * np.pi * (np.arange(1, 13) - 4) / 12)


def _series(months: pd.DatetimeIndex, counts) -> pd.DataFrame:
    return pd.DataFrame({"month": months, "count": pd.array(counts, dtype="Int64"), "loaded": True})


def _seasonal(n_years: int = 3, seed: int = 0, base: float = 150.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    months = pd.date_range("2022-01-01", periods=12 * n_years, freq="MS")
    t = np.arange(len(months)) / 12
    mu = base * SHAPE[months.month - 1] * (1 + 0.05 * t)
    return _series(months, rng.poisson(mu))


def test_one_year_of_real_data_is_trend_only_and_says_so(real_incidents):
    s = monthly_series(real_incidents, filt=Filter(categories=(ASB,)))
    r = expected_range(s)
    assert list(r.columns) == EXPECTED_COLUMNS
    assert (r["model"] == "trend only").all()
    assert r["note"].str.contains("season cannot be separated from trend").all()
    assert r["flag"].isin(["above", "below", "within"]).all()
    assert (r["lower"] <= r["expected"]).all() and (r["expected"] <= r["upper"]).all()
    f = forecast(s)
    assert list(f.columns) == FORECAST_COLUMNS
    assert f["month"].dt.strftime("%Y-%m").tolist() == ["2026-01", "2026-02", "2026-03"]
    assert (f["model"] == "trend only").all()


def test_fewer_than_12_months_is_not_estimated(real_incidents):
    s = monthly_series(real_incidents, filt=Filter(categories=(ASB,), month_to="2025-11"))
    r = expected_range(s)
    assert (r["flag"] == "not estimated").all()
    assert r["expected"].isna().all()
    assert (
        r["note"] == "not estimated: 11 loaded months; at least 12 are needed for an expected range"
    ).all()
    assert forecast(s)["expected"].isna().all()


def test_trend_and_season_with_three_years_flags_a_spike():
    s = _seasonal()
    s.loc[20, "count"] = int(s.loc[20, "count"]) * 2
    r = expected_range(s)
    assert (r["model"] == "trend + season").all()
    assert r.loc[20, "flag"] == "above"
    assert (r.drop(index=20)["flag"] == "within").mean() > 0.85
    assert (r["note"] == "").all()


def test_interval_coverage_on_simulated_series():
    flagged = []
    for seed in range(20):
        r = expected_range(_seasonal(4, seed=seed))
        flagged.append((r["flag"] != "within").mean())
    # a 95% interval should flag about 5% of ordinary months (a little less in-sample)
    assert 0.0 < np.mean(flagged) < 0.08


def test_fit_equals_independent_maximum_likelihood():
    s = _seasonal(3, seed=3)
    ordn = month_ordinals(s["month"])
    y = s["count"].to_numpy(dtype=float)
    fit = _Fit(ordn, y, season=True)
    X = fit.design(ordn)
    off = np.log(s["month"].dt.days_in_month.to_numpy(dtype=float))

    def nll(b):
        eta = X @ b + off
        return np.sum(np.exp(eta) - y * eta)

    ref = optimize.minimize(nll, np.zeros(X.shape[1]), method="BFGS", options={"gtol": 1e-10})
    assert_allclose(fit.beta, ref.x, atol=1e-4)


def test_gap_month_is_not_estimated_but_others_are():
    s = _seasonal()
    s.loc[7, "count"] = pd.NA
    s.loc[7, "loaded"] = False
    r = expected_range(s)
    assert r.loc[7, "flag"] == "not estimated"
    assert r.loc[7, "note"] == "not estimated: no data loaded for this month"
    assert np.isfinite(r.loc[7, "expected"])
    assert (r.drop(index=7)["flag"] != "not estimated").all()


def test_all_zero_history_is_not_estimated():
    months = pd.date_range("2023-01-01", periods=24, freq="MS")
    r = expected_range(_series(months, np.zeros(24, int)))
    assert (r["flag"] == "not estimated").all()
    assert (r["note"] == "not estimated: no incidents in the history").all()


def test_forecast_follows_a_known_model():
    months = pd.date_range("2022-01-01", periods=36, freq="MS")
    mu = 200 * SHAPE[months.month - 1] * months.days_in_month / 30.44
    f = forecast(_series(months, np.rint(mu).astype(int)), 4)
    nxt = pd.date_range("2025-01-01", periods=4, freq="MS")
    truth = 200 * SHAPE[nxt.month - 1] * nxt.days_in_month / 30.44
    assert_allclose(f["expected"], truth, rtol=0.01)
    assert (f["lower"] < truth).all() and (truth < f["upper"]).all()
    dec = 200 * SHAPE[11] * 31 / 30.44
    assert_allclose(f["pct_vs_latest"], 100 * (truth / dec - 1), atol=1.0)


def test_many_series_at_once(real_incidents):
    s = monthly_series(real_incidents, level="district")
    r = expected_range(s)
    assert r["area_code"].nunique() == 9 and len(r) == 9 * 12


def test_predictive_interval_reduces_to_poisson():
    lo, hi = predictive_interval(np.array([10.0, 100.0]), 1.0, np.zeros(2), 0.95)
    assert_allclose(lo, stats.poisson.ppf(0.025, [10, 100]))
    assert_allclose(hi, stats.poisson.ppf(0.975, [10, 100]))
    lo2, hi2 = predictive_interval(np.array([100.0]), 3.0, np.array([0.01]), 0.95)
    assert lo2[0] < lo[1] and hi2[0] > hi[1]


# ---------------------------------------------------------------------------- checks inputs
def test_input_checks():
    s = _seasonal(1)
    with pytest.raises(InputError, match="`level` must be between 0 and 1"):
        expected_range(s, level=95)
    with pytest.raises(InputError, match="`months` must be a whole number of months from 1 to 24"):
        forecast(s, 0)
    with pytest.raises(InputError, match="more than one row for the same month"):
        expected_range(pd.concat([s, s]))
    with pytest.raises(InputError, match=r"`series` has no column\(s\) count"):
        expected_range(s.drop(columns="count"))
