"""Cards: every technology's card at a glance (stale ones first), a person's cards, and two
technologies' cards side by side."""

import pandas as pd
import streamlit as st

from mltrl.domain import analytics, cards
from mltrl.services import cards as card_service
from mltrl.ui import access, cardview, context, feedback, tables

st.title("Cards")
feedback.show_flash()

frame = context.portfolio_frame()
codes = sorted(frame["code"].tolist())
names = dict(zip(frame["code"], frame["name"]))
if not codes:
    st.info("No technologies yet.", icon=":material/info:")
    st.stop()

STATE_LABEL = {"fresh": "up to date", "stale": "stale", "none": "no card"}
overview_tab, person_tab, compare_tab = st.tabs(["All cards", "A person's cards", "Compare two technologies"])

with context.session() as s:
    rows = frame

    with overview_tab:
        counts = rows["card"].value_counts()
        m1, m2, m3 = st.columns(3)
        m1.metric("Cards up to date", int(counts.get("fresh", 0)))
        m2.metric("Stale cards", int(counts.get("stale", 0)),
                  help=f"Not saved since the last level change, or for more than {card_service.stale_days(s)} days.")
        m3.metric("Technologies without a card", int(counts.get("none", 0)))
        order = {"stale": 0, "none": 1, "fresh": 2}
        shown = rows.assign(_o=rows["card"].map(order)).sort_values(["_o", "code"])
        tables.show(
            pd.DataFrame({
                "Card": "card?code=" + shown["code"],
                "Name": shown["name"],
                "Level": shown["level"].astype("Int64"),
                "State": shown["card"].map(STATE_LABEL),
                "Why": shown["card_note"],
                "Last saved": shown["card_saved"].dt.strftime("%Y-%m-%d").fillna("—"),
                "Revisions": shown["card_revisions"],
            }),
            column_config={"Card": st.column_config.LinkColumn("Card", display_text=r"card\?code=(.*)")},
            key="card_overview",
        )

    with person_tab:
        if access.presenting():  # choose among the people named on the portfolio: nothing to type
            people = analytics.all_owners(context.portfolio_frame())
            asked = st.query_params.get("person", "")
            person = st.selectbox("Person", people, index=people.index(asked) if asked in people else None,
                                  key="person_pick", placeholder="choose a person") or asked
        else:
            person = st.text_input("Person", value=st.query_params.get("person", ""), key="person",
                                   help="A name or an @handle: the full name without spaces, or the first name.",
                                   placeholder="e.g. elena or Elena Marchetti")
        if person.strip():
            st.query_params["person"] = person.strip()
            found = card_service.cards_of_person(s, person.strip().lstrip("@"))
            if found:
                st.markdown(f"**{len(found)}** card(s) name **{found[0]['person']}** as an owner or reviewer.")
                tables.show(
                    pd.DataFrame({"Card": ["card?code=" + r["code"] for r in found],
                                  "Name": [r["name"] for r in found], "As": [r["as"] for r in found]}),
                    column_config={"Card": st.column_config.LinkColumn("Card", display_text=r"card\?code=(.*)")},
                    key="person_cards",
                )
            else:
                st.info(f"No card names {person.strip()!r} as an owner or reviewer.", icon=":material/person_search:")

    with compare_tab:
        c1, c2 = st.columns(2)
        fmt = lambda c: f"{c} · {names.get(c, '')}"
        left_code = c1.selectbox("Left", codes, index=0, key="compare_left", format_func=fmt)
        right_code = c2.selectbox("Right", codes, index=min(1, len(codes) - 1), key="compare_right", format_func=fmt)
        left, right = card_service.current_card(s, left_code), card_service.current_card(s, right_code)
        version = context.data_version()
        parts = [("TL;DR", left.card.tldr, right.card.tldr)]
        parts += [(heading, getattr(left.card, key), getattr(right.card, key)) for key, heading, _ in cards.SECTIONS]
        parts += [(f"Debrief: {q}", getattr(left.card, key), getattr(right.card, key)) for key, q in cards.DEBRIEF]
        head_l, head_r = st.columns(2)
        for col, state in ((head_l, left), (head_r, right)):
            col.markdown(f"**{state.code} · {state.name}**  \nLevel {state.level if state.level is not None else '—'}"
                         f" · card {STATE_LABEL[state.staleness.state]}")

        def summary(state) -> dict[str, str]:
            c = state.card
            return {"Level": "—" if state.level is None else str(state.level), "Owner(s)": ", ".join(c.owners) or "—",
                    "Reviewer(s)": ", ".join(c.reviewers) or "—", "Ethics checks?": cards.ethics_cell(c) or "—",
                    "Coupled components": ", ".join(c.coupled) or "—",
                    "Card": f"revision {state.number}, {state.staleness.reason}" if state.number else "no card yet"}

        st.table(pd.DataFrame({left_code: summary(left), right_code: summary(right)}))
        for heading, a, b in parts:
            st.markdown(f"#### {heading}")
            col_l, col_r = st.columns(2)
            with col_l:
                cardview.preview(a, version)
            with col_r:
                cardview.preview(b, version)
