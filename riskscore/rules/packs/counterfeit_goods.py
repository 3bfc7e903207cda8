"""Template: counterfeit branded goods (China, Criminal Law Articles 213, 214 and 140).

Selling goods bearing counterfeit registered trademarks (Article 214), using a counterfeit
registered trademark (Article 213) and producing or selling fake or substandard products
(Article 140) are judged by amounts: the sales amount (销售金额) and the illegal gains
(违法所得数额), each with a "serious" tier (数额较大 / 情节严重) and an "especially
serious" tier (数额巨大 / 情节特别严重). The numbers that mark those tiers are set by
judicial interpretations that change over time, and Amendment XI (2020) changed Article
214 from the sales amount to the illegal gains. So this template ships the structure and
**no numbers**: :data:`TEMPLATE` refuses to run until the current statutory values are set
with :func:`configure`, and the values you set travel with every result (``pack_version``).

What riskscore measures, from **confirmed** items only (see
:mod:`riskscore.rules.packs._evidence`):

- ``sales_amount``: the confirmed orders' amounts in CNY (listing currency x ``rates``;
  cancelled and refunded orders left out by default);
- ``illegal_gains``: only from the user (``values={"illegal_gains": ...}``); the tables
  hold prices, not costs, so gains are an investigator's figure.

A criterion that the interpretation in force does not use can be switched off with
``math.inf`` (never reached). Not legal advice: a pack must be reviewed by counsel.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from riskscore.exceptions import ParameterError
from riskscore.rules.packs._evidence import EXCLUDED_STATUSES
from riskscore.rules.packs._pack import Criterion, ThresholdPack, Tier
from riskscore.rules.packs._result import ThresholdResult
from riskscore.rules.packs._run import run

__all__ = ["HOW_TO_SET", "MEASURES", "TEMPLATE", "configure", "evaluate"]

#: The template: structure only, every threshold ``None`` (not set).
TEMPLATE = ThresholdPack(
    name="cn_counterfeit_goods",
    version="template (no statutory values set)",
    jurisdiction="CN",
    title_en=(
        "Counterfeit branded goods (Criminal Law arts. 213, 214, 140): counterfeit "
        "registered trademarks, fake or substandard products"
    ),
    title_zh="假冒注册商标罪、销售假冒注册商标的商品罪、生产销售伪劣产品罪（刑法第二百一十三、二百一十四、一百四十条）",
    sources=(
        "Criminal Law of the People's Republic of China, arts. 140, 213, 214 (as amended by "
        "Amendment XI, 2020)",
        "The judicial interpretation in force that sets the amounts (set it with configure)",
    ),
    criteria=(
        Criterion("sales_amount", "CNY", "sales amount", "销售金额"),
        Criterion("illegal_gains", "CNY", "illegal gains", "违法所得数额"),
    ),
    tiers=(
        Tier(
            "serious",
            "relatively large amount / serious circumstances",
            "数额较大 / 情节严重",
            {"sales_amount": None, "illegal_gains": None},
        ),
        Tier(
            "especially_serious",
            "huge amount / especially serious circumstances",
            "数额巨大 / 情节特别严重",
            {"sales_amount": None, "illegal_gains": None},
        ),
    ),
    inclusive=True,
)

#: Which measure feeds each criterion.
MEASURES: dict[str, str] = {"sales_amount": "amount_cny", "illegal_gains": "given"}

#: The fix printed when values are missing.
HOW_TO_SET = (
    "pack = riskscore.rules.packs.counterfeit_goods.configure(thresholds={'serious': "
    "{'sales_amount': ..., 'illegal_gains': ...}, 'especially_serious': {'sales_amount': "
    "..., 'illegal_gains': ...}}, version='<interpretation, article, date>'), then "
    "evaluate(..., pack=pack); use math.inf for a criterion the interpretation does not use"
)

_WHERE = "counterfeit_goods.evaluate"


def configure(
    *,
    thresholds: Mapping[str, Mapping[str, float]],
    version: str,
    sources: Sequence[str] = (),
    inclusive: bool = True,
    base: ThresholdPack = TEMPLATE,
) -> ThresholdPack:
    """Return the template with the statutory values in force set.

    Parameters
    ----------
    thresholds : mapping of tier to (mapping of criterion to float)
        E.g. ``{"serious": {"sales_amount": a, "illegal_gains": b},
        "especially_serious": {...}}`` in CNY. Values left out stay unset (and
        :func:`evaluate` refuses to run); ``math.inf`` switches a criterion off.
    version : str
        Which text the values come from (interpretation, article, date). Required.
    sources : sequence of str, optional
        Citations added to the template's.
    inclusive : bool, default True
        ``True`` when the text says "or more" (以上, ``>=``), ``False`` for "over" (``>``).
    base : ThresholdPack, default TEMPLATE

    Returns
    -------
    ThresholdPack

    Raises
    ------
    ParameterError
        An unknown tier or criterion, a value that is not a number > 0, or no version.

    Examples
    --------
    >>> from riskscore.rules.packs import counterfeit_goods
    >>> pack = counterfeit_goods.configure(
    ...     thresholds={"serious": {"sales_amount": 1000.0, "illegal_gains": 500.0},
    ...                 "especially_serious": {"sales_amount": 9000.0,
    ...                                        "illegal_gains": 4000.0}},
    ...     version="made-up values for this example")
    >>> pack.missing_values()
    []
    """
    if not isinstance(version, str) or not version.strip():
        raise ParameterError(
            "The 'version' parameter of counterfeit_goods.configure must name the text the "
            f"values come from (interpretation, article, date). Got {version!r} instead."
        )
    if not isinstance(thresholds, Mapping):
        raise ParameterError(
            "The 'thresholds' parameter of counterfeit_goods.configure must be a mapping of "
            f"tier to criterion values. Got {type(thresholds).__name__} instead."
        )
    tiers = []
    known = {t.name for t in base.tiers}
    unknown = sorted(str(t) for t in thresholds if t not in known)
    if unknown:
        raise ParameterError(
            f"The 'thresholds' parameter of counterfeit_goods.configure names unknown tiers "
            f"{unknown}; the tiers are {sorted(known)}"
        )
    names = [c.name for c in base.criteria]
    for tier in base.tiers:
        given = thresholds.get(tier.name, {})
        bad = sorted(str(k) for k in given if k not in names)
        if bad:
            raise ParameterError(
                f"The 'thresholds' parameter of counterfeit_goods.configure names unknown "
                f"criteria {bad} in tier '{tier.name}'; the criteria are {names}"
            )
        values = dict(tier.thresholds)
        for name, value in given.items():
            ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
            if not ok or math.isnan(float(value)) or float(value) <= 0:
                raise ParameterError(
                    f"The 'thresholds' parameter of counterfeit_goods.configure must give "
                    f"numbers > 0 (CNY). Got {tier.name}.{name}={value!r} instead."
                )
            values[name] = float(value)
        tiers.append(replace(tier, thresholds=values))
    return replace(
        base,
        version=version.strip(),
        tiers=tuple(tiers),
        sources=base.sources + tuple(str(s) for s in sources),
        inclusive=bool(inclusive),
    )


def evaluate(
    tables: Mapping[str, Any],
    seller_id: str,
    start: object,
    end: object,
    *,
    pack: ThresholdPack = TEMPLATE,
    rates: Mapping[str, float] | pd.DataFrame | None = None,
    confirmed_orders: Iterable[str] | None = None,
    confirmed_listings: Iterable[str] | None = None,
    flagged_listings: Iterable[str] | None = None,
    values: Mapping[str, float] | None = None,
    label_kinds: tuple[str, ...] = ("counterfeit",),
    seller_labels: bool = False,
    as_of: object = None,
    exclude_statuses: tuple[str, ...] = EXCLUDED_STATUSES,
) -> ThresholdResult:
    """Evaluate a configured counterfeit-goods pack for one seller over ``[start, end)``.

    Refuses to run (:class:`~riskscore.rules.packs.ThresholdsNotSetError`) until every
    statutory value of ``pack`` is set with :func:`configure`. The other parameters,
    the result and the errors are those of
    :func:`riskscore.rules.packs.cn_article_217_online_works.evaluate`; ``values`` gives
    the investigator's ``illegal_gains``.

    Examples
    --------
    >>> from riskscore.rules.packs import ThresholdsNotSetError, counterfeit_goods
    >>> from riskscore.rules.packs import cn_article_217_online_works
    >>> tables = cn_article_217_online_works.example_tables()
    >>> try:
    ...     counterfeit_goods.evaluate(tables, "S1", "2024-01-01", "2025-01-01")
    ... except ThresholdsNotSetError as err:
    ...     print(str(err)[:76])
    pack 'cn_counterfeit_goods' has no statutory values for serious.sales_amount
    """
    if not isinstance(pack, ThresholdPack):
        raise ParameterError(
            f"The 'pack' parameter of {_WHERE} must be a ThresholdPack from "
            f"counterfeit_goods.configure(...). Got {type(pack).__name__} instead."
        )
    pack.require_values(HOW_TO_SET)
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
        label_kinds=label_kinds,
        seller_labels=seller_labels,
        as_of=as_of,
        exclude_statuses=exclude_statuses,
    )
