"""Loading a rule set: structure, unknown columns, syntax and type errors, files and URIs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from riskscore.exceptions import RiskscoreError
from riskscore.rules import RuleError, RuleSet


def one_rule(when: str, **extra: Any) -> dict[str, Any]:
    rule = {"name": "my_rule", "when": when, "action": "review", "reason": {"en": "e", "zh": "z"}}
    rule.update(extra)
    return {"name": "t", "version": "1", "rules": [rule]}


@pytest.mark.parametrize(
    ("when", "message", "position"),
    [
        (
            "account__age_dys < 30",
            "(?s)unknown column 'account__age_dys'.*did you mean 'account__age_days'",
            1,
        ),
        ("Risk_Score >= 900", "did you mean 'risk_score'", 1),
        ("risk_score >= ", "got the end of the condition", 15),
        ("risk_score >> 3", "got '>'", 13),
        ("band = 3", "cannot compare a string with a number", 6),
        ("risk_score > 1 < 2", "comparisons do not chain", 16),
        ("exp(risk_score) > 1", r"function exp\(\) is not allowed", 1),
        ('band = "critical"', "strings take single quotes", 8),
        ("risk_score + 1", "not true/false", 1),
        ("risk_score >= 900; DROP TABLE t", "unexpected character ';'", 18),
        ("__import__('os').system('x')", "unexpected character '.'", 17),
        ("system('x') = 1", r"function system\(\) is not allowed", 1),
        ("band > TRUE", "cannot compare a string with a boolean", 6),
        ("(risk_score > 1", r"'\)' to close", 16),
        ("risk_score > 1e999", "out of range", 14),
        ("NOT band", "NOT applies to a true/false condition", 5),
    ],
)
def test_bad_condition_names_rule_position_and_fix(when: str, message: str, position: int):
    with pytest.raises(RuleError, match=message) as info:
        RuleSet.from_dict(one_rule(when))
    text = str(info.value)
    assert text.startswith("rule 'my_rule': ")
    assert f"at position {position} of its condition" in text
    assert "fix: " in text
    caret_line = text.splitlines()[2]
    assert caret_line.index("^") - 4 == position - 1  # the caret sits under the position


def test_rule_error_is_a_riskscore_error_and_a_value_error():
    with pytest.raises(RiskscoreError):
        RuleSet.from_dict(one_rule("nope > 1"))
    with pytest.raises(ValueError, match="unknown column"):
        RuleSet.from_dict(one_rule("nope > 1"))


def test_every_problem_is_reported_at_once():
    data = {
        "name": "t",
        "version": "1",
        "rules": [
            {"name": "a", "when": "nope > 1", "action": "review", "reason": {"en": "e", "zh": "z"}},
            {
                "name": "b",
                "when": "risk_score >",
                "action": "hold",
                "reason": {"en": "e", "zh": "z"},
            },
            {"name": "a", "when": "score > 0", "action": "hold", "reason": {"en": "e", "zh": "z"}},
            {
                "name": "c",
                "when": "score > 0",
                "action": "block",
                "override": True,
                "reason": {"en": "e", "zh": "z"},
            },
        ],
    }
    with pytest.raises(RuleError) as info:
        RuleSet.from_dict(data)
    text = str(info.value)
    assert "4 problem(s)" in text
    assert "rule 'a': unknown column 'nope'" in text
    assert "rule 'b': expected a column" in text
    assert "rule 'a': the name is used twice" in text
    assert "rule 'c': override: true needs action 'allow'" in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"action": "ban"}, r"rule 'my_rule' \(rules/0/action\): 'ban' is not one of"),
        ({"reason": {"en": "e"}}, "'zh' is a required property"),
        ({"priority": "high"}, "'high' is not of type 'integer'"),
        ({"whenn": "x"}, "Additional properties are not allowed"),
        ({"name": "has space"}, "does not match"),
    ],
)
def test_structure_errors(change: dict[str, Any], message: str):
    with pytest.raises(RuleError, match=message):
        RuleSet.from_dict(one_rule("risk_score > 1", **change))


def test_declared_columns_are_typed_and_cannot_shadow_the_catalog():
    data = one_rule("main_category = 'phones'")
    data["columns"] = {"main_category": "string"}
    assert RuleSet.from_dict(data).needed_columns == ["main_category"]
    data["columns"] = {"main_category": "number"}
    with pytest.raises(RuleError, match="cannot compare a number with a string"):
        RuleSet.from_dict(data)
    data = one_rule("risk_score > 1")
    data["columns"] = {"risk_score": "number"}
    with pytest.raises(RuleError, match="'risk_score' is already a catalog feature"):
        RuleSet.from_dict(data)


def test_conditions_are_checked_against_the_entitys_catalog():
    data = one_rule("pricing__price_ratio < 0.5")  # a listing feature
    with pytest.raises(RuleError, match="unknown column 'pricing__price_ratio'"):
        RuleSet.from_dict(data)
    data["entity"] = "listing"
    assert RuleSet.from_dict(data).needed_columns == ["pricing__price_ratio"]


def test_load_yaml_json_and_file_uri_round_trip(tmp_path: Path):
    rules = RuleSet.from_dict(one_rule("risk_score >= 900 AND band IN ('high', 'critical')"))
    for name in ("r.yaml", "r.json"):
        path = rules.save(tmp_path / name)
        for source in (path, path.as_uri()):
            again = RuleSet.load(source)
            assert again.to_dict() == rules.to_dict()
            assert again.sha256() == rules.sha256()
    assert json.loads((tmp_path / "r.json").read_text())["rules"][0]["name"] == "my_rule"


def test_load_refuses_missing_files_bad_syntax_and_remote_uris(tmp_path: Path):
    with pytest.raises(RuleError, match=r"cannot read rule set .*missing\.yaml"):
        RuleSet.load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(RuleError, match="not valid YAML"):
        RuleSet.load(bad)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{")
    with pytest.raises(RuleError, match="not valid JSON"):
        RuleSet.load(bad_json)
    with pytest.raises(RuleError, match="only local paths, file:// URIs, models:/ and runs:/"):
        RuleSet.load("s3://bucket/rules.yaml")


def test_an_unknown_run_is_named_with_the_fix(tmp_path, monkeypatch):
    # runs:/ URIs are read from MLflow; a store of our own, whatever earlier tests set
    import mlflow

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    before = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(store)
    try:
        with pytest.raises(RuleError, match=r"no rule set at 'runs:/abc/rules\.yaml'"):
            RuleSet.load("runs:/abc/rules.yaml")
    finally:
        mlflow.set_tracking_uri(before)


def test_keywords_are_case_insensitive_and_quoted_columns_work():
    rules = RuleSet.from_dict(
        one_rule(
            "\"risk_score\" between 1 and 2 oR Band in ('x') AnD score IS not null".replace(
                "Band", "band"
            )
        )
    )
    assert rules.decide_one(
        {}, scored={"risk_score": 1.5, "score": None, "band": "low"}
    ).rules_fired == ("my_rule",)
