"""What a threshold pack counts: the confirmed orders, listings and views of one seller.

Only **confirmed** items count, never a model band:

- a ``labels`` row on a listing (``listing_id`` set) of one of ``label_kinds`` confirms
  that listing, when its ``outcome`` is ``confirmed`` (a table without an ``outcome``
  column is read as all confirmed; ``cleared`` and ``reversed`` rows never count) and,
  with ``as_of``, it was decided before ``as_of``;
- a seller-level label (no ``listing_id``) confirms every listing of the seller only when
  ``seller_labels=True``: a shop closed for counterfeits does not prove that each of its
  listings infringed;
- ``confirmed_listings`` (e.g. rights-holder confirmations) confirm listings, and
  ``confirmed_orders`` (e.g. test buys) confirm single orders.

Counted over ``[start, end)``: the confirmed orders placed in the period whose status is
not excluded (by default cancelled and refunded orders are left out), their amounts in
CNY (listing currency x the user's rate; CNY is 1 by definition, every other currency
needs a rate) and quantities, and the views of the confirmed listings in the period
(``listing_views``, one row per view or a ``views`` count per row).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskscore.exceptions import ParameterError, SchemaError

__all__ = [
    "Evidence",
    "Period",
    "as_pandas",
    "check_confirmed",
    "confirmed_listings",
    "gather",
    "own_listings",
    "parse_period",
    "parse_rates",
    "parse_time",
]

#: The currency thresholds are stated in; its rate is 1 by definition.
BASE_CURRENCY = "CNY"
#: Order statuses left out of amounts and pieces by default.
EXCLUDED_STATUSES: tuple[str, ...] = ("cancelled", "refunded")
_N = 5


@dataclass(frozen=True)
class Period:
    """``[start, end)`` as timezone-naive UTC timestamps."""

    start: pd.Timestamp
    end: pd.Timestamp


@dataclass(frozen=True)
class Evidence:
    """The confirmed items of one seller in one period and what they add up to.

    Parameters
    ----------
    order_ids, listing_ids : tuple of str
        The orders counted and the confirmed listings of the seller.
    amount_cny : float
        Sum of the orders' amounts in CNY, rounded to cents.
    pieces : int
        Sum of the orders' quantities.
    hits : int or None
        Views of the confirmed listings in the period; ``None`` without ``listing_views``.
    rates : dict of str to float
        The rate used for each currency of the orders counted.
    """

    order_ids: tuple[str, ...]
    listing_ids: tuple[str, ...]
    amount_cny: float
    pieces: int
    hits: int | None
    rates: dict[str, float]


def as_pandas(tables: Mapping[str, Any]) -> dict[str, Any]:
    """Return the tables with every ``to_pandas()``-able one (Polars, DuckDB, Arrow) as pandas.

    Examples
    --------
    >>> import pyarrow as pa
    >>> type(as_pandas({"orders": pa.table({"order_id": ["O1"]})})["orders"]).__name__
    'DataFrame'
    """
    out: dict[str, Any] = {}
    for name, frame in tables.items():
        if not isinstance(frame, pd.DataFrame) and hasattr(frame, "to_pandas"):
            frame = frame.to_pandas()
        elif not isinstance(frame, pd.DataFrame) and hasattr(frame, "df"):  # DuckDB relation
            frame = frame.df()
        out[name] = frame
    return out


def parse_time(where: str, name: str, value: object) -> pd.Timestamp:
    """One date or timestamp as timezone-naive UTC (aware values are converted)."""
    try:
        ts = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        ts = None
    if ts is None or ts is pd.NaT:
        raise ParameterError(
            f"The '{name}' parameter of {where} must be a date or timestamp such as "
            f"'2024-01-01'. Got {value!r} instead."
        )
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def parse_period(where: str, start: object, end: object) -> Period:
    """Check and convert ``start`` and ``end`` (``end`` after ``start``)."""
    first, last = parse_time(where, "start", start), parse_time(where, "end", end)
    if last <= first:
        raise ParameterError(
            f"The 'end' parameter of {where} must be after 'start' (the period is "
            f"[start, end)). Got start={start!r}, end={end!r}."
        )
    return Period(first, last)


def parse_rates(where: str, rates: object) -> dict[str, float]:
    """Currency -> CNY per unit, from a mapping or a frame with ``currency``/``rate``."""
    if rates is None:
        return {}
    if isinstance(rates, pd.DataFrame):
        if not {"currency", "rate"} <= set(rates.columns):
            raise ParameterError(
                f"The 'rates' parameter of {where} as a DataFrame needs the columns "
                f"'currency' and 'rate' (CNY per unit). Got columns {list(rates.columns)}."
            )
        dup = rates["currency"].duplicated()
        if dup.any():
            raise ParameterError(
                f"The 'rates' parameter of {where} gives currencies more than once: "
                f"{sorted(map(str, rates.loc[dup, 'currency'].unique()))[:_N]}; keep one rate "
                "per currency"
            )
        pairs: Iterable[tuple[Any, Any]] = zip(rates["currency"], rates["rate"], strict=True)
    elif isinstance(rates, Mapping):
        pairs = rates.items()
    else:
        raise ParameterError(
            f"The 'rates' parameter of {where} must be a mapping such as {{'USD': 7.1}} or a "
            f"DataFrame with columns currency and rate. Got {type(rates).__name__} instead."
        )
    out: dict[str, float] = {}
    bad = []
    for cur, rate in pairs:
        ok = isinstance(rate, numbers.Real) and not isinstance(rate, bool)
        if not (isinstance(cur, str) and ok and math.isfinite(float(rate)) and float(rate) > 0):
            bad.append(f"{cur!r}: {rate!r}")
            continue
        out[cur] = float(rate)
    if bad:
        raise ParameterError(
            f"The 'rates' parameter of {where} must map currency codes to finite numbers > 0 "
            f"(CNY per unit). Got {', '.join(bad[:_N])}"
            + (f" and {len(bad) - _N} more" if len(bad) > _N else "")
        )
    if BASE_CURRENCY in out and out[BASE_CURRENCY] != 1.0:
        raise ParameterError(
            f"The 'rates' parameter of {where} gives CNY a rate of {out[BASE_CURRENCY]!r}; "
            "thresholds are in CNY, so its rate is 1 (leave it out)"
        )
    return out


def _ids(where: str, name: str, value: object) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ParameterError(
            f"The '{name}' parameter of {where} must be a collection of ids such as "
            f"['L0001', 'L0002']. Got {value!r} instead."
        )
    return {str(v) for v in value}


def _need(tables: Mapping[str, Any], table: str, columns: tuple[str, ...]) -> pd.DataFrame:
    frame = tables.get(table)
    if frame is None:
        raise SchemaError(
            [f"table '{table}' is missing; pass the marketplace tables (riskscore.validate)"]
        )
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            [
                f"table '{table}' is a {type(frame).__name__}, not a pandas DataFrame; pass "
                "pandas tables (as_pandas(tables) converts Polars, DuckDB or Arrow ones)"
            ]
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            [
                f"{table}: missing column(s) {', '.join(missing)} (got {list(frame.columns)}); "
                "pass tables that follow the data contract (riskscore.validate)"
            ]
        )
    return frame


def _unknown(where: str, name: str, given: set[str], known: pd.Series, table: str) -> None:
    if not given:
        return
    missing = sorted(given - set(known[known.isin(list(given))]))
    if missing:
        raise ParameterError(
            f"The '{name}' parameter of {where} names {len(missing)} id(s) not in "
            f"{table}, e.g. {', '.join(missing[:_N])}; check the ids (nothing is dropped "
            "silently)"
        )


def confirmed_listings(
    tables: Mapping[str, Any],
    seller_id: str,
    *,
    label_kinds: tuple[str, ...],
    seller_labels: bool,
    as_of: pd.Timestamp | None,
) -> set[str]:
    """Return the seller's listings confirmed by labels (see the module docstring)."""
    listings = _need(tables, "listings", ("listing_id", "seller_id"))
    own = listings.loc[listings["seller_id"] == seller_id, "listing_id"]
    labels = tables.get("labels")
    if labels is None:
        return set()
    labels = _need(tables, "labels", ("seller_id", "label", "decided_at"))
    rows = labels.loc[(labels["seller_id"] == seller_id) & labels["label"].isin(label_kinds)]
    if "outcome" in rows.columns:
        rows = rows.loc[rows["outcome"] == "confirmed"]
    if as_of is not None:
        rows = rows.loc[pd.to_datetime(rows["decided_at"]) < as_of]
    on_listing = (
        rows["listing_id"].notna()
        if "listing_id" in rows.columns
        else pd.Series(False, index=rows.index)
    )
    out = set(rows.loc[on_listing, "listing_id"]) & set(own)
    if seller_labels and (~on_listing).any():
        out |= set(own)
    return out


