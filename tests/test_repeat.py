import numpy as np
import pandas as pd
import pytest

from hotspots._errors import InputError
from hotspots.filters import Filter
from hotspots.repeat import REPEAT_COLUMNS, repeat_locations, top_text


def test_rejects_non_incident_input():
    with pytest.raises(InputError, match="`incidents` lacks the column\\(s\\) category, month"):
        repeat_locations(pd.DataFrame({"x": [1.0], "y": [1.0]}))
    with pytest.raises(InputError, match="`incidents` must be an incident DataFrame; got list"):
        repeat_locations([1, 2])


def test_ranked_table_against_hand_count(real_incidents):
    f = Filter(month_from="2025-06", month_to="2025-08")
    table = repeat_locations(real_incidents, filt=f)
    assert list(table.columns) == REPEAT_COLUMNS
    sel = f.apply(real_incidents)
    located = sel[np.isfinite(sel["x"])]
    hand = located.groupby("location_id").size().sort_values(ascending=False)
    assert table["count"].tolist() == hand.tolist()
    assert set(table["location_id"].head(20)) <= set(hand.index[hand >= hand.iloc[19]])
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    assert table["share"].sum() == pytest.approx(1.0)
    assert table["cumulative_share"].iloc[-1] == pytest.approx(1.0)
    assert table["cumulative_share"].is_monotonic_increasing
    top = table.iloc[0]
    rows = located[located["location_id"] == top["location_id"]]
    assert top["location_name"] == rows["location_name"].mode().iloc[0]
    assert top["months_active"] == rows["month"].nunique()
    first_cat = rows["category"].value_counts().index[0]
    assert top["top_categories"].startswith(f"{first_cat} ({rows['category'].value_counts().iloc[0]})")
    p = table.attrs["params"]
    assert p["n_incidents"] == len(located) and p["n_left_off"] == len(sel) - len(located)
    k80 = p["locations_holding_80pct"]
    assert table["cumulative_share"].iloc[k80 - 1] >= 0.8 > table["cumulative_share"].iloc[k80 - 2]
    # the 80/20 view: a minority of locations holds 80% of incidents
    assert p["share_of_locations_holding_80pct"] < 0.5


def test_without_location_id_uses_coordinates(real_incidents):
    df = real_incidents[real_incidents["month"] == "2025-02-01"].drop(columns="location_id")
    table = repeat_locations(df)
    ref = repeat_locations(real_incidents[real_incidents["month"] == "2025-02-01"])
    # the fixture's location_id joins points within a metre; coordinates split them
    assert table["count"].sum() == ref["count"].sum()
    assert abs(len(table) - len(ref)) <= 0.01 * len(ref)
    assert table["count"].head(10).tolist() == ref["count"].head(10).tolist()


def test_empty_filter(real_incidents):
    table = repeat_locations(real_incidents, filt=Filter(categories=("No such crime",)))
    assert table.empty and list(table.columns) == REPEAT_COLUMNS
    assert "no incidents" in table.attrs["params"]["note"]


def test_single_incident_and_one_point(real_incidents):
    one = real_incidents[np.isfinite(real_incidents["x"])].head(1)
    t = repeat_locations(one)
    assert t["count"].tolist() == [1] and t["cumulative_share"].tolist() == [1.0]
    same = pd.concat([one] * 30, ignore_index=True)
    t = repeat_locations(same)
    assert len(t) == 1 and t["count"].iloc[0] == 30


def test_top_text_ties_alphabetical():
    s = top_text(np.array([1, 1, 1, 2]), pd.Series(["b", "a", None, "c"]), 2)
    assert s.to_dict() == {1: "a (1); b (1)", 2: "c (1)"}
