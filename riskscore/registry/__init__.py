"""MLflow tracking and model registry for riskscore: the only package that imports mlflow.

mlflow is imported inside the functions, so importing this package is cheap.

* :func:`log_training` / :func:`train_and_log` — one run per training, registered as a new
  version of ``riskscore-<entity>-<target>`` with the alias ``challenger``.
* :func:`promote` with a :class:`Gate` — champion / challenger / previous aliases;
  :func:`rollback`.
* :func:`load` / :func:`load_risk_model` — a RiskModel from ``models:/name@champion``,
  ``models:/name/3``, ``runs:/<id>/riskmodel`` or a local folder.
"""

from riskscore.registry._errors import RegistryError
from riskscore.registry._gate import Gate, GateDecision
from riskscore.registry._mlflow import (
    ALIASES,
    LoadedModel,
    LoggedRun,
    Promotion,
    load,
    load_risk_model,
    log_training,
    model_name,
    promote,
    rollback,
    train_and_log,
)

__all__ = [
    "ALIASES",
    "Gate",
    "GateDecision",
    "LoadedModel",
    "LoggedRun",
    "Promotion",
    "RegistryError",
    "load",
    "load_risk_model",
    "log_training",
    "model_name",
    "promote",
    "rollback",
    "train_and_log",
]
