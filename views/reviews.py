"""Reviews: gated reviews of the portfolio (open, waiting for my vote, recent decisions, overdue
level 9 reviews), one review in full (panel, exit checklist, gates, ethics, votes, decision), the
self-assessment checklist and opening a review."""

from datetime import date, datetime

import pandas as pd
import streamlit as st

from mltrl.domain import days, levels
from mltrl.domain import gates as gate_rules
from mltrl.domain.errors import RowErrors
from mltrl.domain.permissions import Permission
from mltrl.services import policy as org_policy
from mltrl.services import projects
from mltrl.services import reviews as review_service
from mltrl.services import users
from mltrl.ui import access, context, current, drafts, feedback, grid, tables
from mltrl.ui import evidence as evidence_ui

st.title("Reviews")
feedback.show_flash()

known = context.technologies()
if not known.codes:
    st.info("No technologies yet.", icon=":material/info:")
    st.stop()
can_edit = access.can(Permission.EDIT)
can_review = access.can(Permission.REVIEW)
can_admin = access.can(Permission.ADMIN)
me = context.acting_name()  # None in single-user mode until this browser gives a name

GATE_BADGE = {"passed": "green", "blocked": "red", "overridden": "orange", "override expired": "red"}
DECISION_HELP = {
    "graduate": "to the next level: records the level event linked to this review; the card as it stands becomes "
                "the card of the level left, and the stage debrief is asked for",
    "hold": "stay at this level with a list of tasks, each with an owner (at level 9: keep running)",
    "switch back": "to a lower level; of kind review, or embedded for 4→2, 9→4 and 9→7",
    "pause": "the technology's status becomes paused (common after level 4)",
}


def _through(d: date | None) -> datetime | None:
    """An override valid through the whole of day ``d`` (UTC) lapses at the day's end: the gate
    compares its expiry with now as "expired once now reaches it"."""
    return days.day_end(d) if d else None


def people(s) -> list[str]:
    """Names to offer for a panel: the accounts (or, in single-user mode, just the acting user)."""
    names = [u.name for u in users.list_users(s) if not u.disabled] if users.has_accounts(s) else []
    return sorted(set(names) | ({me} if me else set()))


def review_table(rows: list, key: str, *, decided: bool = False) -> None:
    table = pd.DataFrame([{
        "review": f"/reviews?review={r.id}", "code": code, "level": r.level, "status": r.status,
        "opened": r.opened_at.date(), "panel": ", ".join(r.panel), "decision": r.decision or "",
        "decided": r.decided_at.date() if r.decided_at else None,
    } for r, code in rows])
    if not decided:
        table = table.drop(columns=["decision", "decided"])
    tables.show(table, key=key, column_config={
        "review": st.column_config.LinkColumn("Review", display_text=r"review=(\d+)"),
        "code": "Technology", "level": "Level", "status": "Status", "opened": st.column_config.DateColumn("Opened"),
        "panel": "Panel", "decision": "Decision", "decided": st.column_config.DateColumn("Decided")})


def overview(s) -> None:
    policy = org_policy.current_policy(s)
    open_rows = review_service.reviews(s, status="open")
    waiting = review_service.waiting_for(s, me) if me else []
    decided = review_service.reviews(s, status="decided", limit=20)
    deployed = review_service.deployed_reviews(s, policy)
    late = [d for d in deployed if d.overdue]
    m1, m2, m3, m4 = st.columns(4)
    open_count = review_service.count_reviews(s, status="open")
    m1.metric("Open reviews", open_count)
    m2.metric("Waiting for my vote", len(waiting),
              help=f"Open reviews with {me or 'you (give your name first)'} on the panel and no vote from them")
    m3.metric("Decided", review_service.count_reviews(s, status="decided"), help="The newest 20 are listed below")
    m4.metric("Level 9 reviews overdue", len(late), help=f"Deployed technologies are reviewed every "
                                                          f"{policy.deployed_review_days} days (Admin › Settings)")
    st.subheader("Waiting for my vote", anchor=False)
    if waiting:
        review_table(waiting, "waiting")
    else:
        st.caption("Nothing is waiting for your vote.")
    st.subheader("Open reviews", anchor=False)
    if open_rows:
        if open_count > len(open_rows):
            st.caption(f"The newest {len(open_rows)} of {open_count}.")
        review_table(open_rows, "open_reviews")
    else:
        st.caption("No review is open.")
    st.subheader("Recent decisions", anchor=False)
    if decided:
        review_table(decided, "decided", decided=True)
    else:
        st.caption("No review has been decided yet.")
    st.subheader("Deployed technologies (level 9)", anchor=False)
    if deployed:
        tables.show(pd.DataFrame([{"code": d.code, "name": d.name, "last": d.last_review.date(), "due": d.due.date(),
                                    "overdue": d.overdue} for d in deployed]),
                     key="deployed", column_config={
                         "code": "Technology", "name": "Name", "last": st.column_config.DateColumn("Last review"),
                         "due": st.column_config.DateColumn("Next review due"),
                         "overdue": st.column_config.CheckboxColumn("Overdue")})
    else:
        st.caption("No technology is deployed.")


