"""Who is using the dashboard, and what they may do (one place for it).

Two modes, chosen by ``.streamlit/secrets.toml``:

* **sign-in** (an ``[auth]`` section, ``docs/access.md``): a visitor who has not signed in with
  ``st.login`` sees only the sign-in page (:func:`gate`). A signed-in person's role comes from the
  roles file (:mod:`hotspots.roles`, found by :func:`roles_path`) by e-mail or by a group claim
  of their ID token; one the file refuses sees only a refusal.
* **local single-user mode** (no ``[auth]``): the person at the machine may do everything, is
  recorded in the audit log as ``local``, and the sidebar says so. ``$HOTSPOTS_LOCAL_ROLE``
  shows the app as a viewer or analyst would see it, without sign-in.

Pages and actions a role lacks are left out of the navigation *and* refused where they run
(:func:`require`, :func:`require_page`); each refusal is one ``refused`` entry in the audit log.
Every download goes through :func:`download_button`, which records what was exported, by whom,
when the file is made.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from hotspots import audit, roles
from hotspots._errors import InputError
from hotspots.store import Store

log = logging.getLogger(__name__)

LOCAL_USER = "local"
LOCAL_ROLE = "admin"  # one person at the machine: every page and action
ROLES = roles.ROLES
ROLE_ENV = "HOTSPOTS_LOCAL_ROLE"  # see the app as a viewer or analyst would, without sign-in
ROLES_ENV = "HOTSPOTS_ROLES"  # the roles file
#: The least role that may open each page (by url path); pages not listed are for viewers.
PAGE_ROLES = {
    "map": "viewer",
    "hotspots": "viewer",
    "trends": "viewer",
    "profile": "viewer",
    "places": "analyst",
    "meeting": "analyst",
    "demand": "analyst",
    "data": "analyst",
    "audit": "admin",
    "users": "admin",
}
#: The least role for each action refused server-side (:func:`require`).
ACTION_ROLES = {
    "loading data": "analyst",
    "changing boundaries, the study area or localities": "admin",
    "the audit log": "admin",
    "changing roles": "admin",
}


class RefusedError(InputError):
    """A page or action the current user's role does not include (recorded as ``refused``)."""


def auth_configured() -> bool:
    """True when ``.streamlit/secrets.toml`` has an ``[auth]`` section (sign-in configured)."""
    return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)


def local_role() -> str:
    """The role in local single-user mode: ``admin``, or ``$HOTSPOTS_LOCAL_ROLE`` when set.

    Raises
    ------
    InputError
        If ``HOTSPOTS_LOCAL_ROLE`` is not one of :data:`ROLES`.
    """
    role = os.environ.get(ROLE_ENV, "").strip().lower() or LOCAL_ROLE
    if role not in ROLES:
        raise InputError(f"{ROLE_ENV} must be one of {', '.join(ROLES)}; got {role!r}")
    return role


def roles_path() -> Path | None:
    """The roles file, or ``None`` if there is none.

    ``$HOTSPOTS_ROLES``, else ``roles_file`` in the ``[hotspots]`` section of the secrets, else
    ``roles.toml`` next to the store file if it exists.
    """
    named = os.environ.get(ROLES_ENV, "").strip()
    if not named and st.secrets.load_if_toml_exists() and "hotspots" in st.secrets:
        named = str(st.secrets["hotspots"].get("roles_file", "")).strip()
    if named:
        return Path(named)
    store = os.environ.get("HOTSPOTS_STORE", "")
    if store and "://" not in store:
        beside = Path(store).parent / "roles.toml"
        if beside.is_file():
            return beside
    return None


def role_map() -> roles.RoleMap:
    """The parsed roles file (:func:`roles_path`); no file: everyone signed in is a viewer.

    Raises
    ------
    InputError
        If the named file is missing or wrong (:func:`hotspots.roles.read_roles`).
    """
    path = roles_path()
    return roles.read_roles(path) if path is not None else roles.RoleMap()


def _claims() -> dict[str, Any]:
    return {k: v for k, v in st.user.to_dict().items() if k != "tokens"}


def _email(claims: dict[str, Any]) -> str:
    """``email``, else an e-mail-shaped ``preferred_username`` (Entra ID's sign-in name), else ``sub``."""
    for key in ("email", "preferred_username"):
        value = claims.get(key)
        if isinstance(value, str) and "@" in value:
            return value.strip().lower()
    return str(claims.get("sub", "unknown"))


