"""Level guide: the ten MLTRL levels, their phases, reviews and the switchback kinds."""

import pandas as pd
import streamlit as st

from mltrl import charts

from mltrl.domain import levels
from mltrl.domain.levels import EMBEDDED_SWITCHBACKS, SWITCHBACK_KIND_HELP, Phase
from mltrl.ui import tables

st.title("Level guide")
st.caption(
    "MLTRL grades how mature a machine-learning technology is, from first principles (0) to "
    "deployment (9). Technologies graduate one level at a time through a gated review, and may "
    "switch back to a lower level when the work or a review calls for it."
)

overview = pd.DataFrame({
    "Level": [lv.number for lv in levels.LEVELS],
    "Name": [lv.name for lv in levels.LEVELS],
    "Phase": [lv.phase.value for lv in levels.LEVELS],
    "Review panel": [", ".join(lv.panel) for lv in levels.LEVELS],
})
tables.show(
    overview.style.map(lambda p: f"background-color: {charts.phase_tint(p, 0.28)}", subset=["Phase"]),
    key="guide_overview",
)

for phase in Phase:
    badge = charts.PHASE_BADGES[phase.value]
    st.subheader(f":{badge}[{phase.value.capitalize()}] · levels "
                 f"{min(levels.PHASE_LEVELS[phase])}-{max(levels.PHASE_LEVELS[phase])}", anchor=False)
    for lv in levels.LEVELS:
        if lv.phase is not phase:
            continue
        with st.expander(f"**{lv.label}**", expanded=False):
            st.markdown(lv.summary)
            c1, c2 = st.columns(2)
            c1.markdown(f"**Data**  \n{lv.data}")
            c2.markdown(f"**Review looks at**  \n{lv.review}")
            c1.markdown(f"**Panel**  \n{', '.join(lv.panel)}")
            if lv.decision:
                c2.markdown(f"**Key decision**  \n{lv.decision}")
            if lv.code_quality:
                st.markdown(f"**Code quality from here on**  \n{lv.code_quality}")

st.subheader("Switchbacks", anchor=False)
st.markdown(
    "A switchback moves a technology to a lower level. It is part of the process, not a failure: "
    "the dashboard records why it happened, as one of three kinds."
)
for kind, text in SWITCHBACK_KIND_HELP.items():
    st.markdown(f"**{kind.value.capitalize()}**: {text}")
pairs = ", ".join(f"{a}→{b}" for a, b in sorted(EMBEDDED_SWITCHBACKS, reverse=True))
st.info(
    f"Only {pairs} may be recorded as embedded. A switchback to a level the technology never "
    "held (it started higher) is allowed, with a warning.",
    icon=":material/info:",
)
