"""The logistic-regression baseline reported beside every LightGBM model.

Numeric features are imputed with the training median (plus a missing-value indicator)
and standardised; categorical features (given as category codes, NaN when missing) are
one-hot encoded. The regression is L2-regularised (``C=1``) and, like the main model,
unweighted unless ``class_weight`` is given. It is trained on the same ``train`` side and
evaluated on the same ``test`` side, so the gain of the main model is visible.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from riskscore._validation import check_int, fail
from riskscore.exceptions import TrainingError
from riskscore.modeling._checks import check_xy

__all__ = ["fit_baseline"]


def fit_baseline(
    X: np.ndarray,
    y: np.ndarray,
    *,
    categorical: Sequence[int] = (),
    class_weight: str | float | None = None,
    seed: int = 0,
    max_iter: int = 1000,
) -> Any:
    """Fit the baseline pipeline on the training side.

    Parameters
    ----------
    X : numpy.ndarray
        Encoded features (as the main model sees them).
    y : numpy.ndarray of {0, 1}
    categorical : sequence of int
        Column positions of categorical features (category codes).
    class_weight : {"balanced"} or float, optional
        As for the main model; a float weighs positives by that factor.
    seed : int, default 0
    max_iter : int, default 1000

    Returns
    -------
    sklearn.pipeline.Pipeline
        With ``predict_proba``.

    Raises
    ------
    TrainingError
        When ``X`` is not a 2-D numeric array, holds ``inf``, ``y`` is not 0/1 of the same
        length or holds one class only, or an option is out of range.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2)); X[::7, 1] = np.nan
    >>> y = (X[:, 0] > 1).astype(int)
    >>> base = fit_baseline(X, y)
    >>> base.predict_proba(X[:2]).shape
    (2, 2)
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    where = "fit_baseline"
    X, y = check_xy(X, y, where, allow_inf=False)
    if y.min() == y.max():
        raise TrainingError(
            f"{where} needs both classes in y; got {y.size} row(s) of class {int(y[0])} only. "
            "Widen the training window or add labelled entities"
        )
    cats_in = list(categorical)
    if not all(isinstance(i, numbers.Integral) and 0 <= int(i) < X.shape[1] for i in cats_in):
        raise fail(
            "categorical",
            where,
            f"column positions in [0, {X.shape[1] - 1}]",
            categorical,
            error=TrainingError,
        )
    max_iter = check_int(max_iter, "max_iter", where, minimum=1, error=TrainingError)
    seed = check_int(seed, "seed", where, minimum=0, error=TrainingError)
    ok_weight = class_weight is None or (
        isinstance(class_weight, str) and class_weight == "balanced"
    )
    ok_weight = ok_weight or (
        isinstance(class_weight, numbers.Real)
        and not isinstance(class_weight, bool)
        and bool(np.isfinite(class_weight))
        and class_weight > 0
    )
    if not ok_weight:
        raise fail(
            "class_weight",
            where,
            "None, 'balanced' or a positive number",
            class_weight,
            error=TrainingError,
        )
    cats = sorted(set(int(i) for i in cats_in))
    nums = [i for i in range(X.shape[1]) if i not in cats]
    transformers: list[tuple[str, Any, list[int]]] = []
    if nums:
        transformers.append(
            (
                "numeric",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    StandardScaler(),
                ),
                nums,
            )
        )
    if cats:
        transformers.append(
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=-1.0, keep_empty_features=True),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                cats,
            )
        )
    weight: Any = None
    if class_weight == "balanced":
        weight = "balanced"
    elif class_weight is not None:
        weight = {0: 1.0, 1: float(class_weight)}  # type: ignore[arg-type]
    model = make_pipeline(
        ColumnTransformer(transformers),
        LogisticRegression(C=1.0, max_iter=max_iter, class_weight=weight, random_state=seed),
    )
    model.fit(X, y)
    return model
