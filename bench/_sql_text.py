"""Hand-written DuckDB SQL for the seller-level ``text`` family (replica wording in titles).

Plain SQL over the views ``sellers`` and ``listings`` (the other contract tables are not
read by this family), with ``{as_of}`` filled in by ``str.format``. It mirrors
:mod:`riskscore.features.text`:

- listings created strictly before the cutoff, of sellers registered strictly before it;
- a title is normalised: lower-cased, full-width colon ``：`` to ``:``, ideographic space
  to a space, scale notation (``1:18``, ``2:1``, ``1:1 scale`` ...) blanked to ``#`` with
  the spaces still in place, then every space removed;
- a listing's score is the number of distinct replica terms (English + Chinese) its
  normalised title contains as a plain substring (a missing title scores 0);
- per seller: share of listings with a term, number of such listings, mean terms per
  listing; sellers without listings get NaN, 0, NaN.

The word lists and the scale regex are copied from the library's constants
(``REPLICA_TERMS_EN``, ``REPLICA_TERMS_ZH``, ``SCALE_WORDS``, ``SCALE_PATTERN``); braces
of the regex quantifiers are doubled for ``str.format``.
"""

from __future__ import annotations

__all__ = ["SQL"]

SQL: str = """
WITH
-- sellers known at the cutoff: one output row each
s AS (
    SELECT seller_id FROM sellers WHERE registered_at < TIMESTAMP '{as_of}'
),
-- listing titles normalised as riskscore.features.text.normalised_title does
norm AS (
    SELECT seller_id,
           replace(
               regexp_replace(
                   replace(replace(lower(title), '：', ':'), '\u3000', ' '),
                   -- scale notation, not replica wording (text.SCALE_PATTERN)
                   '[0-9]+ *: *[0-9]{{2,}}'
                   || '|[0-9]{{2,}} *: *[0-9]+'
                   || '|[02-9] *: *[0-9]+'
                   || '|[0-9]+ *: *[02-9]'
                   || '|1 *: *1 *(比例|scale|尺寸|size|模型|model|仿真|diecast)',
                   '#', 'g'),
               ' ', '') AS t
    FROM listings
    WHERE created_at < TIMESTAMP '{as_of}'
),
-- distinct replica terms per listing (plain substring matches; missing title -> 0)
per_listing AS (
    SELECT seller_id,
           coalesce(
               -- English (text.REPLICA_TERMS_EN)
                 contains(t, 'replica')::INT + contains(t, '1:1')::INT
               + contains(t, 'aaa')::INT + contains(t, 'originalquality')::INT
               + contains(t, 'mirrorquality')::INT + contains(t, 'supercopy')::INT
               + contains(t, 'highcopy')::INT + contains(t, 'knockoff')::INT
               + contains(t, 'fake')::INT
               -- Chinese (text.REPLICA_TERMS_ZH)
               + contains(t, '高仿')::INT + contains(t, 'a货')::INT
               + contains(t, '原单')::INT + contains(t, '复刻')::INT
               + contains(t, '精仿')::INT + contains(t, '仿品')::INT
               + contains(t, '超a')::INT + contains(t, '顶级复刻')::INT,
               0)::DOUBLE AS terms
    FROM norm
),
-- per seller: listings, listings with a term, terms in all
per_seller AS (
    SELECT seller_id,
           count(*)::DOUBLE AS listings,
           sum(CASE WHEN terms > 0 THEN 1.0 ELSE 0.0 END) AS replica,
           sum(terms) AS terms
    FROM per_listing GROUP BY seller_id
)
SELECT s.seller_id,
       CASE WHEN p.listings > 0 THEN p.replica / p.listings END AS text__replica_share,
       coalesce(p.replica, 0.0) AS text__replica_listings,
       CASE WHEN p.listings > 0 THEN p.terms / p.listings END AS text__replica_terms_per_listing
FROM s LEFT JOIN per_seller p USING (seller_id)
ORDER BY s.seller_id
"""
