import zipfile

import geopandas as gpd
import pandas as pd
import pytest

import boundaries
from hotspots._errors import InputError


def test_shipped_geography_levels(geography):
    for level, n in (("lsoa", 697), ("ward", 185), ("district", 9), ("locality", 9)):
        areas = geography.areas(level)
        assert len(areas) == n and areas.crs.to_epsg() == 27700
        assert areas["population"].sum() == 1_134_501
        assert areas["area_code"].is_unique
    assert geography.areas("district").set_index("area_code").loc["E07000197", "area_name"] == "Stafford"
    assert geography.study_area.crs.to_epsg() == 27700


def test_wards_2022_districts_and_ced_lookup():
    w = boundaries.wards_2022()
    assert len(w) == 201 and w.crs.to_epsg() == 27700
    d = boundaries.districts()
    assert d.loc[d.district_code == "E07000197", "csp_name"].item() == "Stafford"
    ced = boundaries.ward_to_ced()
    assert (ced["county_name"] == "Staffordshire").sum() > 100


def test_user_lsoa_file_in_another_crs_builds_a_geography(tmp_path, geography):
    part = geography.lsoas[geography.lsoas.district_code == "E07000199"]  # Tamworth
    f = tmp_path / "tamworth.gpkg"
    gpd.GeoDataFrame({"LSOA21CD": part.lsoa_code}, geometry=part.geometry.to_numpy(), crs=27700).to_crs(
        3857
    ).to_file(f)
    geo = boundaries.geography_from_lsoas(f)
    assert len(geo.lsoas) == len(part) and geo.lsoas.crs.to_epsg() == 27700
    assert geo.areas("district")["area_name"].tolist() == ["Tamworth"]
    assert geo.areas("district")["population"].item() == 78_653


def test_zipped_shapefile_and_boundary_file_errors(tmp_path, geography):
    part = geography.lsoas.head(3)[["lsoa_code", "lsoa_name", "geometry"]].rename(
        columns={"lsoa_code": "LSOA21CD", "lsoa_name": "LSOA21NM"}
    )
    shp = tmp_path / "shp"
    shp.mkdir()
    part.to_file(shp / "areas.shp")
    z = tmp_path / "areas.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in shp.iterdir():
            zf.write(p, p.name)
    areas = boundaries.read_boundary_file(z)
    assert len(areas) == 3 and set(areas.columns) == {"area_code", "area_name", "geometry"}
    # no CRS: drop the .prj
    z2 = tmp_path / "noprj.zip"
    with zipfile.ZipFile(z2, "w") as zf:
        for p in shp.iterdir():
            if p.suffix != ".prj":
                zf.write(p, p.name)
    with pytest.raises(InputError, match="noprj.zip: states no CRS"):
        boundaries.read_boundary_file(z2)
    txt = tmp_path / "areas.txt"
    txt.write_text("x")
    with pytest.raises(InputError, match="boundary files must be GeoJSON"):
        boundaries.read_boundary_file(txt)
    empty_zip = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty_zip, "w") as zf:
        zf.writestr("readme.txt", "x")
    with pytest.raises(InputError, match="the zip holds no .shp file"):
        boundaries.read_boundary_file(empty_zip)
    with pytest.raises(InputError, match="has no column 'CODE' for the code"):
        boundaries.read_boundary_file(z, code_field="CODE")
    bad = tmp_path / "bad.gpkg"
    gpd.GeoDataFrame({"LSOA21CD": ["X1"]}, geometry=part.geometry.head(1).to_numpy(), crs=27700).to_file(bad)
    with pytest.raises(InputError, match="1 LSOA codes are not 2021 LSOAs"):
        boundaries.geography_from_lsoas(bad)


def test_localities_csv_errors(tmp_path):
    f = tmp_path / "loc.csv"
    f.write_text("ward\nE05014574\n")
    with pytest.raises(InputError, match="needs exactly two columns"):
        boundaries.read_localities_csv(f)
    f.write_text("ward,locality\nE05014574,\n")
    with pytest.raises(InputError, match="loc.csv, line 2: a ward code or locality name is blank"):
        boundaries.read_localities_csv(f)


