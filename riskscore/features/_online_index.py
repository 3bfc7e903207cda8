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

import functools
import math
import re
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
from riskscore.features._shared import BURST_RECENT, BURST_REFERENCE, PRIOR_WINDOW
from riskscore.features.account import NEW_LISTING_DAYS

__all__ = ["SOURCES", "MarketSnapshot", "SellerIndex", "feature_sources"]

NAN = math.nan
_US_PER_DAY = 86_400_000_000
#: A time that is never before any ``as_of`` (missing timestamps).
_NEVER = np.iinfo(np.int64).max
#: A column the built rows do not keep (the pricing keys of appended listings only).
_NONE = np.zeros(0, dtype=object)


def _filled(values: np.ndarray, n: int) -> np.ndarray:
    """``values``, or ``n`` Nones for a column the built rows do not keep."""
    return np.full(n, None, dtype=object) if values is _NONE else values


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
        Per listing of the index's tables (row order, plus a last NaN): price / market
        price and the robust z-score of its log within the category, against the market
        prices at ``as_of``.
    category_aov : numpy.ndarray
        Average order amount per category code (NaN: none).
    order_rates : dict of str to float
        Marketplace refund and cancel rates.
    complaint_rates : dict of str to float
        Marketplace complaint rate (the prior of every window) per kind (``all`` for
        every kind).
    batch_names : list of str
        Batch-only features (the network family).
    batch_values : numpy.ndarray
        Their values, one row per seller of ``batch_rows``.
    batch_rows : dict of str to int
        Row of ``batch_values`` of each seller id known to the batch.
    market_prices : dict of str to dict
        Lookups that price an appended listing: ``catalogue`` (product), ``product``
        (product, currency), ``brand`` (category, brand or "", currency), ``centre`` and
        ``scale`` (category).
    """

    as_of: datetime
    price_ratio: np.ndarray
    price_z: np.ndarray
    category_aov: np.ndarray
    order_rates: dict[str, float]
    complaint_rates: dict[str, float]
    batch_names: list[str]
    batch_values: np.ndarray
    batch_rows: dict[str, int]
    market_prices: dict[str, dict[Any, float]]

    def price(
        self,
        product: np.ndarray,
        category: np.ndarray,
        brand_key: np.ndarray,
        currency: np.ndarray,
        price: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Price listings against the market: ``(price_ratio, price_z)`` as the family does."""
        lookups = self.market_prices
        market = np.full(price.size, NAN)
        for i, (p, c, b, cur) in enumerate(
            zip(product, category, brand_key, currency, strict=True)
        ):
            for value in (
                lookups["catalogue"].get(p),
                lookups["product"].get((p, cur)),
                lookups["brand"].get((c, b, cur)),
            ):
                if value is not None and value == value:
                    market[i] = value
                    break
        centre = np.array([lookups["centre"].get(c, NAN) for c in category], dtype=np.float64)
        spread = np.array([lookups["scale"].get(c, NAN) for c in category], dtype=np.float64)
        return _price(price, market, centre, spread)


