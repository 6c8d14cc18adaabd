import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots._errors import CRSError, InputError
from hotspots.cell_places import top_cells
from hotspots.eb import eb_count
from hotspots.filters import Filter
from hotspots.grid import make_grid
from hotspots.hotspot_list import (
    DEFAULT_METHOD,
    HOTSPOT_COLUMNS,
    METHOD_PARAMS,
    METHODS,
    HotspotList,
    find_hotspots,
)

H2 = Filter(month_from="2025-07", month_to="2025-12")
#: The list before micro places: the display scale of the county (1,200 m cells), top 2% of cells.
DISPLAY = {"cell_size": "display", "top_share": 0.02}


@pytest.fixture(scope="module")
def incidents(real_incidents):
    df = real_incidents.copy()
    bad = ~np.isfinite(df["x"])
    df.loc[bad, ["x", "y"]] = np.nan  # the store gives NaN for no location
    return df


@pytest.fixture(scope="module")
def lists(incidents, geography):
    """One list per method; the grid methods at the display scale (1,200 m cells on the county)."""
    return {
        m: find_hotspots(
            incidents,
            method=m,
            geography=geography,
            filt=H2,
            **({k: v for k, v in DISPLAY.items() if k in METHOD_PARAMS[m]}),
        )
        for m in METHODS
    }


# ---------------------------------------------------------------- checks inputs
def test_rejects_unknown_method(incidents, geography):
    with pytest.raises(
        InputError, match="`method` must be one of 'eb_count', 'kde', 'gistar', 'dbscan', 'repeat', 'count'"
    ):
        find_hotspots(incidents, method="hexbin", geography=geography)


def test_rejects_option_of_another_method(incidents, geography):
    with pytest.raises(InputError, match="method 'dbscan' has no option 'bandwidth'; its options are"):
        find_hotspots(incidents, method="dbscan", geography=geography, bandwidth=300)


def test_rejects_unknown_area(incidents, geography):
    with pytest.raises(InputError, match="the filter names ward area\\(s\\) not in the geography: E05999999"):
        find_hotspots(incidents, geography=geography, filt=Filter(level="ward", areas=("E05999999",)))


def test_rejects_bandwidth_smaller_than_cell(incidents, geography):
    with pytest.raises(InputError, match="`bandwidth` 100 m is too small for 1200 m cells"):
        find_hotspots(incidents, method="kde", geography=geography, filt=H2, bandwidth=100, **DISPLAY)


def test_rejects_geography_without_crs_or_geographic(incidents, geography):
    import boundaries

    no_crs = boundaries.Geography(lsoas=geography.lsoas.set_crs(None, allow_override=True))
    with pytest.raises(CRSError, match="`geography` has no CRS"):
        find_hotspots(incidents, geography=no_crs, filt=H2)
    wgs = boundaries.Geography(lsoas=geography.lsoas.to_crs(4326))
    with pytest.raises(CRSError, match="`geography` is in a geographic CRS"):
        find_hotspots(incidents, geography=wgs, filt=H2)


def test_rejects_bad_filter_and_frame(incidents, geography):
    with pytest.raises(InputError, match="`filt` must be a hotspots.filters.Filter or None; got dict"):
        find_hotspots(incidents, geography=geography, filt={"month_from": "2025-01"})
    with pytest.raises(InputError, match="`incidents` lacks the column"):
        find_hotspots(incidents[["x", "y"]], geography=geography)
    with pytest.raises(InputError, match="`top_n` must be a whole number of locations"):
        find_hotspots(incidents, method="repeat", geography=geography, filt=H2, top_n=0)


