"""Hand-written DuckDB SQL for the seller ``pricing`` family (no riskscore code inside).

Mirrors :mod:`riskscore.features.pricing` over the plain contract tables (views
``sellers``, ``products``, ``listings``, ...), at the cutoff ``{as_of}``:

- listings known before the cutoff (``created_at < as_of``), every seller's; ``products``
  is timeless and read whole;
- market price of a listing = first non-null of the catalogue ``reference_price`` (only
  when > 0), the median price of listings of the same product and currency, the median
  price of listings of the same category, brand (null brand = ``''``, its own group) and
  currency;
- price ratio = price / market price where the market price is > 0; its log where the
  ratio is > 0;
- robust z of the log ratio within the category: centre = median, scale = 1.4826 x MAD,
  or 1.2533 x mean absolute deviation when the MAD is 0; z = deviation when the scale is
  0 or missing;
- per seller: median and min ratio, share of priced listings under 0.6 x market
  (``FeatureParams.below_market``), median z, share of listings that name a brand and
  sit in a high-risk category (``riskscore._config.HIGH_RISK_CATEGORIES``, written out);
- one row per seller registered before the cutoff; sellers without listings get NULLs
  (the family's fill is NaN).

Join keys compare with ``=``, so a NULL category or currency never matches a market
statistic (the generated marketplace has none).
"""

from __future__ import annotations

__all__ = ["SQL"]

SQL: str = """
WITH
-- listings known before the cutoff (whole marketplace), with the catalogue price
l AS (
    SELECT l.listing_id, l.seller_id, l.product_id, l.category, l.brand,
           l.price::DOUBLE AS price, l.currency,
           coalesce(l.brand, '') AS brand_key,
           p.ref_catalogue
    FROM listings l
    LEFT JOIN (
        SELECT product_id, reference_price::DOUBLE AS ref_catalogue
        FROM products WHERE reference_price > 0
    ) p USING (product_id)
    WHERE l.created_at < TIMESTAMP '{as_of}'
),
-- market step 2: median price of the same product and currency
by_product AS (
    SELECT product_id, currency, median(price) AS ref_product
    FROM l WHERE product_id IS NOT NULL GROUP BY product_id, currency
),
-- market step 3: median price of the same category, brand and currency
by_brand AS (
    SELECT category, brand_key, currency, median(price) AS ref_brand
    FROM l GROUP BY category, brand_key, currency
),
-- each listing's market price: catalogue, else product median, else category+brand median
market AS (
    SELECT l.listing_id, l.seller_id, l.category, l.brand, l.price,
           coalesce(l.ref_catalogue, bp.ref_product, bb.ref_brand) AS market_price
    FROM l
    LEFT JOIN by_product bp ON bp.product_id = l.product_id AND bp.currency = l.currency
    LEFT JOIN by_brand bb
        ON bb.category = l.category AND bb.brand_key = l.brand_key AND bb.currency = l.currency
),
-- price ratio where the market price is > 0
ratios AS (
    SELECT listing_id, seller_id, category, brand,
           CASE WHEN market_price > 0 THEN price / market_price END AS price_ratio
    FROM market
),
-- its natural log where the ratio is > 0
priced AS (
    SELECT *,
           CASE WHEN price_ratio > 0 THEN ln(greatest(price_ratio, 1e-300)) END
               AS log_price_ratio
    FROM ratios
),
-- category centre: median log ratio
centre AS (
    SELECT category, median(log_price_ratio) AS category_centre FROM priced GROUP BY category
),
-- category scale: 1.4826 x MAD, else 1.2533 x mean absolute deviation
scale AS (
    SELECT category,
           CASE WHEN median(abs_dev) > 0 THEN median(abs_dev) * 1.4826
                ELSE avg(abs_dev) * 1.2533 END AS scale
    FROM (
        SELECT p.category, abs(p.log_price_ratio - c.category_centre) AS abs_dev
        FROM priced p JOIN centre c USING (category)
    ) GROUP BY category
),
-- robust z per listing (the deviation itself where the scale is 0 or missing)
z AS (
    SELECT p.*,
           CASE WHEN s.scale > 0 THEN (p.log_price_ratio - c.category_centre) / s.scale
                ELSE p.log_price_ratio - c.category_centre END AS price_z
    FROM priced p
    LEFT JOIN centre c USING (category)
    LEFT JOIN scale s USING (category)
),
-- per seller aggregates
agg AS (
    SELECT seller_id,
           median(price_ratio) AS median_ratio,
           min(price_ratio) AS min_ratio,
           count(price_ratio)::DOUBLE AS priced,
           count(*) FILTER (WHERE price_ratio < 0.6)::DOUBLE AS below,
           median(price_z) AS median_z,
           count(*) FILTER (
               WHERE brand IS NOT NULL AND brand <> ''
                 AND category IN ('phones', 'luxury', 'cosmetics', 'medicine', 'tobacco')
           )::DOUBLE AS branded_high_risk,
           count(*)::DOUBLE AS listings
    FROM z GROUP BY seller_id
)
SELECT s.seller_id,
       a.median_ratio AS pricing__median_price_ratio,
       a.min_ratio AS pricing__min_price_ratio,
       CASE WHEN a.priced > 0 THEN a.below / a.priced END AS pricing__share_below_market,
       a.median_z AS pricing__median_price_z,
       CASE WHEN a.listings > 0 THEN a.branded_high_risk / a.listings END
           AS pricing__share_branded_high_risk
FROM sellers s LEFT JOIN agg a USING (seller_id)
WHERE s.registered_at < TIMESTAMP '{as_of}'
ORDER BY s.seller_id
"""
