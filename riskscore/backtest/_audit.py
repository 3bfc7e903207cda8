"""The backtest on the random-audit sample: the unbiased figures next to all labels.

Almost every label follows a review the current model or rules triggered, so a
backtest's precision and recall on all labels (unlabelled = negative) are measured on
the sample the current policy chose: a rule that finds shops nobody reviewed looks
worse than it is. When the labels carry a random audit (``labels.source ==
"random_audit"`` with ``selection_probability``), :func:`audit_table` puts, per policy,
precision, recall, flag rate and prevalence on the audit sample — inverse-probability
weighted, with a bootstrap interval over audited sellers
(:func:`riskscore.modeling.audit_report`) — next to the same figures on all labels,
which are marked as selected by the current policy. Without audit labels it returns an
empty table and a note saying so; it never fails for their absence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

__all__ = ["AUDIT_COLUMNS", "NO_AUDIT", "audit_table"]

#: Columns of :func:`audit_table`, in order.
AUDIT_COLUMNS: tuple[str, ...] = (
    "policy",
    "metric",
    "audit",
    "audit_lo",
    "audit_hi",
    "all_labels",
    "n_audited",
    "audited_alerts",
)
#: Start of the note when there is no audit sample to report on.
NO_AUDIT = "no audit sample"


def _labels(tables: Mapping[str, Any]) -> pd.DataFrame | None:
    if "labels" not in tables:
        return None
    frame = nw.from_native(tables["labels"])
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    return frame.to_pandas()


def audit_table(
    tables: Mapping[str, Any],
    rows: pd.DataFrame,
    alerts: Mapping[str, np.ndarray],
    *,
    entity: str,
    target: str,
    cutoffs: Sequence[Any],
    horizon: str | pd.Timedelta,
    label_delay: str | pd.Timedelta,
    n_bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[pd.DataFrame, str]:
    """Per policy, rates on the random-audit sample next to the rates on all labels.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        The backtest's tables (``labels`` with ``source`` and ``selection_probability``
        for an audit sample).
    rows : pandas.DataFrame
        ``entity_id``, ``cutoff``, ``label`` per (entity, cutoff), as the backtest holds.
    alerts : mapping of str to array of bool
        Each policy's alerts, aligned with ``rows``.
    entity, target : str
    cutoffs : sequence of datetime-like
    horizon, label_delay : str or Timedelta
        The label window, as in the backtest.
    n_bootstrap : int, default 1000
        Resamples of audited sellers for the interval (0: no interval).
    level : float, default 0.95
    seed : int, default 0

    Returns
    -------
    (pandas.DataFrame, str)
        The table (columns :data:`AUDIT_COLUMNS`, one row per policy and metric;
        ``audited_alerts`` is the number of audited rows the policy alerted on) and a
        note: what the figures are, or why there are none (it starts with
        :data:`NO_AUDIT`, and the table is empty).

    Raises
    ------
    TrainingError
        When ``random_audit`` rows lack a selection probability in (0, 1].

    Examples
    --------
    >>> labels = pd.DataFrame({"seller_id": ["S1", "S2", "S3"], "listing_id": [None] * 3,
    ...     "label": ["fraud"] * 3, "decided_at": pd.to_datetime(["2024-02-10"] * 3),
    ...     "outcome": ["confirmed", "cleared", "confirmed"],
    ...     "source": ["random_audit", "random_audit", "model"],
    ...     "selection_probability": [0.5, 0.5, None]})
    >>> rows = pd.DataFrame({"entity_id": ["S1", "S2", "S3", "S4"],
    ...     "cutoff": pd.Timestamp("2024-02-01"), "label": [1, 0, 1, 0]})
    >>> alerts = {"band>=high": np.array([True, True, False, False])}
    >>> table, note = audit_table({"labels": labels}, rows, alerts, entity="seller",
    ...     target="fraud", cutoffs=["2024-02-01"], horizon="60D", label_delay="0D",
    ...     n_bootstrap=0)
    >>> table.set_index("metric").loc["precision", ["audit", "all_labels"]].tolist()
    [0.5, 0.5]
    >>> audit_table({"labels": labels.drop(columns="source")}, rows, alerts,
    ...     entity="seller", target="fraud", cutoffs=["2024-02-01"], horizon="60D",
    ...     label_delay="0D")[1][:15]
    'no audit sample'
    """
    from riskscore.modeling._audit import audit_by_flag, audit_sample

    empty = pd.DataFrame(columns=list(AUDIT_COLUMNS))
    if entity != "seller":
        return empty, f"{NO_AUDIT}: the random audit reviews sellers, not {entity}s"
    labels = _labels(tables)
    needed = {"source", "selection_probability"}
    if labels is None or not needed <= set(labels.columns):
        return empty, (
            f"{NO_AUDIT}: the labels carry no 'source' / 'selection_probability' columns, "
            "so every figure is measured on the sellers the current policy chose to review"
        )
    if not (labels["source"] == "random_audit").any():
        return empty, (
            f"{NO_AUDIT}: the labels hold no 'random_audit' rows, so every figure is "
            "measured on the sellers the current policy chose to review"
        )
    sample = audit_sample(
        {**tables, "labels": labels},
        target,
        cutoffs,
        horizon=horizon,
        label_delay=label_delay,
    )
    keys = rows[["entity_id", "cutoff"]].assign(cutoff=pd.to_datetime(rows["cutoff"]))
    scored = sample.merge(keys, on=["entity_id", "cutoff"], how="inner")
    if scored.empty:
        return empty, (
            f"{NO_AUDIT}: no seller the random audit reviewed in the cutoffs' label "
            f"windows was among the backtest's rows ({len(sample)} audit review(s) in "
            "those windows)"
        )
    table = audit_by_flag(
        keys, rows["label"].to_numpy(), alerts, sample, name="policy",
        n_bootstrap=n_bootstrap, level=level, seed=seed,
    )[list(AUDIT_COLUMNS)]  # fmt: skip
    note = (
        f"random-audit sample: {len(scored)} audited seller-cutoff(s), inverse-probability "
        f"weighted, {level:.0%} bootstrap intervals over audited sellers; the all-labels "
        "figures are measured on the sellers the current policy chose to review (biased)"
    )
    return table, note
