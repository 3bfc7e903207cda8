"""Log training runs to MLflow and register them as new versions.

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
    requirements; with ``rules=`` it also holds the rule set as its artifact ``rules``,
    so the pyfunc returns decisions), ``rules/`` (the rule set the model was tested
    with, see :func:`log_rules`), ``evaluation/`` (metrics, threshold table, slices,
    importance, the test window as Parquet for later comparisons), ``plots/`` (PNG),
    ``model_card.md``.

Each run registers a new version of ``riskscore-<entity>-<target>`` and points the alias
``challenger`` at it. A run that fails is marked ``FAILED`` and registers nothing; a version
created before a later step failed is deleted.
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

from riskscore.exceptions import RiskscoreError
from riskscore.modeling import RiskModel, TrainResult
from riskscore.registry._contract import SIGNATURE_PARAMS, example_output
from riskscore.registry._errors import RegistryError
from riskscore.registry._tracking import (
    EVALUATED_PATH,
    PYFUNC_NAME,
    RISKMODEL_PATH,
    _experiment_id,
    _mlflow,
    _resolve_uri,
    _tracking,
    model_name,
)

__all__ = [
    "PYFUNC_ENTRY",
    "RULES_ARTIFACT",
    "LoggedRun",
    "download_rules",
    "log_rules",
    "log_training",
    "save_pyfunc",
    "train_and_log",
]

#: Where :func:`log_rules` puts a rule set in a run (``riskscore export`` copies it into
#: the model folder as ``rules.yaml``; ``RuleSet.load("models:/...")`` reads it).
RULES_ARTIFACT = "rules/ruleset.yaml"

#: The label and content hash beside it.
RULES_INFO = "rules/ruleset.json"


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
    family = getattr(result, "family_value", None)
    if family is not None:
        for row in family.to_dict("records"):
            for key, column in (("", "pr_auc_lost"), ("_lo", "lost_lo"), ("_hi", "lost_hi")):
                value = float(row[column])
                if math.isfinite(value):
                    name = _metric_safe(str(row["family"]))
                    out[f"family.{name}.pr_auc_lost{key}"] = value
    deployed = result.deployed or {}
    if deployed.get("fit") == "refit":
        out["deployed.rows"] = float(deployed["rows"])
        out["deployed.trees"] = float(deployed["trees"])
    return out


def _metric_safe(name: str) -> str:
    """Return ``name`` in the characters MLflow allows in a metric key (``a+b`` → ``a_and_b``).

    Examples
    --------
    >>> _metric_safe("network+buyers")
    'network_and_buyers'
    """
    out = name.replace("+", "_and_")
    return "".join(c if c.isalnum() or c in "_-. /" else "_" for c in out)


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
#: pickle is involved). Written at log time: importing it would register a model. It is
#: the one place that joins the two layers: the registry's MLflow wrapper and the scoring
#: path it serves (:func:`riskscore.scoring._pyfunc.pyfunc_predict`), so no riskscore
#: module imports upwards (``tests/test_layers.py``).
PYFUNC_ENTRY = """\
from mlflow.models import set_model

from riskscore.registry._pyfunc import RiskModelPyfunc
from riskscore.scoring._pyfunc import pyfunc_predict

