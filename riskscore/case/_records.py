"""The records of a case file: one seller's rows as they were known at ``as_of``.

A case file must show what the model could have seen, nothing later. Each function takes
the marketplace tables and returns the seller's rows **known at** ``as_of``:

- :func:`known_orders` — orders placed before ``as_of``; a delivery, refund or
  cancellation time at or after ``as_of`` is blanked and the status set back to what it
  was then (``delivered`` when delivered before, else ``paid``). Without the time column
  of the latest status the status is kept as given (as the features read it).
- :func:`known_rows` — complaints and listings created before ``as_of``.
- :func:`linked_sellers` — one row per linked seller and shared identifier value, from
  the same web the ``network__`` features count
  (:func:`riskscore.features.network.seller_web`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["LINKED_COLUMNS", "known_orders", "known_rows", "linked_sellers", "seller_row"]

#: The order statuses that carry a time column, and the column.
_STATUS_TIMES: dict[str, str] = {
    "delivered": "delivered_at",
    "refunded": "refunded_at",
    "cancelled": "cancelled_at",
}

#: Columns of :func:`linked_sellers`.
LINKED_COLUMNS: tuple[str, ...] = ("seller_id", "link", "shared_value", "weight", "label")


def _before(frame: pd.DataFrame, column: str, cutoff: pd.Timestamp) -> pd.Series:
    return pd.to_datetime(frame[column]) < cutoff


def known_rows(
    tables: Mapping[str, Any], name: str, seller_id: str, cutoff: pd.Timestamp
) -> pd.DataFrame | None:
    """Return the seller's rows of table ``name`` created before ``cutoff`` (None: no table).

    Examples
    --------
    >>> from riskscore.explain._evidence import _demo
    >>> tables, _ = _demo()
    >>> known_rows(tables, "listings", "S2", pd.Timestamp("2024-03-01"))["listing_id"].tolist()
    ['L2']
    >>> len(known_rows(tables, "listings", "S2", pd.Timestamp("2024-02-03")))
    0
    """
    table = tables.get(name)
    if table is None:
        return None
    own = table[(table["seller_id"] == seller_id) & _before(table, "created_at", cutoff)]
    return own.sort_values("created_at", kind="stable").reset_index(drop=True)


def known_orders(
    tables: Mapping[str, Any], seller_id: str, cutoff: pd.Timestamp
) -> pd.DataFrame | None:
    """Return the seller's orders placed before ``cutoff``, with the status known then.

    Examples
    --------
    >>> ts = pd.Timestamp
    >>> orders = pd.DataFrame({"order_id": ["O1", "O2"], "seller_id": ["S1", "S1"],
    ...     "created_at": [ts("2024-01-01"), ts("2024-01-02")],
    ...     "status": ["refunded", "delivered"],
    ...     "delivered_at": [ts("2024-01-05"), ts("2024-03-01")],
    ...     "refunded_at": [ts("2024-02-20"), pd.NaT]})
    >>> known_orders({"orders": orders}, "S1", ts("2024-02-01"))[
    ...     ["order_id", "status", "delivered_at", "refunded_at"]]
      order_id     status delivered_at refunded_at
    0       O1  delivered   2024-01-05         NaT
    1       O2       paid          NaT         NaT
    """
    own = known_rows(tables, "orders", seller_id, cutoff)
    if own is None or own.empty:
        return own
    own = own.copy()
    later = pd.Series(False, index=own.index)
    for status, column in _STATUS_TIMES.items():
        if column not in own.columns:
            continue
        when = pd.to_datetime(own[column])
        after = when.notna() & (when >= cutoff)
        later |= after & (own["status"] == status)
        own[column] = when.where(~after)
    if later.any():
        delivered = pd.Series(False, index=own.index)
        if "delivered_at" in own.columns:
            delivered = own["delivered_at"].notna()
        own.loc[later, "status"] = delivered[later].map({True: "delivered", False: "paid"})
    return own


def seller_row(tables: Mapping[str, Any], seller_id: str) -> pd.DataFrame:
    """Return the seller's row of the ``sellers`` table (its account and identifiers)."""
    sellers = tables["sellers"]
    return sellers[sellers["seller_id"] == seller_id].reset_index(drop=True)


def linked_sellers(tables: Mapping[str, Any], seller_id: str, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Return one row per linked seller and identifier value the two share at ``cutoff``.

    Columns :data:`LINKED_COLUMNS`: the linked ``seller_id``, the ``link`` type, the
    ``shared_value`` (a payment account, device, phone, return address, delivery
    address or buyer id), the pair's link ``weight`` and the linked seller's labels
    decided before ``cutoff``. Identifier links share one value; order links list every
    delivery address or buyer both sellers had before ``cutoff``.

    Examples
    --------
    >>> sellers = pd.DataFrame({"seller_id": ["a", "b", "c"], "device_id": ["D", "D", "E"],
    ...     "registered_at": pd.to_datetime(["2024-01-01"] * 3)})
    >>> linked_sellers({"sellers": sellers}, "a", pd.Timestamp("2024-06-01")).to_dict(
    ...     "records")  # doctest: +ELLIPSIS
    [{'seller_id': 'b', 'link': 'device_id', 'shared_value': 'D', 'weight': 0.91..., 'label': ''}]
    """
    from riskscore.features.network import seller_web

    web = seller_web(tables, seller_id, cutoff)
    sellers = tables["sellers"].set_index("seller_id")
    orders = tables.get("orders")
    order_columns = {"ship_address": "ship_address_id", "buyer": "buyer_id"}
    if orders is not None and len(web):
        involved = [seller_id, *web["seller_id"]]
        orders = orders[orders["seller_id"].isin(involved) & _before(orders, "created_at", cutoff)]
    rows: list[dict[str, Any]] = []
    for other in web.to_dict("records"):
        for link in str(other["links"]).split(","):
            if link in order_columns:
                if orders is None:
                    continue
                column = order_columns[link]
                mine = set(orders.loc[orders["seller_id"] == seller_id, column].dropna())
                theirs = set(orders.loc[orders["seller_id"] == other["seller_id"], column].dropna())
                values = sorted(mine & theirs)
            else:
                values = [sellers.at[seller_id, link]]
            rows += [
                {
                    "seller_id": other["seller_id"],
                    "link": link,
                    "shared_value": str(value),
                    "weight": round(float(other["weight"]), 6),
                    "label": other["label"],
                }
                for value in values
            ]
    return pd.DataFrame(rows, columns=list(LINKED_COLUMNS))
