"""Seller segments for sliced evaluation: tenure, region, main category and size.

A model that mostly flags new or small legitimate sellers, or one region, is unfair and
costly even when its overall metrics look good. :func:`add_segments` labels each row of
a training set (entity and cutoff) with segments known at its cutoff, so
:func:`riskscore.modeling.train` can report metrics and flag rates per segment
(``segment_cols``). Segment columns are for slicing only and are never model features.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from riskscore._validation import fail
from riskscore.exceptions import FeatureError

__all__ = ["NEW_ACCOUNT_DAYS", "SEGMENT_COLUMNS", "SIZE_BINS", "add_segments"]

#: Accounts younger than this at the cutoff are "new".
NEW_ACCOUNT_DAYS = 90

#: Upper bounds of the size segments, in orders in the 90 days before the cutoff.
SIZE_BINS: tuple[tuple[str, float], ...] = (
    ("no orders", 0),
    ("1-19 orders", 19),
    ("20-99 orders", 99),
    ("100+ orders", np.inf),
)

#: The columns :func:`add_segments` adds, in order.
SEGMENT_COLUMNS: tuple[str, ...] = (
    "segment__tenure",
    "segment__region",
    "segment__category",
    "segment__size",
)


def _size_label(orders: np.ndarray) -> np.ndarray:
    labels = np.full(orders.shape, SIZE_BINS[-1][0], dtype=object)
    for label, upper in reversed(SIZE_BINS):
        labels[orders <= upper] = label
    return labels


def add_segments(
    frame: pd.DataFrame, tables: Mapping[str, pd.DataFrame], entity: str = "seller"
) -> pd.DataFrame:
    """Return ``frame`` with the :data:`SEGMENT_COLUMNS` of each row's seller at its cutoff.

    Parameters
    ----------
    frame : pandas.DataFrame
        A training set: ``entity_id`` and ``cutoff`` columns (as from
        :func:`riskscore.features.build_training_set`).
    tables : mapping of str to pandas.DataFrame
        The validated marketplace tables the training set was built from.
    entity : {"seller", "listing"}
        For listings, the segments are those of the listing's seller, except the
        category, which is the listing's own.

    Returns
    -------
    pandas.DataFrame
        A copy with four string columns: tenure (``new (<90 days)`` / ``established``),
        region, main category (the category of most of the seller's listings created
        before the cutoff; ``none`` without listings) and size (orders in the 90 days
        before the cutoff, binned by :data:`SIZE_BINS`). Only rows before each cutoff are
        used.

    Raises
    ------
    FeatureError
        ``frame`` is not a DataFrame or lacks ``entity_id`` / ``cutoff``, ``tables`` lacks
        sellers, listings or orders, or ids are not in the tables.

    Examples
    --------
    >>> from riskscore.datasets import make_marketplace
    >>> tables = make_marketplace(n_sellers=50, seed=3)
    >>> rows = pd.DataFrame({"entity_id": tables["sellers"]["seller_id"][:3],
    ...                      "cutoff": pd.Timestamp("2024-06-01")})
    >>> add_segments(rows, tables).columns[-4:].tolist()
    ['segment__tenure', 'segment__region', 'segment__category', 'segment__size']
    """
    if not isinstance(frame, pd.DataFrame):
        raise fail(
            "frame",
            "add_segments",
            "a pandas DataFrame with entity_id and cutoff columns",
            frame,
            fix="Pass the output of build_training_set.",
            error=FeatureError,
        )
    if not isinstance(tables, Mapping) or not all(
        name in tables for name in ("sellers", "listings", "orders")
    ):
        raise fail(
            "tables",
            "add_segments",
            "a mapping holding the sellers, listings and orders tables",
            tables if not isinstance(tables, Mapping) else sorted(map(str, tables)),
            fix="Pass the marketplace tables the training set was built from.",
            error=FeatureError,
        )
    missing = [c for c in ("entity_id", "cutoff") if c not in frame.columns]
    if missing:
        raise FeatureError(
            f"training set: missing column(s) {missing} needed for segments; pass the output "
            "of build_training_set"
        )
    if entity not in ("seller", "listing"):
        raise FeatureError(f"segments are defined for sellers and listings, not {entity!r}")
    sellers = tables["sellers"].set_index("seller_id")
    listings = tables["listings"]
    orders = tables["orders"]
    rows = frame[["entity_id", "cutoff"]].copy()
    if entity == "listing":
        by_listing = listings.set_index("listing_id")
        known = rows["entity_id"].isin(by_listing.index)
        rows["seller_id"] = rows["entity_id"].map(by_listing["seller_id"])
        rows["own_category"] = rows["entity_id"].map(by_listing["category"])
    else:
        known = rows["entity_id"].isin(sellers.index)
        rows["seller_id"] = rows["entity_id"]
    if not known.all():
        bad = rows.loc[~known, "entity_id"]
        raise FeatureError(
            f"training set.entity_id: {len(bad)} id(s) not in the {entity} table, e.g. "
            f"{', '.join(map(str, bad.head(5)))}; build segments from the same tables"
        )
    cut = rows["cutoff"].to_numpy(dtype="datetime64[us]")
    registered = rows["seller_id"].map(sellers["registered_at"]).to_numpy(dtype="datetime64[us]")
    age_days = (cut - registered) / np.timedelta64(1, "D")
    tenure = np.where(age_days < NEW_ACCOUNT_DAYS, f"new (<{NEW_ACCOUNT_DAYS} days)", "established")
    region = rows["seller_id"].map(sellers["region"]).fillna("unknown").astype(str)

    size = np.zeros(len(rows))
    category = np.full(len(rows), "none", dtype=object)
    for key, idx in rows.groupby("cutoff").indices.items():
        cutoff = pd.Timestamp(key)  # type: ignore[arg-type]
        start = cutoff - pd.Timedelta(days=90)
        recent = orders.loc[(orders["created_at"] < cutoff) & (orders["created_at"] >= start)]
        counts = recent.groupby("seller_id").size()
        ids = rows["seller_id"].iloc[idx]
        size[idx] = ids.map(counts).fillna(0).to_numpy()
        listed = listings.loc[listings["created_at"] < cutoff, ["seller_id", "category"]]
        tally = listed.value_counts().reset_index(name="n")
        tally = tally.sort_values(["seller_id", "n", "category"], ascending=[True, False, True])
        main = tally.drop_duplicates("seller_id").set_index("seller_id")["category"]
        category[idx] = ids.map(main).fillna("none").to_numpy(dtype=object)
    if entity == "listing":
        category = rows["own_category"].fillna("none").to_numpy(dtype=object)

    out = frame.copy()
    out["segment__tenure"] = tenure.astype(str)
    out["segment__region"] = region.to_numpy(dtype=str)
    out["segment__category"] = category.astype(str)
    out["segment__size"] = _size_label(size).astype(str)
    return out
