"""The one feature encoder: training and scoring read inputs with the same code."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from riskscore.exceptions import ScoringError
from riskscore.modeling._encoding import FeatureLayout, column_diff, encode_frame, encode_record

CATALOG = pd.DataFrame(
    {
        "name": ["price", "orders", "links"],
        "fill": [math.nan, 0.0, 3.0],
        "needs": ["", "", "labels"],  # links needs an optional table: filled with 3.0
    }
)
NAMES = ["orders", "price", "links", "region"]
LEVELS = {"region": ["eu", "us"]}


def _layout() -> FeatureLayout:
    return FeatureLayout.from_catalog(NAMES, CATALOG, "seller_id", LEVELS)


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["us", None, "mars"],
            "seller_id": ["S0", "S1", "S2"],
            "price": [0.5, np.nan, 2.0],
            "orders": [1, 2, 3],  # int: cast to float64
            "links": [0.0, 1.0, 2.0],
        }
    )


def test_layout_from_catalog_reads_fill_needs_and_levels():
    layout = _layout()
    assert layout.names == ("orders", "price", "links", "region")
    # NaN allowed where the fill is NaN, in categorical features and for unknown features
    assert layout.nan_ok == (False, True, False, True)
    assert layout.optional_fill == {"links": 3.0}
    assert layout.categories == {"region": ("eu", "us")}


def test_frame_and_record_paths_agree_and_encode_levels():
    layout = _layout()
    frame = _frame()
    matrix = layout.matrix_from_frame(frame)
    expected = [[1.0, 0.5, 0.0, 1.0], [2.0, math.nan, 1.0, math.nan], [3.0, 2.0, 2.0, math.nan]]
    np.testing.assert_array_equal(matrix, np.array(expected))
    for i, record in enumerate(frame.to_dict("records")):
        np.testing.assert_array_equal(layout.encode_record(record), matrix[i : i + 1])
    # the plain functions (what training calls) give the same numbers
    np.testing.assert_array_equal(encode_frame(frame, NAMES, LEVELS), matrix)
    record = frame.iloc[0].to_dict()
    np.testing.assert_array_equal(encode_record(record, NAMES, LEVELS), matrix[:1])


def test_optional_feature_takes_the_catalog_fill_in_both_paths():
    layout = _layout()
    frame = _frame().drop(columns="links")
    np.testing.assert_array_equal(layout.matrix_from_frame(frame)[:, 2], [3.0, 3.0, 3.0])
    assert layout.encode_record(frame.iloc[0].to_dict())[0, 2] == 3.0
    # a required feature is not filled: the error names it, with a diff
    with pytest.raises(ScoringError, match=r"(?s)missing 1 feature column\(s\).*: orders.*-orders"):
        layout.matrix_from_frame(_frame().drop(columns="orders"))
    with pytest.raises(ScoringError, match=r"record is missing 1 feature\(s\).*: orders"):
        layout.encode_record({"price": 1.0, "region": "eu"})


def test_invalid_values_are_reported_with_ids_but_pass_the_plain_encoder():
    layout = _layout()
    frame = _frame().astype({"orders": "float64"})
    frame.loc[1, "orders"] = np.inf
    frame.loc[2, "orders"] = np.nan  # fill 0.0: never missing
    matrix = layout.matrix_from_frame(frame)
    assert layout.invalid_rows(matrix).tolist() == [False, True, True]
    with pytest.raises(
        ScoringError,
        match=r"2 row\(s\) have invalid feature values, 2 row\(s\), e.g. seller_id S1, S2; "
        r"first: invalid value: 'orders' is inf",
    ):
        layout.raise_for_values(matrix, frame)
    assert layout.problems(matrix)[2].startswith("invalid value: 'orders' is missing (NaN)")
    record = frame.iloc[1].to_dict()
    with pytest.raises(
        ScoringError, match=r"record seller_id='S1': invalid value: 'orders' is inf"
    ):
        layout.row_from_record(record)
    assert layout.encode_record(record)[0, 0] == np.inf  # unchecked: what to_matrix returns


def test_text_and_huge_numbers_are_refused_in_both_paths():
    layout = _layout()
    record = {"seller_id": "S1", "orders": "3", "price": 1.0, "links": 0.0, "region": "eu"}
    with pytest.raises(
        ScoringError, match=r"feature 'orders' is str '3'; it must be a number \(None for missing\)"
    ):
        layout.encode_record(record)
    with pytest.raises(ScoringError, match=r"feature 'orders' is 1000.*beyond the float64 range"):
        layout.encode_record({**record, "orders": 10**400})
    frame = _frame().astype({"orders": "str"})
    with pytest.raises(ScoringError, match=r"feature column 'orders' holds str values, e.g. '1'"):
        layout.matrix_from_frame(frame)


def test_column_diff_shows_only_the_differences_and_is_capped():
    text = column_diff(["b", "a", "c"], ["c", "a", "d"])
    assert text.splitlines() == ["--- expected (model)", "+++ received (input)", "-b", "+d"]
    assert column_diff(["a"], ["a"]).splitlines() == [
        "--- expected (model)",
        "+++ received (input)",
    ]
    long = column_diff([f"f{i:03d}" for i in range(100)], [], labels=("champion", "candidate"))
    lines = long.splitlines()
    assert lines[:3] == ["--- champion", "+++ candidate", "-f000"]
    assert len(lines) == 41 and lines[-1] == "... (62 more diff lines)"


def test_old_import_paths_are_the_one_implementation():
    from riskscore import modeling
    from riskscore.modeling import _encoding, _model
    from riskscore.scoring import _checks

    assert modeling.column_diff is _checks.column_diff is _encoding.column_diff
    assert _checks.FeatureLayout is _encoding.FeatureLayout
    assert _model.encode_frame is _encoding.encode_frame
    assert _model.encode_record is _encoding.encode_record


def test_risk_model_and_scorer_encode_with_the_same_layout():
    from riskscore.scoring import Scorer
    from riskscore.scoring._demo import demo_model

    model = demo_model()
    scorer = Scorer(model)
    a, b = model.layout, scorer.layout
    assert (a.names, a.nan_ok, a.id_col, a.categories) == (
        b.names,
        b.nan_ok,
        b.id_col,
        b.categories,
    )
    assert list(a.optional_fill) == list(b.optional_fill) == ["complaints__rate_30d"]
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(6, 5)), columns=model.feature_names)
    frame.insert(0, "seller_id", [f"S{i}" for i in range(6)])
    np.testing.assert_array_equal(model.to_matrix(frame), scorer.layout.matrix_from_frame(frame))
    # RiskModel.to_matrix fills the optional feature from the catalog, as the scorer does
    dropped = frame.drop(columns="complaints__rate_30d")
    j = model.feature_names.index("complaints__rate_30d")
    assert np.isnan(model.to_matrix(dropped)[:, j]).all()
    record = frame.iloc[0].to_dict()
    np.testing.assert_array_equal(model.to_matrix(record), scorer.layout.row_from_record(record))
    # the layout is rebuilt when the model's features are replaced
    other = demo_model(n_trees=5)
    assert other.layout is other.layout
    before = other.layout
    other.catalog = None
    assert other.layout is not before and other.layout.optional_fill == {}


@pytest.mark.parametrize(
    ("expected", "received", "name"),
    [(None, ["a"], "expected"), (["a"], None, "received"), (["a"], "abc", "received")],
)
def test_column_diff_refuses_what_is_not_a_list_of_names(expected, received, name) -> None:
    from riskscore.exceptions import ParameterError

    with pytest.raises(ParameterError, match=f"'{name}' parameter of column_diff"):
        column_diff(expected, received)


def test_column_diff_takes_any_iterable_of_names() -> None:
    assert column_diff(pd.Index(["a", "b"]), {"b", "c"}).splitlines()[2:] == ["-a", "+c"]
