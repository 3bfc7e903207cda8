"""Decisions in every scoring path: Scorer(rules=), the model folder, the pyfunc, batch.

A rule set given to the scorer (or found in the exported model folder) decides on every
answer: ``score_one`` results carry ``decision`` / ``action`` / ``rules_fired``,
``score_many`` frames the decision columns of ``riskscore score --rules``, and the pyfunc
its ``action`` and ``rules_fired`` columns. All agree with ``RuleSet.decide_many`` on the
same features and scores.
"""

from __future__ import annotations

import pandas as pd
import pytest

from riskscore.cli import main
from riskscore.exceptions import ScoringError
from riskscore.rules import RuleSet
from riskscore.rules._log import read_log
from riskscore.scoring import RiskScore, Scorer, load_scorer
from riskscore.scoring._folder import export_model, read_manifest
from riskscore.scoring._load import clear_cache
from riskscore.scoring._pyfunc import pyfunc_predict, to_pyfunc_frame
from tests.scoring.conftest import AS_OF, SCORED_AT, score_args

#: A rule set over catalog features and model outputs only (a batch can supply them).
RULES = {
    "name": "decisions-test",
    "version": "3",
    "rules": [
        {
            "name": "high_score",
            "when": "risk_score >= 600",
            "action": "block",
            "reason": {"en": "Risk score 600 or more", "zh": "风险分不低于600"},
        },
        {
            "name": "young_shop",
            "when": "account__age_days < 200",
            "action": "review",
            "reason": {"en": "Shop younger than 200 days", "zh": "开店不足200天"},
        },
        {
            "name": "trusted_old_shop",
            "when": "account__age_days >= 600 AND risk_score < 300",
            "action": "allow",
            "override": True,
            "reason": {"en": "Old shop, low score", "zh": "老店且低分"},
        },
    ],
}


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleSet.from_dict(RULES)


@pytest.fixture(scope="module")
def rules_file(rules, tmp_path_factory):
    return rules.save(tmp_path_factory.mktemp("rules") / "rules.yaml")


@pytest.fixture(scope="module")
def folder(seller_model, rules_file, tmp_path_factory):
    """``seller_model`` exported with the rule set."""
    out = tmp_path_factory.mktemp("decided") / "seller"
    return export_model(seller_model, out, version="5", rules=rules_file)


def test_score_many_adds_the_decision_of_decide_many(seller_model, seller_features, rules):
    scored = Scorer(seller_model, rules=rules).score_many(
        seller_features, explain="all", scored_at=SCORED_AT
    )
    plain = Scorer(seller_model).score_many(seller_features, explain="all", scored_at=SCORED_AT)
    pd.testing.assert_frame_equal(scored[plain.columns], plain)
    frame = pd.concat([seller_features, plain.drop(columns="seller_id")], axis=1)
    expected = rules.decide_many(frame)
    assert scored["action"].tolist() == expected["action"].tolist()
    assert scored["decided_by"].tolist() == expected["decided_by"].tolist()
    assert scored["rules_fired"].tolist() == [";".join(x) for x in expected["rules_fired"]]
    assert (scored["rule_set"] == "decisions-test@3").all()
    # the rules really decide: several actions, and each rule fires somewhere
    assert {"allow", "review", "block"} <= set(scored["action"])
    fired = set(";".join(scored["rules_fired"]).split(";"))
    assert {"high_score", "young_shop", "trusted_old_shop"} <= fired


def test_score_one_carries_the_same_decision_as_its_row(seller_model, seller_features, rules):
    scorer = Scorer(seller_model, rules=rules)
    many = scorer.score_many(seller_features, explain="all", scored_at=SCORED_AT)
    for i in range(0, len(seller_features), 37):
        one = scorer.score_one(seller_features.iloc[i].to_dict(), scored_at=SCORED_AT)
        row = RiskScore.from_row(many.iloc[i].to_dict(), entity="seller")
        assert one == row
        assert one.action == many["action"].iloc[i]
        assert ";".join(one.rules_fired or ()) == many["rules_fired"].iloc[i]
        answer = one.to_dict()
        assert answer["action"] == one.action and answer["rule_set"] == "decisions-test@3"
        assert answer["rule_reasons"] == list(one.decision.reasons[: len(one.rules_fired)])


