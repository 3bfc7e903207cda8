"""The case file's summary page (``case.md``), wholly in the case's language.

Every word comes from :mod:`riskscore.explain._translations` (``CASE_LABELS`` for the
page, ``ACTION_NAMES`` and ``BAND_NAMES`` for the decision), so a Chinese case file reads
in Chinese from its first line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from riskscore.explain._evidence_render import _md_escape, label
from riskscore.explain._translations import ACTION_NAMES, BAND_NAMES, CASE_LABELS, word

__all__ = ["file_key", "summary_markdown"]


def file_key(name: str) -> str:
    """Return the :data:`CASE_LABELS` key describing a case file (by its path).

    Examples
    --------
    >>> file_key("records/orders.csv"), file_key("model/model.txt"), file_key("rules/r.yaml")
    ('file_records_orders_csv', 'file_model', 'file_rules')
    """
    top = name.split("/", 1)[0]
    if top in ("model", "rules") and "/" in name:
        return f"file_{top}"
    return "file_" + name.replace("/", "_").replace(".", "_")


def summary_markdown(decision: Mapping[str, Any], files: Sequence[str], language: str) -> str:
    """Return ``case.md``: the decision, the model and rule set, and what each file holds.

    Examples
    --------
    >>> decision = {"seller_id": "S1", "as_of": "2024-07-01T00:00:00", "score": 0.91,
    ...     "risk_score": 930.0, "band": "critical", "action": "block",
    ...     "decided_by": "very_high", "rules_fired": ["very_high"],
    ...     "rule_set": "demo@1", "model": {"name": "m", "version": "3"}, "legal": None}
    >>> text = summary_markdown(decision, ["case.md", "decision.json"], "zh")
    >>> print(text.splitlines()[0])
    # 卖家案件材料 S1
    >>> "- **处置**: 封禁" in text, "- **风险等级**: 极高" in text
    (True, True)
    """

    def lab(key: str) -> str:
        return word(CASE_LABELS, language, key)

    band = decision.get("band")
    decided_by = str(decision.get("decided_by") or "")
    if decided_by.startswith("band:"):
        shown_by = lab("decided_by_band").format(band=word(BAND_NAMES, language, decided_by[5:]))
    elif decided_by == "default":
        shown_by = lab("decided_by_default")
    else:
        shown_by = decided_by
    model = decision.get("model") or {}
    model_text = label(language, "model_version").format(
        name=model.get("name") or label(language, "model"), version=model.get("version")
    )
    fired = ", ".join(decision.get("rules_fired") or []) or lab("no_rules_fired")
    lines = [
        f"# {lab('title')} {_md_escape(str(decision['seller_id']))}",
        "",
        f"## {lab('decision')}",
        "",
        f"- **{lab('action')}**: {word(ACTION_NAMES, language, str(decision['action']))}",
        f"- **{lab('decided_by')}**: {_md_escape(shown_by)}",
        f"- **{lab('rules_fired')}**: {_md_escape(fired)}",
        f"- **{label(language, 'score')}**: {float(decision['score']):.3f}",
        f"- **{label(language, 'risk_score')}**: {float(decision['risk_score']):.0f}",
    ]
    if band is not None:
        lines.append(f"- **{label(language, 'band')}**: {word(BAND_NAMES, language, str(band))}")
    rule_set = decision.get("rule_set") or lab("no_rule_set")
    lines += [
        f"- **{label(language, 'model')}**: {_md_escape(model_text)}",
        f"- **{lab('rule_set')}**: {_md_escape(str(rule_set))}",
        f"- **{lab('legal')}**: {_md_escape(str(decision.get('legal') or lab('no_legal')))}",
        f"- **{label(language, 'as_of')}**: {decision['as_of']}",
        "",
        f"## {lab('files')}",
        "",
        f"| {lab('file')} | {lab('content')} |",
        "|---|---|",
    ]
    described: set[str] = set()
    for name in files:
        key = file_key(name)
        if key in ("file_model", "file_rules"):
            if key in described:
                continue
            described.add(key)
            name = name.split("/", 1)[0] + "/"
        lines.append(f"| {_md_escape(name)} | {lab(key)} |")
    lines += ["", lab("reproduce"), ""]
    return "\n".join(lines)
