"""The train / promote / evaluate commands on a user table, logging to a temp SQLite store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from riskscore.cli import main
from riskscore.cli._promote import INSUFFICIENT_EVIDENCE, REFUSED
from riskscore.features import default_cutoffs


@pytest.fixture
def user_table(reg_table: pd.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "accounts.parquet"
    reg_table.rename(
        columns={"entity_id": "account_id", "cutoff": "ts", "label": "banned"}
    ).to_parquet(path)
    return path


ARGS = [
    "--id",
    "account_id",
    "--time",
    "ts",
    "--label",
    "banned",
    "--capacity",
    "20",
    "--bootstrap",
    "0",
    "--no-plots",
]


@pytest.mark.slow
def test_train_promote_evaluate(
    user_table: Path, tracking: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "train",
            "--table",
            str(user_table),
            *ARGS,
            "--tracking-uri",
            tracking,
            "--promote",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "riskscore-custom-banned version 1: promoted" in out
    assert "LightGBM [95% CI]" in out and "pr_auc" in out
    assert (tmp_path / "out" / "model" / "riskmodel.json").is_file()
    assert (tmp_path / "out" / "model_card.md").read_text().startswith("# Model card")

    # a challenger weighted 30x and left uncalibrated ranks worse and is refused: exit 3
    code = main(
        [
            "train",
            "--table",
            str(user_table),
            *ARGS,
            "--tracking-uri",
            tracking,
            "--features",
            "noise__a,noise__b,complaints__rate_90d,listings__price_ratio_median,"
            "network__shared_ids,orders__n_orders_30d,profile__account_age_days",
            "--calibration",
            "none",
            "--class-weight",
            "30",
        ]
    )
    assert code == 0
    capsys.readouterr()
    # without bootstrap replicates there is no interval: the gate never promotes (exit 4)
    promote = ["promote", "--entity", "custom", "--target", "banned", "--tracking-uri", tracking]
    assert main([*promote, "--bootstrap", "0"]) == INSUFFICIENT_EVIDENCE
    out = capsys.readouterr().out
    assert "version 2: NOT PROMOTED, insufficient evidence (champion kept)" in out
    assert "no interval, cannot decide" in out
    # one logged test window (~23 positives) cannot decide either: it says how many more
    assert main([*promote, "--bootstrap", "300"]) == INSUFFICIENT_EVIDENCE
    out = capsys.readouterr().out
    assert "1 cutoff(s)" in out and "the gate never promotes on fewer than 50" in out
    assert "more positives (about " in out and "protected slices not checked" in out
    # pooled over every cutoff of a labelled table with segments: worse, refused (exit 3)
    recent = tmp_path / "recent.parquet"
    frame = pd.read_parquet(user_table)
    age = frame["profile__account_age_days"]
    frame["segment__tenure"] = (age < age.quantile(0.25)).map(
        {True: "new (<90 days)", False: "established"}
    )
    frame.to_parquet(recent)
    refused = main([*promote, "--bootstrap", "300", "--table", str(recent)])
    out = capsys.readouterr().out
    assert refused == REFUSED, out
    assert "version 2: REFUSED" in out and "worse beyond the margin -0.030" in out
    assert f"compared on {len(frame)} rows" in out and "6 cutoff(s)" in out
    assert "protected slice segment__tenure=new (<90 days): false-positive rate" in out
    import json

    import mlflow

    client = mlflow.MlflowClient(tracking)
    mv = client.get_model_version("riskscore-custom-banned", "2")
    assert mv.tags["riskscore.gate.outcome"] == "refuse"
    run = client.get_run(mv.run_id)
    assert run.data.metrics["gate.pr_auc_delta_hi"] < -0.03
    assert run.data.metrics["gate.positives"] == frame["banned"].sum()
    assert "gate.fpr_delta.segment__tenure.new _90 days" in run.data.metrics
    path = mlflow.artifacts.download_artifacts(
        run_id=mv.run_id, artifact_path="gate/decision.json", tracking_uri=tracking
    )
    record = json.loads(Path(path).read_text())
    assert record["outcome"] == "refuse" and record["comparison"]["n_positives"] > 0

    code = main(
        [
            "promote",
            "--entity",
            "custom",
            "--target",
            "banned",
            "--version",
            "2",
            "--force",
            "--bootstrap",
            "0",
            "--tracking-uri",
            tracking,
        ]
    )
    assert code == 0
    assert "promoted (forced)" in capsys.readouterr().out
    code = main(
        [
            "promote",
            "--entity",
            "custom",
            "--target",
            "banned",
            "--rollback",
            "--tracking-uri",
            tracking,
        ]
    )
    assert code == 0 and "version 1 again" in capsys.readouterr().out

    code = main(
        [
            "evaluate",
            "--model",
            "models:/riskscore-custom-banned@champion",
            "--table",
            str(user_table),
            "--id",
            "account_id",
            "--time",
            "ts",
            "--label",
            "banned",
            "--bootstrap",
            "0",
            "--tracking-uri",
            tracking,
            "--out",
            str(tmp_path / "eval"),
        ]
    )
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0 and "pr_auc" in out and "v1" in out
    assert (tmp_path / "eval" / "thresholds.csv").is_file()
    # the champion is a refit on every labelled row of this very table: it says so, once
    notes = [line for line in captured.err.splitlines() if "in-sample" in line]
    assert len(notes) == 1 and notes[0].startswith(
        "note: riskscore-custom-banned was fitted on every labelled row of cutoffs up to"
    )
    assert "in-sample, not an evaluation" in notes[0]


def test_bad_input_exits_2(
    user_table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "--table", str(user_table), "--data", str(tmp_path), "--no-log"]) == 2
    assert "exactly one of --table" in capsys.readouterr().err
    assert main(["train", "--table", str(user_table), "--id", "nope", "--no-log"]) == 2
    assert "not in the table" in capsys.readouterr().err
    assert main(["train", "--table", str(tmp_path / "missing.csv"), "--no-log"]) == 2


@pytest.mark.slow
def test_prequential_command(user_table: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "evaluate",
            "--table",
            str(user_table),
            "--id",
            "account_id",
            "--time",
            "ts",
            "--label",
            "banned",
            "--prequential",
            "2",
            "--capacity",
            "20",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "mean" in out and "std" in out and "baseline_pr_auc" in out


def test_default_cutoffs_end_a_horizon_before_the_data() -> None:
    tables = {
        "orders": pd.DataFrame(
            {"created_at": pd.to_datetime(["2024-01-03 00:00", "2024-12-30 17:00"])}
        )
    }
    cut = default_cutoffs(tables, "60D", 3)
    assert [str(c.date()) for c in cut] == ["2024-08-01", "2024-09-01", "2024-10-01"]
