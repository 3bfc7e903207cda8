"""Fixtures for the monitor tests: one small trained model and its monitoring reference.

``trained`` is :func:`riskscore.modeling.train` on the generated training table (1,200
entities × 6 monthly cutoffs, a categorical region column), without refit and family
report so it trains in seconds; ``reference`` is its monitoring reference built from the
training-window rows and the test window.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from riskscore.modeling import make_training_table, train
from riskscore.monitor import Reference, reference_from_result


def train_fraud_model(table: pd.DataFrame, *, capacity: int = 20, **settings: Any) -> Any:
    """A seller fraud model for the monitor tests: no bootstrap or family report."""
    return train(
        table,
        entity="seller",
        target="fraud",
        capacity=capacity,
        n_bootstrap=0,
        family_report=False,
        **settings,
    )


def score_frame(model: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """Scores of ``frame`` as ``riskscore score`` writes them: score, risk_score, band."""
    out = model.scores_from_raw(model.raw_score(model.to_matrix(frame)))
    return pd.DataFrame(
        {"score": out["score"], "risk_score": out["risk_score"], "band": out["band"]}
    )


def _seller_fraud_model(
    tables: dict[str, pd.DataFrame],
    cutoffs: list[str],
    *,
    capacity: int,
    flag_bands: tuple[str, ...],
    refit: bool = True,
) -> tuple[Any, Reference]:
    """A seller fraud model on marketplace tables (60-day labels) and its reference.

    ``refit`` as in :func:`~riskscore.modeling.train` (the default deploys a refit).
    """
    from riskscore.features import build_training_set

    table = build_training_set(tables, "seller", target="fraud", cutoffs=cutoffs, horizon="60D")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = train_fraud_model(table, capacity=capacity, refit=refit, min_positives=15)
    before = table[table["cutoff"] < result.test_frame["cutoff"].min()]
    return result, reference_from_result(result, train_frame=before, flag_bands=flag_bands)


@pytest.fixture(scope="session")
def seller_fraud_model() -> Any:
    """``(tables, cutoffs, capacity=, flag_bands=, refit=True) -> (TrainResult, Reference)``."""
    return _seller_fraud_model


@pytest.fixture(scope="session")
def table() -> pd.DataFrame:
    return make_training_table(1200, 6, positive_rate=0.08, seed=0, with_category=True)


@pytest.fixture(scope="session")
def trained(table: pd.DataFrame) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return train_fraud_model(table, refit=False)


@pytest.fixture(scope="session")
def train_rows(table: pd.DataFrame, trained: Any) -> pd.DataFrame:
    """Rows of the table before the test window (the training side's cutoffs)."""
    return table[table["cutoff"] < trained.test_frame["cutoff"].min()]


@pytest.fixture(scope="session")
def reference(trained: Any, train_rows: pd.DataFrame) -> Reference:
    return reference_from_result(trained, train_frame=train_rows)


@pytest.fixture(name="score_frame")
def _score_frame() -> Any:
    """:func:`score_frame`, for tests (conftest modules are not importable by name)."""
    return score_frame


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
