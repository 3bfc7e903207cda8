"""The LightGBM classifier: default parameters, fitting with early stopping, a small search.

Defaults, and why
-----------------
* **Deterministic**: ``deterministic=True``, ``seed`` (LightGBM derives the bagging,
  feature-fraction and data seeds from it), a fixed ``num_threads`` (default 2, or
  ``RISKSCORE_NUM_THREADS``) and ``force_row_wise=True`` (LightGBM otherwise picks row- or
  column-wise histograms by timing both, which can change the model). The same data,
  parameters and seed give a byte-identical ``model.txt``.
* **Rare positives**: no resampling; ``min_data_in_leaf=50`` and ``lambda_l2=1`` keep
  leaves from isolating a handful of positives; ``class_weight`` is an option (``"balanced"``
  sets ``scale_pos_weight = negatives / positives``) and the calibrator maps weighted
  scores back to probabilities.
* **Early stopping** on the validation window, on ``binary_logloss``: average precision on
  a window with few positives is a step function and stops on noise.
* **Small trees**: ``max_depth=6`` and ``num_leaves=31``. Exact TreeSHAP
  (``pred_contrib=True``), used for every reason code at serving time, costs about
  ``trees × leaves × depth²`` per row: capping depth and leaves keeps an explanation near
  2 ms per row for 300 trees, and on tabular risk features deeper trees rarely help.
* **Categoricals**: columns of pandas ``category`` (and strings) are passed to LightGBM as
  categorical features, encoded as category codes (see :class:`~riskscore.modeling.RiskModel`).

Search
------
:func:`random_search` samples at most ``n_iter`` settings from :data:`SEARCH_SPACE` (tree
shape stays within the caps above) and keeps the one with the lowest validation log-loss.
The sampled settings depend only on ``seed``, so the search is reproducible; a
``budget_seconds`` limit stops it early (then the number of tried settings, and so the
result, can depend on the machine — the trials table says how many ran).

Progress
--------
When progress is on (the ``riskscore`` command; see :mod:`riskscore._progress`), every fit
reports its boosting rounds from a LightGBM callback: a bar on a terminal, and in logs a
line every two seconds and one at the end (``boosting: stopped early at round 312 of
2,000; best round 262``). The callback only counts rounds, so the model is the same with
progress on or off; with progress off no callback is added at all.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskscore._config import env_str
from riskscore._progress import progress_mode, status, task, track
from riskscore._validation import check_int, check_real, fail
from riskscore.exceptions import TrainingError
from riskscore.modeling._checks import check_xy

__all__ = [
    "DEFAULT_PARAMS",
    "SEARCH_SPACE",
    "SearchResult",
    "fit_lgbm",
    "fit_lgbm_rounds",
    "lgbm_params",
    "random_search",
]

#: LightGBM parameters used unless overridden (``seed`` and ``num_threads`` are added).
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "metric": "binary_logloss",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "max_depth": 6,
    "min_data_in_leaf": 50,
    "min_sum_hessian_in_leaf": 1e-3,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_bin": 255,
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
}

#: Values :func:`random_search` samples from.
SEARCH_SPACE: dict[str, tuple[Any, ...]] = {
    "learning_rate": (0.03, 0.05, 0.1),
    "num_leaves": (7, 15, 31),
    "max_depth": (3, 4, 5, 6),
    "min_data_in_leaf": (20, 50, 100, 200),
    "feature_fraction": (0.6, 0.8, 1.0),
    "bagging_fraction": (0.7, 0.8, 1.0),
    "lambda_l2": (0.0, 1.0, 10.0),
}


def default_num_threads() -> int:
    """Threads for training: ``RISKSCORE_NUM_THREADS`` or 2."""
    return int(env_str("NUM_THREADS", "2"))


def lgbm_params(
    seed: int,
    *,
    num_threads: int | None = None,
    class_weight: str | float | None = None,
    n_positive: int | None = None,
    n_negative: int | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the full LightGBM parameter dict for one training run.

    Parameters
    ----------
    seed : int
    num_threads : int, optional
        Defaults to ``RISKSCORE_NUM_THREADS`` or 2.
    class_weight : {"balanced"} or float, optional
        ``"balanced"`` weighs positives by ``n_negative / n_positive``; a float is used as
        ``scale_pos_weight`` directly. None (default) weighs all rows equally.
    n_positive, n_negative : int, optional
        Class counts of the training side, needed for ``"balanced"``.
    overrides : mapping, optional
        Any LightGBM parameter, applied last.

    Examples
    --------
    >>> p = lgbm_params(7, class_weight="balanced", n_positive=10, n_negative=190)
    >>> p["seed"], p["scale_pos_weight"], p["max_depth"]
    (7, 19.0, 6)
    """
    where = "lgbm_params"
    params = dict(DEFAULT_PARAMS)
    params["seed"] = check_int(seed, "seed", where, error=TrainingError)
    default_threads = num_threads is None or (
        isinstance(num_threads, numbers.Integral)
        and not isinstance(num_threads, bool)
        and int(num_threads) == 0
    )
    params["num_threads"] = (
        default_num_threads()
        if default_threads
        else check_int(num_threads, "num_threads", where, minimum=1, error=TrainingError)
    )
    if class_weight is not None:
        if isinstance(class_weight, str) and class_weight == "balanced":
            if not n_positive or n_negative is None:
                raise TrainingError(
                    "class_weight='balanced' needs n_positive and n_negative (the class counts "
                    f"of the training side) in {where}. Got n_positive={n_positive!r}, "
                    f"n_negative={n_negative!r}"
                )
            n_pos = check_int(n_positive, "n_positive", where, minimum=1, error=TrainingError)
            n_neg = check_int(n_negative, "n_negative", where, minimum=0, error=TrainingError)
            params["scale_pos_weight"] = float(n_neg) / float(n_pos)
        elif (
            isinstance(class_weight, numbers.Real)
            and not isinstance(class_weight, bool)
            and math.isfinite(class_weight)
            and class_weight > 0
        ):
            params["scale_pos_weight"] = float(class_weight)
        else:
            raise TrainingError(
                "class_weight must be None, 'balanced' or a positive number. "
                f"Got {class_weight!r} instead."
            )
    if overrides:
        if not isinstance(overrides, Mapping):
            raise fail(
                "overrides",
                where,
                "a mapping of LightGBM parameter to value",
                overrides,
                error=TrainingError,
            )
        params.update(overrides)
    return params


