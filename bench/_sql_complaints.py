"""Hand-written DuckDB SQL for the seller-level ``complaints`` feature family.

One query over plain Parquet views (``sellers``, ``orders``, ``complaints``; the other
contract tables are not read), no riskscore code inside. ``{as_of}`` is the cutoff, filled
in with :meth:`str.format`. It returns one row per seller registered before the cutoff,
``seller_id`` then the family's features in the library's order, ordered by ``seller_id``.

Definitions, as in :mod:`riskscore.features.complaints` with the default parameters
(windows 7 / 30 / 90 days, prior weight 20 pseudo-orders):

- only orders and complaints with ``created_at < as_of`` count; a window of ``w`` days
  is ``[as_of - w days, as_of)``;
- complaint rate per kind and window, smoothed toward the marketplace rate:
  ``(complaints_w + 20 * market_rate_w) / (orders_w + 20)``, where ``market_rate_w`` is
  all complaints of the kind in the window over all orders in the window (0 when the
  marketplace has no order in it); the marketplace totals cover every seller's rows,
  registered before the cutoff or not;
- acceleration: ``(c_7 + 1) / ((c_37 - c_7) * 7/30 + 1)`` over complaints of any kind;
- refund (cancel) rate: orders with ``refunded_at`` (``cancelled_at``) before the cutoff,
  over all orders before the cutoff, smoothed the same way toward the marketplace's
  lifetime refund (cancel) rate. The Parquet orders table has both time columns, so
  these are the point-in-time versions of the features.

Sellers without orders or complaints count zeros, so every feature has a value.
"""

from __future__ import annotations

__all__ = ["SQL"]

