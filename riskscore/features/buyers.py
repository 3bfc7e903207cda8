"""Buyers: how concentrated a seller's buyers are (fake orders, click farming).

Over every order placed before ``as_of``:

* Herfindahl index of buyer GMV shares, ``sum_b (gmv_b / gmv)^2`` (1 = one buyer);
* top-1 and top-3 buyer shares of GMV;
* repeat-order ratio, ``(orders - distinct buyers) / orders``;
* orders per distinct buyer;
* share of orders shipped to an address that more than one of the seller's buyers used;
* the number of distinct buyers.

Shares are NaN for sellers without orders (or whose orders total 0 GMV). Every feature
reads the seller's own orders only, so a scoped build aggregates just those.
"""

from __future__ import annotations

import math

import narwhals as nw

from riskscore.features._catalog import Family, FeatureSpec
from riskscore.features._context import AsOfContext, ratio

__all__ = ["FAMILIES", "buyer_gmv"]

NAN = math.nan


def _spec(**kw: str | float) -> FeatureSpec:
    return FeatureSpec(family="buyers", entity="seller", **kw)  # type: ignore[arg-type]


_SPECS = (
    _spec(
        name="buyers__hhi",
        description="Herfindahl index of buyer shares of the seller's GMV (1 = a single buyer).",
        unit="index",
        fill=NAN,
        reason_code="BUYER_CONCENTRATION",
        signal="buyer_concentration",
        text_en="Buyer concentration (Herfindahl index of GMV shares) is {value:.2f}",
        text_zh="买家集中度（成交额份额赫芬达尔指数）为{value:.2f}",
    ),
    _spec(
        name="buyers__top1_share",
        description="Share of the seller's GMV from its largest buyer.",
        unit="share",
        fill=NAN,
        reason_code="TOP_BUYER_SHARE",
        signal="buyer_concentration",
        text_en="The top buyer accounts for {value:.0%} of GMV",
        text_zh="第一大买家贡献了{value:.0%}的成交额",
    ),
    _spec(
        name="buyers__top3_share",
        description="Share of the seller's GMV from its three largest buyers.",
        unit="share",
        fill=NAN,
        reason_code="TOP3_BUYER_SHARE",
        signal="buyer_concentration",
        text_en="The top 3 buyers account for {value:.0%} of GMV",
        text_zh="前三大买家贡献了{value:.0%}的成交额",
    ),
    _spec(
        name="buyers__repeat_order_ratio",
        description="(orders - distinct buyers) / orders: share of orders that are repeats.",
        unit="share",
        fill=NAN,
        reason_code="REPEAT_ORDERS",
        signal="repeat_buying",
        text_en="{value:.0%} of orders are repeat orders from the same buyers",
        text_zh="{value:.0%}的订单来自同一买家的重复购买",
    ),
    _spec(
        name="buyers__orders_per_buyer",
        description="Orders / distinct buyers.",
        unit="orders per buyer",
        fill=NAN,
        reason_code="ORDERS_PER_BUYER",
        signal="repeat_buying",
        text_en="Each buyer placed {value:.1f} orders on average",
        text_zh="平均每位买家下单{value:.1f}次",
    ),
    _spec(
        name="buyers__shared_address_share",
        description=(
            "Share of orders shipped to an address used by more than one of the seller's "
            "buyers (orders without an address count as not shared)."
        ),
        unit="share",
        fill=NAN,
        reason_code="SHARED_SHIP_ADDRESSES",
        signal="click_farming",
        text_en="{value:.0%} of orders ship to addresses shared by several of the seller's buyers",
        text_zh="{value:.0%}的订单寄往多名买家共用的收货地址",
    ),
    _spec(
        name="buyers__distinct_buyers",
        description="Distinct buyers who ordered from the seller.",
        unit="count",
        fill=0.0,
        reason_code="DISTINCT_BUYERS",
        signal="buyer_base",
        text_en="{value:.0f} distinct buyers have ordered so far",
        text_zh="累计{value:.0f}位不同买家下单",
    ),
)


def _orders(ctx: AsOfContext) -> nw.LazyFrame:
    """Return the order columns this family reads, filtered once per cutoff (own rows)."""
    return ctx.memo(
        "buyer_orders",
        lambda: ctx.own("orders", ["seller_id", "buyer_id", "amount", "ship_address_id"]),
    )


def buyer_gmv(ctx: AsOfContext) -> nw.LazyFrame:
    """Return GMV and order count per (seller, buyer) before ``as_of``."""

    def build() -> nw.LazyFrame:
        return (
            _orders(ctx)
            .with_columns(nw.col("amount").cast(nw.Float64))
            .group_by("seller_id", "buyer_id")
            .agg(nw.col("amount").sum().alias("gmv"), nw.len().alias("orders"))
        )

    return ctx.memo("buyer_gmv", build)


def _compute(ctx: AsOfContext) -> nw.LazyFrame:
    pairs = buyer_gmv(ctx).with_columns(
        gmv_sq=nw.col("gmv") * nw.col("gmv"),
        rank=nw.col("gmv").rank("ordinal", descending=True).over("seller_id"),
    )
    pairs = pairs.with_columns(
        gmv_top3=nw.when(nw.col("rank") <= 3).then(nw.col("gmv")).otherwise(0.0)
    )
    per_seller = pairs.group_by("seller_id").agg(
        nw.col("gmv").sum().alias("gmv"),
        nw.col("gmv_sq").sum().alias("gmv_sq"),
        nw.col("gmv").max().alias("gmv_top1"),
        nw.col("gmv_top3").sum().alias("gmv_top3"),
        nw.col("orders").sum().alias("orders"),
        nw.len().alias("buyers"),
    )
    addresses = (
        _orders(ctx)
        .filter(~nw.col("ship_address_id").is_null())
        .group_by("seller_id", "ship_address_id")
        .agg(nw.col("buyer_id").n_unique().alias("buyers"), nw.len().alias("orders"))
        .filter(nw.col("buyers") > 1)
        .group_by("seller_id")
        .agg(nw.col("orders").sum().alias("shared_orders"))
    )
    per_seller = per_seller.join(addresses, on="seller_id", how="left").with_columns(
        nw.col("shared_orders").fill_null(0),
    )
    per_seller = per_seller.with_columns(
        nw.col("orders", "buyers", "shared_orders").cast(nw.Float64)
    )
    total_sq = nw.col("gmv") * nw.col("gmv")
    return per_seller.select(
        "seller_id",
        buyers__hhi=ratio(nw.col("gmv_sq"), total_sq),
        buyers__top1_share=ratio(nw.col("gmv_top1"), nw.col("gmv")),
        buyers__top3_share=ratio(nw.col("gmv_top3"), nw.col("gmv")),
        buyers__repeat_order_ratio=ratio(nw.col("orders") - nw.col("buyers"), nw.col("orders")),
        buyers__orders_per_buyer=ratio(nw.col("orders"), nw.col("buyers")),
        buyers__shared_address_share=ratio(nw.col("shared_orders"), nw.col("orders")),
        buyers__distinct_buyers=nw.col("buyers"),
    )


FAMILIES = (
    Family(
        name="buyers",
        entity="seller",
        specs=lambda windows: _SPECS,
        compute=_compute,
        description="Buyer concentration, repeat orders and shared ship addresses.",
    ),
)