def _price(
    price: np.ndarray, market: np.ndarray, centre: np.ndarray, spread: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Price ratio and robust z (the expressions of :mod:`riskscore.features.pricing`)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(market > 0, price / market, NAN)
        log = np.where(ratio > 0, np.log(np.clip(ratio, 1e-300, None)), NAN)
        deviation = log - centre
        z = np.where(spread > 0, deviation / spread, deviation)
    return ratio, z


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

    Notes
    -----
    New events join with :meth:`append` (sellers, listings, orders, complaints): the
    touched sellers' row ranges are rebuilt from their rows (old and new), so the index
    then answers as one built from the tables with those rows added.

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

    #: Tables whose rows are kept per seller (``sellers`` holds the sellers themselves).
    ROW_TABLES: tuple[str, ...] = ("listings", "orders", "complaints")

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
        self.has_complaints = "complaints" in tables
        self.products = tables.get("products")
        self._frames = {
            name: _pandas(tables[name]) for name in ("sellers", *self.ROW_TABLES) if name in tables
        }
        self._build_sellers(self._frames["sellers"])
        listings = self._frames["listings"]
        # by listing id, any seller: what an order joins to (category, creation time)
        self.listing_index = pd.Index(listings["listing_id"].astype("str"))
        _warm(self.listing_index)
        category_codes, categories = pd.factorize(listings["category"])
        self.categories: list[Any] = list(categories)
        self._category_code = {c: i for i, c in enumerate(self.categories)}
        self.listing_category = category_codes
        self.listing_created = _to_us(listings["created_at"])
        self._new_listings: dict[str, tuple[int, int, int]] = {}
        self._rows: dict[str, dict[str, np.ndarray]] = {}
        self._starts: dict[str, np.ndarray] = {}
        self._overlay: dict[str, dict[int, dict[str, np.ndarray]]] = {}
        self._uniques: dict[str, pd.Index] = {}
        self._late_codes: dict[str, dict[str, int]] = {}
        for name in self.ROW_TABLES:
            if name not in self._frames:
                continue
            frame = self._frames[name]
            derived = self._derive(name, frame, base=True)
            codes = self._codes(frame["seller_id"])
            order, self._starts[name] = _ranges(codes, derived["created"], self.n_sellers)
            self._rows[name] = {k: v if v is _NONE else v[order] for k, v in derived.items()}
            self._overlay[name] = {}

    # -- build ---------------------------------------------------------------------------

    def _codes(self, seller_ids: pd.Series) -> np.ndarray:
        ids = pd.Index(seller_ids.astype("str"))
        codes = self.seller_index.get_indexer(ids)
        if len(self.codes) > len(self.seller_index):  # sellers appended since the build
            late = np.flatnonzero(codes < 0)
            names = ids.to_numpy(dtype=object)
            codes[late] = [self.codes.get(str(names[i]), -1) for i in late]
        return codes

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

    def _derive(self, name: str, frame: pd.DataFrame, *, base: bool) -> dict[str, np.ndarray]:
        """Per-row arrays of table ``name`` the features read, in ``frame``'s row order."""
        out = {"created": _to_us(frame["created_at"])}
        if name == "orders":
            out["amount"] = frame["amount"].to_numpy(dtype=np.float64)
            for status, column in (("refunded", "refunded_at"), ("cancelled", "cancelled_at")):
                if column in frame.columns:
                    out[f"{status}_at"] = _to_us(frame[column])
                else:  # latest status, not point-in-time (as the complaints family does)
                    flag = (frame["status"] == status).fillna(False)
                    out[f"{status}_flag"] = flag.to_numpy(dtype=np.float64)
            # codes are only compared within one seller's rows
            out["buyer"] = self._factor("buyer", frame["buyer_id"], base=base)
            out["address"] = self._factor("address", frame["ship_address_id"], base=base)
            key, created, category = self._lookup_listings(frame["listing_id"])
            out["listing"], out["listing_created"], out["category"] = key, created, category
        elif name == "listings":
            from riskscore.features.text import (
                REPLICA_TERMS_EN,
                REPLICA_TERMS_ZH,
                _term_count,
                normalised_title,
            )

            brand = frame["brand"]
            branded = (
                brand.notna()
                & (brand != "")
                & frame["category"].isin(self.params.high_risk_categories)
            )
            out["branded_high_risk"] = branded.to_numpy(dtype=np.float64)
            text = (
                nw.from_native(frame[["title"]], eager_only=True)
                .with_columns(norm=normalised_title())
                .with_columns(en=_term_count(REPLICA_TERMS_EN), zh=_term_count(REPLICA_TERMS_ZH))
            )
            out["terms"] = (text["en"] + text["zh"]).to_numpy().astype(np.float64)
            if base:  # priced by the snapshot, by row position
                out["pos"] = np.arange(len(frame))
            else:  # priced by the snapshot's lookups
                out["pos"] = np.full(len(frame), -1)
            for col in ("product_id", "category", "currency"):
                out[col] = frame[col].to_numpy(dtype=object) if not base else _NONE
            out["brand_key"] = (
                frame["brand"].fillna("").to_numpy(dtype=object) if not base else _NONE
            )
            out["price"] = frame["price"].to_numpy(dtype=np.float64)
        else:
            kind = frame["kind"].astype("str").to_numpy()
            out["kind"] = np.full(len(frame), -1, dtype=np.int8)
            for i, kind_name in enumerate(_KINDS):
                out["kind"][kind == kind_name] = i
        return out

    def _derive_small(self, name: str, cols: dict[str, list[Any]]) -> dict[str, np.ndarray]:
        """:meth:`_derive` of a few appended rows (``{column: values}``), in plain Python."""
        built = self._frames[name].columns
        out = {"created": np.array([_us(v) for v in cols["created_at"]], dtype=np.int64)}
        if name == "orders":
            out["amount"] = np.array(cols["amount"], dtype=np.float64)
            for status, column in (("refunded", "refunded_at"), ("cancelled", "cancelled_at")):
                if column in built:
                    out[f"{status}_at"] = np.array([_us(v) for v in cols[column]], np.int64)
                else:
                    flags = [1.0 if v == status else 0.0 for v in cols["status"]]
                    out[f"{status}_flag"] = np.array(flags, dtype=np.float64)
            out["buyer"] = self._factor_few("buyer", cols["buyer_id"])
            out["address"] = self._factor_few("address", cols["ship_address_id"])
            found = [self._listing_of(v) for v in cols["listing_id"]]
            out["listing"] = np.array([f[0] for f in found], dtype=np.intp)
            out["listing_created"] = np.array([f[1] for f in found], dtype=np.int64)
            out["category"] = np.array([f[2] for f in found], dtype=np.intp)
        elif name == "listings":
            high_risk = set(self.params.high_risk_categories)
            out["branded_high_risk"] = np.array(
                [
                    1.0 if not _missing(b) and b != "" and c in high_risk else 0.0
                    for b, c in zip(cols["brand"], cols["category"], strict=True)
                ],
                dtype=np.float64,
            )
            out["terms"] = np.array([_replica_terms(t) for t in cols["title"]], dtype=np.float64)
            out["pos"] = np.full(len(out["created"]), -1)
            for col in ("product_id", "category", "currency"):
                out[col] = np.array([None if _missing(v) else v for v in cols[col]], dtype=object)
            brand_key = ["" if _missing(v) else v for v in cols["brand"]]
            out["brand_key"] = np.array(brand_key, dtype=object)
            out["price"] = np.array(cols["price"], dtype=np.float64)
        else:
            kinds = {k: i for i, k in enumerate(_KINDS)}
            out["kind"] = np.array([kinds.get(str(v), -1) for v in cols["kind"]], dtype=np.int8)
        return out

    def _factor_few(self, what: str, values: list[Any]) -> np.ndarray:
        """:meth:`_factor` of a few ids, in plain Python."""
        known, late = self._uniques[what], self._late_codes[what]
        out = np.full(len(values), -1, dtype=np.intp)
        for i, value in enumerate(values):
            if _missing(value):
                continue
            try:
                found = known.get_loc(str(value))
            except KeyError:
                out[i] = late.setdefault(str(value), len(known) + len(late))
                continue
            out[i] = found if isinstance(found, int) else -1  # uniques are unique
        return out

    def _listing_of(self, value: Any) -> tuple[int, int, int]:
        """Key, creation time and category code of one listing id (-1, never, -1: unknown)."""
        if _missing(value):
            return -1, _NEVER, -1
        try:
            pos = self.listing_index.get_loc(str(value))
        except KeyError:
            found = self._new_listings.get(str(value))
            if found is None:
                return -1, _NEVER, -1
            created, category, key = found
            return key, created, category
        if not isinstance(pos, int):  # a repeated listing id: as the vectorised lookup does
            keys, times, categories = self._lookup_listings(pd.Series([str(value)]))
            return int(keys[0]), int(times[0]), int(categories[0])
        return pos, int(self.listing_created[pos]), int(self.listing_category[pos])

    def _factor(self, what: str, values: pd.Series, *, base: bool) -> np.ndarray:
        """Integer codes of ids (missing: -1), the same for the same id at build and later."""
        if base:
            codes, uniques = pd.factorize(values)
            self._uniques[what] = known = pd.Index(uniques)
            _warm(known)
            self._late_codes[what] = {}
            return codes
        known = self._uniques[what]
        codes = known.get_indexer(pd.Index(values.astype("str")))
        missing = values.isna().to_numpy()
        late = self._late_codes[what]
        texts = values.to_numpy(dtype=object)
        for i in np.flatnonzero((codes < 0) & ~missing):
            codes[i] = late.setdefault(str(texts[i]), len(known) + len(late))
        codes[missing] = -1
        return codes

    def _lookup_listings(self, ids: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return a key, the creation time and the category code of each listing id."""
        text = ids.astype("str")
        pos = self.listing_index.get_indexer(pd.Index(text))
        pos = np.where(ids.isna().to_numpy(), -1, pos)
        known = pos >= 0
        created = np.where(known, self.listing_created[np.maximum(pos, 0)], _NEVER)
        category = np.where(known, self.listing_category[np.maximum(pos, 0)], -1)
        if self._new_listings:
            for i in np.flatnonzero(~known):
                found = self._new_listings.get(text.iloc[i])
                if found is not None:
                    created[i], category[i], pos[i] = found
        return pos, created, category

    # -- new events ----------------------------------------------------------------------

    def append(self, table: str, rows: Any) -> int:
        """Add new rows (events) of ``table``; return how many sellers they touched.

        Parameters
        ----------
        table : {"sellers", "listings", "orders", "complaints"}
            The contract table the rows belong to.
        rows : DataFrame, mapping or list of mappings
            New rows with that table's contract columns (an event as a dict needs only
            the columns the features read). Their sellers must be known (append a new
            seller's ``sellers`` row first); append a listing before the orders on it.
            Up to :data:`SMALL_APPEND` rows take a plain-Python path (no pandas).

        Raises
        ------
        FeatureError
            Unknown table, a seller appended twice, rows of an unknown seller.

        Examples
        --------
        >>> from riskscore.datasets import make_marketplace
        >>> tables = make_marketplace(n_sellers=30, seed=0)
        >>> index = SellerIndex(tables)
        >>> snap = index.snapshot("2024-06-30")
        >>> new = tables["orders"].iloc[:1].assign(
        ...     seller_id="S000002", created_at=pd.Timestamp("2024-07-01"))
        >>> index.append("orders", new)
        1
        >>> f = index.features_one("S000002", "2024-07-01 00:00:01", snap)
        >>> g = index.features_one("S000002", "2024-07-01", snap)
        >>> f["activity__orders_7d"] - g["activity__orders_7d"]
        1.0
        """
        records: list[Mapping[str, Any]] | None = None
        if isinstance(rows, Mapping):
            records = [rows]
        elif isinstance(rows, list) and all(isinstance(r, Mapping) for r in rows):
            records = rows
        if table == "sellers":
            return self._append_sellers(
                pd.DataFrame.from_records(records) if records is not None else _pandas(rows)
            )
        if table not in self.ROW_TABLES or table not in self._rows:
            known = ", ".join(["sellers", *self._rows])
            raise FeatureError(f"append takes rows of one of the tables {known}; got {table!r}")
        if records is None:
            frame = _pandas(rows)
            if len(frame) <= SMALL_APPEND:  # a few rows: the plain-Python path of events
                records = frame.to_dict("records")  # type: ignore[assignment]
        if records is not None:
            return self._append_records(table, records)
        missing = [c for c in self._frames[table].columns if c not in frame.columns]
        if missing:
            raise FeatureError(
                f"new {table} rows lack the column(s) {', '.join(missing[:5])}; give rows "
                f"with the columns of the {table} table the index was built from"
            )
        frame = frame[list(self._frames[table].columns)]
        codes = self._codes(frame["seller_id"])
        self._check_sellers(table, codes, frame["seller_id"].to_numpy(dtype=object))
        if table == "listings":
            self._register_listings(
                frame["listing_id"].astype("str").tolist(),
                _to_us(frame["created_at"]).tolist(),
                frame["category"].tolist(),
            )
        return self._merge(table, codes, self._derive(table, frame, base=False))

    def _append_records(self, table: str, records: list[Mapping[str, Any]]) -> int:
        """Append rows given as ``{column: value}`` records (events), in plain Python."""
        needed = _READS[table]
        missing = sorted({c for r in records for c in needed if c not in r})
        if missing:
            raise FeatureError(
                f"new {table} rows lack the column(s) {', '.join(missing[:5])}; give rows "
                f"with at least {', '.join(needed)}"
            )
        cols = {c: [r.get(c) for r in records] for c in (*needed, *_OPTIONAL.get(table, ()))}
        codes = np.array([self.codes.get(str(v), -1) for v in cols["seller_id"]], dtype=np.intp)
        self._check_sellers(table, codes, np.array(cols["seller_id"], dtype=object))
        if table == "listings":
            self._register_listings(
                [str(v) for v in cols["listing_id"]],
                [_us(v) for v in cols["created_at"]],
                cols["category"],
            )
        return self._merge(table, codes, self._derive_small(table, cols))

    def _check_sellers(self, table: str, codes: np.ndarray, ids: np.ndarray) -> None:
        if (codes < 0).any():
            raise FeatureError(
                f"{int((codes < 0).sum())} new {table} row(s) belong to sellers the index "
                f"does not know, e.g. {ids[codes < 0][0]!r}; append their sellers rows first"
            )

    def _register_listings(self, ids: list[str], created: list[int], categories: list[Any]) -> None:
        for lid, when, category in zip(ids, created, categories, strict=True):
            code = self._category_code.setdefault(category, len(self.categories))
            if code == len(self.categories):
                self.categories.append(category)
            key = len(self.listing_index) + len(self._new_listings)
            self._new_listings[lid] = (int(when), code, key)

    def _merge(self, table: str, codes: np.ndarray, derived: dict[str, np.ndarray]) -> int:
        """Merge derived new rows into their sellers' rows; return the sellers touched."""
        touched = np.unique(codes)
        for code in touched.tolist():
            mine = codes == code
            current = self._overlay[table].get(code) or self._base_rows(table, code)
            rows = {
                k: np.concatenate([_filled(current[k], len(current["created"])), v[mine]])
                for k, v in derived.items()
            }
            order = np.argsort(rows["created"], kind="stable")
            self._overlay[table][code] = {k: v[order] for k, v in rows.items()}
        return int(touched.size)

    def _base_rows(self, table: str, code: int) -> dict[str, np.ndarray]:
        a, b = self._starts[table][code], self._starts[table][code + 1]
        return {k: v if v is _NONE else v[a:b] for k, v in self._rows[table].items()}

    def _append_sellers(self, frame: pd.DataFrame) -> int:
        ids = frame["seller_id"].astype("str").tolist()
        again = [i for i in ids if i in self.codes]
        if again or len(set(ids)) != len(ids):
            raise FeatureError(
                f"{len(again) or 'some'} new seller(s) are already known, e.g. "
                f"{(again or ids)[0]!r}; append a seller once (to change a seller, rebuild "
                "the index)"
            )
        for seller in ids:
            self.codes[seller] = len(self.codes)
        self.registered = np.concatenate([self.registered, _to_us(frame["registered_at"])])
        self.n_sellers = len(self.codes)
        for name, starts in self._starts.items():
            self._starts[name] = np.concatenate([starts, np.full(len(ids), starts[-1])])
        return len(ids)

    def _seller_rows(self, table: str, code: int, t: int) -> dict[str, np.ndarray]:
        """Return the seller's rows of ``table`` strictly before ``t`` (time-sorted arrays)."""
        rows = self._overlay[table].get(code)
        if rows is None:
            a, b = self._starts[table][code], self._starts[table][code + 1]
            created = self._rows[table]["created"]
            b = a + int(np.searchsorted(created[a:b], t, side="left"))
            return {k: v[a:b] for k, v in self._rows[table].items() if v is not _NONE}
        k = int(np.searchsorted(rows["created"], t, side="left"))
        return {name: v[:k] for name, v in rows.items()}

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
        by_category = pd.Series(aov["cat_aov"].to_numpy(np.float64), index=aov["category"])
        category_aov = by_category.reindex(pd.Index(self.categories)).to_numpy(np.float64)
        orders = value("complaints_market_orders", _market_orders).iloc[0]
        order_rates = {
            "refunded": float(orders["m_refund_rate"]),
            "cancelled": float(orders["m_cancel_rate"]),
        }
        complaint_rates: dict[str, float] = {}
        if self.has_complaints:
            counts = value("complaints_market_complaints", _market_complaints).iloc[0]
            m_orders = float(orders[f"m_orders_{PRIOR_WINDOW}d"])
            for kind in (None, *_KINDS):
                c = float(counts[f"m_c_{kind or 'all'}"])
                complaint_rates[kind or "all"] = c / m_orders if m_orders > 0 else 0.0
        by_product = value("pricing_by_product", _by_product)
        by_brand = value("pricing_by_brand", _by_brand)
        scale = value("pricing_category_scale", _category_scale)
        ratio, z, catalogue = self._price_listings(by_product, by_brand, scale)
        market_prices: dict[str, dict[Any, float]] = {
            "catalogue": catalogue,
            "product": _lookup(by_product, ["product_id", "currency"], "ref_product"),
            "brand": _lookup(by_brand, ["category", "brand_key", "currency"], "ref_brand"),
            "centre": _lookup(scale, ["category"], "category_centre"),
            "scale": _lookup(scale, ["category"], "scale"),
        }
        names, values, rows = self._batch_features(market, batch_features)
        return MarketSnapshot(
            as_of=moment,
            price_ratio=np.append(ratio, NAN),  # position -1 (no built row): NaN
            price_z=np.append(z, NAN),
            category_aov=category_aov,
            order_rates=order_rates,
            complaint_rates=complaint_rates,
            batch_names=names,
            batch_values=values,
            batch_rows=rows,
            market_prices=market_prices,
        )

    def _price_listings(
        self, by_product: pd.DataFrame, by_brand: pd.DataFrame, scale: pd.DataFrame
    ) -> tuple[np.ndarray, np.ndarray, dict[Any, float]]:
        """Price every built listing against the market (the joins of the pricing family)."""
        cols = ["product_id", "category", "brand", "price", "currency"]
        built = self._frames["listings"]
        listings = built[cols].copy()
        listings["price"] = listings["price"].astype(np.float64)
        listings["brand_key"] = listings["brand"].fillna("")
        listings["_row"] = np.arange(len(listings))
        refs = []
        catalogue_prices: dict[Any, float] = {}
        if self.products is not None:
            catalogue = _pandas(self.products)[["product_id", "reference_price"]].copy()
            catalogue["reference_price"] = catalogue["reference_price"].astype(np.float64)
            catalogue = catalogue.loc[catalogue["reference_price"] > 0]
            catalogue = catalogue.rename(columns={"reference_price": "ref_catalogue"})
            listings = listings.merge(catalogue, on="product_id", how="left")
            refs.append("ref_catalogue")
            catalogue_prices = _lookup(catalogue, ["product_id"], "ref_catalogue")
        listings = listings.merge(by_product, on=["product_id", "currency"], how="left").merge(
            by_brand, on=["category", "brand_key", "currency"], how="left"
        )
        listings = listings.merge(scale, on="category", how="left").sort_values("_row")
        if len(listings) != len(built):
            raise FeatureError(
                "a listing matched several market prices; validate the tables first "
                "(products.product_id must be unique)"
            )
        market_price = listings["ref_product"].astype(np.float64).to_numpy()
        for col in [*refs, "ref_product", "ref_brand"][::-1]:
            vals = listings[col].astype(np.float64).to_numpy()
            market_price = np.where(np.isnan(vals), market_price, vals)
        ratio, z = _price(
            listings["price"].to_numpy(np.float64),
            market_price,
            listings["category_centre"].astype(np.float64).to_numpy(),
            listings["scale"].astype(np.float64).to_numpy(),
        )
        return ratio, z, catalogue_prices

    def _batch_features(
        self, market: MarketStats, batch_features: pd.DataFrame | None
    ) -> tuple[list[str], np.ndarray, dict[str, int]]:
        names = [n for n, src in feature_sources(self.names).items() if src == "batch"]
        if not names:
            return [], np.zeros((0, 0)), {}
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
        values = frame[names].to_numpy(dtype=np.float64)
        rows = {str(seller): i for i, seller in enumerate(frame.index)}
        return names, values, rows

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
                "from; check the id, or append the seller's row (SellerIndex.append)"
            )
        if not self.registered[code] < t:
            raise FeatureError(
                f"seller {seller_id!r} registered at "
                f"{pd.Timestamp(int(self.registered[code]), unit='us')}, not before as_of "
                f"{moment}; features only use rows strictly before as_of: pass a later as_of"
            )
        windows = self._all_windows()
        since = {w: t - w * _US_PER_DAY for w in {*windows, NEW_LISTING_DAYS}}
        out: dict[str, float] = dict.fromkeys(self.names, NAN)
        now_days = float(_epoch_days(np.array([t]))[0])
        orders = self._seller_rows("orders", code, t)
        inside = {w: orders["created"] >= since[w] for w in windows}
        self._activity(out, orders, inside, snapshot, t)
        self._buyers(out, orders)
        self._complaints(out, code, orders, inside, t, since, snapshot)
        self._account(out, code, orders["created"], now_days)
        listings = self._seller_rows("listings", code, t)
        self._listings(out, listings, since[NEW_LISTING_DAYS], now_days, snapshot)
        row = snapshot.batch_rows.get(seller_id)
        if row is not None:
            for name, value in zip(snapshot.batch_names, snapshot.batch_values[row], strict=True):
                out[name] = float(value)
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
        orders: dict[str, np.ndarray],
        inside: dict[int, np.ndarray],
        snapshot: MarketSnapshot,
        t: int,
    ) -> None:
        amount = orders["amount"]
        for w in self.params.windows:
            out[f"activity__orders_{w}d"] = float(np.count_nonzero(inside[w]))
            out[f"activity__gmv_{w}d"] = float(amount[inside[w]].sum())
        recent = float(np.count_nonzero(inside[BURST_RECENT]))
        previous = float(np.count_nonzero(inside[BURST_RECENT + BURST_REFERENCE]))
        out["activity__order_growth"] = (recent + 1.0) / (
            (previous - recent) * (BURST_RECENT / BURST_REFERENCE) + 1.0
        )
        # orders of listings known before as_of, per listing, against the category average
        keep = (orders["listing_created"] < t) & (orders["listing"] >= 0)
        if not keep.any():
            return
        listing, amounts, category = orders["listing"][keep], amount[keep], orders["category"][keep]
        _, first, inverse = np.unique(listing, return_index=True, return_inverse=True)
        gmv = np.bincount(inverse, weights=amounts)
        n = np.bincount(inverse).astype(np.float64)
        cat = category[first]
        known = (cat >= 0) & (cat < snapshot.category_aov.size)
        avg = np.where(known, snapshot.category_aov[np.where(known, cat, 0)], NAN)
        ok = avg > 0
        counted = float(n[ok].sum())
        if counted > 0:
            out["activity__aov_vs_category"] = float((gmv[ok] / avg[ok]).sum()) / counted

    def _buyers(self, out: dict[str, float], orders: dict[str, np.ndarray]) -> None:
        amount = orders["amount"]
        n_orders = amount.size
        if n_orders == 0:
            return
        buyer = orders["buyer"]
        _, inverse = np.unique(buyer, return_inverse=True)
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
        address = orders["address"]
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
        orders: dict[str, np.ndarray],
        inside: dict[int, np.ndarray],
        t: int,
        since: dict[int, int],
        snapshot: MarketSnapshot,
    ) -> None:
        prior = float(self.params.prior_weight)
        n_orders = float(orders["created"].size)

        def smoothed(events: float, n: float, rate: float, observed: bool) -> float:
            denominator = n + prior if observed else 0.0
            return (events + rate * prior) / denominator if denominator > 0 else NAN

        for status, name in (("refunded", "refund_rate"), ("cancelled", "cancel_rate")):
            if f"{status}_at" in orders:
                events = float(np.count_nonzero(orders[f"{status}_at"] < t))
            else:
                events = float(orders[f"{status}_flag"].sum())
            out[f"complaints__{name}"] = smoothed(
                events, n_orders, snapshot.order_rates[status], n_orders > 0
            )
        if not self.has_complaints:
            return
        complaints = self._seller_rows("complaints", code, t)
        created, kind = complaints["created"], complaints["kind"]
        c_in = {w: created >= since[w] for w in self._all_windows()}
        for w in self.params.windows:
            orders_w = float(np.count_nonzero(inside[w]))
            observed = orders_w > 0 or bool(c_in[w].any())
            for k, kind_name in enumerate((None, *_KINDS)):
                hits = c_in[w] if kind_name is None else c_in[w] & (kind == k - 1)
                rate_name = "rate" if kind_name is None else f"{kind_name}_rate"
                market = snapshot.complaint_rates[kind_name or "all"]
                # relative to the market, as the family: (events / market + prior) / (n + prior)
                scaled = float(np.count_nonzero(hits)) / market if market > 0 else 0.0
                out[f"complaints__{rate_name}_{w}d"] = smoothed(scaled, orders_w, 1.0, observed)
        recent = float(np.count_nonzero(c_in[BURST_RECENT]))
        previous = float(np.count_nonzero(c_in[BURST_RECENT + BURST_REFERENCE]))
        out["complaints__acceleration"] = (recent + 1.0) / (
            (previous - recent) * (BURST_RECENT / BURST_REFERENCE) + 1.0
        )

    def _account(
        self, out: dict[str, float], code: int, created: np.ndarray, now_days: float
    ) -> None:
        registered = self.registered[code : code + 1]
        out["account__age_days"] = now_days - float(_epoch_days(registered)[0])
        if created.size:
            first_last = _epoch_days(np.array([created[0], created[-1]]))
            out["account__days_since_first_order"] = now_days - float(first_last[0])
            out["account__days_since_last_order"] = now_days - float(first_last[1])

    def _listings(
        self,
        out: dict[str, float],
        listings: dict[str, np.ndarray],
        new_since: int,
        now_days: float,
        snapshot: MarketSnapshot,
    ) -> None:
        created = listings["created"]
        n = created.size
        if n == 0:
            return
        out["account__listing_count"] = float(n)
        out["account__new_listings_7d"] = float(np.count_nonzero(created >= new_since))
        out["account__days_since_first_listing"] = now_days - float(_epoch_days(created[:1])[0])
        terms = listings["terms"]
        replica = float(np.count_nonzero(terms > 0))
        out["text__replica_share"] = replica / n
        out["text__replica_listings"] = replica
        out["text__replica_terms_per_listing"] = float(terms.sum()) / n
        pos = listings["pos"]
        ratio, z = snapshot.price_ratio[pos], snapshot.price_z[pos]
        new = pos < 0
        if new.any():  # appended listings, priced against the snapshot's market prices
            ratio[new], z[new] = snapshot.price(
                listings["product_id"][new],
                listings["category"][new],
                listings["brand_key"][new],
                listings["currency"][new],
                listings["price"][new],
            )
        priced = ratio[~np.isnan(ratio)]
        if priced.size:
            out["pricing__median_price_ratio"] = float(np.median(priced))
            out["pricing__min_price_ratio"] = float(priced.min())
            below = float(np.count_nonzero(priced < self.params.below_market))
            out["pricing__share_below_market"] = below / float(priced.size)
        zs = z[~np.isnan(z)]
        if zs.size:
            out["pricing__median_price_z"] = float(np.median(zs))
        out["pricing__share_branded_high_risk"] = float(listings["branded_high_risk"].sum()) / n


