"""Account: ages in days, first and last activity, listing counts."""

from __future__ import annotations

import math

import pytest

from riskscore.features import build_features

AS_OF = "2024-06-30"


@pytest.fixture
def tables(build):
    return build(
        sellers=[
            {"registered_at": "2024-01-01"},
            {"registered_at": "2024-06-29T12:00"},
            {"registered_at": "2024-07-01"},  # after as_of: not a row
        ],
        listings=[
            {"created_at": "2024-02-01T12:00"},
            {"created_at": "2024-06-25"},
        ],
        orders=[
            {"created_at": "2024-03-01T06:00"},
            {"created_at": "2024-06-29T18:00"},
        ],
    )


def test_rows_are_sellers_registered_before_as_of(tables) -> None:
    feats = build_features(tables, "seller", as_of=AS_OF)
    assert feats.index.tolist() == ["S1", "S2"]


def test_days_are_fractional_and_measured_to_as_of(tables) -> None:
    s1 = build_features(tables, "seller", as_of=AS_OF).loc["S1"]
    assert s1["account__age_days"] == pytest.approx(181.0)  # 2024 is a leap year
    assert s1["account__days_since_first_listing"] == pytest.approx(149.5)
    assert s1["account__days_since_first_order"] == pytest.approx(120.75)
    assert s1["account__days_since_last_order"] == pytest.approx(0.25)


def test_listing_counts(tables) -> None:
    s1 = build_features(tables, "seller", as_of=AS_OF).loc["S1"]
    assert s1["account__listing_count"] == 2.0
    assert s1["account__new_listings_7d"] == 1.0


def test_new_seller_without_activity(tables) -> None:
    s2 = build_features(tables, "seller", as_of=AS_OF).loc["S2"]
    assert s2["account__age_days"] == pytest.approx(0.5)
    assert math.isnan(s2["account__days_since_first_listing"])
    assert math.isnan(s2["account__days_since_last_order"])
    assert s2["account__listing_count"] == 0.0


def test_days_across_years_and_time_zones(build) -> None:
    tables = build(sellers=[{"registered_at": "2019-12-31T23:00"}])
    feats = build_features(tables, "seller", as_of="2024-06-30T08:00+08:00")
    # 2020-01-01 .. 2024-06-30: 366 + 365 + 365 + 365 + 181 days, plus one hour
    assert feats.loc["S1", "account__age_days"] == pytest.approx(1642 + 1 / 24)
