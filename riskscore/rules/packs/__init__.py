"""Legal-threshold packs: whether a seller's confirmed infringement meets the legal bar.

Enforcement teams hand a case to the police only when the evidence meets a statutory bar.
A pack declares one offence's bar as data (:class:`ThresholdPack`: criteria, tiers, the
"half of two criteria" rule, ``>=`` or ``>``) and evaluates it per seller over a period
from **confirmed** items only (labels, test buys, rights-holder confirmations; never a
model band). The result (:class:`ThresholdResult`) says which criteria are met and by how
much, the tier reached and its basis, and lists the supporting order and listing ids.

Packs:

- :mod:`~riskscore.rules.packs.cn_article_217_online_works`: pirated works sold or
  communicated online (China, Criminal Law Article 217; 2011 SPC/SPP/MPS opinion).
- :mod:`~riskscore.rules.packs.counterfeit_goods`: a template for counterfeit branded
  goods (Articles 213, 214, 140) with no numbers; it refuses to run until you set them.

:func:`evaluate` runs any pack, including one you declare for another jurisdiction.

See ``docs/legal-thresholds.md`` for the sources and how to write another jurisdiction's
pack. **Not legal advice**: a pack must be reviewed by counsel before use.

Examples
--------
>>> from riskscore.rules.packs import cn_article_217_online_works as pack
>>> result = pack.evaluate(pack.example_tables(), "S1", "2024-01-01", "2025-01-01")
>>> result.tier, [(c.name, c.value, c.ratio) for c in result.criteria][0]
('serious', ('illegal_business_amount', 60000.0, 1.2))
"""

from __future__ import annotations

from riskscore.rules.packs import cn_article_217_online_works, counterfeit_goods
from riskscore.rules.packs._pack import (
    Assessment,
    Criterion,
    ThresholdPack,
    ThresholdsNotSetError,
    Tier,
)
from riskscore.rules.packs._result import CriterionResult, Projection, ThresholdResult
from riskscore.rules.packs._run import MEASURES
from riskscore.rules.packs._run import evaluate_pack as evaluate

__all__ = [
    "MEASURES",
    "Assessment",
    "Criterion",
    "CriterionResult",
    "Projection",
    "ThresholdPack",
    "ThresholdResult",
    "ThresholdsNotSetError",
    "Tier",
    "cn_article_217_online_works",
    "counterfeit_goods",
    "evaluate",
]
