"""Admin: users and roles, the audit trail, backups. Admins only (everyone in single-user mode)."""

import json

import pandas as pd
import streamlit as st

from mltrl.domain.errors import MltrlError
from mltrl.domain import days, levels
from mltrl.domain import policy as policy_rules
from mltrl import db
from mltrl.domain.permissions import ROLE_HELP, ROLE_ORDER
from mltrl.services import audit_trail, backup, sessions, undo, users
from mltrl.services import policy as org_policy
from mltrl.services import reviews as review_service
from mltrl.ui import access, context, drafts, feedback, grid, tables

st.title("Admin")
feedback.show_flash()

# Keyed, so the open tab stays open when an action's message appears above it.
users_tab, settings_tab, templates_tab, audit_tab, backup_tab = st.tabs(
    ["Users", "Settings", "Review templates", "Audit trail", "Backup"], key="admin_tab")

with users_tab, context.session() as s:
    if not users.has_accounts(s):
        st.info("Single-user mode: there are no accounts yet.", icon=":material/info:")
        access.create_first_admin_form()
    else:
        people = users.list_users(s)
        tables.show(
            pd.DataFrame({
                "User": [u.name for u in people],
                "Name": [u.display_name for u in people],
                "E-mail": [u.email or "" for u in people],
                "Role": [u.role for u in people],
                "Sign-in": ["password" if u.password_hash else "identity provider" for u in people],
                "Status": ["disabled" if u.disabled else "enabled" for u in people],
            }),
            key="users_table",
        )
        st.caption(" · ".join(f"**{r.value}**: {ROLE_HELP[r]}" for r in ROLE_ORDER))
        add_col, change_col = st.columns(2)
        with add_col, st.form("add_user", border=True):
            st.markdown("**Add a user**")
            name = st.text_input("User name", key="add_user_name")
            display = st.text_input("Full name", key="add_user_display")
            email = st.text_input("E-mail (for identity-provider sign-in)", key="add_user_email")
            role = st.selectbox("Role", [r.value for r in ROLE_ORDER], index=1, key="add_user_role")
            password = st.text_input("Initial password (leave empty for identity-provider sign-in only)",
                                     type="password", key="add_user_password")
            if st.form_submit_button("Add user", icon=":material/person_add:"):
                feedback.run_use_case(
                    lambda: users.add_user(session=s, actor=context.actor(), name=name, role=role,
                                           password=password or None, display_name=display, email=email or None),
                    success=lambda a: f"Added {a.name} ({a.role}).",
                    reset={"add_user_name": "", "add_user_display": "", "add_user_email": "", "add_user_password": ""},
                )
        with change_col, st.container(border=True):
            st.markdown("**Change a user**")
            by_name = {u.name: u for u in people}
            # Outside the form, so choosing another user redraws the role field at once.
            who = st.selectbox("User", list(by_name), key="change_user_name")
            chosen = by_name[who]
            roles = [r.value for r in ROLE_ORDER]
            with st.form("change_user", border=False):
                r1, r2 = st.columns([3, 2], vertical_alignment="bottom")
                # Keyed on the user and their role: it shows the chosen user's role now, never the
                # last one picked for somebody else.
                new_role = r1.selectbox("Role", roles, index=roles.index(chosen.role) if chosen.role in roles else 0,
                                        key=f"change_user_role:{who}:{chosen.role}")
                set_role = r2.form_submit_button("Set role", icon=":material/badge:", width="stretch")
                p1, p2 = st.columns([3, 2], vertical_alignment="bottom")
                new_password = p1.text_input("New password (for a forgotten one)", type="password",
                                             key="change_user_password")
                set_password = p2.form_submit_button("Set password", icon=":material/password:", width="stretch")
                toggle = st.form_submit_button("Enable again" if chosen.disabled else "Disable",
                                               icon=":material/person_check:" if chosen.disabled
                                               else ":material/person_off:")
            if set_role:
                if new_role == chosen.role:
                    st.info(f"{access.literal(who)} is already {new_role}: nothing changed.", icon=":material/info:")
                else:
                    feedback.run_use_case(
                        lambda: users.set_role(session=s, actor=context.actor(), name=who, role=new_role),
                        success=lambda a: f"{a.name} is now {a.role}.")
            if set_password:
                feedback.run_use_case(
                    lambda: users.reset_password(session=s, actor=context.actor(), name=who, new_password=new_password),
                    success=lambda a: f"New password set for {a.name}.", reset={"change_user_password": ""})
            if toggle and chosen.disabled:
                feedback.run_use_case(lambda: users.set_disabled(session=s, actor=context.actor(), name=who, disabled=False),
                                      success=lambda a: f"{a.name} is enabled again.")
            elif toggle:
                feedback.run_use_case(lambda: users.set_disabled(session=s, actor=context.actor(), name=who),
                                      success=lambda a: f"{a.name} is disabled; their history stays.")

        st.subheader("Signed in now", anchor=False)
        live = sessions.live_sessions(s)
        if not live:
            st.caption("Nobody is signed in with a password right now.")
        else:
            tables.show(
                pd.DataFrame({
                    "User": [x.user for x in live],
                    "Signed in": [x.created_at.strftime("%Y-%m-%d %H:%M UTC") for x in live],
                    "Last seen": [x.last_seen_at.strftime("%Y-%m-%d %H:%M UTC") for x in live],
                    "Ends": [x.ends_at.strftime("%Y-%m-%d %H:%M UTC") for x in live],
                    "Address": [x.address or "-" for x in live],
                    "Browser": [(x.user_agent[:60] + "…" if len(x.user_agent) > 60 else x.user_agent) or "-"
                                for x in live],
                }),
                key="sessions_table",
            )
            labels = {x.id: f"#{x.id} {x.user} · since {x.created_at:%Y-%m-%d %H:%M} · "
                            f"{x.address or 'unknown address'}" for x in live}
            with st.form("end_session", border=False):
                chosen = st.selectbox("Sign-in", list(labels), format_func=labels.get, key="end_session_id")
                if st.form_submit_button("End this sign-in", icon=":material/logout:"):
                    feedback.run_use_case(
                        lambda: sessions.revoke_session(session=s, actor=context.actor(), session_id=chosen),
                        success=f"Ended {labels[chosen]}: that browser must sign in again.")

