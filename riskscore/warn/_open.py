"""Orders as they stood at ``as_of``: which were paid before it and still open.

The orders table is a snapshot taken later than ``as_of``: its ``status`` is the latest
step. The state at ``as_of`` is rebuilt from the step times, with the convention of the
feature builders: an event is known at ``as_of`` when its time is *strictly before*
``as_of``. So an order

- *exists* at ``as_of`` when ``created_at < as_of``;
- is *closed* at ``as_of`` when ``delivered_at``, ``refunded_at`` or ``cancelled_at`` is
  ``< as_of`` (delivered one second before: closed; delivered at or after: still open);
- is *open* otherwise (paid, shipped, or later delivered/refunded/cancelled).

A time column may be absent only when no order has its status: without
``delivered_at`` a ``delivered`` order's state at ``as_of`` is unknown, and guessing would
either leak the future or hide exposed buyers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from riskscore.exceptions import FeatureError, ParameterError, SchemaError
from riskscore.features._build import parse_time

__all__ = ["ORDER_COLUMNS", "STEP_TIMES", "as_of_time", "orders_before"]

#: Columns of ``orders`` that a warning list reads.
ORDER_COLUMNS: tuple[str, ...] = (
    "order_id",
    "listing_id",
    "seller_id",
    "buyer_id",
    "amount",
    "created_at",
    "status",
)

#: Status -> the column holding when the order reached it (a closing step).
STEP_TIMES: dict[str, str] = {
    "delivered": "delivered_at",
    "refunded": "refunded_at",
    "cancelled": "cancelled_at",
}

_N_EXAMPLES = 5


def as_of_time(value: Any, where: str = "warn_buyers") -> datetime:
    """Return ``value`` as a naive UTC datetime, or raise a ParameterError naming ``where``.

    Examples
    --------
    >>> as_of_time("2024-06-30T08:00+08:00")
    datetime.datetime(2024, 6, 30, 0, 0)
    """
    try:
        return parse_time(value, "as_of")
    except FeatureError as err:
        raise ParameterError(f"{where}: {err}") from None


def orders_before(tables: Mapping[str, Any], as_of: Any) -> pd.DataFrame:
    """Return the orders created before ``as_of`` with ``is_open`` and ``delivered``.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Marketplace tables with an ``orders`` table (pandas, or with ``to_pandas()``).
    as_of : timestamp-like
        Naive times are UTC.

    Returns
    -------
    pandas.DataFrame
        :data:`ORDER_COLUMNS` plus ``is_open`` (bool: not delivered, refunded or
        cancelled before ``as_of``) and ``delivered_before`` (bool).

    Raises
    ------
    SchemaError
        No ``orders`` table, a missing column, times that are not timestamps, or a
        closed status without the time it happened (table, column, examples, count, fix).

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"order_id": ["O1", "O2"], "listing_id": ["L1", "L1"],
    ...     "seller_id": ["S1", "S1"], "buyer_id": ["B1", "B2"], "amount": [10.0, 20.0],
    ...     "created_at": pd.to_datetime(["2024-06-01", "2024-06-02"]),
    ...     "status": ["delivered", "delivered"],
    ...     "delivered_at": pd.to_datetime(["2024-06-05", "2024-07-05"])})
    >>> orders_before({"orders": orders}, pd.Timestamp("2024-07-01"))["is_open"].tolist()
    [False, True]
    """
    moment = pd.Timestamp(as_of_time(as_of, "orders_before"))
    if not isinstance(tables, Mapping):
        raise ParameterError(
            "The 'tables' parameter of orders_before must be a mapping of table name to "
            f"DataFrame. Got {type(tables).__name__} instead."
        )
    if "orders" not in tables:
        raise SchemaError(
            ["table 'orders' is missing; warn_buyers needs it (one row per order placed)"]
        )
    frame = tables["orders"]
    if not isinstance(frame, pd.DataFrame) and hasattr(frame, "to_pandas"):
        frame = frame.to_pandas()
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            [f"table 'orders' is a {type(frame).__name__}; pass a pandas or Polars table"]
        )
    missing = [c for c in ORDER_COLUMNS if c not in frame.columns]
    if missing:
        raise SchemaError(
            [
                f"table 'orders' has no column(s) {missing}; warn_buyers needs "
                f"{list(ORDER_COLUMNS)} (see riskscore.CONTRACT['orders'])"
            ]
        )
    created = _times(frame, "created_at")
    before = (created < moment).to_numpy()
    orders = frame.loc[before, list(ORDER_COLUMNS)].copy()
    orders["created_at"] = created[before]
    orders["amount"] = _amounts(orders)
    status = orders["status"].astype("str").to_numpy()
    closed = np.zeros(len(orders), dtype=bool)
    delivered = np.zeros(len(orders), dtype=bool)
    problems: list[str] = []
    for step, column in STEP_TIMES.items():
        reached = status == step
        if column not in frame.columns:
            if reached.any():
                problems.append(_no_time(orders, reached, step, column, "is absent"))
            continue
        when = _times(frame, column)[before]
        unknown = reached & when.isna().to_numpy()
        if unknown.any():
            problems.append(_no_time(orders, unknown, step, column, "is missing"))
        done = (when < moment).to_numpy()
        closed |= done
        if step == "delivered":
            delivered = done
    if problems:
        raise SchemaError(problems)
    orders["is_open"] = ~closed
    orders["delivered_before"] = delivered
    return orders.reset_index(drop=True)


def _times(frame: pd.DataFrame, column: str) -> pd.Series:
    """Return ``frame[column]`` as naive UTC timestamps, or raise naming bad values."""
    values = frame[column]
    if pd.api.types.is_datetime64_any_dtype(values):
        tz = getattr(values.dtype, "tz", None)
        return values.dt.tz_convert("UTC").dt.tz_localize(None) if tz is not None else values
    parsed = pd.to_datetime(values, errors="coerce", utc=True).dt.tz_localize(None)
    bad = parsed.isna() & values.notna()
    if bad.any():
        ids = frame.loc[bad, "order_id"].astype("str").tolist()
        raise SchemaError(
            [
                f"table 'orders', column '{column}': {int(bad.sum())} value(s) are not "
                f"timestamps (order_id {ids[:_N_EXAMPLES]}); use ISO 8601 times such as "
                "2024-06-30T12:00:00"
            ]
        )
    return parsed


def _amounts(orders: pd.DataFrame) -> pd.Series:
    """Return ``orders.amount`` as float64, or raise naming values that are not numbers."""
    values = pd.to_numeric(orders["amount"], errors="coerce").astype("float64")
    bad = values.isna() & orders["amount"].notna()
    if bad.any():
        ids = orders.loc[bad, "order_id"].astype("str").tolist()
        raise SchemaError(
            [
                f"table 'orders', column 'amount': {int(bad.sum())} value(s) are not numbers "
                f"(order_id {ids[:_N_EXAMPLES]}); store the amount paid as a number"
            ]
        )
    return values


def _no_time(orders: pd.DataFrame, rows: np.ndarray, step: str, column: str, how: str) -> str:
    ids = orders.loc[rows, "order_id"].astype("str").tolist()
    return (
        f"table 'orders', column '{column}' {how} for {int(rows.sum())} order(s) with status "
        f"'{step}' (order_id {ids[:_N_EXAMPLES]}); without it the order's state at as_of is "
        f"unknown: add '{column}' (when the order was {step})"
    )
