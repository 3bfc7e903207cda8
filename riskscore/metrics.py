"""Metrics for rare-positive risk scores: ranking, review capacity, calibration, intervals.

Every function takes plain arrays (``y_true`` of 0/1, a score where higher means riskier)
and returns floats or small DataFrames, so the same code serves training, the
``riskscore evaluate`` command and the promotion gate.

Ranking metrics (:func:`roc_auc`, :func:`pr_auc`, :func:`precision_at_k`,
:func:`recall_at_fpr`) only depend on the order of the scores, so they accept raw
log-odds as well as probabilities. Calibration metrics (:func:`brier`, :func:`ece`) need
probabilities.

Review capacity
---------------
A risk team reviews a fixed number of entities per period. ``precision_at_k`` takes the
``k`` highest scores **within each group** (a cutoff of a training set, or a calendar day
of an event table) and pools the reviewed rows over groups: precision is the share of
reviewed rows that are positive, recall the share of all positives that were reviewed.

Intervals
---------
:func:`bootstrap_intervals` resamples rows with replacement within each group (so every
replicate keeps the group sizes and the capacity means the same) and reports percentile
intervals. Replicates in which a metric is undefined (a single class) are skipped.

Errors
------
Bad input (outcomes other than 0/1, a NaN or non-numeric score, arrays of different
lengths, a capacity ``k`` below 1, probabilities outside [0, 1] where probabilities are
needed) raises :class:`~riskscore.exceptions.MetricsError`, which is also a
``ValueError``. A metric that is undefined on valid input (one class only) is NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskscore._deprecation import renamed_argument
from riskscore._progress import track
from riskscore._validation import (
    as_float_array,
    as_labels,
    check_frame,
    check_int,
    check_real,
    check_same_length,
    fail,
)
from riskscore.exceptions import MetricsError

__all__ = [
    "METRICS",
    "bootstrap_intervals",
    "brier",
    "calibration_curve",
    "ece",
    "metric_table",
    "pr_auc",
    "precision_at_k",
    "recall_at_fpr",
    "recall_at_k",
    "roc_auc",
    "score_metrics",
    "slice_metrics",
]

ArrayLike = npt.ArrayLike

#: Metric names in reporting order; ``True`` when higher is better.
METRICS: dict[str, bool] = {
    "roc_auc": True,
    "pr_auc": True,
    "precision_at_k": True,
    "recall_at_k": True,
    "recall_at_1pct_fpr": True,
    "brier": False,
    "ece": False,
}


def _arrays(
    y_true: ArrayLike, y_score: ArrayLike, where: str, score_name: str = "y_score"
) -> tuple[np.ndarray, np.ndarray]:
    """Check and flatten 0/1 outcomes and scores of the same length (NaN scores refused).

    Raises
    ------
    MetricsError
        When the outcomes are not 0/1, a score is not a number or NaN, or lengths differ.
    """
    y = as_labels(y_true, "y_true", where, error=MetricsError)
    s = as_float_array(y_score, score_name, where, error=MetricsError)
    check_same_length(where, MetricsError, y_true=y, **{score_name: s})
    return y, s


def _probabilities(p: np.ndarray, where: str) -> np.ndarray:
    """Raise :class:`MetricsError` unless every probability lies in [0, 1]."""
    outside = (p < 0) | (p > 1)
    if outside.any():
        raise MetricsError(
            f"The 'y_prob' parameter of {where} must hold probabilities in [0, 1]. Got "
            f"{int(outside.sum())} value(s) outside, e.g. {p[outside][:3].tolist()}; pass "
            "calibrated scores (RiskModel.predict_proba), not raw log-odds"
        )
    return p


def _average_ranks(s: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their average rank (as ``scipy.stats.rankdata``)."""
    order = np.argsort(s, kind="mergesort")
    sorted_s = s[order]
    first = np.r_[True, sorted_s[1:] != sorted_s[:-1]]
    group = np.cumsum(first) - 1
    counts = np.bincount(group)
    ends = np.cumsum(counts).astype(np.float64)
    ranks = np.empty(s.size, dtype=np.float64)
    ranks[order] = (ends - (counts - 1) / 2.0)[group]
    return ranks


