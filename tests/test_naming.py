"""Place names: the cleaning rules, towns from ward names, grid references, and names on the real list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots._errors import InputError
from hotspots.hotspot_list import find_hotspots
from hotspots.naming import (
    GENERIC_NAMES,
    Namer,
    clean_location_name,
    grid_reference,
    is_generic,
    name_places,
    ward_towns,
)


# ---------------------------------------------------------------------------- checks inputs
def test_grid_reference_rejects_points_off_the_grid():
    with pytest.raises(InputError, match=r"British National Grid metres .*got \(-5.0, 10.0\)"):
        grid_reference(-5.0, 10.0)


def test_ward_towns_names_missing_columns():
    with pytest.raises(InputError, match=r"`wards` lacks the column\(s\) district_name"):
        ward_towns(pd.DataFrame({"ward_code": ["W1"], "ward_name": ["Town"]}))
    wards = pd.DataFrame({"ward_code": ["W1"], "ward_name": ["Town"], "district_name": ["D"]})
    with pytest.raises(InputError, match=r"`wards` lacks the column\(s\) district_code"):
        ward_towns(wards, older=pd.DataFrame({"ward_name": ["A"], "district_code": ["E1"]}))
    wards["district_code"] = "E1"
    with pytest.raises(InputError, match=r"`older` lacks the column\(s\) district_code; it needs ward_name"):
        ward_towns(wards, older=pd.DataFrame({"ward_name": ["A"]}))
    with pytest.raises(InputError, match=r"`divisions` lacks the column\(s\) division_name"):
        ward_towns(wards, divisions=pd.DataFrame({"ced_name": ["A ED"], "district_code": ["E1"]}))


def test_name_places_needs_one_place_per_row(real_incidents, geography):
    with pytest.raises(InputError, match=r"one place id per row of `incidents` \(3\); got shape \(2,\)"):
        name_places(np.array([1, 0]), real_incidents.head(3), geography=geography)


# ---------------------------------------------------------------------------- rules
@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("On or near St Martin'S Place", "St Martin's Place"),
        ("On or near Parking Area", "Parking Area"),
        ("on or near  High   Street", "High Street"),
        ("No Location", None),
        ("", None),
        (None, None),
        (float("nan"), None),
        ("On or near A34", "A34"),
    ],
)
def test_clean_location_name(raw, clean):
    assert clean_location_name(raw) == clean


def test_generic_names_are_police_uk_kinds_of_place():
    assert is_generic("Supermarket") and is_generic("Sports/Recreation Area")
    assert is_generic("Further/Higher Educational Building") and is_generic("Police Station")
    assert not is_generic("High Street") and not is_generic(None)
    assert all(n == clean_location_name("On or near " + n) for n in GENERIC_NAMES)


def test_grid_reference_matches_ordnance_survey():
    # Ben Nevis summit NN 166 712 (OS), Stoke-on-Trent SJ, Burton upon Trent SK, Land's End SW
    assert grid_reference(216_666, 771_288) == "NN 166 712"
    assert grid_reference(388_400, 347_500) == "SJ 884 475"
    assert grid_reference(424_600, 323_200) == "SK 246 232"
    assert grid_reference(134_200, 25_300).startswith("SW ")


def test_ward_towns_from_ward_names(geography):
    towns = ward_towns(geography.lsoas)
    wards = geography.lsoas.drop_duplicates("ward_code").set_index("ward_code")
    by_name = pd.Series(towns.to_numpy(), index=wards.loc[towns.index, "ward_name"].to_numpy())
    assert by_name["Hanley Park, Joiner's Square & Shelton"] == "Hanley"  # "Etruria & Hanley" too
    assert by_name["Etruria & Hanley"] == "Hanley"
    assert by_name["Great Wyrley Town"] == "Great Wyrley"  # two words: "Great" alone is no town
    assert by_name["Leek North"] == "Leek"
    assert by_name["Forebridge"] == "Stafford"  # no town in the name: the district
    assert set(towns[wards.loc[towns.index, "ward_name"].eq("Town")]) == {
        "East Staffordshire",
        "Newcastle-under-Lyme",
    }
    # every ward gets one, and a town is only ever a district name or a start of a ward name
    assert towns.notna().all() and len(towns) == wards.shape[0]


def test_generic_name_is_qualified_by_the_nearest_street(geography):
    inc = pd.DataFrame(
        {
            "x": [400_000.0, 400_050.0, 400_400.0, 400_000.0],
            "y": [300_000.0, 300_000.0, 300_000.0, 300_000.0],
            "location_name": [
                "On or near Supermarket",
                "On or near Queen Street",
                "On or near King Street",
                "On or near Supermarket",
            ],
            "ward_code": geography.lsoas["ward_code"].iloc[0],
        }
    )
    names = Namer(inc, geography=geography).name(np.array([1, 0, 0, 1]), inc)
    ward = geography.lsoas["ward_name"].iloc[0]
    assert names[1].startswith("Supermarket near Queen Street, ")
    assert names[1].endswith(f"({ward})")


def test_second_name_only_when_it_holds_a_quarter_of_the_first(geography):
    names = ["On or near A Street"] * 8 + ["On or near B Road"] * 2 + ["On or near C Lane"] * 1
    inc = pd.DataFrame({"x": 400_000.0 + np.arange(11), "y": 300_000.0, "location_name": names})
    out = Namer(inc, geography=geography).name(np.ones(11, dtype=int), inc)
    assert out[1] == "A Street & B Road"  # B holds 2/8 = 25% of A; no ward column: no ward
    out = Namer(inc, geography=geography).name(np.r_[np.ones(9, dtype=int), 0, 1], inc)
    assert out[1] == "A Street"  # C (1) is under a quarter of A (8)


def test_duplicate_names_get_their_grid_reference(geography):
    inc = pd.DataFrame(
        {
            "x": [400_050.0, 410_050.0],
            "y": [300_050.0, 300_050.0],
            "location_name": ["On or near High Street"] * 2,
        }
    )
    out = Namer(inc, geography=geography).name(np.array([1, 2]), inc)
    assert list(out) == ["High Street · SK 000 000", "High Street · SK 100 000"]


# ---------------------------------------------------------------------------- real list
@pytest.fixture(scope="module")
def default_list(real_incidents, geography):
    return find_hotspots(real_incidents, geography=geography)


def test_default_list_names_are_unique_and_name_a_street_and_ward(default_list, geography):
    top = default_list.head(20)
    assert default_list["name"].is_unique and top["name"].notna().all()
    ward_names = set(geography.lsoas["ward_name"])
    for name, locations in zip(top["name"], top["top_locations"], strict=True):
        streets, _, where = name.split(" · ")[0].partition(", ")
        ward = where[where.index("(") + 1 : -1] if "(" in where else where
        assert ward in ward_names, name
        first = streets.split(" & ")[0].split(" near ")[0]
        assert clean_location_name(locations.split(";")[0].rsplit(" (", 1)[0]) == first, name
    assert "naming_rule" in default_list.params


def test_top_places_hand_counted_from_the_raw_files(default_list, sample_raw):
    """Count the raw rows inside each of the top 3 places and find their busiest names by hand."""
    raw = sample_raw[~((sample_raw["Crime ID"] != "") & sample_raw.duplicated("Crime ID"))]
    lon = pd.to_numeric(raw["Longitude"], errors="coerce")
    lat = pd.to_numeric(raw["Latitude"], errors="coerce")
    ok = lon.notna() & lat.notna()
    import pyproj

    tf = pyproj.Transformer.from_crs(4326, 27700, always_xy=True)
    x, y = tf.transform(lon[ok].to_numpy(), lat[ok].to_numpy())
    pts = shapely.points(x, y)
    locs = raw.loc[ok, "Location"].to_numpy()
    for _, place in default_list.head(3).iterrows():
        inside = shapely.contains(place.geometry, pts)
        assert inside.sum() == place["count"]
        names = pd.Series(locs[inside]).str.replace("On or near ", "").str.replace("'S ", "'s ")
        busiest = names.value_counts()
        first = busiest.index[0]
        assert place["name"].startswith(first)
        if len(busiest) > 1 and busiest.iloc[1] >= 0.25 * busiest.iloc[0]:
            assert place["name"].startswith(f"{first} & {busiest.index[1]}")


def test_towns_from_older_wards_and_county_divisions(geography):
    """Longton, Burton and Kidsgrove (issue 9): their wards' other names and county divisions name them."""
    from hotspots.naming import town_sources

    plain = ward_towns(geography.lsoas)
    towns = ward_towns(geography.lsoas, **town_sources(geography))
    wards = geography.lsoas.drop_duplicates("ward_code").set_index("ward_code")["ward_name"]
    by_name = pd.Series(towns.to_numpy(), index=wards.loc[towns.index].to_numpy())
    assert by_name["Longton & Meir Hay South"] == "Longton"  # was Meir: "Broadway and Longton East" (2022)
    assert by_name["Burton & Eton"] == "Burton"  # was East Staffordshire: "Burton Town ED"
    assert by_name["Kidsgrove & Ravenscliffe"] == "Kidsgrove"  # was Newcastle-under-Lyme: "Kidsgrove ED"
    # never a ward's whole name ("Blurton East", "Chadsmoor ED"): those keep their district
    assert by_name["Blurton"] == "Stoke-on-Trent" and by_name["Chadsmoor"] == "Cannock Chase"
    # what the ward names decided stays; the others add only these six
    changed = wards.loc[towns.index[towns != plain]]
    assert set(changed) == {
        "Longton & Meir Hay South",
        "Burton & Eton",
        "Kidsgrove & Ravenscliffe",
        "Brewood, Coven & Blymhill",
        "Cheslyn Hay Village",
        "Kinver & Enville",
    }
