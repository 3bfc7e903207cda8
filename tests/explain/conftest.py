"""Fixtures for the explanation tests: a small generated feature frame, its catalog, a booster.

The frame mimics real seller features (names ``<family>__<feature>``, missing values,
three features sharing the ``price_vs_market`` signal) and the label depends on several
families, so contributions are spread over features. Everything is small enough to train
in well under a second.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from riskscore.explain import Explainer

FEATURES = [
    # name, family, signal, reason code, en, zh
    (
        "pricing__median_price_ratio",
        "price_vs_market",
        "PRICE_FAR_BELOW_MARKET",
        "Median price is {value:.0%} of the market price for the same products",
        "同款商品售价中位数为市场价的{value:.0%}",
    ),
    (
        "pricing__min_price_ratio",
        "price_vs_market",
        "LOWEST_PRICE_FAR_BELOW_MARKET",
        "The cheapest listing is priced at {value:.0%} of its market price",
        "最低价商品售价仅为市场价的{value:.0%}",
    ),
    (
        "pricing__share_below_market",
        "price_vs_market",
        "MANY_LISTINGS_BELOW_MARKET",
        "{value:.0%} of listings are priced under 60% of the market price",
        "{value:.0%}的商品售价低于市场价的60%",
    ),
    (
        "complaints__counterfeit_rate_30d",
        "complaints",
        "COUNTERFEIT_COMPLAINTS_30D",
        "{value:.1%} of orders drew counterfeit complaints in the last 30 days",
        "近30天每笔订单的假货投诉率为{value:.1%}",
    ),
    (
        "buyers__top1_share",
        "buyer_concentration",
        "TOP_BUYER_SHARE",
        "The top buyer accounts for {value:.0%} of GMV",
        "第一大买家贡献了{value:.0%}的成交额",
    ),
    (
        "buyers__hhi",
        "buyer_concentration",
        "BUYER_CONCENTRATION",
        "Buyer concentration (Herfindahl index of GMV shares) is {value:.2f}",
        "买家集中度（成交额份额赫芬达尔指数）为{value:.2f}",
    ),
    (
        "account__age_days",
        "account_age",
        "NEW_ACCOUNT",
        "The account is {value:.0f} days old",
        "账户注册{value:.0f}天",
    ),
    (
        "activity__orders_30d",
        "order_volume",
        "ORDER_VOLUME_30D",
        "{value:.0f} orders in the last 30 days",
        "近30天{value:.0f}笔订单",
    ),
]

NAMES = [f[0] for f in FEATURES]


def make_frame(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Return ``n`` seller rows (index ``S0000``...) and a 0/1 label."""
    rng = np.random.default_rng(seed)
    median = rng.lognormal(-0.1, 0.35, n).clip(0.05, 2.0)
    frame = pd.DataFrame(
        {
            "pricing__median_price_ratio": median,
            "pricing__min_price_ratio": (median * rng.uniform(0.4, 1.0, n)).clip(0.02, 2.0),
            "pricing__share_below_market": rng.beta(1, 6, n),
            "complaints__counterfeit_rate_30d": rng.beta(1, 40, n),
            "buyers__top1_share": rng.beta(2, 8, n),
            "buyers__hhi": rng.beta(1, 10, n),
            "account__age_days": rng.integers(1, 2000, n).astype(float),
            "activity__orders_30d": rng.poisson(20, n).astype(float),
        },
        index=pd.Index([f"S{i:04d}" for i in range(n)], name="seller_id"),
    )
    for col, rate in [
        ("pricing__median_price_ratio", 0.15),
        ("complaints__counterfeit_rate_30d", 0.1),
    ]:
        frame.loc[rng.random(n) < rate, col] = np.nan
    pricing_missing = frame["pricing__median_price_ratio"].isna().to_numpy()
    for col in ("pricing__min_price_ratio", "pricing__share_below_market"):
        frame.loc[pricing_missing, col] = np.nan
    logit = (
        -3.0
        + 3.0 * (frame["pricing__median_price_ratio"].fillna(1.0) < 0.6)
        + 2.0 * frame["pricing__share_below_market"].fillna(0.0)
        + 40.0 * frame["complaints__counterfeit_rate_30d"].fillna(0.0)
        + 3.0 * frame["buyers__top1_share"]
        + 1.0 * (frame["account__age_days"] < 60)
    ).to_numpy()
    label = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return frame, label


def make_catalog() -> pd.DataFrame:
    """The catalog of :data:`FEATURES`, shaped like ``riskscore.features.catalog()``."""
    rows = []
    for name, signal, code, en, zh in FEATURES:
        rows.append(
            {
                "name": name,
                "family": name.split("__")[0],
                "entity": "seller",
                "description": f"Test feature {name}.",
                "unit": "ratio",
                "fill": np.nan,
                "reason_code": code,
                "signal": signal,
                "text_en": en,
                "text_zh": zh,
            }
        )
    return pd.DataFrame(rows)


def train_booster(frame: pd.DataFrame, label: np.ndarray, **params: object) -> lgb.Booster:
    base = {
        "objective": "binary",
        "verbose": -1,
        "seed": 0,
        "deterministic": True,
        "num_threads": 1,
        "num_leaves": 15,
        "max_depth": 5,
        "min_data_in_leaf": 10,
        "learning_rate": 0.1,
    }
    base.update(params)
    data = lgb.Dataset(frame[NAMES].to_numpy(), label, feature_name=NAMES)
    return lgb.train(base, data, num_boost_round=40)


@pytest.fixture(scope="session")
def frame_label() -> tuple[pd.DataFrame, np.ndarray]:
    """1,500 generated seller rows with missing values, and their label."""
    return make_frame(1500)


@pytest.fixture(scope="session")
def frame(frame_label: tuple[pd.DataFrame, np.ndarray]) -> pd.DataFrame:
    return frame_label[0]


@pytest.fixture(scope="session")
def catalog() -> pd.DataFrame:
    return make_catalog()


@pytest.fixture(scope="session")
def booster(frame_label: tuple[pd.DataFrame, np.ndarray]) -> lgb.Booster:
    """40 trees of up to 15 leaves trained on :func:`frame_label`."""
    return train_booster(*frame_label)


@pytest.fixture(scope="session")
def explainer(booster: lgb.Booster, catalog: pd.DataFrame) -> Explainer:
    return Explainer(booster, catalog, model_name="riskscore-seller-test", model_version="7")
