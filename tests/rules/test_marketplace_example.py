"""The documented example rules (examples/rules/) applied to a simulated marketplace."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from riskscore.rules import RuleSet
from riskscore.scoring import RiskScore

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rules" / "marketplace.yaml"


def expected(frame: pd.DataFrame) -> pd.DataFrame:
    """The three rules and the precedence written out in plain pandas (the oracle)."""
    phones = (
        (frame["account__age_days"] < 30)
        & (frame["main_category"] == "phones")
        & (frame["pricing__median_price_ratio"] < 0.5)
    )
    linked = frame["network__bad_neighbours"] >= 3
    very_high = frame["risk_score"] >= 900
    band_action = frame["band"].map(
        {"low": "allow", "medium": "allow", "high": "review", "critical": "hold"}
    )
    action = np.select(
        [very_high, linked | (band_action == "hold"), phones | (band_action == "review")],
        ["block", "hold", "review"],
        "allow",
    )
    fired = [
        [
            n
            for n, on in zip(
                ("very_high_risk_score", "linked_to_banned_shops", "new_shop_cheap_phones"),
                row,
                strict=True,
            )
            if on
        ]
        for row in zip(very_high, linked, phones, strict=True)
    ]
    return pd.DataFrame({"action": action, "rules_fired": fired}, index=frame.index)


def test_example_loads_with_the_three_documented_rules():
    rules = RuleSet.load(EXAMPLE)
    assert [r.name for r in rules.rules] == [
        "very_high_risk_score",  # block
        "linked_to_banned_shops",  # hold
        "new_shop_cheap_phones",  # review
    ]
    assert rules.needed_columns == [
        "account__age_days",
        "main_category",
        "network__bad_neighbours",
        "pricing__median_price_ratio",
        "risk_score",
    ]


def test_example_rules_on_a_simulated_marketplace(example_frame):
    rules = RuleSet.load(EXAMPLE)
    decided = rules.decide_many(example_frame)
    want = expected(example_frame)
    assert decided["action"].tolist() == want["action"].tolist()
    assert decided["rules_fired"].tolist() == want["rules_fired"].tolist()
    counts = pd.Series([n for row in decided["rules_fired"] for n in row]).value_counts()
    # every rule fires on this marketplace, so the comparison above is not vacuous
    assert sorted(counts.index) == [
        "linked_to_banned_shops",
        "new_shop_cheap_phones",
        "very_high_risk_score",
    ]
    assert (decided["action"] == "block").sum() == counts["very_high_risk_score"]
    # the model's reasons follow the rules' reasons
    row = decided.loc[decided["rules_fired"].map(len) > 0].iloc[0]
    source = example_frame.loc[row.name]
    assert row["reasons"][: len(row["rules_fired"])] == [
        next(r for r in rules.rules if r.name == n).reason_en for n in row["rules_fired"]
    ]
    assert row["reasons"][len(row["rules_fired"])] == source["reason_1_text"]


def test_decide_one_agrees_on_the_marketplace_rows_that_fire(example_frame):
    rules = RuleSet.load(EXAMPLE)
    decided = rules.decide_many(example_frame, language="zh")
    rows = example_frame.loc[decided["rules_fired"].map(len) > 0]
    assert len(rows) >= 3
    for index, row in rows.iterrows():
        result = RiskScore.from_row(row.to_dict(), entity="seller")
        one = rules.decide(result, row.to_dict(), language="zh")
        assert one.action == decided.at[index, "action"]
        assert list(one.rules_fired) == decided.at[index, "rules_fired"]
        assert list(one.reasons) == decided.at[index, "reasons"]
        assert one.entity_id == row["seller_id"]
