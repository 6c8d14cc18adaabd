import math

import numpy as np
import pytest
from sklearn.cluster import DBSCAN
from sklearn.metrics import adjusted_rand_score

from hotspots._errors import InputError
from hotspots.dbscan import cluster_polygons, dbscan, default_dbscan_params

AREA_KM2 = 2718.4  # Staffordshire and Stoke-on-Trent


def month_points(real_incidents, month):
    df = real_incidents[(real_incidents["month"] == month) & np.isfinite(real_incidents["x"])]
    return df["x"].to_numpy(), df["y"].to_numpy()


# ---------------------------------------------------------------- checks inputs
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eps": 0}, "`eps` must be a positive number of metres; got 0"),
        ({"min_samples": 0}, "`min_samples` must be a whole number of incidents, at least 1; got 0"),
        ({"min_samples": 2.5}, "`min_samples` must be a whole number"),
        ({"weights": np.array([1.0])}, "`weights` must have one value per point"),
        ({"weights": np.array([1.0, -1.0])}, "`weights` must be finite and non-negative"),
        ({"area_km2": -3}, "`area_km2` must be a positive number of km²"),
    ],
)
def test_rejects_bad_options(kwargs, match):
    with pytest.raises(InputError, match=match):
        dbscan(np.array([0.0, 1.0]), np.array([0.0, 1.0]), **kwargs)


def test_rejects_mismatched_xy():
    with pytest.raises(InputError, match="`x` and `y` must have the same length; got 2 and 1"):
        dbscan(np.array([0.0, 1.0]), np.array([0.0]))


# ---------------------------------------------------------------- checks outputs
@pytest.mark.parametrize(
    ("month", "eps", "min_samples"),
    [
        ("2025-01-01", None, None),
        ("2025-07-01", None, None),
        ("2025-11-01", 100.0, 12),
        ("2025-04-01", 300.0, 40),
    ],
)
def test_same_labels_as_sklearn_on_raw_points(real_incidents, month, eps, min_samples):
    x, y = month_points(real_incidents, month)
    res = dbscan(x, y, eps=eps, min_samples=min_samples, area_km2=AREA_KM2)
    raw = DBSCAN(eps=res.eps, min_samples=res.min_samples).fit(np.c_[x, y]).labels_
    assert res.n_clusters >= 5
    assert adjusted_rand_score(raw, res.point_labels) == 1.0
    np.testing.assert_array_equal(raw, res.point_labels)  # even the cluster numbers agree
    assert res.weights.sum() == len(x) and res.x.size < len(x) / 1.5


def test_defaults_scale_with_incidents():
    assert default_dbscan_params(500, AREA_KM2) == (200.0, 5)
    eps, ms = default_dbscan_params(100_000, AREA_KM2)
    assert eps == 200 and ms == math.ceil(25 * 100_000 * math.pi * 0.04 / AREA_KM2)
    assert default_dbscan_params(1_000_000, AREA_KM2)[1] == pytest.approx(10 * ms, rel=0.01)
    with pytest.raises(InputError, match="`n_incidents` must be a number of incidents"):
        default_dbscan_params(-1, AREA_KM2)


def test_defaults_reported(real_incidents):
    x, y = month_points(real_incidents, "2025-03-01")
    res = dbscan(x, y, area_km2=AREA_KM2)
    p = res.params
    assert p["eps_rule"] == "default" and p["min_samples_rule"] == "default"
    assert (p["eps_m"], p["min_samples"]) == default_dbscan_params(len(x), AREA_KM2)
    assert "25 x" in p["default_rule"] and p["n_clusters"] == res.n_clusters
    assert p["n_noise_incidents"] == res.weights[res.labels < 0].sum()
    hull = dbscan(x, y)
    assert hull.params["area_rule"].startswith("convex hull")


def test_weights_on_unique_locations_equal_raw(real_incidents):
    x, y = month_points(real_incidents, "2025-05-01")
    a = dbscan(x, y, eps=150, min_samples=15)
    b = dbscan(a.x, a.y, weights=a.weights, eps=150, min_samples=15)
    np.testing.assert_array_equal(a.labels, b.labels)


def test_cluster_polygons(real_incidents):
    x, y = month_points(real_incidents, "2025-08-01")
    res = dbscan(x, y, area_km2=AREA_KM2)
    polys = cluster_polygons(res)
    assert list(polys.columns) == ["cluster", "count", "n_locations", "area_km2", "geometry"]
    assert len(polys) == res.n_clusters and polys.crs.to_epsg() == 27700
    assert polys["count"].is_monotonic_decreasing
    assert polys["count"].sum() == res.weights[res.labels >= 0].sum()
    assert polys.geometry.is_valid.all()
    # every member location lies inside its cluster's polygon
    import shapely

    member = res.labels >= 0
    geom = polys.set_index("cluster").geometry.reindex(res.labels[member]).to_numpy()
    assert shapely.contains_xy(geom, res.x[member], res.y[member]).all()
    assert polys.attrs["buffer_m"] == res.eps / 2


def test_empty_single_and_one_point():
    empty = dbscan(np.array([]), np.array([]))
    assert empty.n_clusters == 0 and "no incidents" in empty.params["note"]
    assert len(cluster_polygons(empty)) == 0
    one = dbscan(np.array([400000.0]), np.array([300000.0]))
    assert one.n_clusters == 0 and one.labels.tolist() == [-1]  # one incident is noise
    same = dbscan(np.full(50, 400000.0), np.full(50, 300000.0), area_km2=AREA_KM2)
    assert same.n_clusters == 1 and same.x.size == 1 and same.weights[0] == 50
    polys = cluster_polygons(same, buffer=30)
    assert polys["count"].tolist() == [50]
    assert polys["area_km2"].iloc[0] == pytest.approx(math.pi * 30**2 / 1e6, rel=0.01)


def test_no_location_points_left_off():
    res = dbscan(np.array([np.nan, np.inf, 1.0, 1.0]), np.array([np.nan, np.inf, 1.0, 1.0]), min_samples=2)
    assert res.params["n_left_off"] == 2 and res.n_clusters == 1
