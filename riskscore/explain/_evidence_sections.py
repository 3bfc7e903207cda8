"""Evidence section queries: which records and facts support a reason of each family.

An evidence section is one table of records from the marketplace tables **as of** the
scoring time (rows strictly before it, as the features saw them), chosen to show a
reviewer why the model raised the score: :data:`EVIDENCE_SECTIONS` names the section of
each feature family and :data:`SECTION_QUERIES` the query that fills it. A query returns
the records and, where they are incomplete or need context, a :class:`Note`: a label key
and the numbers to format into it, so the note reads in the evidence file's language
(:mod:`riskscore.explain._evidence_render` holds the texts).

Every seller feature family has a section; a test walks :func:`riskscore.features.catalog`
to keep it so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from riskscore.exceptions import FeatureError
from riskscore.explain._evidence_render import _cell

__all__ = ["EVIDENCE_SECTIONS", "SECTION_QUERIES", "Note", "gather_sections"]

#: The evidence section that supports a reason of each feature family.
EVIDENCE_SECTIONS: dict[str, str] = {
    "pricing": "listings_below_market",
    "complaints": "complaints_by_month",
    "buyers": "top_buyers",
    "network": "linked_sellers",
    "text": "replica_titles",
    "account": "account",
    "activity": "activity_by_month",
}


@dataclass(frozen=True)
class Note:
    """A line about a section's records: a label key and the values formatted into it.

    The texts are in :data:`~riskscore.explain._evidence_render.LABELS`; ``note_error``
    shows an error message of the feature code as it is, in every language.

    Examples
    --------
    >>> Note("note_replica_titles", {"hits": 2, "listings": 5}).key
    'note_replica_titles'
    """

    key: str
    values: dict[str, Any] = field(default_factory=dict)


#: Month tables show at least this many months, whatever the record limit.
MIN_MONTHS = 12

#: What a section query returns: the records and an optional note.
SectionResult = tuple[pd.DataFrame, Note | None]


class _AsOf:
    """The seller's rows of each table, strictly before the cutoff (computed once)."""

    def __init__(self, tables: Mapping[str, Any], seller_id: str, cutoff: pd.Timestamp) -> None:
        self.tables = tables
        self.seller_id = seller_id
        self.cutoff = cutoff

    def before(self, name: str, time_column: str = "created_at") -> pd.DataFrame | None:
        table = self.tables.get(name)
        if table is None:
            return None
        return table[pd.to_datetime(table[time_column]) < self.cutoff]

    def own(self, name: str, time_column: str = "created_at") -> pd.DataFrame | None:
        table = self.before(name, time_column)
        if table is None:
            return None
        return table[table["seller_id"] == self.seller_id]


def _listings_below_market(view: _AsOf, n: int) -> SectionResult:
    listings = view.own("listings")
    assert listings is not None  # required table
    columns = ["listing_id", "title", "category", "brand", "price", "currency"]
    products = view.tables.get("products")
    if products is None or "reference_price" not in products.columns:
        out = listings.sort_values("price", kind="stable")[[*columns, "created_at"]]
        return out.head(n).reset_index(drop=True), Note("note_no_products")
    ref = products[["product_id", "reference_price"]]
    merged = listings.merge(ref, on="product_id", how="inner")
    merged = merged[merged["reference_price"] > 0]
    merged = merged.assign(price_ratio=(merged["price"] / merged["reference_price"]).round(3))
    out = merged.sort_values(["price_ratio", "listing_id"], kind="stable")
    out = out[[*columns, "reference_price", "price_ratio", "created_at"]]
    note = None
    unmatched = len(listings) - len(merged)
    if unmatched:
        note = Note("note_unmatched_listings", {"unmatched": unmatched, "listings": len(listings)})
    return out.head(n).reset_index(drop=True), note


