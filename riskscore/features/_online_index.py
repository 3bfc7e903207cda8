"""One seller's features as of any moment, from per-seller row ranges, in about a millisecond.

:func:`~riskscore.features.build_features` with ``ids=`` finds a seller's rows and
aggregates them with the family code (narwhals on pandas): a few hundred milliseconds per
call, whatever the seller's size. A service scoring one seller per event needs less.
:class:`SellerIndex` is built once from the tables:

- the orders, listings and complaints sorted by seller, then by ``created_at``, as numpy
  arrays (times as int64 microseconds), with where each seller's rows start: a seller's
  rows before ``as_of`` are a prefix of its range, found by one ``searchsorted``;
- per listing, what does not depend on time: the replica terms of its title
  (:mod:`riskscore.features.text`), whether it is branded in a high-risk category;
- per order, its listing's category and creation time (``activity__aov_vs_category``).

:meth:`SellerIndex.snapshot` takes the marketplace statistics at one moment, the *market
as_of* (category order values, marketplace complaint / refund / cancel rates, market
prices and category price levels, the network features) from a
:class:`~riskscore.features.MarketStats`, with the very expressions the families use,
and prices every listing against them once. :meth:`SellerIndex.features_one` then
computes a seller's per-seller families from its own slices with numpy (no pandas on the
call path) at any ``as_of``.

What is fresh
-------------
Every feature counts the seller's own rows strictly before the call's ``as_of``. What a
seller is *compared with* comes from the snapshot: see :data:`SOURCES` (``"fresh"``: the
seller's rows only; ``"market"``: the seller's rows at ``as_of`` against marketplace
statistics at the snapshot's as_of; ``"batch"``: the value at the snapshot's as_of).
When ``as_of`` equals the snapshot's as_of, every value equals
``build_features(tables, "seller", as_of=as_of)`` for that seller (a property test holds
it to 1e-9).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from riskscore._config import DEFAULT_WINDOWS
from riskscore.exceptions import FeatureError
from riskscore.features._catalog import feature_specs
from riskscore.features._context import DEFAULT_PRIOR_WEIGHT, FeatureParams, MarketStats
from riskscore.features._shared import BURST_RECENT, BURST_REFERENCE
from riskscore.features.account import NEW_LISTING_DAYS

__all__ = ["SOURCES", "MarketSnapshot", "SellerIndex", "feature_sources"]

NAN = math.nan
_US_PER_DAY = 86_400_000_000
#: A time that is never before any ``as_of`` (missing timestamps).
_NEVER = np.iinfo(np.int64).max

#: Where each seller feature comes from, by name prefix (first match wins).
SOURCES: tuple[tuple[str, str], ...] = (
    ("activity__aov_vs_category", "market"),
    ("complaints__acceleration", "fresh"),
    ("complaints__", "market"),
    ("pricing__share_branded_high_risk", "fresh"),
    ("pricing__", "market"),
    ("network__", "batch"),
    ("", "fresh"),
)

_KINDS = ("counterfeit", "not_received", "not_as_described")


def feature_sources(names: list[str]) -> dict[str, str]:
    """Return ``"fresh"``, ``"market"`` or ``"batch"`` for each feature name.

    Examples
    --------
    >>> feature_sources(["account__age_days", "pricing__min_price_ratio", "network__degree"])
    {'account__age_days': 'fresh', 'pricing__min_price_ratio': 'market', 'network__degree': 'batch'}
    """
    out = {}
    for name in names:
        out[name] = next(src for prefix, src in SOURCES if name.startswith(prefix))
    return out


def _to_us(values: pd.Series) -> np.ndarray:
    """Timestamps as int64 microseconds since the epoch (naive UTC); missing: never."""
    series = pd.Series(values)
    if not pd.api.types.is_datetime64_any_dtype(series):
        series = pd.to_datetime(series)
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    missing = series.isna().to_numpy()
    out = series.astype("datetime64[us]").to_numpy().view(np.int64).copy()
    out[missing] = _NEVER
    return out


def _moment_us(moment: datetime) -> int:
    return int((pd.Timestamp(moment) - pd.Timestamp(0)) // pd.Timedelta(microseconds=1))


def _epoch_days(us: np.ndarray) -> np.ndarray:
    """Twin of :func:`riskscore.features._context.epoch_days`, with the same arithmetic."""
    whole = (us // _US_PER_DAY).astype(np.float64)
    in_day = us % _US_PER_DAY
    seconds = (in_day // 1_000_000).astype(np.float64) + (in_day % 1_000_000) / 1e6
    return whole + seconds / 86400.0


def _pandas(frame: Any) -> pd.DataFrame:
    if isinstance(frame, pd.DataFrame):
        return frame
    from riskscore.features._backend import to_pandas

    return to_pandas(frame)


def _ranges(codes: np.ndarray, times: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sort the rows of known codes by (code, time); return the order and each code's start.

    ``starts`` has ``n + 1`` entries: code ``c``'s rows are ``order[starts[c]:starts[c+1]]``.
    """
    order = np.lexsort((times, codes))
    order = order[codes[order] >= 0]
    starts = np.searchsorted(codes[order], np.arange(n + 1), side="left")
    return order, starts


