"""Renamed public names keep working for one release (issue 13, "one name per idea").

One test per shim: the old name warns with a ``DeprecationWarning`` that names the new one
and gives the same result as the new name.

- ``id_column`` → ``id_col``: ``Scorer.id_column``, ``Explainer.id_column``,
  ``FeatureLayout.id_column`` (read-only properties), ``RiskScore.to_row(id_column=...)``;
- the pyfunc prediction parameter ``lang`` → ``language`` (in process, and through a saved
  MLflow pyfunc whose signature declares both).
"""

from __future__ import annotations

import re
import warnings

import pandas as pd
import pytest

from riskscore.exceptions import ParameterError, ScoringError
from riskscore.scoring import RiskScore
from riskscore.scoring._pyfunc import pyfunc_predict

_CJK = re.compile(r"[\u4e00-\u9fff]")


def _deprecated(old: str, new: str) -> str:
    return rf"{re.escape(old)}.* is deprecated.*use .*{re.escape(new)}"


# ------------------------------------------------------------------- id_column → id_col
def test_scorer_id_column_warns_and_is_id_col(scorer):
    with pytest.warns(DeprecationWarning, match=_deprecated("Scorer.id_column", "Scorer.id_col")):
        old = scorer.id_column
    assert old == scorer.id_col == "seller_id"
    with pytest.raises(AttributeError):
        scorer.id_column = "listing_id"


def test_feature_layout_id_column_warns_and_is_id_col(scorer):
    layout = scorer.layout
    match = _deprecated("FeatureLayout.id_column", "FeatureLayout.id_col")
    with pytest.warns(DeprecationWarning, match=match):
        old = layout.id_column
    assert old == layout.id_col == "seller_id"


def test_explainer_id_column_warns_and_is_id_col():
    from riskscore.explain import Explainer
    from riskscore.scoring._demo import demo_model

    explainer = Explainer(demo_model())
    match = _deprecated("Explainer.id_column", "Explainer.id_col")
    with pytest.warns(DeprecationWarning, match=match):
        old = explainer.id_column
    assert old == explainer.id_col == "seller_id"


def test_to_row_id_column_warns_and_gives_the_same_row(scorer):
    record = {**dict.fromkeys(scorer.feature_names, 0.5), "seller_id": "S7"}
    result = scorer.score_one(record, scored_at="2024-07-01T08:00:00")
    new = result.to_row(id_col="seller_key", top_k=2)
    with pytest.warns(DeprecationWarning, match=r"'id_column' is deprecated.*use 'id_col'"):
        old = result.to_row(id_column="seller_key", top_k=2)
    assert old == new
    assert new["seller_key"] == "S7" and "seller_id" not in new
    # the default is the entity's id column, as in score_many
    assert result.to_row(top_k=2) == {
        ("seller_id" if k == "seller_key" else k): v for k, v in new.items()
    }
    assert RiskScore.from_row(result.to_row(), entity="seller") == result
    with pytest.raises(ParameterError, match=r"both 'id_col' and its deprecated name"):
        result.to_row(id_col="a", id_column="b")


# ------------------------------------------------------- pyfunc parameter lang → language
def test_pyfunc_lang_warns_and_answers_as_language(seller_model, seller_features):
    rows = seller_features.head(5)
    new = pyfunc_predict(seller_model, rows, {"language": "zh", "top_k": 2})
    with pytest.warns(DeprecationWarning, match=r"'lang' is deprecated.*use 'language'"):
        old = pyfunc_predict(seller_model, rows, {"lang": "zh", "top_k": 2})
    pd.testing.assert_frame_equal(old, new)
    texts = [r["text"] for row in new["reasons"] for r in row]
    assert texts and all(_CJK.search(t) for t in texts)
    english = pyfunc_predict(seller_model, rows, {"top_k": 2})
    assert [r["text"] for row in english["reasons"] for r in row] != texts


def test_pyfunc_lang_and_language_together(seller_model, seller_features):
    rows = seller_features.head(2)
    with pytest.raises(ScoringError, match=r"both 'language' and its deprecated name 'lang'"):
        pyfunc_predict(seller_model, rows, {"language": "zh", "lang": "en"})
    # the same value under both names is no conflict; "" is the signature's "not given"
    with pytest.warns(DeprecationWarning, match="'lang' is deprecated"):
        same = pyfunc_predict(seller_model, rows, {"language": "zh", "lang": "zh"})
    unset = pyfunc_predict(seller_model, rows, {"language": "zh", "lang": ""})
    pd.testing.assert_frame_equal(same, unset)
    with (
        pytest.warns(DeprecationWarning, match="'lang' is deprecated"),
        pytest.raises(ScoringError, match=r"The 'lang' parameter must be 'en' or 'zh'"),
    ):
        pyfunc_predict(seller_model, rows, {"lang": "fr"})


@pytest.mark.slow
def test_saved_pyfunc_signature_takes_language_and_lang(seller_model, seller_features, tmp_path):
    """The logged signature declares both names, so MLflow passes either to ``predict``."""
    import mlflow.pyfunc

    from riskscore.registry._contract import PREDICT_PARAMS, SIGNATURE_PARAMS
    from riskscore.registry._log import save_pyfunc

    names = seller_model.feature_names
    rows = seller_features[names].head(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = save_pyfunc(seller_model, tmp_path / "pyfunc", rows.head(2))
        pyfunc = mlflow.pyfunc.load_model(path)
    params = pyfunc.metadata.get_params_schema()
    assert {p.name: p.default for p in params.params} == SIGNATURE_PARAMS
    assert SIGNATURE_PARAMS == {**PREDICT_PARAMS, "lang": ""}
    new = pyfunc.predict(rows, params={"language": "zh", "top_k": 1})
    with pytest.warns(DeprecationWarning, match="'lang' is deprecated"):
        old = pyfunc.predict(rows, params={"lang": "zh", "top_k": 1})
    pd.testing.assert_frame_equal(old, new)
    texts = [r["text"] for row in new["reasons"] for r in row]
    assert texts and all(_CJK.search(t) for t in texts)
    with pytest.raises(ScoringError, match=r"The 'language' parameter must be 'en' or 'zh'"):
        pyfunc.predict(rows, params={"language": "fr"})
    # a parameter the signature does not declare is dropped by MLflow before predict (a
    # logged warning, MLflow's own behaviour); a direct call refuses it
    default = pyfunc.predict(rows)
    pd.testing.assert_frame_equal(pyfunc.predict(rows, params={"languages": "zh"}), default)
    with pytest.raises(ScoringError, match=r"unknown prediction parameter\(s\) languages"):
        pyfunc_predict(seller_model, rows, {"languages": "zh"})
