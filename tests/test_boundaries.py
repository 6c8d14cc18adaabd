import zipfile

import geopandas as gpd
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