def _complaints_by_month(view: _AsOf, n: int) -> SectionResult:
    from riskscore.schema import COMPLAINT_KINDS

    orders = view.own("orders")
    assert orders is not None
    month = orders["created_at"].dt.to_period("M").astype("str")
    per_month = pd.DataFrame(
        {
            "orders": orders.groupby(month).size(),
            "refunded": orders["status"].eq("refunded").groupby(month).sum(),
            "cancelled": orders["status"].eq("cancelled").groupby(month).sum(),
        }
    )
    complaints = view.own("complaints")
    note = None if complaints is not None else Note("note_no_complaints")
    if complaints is not None and len(complaints):
        kinds = pd.crosstab(
            complaints["created_at"].dt.to_period("M").astype("str"), complaints["kind"]
        )
        per_month = per_month.join(kinds, how="outer")
    for kind in COMPLAINT_KINDS:
        if kind not in per_month.columns:
            per_month[kind] = 0
    per_month = per_month.fillna(0).astype("int64")
    per_month = per_month[["orders", *COMPLAINT_KINDS, "refunded", "cancelled"]]
    per_month.index.name = "month"
    out = per_month.sort_index().tail(max(n, MIN_MONTHS)).reset_index()
    return out, note


def _top_buyers(view: _AsOf, n: int) -> SectionResult:
    orders = view.own("orders")
    assert orders is not None
    addresses = orders.dropna(subset=["ship_address_id"])
    buyers_at = addresses.groupby("ship_address_id")["buyer_id"].nunique()
    shared = set(buyers_at[buyers_at > 1].index)
    per_buyer = orders.groupby("buyer_id").agg(
        orders=("order_id", "size"), gmv=("amount", "sum"), first_order=("created_at", "min")
    )
    used = addresses.groupby("buyer_id")["ship_address_id"].agg(lambda s: sorted(set(s)))
    per_buyer["addresses"] = used.reindex(per_buyer.index).map(
        lambda v: len(v) if isinstance(v, list) else 0
    )
    per_buyer["shared_addresses"] = used.reindex(per_buyer.index).map(
        lambda v: ", ".join(
            f"{a} ({buyers_at[a]})" for a in (v if isinstance(v, list) else []) if a in shared
        )
    )
    out = per_buyer.sort_values(["gmv", "orders"], ascending=False, kind="stable")
    out = out.reset_index()[
        ["buyer_id", "orders", "gmv", "addresses", "shared_addresses", "first_order"]
    ]
    out["gmv"] = out["gmv"].round(2)
    note = None
    if len(orders):
        share = addresses["ship_address_id"].isin(shared).sum() / len(orders)
        note = Note(
            "note_top_buyers",
            {
                "buyers": len(per_buyer),
                "orders": len(orders),
                "share": float(share),
                "addresses": len(shared),
            },
        )
    return out.head(n), note


def _linked_sellers(view: _AsOf, n: int) -> SectionResult:
    from riskscore.features.network import seller_web

    try:
        web = seller_web(view.tables, view.seller_id, view.cutoff)
    except FeatureError as err:
        empty = pd.DataFrame(columns=["seller_id", "links", "shared", "weight", "label"])
        return empty, Note("note_error", {"text": str(err)})
    # component_size counts the *other* sellers of the web (the seller itself left out)
    others = int(web.attrs.get("component_size", 0))
    own = web.attrs.get("label")
    if own:
        note = Note("note_linked_sellers_labelled", {"others": others, "label": own})
    else:
        note = Note("note_linked_sellers", {"others": others})
    web = web.assign(weight=web["weight"].round(3))
    return web.head(n).reset_index(drop=True), note


