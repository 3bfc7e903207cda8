"""Argument checks shared by the public functions, raising riskscore's own errors.

Each check names the parameter and the function (``where``), says what was expected and
what came, in the style of :mod:`riskscore.schema` and scikit-learn::

    The 'k' parameter of precision_at_k must be an int >= 1. Got 0 instead.

The error class is chosen by the caller (``error=MetricsError``, ``TrainingError``, ...),
so each layer raises the subclass a user of that layer catches. Only numpy and the
exceptions module are imported here: this module sits in the base layer.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence, Sized
from typing import Any

import numpy as np

from riskscore.exceptions import ParameterError, RiskscoreError

__all__ = [
    "as_float_array",
    "as_labels",
    "check_columns",
    "check_frame",
    "check_int",
    "check_option",
    "check_real",
    "check_same_length",
    "fail",
]

ErrorType = type[RiskscoreError]


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = repr(value)
    except Exception:  # an object whose __repr__ fails
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def fail(
    name: str,
    where: str,
    expected: str,
    got: Any,
    *,
    fix: str = "",
    error: ErrorType = ParameterError,
) -> RiskscoreError:
    """Build (not raise) the error for parameter ``name`` of ``where``.

    Examples
    --------
    >>> str(fail("k", "precision_at_k", "an int >= 1", 0))
    "The 'k' parameter of precision_at_k must be an int >= 1. Got 0 instead."
    """
    message = f"The '{name}' parameter of {where} must be {expected}. Got {_short(got)} instead."
    return error(f"{message} {fix}".strip())


def check_int(
    value: Any,
    name: str,
    where: str,
    *,
    minimum: int | None = None,
    error: ErrorType = ParameterError,
) -> int:
    """Return ``value`` as an int; raise unless it is an integer (not a bool) ``>= minimum``.

    Integral floats (``10.0``) are accepted, as a count read from a config file often is.

    Examples
    --------
    >>> check_int(3.0, "k", "f", minimum=1)
    3
    >>> check_int(0, "k", "f", minimum=1)
    Traceback (most recent call last):
    ...
    riskscore.exceptions.ParameterError: The 'k' parameter of f must be an int >= 1. Got 0 instead.
    """
    expected = "an int" if minimum is None else f"an int >= {minimum}"
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)
    if not ok and isinstance(value, float | np.floating) and math.isfinite(value):
        ok = float(value).is_integer()
    if not ok or (minimum is not None and int(value) < minimum):
        raise fail(name, where, expected, value, error=error)
    return int(value)


def check_real(
    value: Any,
    name: str,
    where: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    error: ErrorType = ParameterError,
) -> float:
    """Return ``value`` as a float; raise unless it is a finite real number in the range.

    Examples
    --------
    >>> check_real(0.5, "level", "f", low=0, high=1, low_open=True, high_open=True)
    0.5
    >>> check_real(float("nan"), "level", "f", low=0, high=1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.exceptions.ParameterError: The 'level' parameter of f must be a number in [0...
    """
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    if math.isinf(low) and math.isinf(high):
        expected = "a finite number"
    elif math.isinf(high):
        expected = f"a number {'>' if low_open else '>='} {low:g}"
    elif math.isinf(low):
        expected = f"a number {'<' if high_open else '<='} {high:g}"
    else:
        expected = f"a number in {lo}{low:g}, {high:g}{hi}"
    if not isinstance(value, numbers.Real) or isinstance(value, bool | np.bool_):
        raise fail(name, where, expected, value, error=error)
    v = float(value)
    if (
        not math.isfinite(v)
        or v < low
        or v > high
        or (low_open and v == low)
        or (high_open and v == high)
    ):
        raise fail(name, where, expected, value, error=error)
    return v


def check_option(
    value: Any, name: str, where: str, options: Iterable[Any], *, error: ErrorType = ParameterError
) -> Any:
    """Return ``value`` when it is one of ``options``, else raise naming them.

    Examples
    --------
    >>> check_option("csv", "fmt", "write_tables", ("parquet", "csv"))
    'csv'
    """
    allowed = list(options)
    try:
        known = value in allowed
    except (TypeError, ValueError):  # an uncomparable value (a DataFrame, an array)
        known = False
    if not known:
        raise fail(name, where, f"one of {allowed}", value, error=error)
    return value


def as_float_array(
    values: Any,
    name: str,
    where: str,
    *,
    allow_nan: bool = False,
    allow_inf: bool = True,
    flatten: bool = True,
    error: ErrorType = ParameterError,
) -> np.ndarray:
    """Return ``values`` as a float64 array; raise when it is not numbers or not finite.

    The array is flat unless ``flatten=False`` (then a scalar stays 0-d, a 2-D array 2-D).

    Examples
    --------
    >>> as_float_array([1, 2.5], "y_score", "roc_auc").tolist()
    [1.0, 2.5]
    >>> as_float_array(["a"], "y_score", "roc_auc")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.exceptions.ParameterError: The 'y_score' parameter of roc_auc must be an arr...
    """
    if values is None or isinstance(values, str | bytes | dict):
        raise fail(name, where, "an array of numbers", values, error=error)
    try:
        out = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise fail(name, where, "an array of numbers", values, error=error) from None
    if flatten:
        out = out.ravel()
    bad = np.zeros(out.shape, dtype=bool)
    if not allow_nan:
        bad |= np.isnan(out)
    if not allow_inf:
        bad |= np.isinf(out)
    if bad.any():
        what = "finite numbers" if not allow_inf else "numbers without NaN"
        first = np.flatnonzero(bad.ravel())[:3].tolist()
        raise error(
            f"The '{name}' parameter of {where} must hold {what}. Got {int(bad.sum())} "
            f"bad value(s) of {out.size} (first at positions {first}); drop or fill them."
        )
    return out


def as_labels(
    values: Any, name: str, where: str, *, error: ErrorType = ParameterError
) -> np.ndarray:
    """Return 0/1 outcomes as a flat float64 array; raise on anything but 0/1/False/True.

    Examples
    --------
    >>> as_labels([True, 0], "y_true", "roc_auc").tolist()
    [1.0, 0.0]
    >>> as_labels([0, 2, 2], "y_true", "roc_auc")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.exceptions.ParameterError: The 'y_true' parameter of roc_auc must hold only...
    """
    y = as_float_array(values, name, where, allow_nan=True, error=error)
    other = ~np.isin(y, (0.0, 1.0))
    if other.any():
        examples = sorted({float(v) for v in y[other][:50]}, key=str)[:3]
        raise error(
            f"The '{name}' parameter of {where} must hold only 0 and 1 (or False/True). "
            f"Got {int(other.sum())} other value(s), e.g. {examples}."
        )
    return y


def check_same_length(where: str, error: ErrorType = ParameterError, **arrays: Sized) -> int:
    """Return the common length of ``arrays``; raise naming every length when they differ.

    Examples
    --------
    >>> check_same_length("f", y_true=[0, 1], y_score=[0.1])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.exceptions.ParameterError: The arrays passed to f must have the same length....
    """
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        got = ", ".join(f"{k}: {n}" for k, n in lengths.items())
        raise error(f"The arrays passed to {where} must have the same length. Got {got}.")
    return next(iter(lengths.values()), 0)


def check_frame(frame: Any, name: str, where: str, *, error: ErrorType = ParameterError) -> None:
    """Raise unless ``frame`` is a pandas DataFrame.

    Examples
    --------
    >>> check_frame(None, "table", "train")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.exceptions.ParameterError: The 'table' parameter of train must be a pandas D...
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise fail(name, where, "a pandas DataFrame", frame, error=error)


def check_columns(
    frame: Any,
    columns: Sequence[str],
    where: str,
    *,
    table: str = "table",
    error: ErrorType = ParameterError,
) -> None:
    """Raise unless ``frame`` is a DataFrame holding every one of ``columns``.

    Examples
    --------
    >>> import pandas as pd
    >>> check_columns(pd.DataFrame({"a": [1]}), ["a", "b"], "time_split")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.exceptions.ParameterError: time_split: column(s) ['b'] are not in the table;...
    """
    check_frame(frame, table, where, error=error)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise error(
            f"{where}: column(s) {missing} are not in the {table}; its columns are "
            f"{list(frame.columns)[:20]}. Pass the right column names (id_col, time_col, "
            "label_col)."
        )
