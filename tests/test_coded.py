"""The integer-coded path of the hotspot list (hotspots/coded.py) gives the list of the path before.

The speed work of issue 9 replaced the copies of the filtered frame and the text groupbys by
masks over coded columns. These tests check that nothing else changed: the list, its names and
its parameters are identical to those of the path before (``tests/places_reference.py``, a
frozen copy) on the real 2025 sample, both as the store hands it out (categorical columns) and
as plain text columns; and the counting helpers agree with a hand groupby.
"""

import numpy as np
import pandas as pd
import pytest
import shapely
from places_reference import find_hotspots_before

from hotspots.coded import PlaceRows, codes_for, count_pairs, top_labels
from hotspots.filters import Filter
from hotspots.hotspot_list import find_hotspots
from hotspots.naming import namer_for
from hotspots.repeat import top_text

H2 = Filter(month_from="2025-07", month_to="2025-12")


@pytest.fixture(scope="module")
def store_frame(sample_store_path):
    from hotspots.store import Store

    store = Store(sample_store_path)
    return store.incidents(), store.geography()


@pytest.fixture(scope="module")
def plain_frame(real_incidents):
    """The sample with plain text columns (not categorical), in another row order."""
    df = real_incidents.copy()
    return df.iloc[np.random.default_rng(3).permutation(len(df))].reset_index(drop=True)


def assert_same_list(new, old):
    assert list(new.columns) == list(old.columns)
    pd.testing.assert_frame_equal(
        pd.DataFrame(new.drop(columns="geometry")), pd.DataFrame(old.drop(columns="geometry"))
    )
    assert new.geometry.geom_equals_exact(old.geometry, 0).all()
    assert new.params == old.params


# ---------------------------------------------------------------- checks outputs
@pytest.mark.parametrize(
    "filt, options",
    [
        (None, {}),  # the Hotspots page on opening: every month, the default micro places
        (H2, {}),  # a period with its previous period in the data (change columns)
        (Filter(month_from="2025-04", month_to="2025-12", categories=("Burglary", "Robbery")), {}),
        (Filter(level="district", areas=("E06000021",)), {}),  # Stoke-on-Trent: the grid on it
        (H2, {"method": "kde"}),
        (H2, {"method": "count"}),
        (H2, {"split": "touching", "cell_size": "display"}),
        (H2, {"method": "repeat"}),
        (H2, {"measure": "harm"}),  # ranked by harm (issue 11)
        (Filter(month_from="2025-04", month_to="2025-12"), {"method": "repeat", "measure": "harm"}),
        (Filter(month_from="2025-10", categories=("Anti-social behaviour",)), {"method": "dbscan"}),
    ],
)
def test_store_frame_list_identical_to_the_path_before(store_frame, filt, options):
    incidents, geography = store_frame
    new = find_hotspots(incidents, geography=geography, filt=filt, **options)
    old = find_hotspots_before(incidents, geography=geography, filt=filt, **options)
    assert len(new) > 0
    assert_same_list(new, old)


@pytest.mark.parametrize("filt", [H2, Filter(categories=("Shoplifting",), month_from="2025-06")])
def test_plain_text_frame_list_identical_to_the_path_before(plain_frame, geography, filt):
    new = find_hotspots(plain_frame, geography=geography, filt=filt)
    old = find_hotspots_before(plain_frame, geography=geography, filt=filt)
    assert len(new) > 0
    assert_same_list(new, old)


def test_counts_and_months_by_hand(store_frame):
    """Counts, months and change of the first places against a hand count of the raw rows."""
    incidents, geography = store_frame
    hl = find_hotspots(incidents, geography=geography, filt=H2)
    cell, x0, y0 = (hl.params[k] for k in ("cell_size_m", "grid_x0", "grid_y0"))
    inc = incidents[np.isfinite(incidents["x"])]
    # each incident's grid cell as a box shrunk by 1 m: it meets only the place holding the cell
    ix = np.floor((inc["x"].to_numpy() - x0) / cell)
    iy = np.floor((inc["y"].to_numpy() - y0) / cell)
    boxes = shapely.box(
        x0 + ix * cell + 1, y0 + iy * cell + 1, x0 + (ix + 1) * cell - 1, y0 + (iy + 1) * cell - 1
    )
    for _, row in hl.head(5).iterrows():
        inside = inc[shapely.intersects(boxes, row.geometry)]
        now = inside[(inside["month"] >= "2025-07-01") & (inside["month"] <= "2025-12-01")]
        before = inside[(inside["month"] >= "2025-01-01") & (inside["month"] <= "2025-06-01")]
        assert row["count"] == len(now)
        assert row["previous_count"] == len(before)
        assert row["months_active"] == now["month"].nunique()
        assert row["first_month"] == now["month"].min().strftime("%Y-%m")
        assert row["last_month"] == now["month"].max().strftime("%Y-%m")
        top = now["category"].astype(str).value_counts()
        assert row["top_categories"].startswith(f"{top.index[0]} ({top.iloc[0]})")