def signed_in() -> tuple[str, str | None]:
    """(e-mail, role) of the signed-in person; role ``None`` if the roles file refuses them.

    Raises
    ------
    RefusedError
        If sign-in is configured and nobody is signed in.
    """
    if not st.user.is_logged_in:
        raise RefusedError("sign in first: this dashboard shows nothing before sign-in")
    claims = _claims()
    table = role_map()
    return _email(claims), roles.role_for(table, _email(claims), claims.get(table.groups_claim))


def current_user() -> tuple[str, str]:
    """(user, role) of whoever is using the app: ``("local", "admin")`` in single-user mode.

    Raises
    ------
    RefusedError
        With sign-in configured: if nobody is signed in, or the roles file refuses them.
    """
    if not auth_configured():
        return LOCAL_USER, local_role()
    email, role = signed_in()
    if role is None:
        raise RefusedError(f"{email} may not use this dashboard (the roles file refuses them)")
    return email, role


def may(role: str, needed: str) -> bool:
    """True if ``role`` includes ``needed`` (viewer < analyst < admin)."""
    return roles.at_least(role, needed)


def may_open(url_path: str, role: str) -> bool:
    """True if ``role`` may open the page at ``url_path`` (:data:`PAGE_ROLES`; ``""`` is the map)."""
    return may(role, PAGE_ROLES.get(url_path or "map", "viewer"))


def _store() -> Store:
    from dashboard import data

    return data.store()


def record(store: Store, action: str, detail: str | dict = "") -> None:
    """Record an action of the current user in the audit log; a failure is logged, never raised."""
    try:
        user, role = current_user()
    except InputError:  # a refused visitor (or a broken roles file): by e-mail, without a role
        user, role = (_email(_claims()) if st.user.is_logged_in else "signed-out"), None
    try:
        audit.record(store, action, user=user, role=role, detail=detail, via="dashboard")
    except Exception as exc:  # the audit must not take a load or an export down with it
        log.warning("audit entry not written (%s): %s %s", exc, action, detail)


def require(action: str, *, store: Store | None = None) -> tuple[str, str]:
    """Refuse, and record the refusal, unless the current user's role includes ``action``.

    Parameters
    ----------
    action
        A key of :data:`ACTION_ROLES` (``"loading data"``...) or ``"the <name> page"`` of a
        :data:`PAGE_ROLES` page.
    store
        Where to record a refusal; ``None``: the app's store.

    Returns
    -------
    tuple of str
        (user, role) when allowed.

    Raises
    ------
    RefusedError
        If the role lacks it (after a ``refused`` audit entry naming the action).
    InputError
        If ``action`` is neither an action nor a page.
    """
    if action in ACTION_ROLES:
        needed = ACTION_ROLES[action]
    elif action.startswith("the ") and action.endswith(" page") and action[4:-5] in PAGE_ROLES:
        needed = PAGE_ROLES[action[4:-5]]
    else:
        raise InputError(
            f"unknown action {action!r}; expected one of {', '.join(ACTION_ROLES)} or 'the <page> page'"
        )
    user, role = current_user()
    if may(role, needed):
        return user, role
    record(store if store is not None else _store(), "refused", f"{action} (needs {needed}; role {role})")
    raise RefusedError(f"{action[0].upper()}{action[1:]} needs the {needed} role; {user} is a {role}")


def require_page(url_path: str) -> None:
    """At the top of a page a role may lack: show the refusal and stop unless allowed."""
    try:
        require(f"the {url_path} page")
    except RefusedError as exc:
        st.error(f"{exc}. This was recorded in the audit log.", icon=":material/block:")
        st.stop()


def gate() -> tuple[str, str]:
    """Before anything is drawn: the sign-in page, or a refusal, or the user and role.

    With sign-in configured, a visitor who is not signed in sees only a sign-in page and the
    script stops; a signed-in person the roles file refuses sees a refusal (recorded once per
    session) and a sign-out button. The first run of a signed-in session records ``sign-in``.
    """
    if not auth_configured():
        return current_user()
    if not st.user.is_logged_in:
        _sign_in_page()
        st.stop()
    try:
        table_error = None
        email, role = signed_in()
    except InputError as exc:  # a broken roles file: nobody gets in until it is fixed
        email, role, table_error = _email(_claims()), None, str(exc)
    if role is None:
        if not st.session_state.get("_access_refusal_recorded"):
            st.session_state["_access_refusal_recorded"] = True
            audit_detail = table_error or "sign-in refused by the roles file"
            _safe_record("refused", email, None, audit_detail)
        st.title("Crime and ASB hotspots")
        st.error(
            f"{email} may not use this dashboard."
            + (
                f" The roles file is wrong: {table_error}"
                if table_error
                else " Ask an administrator for access."
            )
        )
        if st.button("Sign out", key="signout_refused"):
            st.logout()
        st.stop()
    if not st.session_state.get("_access_signin_recorded"):
        st.session_state["_access_signin_recorded"] = True
        _record_sign_in(email, role)
    return email, role


