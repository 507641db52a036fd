"""Every plotly chart the pages draw goes through ``chart``: one configuration for all of them
(no toolbar: the "modebar" of zoom, pan, lasso and download icons floats over the chart and reads
as clutter on a screen meant to be read at a glance; a drag still zooms and a double-click still
zooms out), and an empty chart says why in words instead of drawing bare axes.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

# The one chart configuration (plotly.js's ``config``): no toolbar, no plotly logo, and no zoom
# by the mouse wheel (the page scrolls through its charts).
CHART_CONFIG: dict[str, Any] = {"displayModeBar": False, "displaylogo": False, "scrollZoom": False}


def chart(fig: go.Figure | None, *, key: str, empty: str | None = None, icon: str = ":material/insert_chart:",
          **kwargs: Any) -> Any:
    """Draw ``fig`` with ``CHART_CONFIG``; with no figure (None: the page found nothing to draw),
    the sentence ``empty`` saying why, instead of bare axes. Other keyword arguments go to
    ``st.plotly_chart`` (``on_select``, ``selection_mode``, ...). Returns what ``st.plotly_chart``
    returns, or None."""
    if fig is None:
        st.info(empty or "Nothing to draw.", icon=icon)
        return None
    return st.plotly_chart(fig, key=key, config=CHART_CONFIG, **kwargs)
