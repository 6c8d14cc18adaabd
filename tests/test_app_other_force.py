"""The dashboard on another force's month, as a new user would load it (AppTest).

The month is built as in ``tests/test_assign.py``: the sample's 312 real rows reported in West
Midlands LSOAs (real map points, codes and categories), repeated 12 times with new ids in June
2025, loaded after the Staffordshire year. Their wards are placed from the reported codes.
"""

from __future__ import annotations

import shutil

import pytest
from app_util import store_env
from streamlit.testing.v1 import AppTest
from test_app_pages import APP
from test_assign import WM, force_of, street_file

from hotspots.ingest import ingest
from hotspots.store import Store

WARD = "E05014855"  # Tettenhall Wightwick (Wolverhampton), the busiest ward of the month


@pytest.fixture(scope="module")
def wm_app_store(sample_store_path, sample_raw, tmp_path_factory):
    rows = sample_raw[force_of(sample_raw["LSOA code"]) == WM].reset_index(drop=True)
    folder = tmp_path_factory.mktemp("wm_app")
    month = folder / "2025-06-west-midlands-street.csv"
    street_file(rows, month, month="2025-06")
    path = folder / "store.duckdb"
    shutil.copy(sample_store_path, path)
    with Store(path) as store:
        (report,) = ingest([month], store=store)
        assert report.accepted == 3_744
        inc = store.incidents()
    # the store's count for the ward (tests/test_assign.py checks the placing against the lookup by hand)
    in_ward = int(((inc["ward_code"] == WARD) & (inc["month"] == "2025-06-01")).sum())
    with store_env(path):
        yield path, in_ward


def open_ward(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in {"level": "ward", "areas": WARD, "month_from": "2025-06", "month_to": "2025-06"}.items():
        at.query_params[k] = v
    at.run()
    if page != "pages/map_page.py":
        at.switch_page(page).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def test_map_shows_another_forces_ward_with_its_residents_and_no_approximate_note(wm_app_store):
    at = open_ward("pages/map_page.py")
    got = {m.label: m.value for m in at.metric}
    in_ward = wm_app_store[1]
    assert got["Incidents"] == f"{in_ward:,}" and in_ward > 100
    assert got["Residents"] == "12,531"  # Census 2021, summed over the ward's LSOAs
    # its outline is exact (the national LSOAs), so no caption says outlines are approximate
    assert not any(c.value.startswith("Some areas lie outside the boundary files") for c in at.caption)


def test_hotspots_and_profile_work_for_another_forces_ward(wm_app_store):
    at = open_ward("pages/hotspots_page.py")
    assert at.dataframe and len(at.dataframe[0].value) >= 1
    assert any("hotspots hold" in c.value for c in at.caption)
    at = open_ward("pages/profile_page.py")
    assert {m.label for m in at.metric} >= {"Residents", "Incidents", "Per 1,000 residents"}
