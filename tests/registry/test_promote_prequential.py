"""promote(table=..., prequential=N): both versions' configurations refitted on N windows.

The configuration of each version is rebuilt from its run's ``train.*`` parameters (the
features from its model), both are refitted on the last windows of the training table
and the gate decides on the pooled test rows (slow: MLflow round trips and refits).
"""

from __future__ import annotations

import pandas as pd
import pytest

from riskscore.modeling import TrainResult
from riskscore.registry import Gate, log_training, promote
from riskscore.registry._errors import RegistryError

pytestmark = pytest.mark.slow

NAME = "riskscore-seller-fraud"


def test_prequential_promotion_pools_windows_and_refuses_the_worse_config(
    reg_table: pd.DataFrame, good: TrainResult, bad: TrainResult, tracking: str
) -> None:
    from mlflow import MlflowClient

    from riskscore.registry._promote import _run_config

    log_training(good, tracking_uri=tracking, plots=False)
    assert promote(NAME, tracking_uri=tracking, n_bootstrap=0).promoted  # first champion
    run = log_training(bad, tracking_uri=tracking, plots=False)

    cfg = _run_config(MlflowClient(tracking), run.run_id, bad.gate_model)
    assert cfg.num_boost_round == 3 and cfg.calibration == "none"
    assert cfg.class_weight == 20.0 and cfg.params == {
        "num_leaves": 2,
        "max_depth": 1,
        "learning_rate": 0.001,
        "boost_from_average": False,
    }
    assert cfg.feature_cols == tuple(bad.gate_model.feature_names)

    with pytest.raises(RegistryError, match="prequential comparison needs the labelled"):
        promote(NAME, tracking_uri=tracking, prequential=2)

    out = promote(
        NAME, tracking_uri=tracking, table=reg_table, prequential=2, n_bootstrap=200,
        gate=Gate(min_positives=20),
    )  # fmt: skip
    assert out.evidence is not None
    assert out.evidence.n_cutoffs == 2
    assert out.evidence.source == "both configurations refitted on the last 2 windows of the table"
    assert out.evidence.metrics.loc["pr_auc", "delta_hi"] < -0.03
    assert out.outcome == "refuse" and not out.promoted

    # a table whose older windows hold no positive label: the error names the window
    # and says what the gate can do about it
    from riskscore.exceptions import TrainingError

    newest = sorted(reg_table["cutoff"].unique())[-2]
    thin = reg_table.assign(label=reg_table["label"].where(reg_table["cutoff"] >= newest, 0))
    with pytest.raises(TrainingError) as err:
        promote(NAME, tracking_uri=tracking, table=thin, prequential=2, n_bootstrap=0)
    assert str(err.value).startswith("paired_prequential (challenger) test window ")
    assert str(err.value).endswith(
        "For the gate: pass fewer windows (prequential=, --prequential) or a table with "
        "more cutoffs before its oldest window"
    )