def test_codes_are_built_once_per_frame(store_frame):
    incidents, _ = store_frame
    assert codes_for(incidents) is codes_for(incidents)
    copy = incidents.copy()
    assert codes_for(copy) is not codes_for(incidents)


@pytest.mark.parametrize("frame", ["store", "plain"])
def test_name_rows_same_as_name(store_frame, plain_frame, geography, frame):
    """Naming from the coded frame equals naming a copy of the rows, by map point and by row."""
    df = store_frame[0] if frame == "store" else plain_frame
    codes = codes_for(df)
    rows = np.flatnonzero(H2.mask(df) & codes.located)
    namer = namer_for(df, geography)
    ward = df["ward_code"].astype("category").cat.codes.to_numpy()[rows]
    rng = np.random.default_rng(4)
    # any grouping will do for the namer: 40 groups of wards (each map point in one place: summed
    # over map points), then places drawn at random per incident (summed over rows)
    for place in (ward % 40 + 1, rng.integers(1, 41, rows.size)):
        member = np.zeros(len(df), dtype=np.int64)
        member[rows] = place
        expected = namer.name(member, df)
        assert len(expected) == 40
        places = PlaceRows(codes, rows, place)
        assert (places.by_location is not None) == (
            place is not None and np.array_equal(place, ward % 40 + 1)
        )
        pd.testing.assert_series_equal(namer.name_rows(places), expected)


def test_place_rows_pairs_by_hand(store_frame):
    """(place, ward) counts summed over map points equal a groupby of the rows."""
    df = store_frame[0]
    codes = codes_for(df)
    rows = np.flatnonzero(codes.located)
    place = df["district_code"].cat.codes.to_numpy()[rows] + 2
    pr = PlaceRows(codes, rows, place)
    assert pr.by_location is not None and codes.per_location("ward_code") is not None
    assert codes.per_location("category") is None  # many categories at one map point
    for col in ("ward_code", "category"):
        p, c, n = pr.pairs(col)
        got = pd.Series(n, index=pd.MultiIndex.from_arrays([p, c])).sort_index()
        sub = pd.DataFrame({"p": place, "c": df[col].cat.codes.to_numpy()[rows]})
        expected = sub[sub["c"] >= 0].groupby(["p", "c"]).size()
        assert got.index.tolist() == expected.index.tolist() and got.tolist() == expected.tolist()


# ---------------------------------------------------------------- the counting helpers
def test_count_pairs_by_hand():
    rng = np.random.default_rng(0)
    key = rng.integers(0, 50, 20_000)
    for width in (7, 200_000):  # a dense table and a hashed one
        code = rng.integers(0, width, 20_000)
        k, c, n, _ = count_pairs(key, code)
        got = pd.Series(n, index=pd.MultiIndex.from_arrays([k, c])).sort_index()
        expected = pd.DataFrame({"k": key, "c": code}).groupby(["k", "c"]).size()
        assert got.to_numpy().tolist() == expected.to_numpy().tolist()
        assert got.index.tolist() == expected.index.tolist()
    k, c, n, first = count_pairs(key, code, first=True)
    pairs = list(zip(key.tolist(), code.tolist(), strict=True))
    assert [pairs[i] for i in first] == list(zip(k.tolist(), c.tolist(), strict=True))
    seen: dict = {}
    for i, p in enumerate(pairs):
        seen.setdefault(p, i)
    assert first.tolist() == [seen[p] for p in zip(k.tolist(), c.tolist(), strict=True)]
    assert list(first) == sorted(first)


def test_top_labels_same_as_top_text(real_incidents):
    inc = real_incidents[np.isfinite(real_incidents["x"])]
    key = (inc["ward_code"].astype("category").cat.codes.to_numpy() % 40) + 1
    for col in ("category", "location_name", "district_code"):
        values = inc[col].astype(object)
        c, u = pd.factorize(values)
        assert top_labels(key, c, np.asarray(u, dtype=object), 3).equals(top_text(key, values, 3))
        assert top_labels(key, c, np.asarray(u, dtype=object), 1, counts=False).equals(
            top_text(key, values, 1, counts=False)
        )
    # labels repeated under several codes (ward names of two districts) count together
    c = np.array([0, 1, 2, 1, 0, -1])
    labels = np.array(["Town", "Park", "Town"], dtype=object)
    out = top_labels(np.ones(6, dtype=int), c, labels, 3)
    assert out.loc[1] == "Town (3); Park (2)"
    assert (
        top_labels(np.ones(3, dtype=int), np.array([0, 0, 1]), np.array([None, "A"], dtype=object), 2).loc[1]
        == "A (1)"
    )