def roc_auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Area under the ROC curve (ties count one half); NaN when only one class is present.

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])
    0.875
    """
    y, s = _arrays(y_true, y_score, "roc_auc")
    n_pos = float(y.sum())
    n_neg = float(y.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _average_ranks(s)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _desc_steps(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative true and false positives at each distinct score, highest score first."""
    order = np.argsort(-s, kind="stable")
    s_sorted = s[order]
    y_sorted = y[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), y.size - 1]
    tp = np.cumsum(y_sorted)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    return tp, fp


def pr_auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Average precision: the step-wise area under the precision-recall curve.

    Same definition as :func:`sklearn.metrics.average_precision_score`:
    ``sum((R_n - R_{n-1}) * P_n)`` over distinct score thresholds. NaN without positives.

    Examples
    --------
    >>> pr_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])  # (0.5 * 1 + 0.5 * 2/3)
    0.8333333333333333
    """
    y, s = _arrays(y_true, y_score, "pr_auc")
    n_pos = y.sum()
    if n_pos == 0:
        return float("nan")
    tp, fp = _desc_steps(y, s)
    precision = tp / (tp + fp)
    recall = tp / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def recall_at_fpr(y_true: ArrayLike, y_score: ArrayLike, max_fpr: float = 0.01) -> float:
    """Highest recall reachable with a score threshold whose false-positive rate is ``<= max_fpr``.

    Only real thresholds count (no interpolation between them), so this is a recall a
    risk team can actually run at. NaN when only one class is present.

    Examples
    --------
    >>> y = [0] * 100 + [1] * 4
    >>> s = list(range(100)) + [98.5, 150, 10, 200]   # one negative (99) beats 98.5
    >>> recall_at_fpr(y, s, max_fpr=0.01)
    0.75
    >>> recall_at_fpr(y, s, max_fpr=0.0)
    0.5
    """
    y, s = _arrays(y_true, y_score, "recall_at_fpr")
    max_fpr = check_real(max_fpr, "max_fpr", "recall_at_fpr", low=0, high=1, error=MetricsError)
    n_pos = y.sum()
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    tp, fp = _desc_steps(y, s)
    ok = fp / n_neg <= max_fpr + 1e-12
    return float(tp[ok].max() / n_pos) if ok.any() else 0.0


def _group_codes(groups: ArrayLike | None, n: int, where: str) -> np.ndarray:
    """Dense integer code of each row's group (one group when ``groups`` is None)."""
    if groups is None:
        return np.zeros(n, dtype=np.int64)
    if isinstance(groups, str | bytes | dict):
        raise fail("groups", where, "an array with one group per row", groups, error=MetricsError)
    try:
        labels = np.asarray(groups).ravel()
        g = np.asarray(pd.factorize(labels, sort=True, use_na_sentinel=False)[0], dtype=np.int64)
    except (TypeError, ValueError) as err:
        raise fail(
            "groups",
            where,
            f"an array of sortable group labels ({err})",
            groups,
            error=MetricsError,
        ) from None
    check_same_length(where, MetricsError, groups=g, y_score=np.empty(n))
    return g


def _top_k_mask(s: np.ndarray, k: int, groups: ArrayLike | None, where: str) -> np.ndarray:
    """Boolean mask of the ``k`` highest scores within each group (stable on ties)."""
    k = check_int(k, "k", where, minimum=1, error=MetricsError)
    n = s.size
    g = _group_codes(groups, n, where)
    order = np.lexsort((np.arange(n), -s, g))
    g_sorted = g[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g_sorted)) + 1]
    first = np.repeat(starts, np.diff(np.r_[starts, n]))
    mask = np.zeros(n, dtype=bool)
    mask[order] = (np.arange(n) - first) < k
    return mask


