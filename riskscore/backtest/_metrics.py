"""Alert metrics of a backtest, per cutoff and overall, from one row per (entity, cutoff).

The rows frame holds ``entity_id``, ``cutoff``, ``label`` (0/1: a label of the target
decided in the cutoff's label window), ``value`` (the entity's order amount from the
cutoff to the end of its label window), ``decided_at`` (the entity's first target
decision at or after the cutoff, NaT when none) and, per policy, a bool alert column.

Definitions (per cutoff; "overall" pools every (entity, cutoff) row):

* ``alerts``: rows alerted; ``new_alerts``: alerted here but not at the previous cutoff.
* ``alerts_per_day``: ``alerts`` over the days the cutoff stands for (until the next
  cutoff; the last one takes the previous gap, a lone cutoff the horizon): the review
  load if the alerts of a cutoff are worked through before the next one.
* ``precision`` = true positives / alerts; ``recall`` = true positives / positives;
  ``value_recall`` = value of the true positives / value of the positives (GMV caught).
* ``lead_days_median``: per cutoff, the median days from the cutoff to the decision over
  its true positives. Overall, from each caught positive entity's **first** alerting
  cutoff to its decision (``entity_recall``: the share of positive entities alerted at
  one cutoff or more before their decision).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["DAY", "cutoff_table", "overall_table", "period_days", "rules_table"]

DAY = pd.Timedelta("1D")


def period_days(
    cutoffs: Sequence[pd.Timestamp], horizon: pd.Timedelta
) -> dict[pd.Timestamp, float]:
    """Days each cutoff stands for: until the next one (the last: the previous gap).

    Examples
    --------
    >>> days = period_days(pd.to_datetime(["2024-05-01", "2024-06-01"]), pd.Timedelta("60D"))
    >>> list(days.values())
    [31.0, 31.0]
    >>> list(period_days(pd.to_datetime(["2024-05-01"]), pd.Timedelta("60D")).values())
    [60.0]
    """
    ordered = sorted(pd.Timestamp(c) for c in cutoffs)
    gaps = [(b - a) / DAY for a, b in itertools.pairwise(ordered)]
    if not gaps:
        return {ordered[0]: horizon / DAY} if ordered else {}
    gaps.append(gaps[-1])
    return dict(zip(ordered, (float(g) for g in gaps), strict=True))


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")


def _days_to_decision(rows: pd.DataFrame) -> pd.Series:
    return (rows["decided_at"] - rows["cutoff"]).dt.total_seconds() / 86400.0


def cutoff_table(
    rows: pd.DataFrame, alerts: Mapping[str, np.ndarray], periods: Mapping[pd.Timestamp, float]
) -> pd.DataFrame:
    """Return one row per (policy, cutoff) with the alert metrics of the module docstring.

    Examples
    --------
    >>> rows = pd.DataFrame({"entity_id": ["a", "b", "c", "d"],
    ...     "cutoff": pd.to_datetime(["2024-06-01"] * 4), "label": [1, 1, 0, 0],
    ...     "value": [100.0, 300.0, 50.0, 0.0],
    ...     "decided_at": pd.to_datetime(["2024-06-11", "2024-07-01", None, None])})
    >>> table = cutoff_table(rows, {"p": np.array([True, False, True, False])},
    ...                      {pd.Timestamp("2024-06-01"): 30.0})
    >>> cols = ["alerts", "precision", "recall", "value_recall", "lead_days_median"]
    >>> table.loc[0, cols].tolist()
    [2.0, 0.5, 0.5, 0.25, 10.0]
    """
    out = []
    label = rows["label"].to_numpy(dtype=bool)
    value = rows["value"].to_numpy(dtype="float64")
    days = _days_to_decision(rows).to_numpy(dtype="float64")
    cut = rows["cutoff"].to_numpy()
    entity = rows["entity_id"].to_numpy(dtype=object)
    moments = sorted(pd.Timestamp(c) for c in pd.unique(rows["cutoff"]))
    for name, alert in alerts.items():
        previous: set[object] = set()
        for moment in moments:
            here = cut == np.datetime64(moment)
            a, y, v = alert[here], label[here], value[here]
            tp = a & y
            ids = set(entity[here][a])
            out.append(
                {
                    "policy": name,
                    "cutoff": moment,
                    "entities": int(here.sum()),
                    "positives": int(y.sum()),
                    "alerts": int(a.sum()),
                    "new_alerts": len(ids - previous),
                    "alerts_per_day": _ratio(a.sum(), periods[moment]),
                    "true_positives": int(tp.sum()),
                    "precision": _ratio(tp.sum(), a.sum()),
                    "recall": _ratio(tp.sum(), y.sum()),
                    "value_positives": float(v[y].sum()),
                    "value_caught": float(v[tp].sum()),
                    "value_recall": _ratio(v[tp].sum(), v[y].sum()),
                    "lead_days_median": (
                        float(np.median(days[here][tp])) if tp.any() else float("nan")
                    ),
                }
            )
            previous = ids
    return pd.DataFrame(out)


def _first_alert_lead(rows: pd.DataFrame, alert: np.ndarray) -> tuple[int, int, np.ndarray]:
    """``(positive entities, caught entities, lead days of each caught entity)``."""
    positive = pd.unique(rows.loc[rows["label"].to_numpy(dtype=bool), "entity_id"])
    hit = rows.loc[alert & rows["decided_at"].notna().to_numpy(), ["entity_id", "cutoff"]]
    hit = hit[hit["entity_id"].isin(positive)]
    if hit.empty:
        return len(positive), 0, np.empty(0)
    first = hit.groupby("entity_id", sort=False)["cutoff"].min()
    decided = (
        rows[rows["entity_id"].isin(first.index) & rows["label"].astype(bool)]
        .groupby("entity_id", sort=False)["decided_at"]
        .min()
    )
    gap = decided - first.reindex(decided.index)
    lead = gap.dt.total_seconds().to_numpy(dtype="float64") / 86400.0
    return len(positive), len(decided), lead


def overall_table(
    rows: pd.DataFrame, alerts: Mapping[str, np.ndarray], periods: Mapping[pd.Timestamp, float]
) -> pd.DataFrame:
    """Return one row per policy with the pooled metrics and the first-alert lead time.

    Examples
    --------
    >>> rows = pd.DataFrame({"entity_id": ["a", "a", "b"],
    ...     "cutoff": pd.to_datetime(["2024-05-01", "2024-06-01", "2024-06-01"]),
    ...     "label": [0, 1, 0], "value": [0.0, 80.0, 20.0],
    ...     "decided_at": pd.to_datetime(["2024-06-21", "2024-06-21", None])})
    >>> table = overall_table(rows, {"p": np.array([True, False, True])},
    ...     {pd.Timestamp("2024-05-01"): 31.0, pd.Timestamp("2024-06-01"): 31.0})
    >>> cols = ["alerts", "precision", "recall", "entity_recall", "lead_days_median"]
    >>> table.loc[0, cols].tolist()
    [2.0, 0.0, 0.0, 1.0, 51.0]
    """
    label = rows["label"].to_numpy(dtype=bool)
    value = rows["value"].to_numpy(dtype="float64")
    total_days = float(sum(periods.values()))
    out = []
    for name, alert in alerts.items():
        tp = alert & label
        n_pos, n_caught, lead = _first_alert_lead(rows, alert)
        out.append(
            {
                "policy": name,
                "cutoffs": len(periods),
                "rows": len(rows),
                "positives": int(label.sum()),
                "alerts": int(alert.sum()),
                "alerts_per_day": _ratio(alert.sum(), total_days),
                "true_positives": int(tp.sum()),
                "precision": _ratio(tp.sum(), alert.sum()),
                "recall": _ratio(tp.sum(), label.sum()),
                "value_positives": float(value[label].sum()),
                "value_caught": float(value[tp].sum()),
                "value_recall": _ratio(value[tp].sum(), value[label].sum()),
                "positive_entities": n_pos,
                "entities_caught": n_caught,
                "entity_recall": _ratio(n_caught, n_pos),
                "lead_days_median": float(np.median(lead)) if lead.size else float("nan"),
                "lead_days_mean": float(lead.mean()) if lead.size else float("nan"),
            }
        )
    return pd.DataFrame(out)


def rules_table(
    rows: pd.DataFrame,
    alone: Mapping[str, np.ndarray],
    fired: Mapping[str, Mapping[str, tuple[int, int]]],
    actions: Mapping[str, Mapping[str, str]],
) -> pd.DataFrame:
    """Return one row per (rule-set policy, rule): how often it fired and alerted alone.

    ``alone[policy]`` holds per row the rule that alone produced the alert (or None);
    ``fired[policy][rule]`` is ``(rows fired, true positives among them)``;
    ``actions[policy][rule]`` the rule's action.

    Examples
    --------
    >>> rows = pd.DataFrame({"label": [1, 0, 0], "value": [10.0, 5.0, 0.0]})
    >>> table = rules_table(rows, {"p": np.array(["r1", "r1", None], dtype=object)},
    ...     {"p": {"r1": (3, 1), "r2": (1, 0)}}, {"p": {"r1": "review", "r2": "allow"}})
    >>> table[["rule", "fired", "alerts_alone", "true_positives_alone"]].values.tolist()
    [['r1', 3, 2, 1], ['r2', 1, 0, 0]]
    """
    label = rows["label"].to_numpy(dtype=bool)
    value = rows["value"].to_numpy(dtype="float64")
    out = []
    for name, by_rule in fired.items():
        who = alone[name]
        for rule, (n_fired, n_fired_tp) in by_rule.items():
            mine = who == rule
            out.append(
                {
                    "policy": name,
                    "rule": rule,
                    "action": actions[name][rule],
                    "fired": int(n_fired),
                    "fired_true_positives": int(n_fired_tp),
                    "alerts_alone": int(mine.sum()),
                    "true_positives_alone": int((mine & label).sum()),
                    "precision_alone": _ratio((mine & label).sum(), mine.sum()),
                    "value_alone": float(value[mine & label].sum()),
                }
            )
    columns = [
        "policy",
        "rule",
        "action",
        "fired",
        "fired_true_positives",
        "alerts_alone",
        "true_positives_alone",
        "precision_alone",
        "value_alone",
    ]
    return pd.DataFrame(out, columns=columns)
