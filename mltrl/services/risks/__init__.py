"""The requirements and risk registers of a technology, their CSV files, the 5x5 matrix counts and
the portfolio's risk views: one capability, in three modules, all reachable as
``mltrl.services.risks.X``.

* ``register``  -- checking, adding, editing, accepting and reviewing requirements and risks; grid saves
* ``csvfiles``  -- CSV export and all-or-nothing import (acceptance included; formula cells escaped)
* ``matrix``    -- matrix counts and cell items in SQL, review states, highest and overdue risks,
  risk growth and the risk history for the trend
"""

from mltrl.services.risks.csvfiles import ImportSummary, export_requirements, export_risks, import_requirements, import_risks
from mltrl.services.risks.matrix import (
    cell_items,
    levels_of,
    matrix_counts,
    overdue_risks,
    review_state,
    review_states,
    risk_events,
    risk_growth,
    top_risks,
)
from mltrl.services.risks.register import (
    ACCEPTANCE_COLUMNS,
    REQUIRED_REQUIREMENT_COLUMNS,
    REQUIRED_RISK_COLUMNS,
    REQUIREMENT_COLUMNS,
    RISK_COLUMNS,
    EditSummary,
    RowEdit,
    accept_risk,
    add_requirement,
    add_risk,
    clean_acceptance,
    clean_requirement,
    clean_risk,
    delete_requirement,
    edit_requirements,
    edit_risks,
    requirements,
    review_risk,
    risk_history,
    risk_record,
    risks,
    update_requirement,
    update_risk,
)

__all__ = [
    "ACCEPTANCE_COLUMNS", "REQUIRED_REQUIREMENT_COLUMNS", "REQUIRED_RISK_COLUMNS", "REQUIREMENT_COLUMNS",
    "RISK_COLUMNS", "EditSummary", "ImportSummary", "RowEdit", "accept_risk", "add_requirement", "add_risk",
    "cell_items", "clean_acceptance", "clean_requirement", "clean_risk", "delete_requirement", "edit_requirements",
    "edit_risks", "export_requirements", "export_risks", "import_requirements", "import_risks", "levels_of",
    "matrix_counts", "overdue_risks", "requirements", "review_risk", "review_state", "review_states", "risk_events",
    "risk_growth", "risk_history", "risk_record", "risks", "top_risks", "update_requirement", "update_risk",
]
