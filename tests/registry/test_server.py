"""train → register → promote → load against a real ``mlflow server`` over HTTP.

The server runs as a subprocess of the venv's ``mlflow`` on 127.0.0.1 (a free port), with
a SQLite backend and proxied artifacts in a temp dir; it is stopped by its PID at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bench._servers import tracking_server
from riskscore.modeling import TrainResult
from riskscore.registry import load_risk_model, log_training, promote

pytestmark = [pytest.mark.server, pytest.mark.slow]

NAME = "riskscore-seller-fraud"


def _score(model, X) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Calibrated scores, one per row (the API every RiskModel version has)."""
    return np.asarray(model.scores_from_raw(model.raw_score(X))["score"], dtype=float)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with tracking_server(tmp_path) as url:
        yield url


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
    np.testing.assert_array_equal(_score(loaded.model, X), _score(good.model, X))
    challenger = load_risk_model(f"models:/{NAME}@challenger", tracking_uri=server)
    assert challenger.version == "2"