def _replica_titles(view: _AsOf, n: int) -> SectionResult:
    import narwhals as nw

    from riskscore.features.text import REPLICA_TERMS_EN, REPLICA_TERMS_ZH, normalised_title

    listings = view.own("listings")
    assert listings is not None
    norm = nw.from_native(listings[["title"]]).select(normalised_title().alias("norm"))
    terms = (*REPLICA_TERMS_EN, *REPLICA_TERMS_ZH)
    found = [
        ", ".join(term for term in terms if term in str(title)) for title in norm["norm"].to_list()
    ]
    hits = listings.assign(terms=found)[[t != "" for t in found]]
    out = hits[["listing_id", "title", "terms", "price", "created_at"]]
    note = Note("note_replica_titles", {"hits": len(hits), "listings": len(listings)})
    return out.head(n).reset_index(drop=True), note


def _account(view: _AsOf, n: int) -> SectionResult:
    sellers = view.tables["sellers"]
    row = sellers[sellers["seller_id"] == view.seller_id].iloc[0]
    listings = view.own("listings")
    orders = view.own("orders")
    assert listings is not None and orders is not None
    registered = pd.Timestamp(row["registered_at"])
    facts: list[tuple[str, Any]] = [
        ("registered_at", registered),
        ("account_age_days", (view.cutoff - registered).days),
        ("region", row.get("region")),
        ("listings", len(listings)),
        ("first_listing_at", listings["created_at"].min() if len(listings) else None),
        ("first_order_at", orders["created_at"].min() if len(orders) else None),
        ("last_order_at", orders["created_at"].max() if len(orders) else None),
        ("orders", len(orders)),
    ]
    frame = pd.DataFrame({"fact": [f for f, _ in facts], "value": [_cell(v) for _, v in facts]})
    return frame, None


def _activity_by_month(view: _AsOf, n: int) -> SectionResult:
    orders = view.own("orders")
    assert orders is not None
    month = orders["created_at"].dt.to_period("M").astype("str").rename("month")
    out = orders.groupby(month).agg(
        orders=("order_id", "size"), gmv=("amount", "sum"), buyers=("buyer_id", "nunique")
    )
    out["gmv"] = out["gmv"].round(2)
    return out.sort_index().tail(max(n, MIN_MONTHS)).reset_index(), None


#: The query that fills each section, by section name.
SECTION_QUERIES: dict[str, Callable[[_AsOf, int], SectionResult]] = {
    "listings_below_market": _listings_below_market,
    "complaints_by_month": _complaints_by_month,
    "top_buyers": _top_buyers,
    "linked_sellers": _linked_sellers,
    "replica_titles": _replica_titles,
    "account": _account,
    "activity_by_month": _activity_by_month,
}


def gather_sections(
    tables: Mapping[str, Any],
    seller_id: str,
    cutoff: pd.Timestamp,
    families: list[str],
    max_records: int,
) -> tuple[dict[str, pd.DataFrame], dict[str, Note]]:
    """Return the records and notes of the sections of ``families`` (in that order).

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Marketplace tables; the seller must be registered before ``cutoff``.
    seller_id : str
        The seller.
    cutoff : pandas.Timestamp
        Records strictly before it are used.
    families : list of str
        Feature families, each a key of :data:`EVIDENCE_SECTIONS`.
    max_records : int
        Rows per section (month tables keep at least :data:`MIN_MONTHS`).

    Returns
    -------
    sections : dict of str to pandas.DataFrame
        Records per section name.
    notes : dict of str to Note
        A note per section that has one.

    Examples
    --------
    >>> from riskscore.explain._evidence import _demo
    >>> tables, _ = _demo()
    >>> sections, notes = gather_sections(
    ...     tables, "S2", pd.Timestamp("2024-03-01"), ["text"], max_records=5)
    >>> sections["replica_titles"]["terms"].tolist(), notes["replica_titles"].values
    (['1:1, 高仿'], {'hits': 1, 'listings': 1})
    """
    view = _AsOf(tables, seller_id, cutoff)
    sections: dict[str, pd.DataFrame] = {}
    notes: dict[str, Note] = {}
    for family in families:
        name = EVIDENCE_SECTIONS[family]
        frame, note = SECTION_QUERIES[name](view, max_records)
        sections[name] = frame
        if note is not None:
            notes[name] = note
    return sections, notes
