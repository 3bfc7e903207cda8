"""Fixtures of the scoring tests: small trained models, a marketplace on disk, scorers.

``scorer`` wraps the five-feature demo model (fast, for contract tests). ``seller_model``
is a real :class:`~riskscore.modeling.RiskModel` on every seller feature of the catalog,
trained in about a second on a 300-seller simulated marketplace (features as of
2024-06-30, labels from the simulator's ground truth), and saved to ``model_dir``;
``data_dir`` holds that marketplace as Parquet tables.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskscore.scoring import Scorer
from riskscore.scoring._demo import demo_model

#: A fixed scored_at, so outputs of different calls compare equal.
SCORED_AT = "2024-07-01T08:00:00"

#: The as_of of the marketplace fixtures.
AS_OF = "2024-06-30"


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    """A scorer of the five-feature demo seller model (20 trees, bands low..critical)."""
    return Scorer(demo_model())


@pytest.fixture(scope="session")
def marketplace() -> dict[str, pd.DataFrame]:
    """300 simulated sellers (seed 3), contract tables plus ``truth``."""
    from riskscore.datasets import make_marketplace

    return make_marketplace(n_sellers=300, seed=3)


@pytest.fixture(scope="session")
def seller_features(marketplace) -> pd.DataFrame:
    """Every seller feature as of :data:`AS_OF`, with a ``seller_id`` column."""
    from riskscore.features import build_features

    tables = {k: v for k, v in marketplace.items() if k != "truth"}
    return build_features(tables, "seller", as_of=AS_OF).reset_index()


def train_small_model(
    features: pd.DataFrame, truth: pd.DataFrame, *, seed: int = 0, entity: str = "seller"
):
    """Return a RiskModel trained on ``features`` with the simulator's ground truth.

    ``features`` has a ``<entity>_id`` column; ``truth`` is indexed the same way (one row
    per entity with ``is_counterfeit`` and ``is_fraud``) in a ``<entity>_id`` column.
    """
    import lightgbm as lgb

    from riskscore.features import catalog
    from riskscore.modeling import Bands, RiskModel, RiskScale, fit_calibrator

    key = f"{entity}_id"
    bad = truth.set_index(key)[["is_counterfeit", "is_fraud"]].any(axis=1)
    y = bad.reindex(features[key]).fillna(False).to_numpy(dtype=int)
    names = [c for c in features.columns if c != key]
    X = features[names].to_numpy(dtype=np.float64)
    params = {
        "objective": "binary",
        "num_leaves": 7,
        "learning_rate": 0.1,
        "min_data_in_leaf": 5,
        "seed": seed,
        "deterministic": True,
        "num_threads": 1,
        "verbose": -1,
    }
    booster = lgb.train(params, lgb.Dataset(X, y, feature_name=names), 40)
    raw = booster.predict(X, raw_score=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calibrator = fit_calibrator(raw, y, "platt")
    scale = RiskScale.fit(raw[y == 0])
    risk = scale.transform(raw)
    # a cut just above a quantile: rows tied at it (many, with 40 small trees) stay below
    cuts = (np.floor(np.quantile(risk, [0.6, 0.8, 0.93])) + 1).astype(int).tolist()
    snapshot = catalog(entity)
    return RiskModel(
        booster,
        feature_names=names,
        calibrator=calibrator,
        scale=scale,
        bands=Bands({"medium": cuts[0], "high": cuts[1], "critical": cuts[2]}),
        metadata={"entity": entity, "target": "fraud"},
        catalog=snapshot.loc[snapshot["name"].isin(names)].reset_index(drop=True),
    )


@pytest.fixture(scope="session")
def seller_model(marketplace, seller_features):
    """A real RiskModel on every seller feature (40 trees of 7 leaves)."""
    return train_small_model(seller_features, marketplace["truth"])


@pytest.fixture(scope="session")
def model_dir(seller_model, tmp_path_factory) -> Path:
    """``seller_model`` saved as a local model folder."""
    return seller_model.save(tmp_path_factory.mktemp("model") / "seller-fraud")


@pytest.fixture(scope="session")
def data_dir(marketplace, tmp_path_factory) -> Path:
    """The marketplace's contract tables as Parquet files."""
    from riskscore.io import write_tables

    tables = {k: v for k, v in marketplace.items() if k != "truth"}
    return write_tables(tables, tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def seller_scorer(seller_model) -> Scorer:
    """A scorer of ``seller_model``."""
    return Scorer(seller_model)


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """A TrainResult of the real pipeline on a simulated marketplace (seller, fraud-or-fake).

    600 sellers with every enforcement outcome labelled, monthly cutoffs February to
    October 2024, a 90-day label horizon, the seller catalog; no bootstrap intervals.
    """
    from riskscore.datasets import make_marketplace
    from riskscore.features import build_training_set, catalog
    from riskscore.modeling import train

    market = make_marketplace(n_sellers=600, seed=0, label_coverage=1.0)
    tables = {k: v for k, v in market.items() if k != "truth"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = build_training_set(
            tables,
            "seller",
            target="counterfeit",
            cutoffs=[f"2024-{m:02d}-01" for m in range(2, 11)],
            horizon="90D",
        )
        return train(
            table,
            entity="seller",
            target="counterfeit",
            capacity=10,
            n_bootstrap=0,
            min_positives=10,
            catalog=catalog("seller"),
        )


@pytest.fixture(scope="session")
def logged(trained, tmp_path_factory):
    """``trained`` logged and registered in a throw-away SQLite tracking store.

    Returns ``(tracking_uri, model_uri)`` with ``model_uri`` = ``models:/<name>/<version>``.
    """
    from riskscore import registry

    root = tmp_path_factory.mktemp("mlflow")
    tracking = f"sqlite:///{root / 'mlflow.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = registry.log_training(trained, tracking_uri=tracking, plots=False, include_code=False)
    return tracking, f"models:/{run.name}/{run.version}"


def score_args(model_dir, data_dir, out, *extra, as_of=AS_OF):
    """Arguments of a quiet ``riskscore score`` run (fixed scored-at, no progress)."""
    return [
        "score",
        "--model",
        str(model_dir),
        "--data",
        str(data_dir),
        "--as-of",
        as_of,
        "--out",
        str(out),
        "--scored-at",
        SCORED_AT,
        "--no-progress",
        *map(str, extra),
    ]
