"""Promotion: compare a candidate version with the champion, move aliases, roll back.

:func:`promote` scores the candidate and the ``champion`` on the same rows (the
candidate's logged test window, or a labelled ``table`` neither has seen), measures the
paired difference with intervals and the protected slices
(:func:`riskscore.modeling.compare_paired`) — or takes a ready comparison pooled over
prequential windows (:func:`riskscore.modeling.paired_prequential`) — and lets the
:class:`~riskscore.registry.Gate` decide: ``promote`` moves ``champion`` to the candidate
and ``previous`` to the old champion; ``refuse`` and ``insufficient_evidence`` keep the
champion (``force=True`` promotes anyway, recorded). :func:`rollback` moves ``champion``
back to ``previous``. The gate itself is pure (:mod:`riskscore.registry._gate`).

What is logged on the candidate (its run and its version)
--------------------------------------------------------
* tags ``riskscore.promotion`` (JSON: outcome, reasons, gate, champion before, forced)
  and ``riskscore.gate.outcome``;
* run metrics ``gate.<metric>_delta`` with ``_lo`` / ``_hi``, ``gate.positives``,
  ``gate.cutoffs`` and ``gate.fpr_delta.<slice>`` for each protected slice;
* artifacts ``gate/decision.json`` (decision, criteria, the comparison with every slice)
  and ``gate/comparison.md`` (the same in words and tables).
"""

from __future__ import annotations

import ast
import json
import re
import tempfile
import warnings
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd

from riskscore.exceptions import ModelNotFoundError, RiskscoreError, TrainingError
from riskscore.modeling import (
    PairedComparison,
    RiskModel,
    TrainConfig,
    column_diff,
    compare_paired,
    paired_frame,
    paired_prequential,
)
from riskscore.modeling._card import comparison_card
from riskscore.registry._errors import RegistryError
from riskscore.registry._gate import Gate, GateDecision
from riskscore.registry._load import _download, _find_riskmodel
from riskscore.registry._tracking import (
    EVALUATED_PATH,
    RISKMODEL_PATH,
    TEST_FRAME_PATH,
    _mlflow,
    _tracking,
)

__all__ = ["Promotion", "promote", "rollback"]


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
        The gate's sentences (or why it was skipped).
    comparison : pandas.DataFrame or None
        Challenger vs champion metrics with the paired intervals of the difference.
    outcome : {"promote", "refuse", "insufficient_evidence"}
        The gate's verdict (``promote`` also when there was no champion yet).
    evidence : PairedComparison or None
        The full comparison, slices included.
    decision : GateDecision or None
    """

    name: str
    candidate: str
    champion: str | None
    promoted: bool
    forced: bool
    reasons: list[str]
    comparison: pd.DataFrame | None = None
    outcome: str = "promote"
    evidence: PairedComparison | None = None
    decision: GateDecision | None = field(default=None, repr=False)


def _alias_version(client: Any, name: str, alias: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def _gate_model(client: Any, mlflow: Any, run_id: str, dst: str) -> RiskModel:
    """Load the run's evaluated fit (never a refit on its own test rows), else its model."""
    try:
        path = _download(client, mlflow, run_id, EVALUATED_PATH, dst + "-evaluated")
        return RiskModel.load(_find_riskmodel(path))
    except ModelNotFoundError:  # a run logged with refit=False, or before refits existed
        path = _download(client, mlflow, run_id, RISKMODEL_PATH, dst)
        return RiskModel.load(_find_riskmodel(path))


