"""API tokens (services.tokens): shown once, stored hashed, never above the owner's role, until
expiry or revocation; writes made with one are audited under the owner with the token's name."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from mltrl.domain import credentials, days
from mltrl.domain.errors import InvalidInput, NotFound, PermissionDenied, Unauthenticated
from mltrl.models import ApiToken, AuditEntry
from mltrl.services import Actor, projects, tokens, users
from tests.factories import everything

ADMIN = Actor("ada")
PASSWORD = "correct horse"


@pytest.fixture
def team(session: Session) -> None:
    users.create_first_admin(session=session, actor=Actor("anyone"), name="ada", password=PASSWORD)
    users.add_user(session=session, actor=ADMIN, name="eve", role="editor", password=PASSWORD)
    users.add_user(session=session, actor=ADMIN, name="vic", role="viewer", password=PASSWORD)
    users.add_user(session=session, actor=ADMIN, name="ci-bot", role="editor", service=True)


def test_a_token_is_stored_hashed_and_acts_as_its_owner_named_in_the_audit(session, team):
    secret, info = tokens.create_token(session=session, actor=Actor("eve"), name="notebook")
    assert secret.startswith("mltrl_") and len(secret) > 40
    row = session.execute(select(ApiToken)).scalar_one()
    assert row.token_hash == credentials.digest(secret) and row.prefix == secret[:10]
    assert info.role == "editor" and info.shown == secret[:10] + "…" and info.last_used_at is None
    created = session.execute(select(AuditEntry).where(AuditEntry.entity == "apitoken")).scalar_one()
    assert secret not in str(created.after) and created.after["token_hash"] == "(hidden)"

    actor = tokens.actor_for(session, secret)
    assert (actor.name, actor.via, actor.role_cap) == ("eve", "token notebook", "editor")
    projects.add_project(session=session, actor=actor, code="R01.1", name="Made with a token")
    entry = session.execute(select(AuditEntry).where(AuditEntry.entity == "project")).scalar_one()
    assert (entry.actor, entry.via) == ("eve", "token notebook")
    assert tokens.list_tokens(session, "eve")[0].last_used_at is not None


def test_a_token_never_acts_above_its_role_or_its_owner(session, engine, team):
    secret, _ = tokens.create_token(session=session, actor=Actor("eve"), name="read-only", role="viewer")
    actor = tokens.actor_for(session, secret)  # notes the token's use: a write of its own
    before = everything(engine)
    with pytest.raises(PermissionDenied, match="token read-only acts as a viewer; this needs the editor role"):
        projects.add_project(session=session, actor=actor, code="R01.1", name="x")
    assert everything(engine) == before
    with pytest.raises(InvalidInput, match="role: admin is higher than eve's role"):
        tokens.create_token(session=session, actor=Actor("eve"), name="too-high", role="admin")
    with pytest.raises(InvalidInput, match="role: 'boss' is not a role"):
        tokens.create_token(session=session, actor=Actor("eve"), name="bad", role="boss")
    # the owner demoted later: the token follows the owner down
    editor_token, _ = tokens.create_token(session=session, actor=Actor("eve"), name="ci")
    users.set_role(session=session, actor=ADMIN, name="eve", role="viewer")
    with pytest.raises(PermissionDenied):
        projects.add_project(session=session, actor=tokens.actor_for(session, editor_token), code="R01.1", name="x")


def test_expired_revoked_unknown_and_disabled_owners_tokens_are_refused(session, team):
    expiring, _ = tokens.create_token(session=session, actor=Actor("eve"), name="short", expires=days.today())
    assert tokens.actor_for(session, expiring).name == "eve"
    with pytest.raises(Unauthenticated, match="unknown, expired or revoked"):
        tokens.actor_for(session, expiring, now=days.day_end(days.today()))
    revoked, info = tokens.create_token(session=session, actor=Actor("eve"), name="gone")
    tokens.revoke_token(session=session, actor=Actor("eve"), token_id=info.id)
    with pytest.raises(Unauthenticated, match="unknown, expired or revoked"):
        tokens.actor_for(session, revoked)
    for bad in (None, "", "mltrl_nope", "x" * 5000):
        with pytest.raises(Unauthenticated):
            tokens.actor_for(session, bad)
    kept, _ = tokens.create_token(session=session, actor=Actor("eve"), name="kept")
    users.set_disabled(session=session, actor=ADMIN, name="eve")
    with pytest.raises(Unauthenticated, match="eve.*disabled"):
        tokens.actor_for(session, kept)


def test_an_expiry_in_the_past_or_not_a_day_is_refused_naming_expires(session, engine, team):
    before = everything(engine)
    for bad, words in [(days.today() - timedelta(days=1), "has passed"), ("31/12/2027", "expires"),
                       ("2027-12-31T10:00", "expires")]:
        with pytest.raises(InvalidInput, match=words) as refused:
            tokens.create_token(session=session, actor=Actor("eve"), name="x", expires=bad)
        assert refused.value.field == "expires"
    assert everything(engine) == before


def test_names_are_required_and_unique_among_an_owners_live_tokens(session, team):
    with pytest.raises(InvalidInput, match="name: a token needs a name"):
        tokens.create_token(session=session, actor=Actor("eve"), name="  ")
    _, first = tokens.create_token(session=session, actor=Actor("eve"), name="ci")
    with pytest.raises(InvalidInput, match="already has a token called 'ci'"):
        tokens.create_token(session=session, actor=Actor("eve"), name="ci")
    tokens.create_token(session=session, actor=Actor("vic"), name="ci")  # another owner
    tokens.revoke_token(session=session, actor=Actor("eve"), token_id=first.id)
    tokens.create_token(session=session, actor=Actor("eve"), name="ci")  # the name is free again


def test_an_admin_makes_and_revokes_a_service_accounts_tokens_others_only_their_own(session, engine, team):
    secret, info = tokens.create_token(session=session, actor=ADMIN, name="pipeline", owner="ci-bot",
                                       expires=date.today() + timedelta(days=90))
    assert tokens.actor_for(session, secret).name == "ci-bot"
    assert users.authenticate(session, "ci-bot", "") is None  # a service account never signs in
    before = everything(engine)
    with pytest.raises(PermissionDenied, match="Only an admin creates tokens for another account"):
        tokens.create_token(session=session, actor=Actor("eve"), name="x", owner="ci-bot")
    with pytest.raises(PermissionDenied, match="Only an admin revokes"):
        tokens.revoke_token(session=session, actor=Actor("eve"), token_id=info.id)
    with pytest.raises(NotFound):
        tokens.revoke_token(session=session, actor=ADMIN, token_id=10**6)
    assert everything(engine) == before
    tokens.revoke_token(session=session, actor=ADMIN, token_id=info.id)
    assert tokens.list_tokens(session, "ci-bot") == []
    assert [t.name for t in tokens.list_tokens(session, "ci-bot", include_ended=True)] == ["pipeline"]


def test_a_service_account_has_neither_password_nor_email(session, team):
    with pytest.raises(InvalidInput, match="service account signs in with nothing but its API tokens"):
        users.add_user(session=session, actor=ADMIN, name="bot2", role="viewer", password="long enough", service=True)
