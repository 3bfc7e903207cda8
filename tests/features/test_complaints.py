"""Complaints: smoothed rates per kind and window, acceleration, refund and cancel rates."""

from __future__ import annotations

import math

import pytest

from riskscore.features import build_features

AS_OF = "2024-06-30"
K = 10.0  # prior weight used in these tests


@pytest.fixture
def tables(build):
    """S1: four orders (one per window band) and three complaints; S2: one recent order and
    one counterfeit complaint; S3: nothing.

    Marketplace counts (orders / all complaints / counterfeit / not received):
      7 days  [06-23, 06-30): 2 / 1 / 1 / 0
      30 days [05-31, 06-30): 3 / 3 / 2 / 1
      90 days [04-01, 06-30): 4 / 4 / 2 / 1
      365 days (the prior's window): 5 / 4 / 2 / 1
    """
    return build(
        sellers=[{}, {}, {}],
        listings=[{}, {"seller_id": "S2"}],
        orders=[
            {"created_at": "2024-06-25", "status": "refunded"},
            {"created_at": "2024-06-10", "status": "cancelled"},
            {"created_at": "2024-05-01"},
            {"created_at": "2024-01-15"},
            {"seller_id": "S2", "listing_id": "L2", "created_at": "2024-06-29"},
        ],
        complaints=[
            {"kind": "counterfeit", "created_at": "2024-06-28"},
            {"kind": "not_received", "created_at": "2024-06-15"},
            {"kind": "other", "created_at": "2024-05-10"},
            {"seller_id": "S2", "kind": "counterfeit", "created_at": "2024-06-20"},
        ],
    )


def test_rates_are_relative_to_the_marketplace_and_smoothed_toward_it(tables) -> None:
    feats = build_features(tables, "seller", as_of=AS_OF, prior_weight=K)
    s1 = feats.loc["S1"]
    # (complaints / market rate + K) / (orders + K); the market rate over the last 365
    # days: 4 / 5 for all kinds, 2 / 5 counterfeit, 1 / 5 not received, 0 not as described
    assert s1["complaints__rate_7d"] == pytest.approx((1 / (4 / 5) + K) / (1 + K))
    assert s1["complaints__rate_30d"] == pytest.approx((2 / (4 / 5) + K) / (2 + K))
    assert s1["complaints__counterfeit_rate_30d"] == pytest.approx((1 / (2 / 5) + K) / (2 + K))
    assert s1["complaints__not_received_rate_30d"] == pytest.approx((1 / (1 / 5) + K) / (2 + K))
    assert s1["complaints__rate_90d"] == pytest.approx((3 / (4 / 5) + K) / (3 + K))
    # no such complaint anywhere: the complaints term is 0, like any seller without one
    assert s1["complaints__not_as_described_rate_90d"] == pytest.approx(K / (3 + K))


def test_a_seller_without_complaints_does_not_move_with_the_market(build) -> None:
    """Sellers without complaints sit at K / (orders + K) whatever the market's rate."""

    def s2(market_complaints: int) -> float:
        tables = build(
            sellers=[{}, {}],
            listings=[{}, {"seller_id": "S2"}],
            orders=[{"created_at": "2024-06-25"}]
            + [{"seller_id": "S2", "listing_id": "L2", "created_at": "2024-06-26"}] * 3,
            complaints=[{"created_at": "2024-06-27"}] * market_complaints,
        )
        got = build_features(tables, "seller", as_of=AS_OF, prior_weight=K)
        return float(got.loc["S2", "complaints__rate_7d"])

    assert s2(1) == s2(3) == K / (3 + K)  # exactly: no market rate in the arithmetic