def test_without_rules_nothing_changes(seller_model, seller_features):
    scorer = Scorer(seller_model)
    one = scorer.score_one(seller_features.iloc[0].to_dict())
    assert one.decision is None and one.action is None and one.rules_fired is None
    assert "action" not in one.to_dict()
    assert "action" not in scorer.score_many(seller_features.head(3)).columns


def test_bad_rules_are_refused(seller_model, seller_features):
    with pytest.raises(ScoringError, match="must be a RuleSet or the path"):
        Scorer(seller_model, rules=3)  # type: ignore[arg-type]
    listing = RuleSet.from_dict({**RULES, "entity": "listing", "rules": []})
    with pytest.raises(ScoringError, match="is for listings; the model scores sellers"):
        Scorer(seller_model, rules=listing)
    needs_tier = RuleSet.from_dict(
        {
            "name": "t",
            "version": "1",
            "columns": {"tier": "string"},
            "rules": [
                {
                    "name": "gold",
                    "when": "tier = 'gold'",
                    "action": "allow",
                    "reason": {"en": "Gold", "zh": "金牌"},
                }
            ],
        }
    )
    with pytest.raises(ScoringError, match=r"reads column\(s\) the frame lacks: \['tier'\]"):
        Scorer(seller_model, rules=needs_tier).score_many(seller_features.head(2))
    # the declared column is read from the frame when it is there
    frame = seller_features.head(2).assign(tier=["gold", "silver"])
    got = Scorer(seller_model, rules=needs_tier).score_many(frame)["rules_fired"].tolist()
    assert got == ["gold", ""]


def test_the_model_folder_carries_the_rule_set(folder, rules):
    manifest = read_manifest(folder)
    assert manifest["rules"] == {
        "file": "rules.yaml",
        "label": "decisions-test@3",
        "sha256": rules.sha256(),
    }
    clear_cache()
    scorer = load_scorer(folder)
    assert scorer.rules is not None and scorer.rules.sha256() == rules.sha256()
    assert scorer.folder_sha256 is not None and len(scorer.folder_sha256) == 64
    assert load_scorer(folder, rules=False).rules is None
    clear_cache()


def test_the_pyfunc_returns_the_decision(seller_model, seller_features, rules, rules_file):
    text = rules_file.read_text(encoding="utf-8")
    out = pyfunc_predict(seller_model, seller_features, {"explain": "all"}, rules=text)
    scored = Scorer(seller_model, rules=rules).score_many(seller_features, explain="all")
    assert out["action"].tolist() == scored["action"].tolist()
    assert out["rules_fired"].tolist() == [
        [x for x in v.split(";") if x] for v in scored["rules_fired"]
    ]
    plain = pyfunc_predict(seller_model, seller_features.head(2))
    assert plain["action"].tolist() == [None, None]
    assert plain["rules_fired"].tolist() == [None, None]
    layout = to_pyfunc_frame(scored, 3)
    assert layout["action"].tolist() == out["action"].tolist()


def test_the_pyfunc_logs_when_asked(
    seller_model, seller_features, rules_file, tmp_path, monkeypatch
):
    log = tmp_path / "pyfunc.jsonl"
    monkeypatch.setenv("RISKSCORE_DECISION_LOG", str(log))
    text = rules_file.read_text(encoding="utf-8")
    out = pyfunc_predict(seller_model, seller_features.head(4), rules=text)
    records = [r for _, r in read_log(log)]
    assert [r["entity_id"] for r in records] == out["entity_id"].tolist()
    assert [r["action"] for r in records] == out["action"].tolist()
    assert {r["channel"] for r in records} == {"pyfunc"}
    monkeypatch.delenv("RISKSCORE_DECISION_LOG")
    pyfunc_predict(seller_model, seller_features.head(4), rules=text)
    assert len(list(read_log(log))) == 4  # off again


