"""Browser sign-ins (services.sessions): a session cookie's secret knows the person again until it
ends; sign-out, password, role and enabled changes end sessions; failed sign-ins are throttled and
audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from mltrl.domain import credentials
from mltrl.domain.errors import NotFound, PermissionDenied, Throttled, Unauthenticated
from mltrl.models import AuditEntry, SignInFailure, UserSession, utcnow
from mltrl.services import Actor, policy, sessions, users
from tests.factories import everything

ADMIN = Actor("ada")
PASSWORD = "correct horse"


@pytest.fixture
def team(session: Session) -> None:
    users.create_first_admin(session=session, actor=Actor("anyone"), name="ada", password=PASSWORD)
    users.add_user(session=session, actor=ADMIN, name="eve", role="editor", password=PASSWORD)


def test_a_cookie_secret_knows_the_person_until_sign_out(session, team):
    secret, account = sessions.sign_in(session, "eve", PASSWORD, address="10.0.0.7", user_agent="Firefox")
    assert account.name == "eve"
    row = session.execute(select(UserSession)).scalar_one()
    assert row.token_hash == credentials.digest(secret) and secret not in row.token_hash
    assert (row.address, row.user_agent) == ("10.0.0.7", "Firefox")
    assert sessions.current(session, secret).account.name == "eve"
    assert sessions.current(session, secret + "x") is None
    assert sessions.sign_out(session, secret) is True
    assert sessions.current(session, secret) is None  # the replayed cookie signs nobody in
    assert sessions.sign_out(session, secret) is False
    actions = [(a.actor, a.entity, a.action) for a in session.execute(select(AuditEntry)).scalars()]
    assert ("eve", "usersession", "sign-in") in actions and ("eve", "usersession", "sign-out") in actions


def test_a_session_ends_after_the_idle_timeout_and_the_lifetime(session, team):
    policy.update_policy(session=session, actor=ADMIN, changes={"session_idle_hours": 2, "session_lifetime_days": 1})
    start = utcnow()
    secret, _ = sessions.sign_in(session, "eve", PASSWORD, now=start)
    assert sessions.current(session, secret, now=start + timedelta(hours=1, minutes=59)) is not None
    # used at 1:59, so idle only from then: still live at 3:00, gone at 4:00
    assert sessions.current(session, secret, now=start + timedelta(hours=3)) is not None
    assert sessions.current(session, secret, now=start + timedelta(hours=5, minutes=1)) is None
    other, _ = sessions.sign_in(session, "eve", PASSWORD, now=start)
    for hours in range(1, 24):  # busy all day, every hour
        assert sessions.current(session, other, now=start + timedelta(hours=hours)) is not None
    assert sessions.current(session, other, now=start + timedelta(hours=24)) is None  # the lifetime


def test_wrong_passwords_are_recorded_audited_and_then_throttled(session, engine, team):
    now = utcnow()
    for n in range(credentials.ACCOUNT_FAILURE_LIMIT):
        with pytest.raises(Unauthenticated, match="Wrong user name or password"):
            sessions.sign_in(session, "eve", f"wrong {n}", address="10.0.0.9", now=now + timedelta(seconds=n))
    with pytest.raises(Throttled, match="for this account: try again in 15 minutes") as refused:
        sessions.sign_in(session, "eve", PASSWORD, address="10.0.0.9", now=now + timedelta(seconds=10))
    assert 0 < refused.value.wait_seconds <= 15 * 60 + 1
    failures = session.execute(select(AuditEntry).where(AuditEntry.entity == "sign-in")).scalars().all()
    assert [f.action for f in failures] == ["failed"] * credentials.ACCOUNT_FAILURE_LIMIT + ["throttled"]
    assert {f.actor for f in failures} == {"anonymous"} and {f.entity_id for f in failures} == {"eve"}
    assert session.execute(select(UserSession)).first() is None  # the right password did not get in
    # once the first failure leaves the window, one more attempt is allowed
    secret, _ = sessions.sign_in(session, "eve", PASSWORD, now=now + credentials.FAILURE_WINDOW + timedelta(seconds=1))
    assert sessions.current(session, secret, now=now + credentials.FAILURE_WINDOW + timedelta(seconds=2))


def test_one_address_trying_many_accounts_is_throttled(session, team):
    now = utcnow()
    for n in range(credentials.ADDRESS_FAILURE_LIMIT):
        with pytest.raises(Unauthenticated):
            sessions.sign_in(session, f"user{n}", "guess", address="203.0.113.5", now=now)
    with pytest.raises(Throttled, match="from your address"):
        sessions.sign_in(session, "ada", PASSWORD, address="203.0.113.5", now=now)
    secret, _ = sessions.sign_in(session, "ada", PASSWORD, address="198.51.100.1", now=now)
    assert secret


def test_a_long_or_hostile_name_is_recorded_clipped(session, team):
    with pytest.raises(Unauthenticated):
        sessions.sign_in(session, "x" * 5000 + "\x00\u202e", "guess", address="a\nb" * 100, user_agent="\x1b[31m")
    failure = session.execute(select(SignInFailure)).scalar_one()
    assert len(failure.name) == 100 and len(failure.address) <= 64 and "\n" not in failure.address


@pytest.mark.parametrize("change", ["password", "reset", "role", "disable"])
def test_account_changes_end_the_persons_other_sessions(session, team, change):
    kept, _ = sessions.sign_in(session, "eve", PASSWORD)
    other, _ = sessions.sign_in(session, "eve", PASSWORD)
    admins, _ = sessions.sign_in(session, "ada", PASSWORD)
    if change == "password":
        users.change_password(session=session, actor=Actor("eve"), current_password=PASSWORD,
                              new_password="a new passphrase", keep_session=kept)
        assert sessions.current(session, kept) is not None
    elif change == "reset":
        users.reset_password(session=session, actor=ADMIN, name="eve", new_password="a new passphrase")
        assert sessions.current(session, kept) is None
    elif change == "role":
        users.set_role(session=session, actor=ADMIN, name="eve", role="viewer")
        assert sessions.current(session, kept) is None
    else:
        users.set_disabled(session=session, actor=ADMIN, name="eve")
        assert sessions.current(session, kept) is None
    assert sessions.current(session, other) is None
    assert sessions.current(session, admins) is not None


def test_an_admin_sees_and_ends_any_session_a_person_only_their_own(session, engine, team):
    eves, _ = sessions.sign_in(session, "eve", PASSWORD, user_agent="Chromium")
    adas, _ = sessions.sign_in(session, "ada", PASSWORD)
    live = sessions.live_sessions(session)
    assert {s.user for s in live} == {"eve", "ada"}
    ada_row = next(s for s in live if s.user == "ada")
    eve_row = next(s for s in live if s.user == "eve")
    before = everything(engine)
    with pytest.raises(PermissionDenied, match="Only an admin"):
        sessions.revoke_session(session=session, actor=Actor("eve"), session_id=ada_row.id)
    assert everything(engine) == before
    with pytest.raises(NotFound):
        sessions.revoke_session(session=session, actor=ADMIN, session_id=10**6)
    sessions.revoke_session(session=session, actor=ADMIN, session_id=eve_row.id)
    assert sessions.current(session, eves) is None
    assert [s.user for s in sessions.live_sessions(session)] == ["ada"]
    sessions.revoke_session(session=session, actor=ADMIN, session_id=ada_row.id)  # one's own
    assert sessions.current(session, adas) is None


def test_a_session_of_a_disabled_account_signs_nobody_in(session, team):
    secret, _ = sessions.sign_in(session, "eve", PASSWORD)
    row = session.execute(select(UserSession)).scalar_one()
    users.set_disabled(session=session, actor=ADMIN, name="eve")
    users.set_disabled(session=session, actor=ADMIN, name="eve", disabled=False)
    assert row.revoked_reason == "account disabled"
    assert sessions.current(session, secret) is None


@pytest.mark.parametrize("secret", [None, "", "x" * 10_000, "\x00"])
def test_malformed_cookies_sign_nobody_in(session, team, secret):
    assert sessions.current(session, secret) is None
    assert sessions.sign_out(session, secret) is False
