"""A real OpenID Connect provider for the sign-in tests, and the app configured to use it.

``oidc-provider-mock`` (a Flask app on Authlib) runs in a thread of the test process on a free
local port. It issues real signed ID tokens through the authorization-code flow; its authorize
page lists the predefined users as buttons, so the browser chooses who signs in. The app is
started as ``make run`` starts it (:func:`signed_in_app`), with ``STREAMLIT_SECRETS_FILES``
pointing at a secrets file written here (an ``[auth]`` section for the provider and a ``[hotspots]`` section naming the
roles file), so the repository's own ``.streamlit/`` is never touched.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from browser_util import wait_idle

#: The people the provider offers (sub -> claims). Groups go in the ``groups`` claim, as Entra ID sends them.
USERS = {
    "viewer@stoke.gov.uk": {
        "email": "viewer@stoke.gov.uk",
        "name": "Vi Ewer",
        "groups": ["ward-councillors"],
    },
    "analyst@staffordshire.police.uk": {
        "email": "analyst@staffordshire.police.uk",
        "name": "Ana Lyst",
        "groups": ["hotspots-analysts"],
    },
    "admin@stoke.gov.uk": {"email": "admin@stoke.gov.uk", "name": "Ad Min", "groups": []},
    "leaver@stoke.gov.uk": {
        "email": "leaver@stoke.gov.uk",
        "name": "Lee Ver",
        "groups": ["hotspots-analysts"],
    },
}
#: The roles file the tests use: admin by e-mail, analysts by group, a refused leaver, viewers by default.
ROLES = """\
default = "viewer"
groups_claim = "groups"

[users]
"admin@stoke.gov.uk" = "admin"
"leaver@stoke.gov.uk" = "refuse"

[groups]
"hotspots-analysts" = "analyst"
"""


@contextmanager
def provider() -> Iterator[str]:
    """Run the OIDC provider on a free local port; yields its issuer URL."""
    from oidc_provider_mock import User, run_server_in_thread

    users = [User(sub=sub, claims=claims) for sub, claims in USERS.items()]
    with run_server_in_thread(port=0, user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


def write_secrets(folder: Path, *, issuer: str, port: int, roles: str = ROLES) -> Path:
    """secrets.toml for the app on ``port`` signing in at ``issuer``, and its roles file."""
    roles_file = folder / "roles.toml"
    roles_file.write_text(roles, encoding="utf-8")
    path = folder / "secrets.toml"
    path.write_text(
        f"""[auth]
redirect_uri = "http://localhost:{port}/oauth2callback"
cookie_secret = "{secrets.token_hex(32)}"
client_id = "hotspots-dashboard"
client_secret = "{secrets.token_hex(16)}"
server_metadata_url = "{issuer}/.well-known/openid-configuration"

[hotspots]
roles_file = "{roles_file}"
""",
        encoding="utf-8",
    )
    return path


@contextmanager
def signed_in_app(store: Path, folder: Path, *, issuer: str, roles: str = ROLES) -> Iterator[str]:
    """The app serving ``store`` with sign-in at ``issuer`` (:func:`provider`); yields its URL.

    The port is chosen before the app starts because the secrets' ``redirect_uri`` names it.
    """
    from browser_util import free_port, start_app, stop_app

    port = free_port()
    secrets_file = write_secrets(folder, issuer=issuer, port=port, roles=roles)
    proc = start_app(port, store, folder / "app.log", {"STREAMLIT_SECRETS_FILES": str(secrets_file)})
    try:
        yield f"http://localhost:{port}"
    finally:
        stop_app(proc)


def sign_in(page, url: str, who: str) -> None:
    """Sign in as ``who`` through the full redirect flow: the app's button, the provider's
    authorize page (choosing the predefined user), the callback, back to the app."""
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oauth2/authorize**", timeout=60000)
    page.get_by_role("button", name=who, exact=True).click()
    page.wait_for_url(f"{url}/**", timeout=60000)
    page.get_by_text(f"Signed in as {who}").wait_for(timeout=90000)
    wait_idle(page, 90)
