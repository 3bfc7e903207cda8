"""Pricing: market price fallbacks, ratios, robust z-scores, seller aggregates."""

from __future__ import annotations

import math

import pytest

from riskscore.features import build_features

AS_OF = "2024-06-30"
MAD = 1.4826
MEAN_AD = 1.2533


@pytest.fixture
def tables(build):
    """Two sellers with five listings covering the three market-price sources.

    L1 (S1): catalogue product P1, reference 1000, price 500      -> ratio 0.5
    L2 (S1): product P2 (not in catalogue), price 300; L3 (S2) P2 at 600
             -> P2 median 450 -> ratios 2/3 and 4/3
    L4, L5 (S2): no product, unbranded home goods at 100 and 300
             -> (home, unbranded) median 200 -> ratios 0.5 and 1.5
    S3 has no listings.
    """
    phone = {"category": "phones", "brand": "Apple"}
    return build(
        sellers=[{}, {}, {}],
        products=[{"product_id": "P1", "reference_price": 1000.0}],
        listings=[
            {"seller_id": "S1", "product_id": "P1", "price": 500.0, **phone},
            {"seller_id": "S1", "product_id": "P2", "price": 300.0, **phone},
            {"seller_id": "S2", "product_id": "P2", "price": 600.0, **phone},
            {"seller_id": "S2", "price": 100.0},
            {"seller_id": "S2", "price": 300.0},
        ],
        orders=[{}],
    )


def test_listing_ratio_uses_catalogue_then_product_median_then_category_brand(tables) -> None:
    feats = build_features(tables, "listing", as_of=AS_OF)
    ratio = feats["pricing__price_ratio"]
    assert ratio.to_dict() == pytest.approx(
        {"L1": 0.5, "L2": 2 / 3, "L3": 4 / 3, "L4": 0.5, "L5": 1.5}
    )
    assert feats.loc["L2", "pricing__log_price_ratio"] == pytest.approx(math.log(2 / 3))


def test_robust_z_is_within_category_on_log_ratios(tables) -> None:
    z = build_features(tables, "listing", as_of=AS_OF)["pricing__price_z"]
    # phones: log ratios ln .5, ln 2/3, ln 4/3; centre ln 2/3; |dev| ln 4/3, 0, ln 2
    scale = MAD * math.log(4 / 3)
    assert z["L1"] == pytest.approx(math.log(0.75) / scale)
    assert z["L2"] == pytest.approx(0.0)
    assert z["L3"] == pytest.approx(math.log(2) / scale)
    # home: ln .5 and ln 1.5 sit symmetrically around their centre
    assert z["L4"] == pytest.approx(-1 / MAD)
    assert z["L5"] == pytest.approx(1 / MAD)