def test_the_prior_is_the_market_rate_over_365_days(build) -> None:
    """A complaint a year and a day old leaves the prior; one 364 days old is in it."""

    def rate(complaint_at: str) -> float:
        tables = build(
            sellers=[{"registered_at": "2022-01-01"}] * 2,
            listings=[{"created_at": "2023-01-01"}, {"seller_id": "S2"}],
            orders=[
                {"created_at": "2023-06-01"},
                {"seller_id": "S2", "listing_id": "L2", "created_at": "2024-06-29"},
            ],
            complaints=[
                {"created_at": complaint_at},
                {"seller_id": "S2", "created_at": "2024-06-28"},
            ],
        )
        got = build_features(tables, "seller", as_of=AS_OF, prior_weight=K)
        return float(got.loc["S2", "complaints__rate_7d"])

    # 365 days: [2023-07-01, 2024-06-30) hold S2's one order (S1's is older)
    assert rate("2023-07-02") == pytest.approx((1 / 2 + K) / (1 + K))  # market rate 2 / 1
    assert rate("2023-06-30") == pytest.approx((1 / 1 + K) / (1 + K))  # market rate 1 / 1


@pytest.mark.slow
def test_seller_without_events_has_no_rate(tables) -> None:
    s3 = build_features(tables, "seller", as_of=AS_OF, prior_weight=K).loc["S3"]
    # nothing observed: missing, not the marketplace rate
    assert math.isnan(s3["complaints__rate_7d"])
    assert math.isnan(s3["complaints__counterfeit_rate_90d"])
    assert math.isnan(s3["complaints__refund_rate"])
    assert s3["complaints__acceleration"] == pytest.approx(1.0)


def test_complaints_without_orders_in_the_window_give_a_rate(build) -> None:
    """A shop that stopped selling while its buyers complain keeps a (high) rate."""
    tables = build(
        sellers=[{}],
        listings=[{}],
        orders=[{"created_at": "2024-06-01"}] * 4,
        complaints=[{"kind": "not_received", "created_at": "2024-06-27"}] * 3,
    )
    s1 = build_features(tables, "seller", as_of=AS_OF, prior_weight=K).loc["S1"]
    # 7 days: no order, 3 complaints; the market rate over 365 days: 3 / 4
    assert s1["complaints__rate_7d"] == pytest.approx((3 / (3 / 4) + K) / K)
    assert s1["complaints__not_received_rate_7d"] == pytest.approx((3 / (3 / 4) + K) / K)
    assert s1["complaints__counterfeit_rate_7d"] == pytest.approx(1.0)


def test_one_complaint_on_one_order_is_not_a_hundred_percent(build) -> None:
    tables = build(
        sellers=[{}, {}],
        listings=[{}, {"seller_id": "S2"}],
        orders=[{"created_at": "2024-06-29"}]
        + [{"seller_id": "S2", "listing_id": "L2", "created_at": "2024-06-29"}] * 99,
        complaints=[{"created_at": "2024-06-29"}],
    )
    rate = build_features(tables, "seller", as_of=AS_OF).loc["S1", "complaints__rate_7d"]
    # market rate 1 / 100; default prior weight 20: 5.7x the market, not 100x
    assert rate == pytest.approx((1 / 0.01 + 20) / (1 + 20))
    assert rate < 10


def test_acceleration_compares_last_7_days_with_the_30_before(tables) -> None:
    s1 = build_features(tables, "seller", as_of=AS_OF).loc["S1"]
    # last 7 days: 1 complaint; the 30 days before (05-24 .. 06-23): 1
    assert s1["complaints__acceleration"] == pytest.approx(2 / (1 * 7 / 30 + 1))


def test_refund_and_cancel_rates_use_all_orders_before_as_of(tables) -> None:
    feats = build_features(tables, "seller", as_of=AS_OF, prior_weight=K)
    # marketplace: 5 orders, 1 refunded, 1 cancelled
    assert feats.loc["S1", "complaints__refund_rate"] == pytest.approx((1 + K * 0.2) / (4 + K))
    assert feats.loc["S1", "complaints__cancel_rate"] == pytest.approx((1 + K * 0.2) / (4 + K))
    assert feats.loc["S2", "complaints__refund_rate"] == pytest.approx((0 + K * 0.2) / (1 + K))


