"""The Data page's study-area chooser and coverage prompt (AppTest), on the real Cheshire rows.

A new user whose store holds only a Cheshire month (``tests/data/2017-01-cheshire-street.csv``,
real police.uk rows) is told on every page that the study area (the default, Staffordshire) does
not cover Cheshire; on the Data page one button makes Cheshire the study area, and the chooser
takes several partnerships at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from app_util import app_page, store_env
from streamlit.testing.v1 import AppTest
from test_app_pages import APP

from hotspots.ingest import ingest
from hotspots.store import Store

CHESHIRE = Path(__file__).resolve().parent / "data" / "2017-01-cheshire-street.csv"


@pytest.fixture
def cheshire_app_store(tmp_path):
    path = tmp_path / "store.duckdb"
    with Store(path) as store:
        ingest([CHESHIRE], store=store)
    with store_env(path):
        yield path


def data_page() -> AppTest:
    return app_page("pages/data_page.py")


def test_prompt_offers_the_force_of_the_loaded_data(cheshire_app_store):
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()  # the Map page: a note that points to the Data page
    assert any("**Cheshire** police force area" in w.value and "Data" in w.value for w in at.warning)
    at = data_page()
    assert any("140 incidents in **Cheshire** police force area" in w.value for w in at.warning)
    at.button(key="use_uncovered").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("Study area set to Cheshire (police force area): ") for s in at.success)
    assert not any("police force area, which the study area" in w.value for w in at.warning)
    with Store(cheshire_app_store) as s:  # the app holds a read-write connection in this process
        assert s.geography().name == "Cheshire (police force area)"
        summary = s.assignment_summary().set_index("assigned_by")["incidents"]
    # every Cheshire Constabulary point is in the force area (the Stockport one stays outside)
    assert summary["polygon"] == 140 - 3


def test_chooser_takes_several_partnerships_and_says_what_is_wrong(cheshire_app_store):
    at = data_page()
    form = at.multiselect[0]
    assert form.label == "Community safety partnerships" and len(form.options) == 314
    form.set_value(["Cheshire East", "Cheshire West and Chester"])
    at.button[[b.label for b in at.button].index("Use this study area")].click().run()
    assert not at.exception, at.exception
    msg = [s.value for s in at.success]
    assert msg and msg[0].startswith("Study area set to Cheshire East + Cheshire West and Chester: 466 LSOAs")
    at.multiselect[0].set_value([])
    at.button[[b.label for b in at.button].index("Use this study area")].click().run()
    assert any(e.value == "Choose at least one partnership, force or district." for e in at.error)
