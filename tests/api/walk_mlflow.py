"""The writes of /api/v1/projects/{code}/mlflow as requests an editor makes successfully on the
demo portfolio (``walk(session)``), for the authorization walk in ``test_api_authorization``.
The sync needs a live MLflow server: it is in ``NOT_EXPOSED`` there, and tested in
``tests/api/test_mlflow.py``."""

from __future__ import annotations

from sqlmodel import Session

from mltrl.services import Actor, mlflow_sync


def walk(session: Session) -> list[tuple]:
    mlflow_sync.link_model(session=session, actor=Actor("ada"), code="P02.1", tracking_uri="http://mlflow.test:5000",
                           model_name="walked")
    return [
        (mlflow_sync.link_model, "PUT", "/projects/R01.1/mlflow",
         {"json": {"tracking_uri": "http://mlflow.test:5000", "model_name": "walk"}}),
        (mlflow_sync.unlink_model, "DELETE", "/projects/P02.1/mlflow", {}),
    ]


__all__ = ["walk"]
