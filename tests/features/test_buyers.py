"""Buyers: concentration of GMV, repeat orders, shared ship addresses."""

from __future__ import annotations

import math

import pytest

from riskscore.features import build_features

AS_OF = "2024-06-30"


@pytest.fixture
def tables(build):
    """S1: B1 buys twice (100 + 100) and B2 once (50), all to address A1; B3 (30) to A2;
    B4 (20) without an address. S2 has no orders; S3 has five buyers at 10 each."""
    s1 = [
        {"buyer_id": "B1", "amount": 100.0, "ship_address_id": "A1"},
        {"buyer_id": "B1", "amount": 100.0, "ship_address_id": "A1"},
        {"buyer_id": "B2", "amount": 50.0, "ship_address_id": "A1"},
        {"buyer_id": "B3", "amount": 30.0, "ship_address_id": "A2"},
        {"buyer_id": "B4", "amount": 20.0},
    ]
    s3 = [
        {"seller_id": "S3", "listing_id": "L3", "buyer_id": f"C{i}", "amount": 10.0}
        for i in range(5)
    ]
    return build(
        sellers=[{}, {}, {}],
        listings=[{}, {"seller_id": "S2"}, {"seller_id": "S3"}],
        orders=s1 + s3,
    )


def test_concentration_of_buyer_gmv(tables) -> None:
    s1 = build_features(tables, "seller", as_of=AS_OF).loc["S1"]
    shares = [200 / 300, 50 / 300, 30 / 300, 20 / 300]
    assert s1["buyers__hhi"] == pytest.approx(sum(s * s for s in shares))
    assert s1["buyers__top1_share"] == pytest.approx(200 / 300)
    assert s1["buyers__top3_share"] == pytest.approx(280 / 300)


def test_repeat_orders_and_orders_per_buyer(tables) -> None:
    s1 = build_features(tables, "seller", as_of=AS_OF).loc["S1"]
    assert s1["buyers__repeat_order_ratio"] == pytest.approx(1 / 5)
    assert s1["buyers__orders_per_buyer"] == pytest.approx(5 / 4)
    assert s1["buyers__distinct_buyers"] == 4.0


def test_shared_address_share_counts_orders_to_addresses_of_several_buyers(tables) -> None:
    s1 = build_features(tables, "seller", as_of=AS_OF).loc["S1"]
    assert s1["buyers__shared_address_share"] == pytest.approx(3 / 5)  # A1: B1, B1, B2


def test_ties_in_top_buyers_still_sum_three_buyers(tables) -> None:
    s3 = build_features(tables, "seller", as_of=AS_OF).loc["S3"]
    assert s3["buyers__top3_share"] == pytest.approx(0.6)
    assert s3["buyers__hhi"] == pytest.approx(0.2)


def test_seller_without_orders(tables) -> None:
    s2 = build_features(tables, "seller", as_of=AS_OF).loc["S2"]
    assert math.isnan(s2["buyers__hhi"]) and math.isnan(s2["buyers__repeat_order_ratio"])
    assert s2["buyers__distinct_buyers"] == 0.0


def test_zero_gmv_has_no_concentration(build) -> None:
    tables = build(orders=[{"amount": 0.0}])
    s1 = build_features(tables, "seller", as_of=AS_OF).loc["S1"]
    assert math.isnan(s1["buyers__hhi"]) and math.isnan(s1["buyers__top1_share"])
    assert s1["buyers__orders_per_buyer"] == 1.0
