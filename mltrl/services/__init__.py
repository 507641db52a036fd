"""Use cases: the only code that writes. Each module holds one capability.

* ``projects``    -- register and edit technologies (projects and components)
* ``level_moves`` -- starts, graduations and switchbacks, through the level engine
* ``portfolio``   -- the portfolio table (read only)
* ``okrs``        -- objectives of a quarter, key results, check-ins, copies
* ``demo``        -- the demo portfolio
* ``acting``      -- single-user mode's acting name, kept per browser (checked, cookie-encoded)
* ``mlflow_sync`` -- a technology's link to an MLflow registered model, the sync, its webhook
* ``_core``       -- the acting user, one transaction per use case, the audit row
"""

from mltrl.services._core import WRITE_SERVICES, Actor

__all__ = ["WRITE_SERVICES", "Actor"]
