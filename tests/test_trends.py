"""Monthly series, rolling totals and period comparisons: checked against hand counts and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from hotspots._errors import InputError
from hotspots.filters import Filter
from hotspots.trends import (
    COMPARE_COLUMNS,
    PERIOD_COLUMNS,
    SERIES_COLUMNS,
    compare_periods,
    last12_vs_previous12,
    monthly_series,
    poisson_exact_p,
    rolling_12,
    year_to_date,
)

ASB = "Anti-social behaviour"
VIOLENCE = "Violence and sexual offences"


def _hand_raw(sample_raw: pd.DataFrame) -> pd.DataFrame:
    """The raw rows after the fixture's documented rule (a repeated Crime ID keeps its first row)."""
    raw = sample_raw
    return raw[~((raw["Crime ID"] != "") & raw.duplicated("Crime ID"))]


def _synthetic(
    months: list[str], per_month: list[int], *, category: str = "X", ward: str = "W1"
) -> pd.DataFrame:
    rows = []
    for m, n in zip(months, per_month, strict=True):
        rows += [
            {"month": pd.Timestamp(m + "-01"), "category": category, "source": "police.uk", "ward_code": ward}
        ] * n
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- checks outputs
def test_monthly_counts_equal_hand_count_from_raw_files(real_incidents, sample_raw):
    raw = _hand_raw(sample_raw)
    for cat in (ASB, VIOLENCE, "Bicycle theft"):
        s = monthly_series(real_incidents, filt=Filter(categories=(cat,)))
        hand = raw[raw["Crime type"] == cat].groupby("Month").size()
        assert list(s.columns) == SERIES_COLUMNS
        assert len(s) == 12
        assert s["month"].dt.strftime("%Y-%m").tolist() == hand.index.tolist()
        assert s["count"].astype(int).tolist() == hand.tolist()
        assert s["loaded"].all()
    total = monthly_series(real_incidents)
    assert int(total["count"].sum()) == len(raw)


def test_asb_monthly_counts_as_published(real_incidents):
    # counted in the published files: rows with Crime type "Anti-social behaviour" in
    # 2025-01-staffordshire-street.csv and 2025-12-staffordshire-street.csv
    s = monthly_series(real_incidents, filt=Filter(categories=(ASB,)))
    assert int(s["count"].iloc[0]) == 846
    assert int(s["count"].iloc[-1]) == 987


def test_rolling_12_equals_hand_annual_total(real_incidents, sample_raw):
    raw = _hand_raw(sample_raw)
    s = rolling_12(monthly_series(real_incidents, filt=Filter(categories=(ASB,))))
    assert s["rolling_12"].iloc[:11].isna().all()  # fewer than 12 months before them
    assert s["rolling_12"].iloc[11] == (raw["Crime type"] == ASB).sum() == 15455


def test_by_area_and_category_equal_groupby(real_incidents):
    s = monthly_series(real_incidents, level="district", by_category=True)
    hand = (
        real_incidents.dropna(subset=["district_code"]).groupby(["district_code", "category", "month"]).size()
    )
    got = s.set_index(["area_code", "category", "month"])["count"].astype(int)
    assert got[got > 0].sort_index().tolist() == hand.sort_index().tolist()
    # zero-filled: every district x category x month is there
    assert len(s) == 9 * real_incidents["category"].nunique() * 12
    assert s.attrs["unassigned"] == real_incidents["district_code"].isna().sum()


