"""Editable register grids (``st.data_editor``): what a person changed, as service edits, and a
draft that outlives somebody else's save.

``GridDraft`` keeps the table a person opened while they edit it: the editor's widget key changes
only when the draft starts afresh (first shown, after the person's own save, after *Discard*, or
when the rows changed and nothing was typed), never because someone else saved a row. Each edit
carries the version of its row as the person opened it, so the service refuses a row somebody else
saved meanwhile (all or nothing: ``RowErrors`` with the row in ``stale``). The draft then keeps
every edit: the table is read afresh with the person's edits laid over it (their other cells
change), and a bordered panel where the Save button was says, row by row, who changed what and when,
with **Apply my draft on top of version N** and **Discard my draft and load version N** (which
drops the edits of the rows they changed and keeps the others). Cells are checked as they are typed
where the column allows it (ranges, choices); the service checks every row again on save.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from mltrl.domain.errors import Conflict, MltrlError, RowErrors
from mltrl.services import audit_trail
from mltrl.services.risks import RowEdit
from mltrl.ui import access, context, drafts, feedback

T = TypeVar("T")
STATE_PREFIX = "_grid_draft:"


@dataclass(frozen=True)
class GridRow:
    """One row of a grid: ``key`` names it to the service (a requirement's number, a risk's id, a
    criterion's key), ``version`` is its version as read (0: nothing stored yet), ``ident`` stays
    the same whatever changes in the row (its id; a criterion's key) and ``row_id`` names it in the
    audit trail (None: no stored row yet)."""

    key: str
    version: int
    ident: Hashable
    row_id: int | None = None


def _plain(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value


def _put(table: pd.DataFrame, n: int, column: str, value: object) -> None:
    """Lay a kept edit into the table (an emptied cell as a missing value)."""
    if value == "" and table[column].dtype != object:
        value = None
    try:
        table.at[n, column] = value
    except (TypeError, ValueError):
        table[column] = table[column].astype(object)
        table.at[n, column] = value


def _what_happened(entry: dict[str, Any]) -> str:
    label = access.literal(entry["label"])
    if entry["version"] is None:
        return f"{label} was deleted"
    if not entry["opened"]:
        return f"{label} was saved for the first time (version {entry['version']})"
    return f"{label} was changed (version {entry['opened']} → {entry['version']})"


class GridDraft:
    """The draft of one grid (see the module docstring). ``name`` is unique on the page and names
    the register (``req_grid:R02.1``); ``table`` and ``rows`` (one ``GridRow`` per table row, in
    order) are the grid as this run read it; ``columns`` are the ones whose edits count; ``entity``
    names the rows in the audit trail, ``fields`` label their fields and ``label`` names a row
    from its key ("requirement 1.2")."""

    def __init__(self, name: str, *, table: pd.DataFrame, rows: Sequence[GridRow], columns: Sequence[str],
                 entity: str, fields: Sequence[drafts.Field], label: Callable[[str], str]) -> None:
        self.name, self.entity, self.fields, self.label = name, entity, list(fields), label
        self.columns = list(columns)
        self.fresh_table, self.fresh_rows = table.reset_index(drop=True), list(rows)
        self._begin()

    # --- state --------------------------------------------------------------------------------

    @property
    def _state(self) -> dict[str, Any]:
        return st.session_state[STATE_PREFIX + self.name]

    @property
    def key(self) -> str:
        """The editor's widget key (the same until the draft starts afresh)."""
        return f"{self.name}:{self._state['round']}"

    @property
    def table(self) -> pd.DataFrame:
        """The table to show: as the person opened it, with any edits kept from a refused save."""
        return self._state["table"]

    @property
    def rows(self) -> list[GridRow]:
        return self._state["rows"]

    @property
    def conflict(self) -> dict[str, Any] | None:
        return self._state.get("conflict")

    def _start(self, *, baked: dict | None = None, deleted: Sequence[Hashable] = (),
               conflict: dict | None = None) -> None:
        """Start the draft afresh on this run's rows, with ``baked`` edits (ident -> column ->
        value) laid over the table and the rows ``deleted`` taken out (waiting to be deleted)."""
        old = st.session_state.get(STATE_PREFIX + self.name)
        table, rows = self.fresh_table.copy(), list(self.fresh_rows)
        position = {row.ident: n for n, row in enumerate(rows)}
        baked = {ident: changes for ident, changes in (baked or {}).items() if ident in position}
        for ident, changes in baked.items():
            for column, value in changes.items():
                if column in table.columns:
                    _put(table, position[ident], column, value)
        gone = [rows[position[i]] for i in deleted if i in position]
        keep = [n for n, row in enumerate(rows) if row not in gone]
        st.session_state[STATE_PREFIX + self.name] = {
            "round": (old["round"] + 1) if old else 0, "table": table.iloc[keep].reset_index(drop=True),
            "rows": [rows[n] for n in keep], "baked": baked, "deleted": gone, "conflict": conflict}

    def _widget_pending(self, state: dict[str, Any]) -> bool:
        widget = st.session_state.get(f"{self.name}:{state['round']}") or {}
        return bool(widget.get("edited_rows") or widget.get("deleted_rows"))

    def _begin(self) -> None:
        state = st.session_state.get(STATE_PREFIX + self.name)
        if state is None or state.get("reload"):
            self._start()
        elif state["conflict"] or state["baked"] or state["deleted"] or self._widget_pending(state):
            return  # a draft: keep the table the person is editing
        elif state["rows"] != self.fresh_rows or not state["table"].equals(self.fresh_table):
            self._start()  # rows changed and nothing typed here: show them as they are now

    def reload(self) -> None:
        """Start afresh on the next run (after the person's own save)."""
        st.session_state[STATE_PREFIX + self.name]["reload"] = True

    # --- the edits ----------------------------------------------------------------------------

    def _mine(self) -> tuple[dict[Hashable, dict[str, Any]], list[GridRow]]:
        """The person's edits (ident -> column -> value) and deletions, kept ones included."""
        state = self._state
        edits = {ident: dict(changes) for ident, changes in state["baked"].items()}
        widget = st.session_state.get(self.key) or {}
        for index, changes in sorted((widget.get("edited_rows") or {}).items(), key=lambda kv: int(kv[0])):
            row = state["rows"][int(index)]
            kept = {c: _plain(v) for c, v in changes.items() if c in self.columns}
            if kept:
                edits.setdefault(row.ident, {}).update(kept)
        deleted = list(state["deleted"]) + [state["rows"][int(i)] for i in widget.get("deleted_rows") or []]
        return edits, deleted

    def pending(self) -> tuple[list[RowEdit], list[RowEdit]]:
        """The edits and deletions waiting, as the service's ``RowEdit``s (with the versions the
        person's draft stands on)."""
        edits, deleted = self._mine()
        by_ident = {row.ident: row for row in self.rows}
        changed = [RowEdit(key=by_ident[i].key, expected_version=by_ident[i].version, changes=c,
                           row_id=by_ident[i].row_id) for i, c in edits.items() if i in by_ident and c]
        gone = [RowEdit(key=row.key, expected_version=row.version, changes={}, row_id=row.row_id) for row in deleted]
        return changed, gone

    def edited_values(self, edit: RowEdit) -> dict[str, Any]:
        """The whole row ``edit`` changes, as the draft shows it: the table's values with the edit's."""
        n = next(i for i, row in enumerate(self.rows) if row.key == edit.key)
        return {c: _plain(self.table.iloc[n][c]) for c in self.columns} | edit.changes

    # --- saving -------------------------------------------------------------------------------

    def save(self, call: Callable[[list[RowEdit], list[RowEdit]], T], *, success: str | Callable[[T], str],
             on_refusal: Callable[[MltrlError], None] | None = None, place: str | None = None) -> None:
        """Run ``call(edits, deletions)``; a refusal naming rows somebody else saved keeps the
        draft and opens the panel (next run); any other refusal is shown as usual, the draft kept."""
        edits, deletions = self.pending()

        def saved(result: T) -> str:
            self.reload()
            return success(result) if callable(success) else success

        def refused(exc: MltrlError) -> None:
            if isinstance(exc, RowErrors) and exc.stale:
                self._on_conflict(exc)
            elif on_refusal is not None:
                on_refusal(exc)

        feedback.run_use_case(lambda: call(edits, deletions), success=saved, on_refusal=refused, place=place)

    def _on_conflict(self, exc: RowErrors) -> None:
        edits, deleted = self._mine()
        known = {row.key: row for row in [*self.rows, *self._state["deleted"]]}
        fresh = {row.ident: row for row in self.fresh_rows}
        stale = []
        with context.session() as s:
            for item in exc.stale:
                opened = known.get(item.item)
                if opened is None:
                    continue
                row_id = item.row_id if item.row_id is not None else opened.row_id
                now = fresh.get(opened.ident)
                changes = (audit_trail.changes_since(s, entity=self.entity, entity_id=row_id, version=opened.version)
                           if row_id is not None else [])
                stale.append({"ident": opened.ident, "label": self.label(opened.key), "opened": opened.version,
                              "version": now.version if now is not None else None, "changes": changes,
                              "mine": edits.get(opened.ident, {}),
                              "deleting": any(row.ident == opened.ident for row in deleted)})
        problems = [(row, field, reason) for row, field, reason in exc.errors
                    if field != "version" and not reason.startswith("no longer exists")]
        self._start(baked=edits, deleted=[row.ident for row in deleted],
                    conflict={"stale": stale, "problems": problems})
        st.rerun()

    def discard(self) -> None:
        """Drop the edits of the rows somebody else changed and load those rows as they are now;
        the person's other edits stay."""
        pending = self.conflict or {"stale": []}
        dropped = {entry["ident"] for entry in pending["stale"]}
        edits, deleted = self._mine()
        self._start(baked={i: c for i, c in edits.items() if i not in dropped},
                    deleted=[row.ident for row in deleted if row.ident not in dropped])
        st.rerun()

    def waiting(self) -> int:
        edits, deletions = self.pending()
        return len(edits) + len(deletions)

    def panel(self, apply: Callable[[], None]) -> None:
        """After a refused save: who changed which rows and how, and the two ways on (``apply``
        saves the draft, e.g. the page's save)."""
        pending = self.conflict
        if not pending:
            return
        stale = pending["stale"]
        present = [e for e in stale if e["version"] is not None]
        with st.container(border=True, key=f"{self.name}:conflict"):
            st.error("Not saved, to protect someone else's change: since you opened this grid, "
                     + "; ".join(_what_happened(e) for e in stale) + ". Nothing was saved.", icon=":material/block:")
            for entry in stale:
                lines = drafts.change_lines(entry["changes"], self.fields, entry["mine"])
                head = f"**{access.literal(entry['label'][:1].upper() + entry['label'][1:])}**"
                if entry["version"] is None:
                    mine = "; ".join(f"{drafts.field_label(c, {f.name: f.label for f in self.fields})} "
                                     f"{drafts.quoted(v)}" for c, v in entry["mine"].items())
                    lines.append(f"- Your edits of it cannot be saved{': ' + mine if mine else ''}.")
                elif entry["deleting"]:
                    lines.append("- You are deleting it.")
                st.markdown("\n".join([head + ":", *lines]) if lines else head
                            + ": somebody else saved it; the audit trail names no change.")
            if pending["problems"]:
                st.markdown("**Also to fix before it can be saved:**\n"
                            + "\n".join(f"- {access.literal(str(r))}, {access.literal(f)}: {access.literal(p)}"
                                        for r, f, p in pending["problems"]))
            st.caption("Your edits are kept in the grid, over their versions (their other changes show). Apply "
                       "saves them all; Discard drops your edits of the rows they changed and keeps the others.")
            if len(present) == 1:
                apply_label = f"Apply my draft on top of version {present[0]['version']}"
                discard_label = f"Discard my draft and load version {present[0]['version']}"
            else:
                apply_label = "Apply my draft on top of their versions"
                discard_label = "Discard my drafts of these rows and load theirs"
            left, right = st.columns(2)
            if left.button(apply_label, key=f"{self.name}:apply", type="primary", icon=":material/merge:",
                           width="stretch"):
                apply()
            if right.button(discard_label, key=f"{self.name}:discard", icon=":material/undo:", width="stretch"):
                self.discard()



def item_changes(before: Sequence[Sequence[str]], after: Sequence[Sequence[str]]) -> list[str]:
    """What changed between two lists of template items ([key, text, ...]), as markdown lines:
    items added, removed and changed (by key), in the newer list's order."""
    old = {str(item[0]): [str(x) for x in item] for item in before}
    new = {str(item[0]): [str(x) for x in item] for item in after}
    lines = []
    for key, item in new.items():
        if key not in old:
            lines.append(f"- added {drafts.quoted(key)}: {drafts.quoted(item[1] if len(item) > 1 else '')}")
        elif old[key] != item:
            lines.append(f"- changed {drafts.quoted(key)}: "
                         + "; ".join(" → ".join(drafts.excerpts(a, b))
                                     for a, b in zip(old[key][1:], item[1:]) if a != b))
    lines += [f"- removed {drafts.quoted(key)}" for key in old if key not in new]
    return lines


class DocumentDraft:
    """Tables edited in ``st.data_editor``s and saved together as a new version of a document (the
    review templates): the editors show the version the person opened until they save or discard,
    so another admin's new version never wipes their edits; a save names that version, and a newer
    one refuses it (``Conflict``). Then the edits stay, and ``panel`` says who saved which version
    and what changed, with Apply my draft on top of version N / Discard my draft and load version N.
    ``tables`` (part -> DataFrame) and ``version`` are the document as this run read it."""

    def __init__(self, name: str, *, tables: dict[str, pd.DataFrame], version: int) -> None:
        self.name, self.version = name, version
        self.fresh = {part: table.reset_index(drop=True) for part, table in tables.items()}
        self._begin()

    @property
    def _state(self) -> dict[str, Any]:
        return st.session_state[STATE_PREFIX + self.name]

    def key(self, part: str) -> str:
        return f"{self.name}:{part}:{self._state['round']}"

    def table(self, part: str) -> pd.DataFrame:
        return self._state["tables"][part]

    @property
    def base(self) -> int:
        """The version the draft stands on (the one a save names)."""
        return self._state["base"]

    @property
    def conflict(self) -> dict[str, Any] | None:
        return self._state.get("conflict")

    def _start(self) -> None:
        old = st.session_state.get(STATE_PREFIX + self.name)
        st.session_state[STATE_PREFIX + self.name] = {
            "base": self.version, "tables": dict(self.fresh), "round": old["round"] + 1 if old else 0,
            "conflict": None}

    def _typed(self) -> bool:
        for part in self.fresh:
            widget = st.session_state.get(self.key(part)) or {}
            if widget.get("edited_rows") or widget.get("added_rows") or widget.get("deleted_rows"):
                return True
        return False

    def _begin(self) -> None:
        state = st.session_state.get(STATE_PREFIX + self.name)
        if state is None or state.get("reload") or set(state["tables"]) != set(self.fresh):
            self._start()
        elif state["conflict"] or self._typed():
            return  # a draft: keep the tables as the person opened them
        elif state["base"] != self.version or any(not state["tables"][p].equals(t) for p, t in self.fresh.items()):
            self._start()

    def reload(self) -> None:
        st.session_state[STATE_PREFIX + self.name]["reload"] = True

    def save(self, call: Callable[[int], T], *, success: str | Callable[[T], str], version: int | None = None,
             on_refusal: Callable[[MltrlError], None] | None = None, reset: dict[str, Any] | None = None,
             place: str | None = None) -> None:
        """Run ``call(version)`` (default: the version the draft stands on); a newer version stored
        keeps the draft and opens the panel (next run). ``reset`` as ``feedback.run_use_case``'s."""
        opened = self.base if version is None else version

        def saved(result: T) -> str:
            self.reload()
            return success(result) if callable(success) else success

        def refused(exc: MltrlError) -> None:
            if isinstance(exc, Conflict) and exc.current_version not in (None, opened):
                self._state["conflict"] = {"opened": self.base, "version": exc.current_version}
                st.rerun()
            elif on_refusal is not None:
                on_refusal(exc)

        feedback.run_use_case(lambda: call(opened), success=saved, on_refusal=refused, reset=reset, place=place)

    def panel(self, what: str, describe: Callable[[int, int], list[str]]) -> bool:
        """After a refused save: ``describe(opened, now)`` (markdown lines: who saved which version,
        what changed) and the two ways on; True when the person chose to apply the draft."""
        pending = self.conflict
        if not pending:
            return False
        opened, now = pending["opened"], pending["version"]
        with st.container(border=True, key=f"{self.name}:conflict"):
            st.error(f"Not saved, to protect someone else's change: the {access.literal(what)} changed since you "
                     f"opened them (version {opened} → {now}). Nothing was overwritten.", icon=":material/block:")
            st.markdown("\n".join(describe(opened, now)))
            st.caption(f"Your draft is kept in the tables above. Applying it saves version {now + 1} with your "
                       "tables as they stand: copy in what you want to keep of theirs first.")
            left, right = st.columns(2)
            apply = left.button(f"Apply my draft on top of version {now}", key=f"{self.name}:apply", type="primary",
                                icon=":material/merge:", width="stretch")
            if right.button(f"Discard my draft and load version {now}", key=f"{self.name}:discard",
                            icon=":material/undo:", width="stretch"):
                self.reload()
                st.rerun()
        return apply
