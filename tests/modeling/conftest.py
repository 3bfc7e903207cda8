"""Fixtures of the modeling tests: one small generated training table and one trained model.

``table`` has 1500 entities × 6 monthly cutoffs (2024-01 .. 2024-06), ~8 % positives and
five informative features plus two noise columns; ``result`` is trained on it once per
session (seed 0, capacity 20 reviews per cutoff, 50 bootstrap replicates). ``lgbm_data``
is a bare matrix for the LightGBM wrapper tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskscore.modeling import TrainResult, make_training_table, train


@pytest.fixture(scope="session")
def table() -> pd.DataFrame:
    return make_training_table(1500, 6, positive_rate=0.08, seed=0)


@pytest.fixture(scope="session")
def result(table: pd.DataFrame) -> TrainResult:
    return train(table, entity="seller", target="fraud", seed=0, capacity=20, n_bootstrap=50)


@pytest.fixture(scope="session")
def lgbm_data() -> tuple[np.ndarray, np.ndarray]:
    """1,200 rows, 4 features, about 10% positives (``fit_lgbm`` and friends)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1200, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(size=1200) > 2.0).astype(float)
    return X, y