def test_rolling_total_over_synthetic_history_and_gap():
    months = [f"{y}-{m:02d}" for y in (2023, 2024) for m in range(1, 13)]
    counts = list(range(1, 25))
    inc = _synthetic(months, counts)
    s = rolling_12(monthly_series(inc))
    assert s["rolling_12"].iloc[11] == sum(range(1, 13))
    assert s["rolling_12"].iloc[12] == sum(range(2, 14))
    assert s["rolling_12"].iloc[23] == sum(range(13, 25))
    # drop 2024-03 entirely: nothing loaded that month
    gap = inc[inc["month"] != pd.Timestamp("2024-03-01")]
    g = rolling_12(monthly_series(gap))
    march = g["month"] == pd.Timestamp("2024-03-01")
    assert g.loc[march, "count"].isna().all() and not g.loc[march, "loaded"].any()
    # every 12-month window containing the gap is not reported
    has_gap = (g["month"] >= pd.Timestamp("2024-03-01")) & (g["month"] <= pd.Timestamp("2025-02-01"))
    assert g.loc[has_gap, "rolling_12"].isna().all()
    assert g["rolling_12"].iloc[13] == sum(range(3, 15)) - 0  # 2024-02 window has no gap


def test_zero_months_are_zero_not_missing():
    inc = pd.concat(
        [_synthetic(["2025-01", "2025-02", "2025-03"], [3, 2, 4]), _synthetic(["2025-01"], [1], category="Y")]
    )
    s = monthly_series(inc, by_category=True)
    y = s[s["category"] == "Y"]
    assert y["count"].tolist() == [1, 0, 0]
    assert y["loaded"].all()


def test_month_range_beyond_data_is_not_loaded():
    inc = _synthetic(["2025-01", "2025-02"], [3, 2])
    s = monthly_series(inc, filt=Filter(month_from="2024-11", month_to="2025-02"))
    assert s["loaded"].tolist() == [False, False, True, True]
    assert s["count"].isna().tolist() == [True, True, False, False]


def test_loaded_months_override_and_areas_listed():
    inc = _synthetic(["2025-01", "2025-03"], [3, 2])
    s = monthly_series(inc, level="ward", areas=["W1", "W2"], loaded_months=["2025-01", "2025-02", "2025-03"])
    assert s["area_code"].unique().tolist() == ["W1", "W2"]
    w1 = s[s["area_code"] == "W1"]
    assert w1["count"].tolist() == [3, 0, 2]  # February was loaded, nothing happened
    assert s[s["area_code"] == "W2"]["count"].tolist() == [0, 0, 0]


def test_months_of_year_lists_only_those_months():
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    s = monthly_series(_synthetic(months, [1] * 12), filt=Filter(months_of_year=(10, 11)))
    assert s["month"].dt.month.tolist() == [10, 11]
    assert rolling_12(s)["rolling_12"].isna().all()  # a rolling total needs consecutive months


def test_poisson_exact_test_equals_scipy_binomtest():
    rng = np.random.default_rng(4)
    a = rng.integers(0, 60, 40)
    b = rng.integers(0, 60, 40)
    ours = poisson_exact_p(a, b)
    ref = [
        stats.binomtest(int(y), int(x + y), 0.5).pvalue if x + y else 1.0 for x, y in zip(a, b, strict=True)
    ]
    assert_allclose(ours, ref, rtol=1e-10)
    # unequal lengths: 12 months against 6 months
    ours = poisson_exact_p(a, b, length_a=12, length_b=6)
    ref = [
        stats.binomtest(int(y), int(x + y), 6 / 18).pvalue if x + y else 1.0
        for x, y in zip(a, b, strict=True)
    ]
    assert_allclose(ours, ref, rtol=1e-10)


def test_poisson_exact_test_hand_value():
    # 4 then 8: P(X >= 8 | n = 12, 1/2) = (495 + 220 + 66 + 12 + 1) / 4096 = 794 / 4096; two-sided doubles it
    assert_allclose(poisson_exact_p(4, 8), 2 * 794 / 4096)


def test_compare_periods_columns_and_small_numbers_not_over_read():
    r = compare_periods([4, 1000, 0], [8, 1200, 0])
    assert list(r.columns) == COMPARE_COLUMNS
    assert r["pct_change"].tolist()[:2] == [100.0, 20.0]
    assert r["direction"].tolist() == ["no significant change", "increase", "no incidents"]
    assert_allclose(r["q_value"].iloc[:2], stats.false_discovery_control(r["p_value"].iloc[:2]))


