"""Pricing: how far a listing's price sits from the market price of the same product.

Counterfeits sell far below the genuine article's price. For each listing known before
``as_of`` the *market price* is the first available of

1. the catalogue ``products.reference_price`` of its ``product_id`` (when > 0),
2. the median price of listings of the same ``product_id`` and currency,
3. the median price of listings of the same category, brand (unbranded is its own
   group) and currency,

all over listings created before ``as_of``. From it: the price ratio, its natural log,
and a robust z-score of the log ratio within the category (median and 1.4826 × median
absolute deviation; mean absolute deviation × 1.2533 when the MAD is 0). Seller features
aggregate the seller's listings; listing features are the listing's own values.

Without a ``products`` table the market price falls back to steps 2 and 3.

The medians of steps 2 and 3 and the category centre and scale of the z-score are
marketplace statistics. A full build computes the product medians from the listings
that can read them (products without a catalogue price) and joins them, then attaches
the rest to every listing with :func:`~riskscore.features._grouped.attach`: on Spark
one shuffle of the listings by category (the brand medians, the market prices and the
category centre and spread, which depend on each other, where the rows meet), and one by
seller for the per-seller values, in one query; the product medians are a broadcast
stage of it, so nothing is collected to the driver before the family's rows are. A
scoped build prices the listings of the sellers in scope against the whole
marketplace's statistics (:meth:`AsOfContext.market_value`, computed once per
:class:`~riskscore.features.MarketStats` by
:func:`~riskscore.features._grouped.aggregate_small`) and joins them; both paths share
the expressions of the market price and the z-score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import narwhals as nw

from riskscore.features._catalog import Family, FeatureSpec
from riskscore.features._context import AsOfContext, FeatureParams, ratio
from riskscore.features._grouped import (
    Columns,
    Grouping,
    Step,
    aggregate,
    aggregate_small,
    apply_steps,
    attach,
)

__all__ = ["FAMILIES", "listing_prices"]

NAN = math.nan

#: The defaults the catalog texts quote.
_BELOW = FeatureParams().below_market
_HIGH_RISK = FeatureParams().high_risk_categories
#: Chinese names of the high-risk categories (a new category needs one here).
_CATEGORY_ZH = {
    "phones": "手机",
    "luxury": "奢侈品",
    "cosmetics": "化妆品",
    "medicine": "药品",
    "tobacco": "烟草",
}
_HIGH_RISK_EN = ", ".join(_HIGH_RISK)
_HIGH_RISK_ZH = "、".join(_CATEGORY_ZH[c] for c in _HIGH_RISK)

_SELLER = (
    FeatureSpec(
        name="pricing__median_price_ratio",
        family="pricing",
        entity="seller",
        description=(
            "Median over the seller's listings of price / market price of the same product."
        ),
        unit="ratio",
        fill=NAN,
        reason_code="PRICE_FAR_BELOW_MARKET",
        signal="price_vs_market",
        text_en="Median price is {value:.0%} of the market price for the same products",
        text_zh="同款商品售价中位数为市场价的{value:.0%}",
    ),
    FeatureSpec(
        name="pricing__min_price_ratio",
        family="pricing",
        entity="seller",
        description="Lowest price / market price over the seller's listings.",
        unit="ratio",
        fill=NAN,
        reason_code="LOWEST_PRICE_FAR_BELOW_MARKET",
        signal="price_vs_market",
        text_en="The cheapest listing is priced at {value:.0%} of its market price",
        text_zh="最低价商品售价仅为市场价的{value:.0%}",
    ),
    FeatureSpec(
        name="pricing__share_below_market",
        family="pricing",
        entity="seller",
        description=(
            f"Share of the seller's priced listings under {_BELOW:g} × market price "
            "(FeatureParams.below_market)."
        ),
        unit="share",
        fill=NAN,
        reason_code="MANY_LISTINGS_BELOW_MARKET",
        signal="price_vs_market",
        text_en=f"{{value:.0%}} of listings are priced under {_BELOW:.0%} of the market price",
        text_zh=f"{{value:.0%}}的商品售价低于市场价的{_BELOW:.0%}",
    ),
    FeatureSpec(
        name="pricing__median_price_z",
        family="pricing",
        entity="seller",
        description=(
            "Median over the seller's listings of the robust z-score of log(price / market "
            "price) within the listing's category."
        ),
        unit="robust z-score",
        fill=NAN,
        reason_code="PRICE_OUTLIER_IN_CATEGORY",
        signal="price_vs_market",
        text_en=(
            "Prices sit {value:+.1f} robust standard deviations from the category's usual "
            "price-to-market level"
        ),
        text_zh="售价相对市场价的水平偏离同类目常态{value:+.1f}个稳健标准差",
    ),
    FeatureSpec(
        name="pricing__share_branded_high_risk",
        family="pricing",
        entity="seller",
        description=(
            "Share of the seller's listings that name a brand and sit in a high-risk "
            f"category ({_HIGH_RISK_EN})."
        ),
        unit="share",
        fill=NAN,
        reason_code="BRANDED_HIGH_RISK_CATEGORIES",
        signal="high_risk_assortment",
        text_en=(
            f"{{value:.0%}} of listings are branded goods in high-risk categories ({_HIGH_RISK_EN})"
        ),
        text_zh=f"{{value:.0%}}的商品为高风险类目（{_HIGH_RISK_ZH}）的品牌商品",
    ),
)

_LISTING = (
    FeatureSpec(
        name="pricing__price_ratio",
        family="pricing",
        entity="listing",
        description="Price / market price of the same product.",
        unit="ratio",
        fill=NAN,
        reason_code="LISTING_PRICE_BELOW_MARKET",
        signal="listing_price",
        text_en="Price is {value:.0%} of the market price for the same product",
        text_zh="售价为同款商品市场价的{value:.0%}",
    ),
    FeatureSpec(
        name="pricing__log_price_ratio",
        family="pricing",
        entity="listing",
        description="Natural log of price / market price (0 = at market).",
        unit="log ratio",
        fill=NAN,
        reason_code="LISTING_LOG_PRICE_RATIO",
        signal="listing_price",
        text_en="Price is {value:+.2f} log units from the market price for the same product",
        text_zh="售价与同款商品市场价的对数差为{value:+.2f}",
    ),
    FeatureSpec(
        name="pricing__price_z",
        family="pricing",
        entity="listing",
        description=("Robust z-score of log(price / market price) within the listing's category."),
        unit="robust z-score",
        fill=NAN,
        reason_code="LISTING_PRICE_OUTLIER",
        signal="listing_price",
        text_en=(
            "Price sits {value:+.1f} robust standard deviations from the category's usual "
            "price-to-market level"
        ),
        text_zh="售价相对市场价的水平偏离同类目常态{value:+.1f}个稳健标准差",
    ),
)

_MAD_SCALE = 1.4826
_MEAN_AD_SCALE = 1.2533


def _listings(ctx: AsOfContext, own: bool) -> nw.LazyFrame:
    """Return listings before ``as_of`` (own, or every seller's) with the catalogue price."""
    columns = ["listing_id", "seller_id", "product_id", "category", "brand", "price", "currency"]
    listings = (ctx.own if own else ctx.table)("listings", columns).with_columns(
        nw.col("price").cast(nw.Float64), brand_key=nw.col("brand").fill_null("")
    )
    if ctx.has("products"):
        catalogue = (
            ctx.table("products", ["product_id", "reference_price"])
            .with_columns(nw.col("reference_price").cast(nw.Float64))
            .filter(nw.col("reference_price") > 0)
            .rename({"reference_price": "ref_catalogue"})
        )
        listings = listings.join(catalogue, on="product_id", how="left")
    return listings


def _market_listings(ctx: AsOfContext) -> nw.LazyFrame:
    """Every seller's listings before ``as_of`` with the catalogue price (lazy).

    Not kept on Spark: a full build reads it twice (:func:`_attached`, and three columns
    of the rows :func:`_unlisted_product_prices` reads); a scoped build's marketplace
    statistics read it once per pass (``docs/architecture.md``, "Spark plans").
    """
    return ctx.memo("pricing_listings", lambda: _listings(ctx, own=False), materialise=False)


#: The product medians: price per product and currency.
_BY_PRODUCT: Grouping = (["product_id", "currency"], {"ref_product": ("price", "median")})
#: The brand medians: price per category, brand ("" where none) and currency.
_BY_BRAND: Grouping = (["category", "brand_key", "currency"], {"ref_brand": ("price", "median")})


def _market_prices(ctx: AsOfContext) -> dict[str, nw.LazyFrame]:
    """Median price of each product, and of each category and brand, per currency.

    Marketplace statistics, both from every seller's listings: one pass over them on
    Spark (:func:`~riskscore.features._grouped.aggregate_small`). Listings without a
    product form a group of their own, dropped here: they have no product price.
    """

    def build() -> dict[str, nw.LazyFrame]:
        got = aggregate_small(
            _market_listings(ctx),
            {"product": _BY_PRODUCT, "brand": _BY_BRAND},
            "the market prices of products and brands",
        )
        got["product"] = got["product"].filter(~nw.col("product_id").is_null())
        return got

    return ctx.memo("pricing_market_prices", build, materialise=False)


def _by_product(ctx: AsOfContext) -> nw.LazyFrame:
    """Median price of listings of each product and currency (marketplace)."""
    return _market_prices(ctx)["product"]


def _by_brand(ctx: AsOfContext) -> nw.LazyFrame:
    """Median price of listings of each category, brand and currency (marketplace)."""
    return _market_prices(ctx)["brand"]


def _market_price_steps(ctx: AsOfContext) -> list[Columns]:
    """Market price (the first reference found), price ratio and log ratio, in order.

    Read from ``ref_catalogue`` (with a products table), ``ref_product`` and ``ref_brand``.
    """
    refs = [nw.col("ref_product"), nw.col("ref_brand")]
    if ctx.has("products"):
        refs.insert(0, nw.col("ref_catalogue"))
    return [
        Columns((nw.coalesce(*refs).alias("market_price"),)),
        Columns((ratio(nw.col("price"), nw.col("market_price")).alias("price_ratio"),)),
        Columns(
            (
                # clipped so that no backend evaluates log(0), even in the branch not taken
                nw.when(nw.col("price_ratio") > 0)
                .then(nw.col("price_ratio").clip(lower_bound=1e-300).log())
                .alias("log_price_ratio"),
            )
        ),
    ]


#: The category statistics of the z-score: centre and spreads of the log price ratio.
_SPREAD: Grouping = (
    ["category"],
    {
        "category_centre": ("log_price_ratio", "median"),
        "mad": ("log_price_ratio", "median_abs_dev"),
        "mean_ad": ("log_price_ratio", "mean_abs_dev"),
    },
)
#: The robust scale from the spreads: 1.4826 x MAD, or 1.2533 x mean deviation at MAD 0.
_SCALE = (
    nw.when(nw.col("mad") > 0)
    .then(nw.col("mad") * _MAD_SCALE)
    .otherwise(nw.col("mean_ad") * _MEAN_AD_SCALE)
    .alias("scale")
)
#: The z-score from the centre and scale; scale 0 means every priced listing of the
#: category sits at its centre: z = 0.
_Z_STEPS = (
    Columns(((nw.col("log_price_ratio") - nw.col("category_centre")).alias("deviation"),)),
    Columns(
        (
            nw.when(nw.col("scale") > 0)
            .then(nw.col("deviation") / nw.col("scale"))
            .otherwise(nw.col("deviation"))
            .alias("price_z"),
        )
    ),
)


def _priced(ctx: AsOfContext, listings: nw.LazyFrame) -> nw.LazyFrame:
    """Return ``listings`` priced against the marketplace's statistics (joined)."""
    by_product = ctx.market_value("pricing_by_product", _by_product)
    by_brand = ctx.market_value("pricing_by_brand", _by_brand)
    listings = listings.join(by_product, on=["product_id", "currency"], how="left").join(
        by_brand, on=["category", "brand_key", "currency"], how="left"
    )
    return apply_steps(listings, _market_price_steps(ctx))


def _all_priced(ctx: AsOfContext) -> nw.LazyFrame:
    """Every seller's listings, priced (marketplace; lazy on Spark, as the listings)."""
    return ctx.memo(
        "pricing_priced_all", lambda: _priced(ctx, _market_listings(ctx)), materialise=False
    )


def _category_scale(ctx: AsOfContext) -> nw.LazyFrame:
    """Centre (median) and robust scale of the log price ratio per category (marketplace)."""
    spread = aggregate_small(
        _all_priced(ctx), {"scale": _SPREAD}, "the category spread of price ratios"
    )["scale"]
    return spread.select("category", "category_centre", _SCALE)


#: The columns of :func:`listing_prices`.
_PRICES = (
    "listing_id",
    "seller_id",
    "category",
    "brand",
    "market_price",
    "price_ratio",
    "log_price_ratio",
    "price_z",
)


def _unlisted_product_prices(ctx: AsOfContext) -> nw.LazyFrame:
    """Median price of each product and currency with no catalogue price (marketplace).

    The only listings whose market price can be the product median: a product with a
    catalogue price has it on every listing, so its median is never read. On Spark one
    pass of those listings' product, currency and price
    (:func:`~riskscore.features._grouped.aggregate_small`), left in the plan that joins
    it and marked for broadcast: it runs as a stage of the family's query, just before
    the scan that joins it and moves the listings by category (the join is in that
    scan's stage), and the other listings do not move for it.
    """
    known = ~nw.col("product_id").is_null() & ~nw.col("currency").is_null()
    if ctx.has("products"):
        known = known & nw.col("ref_catalogue").is_null()
    rows = _market_listings(ctx).filter(known).select("product_id", "currency", "price")
    got = aggregate_small(
        rows, {"product": _BY_PRODUCT}, "the median prices of products", lazy=True
    )
    return got["product"]


def _attached(ctx: AsOfContext, extra: tuple[Columns, ...], keep: Sequence[str]) -> nw.LazyFrame:
    """Every seller's listings priced, with z-scores: one :func:`attach` call by category.

    The unscoped build. The product medians (:func:`_unlisted_product_prices`) are
    joined first (on Spark a broadcast stage of the same query); the listings then move
    once by category, the brand medians, the market prices and the category spread
    computed where the rows meet, nothing collected to the driver; the rows carry only
    what the steps read and ``keep``.
    """
    listings = _market_listings(ctx)
    read = {"category", "brand_key", "price", "currency", "ref_catalogue", *keep}
    later = [c for c in listings.collect_schema().names() if c in read]
    rows = listings.join(
        ctx.memo(
            "pricing_product_prices", lambda: _unlisted_product_prices(ctx), materialise=False
        ),
        on=["product_id", "currency"],
        how="left",
    ).select(*later, "ref_product")
    steps: list[Step] = [_BY_BRAND, *_market_price_steps(ctx), _SPREAD, Columns((_SCALE,))]
    return attach(rows, ["category"], [*steps, *_Z_STEPS, *extra], keep)


def _priced_listings(
    ctx: AsOfContext, extra: tuple[Columns, ...], keep: Sequence[str]
) -> nw.LazyFrame:
    """Return the listings before ``as_of`` priced, with ``extra`` columns: ``keep`` only.

    Scoped: the sellers in scope, priced against the marketplace's statistics (joined).
    """
    if not ctx.scoped:
        return _attached(ctx, extra, keep)
    priced = _priced(ctx, _listings(ctx, own=True))
    scale = ctx.market_value("pricing_category_scale", _category_scale)
    priced = priced.join(scale, on="category", how="left")
    return apply_steps(priced, [*_Z_STEPS, *extra], keep)


def listing_prices(ctx: AsOfContext) -> nw.LazyFrame:
    """Return one row per listing before ``as_of`` with its market price and derived values.

    Columns: ``listing_id``, ``seller_id``, ``category``, ``brand``, ``market_price``,
    ``price_ratio``, ``log_price_ratio``, ``price_z`` (nulls where no market price). In a
    scoped context: the listings of the sellers in scope, priced against the marketplace.
    """
    if ctx.entity == "listing":
        return _listing_build_prices(ctx).select(*_PRICES)
    return ctx.memo("listing_prices", lambda: _priced_listings(ctx, (), _PRICES), materialise=False)


#: The per-listing flags the seller features count.
_FLAGS = ("below", "branded_high_risk")
#: What the seller features read of each listing.
_SELLER_READS = ("seller_id", "price_ratio", "price_z", *_FLAGS)


def _flags(ctx: AsOfContext) -> Columns:
    """Return the step computing :data:`_FLAGS` from a priced listing."""
    params = ctx.params
    high_risk = list(params.high_risk_categories)
    return Columns(
        (
            (nw.col("price_ratio") < params.below_market).cast(nw.Float64).alias("below"),
            # brand_key is the brand, "" where none: a brand is named
            ((nw.col("brand_key") != "") & nw.col("category").is_in(high_risk))
            .cast(nw.Float64)
            .alias("branded_high_risk"),
        )
    )


def _listing_build_prices(ctx: AsOfContext) -> nw.LazyFrame:
    """Return a listing build's priced listings: the prices and the flags, priced once.

    A listing build computes the seller features too; both pricing families read these
    rows (kept on Spark), instead of one pass each.
    """
    return ctx.memo(
        "pricing_listing_build", lambda: _priced_listings(ctx, (_flags(ctx),), (*_PRICES, *_FLAGS))
    )


def _seller_listings(ctx: AsOfContext) -> nw.LazyFrame:
    """Return the listings' values the seller features aggregate (fewer than the prices)."""
    if ctx.entity == "listing":
        return _listing_build_prices(ctx).select(*_SELLER_READS)
    return _priced_listings(ctx, (_flags(ctx),), _SELLER_READS)


def _seller_pricing(ctx: AsOfContext) -> nw.LazyFrame:
    per_seller = aggregate(
        _seller_listings(ctx),
        ["seller_id"],
        {
            "median_ratio": ("price_ratio", "median"),
            "min_ratio": ("price_ratio", "min"),
            "priced": ("price_ratio", "count"),
            "below": ("below", "sum"),
            "median_z": ("price_z", "median"),
            "branded_high_risk": ("branded_high_risk", "sum"),
            "listings": ("price_ratio", "len"),
        },
    )
    return per_seller.select(
        "seller_id",
        pricing__median_price_ratio=nw.col("median_ratio"),
        pricing__min_price_ratio=nw.col("min_ratio"),
        pricing__share_below_market=ratio(nw.col("below"), nw.col("priced")),
        pricing__median_price_z=nw.col("median_z"),
        pricing__share_branded_high_risk=ratio(nw.col("branded_high_risk"), nw.col("listings")),
    )


def _listing_pricing(ctx: AsOfContext) -> nw.LazyFrame:
    return listing_prices(ctx).select(
        "listing_id",
        pricing__price_ratio=nw.col("price_ratio"),
        pricing__log_price_ratio=nw.col("log_price_ratio"),
        pricing__price_z=nw.col("price_z"),
    )


FAMILIES = (
    Family(
        name="pricing",
        entity="seller",
        specs=lambda windows: _SELLER,
        compute=_seller_pricing,
        description="Seller prices relative to the market price of the same products.",
    ),
    Family(
        name="pricing",
        entity="listing",
        specs=lambda windows: _LISTING,
        compute=_listing_pricing,
        description="A listing's price relative to the market price of the same product.",
    ),
)
