import numpy as np
import pytest

from hotspots._errors import CRSError, InputError
from hotspots.evaluate import METRICS, compare, evaluate, place_coverage, score_cells
from hotspots.filters import Filter
from hotspots.grid import MICRO_CELL_SIZE, make_grid

TRAIN = Filter(month_from="2025-01", month_to="2025-09")
TEST = Filter(month_from="2025-10", month_to="2025-12")


@pytest.fixture(scope="module")
def incidents(real_incidents):
    return real_incidents


# ---------------------------------------------------------------- checks inputs
def test_rejects_bad_area_share(incidents, geography):
    with pytest.raises(InputError, match="`area_share` must be a share of the area between 0 and 1"):
        evaluate(incidents, method="count", train=TRAIN, test=TEST, area_share=5, geography=geography)
    with pytest.raises(InputError, match="`area_share` must be a positive number"):
        evaluate(incidents, method="count", train=TRAIN, test=TEST, area_share=0, geography=geography)


def test_rejects_unknown_method_and_option(incidents, geography):
    with pytest.raises(
        InputError, match="`method` must be one of 'count', 'eb_count', 'kde', 'gistar', 'dbscan', 'repeat'"
    ):
        evaluate(incidents, method="svm", train=TRAIN, test=TEST, geography=geography)
    with pytest.raises(
        InputError, match="method 'count' has no option 'eps' for evaluation; its options are none"
    ):
        evaluate(incidents, method="count", train=TRAIN, test=TEST, geography=geography, eps=100)


def test_rejects_empty_periods(incidents, geography):
    with pytest.raises(
        InputError, match="the test filter \\(2026-01 to 2026-03; all categories\\) holds no incidents"
    ):
        evaluate(
            incidents, train=TRAIN, test=Filter(month_from="2026-01", month_to="2026-03"), geography=geography
        )
    with pytest.raises(InputError, match="the training filter .* holds no incidents"):
        evaluate(incidents, train=Filter(categories=("Nothing",)), test=TEST, geography=geography)
    with pytest.raises(InputError, match="`train` must be a hotspots.filters.Filter"):
        evaluate(incidents, train="2025-01", test=TEST, geography=geography)


def test_rejects_geographic_crs(incidents, geography):
    import boundaries

    wgs = boundaries.Geography(lsoas=geography.lsoas.to_crs(4326))
    with pytest.raises(CRSError, match="geographic CRS"):
        evaluate(incidents, method="count", train=TRAIN, test=TEST, geography=wgs)


# ---------------------------------------------------------------- checks outputs
def test_count_metrics_by_hand(incidents, geography):
    r = evaluate(incidents, method="count", train=TRAIN, test=TEST, area_share=0.01, geography=geography)
    for m in METRICS:
        assert np.isfinite(r[m])
    grid = make_grid(geography.study_area, cell_size=MICRO_CELL_SIZE)  # the default: micro-cells
    tr = TRAIN.apply(incidents)
    te = TEST.apply(incidents)
    trc = grid.counts(tr["x"], tr["y"])
    tec = grid.counts(te["x"], te["y"])
    k = round(0.01 * grid.mask.sum())
    top = np.argsort(-np.where(grid.mask, trc, -1).ravel(), kind="stable")[:k]
    hits = tec.ravel()[top].sum()
    n_test = tec[grid.mask].sum()
    assert r["cells_selected"] == k and r["hits"] == hits and r["n_test"] == n_test
    assert r["hit_rate"] == pytest.approx(hits / n_test)
    assert r["area_share"] == pytest.approx(k / grid.mask.sum())
    assert r["pai"] == pytest.approx((hits / n_test) / (k / grid.mask.sum()))
    best = np.sort(tec[grid.mask])[::-1][:k].sum()
    assert r["pei"] == pytest.approx(hits / best) and r["pei"] <= 1
    n_train = trc[grid.mask].sum()
    assert r["rri"] == pytest.approx((hits / trc.ravel()[top].sum()) / (n_test / n_train))
    assert r["params"]["cell_size_m"] == MICRO_CELL_SIZE == 125
    assert r["params"]["cell_size_rule"].startswith("micro places")


