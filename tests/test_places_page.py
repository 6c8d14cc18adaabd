"""The Places page in AppTest on a copy of the real-sample store: edit, note, register from wards, errors."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from shapely.geometry import box
from streamlit.testing.v1 import AppTest

from hotspots import register as reg
from hotspots.store import Store

ROOT = Path(__file__).resolve().parents[1]
HANLEY = box(388_000, 347_300, 388_400, 347_700)


@pytest.fixture(scope="module")
def places_store(sample_store_path, tmp_path_factory):
    path = tmp_path_factory.mktemp("places_page") / "store.duckdb"
    shutil.copy(sample_store_path, path)
    with Store(path) as s:
        reg.add_place(s, HANLEY, name="Hanley bus station", group="Stoke GIG", source="test", author="ana")
    old = os.environ.get("HOTSPOTS_STORE")
    os.environ["HOTSPOTS_STORE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("HOTSPOTS_STORE", None)
    else:
        os.environ["HOTSPOTS_STORE"] = old


def places_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/places_page.py").run()
    assert not at.exception, at.exception
    return at


def form_button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_places_page_edit_note_register_from_wards(places_store):
    at = places_page()
    assert [t.value for t in at.title] == ["Places"]
    assert not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Status": "Proposed",
        "Intervention start": "not set",
        "End": "not set",
        "Area": "16.0 ha",
    }
    assert any("Outline from test. Added " in c.value and "by ana" in c.value for c in at.caption)

    # end before start: an error, nothing written
    at.text_input(key="pl_edit_1_start").set_value("2025-09")
    at.text_input(key="pl_edit_1_end").set_value("2025-03")
    form_button(at, "Save changes").click().run()
    assert any(
        "Nothing changed: `end` (2025-03-01) is before `start` (2025-09-01)" in e.value for e in at.error
    )
    with Store(places_store) as s:
        assert reg.get_place(s, 1).start is None
        n_hist = len(reg.history(s, 1))

    # set the start and make it active
    at.text_input(key="pl_edit_1_end").set_value("")
    at.selectbox(key="pl_edit_1_status").set_value("active")
    form_button(at, "Save changes").click().run()
    assert not at.exception, at.exception
    assert any("Saved #1." in s.value for s in at.success)
    assert {m.label: m.value for m in at.metric}["Intervention start"] == "2025-09-01"
    with Store(places_store) as s:
        place = reg.get_place(s, 1)
        assert (place.status, place.start, place.updated_by) == (
            "active",
            pd.Timestamp("2025-09-01"),
            "dashboard",
        )
        h = reg.history(s, 1).iloc[n_hist:]
        assert h[["field", "old", "new", "author"]].values.tolist() == [
            ["status", "proposed", "active", "dashboard"],
            ["start", None, "2025-09-01", "dashboard"],
        ]

    # an action
    at.selectbox(key="pl_note_kind_1").set_value("action")
    at.text_input(key="pl_note_date_1").set_value("2025-09-05")
    at.text_input(key="pl_note_text_1").set_value("Extra patrols Fri and Sat nights")
    form_button(at, "Add").click().run()
    assert any("Added the action to #1." in s.value for s in at.success)
    with Store(places_store) as s:
        n = reg.notes(s, 1)
    assert n[["kind", "text", "author"]].values.tolist() == [
        ["action", "Extra patrols Fri and Sat nights", "dashboard"]
    ]
    assert n["date"].iloc[0] == pd.Timestamp("2025-09-05")

    # register two wards as a new place, in a new group
    with Store(places_store) as s:
        geo = s.geography()
    wards = sorted(geo.lsoas.loc[geo.lsoas["district_code"] == "E06000021", "ward_code"].unique())[:2]
    at.multiselect(key="pl_add_codes_ward").set_value(wards).run()
    at.text_input(key="pl_add_areas_new_group").set_value("Hanley partnership")
    form_button(at, "Add to register").click().run()
    assert not at.exception, at.exception
    with Store(places_store) as s:
        places = reg.list_places(s)
    assert places["place_id"].tolist() == [1, 2]
    new = places.iloc[1]
    assert (new["group"], new["status"], new["source"], new["created_by"]) == (
        "Hanley partnership", "proposed", "wards " + " ".join(wards), "dashboard",
    )  # fmt: skip
    ref = geo.lsoas[geo.lsoas["ward_code"].isin(wards)].geometry.union_all()  # independent union of the LSOAs
    assert new.geometry.symmetric_difference(ref).area < 1.0
    assert at.selectbox(key="reg_place").value == 2  # the new place is the chosen one
