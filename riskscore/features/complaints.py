"""Complaints: how often buyers complain about a seller, and refund / cancel rates.

A complaint rate is measured **relative to the marketplace** — 1.0 is the marketplace's
rate, 3.0 three times it — and smoothed toward 1.0 so that one complaint on one order does
not read as a hundred times the market::

    relative rate = (complaints / market_rate + prior_weight) / (orders + prior_weight)

where, for a window of ``w`` days, ``complaints`` counts the seller's complaints filed in
``[as_of - w days, as_of)`` and ``orders`` the seller's orders placed in the same window.
It is the smoothed rate ``(complaints + prior_weight × market_rate) / (orders +
prior_weight)`` divided by ``market_rate``, written so that a seller without complaints
gets exactly ``prior_weight / (orders + prior_weight)`` whatever the market does.
``market_rate`` is complaints per order over all sellers in the trailing
:data:`~riskscore.features._shared.PRIOR_WINDOW` days (365), the same for every window
(0 complaints of a kind in the marketplace: the complaints term is 0). Rates are computed
for all kinds together and for ``counterfeit``, ``not_received`` and ``not_as_described``.

Why relative: the marketplace's complaint rate moves by 10-50% from month to month,
carried by a few fake-phone bursts, and an absolute smoothed rate puts every seller
without complaints at a value set by the market (15-40% of sellers at one value that
moves), so the model's inputs shift with the market and the monitor's PSI "acts" on an
unchanged marketplace. Relative rates keep those sellers still; how the marketplace's
own rates move is watched by the monitor's market statistics
(:func:`riskscore.monitor.market_summary`).

A seller with neither orders nor complaints in the window has no rate (missing), not the
prior: nothing was observed. A seller with complaints but no orders in the window (a
shop that stopped selling while its buyers complain) has ``complaints / (market_rate ×
prior_weight) + 1``.

Refund and cancel rates use every order placed before ``as_of``, smoothed toward the
marketplace's lifetime rate the same way, and are missing for a seller without orders.
An order counts as refunded (cancelled) at ``as_of`` when its ``refunded_at``
(``cancelled_at``) is before ``as_of``. When the orders table lacks that column, the rate
falls back to the latest ``status``, which counts refunds recorded after ``as_of`` on
earlier orders: the feature is then *not point-in-time*, the catalog says so
(``point_in_time``) and :func:`~riskscore.features.build_training_set` leaves it out unless
asked to keep it.

The marketplace rates are computed over every seller's orders and complaints, also when
the features of a few sellers are built (:meth:`AsOfContext.market_value`).

Acceleration compares the last 7 days with the 30 days before them, as daily paces with
one pseudo-complaint each: ``(c_7 + 1) / (c_prev30 × 7/30 + 1)``; 1.0 means steady.
"""

from __future__ import annotations

import math

import narwhals as nw

from riskscore.features._catalog import Family, FeatureSpec, windowed
from riskscore.features._context import AsOfContext, ratio
from riskscore.features._shared import (
    BURST_RECENT,
    BURST_REFERENCE,
    PRIOR_WINDOW,
    orders_by_seller,
)

#: The acceleration windows, as the texts quote them.
_R, _P = BURST_RECENT, BURST_REFERENCE

__all__ = ["FAMILIES", "KINDS"]

NAN = math.nan

#: Complaint kinds with their own rate; ``None`` is all kinds together.
KINDS: tuple[str | None, ...] = (None, "counterfeit", "not_received", "not_as_described")

_KIND_TEXT = {
    None: ("complaints", "COMPLAINT_RATE", "complaints", "complaints of any kind", "投诉"),
    "counterfeit": (
        "counterfeit_complaints",
        "COUNTERFEIT_COMPLAINTS",
        "counterfeit_complaints",
        "counterfeit complaints",
        "假货投诉",
    ),
    "not_received": (
        "not_received_complaints",
        "NOT_RECEIVED_COMPLAINTS",
        "not_received_complaints",
        "not-received complaints",
        "未收到货投诉",
    ),
    "not_as_described": (
        "not_as_described_complaints",
        "NOT_AS_DESCRIBED_COMPLAINTS",
        "not_as_described_complaints",
        "not-as-described complaints",
        "货不对板投诉",
    ),
}


def _rate_name(kind: str | None) -> str:
    return "rate" if kind is None else f"{kind}_rate"


