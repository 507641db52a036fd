"""Admin page: users and roles, the audit trail with before/after."""

import html

from sqlmodel import select

from mltrl.models import AuditEntry
from mltrl.services import Actor, okrs, users
from tests.factories import everything, make_project
from tests.pages.conftest import PASSWORD


def _table(at, column):
    """The first table on the page with ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _role(at):
    """The Change a user form's role field (keyed on the chosen user and their role)."""
    return next(b for b in at.selectbox if (b.key or "").startswith("change_user_role:"))


def _submit(at, label):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception


def test_admin_adds_a_user_and_changes_roles(open_page, session, team):
    at = open_page("views/admin.py", signed_in="ada")
    table = at.dataframe[0].value
    assert list(table["User"]) == ["ada", "dan", "eve", "vic"]
    assert dict(zip(table["User"], table["Status"]))["dan"] == "disabled"
    at.text_input(key="add_user_name").input("rey")
    at.selectbox(key="add_user_role").set_value("reviewer")
    at.text_input(key="add_user_password").input(PASSWORD)
    _submit(at, "Add user")
    assert at.success[0].value == "Added rey (reviewer)."
    assert "rey" in list(at.dataframe[0].value["User"])

    at.selectbox(key="change_user_name").set_value("vic").run()
    _role(at).set_value("editor")
    _submit(at, "Set role")
    assert at.success[0].value == "vic is now editor."
    at.selectbox(key="change_user_name").set_value("eve").run()
    _submit(at, "Disable")
    assert at.success[0].value == "eve is disabled; their history stays."
    assert users.account_of(session, "eve") is None


def test_bad_new_user_is_refused_naming_the_field(open_page, session, team):
    at = open_page("views/admin.py", signed_in="ada")
    at.text_input(key="add_user_name").input("has space")
    at.text_input(key="add_user_password").input(PASSWORD)
    _submit(at, "Add user")
    assert "**name**" in at.error[0].value
    assert [u.name for u in users.list_users(session)] == ["ada", "dan", "eve", "vic"]


def test_last_admin_cannot_demote_themselves(open_page, session, team):
    at = open_page("views/admin.py", signed_in="ada")
    at.selectbox(key="change_user_name").set_value("ada").run()
    _role(at).set_value("viewer")
    _submit(at, "Set role")
    assert "last enabled admin" in at.error[0].value


def test_audit_trail_filters_and_shows_before_and_after(open_page, session, team):
    p = make_project(session, "R01.1", "Before name", actor=users.Actor("eve"))
    from mltrl.services import projects

    projects.update_project(session=session, actor=users.Actor("eve"), code="R01.1",
                            expected_version=p.version, name="After name")
    at = open_page("views/admin.py", signed_in="ada")
    at.multiselect(key="audit_actor").set_value(["eve"]).run()
    table = _table(at, "Person")
    assert set(table["Person"]) == {"eve"}
    assert list(table["Action"]) == ["update", "create"]  # newest first
    detail = _table(at, "Before")
    row = detail[detail["Field"] == "name"].iloc[0]
    assert (row["Before"], row["After"], row["Changed"]) == ('"Before name"', '"After name"', "●")
    at.multiselect(key="audit_entity").set_value(["appuser"]).run()
    assert "0 matching changes" in " ".join(c.value for c in at.caption)


def test_single_user_mode_admin_page_offers_the_first_admin(open_page):
    at = open_page("views/admin.py")
    assert "Single-user mode" in at.info[0].value
    assert any(b.label == "Create the first admin" for b in at.button)


def test_backup_tab_offers_download_and_restore(open_page):
    """The restore itself is driven in a real browser (tests/e2e), where a file can be uploaded."""
    at = open_page("views/admin.py")
    assert not at.exception
    assert len(at.get("download_button")) == 1
    assert len(at.get("file_uploader")) == 1
    assert any("Restore" in m.value and "empty" in m.value for m in at.markdown)


def test_admin_changes_settings_and_a_bad_cadence_is_refused_by_name(open_page, session, team):
    from mltrl.services import policy as org_policy

    at = open_page("views/admin.py", signed_in="ada")
    assert at.number_input(key="settings:risk_review_days.critical").value == 14
    assert at.number_input(key="settings:card_stale_days").value == 90
    at.number_input(key="settings:risk_review_days.critical").set_value(45)  # longer than high's 30 days
    _submit(at, "Save settings")
    assert "risk_review_days.critical" in at.error[0].value and "longer than the high cadence" in at.error[0].value
    session.expire_all()
    assert org_policy.current_policy(session).risk_review_days["critical"] == 14
    at.number_input(key="settings:risk_review_days.critical").set_value(7)
    at.number_input(key="settings:card_stale_days").set_value(60)
    _submit(at, "Save settings")
    assert at.success[0].value == "Settings saved."
    session.expire_all()
    saved = org_policy.current_policy(session)
    assert (saved.risk_review_days["critical"], saved.card_stale_days) == (7, 60)
    assert at.number_input(key="settings:risk_review_days.critical").value == 7


