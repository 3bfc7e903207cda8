"""Load a RiskModel by URI, and the logged pyfunc as a Spark UDF.

Which loader when (one path per need)
-------------------------------------
* a :class:`~riskscore.modeling.RiskModel` from a folder written by ``RiskModel.save``:
  :meth:`RiskModel.load <riskscore.modeling.RiskModel.load>`;
* a RiskModel **and** its registry identity (name, version, run) from any MLflow URI
  (``models:/name@alias``, ``models:/name/3``, ``runs:/<id>/model``, ``models:/m-...``,
  a local pyfunc folder) or a folder: :func:`load_risk_model` — the only function that
  downloads a model from MLflow;
* a ready-to-score :class:`~riskscore.scoring.Scorer` from any of the above:
  :func:`riskscore.scoring.load_scorer` (cached per process; it calls
  :func:`load_risk_model` for MLflow URIs);
* Spark: :func:`spark_udf` (what :func:`riskscore.scoring.score_spark` uses).

``load(uri)`` is deprecated: it was ``load_risk_model(uri).model``.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from riskscore.exceptions import ModelNotFoundError
from riskscore.modeling import RiskModel
from riskscore.registry._contract import PYFUNC_DDL, predict_options
from riskscore.registry._errors import RegistryError
from riskscore.registry._tracking import RISKMODEL_PATH, _check_text, _mlflow, _tracking

__all__ = ["LoadedModel", "load", "load_risk_model", "spark_udf"]


@dataclass(frozen=True)
class LoadedModel:
    """A RiskModel loaded by URI, with its registry identity when it has one."""

    model: RiskModel
    name: str | None
    version: str | None
    uri: str
    run_id: str | None = None


def _find_riskmodel(root: Path) -> Path:
    """Locate the RiskModel folder inside a downloaded artifact tree."""
    candidates = [root, root / RISKMODEL_PATH, root / "artifacts" / "riskmodel"]
    for c in candidates:
        if (c / "riskmodel.json").is_file():
            return c
    for found in sorted(root.rglob("riskmodel.json")):
        return found.parent
    raise ModelNotFoundError(
        f"no riskscore model (riskmodel.json) inside '{root}'; expected a RiskModel folder or "
        "a pyfunc model logged by riskscore.registry"
    )


def _version_of(client: Any, uri: str) -> tuple[str, Any]:
    """Resolve ``models:/name@alias`` or ``models:/name/<version>`` to (name, ModelVersion)."""
    from mlflow.exceptions import MlflowException

    body = uri[len("models:/") :]
    try:
        if "@" in body:
            name, alias = body.split("@", 1)
            return name, client.get_model_version_by_alias(name, alias)
        name, _, version = body.partition("/")
        if version.isdigit():
            return name, client.get_model_version(name, version)
        if version == "latest" or not version:
            versions = client.search_model_versions(f"name='{name}'")
            if not versions:
                raise ModelNotFoundError(f"registered model '{name}' has no versions")
            return name, max(versions, key=lambda v: int(v.version))
    except MlflowException as err:
        raise ModelNotFoundError(
            f"no model at '{uri}': {err.message if hasattr(err, 'message') else err}. "
            "Check the name, the version or alias (champion, challenger, previous) and the "
            "tracking URI (MLFLOW_TRACKING_URI)"
        ) from err
    raise ModelNotFoundError(f"cannot read the model URI '{uri}'")


def _download(client: Any, mlflow: Any, run_id: str, path: str, dst: str) -> Path:
    from mlflow.exceptions import MlflowException

    try:
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path, dst_path=dst)
    except (MlflowException, OSError) as err:
        raise ModelNotFoundError(f"cannot download '{path}' of run {run_id}: {err}") from err
    return Path(local)


def load_risk_model(uri: str | os.PathLike[str], *, tracking_uri: str | None = None) -> LoadedModel:
    """Load a RiskModel from a folder or an MLflow URI, with its name and version.

    Parameters
    ----------
    uri : str or path
        A local RiskModel folder, a local pyfunc model folder, ``models:/<name>@<alias>``,
        ``models:/<name>/<version>``, ``models:/<name>/latest``, ``runs:/<run_id>/<path>``
        or ``models:/<logged model id>``.
    tracking_uri : str, optional

    Raises
    ------
    ModelNotFoundError
        Nothing at the URI, or it holds no riskscore model.
    RegistryError
        ``uri`` is not a string or a path.

    Examples
    --------
    >>> load_risk_model("no/such/folder")
    Traceback (most recent call last):
    ...
    riskscore.exceptions.ModelNotFoundError: no model at 'no/such/folder': not a folder ...
    """
    if isinstance(uri, os.PathLike):
        uri = os.fspath(uri)
    _check_text(uri, "uri", "load_risk_model", "models:/<name>@<alias> or a model folder")
    local = Path(uri)
    if "://" not in uri and not uri.startswith(("models:", "runs:")):
        if not local.exists():
            raise ModelNotFoundError(
                f"no model at '{uri}': not a folder and not an MLflow URI (models:/..., runs:/...)"
            )
        folder = _find_riskmodel(local)
        return LoadedModel(RiskModel.load(folder), None, None, uri)
    from mlflow.exceptions import MlflowException

    with _tracking(tracking_uri) as client:
        mlflow = _mlflow()
        # RiskModel.load reads every file into memory: the download is deleted after it
        with tempfile.TemporaryDirectory(prefix="riskscore-model-") as dst:
            if uri.startswith("models:/") and not uri[len("models:/") :].startswith("m-"):
                name, mv = _version_of(client, uri)
                root = _download(client, mlflow, mv.run_id, RISKMODEL_PATH, dst)
                model = RiskModel.load(_find_riskmodel(root))
                return LoadedModel(model, name, str(mv.version), uri, mv.run_id)
            run_id = uri.split("/")[1] if uri.startswith("runs:/") else None
            try:
                if uri.startswith("models:/"):  # a logged model id (models:/m-...)
                    logged = client.get_logged_model(uri[len("models:/") :].strip("/"))
                    run_id = logged.source_run_id
                    source = logged.artifact_location
                else:
                    source = uri
                root = Path(mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=dst))
            except (MlflowException, OSError) as err:
                raise ModelNotFoundError(f"no model at '{uri}': {err}") from err
            return LoadedModel(RiskModel.load(_find_riskmodel(root)), None, None, uri, run_id)


def load(uri: str, *, tracking_uri: str | None = None) -> RiskModel:
    """Load a :class:`~riskscore.modeling.RiskModel` from a folder or an MLflow URI.

    .. deprecated::
        Use ``load_risk_model(uri).model``: one loader per need (see the module
        docstring), and :func:`load_risk_model` also gives the name and version.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     load("no/such/folder")
    Traceback (most recent call last):
    ...
    riskscore.exceptions.ModelNotFoundError: no model at 'no/such/folder': ...
    """
    warnings.warn(
        "riskscore.registry.load(uri) is deprecated and will be removed; use "
        "riskscore.registry.load_risk_model(uri).model (a RiskModel with its name and "
        "version) or riskscore.scoring.load_scorer(uri) (a Scorer)",
        DeprecationWarning,
        stacklevel=2,
    )
    return load_risk_model(uri, tracking_uri=tracking_uri).model


def spark_udf(
    spark: Any,
    model_uri: str,
    *,
    explain: str = "all",
    tracking_uri: str | None = None,
) -> Any:
    """Return the riskscore pyfunc at ``model_uri`` as a Spark UDF (``mlflow.pyfunc.spark_udf``).

    The UDF runs in this Python environment (``env_manager="local"``), takes a struct of
    the model's feature columns and returns a struct of
    :data:`~riskscore.registry._contract.PYFUNC_DDL` (``score``, ``risk_score``, ``band``,
    ``reasons`` as JSON). :func:`riskscore.scoring.score_spark` wraps it into the columns of
    ``score_many``; call this directly only to build your own Spark pipeline.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    model_uri : str
        An MLflow URI of a model logged by :func:`log_training` (``models:/name@alias``,
        ``models:/name/3``, ``runs:/<run id>/model``) or a local pyfunc folder.
    explain : {"all", "flagged", "none"}, default "all"
        Which rows get reasons (the pyfunc's ``explain`` parameter).
    tracking_uri : str, optional
        Where ``models:/`` URIs resolve; default ``MLFLOW_TRACKING_URI`` or
        ``sqlite:///mlflow.db``.

    Returns
    -------
    pyspark.sql.functions.UserDefinedFunction

    Raises
    ------
    ScoringError
        ``explain`` is not one of the modes.
    RegistryError
        ``spark`` is not a Spark session, or ``model_uri`` not a string.
    ModelNotFoundError
        MLflow finds no model at ``model_uri``.

    Examples
    --------
    >>> from pyspark.sql import functions as F  # doctest: +SKIP
    >>> udf = spark_udf(spark, "models:/riskscore-seller-fraud@champion")  # doctest: +SKIP
    >>> frame.select(udf(F.struct(*features)).alias("risk"))  # doctest: +SKIP
    """
    from mlflow.exceptions import MlflowException

    options = predict_options({"explain": explain})
    if not hasattr(spark, "sparkContext"):
        raise RegistryError(
            "The 'spark' parameter of spark_udf must be a pyspark.sql.SparkSession (for "
            "example riskscore._spark.local_spark_session()). "
            f"Got {type(spark).__name__} instead."
        )
    _check_text(model_uri, "model_uri", "spark_udf", "models:/<name>@<alias>")
    with _tracking(tracking_uri):
        mlflow = _mlflow()
        try:
            return mlflow.pyfunc.spark_udf(
                spark,
                model_uri,
                result_type=PYFUNC_DDL,
                env_manager="local",
                params={"explain": options["explain"]},
            )
        except (MlflowException, OSError) as err:
            raise ModelNotFoundError(
                f"no riskscore pyfunc at '{model_uri}' for spark_udf: {err}. Pass a URI of a "
                "model logged by riskscore.registry.log_training (models:/<name>@<alias>, "
                "runs:/<run id>/model) and check MLFLOW_TRACKING_URI"
            ) from err
