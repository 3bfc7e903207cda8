from __future__ import annotations

import numpy as np
import pytest

from riskscore.exceptions import TrainingError
from riskscore.modeling import DEFAULT_PARAMS, fit_lgbm, lgbm_params, random_search


def test_defaults_are_deterministic_and_shallow() -> None:
    p = lgbm_params(11)
    assert p["deterministic"] is True and p["force_row_wise"] is True
    assert p["seed"] == 11 and isinstance(p["num_threads"], int) and p["num_threads"] >= 1
    assert p["max_depth"] <= 6 and p["num_leaves"] <= 31
    assert "scale_pos_weight" not in p and "is_unbalance" not in p  # no reweighting by default
    assert DEFAULT_PARAMS["metric"] == "binary_logloss"


def test_threads_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKSCORE_NUM_THREADS", "1")
    assert lgbm_params(0)["num_threads"] == 1
    assert lgbm_params(0, num_threads=3)["num_threads"] == 3


def test_class_weight() -> None:
    assert lgbm_params(0, class_weight=4.0)["scale_pos_weight"] == 4.0
    p = lgbm_params(0, class_weight="balanced", n_positive=5, n_negative=95)
    assert p["scale_pos_weight"] == 19.0
    with pytest.raises(ValueError, match=r"'balanced' or a positive number. Got 'heavy'"):
        lgbm_params(0, class_weight="heavy")
    assert lgbm_params(0, overrides={"max_depth": 3})["max_depth"] == 3


def test_early_stopping_trims_trees(lgbm_data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = lgbm_data
    b = fit_lgbm(
        X[:800],
        y[:800],
        X[800:],
        y[800:],
        params=lgbm_params(0),
        feature_names=list("abcd"),
        num_boost_round=1000,
        early_stopping_rounds=20,
    )
    assert b.num_trees() == b.best_iteration < 1000
    assert b.feature_name() == list("abcd")


def test_same_seed_same_bytes(lgbm_data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = lgbm_data

    def fit(seed: int) -> str:
        b = fit_lgbm(
            X[:800],
            y[:800],
            X[800:],
            y[800:],
            params=lgbm_params(seed),
            feature_names=list("abcd"),
            num_boost_round=60,
        )
        return b.model_to_string()

    assert fit(1) == fit(1)
    assert fit(1) != fit(2)


def test_categorical_features(lgbm_data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = lgbm_data
    X = X.copy()
    X[:, 3] = np.random.default_rng(1).integers(0, 5, size=len(X))
    b = fit_lgbm(
        X[:800],
        y[:800],
        X[800:],
        y[800:],
        params=lgbm_params(0),
        feature_names=list("abcd"),
        categorical=[3],
        num_boost_round=20,
    )
    assert (
        "categorical_feature=3" in b.model_to_string()
        or "[categorical_feature: 3]" in b.model_to_string()
    )


def test_search_is_bounded_and_keeps_defaults_first(
    lgbm_data: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = lgbm_data
    kw = dict(base_params=lgbm_params(0), feature_names=list("abcd"), num_boost_round=40)
    r = random_search(X[:800], y[:800], X[800:], y[800:], n_iter=4, seed=3, **kw)
    assert r.trials["trial"].tolist() == [0, 1, 2, 3]
    assert r.trials.loc[0, "num_leaves"] == 31 and r.trials.loc[0, "max_depth"] == 6
    assert r.trials["best"].sum() == 1
    assert (
        r.trials.loc[r.trials["best"], "valid_logloss"].iloc[0] == r.trials["valid_logloss"].min()
    )
    assert (r.trials["num_leaves"] <= 31).all() and (r.trials["max_depth"] <= 6).all()
    again = random_search(X[:800], y[:800], X[800:], y[800:], n_iter=4, seed=3, **kw)
    assert again.best_params == r.best_params
    # a zero budget still runs the defaults, and nothing else
    short = random_search(X[:800], y[:800], X[800:], y[800:], n_iter=4, budget_seconds=0.0, **kw)
    assert len(short.trials) == 1
    with pytest.raises(TrainingError, match=r"'n_iter' parameter of random_search .* int >= 1"):
        random_search(X[:800], y[:800], X[800:], y[800:], n_iter=0, **kw)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"y_train": np.zeros(19)}, r"same length. Got X_train: 20, y_train: 19"),
        ({"y_train": np.full(20, 3.0)}, r"'y_train' parameter of fit_lgbm must hold only 0 and 1"),
        ({"X_valid": np.zeros((20, 2))}, r"'X_valid' parameter .* 3 column\(s\)"),
        ({"X_train": [["a", "b", "c"]] * 20}, r"'X_train' parameter of fit_lgbm must be a 2-D"),
        ({"feature_names": ["a"]}, r"name each of the 3 column\(s\) of X. Got 1"),
        ({"categorical": [7]}, r"'categorical' parameter .* positions in \[0, 2\]"),
        ({"params": {"objective": "nope"}}, r"LightGBM could not train on this data"),
        ({"params": None}, r"'params' parameter of fit_lgbm must be a mapping"),
    ],
)
def test_fit_lgbm_bad_input_is_a_training_error(change: dict, match: str) -> None:
    # before, these escaped as LightGBM's ValueError/TypeError or trained on wrong labels
    rng = np.random.default_rng(0)
    args = {
        "X_train": rng.normal(size=(20, 3)),
        "y_train": np.arange(20) % 2,
        "X_valid": rng.normal(size=(20, 3)),
        "y_valid": np.arange(20) % 2,
        "params": lgbm_params(0, num_threads=1),
        "feature_names": ["a", "b", "c"],
        **change,
    }
    with pytest.raises(TrainingError, match=match):
        fit_lgbm(
            args.pop("X_train"),
            args.pop("y_train"),
            args.pop("X_valid"),
            args.pop("y_valid"),
            num_boost_round=3,
            **args,
        )


def test_lgbm_params_bad_arguments() -> None:
    with pytest.raises(
        TrainingError, match=r"needs n_positive and n_negative .* Got n_positive=None"
    ):
        lgbm_params(0, class_weight="balanced")
    with pytest.raises(TrainingError, match=r"'seed' parameter of lgbm_params must be an int"):
        lgbm_params("x")  # type: ignore[arg-type]
    with pytest.raises(
        TrainingError, match=r"'overrides' parameter of lgbm_params must be a mapping"
    ):
        lgbm_params(0, overrides=5)  # type: ignore[arg-type]
    with pytest.raises(TrainingError, match=r"positive number. Got nan"):
        lgbm_params(0, class_weight=float("nan"))
