"""Link building for the ``network__`` family: which sellers share what, and how strongly.

This module turns the marketplace tables at a cutoff into the seller-pair list, one row
per linked pair and link type (:data:`LINK_COLUMNS`). The family
(:mod:`riskscore.features.network`) turns it into features, and the investigator views
(:mod:`riskscore.features._network_views`) into tables a person reads.

How sellers are linked (all point-in-time: sellers registered and orders placed strictly
before ``as_of``):

- **Identifier links** (``payment_account``, ``device_id``, ``contact_phone``,
  ``return_address`` in ``sellers``): two sellers are linked when they hold the same
  value. Missing values link nobody.
- **Order links** (``ship_address`` and ``buyer``): two sellers are linked when their
  orders went to at least ``min_shared`` of the same delivery addresses
  (``orders.ship_address_id``), or came from at least ``min_shared`` of the same buyers,
  **and** the overlap is more than chance explains. Big shops share many ordinary
  customers by chance, so the overlap of sellers ``a`` and ``b`` (holding ``d_a`` and
  ``d_b`` non-hub buyers) is compared with its expectation under a configuration model,
  ``d_a * d_b * sum(n**2) / sum(n)**2`` (``n``: sellers per buyer), and kept when its
  Poisson tail probability is at most ``max_pvalue`` (see :class:`NetworkParams` for the
  default). One ordinary customer buying from two shops does not link them; a pool of
  fake buyers does.

Hub down-weighting: a value (identifier, address or buyer) held by ``n`` sellers
contributes weight ``1 / log(1 + n)`` to each pair of them (:func:`hub_weight`: 0.91 for
a pair, 0.33 for 20 sellers), so widely shared values count for less; values held by
more than a cap of sellers (``identifier_cap``, ``order_cap``) are **hubs** and link
nobody: a logistics returns centre, a marketplace-wide returns hub or a power buyer does
not glue the marketplace together. A pair's link weight is the sum over the values it
shares and over link types; counts ("sellers linked by ...") count each linked seller once.

The links are computed by "group by value → pairs", the hub cap applied before any pair
is formed (a device shared by 10,000 sellers never becomes 50 million pairs). On local
backends (pandas, Polars, DuckDB, PyArrow) the backend filters the tables to the cutoff
and hands the link columns over once, as Arrow, to a kernel that sorts the seller x value
incidence and the seller pairs of each value as packed integers
(:mod:`riskscore.features._network_sparse`); on Spark the same arithmetic runs per
partition, the rows partitioned by value and then by seller
(:mod:`riskscore.features._network_spark`), so no single machine needs the orders;
other backends (and ``NetworkParams(method="join")``) use narwhals group-bys and a
self-join on the value. The seller-pair list that results is collected and the
graph features are computed with :class:`~riskscore.features._graph.Graph`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import narwhals as nw
import numpy as np
import pandas as pd

from riskscore.exceptions import FeatureError
from riskscore.features._backend import checkpoint
from riskscore.features._context import AsOfContext
from riskscore.features._graph import DEFAULT_DAMPING
from riskscore.features._network_pairs import _Pairs, hub_weight
from riskscore.features._network_spark import SPARK_BACKENDS, fits_spark, spark_links
from riskscore.features._network_sparse import LOCAL_BACKENDS, fits_kernel, sparse_links

__all__ = [
    "IDENTIFIER_LINKS",
    "LINK_COLUMNS",
    "LINK_TYPES",
    "ORDER_LINKS",
    "NetworkParams",
    "hub_weight",
]

#: Link types from identifier columns of ``sellers`` (the column name is the link type).
IDENTIFIER_LINKS: tuple[str, ...] = (
    "payment_account",
    "device_id",
    "contact_phone",
    "return_address",
)
#: Link types from ``orders``: the column each is built from.
ORDER_LINKS: dict[str, str] = {"ship_address": "ship_address_id", "buyer": "buyer_id"}
#: Every link type, in feature order.
LINK_TYPES: tuple[str, ...] = (*IDENTIFIER_LINKS, *ORDER_LINKS)

#: Columns of a link table.
LINK_COLUMNS: tuple[str, ...] = ("seller_a", "seller_b", "link", "n_shared", "weight")


@dataclass(frozen=True)
class NetworkParams:
    """How the seller web is built.

    Parameters
    ----------
    identifier_cap : int
        An identifier value held by more sellers than this is a hub and links nobody.
        Controller webs and families stay under it; returns centres and hubs do not.
    order_cap : int
        A buyer or delivery address that ordered from more sellers than this is a hub
        (power buyers, parcel lockers) and links nobody.
    min_shared : int
        Order links need at least this many shared buyers (or shared addresses).
    max_pvalue : float
        Order links also need an overlap that chance explains with probability at most
        this (Poisson tail under a configuration model; see the module docstring).
        1.0 turns the test off.
    damping : float
        Continuation probability of the label-propagation walk, in ``[0, 1)``.
    method : {"auto", "sparse", "join"}
        How pairs are built: the sorted-pair kernel over the tables handed over once as
        Arrow (local backends: pandas, Polars, DuckDB, PyArrow), narwhals joins (any
        backend), or ``"auto"``: the kernel on local backends, on Spark the kernel's
        arithmetic per partition (:mod:`riskscore.features._network_spark`, no
        self-join), joins on other backends and where a seller pair and a holder count
        do not pack into 62 bits (over 268 million sellers with the default caps; on
        Spark also over 715 million, where a link and a position do not pack into 32).
        All give the same links.

    Examples
    --------
    >>> NetworkParams(min_shared=3).order_cap
    25
    """

    identifier_cap: int = 25
    order_cap: int = 25
    min_shared: int = 2
    max_pvalue: float = 1e-4
    damping: float = DEFAULT_DAMPING
    method: Literal["auto", "sparse", "join"] = "auto"

    def __post_init__(self) -> None:
        for name in ("identifier_cap", "order_cap", "min_shared"):
            value = getattr(self, name)
            low = 1 if name == "min_shared" else 2
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise FeatureError(
                    f"NetworkParams.{name} must be a whole number >= {low}; got {value!r}"
                )
        if not 0.0 < self.max_pvalue <= 1.0:
            raise FeatureError(
                f"NetworkParams.max_pvalue must be in (0, 1]; got {self.max_pvalue!r}"
            )
        if not 0.0 <= self.damping < 1.0:
            raise FeatureError(f"NetworkParams.damping must be in [0, 1); got {self.damping!r}")
        if self.method not in ("auto", "sparse", "join"):
            raise FeatureError(
                f"NetworkParams.method must be 'auto', 'sparse' or 'join'; got {self.method!r}"
            )


# -- links ------------------------------------------------------------------------------


def _implementation(frame: nw.LazyFrame) -> str:
    return str(frame.implementation.name).lower()


def _use_sparse(frame: nw.LazyFrame, params: NetworkParams) -> bool:
    backend = _implementation(frame)
    if params.method == "sparse":
        if backend not in LOCAL_BACKENDS:
            raise FeatureError(
                f"NetworkParams(method='sparse') needs tables on this machine "
                f"({', '.join(sorted(LOCAL_BACKENDS))}); got {backend}. Use method='join' "
                "or 'auto'"
            )
        return True
    return params.method == "auto" and backend in LOCAL_BACKENDS


def _memberships(
    sellers: nw.LazyFrame, orders: nw.LazyFrame | None, identifier_columns: Sequence[str]
) -> nw.LazyFrame | None:
    """One long (seller_id, link, key) frame over every link type; distinct rows."""
    parts = [
        sellers.select(
            "seller_id", link=nw.lit(link, dtype=nw.String), key=nw.col(link).cast(nw.String)
        ).drop_nulls()
        for link in identifier_columns
    ]
    if orders is not None:
        parts += [
            orders.select(
                "seller_id",
                link=nw.lit(link, dtype=nw.String),
                key=nw.col(column).cast(nw.String),
            )
            .drop_nulls()
            .unique()
            for link, column in ORDER_LINKS.items()
        ]
    return nw.concat(parts, how="vertical") if parts else None


def _join_links(m: nw.LazyFrame, ids: pd.Index, params: NetworkParams) -> dict[str, _Pairs]:
    """Pairs sharing keys, per link type, with narwhals group-bys and one self-join.

    Every link type goes through the same two jobs (per-seller counts, then pairs), so
    on Spark the whole web costs two collects of small results.
    """
    is_order = nw.col("link").is_in(list(ORDER_LINKS))
    cap = nw.when(is_order).then(nw.lit(params.order_cap)).otherwise(nw.lit(params.identifier_cap))
    # Spark: both are read three times below; computed once (the orders scanned once)
    m = checkpoint(m)
    holders = checkpoint(
        m.group_by("link", "key")
        .agg(nw.len().alias("n"))
        .filter(nw.col("n") <= cap)
        .with_columns(nw.col("n").cast(nw.Float64))
    )
    per_seller = (
        m.join(holders, on=["link", "key"], how="inner")
        .group_by("link", "seller_id")
        .agg(nw.len().alias("d"), nw.col("n").sum().alias("n_sum"))
        .collect()
        .to_pandas()
    )
    shared = holders.filter(nw.col("n") >= 2).with_columns(w=1.0 / (nw.col("n") + 1.0).log())
    held = m.join(shared.select("link", "key", "w"), on=["link", "key"], how="inner")
    other = held.select("link", "key", nw.col("seller_id").alias("seller_b"))
    min_shared = nw.when(is_order).then(nw.lit(params.min_shared)).otherwise(nw.lit(1))
    got = (
        held.join(other, on=["link", "key"], how="inner")
        .filter(nw.col("seller_id") < nw.col("seller_b"))
        .group_by("link", "seller_id", "seller_b")
        .agg(nw.len().alias("n_shared"), nw.col("w").sum().alias("weight"))
        .filter(nw.col("n_shared") >= min_shared)
        .collect()
        .to_pandas()
    )
    out: dict[str, _Pairs] = {}
    for link in dict.fromkeys(per_seller["link"].tolist()):
        mine = per_seller[per_seller["link"] == link]
        pairs = got[got["link"] == link]
        a = ids.get_indexer(pd.Index(pairs["seller_id"]))
        b = ids.get_indexer(pd.Index(pairs["seller_b"]))
        known = (a >= 0) & (b >= 0)
        out[str(link)] = _Pairs.with_seller_counts(
            np.minimum(a, b)[known].astype(np.int64),
            np.maximum(a, b)[known].astype(np.int64),
            pairs["n_shared"].to_numpy(dtype=np.int64)[known],
            pairs["weight"].to_numpy(dtype=np.float64)[known],
            len(ids),
            ids.get_indexer(pd.Index(mine["seller_id"])),
            mine["d"].to_numpy(dtype=np.float64),
            mine["n_sum"].to_numpy(dtype=np.float64),
        )
    return out


@dataclass
class _Links:
    """Seller pairs as node positions: one row per (pair, link type)."""

    a: np.ndarray
    b: np.ndarray
    link: np.ndarray  # index into LINK_TYPES
    n_shared: np.ndarray
    weight: np.ndarray

    def frame(self, ids: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "seller_a": pd.array(ids[self.a], dtype="str"),
                "seller_b": pd.array(ids[self.b], dtype="str"),
                "link": pd.array(np.asarray(LINK_TYPES, dtype=object)[self.link], dtype="str"),
                "n_shared": self.n_shared.astype(np.int64),
                "weight": self.weight.astype(np.float64),
            }
        )


def _links(
    sellers: nw.LazyFrame,
    orders: nw.LazyFrame | None,
    ids: pd.Index,
    params: NetworkParams,
) -> _Links:
    identifier_columns = [c for c in IDENTIFIER_LINKS if c in sellers.collect_schema().names()]
    parts: list[tuple[np.ndarray, ...]] = []
    caps = (params.identifier_cap, params.order_cap)
    if _use_sparse(sellers, params) and (
        params.method == "sparse" or fits_kernel(len(ids), max(caps))
    ):
        pairs_by_link = sparse_links(
            sellers,
            orders,
            ids,
            identifier_columns,
            ORDER_LINKS,
            caps,
            params.min_shared,
        )
    elif (
        params.method == "auto"
        and _implementation(sellers) in SPARK_BACKENDS
        and fits_kernel(len(ids), max(caps))
        and fits_spark(len(ids), len(LINK_TYPES))
    ):
        pairs_by_link = spark_links(
            sellers, orders, ids, identifier_columns, ORDER_LINKS, caps, params.min_shared
        )
    else:
        members = _memberships(sellers, orders, identifier_columns)
        pairs_by_link = {} if members is None else _join_links(members, ids, params)
    for link, pairs in pairs_by_link.items():
        if link in ORDER_LINKS:
            pairs = pairs.beyond_chance(params.min_shared, params.max_pvalue)
        link_code = np.full(pairs.a.size, LINK_TYPES.index(link))
        parts.append((pairs.a, pairs.b, link_code, pairs.n_shared, pairs.weight))
    if not parts:
        z = np.zeros(0, dtype=np.int64)
        return _Links(z, z, z, z, np.zeros(0))
    cols = [np.concatenate(p) for p in zip(*parts, strict=True)]
    return _Links(
        cols[0].astype(np.int64),
        cols[1].astype(np.int64),
        cols[2].astype(np.int64),
        cols[3].astype(np.int64),
        cols[4].astype(np.float64),
    )


# -- features ---------------------------------------------------------------------------


def _seller_ids(sellers: nw.LazyFrame) -> pd.Index:
    ids = sellers.select("seller_id").collect().to_pandas()["seller_id"]
    return pd.Index(ids.to_numpy(dtype=object), name="seller_id")


def _orders_for_links(ctx: AsOfContext) -> nw.LazyFrame | None:
    """Return the order columns the order links read (None without an ``orders`` table)."""
    if not ctx.has("orders"):
        return None
    return ctx.table("orders", ["seller_id", *ORDER_LINKS.values()])


def _context_links(ctx: AsOfContext, params: NetworkParams) -> tuple[pd.Index, _Links]:
    """Return the sellers known at ``ctx.as_of`` (node order) and the links between them."""
    sellers = ctx.table("sellers")
    ids = _seller_ids(sellers)
    return ids, _links(sellers, _orders_for_links(ctx), ids, params)