def gather(
    where: str,
    tables: Mapping[str, Any],
    seller_id: str,
    period: Period,
    listing_ids: set[str],
    order_ids: set[str],
    rates: dict[str, float],
    exclude_statuses: tuple[str, ...],
    categories: tuple[str, ...] | None = None,
) -> Evidence:
    """Add up the confirmed orders and views of ``seller_id`` in ``period``.

    With ``categories``, only listings (and orders on listings) of those categories count.
    """
    listings = _need(tables, "listings", ("listing_id", "seller_id", "currency"))
    if categories is not None:
        listings = _need(tables, "listings", ("listing_id", "seller_id", "currency", "category"))
        inside = listings.loc[
            (listings["seller_id"] == seller_id) & listings["category"].isin(categories),
            "listing_id",
        ]
        listing_ids = listing_ids & set(inside)
        allowed = set(inside)
    else:
        allowed = None
    orders = _need(
        tables,
        "orders",
        ("order_id", "listing_id", "seller_id", "quantity", "amount", "created_at", "status"),
    )
    mine = orders.loc[orders["seller_id"] == seller_id]
    created = pd.to_datetime(mine["created_at"])
    keep = (
        (created >= period.start)
        & (created < period.end)
        & ~mine["status"].isin(exclude_statuses)
        & (mine["listing_id"].isin(listing_ids) | mine["order_id"].isin(order_ids))
    )
    if allowed is not None:
        keep &= mine["listing_id"].isin(allowed)
    counted = mine.loc[keep]
    currency = counted["listing_id"].map(listings.set_index("listing_id")["currency"])
    used = _rates_for(where, counted, currency, rates)
    rate = currency.map(used).to_numpy(dtype=float)
    amount = float(np.round(np.sum(counted["amount"].to_numpy(dtype=float) * rate), 2))
    hits = None
    views = tables.get("listing_views")
    if views is not None:
        views = _need(tables, "listing_views", ("listing_id", "viewed_at"))
        at = pd.to_datetime(views["viewed_at"])
        sel = views["listing_id"].isin(listing_ids) & (at >= period.start) & (at < period.end)
        counts = views.loc[sel, "views"] if "views" in views.columns else sel.loc[sel]
        hits = int(counts.sum())
    return Evidence(
        order_ids=tuple(sorted(counted["order_id"])),
        listing_ids=tuple(sorted(listing_ids)),
        amount_cny=amount,
        pieces=int(counted["quantity"].sum()),
        hits=hits,
        rates=used,
    )


