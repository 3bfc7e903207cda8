"""``score_batch(..., rules=)``: decisions per chunk, and resume refuses a changed rule set."""

from __future__ import annotations

import pandas as pd
import pytest

from riskscore.rules import RuleSet
from riskscore.scoring import Scorer, score_batch
from riskscore.scoring._batch import ResumeMismatchError
from tests.rules.conftest import AS_OF


def rules_with(threshold: int) -> RuleSet:
    return RuleSet.from_dict(
        {
            "name": "batch",
            "version": "1",
            "rules": [
                {
                    "name": "banned_links",
                    "when": f"network__bad_neighbours >= {threshold}",
                    "action": "hold",
                    "reason": {"en": "Linked to banned shops", "zh": "关联已处置店铺"},
                },
                {
                    "name": "new_shop",
                    "when": "account__age_days < 30",
                    "action": "review",
                    "reason": {"en": "New shop", "zh": "新店"},
                },
            ],
        }
    )


def test_resume_refuses_a_changed_rule_set_and_resumes_the_same_one(
    marketplace, model, tmp_path, monkeypatch
):
    import riskscore.scoring._batch as batch

    tables = {k: v for k, v in marketplace.items() if k != "truth"}
    scorer = Scorer(model, language="zh")
    kw = dict(as_of=AS_OF, chunk_size=50, scored_at="2024-07-02T00:00:00", progress=False)
    whole = tmp_path / "whole.parquet"
    score_batch(scorer, tables, whole, rules=rules_with(3), **kw)

    real = batch._score_chunk
    calls = {"n": 0}

    def crash(*args, **kwargs):
        if calls["n"] == 2:
            raise KeyboardInterrupt("simulated crash")
        calls["n"] += 1
        return real(*args, **kwargs)

    out = tmp_path / "s.parquet"
    monkeypatch.setattr(batch, "_score_chunk", crash)
    with pytest.raises(KeyboardInterrupt):
        score_batch(scorer, tables, out, rules=rules_with(3), **kw)
    monkeypatch.setattr(batch, "_score_chunk", real)
    with pytest.raises(ResumeMismatchError, match=r"rule_set: was 'batch@1 sha256:\w+', now"):
        score_batch(scorer, tables, out, rules=rules_with(2), resume=True, **kw)
    with pytest.raises(ResumeMismatchError, match=r"rule_set: was 'batch@1 sha256:\w+', now None"):
        score_batch(scorer, tables, out, resume=True, **kw)
    summary = score_batch(scorer, tables, out, rules=rules_with(3), resume=True, **kw)
    assert summary.n_resumed == 2
    assert out.read_bytes() == whole.read_bytes()
    scores = pd.read_parquet(out)
    fired = scores.loc[scores["rules_fired"] != "", ["rules_fired", "rule_reasons"]]
    assert len(fired) > 0
    # reasons in the scorer's language, one per fired rule
    for names, texts in fired.itertuples(index=False):
        assert len(texts.split(" | ")) == len(names.split(";"))
        assert set(texts.split(" | ")) <= {"关联已处置店铺", "新店"}