#: The columns an appended row of each table must carry (what the index reads).
_READS: dict[str, tuple[str, ...]] = {
    "orders": ("seller_id", "listing_id", "buyer_id", "ship_address_id", "amount", "created_at"),
    "listings": (
        "listing_id",
        "seller_id",
        "product_id",
        "category",
        "brand",
        "title",
        "price",
        "currency",
        "created_at",
    ),
    "complaints": ("seller_id", "kind", "created_at"),
}
#: Columns read when present (missing: not refunded / cancelled yet).
_OPTIONAL: dict[str, tuple[str, ...]] = {"orders": ("status", "refunded_at", "cancelled_at")}

#: Appends of up to this many rows take the plain-Python path.
SMALL_APPEND = 64

_EPOCH = pd.Timestamp(0)
_MICROSECOND = pd.Timedelta(microseconds=1)


def _warm(index: pd.Index) -> None:
    """Build ``index``'s hash table now, not on the first event (~0.1 s at millions of ids)."""
    if len(index):
        index.get_loc(index[0])


def _missing(value: Any) -> bool:
    return (
        value is None
        or value is pd.NaT
        or value is pd.NA
        or (isinstance(value, float) and value != value)
    )


def _us(value: Any) -> int:
    """One timestamp as int64 microseconds (naive UTC; missing: never), as :func:`_to_us`."""
    if _missing(value) or pd.isna(value):
        return int(_NEVER)
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return int((stamp - _EPOCH) // _MICROSECOND)


def _replica_terms(title: Any) -> float:
    """Distinct replica terms of one title (:mod:`riskscore.features.text`, in Python)."""
    from riskscore.features.text import REPLICA_TERMS_EN, REPLICA_TERMS_ZH

    if _missing(title):
        return 0.0
    norm = str(title).lower().replace("：", ":").replace("\u3000", " ")
    norm = _scale_pattern().sub("#", norm).replace(" ", "")
    return float(sum(term in norm for term in (*REPLICA_TERMS_EN, *REPLICA_TERMS_ZH)))


@functools.cache
def _scale_pattern() -> re.Pattern[str]:
    from riskscore.features.text import SCALE_PATTERN

    return re.compile(SCALE_PATTERN)


def _lookup(frame: pd.DataFrame, keys: list[str], value: str) -> dict[Any, float]:
    """``{key (tuple when several columns): value}`` from the rows of ``frame``."""
    columns = [frame[k].to_numpy(dtype=object) for k in keys]
    values = frame[value].to_numpy(dtype=np.float64).tolist()
    if len(keys) == 1:
        return dict(zip(columns[0].tolist(), values, strict=True))
    return dict(zip(zip(*columns, strict=True), values, strict=True))


def _parse(as_of: Any) -> datetime:
    from riskscore.features._build import parse_time

    return parse_time(as_of)
