"""The training-input checks name the table, the column, a few keys, the count and the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskscore.exceptions import TrainingError
from riskscore.modeling._checks import check_finite, check_matrix, check_xy


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "entity_id": [f"s{i}" for i in range(6)],
            "a": [1.0, np.inf, 2.0, -np.inf, np.inf, np.inf],
            "b": [0.0, np.nan, 1.0, 2.0, 3.0, 4.0],
            "c": pd.Series(["x", "y", "x", "y", "x", "y"], dtype="category"),
            "d": [1, 2, 3, 4, 5, 6],
        }
    )


def test_nan_categories_and_ints_are_fine(frame: pd.DataFrame) -> None:
    check_finite(frame, ["b", "c", "d", "not_a_column"])


def test_infinite_values_are_named_with_keys_count_and_fix(frame: pd.DataFrame) -> None:
    with pytest.raises(TrainingError) as info:
        check_finite(frame, ["a", "b"], table="seller training set", id_col="entity_id")
    message = str(info.value)
    assert message.startswith("seller training set: column 'a' has 4 infinite value(s)")
    assert "(entity_id s1, s3, s4, ...)" in message  # three examples, then the rest elided
    assert "'b'" not in message
    assert "replace inf with NaN" in message


def test_every_offending_column_is_reported_at_once(frame: pd.DataFrame) -> None:
    frame["b"] = [np.inf, 0, 0, 0, 0, 0]
    with pytest.raises(TrainingError, match=r"column 'a' has 4 .*; column 'b' has 1 .*\(rows 0\)"):
        check_finite(frame, ["a", "b"])  # without id_col the index labels are the keys


def test_a_nullable_float_column_with_missing_values(frame: pd.DataFrame) -> None:
    frame["e"] = pd.array([1.0, None, np.inf, 0.0, 0.0, 0.0], dtype="Float64")
    with pytest.raises(TrainingError, match=r"column 'e' has 1 infinite value\(s\) \(rows 2\)"):
        check_finite(frame, ["e"])


def test_check_finite_refuses_a_non_frame() -> None:
    with pytest.raises(TrainingError, match=r"'frame' parameter of check_finite"):
        check_finite(np.zeros((2, 2)), ["a"])  # type: ignore[arg-type]


def test_check_matrix_and_xy() -> None:
    assert check_matrix([[1.0, np.inf]], "X", "f").shape == (1, 2)
    with pytest.raises(TrainingError, match=r"holds 1 infinite value\(s\) \(in column position"):
        check_matrix([[1.0, np.inf]], "X", "f", allow_inf=False)
    with pytest.raises(TrainingError, match=r"must have 3 column\(s\), one per feature name"):
        check_matrix([[1.0, 2.0]], "X", "f", n_features=3)
    with pytest.raises(TrainingError, match=r"'y' parameter of f must hold only 0 and 1"):
        check_xy([[1.0], [2.0]], [0, np.nan], "f")
    with pytest.raises(TrainingError, match=r"needs at least 1 row"):
        check_xy(np.zeros((0, 2)), [], "f")
