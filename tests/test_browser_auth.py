"""Sign-in through a real OpenID Connect provider, roles, refusals and the audit log, in Chromium.

One provider (``oidc-provider-mock``, tests/oidc_util.py) and one app process for the module;
each test signs in, in its own browser context, through the full redirect flow: the app's
sign-in button, the provider's authorize page, the callback, back to the app. Who is who:
``tests/oidc_util.py`` (admin by e-mail, analyst by a group claim, viewer by default, a refused
leaver). The tests run in order: the admin's test reads the audit entries the others left.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from browser_util import FOLIUM, new_page, shot, wait_idle
from oidc_util import sign_in, signed_in_app
from test_browser_disclose import COLUMN, OPEN_POPUP, small_ward

DATA = Path(__file__).parent / "data"
pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
NAV = '[data-testid="stSidebarNav"] a'


@pytest.fixture(scope="module")
def auth_app(restricted_store_path, oidc_provider, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The app with sign-in configured, on the 2025 sample plus the restricted source ``collisions``."""
    tmp = tmp_path_factory.mktemp("auth_app")
    store = tmp / "store.duckdb"
    shutil.copy(restricted_store_path, store)
    with signed_in_app(store, tmp, issuer=oidc_provider) as url:
        yield url, store


def popup(page, ward: str) -> str:
    """The text of ``ward``'s popup on the Map page's area layer."""
    page.frame_locator(FOLIUM).first.locator(".leaflet-container").wait_for(timeout=90000)
    page.locator(FOLIUM).first.scroll_into_view_if_needed()
    frames = [f for f in page.frames if f.evaluate("() => typeof L !== 'undefined'")]
    return next(t for t in (f.evaluate(OPEN_POPUP, ward) for f in frames) if t != "no such ward")


def area_csv(page, tmp_path: Path, name: str) -> pd.DataFrame:
    """The Map page's "Counts by area" CSV, as downloaded."""
    with page.expect_download(timeout=60000) as dl:
        page.get_by_role("button", name="Download CSV").click()
    dl.value.save_as(tmp_path / name)
    return pd.read_csv(tmp_path / name, dtype={COLUMN: str}).set_index("area_code")


def chart(page) -> tuple[dict[str, str], int]:
    """The restricted sources' monthly chart (Vega SVG): (month -> the count its bar's accessible
    description gives, how many text marks say ``[c]``)."""
    box = page.locator('[data-testid="stVegaLiteChart"]', has_text="Restricted partner sources by month")
    box.wait_for(timeout=60000)
    box.scroll_into_view_if_needed()
    labels = box.locator("[aria-label]").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    bars = dict(re.findall(r"label: (\w+ \d{4}); Incidents: (\S+); source: collisions", " | ".join(labels)))
    texts = box.locator("svg text").evaluate_all("els => els.map(e => e.textContent)")
    return bars, texts.count("[c]")


def ward_months(geography, code: str) -> dict[str, int]:
    """Collisions of the ward by month ("Mar 2025" -> n), by a hand count (GeoPandas sjoin)."""
    raw = pd.read_csv(DATA / "stats19_constructed.csv", dtype=str)
    pts = gpd.GeoDataFrame(
        {"month": pd.to_datetime(raw["Date"], format="%d/%m/%Y").dt.strftime("%b %Y")},
        geometry=gpd.points_from_xy(raw["Longitude"].astype(float), raw["Latitude"].astype(float)),
        crs=4326,
    ).to_crs(27700)
    joined = gpd.sjoin(pts, geography.lsoas[["ward_code", "geometry"]], predicate="within")
    return joined[joined["ward_code"] == code].groupby("month").size().to_dict()


def nav(page) -> list[str]:
    return [a.inner_text().strip().split("\n")[-1] for a in page.locator(NAV).all()]  # without the icon


