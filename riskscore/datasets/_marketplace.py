"""``make_marketplace``: a synthetic marketplace with known good and bad sellers.

The simulation runs in four steps, each a pure function of a shared random generator:
seller plan (:mod:`._sellers`), listings (:mod:`._listings`), orders and complaints
(:mod:`._orders`), then labels and the assembly of contract tables (here). Times are
float days since ``start`` (negative in the warm-up) until they become ``datetime64[us]``
columns at the end.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from riskscore.datasets import _catalogue as cat
from riskscore.datasets import _ids
from riskscore.datasets import _scenario as sc
from riskscore.datasets._enforcement import Reviews, review_rounds
from riskscore.datasets._listings import (
    PRODUCT,
    UNBRANDED,
    Catalogue,
    ListingPlan,
    load_catalogue,
    plan_listings,
)
from riskscore.datasets._orders import ComplaintPlan, OrderPlan, simulate_orders
from riskscore.datasets._scenario import SCENARIOS, Scenario, resolve_scenario
from riskscore.datasets._sellers import (
    CF_KIND,
    CLICK_FARM,
    COMPLAINT_KINDS,
    DEFAULT_MIX,
    FAKE_PHONE,
    ID_KINDS,
    NOT_AS_DESCRIBED,
    SELLER_TYPES,
    SellerPlan,
    plan_sellers,
)
from riskscore.exceptions import DatasetError
from riskscore.schema import LABEL_KINDS, LABEL_OUTCOMES, LABEL_SOURCES, ORDER_STATUSES

__all__ = ["SCENARIOS", "SELLER_TYPES", "WARMUP_DAYS", "Scenario", "make_marketplace"]

#: Listing labels: share of a labelled counterfeiter's counterfeit listings taken down.
LISTING_LABEL_SHARE = 0.3
_EARLIEST = pd.Timestamp("2000-01-02")
#: Default days of simulated history before ``start`` (the steady-state warm-up).
WARMUP_DAYS = 3 * 365
_MAX_WARMUP = 10 * 365
_WARMUP_STREAM = 0x3A4D
_SECONDS_PER_DAY = 86_400


def make_marketplace(
    n_sellers: int = 2000,
    *,
    seed: int = 0,
    start: str | pd.Timestamp = "2024-01-01",
    days: int = 365,
    mix: Mapping[str, float] | None = None,
    label_coverage: float = 0.6,
    label_noise: float = 0.002,
    orders_per_seller: float = 100.0,
    camouflage: float = 0.4,
    scenario: str | Scenario | None = None,
    warmup: int = WARMUP_DAYS,
) -> dict[str, pd.DataFrame]:
    """Simulate a marketplace with honest shops, counterfeiters and fraudsters.

    Returns the contract tables of :mod:`riskscore.schema` (``sellers``, ``products``,
    ``listings``, ``orders``, ``complaints``, ``labels``) plus ``truth``, the simulator's
    ground truth per seller, for tests and evaluation only (features must never read it).
    Prices are in CNY; regions are Chinese provinces; titles mix English and Chinese.

    Seller types (``truth.seller_type``) and what gives them away:

    - ``legit``: prices 0.85-1.15x reference, 0.5-2% of orders complained about,
      accounts of all ages. Some share a phone, device or return address with other shops
      (families, agencies, logistics centres, one marketplace-wide returns hub), and a few
      "power buyers" buy from many of them.
    - ``discount`` (hard negative): genuine goods at 0.55-0.8x reference.
    - ``new_legit`` (hard negative): registered during the period, small and growing.
    - ``fake_phone`` (fraud): a new shop selling phones at 0.4-0.6x reference in a
      1-3 week burst, then ``not_received`` complaints on most orders, then silence.
    - ``counterfeit``: branded goods in high-risk categories at 0.3-0.7x reference,
      replica words ("高仿", "1:1", "AAA") in some titles, counterfeit complaints on 5-20%
      of orders.
    - ``counterfeit_ring``: counterfeiters in rings of 3-15 shops under one controller,
      sharing payment accounts, devices, phones or return addresses and buyers; about
      ``camouflage`` of them price and behave like legit shops (``truth.camouflaged``) so
      only the links give them away.
    - ``click_farm`` (fraud): 3-10 accounts place many repeat orders to a few addresses.

    Parameters
    ----------
    n_sellers : int, default 2000
        Number of shops.
    seed : int, default 0
        Seed of the single random generator; the same arguments give identical tables.
    start : str or Timestamp, default "2024-01-01"
        Start of the observed period (timezone-naive).
    days : int, default 365
        Length of the period in days (at least 30). Orders, complaints and labels fall in
        ``[start - warmup days, start + days)``; sellers may be older. The seller types'
        shares, ``orders_per_seller`` and the label coverage describe the period.
    mix : mapping of str to float, optional
        Shares of seller types (keys from :data:`SELLER_TYPES`), normalised to sum to 1.
        Types left out get no shops. Default: legit 0.74, discount 0.06, new_legit 0.06,
        fake_phone 0.03, counterfeit 0.03, counterfeit_ring 0.05, click_farm 0.03.
    label_coverage : float, default 0.6
        Share of bad sellers that enforcement labels (20-120 days after they turn bad; a
        label due after the period is not observed). Labelled shops are closed.
    label_noise : float, default 0.002
        Share of good sellers labelled by mistake.
    orders_per_seller : float, default 100.0
        Mean orders per shop over the period (sets the total volume).
    camouflage : float, default 0.4
        Share of ring members that look like ordinary shops.
    scenario : str or Scenario, optional
        Switches that break the easy patterns above, to test a model against harder
        data: a name from :data:`SCENARIOS` (``"default"``, ``"drift"``,
        ``"label_noise"``, ``"camouflage"``, ``"honest_lookalikes"``,
        ``"missing_brand"``, ``"hard"`` for all of those, ``"selective_enforcement"``,
        ``"concept_shift"``) or a :class:`Scenario`.

        - ``drift``: fraud (fake-phone bursts, click farms) only in the first 40% of the
          period, then it stops; counterfeiters turning bad later price like honest
          shops, without replica words; and from then on the complaint form files
          counterfeit complaints as ``not_as_described`` (a feature distribution that
          flips between early and late periods).
        - ``label_noise``: label delays of 20 days plus a log-normal with median 90 days;
          20% of would-be labels on bad sellers never come, 15% of seller labels have
          the wrong kind, 2% of good sellers are labelled by mistake.
        - ``camouflage``: every ring member is camouflaged, completely (honest prices,
          complaint rates and kinds, titles and regions): only the links give it away.
        - ``honest_lookalikes``: 4% of sellers are honest model shops titling "1:1
          scale" / "1:18 diecast"; 4% more become discounters, and every discounter
          sells genuine goods at 0.40-0.65x reference. None of them is labelled.
        - ``missing_brand``: no brand on 30% of branded listings (60% of counterfeit
          ones); titles still name it.
        - ``selective_enforcement``: the labels table holds reviews (monthly: the
          champion's top 3% of active sellers plus a random audit of 2%, 4% for sellers
          under 90 days old), with ``outcome`` (confirmed / cleared / reversed),
          ``source`` (model / random_audit), ``reversed_at`` and the audit's
          ``selection_probability``; no listing labels. Bad sellers the champion misses
          stay unlabelled unless an audit draws them.
        - ``concept_shift``: fake-phone shops starting after half the period are
          taken-over old accounts selling through listings their owner put up long
          before, at market prices with ordinary titles, regions and cancellations;
          they still do not deliver (a new pattern behind the same features).

        Default (None or ``"default"``): none (with ``warmup=0``, tables identical to
        releases before the warm-up).
        With any switch on, ``truth`` has one more column, ``scenario_role``: what the
        scenario made of the seller (``early_fraud``, ``late_quiet``, ``hidden_ring``,
        ``scale_model``, ``discounter``, or empty).
    warmup : int, default :data:`WARMUP_DAYS` (1095, three years)
        Days of history simulated before ``start``, so the period starts in a steady
        state: feature distributions of honest shops at monthly cutoffs stay put instead
        of growing with the simulation (lifetime counts, days since the first order).
        Honest shops registered before the period opened at a uniform time in the
        warm-up (constant pace, about the pace of new shops in the period) and sold from
        then; bad shops other than fake-phone bursts turn bad from 120 days before the
        period on, also in the warm-up, and quit 20-120 days later unless enforcement
        closes them first; enforcement labels during the warm-up too. Their orders,
        complaints and labels are in the tables with their real times. ``0`` gives the
        tables of earlier releases, where everything starts empty at ``start``.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``sellers``, ``products``, ``listings``, ``orders``, ``complaints``, ``labels``
        as in :data:`riskscore.schema.CONTRACT` (``products`` has an extra ``name``
        column), and ``truth`` with columns ``seller_id``, ``seller_type``, ``ring_id``,
        ``is_counterfeit``, ``is_fraud``, ``camouflaged``.

    Raises
    ------
    DatasetError
        When a parameter has a wrong type or is out of range, or ``scenario`` is unknown
        (a :class:`~riskscore.exceptions.ParameterError`, so also a ``ValueError``).

    Notes
    -----
    Without a warm-up, every shop's history starts at ``start``: lifetime features grow
    all year (on 1,500 sellers, seed 3, ``account__days_since_first_order`` was above the
    training maximum for 87% of sellers five months after training) and bad shops pile
    up. A monitor then reports drift on an unchanged marketplace. See docs/monitoring.md
    for the PSIs before and after.

    Examples
    --------
    >>> from riskscore.datasets import make_marketplace
    >>> tables = make_marketplace(n_sellers=50, seed=1)
    >>> sorted(tables)
    ['complaints', 'labels', 'listings', 'orders', 'products', 'sellers', 'truth']
    >>> len(tables["sellers"])
    50
    >>> tables["sellers"]["seller_id"].iloc[0]
    'S000001'
    >>> tables["listings"]["currency"].unique().tolist()
    ['CNY']
    >>> tables["truth"]["seller_type"].value_counts()["legit"]
    np.int64(37)
    >>> bool(tables["orders"]["created_at"].min() < pd.Timestamp("2024-01-01"))  # warm-up
    True
    >>> old = make_marketplace(n_sellers=50, seed=1, warmup=0)  # no history before start
    >>> str(old["orders"]["created_at"].min().date())
    '2024-01-01'
    """
    n_sellers, start_ts, days, shares, warmup = _check_params(
        n_sellers=n_sellers,
        seed=seed,
        start=start,
        days=days,
        mix=mix,
        label_coverage=label_coverage,
        label_noise=label_noise,
        orders_per_seller=orders_per_seller,
        camouflage=camouflage,
        warmup=warmup,
    )
    scen = resolve_scenario(scenario)
    srng = sc.scenario_rng(int(seed))  # type: ignore[call-overload]
    rng = np.random.default_rng(seed)
    sellers = plan_sellers(
        rng,
        n_sellers,
        days,
        shares,
        camouflage=camouflage,
        label_coverage=label_coverage,
        label_noise=label_noise,
        orders_per_seller=orders_per_seller,
        earliest=(_EARLIEST - start_ts) / pd.Timedelta(days=1),
        scenario=scen,
        srng=srng,
        warmup=warmup,
        wrng=np.random.default_rng([int(seed), _WARMUP_STREAM]),  # type: ignore[call-overload]
    )
    catalogue = load_catalogue()
    listings = plan_listings(rng, sellers, catalogue, srng)
    orders, complaints = simulate_orders(rng, sellers, listings, start_ts)
    if scen.drift:
        # The complaint form loses its "counterfeit" option at the split.
        late = (complaints.kind == CF_KIND) & (complaints.t >= sc.DRIFT_SPLIT * days)
        complaints.kind = np.where(late, NOT_AS_DESCRIBED, complaints.kind)
    created = _listing_times(rng, sellers, listings, orders)
    labels = _labels(rng, sellers, listings, created)
    reviews = review_rounds(srng, sellers) if scen.selective_enforcement else None
    no_brand = None
    if scen.missing_brand:
        share = np.where(
            listings.is_counterfeit, sc.MISSING_BRAND_SHARE_COUNTERFEIT, sc.MISSING_BRAND_SHARE
        )
        no_brand = (listings.mode != UNBRANDED) & (srng.random(len(listings.mode)) < share)
    return _assemble(
        start_ts,
        sellers,
        catalogue,
        listings,
        created,
        orders,
        complaints,
        labels,
        no_brand=no_brand,
        roles=bool(scen.active),
        reviews=reviews,
    )


def _check_params(
    *,
    n_sellers: object,
    seed: object,
    start: object,
    days: object,
    mix: object,
    label_coverage: object,
    label_noise: object,
    orders_per_seller: object,
    camouflage: object,
    warmup: object,
) -> tuple[int, pd.Timestamp, int, np.ndarray, int]:
    def fail(name: str, expected: str, got: object) -> DatasetError:
        return DatasetError(
            f"The '{name}' parameter of make_marketplace must be {expected}. Got {got!r} instead."
        )

    def is_int(x: object) -> bool:
        return isinstance(x, numbers.Integral) and not isinstance(x, bool)

    if not is_int(n_sellers) or int(n_sellers) < 1:  # type: ignore[call-overload]
        raise fail("n_sellers", "an int >= 1", n_sellers)
    if not is_int(seed) or int(seed) < 0:  # type: ignore[call-overload]
        raise fail("seed", "an int >= 0", seed)
    if not is_int(days) or int(days) < 30:  # type: ignore[call-overload]
        raise fail("days", "an int >= 30", days)
    if not is_int(warmup) or not 0 <= int(warmup) <= _MAX_WARMUP:  # type: ignore[call-overload]
        raise fail("warmup", f"an int in the range [0, {_MAX_WARMUP}]", warmup)
    try:
        start_ts = pd.Timestamp(start)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise fail("start", "a date such as '2024-01-01'", start) from None
    if start_ts is pd.NaT or start_ts.tzinfo is not None:
        raise fail("start", "a timezone-naive date such as '2024-01-01'", start)
    if not (_EARLIEST < start_ts < pd.Timestamp("2099-01-01")):
        raise fail("start", "a date between 2000 and 2099", start)
    for name, value in (
        ("label_coverage", label_coverage),
        ("label_noise", label_noise),
        ("camouflage", camouflage),
    ):
        if not isinstance(value, numbers.Real) or not 0.0 <= float(value) <= 1.0:
            raise fail(name, "a float in the range [0, 1]", value)
    if (
        not isinstance(orders_per_seller, numbers.Real)
        or not math.isfinite(float(orders_per_seller))
        or float(orders_per_seller) <= 0
    ):
        raise fail("orders_per_seller", "a float > 0", orders_per_seller)
    chosen = DEFAULT_MIX if mix is None else mix
    if not isinstance(chosen, Mapping):
        raise fail("mix", "a mapping of seller type to share", mix)
    unknown = sorted(str(k) for k in chosen if k not in SELLER_TYPES)
    if unknown:
        raise fail("mix", f"a mapping with keys among {list(SELLER_TYPES)}", mix)
    shares = np.array([chosen.get(t, 0.0) for t in SELLER_TYPES], dtype=float)
    if not np.all(np.isfinite(shares)) or np.any(shares < 0) or shares.sum() <= 0:
        raise fail("mix", "a mapping of non-negative shares with a positive sum", mix)
    end = start_ts + pd.Timedelta(days=int(days))  # type: ignore[call-overload]
    if end >= pd.Timestamp("2100-01-01"):
        raise fail("days", "small enough that the period ends before 2100", days)
    if start_ts - pd.Timedelta(days=int(warmup)) <= _EARLIEST:  # type: ignore[call-overload]
        raise fail("warmup", "small enough that the warm-up starts after 2000-01-02", warmup)
    return (
        int(n_sellers),  # type: ignore[call-overload]
        start_ts,
        int(days),  # type: ignore[call-overload]
        shares / shares.sum(),
        int(warmup),  # type: ignore[call-overload]
    )


def _listing_times(
    rng: np.random.Generator, sellers: SellerPlan, listings: ListingPlan, orders: OrderPlan
) -> np.ndarray:
    """When each listing went up: before its first order, after the shop could list."""
    d = float(sellers.days)
    s = listings.seller
    list_from = sellers.list_from[s]
    bad = sellers.is_bad[s]
    u = rng.random((2, len(s)))
    lag = 1.0 / _SECONDS_PER_DAY - np.where(bad, 2.0, 20.0) * np.log1p(-u[0])
    first = orders.first_order
    sold = np.isfinite(first)
    lo = np.maximum(list_from, sellers.act_a[s] - 60.0)
    hi = np.maximum(np.minimum(sellers.act_b[s], d), lo)
    unsold_at = lo + u[1] * (hi - lo)
    created = np.where(sold, np.maximum(list_from, np.where(sold, first, 0.0) - lag), unsold_at)
    takeover = sellers.role[s] == sc.TAKEOVER
    if takeover.any():
        # A taken-over account sells through the catalogue its owner listed while the shop
        # was active, years before (the fraudster edits prices and stock, not the listings).
        reg = sellers.reg[s]
        owner_until = np.maximum(reg, np.nan_to_num(sellers.bad_start[s]) - 180.0)
        created = np.where(takeover, reg + u[1] * (owner_until - reg), created)
    return np.minimum(created, d - 1.0 / _SECONDS_PER_DAY)


def _labels(
    rng: np.random.Generator, sellers: SellerPlan, listings: ListingPlan, created: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Observed labels as (seller, listing or -1, kind 0=counterfeit/1=fraud, time)."""
    d = float(sellers.days)
    seen = np.flatnonzero(sellers.label_at < d)
    s = listings.seller
    label_at = sellers.label_at[s]
    takedown = (
        listings.is_counterfeit & np.isfinite(label_at) & (rng.random(len(s)) < LISTING_LABEL_SHARE)
    )
    first = float(sellers.first_day)
    when = np.minimum(np.maximum(created, first) + 5.0 + 55.0 * rng.random(len(s)), label_at)
    rows = np.flatnonzero(takedown & (when > created) & (when < d))
    seller = np.concatenate([seen, s[rows]])
    listing = np.concatenate([np.full(len(seen), -1, dtype=np.int64), rows])
    kind = np.concatenate([sellers.label_kind[seen], np.zeros(len(rows), dtype=np.int8)])
    t = np.concatenate([sellers.label_at[seen], when[rows]])
    return seller, listing, kind, t


