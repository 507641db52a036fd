"""Editable register grids (``st.data_editor``): what a person changed, as service edits.

A grid's widget key carries a fingerprint of the rows it shows (ids and versions), so after a save
(or someone else's) the grid starts afresh on the new rows instead of replaying old edits onto
rows that moved. Cells are checked as they are typed where the column allows it (ranges, choices);
the service checks every row again on save and refuses the grid as a whole, naming each bad row.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import streamlit as st

from mltrl.services.risks import RowEdit


def grid_key(prefix: str, rows: Sequence[tuple[object, int]]) -> str:
    """A widget key for a grid of ``rows`` ((id, version) pairs)."""
    digest = hashlib.sha1(repr(list(rows)).encode()).hexdigest()[:12]
    return f"{prefix}:{digest}"


def _plain(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value


def pending(key: str, rows: Sequence[tuple[str, int]], columns: Sequence[str]) -> tuple[list[RowEdit], list[RowEdit]]:
    """The edits and deletions waiting in grid ``key``; ``rows`` gives each grid row's item key
    and version, in the grid's order; only ``columns`` count as changes."""
    state = st.session_state.get(key) or {}
    edits = []
    for index, changes in sorted((state.get("edited_rows") or {}).items(), key=lambda kv: int(kv[0])):
        item, version = rows[int(index)]
        kept = {c: _plain(v) for c, v in changes.items() if c in columns}
        if kept:
            edits.append(RowEdit(key=str(item), expected_version=version, changes=kept))
    deletions = [RowEdit(key=str(rows[int(i)][0]), expected_version=rows[int(i)][1], changes={})
                 for i in state.get("deleted_rows") or []]
    return edits, deletions
