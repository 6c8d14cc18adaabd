"""Harm weights: the shipped defaults, user files, and harm-weighted area tables on the real sample."""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from hotspots.areas import area_table
from hotspots.cli import main
from hotspots.filters import Filter
from hotspots.harm import (
    DEFAULT_FILE,
    TRANSCRIPTION_FILE,
    HarmWeights,
    check_measure,
    default_weights,
    incident_weights,
    read_weights,
)
from hotspots.ingest import POLICE_CATEGORIES


# ---------------------------------------------------------------------------- checks outputs
def test_shipped_weights_are_the_median_css_weight_of_each_category():
    offences = defaultdict(list)
    with open(TRANSCRIPTION_FILE, newline="") as fh:
        for row in csv.DictReader(fh):
            offences[row["category"]].append(float(row["offence_weight"]))
    w = default_weights()
    assert set(w.as_dict()) == set(POLICE_CATEGORIES)
    for cat in POLICE_CATEGORIES:
        if cat == "Anti-social behaviour":
            assert w.weight(cat) == 10  # no CSS weight: the lowest public order offence weight
            assert min(offences["Public order"]) == 10
            continue
        assert w.weight(cat) == pytest.approx(statistics.median(offences[cat]), abs=1e-3), cat
    assert w.weight("Fly-tipping") == 1.0  # partner categories: the default
    assert w.weight("Violence and sexual offences") > w.weight("Shoplifting")


def test_harm_ward_table_equals_a_hand_computation(real_incidents, geography):
    w = default_weights()
    filt = Filter(month_from="2025-01", month_to="2025-06")
    table = area_table(real_incidents, geography=geography, filt=filt, level="ward", measure="harm")
    # hand: count by ward x category (independent frame, no hotspots.ingest), times the weight
    sub = real_incidents[
        (real_incidents["month"] >= "2025-01-01") & (real_incidents["month"] <= "2025-06-01")
    ]
    counts = sub.groupby(["ward_code", "category"]).size()
    hand = defaultdict(float)
    for (ward, cat), n in counts.items():
        hand[ward] += n * w.weight(cat)
    got = table.set_index("area_code")["harm"]
    for ward, value in hand.items():
        assert got[ward] == pytest.approx(value, rel=1e-12)
    assert got.drop(list(hand)).eq(0).all()
    assert table["share_of_harm"].sum() == pytest.approx(1.0)
    top = table.iloc[0]
    assert top["rank"] == 1 and top["harm"] == pytest.approx(max(hand.values()), rel=1e-12)
    pop = table.set_index("area_code")["population"]
    ward = table["area_code"].iloc[0]
    assert table.set_index("area_code").loc[ward, "harm_per_1000"] == pytest.approx(
        hand[ward] / pop[ward] * 1000
    )
    assert table.attrs["measure"] == "harm" and table.attrs["weights"]["weights"]["Robbery"] == 746
    # the count columns are the same as a count table's
    plain = area_table(real_incidents, geography=geography, filt=filt, level="ward")
    pd.testing.assert_series_equal(
        table.set_index("area_code")["count"].sort_index(), plain.set_index("area_code")["count"].sort_index()
    )


def test_raising_one_weight_moves_the_ward_that_has_more_of_it(real_incidents, geography):
    w = default_weights()
    table = area_table(real_incidents, geography=geography, level="ward", measure="harm", weights=w)
    by = real_incidents.groupby(["ward_code", "category"]).size().unstack(fill_value=0)
    by = by.reindex(table["area_code"], fill_value=0)
    # a, b: the highest-ranked pair (a above b) where b has more of some category than a
    codes = list(table["area_code"].iloc[:20])
    a, b = next((x, y) for i, x in enumerate(codes) for y in codes[i + 1 :] if (by.loc[y] > by.loc[x]).any())
    more_in_b = [c for c in by.columns if by.loc[b, c] > by.loc[a, c]]
    cat = max(more_in_b, key=lambda c: by.loc[b, c] - by.loc[a, c])
    h = table.set_index("area_code")["harm"]
    gap = float(h[a] - h[b])
    extra = gap / (by.loc[b, cat] - by.loc[a, cat]) + 1.0  # just enough to swap them
    w2 = w.replace({cat: w.weight(cat) + extra})
    t2 = area_table(real_incidents, geography=geography, level="ward", measure="harm", weights=w2).set_index(
        "area_code"
    )
    assert t2.loc[b, "rank"] < t2.loc[a, "rank"]
    assert t2.loc[a, "harm"] == pytest.approx(h[a] + extra * by.loc[a, cat])
    assert t2.loc[b, "harm"] == pytest.approx(h[b] + extra * by.loc[b, cat])
    # other wards move by exactly their count of that category times the change
    moved = t2["harm"] - h.reindex(t2.index)
    np.testing.assert_allclose(moved, extra * by[cat].reindex(t2.index).fillna(0), rtol=1e-9, atol=1e-6)


def test_incident_weights_per_row(real_incidents):
    sub = real_incidents.head(500)
    w = HarmWeights((("Robbery", 5.0), ("Anti-social behaviour", 2.0)), default=0.5, name="t")
    got = incident_weights(sub, measure="harm", weights=w)
    want = np.array([{"Robbery": 5.0, "Anti-social behaviour": 2.0}.get(c, 0.5) for c in sub["category"]])
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(incident_weights(sub), np.ones(len(sub)))


