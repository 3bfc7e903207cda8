"""The logistic-regression baseline reported beside every LightGBM model.

Numeric features are imputed with the training median (plus a missing-value indicator)
and standardised; categorical features (given as category codes, NaN when missing) are
one-hot encoded. The regression is L2-regularised (``C=1``) and, like the main model,
unweighted unless ``class_weight`` is given. It is trained on the same ``train`` side and
evaluated on the same ``test`` side, so the gain of the main model is visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

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

    cats = sorted(set(int(i) for i in categorical))
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
        weight = {0: 1.0, 1: float(class_weight)}
    model = make_pipeline(
        ColumnTransformer(transformers),
        LogisticRegression(C=1.0, max_iter=max_iter, class_weight=weight, random_state=seed),
    )
    model.fit(X, y)
    return model