with settings_tab, context.session() as s:
    in_force = org_policy.current_policy(s).values()
    st.markdown("Settings for the whole organisation. A setting nobody changed keeps its default; every change "
                "is in the audit trail.")
    specs = policy_rules.specs(db.settings().card_stale_days)
    # Settings carry no version, so no save of them can be refused as stale. The form's draft
    # stands on the values it showed (their tuple tells when another admin changed one: the form
    # then shows it, unless something was typed), and a save sends only the settings this admin
    # changed, so it never undoes another admin's change of another setting. Two admins changing
    # the same setting: the later save wins, as it always did.
    settings_draft = drafts.Draft("settings", entity="orgsetting", entity_id="", version=tuple(sorted(in_force.items())),
                                  what="the settings", values=in_force,
                                  fields=[drafts.Field(spec.key, spec.label) for spec in specs])
    with st.form("settings", border=True):
        for spec in specs:
            st.number_input(f"{spec.label} ({spec.unit})", min_value=spec.minimum, max_value=spec.maximum, step=1,
                            key=settings_draft.key(spec.key),
                            help=f"{spec.help} Default {spec.default}; allowed {spec.minimum}-{spec.maximum}.")
        settings_draft.submit(
            "Save settings",
            lambda _shown: org_policy.update_policy(
                session=s, actor=context.actor(),
                changes={k: settings_draft.typed()[k] for k in settings_draft.touched()}),
            success="Settings saved.")
    st.caption("Risk review cadences go by the grade of a risk's matrix cell; a higher grade is reviewed at least "
               "as often as a lower one.")

def _rows(frame: pd.DataFrame, columns: list[str]) -> list[list[str]]:
    """Rows typed in a template grid, blank ones dropped."""
    rows = [["" if pd.isna(v) else str(v) for v in r] for r in frame[columns].itertuples(index=False)]
    return [r for r in rows if any(x.strip() for x in r)]