def promote(
    name: str,
    *,
    version: str | int | None = None,
    gate: Gate | None = None,
    force: bool = False,
    tracking_uri: str | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    table: pd.DataFrame | None = None,
    evidence: PairedComparison | None = None,
    level: float = 0.95,
    prequential: int = 0,
    audit: pd.DataFrame | None = None,
) -> Promotion:
    """Compare a version with the champion on the same rows and promote it if the gate says so.

    Both models are scored with their *evaluated* fits (``evaluated_model/`` of each run:
    a refit on every label has seen the rows) on the candidate's logged test window, or on
    ``table``; the difference of PR-AUC and of precision at capacity gets a paired entity
    bootstrap interval, and protected slices their FPR change
    (:func:`riskscore.modeling.compare_paired`). The :class:`Gate` decides. With no
    champion yet, the candidate becomes champion. The old champion keeps the alias
    ``previous``. The decision, intervals and slices are logged on the candidate's run
    and version (see the module docstring).

    Parameters
    ----------
    name : str
        Registered model name (``riskscore-<entity>-<target>``).
    version : str or int, optional
        Candidate version; default the ``challenger`` alias, else the latest version.
    gate : Gate, optional
    force : bool, default False
        Promote even if the gate refuses or lacks evidence (logged).
    tracking_uri : str, optional
    n_bootstrap, seed : int
        Paired bootstrap of the differences (entities drawn whole).
    table : pandas.DataFrame, optional
        Labelled rows neither model was fitted on (e.g. cutoffs whose labels matured since
        training), with both models' features, the id, time and label columns and
        ``segment__*`` columns for the slices; pooled instead of the logged test window.
        More cutoffs here is how an ``insufficient_evidence`` verdict gets decided.
    evidence : PairedComparison, optional
        A ready comparison, e.g. ``compare_paired(paired_prequential(table, new_config,
        champion_config))`` pooled over prequential windows; nothing is scored then.
    level : float, default 0.95
        Confidence level of the intervals.
    prequential : int, default 0
        With ``table`` (the labelled training table): refit both versions' training
        configurations (rebuilt from their runs' ``train.*`` parameters, features from
        each model) on each of the last ``prequential`` windows of ``table`` and pool the
        test rows (:func:`riskscore.modeling.paired_prequential`) — the honest comparison
        over several cutoffs. 0 scores the two logged fits instead.
    audit : pandas.DataFrame, optional
        The random-audit sample of the compared rows' cutoffs
        (:func:`riskscore.modeling.audit_sample`): the gate's report then gives both
        models' precision and recall on it (unbiased, with intervals) next to the
        all-labels figures, which are selected by the current policy; without it the
        report says "no audit sample". Informational: the gate decides on the paired
        intervals.

    Raises
    ------
    ModelNotFoundError
        No such model or version.
    RegistryError
        The champion needs feature columns the rows lack (a diff is shown); use
        ``force=True`` to promote anyway.
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
        decision: GateDecision | None = None
        if champion_mv is None:
            reasons = ["no champion yet: the candidate becomes the first champion"]
            outcome = "promote"
        elif evidence is None:
            evidence = _compare(
                client, mlflow, name, candidate_mv, champion_mv, table,
                force=force, n_bootstrap=n_bootstrap, seed=seed, level=level,
                prequential=prequential, audit=audit,
            )  # fmt: skip
        if champion_mv is not None and evidence is None:
            reasons = ["not compared: the champion needs feature columns the rows lack"]
            outcome = "refuse"
        elif evidence is not None:
            decision = gate.decide(evidence)
            reasons, outcome = list(decision.reasons), decision.outcome
        passed = outcome == "promote"
        promoted = passed or force
        forced = bool(force and not passed)
        record = {
            "decision": "promoted" if promoted else "kept champion",
            "outcome": outcome,
            "forced": forced,
            "gate": gate.to_dict(),
            "champion_before": champ_v,
            "reasons": reasons,
            "more_positives": decision.more_positives if decision else None,
            "more_cutoffs": decision.more_cutoffs if decision else None,
        }
        _log_decision(client, name, cand_v, candidate_mv.run_id, record, evidence, gate)
        if forced:
            client.set_model_version_tag(name, cand_v, "riskscore.forced", "true")
            warnings.warn(
                f"version {cand_v} of '{name}' promoted with force although the gate said "
                f"{outcome}: " + "; ".join(reasons),
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
            name,
            cand_v,
            champ_v,
            promoted,
            forced,
            reasons,
            evidence.metrics if evidence is not None else None,
            outcome,
            evidence,
            decision,
        )


def _compare(
    client: Any,
    mlflow: Any,
    name: str,
    candidate_mv: Any,
    champion_mv: Any,
    table: pd.DataFrame | None,
    *,
    force: bool,
    n_bootstrap: int,
    seed: int,
    level: float,
    prequential: int = 0,
    audit: pd.DataFrame | None = None,
) -> PairedComparison | None:
    """Score both evaluated fits on the same rows and measure the paired difference."""
    if prequential and table is None:
        raise RegistryError(
            "prequential comparison needs the labelled training table: pass table= "
            "(--table) with prequential= (--prequential)"
        )
    with tempfile.TemporaryDirectory(prefix="riskscore-promote-") as tmp:
        cand = _gate_model(client, mlflow, candidate_mv.run_id, f"{tmp}/c")
        champ = _gate_model(client, mlflow, champion_mv.run_id, f"{tmp}/p")
        if table is None:
            rows = pd.read_parquet(
                _download(client, mlflow, candidate_mv.run_id, TEST_FRAME_PATH, f"{tmp}/t")
            )
            source = f"the test window logged with version {candidate_mv.version}"
            k = int(cand.metadata.get("capacity_test", cand.metadata.get("capacity", 100)))
        else:
            rows = table
            source = "the labelled table given to promote"
            k = int(cand.metadata.get("capacity", 100))
    missing = [c for c in champ.feature_names if c not in rows.columns]
    if missing and not force:
        raise RegistryError(
            f"cannot compare version {candidate_mv.version} with champion "
            f"{champion_mv.version} of '{name}': the champion needs {len(missing)} feature "
            f"column(s) the compared rows do not have ({missing[:5]}). Retrain on the same "
            f"feature catalog, or promote with force=True (--force) knowingly.\n"
            f"{column_diff(champ.feature_names, cand.feature_names)}"
        )
    if missing:
        return None
    meta = cand.metadata
    if prequential and table is not None:
        try:
            frame = paired_prequential(
                table,
                _run_config(client, candidate_mv.run_id, cand),
                _run_config(client, champion_mv.run_id, champ),
                n_windows=prequential,
            )
        except TrainingError as err:  # min_positives is each version's own setting here
            raise TrainingError(
                f"{err}. For the gate: pass fewer windows (prequential=, --prequential) or a "
                "table with more cutoffs before its oldest window"
            ) from None
        return compare_paired(
            frame,
            label_col=meta.get("label_col", "label"),
            id_col=meta.get("id_col", "entity_id"),
            time_col=meta.get("time_col"),
            k=int(frame.attrs.get("k", 1)),
            n_bootstrap=n_bootstrap,
            level=level,
            seed=seed,
            source=f"both configurations refitted on the last {prequential} windows of the table",
            audit=audit,
        )
    return compare_paired(
        paired_frame(cand, champ, rows),
        label_col=meta.get("label_col", "label"),
        id_col=meta.get("id_col", "entity_id"),
        time_col=meta.get("time_col"),
        k=k,
        n_bootstrap=n_bootstrap,
        level=level,
        seed=seed,
        source=source,
        audit=audit,
    )


def _run_config(client: Any, run_id: str, model: RiskModel) -> TrainConfig:
    """Rebuild the training configuration of a run from its ``train.*`` parameters.

    The features are the model's own (a long feature list is cut in MLflow's params).
    """
    params = client.get_run(run_id).data.params
    values: dict[str, Any] = {}
    lgbm: dict[str, Any] = {}
    for f in fields(TrainConfig):
        key = f"train.{f.name}"
        if key in params:
            values[f.name] = _literal(params[key])
    for key, text in params.items():
        if key.startswith("train.params."):
            lgbm[key[len("train.params.") :]] = _literal(text)
    if lgbm:
        values["params"] = lgbm
    values["feature_cols"] = tuple(model.feature_names)
    try:
        return TrainConfig(**values)
    except RiskscoreError as err:
        raise RegistryError(
            f"cannot rebuild the training configuration of run {run_id} from its train.* "
            f"parameters ({err}); compare with evidence=compare_paired(paired_prequential("
            "table, challenger_config, champion_config)) instead"
        ) from err


def _literal(text: str) -> Any:
    """Return a logged parameter as its value (``'None'`` → None, ``'[1, 2]'`` → list)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _metric_key(text: str) -> str:
    """Return an MLflow metric key for a slice name (letters, digits, ``_-. /`` only)."""
    return re.sub(r"[^A-Za-z0-9_\-. /]+", "_", text).strip("_")


