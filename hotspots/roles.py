"""Who may do what: the roles file, read and checked (no Streamlit here).

A signed-in person's role comes from a small TOML file (``roles.toml``), by e-mail or by a
group their identity provider puts in the ID token::

    # roles.toml
    default = "viewer"        # signed in but listed nowhere: "viewer" (the default) or "refuse"
    groups_claim = "groups"   # the ID-token claim that lists the person's groups

    [users]
    "ana.lyst@stoke.gov.uk" = "analyst"
    "it.admin@stoke.gov.uk" = "admin"
    "former.officer@stoke.gov.uk" = "refuse"

    [groups]
    "3f2a9c0e-5b1d-4e8a-9f00-2c7d1e6b4a11" = "analyst"   # an Entra ID group's object id
    "hotspots-admins" = "admin"

The roles, from least to most: **viewer** (maps, hotspot lists, trends and ward profiles, with
restricted sources aggregated), **analyst** (also loading data, record-level detail and exports
of restricted sources), **admin** (also boundaries, users and roles, the audit log).

Rules (:func:`role_for`): a person's own e-mail entry decides when there is one (so one person
in an admin group can be held to viewer, or refused); otherwise the highest role of their
groups; otherwise ``default``. E-mails are compared without regard to case; group names and
ids exactly, as the provider sends them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from hotspots._errors import InputError

#: The roles, least to most.
ROLES = ("viewer", "analyst", "admin")
#: What an e-mail entry or ``default`` may say instead of a role.
REFUSE = "refuse"
KEYS = ("default", "groups_claim", "users", "groups")
DEFAULT_ROLE = "viewer"
DEFAULT_GROUPS_CLAIM = "groups"


@dataclass(frozen=True)
class RoleMap:
    """A parsed roles file.

    Attributes
    ----------
    users
        Lower-cased e-mail -> role or ``"refuse"``.
    groups
        Group name or id -> role.
    default
        The role of a signed-in person listed nowhere, or ``"refuse"``.
    groups_claim
        The ID-token claim holding the person's groups.
    path
        The file it came from (``None``: no file; everyone signed in gets ``default``).
    """

    users: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    default: str = DEFAULT_ROLE
    groups_claim: str = DEFAULT_GROUPS_CLAIM
    path: Path | None = None


def _line_of(text: str, key: str) -> int | None:
    """The 1-based line where ``key`` (bare or quoted) is assigned, if it can be found."""
    pattern = re.compile(
        r"^\s*(?:\"" + re.escape(key) + r"\"|'" + re.escape(key) + r"'|" + re.escape(key) + r")\s*="
    )
    for n, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return n
    return None


def parse_roles(text: str, *, source: str = "roles file") -> RoleMap:
    """Parse and check the text of a roles file.

    Parameters
    ----------
    text
        The TOML text (format in the module docstring).
    source
        The file's name, used in error messages.

    Returns
    -------
    RoleMap
        The roles by e-mail (lower-cased) and by group, the default and the groups claim.
        ``default`` missing: ``"viewer"`` (a person the organisation's identity provider let
        in may see the aggregated dashboard; set ``"refuse"`` to admit only those listed).
        ``groups_claim`` missing: ``"groups"`` (what Microsoft Entra ID sends).

    Raises
    ------
    InputError
        Naming the file, and the line where it can be found, if the text is not TOML, has a
        key other than :data:`KEYS`, a section that is not a table, an e-mail without ``@``
        or listed twice, or a role that is not one of :data:`ROLES` (or ``refuse`` where
        allowed).
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=source) from exc
    unknown = [k for k in doc if k not in KEYS]
    if unknown:
        raise InputError(
            f"unknown key {unknown[0]!r}; expected only {', '.join(KEYS)}",
            file=source,
            line=_line_of(text, unknown[0]),
        )
    default = doc.get("default", DEFAULT_ROLE)
    if default not in (DEFAULT_ROLE, REFUSE):
        raise InputError(
            f"default must be 'viewer' or 'refuse'; got {default!r}",
            file=source,
            line=_line_of(text, "default"),
        )
    claim = doc.get("groups_claim", DEFAULT_GROUPS_CLAIM)
    if not isinstance(claim, str) or not claim.strip():
        raise InputError(
            f"groups_claim must be the name of an ID-token claim (a string); got {claim!r}",
            file=source,
            line=_line_of(text, "groups_claim"),
        )
    users: dict[str, str] = {}
    for email, role in _table(doc, "users", source).items():
        line = _line_of(text, email)
        if "@" not in email:
            raise InputError(f"[users] key {email!r} is not an e-mail address", file=source, line=line)
        if role not in (*ROLES, REFUSE):
            raise InputError(
                f"[users] {email!r} = {role!r}: the role must be one of {', '.join(ROLES)} or refuse",
                file=source,
                line=line,
            )
        key = email.strip().lower()
        if key in users:
            raise InputError(
                f"[users] {email!r} is listed twice (e-mails ignore case)", file=source, line=line
            )
        users[key] = role
    groups: dict[str, str] = {}
    for group, role in _table(doc, "groups", source).items():
        if role not in ROLES:
            raise InputError(
                f"[groups] {group!r} = {role!r}: the role must be one of {', '.join(ROLES)}",
                file=source,
                line=_line_of(text, group),
            )
        groups[group] = role
    return RoleMap(users=users, groups=groups, default=default, groups_claim=claim.strip())


