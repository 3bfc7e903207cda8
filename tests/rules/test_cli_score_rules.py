"""``riskscore score --rules``: decision columns in the batch output, refusals before work."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from riskscore.cli import main
from riskscore.rules import RuleSet
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


def test_score_refuses_rules_needing_declared_columns_before_any_work(folders, tmp_path, capsys):
    model_dir, data = folders
    out = tmp_path / "scores.parquet"
    assert main(args(model_dir, data, out, "--rules", EXAMPLE)) == 2
    err = capsys.readouterr().err
    assert "reads column(s) a batch run cannot supply: ['main_category']" in err
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
