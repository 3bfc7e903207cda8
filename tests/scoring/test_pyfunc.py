"""The logged MLflow pyfunc predicts through the Scorer: same answers as score_many."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from riskscore import ModelNotFoundError
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
    assert list(layout.columns) == ["score", "risk_score", "band", "reasons"]
    back = from_pyfunc_frame(layout, seller_scorer.top_k)
    pd.testing.assert_frame_equal(back, scored[back.columns], check_dtype=False)
    lists = [json.loads(r) for r in layout["reasons"]]
    assert any(lists) and all(len(r) <= 3 for r in lists)
    keys = {"code", "feature", "value", "impact", "contribution", "text"}
    assert all(set(reason) == keys for r in lists for reason in r)


def test_pyfunc_predict_is_score_many(seller_model, seller_scorer, seller_features):
    out = pyfunc_predict(seller_model, seller_features.set_index("seller_id"))
    expected = to_pyfunc_frame(seller_scorer.score_many(seller_features, explain="all"), 3)
    pd.testing.assert_frame_equal(out.reset_index(drop=True), expected)
    assert out.index.tolist() == seller_features["seller_id"].tolist()
    none = pyfunc_predict(seller_model, seller_features, {"explain": "none"})
    assert (none["reasons"] == "[]").all()
    zero = pyfunc_predict(seller_model, seller_features, {"top_k": 0})
    assert (zero["reasons"] == "[]").all()
    zh = pyfunc_predict(seller_model, seller_features.head(3), {"lang": "zh", "top_k": 1})
    assert all(len(json.loads(r)) <= 1 for r in zh["reasons"])


def test_logged_pyfunc_predicts_like_score_many(tracking_env, trained):
    import mlflow.pyfunc

    frame = trained.test_frame[trained.model.feature_names].head(50).reset_index(drop=True)
    pyfunc = mlflow.pyfunc.load_model(tracking_env)
    got = pyfunc.predict(frame)
    scorer = load_scorer(tracking_env)
    expected = to_pyfunc_frame(scorer.score_many(frame, explain="all"), scorer.top_k)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)
    flagged = pyfunc.predict(frame, params={"explain": "flagged"})
    shown = flagged["band"].isin(["high", "critical"])
    assert (flagged.loc[~shown, "reasons"] == "[]").all()


def test_load_scorer_knows_the_registered_name_and_version(tracking_env):
    scorer = load_scorer(tracking_env)
    assert scorer.model_name == "riskscore-seller-counterfeit"
    assert scorer.model_version == tracking_env.rsplit("/", 1)[1]
    assert load_scorer(tracking_env) is scorer  # loaded once


def test_wrong_model_uri_is_a_clear_error(tracking_env):
    with pytest.raises(ModelNotFoundError, match="riskscore-seller-nothing"):
        load_scorer("models:/riskscore-seller-nothing@champion")
    with pytest.raises(ModelNotFoundError, match="no model at 'nowhere/at/all'"):
        load_scorer("nowhere/at/all")
