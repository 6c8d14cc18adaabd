"""The Meeting page in headless Chromium: the agenda of a group, its Excel and the meeting pack PDF.

The app is started as `make run` starts it, on a copy of the sample store holding the group
"Stoke Central" and its places (``cycle_store_path``); requests leaving the machine are refused.
"""

from __future__ import annotations

import io
import shutil

import pandas as pd
import pytest
from browser_util import new_page, serving, shot, wait_idle
from pypdf import PdfReader

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def test_meeting_page_downloads_the_agenda_and_the_pack(cycle_store_path, cycle_agenda, browser, tmp_path):
    store = tmp_path / "store.duckdb"
    shutil.copy(cycle_store_path, store)
    with serving(store, tmp_path / "app.log") as url:
        page = new_page(browser)
        page.goto(f"{url}/meeting", timeout=120_000)
        page.get_by_text("4. Progress of the group's active places").wait_for(timeout=240_000)
        wait_idle(page, 120)
        assert page.get_by_text("Hanley bus station", exact=False).first.is_visible()
        shot(page, "meeting_page")
        with page.expect_download(timeout=120_000) as dl:
            page.get_by_role("button", name="Agenda (Excel)").click()
        sheets = pd.read_excel(dl.value.path(), sheet_name=None)
        assert sheets["places"]["name"].tolist() == ["Hanley bus station"]
        assert sheets["repeat_locations"]["count"].tolist() == cycle_agenda.repeat_locations["count"].tolist()
        with page.expect_download(timeout=240_000) as dl:
            page.get_by_role("button", name="Meeting pack (PDF)").click()
        assert dl.value.suggested_filename == "meeting_pack_stoke_central_2025-12.pdf"
        reader = PdfReader(io.BytesIO(open(dl.value.path(), "rb").read()))
        text = "\n".join(pg.extract_text() for pg in reader.pages)
        assert "Stoke Central: meeting pack, December 2025" in text
        assert "Hanley bus station" in text and "Quiet corner" in text
        ev = cycle_agenda.evaluations[1]
        assert f"{ev.control_before:,}" in text