def precision_at_k(
    y_true: ArrayLike, y_score: ArrayLike, k: int, groups: ArrayLike | None = None
) -> float:
    """Share of positives among the ``k`` highest-scored rows of each group, pooled.

    Parameters
    ----------
    y_true : array-like of {0, 1}
    y_score : array-like of float
        Higher means riskier.
    k : int
        Review capacity per group (per cutoff, or per day). A group with fewer than ``k``
        rows is reviewed entirely.
    groups : array-like, optional
        Group of each row (cutoff or day). One group when omitted.

    Examples
    --------
    >>> y = [1, 0, 0, 1, 0, 1]
    >>> s = [0.9, 0.8, 0.1, 0.2, 0.7, 0.6]
    >>> precision_at_k(y, s, k=2)               # top 2 overall: 0.9 (1), 0.8 (0)
    0.5
    >>> precision_at_k(y, s, k=1, groups=["a", "a", "a", "b", "b", "b"])  # 0.9 (1), 0.7 (0)
    0.5
    """
    y, s = _arrays(y_true, y_score, "precision_at_k")
    mask = _top_k_mask(s, k, groups, "precision_at_k")
    return float(y[mask].mean()) if mask.any() else float("nan")


def recall_at_k(
    y_true: ArrayLike, y_score: ArrayLike, k: int, groups: ArrayLike | None = None
) -> float:
    """Share of all positives that fall among the ``k`` highest scores of their group.

    Examples
    --------
    >>> recall_at_k([1, 0, 0, 1, 0, 1], [0.9, 0.8, 0.1, 0.2, 0.7, 0.6], k=2)
    0.3333333333333333
    """
    y, s = _arrays(y_true, y_score, "recall_at_k")
    if y.sum() == 0:
        check_int(k, "k", "recall_at_k", minimum=1, error=MetricsError)
        return float("nan")
    mask = _top_k_mask(s, k, groups, "recall_at_k")
    return float(y[mask].sum() / y.sum())


def brier(y_true: ArrayLike, y_prob: ArrayLike) -> float:
    """Mean squared difference between the predicted probability and the 0/1 outcome.

    Examples
    --------
    >>> round(brier([0, 1], [0.2, 0.6]), 6)   # (0.04 + 0.16) / 2
    0.1
    """
    y, p = _arrays(y_true, y_prob, "brier", "y_prob")
    _probabilities(p, "brier")
    return float(np.mean((p - y) ** 2))


def ece(y_true: ArrayLike, y_prob: ArrayLike, n_bins: int = 10) -> float:
    """Compute the expected calibration error over ``n_bins`` equal-width probability bins.

    ``sum_b (n_b / n) * |mean(y in b) - mean(p in b)|``; empty bins count zero. A
    probability of exactly 1 falls in the last bin.

    Examples
    --------
    >>> ece([0, 0, 1, 1], [0.1, 0.1, 0.9, 0.7], n_bins=10)  # (|0-0.2| + |1-0.7| + |1-0.9|) / 4
    0.15
    """
    y, p = _arrays(y_true, y_prob, "ece", "y_prob")
    n_bins = check_int(n_bins, "n_bins", "ece", minimum=1, error=MetricsError)
    if y.size == 0:
        return float("nan")
    _probabilities(p, "ece")
    idx = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    sum_y = np.bincount(idx, weights=y, minlength=n_bins)
    sum_p = np.bincount(idx, weights=p, minlength=n_bins)
    return float(np.abs(sum_y - sum_p).sum() / y.size)


