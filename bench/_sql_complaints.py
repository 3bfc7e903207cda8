"""Hand-written DuckDB SQL for the seller-level ``complaints`` feature family.

One query over plain Parquet views (``sellers``, ``orders``, ``complaints``; the other
contract tables are not read), no riskscore code inside. ``{as_of}`` is the cutoff, filled
in with :meth:`str.format`. It returns one row per seller registered before the cutoff,
``seller_id`` then the family's features in the library's order, ordered by ``seller_id``.
The columns of each complaint kind x window are written out at import from ``_KINDS``
and ``_WINDOWS`` (as ``ACTIVITY_SQL`` in :mod:`bench.bench_sql_families` does); the
result is one plain SQL string.

Definitions, as in :mod:`riskscore.features.complaints` with the default parameters
(windows 7 / 30 / 90 days, prior weight 20 pseudo-orders):

- only orders and complaints with ``created_at < as_of`` count; a window of ``w`` days
  is ``[as_of - w days, as_of)``;
- complaint rate per kind and window relative to the marketplace rate, smoothed toward 1:
  ``(complaints_w / market_rate + 20) / (orders_w + 20)`` (the complaints term 0 where
  ``market_rate`` is 0), where ``market_rate`` is all
  complaints of the kind over all orders in the last 365 days (the prior's window, the
  same for every window; 0 when the marketplace has no order in it); the marketplace
  totals cover every seller's rows, registered before the cutoff or not; NULL for a
  seller with neither orders nor complaints in the window;
- acceleration: ``(c_7 + 1) / ((c_37 - c_7) * 7/30 + 1)`` over complaints of any kind;
- refund (cancel) rate: orders with ``refunded_at`` (``cancelled_at``) before the cutoff,
  over all orders before the cutoff, smoothed the same way toward the marketplace's
  lifetime refund (cancel) rate; NULL for a seller without orders. The Parquet orders
  table has both time columns, so these are the point-in-time versions of the features.

Sellers without orders or complaints count zeros (the acceleration always has a value).
"""

from __future__ import annotations

__all__ = ["SQL"]

_WINDOWS = (7, 30, 90)  # riskscore._config.DEFAULT_WINDOWS, written out
_PRIOR = 365  # riskscore.features._shared.PRIOR_WINDOW: the market rate's window
#: short name, the flag of c_rows it counts (None: every complaint), the feature's stem
_KINDS = (
    ("all", None, "rate"),
    ("cf", "is_cf", "counterfeit_rate"),
    ("nr", "is_nr", "not_received_rate"),
    ("nad", "is_nad", "not_as_described_rate"),
)
_COUNTS = [f"{k}_{d}d" for k, _, _ in _KINDS for d in _WINDOWS]  # all_7d, ..., nad_90d


def _lines(items: list[str], indent: int) -> str:
    return (",\n" + " " * indent).join(items)


_C = _lines(
    [
        f"(count(*) FILTER (WHERE in{d}{'' if flag is None else ' AND ' + flag}))::DOUBLE"
        f" AS {k}_{d}d"
        for k, flag, _ in _KINDS
        for d in (*_WINDOWS, 37, _PRIOR)
        if d != 37 or k == "all"
    ],
    11,
)
_M_TOTALS = _lines([f"coalesce(sum({k}_{_PRIOR}d), 0) AS m_{k}" for k, _, _ in _KINDS], 17)
_M = _lines(
    [
        f"CASE WHEN orders_{_PRIOR}d > 0 THEN m_{k} / orders_{_PRIOR}d ELSE 0.0 END AS m_{k}"
        for k, _, _ in _KINDS
    ],
    8,
)
_BASE = _lines([f"coalesce(c.{n}, 0.0) AS {n}" for n in (*_COUNTS, "all_37d")], 11)
_ORDERS = _lines(
    [
        f"(count(*) FILTER (WHERE created_at >= TIMESTAMP '{{as_of}}' - INTERVAL {d} DAY))"
        f"::DOUBLE AS orders_{d}d"
        for d in (*_WINDOWS, _PRIOR)
    ],
    11,
)
_IN = _lines(
    [
        f"created_at >= TIMESTAMP '{{as_of}}' - INTERVAL {d} DAY AS in{d}"
        for d in (*_WINDOWS, 37, _PRIOR)
    ],
    15,
)
_ORDER_TOTALS = _lines([f"sum(orders_{_PRIOR}d) AS orders_{_PRIOR}d"], 17)
_BASE_ORDERS = _lines([f"coalesce(o.orders_{d}d, 0.0) AS orders_{d}d" for d in _WINDOWS], 11)
_RATES = _lines(
    [
        f"CASE WHEN b.orders_{d}d > 0 OR b.all_{d}d > 0 THEN ((CASE WHEN m.m_{k} > 0 THEN "
        f"b.{k}_{d}d / m.m_{k} ELSE 0.0 END) + 20.0) / (b.orders_{d}d + 20.0) END"
        f" AS complaints__{stem}_{d}d"
        for k, _, stem in _KINDS
        for d in _WINDOWS
    ],
    7,
)

