"""A tiny trained model for doctests and tests of the scoring layer.

:func:`demo_model` trains a small LightGBM booster on generated rows (fast, cached) and
wraps it in a :class:`~riskscore.modeling.RiskModel` with Platt calibration, a 0-1000
risk scale and four bands, so examples run without the training pipeline.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from riskscore.modeling import RiskModel


__all__ = ["demo_catalog", "demo_model"]

_FEATURES = (
    ("pricing__median_price_ratio", float("nan"), "PRICE_FAR_BELOW_MARKET", "price"),
    ("complaints__count_30d", 0.0, "MANY_COMPLAINTS", "complaints"),
    ("complaints__count_90d", 0.0, "MANY_COMPLAINTS_90D", "complaints"),
    ("account__age_days", 0.0, "NEW_ACCOUNT", "account"),
    ("buyers__repeat_share", float("nan"), "FEW_REPEAT_BUYERS", "buyers"),
)


def demo_catalog() -> pd.DataFrame:
    """Return the catalog of the demo model's five features.

    Examples
    --------
    >>> demo_catalog()["name"].tolist()[:2]
    ['pricing__median_price_ratio', 'complaints__count_30d']
    """
    return pd.DataFrame(
        {
            "name": [f[0] for f in _FEATURES],
            "fill": [f[1] for f in _FEATURES],
            "reason_code": [f[2] for f in _FEATURES],
            "signal": [f[3] for f in _FEATURES],
            "family": [f[0].split("__")[0] for f in _FEATURES],
            "needs": ["products", "complaints", "complaints", "", ""],
            "text_en": [f"{f[0]} is {{value:.2f}}" for f in _FEATURES],
            "text_zh": [f"{f[0]} 为 {{value:.2f}}" for f in _FEATURES],
        }
    )


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
    names = [f[0] for f in _FEATURES]
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