def calibration_curve(y_true: ArrayLike, y_prob: ArrayLike, n_bins: int = 10) -> pd.DataFrame:
    """Mean predicted probability vs observed rate per equal-width bin (non-empty bins only).

    Examples
    --------
    >>> curve = calibration_curve([0, 0, 1, 1], [0.1, 0.1, 0.9, 0.7])
    >>> curve[["bin", "n", "observed_rate"]].to_dict("list")
    {'bin': [1, 7, 9], 'n': [2, 1, 1], 'observed_rate': [0.0, 1.0, 1.0]}
    """
    y, p = _arrays(y_true, y_prob, "calibration_curve", "y_prob")
    n_bins = check_int(n_bins, "n_bins", "calibration_curve", minimum=1, error=MetricsError)
    _probabilities(p, "calibration_curve")
    idx = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    n = np.bincount(idx, minlength=n_bins)
    sum_y = np.bincount(idx, weights=y, minlength=n_bins)
    sum_p = np.bincount(idx, weights=p, minlength=n_bins)
    keep = n > 0
    return pd.DataFrame(
        {
            "bin": np.flatnonzero(keep),
            "n": n[keep],
            "mean_predicted": sum_p[keep] / n[keep],
            "observed_rate": sum_y[keep] / n[keep],
        }
    )


def score_metrics(
    y_true: ArrayLike,
    y_score: ArrayLike,
    y_prob: ArrayLike | None = None,
    *,
    k: int = 100,
    groups: ArrayLike | None = None,
    max_fpr: float = 0.01,
    n_bins: int = 10,
) -> dict[str, float]:
    """All metrics of one scored window as a dict (see :data:`METRICS`).

    Parameters
    ----------
    y_true : array-like of {0, 1}
    y_score : array-like of float
        Ranking score (log-odds or probability).
    y_prob : array-like of float, optional
        Calibrated probability, for ``brier`` and ``ece``; ``y_score`` is used when it is
        omitted and lies in [0, 1], else those two are NaN.
    k : int, default 100
        Review capacity per group.
    groups : array-like, optional
        Cutoff or day of each row.
    max_fpr : float, default 0.01
        False-positive rate for ``recall_at_1pct_fpr``.
    n_bins : int, default 10
        Bins for ``ece``.

    Examples
    --------
    >>> m = score_metrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], k=1)
    >>> m["roc_auc"], m["precision_at_k"], round(m["brier"], 6)
    (0.75, 1.0, 0.158125)
    """
    where = "score_metrics"
    y, s = _arrays(y_true, y_score, where)
    if y_prob is None:
        p = s if (s.size and s.min() >= 0 and s.max() <= 1) else None
    else:
        p = as_float_array(y_prob, "y_prob", where, error=MetricsError)
        check_same_length(where, MetricsError, y_true=y, y_prob=p)
        _probabilities(p, where)
    max_fpr = check_real(max_fpr, "max_fpr", where, low=0, high=1, error=MetricsError)
    n_bins = check_int(n_bins, "n_bins", where, minimum=1, error=MetricsError)
    k = check_int(k, "k", where, minimum=1, error=MetricsError)
    mask = _top_k_mask(s, k, groups, where) if s.size else np.zeros(0, dtype=bool)
    n_pos = y.sum()
    return {
        "roc_auc": roc_auc(y, s),
        "pr_auc": pr_auc(y, s),
        "precision_at_k": float(y[mask].mean()) if mask.any() else float("nan"),
        "recall_at_k": float(y[mask].sum() / n_pos) if n_pos else float("nan"),
        "recall_at_1pct_fpr": recall_at_fpr(y, s, max_fpr),
        "brier": brier(y, p) if p is not None else float("nan"),
        "ece": ece(y, p, n_bins) if p is not None else float("nan"),
    }


