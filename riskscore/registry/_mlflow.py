"""Log training runs to MLflow, register versions, move aliases, load models by URI.

Everything that talks to MLflow is here (and in :mod:`riskscore.registry._pyfunc`); mlflow
is imported inside the functions, so ``import riskscore.registry`` stays cheap.

Tracking
--------
The tracking URI is the ``tracking_uri`` argument, else ``MLFLOW_TRACKING_URI``, else a
local SQLite file ``sqlite:///mlflow.db`` (see :func:`riskscore._config.tracking_uri`).
For a SQLite URI, a new experiment stores its artifacts in ``mlartifacts/`` beside the
database file. There is one experiment per entity and target, named like the registered
model: ``riskscore-<entity>-<target>``.

What one run holds
------------------
params
    training configuration (``train.*``), LightGBM parameters (``lgbm.*``), data
    fingerprint (``data.*``: rows, entities, positives, time range, SHA-256), feature
    catalog version.
metrics
    ``model.<metric>``, ``baseline.<metric>``, ``delta.<metric>`` and their ``_lo`` /
    ``_hi`` bootstrap bounds on the newest test window, plus ``train_seconds``.
artifacts
    ``riskmodel/`` (the :class:`~riskscore.modeling.RiskModel` folder),
    ``model`` (a pyfunc logged model with signature, input example and explicit pip
    requirements), ``evaluation/`` (metrics, threshold table, slices, importance, the test
    window as Parquet for later comparisons), ``plots/`` (PNG), ``model_card.md``.

Registry and aliases
--------------------
Each run registers a new version of ``riskscore-<entity>-<target>`` and points the alias
``challenger`` at it. :func:`promote` compares a version with the ``champion`` on the
candidate's test window and, when the :class:`~riskscore.registry.Gate` passes (or
``force=True``), moves ``champion`` to it and ``previous`` to the old champion;
:func:`rollback` moves ``champion`` back to ``previous``.

A run that fails is marked ``FAILED`` and registers nothing; a version created before a
later step failed is deleted.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskscore import _config
from riskscore.exceptions import ModelNotFoundError, RiskscoreError
from riskscore.modeling import RiskModel, TrainResult, column_diff, evaluate
from riskscore.registry._errors import RegistryError
from riskscore.registry._gate import Gate

__all__ = [
    "ALIASES",
    "LoadedModel",
    "LoggedRun",
    "Promotion",
    "load",
    "load_risk_model",
    "log_training",
    "model_name",
    "promote",
    "rollback",
    "train_and_log",
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

    Examples
    --------
    >>> model_name("seller", "fraud")
    'riskscore-seller-fraud'
    """
    return f"riskscore-{entity}-{target}"


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


@dataclass(frozen=True)
class LoggedRun:
    """What :func:`log_training` recorded.

    Attributes
    ----------
    run_id, experiment_id : str
    name : str
        Registered model name.
    version : str or None
        Registered version (None when ``register=False``).
    model_uri : str
        URI of the logged pyfunc model.
    tracking_uri : str
    result : TrainResult or None
        The training result, when :func:`train_and_log` trained it.
    """

    run_id: str
    experiment_id: str
    name: str
    version: str | None
    model_uri: str
    tracking_uri: str
    result: TrainResult | None = field(default=None, repr=False)


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
        return
    text = value.isoformat() if isinstance(value, pd.Timestamp) else str(value)
    out[prefix] = text[:6000]


def _run_params(result: TrainResult) -> dict[str, str]:
    params: dict[str, str] = {}
    config = {k: v for k, v in result.config.items() if k != "lgbm"}
    _flatten("train", config, params)
    _flatten("lgbm", result.config.get("lgbm", {}), params)
    _flatten("data", result.fingerprint, params)
    meta = result.model.metadata
    params["catalog_version"] = str(meta.get("catalog_version"))
    params["calibration_method"] = result.model.calibrator.method
    params["n_features"] = str(result.model.n_features)
    params["capacity_test"] = str(meta.get("capacity_test"))
    params["population_share"] = f"{meta.get('population_share', 1.0):.6f}"
    return params


