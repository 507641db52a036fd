"""TRL card: one technology's living card: read, edit with a preview, history, level cards, brief."""

import streamlit as st

from mltrl import charts

from mltrl.domain import cards, days, levels
from mltrl.domain.cards import Card, hf
from mltrl.domain.errors import MltrlError
from mltrl.domain.permissions import Permission
from mltrl.services import cards as card_service
from mltrl.services import reviews as review_service
from mltrl.ui import access, cardview, context, current, feedback, tables

st.title("TRL card")
feedback.show_flash()

known = context.technologies()
codes, names = known.codes, known.names
if not codes:
    st.info("No technologies yet: add one on the Project page, or import a card with `mltrl card import`.",
            icon=":material/info:")
    st.stop()

code = current.technology_picker(codes, names, key="card_code")
version = context.data_version()
editable = access.can(Permission.EDIT) and not access.presenting()

STALE_BADGE = {"fresh": "green", "stale": "orange", "none": "gray"}
STALE_LABEL = {"fresh": "card up to date", "stale": "card stale", "none": "no card yet"}


def revision_label(rev) -> str:
    return f"revision {rev.number} · {rev.author} · {rev.at:%Y-%m-%d %H:%M}" + (f" · {rev.summary}" if rev.summary else "")


def read_tab(s, state, frozen) -> None:
    prior = sorted({lc.level for lc in frozen if lc.number is not None})

    def describe(choice: int | str) -> str:
        if choice == "current":
            return f"Current card (level {state.level if state.level is not None else '—'})"
        lc = [x for x in frozen if x.level == choice and x.number is not None][-1]
        return f"Card of level {choice}, as it stood when it left on {lc.left_at:%Y-%m-%d} ({lc.move} to {lc.to_level})"

    shown = "current"
    if prior:
        asked = st.query_params.get("level")
        if asked and asked.isdigit() and int(asked) in prior and "card_show" not in st.session_state:
            st.session_state["card_show"] = int(asked)
        shown = st.selectbox("Show", ["current", *prior], format_func=describe, key="card_show",
                             help="When the level changes, the card as it stood is kept as the card of the level it left.")
    elif frozen:
        st.caption("No card had been saved before this technology's earlier level changes, so there are no "
                   "prior level cards.")
    if shown != "current":
        old_card, header, lc = card_service.card_of_level(s, code, shown)
        cardview.show_card(old_card, header, version,
                           meta=f"Frozen card of level {shown}: revision {lc.number}, as it stood on {lc.left_at:%Y-%m-%d}.")
    elif state.number == 0:
        st.info("Nobody has written this card yet." + (" Open **Edit** to start it, or **Import** a Markdown card."
                                                         if editable else ""), icon=":material/edit_note:")
    else:
        cardview.show_card(state.card, state.header, version, register=card_service.register_lines(s, code),
                           testing=card_service.testing_lines(s, code))


def history_tab(s, state, seen: int) -> None:
    revs = card_service.revisions(s, code)
    if not revs:
        st.info("No revisions yet.", icon=":material/history:")
        return
    tables.show(
        [{"Revision": r.number, "Saved (UTC)": r.at.strftime("%Y-%m-%d %H:%M"), "By": r.author,
          "How": r.action + (f" of {r.restored_from}" if r.restored_from else ""),
          "Level": r.level, "Summary": r.summary} for r in revs],
        key="revisions",
    )
    by_number = {r.number: r for r in revs}
    numbers = list(by_number)
    st.markdown("**Compare two revisions**")
    c1, c2 = st.columns(2)
    # Keyed by the newest revision, so a new save shows the newest change by default.
    old_n = c1.selectbox("From", numbers, index=min(1, len(numbers) - 1), key=f"diff_from_{state.number}",
                         format_func=lambda n: revision_label(by_number[n]))
    new_n = c2.selectbox("To", numbers, index=0, key=f"diff_to_{state.number}",
                         format_func=lambda n: revision_label(by_number[n]))
    old_card, new_card = Card.from_dict(by_number[old_n].content), Card.from_dict(by_number[new_n].content)
    changes = cards.section_changes(old_card, new_card)
    st.caption(f"{len(changes)} part(s) changed from revision {old_n} to {new_n}: removed words struck through "
               "in red, added words in green.")
    cardview.show_diff(old_card, new_card)
    if editable and len(numbers) > 1:
        st.markdown("**Restore an old revision**")
        r1, r2 = st.columns([2, 1], vertical_alignment="bottom")
        restore_n = r1.selectbox("Revision to restore", numbers[1:], key=f"restore_number_{state.number}",
                                 format_func=lambda n: revision_label(by_number[n]))
        if r2.button("Restore as a new revision", icon=":material/restore:", key="restore"):
            feedback.run_use_case(
                lambda: card_service.restore_revision(session=s, actor=context.actor(), code=code,
                                                      number=restore_n, base_revision=seen),
                success=lambda rev: f"Restored revision {restore_n} of {code} as revision {rev.number}.",
                place="card_restore",
            )
        feedback.flash_here("card_restore")
        st.caption("Restoring saves the old content again as the newest revision; nothing is deleted.")


