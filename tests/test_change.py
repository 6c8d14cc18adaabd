"""Change between two periods: hand counts, scipy binomial tests, hand-written BH."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from hotspots._errors import InputError
from hotspots.change import CHANGE_COLUMNS, GRID_COLUMNS, change_between
from hotspots.filters import Filter
from hotspots.grid import Grid, make_grid

ASB = "Anti-social behaviour"
BEFORE = Filter(month_from="2025-01", month_to="2025-03", categories=(ASB,))
AFTER = BEFORE.replace(month_from="2025-07", month_to="2025-09")


def _bh_by_hand(p: np.ndarray) -> np.ndarray:
    n = len(p)
    order = np.argsort(p)
    q = np.empty(n)
    running = 1.0
    for rank in range(n, 0, -1):
        i = order[rank - 1]
        running = min(running, p[i] * n / rank)
        q[i] = running
    return q


def test_district_counts_tests_and_fdr(real_incidents):
    r = change_between(real_incidents, before=BEFORE, after=AFTER, level="district")
    assert list(r.columns) == CHANGE_COLUMNS
    asb = real_incidents[real_incidents["category"] == ASB]
    months = asb["month"].dt.month
    hand_b = asb[months.isin([1, 2, 3])].groupby("district_code").size()
    hand_a = asb[months.isin([7, 8, 9])].groupby("district_code").size()
    r = r.set_index("area_code")
    assert r["count_before"].tolist() == hand_b.reindex(r.index).tolist()
    assert r["count_after"].tolist() == hand_a.reindex(r.index).tolist()
    assert (r["difference"] == r["count_after"] - r["count_before"]).all()
    for _code, row in r.iterrows():
        ref = stats.binomtest(
            int(row["count_after"]), int(row["count_before"] + row["count_after"]), 0.5
        ).pvalue
        assert_allclose(row["p_value"], ref, rtol=1e-10)
    assert_allclose(r["q_value"], _bh_by_hand(r["p_value"].to_numpy()))
    # the summer rise in ASB is real in every district
    assert (r["direction"] == "increase").all()
    assert r.attrs["params"]["expected_share_after"] == 0.5


def test_relative_to_overall_removes_the_common_rise(real_incidents):
    r = change_between(real_incidents, before=BEFORE, after=AFTER, level="district", relative_to="overall")
    share = r["count_after"].sum() / (r["count_after"].sum() + r["count_before"].sum())
    assert_allclose(r.attrs["params"]["expected_share_after"], share)
    row = r.iloc[0]
    ref = stats.binomtest(
        int(row["count_after"]), int(row["count_before"] + row["count_after"]), share
    ).pvalue
    assert_allclose(row["p_value"], ref, rtol=1e-10)
    assert (r["direction"] == "no significant change").all()


def test_unequal_periods_compare_rates():
    inc = pd.DataFrame(
        {
            "month": pd.to_datetime(["2025-01-01"] * 10 + ["2025-04-01"] * 10),
            "category": "X",
            "source": "police.uk",
            "ward_code": "W1",
        }
    )
    b = Filter(month_from="2025-01", month_to="2025-02")
    a = Filter(month_from="2025-03", month_to="2025-06")
    r = change_between(inc, before=b, after=a, areas=["W1", "W2"])
    w1 = r.set_index("area_code").loc["W1"]
    assert w1["pct_change"] == -50.0  # 5 a month before, 2.5 a month after
    assert_allclose(w1["expected_after"], 20 * 4 / 6)
    assert_allclose(w1["p_value"], stats.binomtest(10, 20, 4 / 6).pvalue)
    w2 = r.set_index("area_code").loc["W2"]
    assert w2["direction"] == "no incidents" and np.isnan(w2["p_value"])
    assert w2["note"] == "no incidents in either period: nothing to test"
    assert "different length" in r.attrs["params"]["note"]


def test_per_grid_cell(real_incidents, geography):
    grid = make_grid(geography.study_area, cell_size=2000)
    r = change_between(real_incidents, before=BEFORE, after=AFTER, level=grid)
    assert list(r.columns) == GRID_COLUMNS
    assert r.crs.to_epsg() == 27700 and len(r) == grid.mask.sum()
    asb = real_incidents[real_incidents["category"] == ASB]
    inside = asb["ward_code"].notna()
    months = asb["month"].dt.month
    assert r["count_before"].sum() >= (inside & months.isin([1, 2, 3])).sum()
    assert r["count_after"].sum() <= (asb["x"].notna() & months.isin([7, 8, 9])).sum()
    tested = r["p_value"].notna()
    assert_allclose(r.loc[tested, "q_value"], _bh_by_hand(r.loc[tested, "p_value"].to_numpy()))


def test_small_grid_by_hand():
    grid = Grid(x0=0.0, y0=0.0, cell=100.0, nx=2, ny=1, mask=np.ones((1, 2), bool))
    inc = pd.DataFrame(
        {
            "month": pd.to_datetime(["2025-01-01"] * 2 + ["2025-02-01"] * 12),
            "category": "X",
            "source": "police.uk",
            "x": [50.0, 150.0] + [50.0] * 12,
            "y": 50.0,
        }
    )
    r = change_between(
        inc,
        before=Filter(month_from="2025-01", month_to="2025-01"),
        after=Filter(month_from="2025-02", month_to="2025-02"),
        level=grid,
    )
    assert r["count_before"].tolist() == [1, 1] and r["count_after"].tolist() == [12, 0]
    assert_allclose(r["p_value"], [2 * 14 / 2**13, 1.0])  # P(X >= 12 | 13, 1/2) = 14/8192, doubled
    assert r["direction"].tolist() == ["increase", "no significant change"]


# ---------------------------------------------------------------------------- checks inputs
def test_input_checks(real_incidents):
    with pytest.raises(InputError, match="`before` needs both month_from and month_to"):
        change_between(real_incidents, before=Filter(month_from="2025-01"), after=AFTER)
    with pytest.raises(
        InputError, match="the periods overlap: before is 2025-01 to 2025-03, after is 2025-03"
    ):
        change_between(real_incidents, before=BEFORE, after=AFTER.replace(month_from="2025-03"))
    with pytest.raises(InputError, match="`level` must be one of"):
        change_between(real_incidents, before=BEFORE, after=AFTER, level="street")
    with pytest.raises(InputError, match="`relative_to` must be one of 'time', 'overall'"):
        change_between(real_incidents, before=BEFORE, after=AFTER, relative_to="trend")
    with pytest.raises(InputError, match="`alpha` must be between 0 and 1"):
        change_between(real_incidents, before=BEFORE, after=AFTER, alpha=1.5)
    with pytest.raises(InputError, match="`after` must be a hotspots.filters.Filter"):
        change_between(real_incidents, before=BEFORE, after="2025-07")
