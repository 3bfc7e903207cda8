"""Fixtures of the rules tests: the example rule set applied to a simulated marketplace.

``example_frame`` is what a risk team hands to ``decide_many``: every seller feature of
a 300-seller simulated marketplace (seed 0) as of :data:`AS_OF`, the declared column
``main_category`` (the category with most of the seller's listings before the cutoff)
and the scores of a small model trained on the simulator's ground truth (the scoring
tests' ``train_small_model``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "rules" / "marketplace.yaml"
AS_OF = "2024-07-01"


def main_category(listings: pd.DataFrame, as_of: str) -> pd.Series:
    """The category with most of each seller's listings created before ``as_of``."""
    before = listings.loc[listings["created_at"] < pd.Timestamp(as_of)]
    counts = before.groupby(["seller_id", "category"]).size().rename("n").reset_index()
    counts = counts.sort_values(["seller_id", "n", "category"], ascending=[True, False, True])
    return counts.drop_duplicates("seller_id").set_index("seller_id")["category"]


def _train_small_model():
    spec = importlib.util.spec_from_file_location(
        "_scoring_conftest", ROOT / "tests" / "scoring" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.train_small_model


@pytest.fixture(scope="session")
def marketplace() -> dict[str, pd.DataFrame]:
    """300 simulated sellers (seed 0), contract tables plus ``truth``."""
    from riskscore.datasets import make_marketplace

    return make_marketplace(n_sellers=300, seed=0)


@pytest.fixture(scope="session")
def example_frame(marketplace) -> pd.DataFrame:
    """Features, ``main_category`` and model scores of every seller as of :data:`AS_OF`."""
    from riskscore.features import build_features
    from riskscore.scoring import Scorer

    tables = {k: v for k, v in marketplace.items() if k != "truth"}
    features = build_features(tables, "seller", as_of=AS_OF).reset_index()
    model = _train_small_model()(features, marketplace["truth"])
    scores = Scorer(model).score_many(features, explain="all")
    frame = features.merge(scores, on="seller_id", how="inner", validate="one_to_one")
    frame["main_category"] = frame["seller_id"].map(main_category(tables["listings"], AS_OF))
    return frame
