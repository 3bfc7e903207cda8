"""MLflow tracking and model registry for riskscore: the only package that imports mlflow.

mlflow is imported inside the functions, so importing this package is cheap.

* :func:`log_training` / :func:`train_and_log` — one run per training, registered as a new
  version of ``riskscore-<entity>-<target>`` with the alias ``challenger``
  (``_log.py``).
* :func:`promote` with a :class:`Gate` — champion / challenger / previous aliases;
  :func:`rollback` (``_promote.py``; the gate is ``_gate.py``: three outcomes, promote /
  refuse / insufficient evidence, from paired intervals pooled over cutoffs and the
  false-positive rate of protected slices, :data:`DEFAULT_PROTECTED`).
* :func:`load_risk_model` — a RiskModel with its name and version from any MLflow URI
  (``models:/name@champion``, ``models:/name/3``, ``runs:/<id>/model``) or a folder;
  :func:`spark_udf` — the logged pyfunc as a Spark UDF (``_load.py``).
* :func:`log_monitor_report` — a monitoring report (``riskscore.monitor.compare``) filed
  under the model version it watched: artifacts ``monitor/<label>/``, ``monitor.*``
  metrics, status tags (``_monitor.py``).
* The pyfunc itself: its wrapper (``_pyfunc.py``) and its contract — prediction
  parameters, output columns and their Spark types (``_contract.py``). Tracking URI and
  names shared by all of these: ``_tracking.py``.

Which loader when (one path per need)
-------------------------------------
* a folder written by ``RiskModel.save`` → a RiskModel: ``RiskModel.load(folder)``;
* any MLflow URI (or a folder) → a RiskModel with its name, version and run:
  :func:`load_risk_model` (the one function that downloads a model from MLflow);
* anything → a :class:`~riskscore.scoring.Scorer`, ready to score and cached per process:
  :func:`riskscore.scoring.load_scorer` (it calls :func:`load_risk_model` for URIs);
* an MLflow URI → a Spark UDF: :func:`spark_udf` (used by
  :func:`riskscore.scoring.score_spark`).

``registry.load(uri)`` is deprecated (it was ``load_risk_model(uri).model``).

Layers: the registry sits below :mod:`riskscore.scoring` (scoring loads MLflow URIs through
it) and above :mod:`riskscore.modeling` and :mod:`riskscore.explain`; nothing here imports
scoring (checked by ``tests/test_layers.py``).
"""

from riskscore.registry._errors import RegistryError
from riskscore.registry._gate import DEFAULT_PROTECTED, Gate, GateDecision
from riskscore.registry._load import LoadedModel, load, load_risk_model, spark_udf
from riskscore.registry._log import LoggedRun, log_rules, log_training, train_and_log
from riskscore.registry._monitor import log_monitor_report
from riskscore.registry._promote import Promotion, promote, rollback
from riskscore.registry._tracking import ALIASES, model_name

__all__ = [
    "ALIASES",
    "DEFAULT_PROTECTED",
    "Gate",
    "GateDecision",
    "LoadedModel",
    "LoggedRun",
    "Promotion",
    "RegistryError",
    "load",
    "load_risk_model",
    "log_monitor_report",
    "log_rules",
    "log_training",
    "model_name",
    "promote",
    "rollback",
    "spark_udf",
    "train_and_log",
]
