"""The ``network__`` family: the "cobweb" of sellers linked by shared identifiers and buyers.

Counterfeit and fraud operations run many shops from one controller. Shops of one web share
payout accounts, devices, phones and return addresses, and their (often fake) buyers and
delivery addresses overlap. This family builds that web as of a cutoff and turns it into
tabular features for the seller: how many sellers each kind of link reaches, how big the
web is, how many linked sellers were already labelled counterfeit or fraud, and how much
"known-bad" mass a random walk through the web collects (personalised PageRank).

How sellers are linked (all point-in-time: sellers registered, orders placed and labels
decided strictly before ``as_of``):

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
  Poisson tail probability is at most ``max_pvalue`` (default 1e-4). One ordinary
  customer buying from two shops does not link them; a pool of fake buyers does.

Hub down-weighting: a value (identifier, address or buyer) held by ``n`` sellers
contributes weight ``1 / log(1 + n)`` to each pair of them (0.91 for a pair, 0.33 for 20
sellers), so widely shared values count for less; values held by more than a cap of
sellers (``identifier_cap``, ``order_cap``) are **hubs** and link nobody: a logistics
returns centre, a marketplace-wide returns hub or a power buyer does not glue the
marketplace together. A pair's link weight is the sum over the values it shares and over
link types; counts ("sellers linked by ...") count each linked seller once.

The links are computed by "group by value → pairs": on pandas through scipy sparse
incidence matrices (``B @ B.T``), on every other backend (Polars, DuckDB, Spark) with
narwhals group-bys and a self-join on the value, so no single machine needs the orders.
The seller-pair list that results (one row per linked pair and link type) is collected and
the graph features are computed with :class:`~riskscore.features._graph.Graph`.

Label features never read the seller's own label
------------------------------------------------
``bad_neighbours``, ``counterfeit_neighbours``, ``fraud_neighbours``,
``bad_neighbour_share``, ``bad_link_weight``, ``bad_2hop`` and ``bad_pagerank`` of a
seller depend on the labels of *other* sellers only (the 2-hop count never counts the
seller itself; the propagation is leave-one-out, see
:meth:`~riskscore.features._graph.Graph.label_pagerank`). A seller labelled before the
cutoff thus gets the same label features as an identical unlabelled seller: training
rows and rows to score see one definition, and a seller's own ban cannot leak into its
features.

Features of a few sellers
-------------------------
Every feature here is a marketplace statistic: the links depend on every seller holding a
value (hub caps, the chance expectation of an overlap), the component and the
label-propagation walk on the whole web, and the neighbour means on the linked sellers'
own pricing and complaint features, with the marketplace mean for sellers without
linked values. A scoped build (``build_features(..., ids=...)``) therefore does not
rebuild a partial web: it takes the rows of its sellers from the network features of
every seller, computed once per :class:`~riskscore.features._context.MarketStats` (after
the pricing and complaint features of every seller, which the neighbour means read).
Building a web around the requested sellers only would save little (the order links
need every order's buyer and address to find hubs and chance overlaps) and could not
give the same component sizes and walk scores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import narwhals as nw
import numpy as np
import pandas as pd
import scipy.sparse as sp

from riskscore.exceptions import FeatureError
from riskscore.features._backend import lazy_like
from riskscore.features._catalog import Family, FeatureSpec
from riskscore.features._context import AsOfContext
from riskscore.features._graph import DEFAULT_DAMPING, Graph

__all__ = [
    "FAMILIES",
    "IDENTIFIER_LINKS",
    "LINK_TYPES",
    "ORDER_LINKS",
    "NetworkParams",
    "hub_weight",
    "network_frame",
    "seller_links",
    "seller_web",
]

NAN = math.nan

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

#: Feature name stem of each link type.
_STEM = {
    "payment_account": "payment_links",
    "device_id": "device_links",
    "contact_phone": "phone_links",
    "return_address": "return_address_links",
    "ship_address": "ship_address_links",
    "buyer": "buyer_links",
}

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


# -- declarations -----------------------------------------------------------------------


def _spec(
    name: str,
    description: str,
    unit: str,
    code: str,
    signal: str,
    en: str,
    zh: str,
    fill: float = 0.0,
    needs: tuple[str, ...] = (),
) -> FeatureSpec:
    return FeatureSpec(
        name=f"network__{name}",
        family="network",
        entity="seller",
        description=description,
        unit=unit,
        fill=fill,
        reason_code=code,
        signal=signal,
        text_en=en,
        text_zh=zh,
        needs=needs,
    )


_SHARED_WORDS = {
    "payment_account": ("a payment account", "收款账户", "SHARES_PAYMENT_ACCOUNT"),
    "device_id": ("a registration device", "注册设备", "SHARES_DEVICE"),
    "contact_phone": ("a contact phone", "联系电话", "SHARES_PHONE"),
    "return_address": ("a return address", "退货地址", "SHARES_RETURN_ADDRESS"),
}


def _specs(windows: tuple[int, ...]) -> tuple[FeatureSpec, ...]:
    w = max(windows)
    specs = [
        _spec(
            _STEM[link],
            f"Other sellers holding the same sellers.{link} value (values held by more "
            "than identifier_cap=25 sellers are hubs and ignored).",
            "count",
            code,
            "network_identifiers",
            f"Shares {en} with {{value:.0f}} other sellers",
            f"与{{value:.0f}}个其他店铺共用{zh}",
        )
        for link, (en, zh, code) in _SHARED_WORDS.items()
    ]
    specs += [
        _spec(
            "ship_address_links",
            "Other sellers whose orders went to at least min_shared=2 of the same delivery "
            "addresses (orders.ship_address_id), more than chance explains (p <= 1e-4); "
            "addresses used with more than order_cap=25 sellers ignored.",
            "count",
            "SHARES_DELIVERY_ADDRESSES",
            "network_buyers",
            "Ships to 2 or more of the same buyer addresses as {value:.0f} other sellers",
            "与{value:.0f}个其他店铺有2个以上相同的收货地址",
        ),
        _spec(
            "buyer_links",
            "Other sellers sharing at least min_shared=2 buyers, more than chance explains "
            "(p <= 1e-4); buyers who ordered from more than order_cap=25 sellers ignored.",
            "count",
            "SHARES_BUYERS",
            "network_buyers",
            "Shares 2 or more buyers with {value:.0f} other sellers",
            "与{value:.0f}个其他店铺有2个以上共同买家",
        ),
        _spec(
            "linked_sellers",
            "Distinct other sellers linked by any link type.",
            "count",
            "MANY_LINKED_SELLERS",
            "network_size",
            "Linked to {value:.0f} other sellers by shared identifiers or buyers",
            "通过共用身份信息或买家与{value:.0f}个其他店铺关联",
        ),
        _spec(
            "link_weight",
            "Sum of link weights over linked sellers; each shared value adds "
            "1 / log(1 + sellers holding it), summed over values and link types.",
            "weight",
            "STRONG_LINKS",
            "network_size",
            "Link strength {value:.1f} to other sellers (widely shared values count less)",
            "与其他店铺的关联强度为{value:.1f}（广泛共用的信息降权）",
        ),
        _spec(
            "component_size",
            "Other sellers in the seller's connected component: reachable through any "
            "chain of links (the seller itself not counted; 0 when it has no links).",
            "count",
            "LARGE_SELLER_WEB",
            "network_size",
            "Belongs to a web reaching {value:.0f} other sellers through chains of links",
            "所在关联网络经关联链可达{value:.0f}个其他店铺",
        ),
        _spec(
            "bad_neighbours",
            "Linked sellers labelled counterfeit or fraud (seller labels decided before as_of).",
            "count",
            "LINKED_TO_BANNED",
            "network_banned",
            "Shares payment accounts, devices, addresses or buyers with {value:.0f} sellers "
            "already banned for counterfeits or fraud",
            "与{value:.0f}个已因售假或欺诈被处罚的店铺共用收款账户、设备、地址或买家",
            needs=("labels",),
        ),
        _spec(
            "counterfeit_neighbours",
            "Linked sellers labelled counterfeit before as_of.",
            "count",
            "LINKED_TO_COUNTERFEIT",
            "network_banned",
            "Shares payment accounts, devices, addresses or buyers with {value:.0f} sellers "
            "already banned for counterfeits",
            "与{value:.0f}个已因售假被处罚的店铺共用收款账户、设备、地址或买家",
            needs=("labels",),
        ),
        _spec(
            "fraud_neighbours",
            "Linked sellers labelled fraud before as_of.",
            "count",
            "LINKED_TO_FRAUD",
            "network_banned",
            "Shares payment accounts, devices, addresses or buyers with {value:.0f} sellers "
            "already banned for fraud",
            "与{value:.0f}个已因欺诈被处罚的店铺共用收款账户、设备、地址或买家",
            needs=("labels",),
        ),
        _spec(
            "bad_neighbour_share",
            "bad_neighbours / linked_sellers (0 without links).",
            "share",
            "MOSTLY_BANNED_LINKS",
            "network_banned",
            "{value:.0%} of its linked sellers were already banned for counterfeits or fraud",
            "其关联店铺中有{value:.0%}已因售假或欺诈被处罚",
            needs=("labels",),
        ),
        _spec(
            "bad_link_weight",
            "Sum of link weights to sellers labelled counterfeit or fraud before as_of.",
            "weight",
            "STRONG_LINKS_TO_BANNED",
            "network_banned",
            "Link strength {value:.1f} to sellers already banned for counterfeits or fraud",
            "与已因售假或欺诈被处罚店铺的关联强度为{value:.1f}",
            needs=("labels",),
        ),
        _spec(
            "bad_2hop",
            "Sellers labelled counterfeit or fraud before as_of at exactly two links away "
            "(linked to a linked seller, not linked directly).",
            "count",
            "NEAR_BANNED_SELLERS",
            "network_banned",
            "{value:.0f} sellers banned for counterfeits or fraud are two links away",
            "隔一层关联有{value:.0f}个已因售假或欺诈被处罚的店铺",
            needs=("labels",),
        ),
        _spec(
            "bad_pagerank",
            "Personalised-PageRank label propagation: chance that a random walk from the "
            "seller along links (step to a neighbour in proportion to link weight, stop "
            "with probability 0.15 after each step) stops on another seller labelled "
            "counterfeit or fraud before as_of (leave-one-out: the seller's own label "
            "never counts, not even through walks that come back to it).",
            "probability",
            "RISK_FROM_BANNED_WEB",
            "network_banned",
            "Risk flowing from banned sellers through its links scores {value:.2f}",
            "经关联网络从已处罚店铺传导的风险分为{value:.2f}",
            needs=("labels",),
        ),
        _spec(
            "neighbour_price_ratio",
            "Link-weighted mean of linked sellers' pricing__median_price_ratio; sellers "
            "without linked values get the marketplace mean.",
            "ratio",
            "LINKED_TO_CHEAP_SELLERS",
            "network_neighbour_prices",
            "Linked sellers price at {value:.0%} of the market price",
            "关联店铺的售价为市场价的{value:.0%}",
            fill=NAN,
        ),
        _spec(
            "neighbour_complaint_rate",
            f"Link-weighted mean of linked sellers' complaints__rate_{w}d; sellers without "
            "linked values get the marketplace mean.",
            "per order",
            "LINKED_TO_COMPLAINED_SELLERS",
            "network_neighbour_complaints",
            f"{{value:.1%}} of linked sellers' orders drew complaints in the last {w} days",
            f"关联店铺近{w}天每笔订单的投诉率为{{value:.1%}}",
            fill=NAN,
            needs=("complaints",),
        ),
    ]
    return tuple(specs)


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


def _seeds(labels: nw.LazyFrame | None, ids: pd.Index) -> dict[str, np.ndarray]:
    """Sellers labelled counterfeit / fraud (seller-level labels only)."""
    seeds = {kind: np.zeros(len(ids), dtype=bool) for kind in ("counterfeit", "fraud")}
    if labels is None:
        return seeds
    if "listing_id" in labels.collect_schema().names():
        labels = labels.filter(nw.col("listing_id").is_null())
    known = labels.select("seller_id", "label").unique().collect().to_pandas()
    for kind in seeds:
        pos = ids.get_indexer(pd.Index(known.loc[known["label"] == kind, "seller_id"]))
        seeds[kind][pos[pos >= 0]] = True
    return seeds


def _features(
    ids: pd.Index,
    links: _Links,
    seeds: dict[str, np.ndarray] | None,
    neighbour_values: Mapping[str, np.ndarray],
    params: NetworkParams,
) -> pd.DataFrame:
    n = len(ids)
    graph = Graph.from_edges(n, links.a, links.b, links.weight)
    cols: dict[str, np.ndarray] = {}
    for i, link in enumerate(LINK_TYPES):
        sel = links.link == i
        cols[f"network__{_STEM[link]}"] = np.bincount(links.a[sel], minlength=n) + np.bincount(
            links.b[sel], minlength=n
        )
    cols["network__linked_sellers"] = graph.degree()
    cols["network__link_weight"] = graph.weighted_degree()
    cols["network__component_size"] = graph.component_size() - 1
    if seeds is not None:
        bad = seeds["counterfeit"] | seeds["fraud"]
        cols["network__bad_neighbours"] = graph.labelled_count(bad)
        cols["network__counterfeit_neighbours"] = graph.labelled_count(seeds["counterfeit"])
        cols["network__fraud_neighbours"] = graph.labelled_count(seeds["fraud"])
        cols["network__bad_neighbour_share"] = graph.labelled_share(bad)
        cols["network__bad_link_weight"] = graph.labelled_weight(bad)
        cols["network__bad_2hop"] = graph.labelled_count_2hop(bad)
        cols["network__bad_pagerank"] = graph.label_pagerank(bad, params.damping)
    for name, values in neighbour_values.items():
        finite = values[~np.isnan(values)]
        fill = float(finite.mean()) if finite.size else NAN
        cols[name] = graph.neighbour_mean(values, fill)
    out = pd.DataFrame({"seller_id": pd.array(ids.to_numpy(), dtype="str")})
    for name, values in cols.items():
        out[name] = np.asarray(values, dtype=np.float64)
    return out


_NEIGHBOUR_INPUTS: dict[str, tuple[str, str]] = {
    "network__neighbour_price_ratio": ("pricing", "pricing__median_price_ratio"),
    "network__neighbour_complaint_rate": ("complaints", "complaints__rate_{w}d"),
}


def _neighbour_values(ctx: AsOfContext, ids: pd.Index) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, (family, column) in _NEIGHBOUR_INPUTS.items():
        column = column.replace("{w}", str(max(ctx.params.windows)))
        if family == "complaints" and not ctx.has("complaints"):
            continue
        frame = ctx.output(family, "seller")
        if column not in frame.collect_schema().names():
            continue
        got = frame.select("seller_id", column).collect().to_pandas()
        values = np.full(len(ids), NAN)
        pos = ids.get_indexer(pd.Index(got["seller_id"]))
        values[pos[pos >= 0]] = got[column].to_numpy(dtype=np.float64, na_value=NAN)[pos >= 0]
        out[name] = values
    return out


def network_frame(
    ctx: AsOfContext,
    params: NetworkParams | None = None,
    *,
    neighbours: bool = True,
) -> pd.DataFrame:
    """Compute the ``network__`` features of every seller known at ``ctx.as_of``.

    Parameters
    ----------
    ctx : AsOfContext
        The as-of view of the marketplace (tables filtered to rows before ``as_of``).
        With ``neighbours=True`` it must already hold the ``pricing`` and ``complaints``
        outputs (the feature builder runs them first).
    params : NetworkParams, optional
        Caps, shared-buyer threshold, damping and method.
    neighbours : bool
        Also compute the neighbour means of other families' features.

    Returns
    -------
    pandas.DataFrame
        ``seller_id`` plus one float column per available feature, one row per seller
        registered before ``as_of``. Label features are absent without a ``labels``
        table, the complaint-rate mean without ``complaints``.

    Examples
    --------
    >>> import narwhals as nw, pandas as pd
    >>> sellers = pd.DataFrame({"seller_id": ["a", "b", "c"], "payment_account": ["P", "P", "Q"],
    ...     "registered_at": pd.to_datetime(["2024-01-01"] * 3)})
    >>> ctx = AsOfContext({"sellers": nw.from_native(sellers).lazy()},
    ...                   as_of=datetime(2024, 6, 1), entity="seller")
    >>> network_frame(ctx, neighbours=False)["network__payment_links"].tolist()
    [1.0, 1.0, 0.0]
    """
    params = params or NetworkParams()
    sellers = ctx.table("sellers")
    ids = _seller_ids(sellers)
    if not ids.is_unique:
        raise FeatureError("sellers.seller_id is not unique; validate the tables first")
    orders = (
        ctx.table("orders", ["seller_id", "buyer_id", "ship_address_id"])
        if ctx.has("orders")
        else None
    )
    links = _links(sellers, orders, ids, params)
    seeds = _seeds(ctx.table("labels"), ids) if ctx.has("labels") else None
    values = _neighbour_values(ctx, ids) if neighbours else {}
    return _features(ids, links, seeds, values, params)


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
    params = params or NetworkParams()
    sellers = ctx.table("sellers")
    ids = _seller_ids(sellers)
    orders = (
        ctx.table("orders", ["seller_id", "buyer_id", "ship_address_id"])
        if ctx.has("orders")
        else None
    )
    return _links(sellers, orders, ids, params).frame(ids.to_numpy())


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
    ids = _seller_ids(ctx.table("sellers"))
    orders = (
        ctx.table("orders", ["seller_id", "buyer_id", "ship_address_id"])
        if ctx.has("orders")
        else None
    )
    pairs = _links(ctx.table("sellers"), orders, ids, params)
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
        orders = (
            ctx.table("orders", ["seller_id", "buyer_id", "ship_address_id"])
            .filter(nw.col("seller_id").is_in(involved))
            .collect()
            .to_pandas()
        )
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


# -- registration -----------------------------------------------------------------------


def _compute(ctx: AsOfContext) -> nw.LazyFrame:
    if ctx.scoped:
        every = ctx.market_value("network_frame", network_frame, after=("pricing", "complaints"))
        frame = every.loc[every["seller_id"].isin(list(ctx.seller_ids or ()))].reset_index(
            drop=True
        )
    else:
        frame = network_frame(ctx)
    # same library, and for DuckDB the same connection, as the input tables
    return lazy_like(frame, ctx.frames["sellers"])


FAMILIES = (
    Family(
        name="network",
        entity="seller",
        specs=_specs,
        compute=_compute,
        after=("pricing", "complaints"),
        description=(
            "The web of sellers linked by shared identifiers and buyers, and what is known "
            "about their neighbours."
        ),
    ),
)
