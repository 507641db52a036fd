"""One home for the chart configuration (``mltrl.ui.plots``): no plotly toolbar on any chart, every
``st.plotly_chart`` of the app goes through it, and a chart with nothing to draw says why."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from mltrl.ui import plots

ROOT = Path(__file__).resolve().parents[2]


def test_the_configuration_hides_the_toolbar_and_the_logo():
    assert plots.CHART_CONFIG["displayModeBar"] is False
    assert plots.CHART_CONFIG["displaylogo"] is False
    assert plots.CHART_CONFIG["scrollZoom"] is False


def _plotly_chart_calls(path: Path) -> list[int]:
    """Lines of ``path`` that call ``<something>.plotly_chart(...)``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "plotly_chart"]


def test_every_chart_of_the_app_goes_through_the_one_configuration():
    sources = [*ROOT.joinpath("views").glob("*.py"), ROOT / "app.py", *ROOT.joinpath("mltrl").rglob("*.py")]
    calls = {str(p.relative_to(ROOT)): lines for p in sources if (lines := _plotly_chart_calls(p))}
    assert calls == {"mltrl/ui/plots.py": calls.get("mltrl/ui/plots.py", [])} and calls["mltrl/ui/plots.py"], calls


def _script():
    import plotly.graph_objects as go

    from mltrl.ui import plots

    plots.chart(go.Figure(go.Bar(x=[1, 2], y=[3, 4])), key="drawn")
    plots.chart(None, key="nothing", empty="No risk recorded yet: the trend starts with the first risk.")


def test_a_chart_is_drawn_with_the_configuration_and_an_empty_one_says_why():
    at = AppTest.from_function(_script, default_timeout=30).run()
    assert not at.exception, at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 1  # the empty one draws no axes
    assert json.loads(charts[0].proto.config) == plots.CHART_CONFIG
    assert [i.value for i in at.info] == ["No risk recorded yet: the trend starts with the first risk."]
