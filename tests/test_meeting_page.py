"""The Meeting page in AppTest on the sample with a group and places (issue 10, item 3)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from app_util import store_env
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def meeting_store(tmp_path_factory, cycle_store_path):
    path = tmp_path_factory.mktemp("meeting_app") / "store.duckdb"
    shutil.copy(cycle_store_path, path)
    with store_env(path):
        yield path


def test_meeting_page_shows_the_agenda_and_records_a_meeting(meeting_store, cycle_agenda):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.run()
    at.switch_page("pages/meeting_page.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="mt_group").value == "Stoke Central"
    assert at.selectbox(key="mt_month").value == "2025-12"
    heads = [h.value for h in at.subheader]
    assert heads == [
        "1. Places new in the hotspot list",
        "2. Wards (or districts) above their expected range",
        "3. Top repeat locations since the last meeting",
        "4. Progress of the group's active places",
    ]
    text = " ".join(m.value for m in at.markdown)
    assert f"**#1 Hanley bus station** (start 2025-08-01): {cycle_agenda.places.iloc[0]['verdict']}" in text
    assert "Since 2025-11 (no earlier meeting recorded" in " ".join(c.value for c in at.caption)
    frames = [d.value for d in at.dataframe]
    assert any(list(f.get("count", [])) == cycle_agenda.repeat_locations["count"].tolist() for f in frames)
    at.button(key="mt_record").click().run()
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "Recorded meetings: 2025-12" in captions