def checklist_editor(s, code: str, level: int, criteria, scores, *, key: str, found=None) -> None:
    """The exit checklist of ``level``: the criteria scored by hand with the team's scores, editable
    by editors (all or nothing), each with its latest evidence; then the criteria scored from
    evidence, read-only, with the record each score came from (``found``: the standing's evidence)."""
    found = found or {}
    hand = [c for c in criteria if not c.from_evidence]
    latest = evidence_ui.latest_lines(hand, found)
    table = pd.DataFrame([{
        "key": c.key, "criterion": c.text, "percent": scores[c.key].percent if c.key in scores else 0,
        "evidence": scores[c.key].evidence if c.key in scores else "",
        "comment": scores[c.key].comment if c.key in scores else "", "latest": latest[c.key], "guidance": c.guidance,
    } for c in hand], columns=["key", "criterion", "percent", "evidence", "comment", "latest", "guidance"])
    own = review_service.scores_of(s, projects.get_project(s, code).id, level) if len(hand) < len(criteria) else {}
    columns = {
        "key": None,
        "criterion": st.column_config.TextColumn("Criterion", width="large", disabled=True),
        "percent": st.column_config.NumberColumn("Done %", min_value=0, max_value=100, step=5, format="%d%%"),
        "evidence": st.column_config.LinkColumn("Evidence", help="An http(s) link to what shows it"),
        "comment": st.column_config.TextColumn("Comment"),
        "latest": st.column_config.TextColumn("Latest evidence sent", disabled=True,
                                              help="The newest record sent for this criterion (CLI, API, a sync)"),
        "guidance": st.column_config.TextColumn("What shows it, and what to do if not", width="large", disabled=True),
    }
    if not can_edit:
        if hand:
            tables.show(table, column_config=columns, key=f"{key}_view")
        evidence_ui.scored_from_evidence(criteria, scores, own, key=key)
        return
    if not hand:
        evidence_ui.scored_from_evidence(criteria, scores, own, key=key)
        return
    # The draft outlives someone else's scoring: each row is saved with the version of its score
    # the person saw, and a refused save keeps the edits and says who scored what (ui.grid).
    versions = review_service.score_versions(s, code, level)
    texts = {c.key: c.text for c in criteria}
    draft = grid.GridDraft(
        f"{key}:{code}:{level}", table=table, columns=["percent", "evidence", "comment"],
        rows=[grid.GridRow(c.key, versions.get(c.key, (None, 0))[1], c.key, versions.get(c.key, (None, 0))[0])
              for c in hand],
        entity="criterionscore", label=lambda k: f"criterion “{texts.get(k, k)[:60]}”",
        fields=[drafts.Field("percent", "Done %"), drafts.Field("evidence", "Evidence"),
                drafts.Field("comment", "Comment")])
    st.data_editor(draft.table, column_config=columns, hide_index=True, width="stretch", key=draft.key,
                   disabled=["criterion", "latest", "guidance"])
    edits, _ = draft.pending()

    def save() -> None:
        draft.save(
            lambda changed, _deleted: review_service.score_criteria(
                session=s, actor=context.actor(), code=code, level=level,
                scores={e.key: draft.edited_values(e) for e in changed},
                expected_versions={e.key: e.expected_version for e in changed}),
            success=lambda n: f"Saved {n} score(s) of level {level}'s checklist for {code}.",
            on_refusal=lambda exc: st.dataframe(
                pd.DataFrame([(str(r), f, p) for r, f, p in exc.errors], columns=["Criterion", "Field", "Problem"]),
                hide_index=True, width="stretch", key=f"{key}_errors") if isinstance(exc, RowErrors) else None,
            place=f"{key}_save")

    draft.panel(apply=save)  # after a refused save: who scored what, where Save was
    if st.button("Save checklist", key=f"{key}_save", icon=":material/save:",
                 disabled=not edits or draft.conflict is not None):
        save()
    feedback.flash_here(f"{key}_save")  # what the save did, beside its button
    evidence_ui.scored_from_evidence(criteria, scores, own, key=key)


