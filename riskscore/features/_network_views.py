"""Investigator views of the seller web: the link table and one seller's linked sellers.

The features (:mod:`riskscore.features.network`) summarise the web as numbers; an
investigator asks which shops, linked how and already labelled for what.
:func:`seller_links` lists the whole web at a cutoff (one row per linked pair and link
type) and :func:`seller_web` the sellers linked to one seller, with the values they
share and their labels. Both read the links :mod:`riskscore.features._network_links`
builds, so a view shows exactly the links the features count.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import narwhals as nw
import pandas as pd

from riskscore.exceptions import FeatureError
from riskscore.features._context import AsOfContext
from riskscore.features._graph import Graph
from riskscore.features._network_links import (
    IDENTIFIER_LINKS,
    LINK_TYPES,
    ORDER_LINKS,
    NetworkParams,
    _context_links,
    _orders_for_links,
)

__all__ = ["LINK_TYPES", "seller_links", "seller_web"]


def seller_links(ctx: AsOfContext, params: NetworkParams | None = None) -> pd.DataFrame:
    """Return the seller web at ``ctx.as_of``: one row per linked pair and link type.

    Parameters
    ----------
    ctx : AsOfContext
        The as-of view of the marketplace.
    params : NetworkParams, optional
        Caps, shared-buyer threshold and method.

    Returns
    -------
    pandas.DataFrame
        Columns ``seller_a``, ``seller_b`` (``seller_a`` sorts first in registration
        order), ``link`` (one of :data:`LINK_TYPES`), ``n_shared`` (values shared) and
        ``weight`` (summed hub weights).

    Examples
    --------
    >>> import narwhals as nw, pandas as pd
    >>> sellers = pd.DataFrame({"seller_id": ["a", "b"], "device_id": ["D", "D"],
    ...     "registered_at": pd.to_datetime(["2024-01-01"] * 2)})
    >>> ctx = AsOfContext({"sellers": nw.from_native(sellers).lazy()},
    ...                   as_of=datetime(2024, 6, 1), entity="seller")
    >>> seller_links(ctx).round(2).to_dict("records")
    [{'seller_a': 'a', 'seller_b': 'b', 'link': 'device_id', 'n_shared': 1, 'weight': 0.91}]
    """
    ids, links = _context_links(ctx, params or NetworkParams())
    return links.frame(ids.to_numpy())


def seller_web(
    tables: Mapping[str, Any],
    seller_id: str,
    as_of: datetime | str | pd.Timestamp,
    params: NetworkParams | None = None,
) -> pd.DataFrame:
    """Return one seller's linked sellers at ``as_of``: how they are linked and their labels.

    This is what an investigator asks first: which shops share this shop's payment
    account, device, phone, return address, delivery addresses or buyers, and which of
    them were already labelled before ``as_of``.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Marketplace tables (pandas), e.g. from :func:`riskscore.load_tables`.
    seller_id : str
        The seller to look at; it must be registered before ``as_of``.
    as_of : datetime, str or Timestamp
        The cutoff; only sellers, orders and labels strictly before it are used.
    params : NetworkParams, optional
        Caps and shared-buyer threshold.

    Returns
    -------
    pandas.DataFrame
        One row per linked seller, strongest first: ``seller_id``, ``links`` (link types,
        comma-separated), ``shared`` (up to three shared values per type), ``weight``,
        ``label`` (labels decided before ``as_of``, comma-separated, empty when none).
        ``attrs["component_size"]`` holds the number of other sellers in its web
        and ``attrs["label"]`` the seller's own labels before ``as_of``.

    Raises
    ------
    FeatureError
        When the seller is unknown or not yet registered at ``as_of``.

    Examples
    --------
    >>> import pandas as pd
    >>> sellers = pd.DataFrame({"seller_id": ["a", "b", "c"], "device_id": ["D", "D", "E"],
    ...     "registered_at": pd.to_datetime(["2024-01-01"] * 3)})
    >>> labels = pd.DataFrame({"seller_id": ["b"], "label": ["fraud"],
    ...     "decided_at": pd.to_datetime(["2024-03-01"])})
    >>> web = seller_web({"sellers": sellers, "labels": labels}, "a", "2024-06-01")
    >>> web[["seller_id", "links", "shared", "label"]].to_dict("records")
    [{'seller_id': 'b', 'links': 'device_id', 'shared': 'device_id=D', 'label': 'fraud'}]
    """
    params = params or NetworkParams()
    when = pd.Timestamp(as_of).to_pydatetime()
    frames = {name: nw.from_native(frame).lazy() for name, frame in tables.items()}
    ctx = AsOfContext(frames, as_of=when, entity="seller")
    sellers = ctx.table("sellers").collect().to_pandas()
    if seller_id not in set(sellers["seller_id"]):
        exists = "sellers" in tables and seller_id in set(tables["sellers"]["seller_id"])
        why = f"registered on or after {when:%Y-%m-%d %H:%M}" if exists else "unknown"
        raise FeatureError(f"seller {seller_id!r} is {why}; pick a seller registered before as_of")
    ids, pairs = _context_links(ctx, params)
    sizes = Graph.from_edges(len(ids), pairs.a, pairs.b, pairs.weight).component_size()
    links = pairs.frame(ids.to_numpy())
    mine = links[(links["seller_a"] == seller_id) | (links["seller_b"] == seller_id)]
    other = mine["seller_a"].where(mine["seller_a"] != seller_id, mine["seller_b"])
    mine = mine.assign(seller_id=other.to_numpy())
    shared = _shared_values(ctx, sellers, seller_id, mine)
    web = (
        mine.assign(shared=shared)
        .groupby("seller_id", sort=False)
        .agg(
            links=("link", ",".join),
            shared=("shared", "; ".join),
            weight=("weight", "sum"),
        )
        .reset_index()
    )
    known = pd.Series(dtype="str")
    if ctx.has("labels"):
        decided = ctx.table("labels").collect().to_pandas()
        if "listing_id" in decided.columns:
            decided = decided[decided["listing_id"].isna()]
        known = (
            decided.sort_values("label")
            .groupby("seller_id")["label"]
            .agg(lambda s: ",".join(dict.fromkeys(s)))
        )
    web["label"] = known.reindex(web["seller_id"]).fillna("").to_numpy(dtype=object)
    web = web.sort_values(["weight", "seller_id"], ascending=[False, True], kind="stable")
    web = web.reset_index(drop=True)[["seller_id", "links", "shared", "weight", "label"]]
    web.attrs["component_size"] = int(sizes[ids.get_loc(seller_id)]) - 1
    web.attrs["label"] = str(known.get(seller_id, ""))
    return web


def _shared_values(
    ctx: AsOfContext, sellers: pd.DataFrame, seller_id: str, mine: pd.DataFrame
) -> list[str]:
    """For each link of ``seller_id``: ``type=value`` text for up to three shared values."""
    own = sellers.loc[sellers["seller_id"] == seller_id].iloc[0]
    order_keys: dict[str, pd.DataFrame] = {}
    if ctx.has("orders") and (mine["link"].isin(list(ORDER_LINKS))).any():
        involved = [seller_id, *mine["seller_id"].tolist()]
        table = _orders_for_links(ctx)
        assert table is not None  # ctx.has("orders")
        orders = table.filter(nw.col("seller_id").is_in(involved)).collect().to_pandas()
        for link, column in ORDER_LINKS.items():
            order_keys[link] = orders[["seller_id", column]].dropna().drop_duplicates()
    texts = []
    for link, other in zip(mine["link"], mine["seller_id"], strict=True):
        if link in IDENTIFIER_LINKS:
            texts.append(f"{link}={own[link]}")
            continue
        keys = order_keys[link]
        column = ORDER_LINKS[link]
        values = sorted(
            set(keys.loc[keys["seller_id"] == seller_id, column])
            & set(keys.loc[keys["seller_id"] == other, column])
        )
        more = f" (+{len(values) - 3})" if len(values) > 3 else ""
        texts.append(f"{link}={','.join(map(str, values[:3]))}{more}")
    return texts