def test_signed_out_visitor_sees_only_the_sign_in_page(auth_app, browser):
    url, _ = auth_app
    page = new_page(browser)
    for path in ("", "hotspots", "data", "audit"):
        page.goto(f"{url}/{path}")
        page.get_by_role("button", name="Sign in").wait_for(timeout=90000)
        wait_idle(page, 60)
        body = page.locator("body").inner_text()
        assert "Nothing is shown before you sign in" in body
        assert not page.locator(f'{FOLIUM}, [data-testid="stDataFrame"], [data-testid="stMetric"]').count()
        assert not page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').count()
        assert not page.locator(NAV).count()
        assert "Burglary" not in body and "Stoke" not in body and "incidents" not in body.lower()
    shot(page, "auth_signed_out")
    page.close()


def test_viewer_sees_restricted_counts_suppressed(auth_app, browser, geography, tmp_path):
    url, _ = auth_app
    code, ward = small_ward(geography)  # a ward with 3 collisions by a hand count (GeoPandas sjoin)
    page = new_page(browser)
    sign_in(page, url, "viewer@stoke.gov.uk")
    page.get_by_text("Disclosure control: collisions (restricted partner data)").first.wait_for(timeout=60000)
    text = popup(page, ward)
    assert re.search(re.escape(COLUMN) + r"\s+\[c\]", text), text
    page.wait_for_timeout(800)  # the popup fades in
    shot(page, "auth_viewer_map")
    csv = area_csv(page, tmp_path, "viewer_areas.csv")
    assert csv.loc[code, COLUMN] == "[c]"
    assert "Disclosure control: collisions" in csv["parameters"].iloc[0]
    page.goto(f"{url}/trends?areas={code}")  # the small ward: 3 collisions in the year
    hand = ward_months(geography, code)
    bars, withheld = chart(page)
    assert withheld == len(hand) and sum(hand.values()) == 3  # each month with a collision says [c]
    assert set(bars.values()) == {"0"} and not set(bars) & set(hand)  # no bar for those months
    shot(page, "auth_viewer_trends")
    page.close()


def test_viewer_sees_the_viewer_pages_and_is_refused_the_data_page(auth_app, browser, tmp_path):
    url, _ = auth_app
    page = new_page(browser)
    sign_in(page, url, "viewer@stoke.gov.uk")
    assert nav(page) == ["Map", "Hotspots", "Trends & seasonality", "Ward profile"]
    page.goto(f"{url}/data")  # an analyst page by its address
    page.get_by_text("The data page needs the analyst role; viewer@stoke.gov.uk is a viewer").wait_for(
        timeout=60000
    )
    wait_idle(page, 60)
    assert not page.locator('[data-testid="stTabs"], [data-testid="stFileUploader"]').count()
    shot(page, "auth_viewer_refused")
    page.goto(f"{url}/hotspots?method=kde")
    page.get_by_role("button", name="Download CSV").wait_for(timeout=90000)
    wait_idle(page, 60)
    with page.expect_download(timeout=60000) as dl:
        page.get_by_role("button", name="Download CSV").click()
    dl.value.save_as(tmp_path / "hotspots.csv")
    assert len(pd.read_csv(tmp_path / "hotspots.csv")) > 0
    page.get_by_role("button", name="Sign out").click()  # to the provider's end-session page
    page.wait_for_url("**/oauth2/end_session**", timeout=60000)
    page.goto(url)
    page.get_by_role("button", name="Sign in").wait_for(timeout=90000)  # the identity cookie is gone
    page.close()


