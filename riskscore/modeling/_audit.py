"""Metrics on the random-audit sample: unbiased where every other label is selected.

Almost every enforcement label follows a review the current model or rules triggered, so
precision and recall computed on all labels (unlabelled = negative) measure the sample
the current policy chose: fraud it never sent to review counts as "honest". A random
audit reviews a set share of sellers whatever their score and stores the probability
each was drawn (``labels.source == "random_audit"``, ``labels.selection_probability``).
On that sample, inverse-probability weighted rates estimate the true ones:

- precision at the flag = sum(w * flagged * bad) / sum(w * flagged)
- recall = sum(w * flagged * bad) / sum(w * bad)
- flag rate and prevalence likewise,

with ``w = 1 / selection_probability`` and a bootstrap interval that resamples audited
sellers (all their cutoffs together). :func:`audit_report` puts them next to the
all-labels figures, which it marks as selected by the current policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from riskscore._validation import check_int, check_real
from riskscore.exceptions import ParameterError, TrainingError

__all__ = ["NO_AUDIT", "audit_by_flag", "audit_paired", "audit_report", "audit_sample"]

#: The rates :func:`audit_report` estimates, in its row order.
AUDIT_METRICS = ("precision", "recall", "flag_rate", "prevalence")
#: Start of every note saying there is no audit sample to report on.
NO_AUDIT = "no audit sample"


def audit_sample(
    tables: Mapping[str, Any],
    target: str,
    cutoffs: Sequence[Any],
    *,
    horizon: str | pd.Timedelta = "60D",
    label_delay: str | pd.Timedelta = "0D",
) -> pd.DataFrame:
    """Return the sellers a random audit reviewed after each cutoff, with their outcome.

    For each cutoff ``c``, the sellers with a ``random_audit`` label row decided in
    ``(c + label_delay, c + label_delay + horizon]`` (the training set's label window);
    ``label`` is 1 when that review confirmed ``target`` (and it was not reversed),
    ``weight`` is ``1 / selection_probability``. Sellers already confirmed before ``c``
    are left out, as in :func:`~riskscore.features.build_training_set`.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Marketplace tables with a ``labels`` table holding ``source`` and
        ``selection_probability`` (``outcome`` optional).
    target : {"counterfeit", "fraud"}
    cutoffs : sequence of datetime-like
    horizon, label_delay : str or Timedelta
        The label window, as in training.

    Returns
    -------
    DataFrame
        ``entity_id, cutoff, label, weight``; one row per audited seller and cutoff.

    Raises
    ------
    TrainingError
        When the labels carry no random-audit rows or no selection probability.

    Examples
    --------
    >>> labels = pd.DataFrame({"seller_id": ["S1", "S2", "S3"], "listing_id": [None] * 3,
    ...     "label": ["fraud"] * 3, "decided_at": pd.to_datetime(["2024-02-10"] * 3),
    ...     "outcome": ["confirmed", "cleared", "confirmed"],
    ...     "source": ["random_audit", "random_audit", "model"],
    ...     "selection_probability": [0.02, 0.04, None]})
    >>> audit_sample({"labels": labels}, "fraud", ["2024-02-01"])[["entity_id", "label", "weight"]]
      entity_id  label  weight
    0        S1      1    50.0
    1        S2      0    25.0
    """
    from riskscore.features._outcomes import positive_labels
    from riskscore.features._training_set import label_events

    labels = pd.DataFrame(tables["labels"]) if "labels" in tables else None
    needed = {"source", "selection_probability"}
    if labels is None or not needed <= set(labels.columns):
        raise TrainingError(
            "an audit sample needs labels with 'source' and 'selection_probability' "
            "columns (rows with source 'random_audit'); without a random audit every "
            "label was selected by the current policy and no unbiased rate exists"
        )
    audit = labels[labels["source"] == "random_audit"]
    audit = audit[audit["listing_id"].isna()] if "listing_id" in audit.columns else audit
    if audit.empty:
        raise TrainingError("the labels hold no 'random_audit' rows: nothing to estimate from")
    bad_p = audit["selection_probability"]
    wrong = bad_p.isna() | ~((bad_p > 0) & (bad_p <= 1))
    if wrong.any():
        ids = audit.loc[wrong, "seller_id"].astype(str).unique()[:3].tolist()
        raise TrainingError(
            f"labels.selection_probability: {int(wrong.sum())} random_audit row(s) without a "
            f"probability in (0, 1], e.g. seller_id {', '.join(ids)}; store the chance each "
            "seller had of being drawn"
        )
    window = pd.Timedelta(horizon)
    delay = pd.Timedelta(label_delay)
    decided = pd.to_datetime(audit["decided_at"])
    hit = audit.index.isin(positive_labels(audit).index) & (audit["label"] == target)
    reviews = pd.DataFrame(
        {
            "entity_id": audit["seller_id"].astype(str).to_numpy(),
            "decided_at": decided.to_numpy(),
            "hit": np.asarray(hit, dtype=bool),
            "weight": 1.0 / audit["selection_probability"].to_numpy(dtype=float),
        }
    )
    events = label_events(tables, "seller", target)
    parts = []
    for raw in cutoffs:
        moment = pd.Timestamp(raw)
        known = set(events.loc[events["decided_at"] < moment, "entity_id"])
        start, end = moment + delay, moment + delay + window
        inside = reviews[(reviews["decided_at"] > start) & (reviews["decided_at"] <= end)]
        inside = inside[~inside["entity_id"].isin(known)]
        one = inside.groupby("entity_id", sort=True).agg(
            label=("hit", "max"), weight=("weight", "first")
        )
        parts.append(one.reset_index().assign(cutoff=moment))
    out = pd.concat(parts, ignore_index=True)
    out["label"] = out["label"].astype(np.int64)
    return out[["entity_id", "cutoff", "label", "weight"]]


def audit_report(
    flagged: pd.DataFrame,
    sample: pd.DataFrame,
    *,
    n_bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Compare rates on the audit sample with the same rates on all labels.

    Parameters
    ----------
    flagged : DataFrame
        ``entity_id, cutoff, flag`` (bool: flagged by the model band or the rule set)
        and ``label`` (1 when any label confirmed the target in the cutoff's window,
        unlabelled = 0, as a training set holds it), for every scored seller.
    sample : DataFrame
        :func:`audit_sample` output for the same cutoffs.
    n_bootstrap : int, default 1000
        Resamples of audited sellers for the interval.
    level : float, default 0.95
    seed : int, default 0

    Returns
    -------
    DataFrame
        Index ``precision, recall, flag_rate, prevalence``; columns ``audit``,
        ``audit_lo``, ``audit_hi`` (inverse-probability weighted, unbiased),
        ``all_labels`` (selected by the current policy: biased), ``n_audited``.

    Examples
    --------
    >>> flagged = pd.DataFrame({"entity_id": ["S1", "S2", "S3", "S4"],
    ...     "cutoff": pd.Timestamp("2024-02-01"), "flag": [True, True, False, False],
    ...     "label": [1, 0, 0, 0]})
    >>> sample = pd.DataFrame({"entity_id": ["S2", "S3", "S4"],
    ...     "cutoff": pd.Timestamp("2024-02-01"), "label": [1, 0, 1], "weight": 10.0})
    >>> report = audit_report(flagged, sample, n_bootstrap=50)
    >>> report[["audit", "all_labels"]]  # doctest: +NORMALIZE_WHITESPACE
                   audit  all_labels
    metric
    precision   1.000000        0.50
    recall      0.500000        1.00
    flag_rate   0.333333        0.50
    prevalence  0.666667        0.25
    """
    check_int(n_bootstrap, "n_bootstrap", "audit_report", minimum=0)
    check_real(level, "level", "audit_report", low=0.0, high=1.0, low_open=True, high_open=True)
    for name, frame, cols in (
        ("flagged", flagged, ("entity_id", "cutoff", "flag", "label")),
        ("sample", sample, ("entity_id", "cutoff", "label", "weight")),
    ):
        if not isinstance(frame, pd.DataFrame) or not set(cols) <= set(frame.columns):
            raise ParameterError(
                f"The '{name}' parameter of audit_report must be a DataFrame with columns "
                f"{', '.join(cols)}."
            )
    keyed = flagged.assign(cutoff=pd.to_datetime(flagged["cutoff"]))
    audited = sample.assign(cutoff=pd.to_datetime(sample["cutoff"])).merge(
        keyed[["entity_id", "cutoff", "flag"]], on=["entity_id", "cutoff"], how="inner"
    )
    if audited.empty:
        raise TrainingError(
            "no audited seller was scored at the same cutoff: score the audit sample's "
            "sellers (audit_sample) at the cutoffs of the flags"
        )
    f = audited["flag"].to_numpy(dtype=bool)
    y = audited["label"].to_numpy(dtype=bool)
    w = audited["weight"].to_numpy(dtype=float)
    point = _rates(f, y, w[None, :])[:, 0]
    groups = pd.factorize(audited["entity_id"])[0]
    n_groups = int(groups.max()) + 1
    if n_bootstrap:
        # each draw resamples audited sellers (all their cutoffs together)
        rng = np.random.default_rng(seed)
        draws = rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), n_bootstrap)
        boot = _rates(f, y, w[None, :] * draws[:, groups])
        alpha = (1 - level) / 2
        lo = np.nanquantile(boot, alpha, axis=1)
        hi = np.nanquantile(boot, 1 - alpha, axis=1)
    else:
        lo = hi = np.full(len(AUDIT_METRICS), np.nan)
    fa = keyed["flag"].to_numpy(dtype=bool)
    ya = keyed["label"].to_numpy(dtype=bool)
    every = _rates(fa, ya, np.ones((1, len(fa))))[:, 0]
    return pd.DataFrame(
        {
            "audit": point,
            "audit_lo": lo,
            "audit_hi": hi,
            "all_labels": every,
            "n_audited": len(audited),
        },
        index=pd.Index(AUDIT_METRICS, name="metric"),
    )