def brief_tab(s) -> None:
    brief = card_service.brief_html(s, code)
    cardview.show_html(brief)
    printable = cards.html_document(f"{code} brief", card_service.brief_html(s, code, for_export=True))
    if not access.presenting():
        st.download_button("Download the brief (printable HTML)", printable,
                           file_name=f"{code}-brief.html", mime="text/html", icon=":material/print:", key="dl_brief")


def edit_tab(s, state) -> None:
    edit_key = f"card_edit_{code}"
    if edit_key not in st.session_state:
        st.session_state[edit_key] = {"base": state.number, "round": 0}
    draft_of = st.session_state[edit_key]
    if draft_of["base"] == state.number:
        base_card = state.card  # with the technology's current owners
    elif draft_of["base"]:
        base_card = Card.from_dict(card_service.revision(s, code, draft_of["base"]).content)
    else:
        base_card = Card()
    st.caption(f"Editing from revision {draft_of['base']}. Markdown is allowed in the sections; write "
               "#R02.1 to link a technology and @name to link a person's cards. Links in the previews open "
               "in a new tab, so your draft stays here.")
    draft = cardview.editor(base_card, f"cf_{code}_{draft_of['round']}", version)
    change = st.text_input("Change summary (optional)", key=f"cf_{code}_{draft_of['round']}_summary",
                           placeholder="What changed, in a few words", max_chars=500)

    def save(base: int) -> None:
        def saved(rev) -> str:
            st.session_state[edit_key] = {"base": rev.number, "round": draft_of["round"] + 1}
            return f"Saved the card of {code} as revision {rev.number}."

        def refused(exc: MltrlError) -> None:
            if isinstance(exc, card_service.CardConflict):
                draft_of["conflict"] = exc.theirs_number

        feedback.run_use_case(
            lambda: card_service.save_card(session=s, actor=context.actor(), code=code, card=draft,
                                           base_revision=base, summary=change),
            success=saved, on_refusal=refused, place="card_save",
        )

    if st.button("Save card", type="primary", icon=":material/save:", key="save_card"):
        save(draft_of["base"])
    feedback.flash_here("card_save")  # beside the button, at the bottom of a long card
    conflict = draft_of.get("conflict")
    if conflict:  # drawn next to the Save button, where the person is looking
        theirs = card_service.revision(s, code, conflict)
        with st.container(border=True):
            st.warning(
                f"**{theirs.author}** saved revision {theirs.number} ({theirs.summary or 'no summary'}) after you "
                f"opened revision {draft_of['base']}, so your save was refused and nothing was overwritten. Your "
                "draft is still above. What they changed:",
                icon=":material/merge:",
            )
            cardview.show_diff(base_card, Card.from_dict(theirs.content))
            st.caption("Copy what you want to keep of their changes into your draft above, then save it on top "
                       "of their revision.")
            m1, m2 = st.columns(2)
            if m1.button(f"Save my merged draft on top of revision {theirs.number}", key="merge_done",
                         type="primary", icon=":material/merge:"):
                draft_of.update(base=theirs.number, conflict=None)
                save(theirs.number)
            if m2.button(f"Discard my draft and load revision {theirs.number}", key="merge_discard",
                         icon=":material/undo:"):
                st.session_state[edit_key] = {"base": theirs.number, "round": draft_of["round"] + 1}
                st.rerun()


