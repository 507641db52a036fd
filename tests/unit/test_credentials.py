"""The pure rules of sessions, tokens and the sign-in throttle (mltrl.domain.credentials)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mltrl.domain import credentials
from mltrl.domain.permissions import ROLE_ORDER, at_most, effective_role

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)
offsets = st.lists(st.integers(0, 3 * 3600), max_size=40)


@given(offsets, st.integers(1, 25))
def test_the_throttle_refuses_exactly_while_the_limit_is_reached_inside_the_window(seconds_ago, limit):
    failures = [NOW - timedelta(seconds=s) for s in seconds_ago]
    inside = [f for f in failures if NOW - credentials.FAILURE_WINDOW < f <= NOW]
    wait = credentials.throttle_wait(failures, NOW, limit=limit)
    assert (wait is None) == (len(inside) < limit)
    if wait is not None:
        assert timedelta(0) < wait <= credentials.FAILURE_WINDOW
        # at the end of the wait, fewer than ``limit`` failures remain inside the window
        assert credentials.throttle_wait(failures, NOW + wait, limit=limit) is None


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(1, 720), st.integers(1, 365))
def test_a_session_is_live_before_its_lifetime_and_its_idle_timeout_and_never_after(
        seen_after, now_after, idle_hours, lifetime_days):
    created = NOW
    last_seen = created + timedelta(minutes=seen_after)
    now = last_seen + timedelta(minutes=now_after)
    idle, lifetime = timedelta(hours=idle_hours), timedelta(days=lifetime_days)
    live = credentials.session_live(created, last_seen, now, idle=idle, lifetime=lifetime)
    assert live == (now < created + lifetime and now < last_seen + idle)


def test_secrets_are_random_and_only_their_digest_is_kept():
    a, b = credentials.new_api_token(), credentials.new_api_token()
    assert a != b and a.startswith("mltrl_") and len(a) == 6 + 43
    assert credentials.digest(a) != credentials.digest(b) and len(credentials.digest(a)) == 64
    assert credentials.digest("\ud800") == credentials.digest("\ud800")  # a lone surrogate hashes, never raises
    assert credentials.shown(a) == a[:10]
    assert credentials.minutes_word(timedelta(seconds=1)) == "1 minute"
    assert credentials.minutes_word(timedelta(minutes=14, seconds=1)) == "15 minutes"


@given(st.sampled_from(ROLE_ORDER), st.one_of(st.none(), st.sampled_from(ROLE_ORDER)))
def test_a_cap_never_raises_a_role(role, cap):
    effective = effective_role(role, cap)
    assert at_most(effective, role)
    assert effective == (role if cap is None else min(role, cap, key=ROLE_ORDER.index))
