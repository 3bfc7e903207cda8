"""The backtest on the random-audit sample, next to all labels (issue 17, item 3)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

import riskscore as rs
from riskscore.backtest import backtest
from riskscore.backtest._audit import AUDIT_COLUMNS
from riskscore.exceptions import TrainingError
from tests.backtest.conftest import CUTOFFS, rule, ruleset


def _oracle(
    truth: pd.DataFrame, hit: float, false_alarm: float
) -> Callable[[Mapping[str, Any], pd.Timestamp], pd.DataFrame]:
    """A challenger that sees fraud nobody reviewed: it flags ``hit`` of the fraudulent
    sellers still trading (orders in the 30 days before the cutoff) and ``false_alarm``
    of the honest ones, from the simulator's answer key (a column for a rule set)."""
    is_fraud = truth.set_index("seller_id")["is_fraud"]

    def columns(tables: Mapping[str, Any], cutoff: pd.Timestamp) -> pd.DataFrame:
        ids = tables["sellers"]["seller_id"]
        orders = tables["orders"]
        recent = (orders["created_at"] >= cutoff - pd.Timedelta("30D")) & (
            orders["created_at"] < cutoff
        )
        trading = ids.isin(set(orders.loc[recent, "seller_id"])).to_numpy()
        bad = is_fraud.loc[ids].to_numpy()
        draw = np.random.default_rng(int(cutoff.value // 10**9)).random(len(ids))
        flag = trading & np.where(bad, draw < hit, draw < false_alarm)
        return pd.DataFrame({"seller_id": ids, "oracle": flag.astype(float)})

    return columns


ORACLE = ruleset("oracle", rule("seen", "oracle >= 1"), columns={"oracle": "number"})


def _contract(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {k: v for k, v in tables.items() if k != "truth"}


def test_without_audit_labels_the_backtest_says_so_and_does_not_fail(market, tmp_path) -> None:
    rules = ruleset("linked", rule("links", "network__bad_neighbours >= 1"))
    result = backtest(market, CUTOFFS, rulesets=[rules], n_bootstrap=0)
    assert result.audit.empty
    assert result.audit_note.startswith("no audit sample: the labels carry no 'source'")
    assert "No audit sample: the labels carry no 'source'" in result.to_markdown()
    assert "no audit sample" in result.summary()
    assert "selected by the current policy" in result.summary() + result.to_markdown()
    paths = result.save(tmp_path)
    assert "audit.csv" not in paths


def test_audit_rows_name_each_policy_and_metric(tmp_path) -> None:
    tables = rs.make_marketplace(n_sellers=400, seed=0, scenario="selective_enforcement")
    result = backtest(
        _contract(tables),
        ["2024-04-01", "2024-06-01"],
        rulesets=[ORACLE],
        columns=_oracle(tables["truth"], 0.8, 0.01),
        n_bootstrap=50,
    )
    audit = result.audit
    assert list(audit.columns) == list(AUDIT_COLUMNS)
    assert audit["policy"].tolist() == ["oracle@1"] * 4
    assert audit["metric"].tolist() == ["precision", "recall", "flag_rate", "prevalence"]
    n = int(audit["n_audited"].iloc[0])
    assert n > 0
    # all-labels figures are the overall table's own
    overall = result.overall.set_index("policy").loc["oracle@1"]
    row = audit.set_index("metric")
    assert row.loc["precision", "all_labels"] == pytest.approx(overall["precision"])
    assert row.loc["recall", "all_labels"] == pytest.approx(overall["recall"])
    assert result.audit_note.startswith(f"random-audit sample: {n} audited seller-cutoff(s)")
    assert "on the audit sample" in result.summary()
    assert "| oracle@1 | precision |" in result.to_markdown()
    paths = result.save(tmp_path)
    assert pd.read_csv(paths["audit.csv"])["metric"].tolist()[0] == "precision"


def test_listing_backtests_have_no_audit_sample() -> None:
    from riskscore.backtest._audit import audit_table

    table, note = audit_table(
        {},
        pd.DataFrame(),
        {},
        entity="listing",
        target="counterfeit",
        cutoffs=[],
        horizon="60D",
        label_delay="0D",
    )
    assert table.empty
    assert note == "no audit sample: the random audit reviews sellers, not listings"


def test_bad_selection_probabilities_are_an_error_not_a_silent_drop(market) -> None:
    labels = market["labels"].copy()
    labels["source"] = "random_audit"
    labels["selection_probability"] = np.nan
    market["labels"] = labels
    rules = ruleset("linked", rule("links", "network__bad_neighbours >= 1"))
    with pytest.raises(TrainingError, match="without a probability in"):
        backtest(market, CUTOFFS, rulesets=[rules], n_bootstrap=0)


@pytest.mark.slow
def test_on_selective_enforcement_the_audit_interval_holds_the_true_precision() -> None:
    # 4,000 sellers, six monthly cutoffs: ~700 audited seller-cutoffs
    tables = rs.make_marketplace(n_sellers=4000, seed=2, scenario="selective_enforcement")
    result = backtest(
        _contract(tables),
        list(pd.date_range("2024-03-01", periods=6, freq="MS")),
        rulesets=[ORACLE],
        columns=_oracle(tables["truth"], 0.8, 0.005),
        n_bootstrap=1000,
    )
    rows = result.rows
    bad = tables["truth"].set_index("seller_id").loc[rows["entity_id"], "is_fraud"].to_numpy()
    alert = rows["alert:oracle@1"].to_numpy(dtype=bool)
    true_precision = bad[alert].mean()
    precision = result.audit.set_index("metric").loc["precision"]
    assert precision["audit_lo"] <= true_precision <= precision["audit_hi"]
    # all labels: fraud the champion never sent to review counts as a false alert
    assert precision["all_labels"] < true_precision - 0.3
    # the audit's estimate is the closer one; its interval is wide (steady-state simulator,
    # measured: truth 0.61, audit 0.44 [0.14, 0.80] from 11 audited alerts, all labels 0.30)
    assert abs(precision["audit"] - true_precision) < abs(precision["all_labels"] - true_precision)
