"""hotspots.roles: the roles file (by e-mail, by group, default), its checks and edits."""

from __future__ import annotations

import pytest

from hotspots import roles
from hotspots._errors import InputError

EXAMPLE = """\
# who may do what
default = "viewer"
groups_claim = "groups"

[users]
"Ana.Lyst@stoke.gov.uk" = "analyst"
"it.admin@stoke.gov.uk" = "admin"
"former.officer@stoke.gov.uk" = "refuse"
"held.back@stoke.gov.uk" = "viewer"

[groups]
"3f2a9c0e-5b1d-4e8a-9f00-2c7d1e6b4a11" = "analyst"
"hotspots-admins" = "admin"
"""


@pytest.fixture
def example(tmp_path):
    path = tmp_path / "roles.toml"
    path.write_text(EXAMPLE, encoding="utf-8")
    return path


def test_roles_by_email_group_and_default(example):
    table = roles.read_roles(example)
    assert table.path == example
    assert table.users["ana.lyst@stoke.gov.uk"] == "analyst"  # e-mails lower-cased
    assert roles.role_for(table, "ANA.LYST@stoke.gov.uk") == "analyst"
    assert roles.role_for(table, "it.admin@stoke.gov.uk", ["nothing"]) == "admin"
    assert (
        roles.role_for(table, "former.officer@stoke.gov.uk", ["hotspots-admins"]) is None
    )  # own line decides
    assert roles.role_for(table, "held.back@stoke.gov.uk", ["hotspots-admins"]) == "viewer"
    # not listed: the highest of their groups, a single string is one group, else the default
    assert (
        roles.role_for(table, "pc@police.uk", ["3f2a9c0e-5b1d-4e8a-9f00-2c7d1e6b4a11", "hotspots-admins"])
        == "admin"
    )
    assert roles.role_for(table, "pc@police.uk", "3f2a9c0e-5b1d-4e8a-9f00-2c7d1e6b4a11") == "analyst"
    assert roles.role_for(table, "pc@police.uk", ["HOTSPOTS-ADMINS"]) == "viewer"  # groups match exactly
    assert roles.role_for(table, "pc@police.uk", None) == "viewer"
    assert roles.role_for(table, None, ["hotspots-admins"]) == "admin"


def test_default_refuse_and_no_file():
    table = roles.parse_roles('default = "refuse"\n[users]\n"a@b.uk" = "viewer"\n')
    assert roles.role_for(table, "a@b.uk") == "viewer"
    assert roles.role_for(table, "c@b.uk", ["any"]) is None
    assert roles.role_for(roles.RoleMap(), "anyone@x.uk") == "viewer"  # no file: everyone a viewer
    assert roles.parse_roles("").groups_claim == "groups"


def test_at_least_orders_the_roles():
    assert roles.at_least("admin", "analyst") and roles.at_least("analyst", "analyst")
    assert not roles.at_least("viewer", "analyst")
    with pytest.raises(InputError, match="role must be one of viewer, analyst, admin; got 'boss'"):
        roles.at_least("boss", "viewer")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('default = "viewer"\n[users\n', r"r\.toml: not valid TOML: .*line 2"),
        (
            'default = "viewer"\nadmins = ["a@b.uk"]\n',
            r"r\.toml, line 2: unknown key 'admins'; expected only default, groups_claim, users, groups",
        ),
        ('default = "admin"\n', r"r\.toml, line 1: default must be 'viewer' or 'refuse'; got 'admin'"),
        (
            "groups_claim = 3\n",
            r"r\.toml, line 1: groups_claim must be the name of an ID-token claim \(a string\); got 3",
        ),
        ('users = "a@b.uk"\n', r"r\.toml: \[users\] must be a table of name = role lines; got str 'a@b.uk'"),
        ('[users]\n"bob" = "viewer"\n', r"r\.toml, line 2: \[users\] key 'bob' is not an e-mail address"),
        (
            '[users]\n"a@b.uk" = "viewer"\n"c@d.uk" = "boss"\n',
            r"r\.toml, line 3: \[users\] 'c@d.uk' = 'boss': the role must be one of viewer, analyst, admin or refuse",
        ),
        (
            '[users]\n"a@b.uk" = "viewer"\n"A@B.uk" = "admin"\n',
            r"r\.toml, line 3: \[users\] 'A@B.uk' is listed twice \(e-mails ignore case\)",
        ),
        (
            '[groups]\n\n"team" = "refuse"\n',
            r"r\.toml, line 3: \[groups\] 'team' = 'refuse': the role must be one of viewer, analyst, admin$",
        ),
    ],
)
def test_each_problem_is_named_with_file_and_line(text, message):
    with pytest.raises(InputError, match=message):
        roles.parse_roles(text, source="r.toml")


def test_missing_or_unreadable_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.toml: the roles file does not exist"):
        roles.read_roles(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'default = "\xff"\n')
    with pytest.raises(InputError, match=r"bad\.toml: the roles file cannot be read as UTF-8 text"):
        roles.read_roles(bad)


def test_set_user_role_keeps_comments_and_other_lines(example, tmp_path):
    table = roles.set_user_role(example, "ana.lyst@stoke.gov.uk", "admin")  # an existing line, other case
    assert table.users["ana.lyst@stoke.gov.uk"] == "admin"
    table = roles.set_user_role(example, " New.Person@Stoke.gov.uk ", "analyst")
    assert table.users["new.person@stoke.gov.uk"] == "analyst"
    text = example.read_text()
    assert text.startswith("# who may do what\n") and '"hotspots-admins" = "admin"' in text
    assert text.count("ana.lyst@stoke.gov.uk") == 1
    assert table.users["it.admin@stoke.gov.uk"] == "admin" and len(table.users) == 5
    fresh = roles.set_user_role(tmp_path / "new.toml", "a@b.uk", "refuse")  # a new file gets a [users] table
    assert fresh.users == {"a@b.uk": "refuse"} and fresh.default == "viewer"
    with pytest.raises(InputError, match="email must be an e-mail address; got 'bob'"):
        roles.set_user_role(example, "bob", "viewer")
    with pytest.raises(InputError, match="role must be one of viewer, analyst, admin or refuse; got 'boss'"):
        roles.set_user_role(example, "a@b.uk", "boss")
    example.write_text('default = "admin"\n')
    with pytest.raises(InputError, match="default must be 'viewer' or 'refuse'"):
        roles.set_user_role(example, "a@b.uk", "viewer")
    assert example.read_text() == 'default = "admin"\n'  # a wrong file is not edited
