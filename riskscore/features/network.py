"""The ``network__`` family: the "cobweb" of sellers linked by shared identifiers and buyers.

Counterfeit and fraud operations run many shops from one controller. Shops of one web share
payout accounts, devices, phones and return addresses, and their (often fake) buyers and
delivery addresses overlap. This family builds that web as of a cutoff and turns it into
tabular features for the seller: how many sellers each kind of link reaches, how big the
web is, how many linked sellers were already labelled counterfeit or fraud, and how much
"known-bad" mass a random walk through the web collects (personalised PageRank).

The module is the family's declarations and compute; the web itself is built in
:mod:`riskscore.features._network_links` (identifier links, order links beyond chance,
hub caps and weights: read it for the definitions the link counts use) and shown to
investigators by :mod:`riskscore.features._network_views` (:func:`seller_links`,
:func:`seller_web`). Their public names are re-exported here.

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
Every feature here is a marketplace statistic: the links depend on every seller holding
a value (hub caps, the chance expectation of an overlap), the component and the label-
propagation walk on the whole web, and the neighbour means on the linked sellers' own
pricing and complaint features (missing for sellers without linked values). A scoped
build (``build_features(..., ids=...)``) therefore does not rebuild a partial web: it
takes the rows of its sellers from the network features of every seller, computed once
per :class:`~riskscore.features._context.MarketStats` (after the pricing and complaint
features of every seller, which the neighbour means read). Building a web around the
requested sellers only would save little (the order links need every order's buyer and
address to find hubs and chance overlaps) and could not give the same component sizes
and walk scores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import narwhals as nw
import numpy as np
import pandas as pd

from riskscore._progress import step
from riskscore.exceptions import FeatureError
from riskscore.features._backend import lazy_like
from riskscore.features._catalog import Family, FeatureSpec
from riskscore.features._context import AsOfContext
from riskscore.features._graph import Graph
from riskscore.features._network_links import (
    IDENTIFIER_LINKS,
    LINK_COLUMNS,
    LINK_TYPES,
    ORDER_LINKS,
    NetworkParams,
    _Links,
    _links,
    _orders_for_links,
    _seller_ids,
    hub_weight,
)
from riskscore.features._network_views import seller_links, seller_web
from riskscore.features._outcomes import positive_labels

__all__ = [
    "FAMILIES",
    "IDENTIFIER_LINKS",
    "LINK_COLUMNS",
    "LINK_TYPES",
    "ORDER_LINKS",
    "NetworkParams",
    "hub_weight",
    "network_frame",
    "seller_links",
    "seller_web",
]

NAN = math.nan

#: The parameters the features are computed with; the catalog texts quote them.
_DEFAULTS = NetworkParams()

#: Feature name stem of each link type.
_STEM = {
    "payment_account": "payment_links",
    "device_id": "device_links",
    "contact_phone": "phone_links",
    "return_address": "return_address_links",
    "ship_address": "ship_address_links",
    "buyer": "buyer_links",
}


def _number(value: float) -> str:
    """Return ``value`` as short text for a catalog sentence: 25, 0.15, 1e-4.

    Examples
    --------
    >>> _number(25), _number(0.15), _number(1e-4), _number(1 - 0.85)
    ('25', '0.15', '1e-4', '0.15')
    """
    fixed = f"{value:.6g}"
    mantissa, _, exponent = f"{value:.6e}".partition("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    scientific = f"{mantissa}e{int(exponent)}"
    return scientific if len(scientific) < len(fixed) else fixed


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
    d = _DEFAULTS
    id_cap, order_cap = _number(d.identifier_cap), _number(d.order_cap)
    shared, pvalue, stop = _number(d.min_shared), _number(d.max_pvalue), _number(1 - d.damping)
    specs = [
        _spec(
            _STEM[link],
            f"Other sellers holding the same sellers.{link} value (values held by more "
            f"than identifier_cap={id_cap} sellers are hubs and ignored).",
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
            f"Other sellers whose orders went to at least min_shared={shared} of the same "
            f"delivery addresses (orders.ship_address_id), more than chance explains "
            f"(p <= {pvalue}); addresses used with more than order_cap={order_cap} sellers "
            "ignored.",
            "count",
            "SHARES_DELIVERY_ADDRESSES",
            "network_buyers",
            f"Ships to {shared} or more of the same buyer addresses as {{value:.0f}} other sellers",
            f"与{{value:.0f}}个其他店铺有{shared}个以上相同的收货地址",
        ),
        _spec(
            "buyer_links",
            f"Other sellers sharing at least min_shared={shared} buyers, more than chance "
            f"explains (p <= {pvalue}); buyers who ordered from more than "
            f"order_cap={order_cap} sellers ignored.",
            "count",
            "SHARES_BUYERS",
            "network_buyers",
            f"Shares {shared} or more buyers with {{value:.0f}} other sellers",
            f"与{{value:.0f}}个其他店铺有{shared}个以上共同买家",
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
            f"with probability {stop} after each step) stops on another seller labelled "
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
            "Link-weighted mean of linked sellers' pricing__median_price_ratio; missing "
            "for sellers without a linked seller holding a value.",
            "ratio",
            "LINKED_TO_CHEAP_SELLERS",
            "network_neighbour_prices",
            "Linked sellers price at {value:.0%} of the market price",
            "关联店铺的售价为市场价的{value:.0%}",
            fill=NAN,
        ),
        _spec(
            "neighbour_complaint_rate",
            f"Link-weighted mean of linked sellers' complaints__rate_{w}d (complaints "
            "relative to the marketplace rate, 1 = the market); missing for sellers "
            "without a linked seller holding a value.",
            "x marketplace rate",
            "LINKED_TO_COMPLAINED_SELLERS",
            "network_neighbour_complaints",
            f"Linked sellers drew complaints at {{value:.1f}}× the marketplace rate in the "
            f"last {w} days",
            f"关联店铺近{w}天投诉率为全平台水平的{{value:.1f}}倍",
            fill=NAN,
            needs=("complaints",),
        ),
    ]
    return tuple(specs)


# -- features ---------------------------------------------------------------------------


def _seeds(
    labels: nw.LazyFrame | None, ids: pd.Index, moment: nw.Expr | None = None
) -> dict[str, np.ndarray]:
    """Return the sellers labelled counterfeit / fraud (seller-level labels only).

    Only rows still confirmed at ``moment`` count: cleared rows never, a reversed row
    until its ``reversed_at``.
    """
    seeds = {kind: np.zeros(len(ids), dtype=bool) for kind in ("counterfeit", "fraud")}
    if labels is None:
        return seeds
    labels = positive_labels(labels, moment)
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
        # no linked seller with a value: missing, not a marketplace mean that moves with
        # the market and holds most sellers at one value
        cols[name] = graph.neighbour_mean(values, NAN)
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
    >>> from datetime import datetime
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
    with step("network", f"links between {len(ids):,} sellers"):
        links = _links(sellers, _orders_for_links(ctx), ids, params)
    seeds = _seeds(ctx.table("labels"), ids, ctx.moment(ctx.as_of)) if ctx.has("labels") else None
    values = _neighbour_values(ctx, ids) if neighbours else {}
    with step("network", "web size, neighbour labels and label walk"):
        return _features(ids, links, seeds, values, params)


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
