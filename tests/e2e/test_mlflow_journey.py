"""A deployed technology linked to its model in MLflow: a lead links R30.1 (at level 9) to a
registered model on a real local MLflow tracking server, presses Sync, and sees both versions
arrive as evidence with their run metrics and the card's *Model / algorithm info* filled in. Then
the team moves the deployed alias to version 2 in MLflow; the next sync proposes the embedded
9 -> 7 switchback without recording it, and Accept records it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RUN_TIMEOUT_MS, demo_server, open_app, shot, wait_for_app
from tests.e2e.test_api_journey import _mltrl, _ok
from tests.e2e.test_review_journey import grid_with_column

pytestmark = pytest.mark.e2e

CODE, NAME = "R30.1", "Churn scorer"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo plus R30.1, started at level 9 (deployed), with no MLflow link yet."""
    def seed(url: str) -> None:
        _ok(_mltrl(url, "project", "add", CODE, NAME, "--owner", "Ada Byron"))
        _ok(_mltrl(url, "level", "start", CODE, "9", "--note", "in production since the spring"))

    with demo_server(tmp_path_factory, "mlflow", seed=seed) as base_url:
        yield base_url


def press(page: Page, name: str) -> None:
    page.get_by_role("button", name=name).click()
    wait_for_app(page)


def said(page: Page, text: str) -> None:
    """The success message of the last action (a toast, and the message where it was asked: for the
    link, inside the form's folder, which closes once saved). It may wait on the MLflow server, so
    on a busy machine it is given as long as a script run."""
    expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text=text).first).to_be_attached(
        timeout=RUN_TIMEOUT_MS)


def test_link_sync_and_a_moved_alias_proposes_the_switchback(server: str, page: Page, mlflow_server,
                                                              mlflow_seed) -> None:
    model = mlflow_seed.model()
    mlflow_seed.version(model, {"accuracy": 0.81, "auc": 0.88}, {"max_depth": "6"})
    mlflow_seed.version(model, {"accuracy": 0.86, "auc": 0.91}, {"max_depth": "8"})
    mlflow_seed.alias(model, "champion", "1")

    open_app(page, f"{server}/project?code={CODE}")
    expect(page.get_by_text(f"{CODE} is not linked to a model in an MLflow registry.", exact=False)).to_be_visible()
    page.get_by_text("Link to an MLflow model").click()
    page.get_by_role("textbox", name="Tracking server").fill(mlflow_server.uri)
    page.get_by_role("textbox", name="Registered model").fill(model)
    page.get_by_role("textbox", name="Registered model").press("Tab")  # leave the field, as a person does
    expect(page.get_by_role("textbox", name="Deployed alias")).to_have_value("champion")
    press(page, "Save the link")
    said(page, f"Saved the MLflow link of {CODE}.")
    expect(page.get_by_text(f"Registered model {model} at {mlflow_server.uri}", exact=False)).to_be_visible()

    press(page, "Sync from MLflow")
    said(page, f"{CODE}: 2 version(s) of {model} in MLflow, 2 new (1, 2); card updated")
    expect(page.get_by_text("Deployed version (alias champion): 1", exact=False)).to_be_visible()
    # both versions are in the evidence timeline, each with its run's metrics
    timeline = grid_with_column(page, "Kind")
    cells = timeline.locator("td[role='gridcell']")
    expect(cells.filter(has_text=re.compile(r"^accuracy 0\.81, auc 0\.88"))).to_have_count(1)
    expect(cells.filter(has_text=re.compile(r"^accuracy 0\.86, auc 0\.91"))).to_have_count(1)
    shot(page, "mlflow-synced")

    # The team promotes version 2 in MLflow; the dashboard proposes the change and waits for a person.
    mlflow_seed.alias(model, "champion", "2")
    press(page, "Sync from MLflow")
    said(page, "the deployed version moved from 1 to 2: a change to level 7 is proposed")
    proposal = page.get_by_text("The deployed version changed in MLflow", exact=False)
    expect(proposal).to_be_visible()
    expect(page.get_by_text("Level 9 · Deployment", exact=True).first).to_be_visible()  # proposed, not recorded
    shot(page, "mlflow-proposal")
    press(page, "Accept: back to level 7")
    said(page, f"{CODE} is back at level 7: the new deployed version is recorded.")
    expect(page.get_by_text("Level 7 · Integrations", exact=True).first).to_be_visible()
    expect(proposal).to_have_count(0)
    shot(page, "mlflow-accepted")

    # The card's Model / algorithm info holds the versions' table.
    open_app(page, f"{server}/card?code={CODE}")
    expect(page.get_by_role("heading", name="Model / algorithm info", level=3)).to_be_visible()
    versions = page.locator(".trl-card table").filter(has_text="Main metrics")
    expect(versions.get_by_role("row", name=re.compile(r"^2 champion \S+ accuracy 0\.86, auc 0\.91"))).to_be_visible()
    expect(versions.get_by_role("row", name=re.compile(r"^1 - \S+ accuracy 0\.81, auc 0\.88"))).to_be_visible()
    expect(page.locator(".trl-card").get_by_text(model, exact=False).first).to_be_visible()
    shot(page, "mlflow-card")
