"""Text: replica vocabulary in listing titles, in English and Chinese.

Titles are normalised (lower-cased, full-width colon to ``:``, scale notation blanked,
spaces removed) and searched for each term of :data:`REPLICA_TERMS_EN` and
:data:`REPLICA_TERMS_ZH` as a plain substring. Matching character sequences rather than
words is what makes Chinese work without a tokenizer (``高仿`` inside ``全新高仿手机``)
and catches spacing tricks (``1 : 1``, ``Original Quality``). A listing's score is the
number of distinct terms its title contains; seller features aggregate the seller's
listings (in a scoped build, the listings of the sellers in scope only).

Scale notation is not replica wording: "1:18 diecast", "1:64 合金车模型", "1:144 高达" and
"1:1 比例 仿真头盔 模型" / "1:1 scale model" are how honest model shops describe their goods.
Before the spaces go, :data:`SCALE_PATTERN` blanks every ratio other than a bare ``1:1``
and every ``1:1`` followed by a scale word, so only a bare "1:1" ("高仿 1:1", "1:1 原单")
counts. It runs with spaces still in place, so a product number followed by a tag
("LEGO 42056 1:1") is not read as the ratio "420561:1". The pattern uses no look-around,
so the same regular expression runs on every backend (RE2 in Polars and DuckDB, Java in
Spark, Python in pandas). Every alternative holds a colon, so the pattern is applied only
to titles that hold one (1.5 % of the simulator's): on Spark, where Java's matcher tries
each alternative at every position, the expression was most of the family's time.
"""

from __future__ import annotations

import math

import narwhals as nw

from riskscore.features._catalog import Family, FeatureSpec
from riskscore.features._context import AsOfContext, ratio

__all__ = [
    "FAMILIES",
    "REPLICA_TERMS_EN",
    "REPLICA_TERMS_ZH",
    "SCALE_PATTERN",
    "listing_text",
    "normalised_title",
]

NAN = math.nan

#: English (and Latin-script) replica vocabulary, normalised: lower case, no spaces.
REPLICA_TERMS_EN: tuple[str, ...] = (
    "replica",
    "1:1",
    "aaa",
    "originalquality",
    "mirrorquality",
    "supercopy",
    "highcopy",
    "knockoff",
    "fake",
)

#: Chinese replica vocabulary, normalised (Latin letters lower-cased).
REPLICA_TERMS_ZH: tuple[str, ...] = (
    "高仿",
    "a货",
    "原单",
    "复刻",
    "精仿",
    "仿品",
    "超a",
    "顶级复刻",
)


#: Words that make "1:1" a scale (life-size model) rather than a replica claim.
SCALE_WORDS: tuple[str, ...] = ("比例", "scale", "尺寸", "size", "模型", "model", "仿真", "diecast")

#: Scale notation blanked before matching (on lower-cased text, spaces still in place):
#: ratios with a side of two or more digits or a digit other than 1 ("1:18", "1:64",
#: "2:1"), and "1:1" followed by a scale word ("1:1 比例", "1:1 scale model").
SCALE_PATTERN: str = "|".join(
    (
        "[0-9]+ *: *[0-9]{2,}",
        "[0-9]{2,} *: *[0-9]+",
        "[02-9] *: *[0-9]+",
        "[0-9]+ *: *[02-9]",
        "1 *: *1 *(" + "|".join(SCALE_WORDS) + ")",
    )
)


def _seller_spec(**kw: str | float) -> FeatureSpec:
    return FeatureSpec(family="text", entity="seller", **kw)  # type: ignore[arg-type]


def _listing_spec(**kw: str | float) -> FeatureSpec:
    return FeatureSpec(family="text", entity="listing", **kw)  # type: ignore[arg-type]


_SELLER = (
    _seller_spec(
        name="text__replica_share",
        description="Share of the seller's listing titles containing a replica term.",
        unit="share",
        fill=NAN,
        reason_code="REPLICA_WORDING",
        signal="replica_wording",
        text_en='{value:.0%} of listing titles use replica wording such as "1:1" or "高仿"',
        text_zh="{value:.0%}的商品标题含“1:1”“高仿”等仿冒用语",
    ),
    _seller_spec(
        name="text__replica_listings",
        description="Number of the seller's listing titles containing a replica term.",
        unit="count",
        fill=0.0,
        reason_code="REPLICA_LISTINGS",
        signal="replica_wording",
        text_en="{value:.0f} listing titles use replica wording",
        text_zh="{value:.0f}件商品的标题含仿冒用语",
    ),
    _seller_spec(
        name="text__replica_terms_per_listing",
        description="Mean number of distinct replica terms per listing title.",
        unit="terms per listing",
        fill=NAN,
        reason_code="REPLICA_TERMS",
        signal="replica_wording",
        text_en="Listing titles carry {value:.2f} replica terms on average",
        text_zh="商品标题平均含{value:.2f}个仿冒用语",
    ),
)

