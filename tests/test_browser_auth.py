"""Sign-in through a real OpenID Connect provider, roles, refusals and the audit log, in Chromium.

One provider (``oidc-provider-mock``, tests/oidc_util.py) and one app process for the module;
each test signs in, in its own browser context, through the full redirect flow: the app's
sign-in button, the provider's authorize page, the callback, back to the app. Who is who:
``tests/oidc_util.py`` (admin by e-mail, analyst by a group claim, viewer by default, a refused
leaver). The tests run in order: the admin's test reads the audit entries the others left.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from browser_util import FOLIUM, ROOT, new_page, shot, wait_idle
from oidc_util import sign_in, signed_in_app

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
DATA = Path(__file__).parent / "data"
NAV = '[data-testid="stSidebarNav"] a'


@pytest.fixture(scope="module")
def auth_app(sample_store_path, oidc_provider, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The app with sign-in configured, on the 2025 sample plus a restricted partner source."""
    tmp = tmp_path_factory.mktemp("auth_app")
    store = tmp / "store.duckdb"
    shutil.copy(sample_store_path, store)
    cli = [str(ROOT / ".venv" / "bin" / "hotspots")]
    run = {"check": True, "capture_output": True, "cwd": ROOT}
    subprocess.run(
        [*cli, "ingest", "--store", str(store), "--source", "collisions", "--mapping", str(DATA / "stats19.toml"),
         str(DATA / "stats19_constructed.csv")], **run
    )  # fmt: skip
    subprocess.run([*cli, "restrict", "--store", str(store), "collisions"], **run)
    with signed_in_app(store, tmp, issuer=oidc_provider) as url:
        yield url, store


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


def test_viewer_sees_the_viewer_pages_and_is_refused_the_data_page(auth_app, browser, tmp_path):
    url, _ = auth_app
    page = new_page(browser)
    sign_in(page, url, "viewer@stoke.gov.uk")
    assert nav(page) == ["Map", "Hotspots", "Trends & seasonality", "Ward profile"]
    page.frame_locator(FOLIUM).first.locator(".leaflet-container").wait_for(timeout=60000)
    shot(page, "auth_viewer_map")
    page.goto(f"{url}/data")  # an analyst page by its address
    page.get_by_text("The data page needs the analyst role; viewer@stoke.gov.uk is a viewer").wait_for(
        timeout=60000
    )
    wait_idle(page, 60)
    assert not page.locator('[data-testid="stTabs"], [data-testid="stFileUploader"]').count()
    shot(page, "auth_viewer_refused")
    page.goto(f"{url}/hotspots?method=kde")
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=90000)
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


def test_analyst_by_group_claim_may_load_but_not_change_boundaries(auth_app, browser):
    url, _ = auth_app
    page = new_page(browser)
    sign_in(page, url, "analyst@staffordshire.police.uk")
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
    assert signins["viewer@stoke.gov.uk"] == 1  # one sign-in, though three pages were loaded
    details = log.set_index(["user", "action"])["detail"]
    assert details[("viewer@stoke.gov.uk", "refused")] == "the data page (needs analyst; role viewer)"
    assert '"file": "hotspots_kde.csv"' in details[("viewer@stoke.gov.uk", "export")]
    page.goto(f"{url}/users")
    page.get_by_text("Who has signed in").wait_for(timeout=60000)
    wait_idle(page, 60)
    shot(page, "auth_admin_users")
    page.close()
