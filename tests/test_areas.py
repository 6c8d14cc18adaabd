import numpy as np
import pandas as pd
import pytest

from hotspots._errors import InputError
from hotspots.areas import (
    APPROXIMATE_NOTE,
    AREA_TABLE_COLUMNS,
    CodedIncidents,
    area_month_table,
    area_table,
    compare_priority,
)
from hotspots.filters import Filter


def test_ward_table_matches_a_hand_count(real_incidents, geography):
    f = Filter(month_from="2025-04", month_to="2025-09", categories=("Anti-social behaviour",))
    t = area_table(real_incidents, geography=geography, filt=f, level="ward")
    assert list(t.columns) == AREA_TABLE_COLUMNS
    sub = real_incidents[
        (real_incidents.month >= "2025-04-01")
        & (real_incidents.month <= "2025-09-01")
        & (real_incidents.category == "Anti-social behaviour")
    ]
    hand = sub.groupby("ward_code").size()
    got = t.set_index("area_code")["count"]
    assert (got.reindex(hand.index) == hand).all()
    assert got.sum() == hand.sum()
    assert t.attrs["unplaced"] == sub["ward_code"].isna().sum()
    assert len(t) == geography.areas("ward").shape[0]  # wards with no incidents are listed with 0
    row = t.iloc[0]
    assert row["rank"] == 1 and row["count"] == hand.max()
    assert row["rate_per_1000"] == pytest.approx(row["count"] / row["population"] * 1000)
    assert t["share_of_incidents"].sum() == pytest.approx(1)
    assert t["share_of_population"].sum() == pytest.approx(1)


def test_district_populations_are_census_sums(geography):
    d = area_table(
        pd.DataFrame({c: [] for c in ("month", "category", "source", "district_code")}).astype(
            {"month": "datetime64[ns]"}
        ),
        geography=geography,
        level="district",
    )
    assert d["population"].sum() == 1_134_501
    stoke = d.set_index("area_code").loc["E06000021"]
    assert stoke["area_name"] == "Stoke-on-Trent" and stoke["population"] == 258_383
    assert (d["count"] == 0).all()


def test_area_with_no_residents_gets_no_rate(real_incidents, geography):
    geo = type(geography)(lsoas=geography.lsoas.copy())
    geo.lsoas.loc[geo.lsoas["ward_code"] == geo.lsoas["ward_code"].iloc[0], "population"] = 0
    t = area_table(real_incidents, geography=geo, level="ward").set_index("area_code")
    assert np.isnan(t.loc[geo.lsoas["ward_code"].iloc[0], "rate_per_1000"])


def test_priority_comparison_in_strategy_words(real_incidents, geography):
    t = area_table(real_incidents, geography=geography, level="ward")
    top = list(t["area_code"][:10])
    cmp = compare_priority(t, top)
    p = t[t.area_code.isin(top)]
    r = t[~t.area_code.isin(top)]
    assert cmp.priority_rate == pytest.approx(p["count"].sum() / p["population"].sum() * 1000)
    assert cmp.rest_rate == pytest.approx(r["count"].sum() / r["population"].sum() * 1000)
    assert cmp.ratio == pytest.approx(cmp.priority_rate / cmp.rest_rate)
    text = cmp.sentence()
    assert text.startswith("Priority wards have an all-crime rate of") and "times the" in text
    with pytest.raises(InputError, match="priority areas not found at this level: E99"):
        compare_priority(t, ["E99"])
    with pytest.raises(InputError, match="every area is a priority area"):
        compare_priority(t, list(t.area_code))
    with pytest.raises(InputError, match="choose at least one priority area"):
        compare_priority(t, [])


def test_coded_counts_equal_groupby_for_many_filters(real_incidents):
    coded = CodedIncidents(real_incidents)
    for f in [
        Filter(),
        Filter(month_from="2025-06", categories=("Drugs", "Robbery")),
        Filter(months_of_year=(10, 11), level="district", areas=("E06000021",)),
        Filter(sources=("nothing",)),
    ]:
        wide = coded.counts_by_area_month(f, "ward")
        ref = f.apply(real_incidents).groupby(["ward_code", "month"]).size()
        got = wide.stack()
        got = got[got > 0]
        got.index = got.index.set_names(["ward_code", "month"])
        assert got.sum() == ref.sum()
        pd.testing.assert_series_equal(
            got.sort_index().astype("int64"),
            ref.sort_index().astype("int64"),
            check_names=False,
            check_index_type=False,
        )


def test_area_month_table_is_zero_filled(real_incidents, geography):
    t = area_month_table(
        real_incidents, geography=geography, filt=Filter(categories=("Bicycle theft",)), level="district"
    )
    assert len(t) == 9 * 12
    assert (
        t["count"].sum()
        == ((real_incidents.category == "Bicycle theft") & real_incidents.district_code.notna()).sum()
    )


def test_bad_level_is_rejected(real_incidents, geography):
    with pytest.raises(InputError, match="`level` must be one of lsoa, ward, district, locality"):
        area_table(real_incidents, geography=geography, level="county")


def test_area_table_areas_from_reported_codes_have_exact_outlines(real_incidents, geography):
    t = area_table(real_incidents, geography=geography, level="ward")
    assert (t["outline"] == "boundary").all() and t.attrs["note"] == ""
    wm = pd.DataFrame({"lsoa_code": ["E01009245"], "x": [407000.0], "y": [293000.0]})
    geo = geography.with_reported_areas(wm)
    t = area_table(real_incidents, geography=geo, level="district").set_index("area_code")
    # West Midlands' outlines are its ONS LSOAs (no hulls since the national LSOAs ship)
    assert t.loc["E08000025", "outline"] == "boundary" and t.loc["E07000197", "outline"] == "boundary"
    assert t.attrs["note"] == "" != APPROXIMATE_NOTE
    # West Midlands residents join the denominator of the shares
    assert t["population"].sum() == 1_134_501 + 2_919_639
