"""``riskscore serve models:/name@alias`` follows the alias when it moves (MLflow registry)."""

from __future__ import annotations

import contextlib
import json
import time
import warnings

import pytest

from tests.serve.conftest import Client, demo_rows, save_demo, start_server

pytestmark = [pytest.mark.server, pytest.mark.slow]

NAME = "riskscore-seller-demo"


def _register(tracking: str, folder, alias: str | None = None) -> str:
    """Log ``folder`` as the run artifact ``riskmodel`` and register it; return the version."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=tracking, registry_uri=tracking)
    mlflow.set_tracking_uri(tracking)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mlflow.start_run() as run:
            mlflow.log_artifacts(str(folder), artifact_path="riskmodel")
        with contextlib.suppress(mlflow.exceptions.MlflowException):  # already there
            client.create_registered_model(NAME)
        mv = client.create_model_version(
            NAME, f"runs:/{run.info.run_id}/riskmodel", run_id=run.info.run_id
        )
        if alias:
            client.set_registered_model_alias(NAME, alias, mv.version)
    return str(mv.version)


def test_serving_an_alias_follows_it(tmp_path, local_scorer, monkeypatch):
    pytest.importorskip("mlflow")
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    first = _register(tracking, save_demo(tmp_path / "a", "a"), alias="champion")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    monkeypatch.chdir(tmp_path)  # MLflow's default artifact root lands here
    row = demo_rows(local_scorer, 1)[0]
    uri = f"models:/{NAME}@champion"
    with start_server(uri, "--reload-seconds", "0.3", log=tmp_path / "server.log") as port:
        client = Client(port)
        status, answer = client.post("/score", row)
        assert status == 200 and answer["model_version"] == first
        second = _register(tracking, save_demo(tmp_path / "b", "b"), alias="champion")
        assert second != first
        deadline = time.monotonic() + 60
        while client.post("/score", row)[1].get("model_version") != second:
            assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            time.sleep(0.2)
        status, body = client.get("/ready")
        assert json.loads(body)["model_version"] == second
        client.close()
