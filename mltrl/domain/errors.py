"""The domain's refusals.

Raised where a problem is spotted, with the bad value in the message, and reported in two places
only: ``mltrl.ui.feedback`` (an ``st.error`` on a page) and ``mltrl.cli`` (stderr, then exit 1).
This module is pure: it imports nothing of streamlit or the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class MltrlError(Exception):
    """Base of every refusal the product explains to its user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(MltrlError):
    """The thing named does not exist (an unknown project code, say)."""


class InvalidInput(MltrlError):
    """A field's value is outside what is allowed; ``field`` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class RuleViolation(MltrlError):
    """The level engine refuses a move; ``rule`` is the rule's short name."""

    def __init__(self, rule: str, message: str):
        super().__init__(f"{message} [rule: {rule}]")
        self.rule = rule


class Conflict(MltrlError):
    """An edit was made from a stale copy: somebody else saved in between. ``current_version``,
    when known, is the version stored now (the HTTP API returns it with its 409)."""

    def __init__(self, message: str, *, current_version: int | None = None):
        super().__init__(message)
        self.current_version = current_version


class PermissionDenied(MltrlError):
    """The acting user's role does not allow this."""


class Busy(MltrlError):
    """The database stayed locked by other writers; nothing was written, try again."""


@dataclass(frozen=True)
class StaleRow:
    """A row of a batch of edits that somebody else saved (or deleted) after the version the person
    saw: ``item`` as the batch named it (a requirement's number, a risk's id, a criterion's key),
    the row's id (None when unknown) and the version stored now (None: the row is gone)."""

    item: str
    row_id: int | None
    version: int | None


class RowErrors(InvalidInput):
    """A batch (an imported file, a grid of edits) refused as a whole; ``errors`` lists (row, field,
    reason) for every bad row. In files the row is the line number, the header being row 1; in a
    grid it names the item (``"requirement 1.2"``). ``stale`` lists the grid rows refused for their
    version (each also in ``errors``, field "version"), so a page can say who changed them and keep
    the person's edits."""

    def __init__(self, what: str, errors: list[tuple[int | str, str, str]], *, verb: str = "imported",
                 stale: Sequence[StaleRow] = ()):
        shown = "; ".join(f"{'row ' if isinstance(row, int) else ''}{row}, {field}: {reason}"
                          for row, field, reason in errors[:10])
        more = f"; and {len(errors) - 10} more" if len(errors) > 10 else ""
        super().__init__(what, f"{len(errors)} problem(s), nothing was {verb}: {shown}{more}")
        self.errors = errors
        self.stale = tuple(stale)


class Unauthenticated(MltrlError):
    """No credentials, or ones that are unknown, expired or revoked (a session cookie, an API token)."""


class Throttled(MltrlError):
    """Too many failed sign-ins for an account or from an address; ``wait`` says for how long."""

    def __init__(self, message: str, wait_seconds: int):
        super().__init__(message)
        self.wait_seconds = wait_seconds