def readiness_line(state) -> None:
    r = state.readiness
    colour = "green" if r.ready else "orange"
    st.markdown(f":{colour}-badge[{'ready for review' if r.ready else 'not ready yet'}] "
                f"Exit criteria average **{r.average:.0f}%** (ready at {r.threshold}%), {r.scored} of {r.total} scored.")


def gates_panel(s, code: str, level: int, gates, *, key: str) -> None:
    if not gates:
        st.caption(f"Leaving level {level} has no gate beyond the review itself (gates guard levels 5 and 8).")
        return
    for g in gates:
        with st.container(border=True):
            st.markdown(f":{GATE_BADGE[g.state.value]}-badge[{g.state.value}] **{g.title}**")
            for b in g.blockers:
                st.markdown(f"- {b}")
            if g.override is not None:
                until = f" valid through {days.last_day_before(g.override.expires_at):%Y-%m-%d}" if g.override.expires_at else ""
                st.caption(f"Overridden by {g.override.by} on {g.override.at:%Y-%m-%d}{until}: "
                           f"{g.override.justification}")
            if g.blockers:
                st.caption(f"What to do: {g.advice}")
            if can_admin and g.state.value in ("blocked", "override expired"):
                with st.expander("Override this gate (admin)", icon=":material/gavel:"):
                    with st.form(f"{key}_{g.key}_override", border=False):
                        why = st.text_input("Justification", key=f"{key}_{g.key}_why")
                        until = st.date_input("Valid through (optional)", value=None, key=f"{key}_{g.key}_until",
                                              min_value=days.today(),
                                              help="The override lapses at the end of this day (UTC)")
                        if st.form_submit_button("Override", icon=":material/gavel:"):
                            feedback.run_use_case(
                                lambda g=g, why=why, until=until: review_service.override_gate(
                                    session=s, actor=context.actor(), code=code, level=level, gate=g.key,
                                    justification=why, expires_at=_through(until)),
                                success=f"Gate overridden: {g.title}.")


def ethics_panel(s, view) -> None:
    review = view.review
    template = review.ethics
    changed = view.changed_answers
    st.caption(f"Ethics checklist version {review.ethics_version}. Answers that differ from the previous review "
               "of this technology are marked *changed*.")
    editable = can_edit and review.status == "open"
    questions = [(part, key) for part in ("before", "after") for key, _, _ in template.get(part, [])]
    stored = {f"{part}:{key}": view.answers[f"{part}:{key}"].answer if f"{part}:{key}" in view.answers else ""
              for part, key in questions}
    # Answers carry no version the save checks: the draft stands on the answers it showed (another
    # reviewer's answer shows when nothing was typed here), and a save sends only the answers this
    # person changed, so it never puts back an answer someone else changed meanwhile (ui.drafts).
    answers = drafts.Draft(f"ethics:{review.id}", entity="review", entity_id=review.id,
                           version=tuple(sorted(stored.items())), what="the ethics answers", values=stored,
                           fields=[drafts.Field(full, full) for full in stored], form=False) if editable else None
    for part, title in (("before", "Before development"), ("after", "After development")):
        with st.expander(f"{title} ({len(template.get(part, []))} questions)", expanded=False):
            for key, question, help_text in template.get(part, []):
                full = f"{part}:{key}"
                answer = view.answers[full].answer if full in view.answers else ""
                mark = " · *changed*" if full in changed else ""
                if answers is not None:
                    st.text_area(f"{question}{mark}", help=help_text, key=answers.key(full),
                                 height=80 if part == "after" else 68)
                else:
                    st.markdown(f"**{question}**{mark}  \n{answer or '_not answered_'}")
    with st.expander("The organisation's standing positions"):
        for _, statement in template.get("positions", []):
            st.markdown(f"- {statement}")
    if answers is not None:
        answers.submit("Save ethics answers", lambda _shown: review_service.answer_ethics(
                           session=s, actor=context.actor(), review_id=review.id,
                           answers={full: answers.typed()[full] for full in answers.touched()}),
                       success=lambda n: f"Saved {n} changed answer(s).")


