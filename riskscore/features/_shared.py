"""Per-seller order aggregates that several families read, computed once per cutoff.

:func:`orders_by_seller` makes one pass over the orders known before ``as_of`` and
returns, per seller: order and GMV counts per look-back window, lifetime counts, refunded
and cancelled counts, and the first and last order times. ``complaints``, ``activity``
and ``account`` read it through the context memo, so the orders table is aggregated once.
In a scoped context (see :mod:`riskscore.features._context`) it aggregates the orders of
the sellers in scope only.
"""

from __future__ import annotations

import narwhals as nw

from riskscore.features._context import AsOfContext

__all__ = ["BURST_RECENT", "BURST_REFERENCE", "order_windows", "orders_by_seller"]

#: "Last 7 days vs the previous 30": the recent window and the reference window after it.
BURST_RECENT = 7
BURST_REFERENCE = 30


def order_windows(ctx: AsOfContext) -> tuple[int, ...]:
    """Windows the summary counts: the feature windows plus those the burst ratios need."""
    extra = {BURST_RECENT, BURST_RECENT + BURST_REFERENCE}
    return tuple(sorted(set(ctx.params.windows) | extra))


def orders_by_seller(ctx: AsOfContext) -> nw.LazyFrame:
    """Return per-seller order aggregates before ``as_of`` (one row per seller with orders).

    Sellers in scope only, in a scoped context.

    Columns: ``seller_id``, ``orders``, ``gmv`` (lifetime), ``orders_<w>d`` and
    ``gmv_<w>d`` for each window of :func:`order_windows`, ``refunded``, ``cancelled``,
    ``first_order_at``, ``last_order_at``.
    """

    def build() -> nw.LazyFrame:
        windows = order_windows(ctx)
        orders = ctx.own("orders", ["seller_id", "amount", "status", "created_at"])
        flags = [ctx.in_window("created_at", w).alias(f"orders_{w}d") for w in windows]
        orders = orders.with_columns(
            nw.col("amount").cast(nw.Float64),
            *flags,
            refunded=(nw.col("status") == "refunded").cast(nw.Float64),
            cancelled=(nw.col("status") == "cancelled").cast(nw.Float64),
        ).with_columns(
            [(nw.col(f"orders_{w}d") * nw.col("amount")).alias(f"gmv_{w}d") for w in windows]
        )
        return orders.group_by("seller_id").agg(
            nw.len().alias("orders"),
            nw.col("amount").sum().alias("gmv"),
            *[nw.col(f"orders_{w}d").sum() for w in windows],
            *[nw.col(f"gmv_{w}d").sum() for w in windows],
            nw.col("refunded").sum(),
            nw.col("cancelled").sum(),
            nw.col("created_at").min().alias("first_order_at"),
            nw.col("created_at").max().alias("last_order_at"),
        )

    return ctx.memo("orders_by_seller", build)
