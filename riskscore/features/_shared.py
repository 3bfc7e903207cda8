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

__all__ = [
    "BURST_RECENT",
    "BURST_REFERENCE",
    "PRIOR_WINDOW",
    "STATUS_TIMES",
    "order_windows",
    "orders_by_seller",
    "status_times",
]

#: The order statuses counted per seller, and the optional column telling when each began.
STATUS_TIMES: dict[str, str] = {"refunded": "refunded_at", "cancelled": "cancelled_at"}

#: "Last 7 days vs the previous 30": the recent window and the reference window after it.
BURST_RECENT = 7
BURST_REFERENCE = 30

#: Days of marketplace history behind the prior of a smoothed complaint rate: a long
#: trailing window, so the prior moves slowly between cutoffs (a 7-day market rate moves
#: 10-50% month to month, carried by a few fake-phone bursts).
PRIOR_WINDOW = 365


def order_windows(ctx: AsOfContext) -> tuple[int, ...]:
    """Windows the summary counts: the feature windows, the burst ratios' and the prior's."""
    extra = {BURST_RECENT, BURST_RECENT + BURST_REFERENCE, PRIOR_WINDOW}
    return tuple(sorted(set(ctx.params.windows) | extra))


def status_times(ctx: AsOfContext) -> dict[str, str]:
    """Return, of :data:`STATUS_TIMES`, the statuses whose time column the orders table has."""

    def build() -> dict[str, str]:
        names = set(ctx.frames["orders"].collect_schema().names())
        return {status: col for status, col in STATUS_TIMES.items() if col in names}

    return ctx.memo("status_times", build)


def _status_flag(ctx: AsOfContext, status: str, timed: dict[str, str]) -> nw.Expr:
    """1.0 where the order had ``status`` before ``as_of``, else 0.0.

    With the status's time column: the time is before ``as_of`` (point-in-time). Without
    it: the latest ``status`` is ``status`` (it may have changed after ``as_of``).
    """
    if status in timed:
        known = nw.col(timed[status]) < ctx.moment(ctx.as_of)
        return known.cast(nw.Float64).fill_null(0.0).alias(status)
    return (nw.col("status") == status).cast(nw.Float64).alias(status)


def orders_by_seller(ctx: AsOfContext) -> nw.LazyFrame:
    """Return per-seller order aggregates before ``as_of`` (one row per seller with orders).

    Sellers in scope only, in a scoped context.

    Columns: ``seller_id``, ``orders``, ``gmv`` (lifetime), ``orders_<w>d`` and
    ``gmv_<w>d`` for each window of :func:`order_windows`, ``refunded``, ``cancelled``,
    ``first_order_at``, ``last_order_at``.

    ``refunded`` and ``cancelled`` count orders refunded (cancelled) before ``as_of``
    when the orders table has ``refunded_at`` (``cancelled_at``); without it, orders
    whose latest ``status`` is ``refunded`` (``cancelled``), which is not point-in-time.
    """

    def build() -> nw.LazyFrame:
        windows = order_windows(ctx)
        timed = status_times(ctx)
        columns = ["seller_id", "amount", "status", "created_at", *timed.values()]
        orders = ctx.own("orders", columns)
        flags = [ctx.in_window("created_at", w).alias(f"orders_{w}d") for w in windows]
        orders = orders.with_columns(
            nw.col("amount").cast(nw.Float64),
            *flags,
            *[_status_flag(ctx, status, timed) for status in STATUS_TIMES],
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