def votes_panel(s, view) -> None:
    review = view.review
    if view.latest_votes:
        tables.show(pd.DataFrame([{"voter": v.voter, "vote": v.vote, "comment": v.comment,
                                    "at": v.at.strftime("%Y-%m-%d %H:%M")} for v in view.latest_votes.values()]),
                     key="votes", column_config={
                         "voter": "Panel member", "vote": "Vote", "comment": "Comment", "at": "When"})
        if len(view.votes) > len(view.latest_votes):
            with st.expander(f"Every vote ({len(view.votes)}), changes included"):
                tables.show(pd.DataFrame([{"at": v.at.strftime("%Y-%m-%d %H:%M"), "voter": v.voter, "vote": v.vote,
                                            "comment": v.comment} for v in view.votes]),
                             key="vote_history")
    else:
        st.caption("No votes yet.")
    if can_review and review.status == "open":
        with st.form("vote", border=True):
            c1, c2 = st.columns([1, 3])
            vote = c1.radio("Your vote", [v.value for v in gate_rules.Vote], key="vote_choice")
            comment = c2.text_area("Comment", key="vote_comment", height=90)
            if st.form_submit_button("Cast vote", icon=":material/how_to_vote:"):
                feedback.run_use_case(
                    lambda: review_service.cast_vote(session=s, actor=context.actor(), review_id=review.id,
                                                     vote=vote, comment=comment),
                    success=lambda v: f"Vote recorded: {v.voter} votes {v.vote}.", reset={"vote_comment": ""},
                    place="vote")
        feedback.flash_here("vote")


def decision_panel(s, view, state) -> None:
    review = view.review
    if review.status != "open":
        st.markdown(f"**{review.status.capitalize()}**: {review.decision or 'cancelled'} by {review.decided_by} on "
                    f"{review.decided_at:%Y-%m-%d}." + (f" {review.decision_note}" if review.decision_note else ""))
        if view.event is not None:
            e = view.event
            kind = f"switchback: {e.switchback_kind}" if e.switchback_kind else e.kind
            st.markdown(f"Level event: {e.from_level} → {e.to_level} ({kind}) on {e.at:%Y-%m-%d}.")
        if review.decision == "graduate" and not access.presenting():
            st.page_link("views/card.py", label=f"Write the stage debrief of level {review.level} on the TRL card",
                         icon=":material/edit_note:", query_params={"code": view.code, "tab": "edit"})
        if view.tasks:
            tables.show(pd.DataFrame(view.tasks), key="tasks")
        if review.gates:
            st.caption("Gates at the decision: " + "; ".join(f"{g['title']}: {g['state']}" for g in review.gates))
        return
    if not can_review:
        st.caption("A reviewer or an admin decides the review.")
        return
    refusing = [g for g in state.gates if g.refuses] if state else []
    # Saved with the review's version as the person saw it: a panel changed meanwhile refuses the
    # decision, keeps it and says who changed what (ui.drafts).
    decision = drafts.Draft(f"decision:{review.id}", entity="review", entity_id=review.id, version=review.version,
                            what=f"review {review.id}", values={"choice": None, "note": ""},
                            fields=[drafts.Field("choice", "Decision"), drafts.Field("note", "Note")], form=False)
    with st.container(border=True):
        choice = st.radio("Decision", [d.value for d in gate_rules.Decision], key=decision.key("choice"),
                          horizontal=True, index=None, captions=[DECISION_HELP[d.value] for d in gate_rules.Decision])
        target = None
        task_rows: list[dict] = []
        if choice == "graduate" and refusing:
            st.error("Graduation is blocked by " + ("a gate" if len(refusing) == 1 else "gates") + ": "
                     + "; ".join(f"“{g.title}” is not met ({g.state.value})" for g in refusing)
                     + ". See the gates above.", icon=":material/block:")
        if choice == "switch back":
            lower = list(range(review.level))
            target = st.selectbox("Switch back to level", lower, index=len(lower) - 1 if lower else None,
                                  key="decision_target",
                                  format_func=lambda n: f"{n} · {levels.level(n).name}")
            if target is not None:
                kind = gate_rules.review_switchback_kind(review.level, target)
                st.caption(f"Recorded as {'an' if kind.value[0] in 'aeiou' else 'a'} {kind.value} switchback.")
        if choice == "hold":
            edited = st.data_editor(pd.DataFrame({"task": pd.Series(dtype="str"), "owner": pd.Series(dtype="str"),
                                                  "due": pd.Series(dtype="object")}),
                                    num_rows="dynamic", hide_index=True, width="stretch", key="decision_tasks",
                                    column_config={"task": st.column_config.TextColumn("Task", width="large"),
                                                   "owner": "Owner", "due": st.column_config.DateColumn("Due")})
            task_rows = [{"task": r.get("task"), "owner": r.get("owner"),
                          "due": None if pd.isna(r.get("due")) else pd.Timestamp(r.get("due")).to_pydatetime()}
                         for r in edited.to_dict("records")]
        if choice is not None:
            votes = {voter: v.vote for voter, v in view.latest_votes.items()}
            cautions = gate_rules.decision_cautions(choice, review.panel, votes, state.readiness if state else None)
            if cautions:
                st.warning("Before deciding:\n" + "\n".join(f"- {c}" for c in cautions), icon=":material/warning:")
        note = st.text_area("Note", key=decision.key("note"), height=68)
        if choice is None:
            st.caption("Choose a decision to decide the review.")
        decision.submit(
            "Decide",
            lambda version: review_service.decide(session=s, actor=context.actor(), review_id=review.id,
                                                  expected_version=version, decision=choice, note=note,
                                                  target_level=target, tasks=task_rows),
            success=lambda o: f"Review {review.id} decided: {o.review.decision}"
            + (f" (level {o.event.from_level} → {o.event.to_level})" if o.event else "") + "."
            + (" Now write the stage debrief on the TRL card." if o.debrief else ""),
            icon=":material/gavel:", disabled=choice is None, place=False)  # the form is gone once decided


