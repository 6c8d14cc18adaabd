"""hotspots.place_eval: before/after against a control, the WDQ, the verdict (issue 10, item 2).

Figures are checked against an independent count: the raw police.uk files joined to the place,
its ring and the control with ``geopandas.sjoin`` (no code from hotspots.place_eval).
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots._errors import InputError
from hotspots.place_eval import MIN_INCIDENTS, evaluate_place, ratio_of_ratios, wdq
from hotspots.store import Store

STOKE = "E06000021"


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def loaded(sample_store_path):
    store = Store(sample_store_path, read_only=True)
    return store.incidents(), store.geography()


@pytest.fixture(scope="module")
def raw_points(sample_raw) -> gpd.GeoDataFrame:
    """Every located row of the raw files as a point in EPSG:27700 (a repeated Crime ID keeps its first row)."""
    raw = sample_raw[~((sample_raw["Crime ID"] != "") & sample_raw.duplicated("Crime ID"))]
    raw = raw[raw["Longitude"] != ""]
    pts = gpd.GeoDataFrame(
        {"month": raw["Month"].to_numpy(), "category": raw["Crime type"].to_numpy()},
        geometry=gpd.points_from_xy(raw["Longitude"].astype(float), raw["Latitude"].astype(float)),
        crs=4326,
    ).to_crs(27700)
    return pts


@pytest.fixture(scope="module")
def hanley(raw_points, geography) -> shapely.Geometry:
    """A 200 m circle round the busiest police.uk map point in Stoke-on-Trent (from the raw files)."""
    stoke = geography.lsoas[geography.lsoas["district_code"] == STOKE].dissolve().geometry.iloc[0]
    inside = raw_points[raw_points.within(stoke)]
    xy = pd.Series(list(zip(inside.geometry.x.round(1), inside.geometry.y.round(1), strict=True)))
    x, y = xy.value_counts().index[0]
    return shapely.Point(x, y).buffer(200)


def reference_counts(points, areas: dict[str, shapely.Geometry], before, after) -> dict[str, int]:
    """Counts by area and window with a direct spatial join."""
    zones = gpd.GeoDataFrame({"zone": list(areas)}, geometry=list(areas.values()), crs=27700)
    joined = gpd.sjoin(points, zones, how="inner", predicate="within")
    out = {}
    for zone in areas:
        z = joined[joined["zone"] == zone]
        out[f"{zone}_before"] = int(z["month"].isin(before).sum())
        out[f"{zone}_after"] = int(z["month"].isin(after).sum())
    return out


# ---------------------------------------------------------------------------- checks outputs
def test_counts_equal_an_independent_spatial_join_of_the_raw_files(loaded, raw_points, hanley, geography):
    incidents, geo = loaded
    ev = evaluate_place(incidents, hanley, crs=27700, start="2025-07", geography=geo, name="Hanley centre")
    # windows: 6 months loaded from July; 6 before (fewer than 12 loaded before, so the months just before)
    assert (ev.before_from, ev.before_to, ev.after_from, ev.after_to, ev.months) == (
        "2025-01",
        "2025-06",
        "2025-07",
        "2025-12",
        6,
    )
    assert ev.window_rule.startswith("the months just before the start")
    district = geography.lsoas[geography.lsoas["district_code"] == STOKE].dissolve().geometry.iloc[0]
    areas = {
        "treated": hanley,
        "buffer": hanley.buffer(250).difference(hanley),
        "control": district.difference(hanley.buffer(250)),
    }
    before = [f"2025-{m:02d}" for m in range(1, 7)]
    after = [f"2025-{m:02d}" for m in range(7, 13)]
    ref = reference_counts(raw_points, areas, before, after)
    got = {k: getattr(ev, k) for k in ref}
    assert got == ref
    assert ev.treated_before > 100 and ev.control_before > 10_000  # a real town centre, a real district
    assert ev.control_name == "rest of Stoke-on-Trent, outside the place and its 250 m ring"
    # effect = ratio of ratios against the control, from the reference counts by hand
    r = (ref["treated_after"] / ref["treated_before"]) / (ref["control_after"] / ref["control_before"])
    assert ev.effect == pytest.approx(r - 1, rel=1e-12)
    se = math.sqrt(
        sum(1 / ref[k] for k in ("treated_before", "treated_after", "control_before", "control_after"))
    )
    assert ev.effect_low == pytest.approx(r * math.exp(-1.959964 * se) - 1, rel=1e-6)
    assert ev.effect_high == pytest.approx(r * math.exp(1.959964 * se) - 1, rel=1e-6)
    c0, c1 = ref["control_before"], ref["control_after"]
    success = ref["treated_after"] / c1 - ref["treated_before"] / c0
    buffer = ref["buffer_after"] / c1 - ref["buffer_before"] / c0
    assert ev.wdq == pytest.approx(buffer / success, rel=1e-12)
    assert ev.wdq_read == (success < 0)
    # the monthly table adds up to the windows
    m = ev.monthly.set_index(ev.monthly["month"].dt.strftime("%Y-%m"))
    assert int(m.loc[before, "place"].sum()) == ev.treated_before
    assert int(m.loc[after, "control"].sum()) == ev.control_after
    # JSON keys of the command line
    d = json.loads(json.dumps(ev.to_dict()))
    for key in (
        "treated_before",
        "treated_after",
        "buffer_before",
        "buffer_after",
        "control_before",
        "control_after",
        "wdq",
        "effect",
        "effect_low",
        "effect_high",
        "verdict",
    ):
        assert key in d
    assert "Hanley centre" in ev.verdict and f"{ev.treated_before:,} incidents before" in ev.verdict


def test_category_ward_control_and_fewer_months_against_the_spatial_join(
    loaded, raw_points, hanley, geography
):
    incidents, geo = loaded
    ward_code = geography.lsoas[geography.lsoas.intersects(hanley.centroid)]["ward_code"].iloc[0]
    cat = "Anti-social behaviour"
    ev = evaluate_place(
        incidents,
        gpd.GeoSeries([hanley], crs=27700),
        start="2025-05-15",  # part-treated May is left out: after = Jun-Aug, before = Mar-May
        months=3,
        buffer_m=100,
        control=ward_code,
        categories=[cat],
        geography=geo,
    )
    assert (ev.before_from, ev.before_to, ev.after_from, ev.after_to) == (
        "2025-03",
        "2025-05",
        "2025-06",
        "2025-08",
    )
    ward = geography.lsoas[geography.lsoas["ward_code"] == ward_code].dissolve().geometry.iloc[0]
    areas = {
        "treated": hanley,
        "buffer": hanley.buffer(100).difference(hanley),
        "control": ward.difference(hanley.buffer(100)),
    }
    pts = raw_points[raw_points["category"] == cat]
    ref = reference_counts(pts, areas, ["2025-03", "2025-04", "2025-05"], ["2025-06", "2025-07", "2025-08"])
    assert {k: getattr(ev, k) for k in ref} == ref
    assert ev.categories == (cat,) and "(ward)" in ev.control_name


def test_with_a_year_before_the_same_months_of_the_year_are_compared(loaded, hanley):
    incidents, geo = loaded
    earlier = incidents.assign(month=incidents["month"] - pd.DateOffset(years=1))
    two_years = pd.concat([earlier, incidents], ignore_index=True)
    ev = evaluate_place(two_years, hanley, crs=27700, start="2025-04", geography=geo)
    # 9 months loaded from April 2025; 15 loaded before, so April-December 2024
    assert (ev.before_from, ev.before_to, ev.after_from, ev.after_to) == (
        "2024-04",
        "2024-12",
        "2025-04",
        "2025-12",
    )
    assert ev.window_rule.startswith("the same months of the year")
    # the 2024 copy repeats 2025, so nothing changed anywhere
    assert ev.treated_before == ev.treated_after and ev.control_before == ev.control_after
    assert ev.effect == pytest.approx(0, abs=1e-12) and ev.effect_low < 0 < ev.effect_high
    assert ev.verdict.startswith("No clear change")


def test_small_numbers_are_too_few_to_judge(loaded, raw_points):
    incidents, geo = loaded
    # a 60 m circle round a map point with a handful of incidents in the year
    xy = pd.Series(list(zip(raw_points.geometry.x.round(1), raw_points.geometry.y.round(1), strict=True)))
    counts = xy.value_counts()
    x, y = counts[counts == 6].index[0]
    place = shapely.Point(x, y).buffer(60)
    ev = evaluate_place(incidents, place, crs=27700, start="2025-07", geography=geo, name="Quiet Lane")
    assert ev.treated_before + ev.treated_after < MIN_INCIDENTS
    assert ev.too_few
    assert ev.verdict.startswith("Too few incidents to judge: Quiet Lane had")
    assert f"at least {MIN_INCIDENTS} are needed" in ev.verdict
    assert math.isnan(ev.effect) and ev.to_dict()["effect"] is None
    assert ev.displacement.startswith("Displacement not assessed") and not ev.wdq_read


def test_a_registered_place_brings_its_name_and_start(loaded, hanley):
    from hotspots.register import Place

    incidents, geo = loaded
    now = pd.Timestamp("2025-12-01")
    place = Place(7, "Hanley bus station", "Stoke central", "active", pd.Timestamp("2025-09-01"), None,
                  hanley, "test", now, "me", now, "me")  # fmt: skip
    ev = evaluate_place(incidents, place, geography=geo)
    assert ev.place_name == "Hanley bus station" and ev.start == "2025-09" and ev.after_to == "2025-12"
    assert ev.months == 4 and ev.before_from == "2025-05"
    # an intervention that ended in October is judged on its own months, unless asked otherwise
    ended = Place(7, "Hanley bus station", "Stoke central", "closed", pd.Timestamp("2025-09-01"),
                  pd.Timestamp("2025-10-20"), hanley, "test", now, "me", now, "me")  # fmt: skip
    ev = evaluate_place(incidents, ended, geography=geo)
    assert (ev.months, ev.after_from, ev.after_to, ev.before_from) == (2, "2025-09", "2025-10", "2025-07")
    assert evaluate_place(incidents, ended, geography=geo, months=4).after_to == "2025-12"


# ---------------------------------------------------------------------------- the WDQ
def test_wdq_formulas_of_bowers_and_johnson_as_set_out_by_guerette():
    # Guerette (2009, Appendix B): WDQ = (Da/Ca - Db/Cb) / (Ra/Ca - Rb/Cb), TNE = [Rb(Ca/Cb) - Ra] + [Db(Ca/Cb) - Da]
    # Complete displacement: the place falls by 50, the buffer rises by 50, the control is flat.
    w = wdq(100, 50, 100, 150, 100, 100)
    assert (w.success, w.buffer, w.wdq, w.tne) == (-0.5, 0.5, -1.0, 0.0)
    # Diffusion of benefit: the buffer falls by 20 as well -> WDQ 0.4, 70 incidents prevented in all
    w = wdq(100, 50, 100, 80, 100, 100)
    assert w.wdq == pytest.approx(0.4) and w.tne == pytest.approx(70)
    # a control that doubles: expected 200 in the place and 200 in the buffer without the work
    w = wdq(100, 50, 100, 150, 100, 200)
    assert w.success == pytest.approx(50 / 200 - 1) and w.buffer == pytest.approx(150 / 200 - 1)
    assert w.wdq == pytest.approx((-0.25) / (-0.75)) and w.tne == pytest.approx(150 + 50)
    # the place did not improve against the control: the quotient's sign means nothing (success >= 0)
    assert wdq(100, 120, 100, 150, 100, 100).success > 0


def test_ratio_of_ratios_interval_and_zero_cells():
    eff, lo, hi, se = ratio_of_ratios(100, 50, 1000, 1000)
    assert eff == pytest.approx(-0.5) and se == pytest.approx(math.sqrt(1 / 100 + 1 / 50 + 2 / 1000))
    assert lo == pytest.approx(0.5 * math.exp(-1.959964 * se) - 1, rel=1e-6) and hi < 0
    eff, lo, hi, _ = ratio_of_ratios(10, 0, 100, 100)  # Haldane: 0.5 added to every cell
    assert eff == pytest.approx((0.5 / 10.5) / (100.5 / 100.5) - 1)


# ---------------------------------------------------------------------------- checks inputs
def test_bad_places_are_refused_with_a_clear_message(loaded):
    incidents, geo = loaded
    square = shapely.box(387_000, 347_000, 387_400, 347_400)
    cases = [
        (square, {}, "bare shapely geometry with no CRS; pass crs=27700"),
        (gpd.GeoSeries([square]), {}, "`place` has no CRS"),
        (gpd.GeoSeries([shapely.box(-2.18, 53.02, -2.17, 53.03)], crs=4326), {}, "geographic CRS .*to_crs\\(27700\\)"),
        (gpd.GeoSeries([square], crs=3857), {}, "expected EPSG:27700"),
        (shapely.Polygon(), {"crs": 27700}, "`place` is empty"),
        (shapely.LineString([(387_000, 347_000), (387_500, 347_500)]), {"crs": 27700}, "Polygon or MultiPolygon.*LineString"),
        (shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]), {"crs": 27700}, "not a valid polygon \\(Self-intersection"),
        ("E06000021", {}, "`place` must be a polygon"),
    ]  # fmt: skip
    for place, kw, message in cases:
        with pytest.raises(InputError, match=message):
            evaluate_place(incidents, place, start="2025-07", geography=geo, **kw)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": "2026-03"}, "`start` 2026-03 is outside the loaded months \\(2025-01 to 2025-12\\)"),
        ({"start": "2025-01"}, "`start` 2025-01 is outside the loaded months"),
        ({"start": "next spring"}, "`start` must be a month 'YYYY-MM'"),
        ({"start": "June"}, "`start` must be a month 'YYYY-MM'"),
        ({"start": None}, "`start` is required"),
        (
            {"start": "2025-07", "months": 7},
            "`months` 7 is more than the loaded data allow .*6 months before",
        ),
        ({"start": "2025-07", "months": 0}, "`months` must be a whole number of months"),
        ({"start": "2025-07", "buffer_m": -5}, "`buffer_m` must be a positive number of metres; got -5"),
        (
            {"start": "2025-07", "categories": ["Burglery"]},
            "no incidents with category 'Burglery'; known: .*Burglary",
        ),
        ({"start": "2025-07", "control": "E99999999"}, "`control` 'E99999999' is not a district, ward"),
        ({"start": "2025-07", "geography": None}, "no `geography` was given"),
        (
            {"start": "2025-07", "geography": None, "control": "E06000021"},
            "is an area code, which needs `geography`",
        ),
    ],
)
def test_bad_arguments_are_refused(loaded, hanley, kwargs, message):
    incidents, geo = loaded
    kw = {"crs": 27700, "geography": geo} | kwargs
    with pytest.raises(InputError, match=message):
        evaluate_place(incidents, hanley, **kw)


def test_control_inside_the_ring_and_control_without_incidents_are_refused(loaded, hanley):
    incidents, geo = loaded
    with pytest.raises(InputError, match="lies wholly inside the place and its 250 m ring"):
        evaluate_place(
            incidents, hanley, crs=27700, start="2025-07", control=hanley.buffer(100), geography=geo
        )
    far = shapely.box(100_000, 100_000, 101_000, 101_000)  # the sea off Cornwall: no incidents
    with pytest.raises(InputError, match="has no incidents in the before window; choose a larger control"):
        evaluate_place(incidents, hanley, crs=27700, start="2025-07", control=far, geography=geo)
    with pytest.raises(InputError, match="outside every district of the study area"):
        evaluate_place(incidents, far, crs=27700, start="2025-07", geography=geo)


def test_incidents_without_columns_and_registered_place_without_start(loaded, hanley):
    from hotspots.register import Place

    incidents, geo = loaded
    with pytest.raises(InputError, match="`incidents` lacks column\\(s\\) x, y"):
        evaluate_place(incidents.drop(columns=["x", "y"]), hanley, crs=27700, start="2025-07", geography=geo)
    now = pd.Timestamp("2025-12-01")
    place = Place(3, "Piccadilly", "g", "proposed", None, None, hanley, "", now, "me", now, "me")
    with pytest.raises(InputError, match="place 3 \\(Piccadilly\\) has no intervention start"):
        evaluate_place(incidents, place, geography=geo)


def test_wdq_refuses_negative_counts_and_an_empty_control():
    with pytest.raises(InputError, match="WDQ count B1 must be a number of incidents"):
        wdq(10, 5, 3, -1, 100, 100)
    with pytest.raises(InputError, match="needs incidents in the control area in both windows; got 0 before"):
        wdq(10, 5, 3, 4, 0, 100)
    assert np.isnan(wdq(10, 10, 3, 4, 100, 100).wdq)  # no change in the place: no quotient


def test_a_window_month_that_is_not_loaded_is_refused(loaded, hanley):
    incidents, geo = loaded
    holed = incidents[incidents["month"] != "2025-04-01"]
    with pytest.raises(
        InputError, match="months 2025-04 of the windows .* are not loaded, so they would count as zero"
    ):
        evaluate_place(holed, hanley, crs=27700, start="2025-07", geography=geo)
    ev = evaluate_place(
        holed, hanley, crs=27700, start="2025-07", months=2, geography=geo
    )  # May-Jun vs Jul-Aug
    assert (ev.before_from, ev.after_to) == ("2025-05", "2025-08")
