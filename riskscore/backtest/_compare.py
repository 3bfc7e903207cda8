"""Two policies side by side, with paired bootstrap intervals over entities.

Both policies are judged on the same resampled entities (an entity carries all its
cutoffs with it, so rows of one shop at several cutoffs are not treated as independent).
The draws are the project's one entity bootstrap (``modeling._paired._weight_blocks``,
which the promotion gate and the family-value report use), taken over one row per
entity in bounded-memory blocks; each replicate recomputes the pooled metrics of both
policies and their difference (``b - a``) from per-entity sums (one matrix product).
Intervals are percentile intervals.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from riskscore._validation import check_int, check_real
from riskscore.backtest._errors import BacktestError
from riskscore.modeling._paired import _weight_blocks

__all__ = ["COMPARED", "compare_policies"]

#: Metrics the comparison reports, pooled over (entity, cutoff) rows.
COMPARED: tuple[str, ...] = ("alerts_per_day", "precision", "recall", "value_recall")


def _metrics(sums: np.ndarray, days: float) -> np.ndarray:
    """From columns ``alerts, tp, value_tp, positives, value_pos`` (per replicate)."""
    alerts, tp, value_tp, pos, value_pos = (sums[..., i] for i in range(5))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.stack(
            [alerts / days, tp / alerts, tp / pos, value_tp / value_pos], axis=-1
        ).astype("float64")


def compare_policies(
    rows: pd.DataFrame,
    alert_a: np.ndarray,
    alert_b: np.ndarray,
    *,
    names: tuple[str, str] = ("a", "b"),
    days: float,
    n_bootstrap: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Return the pooled metrics of two policies, their difference and intervals.

    Parameters
    ----------
    rows : pandas.DataFrame
        The backtest's rows (``entity_id``, ``label``, ``value``).
    alert_a, alert_b : numpy.ndarray of bool
        The two policies' alerts on ``rows``.
    names : (str, str)
        Column prefixes.
    days : float
        Days the cutoffs stand for (for ``alerts_per_day``).
    n_bootstrap : int, default 200
        Replicates (0: no intervals).
    seed : int, default 0
    level : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        One row per metric of :data:`COMPARED`; columns ``<a>``, ``<a>_lo``, ``<a>_hi``,
        ``<b>``, ..., ``delta`` (``b - a``), ``delta_lo``, ``delta_hi``.

    Examples
    --------
    >>> rows = pd.DataFrame({"entity_id": list("abcdef"), "label": [1, 1, 0, 0, 0, 0],
    ...                      "value": [10.0, 30.0, 1.0, 1.0, 1.0, 1.0]})
    >>> a = np.array([1, 0, 1, 1, 0, 0], dtype=bool)
    >>> b = np.array([1, 1, 0, 0, 0, 0], dtype=bool)
    >>> table = compare_policies(rows, a, b, days=10.0, n_bootstrap=100)
    >>> table.loc["precision", ["a", "b", "delta"]].round(3).tolist()
    [0.333, 1.0, 0.667]
    """
    where = "compare"
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", where, minimum=0, error=BacktestError)
    seed = check_int(seed, "seed", where, minimum=0, error=BacktestError)
    level = check_real(
        level, "level", where, low=0, high=1, low_open=True, high_open=True, error=BacktestError
    )
    label = rows["label"].to_numpy(dtype=bool)
    value = rows["value"].to_numpy(dtype="float64")
    codes, _ = pd.factorize(rows["entity_id"])
    n_entities = int(codes.max()) + 1 if codes.size else 0

    def per_entity(alert: np.ndarray) -> np.ndarray:
        cols = [alert, alert & label, np.where(alert & label, value, 0.0), label]
        cols.append(np.where(label, value, 0.0))
        return np.stack(
            [np.bincount(codes, weights=c.astype("float64"), minlength=n_entities) for c in cols],
            axis=1,
        )

    ea, eb = per_entity(alert_a), per_entity(alert_b)
    point_a, point_b = _metrics(ea.sum(axis=0), days), _metrics(eb.sum(axis=0), days)
    table = pd.DataFrame(index=pd.Index(COMPARED, name="metric"))
    table[names[0]] = point_a
    table[names[1]] = point_b
    table["delta"] = point_b - point_a
    if n_bootstrap and n_entities:
        # one row per entity, its code as the cluster: weight column j is entity j
        blocks = list(_weight_blocks(np.arange(n_entities), n_bootstrap, seed))
        rep_a = np.concatenate([_metrics(w @ ea, days) for w in blocks])
        rep_b = np.concatenate([_metrics(w @ eb, days) for w in blocks])
        tail = (1 - level) / 2 * 100
        for prefix, reps in ((names[0], rep_a), (names[1], rep_b), ("delta", rep_b - rep_a)):
            with warnings.catch_warnings(), np.errstate(invalid="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)  # a metric NaN in every draw
                lo = np.nanpercentile(reps, tail, axis=0)
                hi = np.nanpercentile(reps, 100 - tail, axis=0)
            table[f"{prefix}_lo"] = lo
            table[f"{prefix}_hi"] = hi
    order = [
        c
        for p in (names[0], names[1], "delta")
        for c in (p, f"{p}_lo", f"{p}_hi")
        if c in table.columns
    ]
    return table[order]
