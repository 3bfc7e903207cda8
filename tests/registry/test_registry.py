"""Tracking, registry, aliases and loading against a SQLite store in a temp dir."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskscore.cli import main
from riskscore.exceptions import ModelNotFoundError, TrainingError
from riskscore.modeling import TrainResult, train
from riskscore.registry import (
    Gate,
    RegistryError,
    load,
    load_risk_model,
    log_training,
    model_name,
    promote,
    rollback,
    train_and_log,
)
from riskscore.registry._contract import PYFUNC_COLUMNS
from riskscore.registry._pyfunc import RiskModelPyfunc
from riskscore.registry._tracking import _resolve_uri
from riskscore.scoring._pyfunc import pyfunc_predict

NAME = "riskscore-seller-fraud"


def _score(model, X) -> np.ndarray:
    """Calibrated scores, one per row (the API every RiskModel version has)."""
    return np.asarray(model.scores_from_raw(model.raw_score(X))["score"], dtype=float)


def _client(uri: str):  # type: ignore[no-untyped-def]
    import mlflow

    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def test_default_tracking_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert _resolve_uri(None) == "sqlite:///mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    assert _resolve_uri(None) == "http://tracking.example:5000"
    assert _resolve_uri("sqlite:///x.db") == "sqlite:///x.db"
    assert model_name("listing", "counterfeit") == "riskscore-listing-counterfeit"


@pytest.mark.slow
def test_log_register_promote_load(
    good: TrainResult, bad: TrainResult, tracking: str, tmp_path: Path
) -> None:
    client = _client(tracking)
    # ---- a run with everything in it, registered as version 1 (challenger)
    run = log_training(good, tracking_uri=tracking, plots=True)
    assert (run.name, run.version) == (NAME, "1")
    info = client.get_run(run.run_id)
    assert info.info.status == "FINISHED"
    assert info.data.params["data.sha256"] == good.fingerprint["sha256"]
    assert info.data.params["lgbm.deterministic"] == "True"
    assert info.data.metrics["model.pr_auc"] == pytest.approx(good.metrics.loc["pr_auc", "model"])
    assert "baseline.pr_auc" in info.data.metrics and "delta.pr_auc" in info.data.metrics
    assert good.family_value is not None  # what each feature family adds, per family
    for row in good.family_value.to_dict("records"):
        key = f"family.{row['family'].replace('+', '_and_')}.pr_auc_lost"
        assert info.data.metrics[key] == pytest.approx(row["pr_auc_lost"])
    assert info.data.tags["riskscore.entity"] == "seller"
    artifacts = {a.path for a in client.list_artifacts(run.run_id)}
    assert {"riskmodel", "evaluation", "plots", "model_card.md", "monitor_reference.json"} <= (
        artifacts
    )
    # ---- riskscore monitor --model finds that reference through the registry
    scores_file = tmp_path / "scores.parquet"
    # the reference's own rows: the deployed refit's scores on the test window, with the
    # out-of-fold bands its volumes describe
    own = good.deployed_predictions
    assert own is not None
    own = own[["score", "risk_score"]].assign(band=own["oof_band"])
    own.to_parquet(scores_file)
    code = main(
        [
            "monitor",
            "--model",
            f"runs:/{run.run_id}/model",
            "--tracking-uri",
            tracking,
            "--scores",
            str(scores_file),
            "--out",
            str(tmp_path / "monitor"),
            "--as-of",
            "2024-10-01",
        ]
    )
    report = json.loads((tmp_path / "monitor" / "report.json").read_text(encoding="utf-8"))
    assert code == 0 and report["status"] == "ok"  # the reference's own test window
    # ... and files the report under that model version: artifacts, metrics, tags
    logged = {a.path for a in client.list_artifacts(run.run_id, "monitor/2024-10-01")}
    assert logged == {"monitor/2024-10-01/report.json", "monitor/2024-10-01/report.html"}
    history = client.get_metric_history(run.run_id, "monitor.score_psi")
    assert [m.step for m in history] == [0]
    assert history[0].value == pytest.approx(report["outputs"]["score"]["psi"])
    assert client.get_run(run.run_id).data.tags["riskscore.monitor.status"] == "ok"
    assert client.get_run(run.run_id).info.status == "FINISHED"
    # a second report is the next step; a models:/ URI also tags the model version
    shifted = tmp_path / "shifted.parquet"
    moved = own.assign(score=0.99, band="critical")
    moved.to_parquet(shifted)
    code = main(
        [
            "monitor",
            "--model",
            f"models:/{NAME}/1",
            "--tracking-uri",
            tracking,
            "--scores",
            str(shifted),
            "--out",
            str(tmp_path / "monitor2"),
        ]
    )
    assert code == 3  # every score in the top band: "act", the scheduler's exit code
    assert [m.step for m in client.get_metric_history(run.run_id, "monitor.level")] == [0, 1]
    assert [m.value for m in client.get_metric_history(run.run_id, "monitor.level")] == [0, 2]
    assert client.get_model_version(NAME, "1").tags["riskscore.monitor.status"] == "act"
    assert len(client.list_artifacts(run.run_id, "monitor")) == 2
    plots = {Path(a.path).name for a in client.list_artifacts(run.run_id, "plots")}
    assert plots == {
        "pr_curve.png",
        "roc_curve.png",
        "calibration.png",
        "score_distribution.png",
        "precision_at_k.png",
        "shap_beeswarm.png",
    }
    assert str(client.get_model_version_by_alias(NAME, "challenger").version) == "1"
    db_dir = Path(tracking[len("sqlite:///") :]).parent
    assert (db_dir / "mlartifacts" / NAME).is_dir()  # artifacts beside the database

    # ---- first promotion: no champion yet
    first = promote(NAME, tracking_uri=tracking, n_bootstrap=0)
    assert first.promoted and first.champion is None and first.candidate == "1"
    assert str(client.get_model_version_by_alias(NAME, "champion").version) == "1"

    # ---- a worse candidate is refused (paired interval below the margin), the champion stays
    run2 = log_training(bad, tracking_uri=tracking, plots=False)
    refused = promote(NAME, tracking_uri=tracking, n_bootstrap=200)
    assert refused.candidate == "2" and not refused.promoted and refused.outcome == "refuse"
    assert refused.reasons[0].startswith("PR-AUC: challenger ")
    assert "worse beyond the margin -0.030" in refused.reasons[0]
    assert refused.comparison is not None
    assert refused.comparison.loc["pr_auc", "delta_hi"] < -0.03
    assert str(client.get_model_version_by_alias(NAME, "champion").version) == "1"
    tag = json.loads(client.get_model_version(NAME, "2").tags["riskscore.promotion"])
    assert tag["outcome"] == "refuse" and tag["gate"] == Gate().to_dict()
    assert "riskscore.promotion" in client.get_run(run2.run_id).data.tags
    assert client.get_run(run2.run_id).data.metrics["gate.pr_auc_delta_hi"] < -0.03

    # ---- forcing it is possible, and logged
    with pytest.warns(UserWarning, match="promoted with force"):
        forced = promote(NAME, version=2, force=True, tracking_uri=tracking, n_bootstrap=0)
    assert forced.promoted and forced.forced
    assert client.get_model_version(NAME, "2").tags["riskscore.forced"] == "true"
    assert str(client.get_model_version_by_alias(NAME, "previous").version) == "1"

    # ---- a better candidate (version 1 re-registered as 3): clearly better, but the
    # test window holds fewer positives than the gate's minimum, so the champion stays
    run3 = log_training(good, tracking_uri=tracking, plots=False)
    undecided = promote(NAME, tracking_uri=tracking, n_bootstrap=200)
    assert undecided.outcome == "insufficient_evidence" and not undecided.promoted
    assert undecided.comparison is not None
    assert undecided.comparison.loc["pr_auc", "delta_lo"] > 0
    assert undecided.evidence is not None and undecided.evidence.n_positives < 50
    assert undecided.decision is not None and undecided.decision.more_positives is not None
    assert undecided.decision.more_positives >= 50 - undecided.evidence.n_positives
    assert undecided.reasons[-1].startswith(f"About {undecided.decision.more_positives} more")
    # a team that accepts fewer positives says so in the gate, and it is promoted
    accepted = promote(NAME, tracking_uri=tracking, n_bootstrap=200, gate=Gate(min_positives=10))
    assert accepted.candidate == "3" and accepted.promoted and not accepted.forced
    assert accepted.outcome == "promote"
    assert str(client.get_model_version_by_alias(NAME, "champion").version) == "3"
    assert str(client.get_model_version_by_alias(NAME, "previous").version) == "2"

    # ---- rollback
    assert rollback(NAME, tracking_uri=tracking) == "2"
    assert str(client.get_model_version_by_alias(NAME, "champion").version) == "2"

    # ---- loading by every kind of URI gives the same scores
    X = good.model.to_matrix(good.test_frame)
    expected = _score(good.model, X)
    downloads = set(Path(tempfile.gettempdir()).glob("riskscore-model-*"))
    loaded = load_risk_model(f"models:/{NAME}@previous", tracking_uri=tracking)
    assert set(Path(tempfile.gettempdir()).glob("riskscore-model-*")) == downloads  # cleaned up
    assert (loaded.name, loaded.version, loaded.run_id) == (NAME, "3", run3.run_id)
    for uri in (
        f"models:/{NAME}/1",
        f"runs:/{run.run_id}/riskmodel",
        run.model_uri,
        f"models:/{NAME}/latest",
    ):
        got = load_risk_model(uri, tracking_uri=tracking).model
        np.testing.assert_array_equal(_score(got, X), expected)
    folder = good.model.save(tmp_path / "local")
    np.testing.assert_array_equal(_score(load_risk_model(str(folder)).model, X), expected)
    # the deprecated load(uri) still works, and says what to call instead
    with pytest.warns(DeprecationWarning, match=r"load_risk_model\(uri\)\.model"):
        old = load(f"models:/{NAME}/1", tracking_uri=tracking)
    np.testing.assert_array_equal(_score(old, X), expected)

    # ---- the pyfunc returns score, risk score, band and reasons
    import mlflow

    mlflow.set_tracking_uri(tracking)
    pyfunc = mlflow.pyfunc.load_model(f"models:/{NAME}/1")
    out = pyfunc.predict(good.test_frame[good.model.feature_names].head(20))
    assert tuple(out.columns) == PYFUNC_COLUMNS  # pinned in tests/scoring/test_pyfunc.py
    assert out["action"].isna().all()  # logged without a rule set: no decision
    np.testing.assert_allclose(out["score"], expected[:20])
    assert isinstance(pyfunc.unwrap_python_model(), RiskModelPyfunc)
    assert pyfunc.unwrap_python_model().predict_function is pyfunc_predict
    assert out["risk_score"].dtype == np.float64 and set(out["band"]) <= {
        "low",
        "medium",
        "high",
        "critical",
    }
    assert all(r == [] for r in out["reasons"])  # a user table has no catalog, so no reasons
    schema = pyfunc.metadata.get_input_schema()
    # the entity id is an optional first input (the answer carries it as entity_id)
    assert schema.input_names() == [f"{good.model.entity}_id", *good.model.feature_names]
    reqs = Path(mlflow.pyfunc.get_model_dependencies(f"models:/{NAME}/1")).read_text().split()
    assert any(r.startswith("lightgbm==") for r in reqs) and any(
        r.startswith("mlflow==") for r in reqs
    )

    # ---- errors
    with pytest.raises(ModelNotFoundError, match="no model at"):
        load_risk_model(f"models:/{NAME}@nonexistent", tracking_uri=tracking)
    with pytest.raises(ModelNotFoundError, match="not a folder"):
        load_risk_model(str(tmp_path / "nothing-here"))
    with pytest.raises(ModelNotFoundError, match=r"no versions|no version"):
        promote("riskscore-nobody-nothing", tracking_uri=tracking)


def test_failed_training_is_marked_and_registers_nothing(
    reg_table: pd.DataFrame, tracking: str
) -> None:
    with pytest.raises(TrainingError, match="no positive labels"):
        train_and_log(
            reg_table.assign(label=0), entity="seller", target="fraud", tracking_uri=tracking
        )
    client = _client(tracking)
    exp = client.get_experiment_by_name(NAME)
    runs = client.search_runs([exp.experiment_id])
    assert [r.info.status for r in runs] == ["FAILED"]
    assert "no positive labels" in runs[0].data.tags["riskscore.error"]
    assert client.search_model_versions(f"name='{NAME}'") == []


@pytest.mark.slow
def test_mismatched_columns_against_the_champion(
    reg_table: pd.DataFrame, good: TrainResult, tracking: str
) -> None:
    log_training(good, tracking_uri=tracking, plots=False)
    promote(NAME, tracking_uri=tracking, n_bootstrap=0)
    fewer = train(
        reg_table.drop(columns=["noise__a", "noise__b"]),
        entity="seller",
        target="fraud",
        capacity=20,
        n_bootstrap=0,
    )
    log_training(fewer, tracking_uri=tracking, plots=False, include_code=False)
    with pytest.raises(RegistryError, match=r"(?s)needs 2 feature column.*force.*-noise__a"):
        promote(NAME, tracking_uri=tracking, n_bootstrap=0)
    with pytest.warns(UserWarning, match="force"):
        forced = promote(NAME, tracking_uri=tracking, force=True, n_bootstrap=0)
    assert forced.promoted and forced.forced and forced.comparison is None


def test_spark_udf_checks_explain_before_touching_spark() -> None:
    from riskscore import ScoringError
    from riskscore.registry import spark_udf

    with pytest.raises(ScoringError, match="The 'explain' parameter must be one of"):
        spark_udf(object(), "models:/riskscore-seller-fraud@champion", explain="some")


def test_the_registry_keeps_its_public_names() -> None:
    import riskscore.registry as registry
    from riskscore.registry import _mlflow

    assert set(registry.__all__) >= {
        "load",
        "load_risk_model",
        "log_training",
        "promote",
        "rollback",
        "spark_udf",
        "train_and_log",
    }
    # the old private module still answers the names other modules import from it
    assert _mlflow._tracking is registry._tracking._tracking
    assert _mlflow._version_of is registry._load._version_of


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: load_risk_model(None), r"'uri' parameter of load_risk_model .* Got NoneType"),
        (lambda: model_name(None, "fraud"), r"'entity' parameter of model_name .* Got NoneType"),
        (lambda: model_name("seller", ""), r"'target' parameter of model_name .* Got ''"),
        (lambda: log_training(None), r"'result' parameter of log_training must be a TrainResult"),
    ],
)
def test_bad_arguments_are_registry_errors(call, match) -> None:  # type: ignore[no-untyped-def]
    from riskscore import RegistryError

    with pytest.raises(RegistryError, match=match):
        call()


def test_spark_udf_wants_a_session() -> None:
    from riskscore import RegistryError
    from riskscore.registry import spark_udf

    with pytest.raises(RegistryError, match=r"'spark' parameter of spark_udf .* Got NoneType"):
        spark_udf(None, "models:/riskscore-seller-fraud@champion")


@pytest.mark.slow
def test_metric_names_are_valid_for_mlflow_with_a_family_pair(good: TrainResult) -> None:
    import dataclasses

    from mlflow.utils.validation import _validate_metric_name

    from riskscore.registry._log import _run_metrics

    assert good.family_value is not None
    pair = good.family_value.iloc[:1].assign(family="network+buyers")
    result = dataclasses.replace(
        good, family_value=pd.concat([good.family_value, pair], ignore_index=True)
    )
    metrics = _run_metrics(result)
    assert "family.network_and_buyers.pr_auc_lost" in metrics
    for name in metrics:
        _validate_metric_name(name)  # raises MlflowException on a bad character


@pytest.mark.slow  # a new MLflow store: its schema migrations take ~10 s on a busy machine
def test_a_monitoring_report_for_a_missing_run_is_a_registry_error(tracking: str) -> None:
    from riskscore.monitor import build_reference, compare
    from riskscore.registry import RegistryError, log_monitor_report

    frame = pd.DataFrame({"x": np.arange(1000.0)})
    report = compare(build_reference(test_frame=frame), frame)
    with pytest.raises(RegistryError, match=r"run 0{32}: .*--no-log skips logging"):
        log_monitor_report(report, "0" * 32, label="2024-10-01", tracking_uri=tracking)
