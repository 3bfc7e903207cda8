"""Fixtures of the CLI tests, shared with the package tests they exercise.

Every ``riskscore <command>`` test lives in ``tests/cli/``; the models, marketplaces and
tracking stores they run against are the fixtures of the matching package tests,
re-exported here (one definition each).
"""

from __future__ import annotations

from tests.features.conftest import _market, market
from tests.registry.conftest import reg_table, tracking
from tests.scoring.conftest import (
    data_dir,
    marketplace,
    model_dir,
    seller_features,
    seller_model,
    seller_scorer,
)
from tests.serve.conftest import model_v1

__all__ = [
    "_market",
    "data_dir",
    "market",
    "marketplace",
    "model_dir",
    "model_v1",
    "reg_table",
    "seller_features",
    "seller_model",
    "seller_scorer",
    "tracking",
]
