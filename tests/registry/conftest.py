"""Fixtures of the registry tests: trained results and a throw-away SQLite tracking store.

Training happens once per session (n_bootstrap=0 to stay fast). ``good`` uses every
generated feature; ``bad`` uses the same features with a near-constant model (a 1-split
stump at a tiny learning rate, 3 rounds, starting from log-odds 0 instead of the base rate)
left uncalibrated, so it is worse on the same test window in ranking and in calibration.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from riskscore.modeling import TrainingWarning, TrainResult, make_training_table, train

KW = dict(entity="seller", target="fraud", capacity=20, n_bootstrap=0, seed=0)


@pytest.fixture(scope="session")
def reg_table() -> pd.DataFrame:
    return make_training_table(1500, 6, positive_rate=0.08, seed=0)


@pytest.fixture(scope="session")
def good(reg_table: pd.DataFrame) -> TrainResult:
    return train(reg_table, **KW)


@pytest.fixture(scope="session")
def bad(reg_table: pd.DataFrame) -> TrainResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)
        return train(
            reg_table,
            params={
                "num_leaves": 2,
                "max_depth": 1,
                "learning_rate": 0.001,
                "boost_from_average": False,
            },
            class_weight=20.0,
            calibration="none",
            num_boost_round=3,
            early_stopping_rounds=1,
            **KW,
        )


@pytest.fixture
def tracking(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"
