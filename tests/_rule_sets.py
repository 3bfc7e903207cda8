"""The small rule sets the decision tests share (one definition, several tests)."""

from __future__ import annotations

from typing import Any

#: Two rules on features the demo model reads: a cheap-price review and a complaints hold.
BASE_RULES: tuple[dict[str, Any], ...] = (
    {
        "name": "cheap",
        "when": "pricing__median_price_ratio < 1",
        "action": "review",
        "reason": {"en": "Cheap", "zh": "低价"},
    },
    {
        "name": "complaints",
        "when": "complaints__rate_30d >= 2",
        "action": "hold",
        "reason": {"en": "Many complaints", "zh": "投诉多"},
    },
)


def rule_set(name: str, version: str, *extra: dict[str, Any]) -> dict[str, Any]:
    """A rule-set mapping named ``name`` with :data:`BASE_RULES` and ``extra`` rules."""
    return {"name": name, "version": version, "rules": [*BASE_RULES, *extra]}