def test_compare_periods_missing_counts_are_not_estimated():
    r = compare_periods(pd.array([pd.NA, 5], dtype="Int64"), [3, 5])
    assert r["direction"].tolist() == ["not estimated", "no significant change"]
    assert np.isnan(r["p_value"].iloc[0])


def test_last12_vs_previous12_with_one_year_is_not_estimated(real_incidents):
    s = monthly_series(real_incidents, filt=Filter(categories=(ASB,)))
    r = last12_vs_previous12(s)
    assert list(r.columns) == PERIOD_COLUMNS
    row = r.iloc[0]
    assert row["period_a"] == "2024-01 to 2024-12" and row["period_b"] == "2025-01 to 2025-12"
    assert pd.isna(row["count_a"]) and row["count_b"] == 15455
    assert row["direction"] == "not estimated"
    assert "period a has no data for 12 months" in row["note"]


def test_last12_vs_previous12_and_ytd_on_two_years():
    months = [f"{y}-{m:02d}" for y in (2023, 2024) for m in range(1, 13)]
    counts = [10] * 12 + [20] * 12
    s = monthly_series(_synthetic(months, counts))
    r = last12_vs_previous12(s).iloc[0]
    assert (r["count_a"], r["count_b"], r["change"]) == (120, 240, 120)
    assert r["pct_change"] == 100.0 and r["direction"] == "increase"
    assert_allclose(r["p_value"], stats.binomtest(240, 360, 0.5).pvalue)
    y = year_to_date(s, end="2024-03").iloc[0]
    assert (y["period_a"], y["period_b"]) == ("2023-01 to 2023-03", "2024-01 to 2024-03")
    assert (y["count_a"], y["count_b"]) == (30, 60)
    r6 = last12_vs_previous12(s, months=6, end="2024-06").iloc[0]
    assert (r6["count_a"], r6["count_b"]) == (60, 120)


# ---------------------------------------------------------------------------- checks inputs
def test_bad_level_is_rejected(real_incidents):
    with pytest.raises(InputError, match=r"`level` must be one of 'lsoa', 'ward'.*got 'county'"):
        monthly_series(real_incidents, level="county")


def test_missing_columns_are_named():
    with pytest.raises(InputError, match=r"`incidents` has no column\(s\) source"):
        monthly_series(pd.DataFrame({"month": [], "category": []}))
    with pytest.raises(InputError, match="`incidents` must be a DataFrame"):
        monthly_series([1, 2])


def test_series_checks():
    with pytest.raises(InputError, match=r"`series` has no column\(s\) count"):
        rolling_12(pd.DataFrame({"month": []}))
    with pytest.raises(InputError, match="`series` must be a DataFrame from monthly_series"):
        last12_vs_previous12("x")
    s = monthly_series(_synthetic(["2025-01"], [1]))
    with pytest.raises(InputError, match="`window` must be a positive whole number"):
        rolling_12(s, window=0)
    with pytest.raises(InputError, match="`months` must be a positive whole number"):
        last12_vs_previous12(s, months=0)
    with pytest.raises(InputError, match="`month_to` must be a month written YYYY-MM"):
        year_to_date(s, end="March")
    with pytest.raises(InputError, match="`series` has no loaded months"):
        last12_vs_previous12(s.assign(loaded=False))


def test_compare_periods_checks():
    with pytest.raises(InputError, match="must have the same length; got 2 and 1"):
        compare_periods([1, 2], [1])
    with pytest.raises(InputError, match="must be counts"):
        compare_periods([-1], [1])
    with pytest.raises(InputError, match="`alpha` must be between 0 and 1"):
        compare_periods([1], [1], alpha=5)
    with pytest.raises(InputError, match="`length_a` must be a positive period length"):
        compare_periods([1], [1], length_a=0)
