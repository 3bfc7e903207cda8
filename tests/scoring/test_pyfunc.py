"""The logged MLflow pyfunc predicts through the Scorer: same answers as score_many."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from riskscore import ModelNotFoundError, ScoringError
from riskscore.registry._contract import PYFUNC_COLUMNS
from riskscore.scoring import load_scorer
from riskscore.scoring._load import clear_cache
from riskscore.scoring._pyfunc import from_pyfunc_frame, pyfunc_predict, to_pyfunc_frame
from tests.scoring.conftest import SCORED_AT


@pytest.fixture
def tracking_env(logged, monkeypatch):
    tracking, uri = logged
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    clear_cache()
    yield uri
    clear_cache()


def test_pyfunc_layout_round_trips_score_many(seller_scorer, seller_features):
    scored = seller_scorer.score_many(seller_features, explain="all", scored_at=SCORED_AT)
    layout = to_pyfunc_frame(scored, seller_scorer.top_k)
    assert tuple(layout.columns) == PYFUNC_COLUMNS  # pinned in the contract test below
    assert layout["action"].isna().all()  # no rule set: no decision
    assert layout["entity_id"].tolist() == seller_features["seller_id"].tolist()
    back = from_pyfunc_frame(layout, seller_scorer.top_k)
    pd.testing.assert_frame_equal(back, scored[back.columns], check_dtype=False)
    lists = list(layout["reasons"])
    assert any(lists) and all(len(r) <= 3 for r in lists)
    keys = {"code", "feature", "value", "impact", "contribution", "text"}
    assert all(set(reason) == keys for r in lists for reason in r)


def test_pyfunc_predict_is_score_many(seller_model, seller_scorer, seller_features):
    out = pyfunc_predict(seller_model, seller_features.set_index("seller_id"))
    expected = to_pyfunc_frame(seller_scorer.score_many(seller_features, explain="all"), 3)
    pd.testing.assert_frame_equal(out.reset_index(drop=True), expected)
    assert out.index.tolist() == seller_features["seller_id"].tolist()
    none = pyfunc_predict(seller_model, seller_features, {"explain": "none"})
    assert all(r == [] for r in none["reasons"])
    zero = pyfunc_predict(seller_model, seller_features, {"top_k": 0})
    assert all(r == [] for r in zero["reasons"])
    zh = pyfunc_predict(seller_model, seller_features.head(3), {"language": "zh", "top_k": 1})
    assert all(len(r) <= 1 for r in zh["reasons"])


@pytest.mark.slow
def test_logged_pyfunc_predicts_like_score_many(tracking_env, trained):
    import mlflow.pyfunc

    frame = trained.test_frame[trained.model.feature_names].head(50).reset_index(drop=True)
    pyfunc = mlflow.pyfunc.load_model(tracking_env)
    got = pyfunc.predict(frame)
    scorer = load_scorer(tracking_env)
    expected = to_pyfunc_frame(scorer.score_many(frame, explain="all"), scorer.top_k)
    # the pyfunc is written before the registry numbers the version: it answers "local"
    # (docs/deploy.md); load_scorer resolves the registered version
    assert set(got["model_version"]) == {"local"} and set(expected["model_version"]) == {"1"}
    pd.testing.assert_frame_equal(
        got.drop(columns="model_version").reset_index(drop=True),
        expected.drop(columns="model_version"),
    )
    flagged = pyfunc.predict(frame, params={"explain": "flagged"})
    shown = flagged["band"].isin(["high", "critical"])
    assert flagged.loc[~shown, "reasons"].map(len).eq(0).all()


@pytest.mark.slow
def test_load_scorer_knows_the_registered_name_and_version(tracking_env):
    scorer = load_scorer(tracking_env)
    assert scorer.model_name == "riskscore-seller-counterfeit"
    assert scorer.model_version == tracking_env.rsplit("/", 1)[1]
    assert load_scorer(tracking_env) is scorer  # loaded once


@pytest.mark.slow
def test_wrong_model_uri_is_a_clear_error(tracking_env):
    with pytest.raises(ModelNotFoundError, match="riskscore-seller-nothing"):
        load_scorer("models:/riskscore-seller-nothing@champion")
    with pytest.raises(ModelNotFoundError, match="no model at 'nowhere/at/all'"):
        load_scorer("nowhere/at/all")


def test_pyfunc_reads_ids_from_the_index_and_refuses_duplicates(seller_model, marketplace):
    """Issue 14, item 5: build_features output (ids in the index) goes in as it is."""
    from riskscore.features import build_features

    tables = {k: v for k, v in marketplace.items() if k != "truth"}
    built = build_features(tables, "seller", as_of="2024-06-30").head(20)
    out = pyfunc_predict(seller_model, built, {"explain": "none"})
    assert out.index.equals(built.index)
    expected = pyfunc_predict(seller_model, built.reset_index(), {"explain": "none"})
    pd.testing.assert_frame_equal(out.reset_index(drop=True), expected)
    with pytest.raises(ScoringError, match=r"index 'seller_id' has 2 rows with duplicated ids"):
        pyfunc_predict(seller_model, pd.concat([built, built.head(1)]))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"explain": "maybe"}, r"The 'explain' parameter must be one of 'all', 'flagged', 'none'"),
        ({"top_k": "many"}, r"The 'top_k' parameter must be an int in the range \[0, 50\]"),
        ({"top_k": -1}, r"'top_k' .* Got -1 instead"),
        ({"language": "fr"}, r"The 'language' parameter must be 'en' or 'zh'. Got 'fr' instead"),
        ({"languages": "en"}, r"unknown prediction parameter\(s\) languages; the model takes"),
    ],
)
def test_bad_prediction_parameters_are_scoring_errors(seller_model, seller_features, params, match):
    with pytest.raises(ScoringError, match=match):
        pyfunc_predict(seller_model, seller_features.head(2), params)


@pytest.mark.slow
def test_logged_pyfunc_raises_riskscores_message_as_a_400(tracking_env, trained):
    import mlflow.pyfunc
    from mlflow.exceptions import MlflowException

    frame = trained.test_frame[trained.model.feature_names].head(3).reset_index(drop=True)
    frame.iloc[1, 0] = float("inf")
    pyfunc = mlflow.pyfunc.load_model(tracking_env)
    with pytest.raises(ScoringError, match=r"1 row\(s\) have invalid feature values") as info:
        pyfunc.predict(frame)
    err = info.value
    assert isinstance(err, MlflowException) and err.get_http_status_code() == 400
    body = json.loads(err.serialize_as_json())
    assert body["error_code"] == "INVALID_PARAMETER_VALUE" and "stack_trace" not in body
    assert body["riskscore_message"] == str(err) == err.message


# ---------------------------------------------------------------------------- the contract
def test_the_contract_is_the_one_the_pyfunc_follows(seller_model, seller_features):
    """Output columns, reason fields and Spark types all come from registry._contract."""
    import dataclasses

    from riskscore.registry import _contract
    from riskscore.scoring import Reason
    from riskscore.scoring import _pyfunc as scoring_pyfunc

    out = pyfunc_predict(seller_model, seller_features.head(3), {"top_k": 2})
    assert (
        tuple(out.columns)
        == _contract.PYFUNC_COLUMNS
        == (
            "entity_id",
            "model_name",
            "model_version",
            "score",
            "risk_score",
            "band",
            "reasons",
            "action",
            "rules_fired",
        )
    )
    reasons = [r for row in out["reasons"] for r in row]
    assert reasons and {tuple(r) for r in reasons} == {_contract.REASON_FIELDS}
    assert tuple(f.name for f in dataclasses.fields(Reason)) == _contract.REASON_FIELDS
    assert scoring_pyfunc.PREDICT_PARAMS is _contract.PREDICT_PARAMS
    assert (
        "entity_id STRING, model_name STRING, model_version STRING, score DOUBLE, "
        f"risk_score DOUBLE, band STRING, reasons {_contract.REASONS_DDL}, "
        "action STRING, rules_fired ARRAY<STRING>"
    ) == _contract.PYFUNC_DDL
    assert _contract.REASONS_DDL == (
        "ARRAY<STRUCT<code: STRING, feature: STRING, value: DOUBLE, impact: BIGINT, "
        "contribution: DOUBLE, text: STRING>>"
    )


def test_a_wrapper_without_its_scoring_function_says_to_log_again(tmp_path):
    from types import SimpleNamespace

    from riskscore import RegistryError
    from riskscore.registry._pyfunc import RiskModelPyfunc

    context = SimpleNamespace(artifacts={"riskmodel": str(tmp_path)})
    with pytest.raises(RegistryError, match=r"expected RiskModelPyfunc\(pyfunc_predict\)"):
        RiskModelPyfunc().load_context(context)
    assert RiskModelPyfunc(pyfunc_predict).predict_function is pyfunc_predict


def test_the_entry_file_joins_the_wrapper_and_the_scoring_path():
    """The logged entry builds RiskModelPyfunc(pyfunc_predict): no import from registry up."""
    from riskscore.registry._log import PYFUNC_ENTRY
    from riskscore.registry._pyfunc import RiskModelPyfunc

    seen: list = []
    head, _, body = PYFUNC_ENTRY.partition("from mlflow.models import set_model\n")
    assert head == ""  # the entry's one MLflow import is set_model, replaced here
    exec(compile(body, "riskscore_pyfunc.py", "exec"), {"set_model": seen.append})
    assert len(seen) == 1 and isinstance(seen[0], RiskModelPyfunc)
    assert seen[0].predict_function is pyfunc_predict