def _log_decision(
    client: Any,
    name: str,
    version: str,
    run_id: str,
    record: dict[str, Any],
    evidence: PairedComparison | None,
    gate: Gate,
) -> None:
    """Tags on the version and run; metrics and artifacts on the run."""
    text = json.dumps(record)[:5000]
    client.set_model_version_tag(name, version, "riskscore.promotion", text)
    client.set_model_version_tag(name, version, "riskscore.gate.outcome", record["outcome"])
    client.set_tag(run_id, "riskscore.promotion", text)
    client.set_tag(run_id, "riskscore.gate.outcome", record["outcome"])
    if evidence is None:
        client.log_dict(run_id, record, "gate/decision.json")
        return
    metrics: dict[str, float] = {
        "gate.positives": float(evidence.n_positives),
        "gate.cutoffs": float(evidence.n_cutoffs),
    }
    for metric, row in evidence.metrics.iterrows():
        for col in ("delta", "delta_lo", "delta_hi"):
            metrics[f"gate.{metric}_{col}"] = float(row[col])
    protected = {p.partition("=")[2] for p in gate.protected}
    for _, row in evidence.slices.iterrows():
        if row["level"] in protected:
            metrics[_metric_key(f"gate.fpr_delta.{row['segment']}.{row['level']}")] = float(
                row["fpr_delta"]
            )
    for key, value in metrics.items():
        if value == value:  # MLflow refuses NaN on some stores
            client.log_metric(run_id, key, value)
    client.log_dict(run_id, {**record, "comparison": evidence.to_dict()}, "gate/decision.json")
    client.log_text(
        run_id,
        comparison_card(evidence, reasons=record["reasons"], outcome=record["outcome"]),
        "gate/comparison.md",
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
