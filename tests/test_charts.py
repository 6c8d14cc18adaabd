"""dashboard.charts: the monthly chart's x-axis ticks fall on months (issue 10, item 5)."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import charts
from hotspots.expected import expected_range
from hotspots.trends import monthly_series


def _x_axis(chart) -> dict:
    spec = chart.to_dict()
    xs = [layer["encoding"]["x"] for layer in spec["layer"]]
    assert all(x == xs[0] for x in xs), "every layer shares one month axis"
    return xs[0]


def test_monthly_ticks_are_exactly_the_twelve_months_of_the_sample(real_incidents):
    exp = expected_range(monthly_series(real_incidents))
    x = _x_axis(charts.monthly(exp))
    months = [f"{m} 2025" for m in ("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec").split()]
    # one position per month, in time order, and one tick on each: no repeated "Mar 2025", December there
    assert x["type"] == "ordinal"
    assert x["scale"]["domain"] == months
    assert x["axis"]["values"] == months
    assert x["axis"]["labelOverlap"] is False  # the theme's overlap rule hid every other label
    data = pd.DataFrame(next(iter(chart_datasets(charts.monthly(exp)))))
    assert data["month_label"].tolist() == months
    assert data["count"].sum() == len(real_incidents)


def chart_datasets(chart):
    return chart.to_dict()["datasets"].values()


@pytest.mark.parametrize(
    ("start", "periods", "step"),
    [("2025-01-01", 13, 1), ("2024-01-01", 24, 2), ("2020-04-01", 36, 3), ("2016-01-01", 120, 12)],
)
def test_long_series_label_every_kth_month_from_january(start, periods, step):
    months = pd.date_range(start, periods=periods, freq="MS")
    ticks = charts.month_ticks(pd.Series(months))
    expected = [m.strftime("%b %Y") for m in months if (m.month - 1) % step == 0]
    assert ticks == expected
    assert len(ticks) <= charts.MAX_MONTH_LABELS
    # every tick is one of the series' own months, in order
    labels = [m.strftime("%b %Y") for m in months]
    assert [labels.index(t) for t in ticks] == sorted(labels.index(t) for t in ticks)
