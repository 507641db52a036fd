"""A real MLflow tracking server for the MLflow sync tests: ``mlflow server`` from the separate venv
``.venv-mlflow`` (``make mlflow-server``: full mlflow pins its own dependencies, so it stays out of
the app's venv, which holds only the client, mlflow-skinny), on a free loopback port, with a SQLite
backend store and an artifact folder in a temporary directory. One per test session (per xdist
worker), stopped at its end.

Under ``CI=true`` a missing ``.venv-mlflow`` fails the tests that need the server; elsewhere they
are skipped, saying how to get it.

``Seeder`` writes the registry's content through the client of the main venv: an experiment, runs
with metrics and params, a registered model, versions (a source URI only: no artifacts), aliases.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MLFLOW = ROOT / ".venv-mlflow" / "bin" / "mlflow"
START_TIMEOUT_S = 300  # a cold start on a busy 2-core machine takes tens of seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port_uri() -> str:
    """The address of a loopback port nothing listens on (a dead server)."""
    return f"http://127.0.0.1:{free_port()}"


@dataclass
class MlflowServer:
    uri: str
    process: subprocess.Popen
    folder: Path
    log: Path

    @classmethod
    def start(cls) -> MlflowServer:
        folder = Path(tempfile.mkdtemp(prefix="mltrl-mlflow-"))
        port = free_port()
        log = folder / "server.log"
        # Webhooks to the dashboard's test server on loopback over http: MLflow delivers only to https
        # and public addresses unless told otherwise, and caches the list of webhooks for 60 s.
        env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", PYTHONUNBUFFERED="1",
                   MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS="true", MLFLOW_WEBHOOK_ALLOWED_SCHEMES="http,https",
                   MLFLOW_WEBHOOK_CACHE_TTL="1",
                   MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")  # no background job runner: fewer processes
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [str(MLFLOW), "server", "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
                 "--default-artifact-root", str(folder / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
                 "--workers", "1"],
                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder, start_new_session=True)
        server = cls(f"http://127.0.0.1:{port}", process, folder, log)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                server.stop()
                raise RuntimeError(f"mlflow server exited ({process.returncode}): {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(server.uri + "/health", timeout=2) as answer:
                    if answer.status == 200:
                        return server
            except OSError:
                time.sleep(0.5)
        tail = log.read_text()[-2000:]
        server.stop()
        raise RuntimeError(f"mlflow server did not answer within {START_TIMEOUT_S} s: {tail}")

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)  # its own session: the server and its workers
                self.process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=20)
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # any worker still on its way out
        except (ProcessLookupError, PermissionError):
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


def mlflow_server_or_skip() -> MlflowServer:
    if not MLFLOW.exists():
        reason = f"{MLFLOW.relative_to(ROOT)} is missing: run `make mlflow-server` (or `make test`, which does)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + " [on CI (CI=true)]", pytrace=False)
        pytest.skip(reason)
    return MlflowServer.start()


class Seeder:
    """Builds registry content on a server through the main venv's client (mlflow-skinny)."""

    def __init__(self, uri: str):
        from mlflow import MlflowClient

        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        self.uri = uri
        self.client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        self.experiment = self.client.create_experiment(f"mltrl-{uuid.uuid4().hex[:8]}")

    def run(self, metrics: dict[str, float], params: dict[str, str] | None = None) -> str:
        run = self.client.create_run(self.experiment)
        for name, value in metrics.items():
            self.client.log_metric(run.info.run_id, name, value)
        for name, value in (params or {}).items():
            self.client.log_param(run.info.run_id, name, value)
        self.client.set_terminated(run.info.run_id)
        return run.info.run_id

    def model(self, name: str | None = None) -> str:
        name = name or f"model-{uuid.uuid4().hex[:8]}"
        self.client.create_registered_model(name)
        return name

    def version(self, name: str, metrics: dict[str, float], params: dict[str, str] | None = None) -> str:
        run_id = self.run(metrics, params)
        mv = self.client.create_model_version(name, source=f"runs:/{run_id}/model", run_id=run_id,
                                              tags={"stage": "test"})
        return str(mv.version)

    def alias(self, name: str, alias: str, version: str) -> None:
        self.client.set_registered_model_alias(name, alias, version)