def audit_paired(
    frame: pd.DataFrame,
    sample: pd.DataFrame | None,
    *,
    label_col: str = "label",
    n_bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[pd.DataFrame, str]:
    """Challenger and champion on the audit sample, next to the same rates on all labels.

    Parameters
    ----------
    frame : DataFrame
        A paired frame (:func:`~riskscore.modeling.paired_frame`): ``entity_id``,
        ``cutoff``, the label and ``flag_challenger`` / ``flag_champion``.
    sample : DataFrame or None
        :func:`audit_sample` for the frame's cutoffs; None when there is no audit.
    label_col : str, default "label"
    n_bootstrap, level, seed
        As in :func:`audit_report`.

    Returns
    -------
    (DataFrame, str)
        One row per model and metric (``model``, ``metric``, ``audit``, ``audit_lo``,
        ``audit_hi``, ``all_labels``, ``n_audited``) and a note; without a sample, or
        when no audited seller is among the rows, an empty table and a note starting
        with :data:`NO_AUDIT`. Never fails for the absence of an audit.

    Examples
    --------
    >>> frame = pd.DataFrame({"entity_id": ["S1", "S2", "S3", "S4"],
    ...     "cutoff": pd.Timestamp("2024-02-01"), "label": [1, 0, 0, 0],
    ...     "flag_challenger": [True, False, True, False],
    ...     "flag_champion": [True, True, False, False]})
    >>> sample = pd.DataFrame({"entity_id": ["S2", "S3"],
    ...     "cutoff": pd.Timestamp("2024-02-01"), "label": [0, 1], "weight": 10.0})
    >>> table, note = audit_paired(frame, sample, n_bootstrap=0)
    >>> table.set_index(["model", "metric"]).loc[("challenger", "precision"), "audit"]
    np.float64(1.0)
    >>> audit_paired(frame, None)[1][:15]
    'no audit sample'
    """
    columns = ["model", "metric", "audit", "audit_lo", "audit_hi", "all_labels", "n_audited"]
    empty = pd.DataFrame(columns=columns)
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(
            "The 'frame' parameter of audit_paired must be a pandas DataFrame (a paired "
            f"frame from riskscore.modeling.paired_frame). Got {type(frame).__name__} instead."
        )
    if sample is None:
        return empty, (
            f"{NO_AUDIT}: every figure is measured on labels selected by the current policy"
        )
    need = ("entity_id", "cutoff", label_col, "flag_challenger", "flag_champion")
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"The 'frame' parameter of audit_paired must be a paired frame with columns "
            f"{', '.join(need)}; missing {', '.join(missing)}."
        )
    keys = frame[["entity_id", "cutoff"]].assign(
        entity_id=frame["entity_id"].astype(str), cutoff=pd.to_datetime(frame["cutoff"])
    )
    audited = sample.assign(cutoff=pd.to_datetime(sample["cutoff"])).merge(
        keys, on=["entity_id", "cutoff"], how="inner"
    )
    if audited.empty:
        return empty, (
            f"{NO_AUDIT}: no audited seller is among the compared rows "
            f"({len(sample)} audit review(s) in the sample)"
        )
    flags = {m: frame[f"flag_{m}"].to_numpy(dtype=bool) for m in ("challenger", "champion")}
    table = audit_by_flag(
        keys, frame[label_col].to_numpy(), flags, sample, name="model",
        n_bootstrap=n_bootstrap, level=level, seed=seed,
    )  # fmt: skip
    note = (
        f"random-audit sample: {len(audited)} audited seller-cutoff(s) among the compared "
        f"rows, inverse-probability weighted, {level:.0%} bootstrap intervals; all-labels "
        "figures are selected by the current policy"
    )
    return table[columns], note


