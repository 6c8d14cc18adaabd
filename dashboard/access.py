"""Who is using the dashboard (one place for it): local single-user mode until sign-in exists.

With no ``[auth]`` section in ``.streamlit/secrets.toml`` the app runs in local single-user
mode: the person at the machine may do everything, is recorded in the audit log as ``local``,
and the sidebar says so. Sign-in with ``st.login`` and roles are not built yet
(``docs/access.md``).
"""

from __future__ import annotations

import logging
import os

import streamlit as st

from hotspots import audit
from hotspots._errors import InputError
from hotspots.store import Store

log = logging.getLogger(__name__)

LOCAL_USER = "local"
LOCAL_ROLE = "admin"  # one person at the machine: every page and action
ROLES = ("viewer", "analyst", "admin")
ROLE_ENV = "HOTSPOTS_LOCAL_ROLE"  # see the app as a viewer or analyst would, without sign-in


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


def current_user() -> tuple[str, str]:
    """(user, role) of whoever is using the app: ``("local", "admin")`` in single-user mode."""
    return LOCAL_USER, local_role()


def record(store: Store, action: str, detail: str | dict = "") -> None:
    """Record an action of the current user in the audit log; a failure is logged, never raised."""
    user, role = current_user()
    try:
        audit.record(store, action, user=user, role=role, detail=detail, via="dashboard")
    except Exception as exc:  # the audit must not take a load or an export down with it
        log.warning("audit entry not written (%s): %s %s", exc, action, detail)


def sidebar_note() -> None:
    """Say in the sidebar who the app thinks is using it."""
    if not auth_configured():
        st.sidebar.caption(
            ":material/person: Local single-user mode: no sign-in is configured, so whoever opens "
            "this address sees and exports everything."
        )