SQL: str = """
WITH
-- sellers known at the cutoff: the rows of the result
s AS (
    SELECT seller_id FROM sellers WHERE registered_at < TIMESTAMP '{as_of}'
),
-- orders placed before the cutoff, per seller: windowed and lifetime counts, and how many
-- were refunded / cancelled before the cutoff (point in time, by refunded_at / cancelled_at)
o AS (
    SELECT seller_id,
           count(*)::DOUBLE AS orders,
           (count(*) FILTER (WHERE created_at >= TIMESTAMP '{as_of}' - INTERVAL 7 DAY))::DOUBLE
               AS orders_7d,
           (count(*) FILTER (WHERE created_at >= TIMESTAMP '{as_of}' - INTERVAL 30 DAY))::DOUBLE
               AS orders_30d,
           (count(*) FILTER (WHERE created_at >= TIMESTAMP '{as_of}' - INTERVAL 90 DAY))::DOUBLE
               AS orders_90d,
           (count(*) FILTER (WHERE refunded_at < TIMESTAMP '{as_of}'))::DOUBLE AS refunded,
           (count(*) FILTER (WHERE cancelled_at < TIMESTAMP '{as_of}'))::DOUBLE AS cancelled
    FROM orders
    WHERE created_at < TIMESTAMP '{as_of}'
    GROUP BY seller_id
),
-- complaints filed before the cutoff, tagged with the kinds that have their own rate
c_rows AS (
    SELECT seller_id, created_at,
           coalesce(kind = 'counterfeit', false) AS is_cf,
           coalesce(kind = 'not_received', false) AS is_nr,
           coalesce(kind = 'not_as_described', false) AS is_nad
    FROM complaints
    WHERE created_at < TIMESTAMP '{as_of}'
),
-- complaint counts per seller, kind and window (37 days: the acceleration's 7 + 30)
c AS (
    SELECT seller_id,
           (count(*) FILTER (WHERE in7))::DOUBLE                 AS all_7d,
           (count(*) FILTER (WHERE in30))::DOUBLE                AS all_30d,
           (count(*) FILTER (WHERE in90))::DOUBLE                AS all_90d,
           (count(*) FILTER (WHERE in37))::DOUBLE                AS all_37d,
           (count(*) FILTER (WHERE in7 AND is_cf))::DOUBLE       AS cf_7d,
           (count(*) FILTER (WHERE in30 AND is_cf))::DOUBLE      AS cf_30d,
           (count(*) FILTER (WHERE in90 AND is_cf))::DOUBLE      AS cf_90d,
           (count(*) FILTER (WHERE in7 AND is_nr))::DOUBLE       AS nr_7d,
           (count(*) FILTER (WHERE in30 AND is_nr))::DOUBLE      AS nr_30d,
           (count(*) FILTER (WHERE in90 AND is_nr))::DOUBLE      AS nr_90d,
           (count(*) FILTER (WHERE in7 AND is_nad))::DOUBLE      AS nad_7d,
           (count(*) FILTER (WHERE in30 AND is_nad))::DOUBLE     AS nad_30d,
           (count(*) FILTER (WHERE in90 AND is_nad))::DOUBLE     AS nad_90d
    FROM (
        SELECT *,
               created_at >= TIMESTAMP '{as_of}' - INTERVAL 7 DAY  AS in7,
               created_at >= TIMESTAMP '{as_of}' - INTERVAL 30 DAY AS in30,
               created_at >= TIMESTAMP '{as_of}' - INTERVAL 37 DAY AS in37,
               created_at >= TIMESTAMP '{as_of}' - INTERVAL 90 DAY AS in90
        FROM c_rows
    )
    GROUP BY seller_id
),
-- marketplace totals over every seller's orders and complaints (the smoothing prior)
m_totals AS (
    SELECT o.*, c.*
    FROM (SELECT sum(orders) AS orders, sum(refunded) AS refunded, sum(cancelled) AS cancelled,
                 sum(orders_7d) AS orders_7d, sum(orders_30d) AS orders_30d,
                 sum(orders_90d) AS orders_90d
          FROM o) o
    CROSS JOIN
         (SELECT coalesce(sum(all_7d), 0) AS all_7d, coalesce(sum(all_30d), 0) AS all_30d,
                 coalesce(sum(all_90d), 0) AS all_90d,
                 coalesce(sum(cf_7d), 0) AS cf_7d, coalesce(sum(cf_30d), 0) AS cf_30d,
                 coalesce(sum(cf_90d), 0) AS cf_90d,
                 coalesce(sum(nr_7d), 0) AS nr_7d, coalesce(sum(nr_30d), 0) AS nr_30d,
                 coalesce(sum(nr_90d), 0) AS nr_90d,
                 coalesce(sum(nad_7d), 0) AS nad_7d, coalesce(sum(nad_30d), 0) AS nad_30d,
                 coalesce(sum(nad_90d), 0) AS nad_90d
          FROM c) c
),
-- marketplace rates: events / orders, 0 where the marketplace has no orders
m AS (
    SELECT
        CASE WHEN orders > 0 THEN refunded / orders ELSE 0.0 END    AS refund_rate,
        CASE WHEN orders > 0 THEN cancelled / orders ELSE 0.0 END   AS cancel_rate,
        CASE WHEN orders_7d > 0 THEN all_7d / orders_7d ELSE 0.0 END    AS all_7d,
        CASE WHEN orders_30d > 0 THEN all_30d / orders_30d ELSE 0.0 END AS all_30d,
        CASE WHEN orders_90d > 0 THEN all_90d / orders_90d ELSE 0.0 END AS all_90d,
        CASE WHEN orders_7d > 0 THEN cf_7d / orders_7d ELSE 0.0 END     AS cf_7d,
        CASE WHEN orders_30d > 0 THEN cf_30d / orders_30d ELSE 0.0 END  AS cf_30d,
        CASE WHEN orders_90d > 0 THEN cf_90d / orders_90d ELSE 0.0 END  AS cf_90d,
        CASE WHEN orders_7d > 0 THEN nr_7d / orders_7d ELSE 0.0 END     AS nr_7d,
        CASE WHEN orders_30d > 0 THEN nr_30d / orders_30d ELSE 0.0 END  AS nr_30d,
        CASE WHEN orders_90d > 0 THEN nr_90d / orders_90d ELSE 0.0 END  AS nr_90d,
        CASE WHEN orders_7d > 0 THEN nad_7d / orders_7d ELSE 0.0 END    AS nad_7d,
        CASE WHEN orders_30d > 0 THEN nad_30d / orders_30d ELSE 0.0 END AS nad_30d,
        CASE WHEN orders_90d > 0 THEN nad_90d / orders_90d ELSE 0.0 END AS nad_90d
    FROM m_totals
),
-- one row per known seller, missing counts as zero
base AS (
    SELECT s.seller_id,
           coalesce(o.orders, 0.0) AS orders,
           coalesce(o.orders_7d, 0.0) AS orders_7d,
           coalesce(o.orders_30d, 0.0) AS orders_30d,
           coalesce(o.orders_90d, 0.0) AS orders_90d,
           coalesce(o.refunded, 0.0) AS refunded,
           coalesce(o.cancelled, 0.0) AS cancelled,
           coalesce(c.all_7d, 0.0) AS all_7d, coalesce(c.all_30d, 0.0) AS all_30d,
           coalesce(c.all_90d, 0.0) AS all_90d, coalesce(c.all_37d, 0.0) AS all_37d,
           coalesce(c.cf_7d, 0.0) AS cf_7d, coalesce(c.cf_30d, 0.0) AS cf_30d,
           coalesce(c.cf_90d, 0.0) AS cf_90d,
           coalesce(c.nr_7d, 0.0) AS nr_7d, coalesce(c.nr_30d, 0.0) AS nr_30d,
           coalesce(c.nr_90d, 0.0) AS nr_90d,
           coalesce(c.nad_7d, 0.0) AS nad_7d, coalesce(c.nad_30d, 0.0) AS nad_30d,
           coalesce(c.nad_90d, 0.0) AS nad_90d
    FROM s LEFT JOIN o USING (seller_id) LEFT JOIN c USING (seller_id)
)
-- smoothed rates: (events + 20 * market rate) / (orders + 20)
SELECT b.seller_id,
       (b.all_7d + m.all_7d * 20.0) / (b.orders_7d + 20.0)    AS complaints__rate_7d,
       (b.all_30d + m.all_30d * 20.0) / (b.orders_30d + 20.0) AS complaints__rate_30d,
       (b.all_90d + m.all_90d * 20.0) / (b.orders_90d + 20.0) AS complaints__rate_90d,
       (b.cf_7d + m.cf_7d * 20.0) / (b.orders_7d + 20.0)      AS complaints__counterfeit_rate_7d,
       (b.cf_30d + m.cf_30d * 20.0) / (b.orders_30d + 20.0)   AS complaints__counterfeit_rate_30d,
       (b.cf_90d + m.cf_90d * 20.0) / (b.orders_90d + 20.0)   AS complaints__counterfeit_rate_90d,
       (b.nr_7d + m.nr_7d * 20.0) / (b.orders_7d + 20.0)      AS complaints__not_received_rate_7d,
       (b.nr_30d + m.nr_30d * 20.0) / (b.orders_30d + 20.0)
           AS complaints__not_received_rate_30d,
       (b.nr_90d + m.nr_90d * 20.0) / (b.orders_90d + 20.0)
           AS complaints__not_received_rate_90d,
       (b.nad_7d + m.nad_7d * 20.0) / (b.orders_7d + 20.0)
           AS complaints__not_as_described_rate_7d,
       (b.nad_30d + m.nad_30d * 20.0) / (b.orders_30d + 20.0)
           AS complaints__not_as_described_rate_30d,
       (b.nad_90d + m.nad_90d * 20.0) / (b.orders_90d + 20.0)
           AS complaints__not_as_described_rate_90d,
       -- last 7 days vs the 30 before, as daily paces with one pseudo-complaint each
       (b.all_7d + 1.0) / ((b.all_37d - b.all_7d) * (7.0 / 30.0) + 1.0)
           AS complaints__acceleration,
       (b.refunded + m.refund_rate * 20.0) / (b.orders + 20.0)  AS complaints__refund_rate,
       (b.cancelled + m.cancel_rate * 20.0) / (b.orders + 20.0) AS complaints__cancel_rate
FROM base b CROSS JOIN m
ORDER BY b.seller_id
"""
