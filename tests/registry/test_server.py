"""train → register → promote → load against a real ``mlflow server`` over HTTP.

The server runs as a subprocess of the venv's ``mlflow`` on 127.0.0.1 (a free port), with
a SQLite backend and proxied artifacts in a temp dir; it is stopped by its PID at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from riskscore.modeling import TrainResult
from riskscore.registry import load_risk_model, log_training, promote

pytestmark = pytest.mark.server

NAME = "riskscore-seller-fraud"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    mlflow_bin = Path(sys.executable).parent / "mlflow"
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            str(mlflow_bin),
            "server",
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'server.db'}",
            "--artifacts-destination",
            str(tmp_path / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so its workers stop with it
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"mlflow server exited: {(tmp_path / 'server.log').read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("mlflow server did not answer /health within 240 s")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        log.close()


def test_train_register_promote_load_over_http(
    server: str, good: TrainResult, bad: TrainResult
) -> None:
    first = log_training(good, tracking_uri=server, plots=False, include_code=False)
    assert first.version == "1" and first.tracking_uri == server
    assert promote(NAME, tracking_uri=server, n_bootstrap=0).promoted
    second = log_training(bad, tracking_uri=server, plots=False, include_code=False)
    refused = promote(NAME, tracking_uri=server, n_bootstrap=0)
    assert second.version == "2" and not refused.promoted

    loaded = load_risk_model(f"models:/{NAME}@champion", tracking_uri=server)
    assert (loaded.name, loaded.version, loaded.run_id) == (NAME, "1", first.run_id)
    X = good.model.to_matrix(good.test_frame)
    np.testing.assert_array_equal(loaded.model.predict_proba(X), good.model.predict_proba(X))
    challenger = load_risk_model(f"models:/{NAME}@challenger", tracking_uri=server)
    assert challenger.version == "2"
