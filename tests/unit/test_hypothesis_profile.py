"""The suite's hypothesis profile (tests/conftest.py): no test may depend on the machine's speed."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def test_no_deadline_and_no_too_slow_health_check():
    """Regression for issue 14's flaky DeadlineExceeded on a busy CI machine."""
    assert settings.default.deadline is None
    assert HealthCheck.too_slow in settings.default.suppress_health_check


def test_ci_profile_is_derandomised_under_ci():
    assert settings.get_profile("ci").derandomize is True
    assert settings.get_profile("ci").deadline is None
    expected = os.environ.get("CI", "").lower() == "true"
    assert settings.default.derandomize is expected
