"""Listings: category, product or brand, reference and asking price, title.

Listing creation times are set later, from the orders they receive (a listing goes up
before its first order).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskscore.datasets import _catalogue as cat
from riskscore.datasets import _ids
from riskscore.datasets import _scenario as sc
from riskscore.datasets._sellers import (
    CLICK_FARM,
    COUNTERFEIT,
    DISCOUNT,
    FAKE_PHONE,
    LEGIT,
    NEW_LEGIT,
    RING,
    SellerPlan,
)

PRODUCT, BRAND_ONLY, UNBRANDED = range(3)
_PHONES = cat.CATEGORIES.index("phones")
_ELECTRONICS = cat.CATEGORIES.index("electronics")
_TOYS = cat.CATEGORIES.index("toys")
_SECOND_HAND_CATS = np.isin(np.array(cat.CATEGORIES), ["phones", "luxury", "electronics"])


@dataclass
class Catalogue:
    """Products and title vocabulary as arrays."""

    category: np.ndarray  # category index per product
    brand: np.ndarray  # brand index per product
    price: np.ndarray  # reference price per product
    names: pa.Array
    brands: tuple[str, ...]
    brand_names: pa.Array
    alias_pool: pa.Array
    alias_offset: np.ndarray  # per brand
    alias_count: np.ndarray
    cum_within: np.ndarray  # product popularity: category index + cumulative share
    noun_pool: pa.Array
    noun_offset: np.ndarray  # per category, then per brand
    noun_count: np.ndarray
    generic_pool: pa.Array
    generic_price: np.ndarray
    generic_offset: np.ndarray
    generic_count: np.ndarray
    tag_pool: pa.Array
    tag_offset: dict[str, int]
    tag_count: dict[str, int]


def load_catalogue() -> Catalogue:
    """Turn the declared vocabulary of :mod:`._catalogue` into arrays."""
    brands = tuple(cat.BRAND_ALIASES)
    brand_index = {b: i for i, b in enumerate(brands)}
    products = cat.PRODUCTS
    category = np.array([cat.CATEGORIES.index(p[0]) for p in products])
    brand = np.array([brand_index[p[1]] for p in products])
    popularity = np.array([p[4] for p in products])
    # Cumulative popularity within each category, shifted by the category index, so one
    # searchsorted picks a product for many listings of different categories at once.
    cum_within = np.empty(len(products))
    for c in range(len(cat.CATEGORIES)):
        idx = np.flatnonzero(category == c)
        share = np.cumsum(popularity[idx]) / popularity[idx].sum()
        share[-1] = 1.0
        cum_within[idx] = c + share
    order = np.argsort(cum_within, kind="stable")
    if not np.array_equal(order, np.arange(len(products))):
        raise AssertionError("catalogue products must be grouped by category, in order")

    def pool(groups: list[tuple[str, ...]]) -> tuple[pa.Array, np.ndarray, np.ndarray]:
        flat = [w for g in groups for w in g]
        count = np.array([len(g) for g in groups])
        offset = np.concatenate([[0], np.cumsum(count)[:-1]])
        return pa.array(flat, type=pa.string()), offset, count

    alias_pool, alias_offset, alias_count = pool([cat.BRAND_ALIASES[b] for b in brands])
    # Noun groups: one per category, then one per brand (its own words, or a copy of
    # nothing: brands without their own words fall back to the category's group).
    noun_pool, noun_offset, noun_count = pool(
        list(cat.ITEM_NOUNS) + [cat.BRAND_NOUNS.get(b, ()) for b in brands]
    )
    generic_pool, generic_offset, generic_count = pool(
        [tuple(t for t, _ in g) for g in cat.GENERIC_ITEMS]
    )
    tag_names = tuple(cat.TAGS)
    tag_pool, tag_off, tag_cnt = pool([cat.TAGS[t] for t in tag_names])
    return Catalogue(
        category=category,
        brand=brand,
        price=np.array([p[3] for p in products]),
        names=pa.array([p[2] for p in products], type=pa.string()),
        brands=brands,
        brand_names=pa.array(list(brands), type=pa.string()),
        alias_pool=alias_pool,
        alias_offset=alias_offset,
        alias_count=alias_count,
        cum_within=cum_within,
        noun_pool=noun_pool,
        noun_offset=noun_offset,
        noun_count=noun_count,
        generic_pool=generic_pool,
        generic_price=np.array([p for g in cat.GENERIC_ITEMS for _, p in g]),
        generic_offset=generic_offset,
        generic_count=generic_count,
        tag_pool=tag_pool,
        tag_offset={t: int(o) for t, o in zip(tag_names, tag_off, strict=True)},
        tag_count={t: int(c) for t, c in zip(tag_names, tag_cnt, strict=True)},
    )


@dataclass
class ListingPlan:
    """Per-listing arrays, grouped by seller (seller 0's listings first)."""

    seller: np.ndarray
    start: np.ndarray  # per seller: index of its first listing
    category: np.ndarray
    mode: np.ndarray  # PRODUCT, BRAND_ONLY or UNBRANDED
    product: np.ndarray  # product index (meaningful for PRODUCT and BRAND_ONLY)
    reference: np.ndarray  # the price a fair listing would ask
    price: np.ndarray
    is_counterfeit: np.ndarray
    popularity: np.ndarray
    title: pa.Array


def _pick(rng: np.random.Generator, offset: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Uniform index into each row's group ``[offset, offset + count)`` of a pool."""
    return offset + np.minimum((rng.random(len(offset)) * count).astype(np.int64), count - 1)


def plan_listings(
    rng: np.random.Generator,
    sellers: SellerPlan,
    cg: Catalogue,
    srng: np.random.Generator | None = None,
) -> ListingPlan:
    """Draw every listing's attributes and title.

    Scenario roles of ``sellers.role`` change the listings of those sellers, drawing from
    ``srng`` only; without roles ``rng`` sees the same draws.
    """
    counts = sellers.n_listings
    n_list = int(counts.sum())
    seller = np.repeat(np.arange(sellers.n), counts)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    kind = sellers.kind[seller]
    camo = sellers.camouflaged[seller]
    role = sellers.role[seller]
    model_shop = role == sc.SCALE_MODEL
    cf_seller = (kind == COUNTERFEIT) | (kind == RING)
    is_cf = cf_seller & (rng.random(n_list) < 0.8)

    # Category: mostly the shop's main one; counterfeits stay in high-risk categories,
    # the cover items of counterfeit shops are ordinary goods.
    market = np.array(cat.MARKET_WEIGHTS)
    risky = np.array(cat.COUNTERFEIT_WEIGHTS, dtype=float)
    u = rng.random((3, n_list))
    secondary = np.searchsorted(np.cumsum(market / market.sum()), u[1], side="right")
    secondary_risky = np.searchsorted(np.cumsum(risky / risky.sum()), u[2], side="right")
    secondary = np.minimum(secondary, len(market) - 1)
    secondary_risky = np.minimum(secondary_risky, len(market) - 1)
    category = np.where(u[0] < 0.75, sellers.primary[seller], secondary)
    category = np.where(is_cf & (u[0] >= 0.75), secondary_risky, category)
    category = np.where(cf_seller & ~is_cf, secondary, category)
    category = np.where(kind == FAKE_PHONE, np.where(u[0] < 0.85, _PHONES, _ELECTRONICS), category)

    # Catalogue product, brand only, or unbranded.
    branding = np.array(cat.BRANDING)[category]
    u = rng.random((2, n_list))
    mode = np.where(
        u[0] < branding[:, 0],
        PRODUCT,
        np.where(u[0] < branding[:, 0] + branding[:, 1], BRAND_ONLY, UNBRANDED),
    )
    mode = np.where(is_cf | (kind == FAKE_PHONE), np.where(u[0] < 0.78, PRODUCT, BRAND_ONLY), mode)
    if model_shop.any():
        category = np.where(model_shop, _TOYS, category)
        mode = np.where(model_shop, UNBRANDED, mode)
    product = np.searchsorted(cg.cum_within, category + (1.0 - u[1]), side="left")
    product = np.minimum(product, len(cg.price) - 1)
    generic = _pick(rng, cg.generic_offset[category], cg.generic_count[category])
    noise = rng.normal(0.0, 1.0, n_list)
    reference = np.where(
        mode == PRODUCT,
        cg.price[product],
        np.where(
            mode == BRAND_ONLY,
            cg.price[product] * np.exp(0.15 * noise),
            cg.generic_price[generic] * np.exp(0.35 * noise),
        ),
    )

    # Price relative to the reference, and the kind of title tag that goes with it.
    u = rng.random((6, n_list))
    legitish = (kind <= NEW_LEGIT) | (kind == CLICK_FARM) | (cf_seller & ~is_cf)
    ratio = (0.85 + 0.30 * u[0]) * np.exp(0.03 * rng.normal(0.0, 1.0, n_list))
    tag = np.zeros(n_list, dtype=np.int8)  # 0 legit, 1 sale, 2 second-hand, 3 discount,
    # 4 replica, 5 counterfeit, 6 fake_phone
    on_sale = legitish & (u[1] < 0.07)
    ratio = np.where(on_sale, 0.70 + 0.15 * u[2], ratio)
    tag[on_sale] = 1
    used = (
        ((kind == LEGIT) | (kind == NEW_LEGIT))
        & _SECOND_HAND_CATS[category]
        & (mode != UNBRANDED)
        & (u[1] > 0.94)
    )
    ratio = np.where(used, 0.45 + 0.35 * u[2], ratio)
    tag[used] = 2
    disc = kind == DISCOUNT
    ratio = np.where(disc, 0.55 + 0.25 * u[2], ratio)
    tag[disc & (u[3] < 0.6)] = 3
    deep = role == sc.DISCOUNTER
    if deep.any():
        lo, hi = sc.DISCOUNT_RATIO
        ratio = np.where(deep, lo + (hi - lo) * u[2], ratio)
    cf_loud = is_cf & ~camo
    ratio = np.where(cf_loud, 0.30 + 0.40 * u[2], ratio)
    tag[cf_loud] = np.where(u[3][cf_loud] < sellers.replica[seller][cf_loud], 4, 5)
    cf_quiet = is_cf & camo
    ratio = np.where(cf_quiet, 0.82 + 0.30 * u[2], ratio)
    tag[cf_quiet] = np.where(u[3][cf_quiet] < 0.5, 5, 0)
    tag[cf_quiet & (role == sc.HIDDEN_RING)] = 0
    fake = kind == FAKE_PHONE
    ratio = np.where(fake, 0.40 + 0.20 * u[2], ratio)
    tag[fake] = 6
    takeover = role == sc.TAKEOVER
    if takeover.any():  # taken-over accounts price like honest shops, ordinary titles
        ratio = np.where(takeover, 0.90 + 0.15 * u[2], ratio)
        tag[takeover] = 0
    raw = reference * ratio * sellers.price_level[seller]
    price = np.where(raw >= 100.0, np.round(raw), np.round(raw, 1))
    price = np.maximum(price, 1.0)

    title = _titles(rng, cg, mode, category, product, generic, tag)
    if model_shop.any():
        reference, title = _scale_models(srng, cg, model_shop, reference, title)
        raw = reference * ratio * sellers.price_level[seller]
        price = np.maximum(np.where(raw >= 100.0, np.round(raw), np.round(raw, 1)), 1.0)
    popularity = np.exp(rng.normal(0.0, 1.0, n_list)) * np.where(cf_loud, 2.0, 1.0)
    return ListingPlan(
        seller=seller,
        start=start,
        category=category,
        mode=mode,
        product=product,
        reference=reference,
        price=price,
        is_counterfeit=is_cf,
        popularity=popularity,
        title=title,
    )


def _scale_models(
    srng: np.random.Generator | None,
    cg: Catalogue,
    rows: np.ndarray,
    reference: np.ndarray,
    title: pa.Array,
) -> tuple[np.ndarray, pa.Array]:
    """Give the listings at ``rows`` a scale-model title (plus an ordinary tag) and price."""
    srng = srng if srng is not None else np.random.default_rng(0)
    n = len(rows)
    item = srng.integers(0, len(cat.SCALE_MODELS), size=n)
    price = np.array([p for _, p in cat.SCALE_MODELS])[item] * np.exp(0.2 * srng.normal(size=n))
    tag = cg.tag_offset["legit"] + srng.integers(0, cg.tag_count["legit"], size=n)
    names = _ids.take([t for t, _ in cat.SCALE_MODELS], item)
    scale_title = _ids.join([names, _ids.take(cg.tag_pool, tag)])
    title = pc.if_else(pa.array(rows), scale_title, title)
    return np.where(rows, price, reference), title


_TAG_GROUPS = ("legit", "sale", "second_hand", "discount", "replica", "counterfeit", "fake_phone")


def _titles(
    rng: np.random.Generator,
    cg: Catalogue,
    mode: np.ndarray,
    category: np.ndarray,
    product: np.ndarray,
    generic: np.ndarray,
    tag: np.ndarray,
) -> pa.Array:
    """Mixed English/Chinese titles: brand, product or item word, one or two tags."""
    n = len(mode)
    brand = cg.brand[product]
    alias = _pick(rng, cg.alias_offset[brand], cg.alias_count[brand])
    group = len(cat.ITEM_NOUNS) + brand
    group = np.where(cg.noun_count[group] > 0, group, category)
    noun = _pick(rng, cg.noun_offset[group], cg.noun_count[group])
    offsets = np.array([cg.tag_offset[g] for g in _TAG_GROUPS])
    counts = np.array([cg.tag_count[g] for g in _TAG_GROUPS])
    first_tag = _pick(rng, offsets[tag], counts[tag])
    # A second tag from the ordinary pool (or the counterfeit pool for replica titles).
    second_group = np.where(tag == 4, 5, 0)
    second_tag = _pick(rng, offsets[second_group], counts[second_group])
    has_second = rng.random(n) < 0.45
    empty = int(np.flatnonzero(np.array(cat.TAGS["legit"]) == "")[0]) + cg.tag_offset["legit"]
    second_tag = np.where(has_second, second_tag, empty)

    branded = mode != UNBRANDED
    head = _ids.take(
        pa.concat_arrays([cg.alias_pool, cg.generic_pool]),
        np.where(branded, alias, len(cg.alias_pool) + generic),
    )
    middle = _ids.take(
        pa.concat_arrays([cg.names, cg.noun_pool, pa.array([""], type=pa.string())]),
        np.where(
            mode == PRODUCT,
            product,
            np.where(mode == BRAND_ONLY, len(cg.names) + noun, len(cg.names) + len(cg.noun_pool)),
        ),
    )
    return _ids.join(
        [head, middle, _ids.take(cg.tag_pool, first_tag), _ids.take(cg.tag_pool, second_tag)]
    )
