"""Log a monitoring report under the model version it watched (``monitor/<label>/``).

``riskscore monitor --model URI`` compares a scoring run with the reference logged with a
model version; :func:`log_monitor_report` then files the report beside that reference, in
the version's training run: ``report.json`` and ``report.html`` under
``monitor/<label>/``, one step of the ``monitor.*`` metrics (so MLflow's UI draws the score
PSI or the flagged share over the runs), and tags with the last status on the run and on the
model version. A finished run accepts artifacts and metrics through ``MlflowClient``; its
status stays FINISHED. mlflow is imported inside the function.
"""

from __future__ import annotations

import re
import tempfile
import time
from typing import TYPE_CHECKING

from riskscore.registry._errors import RegistryError
from riskscore.registry._tracking import _tracking

if TYPE_CHECKING:
    from riskscore.monitor import MonitorReport

__all__ = ["MONITOR_ARTIFACTS", "log_monitor_report"]

#: Artifact folder of the monitoring reports in a model version's run.
MONITOR_ARTIFACTS = "monitor"
_LABEL = re.compile(r"[^0-9A-Za-z._-]+")


def log_monitor_report(
    report: MonitorReport,
    run_id: str,
    *,
    label: str | None = None,
    model_name: str | None = None,
    version: str | None = None,
    tracking_uri: str | None = None,
) -> str:
    """Log ``report`` into the training run ``run_id`` of the model version it watched.

    Parameters
    ----------
    report : riskscore.monitor.MonitorReport
        What :func:`riskscore.monitor.compare` found.
    run_id : str
        The model version's run (``LoadedModel.run_id``).
    label : str, optional
        Name of the report's folder, e.g. the moment scored (``2024-10-01``); characters
        other than letters, digits, ``.``, ``_`` and ``-`` become ``-``. Default: the UTC
        time now (``20241001T031500Z``).
    model_name, version : str, optional
        The registered model and version: when both are given, the version gets the tags
        ``riskscore.monitor.status`` and ``riskscore.monitor.report`` too.
    tracking_uri : str, optional
        Default: ``$MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db``.

    Returns
    -------
    str
        The artifact path of the report's folder (``monitor/<label>``).

    Raises
    ------
    RegistryError
        When the run does not exist or MLflow refuses the artifacts.

    Notes
    -----
    Metrics are logged with the report's step (0 for the first report of the run, then
    1, 2, ... in the order logged, also when a label is logged again):
    ``monitor.score_psi``, ``monitor.band_psi``, ``monitor.flagged_share``,
    ``monitor.flagged_share_ref``, ``monitor.max_feature_psi``, ``monitor.rows``,
    ``monitor.act_findings``, ``monitor.watch_findings`` and ``monitor.level`` (0 ok,
    1 watch, 2 act); a value the report does not have (no scores, no features) is left
    out.

    Examples
    --------
    Sets the process's MLflow tracking URI, as every registry call does (so not run here;
    ``tests/registry/test_registry.py`` runs it against a real store):

    >>> from riskscore.monitor import compare
    >>> from riskscore.registry import load_risk_model
    >>> loaded = load_risk_model("models:/riskscore-seller-fraud@champion")  # doctest: +SKIP
    >>> report = compare(reference, features, scores)  # doctest: +SKIP
    >>> log_monitor_report(report, loaded.run_id, label="2024-10-01",
    ...                    model_name=loaded.name, version=loaded.version)  # doctest: +SKIP
    'monitor/2024-10-01'
    """
    from riskscore.monitor import MonitorReport

    if not isinstance(report, MonitorReport):
        raise RegistryError(
            "The 'report' parameter of log_monitor_report must be a MonitorReport (what "
            f"riskscore.monitor.compare returns). Got {type(report).__name__} instead."
        )
    if not isinstance(run_id, str) or not run_id.strip():
        raise RegistryError(
            "The 'run_id' parameter of log_monitor_report must be the model version's run "
            f"id (LoadedModel.run_id). Got {run_id!r} instead."
        )
    stamp = label or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    name = _LABEL.sub("-", str(stamp)).strip("-") or "report"
    path = f"{MONITOR_ARTIFACTS}/{name}"
    metrics = report.metrics()
    from mlflow.exceptions import MlflowException

    with _tracking(tracking_uri) as client:
        try:
            client.get_run(run_id)
            logged = client.get_metric_history(run_id, "monitor.level")
            step = max((m.step for m in logged), default=-1) + 1
            with tempfile.TemporaryDirectory(prefix="riskscore-monitor-") as tmp:
                report.write(tmp)
                client.log_artifacts(run_id, tmp, path)
            now = int(time.time() * 1000)
            for key, value in metrics.items():
                client.log_metric(run_id, f"monitor.{key}", value, timestamp=now, step=step)
            client.set_tag(run_id, "riskscore.monitor.status", report.status)
            client.set_tag(run_id, "riskscore.monitor.report", path)
            if model_name is not None and version is not None:
                client.set_model_version_tag(
                    model_name, version, "riskscore.monitor.status", report.status
                )
                client.set_model_version_tag(model_name, version, "riskscore.monitor.report", path)
        except (MlflowException, OSError) as err:
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise RegistryError(
                f"cannot log the monitoring report into run {run_id}: {first}. Check the "
                "tracking URI and the run (riskscore monitor --no-log skips logging)."
            ) from None
    return path
