"""Rules beside the model: safe boolean conditions that turn scores into decisions.

A :class:`RuleSet` (a YAML or JSON file, validated against the feature catalog when it
loads) holds named, versioned rules such as ``risk_score >= 900 → block``. It decides
for one entity (:meth:`RuleSet.decide_one`, Python closures) or a whole frame
(:meth:`RuleSet.decide_many`, one DuckDB query); both give the same answer. See
``docs/rules.md`` for the language, the precedence and the NULL semantics.

Examples
--------
>>> from riskscore.rules import RuleSet
>>> rules = RuleSet.from_dict({"name": "demo", "version": "1", "rules": [
...     {"name": "very_high_score", "when": "risk_score >= 900", "action": "block",
...      "reason": {"en": "Risk score 900 or more", "zh": "风险分不低于900"}}]})
>>> d = rules.decide_one({}, scored={"risk_score": 950, "score": 0.98, "band": "critical"})
>>> d.action, d.decided_by, d.rules_fired, d.rule_set
('block', 'very_high_score', ('very_high_score',), 'demo@1')
"""

from __future__ import annotations

from riskscore.rules._decision import ACTIONS, DEFAULT_BAND_ACTIONS, Decision
from riskscore.rules._errors import RuleError
from riskscore.rules._log import DecisionLog, read_log
from riskscore.rules._ruleset import MODEL_OUTPUTS, Rule, RuleSet

__all__ = [
    "ACTIONS",
    "DEFAULT_BAND_ACTIONS",
    "MODEL_OUTPUTS",
    "Decision",
    "DecisionLog",
    "Rule",
    "RuleError",
    "RuleSet",
    "read_log",
]
