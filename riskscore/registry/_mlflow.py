"""Old home of the registry code, kept so existing imports keep working.

The module was split along its seams: :mod:`riskscore.registry._tracking` (MLflow import,
tracking URI, names), :mod:`riskscore.registry._log` (runs and registration),
:mod:`riskscore.registry._load` (loading by URI, ``spark_udf``) and
:mod:`riskscore.registry._promote` (aliases). Import from :mod:`riskscore.registry`, or
from those modules; nothing new goes here.
"""

from __future__ import annotations

from riskscore.registry._load import (
    LoadedModel,
    _download,
    _find_riskmodel,
    _version_of,
    load,
    load_risk_model,
    spark_udf,
)
from riskscore.registry._log import (
    PYFUNC_ENTRY,
    LoggedRun,
    _log_model,
    _run_metrics,
    _run_params,
    log_training,
    save_pyfunc,
    train_and_log,
)
from riskscore.registry._promote import Promotion, _candidate, _gate_model, promote, rollback
from riskscore.registry._tracking import (
    ALIASES,
    EVALUATED_PATH,
    PYFUNC_NAME,
    RISKMODEL_PATH,
    TEST_FRAME_PATH,
    _artifact_root,
    _experiment_id,
    _mlflow,
    _resolve_uri,
    _tracking,
    model_name,
)

__all__ = [
    "ALIASES",
    "EVALUATED_PATH",
    "PYFUNC_ENTRY",
    "PYFUNC_NAME",
    "RISKMODEL_PATH",
    "TEST_FRAME_PATH",
    "LoadedModel",
    "LoggedRun",
    "Promotion",
    "_artifact_root",
    "_candidate",
    "_download",
    "_experiment_id",
    "_find_riskmodel",
    "_gate_model",
    "_log_model",
    "_mlflow",
    "_resolve_uri",
    "_run_metrics",
    "_run_params",
    "_tracking",
    "_version_of",
    "load",
    "load_risk_model",
    "log_training",
    "model_name",
    "promote",
    "rollback",
    "save_pyfunc",
    "spark_udf",
    "train_and_log",
]
