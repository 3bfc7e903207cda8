"""Fixtures of the rules tests: the example rule set applied to a simulated marketplace.

``example_frame`` is what a risk team hands to ``decide_many``: every seller feature of
a 300-seller simulated marketplace (seed 0) as of :data:`AS_OF`, the declared column
``main_category`` (the category with most of the seller's listings before the cutoff)
and the scores of a small model trained on the simulator's ground truth (the scoring
tests' ``train_small_model``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.scoring.conftest import train_small_model

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "rules" / "marketplace.yaml"
AS_OF = "2024-07-01"


def main_category(listings: pd.DataFrame, as_of: str) -> pd.Series:
    """The category with most of each seller's listings created before ``as_of``."""
    before = listings.loc[listings["created_at"] < pd.Timestamp(as_of)]
    counts = before.groupby(["seller_id", "category"]).size().rename("n").reset_index()
    counts = counts.sort_values(["seller_id", "n", "category"], ascending=[True, False, True])
    return counts.drop_duplicates("seller_id").set_index("seller_id")["category"]


@pytest.fixture(scope="session")
def marketplace() -> dict[str, pd.DataFrame]:
    """300 simulated sellers (seed 0), contract tables plus ``truth``."""
    from riskscore.datasets import make_marketplace

    return make_marketplace(n_sellers=300, seed=0)


@pytest.fixture(scope="session")
def features(marketplace) -> pd.DataFrame:
    """Every seller feature as of :data:`AS_OF`, with a ``seller_id`` column."""
    from riskscore.features import build_features

    tables = {k: v for k, v in marketplace.items() if k != "truth"}
    return build_features(tables, "seller", as_of=AS_OF).reset_index()


@pytest.fixture(scope="session")
def model(marketplace, features):
    """A small RiskModel on every seller feature (40 trees of 7 leaves)."""
    return train_small_model(features, marketplace["truth"])


@pytest.fixture(scope="session")
def example_frame(marketplace, features, model) -> pd.DataFrame:
    """Features, ``main_category`` and model scores of every seller as of :data:`AS_OF`."""
    from riskscore.scoring import Scorer

    tables = {k: v for k, v in marketplace.items() if k != "truth"}
    scores = Scorer(model).score_many(features, explain="all")
    frame = features.merge(scores, on="seller_id", how="inner", validate="one_to_one")
    frame["main_category"] = frame["seller_id"].map(main_category(tables["listings"], AS_OF))
    return frame