set_model(RiskModelPyfunc(pyfunc_predict))
"""


def _pyfunc_spec(
    model: RiskModel, example: pd.DataFrame, folder: Path, rules_file: Path | None = None
) -> dict[str, Any]:
    """Keyword arguments of ``mlflow.pyfunc.log_model`` / ``save_model`` for ``model``.

    ``folder`` is the saved RiskModel (the artifact ``riskmodel``); the entry file is
    written beside it. The signature takes
    :data:`~riskscore.registry._contract.SIGNATURE_PARAMS` (the prediction parameters and
    their deprecated names) and returns :data:`~riskscore.registry._contract.PYFUNC_COLUMNS`.
    """
    from mlflow.models import infer_signature

    raw = model.raw_score(model.to_matrix(example))
    out = model.scores_from_raw(raw)
    output = example_output(
        len(example), out["score"], out["risk_score"], out["band"], name=model.name, version="1"
    )
    entry = folder.parent / "riskscore_pyfunc.py"
    entry.write_text(PYFUNC_ENTRY, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLflow's hints on integer columns and examples
        signature = infer_signature(example, output, params=SIGNATURE_PARAMS)
    # the entity id is an optional input: the answer carries it as entity_id (the contract)
    id_col = f"{model.entity}_id"
    if id_col not in signature.inputs.input_names():
        from mlflow.types.schema import ColSpec, Schema

        optional = ColSpec("string", id_col, required=False)
        signature.inputs = Schema([optional, *signature.inputs.inputs])
    artifacts = {"riskmodel": str(folder)}
    if rules_file is not None:  # the pyfunc then returns decisions (action, rules_fired)
        artifacts["rules"] = str(rules_file)
    return {
        "python_model": str(entry),
        "artifacts": artifacts,
        "signature": signature,
        "input_example": example,
        "pip_requirements": _pip_requirements(),
        "metadata": {"riskscore_name": model.name, "entity": model.entity, "target": model.target},
    }


def _log_model(
    mlflow: Any,
    result: TrainResult,
    folder: Path,
    include_code: bool,
    rules_file: Path | None = None,
) -> Any:
    code = [str(Path(__file__).resolve().parents[1])] if include_code else None
    spec = _pyfunc_spec(result.model, _input_example(result), folder, rules_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLflow's hints on integer columns and examples
        return mlflow.pyfunc.log_model(name=PYFUNC_NAME, code_paths=code, **spec)


def save_pyfunc(
    model: RiskModel,
    path: str | os.PathLike[str],
    example: pd.DataFrame,
    *,
    rules: Any = None,
) -> str:
    """Save ``model`` as the riskscore pyfunc in the folder ``path``, outside any run.

    The same model :func:`log_training` logs (entry file, signature, artifact), for
    benchmarks and tests that serve a model without a tracking store. The RiskModel folder
    and the entry file are written beside ``path``.

    Parameters
    ----------
    model : RiskModel
    path : path
        The pyfunc folder to create (must not exist).
    example : pandas.DataFrame
        A few rows of the model's feature columns (input example and signature).
    rules : RuleSet, optional
        A rule set the pyfunc decides with (its answers then carry ``action`` and
        ``rules_fired``); saved beside ``path`` as ``ruleset.yaml``.

    Returns
    -------
    str
        ``path``, ready for ``mlflow.pyfunc.load_model`` or ``mlflow models serve -m``.

    Examples
    --------
    >>> import tempfile, os
    >>> import pandas as pd
    >>> from riskscore.scoring._demo import demo_model
    >>> model = demo_model()
    >>> rows = pd.DataFrame([dict.fromkeys(model.feature_names, 1.0)])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     saved = save_pyfunc(model, os.path.join(tmp, "pyfunc"), rows)
    ...     sorted(os.listdir(saved))[:2]
    ['MLmodel', 'artifacts']
    """
    mlflow = _mlflow()
    target = Path(path)
    folder = model.save(target.with_name(RISKMODEL_PATH))
    rules_file = None
    if rules is not None:
        rules_file = _check_rules(rules).save(target.with_name("ruleset.yaml"))
    spec = _pyfunc_spec(model, example, folder, rules_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLflow's hints on integer columns and examples
        mlflow.pyfunc.save_model(str(target), **spec)
    return str(target)


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
    rules: Any = None,
    market: Mapping[str, Any] | None = None,
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
        _log_monitor_reference(mlflow, result, tmp_path, market)
        rules_file = None
        if rules is not None:
            rules_file = _write_rules(rules, tmp_path / "rules")
            mlflow.log_artifacts(str(tmp_path / "rules"), "rules")
            mlflow.set_tags(_rules_tags(rules))
        info = _log_model(mlflow, result, folder, include_code, rules_file)
    if not register:
        return info.model_uri, None
    version = None
    try:
        mv = _register_version(client, info, model.name, tags={"riskscore.run_id": run_id})
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


def _register_version(client: Any, info: Any, name: str, *, tags: dict[str, str]) -> Any:
    """Register the logged model ``info`` as a new version of ``name``; return the version.

    What ``mlflow.register_model`` does for a ``models:/<model_id>`` URI, through the
    client: create the registered model unless it exists, create the version, and record
    the version on the logged model (the ``mlflow.modelVersions`` tag the UI links with).
    ``register_model`` prints "Successfully registered model ...", "Registered model ...
    already exists" and "Created version ..." straight to stderr, past any log level,
    into the output of our commands; riskscore says what it registered itself.
    """
    from mlflow.exceptions import MlflowException
    from mlflow.utils.mlflow_tags import MLFLOW_MODEL_VERSIONS

    try:
        client.create_registered_model(name)
    except MlflowException as err:
        if err.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
            raise
    version = client.create_model_version(name, info.model_uri, tags=tags, model_id=info.model_id)
    if info.model_id:
        logged = client.get_logged_model(info.model_id)
        links = json.loads(logged.tags.get(MLFLOW_MODEL_VERSIONS) or "[]")
        links.append({"name": version.name, "version": version.version})
        client.set_logged_model_tags(info.model_id, {MLFLOW_MODEL_VERSIONS: json.dumps(links)})
    return version


#: Artifact (at the run's root) holding the monitoring reference of the deployed model.
MONITOR_REFERENCE = "monitor_reference.json"


def _log_monitor_reference(
    mlflow: Any, result: TrainResult, folder: Path, market: Mapping[str, Any] | None = None
) -> None:
    """Log the monitoring reference (``riskscore monitor`` compares scoring runs with it).

    ``market`` (:func:`riskscore.monitor.market_profile` at the training cutoffs) is
    stored in it. A reference that cannot be built (a table without the columns it needs)
    does not stop the run: the tag ``riskscore.monitor_reference`` says why, and a warning
    too.
    """
    from riskscore.monitor import reference_from_result

    try:
        reference = reference_from_result(result, train_frame=result.train_frame, market=market)
    except RiskscoreError as err:
        mlflow.set_tag("riskscore.monitor_reference", f"not built: {err}"[:5000])
        warnings.warn(f"no monitoring reference logged: {err}", UserWarning, stacklevel=3)
        return
    path = folder / MONITOR_REFERENCE
    path.write_text(reference.to_json(), encoding="utf-8")
    mlflow.log_artifact(str(path))
    mlflow.set_tag("riskscore.monitor_reference", MONITOR_REFERENCE)


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
    rules: Any = None,
    market: Mapping[str, Any] | None = None,
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
    rules : RuleSet, optional
        The rule set tested with this model: logged as ``rules/ruleset.yaml`` (see
        :func:`log_rules`) and inside the pyfunc, which then returns decisions.
    market : mapping, optional
        Marketplace statistics at the training cutoffs
        (:func:`riskscore.monitor.market_profile`), stored in the monitoring reference.

    Returns
    -------
    LoggedRun

    Raises
    ------
    RegistryError
        When MLflow refuses (the run is marked FAILED and nothing is registered).
    """
    if not isinstance(result, TrainResult):
        raise RegistryError(
            "The 'result' parameter of log_training must be a TrainResult (what "
            "riskscore.modeling.train returns; train_and_log trains and logs in one call). "
            f"Got {type(result).__name__} instead."
        )
    with _tracking(tracking_uri) as client:
        mlflow = _mlflow()
        uri = _resolve_uri(tracking_uri)
        exp_id = _experiment_id(client, result.model.name, uri)
        with _run(mlflow, exp_id, run_name, tags) as run_id:
            model_uri, version = _log_into_active_run(
                mlflow,
                client,
                result,
                register=register,
                plots=plots,
                include_code=include_code,
                rules=None if rules is None else _check_rules(rules),
                market=market,
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
    market: Mapping[str, Any] | None = None,
    **train_kwargs: Any,
) -> LoggedRun:
    """Open a run, train inside it (:func:`riskscore.modeling.train`), log and register.

    A training error (no positives, a single-class window, ...) marks the run FAILED, with
    the error message as the tag ``riskscore.error``, and is raised again. ``market``
    (:func:`riskscore.monitor.market_profile` at the table's cutoffs) goes to the training
    diagnostics (the marketplace at the test cutoffs against its range at the training
    cutoffs) and is stored in the logged monitoring reference.

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
                result = train(table, entity=entity, target=target, market=market, **train_kwargs)
            except RiskscoreError as err:
                mlflow.set_tag("riskscore.error", str(err)[:5000])
                raise
            model_uri, version = _log_into_active_run(
                mlflow,
                client,
                result,
                register=register,
                plots=plots,
                include_code=include_code,
                market=market,
            )
        return LoggedRun(run_id, exp_id, name, version, model_uri, uri, result)


# ---------------------------------------------------------------------------- rule sets
def _check_rules(rules: Any) -> Any:
    """Refuse anything but a rule set (duck-typed: this layer sits below the rules)."""
    if not all(hasattr(rules, a) for a in ("label", "sha256", "save", "to_dict")):
        raise RegistryError(
            "The 'rules' parameter must be a riskscore.rules.RuleSet (load a file with "
            f"RuleSet.load(path)). Got {type(rules).__name__} instead."
        )
    return rules


def _write_rules(rules: Any, folder: Path) -> Path:
    """Write ``ruleset.yaml`` and ``ruleset.json`` (label and hash) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = rules.save(folder / Path(RULES_ARTIFACT).name)
    info = {"label": rules.label, "sha256": rules.sha256(), "file": path.name}
    (folder / Path(RULES_INFO).name).write_text(
        json.dumps(info, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return Path(path)


def _rules_tags(rules: Any) -> dict[str, str]:
    return {"riskscore.rule_set": rules.label, "riskscore.rule_set_sha256": rules.sha256()}


def _run_of(client: Any, uri: str) -> tuple[str, tuple[str, str] | None]:
    """Return the run id of ``runs:/<id>/...`` or ``models:/...`` (and the name, version)."""
    if uri.startswith("runs:/"):
        run_id = uri[len("runs:/") :].split("/", 1)[0]
        if run_id:
            return run_id, None
    elif uri.startswith("models:/"):
        from riskscore.registry._load import _version_of

        name, mv = _version_of(client, uri)
        if mv.run_id:
            return str(mv.run_id), (name, str(mv.version))
    raise RegistryError(
        f"cannot find the run of {uri!r}; expected models:/<name>@<alias>, "
        "models:/<name>/<version> or runs:/<run id>/..."
    )


def log_rules(
    rules: Any,
    *,
    run_id: str | None = None,
    model_uri: str | None = None,
    tracking_uri: str | None = None,
) -> str:
    """Log a rule set beside a model: the run's ``rules/ruleset.yaml`` with its hash.

    The YAML (:meth:`RuleSet.save`) goes to ``rules/ruleset.yaml`` and its label and
    content hash to ``rules/ruleset.json``; the run gets the tags ``riskscore.rule_set``
    and ``riskscore.rule_set_sha256`` (and the model version, when given by
    ``models:/...``, the same tags). ``riskscore export`` then copies the rule set into
    the model folder, and ``RuleSet.load("models:/name@champion")`` reads it back.

    Parameters
    ----------
    rules : RuleSet
    run_id : str, optional
        The training run.
    model_uri : str, optional
        Instead of ``run_id``: ``models:/<name>@<alias>``, ``models:/<name>/<version>`` or
        ``runs:/<run id>/...``.
    tracking_uri : str, optional

    Returns
    -------
    str
        ``runs:/<run id>/rules/ruleset.yaml``.

    Raises
    ------
    RegistryError
        Not a rule set, neither or both of ``run_id`` / ``model_uri``, or MLflow refused.
    ModelNotFoundError
        No model at ``model_uri``.
    """
    _check_rules(rules)
    if (run_id is None) == (model_uri is None):
        raise RegistryError(
            "log_rules needs exactly one of run_id= (the training run) or model_uri= "
            f"(models:/<name>@<alias>); got run_id={run_id!r}, model_uri={model_uri!r}"
        )
    from mlflow.exceptions import MlflowException

    with _tracking(tracking_uri) as client:
        version = None
        if model_uri is not None:
            run_id, version = _run_of(client, model_uri)
        assert run_id is not None
        with tempfile.TemporaryDirectory(prefix="riskscore-rules-") as tmp:
            folder = Path(tmp) / "rules"
            _write_rules(rules, folder)
            try:
                client.log_artifacts(run_id, str(folder), "rules")
                for key, value in _rules_tags(rules).items():
                    client.set_tag(run_id, key, value)
                    if version is not None:
                        client.set_model_version_tag(version[0], version[1], key, value)
            except MlflowException as err:
                raise RegistryError(
                    f"MLflow refused to log rule set {rules.label} to run {run_id}: {err}"
                ) from err
    return f"runs:/{run_id}/{RULES_ARTIFACT}"


def download_rules(
    uri: str, dst: str | os.PathLike[str], *, tracking_uri: str | None = None
) -> Path:
    """Download the rule set logged with a model or run into ``dst``; return its path.

    Parameters
    ----------
    uri : str
        ``models:/<name>@<alias>`` / ``models:/<name>/<version>`` (the version's run's
        ``rules/ruleset.yaml``), ``runs:/<run id>`` (the same) or
        ``runs:/<run id>/<artifact path>`` (that file).

    Raises
    ------
    ModelNotFoundError
        The run holds no rule set (log one with :func:`log_rules`).
    """
    from mlflow.exceptions import MlflowException

    from riskscore.exceptions import ModelNotFoundError

    with _tracking(tracking_uri) as client:
        mlflow = _mlflow()
        run_id, _ = _run_of(client, uri)
        path = RULES_ARTIFACT
        if uri.startswith("runs:/"):
            rest = uri[len("runs:/") :].split("/", 1)
            if len(rest) == 2 and rest[1].strip("/"):
                path = rest[1].strip("/")
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=path, dst_path=os.fspath(dst)
            )
        except (MlflowException, OSError) as err:
            raise ModelNotFoundError(
                f"no rule set at {uri!r} (run {run_id} has no '{path}'): {err}; log one with "
                "riskscore.registry.log_rules(ruleset, model_uri=...)"
            ) from None
    return Path(local)
