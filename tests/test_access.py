"""dashboard.access: with no [auth] configured the app says, in the sidebar, that it runs in local single-user mode."""

from __future__ import annotations

import pytest
from app_util import ROOT
from test_app_pages import app_store, open_page  # noqa: F401 (app_store is a fixture)

from dashboard import access
from hotspots._errors import InputError


def test_no_auth_section_means_local_single_user_mode(app_store):  # noqa: F811
    assert not access.auth_configured()  # the repository ships no .streamlit/secrets.toml
    assert access.current_user() == ("local", "admin")
    at = open_page("pages/trends_page.py")
    captions = [c.value for c in at.sidebar.caption]
    assert any(
        c.startswith(":material/person: Local single-user mode: no sign-in is configured") for c in captions
    )


def test_local_role_comes_from_the_environment(monkeypatch):
    from dashboard import access

    monkeypatch.delenv(access.ROLE_ENV, raising=False)
    assert access.current_user() == ("local", "admin")
    monkeypatch.setenv(access.ROLE_ENV, "Viewer")
    assert access.current_user() == ("local", "viewer")
    monkeypatch.setenv(access.ROLE_ENV, "mayor")
    with pytest.raises(
        InputError, match="HOTSPOTS_LOCAL_ROLE must be one of viewer, analyst, admin; got 'mayor'"
    ):
        access.current_user()


def _refusals(path, since):
    from hotspots import audit
    from hotspots.store import Store

    with Store(path, read_only=True) as store:
        log = audit.entries(store, action="refused")
    return log[log["time"] >= since]


def _now():
    import pandas as pd

    return pd.Timestamp.now(tz="UTC").tz_localize(None)


def test_viewer_asking_for_the_data_page_by_address_is_refused_and_audited(app_store, monkeypatch):  # noqa: F811
    monkeypatch.setenv(access.ROLE_ENV, "viewer")
    since = _now()
    at = open_page("pages/map_page.py")
    assert not at.error
    at.switch_page("pages/data_page.py").run()  # what opening /data does: the page is routable, not shown
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The data page needs the analyst role; local is a viewer. This was recorded in the audit log."
    ]
    assert not at.tabs and not at.get("file_uploader") and not at.sidebar.multiselect  # nothing of the page
    log = _refusals(app_store, since)
    assert list(log["detail"]) == ["the data page (needs analyst; role viewer)"]
    assert (
        list(log["user"]) == ["local"]
        and list(log["role"]) == ["viewer"]
        and list(log["via"]) == ["dashboard"]
    )


def test_the_load_code_path_refuses_a_viewer_and_the_boundaries_path_an_analyst(app_store, monkeypatch):  # noqa: F811
    from dashboard import loading
    from hotspots.store import Store

    since = _now()
    monkeypatch.setenv(access.ROLE_ENV, "viewer")
    with Store(app_store) as store:
        before = store.counts()
        with pytest.raises(
            access.RefusedError, match="Loading data needs the analyst role; local is a viewer"
        ):
            loading.load_upload(store, "x.csv", b"Crime ID,Month\n")
        monkeypatch.setenv(access.ROLE_ENV, "analyst")
        with pytest.raises(
            access.RefusedError,
            match="Changing boundaries, the study area or localities needs the admin role; local is a analyst",
        ):
            loading.reset_boundaries(store)
        assert store.counts() == before
    log = _refusals(app_store, since)
    assert sorted(log["detail"]) == [
        "changing boundaries, the study area or localities (needs admin; role analyst)",
        "loading data (needs analyst; role viewer)",
    ]


def test_admin_pages_refuse_an_analyst_and_show_an_admin_the_log(app_store, monkeypatch):  # noqa: F811
    monkeypatch.setenv(access.ROLE_ENV, "analyst")
    at = open_page("pages/audit_page.py")
    assert [e.value for e in at.error][0].startswith("The audit page needs the admin role")
    assert not at.dataframe
    monkeypatch.setenv(access.ROLE_ENV, "admin")
    at = open_page("pages/audit_page.py")
    assert [t.value for t in at.title] == ["Audit log"]
    log = at.dataframe[0].value
    assert {"refused"} <= set(log["action"])  # the analyst's refusal just above
    assert log["time"].is_monotonic_decreasing
    assert any(b.label == "Download the audit log (CSV)" for b in at.get("download_button"))
    at = open_page("pages/users_page.py")
    assert [t.value for t in at.title] == ["Users and roles"]
    assert not at.exception


def test_download_button_records_the_export_when_the_file_is_made(app_store, monkeypatch):  # noqa: F811
    from hotspots import audit
    from hotspots.store import Store

    monkeypatch.setenv(access.ROLE_ENV, "viewer")
    made = {}

    class Column:  # stands in for a column: keeps what st.download_button would be given
        def download_button(self, label, *, data, file_name, **kw):
            made.update(label=label, data=data, file_name=file_name, **kw)

    since = _now()
    access.download_button(
        "CSV", lambda: "a,b\n1,2\n", "t.csv", what="a test table", where=Column(), mime="text/csv"
    )
    assert made["file_name"] == "t.csv" and made["mime"] == "text/csv"
    with Store(app_store, read_only=True) as store:
        assert (
            audit.entries(store, action="export").pipe(lambda d: d[d["time"] >= since]).empty
        )  # drawn, not yet made
    assert made["data"]() == b"a,b\n1,2\n"
    with Store(app_store, read_only=True) as store:
        log = audit.entries(store, action="export").pipe(lambda d: d[d["time"] >= since])
    assert list(log["detail"]) == ['{"bytes": 8, "file": "t.csv", "what": "a test table"}']
    assert list(log["user"]) == ["local"] and list(log["role"]) == ["viewer"]


