"""The one evaluation path every pack shares: confirmed items -> values -> tier -> result.

A pack module declares its :class:`~riskscore.rules.packs.ThresholdPack` and which
measure feeds each criterion (:data:`MEASURES`: ``amount_cny``, ``pieces``, ``hits``, or
``given`` for values only the user can supply, such as members or illegal gains), then
calls :func:`run`. Values the user passes in ``values`` replace computed ones and are
marked ``given``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from riskscore.exceptions import ParameterError
from riskscore.rules.packs._evidence import (
    EXCLUDED_STATUSES,
    Evidence,
    as_pandas,
    check_confirmed,
    confirmed_listings,
    gather,
    own_listings,
    parse_period,
    parse_rates,
    parse_time,
)
from riskscore.rules.packs._pack import ThresholdPack
from riskscore.rules.packs._result import CriterionResult, Projection, ThresholdResult

__all__ = ["MEASURES", "evaluate_pack", "run"]

#: The measures a criterion can read.
MEASURES: tuple[str, ...] = ("amount_cny", "pieces", "hits", "given")


def run(
    where: str,
    pack: ThresholdPack,
    measures: Mapping[str, str],
    tables: Mapping[str, Any],
    seller_id: object,
    start: object,
    end: object,
    *,
    rates: object = None,
    confirmed_orders: object = None,
    confirmed_listings_: object = None,
    flagged_listings: object = None,
    values: object = None,
    label_kinds: tuple[str, ...] = ("counterfeit",),
    seller_labels: bool = False,
    as_of: object = None,
    exclude_statuses: tuple[str, ...] = EXCLUDED_STATUSES,
    categories: tuple[str, ...] | None = None,
    value_sources: Mapping[str, str] | None = None,
) -> ThresholdResult:
    """Evaluate ``pack`` for one seller over ``[start, end)`` (see the pack modules).

    ``value_sources`` names where a user-given value came from (default ``given``).
    """
    if not isinstance(tables, Mapping):
        raise ParameterError(
            f"The 'tables' parameter of {where} must be a mapping of table name to "
            f"DataFrame. Got {type(tables).__name__} instead."
        )
    tables = as_pandas(tables)
    if not isinstance(seller_id, str):
        raise ParameterError(
            f"The 'seller_id' parameter of {where} must be a str. Got {seller_id!r} instead."
        )
    period = parse_period(where, start, end)
    cutoff = None if as_of is None else parse_time(where, "as_of", as_of)
    rate_table = parse_rates(where, rates)
    cats = _categories(where, categories)
    kinds = _strings(where, "label_kinds", label_kinds)
    statuses = _strings(where, "exclude_statuses", exclude_statuses)
    given = _values(where, pack, values)
    orders_ok, listings_ok, flagged = check_confirmed(
        where, tables, confirmed_orders, confirmed_listings_, flagged_listings
    )
    own = own_listings(tables, seller_id)
    confirmed = confirmed_listings(
        tables,
        seller_id,
        label_kinds=kinds,
        seller_labels=bool(seller_labels),
        as_of=cutoff,
    ) | (listings_ok & own)
    evidence = gather(
        where,
        tables,
        seller_id,
        period,
        confirmed,
        orders_ok,
        rate_table,
        statuses,
        cats,
    )
    computed = _measured(pack, measures, evidence, given, value_sources or {})
    assessment = pack.assess({k: v for k, (v, _) in computed.items()})
    first = pack.tiers[0]
    criteria = []
    for c in pack.criteria:
        value, source = computed[c.name]
        thresholds = {t.name: float(t.thresholds[c.name]) for t in pack.tiers}  # type: ignore[arg-type]
        met = "none"
        if value is not None:
            for t in pack.tiers:
                if pack.reaches(value, thresholds[t.name]):
                    met = t.name
        limit = thresholds[first.name]
        criteria.append(
            CriterionResult(
                name=c.name,
                unit=c.unit,
                text_en=c.text_en,
                text_zh=c.text_zh,
                value=value,
                thresholds=thresholds,
                met=met,
                half_met=value is not None and pack.reaches(value, limit / 2.0),
                ratio=None if value is None else value / limit,
                source=source,
            )
        )
    projection = None
    if flagged is not None:
        extra = (flagged & own) - confirmed
        projected = gather(
            where,
            tables,
            seller_id,
            period,
            confirmed | extra,
            orders_ok,
            rate_table,
            statuses,
            cats,
        )
        pvalues = {k: v for k, (v, _) in _measured(pack, measures, projected, given, {}).items()}
        pa = pack.assess(pvalues)
        projection = Projection(pvalues, pa.tier, pa.basis, tuple(sorted(extra)))
    return ThresholdResult(
        pack=pack.name,
        pack_version=pack.version,
        jurisdiction=pack.jurisdiction,
        title_en=pack.title_en,
        title_zh=pack.title_zh,
        seller_id=seller_id,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        tier=assessment.tier,
        basis=assessment.basis,
        basis_criteria=assessment.basis_criteria,
        criteria=tuple(criteria),
        order_ids=evidence.order_ids,
        listing_ids=evidence.listing_ids,
        rates=evidence.rates,
        sources=pack.sources,
        inclusive=pack.inclusive,
        projection=projection,
    )


def _measured(
    pack: ThresholdPack,
    measures: Mapping[str, str],
    evidence: Evidence,
    given: dict[str, float],
    sources: Mapping[str, str],
) -> dict[str, tuple[float | None, str]]:
    out: dict[str, tuple[float | None, str]] = {}
    for c in pack.criteria:
        measure = measures.get(c.name, "given")
        if c.name in given:
            out[c.name] = (given[c.name], sources.get(c.name, "given"))
        elif measure == "amount_cny":
            out[c.name] = (evidence.amount_cny, "orders.amount x rates")
        elif measure == "pieces":
            out[c.name] = (float(evidence.pieces), "orders.quantity")
        elif measure == "hits":
            hits = evidence.hits
            out[c.name] = (
                (None, "no listing_views") if hits is None else (float(hits), "listing_views")
            )
        else:
            out[c.name] = (None, "not given")
    return out


def _strings(where: str, name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ParameterError(
            f"The '{name}' parameter of {where} must be a collection of strings such as "
            f"('counterfeit',). Got {value!r} instead."
        )
    return tuple(str(v) for v in value)


def _categories(where: str, categories: object) -> tuple[str, ...] | None:
    if categories is None:
        return None
    if isinstance(categories, str) or not isinstance(categories, Iterable):
        raise ParameterError(
            f"The 'categories' parameter of {where} must be a collection of listing "
            f"categories such as ('digital',), or None for all. Got {categories!r} instead."
        )
    return tuple(str(c) for c in categories)


def _values(where: str, pack: ThresholdPack, values: object) -> dict[str, float]:
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ParameterError(
            f"The 'values' parameter of {where} must be a mapping of criterion to a confirmed "
            f"value, e.g. {{'members': 1200}}. Got {type(values).__name__} instead."
        )
    names = [c.name for c in pack.criteria]
    unknown = sorted(str(k) for k in values if k not in names)
    if unknown:
        raise ParameterError(
            f"The 'values' parameter of {where} names unknown criteria {unknown}; the "
            f"criteria of pack '{pack.name}' are {names}"
        )
    out = {}
    for k, v in values.items():
        ok = isinstance(v, numbers.Real) and not isinstance(v, bool)
        if not ok or not math.isfinite(float(v)) or float(v) < 0:
            raise ParameterError(
                f"The 'values' parameter of {where} must give finite numbers >= 0. Got "
                f"{k}={v!r} instead."
            )
        out[str(k)] = float(v)
    return out


def evaluate_pack(
    pack: ThresholdPack,
    measures: Mapping[str, str],
    tables: Mapping[str, Any],
    seller_id: str,
    start: object,
    end: object,
    **kwargs: Any,
) -> ThresholdResult:
    """Evaluate any :class:`~riskscore.rules.packs.ThresholdPack` (e.g. your own).

    Parameters
    ----------
    pack : ThresholdPack
        The criteria and tiers; every threshold must be set.
    measures : mapping of str to str
        Criterion name -> one of :data:`MEASURES`: ``"amount_cny"`` (confirmed orders'
        amounts in CNY), ``"pieces"`` (their quantities), ``"hits"`` (views of the
        confirmed listings) or ``"given"`` (only from ``values=``).
    tables, seller_id, start, end, **kwargs
        As :func:`riskscore.rules.packs.cn_article_217_online_works.evaluate`
        (``rates``, ``confirmed_orders``, ``confirmed_listings``, ``flagged_listings``,
        ``values``, ``label_kinds``, ``seller_labels``, ``as_of``, ``exclude_statuses``,
        ``categories``).

    Returns
    -------
    ThresholdResult

    Examples
    --------
    >>> from riskscore.rules.packs import Criterion, ThresholdPack, Tier, evaluate
    >>> from riskscore.rules.packs import cn_article_217_online_works as cn217
    >>> mine = ThresholdPack(
    ...     name="xx_online_piracy", version="Act 12/2020 s. 4", jurisdiction="XX",
    ...     title_en="Online piracy", title_zh="网络盗版", sources=("Act 12/2020 s. 4",),
    ...     criteria=(Criterion("turnover", "CNY", "turnover", "营业额"),),
    ...     tiers=(Tier("serious", "serious", "严重", {"turnover": 10_000.0}),),
    ...     inclusive=False)
    >>> r = evaluate(mine, {"turnover": "amount_cny"}, cn217.example_tables(), "S1",
    ...              "2024-01-01", "2025-01-01")
    >>> r.tier, r.criteria[0].value
    ('serious', 60000.0)
    """
    if not isinstance(pack, ThresholdPack):
        raise ParameterError(
            "The 'pack' parameter of riskscore.rules.packs.evaluate must be a ThresholdPack. "
            f"Got {type(pack).__name__} instead."
        )
    if not isinstance(measures, Mapping):
        raise ParameterError(
            "The 'measures' parameter of riskscore.rules.packs.evaluate must map criterion "
            f"names to measures, e.g. {{'turnover': 'amount_cny'}}. Got "
            f"{type(measures).__name__} instead."
        )
    unknown = sorted({str(m) for m in measures.values()} - set(MEASURES))
    if unknown:
        raise ParameterError(
            f"The 'measures' parameter of riskscore.rules.packs.evaluate maps criteria to "
            f"unknown measures {unknown}; use one of {list(MEASURES)}"
        )
    pack.require_values("set every threshold of the pack (dataclasses.replace on its tiers)")
    if "confirmed_listings" in kwargs:
        kwargs["confirmed_listings_"] = kwargs.pop("confirmed_listings")
    return run(
        "riskscore.rules.packs.evaluate", pack, measures, tables, seller_id, start, end, **kwargs
    )