_LISTING = (
    _listing_spec(
        name="text__replica_terms",
        description="Distinct replica terms (English and Chinese) in the title.",
        unit="count",
        fill=0.0,
        reason_code="LISTING_REPLICA_WORDING",
        signal="listing_replica_wording",
        text_en="The title uses {value:.0f} replica terms",
        text_zh="标题含{value:.0f}个仿冒用语",
    ),
    _listing_spec(
        name="text__replica_terms_en",
        description="Distinct English replica terms in the title (replica, 1:1, AAA, ...).",
        unit="count",
        fill=0.0,
        reason_code="LISTING_REPLICA_WORDING_EN",
        signal="listing_replica_wording",
        text_en='The title uses {value:.0f} English replica terms such as "replica" or "AAA"',
        text_zh="标题含{value:.0f}个英文仿冒用语（如replica、AAA）",
    ),
    _listing_spec(
        name="text__replica_terms_zh",
        description="Distinct Chinese replica terms in the title (高仿, A货, 原单, 复刻, ...).",
        unit="count",
        fill=0.0,
        reason_code="LISTING_REPLICA_WORDING_ZH",
        signal="listing_replica_wording",
        text_en='The title uses {value:.0f} Chinese replica terms such as "高仿" or "原单"',
        text_zh="标题含{value:.0f}个中文仿冒用语（如高仿、原单）",
    ),
)


def normalised_title(column: str = "title") -> nw.Expr:
    """Return the title lower-cased, full-width colons as ``:``, scale notation as ``#``, no spaces.

    Examples
    --------
    >>> import narwhals as nw
    >>> import pandas as pd
    >>> titles = pd.DataFrame({"title": ["高仿 1 ： 1 包", "1:18 Diecast", "1:1 Scale model"]})
    >>> nw.from_native(titles).select(normalised_title()).to_native()["title"].tolist()
    ['高仿1:1包', '#diecast', '#model']
    """
    text = (
        nw.col(column)
        .str.to_lowercase()
        .str.replace_all("：", ":", literal=True)
        .str.replace_all("\u3000", " ", literal=True)
    )
    # every alternative of the pattern holds a colon: most titles skip the regex
    scaled = (
        nw.when(text.str.contains(":", literal=True))
        .then(text.str.replace_all(SCALE_PATTERN, "#", literal=False))
        .otherwise(text)
    )
    return scaled.str.replace_all(" ", "", literal=True)


def _term_count(terms: tuple[str, ...]) -> nw.Expr:
    hits = [nw.col("norm").str.contains(t, literal=True).cast(nw.Float64) for t in terms]
    total = hits[0]
    for hit in hits[1:]:
        total = total + hit
    return total.fill_null(0.0)


def listing_text(ctx: AsOfContext) -> nw.LazyFrame:
    """Return ``listing_id``, ``seller_id``, ``terms_en``, ``terms_zh`` per listing."""

    def build() -> nw.LazyFrame:
        listings = ctx.own("listings", ["listing_id", "seller_id", "title"])
        return (
            listings.with_columns(norm=normalised_title())
            .with_columns(terms_en=_term_count(REPLICA_TERMS_EN))
            .with_columns(terms_zh=_term_count(REPLICA_TERMS_ZH))
            .select("listing_id", "seller_id", "terms_en", "terms_zh")
        )

    return ctx.memo("listing_text", build)


def _seller_text(ctx: AsOfContext) -> nw.LazyFrame:
    per_listing = (
        listing_text(ctx)
        .with_columns(terms=nw.col("terms_en") + nw.col("terms_zh"))
        .with_columns(replica=(nw.col("terms") > 0).cast(nw.Float64))
    )
    per_seller = per_listing.group_by("seller_id").agg(
        nw.col("replica").sum(), nw.col("terms").sum(), nw.len().alias("listings")
    )
    return per_seller.with_columns(nw.col("listings").cast(nw.Float64)).select(
        "seller_id",
        text__replica_share=ratio(nw.col("replica"), nw.col("listings")),
        text__replica_listings=nw.col("replica"),
        text__replica_terms_per_listing=ratio(nw.col("terms"), nw.col("listings")),
    )


def _listing_text(ctx: AsOfContext) -> nw.LazyFrame:
    return listing_text(ctx).select(
        "listing_id",
        text__replica_terms=nw.col("terms_en") + nw.col("terms_zh"),
        text__replica_terms_en=nw.col("terms_en"),
        text__replica_terms_zh=nw.col("terms_zh"),
    )


FAMILIES = (
    Family(
        name="text",
        entity="seller",
        specs=lambda windows: _SELLER,
        compute=_seller_text,
        description="Replica vocabulary in the seller's listing titles.",
    ),
    Family(
        name="text",
        entity="listing",
        specs=lambda windows: _LISTING,
        compute=_listing_text,
        description="Replica vocabulary in the listing's title.",
    ),
)