# ---------------------------------------------------------------------------- areas known from the lookups
def test_shipped_areas_have_real_outlines(geography):
    for level in ("lsoa", "ward", "district", "locality"):
        a = geography.areas(level)
        assert list(a.columns) == [*boundaries.AREA_COLUMNS, "geometry"]
        assert (a["outline"] == boundaries.OUTLINE_BOUNDARY).all()
    assert not geography.has_approximate
    assert geography.forces_reached() == {"E23000015"}  # Staffordshire police force area


def test_resolve_reported_lsoa_by_change_code():
    l11 = boundaries.lsoa11_to_lsoa21()
    m = l11[l11.change_code == "M"].iloc[0]
    s = l11[l11.change_code == "S"].iloc[0]
    x = l11[l11.change_code == "X"].iloc[0]
    n_split = (l11.lsoa11_code == s.lsoa11_code).sum()
    r = boundaries.resolve_reported_lsoa(
        ["E01009245", m.lsoa11_code, s.lsoa11_code, x.lsoa11_code, "W0", "", None]
    )
    assert list(r.index) == ["E01009245", m.lsoa11_code, s.lsoa11_code, x.lsoa11_code, "W0"]
    assert r.loc["E01009245", ["lsoa21_code", "vintage", "reason"]].tolist() == ["E01009245", "2021", None]
    assert r.loc[m.lsoa11_code, ["lsoa21_code", "vintage", "change"]].tolist() == [m.lsoa21_code, "2011", "M"]
    assert r.loc[s.lsoa11_code, "lsoa21_code"] is None
    assert r.loc[s.lsoa11_code, "reason"] == (
        f"2011 LSOA split in 2021, ambiguous (ONS change S): {s.lsoa11_code} → {n_split} 2021 LSOAs"
    )
    assert r.loc[s.lsoa11_code, "district_code"] is not None  # its force is still known
    assert r.loc[x.lsoa11_code, "reason"].startswith(
        "2011 LSOA changed irregularly in 2021, ambiguous (ONS change X)"
    )
    assert r.loc["W0", "reason"] == "not a 2011 or 2021 LSOA code: W0"
    # every 2011 code still in use is an unchanged LSOA: the code alone tells the vintage
    still = l11[l11.lsoa11_code.isin(boundaries.population().index)]
    assert (still.change_code == "U").all() and (still.lsoa11_code == still.lsoa21_code).all()


def test_with_reported_areas_adds_whole_force_areas_not_reached(geography, tmp_path):
    staffs = geography.lsoas.head(2)[["lsoa_code"]].assign(x=400000.0, y=300000.0)
    assert geography.with_reported_areas(staffs) is geography  # a force the boundaries reach
    assert geography.with_reported_areas(pd.DataFrame(columns=["lsoa_code", "x", "y"])) is geography
    wm = pd.DataFrame({"lsoa_code": ["E01009245"], "x": [407000.0], "y": [293000.0]})
    geo = geography.with_reported_areas(wm)
    assert geo.name == "Staffordshire and Stoke-on-Trent + West Midlands"
    districts = set(geo.areas("district")["area_code"])
    assert {"E08000025", "E08000031", "E08000026"} <= districts and len(districts) == 9 + 7
    assert len(geo.boundary_lsoas) == 697 and geo.has_reported and not geo.has_approximate
    # exact outlines from the national LSOAs, drawn but never used for point-in-polygon
    added = geo.lsoas[geo.lsoas["origin"] == boundaries.ORIGIN_REPORTED]
    assert len(added) == 1719 and added.geometry.notna().all() and (added["outline"] == "boundary").all()
    assert geo.areas("district").set_index("area_code").loc["E08000025", "population"] == 1_144_941
    # the stored layer keeps only real boundaries
    f = tmp_path / "g.gpkg"
    f.write_bytes(boundaries.geography_to_bytes(geo))
    assert len(gpd.read_file(f)) == 697