def test_a_settings_save_never_undoes_another_admins_change(open_page, session, team):
    from mltrl.services import policy as org_policy

    at = open_page("views/admin.py", signed_in="ada")
    assert at.number_input(key="settings:card_stale_days").value == 90
    # Another admin shortens the card staleness while Ada's form is open, showing 90.
    org_policy.update_policy(session=session, actor=Actor("ada"), changes={"card_stale_days": 30})
    at.number_input(key="settings:risk_review_days.critical").set_value(7)
    _submit(at, "Save settings")
    assert at.success[0].value == "Settings saved."
    session.expire_all()
    saved = org_policy.current_policy(session)
    assert (saved.risk_review_days["critical"], saved.card_stale_days) == (7, 30)  # the other change stands
    assert at.number_input(key="settings:card_stale_days").value == 30
    # With nothing typed, the form shows a change made meanwhile.
    org_policy.update_policy(session=session, actor=Actor("ada"), changes={"card_stale_days": 45})
    at.run()
    assert at.number_input(key="settings:card_stale_days").value == 45


def test_admin_saves_review_templates_as_new_versions(open_page, session, team):
    from mltrl.services import reviews

    at = open_page("views/admin.py", signed_in="ada")
    at.selectbox(key="tpl_level").set_value(4).run()
    grid = next(e for e in at.data_editor if e.key.startswith("tpl_criteria:4:"))
    keys = list(grid.value["key"])
    at.session_state[grid.key] = {"edited_rows": {0: {"key": "Bad Key"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    _submit(at, "Save level 4's criteria as version 2")
    assert "criteria of level 4" in at.error[0].value and "short slug" in at.error[0].value
    session.expire_all()
    assert reviews.criteria_set(session)[0] == 1
    at.session_state[grid.key] = {"edited_rows": {}, "added_rows": [{"key": "pilot", "criterion": "A pilot ran."}],
                                  "deleted_rows": [0]}
    at.text_input(key="tpl_criteria_note").input("pilot added")
    at.run()
    _submit(at, "Save level 4's criteria as version 2")
    assert at.success[0].value == "Saved criteria version 2."
    session.expire_all()
    version, content = reviews.criteria_set(session)
    assert version == 2 and [c[0] for c in content["4"]] == keys[1:] + ["pilot"]
    assert [c[0] for c in content["4"] if c[3:] == ["evidence"]] == ["applied-metrics"]  # kept as it was
    # Which criteria are scored from evidence is a column of the grid.
    grid = next(e for e in at.data_editor if e.key.startswith("tpl_criteria:4:"))
    assert dict(zip(grid.value["key"], grid.value["from_evidence"]))["applied-metrics"]
    pilot = list(grid.value["key"]).index("pilot")
    at.session_state[grid.key] = {"edited_rows": {pilot: {"from_evidence": True}}, "added_rows": [],
                                  "deleted_rows": []}
    at.run()
    _submit(at, "Save level 4's criteria as version 3")
    session.expire_all()
    assert [c[0] for c in reviews.criteria_set(session)[1]["4"] if c[3:] == ["evidence"]] == ["applied-metrics",
                                                                                               "pilot"]
    _submit(at, "Save the ethics checklist as version 2")
    assert at.success[0].value == "Saved ethics checklist version 2."


def test_a_template_saved_meanwhile_keeps_the_draft_and_says_what_changed(open_page, session, team):
    from mltrl.services import reviews

    at = open_page("views/admin.py", signed_in="ada")
    at.selectbox(key="tpl_level").set_value(4).run()
    grid = next(e for e in at.data_editor if e.key.startswith("tpl_criteria:4:"))
    first = grid.value.iloc[0]
    # Another admin reworded level 4's first criterion while Ada's editor is open at version 1.
    _, content = reviews.criteria_set(session)
    theirs = [[k, ("Reworded: " + c) if n == 0 else c, *rest] for n, (k, c, *rest) in enumerate(content["4"])]
    reviews.update_criteria(session=session, actor=Actor("ada"), level=4, criteria=theirs, note="clearer wording")
    at.session_state[grid.key] = {"edited_rows": {}, "added_rows": [{"key": "pilot", "criterion": "A pilot ran."}],
                                  "deleted_rows": []}
    at.run()
    _submit(at, "Save level 4's criteria as version 2")
    session.expire_all()
    assert reviews.criteria_set(session)[0] == 2  # nothing written over theirs
    text = html.unescape("\n".join(e.value for e in [*at.error, *at.markdown, *at.caption]))
    assert "the exit criteria changed since you opened them (version 1 → 2)" in text
    assert "**ada** saved version 2 on" in text and "“clearer wording”" in text
    # A long text is cut to where it changed: here its start.
    assert f"- changed “{first['key']}”: “{first['criterion'][:20]}" in text
    assert f"” → “Reworded: {first['criterion'][:20]}" in text
    # The draft is still in the editor.
    grid = next(e for e in at.data_editor if e.key.startswith("tpl_criteria:4:"))
    assert at.session_state[grid.key]["added_rows"] == [{"key": "pilot", "criterion": "A pilot ran."}]
    _submit(at, "Apply my draft on top of version 2")
    assert at.success[0].value == "Saved criteria version 3."
    session.expire_all()
    assert [c[0] for c in reviews.criteria_set(session)[1]["4"]][-1] == "pilot"


def test_an_admin_sees_who_is_signed_in_and_ends_a_sign_in(open_page, session, team):
    from mltrl.services import sessions
    from tests.pages.conftest import signed_in_secret

    eves = signed_in_secret("eve")
    at = open_page("views/admin.py", signed_in="ada")
    table = _table(at, "Last seen")
    assert sorted(table["User"]) == ["ada", "eve"]
    eve_id = next(x.id for x in sessions.live_sessions(session) if x.user == "eve")
    at.selectbox(key="end_session_id").set_value(eve_id)
    next(b for b in at.button if b.label == "End this sign-in").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith(f"Ended #{eve_id} eve · since ")
    assert sessions.current(session, eves) is None
    assert list(_table(at, "Last seen")["User"]) == ["ada"]


def test_audit_trail_says_how_a_change_was_made(open_page, session, team):
    """A write made with an API token is listed under its owner, with the token named."""
    from mltrl.services import tokens

    secret, _ = tokens.create_token(session=session, actor=Actor("eve"), name="nightly *ci*")
    make_project(session, "T1", actor=tokens.actor_for(session, secret))
    at = open_page("views/admin.py", signed_in="ada")
    at.multiselect(key="audit_entity").set_value(["project"]).run()
    table = at.dataframe(key="audit_table").value
    assert list(table[["Person", "How"]].itertuples(index=False, name=None)) == [("eve", "token nightly *ci*")]
    assert any("by eve (token nightly &#42;ci&#42;) at" in m.value for m in at.markdown)


def test_change_a_user_shows_the_chosen_users_role_and_an_unchanged_role_writes_nothing(open_page, session, team):
    at = open_page("views/admin.py", signed_in="ada")
    assert at.selectbox(key="change_user_name").value == "ada" and _role(at).value == "admin"
    at.selectbox(key="change_user_name").set_value("eve").run()
    assert _role(at).value == "editor"
    _role(at).set_value("reviewer").run()  # picked, not set: then another user is chosen
    at.selectbox(key="change_user_name").set_value("vic").run()
    assert _role(at).value == "viewer"
    at.selectbox(key="change_user_name").set_value("eve").run()
    assert _role(at).value == "editor"
    audits = len(session.exec(select(AuditEntry)).all())
    _submit(at, "Set role")
    assert at.info[0].value == "eve is already editor: nothing changed."
    assert not at.success and not at.error
    session.expire_all()
    assert len(session.exec(select(AuditEntry)).all()) == audits
    assert users.account_of(session, "eve").role == "editor"
    # the disabled user's button enables them again
    at.selectbox(key="change_user_name").set_value("dan").run()
    _submit(at, "Enable again")
    assert at.success[0].value == "dan is enabled again."


def _rows(engine):
    """Every row but the audit trail's and the sign-ins' (the admin signs in meanwhile)."""
    return {t: rows for t, rows in everything(engine).items() if t not in ("auditentry", "usersession")}


def test_an_admin_restores_a_delete_from_the_audit_trail(open_page, session, engine, team):
    make_project(session, "R01.1", actor=Actor("eve"))
    objective = okrs.add_objective(session=session, actor=Actor("eve"), quarter="2027-Q1", title="Ship *it*")
    kr = okrs.add_key_result(session=session, actor=Actor("eve"), objective_id=objective.id, code="R01.1",
                             target_level=3)
    okrs.check_in(session=session, actor=Actor("eve"), key_result_id=kr.id, comment="Fine.", confidence=7)
    before = _rows(engine)
    okrs.delete_objective(session=session, actor=Actor("eve"), objective_id=objective.id,
                          expected_version=objective.version)
    at = open_page("views/admin.py", signed_in="ada")
    at.multiselect(key="audit_entity").set_value(["objective"]).run()
    assert list(at.dataframe(key="audit_table").value["Action"])[0] == "delete"
    shown = " ".join(html.unescape(m.value) for m in at.markdown)
    assert "eve deleted the objective “Ship *it*” with 1 key result and 1 check-in. **Restore** puts it back" in shown
    restore = next(b for b in at.button if b.label == "Restore")
    restore.click().run()
    assert not at.exception, at.exception
    assert at.success[0].value == "Restored objective “Ship *it*” with 1 key result and 1 check-in."
    assert _rows(engine) == before
    # the delete entry, chosen again, says it was restored and offers nothing more
    at.multiselect(key="audit_action").set_value(["delete"]).run()
    shown = " ".join(html.unescape(m.value) for m in at.markdown)
    assert "eve deleted the objective “Ship *it*” with 1 key result and 1 check-in. It was restored already, by ada" \
        in shown
    assert next(b for b in at.button if b.label == "Restore").disabled
