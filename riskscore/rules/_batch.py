"""Decision columns for the batch scorer (``riskscore score --rules``).

The batch writes flat files (CSV or Parquet), so the lists of :meth:`RuleSet.decide_many`
become strings there: ``rules_fired`` joins rule names with ``;`` (names never hold one)
and ``rule_reasons`` joins the fired rules' reasons with `` | ``. The model's own reasons
stay in the ``reason_<k>_*`` columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from riskscore.rules._ruleset import RuleSet

__all__ = ["DECISION_COLUMNS", "add_decisions", "empty_decisions"]

#: Columns the batch output gains with a rule set.
DECISION_COLUMNS: tuple[str, ...] = (
    "action",
    "decided_by",
    "rules_fired",
    "rule_reasons",
    "rule_set",
)


def add_decisions(
    scored: pd.DataFrame, features: pd.DataFrame, rules: RuleSet, language: str
) -> pd.DataFrame:
    """Return ``scored`` with the decision columns; ``features`` rows align with it."""
    inputs = features.reset_index(drop=True)
    extra = [c for c in scored.columns if c not in inputs.columns]
    frame = pd.concat([inputs, scored[extra].reset_index(drop=True)], axis=1)
    decided = rules.decide_many(frame, language=language)
    fired = [";".join(names) for names in decided["rules_fired"]]
    texts = [
        " | ".join(reasons[: len(names)])
        for names, reasons in zip(decided["rules_fired"], decided["reasons"], strict=True)
    ]
    return scored.assign(
        action=pd.array(decided["action"].to_numpy(), dtype="str"),
        decided_by=pd.array(decided["decided_by"].to_numpy(), dtype="str"),
        rules_fired=pd.array(fired, dtype="str"),
        rule_reasons=pd.array(texts, dtype="str"),
        rule_set=pd.array(decided["rule_set"].to_numpy(), dtype="str"),
    )


def empty_decisions(scored: pd.DataFrame) -> pd.DataFrame:
    """Return a zero-row ``scored`` with the decision columns (string dtype)."""
    return scored.assign(**{c: pd.array([], dtype="str") for c in DECISION_COLUMNS})
