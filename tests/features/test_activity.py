"""Activity: orders and GMV over windows, bursts, order value vs the category."""

from __future__ import annotations

import pytest

from riskscore.features import build_features

AS_OF = "2024-06-30"


@pytest.fixture
def tables(build):
    """S1 sells phones (L1) and home goods (L3); S2 sells phones (L2).

    Category averages: phones (100 + 50 + 300) / 3 = 150; home (30 + 20) / 2 = 25.
    """
    return build(
        sellers=[{}, {}],
        listings=[
            {"category": "phones"},
            {"seller_id": "S2", "category": "phones"},
            {"category": "home"},
        ],
        orders=[
            {"listing_id": "L1", "amount": 100.0, "created_at": "2024-06-29"},
            {"listing_id": "L1", "amount": 50.0, "created_at": "2024-06-20"},
            {"listing_id": "L3", "amount": 30.0, "created_at": "2024-05-15"},
            {"listing_id": "L3", "amount": 20.0, "created_at": "2024-01-10"},
            {"seller_id": "S2", "listing_id": "L2", "amount": 300.0, "created_at": "2024-06-01"},
        ],
    )


def test_orders_and_gmv_per_window(tables) -> None:
    s1 = build_features(tables, "seller", as_of=AS_OF).loc["S1"]
    assert (s1["activity__orders_7d"], s1["activity__gmv_7d"]) == (1.0, 100.0)
    assert (s1["activity__orders_30d"], s1["activity__gmv_30d"]) == (2.0, 150.0)
    assert (s1["activity__orders_90d"], s1["activity__gmv_90d"]) == (3.0, 180.0)


def test_custom_windows_rename_the_features(tables) -> None:
    feats = build_features(tables, "seller", as_of=AS_OF, windows=(2, 400))
    assert feats.loc["S1", "activity__orders_2d"] == 1.0
    assert feats.loc["S1", "activity__gmv_400d"] == 200.0


def test_order_growth_last_7_days_vs_the_30_before(tables) -> None:
    feats = build_features(tables, "seller", as_of=AS_OF)
    # S1: 1 order in the last 7 days, 1 in the 30 days before (05-24 .. 06-23)
    assert feats.loc["S1", "activity__order_growth"] == pytest.approx(2 / (7 / 30 + 1))
    # S2: none recently, 1 before
    assert feats.loc["S2", "activity__order_growth"] == pytest.approx(1 / (7 / 30 + 1))


def test_average_order_value_relative_to_category(tables) -> None:
    feats = build_features(tables, "seller", as_of=AS_OF)
    s1 = (100 / 150 + 50 / 150 + 30 / 25 + 20 / 25) / 4
    assert feats.loc["S1", "activity__aov_vs_category"] == pytest.approx(s1)
    assert feats.loc["S2", "activity__aov_vs_category"] == pytest.approx(2.0)
