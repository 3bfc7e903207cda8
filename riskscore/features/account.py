"""Account: how old the shop is, when it started selling, and whether it went quiet.

Days are measured from the event to ``as_of`` (fractional, UTC). Fresh accounts that list
branded goods and sell at once are the classic counterfeit pattern; a busy shop that
stops taking orders may have been abandoned after an exit scam.
"""

from __future__ import annotations

import math

import narwhals as nw

from riskscore.features._catalog import Family, FeatureSpec
from riskscore.features._context import AsOfContext
from riskscore.features._shared import orders_by_seller

__all__ = ["FAMILIES", "NEW_LISTING_DAYS"]

NAN = math.nan

#: "New listings in the last 7 days".
NEW_LISTING_DAYS = 7


def _spec(**kw: str | float) -> FeatureSpec:
    return FeatureSpec(family="account", entity="seller", **kw)  # type: ignore[arg-type]


_SPECS = (
    _spec(
        name="account__age_days",
        description="Days from registration to as_of.",
        unit="days",
        fill=NAN,
        reason_code="NEW_ACCOUNT",
        signal="account_age",
        text_en="The account was registered {value:.0f} days ago",
        text_zh="账号注册于{value:.0f}天前",
    ),
    _spec(
        name="account__days_since_first_listing",
        description="Days from the seller's first listing to as_of (NaN: no listings yet).",
        unit="days",
        fill=NAN,
        reason_code="FIRST_LISTING_RECENT",
        signal="account_age",
        text_en="The first listing went up {value:.0f} days ago",
        text_zh="首件商品上架于{value:.0f}天前",
    ),
    _spec(
        name="account__days_since_first_order",
        description="Days from the seller's first order to as_of (NaN: no orders yet).",
        unit="days",
        fill=NAN,
        reason_code="FIRST_ORDER_RECENT",
        signal="account_age",
        text_en="The first order came {value:.0f} days ago",
        text_zh="首笔订单产生于{value:.0f}天前",
    ),
    _spec(
        name="account__days_since_last_order",
        description="Days from the seller's latest order to as_of (NaN: no orders yet).",
        unit="days",
        fill=NAN,
        reason_code="GONE_QUIET",
        signal="gone_quiet",
        text_en="The latest order came {value:.0f} days ago",
        text_zh="最近一笔订单产生于{value:.0f}天前",
    ),
    _spec(
        name="account__listing_count",
        description="Listings the seller created before as_of.",
        unit="count",
        fill=0.0,
        reason_code="LISTING_COUNT",
        signal="catalogue_size",
        text_en="{value:.0f} listings so far",
        text_zh="累计上架{value:.0f}件商品",
    ),
    _spec(
        name="account__new_listings_7d",
        description=f"Listings the seller created in the {NEW_LISTING_DAYS} days before as_of.",
        unit="count",
        fill=0.0,
        reason_code="NEW_LISTINGS_BURST",
        signal="listing_burst",
        text_en=f"{{value:.0f}} new listings in the last {NEW_LISTING_DAYS} days",
        text_zh=f"近{NEW_LISTING_DAYS}天新上架{{value:.0f}}件商品",
    ),
)


def _compute(ctx: AsOfContext) -> nw.LazyFrame:
    # Days are computed on each table before the left joins: the calendar arithmetic of
    # ``days_before`` needs non-missing timestamps on every backend.
    sellers = ctx.own("sellers", ["seller_id", "registered_at"]).select(
        "seller_id", age=ctx.days_before("registered_at")
    )
    listings = (
        ctx.own("listings", ["seller_id", "created_at"])
        .with_columns(new=ctx.in_window("created_at", NEW_LISTING_DAYS))
        .group_by("seller_id")
        .agg(
            nw.len().alias("listings"),
            nw.col("new").sum().alias("new_listings"),
            nw.col("created_at").min().alias("first_listing_at"),
        )
        .with_columns(first_listing=ctx.days_before("first_listing_at"))
        .drop("first_listing_at")
    )
    orders = orders_by_seller(ctx).select(
        "seller_id",
        first_order=ctx.days_before("first_order_at"),
        last_order=ctx.days_before("last_order_at"),
    )
    joined = sellers.join(listings, on="seller_id", how="left").join(
        orders, on="seller_id", how="left"
    )
    return joined.select(
        "seller_id",
        account__age_days=nw.col("age"),
        account__days_since_first_listing=nw.col("first_listing"),
        account__days_since_first_order=nw.col("first_order"),
        account__days_since_last_order=nw.col("last_order"),
        account__listing_count=nw.col("listings"),
        account__new_listings_7d=nw.col("new_listings"),
    )


FAMILIES = (
    Family(
        name="account",
        entity="seller",
        specs=lambda windows: _SPECS,
        compute=_compute,
        description="Account age, first and last activity, listing counts.",
    ),
)