@dataclass(frozen=True)
class MarketSnapshot:
    """Marketplace statistics at one moment, read by :meth:`SellerIndex.features_one`.

    Attributes
    ----------
    as_of : datetime
        The moment the statistics describe (the last batch).
    price_ratio, price_z : numpy.ndarray
        Per listing (index order): price / market price and the robust z-score of its log
        within the category, against the market prices at ``as_of``.
    category_aov : numpy.ndarray
        Average order amount per category code (NaN: none).
    order_rates : dict of str to float
        Marketplace refund and cancel rates.
    complaint_rates : dict of str to float
        Marketplace complaint rate per ``<kind>_<w>d`` (``all`` for every kind).
    batch : dict of str to dict of str to float
        Batch-only features (the network family) per seller id.
    """

    as_of: datetime
    price_ratio: np.ndarray
    price_z: np.ndarray
    category_aov: np.ndarray
    order_rates: dict[str, float]
    complaint_rates: dict[str, float]
    batch: dict[str, dict[str, float]]


class SellerIndex:
    """Per-seller row ranges of a marketplace, for one seller's features in about a millisecond.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Marketplace tables following the contract (pandas, or a library
        :func:`~riskscore.features.build_features` reads; converted to pandas once).
    windows : sequence of int, default (7, 30, 90)
        Look-back windows, as for :func:`~riskscore.features.build_features`.
    prior_weight : float, default 20
        Complaint-rate prior, as for :func:`~riskscore.features.build_features`.

    Examples
    --------
    >>> from riskscore.datasets import make_marketplace
    >>> from riskscore.features import build_features
    >>> tables = make_marketplace(n_sellers=30, seed=0)
    >>> index = SellerIndex(tables)
    >>> snap = index.snapshot("2024-06-30")
    >>> row = index.features_one("S000001", "2024-06-30", snap)
    >>> batch = build_features(tables, "seller", as_of="2024-06-30").loc["S000001"]
    >>> bool(np.allclose(list(row.values()), batch[list(row)].to_numpy(), equal_nan=True))
    True
    """

    def __init__(
        self,
        tables: Mapping[str, Any],
        *,
        windows: tuple[int, ...] | list[int] = DEFAULT_WINDOWS,
        prior_weight: float = DEFAULT_PRIOR_WEIGHT,
    ) -> None:
        missing = [n for n in ("sellers", "listings", "orders") if n not in tables]
        if missing:
            raise FeatureError(
                f"SellerIndex needs the table(s) {', '.join(missing)}; got "
                f"{', '.join(map(str, tables)) or 'none'}; pass sellers, listings and orders "
                "(complaints and products when you have them)"
            )
        from riskscore.features._backend import prepare

        prepare(tables, None)  # the contract's columns and time types, or a FeatureError
        self.tables = tables
        self.params = FeatureParams(windows=tuple(windows), prior_weight=prior_weight)
        self.specs = feature_specs("seller", self.params.windows)
        self.names = [s.name for s in self.specs]
        self.fills = {s.name: float(s.fill) for s in self.specs}
        self._build_sellers(_pandas(tables["sellers"]))
        self._build_listings(_pandas(tables["listings"]), tables.get("products"))
        self._build_orders(_pandas(tables["orders"]))
        self.has_complaints = "complaints" in tables
        if self.has_complaints:
            self._build_complaints(_pandas(tables["complaints"]))

    # -- build ---------------------------------------------------------------------------

    def _codes(self, seller_ids: pd.Series) -> np.ndarray:
        return self.seller_index.get_indexer(pd.Index(seller_ids.astype("str")))

    def _build_sellers(self, sellers: pd.DataFrame) -> None:
        ids = sellers["seller_id"].astype("str")
        self.seller_index = pd.Index(ids)
        if not self.seller_index.is_unique:
            raise FeatureError(
                "sellers.seller_id is not unique; validate the tables first "
                "(riskscore.validate) and keep one row per seller"
            )
        self.codes = {s: i for i, s in enumerate(ids)}
        self.registered = _to_us(sellers["registered_at"])
        self.n_sellers = len(ids)

    def _build_listings(self, listings: pd.DataFrame, products: Any) -> None:
        from riskscore.features.text import (
            REPLICA_TERMS_EN,
            REPLICA_TERMS_ZH,
            _term_count,
            normalised_title,
        )

        self.listings = listings
        codes = self._codes(listings["seller_id"])
        created = _to_us(listings["created_at"])
        self.l_order, self.l_starts = _ranges(codes, created, self.n_sellers)
        self.l_created = created[self.l_order]
        brand = listings["brand"]
        branded = (
            brand.notna()
            & (brand != "")
            & listings["category"].isin(self.params.high_risk_categories)
        )
        self.l_branded_high_risk = branded.to_numpy(dtype=np.float64)[self.l_order]
        text = (
            nw.from_native(listings[["title"]], eager_only=True)
            .with_columns(norm=normalised_title())
            .with_columns(en=_term_count(REPLICA_TERMS_EN), zh=_term_count(REPLICA_TERMS_ZH))
        )
        terms = (text["en"] + text["zh"]).to_numpy().astype(np.float64)
        self.l_terms = terms[self.l_order]
        # by listing id, any seller: the category and creation time an order joins to
        self.listing_index = pd.Index(listings["listing_id"].astype("str"))
        self.category_codes, self.categories = pd.factorize(listings["category"])
        self.listing_created = created
        self.products = products

    def _build_orders(self, orders: pd.DataFrame) -> None:
        codes = self._codes(orders["seller_id"])
        created = _to_us(orders["created_at"])
        order, self.o_starts = _ranges(codes, created, self.n_sellers)
        self.o_created = created[order]
        self.o_amount = orders["amount"].to_numpy(dtype=np.float64)[order]
        self.o_status_time: dict[str, np.ndarray] = {}
        self.o_status_flag: dict[str, np.ndarray] = {}
        for status, column in (("refunded", "refunded_at"), ("cancelled", "cancelled_at")):
            if column in orders.columns:
                self.o_status_time[status] = _to_us(orders[column])[order]
            else:  # latest status, not point-in-time (as the complaints family does)
                flag = (orders["status"] == status).fillna(False).to_numpy(dtype=np.float64)
                self.o_status_flag[status] = flag[order]
        self.o_buyer = pd.factorize(orders["buyer_id"])[0][order]
        self.o_address = pd.factorize(orders["ship_address_id"])[0][order]
        listing_pos = self.listing_index.get_indexer(pd.Index(orders["listing_id"].astype("str")))
        listing_pos = np.where(orders["listing_id"].isna().to_numpy(), -1, listing_pos)[order]
        self.o_listing = listing_pos
        known = listing_pos >= 0
        self.o_listing_created = np.where(
            known, self.listing_created[np.maximum(listing_pos, 0)], _NEVER
        )
        self.o_category = np.where(known, self.category_codes[np.maximum(listing_pos, 0)], -1)

    def _build_complaints(self, complaints: pd.DataFrame) -> None:
        codes = self._codes(complaints["seller_id"])
        created = _to_us(complaints["created_at"])
        order, self.c_starts = _ranges(codes, created, self.n_sellers)
        self.c_created = created[order]
        kind = complaints["kind"].astype("str").to_numpy()[order]
        self.c_kind = np.full(len(order), -1, dtype=np.int8)
        for i, name in enumerate(_KINDS):
            self.c_kind[kind == name] = i

    # -- marketplace statistics ----------------------------------------------------------

    def snapshot(
        self,
        as_of: Any,
        *,
        market: MarketStats | None = None,
        batch_features: pd.DataFrame | None = None,
    ) -> MarketSnapshot:
        """Return the marketplace statistics at ``as_of`` (the batch moment).

        Parameters
        ----------
        as_of : timestamp-like
            The batch moment.
        market : MarketStats, optional
            Statistics already computed at ``as_of`` (e.g. by a batch scoring run);
            default: computed here.
        batch_features : pandas.DataFrame, optional
            ``build_features(tables, "seller", as_of=as_of)`` output (indexed by
            ``seller_id``): the batch-only (network) features are read from it instead
            of being computed.
        """
        from riskscore.features import market_stats
        from riskscore.features._build import parse_time
        from riskscore.features.activity import _category_aov
        from riskscore.features.complaints import _market_complaints, _market_orders
        from riskscore.features.pricing import _by_brand, _by_product, _category_scale

        moment = parse_time(as_of)
        if market is None:
            market = market_stats(
                self.tables,
                moment,
                windows=self.params.windows,
                prior_weight=self.params.prior_weight,
            )
        elif market.as_of != moment or market.params != self.params:
            raise FeatureError(
                f"market holds statistics at {market.as_of} with {market.params}; the "
                f"snapshot asks for {moment} with {self.params}; compute "
                "market_stats(tables, as_of) with the same as_of, windows and prior_weight"
            )

        def value(key: str, build: Any) -> pd.DataFrame:
            return _pandas(nw.to_native(market.value(key, build).collect()))

        aov = value("activity_category_aov", _category_aov)
        category_aov = pd.Series(aov["cat_aov"].to_numpy(np.float64), index=aov["category"])
        category_aov = category_aov.reindex(pd.Index(self.categories)).to_numpy(np.float64)
        orders = value("complaints_market_orders", _market_orders).iloc[0]
        order_rates = {
            "refunded": float(orders["m_refund_rate"]),
            "cancelled": float(orders["m_cancel_rate"]),
        }
        complaint_rates: dict[str, float] = {}
        if self.has_complaints:
            counts = value("complaints_market_complaints", _market_complaints).iloc[0]
            for w in self.params.windows:
                m_orders = float(orders[f"m_orders_{w}d"])
                for kind in (None, *_KINDS):
                    key = f"{kind or 'all'}_{w}d"
                    c = float(counts[f"m_c_{key}"])
                    complaint_rates[key] = c / m_orders if m_orders > 0 else 0.0
        ratio, z = self._price_listings(
            value("pricing_by_product", _by_product),
            value("pricing_by_brand", _by_brand),
            value("pricing_category_scale", _category_scale),
        )
        batch = self._batch_features(market, batch_features)
        return MarketSnapshot(
            as_of=moment,
            price_ratio=ratio[self.l_order],
            price_z=z[self.l_order],
            category_aov=category_aov,
            order_rates=order_rates,
            complaint_rates=complaint_rates,
            batch=batch,
        )

    def _price_listings(
        self, by_product: pd.DataFrame, by_brand: pd.DataFrame, scale: pd.DataFrame
    ) -> tuple[np.ndarray, np.ndarray]:
        """Price every listing against the market (the joins of the pricing family)."""
        cols = ["product_id", "category", "brand", "price", "currency"]
        listings = self.listings[cols].copy()
        listings["price"] = listings["price"].astype(np.float64)
        listings["brand_key"] = listings["brand"].fillna("")
        listings["_row"] = np.arange(len(listings))
        refs = []
        if self.products is not None:
            catalogue = _pandas(self.products)[["product_id", "reference_price"]].copy()
            catalogue["reference_price"] = catalogue["reference_price"].astype(np.float64)
            catalogue = catalogue.loc[catalogue["reference_price"] > 0]
            catalogue = catalogue.rename(columns={"reference_price": "ref_catalogue"})
            listings = listings.merge(catalogue, on="product_id", how="left")
            refs.append("ref_catalogue")
        listings = listings.merge(by_product, on=["product_id", "currency"], how="left").merge(
            by_brand, on=["category", "brand_key", "currency"], how="left"
        )
        listings = listings.merge(scale, on="category", how="left").sort_values("_row")
        market_price = listings["ref_product"].astype(np.float64).to_numpy()
        for col in [*refs, "ref_product", "ref_brand"][::-1]:
            vals = listings[col].astype(np.float64).to_numpy()
            market_price = np.where(np.isnan(vals), market_price, vals)
        price = listings["price"].to_numpy(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(market_price > 0, price / market_price, NAN)
            log = np.where(ratio > 0, np.log(np.clip(ratio, 1e-300, None)), NAN)
            deviation = log - listings["category_centre"].astype(np.float64).to_numpy()
            spread = listings["scale"].astype(np.float64).to_numpy()
            z = np.where(spread > 0, deviation / spread, deviation)
        if len(listings) != len(self.listings):
            raise FeatureError(
                "a listing matched several market prices; validate the tables first "
                "(products.product_id must be unique)"
            )
        return ratio, z

    def _batch_features(
        self, market: MarketStats, batch_features: pd.DataFrame | None
    ) -> dict[str, dict[str, float]]:
        names = [n for n, src in feature_sources(self.names).items() if src == "batch"]
        if not names:
            return {}
        if batch_features is None:
            from riskscore.features.network import network_frame

            frame = market.value("network_frame", network_frame, after=("pricing", "complaints"))
            frame = _pandas(frame).set_index("seller_id")
        else:
            frame = _pandas(batch_features)
            if "seller_id" in frame.columns:
                frame = frame.set_index("seller_id")
            missing = [n for n in names if n not in frame.columns]
            if missing:
                raise FeatureError(
                    f"batch_features lacks {len(missing)} batch feature(s), e.g. "
                    f"{', '.join(missing[:3])}; pass the output of build_features(tables, "
                    "'seller', as_of=<batch time>)"
                )
        values = frame[names].astype(np.float64)
        values.index = values.index.astype("str")
        return {
            str(seller): dict(zip(names, row, strict=True))
            for seller, row in zip(values.index, values.to_numpy().tolist(), strict=True)
        }

    # -- one seller ----------------------------------------------------------------------

    def registered_at(self, seller_id: str) -> int | None:
        """Registration time of ``seller_id`` in microseconds (``None``: unknown id)."""
        code = self.codes.get(seller_id)
        return None if code is None else int(self.registered[code])

    def features_one(
        self, seller_id: str, as_of: Any, snapshot: MarketSnapshot
    ) -> dict[str, float]:
        """Return every seller feature of ``seller_id`` as known strictly before ``as_of``.

        Parameters
        ----------
        seller_id : str
        as_of : datetime or timestamp-like
        snapshot : MarketSnapshot
            Marketplace statistics (:meth:`snapshot`).

        Returns
        -------
        dict of str to float
            Feature name to value, in catalog order.

        Raises
        ------
        FeatureError
            The seller is unknown or registered at or after ``as_of``.
        """
        moment = as_of if isinstance(as_of, datetime) else _parse(as_of)
        t = _moment_us(moment)
        code = self.codes.get(seller_id)
        if code is None:
            raise FeatureError(
                f"seller {seller_id!r} is not in the sellers table the index was built "
                "from; check the id, or rebuild the index from tables that hold it"
            )
        if not self.registered[code] < t:
            raise FeatureError(
                f"seller {seller_id!r} registered at "
                f"{pd.Timestamp(int(self.registered[code]), unit='us')}, not before as_of "
                f"{moment}; features only use rows strictly before as_of: pass a later as_of"
            )
        since = {w: t - w * _US_PER_DAY for w in {*self._all_windows(), NEW_LISTING_DAYS}}
        out: dict[str, float] = dict.fromkeys(self.names, NAN)
        now_days = float(_epoch_days(np.array([t]))[0])
        # orders: the seller's rows before as_of are a prefix of its range
        a, b = self.o_starts[code], self.o_starts[code + 1]
        b = a + int(np.searchsorted(self.o_created[a:b], t, side="left"))
        o = slice(a, b)
        created, amount = self.o_created[o], self.o_amount[o]
        n_orders = b - a
        counts = {w: created >= since[w] for w in self._all_windows()}
        self._activity(out, counts, amount, o, snapshot, t)
        self._buyers(out, o, amount)
        self._complaints(out, code, counts, o, t, since, snapshot, n_orders)
        self._account(out, code, created, now_days)
        self._listings(out, code, t, since[NEW_LISTING_DAYS], now_days, snapshot)
        for name, value in snapshot.batch.get(seller_id, {}).items():
            out[name] = value
        for name, value in out.items():
            if value != value:  # NaN: the catalog fill
                out[name] = self.fills[name]
        return out

    def _all_windows(self) -> list[int]:
        extra = {BURST_RECENT, BURST_RECENT + BURST_REFERENCE}
        return sorted(set(self.params.windows) | extra)

    def _activity(
        self,
        out: dict[str, float],
        inside: dict[int, np.ndarray],
        amount: np.ndarray,
        o: slice,
        snapshot: MarketSnapshot,
        t: int,
    ) -> None:
        for w in self.params.windows:
            out[f"activity__orders_{w}d"] = float(np.count_nonzero(inside[w]))
            out[f"activity__gmv_{w}d"] = float(amount[inside[w]].sum())
        recent = float(np.count_nonzero(inside[BURST_RECENT]))
        previous = float(np.count_nonzero(inside[BURST_RECENT + BURST_REFERENCE]))
        out["activity__order_growth"] = (recent + 1.0) / (
            (previous - recent) * (BURST_RECENT / BURST_REFERENCE) + 1.0
        )
        # orders of listings known before as_of, per listing, against the category average
        listing = self.o_listing[o]
        keep = self.o_listing_created[o] < t
        if not keep.any():
            return
        listing, amounts = listing[keep], amount[keep]
        uniq, inverse = np.unique(listing, return_inverse=True)
        gmv = np.bincount(inverse, weights=amounts)
        n = np.bincount(inverse).astype(np.float64)
        cat = self.category_codes[uniq]
        avg = np.where(cat >= 0, snapshot.category_aov[np.maximum(cat, 0)], NAN)
        ok = avg > 0
        counted = float(n[ok].sum())
        if counted > 0:
            out["activity__aov_vs_category"] = float((gmv[ok] / avg[ok]).sum()) / counted

    def _buyers(self, out: dict[str, float], o: slice, amount: np.ndarray) -> None:
        n_orders = amount.size
        if n_orders == 0:
            return
        _, inverse = np.unique(self.o_buyer[o], return_inverse=True)
        per_buyer = np.bincount(inverse, weights=amount)
        buyers = float(per_buyer.size)
        gmv = float(per_buyer.sum())
        if gmv * gmv > 0:
            out["buyers__hhi"] = float((per_buyer * per_buyer).sum()) / (gmv * gmv)
        if gmv > 0:
            top = np.sort(per_buyer)[::-1]
            out["buyers__top1_share"] = float(top[0]) / gmv
            out["buyers__top3_share"] = float(top[:3].sum()) / gmv
        out["buyers__repeat_order_ratio"] = (n_orders - buyers) / n_orders
        out["buyers__orders_per_buyer"] = n_orders / buyers
        out["buyers__distinct_buyers"] = buyers
        address, buyer = self.o_address[o], self.o_buyer[o]
        known = address >= 0
        shared = 0.0
        if known.any():
            pairs = np.unique((address[known].astype(np.int64) << 32) | buyer[known])
            addr, per_addr = np.unique(pairs >> 32, return_counts=True)
            multi = addr[per_addr > 1]
            shared = float(np.isin(address[known], multi).sum())
        out["buyers__shared_address_share"] = shared / n_orders

    def _complaints(
        self,
        out: dict[str, float],
        code: int,
        inside: dict[int, np.ndarray],
        o: slice,
        t: int,
        since: dict[int, int],
        snapshot: MarketSnapshot,
        n_orders: int,
    ) -> None:
        prior = float(self.params.prior_weight)

        def smoothed(events: float, orders: float, rate: float) -> float:
            denominator = orders + prior
            return (events + rate * prior) / denominator if denominator > 0 else NAN

        for status, name in (("refunded", "refund_rate"), ("cancelled", "cancel_rate")):
            if status in self.o_status_time:
                events = float(np.count_nonzero(self.o_status_time[status][o] < t))
            else:
                events = float(self.o_status_flag[status][o].sum())
            out[f"complaints__{name}"] = smoothed(
                events, float(n_orders), snapshot.order_rates[status]
            )
        if not self.has_complaints:
            return
        a, b = self.c_starts[code], self.c_starts[code + 1]
        b = a + int(np.searchsorted(self.c_created[a:b], t, side="left"))
        created, kind = self.c_created[a:b], self.c_kind[a:b]
        c_in = {w: created >= since[w] for w in self._all_windows()}
        for w in self.params.windows:
            orders_w = float(np.count_nonzero(inside[w]))
            for k, kind_name in enumerate((None, *_KINDS)):
                hits = c_in[w] if kind_name is None else c_in[w] & (kind == k - 1)
                rate_name = "rate" if kind_name is None else f"{kind_name}_rate"
                out[f"complaints__{rate_name}_{w}d"] = smoothed(
                    float(np.count_nonzero(hits)),
                    orders_w,
                    snapshot.complaint_rates[f"{kind_name or 'all'}_{w}d"],
                )
        recent = float(np.count_nonzero(c_in[BURST_RECENT]))
        previous = float(np.count_nonzero(c_in[BURST_RECENT + BURST_REFERENCE]))
        out["complaints__acceleration"] = (recent + 1.0) / (
            (previous - recent) * (BURST_RECENT / BURST_REFERENCE) + 1.0
        )

    def _account(
        self, out: dict[str, float], code: int, created: np.ndarray, now_days: float
    ) -> None:
        out["account__age_days"] = now_days - float(
            _epoch_days(self.registered[code : code + 1])[0]
        )
        if created.size:
            first_last = _epoch_days(np.array([created[0], created[-1]]))
            out["account__days_since_first_order"] = now_days - float(first_last[0])
            out["account__days_since_last_order"] = now_days - float(first_last[1])

    def _listings(
        self,
        out: dict[str, float],
        code: int,
        t: int,
        new_since: int,
        now_days: float,
        snapshot: MarketSnapshot,
    ) -> None:
        a, b = self.l_starts[code], self.l_starts[code + 1]
        b = a + int(np.searchsorted(self.l_created[a:b], t, side="left"))
        n = b - a
        if n == 0:
            return
        created = self.l_created[a:b]
        out["account__listing_count"] = float(n)
        out["account__new_listings_7d"] = float(np.count_nonzero(created >= new_since))
        first = float(_epoch_days(created[:1])[0])
        out["account__days_since_first_listing"] = now_days - first
        terms = self.l_terms[a:b]
        replica = float(np.count_nonzero(terms > 0))
        out["text__replica_share"] = replica / n
        out["text__replica_listings"] = replica
        out["text__replica_terms_per_listing"] = float(terms.sum()) / n
        ratio, z = snapshot.price_ratio[a:b], snapshot.price_z[a:b]
        priced = ratio[~np.isnan(ratio)]
        if priced.size:
            out["pricing__median_price_ratio"] = float(np.median(priced))
            out["pricing__min_price_ratio"] = float(priced.min())
            out["pricing__share_below_market"] = float(
                np.count_nonzero(priced < self.params.below_market)
            ) / float(priced.size)
        zs = z[~np.isnan(z)]
        if zs.size:
            out["pricing__median_price_z"] = float(np.median(zs))
        out["pricing__share_branded_high_risk"] = float(self.l_branded_high_risk[a:b].sum()) / n


def _parse(as_of: Any) -> datetime:
    from riskscore.features._build import parse_time

    return parse_time(as_of)