class _Rounds:
    """The callbacks that report boosting rounds, and the number of rounds run."""

    def __init__(self, advance: Callable[[int], None] | None) -> None:
        self.done = 0
        self.callbacks: list[Any] = [] if advance is None else [self._report_round]
        self._advance = advance

    def _report_round(self, env: Any) -> None:
        self.done += 1
        if self._advance is not None:
            self._advance(1)


@contextmanager
def _round_progress(total: int, label: str = "boosting") -> Iterator[_Rounds]:
    """Yield the LightGBM callbacks that report boosting rounds done out of ``total``.

    No callback when progress is off. The callback reads nothing from the booster and
    changes nothing: it only counts rounds and advances a :func:`riskscore._progress.task`.
    LightGBM runs it before early stopping (its order is negative, early stopping's 30),
    so the count includes the round that stopped training.

    Examples
    --------
    >>> with _round_progress(100) as rounds:  # progress is off in library calls
    ...     rounds.callbacks
    []
    """
    if progress_mode() == "off":
        yield _Rounds(None)
        return
    with task(label, total, unit="rounds") as advance:
        yield _Rounds(advance)


def _report_stop(rounds: _Rounds, best: int, total: int, label: str = "boosting") -> None:
    """Say where early stopping ended and which round was kept (when it stopped short)."""
    if 0 < rounds.done < total:
        status(f"{label}: stopped early at round {rounds.done:,} of {total:,}; best round {best:,}")