def _review_frame(
    start: pd.Timestamp, reviews: Reviews, seller_ids: pa.Array, seller_rank: np.ndarray
) -> pd.DataFrame:
    """Build the labels table of the ``selective_enforcement`` scenario (a row a review)."""
    time = _timestamps(start, reviews.t)
    order = np.lexsort((reviews.kind, seller_rank[reviews.seller], time))
    n = len(reviews.seller)
    return _frame(
        {
            "seller_id": seller_ids.take(pa.array(reviews.seller)),
            "listing_id": pa.nulls(n, pa.string()),
            "label": _ids.take(LABEL_KINDS, reviews.kind),
            "decided_at": time,
            "outcome": _ids.take(LABEL_OUTCOMES, reviews.outcome),
            "source": _ids.take(LABEL_SOURCES, reviews.source),
            "reversed_at": _timestamps(start, reviews.reversed_t),
            "selection_probability": reviews.probability,
        },
        order,
    )


def _timestamps(start: pd.Timestamp, t: np.ndarray) -> np.ndarray:
    """Float days since ``start`` -> ``datetime64[us]``, floored to whole seconds; nan -> NaT."""
    t = np.asarray(t)
    missing = np.isnan(t)
    seconds = np.floor(np.where(missing, 0.0, t) * _SECONDS_PER_DAY).astype(np.int64)
    base = start.to_datetime64().astype("datetime64[us]")
    out = base + (seconds * 1_000_000).astype("timedelta64[us]")
    if missing.any():
        out[missing] = np.datetime64("NaT")
    return out


