"""The problem-solving cycle in headless Chromium: register a hotspot, set its start, see its evaluation.

The app is started as `make run` starts it (the real 2025 sample loaded into a fresh store);
every request leaving the machine is refused. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from browser_util import ARTIFACTS, FOLIUM, new_page, serving, shot, wait_idle

from hotspots import register as reg

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def cycle_app(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("cycle")
    store = tmp / "store.duckdb"
    with serving(store, tmp / "app.log") as url:
        yield url, store


def register_download(page, tmp: Path) -> pd.DataFrame:
    """The register as the Places page's Excel download holds it (the app holds the store open)."""
    with page.expect_download(timeout=60000) as dl:
        page.get_by_role("button", name="Download the register (Excel)").click()
    path = tmp / "register.xlsx"
    dl.value.save_as(path)
    return pd.read_excel(path, sheet_name=0)


def set_start(page, place_id: int, start: str) -> None:
    """On the Places page: set the chosen place's intervention start."""
    box = page.get_by_label("Intervention start (YYYY-MM or YYYY-MM-DD)")
    box.fill(start)
    box.press("Tab")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text(f"Saved #{place_id}.").wait_for(timeout=60000)
    wait_idle(page, 120)


def test_register_a_hotspot_set_its_start_and_see_its_evaluation(
    cycle_app, browser, tmp_path, sample_store_path, real_incidents
):
    from hotspots.hotspot_list import find_hotspots
    from hotspots.store import Store

    with Store(sample_store_path, read_only=True) as s:  # the same sample, analysed here
        ref = find_hotspots(s.incidents(), geography=s.geography())
    first = ref[ref["rank"] == 1].iloc[0]

    url, _ = cycle_app
    page = new_page(browser)
    # the Hotspots page, top place chosen: register it
    page.goto(f"{url}/hotspots?place=1", timeout=180000)
    form = page.get_by_text("Add hotspot 1 to the place register")
    form.wait_for(timeout=180000)
    wait_idle(page, 120)
    page.get_by_label("Group (meeting)", exact=True).fill("Stoke North GIG")
    status = page.get_by_label("Status", exact=True)  # the form's only "Status"
    status.scroll_into_view_if_needed()
    status.click()
    status.fill("active")
    page.get_by_role("option", name="active", exact=True).click()
    page.get_by_role("button", name="Add to register").click()
    page.get_by_text("Added place #1").wait_for(timeout=60000)
    form.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    shot(page, "cycle_1_hotspots_added")
    page.get_by_role("link", name="Open it on the Places page").click()

    # the Places page: set its start
    page.get_by_role("heading", name=f"#1 {first['name']}").wait_for(timeout=120000)
    wait_idle(page, 120)
    assert "/places" in page.url
    set_start(page, 1, "2025-09")
    metrics = page.locator('[data-testid="stMetric"]').all_inner_texts()
    assert any("Intervention start" in m and "2025-09-01" in m for m in metrics), metrics
    page.get_by_role("heading", name="Places").first.scroll_into_view_if_needed()
    page.frame_locator(FOLIUM).first.locator(".hs-legend").first.wait_for(timeout=60000)
    page.wait_for_timeout(500)
    shot(page, "cycle_2_places_page")

    # its evaluation: counts in the place equal a hand count of the raw sample in the stated windows
    heading = page.get_by_role("heading", name="Did it work?")
    heading.wait_for(timeout=120000)
    heading.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    shot(page, "cycle_3_evaluation")
    in_place = next(
        m for m in page.locator('[data-testid="stMetric"]').all_inner_texts() if "In the place" in m
    )
    before, after = (int(n.replace(",", "")) for n in re.findall(r"[\d,]+", in_place.split("\n", 1)[1]))
    caption = next(
        t for t in page.locator('[data-testid="stCaptionContainer"]').all_inner_texts() if "Before 20" in t
    )
    b_lo, b_hi, a_lo, a_hi = re.findall(r"\d{4}-\d{2}", caption)[-4:]
    assert a_lo == "2025-09"
    assert before == hand_count(real_incidents, first.geometry, b_lo, b_hi)
    assert after == hand_count(real_incidents, first.geometry, a_lo, a_hi)

    # the group's meeting pack: a PDF naming the place, with its counts
    with page.expect_download(timeout=300000) as dl:
        page.get_by_role("button", name="Meeting pack for Stoke North GIG (PDF)").click()
    pdf = tmp_path / "pack.pdf"
    dl.value.save_as(pdf)
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(pdf).pages)
    (ARTIFACTS / "cycle_pack.txt").write_text(text)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert "Stoke North GIG" in text and first["name"][:15] in text  # (long names wrap in the PDF)
    assert f"{before:,}" in text and f"{after:,}" in text

    rows = register_download(page, tmp_path)
    assert rows["name"].tolist() == [first["name"]]
    assert rows["status"].tolist() == ["active"]
    assert rows["start"].astype(str).tolist() == ["2025-09-01"]
    assert rows["updated_by"].tolist() == [reg.DASHBOARD_AUTHOR]
    assert rows["source"].iloc[0] == f"hotspot list: eb_count 2025-01–2025-12 #1 {first['name']}"
    page.close()


def hand_count(incidents: pd.DataFrame, geom, lo: str, hi: str) -> int:
    """Incidents inside ``geom`` in months ``lo``..``hi`` (plain point-in-polygon on the raw sample)."""
    import shapely

    m = incidents["month"].between(pd.Timestamp(lo + "-01"), pd.Timestamp(hi + "-01"))
    inc = incidents[m & incidents["x"].notna()]
    return int(shapely.contains_xy(geom, inc["x"].to_numpy(), inc["y"].to_numpy()).sum())
