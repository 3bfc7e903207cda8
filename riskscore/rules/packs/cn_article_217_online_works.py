"""China, Criminal Law Article 217: pirated works communicated through information networks.

Source: the Opinions of the Supreme People's Court, the Supreme People's Procuratorate and
the Ministry of Public Security on Several Issues concerning the Application of Law in
Handling Criminal Cases of Infringement of Intellectual Property Rights (法发〔2011〕3号,
January 2011), Article 13. Communicating others' works to the public through information
networks for profit and without the copyright owner's permission is "other serious
circumstances" (其他严重情节) of Article 217 when any of these holds:

1. illegal business amount (非法经营数额) of RMB 50,000 or more;
2. 500 or more pieces (件/部) of others' works communicated in total;
3. 50,000 or more actual hits (实际被点击数) of the works;
4. 1,000 or more registered members, when the works are communicated on a membership basis;
5. none of 1-4 reached, but two or more of them each at half or more of its value.

Five times those values is "other especially serious circumstances" (其他特别严重情节);
this pack applies item 5 at that tier too (two criteria each at 2.5 times), our reading
of "第（一）项至第（五）项规定标准五倍以上", for counsel to confirm.

"以上" (or more) includes the number itself (Criminal Law Article 99), so the pack
compares with ``>=`` (:attr:`ThresholdPack.inclusive`). To follow the English "over"
instead, pass ``pack=dataclasses.replace(PACK, inclusive=False)``.

How riskscore measures each criterion for one seller over ``[start, end)`` from
**confirmed** items only (labels, test buys, rights-holder confirmations; never a model
band; see :mod:`riskscore.rules.packs._evidence`):

- amount: the confirmed orders' ``amount`` in the listing ``currency``, converted to CNY
  with the user's ``rates`` (cancelled and refunded orders left out by default);
- pieces: the sum of those orders' ``quantity``. The opinion counts works communicated;
  a marketplace sells copies, so a listing that bundles many works ("全套 500 本") is
  under-counted: pass the examiner's count as ``values={"works": n}`` instead;
- hits: the views of the confirmed listings in ``listing_views`` (a listing view is the
  marketplace's closest record of a hit; counsel decides whether it is one);
- members: only from the user, ``values={"members": n}`` or a user column of
  ``sellers`` (``members_column=``); the contract has no such column.

Only listings of :data:`DIGITAL_CATEGORIES` count (``categories=`` names your own): a
counterfeit handbag is not a work communicated online.

Not legal advice: a pack must be reviewed by counsel before use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from riskscore.exceptions import ParameterError, SchemaError
from riskscore.rules.packs._evidence import EXCLUDED_STATUSES, as_pandas, check_confirmed
from riskscore.rules.packs._pack import Criterion, ThresholdPack, Tier
from riskscore.rules.packs._result import ThresholdResult
from riskscore.rules.packs._run import run

__all__ = ["DIGITAL_CATEGORIES", "MEASURES", "PACK", "evaluate", "example_tables", "screen"]

_SERIOUS = {
    "illegal_business_amount": 50_000.0,
    "works": 500.0,
    "hits": 50_000.0,
    "members": 1_000.0,
}

#: The pack: four criteria, two tiers (5x), "half of two" at both, ``>=`` comparisons.
PACK = ThresholdPack(
    name="cn_article_217_online_works",
    version="SPC/SPP/MPS opinion 法发〔2011〕3号, art. 13",
    jurisdiction="CN",
    title_en=(
        "Copyright infringement (Criminal Law art. 217): communicating others' works "
        "through information networks"
    ),
    title_zh="侵犯著作权罪（刑法第二百一十七条）：通过信息网络传播他人作品",
    sources=(
        "Supreme People's Court, Supreme People's Procuratorate, Ministry of Public "
        "Security: Opinions on Several Issues concerning the Application of Law in Handling "
        "Criminal Cases of Infringement of Intellectual Property Rights (法发〔2011〕3号), "
        "art. 13",
        "Criminal Law of the People's Republic of China, art. 217 (as amended by "
        "Amendment XI, 2020)",
        "Criminal Law art. 99: 以上 (or more) includes the number itself",
    ),
    criteria=(
        Criterion("illegal_business_amount", "CNY", "illegal business amount", "非法经营数额"),
        Criterion("works", "pieces", "works communicated (pieces/sets)", "传播作品数量（件/部）"),
        Criterion("hits", "hits", "actual hits", "实际被点击数"),
        Criterion("members", "members", "registered members (membership basis)", "注册会员人数"),
    ),
    tiers=(
        Tier(
            "serious",
            "other serious circumstances",
            "其他严重情节",
            dict(_SERIOUS),
            half_of_two=True,
        ),
        Tier(
            "especially_serious",
            "other especially serious circumstances",
            "其他特别严重情节",
            {k: 5 * v for k, v in _SERIOUS.items()},
            half_of_two=True,
        ),
    ),
    inclusive=True,
)

#: Which measure feeds each criterion (see :data:`riskscore.rules.packs._run.MEASURES`).
MEASURES: dict[str, str] = {
    "illegal_business_amount": "amount_cny",
    "works": "pieces",
    "hits": "hits",
    "members": "given",
}

#: Listing categories of works sold as downloads (the simulator's digital-goods category).
DIGITAL_CATEGORIES: tuple[str, ...] = ("digital",)

_WHERE = "cn_article_217_online_works.evaluate"
#: Tables with a seller_id that ``screen`` slices per seller.
_PER_SELLER = ("listings", "orders", "labels", "listing_views")


def evaluate(
    tables: Mapping[str, Any],
    seller_id: str,
    start: object,
    end: object,
    *,
    rates: Mapping[str, float] | pd.DataFrame | None = None,
    confirmed_orders: Iterable[str] | None = None,
    confirmed_listings: Iterable[str] | None = None,
    flagged_listings: Iterable[str] | None = None,
    values: Mapping[str, float] | None = None,
    members_column: str | None = None,
    label_kinds: tuple[str, ...] = ("counterfeit",),
    seller_labels: bool = False,
    as_of: object = None,
    exclude_statuses: tuple[str, ...] = EXCLUDED_STATUSES,
    categories: tuple[str, ...] | None = DIGITAL_CATEGORIES,
    pack: ThresholdPack = PACK,
) -> ThresholdResult:
    """Assess one seller's confirmed piracy against the Article 217 thresholds.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Marketplace tables following the contract (``listings``, ``orders``; optional
        ``labels``, ``listing_views``, ``sellers``), e.g. from ``riskscore.validate``.
    seller_id : str
        The seller.
    start, end : date-like
        The period ``[start, end)`` (orders by ``created_at``, views by ``viewed_at``).
    rates : mapping or DataFrame, optional
        CNY per unit of each listing currency other than CNY, e.g. ``{"USD": 7.1}``, or a
        frame with columns ``currency`` and ``rate``. A currency of a counted order
        without a rate is an error naming it; no rate is ever assumed.
    confirmed_orders : collection of str, optional
        Orders confirmed one by one (e.g. test buys). Ids of other sellers are ignored;
        unknown ids are an error.
    confirmed_listings : collection of str, optional
        Listings confirmed as infringing (e.g. by the rights holder): their orders and
        views count.
    flagged_listings : collection of str, optional
        Model-flagged listings: adds a "projected if confirmed" figure, marked as not
        evidence. They never count in the result itself.
    values : mapping of str to float, optional
        Confirmed values only the user has, by criterion: ``members``, or ``works`` when
        an examiner counted the works in bundled listings. They replace computed ones.
    members_column : str, optional
        A column of ``sellers`` holding each seller's confirmed registered members (a
        user column, not in the contract). A missing value there means not assessed;
        ``values={"members": n}`` takes precedence.
    label_kinds : tuple of str, default ("counterfeit",)
        Label kinds that confirm a listing.
    seller_labels : bool, default False
        Whether a seller-level label confirms all of the seller's listings.
    as_of : date-like, optional
        Count only labels decided before this time.
    exclude_statuses : tuple of str, default ("cancelled", "refunded")
        Order statuses left out of amount and pieces.
    categories : tuple of str or None, default ("digital",)
        Listing categories of works sold as downloads; listings of other categories
        (physical goods, which fall under other articles) never count. Name your
        marketplace's own categories (e.g. ``("ebooks", "software")``); None counts all.
    pack : ThresholdPack, default PACK
        E.g. ``dataclasses.replace(PACK, inclusive=False)`` to read "over" as ``>``.

    Returns
    -------
    ThresholdResult
        Criteria met and by how much, the tier and its basis, the supporting orders and
        listings; ``to_dict()`` and ``to_markdown("en" | "zh")``.

    Raises
    ------
    ParameterError
        A bad argument, an unknown id, or a currency without a rate (named, with a few
        of its orders and the fix).
    SchemaError
        A table or column the pack needs is missing.

    Examples
    --------
    >>> from riskscore.rules.packs import cn_article_217_online_works as pack
    >>> tables = pack.example_tables()
    >>> result = pack.evaluate(tables, "S1", "2024-01-01", "2025-01-01")
    >>> result.tier, result.basis, result.met
    ('serious', 'criterion', ('illegal_business_amount',))
    >>> r = pack.evaluate(tables, "S2", "2024-01-01", "2025-01-01", rates={"USD": 7.0})
    >>> r.tier, r.basis, r.basis_criteria
    ('serious', 'half_of_two', ('illegal_business_amount', 'hits'))
    """
    values, sources = _members(tables, seller_id, members_column, values)
    return run(
        _WHERE,
        pack,
        MEASURES,
        tables,
        seller_id,
        start,
        end,
        rates=rates,
        confirmed_orders=confirmed_orders,
        confirmed_listings_=confirmed_listings,
        flagged_listings=flagged_listings,
        values=values,
        value_sources=sources,
        label_kinds=label_kinds,
        seller_labels=seller_labels,
        as_of=as_of,
        exclude_statuses=exclude_statuses,
        categories=categories,
    )


def _members(
    tables: Mapping[str, Any],
    seller_id: object,
    column: str | None,
    values: Mapping[str, float] | None,
) -> tuple[Mapping[str, float] | None, dict[str, str]]:
    """Add the seller's members from ``sellers[column]`` to ``values`` (unless given)."""
    if column is None or (isinstance(values, Mapping) and "members" in values):
        return values, {}
    sellers = as_pandas(tables).get("sellers") if isinstance(tables, Mapping) else None
    if not isinstance(sellers, pd.DataFrame) or not {column, "seller_id"} <= set(sellers.columns):
        got = [] if not isinstance(sellers, pd.DataFrame) else list(sellers.columns)
        raise SchemaError(
            [
                f"sellers.{column}: the members_column is not in the sellers table (got "
                f"{got}); add the column or pass values={{'members': n}}"
            ]
        )
    found = sellers.loc[sellers["seller_id"] == seller_id, column]
    value = pd.to_numeric(found, errors="coerce").dropna()
    if value.empty:
        return values, {}
    merged = dict(values or {})
    merged["members"] = float(value.iloc[0])
    return merged, {"members": f"sellers.{column}"}