def _run_metrics(result: TrainResult) -> dict[str, float]:
    out: dict[str, float] = {}
    table = result.metrics
    for metric in table.index:
        for col in table.columns:
            model, _, bound = col.partition("_")
            key = f"{model}.{metric}" + (f"_{bound}" if bound else "")
            value = float(table.loc[metric, col])
            if math.isfinite(value):
                out[key] = value
    out["train_seconds"] = float(result.seconds)
    out["best_iteration"] = float(result.model.metadata.get("best_iteration", 0))
    high = float(result.model.bands.thresholds["high"])
    if math.isfinite(high):
        out["bands.high_threshold"] = high
    if result.diagnostics is not None:
        out.update(result.diagnostics.metrics())
    deployed = result.deployed or {}
    if deployed.get("fit") == "refit":
        out["deployed.rows"] = float(deployed["rows"])
        out["deployed.trees"] = float(deployed["trees"])
    return out


def _pip_requirements() -> list[str]:
    import importlib.metadata as md

    reqs = []
    # what scoring imports: riskscore itself travels with the model (code_paths)
    for pkg in ("mlflow", "lightgbm", "numpy", "pandas", "pyarrow"):
        try:
            reqs.append(f"{pkg}=={md.version(pkg)}")
        except md.PackageNotFoundError:  # pragma: no cover
            reqs.append(pkg)
    return reqs


def _input_example(result: TrainResult) -> pd.DataFrame:
    model = result.model
    example = result.test_frame[model.feature_names].head(5).reset_index(drop=True)
    for col in model.categories:
        example[col] = example[col].astype(object).where(example[col].notna(), None)
    return example


#: The models-from-code file MLflow copies into each logged model and runs on load (so no
#: pickle is involved). Written at log time: importing it would register a model.
PYFUNC_ENTRY = """\
from mlflow.models import set_model

from riskscore.registry._pyfunc import RiskModelPyfunc

set_model(RiskModelPyfunc())
"""


