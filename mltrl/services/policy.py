"""The organisation's settings (``mltrl.domain.policy``): read with their defaults, changed by an admin.

Only settings an admin changed have a row in ``orgsetting``; the rest keep their default. A change
is checked as a whole (ranges, and shorter review cadences for higher risk grades) and audited
(entity ``orgsetting``, one row per key changed).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session, select

from mltrl.domain import policy as rules
from mltrl import db
from mltrl.models import OrgSetting, utcnow
from mltrl.domain.permissions import Permission
from mltrl.services._core import Actor, audit, write_service


def _card_stale_default() -> int:
    return db.settings().card_stale_days


def current_policy(session: Session) -> rules.Policy:
    """The settings in force: the stored ones over the defaults."""
    values = rules.defaults(_card_stale_default())
    known = set(values)
    for key, value in session.exec(select(OrgSetting.key, OrgSetting.value)).all():
        if key in known:
            values[key] = value
    return rules.Policy.from_values(values)


@write_service(Permission.ADMIN)
def update_policy(*, session: Session, actor: Actor, changes: Mapping[str, object]) -> rules.Policy:
    """Change some settings (``changes`` maps setting keys to new values); all or nothing."""
    default = _card_stale_default()
    before = current_policy(session).values()
    checked = rules.check(before | dict(changes), default)
    for key, value in checked.items():
        if value == before[key]:
            continue
        row = session.get(OrgSetting, key)
        if row is None:
            row = OrgSetting(key=key, value=value, updated_by=actor.name)
        else:
            row.value, row.updated_by, row.updated_at = value, actor.name, utcnow()
        session.add(row)
        audit(session, actor, entity="orgsetting", entity_id=key, action="update",
              before={"value": before[key]}, after={"value": value})
    session.flush()
    return rules.Policy.from_values(checked)
