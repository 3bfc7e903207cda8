"""On the concept-shift scenario the monitor says its label-free estimate is unreliable."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd
import pytest

import riskscore as rs
from riskscore.monitor import estimate_performance, proxy_check, proxy_outcomes

BEFORE, AFTER = "2024-06-01", "2024-09-01"  # the concept shift starts on day 183 (July)


def _trained(
    scenario: str, n_sellers: int, cutoffs: Any, **settings: Any
) -> tuple[dict[str, pd.DataFrame], Any]:
    """A seller fraud model (60-day labels) on a simulated marketplace; tables and result."""
    tables = rs.make_marketplace(n_sellers=n_sellers, seed=0, scenario=scenario)
    data = {k: v for k, v in tables.items() if k != "truth"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train_set = rs.build_training_set(
            data, "seller", target="fraud", cutoffs=cutoffs, horizon="60D"
        )
        result = rs.train(
            train_set, entity="seller", target="fraud", family_report=False, **settings
        )
    return data, result


def _runs(scenario: str) -> dict[str, pd.DataFrame]:
    """Train a fraud model before the shift; score the marketplace before and after it."""
    cutoffs = pd.date_range("2024-01-15", periods=5, freq="MS")
    data, result = _trained(scenario, 5000, cutoffs, capacity=30, refit=False)
    scorer = rs.Scorer(result.model)
    runs = {}
    for as_of in (BEFORE, AFTER):
        runs[as_of] = scorer.score_many(rs.build_features(data, "seller", as_of=as_of))
    runs["tables"] = data  # type: ignore[assignment]
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["concept_shift", "default"])
def test_proxy_outcomes_flag_the_estimate_only_under_concept_shift(scenario: str) -> None:
    runs = _runs(scenario)
    tables = runs.pop("tables")
    before = proxy_outcomes(runs[BEFORE], tables, as_of=BEFORE)
    after = proxy_outcomes(runs[AFTER], tables, as_of=AFTER)
    findings = proxy_check(after, before)
    # the label-free estimate looks just as healthy after the shift as before it
    est_before, est_after = (estimate_performance(runs[a]) for a in (BEFORE, AFTER))
    assert abs(est_after.precision - est_before.precision) < 0.25
    if scenario == "concept_shift":
        assert [f.subject for f in findings] == ["ranking"]
        assert after.ranking["auc"] < before.ranking["auc"] - 0.05
    else:
        assert findings == []
        assert abs(after.ranking["auc"] - before.ranking["auc"]) < 0.02