SQL: str = f"""
WITH
-- sellers known at the cutoff: the rows of the result
s AS (
    SELECT seller_id FROM sellers WHERE registered_at < TIMESTAMP '{{as_of}}'
),
-- orders placed before the cutoff, per seller: windowed and lifetime counts, and how many
-- were refunded / cancelled before the cutoff (point in time, by refunded_at / cancelled_at)
o AS (
    SELECT seller_id,
           count(*)::DOUBLE AS orders,
           {_ORDERS},
           (count(*) FILTER (WHERE refunded_at < TIMESTAMP '{{as_of}}'))::DOUBLE AS refunded,
           (count(*) FILTER (WHERE cancelled_at < TIMESTAMP '{{as_of}}'))::DOUBLE AS cancelled
    FROM orders
    WHERE created_at < TIMESTAMP '{{as_of}}'
    GROUP BY seller_id
),
-- complaints filed before the cutoff, tagged with the kinds that have their own rate
c_rows AS (
    SELECT seller_id, created_at,
           coalesce(kind = 'counterfeit', false) AS is_cf,
           coalesce(kind = 'not_received', false) AS is_nr,
           coalesce(kind = 'not_as_described', false) AS is_nad
    FROM complaints
    WHERE created_at < TIMESTAMP '{{as_of}}'
),
-- complaint counts per seller, kind and window (37 days: the acceleration's 7 + 30)
c AS (
    SELECT seller_id,
           {_C}
    FROM (
        SELECT *,
               {_IN}
        FROM c_rows
    )
    GROUP BY seller_id
),
-- marketplace totals over every seller's orders and complaints (the smoothing prior)
m_totals AS (
    SELECT o.*, c.*
    FROM (SELECT sum(orders) AS orders, sum(refunded) AS refunded, sum(cancelled) AS cancelled,
                 {_ORDER_TOTALS}
          FROM o) o
    CROSS JOIN
         (SELECT {_M_TOTALS}
          FROM c) c
),
-- marketplace rates: events / orders, 0 where the marketplace has no orders
m AS (
    SELECT
        CASE WHEN orders > 0 THEN refunded / orders ELSE 0.0 END AS refund_rate,
        CASE WHEN orders > 0 THEN cancelled / orders ELSE 0.0 END AS cancel_rate,
        {_M}
    FROM m_totals
),
-- one row per known seller, missing counts as zero
base AS (
    SELECT s.seller_id,
           coalesce(o.orders, 0.0) AS orders,
           {_BASE_ORDERS},
           coalesce(o.refunded, 0.0) AS refunded,
           coalesce(o.cancelled, 0.0) AS cancelled,
           {_BASE}
    FROM s LEFT JOIN o USING (seller_id) LEFT JOIN c USING (seller_id)
)
-- relative rates: (events / market rate + 20) / (orders + 20); NULL where nothing was seen
SELECT b.seller_id,
       {_RATES},
       -- last 7 days vs the 30 before, as daily paces with one pseudo-complaint each
       (b.all_7d + 1.0) / ((b.all_37d - b.all_7d) * (7.0 / 30.0) + 1.0)
           AS complaints__acceleration,
       CASE WHEN b.orders > 0 THEN (b.refunded + m.refund_rate * 20.0) / (b.orders + 20.0) END
           AS complaints__refund_rate,
       CASE WHEN b.orders > 0 THEN (b.cancelled + m.cancel_rate * 20.0) / (b.orders + 20.0) END
           AS complaints__cancel_rate
FROM base b CROSS JOIN m
ORDER BY b.seller_id
"""
