"""Accounts: first admin, roles, disabling, passwords, sign-in."""

from __future__ import annotations

import pytest

from mltrl.domain.errors import InvalidInput, PermissionDenied
from mltrl.services import Actor, users
from tests.factories import everything

ADMIN = Actor("ada")
PASSWORD = "correct horse"


@pytest.fixture
def admin(session):
    return users.create_first_admin(session=session, actor=Actor("x"), name="ada", password=PASSWORD,
                                    display_name="Ada Lovelace", email="Ada@Example.org")


def test_a_new_database_has_no_accounts(session):
    assert not users.has_accounts(session)


def test_first_admin_is_created_and_signs_in(session, admin):
    assert (admin.name, admin.role, admin.display_name, admin.email) == ("ada", "admin", "Ada Lovelace", "ada@example.org")
    assert users.has_accounts(session)
    assert users.authenticate(session, "ada", PASSWORD) == admin
    assert users.authenticate(session, "ada", "wrong password") is None
    assert users.authenticate(session, "nobody", PASSWORD) is None
    assert users.get_user(session, "ada").password_hash.startswith("$argon2")


def test_first_account_added_through_add_user_must_be_an_admin(session, engine):
    before = everything(engine)
    with pytest.raises(InvalidInput, match="role: the first account must be an admin"):
        users.add_user(session=session, actor=Actor("x"), name="vic", role="viewer", password=PASSWORD)
    assert everything(engine) == before


@pytest.mark.parametrize("kwargs, field", [
    ({"name": "", "role": "editor", "password": PASSWORD}, "name"),
    ({"name": "bad name", "role": "editor", "password": PASSWORD}, "name"),
    ({"name": "eve", "role": "boss", "password": PASSWORD}, "role"),
    ({"name": "eve", "role": "editor", "password": "short"}, "password"),
    ({"name": "eve", "role": "editor"}, "password"),
    ({"name": "eve", "role": "editor", "password": PASSWORD, "email": "not-an-email"}, "email"),
    ({"name": "ada", "role": "editor", "password": PASSWORD}, "name"),
    ({"name": "eve", "role": "editor", "password": PASSWORD, "email": "ada@example.org"}, "email"),
])
def test_bad_accounts_are_refused_naming_the_field(session, engine, admin, kwargs, field):
    before = everything(engine)
    with pytest.raises(InvalidInput) as err:
        users.add_user(session=session, actor=ADMIN, **kwargs)
    assert err.value.field == field
    assert everything(engine) == before


def test_identity_provider_account_needs_no_password(session, admin):
    account = users.add_user(session=session, actor=ADMIN, name="oidc.user", role="reviewer", email="o@example.org")
    assert users.account_for_email(session, "O@example.org") == account
    assert users.authenticate(session, "oidc.user", "") is None


def test_roles_change_and_disabled_users_cannot_sign_in(session, admin):
    users.add_user(session=session, actor=ADMIN, name="eve", role="editor", password=PASSWORD)
    assert users.set_role(session=session, actor=ADMIN, name="eve", role="REVIEWER").role == "reviewer"
    users.set_disabled(session=session, actor=ADMIN, name="eve")
    assert users.authenticate(session, "eve", PASSWORD) is None
    assert users.account_of(session, "eve") is None
    users.set_disabled(session=session, actor=ADMIN, name="eve", disabled=False)
    assert users.authenticate(session, "eve", PASSWORD).role == "reviewer"


def test_setting_the_role_a_user_has_writes_nothing(session, engine, admin):
    users.add_user(session=session, actor=ADMIN, name="eve", role="editor", password=PASSWORD)
    before = everything(engine)
    assert users.set_role(session=session, actor=ADMIN, name="eve", role="editor").role == "editor"
    assert users.set_role(session=session, actor=ADMIN, name="ada", role="admin").role == "admin"
    assert everything(engine) == before  # no audit row, no sign-in ended


def test_the_last_enabled_admin_cannot_be_demoted_or_disabled(session, engine, admin):
    before = everything(engine)
    with pytest.raises(InvalidInput, match="last enabled admin"):
        users.set_role(session=session, actor=ADMIN, name="ada", role="editor")
    with pytest.raises(InvalidInput, match="last enabled admin"):
        users.set_disabled(session=session, actor=ADMIN, name="ada")
    assert everything(engine) == before
    users.add_user(session=session, actor=ADMIN, name="bob", role="admin", password=PASSWORD)
    assert users.set_role(session=session, actor=ADMIN, name="ada", role="editor").role == "editor"


def test_change_password_needs_the_current_one(session, engine, admin):
    before = everything(engine)
    with pytest.raises(InvalidInput, match="current_password"):
        users.change_password(session=session, actor=ADMIN, current_password="nope", new_password="new secret!")
    with pytest.raises(InvalidInput, match="new_password: at least 8"):
        users.change_password(session=session, actor=ADMIN, current_password=PASSWORD, new_password="short")
    assert everything(engine) == before
    users.change_password(session=session, actor=ADMIN, current_password=PASSWORD, new_password="new secret!")
    assert users.authenticate(session, "ada", "new secret!") is not None
    assert users.authenticate(session, "ada", PASSWORD) is None


def test_a_viewer_can_change_only_their_own_password(session, admin):
    users.add_user(session=session, actor=ADMIN, name="vic", role="viewer", password=PASSWORD)
    users.change_password(session=session, actor=Actor("vic"), current_password=PASSWORD, new_password="vics new pw")
    with pytest.raises(PermissionDenied):
        users.reset_password(session=session, actor=Actor("vic"), name="ada", new_password="hijacked!!")
    assert users.authenticate(session, "ada", PASSWORD) is not None


def test_real_hash_parameters(monkeypatch):
    """Outside the tests' cheap hasher, passwords get argon2id with the library's defaults."""
    monkeypatch.undo()  # drop the autouse fixture's cheap hasher
    assert users._hasher.time_cost >= 2 and users._hasher.memory_cost >= 19 * 1024
    assert users._hasher.hash("x").startswith("$argon2id$")
