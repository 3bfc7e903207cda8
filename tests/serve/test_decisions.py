"""The HTTP answer carries the rule set's decision and lands in the decision log.

The service's scorer comes from :class:`~riskscore.serve.ModelSource`: the model folder's
rule set (or ``--rules``) decides, and ``--decision-log`` logs every answer (channel
``http``), for the default scorer and the per-request ``top_k`` / ``language`` variants.
These tests call the request functions the route calls; the real-server contract test
is ``tests/scoring/test_contract.py``.
"""

from __future__ import annotations

import json

import pytest

from riskscore.rules import RuleSet
from riskscore.rules._log import read_log
from riskscore.scoring import Scorer
from riskscore.scoring._demo import demo_model
from riskscore.scoring._folder import export_model
from riskscore.scoring._load import clear_cache
from riskscore.serve import ModelSource
from riskscore.serve._contract import parse_request, score_request
from tests._rule_sets import rule_set
from tests.serve.conftest import demo_rows

RULES = rule_set("http", "7")


@pytest.fixture
def source(tmp_path):
    rules = RuleSet.from_dict(RULES)
    folder = export_model(
        demo_model(), tmp_path / "m", version="1", rules=rules.save(tmp_path / "r.yaml")
    )
    clear_cache()
    src = ModelSource(folder, decision_log=tmp_path / "http.jsonl")
    src.load()
    yield src, rules, tmp_path / "http.jsonl"
    clear_cache()


def _no_time(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "scored_at"}


def test_one_row_and_a_batch_carry_the_decision_and_are_logged(source):
    src, rules, log = source
    generation = src.current
    assert generation is not None
    local = Scorer(
        demo_model(), model_name=generation.scorer.model_name, model_version="1", rules=rules
    )
    rows = demo_rows(local, 6, seed=2)
    one = score_request(
        parse_request(json.dumps(rows[0]).encode()), generation.scorer_for(None, None)
    )
    assert _no_time(one) == _no_time(local.score_one(rows[0], explain="all").to_dict())
    assert one["rule_set"] == "http@7" and one["action"] in ("allow", "review", "hold")
    batch = parse_request(json.dumps({"rows": rows, "top_k": 2}).encode())
    answer = score_request(batch, generation.scorer_for(batch.top_k, batch.language))
    expected = [local.score_one(r, explain="all") for r in rows]
    assert [a["action"] for a in answer["results"]] == [e.action for e in expected]
    assert [a["rules_fired"] for a in answer["results"]] == [list(e.rules_fired) for e in expected]
    assert len({a["action"] for a in answer["results"]}) >= 2
    records = [r for _, r in read_log(log)]
    assert len(records) == 1 + len(rows)
    assert {r["channel"] for r in records} == {"http"}
    assert [r["options"]["top_k"] for r in records] == [3] + [2] * len(rows)
    assert records[0]["model"]["folder_sha256"] == generation.scorer.folder_sha256


def test_rules_given_to_the_service_replace_the_folders(source, tmp_path):
    src, _, _ = source
    other = RuleSet.from_dict({**RULES, "version": "8", "rules": RULES["rules"][:1]})
    replaced = ModelSource(src.uri, rules=other)
    scorer = replaced.load().scorer
    assert scorer.rules is other and scorer.decision_log is None