def _criteria_rows(frame: pd.DataFrame) -> list[list[str]]:
    """Exit criteria typed in the grid, with how each is scored (the fourth part: hand or evidence)."""
    rows = []
    for r in frame[["key", "criterion", "guidance", "from_evidence"]].itertuples(index=False):
        texts = ["" if pd.isna(v) else str(v) for v in r[:3]]
        if any(x.strip() for x in texts):
            rows.append([*texts, "evidence" if not pd.isna(r[3]) and bool(r[3]) else "hand"])
    return rows


def template_history(s, kind: str, opened: int, now: int, changed: list[str]) -> list[str]:
    """Who saved which versions of a template since ``opened``, then ``changed`` (what differs)."""
    lines = [f"- **{access.literal(v.by)}** saved version {v.version} on {v.at:%Y-%m-%d} at {v.at:%H:%M} UTC"
             + (f": {drafts.quoted(v.note)}" if v.note else "")
             for v in review_service.template_versions(s, kind, since=opened) if v.version <= now]
    return lines + (["", "**What changed:**", *changed] if changed else ["", "Nothing changed in what you are editing."])


with templates_tab, context.session() as s:
    st.markdown("The exit checklists and the ethics checklist every review uses. Saving makes a **new version**: "
                "reviews opened earlier keep the version they were opened with, and decided reviews never change.")
    criteria_version, criteria = review_service.criteria_set(s)
    ethics_version, ethics = review_service.ethics_template(s)
    st.markdown(f"#### Exit criteria (version {criteria_version})")
    level = st.selectbox("Level", [lv.number for lv in levels.LEVELS], key="tpl_level",
                         format_func=lambda n: levels.level(n).label)
    columns = ["key", "criterion", "guidance"]
    # The editor shows the version this admin opened until they save or discard it: another
    # admin's new version refuses the save and says what changed, the draft kept (ui.grid).
    criteria_draft = grid.DocumentDraft(
        f"tpl_criteria:{level}", version=criteria_version,
        tables={"items": pd.DataFrame([[*item[:3], len(item) > 3 and item[3] == "evidence"]
                                       for item in criteria.get(str(level), [])], columns=[*columns, "from_evidence"])})
    edited = st.data_editor(criteria_draft.table("items"), num_rows="dynamic", hide_index=True, width="stretch",
                            key=criteria_draft.key("items"),
                            column_config={"key": st.column_config.TextColumn("Key", help="a short slug, a-z 0-9 -"),
                                           "criterion": st.column_config.TextColumn("Criterion", width="large"),
                                           "guidance": st.column_config.TextColumn("Guidance", width="large"),
                                           "from_evidence": st.column_config.CheckboxColumn(
                                               "Scored from evidence", default=False,
                                               help="Its score is the latest pass or fail evidence sent for it (a "
                                                    "CI test report, say): pass 100%, fail 0%. The team's own score "
                                                    "is kept apart.")})
    note = st.text_input("What changed?", key="tpl_criteria_note")

    def save_criteria(version: int | None = None) -> None:
        criteria_draft.save(
            lambda base: review_service.update_criteria(session=s, actor=context.actor(), level=level,
                                                        criteria=_criteria_rows(edited), note=note, base_version=base),
            version=version, success=lambda v: f"Saved criteria version {v}.", reset={"tpl_criteria_note": ""},
            place="tpl_criteria_save")

    if criteria_draft.panel("exit criteria", lambda opened, now: template_history(
            s, "criteria", opened, now, grid.item_changes(review_service.criteria_set(s, opened)[1].get(str(level), []),
                                                          review_service.criteria_set(s, now)[1].get(str(level), [])))):
        save_criteria(criteria_draft.conflict["version"])
    if st.button(f"Save level {level}'s criteria as version {criteria_draft.base + 1}", key="tpl_criteria_save",
                 icon=":material/save:", disabled=criteria_draft.conflict is not None):
        save_criteria()
    feedback.flash_here("tpl_criteria_save")
    st.markdown(f"#### Ethics checklist (version {ethics_version})")
    parts = {"before": ("Before development", ["key", "question", "help"]),
             "after": ("After development", ["key", "question", "help"]),
             "positions": ("Standing positions", ["key", "statement"])}
    ethics_draft = grid.DocumentDraft("tpl_ethics", version=ethics_version, tables={
        part: pd.DataFrame(ethics.get(part, []), columns=cols) for part, (_, cols) in parts.items()})
    typed_parts = {}
    for part, (title, cols) in parts.items():
        st.markdown(f"**{title}**")
        typed_parts[part] = st.data_editor(
            ethics_draft.table(part), num_rows="dynamic", hide_index=True, width="stretch",
            key=ethics_draft.key(part), column_config={c: st.column_config.TextColumn(
                c.capitalize(), width="small" if c == "key" else "large") for c in cols})
    e_note = st.text_input("What changed?", key="tpl_ethics_note")

    def save_ethics(version: int | None = None) -> None:
        ethics_draft.save(
            lambda base: review_service.update_ethics_template(
                session=s, actor=context.actor(), before=_rows(typed_parts["before"], parts["before"][1]),
                after=_rows(typed_parts["after"], parts["after"][1]),
                positions=_rows(typed_parts["positions"], parts["positions"][1]), note=e_note, base_version=base),
            version=version, success=lambda v: f"Saved ethics checklist version {v}.", reset={"tpl_ethics_note": ""},
            place="tpl_ethics_save")

    def ethics_changes(opened: int, now: int) -> list[str]:
        before, after = review_service.ethics_template(s, opened)[1], review_service.ethics_template(s, now)[1]
        changed = []
        for part, (title, _) in parts.items():
            lines = grid.item_changes(before.get(part, []), after.get(part, []))
            changed += [f"- {title}:", *[f"  {line}" for line in lines]] if lines else []
        return template_history(s, "ethics", opened, now, changed)

    if ethics_draft.panel("ethics checklist questions", ethics_changes):
        save_ethics(ethics_draft.conflict["version"])
    if st.button(f"Save the ethics checklist as version {ethics_draft.base + 1}", key="tpl_ethics_save",
                 icon=":material/save:", disabled=ethics_draft.conflict is not None):
        save_ethics()
    feedback.flash_here("tpl_ethics_save")


