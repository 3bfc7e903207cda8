"""A short plain-text summary of a marketplace, for the CLI and the demo."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

__all__ = ["summarize"]


def summarize(tables: Mapping[str, pd.DataFrame]) -> str:
    """Describe validated marketplace tables in a few lines.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Validated tables (see :func:`riskscore.validate`).

    Returns
    -------
    str

    Examples
    --------
    >>> from riskscore.datasets import make_marketplace
    >>> print(summarize(make_marketplace(n_sellers=40, seed=3)).splitlines()[0])
    marketplace: 40 sellers, ...
    """
    sellers, listings, orders = tables["sellers"], tables["listings"], tables["orders"]
    lines = [
        f"marketplace: {len(sellers):,} sellers, {len(listings):,} listings, "
        f"{len(orders):,} orders, {orders['buyer_id'].nunique():,} buyers"
    ]
    if len(orders):
        lines.append(
            f"period: {orders['created_at'].min():%Y-%m-%d} to "
            f"{orders['created_at'].max():%Y-%m-%d}; GMV {orders['amount'].sum():,.0f}"
        )
    complaints = tables.get("complaints")
    if complaints is not None and len(orders):
        kinds = complaints["kind"].value_counts().sort_index()
        per_kind = ", ".join(f"{k}={v:,}" for k, v in kinds.items())
        lines.append(
            f"complaints: {len(complaints):,} ({len(complaints) / len(orders):.2%} of orders; "
            f"{per_kind})"
        )
    labels = tables.get("labels")
    if labels is not None:
        seller_labels = labels[labels["listing_id"].isna()] if "listing_id" in labels else labels
        counts = seller_labels["label"].value_counts().sort_index()
        per_label = ", ".join(f"{k}={v:,}" for k, v in counts.items())
        lines.append(f"labelled sellers: {per_label or 'none'}")
    return "\n".join(lines)