def review_detail(s, review_id: int) -> None:
    view = review_service.review_view(s, review_id)
    review = view.review
    meta = levels.level(review.level)
    st.markdown(f"### Review {review.id} · {view.code} {view.name}")
    st.markdown(f":gray-badge[level {review.level} · {meta.name}] :{'blue' if review.status == 'open' else 'gray'}"
                f"-badge[{review.status}] Opened by {review.opened_by} on {review.opened_at:%Y-%m-%d}.")
    state = review_service.standing(s, view.code) if review.status == "open" else None

    st.markdown("#### Panel")
    st.caption("Suggested for this level: " + ", ".join(meta.panel) + ".")
    if can_edit and review.status == "open":
        # A draft that outlives someone else's change of the panel (ui.drafts).
        panel_draft = drafts.Draft(f"panel:{review.id}", entity="review", entity_id=review.id, version=review.version,
                                   what=f"review {review.id}", values={"panel": list(review.panel)},
                                   fields=[drafts.Field("panel", "Panel")], form=False)
        typed = st.session_state.get(panel_draft.key("panel")) or []
        chosen = st.multiselect("Panel members", sorted(set(people(s)) | set(review.panel) | set(typed)),
                                key=panel_draft.key("panel"), accept_new_options=True)
        panel_draft.submit("Save panel", lambda version: review_service.set_panel(
                               session=s, actor=context.actor(), review_id=review.id, expected_version=version,
                               panel=chosen),
                           success="Panel saved.", icon=":material/group:",
                           disabled=chosen == list(review.panel))
    else:
        st.markdown(", ".join(review.panel) or "_nobody chosen_")

    st.markdown("#### Exit checklist")
    if state is not None:
        readiness_line(state)
        checklist_editor(s, view.code, review.level, state.criteria, state.scores, key="review_checklist",
                         found=state.evidence)
    else:
        criteria = gate_rules.criteria_of(review.criteria)
        scores = gate_rules.decided_scores(review.scores)
        st.caption(f"As scored when the review was decided (criteria version {review.criteria_version}).")
        tables.show(pd.DataFrame([{"criterion": c.text, "percent": scores[c.key].percent if c.key in scores else 0,
                                    "source": "evidence" if c.key in scores and scores[c.key].source == "evidence"
                                    else "team"} for c in criteria]), key="decided_scores",
                     column_config={"criterion": "Criterion", "percent": st.column_config.NumberColumn(
                         "Done %", format="%d%%"), "source": "Scored by"})
        for line in evidence_ui.decided_from_evidence(criteria, scores):
            st.caption(line)

    st.markdown("#### Gates")
    if state is not None:
        gates_panel(s, view.code, review.level, state.gates, key="rg")
    elif review.gates:
        for g in review.gates:
            st.markdown(f":{GATE_BADGE.get(g['state'], 'gray')}-badge[{g['state']}] {g['title']}")
    else:
        st.caption("No gate applied at this level.")

    st.markdown("#### Ethics checklist")
    ethics_panel(s, view)
    st.markdown("#### Votes")
    votes_panel(s, view)
    st.markdown("#### Decision")
    decision_panel(s, view, state)