def restore_box(s, offer: undo.Restorable) -> None:
    """Restore a deleted objective, key result or requirement from its delete entry, or say why not."""
    with st.container(border=True, key="audit_restore_box"):
        text, button = st.columns([5, 1], vertical_alignment="center")
        text.markdown(f":material/restore_from_trash: {access.literal(offer.deleted_by)} deleted the "
                      f"{access.literal(offer.what)}. "
                      + (access.literal(offer.problem) if offer.problem else "**Restore** puts it back as it was."))
        if button.button("Restore", key=f"audit_restore_{offer.entry_id}", icon=":material/restore:",
                         disabled=offer.problem is not None, type="primary", width="stretch"):
            feedback.run_use_case(
                lambda: undo.restore_deleted(session=s, actor=context.actor(), entry_ids=[offer.entry_id]),
                success=lambda r: f"Restored {r.text}.")


def shown_value(snapshot: dict | None, key: str) -> str:
    """A field of an audit snapshot as JSON, a dash for no value (never "null")."""
    if not snapshot or snapshot.get(key) is None:
        return "—"
    return json.dumps(snapshot[key], ensure_ascii=False)


with audit_tab, context.session() as s:
    if context.acting_name() is None:  # single-user mode, and this browser has given no name yet
        access.ask_for_name("the audit trail is read, like it is written, under a name.")
    else:
        facets = audit_trail.facets(s)
        f1, f2, f3, f4 = st.columns([2, 2, 2, 3])
        who = f1.multiselect("Person", facets.actors, key="audit_actor")
        what = f2.multiselect("Entity", facets.entities, key="audit_entity")
        how = f3.multiselect("Action", facets.actions, key="audit_action")
        first = facets.first.date() if facets.first else days.today()
        last = facets.last.date() if facets.last else days.today()
        span = f4.date_input("Dates", value=(first, last), key="audit_dates")
        start, end = (span[0], span[1]) if isinstance(span, tuple) and len(span) == 2 else (None, None)
        rows, total = audit_trail.entries(s, actor=context.actor(), actors=who, entities=what, actions=how,
                                          start=start, end=end)
        st.caption(f"{total} matching changes" + (f"; the newest {len(rows)} shown" if total > len(rows) else "") + ".")
        if rows:
            table = pd.DataFrame({
                "When": [r.at.strftime("%Y-%m-%d %H:%M:%S") for r in rows],
                "Person": [r.actor for r in rows],
                "How": [r.via or "in person" for r in rows],
                "Entity": [r.entity for r in rows],
                "Id": [r.entity_id for r in rows],
                "Action": [r.action for r in rows],
                "Changed": [", ".join(audit_trail.changed_fields(r)) for r in rows],
            })
            event = tables.show(table, key="audit_table", on_select="rerun", selection_mode="single-row")
            picked = event["selection"]["rows"][0] if event and event["selection"]["rows"] else 0
            entry = rows[picked]
            st.markdown(f"**{entry.action} {entry.entity} {access.literal(entry.entity_id)}** by "
                        f"{access.literal(entry.actor)}{f' ({access.literal(entry.via)})' if entry.via else ''} at "
                        f"{entry.at.strftime('%Y-%m-%d %H:%M:%S')} UTC (select a row above to see another)")
            if entry.action == "delete" and (offer := undo.restorable(s, entry.id)) is not None:
                restore_box(s, offer)
            changed = set(audit_trail.changed_fields(entry))
            keys = sorted(set(entry.before or {}) | set(entry.after or {}))
            side_by_side = pd.DataFrame({
                "Field": keys,
                "Before": [shown_value(entry.before, k) for k in keys],
                "After": [shown_value(entry.after, k) for k in keys],
                "Changed": ["●" if k in changed else "" for k in keys],
            })
            tables.show(
                side_by_side.style.apply(lambda row: ["background-color: rgba(242,153,74,0.18)" if row["Changed"] else ""] * len(row), axis=1),
                key="audit_detail")