# ---------------------------------------------------------------- checks outputs
@pytest.mark.parametrize("method", METHODS)
def test_fixed_columns_and_ranking(lists, incidents, method):
    hl = lists[method]
    assert isinstance(hl, HotspotList) and isinstance(hl, gpd.GeoDataFrame)
    assert list(hl.columns) == HOTSPOT_COLUMNS
    assert hl.crs.to_epsg() == 27700
    assert len(hl) >= 3
    assert hl["rank"].tolist() == list(range(1, len(hl) + 1))
    assert hl["count"].is_monotonic_decreasing
    assert hl["hotspot_id"].iloc[0] == f"{method}-001" and (hl["method"] == method).all()
    n = int((H2.mask(incidents) & np.isfinite(incidents["x"])).sum())
    assert hl.params["n_incidents"] == n
    assert hl.params["n_left_off"] == int((H2.mask(incidents) & ~np.isfinite(incidents["x"])).sum()) > 0
    np.testing.assert_allclose(hl["share_of_incidents"], hl["count"] / n)
    assert hl["count"].sum() <= n
    assert (hl["months_active"] == 6).iloc[:3].all()
    assert (hl["first_month"].iloc[:3] == "2025-07").all() and (hl["last_month"].iloc[:3] == "2025-12").all()
    assert hl.params["previous_period"] == "2025-01 to 2025-06"
    np.testing.assert_array_equal(hl["change"], hl["count"] - hl["previous_count"])
    assert json.loads(hl["params"].iloc[0])["method"] == method
    assert hl.params == hl.attrs["params"]
    assert hl.geometry.is_valid.all()
    # the busiest hotspot is in Stoke-on-Trent or Newcastle (the conurbation) for every method
    assert hl["district"].iloc[0] in ("Stoke-on-Trent", "Newcastle-under-Lyme")


def test_grid_hotspot_counts_by_hand(lists, incidents):
    """Counts and previous counts equal a point-in-polygon count of the hotspot's cells."""
    hl = lists["count"]
    prev = Filter(month_from="2025-01", month_to="2025-06").apply(incidents)
    cur = H2.apply(incidents)
    for _, row in hl.head(3).iterrows():
        # cells are clipped to the study area: count incidents inside the unclipped cells' area
        g = row.geometry.buffer(-0.01)
        inside = shapely.contains_xy(g, cur["x"].fillna(0), cur["y"].fillna(0)).sum()
        assert abs(inside - row["count"]) <= 0.02 * row["count"]
        inside_prev = shapely.contains_xy(g, prev["x"].fillna(0), prev["y"].fillna(0)).sum()
        assert abs(inside_prev - row["previous_count"]) <= 0.02 * row["previous_count"]


def test_dbscan_and_repeat_membership_by_location(lists, incidents):
    rep = lists["repeat"]
    cur = H2.apply(incidents)
    top = cur.groupby(["x", "y"]).size().sort_values(ascending=False)
    assert rep["count"].tolist() == top.head(len(rep)).tolist()
    assert rep["area_km2"].isna().all() and (rep.geom_type == "Point").all()
    db = lists["dbscan"]
    assert db.params["eps_rule"] == "default" and db.params["min_samples"] >= 5
    assert (db.geom_type == "Polygon").all() and (db["area_km2"] > 0).all()


def test_kde_defaults_reported(lists):
    p = lists["kde"].params
    for key in ("cell_size_m", "bandwidth_m", "bandwidth_rule", "kernel", "top_share", "cell_size_rule"):
        assert key in p
    assert p["cell_size_m"] == 1200 and p["bandwidth_rule"] == "cell (one cell)" and p["kernel"] == "quartic"
    assert p["bandwidth_m"] == 1200


def test_default_method_and_its_parameters_reported(lists, incidents, geography):
    hl = find_hotspots(incidents, geography=geography, filt=H2)
    assert hl.params["method"] == "eb_count"
    assert DEFAULT_METHOD == "eb_count"
    p = lists["eb_count"].params
    assert p["half_life_months"] == 6 and p["recency"] == "weight halves every 6 months before 2025-12"
    assert 0 < p["prior_strength"] < 1  # all crime over a county is strongly clustered: little smoothing
    assert p["cell_size_m"] == 1200 and p["top_share"] == 0.02 and "empirical Bayes" in p["smoothing"]
    # the default list on the county names the busy town centres (the Silverman KDE list, with
    # cells joined where they touch, named 3 places)
    assert len(lists["eb_count"]) >= 8
    assert set(lists["eb_count"]["district"].head(12)) >= {
        "Stoke-on-Trent",
        "East Staffordshire",
        "Stafford",
        "Tamworth",
    }
    silverman = find_hotspots(
        incidents,
        method="kde",
        geography=geography,
        filt=H2,
        bandwidth_rule="silverman",
        split="touching",
        **DISPLAY,
    )
    assert len(silverman) <= 3 < len(lists["eb_count"])


