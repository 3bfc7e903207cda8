"""Contributions: exact TreeSHAP from LightGBM, equal to shap, additive, grouped by family."""

from __future__ import annotations

import warnings

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from riskscore.exceptions import ExplanationError
from riskscore.explain import Contributions, booster_of, contributions, family_of

from .conftest import NAMES, make_frame, train_booster


@pytest.mark.slow
def test_pred_contrib_equals_shap_tree_explainer(booster: lgb.Booster, frame: pd.DataFrame):
    shap = pytest.importorskip("shap")
    X = frame[NAMES].to_numpy()[:300]
    ours = contributions(booster, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shap warns that binary LightGBM output changed
        explainer = shap.TreeExplainer(booster)
        theirs = explainer.shap_values(X)
    theirs = np.asarray(theirs[1] if isinstance(theirs, list) else theirs)
    assert theirs.shape == ours.values.shape
    np.testing.assert_allclose(ours.values, theirs, atol=1e-6, rtol=0)
    expected = np.ravel(explainer.expected_value)[-1]
    assert ours.base_value == pytest.approx(float(expected), abs=1e-6)


def test_contributions_plus_base_equal_raw_score(booster: lgb.Booster, frame: pd.DataFrame):
    c = contributions(booster, frame)
    raw = booster.predict(frame[NAMES].to_numpy(), raw_score=True)
    np.testing.assert_allclose(c.values.sum(axis=1) + c.base_value, raw, atol=1e-6, rtol=0)
    np.testing.assert_allclose(c.raw_score, raw, atol=1e-6, rtol=0)


_value = st.one_of(
    st.just(np.nan),
    st.floats(min_value=-10, max_value=3000, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=60, deadline=None)
@given(rows=arrays(np.float64, st.tuples(st.integers(1, 8), st.just(len(NAMES))), elements=_value))
def test_additivity_holds_for_any_rows(booster: lgb.Booster, rows: np.ndarray):
    c = contributions(booster, rows)
    raw = booster.predict(rows, raw_score=True, num_threads=1)
    np.testing.assert_allclose(c.raw_score, raw, atol=1e-6, rtol=0)
    np.testing.assert_allclose(c.by_family().sum(axis=1).to_numpy(), raw, atol=1e-6, rtol=0)


def test_family_sums_add_up(booster: lgb.Booster, frame: pd.DataFrame):
    c = contributions(booster, frame.head(200))
    fam = c.by_family()
    assert list(fam.columns) == [
        "pricing",
        "complaints",
        "buyers",
        "account",
        "activity",
        "base_value",
    ]
    for family in ("pricing", "complaints", "buyers", "account", "activity"):
        cols = [j for j, n in enumerate(NAMES) if n.startswith(f"{family}__")]
        np.testing.assert_allclose(
            fam[family].to_numpy(), c.values[:, cols].sum(axis=1), atol=1e-12
        )
    np.testing.assert_allclose(fam.drop(columns="base_value").sum(axis=1), c.values.sum(axis=1))
    assert fam.index.equals(frame.head(200).index)


def test_families_from_a_mapping_override_the_prefix(booster: lgb.Booster, frame: pd.DataFrame):
    mapping = {"account__age_days": "tenure"}
    c = contributions(booster, frame.head(3), families=mapping)
    assert c.families[NAMES.index("account__age_days")] == "tenure"
    assert "tenure" in c.by_family().columns
    with pytest.raises(ExplanationError, match="families has 2 entries but the model has 8"):
        contributions(booster, frame.head(3), families=["a", "b"])


def test_one_row_array_mapping_and_frame_agree(booster: lgb.Booster, frame: pd.DataFrame):
    row = frame.iloc[[5]]
    from_frame = contributions(booster, row[list(reversed(NAMES))].assign(extra="x"))
    from_array = contributions(booster, row[NAMES].to_numpy()[0])
    record = {k: (None if pd.isna(v) else v) for k, v in row.iloc[0].to_dict().items()}
    from_mapping = contributions(booster, record)
    np.testing.assert_array_equal(from_frame.values, from_array.values)
    np.testing.assert_array_equal(from_mapping.values, from_array.values)
    assert from_frame.index.tolist() == [row.index[0]]
    assert from_array.index is None


def test_frame_output(booster: lgb.Booster, frame: pd.DataFrame):
    c = contributions(booster, frame.head(4))
    out = c.to_frame()
    assert list(out.columns) == [*NAMES, "base_value"]
    assert out.shape == (4, len(NAMES) + 1)
    assert c.n_rows == 4


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (
            pd.DataFrame({"pricing__median_price_ratio": [1.0]}),
            "7 feature\\(s\\) the model needs are missing: 'pricing__min_price_ratio'",
        ),
        (
            {n: 1.0 for n in NAMES if n != "buyers__hhi"} | {"buyers_hhi": 1.0},
            "'buyers__hhi' \\(did you mean 'buyers_hhi'\\?\\)",
        ),
        (
            {**dict.fromkeys(NAMES, 1.0), "account__age_days": "old"},
            "feature 'account__age_days' is str 'old'; it must be a number",
        ),
        (np.ones((2, 3)), "the model's 8 features in its order; got an array of shape \\(2, 3\\)"),
    ],
)
def test_bad_input_names_the_feature(booster: lgb.Booster, X: object, match: str):
    with pytest.raises(ExplanationError, match=match):
        contributions(booster, X)


def test_text_column_is_refused(booster: lgb.Booster, frame: pd.DataFrame):
    bad = frame.head(2).assign(account__age_days=["old", "new"])
    with pytest.raises(
        ExplanationError,
        match=r"feature column 'account__age_days' holds str values, e\.g\. 'old' in 2 row",
    ):
        contributions(booster, bad)


def test_booster_of_reads_models_and_refuses_others(booster: lgb.Booster):
    class Holder:
        def __init__(self, b: lgb.Booster) -> None:
            self.booster = b

    assert booster_of(Holder(booster)) is booster
    with pytest.raises(ExplanationError, match="cannot explain a str"):
        booster_of("model.txt")
    X, y = make_frame(300)
    multi = lgb.train(
        {"objective": "multiclass", "num_class": 3, "verbose": -1},
        lgb.Dataset(X[NAMES].to_numpy(), (y + (X["buyers__hhi"] > 0.1)).to_numpy()),
        2,
    )
    with pytest.raises(
        ExplanationError, match=r"only binary LightGBM models.*3 trees per iteration"
    ):
        booster_of(multi)


def test_family_of():
    assert family_of("network__shared_devices") == "network"
    assert family_of("__x") == "other"
    assert family_of("plain") == "other"


def test_contributions_is_plain_data():
    c = Contributions(np.zeros((2, 1)), 0.5, ("a__x",), ("a",))
    np.testing.assert_array_equal(c.raw_score, [0.5, 0.5])


def test_deep_model_still_exact():
    X, y = make_frame(600, seed=3)
    deep = train_booster(X, y, num_leaves=63, max_depth=-1, min_data_in_leaf=2)
    c = contributions(deep, X)
    np.testing.assert_allclose(
        c.raw_score, deep.predict(X[NAMES].to_numpy(), raw_score=True), atol=1e-6
    )


@pytest.mark.parametrize("feature", [None, 3, ["pricing__x"]])
def test_family_of_refuses_what_is_not_a_name(feature) -> None:
    with pytest.raises(ExplanationError, match="'feature' parameter of family_of"):
        family_of(feature)
