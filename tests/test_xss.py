"""XSS probe: script, img-onerror and javascript: payloads in the data never execute in Chromium.

The payloads are put where data reaches the page: police.uk location names (the busiest map
points of three real months), a police.uk crime type (rejected, so it shows in the rejected
rows on the Data page), a partner source's categories, place descriptions and outcomes,
locality names, and the name of an uploaded boundary file. Every page of the app is opened
(the sidebar's page links, so pages added later are covered too), the map's popups are opened
by clicking its shapes, and the profile's HTML export is opened as a page of its own. Each
payload sets ``window.__xss`` and calls ``alert``: the test fails on any dialog, any frame
with ``window.__xss`` set, or any element the payloads would inject (``img[src=x]``, an
``onerror``/``onload`` attribute, a ``javascript:`` link, a script holding a payload's code).
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from browser_util import FOLIUM, new_page, serving, shot, wait_idle

import boundaries
from hotspots.assign import set_geography
from hotspots.ingest import InputFile, PartnerMapping, load_input
from hotspots.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]
SAMPLE_ZIP = Path(__file__).resolve().parents[1] / "sample_data" / "staffordshire-2025-street.zip"
PAYLOADS = [
    "<script>window.__xss=1;alert(1)</script>",
    '<img src=x onerror="window.__xss=2;alert(2)">',
    "javascript:window.__xss=3;alert(3)",
    "[open](javascript:window.__xss=4;alert(4))",
    '"><svg onload="window.__xss=5;alert(5)">',
    '\'><iframe src="javascript:window.top.__xss=6;alert(6)">',
    "{{ 6007*7 }}{{ 'tmpl' }}",  # template syntax: must stay text, never run (dashboard/folium_render.py)
]
EVALUATED = "42049"  # what the template payload becomes if the server evaluates it
TEXTS = """() => [document, ...[...document.querySelectorAll('iframe')].map(f => {
  try { return f.contentDocument; } catch (e) { return null; }
})].filter(d => d && d.body).map(d => d.body.innerText)"""
PROBE = """() => {
  const found = [];
  const docs = [document];
  for (const f of document.querySelectorAll('iframe')) {
    try { if (f.contentDocument) docs.push(f.contentDocument); } catch (e) {}
    try { if (f.contentWindow && f.contentWindow.__xss) found.push('window.__xss in an iframe'); } catch (e) {}
  }
  if (window.__xss) found.push('window.__xss = ' + window.__xss);
  for (const d of docs) {
    for (const el of d.querySelectorAll('img[src="x"], [onerror], [onload]')) found.push(el.outerHTML.slice(0, 120));
    for (const a of d.querySelectorAll('a[href^="javascript:" i], iframe[src^="javascript:" i]'))
      found.push(a.outerHTML.slice(0, 120));
    // an injected <script> holds the payload's code itself (the map's own scripts hold it escaped, as data)
    for (const s of d.querySelectorAll('script')) if (s.textContent.trim().startsWith('window.__xss')) found.push('script: ' + s.textContent.slice(0, 80));
  }
  return found;
}"""


def _csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode()


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory) -> Path:
    """Three real months with payload location names, a payload partner source, localities, boundary name."""
    path = tmp_path_factory.mktemp("xss") / "store.duckdb"
    store = Store(path)
    with zipfile.ZipFile(SAMPLE_ZIP) as zf:
        for month in ("2025-01", "2025-02", "2025-03"):
            member = f"{month}/{month}-staffordshire-street.csv"
            df = pd.read_csv(io.BytesIO(zf.read(member)), dtype=str, keep_default_na=False)
            busiest = df.loc[df["Longitude"] != "", "Location"].value_counts().index[:30]
            for i, loc in enumerate(busiest):
                df.loc[df["Location"] == loc, "Location"] = PAYLOADS[i % len(PAYLOADS)] + " " + loc
            df.loc[df.index[:3], "Crime type"] = PAYLOADS[:3]  # rejected: shown on the Data page
            load_input(store, member, [InputFile(member, _csv([list(df.columns), *df.to_numpy().tolist()]))])
            if month == "2025-01":
                partner = df[df["Crime type"] == "Anti-social behaviour"].head(400)
    rows = [["Ref", "Month", "Type", "Longitude", "Latitude", "Where", "Status"]]
    for i, r in enumerate(partner.itertuples(index=False)):
        p = PAYLOADS[i % len(PAYLOADS)]
        rows.append([f"C{i}", "2025-01", p, r.Longitude, r.Latitude, p, p])
    mapping = PartnerMapping(
        id="Ref",
        month="Month",
        category="Type",
        lon="Longitude",
        lat="Latitude",
        location="Where",
        outcome="Status",
    )
    load_input(
        store, "council.csv", [InputFile("council.csv", _csv(rows))], source="council-asb", mapping=mapping
    )
    geo = boundaries.default_geography()
    wards = sorted(geo.lsoas["ward_code"].unique())
    store.set_localities(
        pd.DataFrame(
            {"ward_code": wards, "locality": [PAYLOADS[i % len(PAYLOADS)] for i in range(len(wards))]}
        )
    )
    lsoa_file = tmp_path_factory.mktemp("upload") / "lsoas.gpkg"
    geo.boundary_lsoas[["lsoa_code", "geometry"]].rename(columns={"lsoa_code": "LSOA21CD"}).to_file(lsoa_file)
    set_geography(store, boundaries.geography_from_lsoas(lsoa_file, name=PAYLOADS[1]))
    store.close()
    return path


@pytest.fixture(scope="module")
def hostile_app(hostile_store, tmp_path_factory):
    with serving(hostile_store, tmp_path_factory.mktemp("xss_app") / "app.log") as url:
        yield url


def _probe(page, where: str, dialogs: list[str]) -> None:
    wait_idle(page, 90)
    page.wait_for_timeout(800)
    found = page.evaluate(PROBE)
    assert not dialogs, f"{where}: a dialog opened: {dialogs}"
    assert not page.locator('[data-testid="stException"]').count(), f"{where}: the page failed"
    texts = page.evaluate(TEXTS)
    assert not any(EVALUATED in t for t in texts), f"{where}: template syntax in the data was evaluated"
    assert not found, f"{where}: injected: {found}"


POPUPS = """() => {
  // every feature and marker of every Leaflet map in this frame: click it (popup), hover it (tooltip)
  let opened = 0; const found = [];
  const maps = [window.map, ...Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k])];
  for (const m of new Set(maps.filter(m => m instanceof L.Map))) {
    const layers = [];
    m.eachLayer(l => { if (l.feature || l instanceof L.Marker) layers.push(l); });
    for (const l of layers.slice(0, 300)) {
      const ll = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
      l.fire('click', {latlng: ll}, true);
      l.fire('mouseover', {latlng: ll}, true);
      for (const c of document.querySelectorAll('.leaflet-popup-content, .leaflet-tooltip')) {
        if (c.classList.contains('leaflet-popup-content') && c.innerHTML) opened++;
        for (const el of c.querySelectorAll('img, script, svg, iframe, [onerror], [onload]'))
          found.push(el.outerHTML.slice(0, 120));
      }
    }
  }
  return {opened, found};
}"""


def _open_popups(page, dialogs: list[str], where: str) -> int:
    """Open every popup and tooltip of the map (streamlit-folium's iframe) and look inside each."""
    page.frame_locator(FOLIUM).first.locator(".leaflet-container").wait_for(timeout=90000)
    opened = 0
    for frame in page.frames:
        if frame.evaluate("() => typeof L !== 'undefined'"):
            result = frame.evaluate(POPUPS)
            assert not result["found"], f"{where}: a popup or tooltip holds {result['found']}"
            opened += result["opened"]
    _probe(page, f"{where} with popups", dialogs)
    return opened


def test_payloads_in_the_data_never_execute(hostile_app, browser, tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = new_page(browser)
    page.set_default_navigation_timeout(180000)  # the app warms its caches before answering
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(hostile_app)
    page.locator('[data-testid="stSidebarNav"]').wait_for(timeout=90000)
    wait_idle(page, 90)
    hrefs = page.eval_on_selector_all('[data-testid="stSidebarNav"] a', "els => els.map(e => e.href)")
    assert len(hrefs) >= 5, hrefs
    popups = 0
    for href in hrefs:  # localities as the area level: their names reach tables and popups
        page.goto(href + "?level=locality")
        page.locator('[data-testid="stMain"]').wait_for(timeout=90000)
        _probe(page, href, dialogs)
        assert not page.locator('[data-testid="stException"]').count(), f"{href} failed to draw"
        try:  # pages with a map: the map draws a moment after the page
            page.locator(FOLIUM).first.wait_for(timeout=20000)
            popups += _open_popups(page, dialogs, href)
        except PlaywrightTimeout:
            pass
        shot(page, "xss_" + (href.rstrip("/").rsplit("/", 1)[-1].split(":")[0] or "map"))
    assert popups > 0, "no map popup could be opened"
    page.goto(hostile_app + "/data")
    page.get_by_role("tab", name="What the store holds").click()
    page.get_by_text("Rejected and duplicate rows").wait_for(timeout=60000)
    _probe(page, "the Data page's rejected rows", dialogs)
    # the profile's HTML export, opened as a page
    page.goto(hostile_app + "/profile")
    button = page.get_by_role("button", name="Download").filter(has_text="HTML").first
    if not button.count():
        button = page.locator('[data-testid="stDownloadButton"] button').first
    with page.expect_download(timeout=90000) as dl:
        button.click()
    export = tmp_path / dl.value.suggested_filename
    dl.value.save_as(export)
    text = export.read_text()
    assert not any(p in text for p in PAYLOADS if "<" in p), "a payload reached the export unescaped"
    viewer = browser.new_page()
    viewer.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    viewer.goto(export.as_uri())
    viewer.wait_for_timeout(1000)
    assert not dialogs and not viewer.evaluate(PROBE), "the profile's HTML export ran a payload"
    shot(viewer, "xss_profile_export")
