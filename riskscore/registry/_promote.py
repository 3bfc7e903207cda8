"""Promotion: compare a candidate version with the champion, move aliases, roll back.

:func:`promote` compares a version with the ``champion`` on the candidate's test window
and, when the :class:`~riskscore.registry.Gate` passes (or ``force=True``), moves
``champion`` to it and ``previous`` to the old champion; :func:`rollback` moves
``champion`` back to ``previous``. The gate itself is pure (:mod:`riskscore.registry._gate`).
"""

from __future__ import annotations

import json
import tempfile
import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd

from riskscore.exceptions import ModelNotFoundError
from riskscore.modeling import RiskModel, column_diff, evaluate
from riskscore.registry._errors import RegistryError
from riskscore.registry._gate import Gate
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
