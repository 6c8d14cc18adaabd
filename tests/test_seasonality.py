"""Seasonal profiles: real 2025 shape, recovery of a known season, honesty with short histories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from hotspots._errors import InputError
from hotspots.filters import Filter
from hotspots.seasonality import (
    DAY_HOUR_COLUMNS,
    PROFILE_COLUMNS,
    day_hour_profile,
    profile_from_series,
    seasonal_profile,
)
from hotspots.trends import monthly_series

ASB = "Anti-social behaviour"
VIOLENCE = "Violence and sexual offences"
SHAPE = 1 + 0.4 * np.sin(2 * np.pi * (np.arange(1, 13) - 4) / 12)  # peak in July, trough in January


def _incidents_from_counts(months: pd.DatetimeIndex, counts: np.ndarray, category: str = "X") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": np.repeat(months.to_numpy(), counts),
            "category": category,
            "source": "police.uk",
        }
    )


def test_real_2025_profile_is_the_years_shape(real_incidents, sample_raw):
    p = seasonal_profile(real_incidents, filt=Filter(categories=(ASB, VIOLENCE)), by="category")
    assert list(p.columns) == PROFILE_COLUMNS
    assert len(p) == 24
    assert (p["model"] == "month of year only").all()
    assert p["note"].str.contains("fewer than 24 months").all()
    assert "season cannot be separated from trend" in p.attrs["note"]
    assert (p["n_years"] == 1).all()
    asb = p[p["category"] == ASB].set_index("month_of_year")
    # hand computation: incidents per day in each month over the average of the 12 months
    raw = sample_raw[sample_raw["Crime type"] == ASB].groupby("Month").size().to_numpy()
    days = pd.date_range("2025-01-01", periods=12, freq="MS").days_in_month.to_numpy()
    per_day = raw / days
    assert_allclose(asb["index"], per_day / per_day.mean(), rtol=1e-9)
    assert_allclose(asb["index"].mean(), 1.0)
    # the summer rise in ASB: July well above January, and outside each other's intervals
    assert asb.loc[7, "lower"] > asb.loc[1, "upper"]
    assert (p["lower"] < p["index"]).all() and (p["index"] < p["upper"]).all()


def test_interval_is_the_exact_poisson_interval(real_incidents):
    p = seasonal_profile(real_incidents, filt=Filter(categories=("Bicycle theft",)))
    # Garwood interval via chi-square quantiles (an independent formula), divided by the
    # expected count for an index of 1
    k = p["count"].to_numpy()
    per_index = k / p["index"].to_numpy()
    lo = stats.chi2.ppf(0.025, 2 * k) / 2
    hi = stats.chi2.ppf(0.975, 2 * k + 2) / 2
    assert_allclose(p["lower"], lo / per_index, rtol=1e-8)
    assert_allclose(p["upper"], hi / per_index, rtol=1e-8)


def test_known_season_is_recovered_net_of_a_year_on_year_rise():
    months = pd.date_range("2022-01-01", "2024-12-01", freq="MS")
    level = np.array([200.0, 300.0, 450.0])[months.year - 2022]  # +50% a year
    mu = level * SHAPE[months.month - 1] * months.days_in_month / 30.44
    counts = np.rint(mu).astype(int)  # deterministic: the answer is known
    p = seasonal_profile(_incidents_from_counts(months, counts))
    assert (p["model"] == "year + month of year").all()
    assert (p["n_years"] == 3).all()
    assert_allclose(p["index"], SHAPE / SHAPE.mean(), rtol=0.01)
    assert (p["note"] == "").all()
    # a one-year window of the same data cannot separate the two and says so
    short = seasonal_profile(
        _incidents_from_counts(months, counts), filt=Filter(month_from="2024-01", month_to="2024-12")
    )
    assert (short["model"] == "month of year only").all()


def test_overdispersion_widens_the_interval():
    rng = np.random.default_rng(7)
    months = pd.date_range("2021-01-01", "2024-12-01", freq="MS")
    noisy = rng.negative_binomial(5, 5 / (5 + 100 * SHAPE[months.month - 1]))
    p = seasonal_profile(_incidents_from_counts(months, noisy))
    assert p["dispersion"].iloc[0] > 2
    poisson = rng.poisson(100 * SHAPE[months.month - 1])
    q = seasonal_profile(_incidents_from_counts(months, poisson))
    assert q["dispersion"].iloc[0] < p["dispersion"].iloc[0]
    assert ((p["upper"] - p["lower"]) > (q["upper"] - q["lower"])).all()


def test_months_never_loaded_are_not_estimated():
    months = pd.date_range("2025-01-01", "2025-09-01", freq="MS")
    p = seasonal_profile(_incidents_from_counts(months, np.full(9, 30)))
    assert p.loc[p["month_of_year"] >= 10, "index"].isna().all()
    assert p.loc[p["month_of_year"] >= 10, "note"].str.startswith("not estimated").all()
    assert_allclose(p.loc[p["month_of_year"] < 10, "index"].mean(), 1.0)


def test_zero_month_and_empty_group():
    months = pd.date_range("2025-01-01", "2025-12-01", freq="MS")
    counts = np.full(12, 10)
    counts[3] = 0
    # another category has incidents every month, so April was loaded: X's 0 is a real zero
    other = _incidents_from_counts(months, np.ones(12, int), "W")
    inc = pd.concat([_incidents_from_counts(months, counts), other])
    p = seasonal_profile(inc, by="category", filt=Filter(categories=("X", "Z")))
    x = p[p["category"] == "X"].set_index("month_of_year")
    assert x.loc[4, "index"] == 0 and x.loc[4, "lower"] == 0 and x.loc[4, "upper"] > 0
    z = p[p["category"] == "Z"]
    assert z["index"].isna().all() and (z["note"] == "not estimated: no incidents in the filter").all()


def test_profile_by_area(real_incidents):
    p = seasonal_profile(real_incidents, by="area", level="district")
    assert p["area_code"].nunique() == 9
    assert_allclose(p.groupby("area_code")["index"].mean(), 1.0)


def test_empty_series_gives_empty_profile():
    p = profile_from_series(monthly_series(pd.DataFrame({"month": [], "category": [], "source": []})))
    assert list(p.columns) == PROFILE_COLUMNS and len(p) == 0


def test_day_hour_profile_from_exact_times():
    times = pd.to_datetime(["2025-03-07 22:15", "2025-03-07 22:50", "2025-03-08 01:10", "2025-03-10 09:00"])
    inc = pd.DataFrame(
        {"month": times.to_period("M").to_timestamp(), "category": "X", "source": "p", "occurred_at": times}
    )
    inc = pd.concat([inc, inc.iloc[:1].assign(occurred_at=pd.NaT)], ignore_index=True)
    p = day_hour_profile(inc)
    assert list(p.columns) == DAY_HOUR_COLUMNS and len(p) == 168
    fri22 = p[(p["day_name"] == "Fri") & (p["hour"] == 22)].iloc[0]
    assert fri22["count"] == 2
    assert_allclose(fri22["index"], 2 / (4 / 168))
    assert p["count"].sum() == 4 and p.attrs["untimed"] == 1


# ---------------------------------------------------------------------------- checks inputs
def test_bad_by_and_level(real_incidents):
    with pytest.raises(
        InputError, match=r"`by` must be one of None, 'category', 'area', 'area\+category'; got 'ward'"
    ):
        seasonal_profile(real_incidents, by="ward")
    with pytest.raises(InputError, match="`level` must be one of"):
        seasonal_profile(real_incidents, by="area", level="street")
    with pytest.raises(InputError, match="`conf_level` must be between 0 and 1"):
        seasonal_profile(real_incidents, conf_level=95)


def test_day_hour_profile_needs_exact_times(real_incidents):
    with pytest.raises(InputError, match="police.uk data gives only the month"):
        day_hour_profile(real_incidents)
    with pytest.raises(InputError, match="`conf_level` must be between 0 and 1"):
        day_hour_profile(real_incidents, conf_level=0)
