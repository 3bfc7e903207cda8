"""``riskscore replay``: a logged decision re-runs to the same bytes, or says what changed.

The log is written by a scorer loaded from an exported model folder with its rule set;
replaying it on that folder gives byte-identical records (``logged_at`` aside). A changed
rule set, another model in the folder, or a file edited after export each give a clear,
named mismatch and a non-zero exit.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from riskscore.cli import main
from riskscore.cli._replay import EXIT_MISMATCH
from riskscore.rules import RuleSet
from riskscore.rules._log import canonical_json, read_log, without_time
from riskscore.scoring import load_scorer
from riskscore.scoring._demo import demo_model
from riskscore.scoring._folder import export_model
from riskscore.scoring._load import clear_cache
from riskscore.scoring._replay import replay
from tests._rule_sets import rule_set

RULES = rule_set("replay", "1")


def _rows(names: list[str], n: int) -> list[dict]:
    rows = []
    for i in range(n):
        row: dict = {"seller_id": f"S{i}"}
        for j, name in enumerate(names):
            row[name] = round(0.37 * (i + 1) * (j + 1) % 3.1, 6) if j % 2 == 0 else i * 3 + j
        rows.append(row)
    return rows


@pytest.fixture
def logged(tmp_path):
    """A model folder with a rule set and a log of 2 score_one + 4 score_many decisions."""
    rules = RuleSet.from_dict(RULES)
    folder = export_model(
        demo_model(), tmp_path / "demo", version="1", rules=rules.save(tmp_path / "r.yaml")
    )
    log = tmp_path / "decisions.jsonl"
    clear_cache()
    scorer = load_scorer(folder, decision_log=log, language="zh")
    rows = _rows(scorer.feature_names, 6)
    scorer.score_one(rows[0], as_of="2024-06-30")
    scorer.score_one(rows[1], explain="flagged")
    scorer.score_many(pd.DataFrame(rows[2:]), explain="all", as_of="2024-06-30")
    clear_cache()
    return folder, log


def test_replay_gives_the_same_bytes(logged, capsys):
    folder, log = logged
    records = [r for _, r in read_log(log)]
    assert len(records) == 6
    assert {r["rule_set"]["label"] for r in records} == {"replay@1"}
    assert len({r["action"] for r in records}) >= 2  # the rules decide differently
    results = replay(log, folder)
    assert [r.location.line for r in results] == [1, 2, 3, 4, 5, 6]
    for r, logged_record in zip(results, records, strict=True):
        assert r.diff == []
        assert canonical_json(r.replayed) == canonical_json(without_time(logged_record))
    assert main(["replay", str(log), "--model", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.count("same bytes") == 6 and "6 same, 0 differ" in out
    assert main(["replay", str(log), "--model", str(folder), "--line", "4"]) == 0
    assert "decisions.jsonl:4 (S3): same bytes" in capsys.readouterr().out
    assert main(["replay", str(log), "--model", str(folder), "--entity", "S5"]) == 0
    assert "replayed 1 decision(s)" in capsys.readouterr().out


def test_a_changed_rule_set_is_a_named_mismatch(logged, tmp_path, capsys):
    folder, log = logged
    changed = RuleSet.from_dict(
        {**RULES, "version": "2", "rules": [{**RULES["rules"][0], "action": "block"}]}
    )
    path = changed.save(tmp_path / "changed.yaml")
    code = main(["replay", str(log), "--model", str(folder), "--rules", str(path)])
    assert code == EXIT_MISMATCH
    out = capsys.readouterr().out
    assert "MISMATCH" in out and "0 same, 6 differ" in out
    assert 'rule_set.label: logged "replay@1", replayed "replay@2"' in out
    assert "rule_set.sha256: logged" in out


def test_another_model_in_the_folder_is_a_named_mismatch(logged, tmp_path, capsys):
    folder, log = logged
    other = export_model(demo_model(), tmp_path / "other", version="2", rules=folder / "rules.yaml")
    assert main(["replay", str(log), "--model", str(other), "--line", "1"]) == EXIT_MISMATCH
    out = capsys.readouterr().out
    assert "model.folder_sha256: logged" in out
    assert 'model.version: logged "1", replayed "2"' in out


def test_a_tampered_model_folder_is_refused_naming_the_file(logged, tmp_path, capsys):
    folder, log = logged
    tampered = tmp_path / "tampered"
    shutil.copytree(folder, tampered)
    text = (tampered / "riskmodel.json").read_text()
    data = json.loads(text)
    data["metadata"] = {**data.get("metadata", {}), "note": "edited"}
    (tampered / "riskmodel.json").write_text(json.dumps(data))
    assert main(["replay", str(log), "--model", str(tampered)]) == 2
    err = capsys.readouterr().err
    assert "does not match its manifest.json: riskmodel.json has SHA-256" in err
    # a tampered rule set is named the same way
    shutil.rmtree(tampered)
    shutil.copytree(folder, tampered)
    with open(tampered / "rules.yaml", "a", encoding="utf-8") as fh:
        fh.write("# edited\n")
    assert main(["replay", str(log), "--model", str(tampered)]) == 2
    assert "rules.yaml has SHA-256" in capsys.readouterr().err


def test_a_tampered_log_line_is_a_mismatch(logged, capsys):
    folder, log = logged
    lines = log.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["action"] = "allow" if first["action"] != "allow" else "block"
    lines[0] = canonical_json(first)
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["replay", str(log), "--model", str(folder), "--line", "1"]) == EXIT_MISMATCH
    assert "action: logged" in capsys.readouterr().out


def test_bad_selections_are_refused(logged, tmp_path, capsys):
    folder, log = logged
    assert main(["replay", str(log), "--model", str(folder), "--line", "99"]) == 2
    assert "has no record at line 99: it has 6 line(s)" in capsys.readouterr().err
    assert main(["replay", str(log), "--model", str(folder), "--entity", "nobody"]) == 2
    assert "no record at entity 'nobody'" in capsys.readouterr().err
    args = ["replay", str(log), "--model", str(folder), "--line", "1", "--entity", "S1"]
    assert main(args) == 2
    assert "pass --line or --entity, not both" in capsys.readouterr().err
    assert main(["replay", str(tmp_path / "nope.jsonl"), "--model", str(folder)]) == 2
    assert "no decision log at" in capsys.readouterr().err
    bare = export_model(demo_model(), tmp_path / "bare", version="1")
    assert main(["replay", str(log), "--model", str(bare)]) == 2
    assert "the model folder" in capsys.readouterr().err