def test_admin_gives_one_person_a_role_on_the_users_page(app_store, monkeypatch, tmp_path):  # noqa: F811
    from hotspots import audit, roles
    from hotspots.store import Store

    roles_file = tmp_path / "roles.toml"
    roles_file.write_text('# our roles\ndefault = "refuse"\n\n[groups]\n"hotspots-admins" = "admin"\n')
    monkeypatch.setenv(access.ROLES_ENV, str(roles_file))
    since = _now()
    at = open_page("pages/users_page.py")
    assert at.dataframe[1].value.to_dict("records") == [{"group": "hotspots-admins", "role": "admin"}]
    at.text_input[0].input("New.Analyst@Stoke.gov.uk")
    next(s for s in at.selectbox if s.label == "Role").set_value("analyst")
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == ["new.analyst@stoke.gov.uk is now: analyst."]
    table = roles.read_roles(roles_file)
    assert table.users == {"new.analyst@stoke.gov.uk": "analyst"} and table.default == "refuse"
    assert roles_file.read_text().startswith("# our roles\n")
    with Store(app_store, read_only=True) as store:
        log = audit.entries(store, action="role")
    log = log[log["time"] >= since]
    assert list(log["detail"]) == [
        f'{{"email": "new.analyst@stoke.gov.uk", "file": "{roles_file}", "role": "analyst"}}'
    ]
    assert list(log["user"]) == ["local"] and list(log["role"]) == ["admin"]


# --- signed in (AppTest's st.user), the role from the roles file, on the restricted store ---
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "0" * 64,
    "client_id": "hotspots-dashboard",
    "client_secret": "not-used",
    "server_metadata_url": "http://localhost:9/.well-known/openid-configuration",
}


def signed_in(user: dict, roles_file, page: str | None = None):
    """The app with an [auth] section, the roles file, and ``user`` as ``st.user``."""
    from app_util import APP
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=180)
    at.secrets["auth"] = AUTH
    at.secrets["hotspots"] = {"roles_file": str(roles_file)}
    at.user = user
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def restricted_app(restricted_store_path, tmp_path_factory):
    import shutil

    from app_util import store_env
    from oidc_util import ROLES

    tmp = tmp_path_factory.mktemp("signed_in")
    shutil.copy(restricted_store_path, tmp / "store.duckdb")
    (tmp / "roles.toml").write_text(ROLES)
    with store_env(tmp / "store.duckdb"):
        yield tmp / "store.duckdb", tmp / "roles.toml"


def test_signed_out_sees_the_sign_in_button_and_nothing_else(restricted_app):
    _store, roles_file = restricted_app
    at = signed_in({"is_logged_in": False}, roles_file)
    assert [b.label for b in at.button] == ["Sign in"]
    assert not (at.dataframe or at.metric or at.sidebar.multiselect or at.get("component_instance"))
    assert "Nothing is shown before you sign in" in at.markdown[0].value


def test_signed_in_role_from_the_roles_file_decides_suppression_in_the_table(restricted_app, geography):
    import geopandas as gpd
    import pandas as pd

    from hotspots import audit
    from hotspots.store import Store

    store, roles_file = restricted_app
    raw = pd.read_csv(ROOT / "tests" / "data" / "stats19_constructed.csv", dtype=str)
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(raw["Longitude"].astype(float), raw["Latitude"].astype(float)), crs=4326
    ).to_crs(27700)
    hand = (
        gpd.sjoin(pts, geography.lsoas[["ward_code", "geometry"]], predicate="within")
        .groupby("ward_code")
        .size()
    )
    wards = geography.areas("ward").set_index(["area_name", "district_name"])["area_code"]
    column = "collisions (restricted)"

    def table(at) -> pd.Series:  # the Map page's top-25 table: ward code -> the restricted cell
        t = at.dataframe[0].value
        codes = [wards[(n, d)] for n, d in zip(t["area_name"], t["district_name"], strict=True)]
        return pd.Series(t[column].astype(str).to_numpy(), index=codes)

    viewer = {
        "is_logged_in": True,
        "email": "Viewer@Stoke.gov.uk",
        "sub": "v1",
        "iat": 1,
        "groups": ["ward-councillors"],
    }
    at = signed_in(viewer, roles_file)
    assert at.sidebar.caption[-1].value == ":material/person: Signed in as **viewer@stoke.gov.uk** (viewer)"
    cells = table(at)
    counts = hand.reindex(cells.index).fillna(0).astype(int)
    assert counts.between(1, 4).any()  # the top 25 wards hold small counts to withhold
    assert (cells[counts.between(1, 4)] == "[c]").all()
    assert all(c == "[c]" or int(c) == counts[k] for k, c in cells.items())

    analyst = {
        "is_logged_in": True,
        "email": "ana@police.uk",
        "sub": "a1",
        "iat": 1,
        "groups": ["hotspots-analysts"],
    }
    cells = table(signed_in(analyst, roles_file))
    counts = hand.reindex(cells.index).fillna(0).astype(int)  # their top 25 counts collisions too
    assert "[c]" not in set(cells) and (cells.astype(int) == counts).all()  # exact: the hand count

    at = signed_in(viewer, roles_file, "pages/data_page.py")  # an analyst page, asked for by a viewer
    assert [e.value for e in at.error] == [
        "The data page needs the analyst role; viewer@stoke.gov.uk is a viewer. This was recorded in the audit log."
    ]
    with Store(store, read_only=True) as s:
        log = audit.entries(s)
    assert list(log[log["action"] == "sign-in"]["user"]) == [
        "ana@police.uk",
        "viewer@stoke.gov.uk",
    ]  # once each
    assert log[log["action"] == "refused"][["user", "role", "detail"]].values.tolist() == [
        ["viewer@stoke.gov.uk", "viewer", "the data page (needs analyst; role viewer)"]
    ]
