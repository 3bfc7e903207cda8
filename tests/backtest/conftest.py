"""Fixtures of the backtest tests: a small simulated marketplace, a model, rule sets.

``market`` is a 300-seller simulated marketplace (seed 0) without the simulator's answer
key; ``model`` a small RiskModel trained on its features as of 2024-07-01 with the ground
truth (the scoring tests' ``train_small_model``), so its bands mean something on the
later cutoffs the backtests use (:data:`CUTOFFS`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tests.scoring.conftest import train_small_model

#: Two month starts whose 60-day label windows close inside the simulated year.
CUTOFFS = ["2024-08-01", "2024-09-01"]


def rule(name: str, when: str, action: str = "review", **extra: Any) -> dict[str, Any]:
    """One rule of a rule-set dict, with placeholder reasons."""
    return {
        "name": name,
        "when": when,
        "action": action,
        "reason": {"en": name, "zh": name},
        **extra,
    }


def ruleset(name: str, *rules: dict[str, Any], **extra: Any):
    """A RuleSet from rule dicts."""
    from riskscore.rules import RuleSet

    return RuleSet.from_dict({"name": name, "version": "1", "rules": list(rules), **extra})


@pytest.fixture(scope="session")
def simulated() -> dict[str, pd.DataFrame]:
    """300 simulated sellers (seed 0), with ``truth``."""
    from riskscore.datasets import make_marketplace

    return make_marketplace(n_sellers=300, seed=0)


@pytest.fixture
def market(simulated) -> dict[str, pd.DataFrame]:
    """The contract tables of ``simulated`` (fresh copies: tests may change them)."""
    return {k: v.copy() for k, v in simulated.items() if k != "truth"}


@pytest.fixture(scope="session")
def model(simulated):
    """A small seller model trained on every feature as of 2024-07-01."""
    from riskscore.features import build_features

    tables = {k: v for k, v in simulated.items() if k != "truth"}
    features = build_features(tables, "seller", as_of="2024-07-01").reset_index()
    return train_small_model(features, simulated["truth"])