def _check_fit_args(
    params: Any, feature_names: Any, categorical: Any, n_features: int, where: str
) -> tuple[list[str], Any]:
    """Check the parameter dict, the feature names and the categorical positions."""
    if not isinstance(params, Mapping):
        raise fail("params", where, "a mapping (see lgbm_params)", params, error=TrainingError)
    if isinstance(feature_names, str) or not isinstance(feature_names, Sequence):
        raise fail("feature_names", where, "a sequence of str", feature_names, error=TrainingError)
    names = [str(n) for n in feature_names]
    if len(names) != n_features:
        raise TrainingError(
            f"The 'feature_names' parameter of {where} must name each of the {n_features} "
            f"column(s) of X. Got {len(names)} name(s)"
        )
    cats = list(categorical) if categorical else []
    if not all(isinstance(i, numbers.Integral) and 0 <= int(i) < n_features for i in cats):
        raise fail(
            "categorical",
            where,
            f"column positions in [0, {n_features - 1}]",
            categorical,
            error=TrainingError,
        )
    return names, ([int(i) for i in cats] if cats else "auto")


def fit_lgbm(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_valid: np.ndarray,
    y_valid: np.ndarray,
    *,
    params: Mapping[str, Any],
    feature_names: Sequence[str],
    categorical: Sequence[int] = (),
    num_boost_round: int = 2000,
    early_stopping_rounds: int = 50,
) -> Any:
    """Fit a booster on the training side, stopping early on the validation side.

    Returns
    -------
    lightgbm.Booster
        Trimmed to its best iteration (``booster.best_iteration``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 3)); y = (X[:, 0] + rng.normal(size=600) > 1.5).astype(float)
    >>> b = fit_lgbm(X[:400], y[:400], X[400:], y[400:], params=lgbm_params(0),
    ...              feature_names=["a", "b", "c"], num_boost_round=50)
    >>> b.num_feature(), b.best_iteration <= 50
    (3, True)
    """
    import lightgbm as lgb

    where = "fit_lgbm"
    Xt, yt = check_xy(X_train, y_train, where, x_name="X_train", y_name="y_train")
    Xv, yv = check_xy(
        X_valid, y_valid, where, x_name="X_valid", y_name="y_valid", n_features=Xt.shape[1]
    )
    names, cats = _check_fit_args(params, feature_names, categorical, Xt.shape[1], where)
    num_boost_round = check_int(
        num_boost_round, "num_boost_round", where, minimum=1, error=TrainingError
    )
    early_stopping_rounds = check_int(
        early_stopping_rounds, "early_stopping_rounds", where, minimum=1, error=TrainingError
    )
    try:
        train_set = lgb.Dataset(
            Xt,
            label=yt,
            feature_name=names,
            categorical_feature=cats,
            free_raw_data=True,
            params={"max_bin": params.get("max_bin", 255), "verbosity": -1},
        )
        valid_set = lgb.Dataset(Xv, label=yv, reference=train_set)
        with _round_progress(num_boost_round) as rounds:
            booster = lgb.train(
                dict(params),
                train_set,
                num_boost_round=num_boost_round,
                valid_sets=[valid_set],
                valid_names=["valid"],
                callbacks=[
                    *rounds.callbacks,
                    lgb.early_stopping(early_stopping_rounds, verbose=False),
                ],
            )
    except (lgb.basic.LightGBMError, ValueError, TypeError) as err:
        raise TrainingError(f"LightGBM could not train on this data: {err}") from err
    best = booster.best_iteration or booster.current_iteration()
    _report_stop(rounds, best, num_boost_round)
    if best < booster.current_iteration():
        # drop the trees after the best iteration so that model.txt holds only what is used
        booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
        booster.best_iteration = best
    return booster


def fit_lgbm_rounds(
    X: np.ndarray,
    y: np.ndarray,
    *,
    params: Mapping[str, Any],
    feature_names: Sequence[str],
    categorical: Sequence[int] = (),
    num_boost_round: int,
) -> Any:
    """Fit a booster for a fixed number of rounds on every given row (no validation side).

    Used to refit the deployable model on all labelled rows once early stopping on the
    validation side has chosen the tree count.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2)); y = (X[:, 0] > 1).astype(float)
    >>> fit_lgbm_rounds(X, y, params=lgbm_params(0), feature_names=["a", "b"],
    ...                 num_boost_round=7).current_iteration()
    7
    """
    import lightgbm as lgb

    where = "fit_lgbm_rounds"
    Xa, ya = check_xy(X, y, where)
    names, cats = _check_fit_args(params, feature_names, categorical, Xa.shape[1], where)
    try:
        train_set = lgb.Dataset(
            Xa,
            label=ya,
            feature_name=names,
            categorical_feature=cats,
            free_raw_data=True,
            params={"max_bin": params.get("max_bin", 255), "verbosity": -1},
        )
        total = max(1, int(num_boost_round))
        with _round_progress(total) as rounds:
            return lgb.train(
                dict(params), train_set, num_boost_round=total, callbacks=rounds.callbacks or None
            )
    except (lgb.basic.LightGBMError, ValueError, TypeError) as err:
        raise TrainingError(f"LightGBM could not train on this data: {err}") from err