def test_batch_scoring_decides_and_logs_like_score_many(
    folder, data_dir, seller_model, seller_features, rules, tmp_path
):
    out = tmp_path / "scores.parquet"
    log = tmp_path / "decisions.jsonl"
    code = main(score_args(folder, data_dir, out, "--explain", "all", "--decision-log", log))
    assert code == 0
    batch = pd.read_parquet(out).set_index("seller_id")
    scored = Scorer(seller_model, rules=rules).score_many(
        seller_features, explain="all", as_of=AS_OF
    )
    scored = scored.set_index("seller_id").loc[batch.index]
    assert batch["action"].tolist() == scored["action"].tolist()
    assert batch["rules_fired"].tolist() == scored["rules_fired"].tolist()
    records = [r for _, r in read_log(log)]
    assert len(records) == len(batch)
    assert {r["channel"] for r in records} == {"batch"}
    first = records[0]
    assert first["rule_set"] == {"label": "decisions-test@3", "sha256": rules.sha256()}
    assert first["model"]["version"] == "5" and first["as_of"] == "2024-06-30T00:00:00"
    by_id = {r["entity_id"]: r for r in records}
    sid = batch.index[0]
    assert by_id[sid]["action"] == batch.loc[sid, "action"]
    assert by_id[sid]["score"] == float(batch.loc[sid, "score"])
    from riskscore.scoring._replay import replay

    replayed = replay(log, folder, entity=sid)
    assert [r.same for r in replayed] == [True], replayed[0].diff


# ------------------------------------------------------------------ rule sets in MLflow
@pytest.fixture
def tracking_env(logged, monkeypatch):
    tracking, uri = logged
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    clear_cache()
    yield uri
    clear_cache()


@pytest.mark.slow
def test_a_rule_set_logged_beside_a_version_loads_by_uri_and_exports(tracking_env, tmp_path):
    from riskscore.registry._log import RULES_ARTIFACT, log_rules
    from riskscore.rules import RuleError

    uri = tracking_env
    name = uri.split("/")[1]
    with pytest.raises(RuleError, match="no rule set at"):
        RuleSet.load(uri)
    rules = RuleSet.from_dict(RULES)
    where = log_rules(rules, model_uri=uri)
    assert where.startswith("runs:/") and where.endswith(RULES_ARTIFACT)
    for ref in (uri, f"models:/{name}@challenger", where, where.rsplit("/", 2)[0]):
        assert RuleSet.load(ref).sha256() == rules.sha256(), ref
    folder = export_model(uri, tmp_path / "exported")
    manifest = read_manifest(folder)
    assert manifest["rules"]["sha256"] == rules.sha256()
    assert (folder / "rules.yaml").is_file()
    assert load_scorer(folder).rules.label == "decisions-test@3"


@pytest.mark.slow
def test_a_model_logged_with_rules_decides_in_the_pyfunc(tracking_env, trained, tmp_path):
    import warnings

    import mlflow.pyfunc

    from riskscore import registry

    rules = RuleSet.from_dict(RULES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = registry.log_training(
            trained, register=False, plots=False, include_code=False, rules=rules
        )
        pyfunc = mlflow.pyfunc.load_model(run.model_uri)
    frame = trained.test_frame[trained.model.feature_names].head(40)
    out = pyfunc.predict(frame, params={"explain": "all"})
    scored = Scorer(trained.model, rules=rules).score_many(frame, explain="all")
    assert out["action"].tolist() == scored["action"].tolist()
    assert RuleSet.load(f"runs:/{run.run_id}").sha256() == rules.sha256()
