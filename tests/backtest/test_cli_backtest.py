"""``riskscore backtest``: the printed summary matches the library; refusals exit 2."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from riskscore.cli import main
from tests.backtest.conftest import CUTOFFS

pytestmark = pytest.mark.slow

RULES_A = """
name: a
version: "1"
band_actions: {low: allow, medium: allow, high: allow, critical: allow}
rules:
  - name: busy
    when: activity__orders_30d >= 40
    action: review
    reason: {en: "Busy shop", zh: "繁忙店铺"}
"""
RULES_B = (
    RULES_A.replace("name: a\n", "name: b\n")
    + """
  - name: high_score
    when: risk_score >= 700
    action: hold
    reason: {en: "High score", zh: "高分"}
"""
)


@pytest.fixture(scope="module")
def folders(simulated, model, tmp_path_factory) -> dict[str, Path]:
    from riskscore.io import write_tables

    root = tmp_path_factory.mktemp("cli")
    tables = {k: v for k, v in simulated.items() if k != "truth"}
    (root / "a.yaml").write_text(RULES_A, encoding="utf-8")
    (root / "b.yaml").write_text(RULES_B, encoding="utf-8")
    return {
        "data": Path(write_tables(tables, root / "data")),
        "model": Path(model.save(root / "model")),
        "a": root / "a.yaml",
        "b": root / "b.yaml",
        "root": root,
    }


def test_summary_matches_the_library(folders, simulated, model, capsys):
    from riskscore.backtest import backtest
    from riskscore.io import load_tables
    from riskscore.rules import RuleSet
    from riskscore.scoring import load_scorer

    out = folders["root"] / "report"
    code = main(
        [
            "backtest",
            "--data", str(folders["data"]),
            "--model", str(folders["model"]),
            "--rules", str(folders["a"]),
            "--rules", str(folders["b"]),
            "--cutoffs", ",".join(CUTOFFS),
            "--bootstrap", "50",
            "--out", str(out),
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    expected = backtest(
        load_tables(folders["data"]),
        CUTOFFS,
        models=[load_scorer(folders["model"])],
        rulesets=[RuleSet.load(folders["a"]), RuleSet.load(folders["b"])],
        n_bootstrap=50,
    )
    assert "b@1 minus a@1:" in printed
    for row in expected.overall.itertuples(index=False):
        line = next(x for x in printed.splitlines() if x.strip().startswith(row.policy))
        assert line.split()[1] == str(row.alerts)
    assert "high_score (hold)" in printed  # the rule that alerted alone
    saved = pd.read_csv(out / "overall.csv")
    assert saved["alerts"].tolist() == expected.overall["alerts"].tolist()
    assert (out / "backtest.png").exists() and (out / "comparison.csv").exists()


def test_refusals_exit_2(folders, capsys, tmp_path):
    declared = tmp_path / "declared.yaml"
    declared.write_text(
        RULES_A.replace("rules:\n", "columns: {tier: string}\nrules:\n"), encoding="utf-8"
    )
    base = ["backtest", "--data", str(folders["data"]), "--cutoffs", CUTOFFS[0]]
    assert main([*base, "--rules", str(declared)]) == 2
    assert "declares column(s) ['tier'] that riskscore does not compute" in capsys.readouterr().err
    assert main(base) == 2
    assert "nothing to backtest" in capsys.readouterr().err
    assert main([*base, "--rules", str(folders["a"]), "--cutoffs", "soon"]) == 2
    assert "--cutoffs: 'soon' is not a date" in capsys.readouterr().err
