"""The organisation's settings an admin may change: what each one means, its default and its
allowed range, and the rules that hold between them. Pure: no database, no streamlit.

A setting not changed by an admin keeps its default; ``mltrl.services.policy`` stores only the
changed ones (table ``orgsetting``) and lays them over these defaults.

* Risk review cadences, one per risk grade (``mltrl.domain.risk.GRADES``): how many days may pass
  between two reviews of a risk of that grade. Higher risk, shorter cadence: a grade's cadence may
  not be longer than the cadence of the grade below it.
* Card staleness: a TRL card not saved for more than this many days is stale
  (default ``MLTRL_CARD_STALE_DAYS``, 90).
* Review readiness: a level counts as ready for its gated review when its exit criteria average at
  least this percentage (80).
* Deployed cadence: a level 9 technology is reviewed again every this many days (90).
* Evidence staleness: a piece of evidence older than this many days is marked stale (90); so is
  one produced before the technology reached its current level (``mltrl.domain.evidence``).
* Sign-in sessions: a browser session ends after this many hours without use (idle timeout, 12)
  and, used or not, this many days after sign-in (absolute lifetime, 14). The idle timeout may not
  be longer than the lifetime.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mltrl.domain import risk as risk_rules
from mltrl.domain.errors import InvalidInput


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: str
    help: str
    default: int
    minimum: int
    maximum: int
    unit: str = "days"


def _cadence_spec(g: risk_rules.Grade) -> SettingSpec:
    return SettingSpec(
        key=f"risk_review_days.{g.name}", label=f"Review a {g.name} risk every",
        help=f"Days between two reviews of a risk whose matrix cell is {g.name} (score up to {g.max_score}).",
        default=g.review_days, minimum=1, maximum=730)


# A card not saved for this many days is stale, unless an admin or MLTRL_CARD_STALE_DAYS says otherwise.
DEFAULT_CARD_STALE_DAYS = 90


# Evidence older than this many days is marked stale.
DEFAULT_EVIDENCE_STALE_DAYS = 90


# A browser's sign-in ends after this many idle hours, or this many days after it began.
DEFAULT_SESSION_IDLE_HOURS = 12
DEFAULT_SESSION_LIFETIME_DAYS = 14


def specs(card_stale_default: int = DEFAULT_CARD_STALE_DAYS) -> tuple[SettingSpec, ...]:
    """Every setting, in the order the admin page shows them."""
    return (*(_cadence_spec(g) for g in risk_rules.GRADES),
            SettingSpec(key="card_stale_days", label="A TRL card is stale after",
                        help="Days without a save after which a card counts as stale (also when the level "
                             "changed since its last save).", default=card_stale_default, minimum=1, maximum=3650),
            SettingSpec(key="review_ready_threshold", label="A level is ready for review at",
                        help="The average completion of a level's exit criteria at which it counts as ready "
                             "for its gated review.", default=80, minimum=1, maximum=100, unit="percent"),
            SettingSpec(key="deployed_review_days", label="Review a deployed (level 9) technology every",
                        help="Days between two reviews of a deployed technology; later ones are overdue.",
                        default=90, minimum=1, maximum=730),
            SettingSpec(key="evidence_stale_days", label="Evidence is stale after",
                        help="Days after it was produced at which a test report, model version or other "
                             "evidence is marked stale (also when produced before the current level).",
                        default=DEFAULT_EVIDENCE_STALE_DAYS, minimum=1, maximum=3650),
            SettingSpec(key="session_idle_hours", label="Sign a browser out after it is idle for",
                        help="Hours without a page load or click after which a browser's sign-in ends.",
                        default=DEFAULT_SESSION_IDLE_HOURS, minimum=1, maximum=24 * 30, unit="hours"),
            SettingSpec(key="session_lifetime_days", label="Sign a browser out, used or not, after",
                        help="Days after signing in at which a browser's sign-in ends, however busy.",
                        default=DEFAULT_SESSION_LIFETIME_DAYS, minimum=1, maximum=365))


@dataclass(frozen=True)
class Policy:
    """The settings in force."""

    risk_review_days: Mapping[str, int] = field(
        default_factory=lambda: {g.name: g.review_days for g in risk_rules.GRADES})
    card_stale_days: int = DEFAULT_CARD_STALE_DAYS
    review_ready_threshold: int = 80
    deployed_review_days: int = 90
    evidence_stale_days: int = DEFAULT_EVIDENCE_STALE_DAYS
    session_idle_hours: int = DEFAULT_SESSION_IDLE_HOURS
    session_lifetime_days: int = DEFAULT_SESSION_LIFETIME_DAYS

    @classmethod
    def from_values(cls, values: Mapping[str, int]) -> Policy:
        return cls(risk_review_days={g.name: int(values[f"risk_review_days.{g.name}"]) for g in risk_rules.GRADES},
                   card_stale_days=int(values["card_stale_days"]),
                   review_ready_threshold=int(values["review_ready_threshold"]),
                   deployed_review_days=int(values["deployed_review_days"]),
                   evidence_stale_days=int(values["evidence_stale_days"]),
                   session_idle_hours=int(values["session_idle_hours"]),
                   session_lifetime_days=int(values["session_lifetime_days"]))

    def values(self) -> dict[str, int]:
        return {**{f"risk_review_days.{k}": v for k, v in self.risk_review_days.items()},
                "card_stale_days": self.card_stale_days, "review_ready_threshold": self.review_ready_threshold,
                "deployed_review_days": self.deployed_review_days, "evidence_stale_days": self.evidence_stale_days,
                "session_idle_hours": self.session_idle_hours, "session_lifetime_days": self.session_lifetime_days}


def defaults(card_stale_default: int = 90) -> dict[str, int]:
    return {s.key: s.default for s in specs(card_stale_default)}


def check(values: Mapping[str, object], card_stale_default: int = 90) -> dict[str, int]:
    """``values`` (every setting) checked: whole numbers in range, cadences shorter for higher
    grades. A refusal names the setting and what is allowed."""
    checked: dict[str, int] = {}
    for spec in specs(card_stale_default):
        raw = values.get(spec.key, spec.default)
        try:
            if isinstance(raw, bool):
                raise ValueError
            number = raw if isinstance(raw, int) else int(str(raw).strip())
        except ValueError:
            raise InvalidInput(spec.key, f"{raw!r} is not a whole number of {spec.unit}") from None
        if not spec.minimum <= number <= spec.maximum:
            raise InvalidInput(spec.key, f"{raw!r} is outside {spec.minimum}-{spec.maximum} {spec.unit}")
        checked[spec.key] = number
    unknown = sorted(set(values) - set(checked))
    if unknown:
        raise InvalidInput(unknown[0], f"not a setting: use one of {', '.join(checked)}")
    grades = risk_rules.GRADES
    for lower, higher in zip(grades, grades[1:]):
        lo, hi = checked[f"risk_review_days.{lower.name}"], checked[f"risk_review_days.{higher.name}"]
        if hi > lo:
            raise InvalidInput(f"risk_review_days.{higher.name}",
                               f"{hi} days is longer than the {lower.name} cadence ({lo} days): a higher risk is "
                               "reviewed at least as often")
    idle, lifetime = checked["session_idle_hours"], checked["session_lifetime_days"]
    if idle > lifetime * 24:
        raise InvalidInput("session_idle_hours",
                           f"{idle} hours is longer than the sign-in lifetime ({lifetime} days = {lifetime * 24} hours)")
    return checked
