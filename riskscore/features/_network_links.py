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

The links are computed by "group by value → pairs": on pandas through scipy sparse
incidence matrices (``B @ B.T``), on every other backend (Polars, DuckDB, Spark) with
narwhals group-bys and a self-join on the value, so no single machine needs the orders.
The seller-pair list that results is collected and the graph features are computed with
:class:`~riskscore.features._graph.Graph`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import narwhals as nw
import numpy as np
import pandas as pd
import scipy.sparse as sp

from riskscore.exceptions import FeatureError
from riskscore.features._context import AsOfContext
from riskscore.features._graph import DEFAULT_DAMPING

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
        How pairs are built: scipy sparse products (pandas only), narwhals joins (any
        backend), or ``"auto"``: sparse on pandas, joins elsewhere.

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


def hub_weight(n_sellers: np.ndarray | float) -> np.ndarray:
    """Return the weight a value held by ``n_sellers`` sellers gives each pair of them.

    ``1 / log(1 + n)``: 0.91 for a value two sellers share, 0.33 for one twenty share.

    Examples
    --------
    >>> hub_weight(np.array([2, 20])).round(2).tolist()
    [0.91, 0.33]
    """
    return 1.0 / np.log1p(np.asarray(n_sellers, dtype=np.float64))


# -- links ------------------------------------------------------------------------------


def _implementation(frame: nw.LazyFrame) -> str:
    return str(frame.implementation.name).lower()


def _use_sparse(frame: nw.LazyFrame, params: NetworkParams) -> bool:
    if params.method == "sparse":
        if _implementation(frame) != "pandas":
            raise FeatureError(
                "NetworkParams(method='sparse') needs pandas tables; got "
                f"{_implementation(frame)}. Use method='join' or 'auto'"
            )
        return True
    return params.method == "auto" and _implementation(frame) == "pandas"


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


@dataclass
class _Pairs:
    """Seller pairs ``a < b`` (node positions) sharing values of one link type.

    ``degree`` is each seller's number of distinct non-hub values and ``s1``, ``s2`` the
    sum of holders and of squared holders over non-hub values: what the chance
    expectation of an overlap needs.
    """

    a: np.ndarray
    b: np.ndarray
    n_shared: np.ndarray
    weight: np.ndarray
    degree: np.ndarray
    s1: float
    s2: float

    def beyond_chance(self, min_shared: int, max_pvalue: float) -> _Pairs:
        """Keep pairs sharing ``>= min_shared`` values and more than chance explains.

        Under a configuration model (each seller keeps its number of values, each value
        its number of holders, otherwise random), the overlap of sellers ``a`` and ``b``
        is about Poisson with mean ``d_a * d_b * s2 / s1**2``; a pair is kept when the
        chance of an overlap at least as large is ``<= max_pvalue``.
        """
        from scipy.special import gammainc

        keep = self.n_shared >= min_shared
        if max_pvalue < 1.0 and keep.any() and self.s1 > 0:
            expected = self.degree[self.a] * self.degree[self.b] * (self.s2 / self.s1**2)
            # P(X >= k) for X ~ Poisson(expected) is the regularised lower gamma P(k, expected)
            pvalue = gammainc(self.n_shared.astype(np.float64), expected)
            keep &= pvalue <= max_pvalue
        return _Pairs(
            self.a[keep],
            self.b[keep],
            self.n_shared[keep],
            self.weight[keep],
            self.degree,
            self.s1,
            self.s2,
        )