def test_window_includes_its_start_and_excludes_as_of(build) -> None:
    tables = build(
        orders=[{"created_at": "2024-06-23"}, {"created_at": "2024-06-30"}],
        complaints=[{"created_at": "2024-06-23"}, {"created_at": "2024-06-30"}],
    )
    s1 = build_features(tables, "seller", as_of=AS_OF, prior_weight=0.0).loc["S1"]
    assert s1["complaints__rate_7d"] == pytest.approx(1.0)  # 1 complaint / 1 order


def test_without_a_complaints_table_rates_are_nan_and_refunds_remain(tables) -> None:
    del tables["complaints"]
    with pytest.warns(UserWarning, match=r"no 'complaints' table was given, so \d+ feature"):
        feats = build_features(tables, "seller", as_of=AS_OF)
    assert feats["complaints__rate_30d"].isna().all()
    assert feats["complaints__acceleration"].isna().all()
    assert not math.isnan(feats.loc["S1", "complaints__refund_rate"])


def _with_status_times(tables, refunded_at, cancelled_at):
    import pandas as pd

    orders = tables["orders"].assign(
        refunded_at=pd.to_datetime(pd.Series(refunded_at)).astype("datetime64[us]"),
        cancelled_at=pd.to_datetime(pd.Series(cancelled_at)).astype("datetime64[us]"),
    )
    return {**tables, "orders": orders}


def test_a_refund_counts_only_once_it_happened_before_as_of(tables) -> None:
    """O1's latest status is 'refunded', but the refund came after the cutoff."""
    timed = _with_status_times(
        tables,
        refunded_at=["2024-07-05", None, None, None, "2024-06-30"],  # after, at as_of
        cancelled_at=[None, "2024-06-10 03:00", None, None, None],
    )
    feats = build_features(timed, "seller", as_of=AS_OF, prior_weight=K)
    # marketplace: 5 orders, none refunded before as_of, 1 cancelled
    assert feats.loc["S1", "complaints__refund_rate"] == pytest.approx(0.0)
    assert feats.loc["S2", "complaints__refund_rate"] == pytest.approx(0.0)
    assert feats.loc["S1", "complaints__cancel_rate"] == pytest.approx((1 + K * 0.2) / (4 + K))
    later = build_features(timed, "seller", as_of="2024-07-06", prior_weight=K)
    # by 07-06 both refunds happened: 2 of 5 orders (S1 1 of 4, S2 1 of 1)
    assert later.loc["S1", "complaints__refund_rate"] == pytest.approx((1 + K * 0.4) / (4 + K))
    assert later.loc["S2", "complaints__refund_rate"] == pytest.approx((1 + K * 0.4) / (1 + K))


def test_status_times_replace_the_latest_status(tables) -> None:
    """With the time columns the status column is not read for refunds or cancellations."""
    timed = _with_status_times(
        tables,
        refunded_at=[None, None, "2024-05-03", None, None],
        cancelled_at=[None] * 5,
    )
    feats = build_features(timed, "seller", as_of=AS_OF, prior_weight=K)
    assert feats.loc["S1", "complaints__refund_rate"] == pytest.approx((1 + K * 0.2) / (4 + K))
    assert feats.loc["S1", "complaints__cancel_rate"] == pytest.approx(0.0)


def test_smoothed_rates_say_so_in_their_reasons() -> None:
    from riskscore.features import catalog

    table = catalog().set_index("name")
    for name in ("complaints__refund_rate", "complaints__cancel_rate", "complaints__rate_30d"):
        assert "smoothed" in table.loc[name, "text_en"], name
        assert "平滑" in table.loc[name, "text_zh"], name
        assert table.loc[name, "description"].startswith("Smoothed"), name
    assert table.loc["complaints__refund_rate", "text_en"].format(value=0.123) == (
        "12.3% of orders were refunded (smoothed toward the marketplace rate)"
    )
