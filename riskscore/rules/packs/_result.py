"""The result of a threshold pack for one seller: :class:`ThresholdResult`.

It says which criteria are met, by how much (value, threshold, ratio), the tier reached
and on what basis, and lists the confirmed orders and listings behind the numbers. A
"projected if confirmed" figure, when asked for, sits beside it and is marked as not
evidence. ``to_dict`` is JSON-ready; ``to_markdown`` reads in English or Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from riskscore.exceptions import ParameterError

__all__ = ["CriterionResult", "Projection", "ThresholdResult"]

Language = Literal["en", "zh"]

#: How many supporting ids ``to_markdown`` shows (``to_dict`` has all of them).
N_SHOWN = 20

_TIER_TEXT = {
    "en": {
        "none": "no tier reached",
        "serious": "serious circumstances",
        "especially_serious": "especially serious circumstances",
    },
    "zh": {"none": "未达到", "serious": "情节严重", "especially_serious": "情节特别严重"},
}
#: Units in Chinese pages (a unit not listed is shown as is).
_UNIT_ZH = {"CNY": "元", "pieces": "件", "hits": "次", "members": "人"}
_WORDS = {
    "en": {
        "title": "Legal threshold",
        "seller": "Seller",
        "period": "Period",
        "pack": "Pack",
        "tier": "Tier reached",
        "basis": "Basis",
        "criterion": "criterion",
        "value": "value",
        "threshold": "threshold (serious)",
        "ratio": "ratio",
        "met": "met",
        "half": "at half",
        "yes": "yes",
        "no": "no",
        "not_assessed": "not assessed",
        "orders": "Confirmed orders",
        "listings": "Confirmed listings",
        "rates": "Currency rates to CNY",
        "projection": "Projected if confirmed (NOT EVIDENCE)",
        "projection_note": (
            "Counts model-flagged listings as if they were confirmed. Not evidence: only "
            "confirmed items (labels, test buys, rights-holder confirmations) count above."
        ),
        "sources": "Sources",
        "disclaimer": (
            "Not legal advice. This pack must be reviewed by counsel before use; the values "
            "are the pack's reading of the sources, and only confirmed items are counted."
        ),
        "none_basis": "no criterion reaches a tier",
        "criterion_basis": "reached by a criterion on its own: {names}",
        "half_basis": "half of two or more criteria: {names}",
        "more": "and {n} more",
    },
    "zh": {
        "title": "立案标准",
        "seller": "店铺",
        "period": "期间",
        "pack": "规则包",
        "tier": "达到的档次",
        "basis": "依据",
        "criterion": "标准",
        "value": "数值",
        "threshold": "门槛（严重）",
        "ratio": "比例",
        "met": "达到",
        "half": "达到一半",
        "yes": "是",
        "no": "否",
        "not_assessed": "未评估",
        "orders": "已确认的订单",
        "listings": "已确认的商品",
        "rates": "折算人民币汇率",
        "projection": "若全部确认的推算（不是证据）",
        "projection_note": (
            "把模型标记的商品当作已确认来计算。不是证据：上文只计算已确认的事项"
            "（标签、测试购买、权利人确认）。"
        ),
        "sources": "依据文件",
        "disclaimer": (
            "本结果不是法律意见。规则包使用前须经律师审核；"
            "数值是规则包对依据文件的理解，且只计算已确认的事项。"
        ),
        "none_basis": "没有任何标准达到档次",
        "criterion_basis": "{names}单独达到档次",
        "half_basis": "两项以上标准分别达到一半以上：{names}",
        "more": "另有 {n} 个",
    },
}


@dataclass(frozen=True)
class CriterionResult:
    """One criterion's value against its thresholds.

    Parameters
    ----------
    name, unit, text_en, text_zh : str
        The criterion (see :class:`~riskscore.rules.packs.Criterion`).
    value : float or None
        The confirmed value; ``None`` when not assessed (no data given for it).
    thresholds : dict of str to float
        Tier name -> the value that reaches that tier.
    met : str
        The highest tier this criterion reaches alone, or ``"none"``.
    half_met : bool
        Whether the value reaches half of the first tier's value.
    ratio : float or None
        ``value / thresholds[first tier]``.
    source : str
        Where the value comes from (``orders``, ``listing_views``, ``given``, ...).
    """

    name: str
    unit: str
    text_en: str
    text_zh: str
    value: float | None
    thresholds: dict[str, float]
    met: str
    half_met: bool
    ratio: float | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "name": self.name,
            "unit": self.unit,
            "text_en": self.text_en,
            "text_zh": self.text_zh,
            "value": self.value,
            "thresholds": dict(self.thresholds),
            "met": self.met,
            "half_met": self.half_met,
            "ratio": self.ratio,
            "source": self.source,
        }


@dataclass(frozen=True)
class Projection:
    """What the values would be if the model-flagged listings were confirmed. Not evidence.

    Parameters
    ----------
    values : dict of str to float or None
        Criterion name -> projected value.
    tier : str
        The tier those values would reach.
    basis : str
        As :attr:`ThresholdResult.basis`.
    flagged_listings : tuple of str
        The flagged (unconfirmed) listings counted in.
    """

    values: dict[str, float | None]
    tier: str
    basis: str
    flagged_listings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (``is_evidence`` is always False)."""
        return {
            "is_evidence": False,
            "values": dict(self.values),
            "tier": self.tier,
            "basis": self.basis,
            "flagged_listings": list(self.flagged_listings),
        }