def _resample_within_groups(g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    order = np.argsort(g, kind="stable")
    counts = np.bincount(g)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    offsets = np.floor(rng.random(g.size) * np.repeat(counts, counts)).astype(np.int64)
    return order[np.repeat(starts, counts) + offsets]


def _scored_models(
    y_true: ArrayLike, scores: Mapping[str, tuple[ArrayLike, ArrayLike | None]], where: str
) -> tuple[np.ndarray, dict[Any, tuple[np.ndarray, np.ndarray | None]]]:
    """Check the outcomes and each model's (score, probability or None) pair."""
    y = as_labels(y_true, "y_true", where, error=MetricsError)
    if not isinstance(scores, Mapping) or not scores:
        raise fail(
            "scores",
            where,
            "a non-empty mapping of model name to (score, probability or None)",
            scores,
            error=MetricsError,
        )
    arrays: dict[Any, tuple[np.ndarray, np.ndarray | None]] = {}
    for name, pair in scores.items():
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise fail(
                f"scores[{name!r}]",
                where,
                "a pair (score, probability or None)",
                pair,
                error=MetricsError,
            )
        sc = as_float_array(pair[0], f"scores[{name!r}][0]", where, error=MetricsError)
        check_same_length(where, MetricsError, y_true=y, **{f"scores[{name!r}]": sc})
        pr = None
        if pair[1] is not None:
            pr = _probabilities(
                as_float_array(pair[1], f"scores[{name!r}][1]", where, error=MetricsError), where
            )
            check_same_length(where, MetricsError, y_true=y, **{f"scores[{name!r}][1]": pr})
        arrays[name] = (sc, pr)
    return y, arrays


def bootstrap_intervals(
    y_true: ArrayLike,
    scores: Mapping[str, tuple[ArrayLike, ArrayLike | None]],
    *,
    k: int = 100,
    groups: ArrayLike | None = None,
    n_bootstrap: int = 200,
    seed: int = 0,
    level: float = 0.95,
    max_fpr: float = 0.01,
    n_boot: int | None = None,
) -> dict[str, dict[str, tuple[float, float]]]:
    """Percentile bootstrap intervals of :func:`score_metrics` for one or more models.

    All models share the same resampled rows (a paired bootstrap), so their intervals can
    be compared and the interval of their difference is meaningful (see
    :func:`metric_table`).

    Parameters
    ----------
    y_true : array-like of {0, 1}
    scores : mapping of str to (score, probability or None)
        One entry per model, e.g. ``{"model": (raw, proba), "baseline": (p, p)}``.
    k, groups, max_fpr
        As in :func:`score_metrics`.
    n_bootstrap : int, default 200
        Number of bootstrap replicates.
    seed : int, default 0
    level : float, default 0.95
    n_boot : int, optional
        Deprecated name of ``n_bootstrap`` (warns ``DeprecationWarning``).

    Returns
    -------
    dict
        ``{model: {metric: (low, high)}}``, plus ``{"delta:<a>-<b>": ...}`` for the first
        model against each other one.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.random(400) < 0.2
    >>> s = y + rng.normal(size=400)
    >>> ci = bootstrap_intervals(y, {"m": (s, None)}, k=50, n_bootstrap=50)
    >>> lo, hi = ci["m"]["roc_auc"]
    >>> bool(lo < roc_auc(y, s) < hi)
    True
    """
    where = "bootstrap_intervals"
    y, arrays = _scored_models(y_true, scores, where)
    g = _group_codes(groups, y.size, where)
    n_boot = renamed_argument(
        n_bootstrap, n_boot, new="n_bootstrap", old="n_boot", where=where, default=200
    )
    n_boot = check_int(n_boot, "n_bootstrap", where, minimum=0, error=MetricsError)
    level = check_real(
        level, "level", where, low=0, high=1, low_open=True, high_open=True, error=MetricsError
    )
    seed = check_int(seed, "seed", where, minimum=0, error=MetricsError)
    rng = np.random.default_rng(seed)
    names = list(arrays)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for _ in track(range(n_boot), "bootstrap replicates"):
        idx = _resample_within_groups(g, rng)
        for name in names:
            sc, pr = arrays[name]
            samples[name].append(
                score_metrics(
                    y[idx],
                    sc[idx],
                    None if pr is None else pr[idx],
                    k=k,
                    groups=g[idx],
                    max_fpr=max_fpr,
                )
            )
    tail = (1 - level) / 2 * 100
    out: dict[str, dict[str, tuple[float, float]]] = {}

    def interval(values: np.ndarray) -> tuple[float, float]:
        values = values[~np.isnan(values)]
        if values.size == 0:
            return (float("nan"), float("nan"))
        lo, hi = np.percentile(values, [tail, 100 - tail])
        return (float(lo), float(hi))

    table = {name: pd.DataFrame(samples[name], columns=list(METRICS)) for name in names}
    for name in names:
        out[name] = {m: interval(table[name][m].to_numpy(dtype=np.float64)) for m in METRICS}
    for other in names[1:]:
        diff = table[names[0]] - table[other]
        out[f"delta:{names[0]}-{other}"] = {
            m: interval(diff[m].to_numpy(dtype=np.float64)) for m in METRICS
        }
    return out


def metric_table(
    y_true: ArrayLike,
    scores: Mapping[str, tuple[ArrayLike, ArrayLike | None]],
    *,
    k: int = 100,
    groups: ArrayLike | None = None,
    n_bootstrap: int = 200,
    seed: int = 0,
    level: float = 0.95,
    max_fpr: float = 0.01,
    n_boot: int | None = None,
) -> pd.DataFrame:
    """Point estimates and bootstrap intervals of every metric, models side by side.

    Returns one row per metric with columns ``<model>``, ``<model>_lo``, ``<model>_hi`` for
    each model and, when there are two or more models, ``delta``, ``delta_lo``,
    ``delta_hi`` (first model minus second, paired bootstrap). ``n_bootstrap=0`` skips the
    intervals (the interval columns are NaN). ``n_boot`` is the deprecated name of
    ``n_bootstrap`` (warns ``DeprecationWarning``); the other parameters are as in
    :func:`bootstrap_intervals`.

    Examples
    --------
    >>> t = metric_table([0, 0, 1, 1], {"a": ([0.1, 0.4, 0.35, 0.8], None),
    ...                                 "b": ([0.1, 0.2, 0.3, 0.4], None)}, k=1, n_bootstrap=0)
    >>> t.loc["roc_auc", ["a", "b", "delta"]].tolist()
    [0.75, 1.0, -0.25]
    """
    where = "metric_table"
    y, arrays = _scored_models(y_true, scores, where)
    n_boot = renamed_argument(
        n_bootstrap, n_boot, new="n_bootstrap", old="n_boot", where=where, default=200
    )
    n_boot = check_int(n_boot, "n_bootstrap", where, minimum=0, error=MetricsError)
    rows: dict[str, dict[str, float]] = {m: {} for m in METRICS}
    names = list(arrays)
    point = {
        name: score_metrics(y, sc, pr, k=k, groups=groups, max_fpr=max_fpr)
        for name, (sc, pr) in arrays.items()
    }
    ci = (
        bootstrap_intervals(
            y,
            scores,
            k=k,
            groups=groups,
            n_bootstrap=n_boot,
            seed=seed,
            level=level,
            max_fpr=max_fpr,
        )
        if n_boot > 0
        else {}
    )
    nan2 = (float("nan"), float("nan"))
    for m in METRICS:
        for name in names:
            rows[m][name] = point[name][m]
            lo, hi = ci.get(name, {}).get(m, nan2)
            rows[m][f"{name}_lo"] = lo
            rows[m][f"{name}_hi"] = hi
        if len(names) >= 2:
            rows[m]["delta"] = point[names[0]][m] - point[names[1]][m]
            lo, hi = ci.get(f"delta:{names[0]}-{names[1]}", {}).get(m, nan2)
            rows[m]["delta_lo"] = lo
            rows[m]["delta_hi"] = hi
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "metric"
    return table


def _segment_labels(values: pd.Series, n_bins: int, max_levels: int) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values.astype("str")
    if pd.api.types.is_numeric_dtype(values):
        valid = values.dropna()
        if valid.nunique() <= n_bins:
            labels = values.astype("str")
        else:
            edges = np.unique(np.quantile(valid, np.linspace(0, 1, n_bins + 1))).tolist()
            labels = pd.cut(values, edges, include_lowest=True, duplicates="drop").astype("str")
        return labels.where(values.notna(), "missing")
    labels = values.astype("str").where(values.notna(), "missing")
    top = labels.value_counts().index[:max_levels]
    return labels.where(labels.isin(top), "other")


def slice_metrics(
    segments: pd.DataFrame,
    y_true: ArrayLike,
    y_score: ArrayLike,
    flagged: ArrayLike,
    *,
    n_bins: int = 4,
    max_levels: int = 10,
    min_rows: int = 1,
) -> pd.DataFrame:
    """Flag rates and metrics per segment, to see whom a model flags.

    Numeric segment columns are cut into ``n_bins`` quantile bins; other columns keep
    their ``max_levels`` most frequent values and pool the rest as ``other``.

    Parameters
    ----------
    segments : pandas.DataFrame
        One column per segmentation (account age, region, category, size), aligned with
        the scores.
    y_true, y_score : array-like
    flagged : array-like of bool
        Whether each row would be reviewed (e.g. band ``high`` or ``critical``).
    n_bins, max_levels, min_rows : int
        Binning of numeric columns, levels kept for others, and the smallest segment shown.

    Returns
    -------
    pandas.DataFrame
        Columns ``segment``, ``level``, ``n``, ``positives``, ``prevalence``,
        ``flag_rate``, ``precision``, ``recall``, ``roc_auc``, ``pr_auc``; a legitimate
        segment with a high ``flag_rate`` and low ``precision`` is over-flagged.

    Examples
    --------
    >>> seg = pd.DataFrame({"region": ["eu", "eu", "us", "us"]})
    >>> t = slice_metrics(seg, [1, 0, 0, 0], [0.9, 0.1, 0.8, 0.2], [True, False, True, False])
    >>> t[["level", "flag_rate", "precision"]].to_dict("list")
    {'level': ['eu', 'us'], 'flag_rate': [0.5, 0.5], 'precision': [1.0, 0.0]}
    """
    where = "slice_metrics"
    y, s = _arrays(y_true, y_score, where)
    check_frame(segments, "segments", where, error=MetricsError)
    f = as_labels(flagged, "flagged", where, error=MetricsError).astype(bool)
    check_same_length(where, MetricsError, segments=segments, y_true=y, flagged=f)
    n_bins = check_int(n_bins, "n_bins", where, minimum=1, error=MetricsError)
    max_levels = check_int(max_levels, "max_levels", where, minimum=1, error=MetricsError)
    min_rows = check_int(min_rows, "min_rows", where, minimum=0, error=MetricsError)
    rows: list[dict[str, Any]] = []
    for col in segments.columns:
        labels = _segment_labels(segments[col].reset_index(drop=True), n_bins, max_levels)
        codes, levels = pd.factorize(labels, sort=True)
        for i, level in enumerate(levels):
            m = codes == i
            n = int(m.sum())
            if n < min_rows:
                continue
            yi, si, fi = y[m], s[m], f[m]
            pos = int(yi.sum())
            rows.append(
                {
                    "segment": str(col),
                    "level": str(level),
                    "n": n,
                    "positives": pos,
                    "prevalence": pos / n,
                    "flag_rate": float(fi.mean()),
                    "precision": float(yi[fi].mean()) if fi.any() else float("nan"),
                    "recall": float(yi[fi].sum() / pos) if pos else float("nan"),
                    "roc_auc": roc_auc(yi, si),
                    "pr_auc": pr_auc(yi, si),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "segment",
            "level",
            "n",
            "positives",
            "prevalence",
            "flag_rate",
            "precision",
            "recall",
            "roc_auc",
            "pr_auc",
        ],
    )