def import_tab(s) -> None:
    st.markdown("Upload a card written in the MLTRL card layout (Markdown), or a Hugging Face model card "
                "(a `README.md` that starts with `---` front matter, such as the *HF model card* download): it "
                "becomes the next revision of the technology its summary table names (created if the ID is new). "
                "A model card's `model-index` results not yet in the evidence are recorded as evidence.")
    upload = st.file_uploader("Card file (.md)", type=["md", "markdown", "txt"], key="card_upload")
    into_this = st.checkbox(f"Import into {code} whatever ID the card names", key="import_here")
    if st.button("Import card", icon=":material/upload:", key="import_card", disabled=upload is None):
        try:
            text = upload.getvalue().decode("utf-8")
        except UnicodeDecodeError:
            st.error("Please check **file**: the file is not UTF-8 text; nothing was imported.", icon=":material/block:")
            return
        feedback.run_use_case(
            lambda: card_service.import_card(session=s, actor=context.actor(), text=text,
                                             code=code if into_this else None),
            success=lambda o: (f"Imported the card into {o.code} as revision {o.number}"
                               + (" (new technology)." if o.created else ".")
                               + (f" Recorded {o.evidence_added} evidence record"
                                  f"{'' if o.evidence_added == 1 else 's'} from its model-index."
                                  if o.evidence_added else "")),
            place="card_import",
        )
    feedback.flash_here("card_import")


with context.session() as s:
    state = card_service.current_card(s, code)
    frozen = list(state.frozen)
    seen = context.version_seen(f"card:{code}", state.number)

    badges = []
    if state.level is not None:
        meta = levels.level(state.level)
        badges.append(f":{charts.PHASE_BADGES[meta.phase.value]}-badge[Level {state.level} · {meta.name}]")
    else:
        badges.append(":gray-badge[no level yet]")
    badges.append(f":{STALE_BADGE[state.staleness.state]}-badge[{STALE_LABEL[state.staleness.state]}: "
                  f"{state.staleness.reason}]")
    if state.level is not None:
        for g in review_service.standing(s, code).gates:  # overrides shown apart from passes
            if g.override is not None and g.state.value != "passed":
                colour = "red" if g.state.value == "override expired" else "orange"
                until = f" valid through {days.last_day_before(g.override.expires_at):%Y-%m-%d}" if g.override.expires_at else ""
                badges.append(f":{colour}-badge[gate {g.state.value}: {g.title}, by {g.override.by}{until}]")
    st.markdown(" ".join(badges))
    if state.number:
        st.caption(f"Revision {state.number}, saved by {state.saved_by} on {state.saved_at:%Y-%m-%d %H:%M} UTC. "
                   f"Cards go stale {card_service.stale_days(s)} days after their last save, or when the level changes.")
    links_row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    links_row.page_link("views/project.py", label="Project page", icon=":material/timeline:", query_params={"code": code})
    if state.number and not access.presenting():
        cardview.download(links_row, "Markdown", code, "md", key="dl_md")
        cardview.download(links_row, "HTML", code, "html", key="dl_html")
        if hf.available():  # the hf extra; without it the card travels as Markdown or HTML
            cardview.download(links_row, "HF model card", code, "hf", key="dl_hf")

    tab_names = ["Card", "History", "Brief"] + (["Edit", "Import"] if editable else [])
    asked_tab = (st.query_params.get("tab") or "").capitalize()
    # Keyed and rerun on change: the open tab survives reruns (a save, a flash message), and only
    # the open tab's content is computed.
    tabs = dict(zip(tab_names, st.tabs(tab_names, key="card_tab", on_change="rerun",
                                       default=asked_tab if asked_tab in tab_names else None)))
    draw = {"Card": lambda: read_tab(s, state, frozen), "History": lambda: history_tab(s, state, seen),
            "Brief": lambda: brief_tab(s), "Edit": lambda: edit_tab(s, state), "Import": lambda: import_tab(s)}
    for name, tab in tabs.items():
        if tab.open:
            with tab:
                draw[name]()
    if not access.can(Permission.EDIT) and not access.presenting():
        st.caption("Read-only: your role can read cards but not change them.")
