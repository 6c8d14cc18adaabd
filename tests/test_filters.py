import pandas as pd
import pytest

from hotspots._errors import InputError
from hotspots.filters import Filter


def test_filter_round_trips_through_query_and_dict():
    f = Filter(
        month_from="2025-03",
        month_to="2025-08",
        months_of_year=(6, 7),
        categories=("Drugs", "Anti-social behaviour"),
        level="district",
        areas=("E07000197",),
        hours=(22, 23),
    )
    assert Filter.from_query(f.to_query()) == f
    assert Filter.from_dict(f.to_dict()) == f
    assert Filter().to_query() == {}


def test_filter_mask_counts_match_hand_count(real_incidents):
    df = real_incidents
    f = Filter(month_from="2025-06", month_to="2025-08", categories=("Anti-social behaviour",))
    expected = (
        (df.month >= "2025-06-01") & (df.month <= "2025-08-01") & (df.category == "Anti-social behaviour")
    ).sum()
    assert f.mask(df).sum() == expected > 0
    summer = Filter(months_of_year=(6, 7, 8))
    assert summer.mask(df).sum() == df.month.dt.month.isin([6, 7, 8]).sum()


def test_day_and_hour_filters_keep_only_timed_incidents():
    df = pd.DataFrame(
        {
            "month": pd.to_datetime(["2025-01-01"] * 3),
            "category": ["a"] * 3,
            "source": ["s"] * 3,
            "occurred_at": pd.to_datetime(["2025-01-06 23:10", None, "2025-01-07 10:00"]),
        }
    )
    assert Filter(days_of_week=(0,)).mask(df).tolist() == [True, False, False]
    assert Filter(hours=(10,)).mask(df).tolist() == [False, False, True]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"month_from": "2025-13"}, "YYYY-MM"),
        ({"month_from": "2025-06", "month_to": "2025-01"}, "is after"),
        ({"level": "county"}, "must be one of lsoa, ward, district, locality"),
        ({"months_of_year": (0,)}, "between 1 and 12"),
        ({"days_of_week": (7,)}, "0 \\(Monday\\) to 6"),
        ({"hours": (24,)}, "between 0 and 23"),
    ],
)
def test_filter_rejects_bad_values(kwargs, match):
    with pytest.raises(InputError, match=match):
        Filter(**kwargs)


def test_previous_period_is_equal_length():
    f = Filter(month_from="2025-10", month_to="2025-12")
    assert f.previous_period() == Filter(month_from="2025-07", month_to="2025-09")
    assert Filter().previous_period() is None


def test_describe_names_the_level_in_plain_words():
    assert "localities: Tamworth" in Filter(level="locality", areas=("Tamworth",)).describe()
    assert "LSOAs: E01029925" in Filter(level="lsoa", areas=("E01029925",)).describe()
    assert "wards: E05014574" in Filter(level="ward", areas=("E05014574",)).describe()