def _incidents_in_top_cells(incidents, geography, filt):
    """Incidents of ``filt`` in the default list's cells, found independently of the places."""
    cur = H2.apply(incidents)
    cur = cur[np.isfinite(cur["x"])]
    grid = make_grid(geography.study_area)
    res = eb_count(
        cur["x"].to_numpy(),
        cur["y"].to_numpy(),
        grid=grid,
        months=cur["month"].to_numpy(),
        reference_month="2025-12",
    )
    top = top_cells(res.score, grid.mask, 0.02)
    other = filt.apply(incidents)
    return int(grid.counts(other["x"].to_numpy(), other["y"].to_numpy())[top].sum()), int(top.sum())


def test_places_have_one_peak_on_the_county(lists, incidents, geography):
    """Display-scale places: the conurbation is split into its centres, no place over 5 cells."""
    hl = lists["eb_count"]
    old = find_hotspots(incidents, geography=geography, filt=H2, split="touching", **DISPLAY)
    assert hl.params["split"] == "peaks" and "steepest ascent" in hl.params["places_rule"]
    assert json.loads(hl["params"].iloc[0])["split"] == "peaks"
    assert old.params["split"] == "touching" and "corner" in old.params["places_rule"]
    # before: the Stoke/Newcastle conurbation was one place of about 35 km² holding a quarter of the incidents
    assert old["area_km2"].max() > 30 and old["share_of_incidents"].iloc[0] > 0.2 and len(old) <= 10
    # now: no place over 5 cells (7.2 km²), and no place holds more than 6% of the incidents
    assert hl["area_km2"].max() <= 5 * 1.44 + 1e-9
    assert hl["share_of_incidents"].max() < 0.06 and len(hl) >= 20
    # the conurbation's centres are places of their own: Hanley, Newcastle, Longton, Tunstall, Burslem
    top_wards = hl["wards"].str.split(" \\(").str[0]
    assert {
        "Hanley Park, Joiner's Square & Shelton",
        "Town",
        "Longton & Meir Hay South",
        "Tunstall",
        "Moorcroft & Sneyd Green",
    } <= set(top_wards.head(10))
    assert hl.geometry.is_valid.all() and (hl.geometry.area > 0).all()


@pytest.mark.parametrize("split", ["peaks", "edges", "touching"])
def test_places_cover_the_hotspot_cells_once(lists, incidents, geography, split):
    """Counts of places add up to the incidents in the hotspot cells, whatever the split."""
    hl = (
        lists["eb_count"]
        if split == "peaks"
        else find_hotspots(incidents, geography=geography, filt=H2, split=split, **DISPLAY)
    )
    in_cells, n_cells = _incidents_in_top_cells(incidents, geography, H2)
    prev_in_cells, _ = _incidents_in_top_cells(
        incidents, geography, Filter(month_from="2025-01", month_to="2025-06")
    )
    assert hl.params["n_hotspot_cells"] == n_cells == round(0.02 * 2068)
    assert hl["count"].sum() == in_cells
    assert hl["previous_count"].sum() == prev_in_cells
    assert hl.params["share_in_hotspots"] == pytest.approx(in_cells / hl.params["n_incidents"])
    # every cell in one place: the places' areas add up to the cells' (clipped to the county)
    assert (
        hl["area_km2"].sum() == pytest.approx(59.04, abs=1.5)
        and hl["area_km2"].sum() <= n_cells * 1.44 + 1e-6
    )
    assert not hl.geometry.union_all().is_empty
    assert sum(a.intersection(b).area for i, a in enumerate(hl.geometry) for b in hl.geometry[i + 1 :]) < 1e-3
    assert hl["rank"].tolist() == list(range(1, len(hl) + 1)) and hl["count"].is_monotonic_decreasing


