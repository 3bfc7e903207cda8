"""Policies: band alerts, rule-set alerts and which rule alerted alone."""

from __future__ import annotations

import pandas as pd
import pytest

from riskscore.backtest import BacktestError, backtest
from riskscore.backtest._policies import Policy, apply_policy, make_policies
from riskscore.modeling import BANDS
from tests.backtest.conftest import rule, ruleset


@pytest.fixture
def rules():
    return ruleset(
        "r",
        rule("cheap", "pricing__median_price_ratio < 0.5", "review"),
        rule("linked", "network__bad_neighbours >= 3", "hold"),
        rule("trusted", "account__age_days > 1000", "allow", override=True),
        rule("note", "account__age_days > 500", "allow"),
    )


def frame(rows: list[tuple[float, float, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=[
            "pricing__median_price_ratio",
            "network__bad_neighbours",
            "account__age_days",
            "band",
        ],
    ).assign(risk_score=500.0, score=0.1)


def test_band_policy_alerts_on_that_band_or_higher():
    f = pd.DataFrame({"band": ["low", "medium", "high", "critical", None]})
    out = apply_policy(Policy("b", model=0, band="medium"), f, BANDS)
    assert out.alert.tolist() == [False, True, True, True, False]


def test_rule_alone_attribution(rules):
    f = frame(
        [
            (0.3, 0, 100, "low"),  # cheap alone -> alone 'cheap'
            (0.3, 5, 100, "low"),  # cheap and linked -> no single rule
            (0.3, 0, 100, "high"),  # cheap and band high (review) -> not alone
            (0.3, 0, 2000, "high"),  # cheap, band overridden by 'trusted' -> alone 'cheap'
            (0.9, 0, 600, "low"),  # only the allow rule 'note' -> no alert
            (0.9, 0, 100, "critical"),  # band alone -> alert, no rule
        ]
    )
    out = apply_policy(Policy("r", model=0, rules=rules), f, BANDS)
    assert out.alert.tolist() == [True, True, True, True, False, True]
    assert out.alone.tolist() == ["cheap", None, None, "cheap", None, None]
    assert out.fired["cheap"].tolist() == [True, True, True, True, False, False]
    assert out.fired["note"].tolist() == [False, False, False, True, True, False]


def test_rules_without_a_model_ignore_bands(rules):
    f = frame([(0.3, 0, 100, "critical"), (0.9, 0, 100, "critical")]).drop(
        columns=["band", "risk_score", "score"]
    )
    out = apply_policy(Policy("r", rules=rules), f, BANDS)
    assert out.alert.tolist() == [True, False]
    assert out.alone.tolist() == ["cheap", None]


@pytest.mark.slow  # fits the demo model (~9 s)
def test_policy_names_carry_the_model_only_when_there_are_several(rules):
    from riskscore.scoring import Scorer
    from riskscore.scoring._demo import demo_model

    model = demo_model()

    one = make_policies([Scorer(model)], [rules, rules], "high")
    assert [p.name for p in one] == ["band>=high", "r@1", "r@1#2"]
    first, second = Scorer(model, model_version="1"), Scorer(model, model_version="2")
    two = make_policies([first, second], [rules], None)
    name = first.model_name
    assert [p.name for p in two] == [f"r@1 ({name}@1)", f"r@1 ({name}@2)"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "nothing to backtest"),
        ({"band": "high"}, "needs a model"),
        ({"band": "extreme"}, "band must be one of"),
        ({"rulesets": "SCORE"}, "reads model output"),
        ({"rulesets": "DECLARED"}, "declared column"),
        ({"rulesets": "SCORE", "models": 3}, r"models\[0\] must be a Scorer"),
        ({"rulesets": [42]}, r"rulesets\[0\] must be a RuleSet"),
        ({"rulesets": "LISTING"}, "is for listings"),
    ],
)
def test_refused_before_any_work(kwargs, match):
    kinds = {
        "SCORE": ruleset("s", rule("high", "risk_score >= 900", "block")),
        "DECLARED": ruleset("d", rule("t", "tier = 'x'"), columns={"tier": "string"}),
        "LISTING": ruleset("l", rule("x", "risk_score >= 1"), entity="listing"),
    }
    kw = {k: kinds.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    with pytest.raises(BacktestError, match=match):
        backtest({"not": "used"}, ["2024-08-01"], **kw)