def _specs(windows: tuple[int, ...]) -> tuple[FeatureSpec, ...]:
    specs: list[FeatureSpec] = []
    for kind in KINDS:
        _, code, signal, words_en, words_zh = _KIND_TEXT[kind]
        what = "complaints of any kind" if kind is None else f"'{kind}' complaints"
        specs += windowed(
            windows,
            name=f"complaints__{_rate_name(kind)}_{{w}}d",
            family="complaints",
            entity="seller",
            description=(
                f"Smoothed {what} per order over the last {{w}} days relative to the "
                f"marketplace rate over {PRIOR_WINDOW} days (1 = the market): "
                "(complaints / marketplace rate + prior_weight) / (orders + prior_weight); "
                "missing without orders or complaints in the window."
            ),
            unit="x marketplace rate",
            fill=NAN,
            reason_code=f"{code}_{{w}}D",
            signal=signal,
            text_en=(
                f"Orders drew {words_en} at {{value:.1f}}× the marketplace rate in the "
                "last {w} days (smoothed)"
            ),
            text_zh=f"近{{w}}天{words_zh}率为全平台水平的{{value:.1f}}倍（已平滑）",
            needs=("complaints",),
        )
    specs += [
        FeatureSpec(
            name="complaints__acceleration",
            family="complaints",
            entity="seller",
            description=(
                f"Complaints in the last {_R} days vs the {_P} days before, as daily paces "
                f"with one pseudo-complaint each: (c_{_R} + 1) / (c_prev{_P} × {_R}/{_P} + 1); "
                "1 = steady."
            ),
            unit="ratio",
            fill=NAN,
            reason_code="COMPLAINTS_ACCELERATING",
            signal="complaints",
            text_en=(
                f"Complaints in the last {_R} days ran at {{value:.1f}}× the pace of the {_P} "
                "days before"
            ),
            text_zh=f"近{_R}天投诉速度是此前{_P}天的{{value:.1f}}倍",
            needs=("complaints",),
        ),
        FeatureSpec(
            name="complaints__refund_rate",
            family="complaints",
            entity="seller",
            description=(
                "Smoothed share of the seller's orders (all before as_of) refunded before "
                "as_of (refunded_at < as_of); without orders.refunded_at, of those whose "
                "latest status is 'refunded' (not point-in-time). Missing without orders."
            ),
            unit="per order",
            fill=NAN,
            reason_code="HIGH_REFUND_RATE",
            signal="refunds",
            text_en="{value:.1%} of orders were refunded (smoothed toward the marketplace rate)",
            text_zh="{value:.1%}的订单已退款（按全平台水平平滑）",
            point_in_time_needs=("orders.refunded_at",),
        ),
        FeatureSpec(
            name="complaints__cancel_rate",
            family="complaints",
            entity="seller",
            description=(
                "Smoothed share of the seller's orders (all before as_of) cancelled before "
                "as_of (cancelled_at < as_of); without orders.cancelled_at, of those whose "
                "latest status is 'cancelled' (not point-in-time). Missing without orders."
            ),
            unit="per order",
            fill=NAN,
            reason_code="HIGH_CANCEL_RATE",
            signal="cancellations",
            text_en=("{value:.1%} of orders were cancelled (smoothed toward the marketplace rate)"),
            text_zh="{value:.1%}的订单被取消（按全平台水平平滑）",
            point_in_time_needs=("orders.cancelled_at",),
        ),
    ]
    return tuple(specs)


def _smoothed(events: str, orders: str, market: str, prior: float, observed: nw.Expr) -> nw.Expr:
    """``(events + prior × market) / (orders + prior)`` where ``observed``, else null."""
    denominator = nw.when(observed).then(nw.col(orders) + prior).otherwise(0.0)
    return ratio(nw.col(events) + nw.col(market) * prior, denominator)


def _relative(events: str, orders: str, market: str, prior: float, observed: nw.Expr) -> nw.Expr:
    """``(events / market + prior) / (orders + prior)`` where ``observed``, else null.

    The events term is 0 where the market rate is 0 (then no seller has such events).
    """
    m = nw.col(market)
    scaled = nw.when(m > 0).then(nw.col(events) / m).otherwise(0.0)
    denominator = nw.when(observed).then(nw.col(orders) + prior).otherwise(0.0)
    return ratio(scaled + prior, denominator)


def _complaint_windows(ctx: AsOfContext) -> list[int]:
    """Windows the complaints are counted over: the rates', the acceleration's, the prior's."""
    accel = {BURST_RECENT, BURST_RECENT + BURST_REFERENCE}
    return sorted(set(ctx.params.windows) | accel | {PRIOR_WINDOW})


def _complaint_counts(ctx: AsOfContext) -> nw.LazyFrame:
    return ctx.memo("complaint_counts", lambda: _count_complaints(ctx))