def _join_links(m: nw.LazyFrame, ids: pd.Index, params: NetworkParams) -> dict[str, _Pairs]:
    """Pairs sharing keys, per link type, with narwhals group-bys and one self-join.

    Every link type goes through the same two jobs (per-seller counts, then pairs), so
    on Spark the whole web costs two collects of small results.
    """
    is_order = nw.col("link").is_in(list(ORDER_LINKS))
    cap = nw.when(is_order).then(nw.lit(params.order_cap)).otherwise(nw.lit(params.identifier_cap))
    holders = (
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
        degree = np.zeros(len(ids))
        pos = ids.get_indexer(pd.Index(mine["seller_id"]))
        degree[pos[pos >= 0]] = mine["d"].to_numpy(dtype=np.float64)[pos >= 0]
        pairs = got[got["link"] == link]
        a = ids.get_indexer(pd.Index(pairs["seller_id"]))
        b = ids.get_indexer(pd.Index(pairs["seller_b"]))
        known = (a >= 0) & (b >= 0)
        out[str(link)] = _Pairs(
            np.minimum(a, b)[known].astype(np.int64),
            np.maximum(a, b)[known].astype(np.int64),
            pairs["n_shared"].to_numpy(dtype=np.int64)[known],
            pairs["weight"].to_numpy(dtype=np.float64)[known],
            degree,
            # sum over values of n = sum over sellers of d; of n**2 = sum over rows of n
            float(mine["d"].sum()),
            float(mine["n_sum"].sum()),
        )
    return out


def _pairs_sparse(
    seller_pos: np.ndarray,
    keys: pd.Series,
    n_sellers: int,
    cap: int,
    min_shared: int,
    block: int = 20_000,
) -> _Pairs:
    """Pairs sharing keys, from the seller x key incidence matrix ``B`` (hubs removed).

    One product gives both numbers: ``B`` holds ``1 + i*w`` (``w`` the hub weight of the
    key) and ``B.T`` holds ones, so ``B @ B.T`` has the shared count in its real part and
    the summed hub weights in its imaginary part. Rows go in blocks so memory stays
    bounded.
    """
    codes, _ = pd.factorize(keys, use_na_sentinel=True)
    ok = (codes >= 0) & (seller_pos >= 0)
    rows, cols = seller_pos[ok], codes[ok]
    n_keys = max(int(cols.max()) + 1 if cols.size else 0, 1)
    inc = sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(n_sellers, n_keys))
    inc.sum_duplicates()
    holders = np.bincount(inc.indices, minlength=n_keys)
    entry_rows = np.repeat(np.arange(n_sellers), np.diff(inc.indptr))
    not_hub = holders <= cap
    kept_holders = holders[not_hub].astype(np.float64)
    degree = np.bincount(entry_rows[not_hub[inc.indices]], minlength=n_sellers).astype(float)
    entry_keep = (holders >= 2)[inc.indices] & not_hub[inc.indices]
    r, c = entry_rows[entry_keep], inc.indices[entry_keep]
    both = sp.csr_array((1.0 + 1j * hub_weight(holders[c]), (r, c)), shape=inc.shape)
    ones_t = sp.csr_array((np.ones(r.size, dtype=np.complex128), (c, r)), shape=inc.shape[::-1])
    out_a, out_b, out_n, out_w = [], [], [], []
    active = np.flatnonzero(np.diff(both.indptr) > 0)
    for start in range(0, active.size, block):
        chunk = active[start : start + block]
        product = sp.csr_array(both[chunk] @ ones_t)
        a = chunk[np.repeat(np.arange(chunk.size), np.diff(product.indptr))]
        b = product.indices
        count = np.rint(product.data.real).astype(np.int64)
        keep_pair = (b > a) & (count >= min_shared)
        out_a.append(a[keep_pair])
        out_b.append(b[keep_pair].astype(np.int64))
        out_n.append(count[keep_pair])
        out_w.append(product.data.imag[keep_pair])
    empty = np.zeros(0, dtype=np.int64)
    return _Pairs(
        np.concatenate([empty, *out_a]).astype(np.int64),
        np.concatenate([empty, *out_b]),
        np.concatenate([empty, *out_n]),
        np.concatenate([np.zeros(0), *out_w]),
        degree,
        float(kept_holders.sum()),
        float((kept_holders**2).sum()),
    )


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
    if _use_sparse(sellers, params):
        pairs_by_link = _sparse_links(sellers, orders, ids, identifier_columns, params)
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


def _sparse_links(
    sellers: nw.LazyFrame,
    orders: nw.LazyFrame | None,
    ids: pd.Index,
    identifier_columns: Sequence[str],
    params: NetworkParams,
) -> dict[str, _Pairs]:
    """Pair sellers on the pandas path: read each column once, pair by sparse products."""
    out: dict[str, _Pairs] = {}
    native = sellers.select("seller_id", *identifier_columns).collect().to_native()
    pos = ids.get_indexer(pd.Index(native["seller_id"]))
    for link in identifier_columns:
        out[link] = _pairs_sparse(pos, native[link], len(ids), params.identifier_cap, 1)
    if orders is not None:
        table = orders.collect().to_native()
        pos = ids.get_indexer(pd.Index(table["seller_id"]))
        for link, column in ORDER_LINKS.items():
            out[link] = _pairs_sparse(
                pos, table[column], len(ids), params.order_cap, params.min_shared
            )
    return out


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
