"""Precedence: strictest action wins, overrides, ties by priority then name, reasons."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from riskscore.rules import RuleError, RuleSet
from riskscore.scoring import Reason, RiskScore


def rule(name: str, when: str, action: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "when": when,
        "action": action,
        "reason": {"en": f"{name} en", "zh": f"{name} 中"},
        **extra,
    }


RULES = RuleSet.from_dict(
    {
        "name": "prec",
        "version": "7",
        "columns": {"x": "number"},
        "rules": [
            rule("z_review", "x >= 1", "review"),
            rule("a_review", "x >= 1", "review"),
            rule("hi_review", "x >= 1", "review", priority=5),
            rule("hold_2", "x >= 2", "hold"),
            rule("block_3", "x >= 3", "block"),
            rule("trusted", "x < 0", "allow", override=True),
            rule("note", "x = -5", "allow"),
        ],
    }
)


def both(x: float, band: str | None) -> tuple[Any, ...]:
    scored = None if band is None else {"band": band, "reasons": [{"text": "model reason"}]}
    one = RULES.decide_one({"x": x}, scored=scored)
    frame = pd.DataFrame(
        {"x": [x], "band": [band], "reason_1_text": ["model reason" if band else None]}
    )
    many = RULES.decide_many(frame).iloc[0]
    assert (one.action, one.decided_by, list(one.rules_fired), list(one.reasons)) == (
        many["action"],
        many["decided_by"],
        many["rules_fired"],
        many["reasons"],
    )
    return one.action, one.decided_by, one.rules_fired


@pytest.mark.parametrize(
    ("x", "band", "action", "decided_by", "fired"),
    [
        (0.5, None, "allow", "default", ()),
        (0.5, "low", "allow", "band:low", ()),
        (0.5, "critical", "hold", "band:critical", ()),
        # ties among review rules: higher priority first, then name
        (1.0, "low", "review", "hi_review", ("hi_review", "a_review", "z_review")),
        # a rule at the model's level decides (rules are explicit)
        (1.0, "high", "review", "hi_review", ("hi_review", "a_review", "z_review")),
        # the model is stricter than the rules
        (1.0, "critical", "hold", "band:critical", ("hi_review", "a_review", "z_review")),
        (
            3.0,
            "critical",
            "block",
            "block_3",
            ("block_3", "hold_2", "hi_review", "a_review", "z_review"),
        ),
        # an override allow rule lowers the model band ...
        (-1.0, "critical", "allow", "trusted", ("trusted",)),
        # ... and a plain allow rule does not
        (-5.0, "critical", "allow", "trusted", ("note", "trusted")),
    ],
)
def test_precedence(
    x: float, band: str | None, action: str, decided_by: str, fired: tuple[str, ...]
):
    assert both(x, band) == (action, decided_by, fired)


def test_plain_allow_rule_does_not_lower_the_model():
    rules = RuleSet.from_dict(
        {"name": "p", "version": "1", "rules": [rule("ok", "score < 1", "allow")]}
    )
    d = rules.decide_one({}, scored={"score": 0.5, "band": "critical"})
    assert (d.action, d.decided_by, d.rules_fired) == ("hold", "band:critical", ("ok",))


def test_override_never_lowers_another_rules_action():
    rules = RuleSet.from_dict(
        {
            "name": "p",
            "version": "1",
            "rules": [
                rule("trusted", "score < 1", "allow", override=True),
                rule("big", "risk_score >= 900", "block"),
            ],
        }
    )
    d = rules.decide_one({}, scored={"score": 0.99, "risk_score": 950, "band": "critical"})
    assert (d.action, d.decided_by, d.rules_fired) == ("block", "big", ("big", "trusted"))


def test_band_actions_are_configurable_and_unknown_bands_refused():
    rules = RuleSet.from_dict(
        {"name": "p", "version": "1", "band_actions": {"critical": "block"}, "rules": []}
    )
    assert rules.decide_one({}, scored={"band": "critical"}).action == "block"
    assert rules.decide_one({}, scored={"band": "high"}).action == "review"  # default kept
    with pytest.raises(RuleError, match="band 'extreme' has no action"):
        rules.decide_one({}, scored={"band": "extreme"})
    with pytest.raises(RuleError, match=r"band\(s\) \['extreme'\] have no action"):
        rules.decide_many(pd.DataFrame({"band": ["low", "extreme"]}))


def test_decision_from_a_risk_score_carries_rule_and_model_reasons_in_chinese():
    result = RiskScore(
        "seller",
        "S9",
        "m",
        "3",
        0.97,
        950.0,
        "critical",
        (Reason("MANY_COMPLAINTS", "complaints__rate_30d", 0.3, 4, 1.2, "投诉很多"),),
    )
    rules = RuleSet.from_dict(
        {"name": "p", "version": "2", "rules": [rule("very_high", "risk_score >= 900", "block")]}
    )
    d = rules.decide(result, language="zh")
    assert d.to_dict() == {
        "entity_id": "S9",
        "action": "block",
        "decided_by": "very_high",
        "rules_fired": ["very_high"],
        "reasons": ["very_high 中", "投诉很多"],
        "band": "critical",
        "rule_set": "p@2",
    }


def test_missing_inputs_are_refused_with_the_fix():
    rules = RuleSet.from_dict(
        {"name": "p", "version": "1", "rules": [rule("v", "risk_score >= 900", "block")]}
    )
    with pytest.raises(
        RuleError, match=r"lacks column\(s\) the rules read: \['risk_score'\]; fix: pass scored="
    ):
        rules.decide_one({})
    with pytest.raises(
        RuleError, match=r"the frame lacks 1 column\(s\) the rules read: \['risk_score'\]"
    ):
        rules.decide_many(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(RuleError, match="column 'risk_score' must be a number"):
        rules.decide_one({"risk_score": "high"})
    with pytest.raises(RuleError, match="language must be 'en' or 'zh'"):
        rules.decide_one({"risk_score": 1.0}, language="fr")


def test_decide_many_keeps_index_and_id_and_does_not_mutate():
    frame = pd.DataFrame(
        {"seller_id": ["A", "B"], "risk_score": [950.0, 10.0], "band": ["critical", "low"]},
        index=[10, 20],
    )
    before = frame.copy()
    rules = RuleSet.from_dict(
        {"name": "p", "version": "1", "rules": [rule("v", "risk_score >= 900", "block")]}
    )
    out = rules.decide_many(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert out.index.tolist() == [10, 20]
    assert out.columns.tolist() == [
        "seller_id",
        "action",
        "decided_by",
        "rules_fired",
        "reasons",
        "rule_set",
    ]
    assert out["action"].tolist() == ["block", "allow"]
    assert out["rules_fired"].tolist() == [["v"], []]
    out["rules_fired"].iat[1].append("x")  # rows do not share list objects
    assert out["rules_fired"].iat[0] == ["v"]
