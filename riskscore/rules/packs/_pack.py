"""A legal-threshold pack, declared as data, and the pure function that assesses values.

A :class:`ThresholdPack` names the criteria of an offence (amount, pieces, hits, ...) and,
per tier (``serious``, ``especially_serious``), the statutory value of each criterion. A
tier is reached when one criterion reaches its value, or, in tiers with the
``half_of_two`` rule, when two or more criteria each reach half of theirs. The highest tier
reached is the result. Values are compared with ``>=`` when the statute says "or more"
(``inclusive=True``: Chinese "以上" includes the number itself, Criminal Law Article 99)
and with ``>`` when it says "over" (``inclusive=False``).

A threshold left ``None`` is not set: :meth:`ThresholdPack.require_values` refuses to
assess until every one is. That is how a template ships with no default numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from riskscore.exceptions import ParameterError

__all__ = [
    "Assessment",
    "Criterion",
    "ThresholdPack",
    "ThresholdsNotSetError",
    "Tier",
]

#: The tier of a case that reaches no tier.
NONE_TIER = "none"


class ThresholdsNotSetError(ParameterError):
    """A threshold pack has statutory values left unset, so it refuses to run.

    The message names every missing value (``tier.criterion``) and how to set them.
    """


@dataclass(frozen=True)
class Criterion:
    """One measurable criterion of an offence.

    Parameters
    ----------
    name : str
        Identifier, e.g. ``"illegal_business_amount"``.
    unit : str
        Unit of the value, e.g. ``"CNY"``, ``"pieces"``, ``"hits"``.
    text_en, text_zh : str
        What the criterion measures, in English and Chinese.
    """

    name: str
    unit: str
    text_en: str
    text_zh: str


@dataclass(frozen=True)
class Tier:
    """One level of seriousness and the value of each criterion that reaches it.

    Parameters
    ----------
    name : str
        Identifier, e.g. ``"serious"``.
    text_en, text_zh : str
        The statutory words, e.g. "other serious circumstances" / "其他严重情节".
    thresholds : mapping of str to float or None
        Criterion name -> the value that reaches this tier; ``None`` = not set yet.
    half_of_two : bool
        Whether two or more criteria each at half their value also reach this tier.
    """

    name: str
    text_en: str
    text_zh: str
    thresholds: Mapping[str, float | None] = field(default_factory=dict)
    half_of_two: bool = False


@dataclass(frozen=True)
class Assessment:
    """What :meth:`ThresholdPack.assess` found for one set of values.

    Parameters
    ----------
    tier : str
        The highest tier reached, or ``"none"``.
    basis : str
        ``"criterion"`` (one criterion reached the tier), ``"half_of_two"`` or ``"none"``.
    basis_criteria : tuple of str
        The criteria the basis rests on.
    """

    tier: str
    basis: str
    basis_criteria: tuple[str, ...]


@dataclass(frozen=True)
class ThresholdPack:
    """A jurisdiction's thresholds for one offence, declared as data.

    Parameters
    ----------
    name : str
        Identifier, e.g. ``"cn_article_217_online_works"``.
    version : str
        Which text the values come from (e.g. the interpretation and its date).
    jurisdiction : str
        E.g. ``"CN"``.
    title_en, title_zh : str
        The offence, in English and Chinese.
    sources : tuple of str
        Citations of the texts the values come from.
    criteria : tuple of Criterion
    tiers : tuple of Tier
        From the mildest to the most serious.
    inclusive : bool, default True
        ``True``: a value reaches a threshold when ``>=`` it ("or more", "以上");
        ``False``: only when ``>`` it ("over").

    Examples
    --------
    >>> pack = ThresholdPack(
    ...     name="demo", version="1", jurisdiction="XX", title_en="t", title_zh="t",
    ...     sources=(), criteria=(Criterion("amount", "CNY", "amount", "金额"),
    ...                           Criterion("pieces", "pieces", "pieces", "件数")),
    ...     tiers=(Tier("serious", "serious", "严重", {"amount": 100.0, "pieces": 10},
    ...                 half_of_two=True),))
    >>> pack.assess({"amount": 100.0, "pieces": 0})
    Assessment(tier='serious', basis='criterion', basis_criteria=('amount',))
    >>> pack.assess({"amount": 60.0, "pieces": 5})
    Assessment(tier='serious', basis='half_of_two', basis_criteria=('amount', 'pieces'))
    >>> pack.assess({"amount": 60.0, "pieces": 4}).tier
    'none'
    """

    name: str
    version: str
    jurisdiction: str
    title_en: str
    title_zh: str
    sources: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    tiers: tuple[Tier, ...]
    inclusive: bool = True

    def criterion(self, name: str) -> Criterion:
        """Return the criterion called ``name``."""
        for c in self.criteria:
            if c.name == name:
                return c
        raise ParameterError(
            f"pack '{self.name}' has no criterion {name!r}; its criteria are "
            f"{[c.name for c in self.criteria]}"
        )

    def tier(self, name: str) -> Tier:
        """Return the tier called ``name``."""
        for t in self.tiers:
            if t.name == name:
                return t
        raise ParameterError(
            f"pack '{self.name}' has no tier {name!r}; its tiers are {[t.name for t in self.tiers]}"
        )

    def missing_values(self) -> list[str]:
        """``tier.criterion`` of every threshold not set (``None``) or not a number > 0."""
        out = []
        for t in self.tiers:
            for c in self.criteria:
                v = t.thresholds.get(c.name)
                if not _is_positive(v):
                    out.append(f"{t.name}.{c.name}")
        return out

    def require_values(self, how_to_set: str) -> None:
        """Raise :class:`ThresholdsNotSetError` unless every threshold is set.

        Parameters
        ----------
        how_to_set : str
            The fix to print, e.g. the call that sets the values.
        """
        missing = self.missing_values()
        if missing:
            raise ThresholdsNotSetError(
                f"pack '{self.name}' has no statutory values for {', '.join(missing)} "
                f"({len(missing)} missing); it ships without numbers on purpose, because "
                "the current values are set by interpretations that change. Look up the "
                f"values in force for your case and set them: {how_to_set}"
            )

    def reaches(self, value: float, threshold: float) -> bool:
        """Whether ``value`` reaches ``threshold`` (``>=`` or ``>`` by :attr:`inclusive`)."""
        return value >= threshold if self.inclusive else value > threshold

    def assess(self, values: Mapping[str, float | None]) -> Assessment:
        """Return the highest tier the values reach and on what basis.

        Criteria whose value is ``None`` (not assessed: no data) never count.
        """
        self.require_values("pass a pack with every threshold set")
        best = Assessment(NONE_TIER, "none", ())
        for t in self.tiers:
            full = []
            half = []
            for c in self.criteria:
                v = values.get(c.name)
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    continue
                limit = float(t.thresholds[c.name])  # type: ignore[arg-type]
                if self.reaches(float(v), limit):
                    full.append(c.name)
                if self.reaches(float(v), limit / 2.0):
                    half.append(c.name)
            if full:
                best = Assessment(t.name, "criterion", tuple(full))
            elif t.half_of_two and len(half) >= 2:
                best = Assessment(t.name, "half_of_two", tuple(half))
        return best


def _is_positive(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not math.isnan(value) and value > 0