def _record_sign_in(email: str, role: str) -> None:
    """One ``sign-in`` entry per sign-in, not per browser tab or reload.

    Each page load is a new Streamlit session, but the identity cookie (and so the ID token's
    issue time, ``iat``) is the same until the person signs in again; an entry is written only
    for an ``iat`` not yet recorded for them.
    """
    claims = _claims()
    detail = {"issuer": claims.get("iss", ""), "sub": claims.get("sub", ""), "iat": claims.get("iat", "")}
    marker = f'"iat": {json.dumps(detail["iat"])}'
    try:
        seen = audit.entries(_store(), action="sign-in", user=email, limit=200)["detail"]
    except Exception:  # an unreadable log: record rather than miss a sign-in
        seen = []
    if not any(marker in str(d) for d in seen):
        _safe_record("sign-in", email, role, detail)


def _safe_record(action: str, user: str, role: str | None, detail: str | dict) -> None:
    try:
        audit.record(_store(), action, user=user, role=role, detail=detail, via="dashboard")
    except Exception as exc:
        log.warning("audit entry not written (%s): %s %s", exc, action, detail)


def providers() -> list[str | None]:
    """The sign-in providers in ``[auth]``.

    ``[None]`` for one provider set in ``[auth]`` itself, else the names of its sub-sections
    (``[auth.microsoft]`` -> ``"microsoft"``, signed in with ``st.login("microsoft")``).
    """
    section = st.secrets["auth"]
    if "client_id" in section:
        return [None]
    return [name for name, value in section.items() if hasattr(value, "keys")]


def _sign_in_page() -> None:
    st.title("Crime and ASB hotspots")
    st.markdown(
        "This dashboard holds partner data under data-sharing agreements: **sign in** with your "
        "organisation's account to see it. Nothing is shown before you sign in."
    )
    for name in providers():
        label = "Sign in" if name is None else f"Sign in with {name.replace('_', ' ').title()}"
        if st.button(label, type="primary", icon=":material/login:", key=f"signin_{name}"):
            if name is None:
                st.login()
            else:
                st.login(name)


def sidebar_note() -> None:
    """Say in the sidebar who the app thinks is using it (and offer sign-out)."""
    if not auth_configured():
        role = local_role()
        st.sidebar.caption(
            ":material/person: Local single-user mode: no sign-in is configured, so whoever opens "
            "this address sees and exports everything"
            + ("." if role == LOCAL_ROLE else f" (shown now as a {role} sees it: {ROLE_ENV}).")
        )
        return
    user, role = current_user()
    st.sidebar.caption(f":material/person: Signed in as **{user}** ({role})")
    if st.sidebar.button("Sign out", icon=":material/logout:", key="signout"):
        record(_store(), "sign-out", "")
        st.logout()


def download_button(
    label: str,
    data: bytes | str | Callable[[], bytes | str],
    file_name: str,
    *,
    what: str,
    where: Any = None,
    **kwargs: Any,
) -> Any:
    """``st.download_button`` that records the export (file, what, size, user) when the file is made.

    Parameters
    ----------
    label, file_name, **kwargs
        As ``st.download_button``.
    data
        The file's bytes or text, or a function that makes them (called only on click).
    what
        What the file holds, in words, for the audit log ("hotspot list, Burglary, 2025").
    where
        A column or container to draw in; ``None``: the page.

    Notes
    -----
    The file is always made on click (Streamlit's deferred download), in a thread without the
    page's session, so the user and role are taken when the button is drawn.
    """
    user, role = current_user()
    store = _store()

    def make() -> bytes:
        body = data() if callable(data) else data
        raw = body.encode() if isinstance(body, str) else bytes(body)
        detail = {"file": file_name, "what": what, "bytes": len(raw)}
        try:
            audit.record(store, "export", user=user, role=role, detail=detail, via="dashboard")
        except Exception as exc:
            log.warning("audit entry not written (%s): export %s", exc, detail)
        return raw

    return (where or st).download_button(label, data=make, file_name=file_name, **kwargs)