with context.session() as s:
    asked = st.query_params.get("review")
    asked_id = review_service.review_number(asked)  # None unless the link names a review number
    tab_names = ["Overview", "Review", "Checklist", "Open a review"]
    asked_tab = (st.query_params.get("tab") or "").capitalize()
    overview_tab, review_tab, checklist_tab, open_tab = st.tabs(
        tab_names, key="reviews_tab", on_change="rerun",
        default="Review" if asked else ("Checklist" if asked_tab == "Checklist" else None))

    if overview_tab.open:
        with overview_tab:
            overview(s)

    if review_tab.open:
        with review_tab:
            rows = review_service.reviews(s, limit=500)
            if not rows:
                st.info("No review yet: open one on the **Open a review** tab.", icon=":material/rate_review:")
            else:
                if asked_id is not None and asked_id not in {r.id for r, _ in rows}:
                    older = next(iter(review_service.reviews_by_id(s, [asked_id])), None)
                    if older is not None:  # an older review asked for by link: offer it first
                        rows = [older, *rows]
                ids = [r.id for r, _ in rows]
                # No status in the label: the picker keeps its labels across a decision, the badge below tells it.
                labels = {r.id: f"#{r.id} · {code} at level {r.level}" for r, code in rows}
                wanted = asked_id if asked_id in ids else ids[0]
                picked = st.selectbox("Review", ids, index=ids.index(wanted), format_func=labels.get, key="review_pick")
                if str(picked) != asked:
                    st.query_params["review"] = str(picked)
                review_detail(s, picked)

    if checklist_tab.open:
        with checklist_tab:
            code = current.technology_picker(known.codes, known.names, key="checklist_code")
            state = review_service.standing(s, code)
            if state.level is None:
                st.info(f"{code} has no level yet.", icon=":material/info:")
            else:
                st.caption(f"Level {state.level}'s exit criteria (version {state.criteria_version}). Score them any "
                           "time, before a review too: the checklist doubles as a readiness self-assessment.")
                readiness_line(state)
                checklist_editor(s, code, state.level, state.criteria, state.scores, key="self_checklist",
                                 found=state.evidence)
                st.markdown("#### Gates on leaving this level")
                gates_panel(s, code, state.level, state.gates, key="cg")

    if open_tab.open:
        with open_tab:
            if not can_edit:
                if not access.presenting():
                    st.caption("Editors open reviews.")
            else:
                code = current.technology_picker(known.codes, known.names, key="open_code")
                state = review_service.standing(s, code)
                if state.level is None:
                    st.info(f"{code} has no level yet: record its start on the Project page.", icon=":material/info:")
                elif state.open_review is not None:
                    st.info(f"{code} already has an open review.", icon=":material/info:")
                    st.page_link("views/reviews.py", label=f"Go to review {state.open_review}",
                                 query_params={"review": str(state.open_review)}, icon=":material/arrow_forward:")
                else:
                    meta = levels.level(state.level)
                    readiness_line(state)
                    st.caption(f"Suggested panel for level {state.level} ({meta.name}): {', '.join(meta.panel)}.")
                    with st.form("open_review", border=True):
                        panel = st.multiselect("Panel members", people(s), key="open_panel", accept_new_options=True)
                        if st.form_submit_button("Open review", icon=":material/rate_review:", type="primary"):

                            def opened(r) -> str:
                                st.query_params["review"] = str(r.id)  # the next run shows it
                                return f"Opened review {r.id} of {code} at level {r.level}."

                            feedback.run_use_case(
                                lambda: review_service.open_review(session=s, actor=context.actor(), code=code,
                                                                   panel=panel),
                                success=opened, reset={"reviews_tab": "Review"})
