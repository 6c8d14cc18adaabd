"""Disclosure control: hand-made tables with the cells a person would withhold, worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from hotspots import audit
from hotspots._errors import InputError
from hotspots.disclosure import (
    NO_PUBLIC_SOURCE,
    SUPPRESSED,
    Rule,
    protect,
    public_filter,
    public_points,
    restricted_sources,
    set_restricted,
    set_rule,
    stored_rule,
)
from hotspots.filters import Filter
from hotspots.store import Store

NA = pd.NA


def test_one_column_small_count_and_the_next_smallest_are_withheld():
    # wards x one restricted source; the total (33) is published
    counts = pd.Series([3, 10, 20, 0], index=["A", "B", "C", "D"], name="cases")
    p = protect(counts)
    # 3 is small; alone it could be recovered as 33 - 10 - 20, so 10 (next smallest) goes too; 0 stays
    assert p.table["cases"].tolist() == [NA, NA, 20, 0, 33]
    assert p.primary["cases"].tolist() == [True, False, False, False]
    assert p.secondary["cases"].tolist() == [False, True, False, False]
    assert "counts of 1 to 4" in p.note and "(1 cell suppressed, 1 more to protect them)" in p.note


def test_two_way_table_secondary_suppression_by_hand():
    #          Jan Feb Mar | total
    # Ward A    2   9   7  |  18
    # Ward B    8   6  12  |  26
    # Ward C   10  11   5  |  26
    counts = pd.DataFrame(
        [[2, 9, 7], [8, 6, 12], [10, 11, 5]], index=["A", "B", "C"], columns=["Jan", "Feb", "Mar"]
    )
    p = protect(counts)
    # primary: A/Jan (2). Row A has one withheld: its smallest other is Mar (7).
    # Column Jan has one withheld: its smallest other is B (8). Column Mar has one: B (12) vs C (5): C/Mar.
    # Row B now has one (Jan): smallest other is Feb (6). Row C has one (Mar): smallest other Jan (10).
    # Column Feb has one (B): smallest other is A (9). Row A then has three; Jan has three; Mar two; Feb two.
    expected = pd.DataFrame(
        [[NA, NA, NA, 18], [NA, NA, 12, 26], [NA, 11, NA, 26], [20, 26, 24, 70]],
        index=["A", "B", "C", "Total"],
        columns=["Jan", "Feb", "Mar", "Total"],
    ).astype("Int64")
    pd.testing.assert_frame_equal(p.table, expected)
    hidden = p.primary | p.secondary
    # every row and column has 0 or at least 2 withheld cells: none can be recovered from a total
    assert set(hidden.sum(axis=0)) <= {0, 2, 3} and set(hidden.sum(axis=1)) <= {0, 2, 3}
    assert int(p.primary.to_numpy().sum()) == 1


def test_no_small_counts_nothing_withheld_and_zeros_shown():
    counts = pd.DataFrame([[0, 5], [12, 0]], index=["A", "B"], columns=["x", "y"])
    p = protect(counts)
    assert p.table.loc[["A", "B"], ["x", "y"]].to_numpy().tolist() == [[0, 5], [12, 0]]
    assert not p.secondary.to_numpy().any()


def test_a_line_that_cannot_be_protected_withholds_its_total():
    # column y: 3 is its only non-zero cell: its total would give it away
    counts = pd.DataFrame([[20, 3], [15, 0]], index=["A", "B"], columns=["x", "y"])
    p = protect(counts)
    assert p.table.loc["Total", "y"] is NA
    assert p.table.loc["A", "y"] is NA and p.table.loc["A", "x"] is NA  # row A: 3 then 20 withheld
    assert p.table.loc["B", "y"] == 0


def test_configurable_threshold():
    counts = pd.Series([6, 7, 30], index=["A", "B", "C"])
    assert protect(counts).table.iloc[:, 0].tolist() == [6, 7, 30, 43]
    assert protect(counts, rule=Rule(low=1, high=9)).table.iloc[:, 0].tolist() == [NA, NA, 30, 43]


def test_rounding_to_base_five():
    counts = pd.DataFrame([[2, 9], [13, 0]], index=["A", "B"], columns=["x", "y"])
    p = protect(counts, rule=Rule(method="round"))
    # 2 -> 5 (small counts shown as the base), 9 -> 10, 13 -> 15, 0 -> 0; totals rounded from exact 11, 13, 15, 9, 24
    assert p.table.to_numpy().tolist() == [[5, 10, 10], [15, 0, 15], [15, 10, 25]]
    assert "rounded to the nearest 5" in p.note


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "blur"}, r"disclosure method must be one of suppress, round; got 'blur'"),
        ({"low": 5, "high": 2}, r"threshold must satisfy 1 <= low <= high; got low=5, high=2"),
        ({"low": 0}, r"threshold must satisfy 1 <= low <= high; got low=0, high=4"),
        ({"method": "round", "base": 1}, r"rounding base must be at least 2; got 1"),
    ],
)
def test_bad_rules_are_refused(kwargs, match):
    with pytest.raises(InputError, match=match):
        Rule(**kwargs)


def test_bad_counts_are_refused():
    with pytest.raises(InputError, match="counts must be whole numbers of 0 or more, with no missing values"):
        protect(pd.Series([1.5, 2]))
    with pytest.raises(InputError, match="counts must be whole numbers"):
        protect(pd.Series([-1, 2]))


def test_marking_sources_is_stored_audited_and_police_uk_is_refused(tmp_path):
    store = Store(tmp_path / "d.duckdb")
    assert restricted_sources(store) == frozenset()
    set_restricted(store, "council-asb")
    set_restricted(store, "fly-tipping")
    set_restricted(store, "fly-tipping", False, user="admin@council.gov.uk", role="admin")
    assert restricted_sources(store) == frozenset({"council-asb"})
    log = audit.entries(store, action="restrict")
    assert log["detail"].tolist() == [
        "fly-tipping: no longer restricted",
        "fly-tipping: restricted",
        "council-asb: restricted",
    ]
    assert log["user"].iloc[0] == "admin@council.gov.uk" and log["role"].iloc[1] == "analyst"
    with pytest.raises(
        InputError, match="police.uk data is published openly and cannot be marked restricted"
    ):
        set_restricted(store, "police.uk")
    store.close()


def test_points_of_restricted_sources_are_left_out(real_incidents):
    inc = real_incidents.head(1000).copy()
    inc.loc[inc.index[:300], "source"] = "council-asb"
    pts = public_points(inc, frozenset({"council-asb", "police.uk"}))
    assert len(pts) == 700 and set(pts["source"]) == {"police.uk"}  # police.uk is never restricted


def test_withheld_cells_that_are_all_ones_are_protected_further():
    # 1 and 1 are withheld; with the total (52) and 20, 30 shown, 52 - 50 = 2 = two cells of at
    # least 1 each (zeros are shown): both are 1. So the next smallest (20) is withheld as well.
    p = protect(pd.Series([1, 1, 20, 30], index=list("ABCD")))
    assert p.table.iloc[:, 0].tolist() == [NA, NA, NA, 30, 52]
    assert p.secondary.iloc[:, 0].tolist() == [False, False, True, False]


def test_protected_table_as_text_marks_withheld_cells():
    p = protect(pd.Series([3, 10, 20], index=list("ABC"), name="n"))
    assert p.text()["n"].tolist() == ["[c]", "[c]", "20", "33"]
    assert SUPPRESSED == "[c]"


def test_public_filter_leaves_restricted_sources_out():
    sources = ["collisions", "council-asb", "police.uk"]
    r = {"council-asb", "police.uk"}  # police.uk is never left out, even if named
    assert public_filter(Filter(), r, sources).sources == ("collisions", "police.uk")
    assert public_filter(Filter(sources=("council-asb",)), r, sources).sources == (NO_PUBLIC_SOURCE,)
    f = Filter(sources=("police.uk",), categories=("Burglary",))
    assert public_filter(f, r, sources) == f
    assert public_filter(Filter(), set(), sources) == Filter()


def test_the_rule_is_stored_and_its_changes_audited(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    assert stored_rule(store) == Rule()
    set_rule(store, Rule(method="round", base=10))
    set_rule(store, Rule(low=1, high=9), user="ig@council.gov.uk", role="admin")
    assert stored_rule(store) == Rule(low=1, high=9)
    log = audit.entries(store, action="disclosure")
    assert log["detail"].tolist() == [
        "round to base 10, 1-4 shown as 10 -> suppress 1-9",
        "suppress 1-4 -> round to base 10, 1-4 shown as 10",
    ]
    assert log["user"].iloc[0] == "ig@council.gov.uk" and log["via"].iloc[1] == "cli"
    store.close()
