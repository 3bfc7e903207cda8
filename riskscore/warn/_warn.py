"""``warn_buyers``: the buyers still exposed to flagged shops as of a time, one row per order.

Orders considered: paid before ``as_of`` at a flagged seller and still open at ``as_of``
(see :mod:`riskscore.warn._open`). Such an order is listed when at least one reason holds:

``NOT_DELIVERED``
    Paid at least ``undelivered_days`` days before ``as_of`` and not delivered before it.
``PRICE_FAR_BELOW_MARKET``
    Its listing is priced under ``price_ratio`` × the market price of the same product, as
    the pricing feature family computes it at ``as_of`` (:func:`riskscore.build_features`,
    listing entity, family ``pricing``: catalogue price, else the median of the same
    product, else of the same category and brand — one computation for features and
    warnings).
``SEVERAL_FLAGGED_SHOPS``
    The buyer ordered (before ``as_of``, any status) from ``min_flagged_shops`` or more
    flagged sellers.

Nothing is sent. The list is meant for a person who reads it, signs off, and decides
whom to contact; the message column is a draft in the chosen language.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from riskscore._validation import check_int, check_option, check_real
from riskscore.exceptions import ParameterError
from riskscore.features import FeatureParams, build_features
from riskscore.warn._flags import flagged_sellers
from riskscore.warn._messages import LANGUAGES, REASONS, render_message, render_reasons
from riskscore.warn._open import as_of_time, orders_before

__all__ = ["WARNING_COLUMNS", "warn_buyers"]

_WHERE = "warn_buyers"

#: Columns of the warning list, in order.
WARNING_COLUMNS: tuple[str, ...] = (
    "buyer_id",
    "order_id",
    "seller_id",
    "listing_id",
    "amount",
    "currency",
    "created_at",
    "days_open",
    "price_ratio",
    "flagged_shops",
    "seller_band",
    "seller_action",
    "reason_codes",
    "reason_text",
    "message",
    "language",
    "as_of",
)


def warn_buyers(
    tables: Mapping[str, Any],
    flagged: Any,
    *,
    as_of: Any,
    min_band: str | None = "high",
    actions: Sequence[str] | None = None,
    undelivered_days: int = 7,
    price_ratio: float = FeatureParams().below_market,
    min_flagged_shops: int = 2,
    language: str = "en",
) -> pd.DataFrame:
    """List the buyers still exposed to flagged sellers as of ``as_of``, one row per order.

    Only what is known at ``as_of`` is used: orders created before it, order steps
    (delivery, refund, cancellation) strictly before it, market prices from listings
    created before it. An order delivered after ``as_of`` was still open at ``as_of``.
    Nothing is sent: the list goes to a person who signs off before anyone is contacted.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Marketplace tables (:data:`riskscore.CONTRACT`): ``orders`` and ``listings``
        (``sellers``, ``products`` for market prices).
    flagged : DataFrame or iterable of str
        Seller scores (``seller_id``, ``band``, as ``riskscore score`` writes them),
        decisions (``entity_id`` or ``seller_id`` with ``action``), or seller ids.
    as_of : timestamp-like
        The moment of the list (naive times are UTC).
    min_band : {"low", "medium", "high", "critical"} or None, default "high"
        Flag sellers whose band is this or above.
    actions : sequence of str, optional
        Also flag sellers whose decision is one of these, e.g. ``("hold", "block")``.
    undelivered_days : int, default 7
        ``NOT_DELIVERED`` when an open order was paid this many days before ``as_of``
        or more (exactly N days counts).
    price_ratio : float, default 0.6
        ``PRICE_FAR_BELOW_MARKET`` when the listing's price / market price is under this
        (the pricing family's ``below_market``).
    min_flagged_shops : int, default 2
        ``SEVERAL_FLAGGED_SHOPS`` when the buyer ordered from this many flagged sellers.
    language : {"en", "zh"}, default "en"
        Language of ``reason_text`` and ``message``.

    Returns
    -------
    pandas.DataFrame
        :data:`WARNING_COLUMNS`, one row per (buyer, open order at a flagged seller with
        a reason), sorted by buyer, order time and order id. ``reason_codes`` is the
        codes joined by ``";"``; ``days_open`` whole days since payment; ``price_ratio``
        NaN where the listing has no market price.

    Raises
    ------
    ParameterError
        A bad parameter or flagged frame (see :func:`flagged_sellers`).
    SchemaError
        A missing table or column, or a closed order without its step time.

    Examples
    --------
    >>> from riskscore.datasets import make_marketplace
    >>> tables = make_marketplace(n_sellers=300, seed=0)
    >>> truth = tables.pop("truth")
    >>> fake = truth.loc[truth["seller_type"] == "fake_phone", "seller_id"]
    >>> rows = warn_buyers(tables, fake, as_of="2024-03-01")
    >>> rows.columns[:5].tolist()
    ['buyer_id', 'order_id', 'seller_id', 'listing_id', 'amount']
    >>> bool(rows["seller_id"].isin(fake).all())
    True
    """
    moment = as_of_time(as_of)
    days = check_int(undelivered_days, "undelivered_days", _WHERE, minimum=0)
    ratio = check_real(price_ratio, "price_ratio", _WHERE, low=0, low_open=True)
    shops = check_int(min_flagged_shops, "min_flagged_shops", _WHERE, minimum=2)
    check_option(language, "language", _WHERE, LANGUAGES)
    if not isinstance(tables, Mapping):
        raise ParameterError(
            f"The 'tables' parameter of {_WHERE} must be a mapping of table name to "
            f"DataFrame. Got {type(tables).__name__} instead."
        )
    flags = flagged_sellers(flagged, min_band=min_band, actions=actions, as_of=moment)
    orders = orders_before(tables, moment)
    at_flagged = orders["seller_id"].astype("str").isin(flags["seller_id"]).to_numpy()
    orders = orders.loc[at_flagged].reset_index(drop=True)
    n_shops = orders.groupby("buyer_id", sort=False)["seller_id"].nunique()
    open_ = orders.loc[orders["is_open"]].reset_index(drop=True)
    age = pd.Timestamp(moment) - open_["created_at"]
    open_["days_open"] = age.dt.days.astype("int64")
    open_["flagged_shops"] = open_["buyer_id"].map(n_shops).astype("int64")
    prices = _listing_prices(tables, open_["listing_id"], moment)
    open_["price_ratio"] = open_["listing_id"].map(prices["price_ratio"]).astype("float64")
    open_["currency"] = open_["listing_id"].map(prices["currency"])
    undelivered = (age >= pd.Timedelta(days=days)).to_numpy()
    cheap = (open_["price_ratio"] < ratio).to_numpy()
    several = (open_["flagged_shops"] >= shops).to_numpy()
    hits = np.column_stack([undelivered, cheap, several])
    keep = np.asarray(hits.any(axis=1), dtype=bool)
    rows = open_.loc[keep].reset_index(drop=True)
    hits = hits[keep]
    rows = rows.merge(flags, on="seller_id", how="left", validate="many_to_one")
    codes = list(REASONS)
    rows["reason_codes"] = [
        ";".join(c for c, h in zip(codes, row, strict=True) if h) for row in hits
    ]
    rows["reason_text"], rows["message"] = _texts(rows, hits, codes, days, language)
    rows["language"] = language
    rows["as_of"] = pd.Timestamp(moment)
    for column in ("seller_band", "seller_action"):  # None, not NaN, where not known
        rows[column] = rows[column].astype("object").where(rows[column].notna(), None)
    rows = rows.sort_values(["buyer_id", "created_at", "order_id"], kind="stable")
    return rows.loc[:, list(WARNING_COLUMNS)].reset_index(drop=True)


def _listing_prices(tables: Mapping[str, Any], ids: pd.Series, as_of: datetime) -> pd.DataFrame:
    """Price / market price and currency of listings ``ids`` at ``as_of`` (pricing family)."""
    wanted = sorted(set(ids.astype("str")))
    empty = pd.DataFrame({"price_ratio": pd.Series(dtype="float64"), "currency": None})
    if not wanted:
        return empty
    feats = build_features(tables, "listing", as_of=as_of, families=["pricing"], ids=wanted)
    listings = tables["listings"]
    if not isinstance(listings, pd.DataFrame) and hasattr(listings, "to_pandas"):
        listings = listings.to_pandas()
    currency = listings.loc[listings["listing_id"].isin(wanted)].set_index("listing_id")["currency"]
    out = pd.DataFrame({"price_ratio": feats["pricing__price_ratio"]})
    out["currency"] = currency.reindex(out.index)
    return out


def _texts(
    rows: pd.DataFrame, hits: np.ndarray, codes: list[str], days: int, language: str
) -> tuple[list[str], list[str]]:
    """Reason texts and messages, one per row, in ``language``."""
    reasons: list[str] = []
    messages: list[str] = []
    columns = ["order_id", "seller_id", "amount", "currency", "created_at", "days_open"]
    records = rows[[*columns, "price_ratio", "flagged_shops"]].to_dict("records")
    for record, row in zip(records, hits, strict=True):
        ratio = record["price_ratio"]
        values = {
            "days_open": int(record["days_open"]),
            "undelivered_days": days,
            "price_ratio": math.nan if ratio is None else float(ratio),
            "flagged_shops": int(record["flagged_shops"]),
        }
        text = render_reasons([c for c, h in zip(codes, row, strict=True) if h], language, values)
        currency = record["currency"]
        messages.append(
            render_message(
                language,
                {
                    "order_id": record["order_id"],
                    "amount": f"{float(record['amount']):,.2f}",
                    "currency": "" if currency is None or currency != currency else currency,
                    "date": pd.Timestamp(record["created_at"]).strftime("%Y-%m-%d"),
                    "seller_id": record["seller_id"],
                    "reasons": text,
                },
            )
        )
        reasons.append(text)
    return reasons, messages
