"""Fixtures of the buyer-warning tests.

``exposure_tables`` is a hand-made marketplace around one ``AS_OF`` whose every order
tests one rule of :func:`riskscore.warn.warn_buyers` (see the table in its docstring);
``exposure_scores`` flags two of its three sellers the way ``riskscore score`` writes
scores. The simulated marketplace, its Parquet folder and a trained seller model are
the scoring tests' fixtures, re-exported here (one definition each).
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.scoring.conftest import data_dir, marketplace, model_dir, seller_features, seller_model

__all__ = [
    "AS_OF",
    "data_dir",
    "exposure_scores",
    "exposure_tables",
    "marketplace",
    "model_dir",
    "seller_features",
    "seller_model",
]

#: The moment of every warning list in these tests.
AS_OF = pd.Timestamp("2024-06-30")

SECOND = pd.Timedelta(seconds=1)
DAY = pd.Timedelta(days=1)
NAT = pd.NaT


@pytest.fixture
def exposure_tables() -> dict[str, pd.DataFrame]:
    """Three sellers (S1 fake phones, S2 lamps, S3 unflagged) and orders around AS_OF.

    ====  =====  ======  ===============================================================
    id    buyer  seller  what it tests
    ====  =====  ======  ===============================================================
    O1    B1     S1      delivered 1 s before AS_OF: closed, never listed
    O2    B2     S1      delivered 1 s after AS_OF: open; 29 days, 45% of market
    O3    B3     S2      paid exactly 7 days before AS_OF, shipped: NOT_DELIVERED
    O4    B4     S2      paid 7 days minus 1 s before: no reason, not listed
    O5    B5     S1      paid 1 day before, 45% of market: PRICE_FAR_BELOW_MARKET
    O6    B5     S2      paid 2 days before, lamp at market: SEVERAL_FLAGGED_SHOPS
    O7    B6     S3      unflagged seller, cheap and undelivered: never listed
    O8    B7     S1      paid 1 h after AS_OF: does not exist yet
    O9    B8     S1      refunded 1 h before AS_OF: closed
    O10   B9     S1      delivered exactly at AS_OF: still open (known only after)
    O11   B10    S1      cancelled 1 day after AS_OF: open at AS_OF
    ====  =====  ======  ===============================================================
    """
    ts = pd.Timestamp
    orders = [
        # order, buyer, seller, listing, amount, created, status, delivered, refunded, cancelled
        ("O1", "B1", "S1", "L1", 2700.0, ts("2024-06-01"), "delivered", AS_OF - SECOND, NAT, NAT),
        ("O2", "B2", "S1", "L1", 2700.0, ts("2024-06-01"), "delivered", AS_OF + SECOND, NAT, NAT),
        ("O3", "B3", "S2", "L2", 80.0, AS_OF - 7 * DAY, "shipped", NAT, NAT, NAT),
        ("O4", "B4", "S2", "L2", 80.0, AS_OF - 7 * DAY + SECOND, "shipped", NAT, NAT, NAT),
        ("O5", "B5", "S1", "L1", 2700.0, AS_OF - DAY, "paid", NAT, NAT, NAT),
        ("O6", "B5", "S2", "L2", 80.0, AS_OF - 2 * DAY, "paid", NAT, NAT, NAT),
        ("O7", "B6", "S3", "L3", 2500.0, ts("2024-06-01"), "shipped", NAT, NAT, NAT),
        ("O8", "B7", "S1", "L1", 2700.0, AS_OF + pd.Timedelta(hours=1), "paid", NAT, NAT, NAT),
        (
            "O9",
            "B8",
            "S1",
            "L1",
            2700.0,
            ts("2024-06-01"),
            "refunded",
            NAT,
            AS_OF - pd.Timedelta(hours=1),
            NAT,
        ),
        ("O10", "B9", "S1", "L1", 2700.0, ts("2024-06-01"), "delivered", AS_OF, NAT, NAT),
        ("O11", "B10", "S1", "L1", 2700.0, ts("2024-06-10"), "cancelled", NAT, NAT, AS_OF + DAY),
    ]
    cols = [
        "order_id",
        "buyer_id",
        "seller_id",
        "listing_id",
        "amount",
        "created_at",
        "status",
        "delivered_at",
        "refunded_at",
        "cancelled_at",
    ]
    frame = pd.DataFrame(orders, columns=cols)
    frame["quantity"] = 1
    frame["ship_address_id"] = "A-" + frame["buyer_id"]
    for col in ("delivered_at", "refunded_at", "cancelled_at"):
        frame[col] = pd.to_datetime(frame[col])
    return {
        "sellers": pd.DataFrame(
            {
                "seller_id": ["S1", "S2", "S3"],
                "registered_at": [ts("2024-05-01"), ts("2023-01-01"), ts("2024-05-01")],
                "region": ["Fujian", "Zhejiang", "Guangdong"],
            }
        ),
        "products": pd.DataFrame(
            {
                "product_id": ["P-IPHONE"],
                "brand": ["Apple"],
                "category": ["phones"],
                "reference_price": [6000.0],
            }
        ),
        "listings": pd.DataFrame(
            {
                "listing_id": ["L1", "L2", "L3"],
                "seller_id": ["S1", "S2", "S3"],
                "product_id": ["P-IPHONE", None, "P-IPHONE"],
                "category": ["phones", "home", "phones"],
                "brand": ["Apple", None, "Apple"],
                "title": ["iPhone 15 全新", "desk lamp", "iPhone 15"],
                "price": [2700.0, 80.0, 2500.0],
                "currency": ["CNY", "CNY", "CNY"],
                "created_at": [ts("2024-05-02"), ts("2023-02-01"), ts("2024-05-02")],
            }
        ),
        "orders": frame,
    }


@pytest.fixture
def exposure_scores() -> pd.DataFrame:
    """Scores as ``riskscore score`` writes them: S1 critical, S2 high, S3 medium."""
    return pd.DataFrame(
        {
            "seller_id": ["S1", "S2", "S3"],
            "model_name": "riskscore-seller-fraud",
            "model_version": "local",
            "score": [0.97, 0.6, 0.2],
            "risk_score": [950.0, 720.0, 400.0],
            "band": ["critical", "high", "medium"],
            "as_of": AS_OF.isoformat(),
            "scored_at": "2024-06-30T08:00:00",
        }
    )