def _table(doc: dict, name: str, source: str) -> dict:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise InputError(
            f"[{name}] must be a table of name = role lines; got {type(value).__name__} {value!r}",
            file=source,
        )
    return value


def read_roles(path: str | Path) -> RoleMap:
    """Read and check a roles file.

    Parameters
    ----------
    path
        The ``roles.toml`` file.

    Returns
    -------
    RoleMap
        As :func:`parse_roles`, with ``path`` set.

    Raises
    ------
    InputError
        If the file does not exist or cannot be read as UTF-8, or as :func:`parse_roles`.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("the roles file does not exist", file=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"the roles file cannot be read as UTF-8 text ({exc})", file=str(path)) from exc
    roles = parse_roles(text, source=str(path))
    return RoleMap(roles.users, roles.groups, roles.default, roles.groups_claim, path)


def role_for(roles: RoleMap, email: str | None, groups: Iterable[str] | str | None = ()) -> str | None:
    """The role of a signed-in person, or ``None`` if they are refused.

    Parameters
    ----------
    roles
        The parsed roles file (:func:`read_roles`; ``RoleMap()`` when there is none).
    email
        Their e-mail from the ID token; ``None`` or empty: matched by groups only.
    groups
        Their groups from the ID token's ``groups_claim`` (a single string counts as one
        group); ``None``: none.

    Returns
    -------
    str or None
        Their e-mail entry if there is one, else the highest role among their groups, else
        ``roles.default``; ``None`` where that says ``refuse``.
    """
    role = roles.users.get((email or "").strip().lower())
    if role is None:
        if isinstance(groups, str):
            groups = [groups]
        found = [roles.groups[g] for g in (groups or ()) if isinstance(g, str) and g in roles.groups]
        role = max(found, key=ROLES.index) if found else roles.default
    return None if role == REFUSE else role


def at_least(role: str, needed: str) -> bool:
    """True if ``role`` includes everything ``needed`` may do (viewer < analyst < admin).

    Raises
    ------
    InputError
        If either is not one of :data:`ROLES`.
    """
    for name, value in (("role", role), ("needed", needed)):
        if value not in ROLES:
            raise InputError(f"{name} must be one of {', '.join(ROLES)}; got {value!r}")
    return ROLES.index(role) >= ROLES.index(needed)


def set_user_role(path: str | Path, email: str, role: str) -> RoleMap:
    """Give one e-mail a role (or ``refuse``) in the roles file, keeping its other lines and comments.

    Parameters
    ----------
    path
        The roles file; created (with a ``[users]`` table) if it does not exist.
    email
        The person's e-mail (stored lower-cased).
    role
        One of :data:`ROLES` or ``"refuse"``.

    Returns
    -------
    RoleMap
        The file as read back after the change.

    Raises
    ------
    InputError
        If ``email`` has no ``@`` or ``role`` is not allowed (the file is unchanged), or the file
        is already wrong (:func:`read_roles`).
    """
    path = Path(path)
    email = email.strip().lower()
    if "@" not in email or any(c in email for c in '"\\\n'):
        raise InputError(f"email must be an e-mail address; got {email!r}")
    if role not in (*ROLES, REFUSE):
        raise InputError(f"role must be one of {', '.join(ROLES)} or refuse; got {role!r}")
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if text:
        read_roles(path)  # refuse to edit a file that is already wrong
    entry = f'"{email}" = "{role}"'
    lines = text.splitlines()
    current = parse_roles(text, source=str(path)).users if text else {}
    if email in current:
        pattern = re.compile(r"^\s*[\"']?" + re.escape(email) + r"[\"']?\s*=", re.IGNORECASE)
        lines = [entry if pattern.match(line) else line for line in lines]
    elif any(line.strip() == "[users]" for line in lines):
        at = next(i for i, line in enumerate(lines) if line.strip() == "[users]")
        lines.insert(at + 1, entry)
    else:
        lines += ["", "[users]", entry]
    path.write_text("\n".join(lines).lstrip("\n") + "\n", encoding="utf-8")
    return read_roles(path)
