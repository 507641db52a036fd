"""TRL card: one technology's living card: read, edit with a preview, history, level cards, brief."""

import streamlit as st

from mltrl import cards, charts, levels
from mltrl.cards import Card
from mltrl.errors import MltrlError
from mltrl.permissions import Permission
from mltrl.services import cards as card_service
from mltrl.ui import access, cardview, context, feedback

st.title("TRL card")
feedback.show_flash()

frame = context.portfolio_frame()
codes = sorted(frame["code"].tolist())
names = dict(zip(frame["code"], frame["name"]))
if not codes:
    st.info("No technologies yet: add one on the Project page, or import a card below.", icon=":material/info:")
    st.stop()

wanted = st.query_params.get("code")
code = st.selectbox("Technology", codes, index=codes.index(wanted) if wanted in codes else 0,
                    key="card_code", format_func=lambda c: f"{c} · {names.get(c, '')}")
if code != wanted:
    st.query_params["code"] = code
version = context.data_version()
editable = access.can(Permission.EDIT) and not access.presenting()

STALE_BADGE = {"fresh": "green", "stale": "orange", "none": "gray"}

with context.session() as s:
    state = card_service.current_card(s, code)
    frozen = card_service.level_cards(s, code)
    seen = context.version_seen(f"card:{code}", state.number)

    # --- header -------------------------------------------------------------------------------
    badges = []
    if state.level is not None:
        meta = levels.level(state.level)
        badges.append(f":{charts.PHASE_BADGES[meta.phase.value]}-badge[Level {state.level} · {meta.name}]")
    else:
        badges.append(":gray-badge[no level yet]")
    label = {"fresh": "card up to date", "stale": "card stale", "none": "no card yet"}[state.staleness.state]
    badges.append(f":{STALE_BADGE[state.staleness.state]}-badge[{label}: {state.staleness.reason}]")
    st.markdown(" ".join(badges))
    if state.number:
        st.caption(f"Revision {state.number}, saved by {state.saved_by} on {state.saved_at:%Y-%m-%d %H:%M} UTC. "
                   f"Cards go stale {card_service.stale_days()} days after their last save, or when the level changes.")
    links_row = st.columns([1, 1, 1, 3])
    links_row[0].page_link("views/project.py", label="Project page", icon=":material/timeline:", query_params={"code": code})
    if state.number:
        cardview.download(links_row[1], "Markdown", code, "md", key="dl_md")
        cardview.download(links_row[2], "HTML", code, "html", key="dl_html")

    tab_names = ["Card", "History", "Brief"] + (["Edit", "Import"] if editable else [])
    tabs = dict(zip(tab_names, st.tabs(tab_names)))

    # --- read ---------------------------------------------------------------------------------
    with tabs["Card"]:
        prior = sorted({lc.level for lc in frozen if lc.number is not None})
        choices = [None] + prior

        def describe(level: int | None) -> str:
            if level is None:
                return f"Current card (level {state.level if state.level is not None else '—'})"
            lc = [x for x in frozen if x.level == level and x.number is not None][-1]
            return f"Card of level {level}, as it stood when it left on {lc.left_at:%Y-%m-%d} ({lc.move} to {lc.to_level})"

        shown = None
        if prior:
            asked = st.query_params.get("level")
            if asked and asked.isdigit() and int(asked) in prior and "card_show" not in st.session_state:
                st.session_state["card_show"] = int(asked)
            shown = st.selectbox("Show", choices, format_func=describe, key="card_show",
                                 help="When the level changes, the card as it stood is kept as the card of the level it left.")
        elif frozen:
            st.caption("No card had been saved before this technology's earlier level changes, "
                       "so there are no prior level cards.")
        if shown is None:
            if state.number == 0:
                st.info("Nobody has written this card yet." + (" Open **Edit** to start it, or **Import** a Markdown card."
                                                                 if editable else ""), icon=":material/edit_note:")
            else:
                cardview.show_card(state.card, state.header, version)
        else:
            old_card, header, lc = card_service.card_of_level(s, code, shown)
            cardview.show_card(old_card, header, version,
                               meta=f"Frozen card of level {shown}: revision {lc.number}, as it stood on {lc.left_at:%Y-%m-%d}.")

    # --- history ------------------------------------------------------------------------------
    with tabs["History"]:
        revs = card_service.revisions(s, code)
        if not revs:
            st.info("No revisions yet.", icon=":material/history:")
        else:
            st.dataframe(
                [{"Revision": r.number, "Saved (UTC)": r.at.strftime("%Y-%m-%d %H:%M"), "By": r.author,
                  "How": r.action + (f" of {r.restored_from}" if r.restored_from else ""),
                  "Level": r.level, "Summary": r.summary} for r in revs],
                hide_index=True, width="stretch", key="revisions",
            )
            numbers = [r.number for r in revs]
            by_number = {r.number: r for r in revs}
            st.markdown("**Compare two revisions**")
            c1, c2 = st.columns(2)
            old_n = c1.selectbox("From", numbers, index=min(1, len(numbers) - 1), key="diff_from",
                                 format_func=lambda n: f"revision {n} · {by_number[n].author} · {by_number[n].at:%Y-%m-%d}")
            new_n = c2.selectbox("To", numbers, index=0, key="diff_to",
                                 format_func=lambda n: f"revision {n} · {by_number[n].author} · {by_number[n].at:%Y-%m-%d}")
            changes = cards.section_changes(Card.from_dict(by_number[old_n].content), Card.from_dict(by_number[new_n].content))
            st.caption(f"{len(changes)} part(s) changed from revision {old_n} to {new_n}: "
                       "removed words in red, added words in green.")
            cardview.show_diff(Card.from_dict(by_number[old_n].content), Card.from_dict(by_number[new_n].content))
            if editable and len(numbers) > 1:
                st.markdown("**Restore an old revision**")
                r1, r2 = st.columns([2, 1])
                restore_n = r1.selectbox("Revision to restore", numbers[1:], key="restore_number",
                                         format_func=lambda n: f"revision {n} · {by_number[n].summary or by_number[n].action}")
                r2.write("")
                if r2.button("Restore as a new revision", icon=":material/restore:", key="restore"):
                    feedback.run_use_case(
                        lambda: card_service.restore_revision(session=s, actor=context.actor(), code=code,
                                                              number=restore_n, base_revision=seen),
                        success=lambda rev: f"Restored revision {restore_n} of {code} as revision {rev.number}.",
                    )
                st.caption("Restoring saves the old content again as the newest revision; nothing is deleted.")

    # --- brief --------------------------------------------------------------------------------
    with tabs["Brief"]:
        brief = card_service.brief_html(s, code)
        cardview.show_html(brief)
        st.download_button("Download the brief (printable HTML)", cards.html_document(f"{code} brief", brief),
                            file_name=f"{code}-brief.html", mime="text/html", icon=":material/print:", key="dl_brief")

    if not editable:
        if not access.presenting() and not access.can(Permission.EDIT):
            st.caption("Read-only: your role can read cards but not change them.")
        st.stop()

    # --- edit ---------------------------------------------------------------------------------
    with tabs["Edit"]:
        edit_key = f"card_edit_{code}"
        if edit_key not in st.session_state:
            st.session_state[edit_key] = {"base": state.number, "round": 0}
        draft_of = st.session_state[edit_key]
        base_card = (Card.from_dict(card_service.revision(s, code, draft_of["base"]).content)
                     if draft_of["base"] else Card())
        if draft_of["base"] == state.number:
            base_card = state.card  # the live owners
        conflict = draft_of.get("conflict")
        if conflict:
            theirs = card_service.revision(s, code, conflict)
            st.warning(
                f"**{theirs.author}** saved revision {theirs.number} ({theirs.summary or 'no summary'}) after you "
                f"opened revision {draft_of['base']}. Your draft is still below. What they changed:",
                icon=":material/merge:",
            )
            cardview.show_diff(base_card, Card.from_dict(theirs.content))
            m1, m2 = st.columns(2)
            if m1.button(f"I merged their changes into my draft: save on top of revision {theirs.number}",
                         key="merge_done", icon=":material/merge:"):
                draft_of.update(base=theirs.number, conflict=None)
                st.rerun()
            if m2.button(f"Discard my draft and load revision {theirs.number}", key="merge_discard",
                         icon=":material/undo:"):
                st.session_state[edit_key] = {"base": theirs.number, "round": draft_of["round"] + 1}
                st.rerun()
        st.caption(f"Editing from revision {draft_of['base']}. Markdown is allowed in the sections; write "
                   "#R02.1 to link a technology and @name to link a person's cards.")
        draft = cardview.editor(base_card, f"cf_{code}_{draft_of['round']}", version)
        change = st.text_input("Change summary (optional)", key=f"cf_{code}_{draft_of['round']}_summary",
                               placeholder="What changed, in a few words", max_chars=500)

        def _saved(rev) -> str:
            st.session_state[edit_key] = {"base": rev.number, "round": draft_of["round"] + 1}
            return f"Saved the card of {code} as revision {rev.number}."

        def _refused(exc: MltrlError) -> None:
            if isinstance(exc, card_service.CardConflict):
                draft_of["conflict"] = exc.theirs_number

        if st.button("Save card", type="primary", icon=":material/save:", key="save_card"):
            feedback.run_use_case(
                lambda: card_service.save_card(session=s, actor=context.actor(), code=code, card=draft,
                                               base_revision=draft_of["base"], summary=change),
                success=_saved, on_refusal=_refused,
            )
            if draft_of.get("conflict"):
                st.rerun()

    # --- import -------------------------------------------------------------------------------
    with tabs["Import"]:
        st.markdown("Upload a card written in the MLTRL card layout (Markdown). It becomes the next revision "
                    f"of the technology its summary table names; choose **{code}** below to import into this one.")
        upload = st.file_uploader("Card file (.md)", type=["md", "markdown", "txt"], key="card_upload")
        into_this = st.checkbox(f"Import into {code} whatever ID the card names", key="import_here")
        if st.button("Import card", icon=":material/upload:", key="import_card", disabled=upload is None):
            try:
                text = upload.getvalue().decode("utf-8")
            except UnicodeDecodeError:
                st.error("Please check **file**: the file is not UTF-8 text; nothing was imported.", icon=":material/block:")
            else:
                feedback.run_use_case(
                    lambda: card_service.import_card(session=s, actor=context.actor(), text=text,
                                                     code=code if into_this else None),
                    success=lambda o: (f"Imported the card into {o.code} as revision {o.number}"
                                       + (" (new technology)." if o.created else ".")),
                )