@dataclass(frozen=True)
class SearchResult:
    """Outcome of :func:`random_search`.

    Attributes
    ----------
    best_params : dict
        The full parameter dict of the best trial.
    trials : pandas.DataFrame
        One row per trial: the sampled values, ``valid_logloss``, ``best_iteration``, ``seconds``.
    """

    best_params: dict[str, Any]
    trials: pd.DataFrame


def _logloss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def random_search(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_valid: np.ndarray,
    y_valid: np.ndarray,
    *,
    base_params: Mapping[str, Any],
    feature_names: Sequence[str],
    categorical: Sequence[int] = (),
    n_iter: int = 10,
    budget_seconds: float | None = 600.0,
    seed: int = 0,
    num_boost_round: int = 2000,
    early_stopping_rounds: int = 50,
) -> SearchResult:
    """Try up to ``n_iter`` settings from :data:`SEARCH_SPACE`; keep the best validation log-loss.

    The first trial is always ``base_params`` itself, so the search never does worse than
    the defaults on the validation side.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 3)); y = (X[:, 0] + rng.normal(size=600) > 1.5).astype(float)
    >>> r = random_search(X[:400], y[:400], X[400:], y[400:], base_params=lgbm_params(0),
    ...                   feature_names=["a", "b", "c"], n_iter=3, num_boost_round=30)
    >>> len(r.trials), int(r.trials["best"].sum())
    (3, 1)
    """
    where = "random_search"
    n_iter = check_int(n_iter, "n_iter", where, minimum=1, error=TrainingError)
    if budget_seconds is not None:
        budget_seconds = check_real(
            budget_seconds, "budget_seconds", where, low=0, error=TrainingError
        )
    if not isinstance(base_params, Mapping):
        raise fail(
            "base_params", where, "a mapping (see lgbm_params)", base_params, error=TrainingError
        )
    rng = np.random.default_rng(check_int(seed, "seed", where, minimum=0, error=TrainingError))
    candidates: list[dict[str, Any]] = [{}]
    for _ in range(n_iter - 1):
        candidates.append({k: v[int(rng.integers(len(v)))] for k, v in SEARCH_SPACE.items()})
    start = time.perf_counter()
    rows = []
    best_loss, best_params = float("inf"), dict(base_params)
    trials_seen = track(
        enumerate(candidates),
        "random search",
        total=len(candidates),
        describe=lambda trial: f"setting {trial[0] + 1}",
    )
    for i, sample in trials_seen:
        if i > 0 and budget_seconds is not None and time.perf_counter() - start > budget_seconds:
            break
        params = {**base_params, **sample}
        t0 = time.perf_counter()
        booster = fit_lgbm(
            X_train,
            y_train,
            X_valid,
            y_valid,
            params=params,
            feature_names=feature_names,
            categorical=categorical,
            num_boost_round=num_boost_round,
            early_stopping_rounds=early_stopping_rounds,
        )
        loss = _logloss(y_valid, booster.predict(X_valid))
        rows.append(
            {
                "trial": i,
                **{k: params.get(k) for k in SEARCH_SPACE},
                "valid_logloss": loss,
                "best_iteration": int(booster.best_iteration or booster.current_iteration()),
                "seconds": time.perf_counter() - t0,
            }
        )
        if loss < best_loss:
            best_loss, best_params = loss, params
    trials = pd.DataFrame(rows)
    trials["best"] = trials["valid_logloss"] == best_loss
    return SearchResult(best_params=dict(best_params), trials=trials)
