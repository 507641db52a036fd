"""Edit forms over versioned records that never lose what a person typed.

A versioned record (a technology's details, a key result, a review's panel, ...) is saved with the
version the person opened; a newer one in the database means somebody else saved in between, and
the service refuses the save as a ``Conflict``. The form then must not throw the person's work away
nor quietly overwrite the other person's. ``Draft`` does, for one form:

* **Stable widget keys** (``draft.key(field)``): they never carry the record's version, so a widget
  is not re-created with the database's values when the version moves on. The widgets are filled
  through session state (never with ``value=``): when the form is first shown, after the person's
  own save, after *Discard*, and when the record changed while the person had typed nothing.
* **On a conflict** the draft is kept: the fields the person changed keep their typed values, the
  fields they left alone take the other person's values (a field-by-field merge, so applying the
  draft never undoes a change it did not touch), and a bordered panel where the Save button was
  (just above it, so it is where the person is looking) says who changed what and when (``services.audit_trail.changes_since``: each field before -> after,
  with the person's own value where it differs), with **Apply my draft on top of version N** (saves
  the draft with ``expected_version=N``) and **Discard my draft and load version N**.
* Saves run through ``feedback.run_use_case``, so every other refusal reads as anywhere else, and
  the person's typing stays in the widgets.

A page draws the form with the draft's keys and hands the use case to ``submit``, which draws the
buttons and the panel, inside the form when there is one (the panel's buttons are then the form's
submit buttons, so a draft edited after reading the panel is what gets applied). Registers edited in
a grid use ``mltrl.ui.grid.GridDraft``, which keeps drafts the same way row by row; documents saved
as new versions (the review templates) ``mltrl.ui.grid.DocumentDraft``. A form over a record the
save cannot check (no version: the organisation's settings) passes a token of the values it showed
as ``version`` and saves only ``touched()`` fields; ``show_changes`` serves forms whose widgets keep
their input by themselves (the level moves).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import streamlit as st

from mltrl.domain.errors import Conflict, MltrlError
from mltrl.services import audit_trail
from mltrl.ui import access, context, feedback

T = TypeVar("T")
STATE_PREFIX = "_draft:"
WORDS_MAX = 120
# Audit actions that say more than "saved version N" (see the services' ``audit`` calls).
ACTION_WORDS = {"level": "moved its level", "accept": "accepted it", "review": "marked it reviewed",
                "panel": "changed the panel"}
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(\+00:00|Z)?$")


@dataclass(frozen=True)
class Field:
    """One field of a versioned form: its name (the widget key's suffix, and the audit snapshot's
    key unless ``audit`` says otherwise), its label as the form shows it, and how an audit value
    reads in the form's terms (``words``: a parent's id as its code, say)."""

    name: str
    label: str
    audit: str | None = None
    words: Callable[[Any], str] | None = None

    @property
    def snapshot_key(self) -> str:
        return self.audit or self.name


def as_words(value: Any) -> str:
    """A stored or typed value as a person reads it: lists joined, instants in UTC to the minute,
    empty as "(empty)", long text cut, every character shown as typed (no markdown)."""
    if value is None or value == "" or value == []:
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(as_words(v) for v in value)
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    text = str(value)
    if _INSTANT.match(text):
        return f"{text[:10]} {text[11:16]} UTC"
    text = " ".join(text.split())
    if len(text) > WORDS_MAX:
        text = text[:WORDS_MAX - 1] + "…"
    return access.literal(text)


def quoted(value: Any) -> str:
    words = as_words(value)
    return words if words == "(empty)" else f"“{words}”"


CONTEXT = 30  # characters kept on each side of a change inside a long text


def excerpts(before: Any, after: Any) -> tuple[str, str]:
    """Two values in words, quoted; two long texts cut around where they differ (a few words of
    context on each side), so the change itself is what shows."""
    if not isinstance(before, str) or not isinstance(after, str):
        return quoted(before), quoted(after)
    a, b = " ".join(before.split()), " ".join(after.split())
    if len(a) <= WORDS_MAX and len(b) <= WORDS_MAX:
        return quoted(a), quoted(b)
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[len(a) - 1 - end] == b[len(b) - 1 - end]:
        end += 1
    begin = max(0, start - CONTEXT)
    if begin:  # start at a word
        begin = a.find(" ", begin, start) + 1 or begin

    def cut(text: str) -> str:
        stop = len(text) - max(0, end - CONTEXT)
        if stop < len(text):  # end at a word
            space = text.rfind(" ", len(text) - end, stop)
            stop = space if space > 0 else stop
        middle = text[begin:stop]
        if len(middle) > WORDS_MAX:
            middle = middle[:WORDS_MAX - 1]
            stop = len(text) + 1  # cut: say so
        words = access.literal(middle) if middle else ""
        return "“" + ("…" if begin else "") + words + ("…" if stop < len(text) or stop > len(text) else "") + "”"

    return cut(a), cut(b)


def who(change: audit_trail.RecordChange) -> str:
    via = f" ({access.literal(change.via)})" if change.via else ""
    return f"**{access.literal(change.actor)}**{via}"


def when(change: audit_trail.RecordChange) -> str:
    return f"{change.at:%Y-%m-%d} at {change.at:%H:%M} UTC"


def field_label(key: str, labels: Mapping[str, str]) -> str:
    return labels.get(key) or key.replace("_", " ").capitalize()


def change_lines(changes: Sequence[audit_trail.RecordChange], fields: Sequence[Field],
                 mine: Mapping[str, Any] | None = None, labels: Mapping[str, str] | None = None) -> list[str]:
    """Markdown lines, one per change and one per field it changed (before -> after in words);
    ``mine`` (field name -> the person's value) adds "your draft: …" where the person's value
    differs from what the field's last change left; ``labels`` names fields the form does not show."""
    by_key = {f.snapshot_key: f for f in fields}
    labels = dict(labels or {}) | {f.snapshot_key: f.label for f in fields}
    last_touch = {}
    for n, change in enumerate(changes):
        for fc in change.fields:
            last_touch[fc.field] = n
    lines = []
    for n, change in enumerate(changes):
        if change.version is None:
            lines.append(f"- {who(change)} deleted it on {when(change)}.")
            continue
        verb = ACTION_WORDS.get(change.action)
        what = ("created it" if change.action == "create" else f"{verb} (version {change.version})" if verb
                else f"saved version {change.version}")
        lines.append(f"- {who(change)} {what} on {when(change)}" + (":" if change.fields else "."))
        for fc in change.fields:
            spec = by_key.get(fc.field)
            show = spec.words if spec is not None and spec.words is not None else (lambda v: v)
            was, now = excerpts(show(fc.before), show(fc.after))
            line = f"    - {field_label(fc.field, labels)}: {was} → {now}"
            if mine is not None and spec is not None and spec.name in mine and last_touch.get(fc.field) == n:
                if as_words(mine[spec.name]) != as_words(show(fc.after)):
                    line += f" · your draft: {quoted(mine[spec.name])}"
            lines.append(line)
    return lines


class Draft:
    """The draft of one versioned form (see the module docstring).

    ``name`` is unique on the page and names the record (``details:R02.1``); ``entity`` and
    ``entity_id`` name it in the audit trail; ``version`` and ``values`` (field name -> the value
    its widget shows) are the record as this run read it; ``what`` names it in sentences; ``form``
    says whether it is drawn in an ``st.form``; ``labels`` names in the panel the record's fields
    the form does not show (a risk's p(failure) beside its acceptance, say)."""

    def __init__(self, name: str, *, entity: str, entity_id: object, version: int, values: Mapping[str, Any],
                 fields: Sequence[Field], what: str, form: bool = True, labels: Mapping[str, str] | None = None) -> None:
        self.name, self.entity, self.entity_id, self.what, self.form = name, entity, entity_id, what, form
        self.labels = dict(labels or {})  # how the panel names fields the form does not show
        self.version, self.values, self.fields = version, dict(values), list(fields)
        self._begin()

    # --- the draft's state ------------------------------------------------------------------

    @property
    def _state(self) -> dict[str, Any]:
        return st.session_state[STATE_PREFIX + self.name]

    def key(self, field: str) -> str:
        """The widget key of ``field``: the same whatever the record's version."""
        return f"{self.name}:{field}"

    def typed(self) -> dict[str, Any]:
        """What the widgets hold now (field name -> value)."""
        return {f.name: st.session_state.get(self.key(f.name)) for f in self.fields}

    def touched(self) -> list[str]:
        """The fields the person changed from the version the draft stands on."""
        base = self._state["values"]
        return [name for name, value in self.typed().items() if value != base.get(name)]

    @property
    def base(self) -> int:
        """The version the draft stands on: the one to save with."""
        return self._state["base"]

    @property
    def conflict(self) -> dict[str, Any] | None:
        return self._state.get("conflict")

    def _fill(self, values: Mapping[str, Any]) -> None:
        for f in self.fields:
            st.session_state[self.key(f.name)] = values.get(f.name)

    def _rebase(self) -> None:
        self._fill(self.values)
        st.session_state[STATE_PREFIX + self.name] = {"base": self.version, "values": dict(self.values),
                                                      "conflict": None}

    def _begin(self) -> None:
        state = st.session_state.get(STATE_PREFIX + self.name)
        missing = any(self.key(f.name) not in st.session_state for f in self.fields)
        if state is None or state.get("reload"):
            self._rebase()  # first shown, after the person's own save, or after Discard
        elif state.get("fill") is not None:
            self._fill(state.pop("fill"))  # the merged draft, after a conflict
        elif state.get("conflict"):
            if missing:  # the widgets were not drawn for a while (another tab): their draft is kept here
                self._fill(state["conflict"]["draft"])
        elif missing:
            self._rebase()  # the widgets were not drawn for a while: start from the record
        elif self.version != state["base"] and not self.touched():
            # Someone else saved and nothing was typed here: stand on their version, and show it
            # (widgets are only refilled when the form's fields changed, so a level move recorded
            # meanwhile leaves the form alone).
            if self.values != state["values"]:
                self._fill(self.values)
            state.update(base=self.version, values=dict(self.values))

    def reload(self) -> None:
        """Load the record afresh on the next run (after a save, or to discard the draft)."""
        st.session_state[STATE_PREFIX + self.name]["reload"] = True

    # --- saving -----------------------------------------------------------------------------

    def submit(self, label: str, call: Callable[[int], T], *, success: str | Callable[[T], str],
               icon: str | None = ":material/save:", on_refusal: Callable[[MltrlError], None] | None = None,
               disabled: bool = False, place: bool = True) -> None:
        """Draw the Save button (``label``) and, after a conflict, the panel; run ``call(version)``
        (the use case, saving the draft with ``expected_version=version``) when one is pressed.
        What a save did is said beside the button (``place``), or at the top of the page for a form
        that is gone once it has done its work (a review's decision)."""
        pending = self.conflict
        button = st.form_submit_button if self.form else st.button
        apply = discard = False
        if pending:  # drawn where the Save button was, so it is where the person is looking
            apply, discard = self._panel(pending, button)
        save = button(label, icon=icon, key=f"{self.name}:save", type="primary" if not pending else "secondary",
                      disabled=disabled or bool(pending),
                      help="Apply your draft on top of their version, or discard it, above" if pending else None)
        if discard:
            self.reload()
            st.rerun()
        if save or apply:
            self._save(call, success, on_refusal, place)
        if place:
            feedback.flash_here(self.name)  # what the last save did, beside its button

    def _save(self, call: Callable[[int], T], success: str | Callable[[T], str],
              on_refusal: Callable[[MltrlError], None] | None, place: bool = True) -> None:
        opened = self.base

        def saved(result: T) -> str:
            self.reload()
            return success(result) if callable(success) else success

        def refused(exc: MltrlError) -> None:
            if isinstance(exc, Conflict) and self._moved_on(opened, exc):
                self._on_conflict(opened, exc)
            elif on_refusal is not None:
                on_refusal(exc)

        feedback.run_use_case(lambda: call(opened), success=saved, on_refusal=refused,
                              place=self.name if place else None)

    def _now(self, opened: int, exc: Conflict) -> int:
        """The version to apply the draft on: this run's read stands for it (its values are the
        ones merged); when it is still the opened one, the version the refusal names."""
        return self.version if self.version != opened else (exc.current_version or self.version)

    def _moved_on(self, opened: int, exc: Conflict) -> bool:
        """Whether the refusal is this record's: a conflict elsewhere (another record of the same
        use case, say) leaves nothing to apply the draft on, and is shown as it is."""
        return self._now(opened, exc) != opened

    def _on_conflict(self, opened: int, exc: Conflict) -> None:
        """Keep the draft, merged field by field over the version now stored, and say who changed
        what; the next run shows it (the widgets of this run are drawn already)."""
        draft = self.typed()
        base_values = self._state["values"]
        mine = {name for name, value in draft.items() if value != base_values.get(name)}
        with context.session() as s:
            changes = audit_trail.changes_since(s, entity=self.entity, entity_id=self.entity_id, version=opened)
        # When the stored version is newer still than this run's read (saved in the last instant),
        # applying meets it and says so again.
        now = self._now(opened, exc)
        merged = {name: draft[name] if name in mine else self.values.get(name) for name in draft}
        st.session_state[STATE_PREFIX + self.name] = {
            "base": now, "values": dict(self.values), "fill": merged,
            "conflict": {"opened": opened, "version": now, "changes": changes, "mine": sorted(mine),
                         "draft": merged, "typed": draft},
        }
        st.rerun()

    def _panel(self, pending: dict[str, Any], button: Callable[..., bool]) -> tuple[bool, bool]:
        """Who changed what since the person opened the record, and the two ways on."""
        version, changes = pending["version"], pending["changes"]
        names = sorted({access.literal(c.actor) for c in changes}) or ["Someone else"]
        labels = {f.name: f.label for f in self.fields}
        with st.container(border=True, key=f"{self.name}:conflict"):
            st.error(f"Not saved, to protect someone else's change: {access.literal(self.what)} changed since you "
                     f"opened it (version {pending['opened']} → {version}). Nothing was overwritten.",
                     icon=":material/block:")
            st.markdown(f"**What {' and '.join(names)} changed:**" if changes
                        else f"Version {version} was saved by someone else; the audit trail names no change.")
            if changes:
                mine_values = {name: pending["typed"][name] for name in pending["mine"]}
                st.markdown("\n".join(change_lines(changes, self.fields, mine_values, self.labels)))
            mine = [labels[name] for name in pending["mine"] if name in labels]
            theirs = {fc.field for c in changes for fc in c.fields}
            both = [f.label for f in self.fields if f.name in pending["mine"] and f.snapshot_key in theirs]
            st.caption(("Your draft is kept in the form: your changes to " + ", ".join(mine) + " over their version"
                        if mine else "You had changed nothing: the form shows their version")
                       + f". Apply it to save it as version {version + 1}, or discard it to start again from theirs.")
            if both:
                st.caption(f"You both changed {', '.join(both)}: Apply saves your value there. To keep some of "
                           "theirs, change the field above first.")
            left, right = st.columns(2)
            with left:
                apply = button(f"Apply my draft on top of version {version}", key=f"{self.name}:apply",
                               type="primary", icon=":material/merge:", width="stretch")
            with right:
                discard = button(f"Discard my draft and load version {version}", key=f"{self.name}:discard",
                                 icon=":material/undo:", width="stretch")
        return apply, discard


def show_changes(exc: MltrlError, *, entity: str, entity_id: object, since: int, again: str,
                 labels: Mapping[str, str] | None = None) -> None:
    """After a refused save of a form that needs no ``Draft`` (its widgets keep their keys, so what
    was typed stays, and its next save builds on the version the page now shows, as the level
    moves do): say who changed the record since version ``since`` and what, and ``again`` (how to
    go on). Use it as ``feedback.run_use_case``'s ``on_refusal``; other refusals draw nothing more."""
    if not isinstance(exc, Conflict):
        return
    with context.session() as s:
        changes = audit_trail.changes_since(s, entity=entity, entity_id=entity_id, version=since)
    if not changes:
        return
    names = sorted({access.literal(c.actor) for c in changes})
    with st.container(border=True):
        st.markdown(f"**What {' and '.join(names)} changed:**\n" + "\n".join(change_lines(changes, (), None, labels)))
        st.caption(f"What you entered is kept. {again}")