def _log_model(mlflow: Any, result: TrainResult, folder: Path, include_code: bool) -> Any:
    from mlflow.models import infer_signature

    from riskscore.registry._pyfunc import DEFAULT_PARAMS

    model = result.model
    example = _input_example(result)
    raw = model.raw_score(model.to_matrix(example))
    out = model.scores_from_raw(raw)
    output = pd.DataFrame(
        {
            "score": out["score"],
            "risk_score": out["risk_score"],
            "band": out["band"].astype(str),
            "reasons": ["[]"] * len(example),
        }
    )
    code = [str(Path(__file__).resolve().parents[1])] if include_code else None
    entry = folder.parent / "riskscore_pyfunc.py"
    entry.write_text(PYFUNC_ENTRY, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLflow's hints on integer columns and examples
        signature = infer_signature(example, output, params=DEFAULT_PARAMS)
        return mlflow.pyfunc.log_model(
            name=PYFUNC_NAME,
            python_model=str(entry),
            artifacts={"riskmodel": str(folder)},
            signature=signature,
            input_example=example,
            pip_requirements=_pip_requirements(),
            code_paths=code,
            metadata={"riskscore_name": model.name, "entity": model.entity, "target": model.target},
        )


def _write_evaluation(result: TrainResult, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    result.metrics.to_csv(folder / "metrics.csv", lineterminator="\n")
    result.threshold_table.to_csv(folder / "thresholds.csv", index=False, lineterminator="\n")
    result.importance.to_csv(folder / "importance.csv", index=False, lineterminator="\n")
    if result.slices is not None:
        result.slices.to_csv(folder / "slices.csv", index=False, lineterminator="\n")
    if result.search is not None:
        result.search.to_csv(folder / "search.csv", index=False, lineterminator="\n")
    result.test_frame.to_parquet(folder / "test.parquet", index=False)
    result.predictions.to_parquet(folder / "predictions.parquet", index=False)
    fingerprint = json.dumps(result.fingerprint, indent=2, default=str, sort_keys=True)
    (folder / "fingerprint.json").write_text(fingerprint + "\n")


def _log_into_active_run(
    mlflow: Any,
    client: Any,
    result: TrainResult,
    *,
    register: bool,
    plots: bool,
    include_code: bool,
) -> tuple[str, str | None]:
    run = mlflow.active_run()
    run_id = run.info.run_id
    model = result.model
    mlflow.log_params(_run_params(result))
    mlflow.log_metrics(_run_metrics(result))
    mlflow.set_tags(
        {
            "riskscore.entity": model.entity,
            "riskscore.target": model.target,
            "riskscore.split": result.split.description[:5000],
            "riskscore.notes": " | ".join(result.notes)[:5000],
            "mlflow.note.content": _note(result),
        }
    )
    with tempfile.TemporaryDirectory(prefix="riskscore-run-") as tmp:
        tmp_path = Path(tmp)
        folder = model.save(tmp_path / RISKMODEL_PATH)
        mlflow.log_artifacts(str(folder), RISKMODEL_PATH)
        if result.evaluated_model is not None:
            evaluated = result.evaluated_model.save(tmp_path / EVALUATED_PATH)
            mlflow.log_artifacts(str(evaluated), EVALUATED_PATH)
        _write_evaluation(result, tmp_path / "evaluation")
        mlflow.log_artifacts(str(tmp_path / "evaluation"), "evaluation")
        card = tmp_path / "model_card.md"
        card.write_text(result.model_card(), encoding="utf-8")
        mlflow.log_artifact(str(card))
        if plots:
            paths = result.save_plots(tmp_path / "plots")
            if paths:
                mlflow.log_artifacts(str(tmp_path / "plots"), "plots")
        info = _log_model(mlflow, result, folder, include_code)
    if not register:
        return info.model_uri, None
    version = None
    try:
        mv = mlflow.register_model(info.model_uri, model.name, tags={"riskscore.run_id": run_id})
        version = str(mv.version)
        client.set_registered_model_alias(model.name, "challenger", version)
        client.set_model_version_tag(
            model.name,
            version,
            "riskscore.pr_auc",
            f"{result.metrics['model'].to_dict()['pr_auc']:.4f}",
        )
        mlflow.set_tag("riskscore.registered_version", version)
    except BaseException:
        if version is not None:
            with contextlib.suppress(Exception):  # best effort: leave nothing half-registered
                client.delete_model_version(model.name, version)
        raise
    return info.model_uri, version


def _note(result: TrainResult) -> str:
    m = result.metrics
    line = ", ".join(
        f"{k} {m['model'].to_dict()[k]:.3f} (baseline {m['baseline'].to_dict()[k]:.3f})"
        for k in ("pr_auc", "precision_at_k", "roc_auc")
        if "baseline" in m.columns
    )
    return f"{result.model.name}: {line}. {result.split.description}"


def log_training(
    result: TrainResult,
    *,
    tracking_uri: str | None = None,
    register: bool = True,
    run_name: str | None = None,
    plots: bool = True,
    include_code: bool = True,
    tags: Mapping[str, str] | None = None,
) -> LoggedRun:
    """Log a training result as one MLflow run and (by default) register a new version.

    Parameters
    ----------
    result : TrainResult
    tracking_uri : str, optional
        Default ``MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db``.
    register : bool, default True
        Register the logged model as a new version and point ``challenger`` at it.
    run_name : str, optional
    plots : bool, default True
        Log the PNG plots (matplotlib, shap).
    include_code : bool, default True
        Copy the riskscore package into the logged model (``code_paths``) so it loads
        where riskscore is not installed.
    tags : mapping, optional
        Extra run tags.

    Returns
    -------
    LoggedRun

    Raises
    ------
    RegistryError
        When MLflow refuses (the run is marked FAILED and nothing is registered).
    """
    with _tracking(tracking_uri) as client:
        mlflow = _mlflow()
        uri = _resolve_uri(tracking_uri)
        exp_id = _experiment_id(client, result.model.name, uri)
        with _run(mlflow, exp_id, run_name, tags) as run_id:
            model_uri, version = _log_into_active_run(
                mlflow, client, result, register=register, plots=plots, include_code=include_code
            )
        return LoggedRun(run_id, exp_id, result.model.name, version, model_uri, uri, result)


@contextmanager
def _run(
    mlflow: Any, experiment_id: str, run_name: str | None, tags: Mapping[str, str] | None
) -> Iterator[str]:
    """Start a run; end it FINISHED, or FAILED (and translate MLflow errors) on any error."""
    from mlflow.exceptions import MlflowException

    run = mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=dict(tags or {}))
    try:
        yield run.info.run_id
    except BaseException as err:
        mlflow.end_run(status="FAILED")
        if isinstance(err, MlflowException):
            raise RegistryError(f"MLflow refused to log the run {run.info.run_id}: {err}") from err
        raise
    mlflow.end_run(status="FINISHED")


def train_and_log(
    table: pd.DataFrame,
    *,
    entity: str,
    target: str,
    tracking_uri: str | None = None,
    register: bool = True,
    run_name: str | None = None,
    plots: bool = True,
    include_code: bool = True,
    **train_kwargs: Any,
) -> LoggedRun:
    """Open a run, train inside it (:func:`riskscore.modeling.train`), log and register.

    A training error (no positives, a single-class window, ...) marks the run FAILED, with
    the error message as the tag ``riskscore.error``, and is raised again.

    Returns
    -------
    LoggedRun
        With ``result`` set.
    """
    from riskscore.modeling import train

    name = model_name(entity, target)
    with _tracking(tracking_uri) as client:
        mlflow = _mlflow()
        uri = _resolve_uri(tracking_uri)
        exp_id = _experiment_id(client, name, uri)
        with _run(mlflow, exp_id, run_name, None) as run_id:
            try:
                result = train(table, entity=entity, target=target, **train_kwargs)
            except RiskscoreError as err:
                mlflow.set_tag("riskscore.error", str(err)[:5000])
                raise
            model_uri, version = _log_into_active_run(
                mlflow, client, result, register=register, plots=plots, include_code=include_code
            )
        return LoggedRun(run_id, exp_id, name, version, model_uri, uri, result)


# ---------------------------------------------------------------------------- loading
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


def _gate_model(client: Any, mlflow: Any, run_id: str, dst: str) -> RiskModel:
    """Load the run's evaluated fit (never a refit on its own test rows), else its model."""
    try:
        path = _download(client, mlflow, run_id, EVALUATED_PATH, dst + "-evaluated")
        return RiskModel.load(_find_riskmodel(path))
    except ModelNotFoundError:  # a run logged with refit=False, or before refits existed
        path = _download(client, mlflow, run_id, RISKMODEL_PATH, dst)
        return RiskModel.load(_find_riskmodel(path))


def load_risk_model(uri: str, *, tracking_uri: str | None = None) -> LoadedModel:
    """Load a RiskModel from a folder or an MLflow URI, with its name and version.

    Parameters
    ----------
    uri : str
        A local RiskModel folder, a local pyfunc model folder, ``models:/<name>@<alias>``,
        ``models:/<name>/<version>``, ``models:/<name>/latest``, ``runs:/<run_id>/<path>``
        or ``models:/<logged model id>``.
    tracking_uri : str, optional

    Raises
    ------
    ModelNotFoundError
        Nothing at the URI, or it holds no riskscore model.
    """
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

    See :func:`load_risk_model` for the accepted URIs.
    """
    return load_risk_model(uri, tracking_uri=tracking_uri).model


# ---------------------------------------------------------------------------- promotion
@dataclass(frozen=True)
class Promotion:
    """Outcome of :func:`promote`.

    Attributes
    ----------
    name : str
    candidate : str
        Candidate version.
    champion : str or None
        The champion version before the promotion (None when there was none).
    promoted : bool
    forced : bool
    reasons : list of str
        The gate's verdict per criterion (or why it was skipped).
    comparison : pandas.DataFrame or None
        Candidate vs champion metrics on the candidate's test window.
    """

    name: str
    candidate: str
    champion: str | None
    promoted: bool
    forced: bool
    reasons: list[str]
    comparison: pd.DataFrame | None = None


def _alias_version(client: Any, name: str, alias: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def promote(
    name: str,
    *,
    version: str | int | None = None,
    gate: Gate | None = None,
    force: bool = False,
    tracking_uri: str | None = None,
    n_bootstrap: int = 200,
    seed: int = 0,
) -> Promotion:
    """Compare a version with the champion and move ``champion`` to it if it is as good.

    Both models are scored on the candidate's own test window (logged with its run) with
    their *evaluated* fits (``evaluated_model/`` of each run when the deployed model is a
    refit on every label, which has seen those rows); the
    :class:`Gate` decides. With no champion yet, the candidate becomes champion. The old
    champion keeps the alias ``previous``. The decision, the gate and ``force`` are
    recorded as tags on the candidate version and its run.

    Parameters
    ----------
    name : str
        Registered model name (``riskscore-<entity>-<target>``).
    version : str or int, optional
        Candidate version; default the ``challenger`` alias, else the latest version.
    gate : Gate, optional
    force : bool, default False
        Promote even if the gate fails or the models cannot be compared (logged).
    tracking_uri : str, optional
    n_bootstrap, seed : int
        Bootstrap of the comparison (intervals of the difference).

    Raises
    ------
    ModelNotFoundError
        No such model or version.
    RegistryError
        The champion needs feature columns the candidate's test window lacks (a diff is
        shown); use ``force=True`` to promote anyway.
    """
    gate = gate or Gate()
    with _tracking(tracking_uri) as client:
        mlflow = _mlflow()
        candidate_mv = _candidate(client, name, version)
        cand_v = str(candidate_mv.version)
        champion_mv = _alias_version(client, name, "champion")
        champ_v = str(champion_mv.version) if champion_mv is not None else None
        if champ_v == cand_v:
            return Promotion(
                name, cand_v, champ_v, False, force, [f"version {cand_v} is already the champion"]
            )
        comparison = None
        if champion_mv is None:
            reasons = ["no champion yet: the candidate becomes the first champion"]
            passed = True
        else:
            with tempfile.TemporaryDirectory(prefix="riskscore-promote-") as tmp:
                cand = _gate_model(client, mlflow, candidate_mv.run_id, f"{tmp}/c")
                champ = _gate_model(client, mlflow, champion_mv.run_id, f"{tmp}/p")
                test_path = _download(
                    client, mlflow, candidate_mv.run_id, TEST_FRAME_PATH, f"{tmp}/t"
                )
                test = pd.read_parquet(test_path)
            missing = [c for c in champ.feature_names if c not in test.columns]
            if missing and not force:
                raise RegistryError(
                    f"cannot compare version {cand_v} with champion {champ_v} of '{name}': the "
                    f"champion needs {len(missing)} feature column(s) the candidate's test window "
                    f"does not have ({missing[:5]}). Retrain on the same feature catalog, or "
                    f"promote with force=True (--force) knowingly.\n"
                    f"{column_diff(champ.feature_names, cand.feature_names)}"
                )
            if missing:
                reasons = [f"not compared: champion needs missing columns {missing[:5]}"]
                passed = False
            else:
                ev = evaluate(
                    cand,
                    test,
                    other=champ,
                    population_share=float(cand.metadata.get("population_share", 1.0)),
                    n_bootstrap=n_bootstrap,
                    seed=seed,
                    names=("candidate", "champion"),
                )
                comparison = ev.metrics
                decision = gate.check(comparison)
                passed, reasons = decision.passed, list(decision.reasons)
        promoted = passed or force
        record = {
            "decision": "promoted" if promoted else "refused",
            "forced": bool(force and not passed),
            "gate": gate.to_dict(),
            "champion_before": champ_v,
            "reasons": reasons,
        }
        client.set_model_version_tag(name, cand_v, "riskscore.promotion", json.dumps(record)[:5000])
        client.set_tag(candidate_mv.run_id, "riskscore.promotion", json.dumps(record)[:5000])
        if force and not passed:
            client.set_model_version_tag(name, cand_v, "riskscore.forced", "true")
            warnings.warn(
                f"version {cand_v} of '{name}' promoted with force although the gate failed: "
                + "; ".join(reasons),
                UserWarning,
                stacklevel=2,
            )
        if promoted:
            client.set_registered_model_alias(name, "champion", cand_v)
            if champ_v is not None:
                client.set_registered_model_alias(name, "previous", champ_v)
            challenger = _alias_version(client, name, "challenger")
            if challenger is not None and str(challenger.version) == cand_v:
                client.delete_registered_model_alias(name, "challenger")
        return Promotion(
            name, cand_v, champ_v, promoted, bool(force and not passed), reasons, comparison
        )


def _candidate(client: Any, name: str, version: str | int | None) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        if version is not None:
            return client.get_model_version(name, str(version))
        challenger = _alias_version(client, name, "challenger")
        if challenger is not None:
            return challenger
        versions = client.search_model_versions(f"name='{name}'")
    except MlflowException as err:
        raise ModelNotFoundError(
            f"no version {version} of registered model '{name}': {err}"
        ) from err
    if not versions:
        raise ModelNotFoundError(
            f"registered model '{name}' has no versions; train and log one first (riskscore train)"
        )
    return max(versions, key=lambda v: int(v.version))


def rollback(name: str, *, tracking_uri: str | None = None) -> str:
    """Point ``champion`` back at the ``previous`` version; return that version.

    Raises
    ------
    ModelNotFoundError
        When there is no ``previous`` alias.
    """
    with _tracking(tracking_uri) as client:
        previous = _alias_version(client, name, "previous")
        if previous is None:
            raise ModelNotFoundError(f"'{name}' has no 'previous' version to roll back to")
        current = _alias_version(client, name, "champion")
        client.set_registered_model_alias(name, "champion", str(previous.version))
        if current is not None:
            client.set_registered_model_alias(name, "previous", str(current.version))
        client.set_model_version_tag(name, str(previous.version), "riskscore.rollback", "true")
        return str(previous.version)