def _count_complaints(ctx: AsOfContext) -> nw.LazyFrame:
    windows = _complaint_windows(ctx)
    complaints = ctx.own("complaints", ["seller_id", "kind", "created_at"])
    flags = []
    for w in windows:
        inside = ctx.in_window("created_at", w)
        for kind in KINDS:
            col = f"c_{kind or 'all'}_{w}d"
            if kind is None:
                flags.append(inside.alias(col))
            else:
                flags.append((inside * (nw.col("kind") == kind).cast(nw.Float64)).alias(col))
    complaints = complaints.with_columns(flags)
    names = [f"c_{kind or 'all'}_{w}d" for w in windows for kind in KINDS]
    return complaints.group_by("seller_id").agg(nw.col(n).sum() for n in names)


def _market_orders(ctx: AsOfContext) -> nw.LazyFrame:
    """Marketplace order, refund and cancel totals and rates (one row)."""
    windows = sorted(set(ctx.params.windows) | {PRIOR_WINDOW})
    return (
        orders_by_seller(ctx)
        .select(
            nw.col("orders").sum().alias("m_orders"),
            nw.col("refunded").sum().alias("m_refunded"),
            nw.col("cancelled").sum().alias("m_cancelled"),
            *[nw.col(f"orders_{w}d").sum().alias(f"m_orders_{w}d") for w in windows],
        )
        .with_columns(
            m_refund_rate=ratio(nw.col("m_refunded"), nw.col("m_orders")).fill_null(0.0),
            m_cancel_rate=ratio(nw.col("m_cancelled"), nw.col("m_orders")).fill_null(0.0),
        )
    )


def _market_complaints(ctx: AsOfContext) -> nw.LazyFrame:
    """Marketplace complaint counts per kind over the prior's window (one row)."""
    return _complaint_counts(ctx).select(
        nw.col(f"c_{kind or 'all'}_{PRIOR_WINDOW}d").sum().alias(f"m_c_{kind or 'all'}")
        for kind in KINDS
    )


def _compute(ctx: AsOfContext) -> nw.LazyFrame:
    prior = float(ctx.params.prior_weight)
    windows = ctx.params.windows
    orders = orders_by_seller(ctx)
    market_orders = ctx.market_value("complaints_market_orders", _market_orders)
    base = ctx.sellers().join(
        orders.select(
            "seller_id", "orders", "refunded", "cancelled", *[f"orders_{w}d" for w in windows]
        ),
        on="seller_id",
        how="left",
    )
    if ctx.has("complaints"):
        counts = _complaint_counts(ctx)
        market_complaints = ctx.market_value("complaints_market_complaints", _market_complaints)
        base = base.join(counts, on="seller_id", how="left").join(market_complaints, how="cross")
    base = base.join(market_orders, how="cross")
    zero_fill = [c for c in base.collect_schema().names() if c != "seller_id"]
    base = base.with_columns(nw.col(c).fill_null(0.0) for c in zero_fill)
    if ctx.has("complaints"):
        rate_cols = [
            ratio(nw.col(f"m_c_{kind or 'all'}"), nw.col(f"m_orders_{PRIOR_WINDOW}d"))
            .fill_null(0.0)
            .alias(f"m_rate_{kind or 'all'}")
            for kind in KINDS
        ]
        base = base.with_columns(rate_cols)
    outputs: list[nw.Expr] = []
    if ctx.has("complaints"):
        for kind in KINDS:
            for w in windows:
                observed = (nw.col(f"orders_{w}d") > 0) | (nw.col(f"c_all_{w}d") > 0)
                outputs.append(
                    _relative(
                        f"c_{kind or 'all'}_{w}d",
                        f"orders_{w}d",
                        f"m_rate_{kind or 'all'}",
                        prior,
                        observed,
                    ).alias(f"complaints__{_rate_name(kind)}_{w}d")
                )
        recent, previous = f"c_all_{BURST_RECENT}d", f"c_all_{BURST_RECENT + BURST_REFERENCE}d"
        outputs.append(
            (
                (nw.col(recent) + 1.0)
                / ((nw.col(previous) - nw.col(recent)) * (BURST_RECENT / BURST_REFERENCE) + 1.0)
            ).alias("complaints__acceleration")
        )
    sold = nw.col("orders") > 0
    outputs += [
        _smoothed("refunded", "orders", "m_refund_rate", prior, sold).alias(
            "complaints__refund_rate"
        ),
        _smoothed("cancelled", "orders", "m_cancel_rate", prior, sold).alias(
            "complaints__cancel_rate"
        ),
    ]
    return base.select("seller_id", *outputs)


FAMILIES = (
    Family(
        name="complaints",
        entity="seller",
        specs=_specs,
        compute=_compute,
        description="Smoothed complaint rates by kind and window, refund and cancel rates.",
    ),
)
