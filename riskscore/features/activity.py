"""Activity: order volume and GMV over windows, bursts, and order value vs the category.

* ``orders_<w>d`` / ``gmv_<w>d``: orders placed and their total amount in
  ``[as_of - w days, as_of)``;
* ``order_growth``: orders in the last 7 days vs the 30 days before them, as daily paces
  with one pseudo-order each, ``(o_7 + 1) / (o_prev30 × 7/30 + 1)`` (1 = steady, large =
  a burst, typical of fake-order campaigns and exit scams);
* ``aov_vs_category``: mean over the seller's orders (all before ``as_of``) of
  ``amount / average order amount in the order's category``, where an order's category is
  its listing's and the average is over all orders of the marketplace.

The category averages are marketplace statistics (:meth:`AsOfContext.market_value`); the
rest aggregates the seller's own orders, so a scoped build reads just those.
"""

from __future__ import annotations

import math

import narwhals as nw

from riskscore.features._catalog import Family, FeatureSpec, windowed
from riskscore.features._context import AsOfContext, ratio
from riskscore.features._shared import BURST_RECENT, BURST_REFERENCE, orders_by_seller

#: The burst windows, as the texts quote them.
_R, _P = BURST_RECENT, BURST_REFERENCE

__all__ = ["FAMILIES", "orders_by_listing"]

NAN = math.nan


def _specs(windows: tuple[int, ...]) -> tuple[FeatureSpec, ...]:
    common = {"family": "activity", "entity": "seller"}
    return (
        *windowed(
            windows,
            name="activity__orders_{w}d",
            description="Orders placed in the last {w} days.",
            unit="count",
            fill=0.0,
            reason_code="ORDERS_{w}D",
            signal="volume",
            text_en="{value:.0f} orders in the last {w} days",
            text_zh="近{w}天共{value:.0f}笔订单",
            **common,
        ),
        *windowed(
            windows,
            name="activity__gmv_{w}d",
            description="Total order amount in the last {w} days (listing currency).",
            unit="CNY",
            fill=0.0,
            reason_code="GMV_{w}D",
            signal="volume",
            text_en="Sales of {value:,.0f} CNY in the last {w} days",
            text_zh="近{w}天成交额{value:,.0f}元",
            **common,
        ),
        FeatureSpec(
            name="activity__order_growth",
            description=(
                f"Orders in the last {_R} days vs the {_P} days before, as daily paces with "
                f"one pseudo-order each: (o_{_R} + 1) / (o_prev{_P} × {_R}/{_P} + 1); "
                "1 = steady."
            ),
            unit="ratio",
            fill=NAN,
            reason_code="ORDER_BURST",
            signal="burst",
            text_en=(
                f"Orders in the last {_R} days ran at {{value:.1f}}× the pace of the {_P} "
                "days before"
            ),
            text_zh=f"近{_R}天订单速度是此前{_P}天的{{value:.1f}}倍",
            family="activity",
            entity="seller",
        ),
        FeatureSpec(
            name="activity__aov_vs_category",
            description=(
                "Mean over the seller's orders of amount / the marketplace's average order "
                "amount in the same category."
            ),
            unit="ratio",
            fill=NAN,
            reason_code="ORDER_VALUE_VS_CATEGORY",
            signal="order_value",
            text_en="The average order is worth {value:.0%} of the category's average order",
            text_zh="平均客单价为同类目平均水平的{value:.0%}",
            family="activity",
            entity="seller",
        ),
    )


def orders_by_listing(ctx: AsOfContext) -> nw.LazyFrame:
    """Return order count and GMV per (seller, listing) before ``as_of`` (own rows)."""

    def build() -> nw.LazyFrame:
        return (
            ctx.own("orders", ["seller_id", "listing_id", "amount", "created_at"])
            .with_columns(nw.col("amount").cast(nw.Float64))
            .group_by("seller_id", "listing_id")
            .agg(nw.len().alias("orders"), nw.col("amount").sum().alias("gmv"))
        )

    return ctx.memo("orders_by_listing", build)


def _listing_orders(ctx: AsOfContext) -> nw.LazyFrame:
    """Order count and GMV per (seller, listing) with the listing's category."""

    def build() -> nw.LazyFrame:
        per_listing = orders_by_listing(ctx)
        if ctx.scoped:
            # the categories of the listings ordered from, found by id (no scan of listings)
            ordered = per_listing.select("listing_id").unique().collect()["listing_id"]
            categories = ctx.rows_where(
                "listings", "listing_id", ordered.to_list(), ["listing_id", "category"]
            )
        else:
            categories = ctx.table("listings", ["listing_id", "category"])
        return per_listing.join(categories, on="listing_id", how="inner").with_columns(
            nw.col("orders").cast(nw.Float64)
        )

    return ctx.memo("listing_orders", build)


def _category_aov(ctx: AsOfContext) -> nw.LazyFrame:
    """Return the marketplace's average order amount per category."""
    average = (
        _listing_orders(ctx)
        .group_by("category")
        .agg(nw.col("gmv").sum().alias("cat_gmv"), nw.col("orders").sum().alias("cat_orders"))
    )
    return average.with_columns(cat_aov=ratio(nw.col("cat_gmv"), nw.col("cat_orders"))).select(
        "category", "cat_aov"
    )


def _aov_vs_category(ctx: AsOfContext) -> nw.LazyFrame:
    per_listing = _listing_orders(ctx)
    average = ctx.market_value("activity_category_aov", _category_aov)
    relative = per_listing.join(average, on="category").with_columns(
        relative_gmv=ratio(nw.col("gmv"), nw.col("cat_aov")),
        counted=nw.when(nw.col("cat_aov") > 0).then(nw.col("orders")),
    )
    return (
        relative.group_by("seller_id")
        .agg(nw.col("relative_gmv").sum(), nw.col("counted").sum())
        .select("seller_id", aov=ratio(nw.col("relative_gmv"), nw.col("counted")))
    )


def _compute(ctx: AsOfContext) -> nw.LazyFrame:
    windows = ctx.params.windows
    recent = f"orders_{BURST_RECENT}d"
    previous = f"orders_{BURST_RECENT + BURST_REFERENCE}d"
    orders = orders_by_seller(ctx)
    joined = (
        ctx.sellers()
        .join(orders, on="seller_id", how="left")
        .join(_aov_vs_category(ctx), on="seller_id", how="left")
    )
    counts = [recent, previous, *[f"orders_{w}d" for w in windows]]
    joined = joined.with_columns(nw.col(c).fill_null(0.0) for c in dict.fromkeys(counts))
    return joined.select(
        "seller_id",
        *[nw.col(f"orders_{w}d").alias(f"activity__orders_{w}d") for w in windows],
        *[nw.col(f"gmv_{w}d").alias(f"activity__gmv_{w}d") for w in windows],
        activity__order_growth=(nw.col(recent) + 1.0)
        / ((nw.col(previous) - nw.col(recent)) * (BURST_RECENT / BURST_REFERENCE) + 1.0),
        activity__aov_vs_category=nw.col("aov"),
    )


FAMILIES = (
    Family(
        name="activity",
        entity="seller",
        specs=_specs,
        compute=_compute,
        description="Orders and GMV over windows, bursts, order value vs the category.",
    ),
)