# the default against the plain count of the training period, at 1% of the area (issue 3)
SPLITS = {
    "Jan-Sep > Oct-Dec": ("2025-01", "2025-09", "2025-10", "2025-12"),
    "Jan-Jun > Jul-Dec": ("2025-01", "2025-06", "2025-07", "2025-12"),
    "Jan-Jun > Jul-Sep": ("2025-01", "2025-06", "2025-07", "2025-09"),
    "Feb-Jul > Aug-Oct": ("2025-02", "2025-07", "2025-08", "2025-10"),
    "Mar-Aug > Sep-Nov": ("2025-03", "2025-08", "2025-09", "2025-11"),
    "Apr-Sep > Oct-Dec": ("2025-04", "2025-09", "2025-10", "2025-12"),
    "May-Oct > Nov": ("2025-05", "2025-10", "2025-11", "2025-11"),
    "Jan-Nov > Dec": ("2025-01", "2025-11", "2025-12", "2025-12"),
    "Jan-Mar > Apr-Jun": ("2025-01", "2025-03", "2025-04", "2025-06"),
}


def _hits(incidents, geography, split, base=None, **kw):
    base = base or Filter()
    a, b, c, d = SPLITS[split]
    train = base.replace(month_from=a, month_to=b)
    test = base.replace(month_from=c, month_to=d)
    return evaluate(incidents, train=train, test=test, geography=geography, **kw)


@pytest.mark.parametrize(
    "split", ["Jan-Sep > Oct-Dec", "Jan-Jun > Jul-Dec", "Jan-Nov > Dec", "Feb-Jul > Aug-Oct"]
)
def test_default_beats_plain_count(incidents, geography, split):
    """All crime, whole county, default (micro) grid: the default method (no options) catches more."""
    default = _hits(incidents, geography, split)
    count = _hits(incidents, geography, split, method="count")
    assert default["method"] == "eb_count" and default["params"]["half_life_months"] == 6
    assert default["cells_selected"] == count["cells_selected"] == round(0.01 * default["n_cells"])
    assert default["params"]["cell_size_m"] == MICRO_CELL_SIZE
    assert default["hits"] > count["hits"] and default["pai"] > count["pai"]


def test_default_beats_plain_count_over_many_splits(incidents, geography):
    """All crime, ASB and violence over the county, nine splits each: more wins than losses, more hits."""
    wins = losses = 0
    total = {"default": 0.0, "count": 0.0}
    for cats in ((), ("Anti-social behaviour",), ("Violence and sexual offences",)):
        base = Filter(categories=cats)
        for split in SPLITS:
            d = _hits(incidents, geography, split, base)["hits"]
            c = _hits(incidents, geography, split, base, method="count")["hits"]
            wins += d > c
            losses += d < c
            total["default"] += d
            total["count"] += c
    assert wins > 2 * losses
    assert total["default"] > total["count"]


def test_eb_count_options_and_params(incidents, geography):
    r = evaluate(incidents, method="eb_count", train=TRAIN, test=TEST, geography=geography, half_life=3)
    assert r["params"]["half_life_months"] == 3 and r["params"]["prior_strength"] > 0
    with pytest.raises(InputError, match="method 'eb_count' has no option 'bandwidth' for evaluation"):
        evaluate(incidents, method="eb_count", train=TRAIN, test=TEST, geography=geography, bandwidth=100)


def test_compare_methods_on_real_split(incidents, geography):
    table = compare(
        incidents,
        methods=[
            "count",
            "eb_count",
            "kde",
            ("kde", {"bandwidth_rule": "silverman"}),
            "gistar",
            "dbscan",
            "repeat",
        ],
        train=TRAIN,
        test=TEST,
        area_share=[0.01, 0.05],
        geography=geography,
    )
    assert len(table) == 14
    assert list(table.columns[:7]) == ["label", "method", "area_share", "hit_rate", "pai", "pei", "rri"]
    assert (table["pai"] > 5).all()  # every method is far better than chance (PAI 1)
    assert (table["pei"] <= 1 + 1e-12).all()
    # a wider area catches more incidents but with a lower PAI
    one = table[table["area_share"] < 0.02].set_index("label")
    five = table[table["area_share"] > 0.02].set_index("label")
    assert (five["hit_rate"] > one["hit_rate"]).all() and (five["pai"] < one["pai"]).all()


