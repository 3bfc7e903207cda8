"""What every registry module shares: the MLflow import, the tracking URI, names and paths.

The tracking URI is the ``tracking_uri`` argument, else ``MLFLOW_TRACKING_URI``, else a
local SQLite file ``sqlite:///mlflow.db`` (see :func:`riskscore._config.tracking_uri`).
For a SQLite URI, a new experiment stores its artifacts in ``mlartifacts/`` beside the
database file. There is one experiment per entity and target, named like the registered
model: ``riskscore-<entity>-<target>``.

mlflow is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from riskscore import _config
from riskscore.registry._errors import RegistryError

__all__ = [
    "ALIASES",
    "EVALUATED_PATH",
    "PYFUNC_NAME",
    "RISKMODEL_PATH",
    "TEST_FRAME_PATH",
    "model_name",
]

#: Aliases riskscore manages on a registered model.
ALIASES: tuple[str, ...] = ("champion", "challenger", "previous")

#: Artifact paths inside a run.
RISKMODEL_PATH = "riskmodel"
#: The fit that produced the run's metrics, when the deployed model is a refit.
EVALUATED_PATH = "evaluated_model"
PYFUNC_NAME = "model"
TEST_FRAME_PATH = "evaluation/test.parquet"


def model_name(entity: str, target: str) -> str:
    """Return the registered model (and experiment) name of an entity and target.

    Raises
    ------
    RegistryError
        ``entity`` or ``target`` is not a non-empty string.

    Examples
    --------
    >>> model_name("seller", "fraud")
    'riskscore-seller-fraud'
    """
    for label, value in (("entity", entity), ("target", target)):
        _check_text(value, label, "model_name", "such as 'seller' / 'fraud'")
    return f"riskscore-{entity}-{target}"


def _check_text(value: Any, parameter: str, where: str, example: str) -> None:
    """Raise :class:`RegistryError` unless ``value`` is a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        got = repr(value) if isinstance(value, str) else type(value).__name__
        raise RegistryError(
            f"The '{parameter}' parameter of {where} must be a non-empty str ({example}). "
            f"Got {got} instead."
        )


def _mlflow() -> Any:
    try:
        import mlflow
    except ImportError as err:  # pragma: no cover - mlflow is a dependency
        raise RegistryError("mlflow is not installed; pip install 'mlflow==3.17.2'") from err
    return mlflow


def _resolve_uri(tracking_uri: str | None) -> str:
    return tracking_uri or _config.tracking_uri()


@contextmanager
def _tracking(tracking_uri: str | None) -> Iterator[Any]:
    """Point MLflow (fluent API and a client) at the tracking URI; yield the client.

    Every registry function calls this first, so a process can switch tracking URIs
    between calls.
    """
    mlflow = _mlflow()
    uri = _resolve_uri(tracking_uri)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    yield mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def _artifact_root(uri: str, experiment: str) -> str | None:
    """Return ``mlartifacts/<experiment>`` beside a SQLite database, else None (server default)."""
    if not uri.startswith("sqlite:///"):
        return None
    db = Path(uri[len("sqlite:///") :])
    return (db.resolve().parent / "mlartifacts" / experiment).as_uri()


def _experiment_id(client: Any, name: str, uri: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(found.experiment_id)
        return str(found.experiment_id)
    return str(client.create_experiment(name, artifact_location=_artifact_root(uri, name)))