def audit_by_flag(
    keys: pd.DataFrame,
    labels: Any,
    flags: Mapping[str, Any],
    sample: pd.DataFrame,
    *,
    name: str,
    n_bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`audit_report` for each of several flag columns on the same rows.

    Parameters
    ----------
    keys : DataFrame
        ``entity_id, cutoff`` of the scored rows.
    labels : array-like of int
        The all-labels label of each row.
    flags : mapping of str to array-like of bool
        Each model's or policy's flags, aligned with ``keys``.
    sample : DataFrame
        :func:`audit_sample` output.
    name : str
        The column that holds each flag's name (``"model"``, ``"policy"``).
    n_bootstrap, level, seed
        As in :func:`audit_report`.

    Returns
    -------
    DataFrame
        :func:`audit_report`'s columns plus ``metric``, ``name`` and ``audited_alerts``
        (audited rows flagged), one row per flag and metric.

    Examples
    --------
    >>> keys = pd.DataFrame({"entity_id": ["S1", "S2"], "cutoff": pd.Timestamp("2024-02-01")})
    >>> sample = keys.assign(label=[1, 0], weight=2.0)
    >>> t = audit_by_flag(keys, [1, 0], {"a": [True, False], "b": [True, True]}, sample,
    ...     name="policy", n_bootstrap=0)
    >>> t.set_index(["policy", "metric"]).loc[("b", "precision"), "audit"]
    np.float64(0.5)
    """
    audited = sample[["entity_id", "cutoff"]].assign(cutoff=pd.to_datetime(sample["cutoff"]))
    parts = []
    for flag_name, flag in flags.items():
        flagged = keys.assign(flag=np.asarray(flag, dtype=bool), label=np.asarray(labels))
        report = audit_report(flagged, sample, n_bootstrap=n_bootstrap, level=level, seed=seed)
        hits = flagged.merge(audited, on=["entity_id", "cutoff"])
        part = report.reset_index()
        part[name] = flag_name
        part["audited_alerts"] = int(hits["flag"].sum())
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _rates(f: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted precision, recall, flag rate and prevalence, one column per weight row."""
    with np.errstate(invalid="ignore", divide="ignore"):
        tp = (w * (f & y)).sum(axis=1)
        flagged = (w * f).sum(axis=1)
        bad = (w * y).sum(axis=1)
        total = w.sum(axis=1)
        return np.vstack([tp / flagged, tp / bad, flagged / total, bad / total])