def _rates_for(
    where: str, orders: pd.DataFrame, currency: pd.Series, rates: dict[str, float]
) -> dict[str, float]:
    used: dict[str, float] = {}
    missing: dict[str, list[str]] = {}
    for cur, order_id in zip(currency, orders["order_id"], strict=True):
        key = str(cur) if isinstance(cur, str) else "(missing)"
        if key == BASE_CURRENCY:
            used[key] = 1.0
        elif key in rates:
            used[key] = rates[key]
        else:
            missing.setdefault(key, []).append(str(order_id))
    if missing:
        parts = [
            f"{cur} ({len(ids)} order(s), e.g. {', '.join(sorted(ids)[:_N])})"
            for cur, ids in sorted(missing.items())
        ]
        example = ", ".join(f"'{c}': <CNY per {c}>" for c in sorted(missing))
        raise ParameterError(
            f"The 'rates' parameter of {where} has no CNY rate for {'; '.join(parts)}. "
            f"Thresholds are in CNY and riskscore never assumes a rate: pass "
            f"rates={{{example}}} (the rate your case uses, e.g. of the order dates)"
        )
    return used


def check_confirmed(
    where: str,
    tables: Mapping[str, Any],
    confirmed_orders: object,
    confirmed_listings: object,
    flagged_listings: object,
) -> tuple[set[str], set[str], set[str] | None]:
    """Parse the user's id sets; every id must exist (other sellers' ids are fine)."""
    orders = _need(tables, "orders", ("order_id",))
    listings = _need(tables, "listings", ("listing_id",))
    o = _ids(where, "confirmed_orders", confirmed_orders)
    c = _ids(where, "confirmed_listings", confirmed_listings)
    f = None if flagged_listings is None else _ids(where, "flagged_listings", flagged_listings)
    _unknown(where, "confirmed_orders", o, orders["order_id"], "orders")
    _unknown(where, "confirmed_listings", c, listings["listing_id"], "listings")
    if f is not None:
        _unknown(where, "flagged_listings", f, listings["listing_id"], "listings")
    return o, c, f


def own_listings(tables: Mapping[str, Any], seller_id: str) -> set[str]:
    """Return the listing ids of ``seller_id`` (an unknown seller is an error)."""
    sellers = _need(tables, "listings", ("listing_id", "seller_id"))
    own = set(sellers.loc[sellers["seller_id"] == seller_id, "listing_id"])
    known = tables.get("sellers")
    if (
        isinstance(known, pd.DataFrame)
        and "seller_id" in known.columns
        and not (known["seller_id"] == seller_id).any()
    ):
        raise ParameterError(
            f"seller {seller_id!r} is not in sellers ({len(known)} sellers, e.g. "
            f"{', '.join(map(str, known['seller_id'].head(3)))}); check the id"
        )
    return own