def _sort(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (row order sorted by ``keys``, position of each row in it); stable."""
    order = np.argsort(keys, kind="stable")
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    return order, rank


def _frame(columns: dict[str, object], order: np.ndarray | None = None) -> pd.DataFrame:
    """Build a DataFrame from Arrow string arrays and numpy arrays, rows in ``order``."""
    out: dict[str, object] = {}
    for name, col in columns.items():
        if isinstance(col, pa.Array):
            if order is not None:
                col = col.take(pa.array(order))
            out[name] = _ids.to_str(col)
        else:
            arr = np.asarray(col)
            out[name] = arr[order] if order is not None else arr
    return pd.DataFrame(out, copy=False)


def _assemble(
    start: pd.Timestamp,
    sellers: SellerPlan,
    cg: Catalogue,
    listings: ListingPlan,
    created: np.ndarray,
    orders: OrderPlan,
    complaints: ComplaintPlan,
    labels: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    *,
    no_brand: np.ndarray | None = None,
    roles: bool = False,
    reviews: Reviews | None = None,
) -> dict[str, pd.DataFrame]:
    n = sellers.n
    reg_time = _timestamps(start, sellers.reg)
    seller_order, seller_rank = _sort(reg_time)
    seller_ids = _ids.format_ids("S", seller_rank + 1, _ids.width_for(n + 1, 6))

    n_return = int(sellers.n_id_values[3])
    addr_width = _ids.width_for(orders.n_addresses + n_return, 9)
    addr_mod = 10**addr_width
    id_cols: dict[str, object] = {}
    for k, name in enumerate(ID_KINDS):
        v = sellers.ids[:, k]
        missing = v < 0
        if name == "payment_account":
            id_cols[name] = _ids.format_ids("PA", _ids.scramble(v, 10**10, 1), 10, missing)
        elif name == "device_id":
            id_cols[name] = _ids.format_ids("DV", _ids.scramble(v, 10**10, 2), 10, missing)
        elif name == "contact_phone":
            digits = 3 * 10**9 + _ids.scramble(v, 7 * 10**9, 3)
            id_cols[name] = _ids.format_ids("1", digits, 10, missing)
        else:
            scrambled = _ids.scramble(orders.n_addresses + v, addr_mod)
            id_cols[name] = _ids.format_ids("A", scrambled, addr_width, missing)
    sellers_df = _frame(
        {
            "seller_id": seller_ids,
            "registered_at": reg_time,
            "region": _ids.take([r for r, _ in cat.REGIONS], sellers.region),
            **id_cols,
        },
        seller_order,
    )

    ring_ids = _ids.format_ids("RING", np.maximum(sellers.ring, 0) + 1, 4, sellers.ring < 0)
    truth_df = _frame(
        {
            "seller_id": seller_ids,
            "seller_type": _ids.take(SELLER_TYPES, sellers.kind),
            "ring_id": ring_ids,
            "is_counterfeit": sellers.is_counterfeit,
            "is_fraud": (sellers.kind == FAKE_PHONE) | (sellers.kind == CLICK_FARM),
            "camouflaged": sellers.camouflaged,
            **({"scenario_role": _ids.take(sc.ROLES, sellers.role)} if roles else {}),
        },
        seller_order,
    )

    n_products = len(cg.price)
    product_ids = _ids.format_ids("P", np.arange(1, n_products + 1), 5)
    products_df = _frame(
        {
            "product_id": product_ids,
            "brand": _ids.take(cg.brand_names, cg.brand),
            "category": _ids.take(cat.CATEGORIES, cg.category),
            "reference_price": cg.price.astype(np.float64),
            "name": cg.names,
        }
    )

    n_list = len(listings.seller)
    created_time = _timestamps(start, created)
    listing_order, listing_rank = _sort(created_time)
    listing_ids = _ids.format_ids("L", listing_rank + 1, _ids.width_for(n_list + 1, 8))
    listings_df = _frame(
        {
            "listing_id": listing_ids,
            "seller_id": seller_ids.take(pa.array(listings.seller)),
            "product_id": _ids.take(product_ids, listings.product, listings.mode != PRODUCT),
            "category": _ids.take(cat.CATEGORIES, listings.category),
            "brand": _ids.take(
                cg.brand_names,
                cg.brand[listings.product],
                (listings.mode == UNBRANDED) | (False if no_brand is None else no_brand),
            ),
            "title": listings.title,
            "price": listings.price.astype(np.float64),
            "currency": _ids.take(["CNY"], np.zeros(n_list, dtype=np.int64)),
            "created_at": created_time,
        },
        listing_order,
    )

    n_orders = len(orders.t)
    order_ids = _ids.format_ids("O", np.arange(1, n_orders + 1), _ids.width_for(n_orders + 1, 9))
    buyer_width = _ids.width_for(orders.n_buyers, 9)
    buyer_ids = _ids.format_ids(
        "B", _ids.scramble(np.arange(orders.n_buyers), 10**buyer_width, 4), buyer_width
    )
    address_ids = _ids.format_ids(
        "A", _ids.scramble(np.arange(orders.n_addresses), addr_mod), addr_width
    )
    orders_df = _frame(
        {
            "order_id": order_ids,
            "listing_id": listing_ids.take(pa.array(orders.listing)),
            "seller_id": seller_ids.take(pa.array(orders.seller)),
            "buyer_id": buyer_ids.take(pa.array(orders.buyer)),
            "quantity": orders.quantity.astype(np.int64),
            "amount": orders.amount.astype(np.float64),
            "created_at": _timestamps(start, orders.t),
            "ship_address_id": _ids.take(
                address_ids, np.maximum(orders.address, 0), orders.address < 0
            ),
            "status": _ids.take(ORDER_STATUSES, orders.status),
            "delivered_at": _timestamps(start, orders.delivered),
            "refunded_at": _timestamps(start, orders.refunded),
            "cancelled_at": _timestamps(start, orders.cancelled),
        }
    )

    c_order, c_rank = _sort(complaints.t)
    n_c = len(c_order)
    complaints_df = _frame(
        {
            "complaint_id": _ids.format_ids("C", c_rank + 1, _ids.width_for(n_c + 1, 8)),
            "order_id": _ids.take(order_ids, np.maximum(complaints.order, 0), complaints.order < 0),
            "seller_id": seller_ids.take(pa.array(complaints.seller)),
            "kind": _ids.take(COMPLAINT_KINDS, complaints.kind),
            "created_at": _timestamps(start, complaints.t),
        },
        c_order,
    )

    if reviews is None:
        l_seller, l_listing, l_kind, l_t = labels
        l_time = _timestamps(start, l_t)
        l_listing_rank = np.where(l_listing < 0, -1, listing_rank[np.maximum(l_listing, 0)])
        l_order = np.lexsort((l_listing_rank, seller_rank[l_seller], l_time))
        labels_df = _frame(
            {
                "seller_id": seller_ids.take(pa.array(l_seller)),
                "listing_id": _ids.take(listing_ids, np.maximum(l_listing, 0), l_listing < 0),
                "label": _ids.take(("counterfeit", "fraud"), l_kind),
                "decided_at": l_time,
            },
            l_order,
        )
    else:
        labels_df = _review_frame(start, reviews, seller_ids, seller_rank)
    return {
        "sellers": sellers_df,
        "products": products_df,
        "listings": listings_df,
        "orders": orders_df,
        "complaints": complaints_df,
        "labels": labels_df,
        "truth": truth_df,
    }