def test_split_rejected_where_it_does_not_apply(incidents, geography):
    with pytest.raises(InputError, match="`split` must be one of 'peaks', 'edges', 'touching'; got 'blobs'"):
        find_hotspots(incidents, geography=geography, filt=H2, split="blobs")
    with pytest.raises(
        InputError, match="`split` applies to the grid methods .*, not 'dbscan'; leave it empty"
    ):
        find_hotspots(incidents, method="dbscan", geography=geography, filt=H2, split="peaks")


def test_ward_default_list_one_peak_places(incidents, geography):
    """The default list on one town-centre ward (50 m cells): small places, counts consistent."""
    wards = geography.areas("ward")
    code = wards.loc[wards["area_name"] == "Hanley Park, Joiner's Square & Shelton", "area_code"].iloc[0]
    f = H2.replace(level="ward", areas=(code,))
    hl = find_hotspots(incidents, geography=geography, filt=f)
    old = find_hotspots(incidents, geography=geography, filt=f, split="touching")
    assert list(hl.columns) == HOTSPOT_COLUMNS and hl.params["split"] == "peaks"
    assert hl.params["cell_size_m"] == 50 and len(hl) >= 10
    assert hl["rank"].tolist() == list(range(1, len(hl) + 1)) and hl["count"].is_monotonic_decreasing
    assert (
        hl["count"].sum() == old["count"].sum() and hl["previous_count"].sum() == old["previous_count"].sum()
    )
    assert len(hl) >= len(old) and hl["area_km2"].max() <= old["area_km2"].max()
    assert hl["ward_codes"].str.startswith(code).all()


def test_half_life_changes_the_weights(incidents, geography):
    a = find_hotspots(incidents, geography=geography, filt=H2, half_life=1)
    assert a.params["half_life_months"] == 1 and a.params["recency"].startswith(
        "weight halves every 1 months"
    )
    with pytest.raises(InputError, match="`half_life` must be a positive number of months; got -2"):
        find_hotspots(incidents, geography=geography, filt=H2, half_life=-2)


def test_open_filter_uses_data_months(incidents, geography):
    hl = find_hotspots(incidents, method="count", geography=geography)
    assert hl.params["period"] == "2025-01 to 2025-12"
    assert "not covered by the data" in hl.params["previous_period"]
    assert hl["previous_count"].isna().all()


def test_filter_on_areas_builds_grid_on_them(incidents, geography):
    wards = geography.areas("ward")
    code = wards.loc[wards["area_name"] == "Hanley Park, Joiner's Square & Shelton", "area_code"].iloc[0]
    f = H2.replace(level="ward", areas=(code,))
    hl = find_hotspots(incidents, method="kde", geography=geography, filt=f, cell_size=100, bandwidth=200)
    assert hl.params["cell_size_m"] == 100 and len(hl) >= 1
    assert hl["ward_codes"].str.startswith(code).all()
    assert hl.params["study_area_km2"] < 10


def test_empty_filter(incidents, geography):
    hl = find_hotspots(incidents, geography=geography, filt=Filter(categories=("No such crime",)))
    assert isinstance(hl, HotspotList) and hl.empty and list(hl.columns) == HOTSPOT_COLUMNS
    assert "no incidents with a location match the filter" in hl.params["note"]


@pytest.mark.parametrize("method", METHODS)
def test_single_incident(incidents, geography, method):
    one = incidents[np.isfinite(incidents["x"]) & incidents["ward_code"].notna()].iloc[[0]]
    hl = find_hotspots(one, method=method, geography=geography)
    assert list(hl.columns) == HOTSPOT_COLUMNS
    if method == "dbscan":
        assert hl.empty and "no place qualifies" in hl.params["note"]  # one incident is not a cluster
    elif method == "gistar":
        assert hl.empty and "Gi* needs at least 30" in hl.params["note"]
    else:
        assert hl["count"].tolist() == [1]
    if method == "kde":
        assert hl.params["bandwidth_rule"] == "cell (one cell)"


