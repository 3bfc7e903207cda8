"""A tiny trained model for doctests and tests of the scoring layer.

:func:`demo_model` trains a small LightGBM booster on generated rows (fast, cached) and
wraps it with a monotone calibration, a 0-1000 risk score and four bands, so examples run
without the modeling layer.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from riskscore.scoring._model import ModelParts, simple_reasons

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
            "needs": ["products", "complaints", "complaints", "", ""],
            "text_en": [f"{f[0]} is {{value:.2f}}" for f in _FEATURES],
            "text_zh": [f"{f[0]} 为 {{value:.2f}}" for f in _FEATURES],
        }
    )


@functools.cache
def demo_model(n_trees: int = 20, seed: int = 0) -> ModelParts:
    """Return a small trained seller model (five features) as scorer parts.

    Examples
    --------
    >>> demo_model().feature_names[0]
    'pricing__median_price_ratio'
    """
    import lightgbm as lgb

    rng = np.random.default_rng(seed)
    n = 2000
    names = tuple(f[0] for f in _FEATURES)
    x = rng.normal(size=(n, len(names)))
    x[:, 1:3] = rng.poisson(1.0, size=(n, 2))
    x[rng.random(n) < 0.1, 0] = np.nan
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
    booster = lgb.train(params, lgb.Dataset(x, y, feature_name=list(names)), n_trees)
    catalog = demo_catalog()
    band_names = ("low", "medium", "high", "critical")
    band_cuts = np.array([300, 600, 800])

    def calibrate(raw: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.asarray(raw, dtype=np.float64)))

    def risk_score(raw: np.ndarray) -> np.ndarray:
        return np.rint(np.interp(raw, [-4.0, 2.0], [0.0, 1000.0])).astype(np.int64)

    def band(risk: np.ndarray) -> np.ndarray:
        return np.array(band_names, dtype=object)[np.searchsorted(band_cuts, risk, "right")]

    return ModelParts(
        booster=booster,
        feature_names=names,
        catalog=catalog,
        entity="seller",
        name="riskscore-seller-demo",
        version="0",
        band_names=band_names,
        calibrate=calibrate,
        risk_score=risk_score,
        band=band,
        reasons=simple_reasons(names, catalog),
    )