def test_score_cells_methods(incidents, geography):
    grid = make_grid(geography.study_area)
    tr = TRAIN.apply(incidents)
    tr = tr[np.isfinite(tr["x"])]
    x, y = tr["x"].to_numpy(), tr["y"].to_numpy()
    rep, _ = score_cells("repeat", x, y, grid)
    counts = grid.counts(x, y)
    assert (rep <= counts).all() and rep.max() == tr.groupby(["x", "y"]).size().max()
    db, used = score_cells("dbscan", x, y, grid, area_km2=2718.4)
    assert (db <= counts + 1e-9).all() and used["n_clusters"] > 0


def test_single_incident_and_one_point(incidents, geography):
    one = incidents[np.isfinite(incidents["x"]) & incidents["ward_code"].notna()]
    tr = one[one["month"] == "2025-01-01"].iloc[[0]]
    te = one[one["month"] == "2025-10-01"].iloc[[0]]
    import pandas as pd

    data = pd.concat([tr, te.assign(x=tr["x"].iloc[0], y=tr["y"].iloc[0])], ignore_index=True)
    r = evaluate(data, method="kde", train=TRAIN, test=TEST, geography=geography)
    assert r["hit_rate"] == 1.0 and r["pei"] == 1.0
    assert r["pai"] == pytest.approx(1 / r["area_share"])


def test_default_pai_twice_the_display_default(incidents, geography):
    """Jan–Sep → Oct–Dec 2025, all crime, county: micro-cells at least double the PAI at 1% of the area."""
    micro = _hits(incidents, geography, "Jan-Sep > Oct-Dec")
    display = _hits(incidents, geography, "Jan-Sep > Oct-Dec", cell_size="display")
    assert display["params"]["cell_size_m"] == 1200 and display["cells_selected"] == 21
    assert micro["pai"] >= 2 * display["pai"]


def test_place_coverage_against_a_direct_sjoin(incidents, geography):
    """Share of later incidents in the top places, checked with a GeoPandas spatial join."""
    import geopandas as gpd

    from hotspots.hotspot_list import find_hotspots

    r = place_coverage(incidents, train=TRAIN, test=TEST, geography=geography, top=(10, 20))
    hl = find_hotspots(incidents, geography=geography, filt=TRAIN)
    te = TEST.apply(incidents)
    te = te[np.isfinite(te["x"])]
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(te["x"], te["y"]), crs=27700)
    for n in (10, 20):
        joined = gpd.sjoin(pts, hl.head(n)[["geometry"]], predicate="intersects")
        hits = joined.index.nunique()
        assert r[f"hits_top{n}"] == hits and r[f"share_top{n}"] == pytest.approx(hits / len(te))
        assert r[f"area_km2_top{n}"] == pytest.approx(hl.head(n)["area_km2"].sum())
    assert r["n_test"] == len(te) and r["share_top20"] > r["share_top10"] > 0.02
    with pytest.raises(InputError, match=r"`top` must be whole numbers of places, each at least 1"):
        place_coverage(incidents, train=TRAIN, test=TEST, geography=geography, top=(0,))
    with pytest.raises(InputError, match=r"`test` must be a hotspots.filters.Filter; got str"):
        place_coverage(incidents, train=TRAIN, test="2025-10", geography=geography)
    with pytest.raises(InputError, match=r"the test filter \(2026-01 to 2026-03; all categories\) holds no"):
        place_coverage(
            incidents,
            train=TRAIN,
            test=Filter(month_from="2026-01", month_to="2026-03"),
            geography=geography,
        )
