"""dashboard.access: with no [auth] configured the app says, in the sidebar, that it runs in local single-user mode."""

from __future__ import annotations

import pytest
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