def test_analyst_by_group_claim_sees_exact_counts_may_load_but_not_change_boundaries(
    auth_app, browser, geography, tmp_path
):
    url, _ = auth_app
    code, ward = small_ward(geography)
    page = new_page(browser)
    sign_in(page, url, "analyst@staffordshire.police.uk")
    page.get_by_text("you see exact counts (role analyst)").first.wait_for(timeout=60000)
    text = popup(page, ward)
    assert re.search(re.escape(COLUMN) + r"\s+3\b", text), text  # the hand count
    assert area_csv(page, tmp_path, "analyst_areas.csv").loc[code, COLUMN] == "3"
    page.goto(f"{url}/trends?areas={code}")
    bars, withheld = chart(page)
    assert withheld == 0
    assert {m: int(n) for m, n in bars.items() if n != "0"} == ward_months(geography, code)
    assert nav(page) == [
        "Map", "Hotspots", "Trends & seasonality", "Ward profile", "Places", "Meeting", "Demand & harm", "Data"
    ]  # fmt: skip
    page.goto(f"{url}/data")
    page.get_by_role("tab", name="Boundaries and localities").click()
    page.get_by_text("Boundaries, the study area and localities are changed by an administrator.").wait_for()
    page.get_by_role("tab", name="police.uk files").click()
    page.locator('[data-testid="stFileUploader"]').first.wait_for()  # an analyst may load files
    shot(page, "auth_analyst_data")
    page.goto(f"{url}/audit")
    page.get_by_text("The audit page needs the admin role").wait_for(timeout=60000)
    page.close()


def test_a_refused_person_sees_no_data_and_can_sign_out(auth_app, browser):
    url, _ = auth_app
    page = new_page(browser)
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="leaver@stoke.gov.uk", exact=True).click()
    page.get_by_text("leaver@stoke.gov.uk may not use this dashboard").wait_for(timeout=90000)
    wait_idle(page, 60)
    assert not page.locator(f'{FOLIUM}, [data-testid="stDataFrame"], {NAV}').count()
    shot(page, "auth_refused")
    page.close()


def test_admin_sees_the_audit_log_of_the_others(auth_app, browser, tmp_path):
    url, _ = auth_app
    page = new_page(browser)
    sign_in(page, url, "admin@stoke.gov.uk")
    assert nav(page)[-2:] == ["Audit log", "Users and roles"]
    page.goto(f"{url}/audit")
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60000)
    wait_idle(page, 60)
    shot(page, "auth_admin_audit")
    with page.expect_download(timeout=60000) as dl:
        page.get_by_role("button", name="Download the audit log (CSV)").click()
    dl.value.save_as(tmp_path / "audit.csv")
    log = pd.read_csv(tmp_path / "audit.csv")
    rows = set(zip(log["user"], log["role"].fillna(""), log["action"], strict=True))
    assert {
        ("viewer@stoke.gov.uk", "viewer", "sign-in"),
        ("analyst@staffordshire.police.uk", "analyst", "sign-in"),
        ("admin@stoke.gov.uk", "admin", "sign-in"),
        ("viewer@stoke.gov.uk", "viewer", "refused"),
        ("viewer@stoke.gov.uk", "viewer", "export"),
        ("analyst@staffordshire.police.uk", "analyst", "refused"),
        ("leaver@stoke.gov.uk", "", "refused"),
        ("viewer@stoke.gov.uk", "viewer", "sign-out"),
    } <= rows
    signins = log[log["action"] == "sign-in"]["user"].value_counts()
    assert signins["viewer@stoke.gov.uk"] == 2  # two sign-ins, though five pages were loaded
    refused = log[(log["user"] == "viewer@stoke.gov.uk") & (log["action"] == "refused")]["detail"]
    assert list(refused) == ["the data page (needs analyst; role viewer)"]
    viewer_exports = " ".join(
        log[(log["user"] == "viewer@stoke.gov.uk") & (log["action"] == "export")]["detail"]
    )
    assert '"file": "hotspots_kde.csv"' in viewer_exports and '"file": "areas_ward.csv"' in viewer_exports
    page.goto(f"{url}/users")
    page.get_by_text("Who has signed in").wait_for(timeout=60000)
    page.get_by_role("button", name="Save").wait_for(timeout=60000)
    wait_idle(page, 60)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stDataFrame\"] canvas').length >= 3", timeout=60000
    )
    page.wait_for_timeout(1500)
    shot(page, "auth_admin_users")
    page.close()
