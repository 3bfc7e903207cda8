"""A tiny trained model for doctests and tests of the scoring layer.

:func:`demo_model` trains a small LightGBM booster on generated rows (fast, cached) and
wraps it in a :class:`~riskscore.modeling.RiskModel` with Platt calibration, a 0-1000
risk scale and four bands, so examples run without the training pipeline. Its five
features and their catalog rows (fill, optional table, reason code, family, texts) come
from :func:`riskscore.features.catalog`, so the demo scores, fills and explains as a real
seller model does; only the training rows are generated.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from riskscore.modeling import RiskModel


__all__ = ["FEATURES", "demo_catalog", "demo_model"]

#: The demo model's five seller features, all from the feature catalog: two that may be
#: missing (NaN fill), two counts (fill 0, so NaN is an invalid value), and one that needs
#: the optional complaints table (absent → filled).
FEATURES = (
    "pricing__median_price_ratio",
    "activity__orders_30d",
    "complaints__rate_30d",
    "account__listing_count",
    "buyers__repeat_order_ratio",
)


def demo_catalog() -> pd.DataFrame:
    """Return the catalog rows of the demo model's five features.

    The rows of :func:`riskscore.features.catalog` for :data:`FEATURES` (seller entity), in
    the model's feature order: real fill values, reason codes, families and texts.

    Examples
    --------
    >>> cat = demo_catalog()
    >>> cat["name"].tolist()[:2], cat["fill"].tolist()[:2], cat["needs"].tolist()[2]
    (['pricing__median_price_ratio', 'activity__orders_30d'], [nan, 0.0], 'complaints')
    """
    from riskscore.features import catalog

    rows = catalog("seller").set_index("name")
    missing = [n for n in FEATURES if n not in rows.index]
    if missing:  # the catalog dropped or renamed a feature the demo uses
        raise LookupError(f"demo features not in the seller catalog: {missing}")
    return rows.loc[list(FEATURES)].reset_index()


@functools.cache
def demo_model(n_trees: int = 20, seed: int = 0) -> RiskModel:
    """Return a small trained seller model (five features, no training pipeline).

    A real :class:`~riskscore.modeling.RiskModel`: a LightGBM booster, Platt
    calibration, a risk scale measured on the negatives and fixed bands.

    Examples
    --------
    >>> demo_model().feature_names[0]
    'pricing__median_price_ratio'
    """
    import lightgbm as lgb

    from riskscore.modeling import Bands, Calibrator, RiskModel, RiskScale

    rng = np.random.default_rng(seed)
    n = 2000
    names = list(FEATURES)
    x = rng.normal(size=(n, len(names)))
    x[:, 1:3] = rng.poisson(1.0, size=(n, 2))
    x[rng.random(n) < 0.1, 0] = np.nan
    x[rng.random(n) < 0.1, 4] = np.nan
    logit = -3 + 1.5 * np.nan_to_num(-x[:, 0]) + 0.8 * x[:, 1] - 0.5 * x[:, 3]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    params = {
        "objective": "binary",
        "num_leaves": 7,
        "learning_rate": 0.2,
        "min_data_in_leaf": 20,
        "seed": seed,
        "deterministic": True,
        "num_threads": 1,
        "verbose": -1,
    }
    booster = lgb.train(params, lgb.Dataset(x, y, feature_name=names), n_trees)
    raw = booster.predict(x, raw_score=True)
    return RiskModel(
        booster,
        feature_names=names,
        calibrator=Calibrator("platt", {"a": 1.0, "b": 0.0}),
        scale=RiskScale.fit(raw[y == 0]),
        bands=Bands({"medium": 250, "high": 500, "critical": 750}),
        metadata={"entity": "seller", "target": "demo", "version": "0"},
        catalog=demo_catalog(),
    )