@pytest.mark.parametrize("method", METHODS)
def test_all_incidents_at_one_point(incidents, geography, method):
    one = incidents[np.isfinite(incidents["x"]) & incidents["ward_code"].notna()].iloc[[0]]
    same = pd.concat([one] * 200, ignore_index=True)
    hl = find_hotspots(same, method=method, geography=geography)
    assert hl["count"].iloc[0] == 200
    assert hl["share_of_incidents"].iloc[0] == 1.0


def test_area_with_no_residents(incidents, geography):
    """Hotspots do not depend on residents: a geography with an empty LSOA still works."""
    import boundaries

    lsoas = geography.lsoas.copy()
    lsoas.loc[lsoas.index[0], "population"] = 0
    geo = boundaries.Geography(lsoas=lsoas)
    code = lsoas["lsoa_code"].iloc[0]
    f = H2.replace(level="lsoa", areas=(code,))
    hl = find_hotspots(incidents, method="count", geography=geo, filt=f)
    assert np.isfinite(hl["incidents_per_km2"]).all() or hl.empty
    n = int(f.mask(incidents).sum())
    assert hl.params["n_incidents"] + hl.params["n_left_off"] == n


def test_does_not_mutate_input(incidents, geography):
    before = incidents.copy()
    find_hotspots(incidents, method="dbscan", geography=geography, filt=H2)
    pd.testing.assert_frame_equal(incidents, before)


# ---------------------------------------------------------------- micro places (the default)
@pytest.fixture(scope="module")
def county_2025(incidents, geography):
    """The default list for the whole county, 2025 (no options)."""
    return find_hotspots(
        incidents, geography=geography, filt=Filter(month_from="2025-01", month_to="2025-12")
    )


def test_default_list_is_micro_places(county_2025):
    """Top 20 places of the default county list: micro-cells, each at most 0.5 km², rule reported."""
    from hotspots.grid import MAX_PLACE_KM2, MICRO_CELL_SIZE

    p = county_2025.params
    assert p["cell_size_m"] == MICRO_CELL_SIZE and p["cell_size_rule"].startswith("micro places")
    assert p["max_place_km2"] == MAX_PLACE_KM2 == 0.5
    assert p["max_place_cells"] == int(0.5e6 // MICRO_CELL_SIZE**2)
    assert "split at their peaks" in p["places_rule"]
    top = county_2025.head(20)
    assert (top["area_km2"] <= 0.5).all() and (top["area_km2"] > 0).all()
    assert county_2025.geometry.is_valid.all()
    assert county_2025["count"].is_monotonic_decreasing and county_2025["name"].is_unique


def test_place_bound_splits_at_peaks(incidents, geography, county_2025):
    """A tighter bound splits big places; every hotspot cell stays in exactly one place."""
    tight = find_hotspots(
        incidents,
        geography=geography,
        filt=Filter(month_from="2025-01", month_to="2025-12"),
        max_place_km2=0.05,
    )
    cell_km2 = tight.params["cell_size_m"] ** 2 / 1e6
    most = int(0.05 // cell_km2)
    assert tight.params["max_place_cells"] == most >= 2
    assert (tight["area_km2"] <= most * cell_km2 + 1e-9).all()
    assert tight["count"].sum() == county_2025["count"].sum()  # the same cells, cut finer
    assert len(tight) > len(county_2025)
    with pytest.raises(InputError, match=r"`max_place_km2` must be a positive number of km²; got -1"):
        find_hotspots(incidents, geography=geography, filt=H2, max_place_km2=-1)
    with pytest.raises(InputError, match=r"`max_place_km2` applies to the grid methods .*, not 'repeat'"):
        find_hotspots(incidents, method="repeat", geography=geography, filt=H2, max_place_km2=0.2)


def test_display_scale_is_kept_as_an_option(lists):
    p = lists["eb_count"].params
    assert p["cell_size_m"] == 1200 and p["cell_size_rule"].startswith("display")
    assert p["max_place_km2"] is None and p["max_place_cells"] is None


def test_cell_size_rule_rejected(incidents, geography):
    with pytest.raises(InputError, match="`cell_size` must be one of 'micro', 'display'; got 'huge'"):
        find_hotspots(incidents, geography=geography, filt=H2, cell_size="huge")
