"""Plotly figures from DataFrames. Pure: no streamlit, no database.

Colours are defined once (``common``) and used everywhere (tables and badges take theirs from
here too): one colour per phase, one marker per kind of level change. The figures live by subject:

* ``common``    -- phase and event colours, the level axis and phase bands, hover lines of events
* ``levels``    -- a technology's level over time, the portfolio's technologies per level
* ``risks``     -- the risk matrix, total open risk over time
* ``timelines`` -- a system's tree over time, the portfolio's swimlanes
* ``analytics`` -- time per level, transitions, moves, switchback rates, the portfolio heat map
* ``okrs``      -- key result status colours, the quarter's burn-up, a key result's path

Callers use the package (``from mltrl import charts; charts.level_step_chart(...)``): every public
name is re-exported here.
"""

from mltrl.charts.analytics import (
    MOVE_COLOURS,
    ONGOING_COLOUR,
    moves_sankey,
    portfolio_heatmap,
    switchback_rate_chart,
    technology_time_chart,
    time_in_level_chart,
    transition_heatmap,
)
from mltrl.charts.common import (
    EVENT_LABELS,
    EVENT_STYLES,
    NO_LEVEL_COLOUR,
    PHASE_BADGES,
    PHASE_COLOURS,
    REVIEWED_RING,
    phase_tint,
    review_labels,
)
from mltrl.charts.levels import level_step_chart, levels_bar
from mltrl.charts.okrs import STATUS_COLOURS, burnup_chart, key_result_chart
from mltrl.charts.risks import CATEGORY_COLOURS, risk_matrix, risk_trend
from mltrl.charts.timelines import (
    COMPONENT_COLOURS,
    SWITCHBACK_KINDS,
    SYSTEM_LINE_COLOUR,
    lane_offsets,
    swimlanes_chart,
    system_timeline_chart,
)

__all__ = [
    "CATEGORY_COLOURS",
    "COMPONENT_COLOURS",
    "EVENT_LABELS",
    "EVENT_STYLES",
    "MOVE_COLOURS",
    "NO_LEVEL_COLOUR",
    "ONGOING_COLOUR",
    "PHASE_BADGES",
    "PHASE_COLOURS",
    "REVIEWED_RING",
    "STATUS_COLOURS",
    "SWITCHBACK_KINDS",
    "SYSTEM_LINE_COLOUR",
    "burnup_chart",
    "key_result_chart",
    "lane_offsets",
    "level_step_chart",
    "levels_bar",
    "moves_sankey",
    "phase_tint",
    "portfolio_heatmap",
    "review_labels",
    "risk_matrix",
    "risk_trend",
    "swimlanes_chart",
    "switchback_rate_chart",
    "system_timeline_chart",
    "technology_time_chart",
    "time_in_level_chart",
    "transition_heatmap",
]
