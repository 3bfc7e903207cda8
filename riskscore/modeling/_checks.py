"""Checks of the arrays and tables that modeling trains on, raising :class:`TrainingError`.

Training calls scikit-learn and LightGBM, whose own errors on bad input
(``ValueError: Input X contains infinity``, ``LightGBMError: Length of labels differs``)
name neither the table, the column nor the fix. These checks run first and say all
three:

* :func:`check_finite` — no infinite value in the feature columns of a table (NaN is a
  missing value, which both models handle; ``inf`` is not).
* :func:`check_matrix` / :func:`check_xy` — a 2-D numeric feature matrix, 0/1 labels of
  the same length, and feature names / categorical positions that fit the matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from riskscore._validation import as_labels, check_same_length, fail
from riskscore.exceptions import TrainingError

__all__ = ["check_finite", "check_matrix", "check_xy"]

#: Offending keys shown per column (the count is always given).
N_EXAMPLES = 3


def check_finite(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    table: str = "training table",
    id_col: str | None = None,
) -> None:
    """Raise :class:`TrainingError` when a numeric column of ``columns`` holds ``inf``.

    Every offending column is reported at once, each with its count and a few example
    keys (the ``id_col`` value of the row, else its index label), followed by the fix.
    Missing values (NaN) are allowed: the models treat them as missing. Non-numeric
    columns (categories, text) are skipped.

    Parameters
    ----------
    frame : pandas.DataFrame
    columns : sequence of str
        The feature columns to check; a column not in ``frame`` is skipped (the column
        check of the caller reports it).
    table : str, default "training table"
        Name of the table in the message.
    id_col : str, optional
        Column whose values identify a row in the message (e.g. ``"entity_id"``).

    Raises
    ------
    TrainingError
        When any checked column holds ``inf`` or ``-inf``.

    Examples
    --------
    >>> t = pd.DataFrame({"entity_id": ["s1", "s2", "s3"], "x": [1.0, np.inf, -np.inf],
    ...                   "y": [0.0, np.nan, 2.0]})
    >>> check_finite(t, ["y"])            # NaN is a missing value, not an error
    >>> check_finite(t, ["x", "y"], id_col="entity_id")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.exceptions.TrainingError: training table: column 'x' has 2 infinite value(s) (...
    """
    if not isinstance(frame, pd.DataFrame):
        raise fail("frame", "check_finite", "a pandas DataFrame", frame, error=TrainingError)
    problems: list[str] = []
    for col in columns:
        if col not in frame.columns:
            continue
        values = frame[col]
        if not (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)):
            continue
        with np.errstate(invalid="ignore"):
            mask = np.isinf(values.to_numpy(dtype=np.float64, na_value=np.nan))
        n_bad = int(mask.sum())
        if not n_bad:
            continue
        if id_col is not None and id_col in frame.columns:
            keys = frame[id_col].to_numpy()[mask][:N_EXAMPLES]
            where = f"{id_col} " + ", ".join(str(k) for k in keys)
        else:
            where = "rows " + ", ".join(str(k) for k in frame.index[mask][:N_EXAMPLES])
        more = ", ..." if n_bad > N_EXAMPLES else ""
        problems.append(f"column '{col}' has {n_bad} infinite value(s) ({where}{more})")
    if problems:
        raise TrainingError(
            f"{table}: "
            + "; ".join(problems)
            + ". Features must be finite numbers or missing (NaN): replace inf with NaN "
            "(frame.replace([np.inf, -np.inf], np.nan)) or fix the feature that divides by "
            "zero, or leave the column out of feature_cols"
        )


def check_matrix(
    X: Any, name: str, where: str, *, allow_inf: bool = True, n_features: int | None = None
) -> np.ndarray:
    """Return ``X`` as a 2-D float64 array; :class:`TrainingError` when it is not one.

    NaN is allowed (a missing value); ``inf`` only when ``allow_inf``.

    Examples
    --------
    >>> check_matrix([[1.0, np.nan]], "X", "fit_baseline").shape
    (1, 2)
    >>> check_matrix([1.0, 2.0], "X", "fit_baseline")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.exceptions.TrainingError: The 'X' parameter of fit_baseline must be a 2-D arra...
    """
    expected = "a 2-D array of numbers (rows x features)"
    if X is None or isinstance(X, str | bytes | dict):
        raise fail(name, where, expected, X, error=TrainingError)
    try:
        out = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise fail(name, where, expected, X, error=TrainingError) from None
    if out.ndim != 2:
        raise TrainingError(
            f"The '{name}' parameter of {where} must be {expected}. Got shape {out.shape} instead."
        )
    if n_features is not None and out.shape[1] != n_features:
        raise TrainingError(
            f"The '{name}' parameter of {where} must have {n_features} column(s), one per "
            f"feature name. Got {out.shape[1]} instead."
        )
    if not allow_inf:
        bad = np.isinf(out)
        if bad.any():
            cols = sorted(set(np.nonzero(bad)[1].tolist()))[:N_EXAMPLES]
            raise TrainingError(
                f"The '{name}' parameter of {where} holds {int(bad.sum())} infinite value(s) "
                f"(in column position(s) {cols}); replace them with NaN (missing) or fix the "
                "feature"
            )
    return out


def check_xy(
    X: Any,
    y: Any,
    where: str,
    *,
    x_name: str = "X",
    y_name: str = "y",
    allow_inf: bool = True,
    n_features: int | None = None,
    min_rows: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Check a feature matrix and its 0/1 labels together (shape, values, lengths).

    Examples
    --------
    >>> X, y = check_xy([[0.0], [1.0]], [0, 1], "fit_lgbm")
    >>> X.shape, y.tolist()
    ((2, 1), [0.0, 1.0])
    >>> check_xy([[0.0], [1.0]], [0], "fit_lgbm")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.exceptions.TrainingError: The arrays passed to fit_lgbm must have the same len...
    """
    Xa = check_matrix(X, x_name, where, allow_inf=allow_inf, n_features=n_features)
    ya = as_labels(y, y_name, where, error=TrainingError)
    check_same_length(where, TrainingError, **{x_name: Xa, y_name: ya})
    if len(ya) < min_rows:
        raise TrainingError(
            f"{where} needs at least {min_rows} row(s) in '{x_name}'. Got {len(ya)}; widen the "
            "window or add entities"
        )
    return Xa, ya