def screen(
    tables: Mapping[str, Any],
    start: object,
    end: object,
    *,
    sellers: Iterable[str] | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Evaluate every seller with a confirmed label (or the given ``sellers``).

    Parameters
    ----------
    tables, start, end, **kwargs
        As :func:`evaluate` (``kwargs`` are passed on; id collections may span sellers).
    sellers : collection of str, optional
        The sellers to evaluate; default: those with a label of ``label_kinds`` and a
        listing of ``categories``.

    Returns
    -------
    pandas.DataFrame
        One row per seller: ``seller_id``, ``tier``, ``basis``, then per criterion its
        value and ``<criterion>_ratio`` (value / the serious threshold); the most
        serious first, then by the largest ratio.

    Examples
    --------
    >>> from riskscore.rules.packs import cn_article_217_online_works as pack
    >>> out = pack.screen(pack.example_tables(), "2024-01-01", "2025-01-01",
    ...                   rates={"USD": 7.0})
    >>> out[["seller_id", "tier", "basis"]].to_dict("records")[0]
    {'seller_id': 'S1', 'tier': 'serious', 'basis': 'criterion'}
    """
    where = "cn_article_217_online_works.screen"
    if not isinstance(tables, Mapping):
        raise ParameterError(
            f"The 'tables' parameter of {where} must be a mapping of table name to "
            f"DataFrame. Got {type(tables).__name__} instead."
        )
    tables = as_pandas(tables)
    if sellers is not None and (isinstance(sellers, str) or not isinstance(sellers, Iterable)):
        raise ParameterError(
            f"The 'sellers' parameter of {where} must be a collection of seller ids such as "
            f"['S000001']. Got {sellers!r} instead."
        )
    pack = kwargs.get("pack", PACK)
    if sellers is None:
        labels = tables.get("labels")
        kinds = kwargs.get("label_kinds", ("counterfeit",))
        if isinstance(kinds, str) or not isinstance(kinds, Iterable):
            raise ParameterError(
                f"The 'label_kinds' parameter of {where} must be a collection of strings "
                f"such as ('counterfeit',). Got {kinds!r} instead."
            )
        if not isinstance(labels, pd.DataFrame) or not {"seller_id", "label"} <= set(
            labels.columns
        ):
            ids: list[str] = []
        else:
            ids = sorted(set(labels.loc[labels["label"].isin(kinds), "seller_id"]))
        cats = kwargs.get("categories", DIGITAL_CATEGORIES)
        listings = tables.get("listings")
        if cats is not None and isinstance(listings, pd.DataFrame) and "category" in listings:
            # A seller with no listing of these categories has nothing to count.
            inside = listings.loc[listings["category"].isin(list(cats)), "seller_id"]
            ids = sorted(set(ids) & set(inside))
    else:
        ids = [str(s) for s in sellers]
    id_sets = check_confirmed(
        where,
        tables,
        kwargs.pop("confirmed_orders", None),
        kwargs.pop("confirmed_listings", None),
        kwargs.pop("flagged_listings", None),
    )
    parts = {}
    for name in _PER_SELLER:
        frame = tables.get(name)
        if isinstance(frame, pd.DataFrame) and "seller_id" in frame.columns:
            frame = frame.loc[frame["seller_id"].isin(ids)]
            parts[name] = dict(tuple(frame.groupby("seller_id", sort=False)))
    rows = []
    for sid in ids:
        # One seller's rows only: each evaluation reads a slice, not the whole marketplace.
        own = dict(tables)
        for name, groups in parts.items():
            own[name] = groups.get(sid, tables[name].iloc[0:0])
        lids = set(own["listings"]["listing_id"]) if "listings" in own else set()
        oids = set(own["orders"]["order_id"]) if "orders" in own else set()
        r = evaluate(
            own,
            sid,
            start,
            end,
            confirmed_orders=id_sets[0] & oids,
            confirmed_listings=id_sets[1] & lids,
            flagged_listings=None if id_sets[2] is None else id_sets[2] & lids,
            **kwargs,
        )
        row: dict[str, Any] = {"seller_id": sid, "tier": r.tier, "basis": r.basis}
        for c in r.criteria:
            row[c.name] = c.value
            row[f"{c.name}_ratio"] = c.ratio
        rows.append(row)
    columns = ["seller_id", "tier", "basis"]
    for c in pack.criteria:
        columns += [c.name, f"{c.name}_ratio"]
    out = pd.DataFrame(rows, columns=columns)
    if out.empty:
        return out
    rank = {t.name: i + 1 for i, t in enumerate(pack.tiers)}
    ratios = out[[f"{c.name}_ratio" for c in pack.criteria]].astype(float).max(axis=1)
    order = pd.DataFrame({"rank": out["tier"].map(rank).fillna(0), "ratio": ratios.fillna(0)})
    keys = order.sort_values(["rank", "ratio"], ascending=False, kind="stable").index
    return out.loc[keys].reset_index(drop=True)


def example_tables() -> dict[str, pd.DataFrame]:
    """Return a tiny marketplace for examples and docs: two pirate shops, one honest.

    ``S1`` sold 60,000 CNY of confirmed pirated software (one listing label); ``S2``
    sold 4,000 USD of pirated courses (confirmed) with 30,000 views; ``S3`` is honest.
    """
    ts = pd.Timestamp
    return {
        "sellers": pd.DataFrame(
            {
                "seller_id": ["S1", "S2", "S3"],
                "registered_at": [ts("2023-06-01")] * 3,
                "region": ["Zhejiang", "Guangdong", "Jiangsu"],
            }
        ),
        "listings": pd.DataFrame(
            {
                "listing_id": ["L1", "L2", "L3", "L4"],
                "seller_id": ["S1", "S1", "S2", "S3"],
                "product_id": [None] * 4,
                "category": ["digital"] * 4,
                "brand": [None] * 4,
                "title": [
                    "Photoshop 2024 破解版 永久使用",
                    "Office 2021 激活码",
                    "CPA exam video course full set cloud link",
                    "三体 电子书 正版",
                ],
                "price": [60.0, 30.0, 20.0, 45.0],
                "currency": ["CNY", "CNY", "USD", "CNY"],
                "created_at": [ts("2023-12-01")] * 4,
            }
        ),
        "orders": pd.DataFrame(
            {
                "order_id": ["O1", "O2", "O3", "O4", "O5"],
                "listing_id": ["L1", "L2", "L3", "L3", "L4"],
                "seller_id": ["S1", "S1", "S2", "S2", "S3"],
                "buyer_id": ["B1", "B2", "B3", "B4", "B5"],
                "quantity": [100, 10, 150, 50, 1],
                "amount": [60_000.0, 300.0, 3_000.0, 1_000.0, 45.0],
                "created_at": [ts("2024-03-01")] * 5,
                "ship_address_id": [None] * 5,
                "status": ["delivered"] * 5,
            }
        ),
        "labels": pd.DataFrame(
            {
                "seller_id": ["S1", "S2"],
                "listing_id": ["L1", "L3"],
                "label": ["counterfeit", "counterfeit"],
                "decided_at": [ts("2024-06-01"), ts("2024-06-01")],
            }
        ),
        "listing_views": pd.DataFrame(
            {
                "listing_id": ["L1", "L3", "L3"],
                "seller_id": ["S1", "S2", "S2"],
                "viewed_at": [ts("2024-03-01"), ts("2024-03-01"), ts("2024-03-02")],
                "views": [1_000, 20_000, 10_000],
            }
        ),
    }
