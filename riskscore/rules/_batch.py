"""Decision columns for the batch scorer (``riskscore score --rules``).

The batch writes flat files (CSV or Parquet), so the lists of :meth:`RuleSet.decide_many`
become strings there: ``rules_fired`` joins rule names with ``;`` (names never hold one)
and ``rule_reasons`` joins the fired rules' reasons with `` | ``. The model's own reasons
stay in the ``reason_<k>_*`` columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from riskscore.rules._errors import RuleError
from riskscore.rules._ruleset import MODEL_OUTPUTS

if TYPE_CHECKING:
    from riskscore.rules._ruleset import RuleSet

__all__ = ["DECISION_COLUMNS", "add_decisions", "check_batch_columns", "empty_decisions"]

#: Columns the batch output gains with a rule set.
DECISION_COLUMNS: tuple[str, ...] = (
    "action",
    "decided_by",
    "rules_fired",
    "rule_reasons",
    "rule_set",
)


def check_batch_columns(rules: RuleSet, available: Iterable[str]) -> None:
    """Refuse, before any work, a rule set reading columns a batch cannot supply.

    ``available``: the feature columns the batch builds. Model outputs are always there.

    Examples
    --------
    >>> from riskscore.rules import RuleSet
    >>> rules = RuleSet.from_dict({"name": "d", "version": "1", "columns": {"tier": "string"},
    ...     "rules": [{"name": "gold", "when": "tier = 'gold'", "action": "allow",
    ...                "reason": {"en": "Gold", "zh": "金牌"}}]})
    >>> check_batch_columns(rules, ["account__age_days"])
    Traceback (most recent call last):
    ...
    riskscore.rules._errors.RuleError: rule set d@1 reads column(s) a batch run ...
    """
    have = set(available) | set(MODEL_OUTPUTS)
    missing = [c for c in rules.needed_columns if c not in have]
    if missing:
        raise RuleError(
            f"rule set {rules.label} reads column(s) a batch run cannot supply: {missing} "
            "(declared columns are not built from the marketplace tables); fix: use a rule "
            "set without them for `riskscore score --rules`, or build the frame yourself "
            "and call RuleSet.decide_many"
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
