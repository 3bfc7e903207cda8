"""Policies: what raises an alert in a backtest, and which rule raised it alone.

A policy is either

* a **model band**: the model's band is ``band`` or higher (``high`` alerts ``high`` and
  ``critical``); or
* a **rule set** (optionally on a model's scores): the decision of
  :meth:`RuleSet.decide_many <riskscore.rules.RuleSet.decide_many>` is not ``allow``
  (``review``, ``hold`` or ``block``). With a model, the band's own action
  (``band_actions``) takes part as the rules' precedence says.

An alert is produced **by a rule alone** when that rule is the only source of a non-allow
action on the row: it fired with a non-allow action, no other non-allow rule fired, and
the model band's action is ``allow`` (or no model, or an ``override`` rule fired). Those
are the alerts the policy would lose without the rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from riskscore.backtest._errors import BacktestError

if TYPE_CHECKING:
    from riskscore.rules import RuleSet
    from riskscore.scoring import Scorer

__all__ = ["Applied", "Policy", "apply_policy", "check_policy_inputs", "make_policies"]


@dataclass(frozen=True)
class Policy:
    """One way of raising alerts: a model band, or a rule set (on a model's scores).

    Parameters
    ----------
    name : str
        Shown in every table, e.g. ``"band>=high"`` or ``"marketplace@2026.12.1"``.
    model : int or None
        Position of the model in the backtest's ``models`` (None: no model).
    rules : RuleSet or None
    band : str or None
        For a band policy, the lowest band that alerts.
    """

    name: str
    model: int | None = None
    rules: RuleSet | None = None
    band: str | None = None

    @property
    def kind(self) -> str:
        """``"band"`` or ``"rules"``."""
        return "band" if self.rules is None else "rules"


@dataclass(frozen=True)
class Applied:
    """A policy applied to the rows of one cutoff.

    ``alert`` (bool per row), ``alone`` (the rule that alone produced the alert, or None,
    per row) and ``fired`` (rule name -> rows where it fired, as a bool array).
    """

    alert: np.ndarray
    alone: np.ndarray
    fired: dict[str, np.ndarray]


def _model_label(scorer: Scorer) -> str:
    return f"{scorer.model_name}@{scorer.model_version}"


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return out


def make_policies(
    scorers: Sequence[Scorer], rulesets: Sequence[RuleSet], band: str | None
) -> list[Policy]:
    """Return the policies of a backtest, in the order tables list them.

    One band policy per model (when ``band`` is given), then one rule-set policy per rule
    set (per model and rule set when there are several models; without a model the rules
    run on features alone). Names carry the model only when there are several models.

    Examples
    --------
    >>> [p.name for p in make_policies([], [], None)]
    []
    """
    policies: list[Policy] = []
    several = len(scorers) > 1
    if band is not None:
        for i, scorer in enumerate(scorers):
            label = f"band>={band}" + (f" ({_model_label(scorer)})" if several else "")
            policies.append(Policy(label, model=i, band=band))
    for rules in rulesets:
        if not scorers:
            policies.append(Policy(rules.label, rules=rules))
        for i, scorer in enumerate(scorers):
            label = rules.label + (f" ({_model_label(scorer)})" if several else "")
            policies.append(Policy(label, model=i, rules=rules))
    names = _unique([p.name for p in policies])
    return [
        Policy(n, model=p.model, rules=p.rules, band=p.band)
        for n, p in zip(names, policies, strict=True)
    ]


def apply_policy(
    policy: Policy, frame: pd.DataFrame, bands: Sequence[str], language: str = "en"
) -> Applied:
    """Apply ``policy`` to one cutoff's ``frame`` (features, model outputs, extra columns).

    ``bands`` lists the model's bands from lowest to highest risk.

    Examples
    --------
    >>> frame = pd.DataFrame({"band": ["low", "high", "critical"]})
    >>> apply_policy(Policy("b", model=0, band="high"), frame,
    ...              ["low", "medium", "high", "critical"]).alert.tolist()
    [False, True, True]
    """
    n = len(frame)
    if policy.rules is None:
        assert policy.band is not None
        rank = {b: i for i, b in enumerate(bands)}
        levels = frame["band"].map(rank).to_numpy(dtype="float64", na_value=np.nan)
        alert = np.nan_to_num(levels, nan=-1.0) >= rank[policy.band]
        return Applied(alert, np.full(n, None, dtype=object), {})
    rules = policy.rules
    decided = rules.decide_many(frame, language=language)
    alert = (decided["action"] != "allow").to_numpy(dtype=bool)
    fired = {r.name: np.zeros(n, dtype=bool) for r in rules.rules}
    lists = decided["rules_fired"].tolist()
    for i, names in enumerate(lists):
        for name in names:
            fired[name][i] = True
    alone = _alone(rules, fired, frame, n)
    return Applied(alert, alone, fired)


def _alone(rules: RuleSet, fired: Mapping[str, np.ndarray], frame: pd.DataFrame, n: int) -> Any:
    """Per row: the one non-allow rule that alone made it an alert, else None."""
    override = np.zeros(n, dtype=bool)
    sources = np.zeros(n, dtype=np.int64)
    last = np.full(n, None, dtype=object)
    for rule in rules.rules:
        hit = fired[rule.name]
        if rule.override:
            override |= hit
        if rule.action != "allow":
            sources += hit
            last = np.where(hit, rule.name, last)
    if "band" in frame.columns:
        band_action = frame["band"].map(rules.band_actions).to_numpy(dtype=object)
        by_band = np.array([a not in (None, "allow") and a == a for a in band_action])
        sources += by_band & ~override
    out: np.ndarray = np.where(sources == 1, last, np.array(None, dtype=object))
    return out


def check_policy_inputs(rules: RuleSet, *, has_model: bool, has_columns: bool) -> None:
    """Refuse, before any work, a rule set whose inputs a backtest cannot supply."""
    from riskscore.rules import MODEL_OUTPUTS

    needed = rules.needed_columns
    outputs = [c for c in needed if c in MODEL_OUTPUTS]
    if outputs and not has_model:
        raise BacktestError(
            f"rule set {rules.label} reads model output(s) {outputs} but the backtest has "
            "no model; fix: pass models=[...] (a Scorer, a model folder or a models:/ URI), "
            "or use a rule set without them"
        )
    declared = [c for c in needed if c in rules.columns]
    if declared and not has_columns:
        raise BacktestError(
            f"rule set {rules.label} reads declared column(s) {declared}, which are not "
            "built from the marketplace tables; fix: pass columns=a function (tables, "
            "cutoff) -> DataFrame with the entity id and those columns (see "
            "docs/backtest.md), or use a rule set without them"
        )