@dataclass(frozen=True)
class ThresholdResult:
    """The legal-threshold result of one seller over one period.

    Parameters
    ----------
    pack, pack_version, jurisdiction : str
        The pack that produced it.
    title_en, title_zh : str
        The offence.
    seller_id : str
    start, end : str
        The period ``[start, end)``, ISO 8601.
    tier : str
        ``"none"``, ``"serious"`` or ``"especially_serious"`` (the pack's tier names).
    basis : str
        ``"criterion"``, ``"half_of_two"`` or ``"none"``.
    basis_criteria : tuple of str
        The criteria the basis rests on.
    criteria : tuple of CriterionResult
    order_ids, listing_ids : tuple of str
        The confirmed orders and listings counted.
    rates : dict of str to float
        Currency -> CNY rate used for the orders counted.
    sources : tuple of str
        Citations.
    inclusive : bool
        Whether thresholds were read as "or more" (``>=``) or "over" (``>``).
    projection : Projection or None
        The "projected if confirmed" figure, when flagged listings were given.
    """

    pack: str
    pack_version: str
    jurisdiction: str
    title_en: str
    title_zh: str
    seller_id: str
    start: str
    end: str
    tier: str
    basis: str
    basis_criteria: tuple[str, ...]
    criteria: tuple[CriterionResult, ...]
    order_ids: tuple[str, ...]
    listing_ids: tuple[str, ...]
    rates: dict[str, float]
    sources: tuple[str, ...]
    inclusive: bool
    projection: Projection | None = None

    @property
    def met(self) -> tuple[str, ...]:
        """Names of the criteria that reach a tier on their own."""
        return tuple(c.name for c in self.criteria if c.met != "none")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of everything in the result.

        Examples
        --------
        >>> from riskscore.rules.packs import cn_article_217_online_works as pack
        >>> import pandas as pd
        >>> tables = pack.example_tables()
        >>> result = pack.evaluate(tables, "S1", "2024-01-01", "2025-01-01")
        >>> d = result.to_dict()
        >>> d["tier"], d["basis"], d["criteria"][0]["value"]
        ('serious', 'criterion', 60000.0)
        """
        return {
            "pack": self.pack,
            "pack_version": self.pack_version,
            "jurisdiction": self.jurisdiction,
            "title_en": self.title_en,
            "title_zh": self.title_zh,
            "seller_id": self.seller_id,
            "start": self.start,
            "end": self.end,
            "tier": self.tier,
            "basis": self.basis,
            "basis_criteria": list(self.basis_criteria),
            "criteria": [c.to_dict() for c in self.criteria],
            "order_ids": list(self.order_ids),
            "listing_ids": list(self.listing_ids),
            "rates": dict(self.rates),
            "sources": list(self.sources),
            "inclusive": self.inclusive,
            "projection": None if self.projection is None else self.projection.to_dict(),
            "is_legal_advice": False,
        }

    def basis_text(self, language: Language = "en") -> str:
        """Return the basis in words, e.g. "half of two or more criteria: hits, works"."""
        w = _words(language)
        names = [self._criterion_text(n, language) for n in self.basis_criteria]
        sep = "、" if language == "zh" else ", "
        if self.basis == "half_of_two":
            return w["half_basis"].format(names=sep.join(names))
        if self.basis == "criterion":
            return w["criterion_basis"].format(names=sep.join(names))
        return w["none_basis"]

    def to_markdown(self, language: Language = "en") -> str:
        """Render the result as Markdown in English (``"en"``) or Chinese (``"zh"``).

        Examples
        --------
        >>> from riskscore.rules.packs import cn_article_217_online_works as pack
        >>> result = pack.evaluate(pack.example_tables(), "S1", "2024-01-01", "2025-01-01")
        >>> print(result.to_markdown().splitlines()[0])
        # Legal threshold: S1 — serious circumstances
        >>> "情节严重" in result.to_markdown("zh")
        True
        """
        w = _words(language)
        tiers = _TIER_TEXT[language]
        title = self.title_zh if language == "zh" else self.title_en
        lines = [
            f"# {w['title']}: {self.seller_id} — {tiers.get(self.tier, self.tier)}",
            "",
            f"- {w['pack']}: `{self.pack}` ({self.pack_version}, {self.jurisdiction}) — {title}",
            f"- {w['seller']}: `{self.seller_id}`",
            f"- {w['period']}: {_day(self.start)} – {_day(self.end)}",
            f"- {w['tier']}: **{tiers.get(self.tier, self.tier)}**",
            f"- {w['basis']}: {self.basis_text(language)}",
            "",
            f"| {w['criterion']} | {w['value']} | {w['threshold']} | {w['ratio']} | "
            f"{w['met']} | {w['half']} |",
            "|---|---|---|---|---|---|",
        ]
        for c in self.criteria:
            text = c.text_zh if language == "zh" else c.text_en
            unit = _UNIT_ZH.get(c.unit, c.unit) if language == "zh" else c.unit
            first = next(iter(c.thresholds.values()))
            if c.value is None:
                lines.append(f"| {text} | {w['not_assessed']} | {_num(first)} {unit} | | | |")
                continue
            lines.append(
                f"| {text} | {_num(c.value)} {unit} | {_num(first)} {unit} | "
                f"{c.ratio:.2f} | {tiers.get(c.met, c.met) if c.met != 'none' else w['no']} | "
                f"{w['yes'] if c.half_met else w['no']} |"
            )
        lines += [
            "",
            f"{w['orders']} ({len(self.order_ids)}): {_ids(self.order_ids, w)}",
            "",
            f"{w['listings']} ({len(self.listing_ids)}): {_ids(self.listing_ids, w)}",
        ]
        if self.rates:
            rates = ", ".join(f"{k} {v:g}" for k, v in sorted(self.rates.items()))
            lines += ["", f"{w['rates']}: {rates}"]
        if self.projection is not None:
            p = self.projection
            lines += [
                "",
                f"## {w['projection']}",
                "",
                w["projection_note"],
                "",
                f"- {w['tier']}: {tiers.get(p.tier, p.tier)} ({len(p.flagged_listings)} "
                "flagged listings)"
                if language == "en"
                else f"- {w['tier']}: {tiers.get(p.tier, p.tier)}（{len(p.flagged_listings)} 个"
                "被标记的商品）",
            ]
            for name, value in p.values.items():
                text = self._criterion_text(name, language)
                shown = w["not_assessed"] if value is None else _num(value)
                lines.append(f"- {text}: {shown}")
        lines += ["", f"{w['sources']}:", ""]
        lines += [f"- {s}" for s in self.sources]
        lines += ["", f"*{w['disclaimer']}*", ""]
        return "\n".join(lines)

    def _criterion_text(self, name: str, language: Language) -> str:
        for c in self.criteria:
            if c.name == name:
                return c.text_zh if language == "zh" else c.text_en
        return name


def _words(language: str) -> dict[str, str]:
    if language not in _WORDS:
        raise ParameterError(
            f"The 'language' parameter of ThresholdResult.to_markdown must be 'en' or 'zh'. "
            f"Got {language!r} instead."
        )
    return _WORDS[language]


def _day(iso: str) -> str:
    """``2024-01-01T00:00:00`` -> ``2024-01-01``; other times unchanged."""
    return iso[:10] if iso.endswith("T00:00:00") else iso


def _num(value: float) -> str:
    return f"{value:,.2f}" if value != int(value) else f"{int(value):,}"


def _ids(ids: tuple[str, ...], w: dict[str, str]) -> str:
    if not ids:
        return "—"
    shown = ", ".join(f"`{i}`" for i in ids[:N_SHOWN])
    if len(ids) > N_SHOWN:
        shown += " " + w["more"].format(n=len(ids) - N_SHOWN)
    return shown