def test_seller_aggregates(tables) -> None:
    feats = build_features(tables, "seller", as_of=AS_OF)
    s1, s2 = feats.loc["S1"], feats.loc["S2"]
    phone_scale = MAD * math.log(4 / 3)
    assert s1["pricing__median_price_ratio"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert s1["pricing__min_price_ratio"] == pytest.approx(0.5)
    assert s1["pricing__share_below_market"] == pytest.approx(0.5)
    assert s1["pricing__median_price_z"] == pytest.approx(math.log(0.75) / phone_scale / 2)
    assert s1["pricing__share_branded_high_risk"] == pytest.approx(1.0)
    assert s2["pricing__median_price_ratio"] == pytest.approx(4 / 3)
    assert s2["pricing__share_below_market"] == pytest.approx(1 / 3)
    assert s2["pricing__median_price_z"] == pytest.approx(1 / MAD)
    assert s2["pricing__share_branded_high_risk"] == pytest.approx(1 / 3)


def test_seller_without_listings_gets_nan(tables) -> None:
    feats = build_features(tables, "seller", as_of=AS_OF)
    assert (
        feats.loc["S3", "pricing__median_price_ratio"]
        != feats.loc["S3", "pricing__median_price_ratio"]
    )
    assert math.isnan(feats.loc["S3", "pricing__share_branded_high_risk"])


def test_without_products_the_market_price_falls_back_to_listing_medians(tables) -> None:
    del tables["products"]
    feats = build_features(tables, "listing", as_of=AS_OF)
    assert feats.loc["L1", "pricing__price_ratio"] == pytest.approx(1.0)  # only P1 listing


def test_zero_mad_falls_back_to_mean_absolute_deviation(build) -> None:
    tables = build(
        products=[{"product_id": "P1", "reference_price": 100.0}],
        listings=[
            {"product_id": "P1", "category": "toys", "price": 100.0},
            {"product_id": "P1", "category": "toys", "price": 100.0},
            {"product_id": "P1", "category": "toys", "price": 200.0},
        ],
    )
    z = build_features(tables, "listing", as_of=AS_OF)["pricing__price_z"]
    assert z["L3"] == pytest.approx(3 / MEAN_AD)  # |dev| 0, 0, ln2: MAD 0, mean ln2 / 3
    assert z["L1"] == pytest.approx(0.0)


def test_identical_prices_give_zero_z(build) -> None:
    tables = build(listings=[{"price": 50.0}, {"price": 50.0}])
    z = build_features(tables, "listing", as_of=AS_OF)["pricing__price_z"]
    assert z.tolist() == [0.0, 0.0]


def test_zero_price_has_no_log_ratio(build) -> None:
    tables = build(listings=[{"price": 0.0}, {"price": 10.0}, {"price": 30.0}])
    feats = build_features(tables, "listing", as_of=AS_OF)
    assert feats.loc["L1", "pricing__price_ratio"] == 0.0
    assert math.isnan(feats.loc["L1", "pricing__log_price_ratio"])


@pytest.mark.parametrize("entity", ["seller", "listing"])
def test_a_build_prices_the_listings_once(tables, entity, monkeypatch) -> None:
    # a listing build computes the seller features too: both read one priced pass
    from riskscore.features import pricing

    calls = []
    real = pricing._priced_listings

    def counted(*args, **kwargs):
        calls.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(pricing, "_priced_listings", counted)
    feats = build_features(tables, entity, as_of=AS_OF, families=["pricing"])
    assert len(calls) == 1
    if entity == "listing":
        assert feats.loc["L2", "pricing__price_ratio"] == pytest.approx(2 / 3)
        assert feats.loc["L2", "pricing__share_below_market"] == pytest.approx(0.5)


@pytest.mark.spark
def test_on_spark_the_listings_move_once_and_price_as_on_pandas(tables, spark) -> None:
    import narwhals as nw
    import pyarrow as pa

    from riskscore.features import AsOfContext
    from riskscore.features.pricing import listing_prices

    frames = {
        name: nw.from_native(spark.createDataFrame(pa.Table.from_pandas(t, preserve_index=False)))
        for name, t in tables.items()
    }
    # a seller build's context: the plan stays lazy (a listing build keeps the rows)
    priced = listing_prices(AsOfContext(frames, as_of=AS_OF, entity="seller")).to_native()
    plan = priced._jdf.queryExecution().executedPlan().toString()
    # every listing moves once, by category; the medians of P2 (the one product without
    # a catalogue price) are a stage of the same query, broadcast: their pass's own
    # shuffles move only those listings' product, currency and price
    lines = plan.splitlines()
    depth = [len(line) - len(line.lstrip(" :+-")) for line in lines]
    start = next(
        i
        for i, line in enumerate(lines)
        if "BroadcastExchange" in line and "ref_product" in lines[i + 1]
    )
    end = next((i for i in range(start + 1, len(lines)) if depth[i] <= depth[start]), len(lines))
    outside = [line for i, line in enumerate(lines) if not start <= i < end]
    inside = lines[start:end]
    assert [line.strip(" :+-")[:35] for line in outside if "Exchange hash" in line] == [
        "Exchange hashpartitioning(category#"
    ]
    assert any("Exchange hashpartitioning(__grouping" in line for line in inside)
    assert all("seller_id" not in line for line in inside if "Exchange" in line)
    got = priced.toPandas().set_index("listing_id")["price_ratio"]
    assert got.to_dict() == pytest.approx(
        {"L1": 0.5, "L2": 2 / 3, "L3": 4 / 3, "L4": 0.5, "L5": 1.5}
    )
