"""``riskscore score --rules``: decision columns in the batch output, refusals before work."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from riskscore.cli import main
from riskscore.rules import RuleSet
from riskscore.rules._log import read_log
from tests.rules.conftest import AS_OF, EXAMPLE

BATCH_RULES = """
name: batch
version: "3"
rules:
  - name: very_high_risk_score
    when: risk_score >= 900
    action: block
    reason: {en: "Model risk score 900 or higher", zh: "模型风险分不低于900"}
  - name: linked_to_banned_shops
    when: network__bad_neighbours >= 3
    action: hold
    reason: {en: "Linked to 3 or more shops already banned", zh: "关联店铺中已有3家及以上被处置"}
  - name: new_shop
    when: account__age_days < 30
    action: review
    reason: {en: "New shop", zh: "新店"}
"""


@pytest.fixture(scope="module")
def folders(marketplace, model, tmp_path_factory) -> tuple[Path, Path]:
    from riskscore.io import write_tables

    root = tmp_path_factory.mktemp("cli")
    tables = {k: v for k, v in marketplace.items() if k != "truth"}
    data = write_tables(tables, root / "data")
    model_dir = model.save(root / "model")
    (root / "rules.yaml").write_text(BATCH_RULES, encoding="utf-8")
    return Path(model_dir), Path(data)


def args(model_dir: Path, data: Path, out: Path, *extra: object) -> list[str]:
    return [
        "score",
        "--model",
        str(model_dir),
        "--data",
        str(data),
        "--as-of",
        AS_OF,
        "--out",
        str(out),
        "--no-progress",
        *map(str, extra),
    ]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_score_with_rules_adds_decisions_and_keeps_row_accounting(
    folders, features, tmp_path, capsys, suffix
):
    model_dir, data = folders
    rules_file = model_dir.parent / "rules.yaml"
    out = tmp_path / f"scores{suffix}"
    assert main(args(model_dir, data, out, "--rules", rules_file, "--chunk-size", 50)) == 0
    printed = capsys.readouterr().out
    scores = pd.read_csv(out, keep_default_na=False) if suffix == ".csv" else pd.read_parquet(out)
    assert "decisions by rule set batch@3 (3 rules)" in printed
    assert {"action", "decided_by", "rules_fired", "rule_reasons", "rule_set"} <= set(scores)
    # the same decisions as decide_many on the scored rows' features and scores
    rules = RuleSet.load(rules_file)
    frame = scores.merge(features, on="seller_id", how="left", validate="one_to_one")
    want = rules.decide_many(frame)
    assert scores["action"].tolist() == want["action"].tolist()
    assert scores["rules_fired"].tolist() == [";".join(x) for x in want["rules_fired"]]
    assert set(scores["action"]) >= {"allow", "block"}
    assert (scores["rule_set"] == "batch@3").all()
    assert "scored" in printed and "= 300 input ids" in printed


def test_score_computes_main_category_as_backtest_does(folders, example_frame, tmp_path, capsys):
    # the example rule set declares main_category: score computes it as of --as-of, as
    # backtest and what_if_rules do, so the rule set a team backtested runs in the batch
    model_dir, data = folders
    out, log = tmp_path / "scores.parquet", tmp_path / "decisions.jsonl"
    assert main(args(model_dir, data, out, "--rules", EXAMPLE, "--decision-log", log)) == 0
    assert "decisions by rule set marketplace@2026.12.1" in capsys.readouterr().out
    scores = pd.read_parquet(out)
    frame = example_frame.set_index("seller_id").loc[scores["seller_id"]].reset_index()
    want = RuleSet.load(EXAMPLE).decide_many(frame)
    assert scores["action"].tolist() == want["action"].tolist()
    assert scores["rules_fired"].tolist() == [";".join(x) for x in want["rules_fired"]]
    fired = scores["rules_fired"].str.split(";").explode()
    assert (fired == "new_shop_cheap_phones").sum() >= 1  # the rule reading main_category
    # the decision log keeps the computed column with the inputs (a replay needs it)
    logged = {r["entity_id"]: r["features"]["main_category"] for _, r in read_log(log)}
    expect = frame.set_index("seller_id")["main_category"]
    assert logged == {k: (None if pd.isna(v) else v) for k, v in expect.items()}


def test_score_refuses_other_declared_columns_before_any_work(folders, tmp_path, capsys):
    model_dir, data = folders
    tier = tmp_path / "tier.yaml"
    tier.write_text(
        BATCH_RULES.replace("rules:\n", "columns: {tier: string}\nrules:\n", 1).replace(
            "account__age_days < 30", "account__age_days < 30 AND tier = 'new'"
        ),
        encoding="utf-8",
    )
    out = tmp_path / "scores.parquet"
    assert main(args(model_dir, data, out, "--rules", tier)) == 2
    err = capsys.readouterr().err
    assert "rule set batch@3 declares column(s) ['tier'] that riskscore does not compute" in err
    assert "(it computes main_category (for sellers))" in err
    assert not out.exists()


def test_score_refuses_a_bad_rule_file_and_spark_rules(folders, tmp_path, capsys):
    model_dir, data = folders
    bad = tmp_path / "bad.yaml"
    bad.write_text(BATCH_RULES.replace("risk_score >= 900", "risk_scor >= 900"), encoding="utf-8")
    assert main(args(model_dir, data, tmp_path / "s.parquet", "--rules", bad)) == 2
    err = capsys.readouterr().err
    assert "rule 'very_high_risk_score': unknown column 'risk_scor'" in err
    assert "did you mean 'risk_score'" in err
    code = main(args(model_dir, data, tmp_path / "s.parquet", "--rules", bad, "--engine", "spark"))
    assert code == 2
    assert "--rules work with --engine pandas only" in capsys.readouterr().err


def test_score_with_rules_and_nothing_scorable_writes_the_decision_columns(
    folders, tmp_path, capsys
):
    model_dir, data = folders
    pd.DataFrame({"seller_id": ["GHOST"]}).to_csv(tmp_path / "ids.csv", index=False)
    out = tmp_path / "scores.parquet"
    rules_file = model_dir.parent / "rules.yaml"
    code = main(args(model_dir, data, out, "--rules", rules_file, "--ids", tmp_path / "ids.csv"))
    assert code == 0
    scores = pd.read_parquet(out)
    assert len(scores) == 0
    assert {"action", "decided_by", "rules_fired", "rule_reasons", "rule_set"} <= set(scores)
    assert "scored 0 + rejected 1" in capsys.readouterr().out


def test_computed_columns_join_every_column_a_rule_set_declares(monkeypatch):
    from riskscore.rules import _columns

    def tier(tables, cutoff):
        return pd.DataFrame({"seller_id": ["S1", "S3"], "tier": ["gold", "new"]})

    monkeypatch.setitem(_columns.COMPUTED_COLUMNS, "tier", ("seller", tier))
    rules = RuleSet.from_dict(
        {
            "name": "two",
            "version": "1",
            "columns": {"main_category": "string", "tier": "string"},
            "rules": [
                {
                    "name": "gold_phones",
                    "when": "tier = 'gold' AND main_category = 'phones'",
                    "action": "allow",
                    "reason": {"en": "Gold phone shop", "zh": "金牌手机店"},
                }
            ],
        }
    )
    fn = _columns.computed_columns([rules], ValueError, "no fix")
    listings = pd.DataFrame(
        {
            "seller_id": ["S1", "S2"],
            "category": ["phones", "bags"],
            "created_at": pd.to_datetime(["2024-01-02", "2024-01-03"]),
        }
    )
    got = _columns.extra_columns(
        fn,
        {"listings": listings},
        pd.Timestamp("2024-02-01"),
        "seller_id",
        ["S1", "S2", "S3", "S4"],
        ValueError,
    )
    assert got["main_category"].tolist()[:2] == ["phones", "bags"]
    assert got["tier"].tolist()[0] == "gold" and got["tier"].tolist()[2] == "new"
    assert got.loc[["S3", "S4"], "main_category"].isna().all()
    assert got.loc[["S2", "S4"], "tier"].isna().all()


def test_a_seller_column_is_not_computed_for_a_listing_rule_set():
    from riskscore.rules._columns import computed_columns

    rules = RuleSet.from_dict(
        {
            "name": "listing_rules",
            "version": "1",
            "entity": "listing",
            "columns": {"main_category": "string"},
            "rules": [
                {
                    "name": "phones",
                    "when": "main_category = 'phones'",
                    "action": "review",
                    "reason": {"en": "Phone shop", "zh": "手机店"},
                }
            ],
        }
    )
    with pytest.raises(
        ValueError, match=r"listing_rules@1 declares column\(s\) \['main_category'\]"
    ):
        computed_columns([rules], ValueError, "fix: compute it")