def _export_bytes() -> bytes:
    with context.session() as s:
        return backup.export_backup(session=s, actor=context.actor())


with backup_tab:
    st.markdown(
        "**Download** the whole database as one JSON file (every table, with its format version "
        "and schema revision). It holds the accounts' password hashes: keep it as safe as the database."
    )
    if context.acting_name() is None:  # the file records who exported it
        access.ask_for_name("a backup file records who exported it.")
    else:
        st.download_button("Download backup", data=_export_bytes, file_name=f"mltrl-backup-{days.today()}.json",
                           mime="application/json", key="backup_download", icon=":material/download:")
    st.divider()
    st.markdown(
        "**Restore** a backup into an **empty** database (a new server, for example). All or "
        "nothing: a damaged file, another format or a non-empty database is refused and nothing is written."
    )
    upload = st.file_uploader("Backup file", type=["json"], key="restore_file")
    if upload is not None:
        data = upload.getvalue()
        try:
            info = backup.inspect_backup(data)
        except MltrlError as exc:
            st.error(feedback.explain(exc), icon=":material/block:")
        else:
            st.caption(f"{info.total_rows} rows from {info.exported_by}, schema revision {info.schema_revision}: "
                       + ", ".join(f"{name} {n}" for name, n in info.rows.items() if n))
            if st.button("Restore this backup", key="restore_button", type="primary", icon=":material/restore:"):
                bar = st.progress(0.0, text="Restoring…")
                with context.session() as s:
                    restored = feedback.run_use_case(
                        lambda: backup.import_backup(
                            session=s, actor=context.actor(), data=data,
                            progress=lambda done, total: bar.progress(done / total if total else 1.0,
                                                                      text=f"Restoring… {done}/{total} rows")),
                        success=lambda rows: f"Restored {sum(rows.values())} rows. If the backup holds "
                                             "accounts, sign in with one of them.",
                    )
