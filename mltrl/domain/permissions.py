"""Roles and what they allow. Pure: no database, no streamlit.

Roles are ordered; each includes everything the one before it may do:

* viewer   -- reads everything.
* editor   -- also edits technologies, cards, requirements, risks and OKRs.
* reviewer -- also votes on and decides reviews.
* admin    -- also users, templates, gate overrides, import and backup.

A database with no accounts runs in single-user mode: the acting user has every right. Once the
first account exists, every write needs an enabled account whose role allows it
(``mltrl.services._core.authorize``).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    REVIEWER = "reviewer"
    ADMIN = "admin"


class Permission(StrEnum):
    """What a write use case needs (``@write_service(Permission.EDIT)``)."""

    EDIT = "edit"        # technologies, level history, cards, registers, OKRs
    REVIEW = "review"    # votes and review decisions
    ADMIN = "admin"      # users, templates, overrides, import, backup
    SELF = "self"        # one's own account (password): any enabled user
    SETUP = "setup"      # creating the first admin: only while there are no accounts


ROLE_ORDER: tuple[Role, ...] = (Role.VIEWER, Role.EDITOR, Role.REVIEWER, Role.ADMIN)

# The least role that holds each permission (SELF and SETUP are checked apart).
LEAST_ROLE: dict[Permission, Role] = {
    Permission.EDIT: Role.EDITOR,
    Permission.REVIEW: Role.REVIEWER,
    Permission.ADMIN: Role.ADMIN,
}

ROLE_HELP: dict[Role, str] = {
    Role.VIEWER: "reads everything, changes nothing",
    Role.EDITOR: "edits technologies, level history, cards, requirements, risks and OKRs",
    Role.REVIEWER: "an editor who also votes on and decides reviews",
    Role.ADMIN: "a reviewer who also manages users, templates, gate overrides, import and backup",
}


def parse_role(value: str) -> Role:
    """``value`` as a Role; ``ValueError`` naming the allowed roles otherwise."""
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        raise ValueError(
            f"{value!r} is not a role: use one of {', '.join(r.value for r in ROLE_ORDER)}"
        ) from None


def allows(role: Role | str, permission: Permission | str) -> bool:
    """Whether ``role`` holds ``permission`` (SELF: any role; SETUP: none, it is for no-accounts)."""
    role = Role(role)
    permission = Permission(permission)
    if permission is Permission.SELF:
        return True
    if permission is Permission.SETUP:
        return False
    return ROLE_ORDER.index(role) >= ROLE_ORDER.index(LEAST_ROLE[permission])


def effective_role(role: Role | str, cap: Role | str | None) -> Role:
    """The lower of an account's ``role`` and a ``cap`` (an API token's role); the role itself
    when there is no cap. A token never acts above its owner, whatever role it was given."""
    role = Role(role)
    if cap is None:
        return role
    return min(role, Role(cap), key=ROLE_ORDER.index)


def at_most(role: Role | str, ceiling: Role | str) -> bool:
    """Whether ``role`` is no higher than ``ceiling`` (a token's role against its owner's)."""
    return ROLE_ORDER.index(Role(role)) <= ROLE_ORDER.index(Role(ceiling))
