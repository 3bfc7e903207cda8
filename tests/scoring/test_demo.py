"""The demo scorer is built from the real feature catalog, not a fictional one."""

from __future__ import annotations

import pandas as pd

from riskscore.features import catalog
from riskscore.scoring._demo import FEATURES, demo_catalog, demo_model


def test_demo_features_and_catalog_rows_are_the_real_seller_catalog():
    real = catalog("seller").set_index("name")
    demo = demo_catalog()
    assert demo["name"].tolist() == list(FEATURES) == demo_model().feature_names
    assert set(FEATURES) <= set(real.index)
    pd.testing.assert_frame_equal(demo.set_index("name"), real.loc[list(FEATURES)])


def test_demo_covers_each_fill_rule_the_scorer_tests_rely_on():
    demo = demo_catalog().set_index("name")
    fill = demo["fill"]
    # three may be missing (NaN fill), two never (fill 0), one needs an optional table
    assert fill.isna().sum() == 3 and (fill.dropna() == 0.0).all()
    assert demo.loc["complaints__rate_30d", "needs"] == "complaints"
    assert (demo.drop(index="complaints__rate_30d")["needs"].fillna("") == "").all()
    assert demo["family"].nunique() == 5
