"""The marketplace recipe takes cutoffs in any sequence form a user holds."""

from __future__ import annotations

import pandas as pd

from riskscore.datasets import make_marketplace
from riskscore.modeling import marketplace_training_set


def test_cutoffs_as_a_datetime_index_equal_cutoffs_as_a_list() -> None:
    # a DatetimeIndex (what pd.date_range returns) once raised pandas' "truth value of a
    # DatetimeIndex is ambiguous" before any work
    tables = make_marketplace(n_sellers=150, seed=1)
    index = pd.date_range("2024-03-01", periods=2, freq="MS")
    from_index = marketplace_training_set(tables, "seller", "fraud", cutoffs=index)
    from_list = marketplace_training_set(tables, "seller", "fraud", cutoffs=list(index))
    assert sorted(from_index["cutoff"].unique()) == list(index)
    pd.testing.assert_frame_equal(from_index, from_list)
