"""One scoring contract: in process, the MLflow pyfunc and ``riskscore serve`` answer alike.

Every answer carries the entity id, the model name and version, ``score``, ``risk_score``,
``band`` and the reasons as a list of objects; reasons only name features that push the
risk up, and a row with nothing notable says "no strong risk signal".
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from riskscore.modeling import RiskModel
from riskscore.registry._contract import PYFUNC_COLUMNS, REASON_FIELDS
from riskscore.scoring import Scorer
from riskscore.scoring._folder import export_model
from riskscore.scoring._result import NO_SIGNAL_CODE, NO_SIGNAL_TEXT
from tests._rule_sets import rule_set
from tests.scoring.conftest import SCORED_AT
from tests.serve.conftest import Client, demo_rows, start_server

#: The fields every answer carries, whichever way it was scored.
CONTRACT: tuple[str, ...] = (
    "entity_id",
    "model_name",
    "model_version",
    "score",
    "risk_score",
    "band",
    "reasons",
)


def _contract(answer: dict[str, Any]) -> dict[str, Any]:
    out = {k: answer[k] for k in CONTRACT}
    out["reasons"] = [dict(r) for r in answer["reasons"]]
    return out


#: The decision every path adds when the model has a rule set (null in the pyfunc without).
DECISION: tuple[str, ...] = ("action", "rules_fired")


def test_the_pyfunc_columns_are_the_contract():
    assert PYFUNC_COLUMNS == CONTRACT + DECISION


@pytest.mark.server
@pytest.mark.slow
def test_in_process_pyfunc_and_http_give_the_same_answers(tmp_path):
    import mlflow.pyfunc

    from riskscore.registry._log import save_pyfunc
    from riskscore.scoring._demo import demo_model

    folder = export_model(demo_model(), tmp_path / "models" / "demo", version="1")
    model = RiskModel.load(folder)
    scorer = Scorer(model, num_threads=1)
    rows = demo_rows(scorer, 24, seed=5)
    frame = pd.DataFrame(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = save_pyfunc(model, tmp_path / "pyfunc", frame[scorer.feature_names].head(3))
        pyfunc = mlflow.pyfunc.load_model(path)
        predicted = pyfunc.predict(frame, params={"explain": "all"})

    in_process = [_contract(scorer.score_one(r, explain="all").to_dict()) for r in rows]
    by_pyfunc = [_contract(r) for r in predicted.to_dict("records")]
    with start_server(folder, "--reload-seconds", "0", log=tmp_path / "server.log") as port:
        client = Client(port)
        status, answer = client.post("/score", {"rows": rows})
        assert status == 200
        by_http = [_contract(r) for r in answer["results"]]
        status, one = client.post("/score", rows[0])
        assert status == 200
        client.close()

    assert in_process[0]["entity_id"] == "S0000"
    assert {(a["model_name"], a["model_version"]) for a in in_process} == {
        ("riskscore-seller-demo", "1")
    }
    assert by_pyfunc == in_process
    assert by_http == in_process
    assert _contract(one) == in_process[0]
    # the rows cover both answers: real reasons, and "no strong risk signal"
    codes = {r["code"] for a in in_process for r in a["reasons"]}
    assert NO_SIGNAL_CODE in codes and len(codes) > 1
    assert all(list(r) == list(REASON_FIELDS) for a in by_pyfunc for r in a["reasons"])


# ------------------------------------------------------------------ reasons of low-risk rows
@pytest.fixture(scope="module")
def explained(seller_model, seller_features) -> tuple[Scorer, pd.DataFrame]:
    """The real seller model's answers for 300 sellers, every row explained."""
    scorer = Scorer(seller_model)
    return scorer, scorer.score_many(seller_features, explain="all", scored_at=SCORED_AT)


def test_low_risk_rows_say_no_strong_risk_signal(explained):
    scorer, scored = explained
    low = scored[scored["band"] == scorer._parts.band_names[0]]
    assert len(low) > 10
    assert (low["reason_1_code"] == NO_SIGNAL_CODE).all()
    assert (low["reason_1_text"] == NO_SIGNAL_TEXT["en"]).all()
    assert (low["reason_1_feature"] == "").all() and low["reason_1_value"].isna().all()
    assert (low["reason_1_contribution"] == 0.0).all() and (low["reason_1_impact"] == 0).all()
    assert low["reason_2_code"].isna().all()


