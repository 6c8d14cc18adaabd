"""The Places page in AppTest on a copy of the real-sample store: edit, note, register from wards, errors."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from app_util import app_page, store_env
from shapely.geometry import box
from streamlit.testing.v1 import AppTest

from hotspots import register as reg
from hotspots.place_eval import evaluate_place
from hotspots.store import Store

ROOT = Path(__file__).resolve().parents[1]
HANLEY = box(388_000, 347_300, 388_400, 347_700)


@pytest.fixture(scope="module")
def places_store(sample_store_path, tmp_path_factory):
    path = tmp_path_factory.mktemp("places_page") / "store.duckdb"
    shutil.copy(sample_store_path, path)
    with Store(path) as s:
        reg.add_place(s, HANLEY, name="Hanley bus station", group="Stoke GIG", source="test", author="ana")
    with store_env(path):
        yield path


def places_page() -> AppTest:
    return app_page("pages/places_page.py")


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


def _hand_count(incidents: pd.DataFrame, geom, lo: str, hi: str) -> int:
    """Incidents inside ``geom`` in months ``lo``..``hi`` (a plain point-in-polygon on the raw sample)."""
    import shapely

    m = incidents["month"].between(pd.Timestamp(lo + "-01"), pd.Timestamp(hi + "-01"))
    inc = incidents[m & incidents["x"].notna()]
    return int(shapely.contains_xy(geom, inc["x"].to_numpy(), inc["y"].to_numpy()).sum())


def test_places_page_shows_the_evaluation_and_the_pack(places_store, real_incidents):
    with Store(places_store) as s:
        reg.update_place(s, 1, start="2025-09", status="active", author="ana")
    at = places_page()
    assert at.selectbox(key="reg_place").value in (1, 2)
    at.selectbox(key="reg_place").set_value(1).run()
    assert [h.value for h in at.subheader if h.value == "Did it work?"] == ["Did it work?"]
    metrics = {m.label: m.value for m in at.metric}
    before, after = (int(v.replace(",", "")) for v in metrics["In the place"].split(" → "))
    # the windows the page states, counted by hand on the raw sample (independent of the store)
    cap = next(c.value for c in at.caption if c.value and "Before 20" in c.value)
    b_lo, b_hi, a_lo, a_hi = re.findall(r"\d{4}-\d{2}", cap)[-4:]
    assert before == _hand_count(real_incidents, HANLEY, b_lo, b_hi)
    assert after == _hand_count(real_incidents, HANLEY, a_lo, a_hi)
    assert a_lo == "2025-09"
    # the WDQ is shown only when the evaluation says it may be read
    with Store(places_store) as s:
        ev = evaluate_place(s.incidents(), reg.get_place(s, 1), geography=s.geography())
    assert metrics["WDQ"] == (f"{ev.wdq:.2f}" if ev.wdq_read else "not read")
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Meeting pack for Stoke GIG (PDF)", "Download the register (Excel)"]


def test_add_to_register_from_the_hotspots_page_and_the_map(places_store):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.run()
    at.switch_page("pages/hotspots_page.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="place").set_value(2).run()
    at.text_input(key="hs_register_new_group").set_value("Burton GIG")
    at.text_input(key="hs_register_start").set_value("2025-10")
    form_button(at, "Add to register").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("Added place #") for s in at.success)

    at.switch_page("pages/map_page.py").run()
    assert not at.exception, at.exception
    # the chooser is made only while its expander is open: closed, no list of places is built
    assert [e.label for e in at.expander if e.label.startswith("Add a hotspot place")]
    assert not [s for s in at.selectbox if s.key == "map_reg_rank"]
    at.session_state["map_reg_open"] = True  # the user opens it
    at.run()
    at.selectbox(key="map_reg_rank").set_value(1).run()
    at.selectbox(key="map_reg_group").set_value("Burton GIG")
    form_button(at, "Add to register").click().run()
    assert not at.exception, at.exception

    from hotspots.filters import Filter
    from hotspots.hotspot_list import find_hotspots

    with Store(places_store) as s:
        places = reg.list_places(s, group="Burton GIG")
        ref = find_hotspots(s.incidents(), geography=s.geography(), filt=Filter())  # the pages' default list
    assert len(places) == 2
    hs, mp = places.iloc[0], places.iloc[1]
    row2, row1 = ref[ref["rank"] == 2].iloc[0], ref[ref["rank"] == 1].iloc[0]
    assert (hs["name"], hs["status"], hs["start"], hs["created_by"]) == (
        row2["name"], "proposed", pd.Timestamp("2025-10-01"), "dashboard",
    )  # fmt: skip
    assert hs.geometry.equals(row2.geometry)
    assert hs["source"].startswith("hotspot list: eb_count") and hs["source"].endswith(f"#2 {row2['name']}")
    assert mp["name"] == row1["name"] and mp.geometry.equals(row1.geometry)