def test_weights_file_round_trip_and_star_default(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("category,weight,basis\nRobbery,100,mine\nFly-tipping,3,\n*,0.5,others\n")
    w = read_weights(path)
    assert w.as_dict() == {"Robbery": 100.0, "Fly-tipping": 3.0}
    assert w.default == 0.5 and w.name == "w.csv"
    assert read_weights(DEFAULT_FILE).as_dict() == default_weights().as_dict()
    assert "Robbery 100" in w.describe()


def test_cli_areas_harm_with_weights_file(sample_store_path, tmp_path, capsys):
    wfile = tmp_path / "weights.csv"
    wfile.write_text("category,weight\nAnti-social behaviour,0\n*,1\n")
    out = tmp_path / "wards.csv"
    code = main(
        [
            "areas",
            "--store",
            str(sample_store_path),
            "--measure",
            "harm",
            "--weights",
            str(wfile),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    df = pd.read_csv(out)
    # ASB weighs 0 and everything else 1: harm is the count of crimes (not ASB) by ward
    raw = main(["areas", "--store", str(sample_store_path), "--out", str(tmp_path / "all.csv")])
    assert raw == 0
    assert (df["harm"] <= df["count"]).all() and df["harm"].sum() < df["count"].sum()
    assert "weights.csv" in df["parameters"].iloc[0]
    assert df["rank"].iloc[0] == 1 and df["harm"].iloc[0] == df["harm"].max()


# ---------------------------------------------------------------------------- checks inputs
def test_weights_file_errors(tmp_path):
    p = tmp_path / "w.csv"
    p.write_text("")
    with pytest.raises(ValueError, match="w.csv: the weights file is empty; expected a header"):
        read_weights(p)
    p.write_text("type,value\nRobbery,3\n")
    with pytest.raises(
        ValueError, match=r"w.csv, line 1: the weights file needs columns `category` and `weight`"
    ):
        read_weights(p)
    p.write_text("category,weight\nRobbery,3\nBurglary,lots\n")
    with pytest.raises(
        ValueError, match=r"line 3: the weight of 'Burglary' must be a number of 0 or more; got 'lots'"
    ):
        read_weights(p)
    p.write_text("category,weight\nRobbery,-1\n")
    with pytest.raises(
        ValueError, match=r"line 2: the weight of 'Robbery' must be a number of 0 or more; got '-1'"
    ):
        read_weights(p)
    p.write_text("category,weight\nRobbery,1\nRobbery,2\n")
    with pytest.raises(ValueError, match=r"line 3: the category 'Robbery' is given twice"):
        read_weights(p)
    p.write_text("category,weight\nRobbery\n")
    with pytest.raises(ValueError, match=r"line 2: expected a category and a weight; got 'Robbery'"):
        read_weights(p)
    with pytest.raises(ValueError, match="cannot read the weights file"):
        read_weights(tmp_path / "missing.csv")


def test_bad_measure_and_weights(real_incidents, geography):
    with pytest.raises(ValueError, match=r"`measure` must be one of count, harm; got 'severity'"):
        check_measure("severity")
    with pytest.raises(ValueError, match=r"`measure` must be one of count, harm; got 'cost'"):
        area_table(real_incidents, geography=geography, measure="cost")
    with pytest.raises(
        ValueError, match=r"the harm weight of 'Robbery' must be a number of 0 or more; got -2"
    ):
        HarmWeights((("Robbery", -2),))
    with pytest.raises(ValueError, match=r"the default harm weight must be a number of 0 or more; got nan"):
        HarmWeights((), default=float("nan"))


def test_cli_weights_need_harm(sample_store_path, tmp_path, capsys):
    wfile = tmp_path / "weights.csv"
    wfile.write_text("category,weight\nRobbery,1\n")
    code = main(
        [
            "areas",
            "--store",
            str(sample_store_path),
            "--weights",
            str(wfile),
            "--out",
            str(tmp_path / "a.csv"),
        ]
    )
    assert code == 1
    assert "--weights applies only with --measure harm" in capsys.readouterr().err


def test_monthly_harm_equals_a_hand_sum(real_incidents):
    from hotspots.trends import monthly_series

    w = default_weights()
    s = monthly_series(real_incidents, level="district", measure="harm", weights=w)
    hand = (
        real_incidents.assign(w=real_incidents["category"].map(w.weight).astype(float))
        .groupby(["district_code", "month"])["w"]
        .sum()
    )
    got = s.set_index(["area_code", "month"])["harm"]
    for (district, month), value in hand.items():
        assert float(got[(district, month)]) == pytest.approx(value, rel=1e-12)
    assert s["count"].sum() == real_incidents["district_code"].notna().sum()
    assert s.attrs["measure"] == "harm" and "harm" not in monthly_series(real_incidents).columns


def test_cli_trends_harm(sample_store_path, tmp_path):
    out = tmp_path / "t.csv"
    code = main(
        ["trends", "--store", str(sample_store_path), "--whole-area", "--measure", "harm", "--out", str(out)]
    )
    assert code == 0
    df = pd.read_csv(out)
    assert {"harm", "harm_rolling_12"} <= set(df.columns)
    assert df["harm"].iloc[0] > df["count"].iloc[0] > 0
    assert df["harm_rolling_12"].notna().sum() == 1  # 12 months loaded: the last one has a full year
    assert "harm_weights" in df["parameters"].iloc[0]


def test_cli_weights_writes_an_editable_copy(tmp_path, capsys):
    out = tmp_path / "w.csv"
    assert main(["weights", "--out", str(out)]) == 0
    assert read_weights(out).as_dict() == default_weights().as_dict()
    assert "basis" in out.read_text().splitlines()[0]
    assert main(["weights", "--out", str(tmp_path / "w.xlsx")]) == 1
    assert "cannot write w.xlsx: the weights file must end in .csv" in capsys.readouterr().err