def test_the_underlying_explainer_would_have_named_features_for_low_rows(
    explained, seller_features
):
    """The planted failure: without the screen, low-risk rows list features as reasons."""
    scorer, scored = explained
    low = np.flatnonzero((scored["band"] == scorer._parts.band_names[0]).to_numpy())
    matrix = scorer.layout.matrix_from_frame(seller_features.iloc[low])
    contrib = scorer._parts.booster.predict(matrix, pred_contrib=True)
    raw = scorer._parts.reasons(contrib, matrix, 3, "en")
    assert any(r and r[0].code != NO_SIGNAL_CODE for r in raw)


def test_no_reason_ever_has_a_negative_contribution(explained):
    scorer, scored = explained
    contributions = scored[[f"reason_{k}_contribution" for k in range(1, scorer.top_k + 1)]]
    assert (contributions.fillna(0.0).to_numpy() >= 0.0).all()
    real = scored[scored["reason_1_code"].notna() & (scored["reason_1_code"] != NO_SIGNAL_CODE)]
    assert len(real) > 0, "some risky rows keep real reasons"
    assert (real["reason_1_contribution"] > 0).all()
    assert (real["band"] != scorer._parts.band_names[0]).all()


def test_no_strong_risk_signal_in_chinese(seller_model, seller_features):
    scorer = Scorer(seller_model, language="zh")
    risk = scorer.score_many(seller_features, explain="all", scored_at=SCORED_AT)
    low = risk[risk["band"] == scorer._parts.band_names[0]]
    assert (low["reason_1_text"] == "无明显风险信号").all()
    first_low = int(np.flatnonzero((risk["band"] == "low").to_numpy())[0])
    one = scorer.score_one(seller_features.iloc[first_low].to_dict())
    assert [r.code for r in one.reasons] == [NO_SIGNAL_CODE]
    assert not one.reasons[0].is_signal


# ------------------------------------------------------------------ decisions in every path
DEMO_RULES = rule_set(
    "contract",
    "1",
    {
        "name": "big_calm_shop",
        "when": "account__listing_count >= 35 AND risk_score < 500",
        "action": "allow",
        "override": True,
        "reason": {"en": "Large shop, low score", "zh": "大店低分"},
    },
)


def _decision(answer: dict[str, Any]) -> dict[str, Any]:
    return {"action": answer["action"], "rules_fired": list(answer["rules_fired"])}


@pytest.mark.server
@pytest.mark.slow
def test_in_process_pyfunc_and_http_give_the_same_decisions(tmp_path):
    """With a rule set, every path adds the same action and rules_fired; HTTP logs them."""
    import mlflow.pyfunc

    from riskscore.registry._log import save_pyfunc
    from riskscore.rules import RuleSet
    from riskscore.rules._log import read_log
    from riskscore.scoring._demo import demo_model
    from riskscore.scoring._replay import replay

    rules = RuleSet.from_dict(DEMO_RULES)
    rules_file = rules.save(tmp_path / "rules.yaml")
    folder = export_model(demo_model(), tmp_path / "models" / "demo", version="1", rules=rules_file)
    model = RiskModel.load(folder)
    scorer = Scorer(model, num_threads=1, rules=rules)
    rows = demo_rows(scorer, 24, seed=5)
    frame = pd.DataFrame(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = save_pyfunc(
            model, tmp_path / "pyfunc", frame[scorer.feature_names].head(3), rules=rules
        )
        predicted = mlflow.pyfunc.load_model(path).predict(frame, params={"explain": "all"})

    in_process = [scorer.score_one(r, explain="all").to_dict() for r in rows]
    log = tmp_path / "http.jsonl"
    args = ("--reload-seconds", "0", "--decision-log", str(log))
    with start_server(folder, *args, log=tmp_path / "server.log") as port:
        client = Client(port)
        status, answer = client.post("/score", {"rows": rows})
        assert status == 200
        status, one = client.post("/score", rows[0])
        assert status == 200
        client.close()

    expected = [_decision(a) for a in in_process]
    assert len({d["action"] for d in expected}) >= 3, "the rules decide differently per row"
    assert [_contract(a) for a in predicted.to_dict("records")] == [
        _contract(a) for a in in_process
    ]
    assert [_decision(a) for a in predicted.to_dict("records")] == expected
    assert [_decision(a) for a in answer["results"]] == expected
    assert answer["results"] == [
        {**a, "scored_at": b["scored_at"]}
        for a, b in zip(in_process, answer["results"], strict=True)
    ]
    assert _decision(one) == expected[0] and one["rule_set"] == "contract@1"
    logged = [r for _, r in read_log(log)]
    assert len(logged) == len(rows) + 1 and {r["channel"] for r in logged} == {"http"}
    assert all(r.same for r in replay(log, folder))
