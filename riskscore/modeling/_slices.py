"""Flag rate and false-positive rate at the flag band per slice, with intervals.

A model that flags new or small legitimate sellers more often than before costs them
sales and the platform trust, even when its overall metrics improve. Per slice (segment
level, e.g. ``segment__tenure = new (<90 days)``):

* ``flag_rate`` — share of the slice's rows flagged (band high or critical);
* ``fpr`` — share of the slice's **negatives** flagged: the legitimate sellers reviewed.

Each rate has a Wilson score interval (:func:`wilson_interval`; it stays inside [0, 1]
and is honest for small slices and rates near 0). :func:`slice_comparison` puts a
champion and a challenger side by side with the FPR difference and its interval (paired
entity bootstrap, or Newcombe's hybrid score interval without replicates); the promotion
gate refuses a challenger that raises a protected slice's FPR beyond a margin.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd

from riskscore.exceptions import TrainingError

__all__ = [
    "PROTECTED_SLICES",
    "SLICE_COLUMNS",
    "slice_comparison",
    "slice_rates",
    "wilson_difference",
    "wilson_interval",
]

#: Protected slices by default (``segment=level``): new sellers and small sellers, whose
#: flag rate and false-positive rate the promotion gate and the monitor watch.
PROTECTED_SLICES: tuple[str, ...] = (
    "segment__tenure=new (<90 days)",
    "segment__size=no orders",
    "segment__size=1-19 orders",
)

#: Columns of :func:`slice_comparison`, in order.
SLICE_COLUMNS = (
    "segment",
    "level",
    "n",
    "negatives",
    "flag_rate_champion",
    "flag_rate_challenger",
    "fpr_champion",
    "fpr_champion_lo",
    "fpr_champion_hi",
    "fpr_challenger",
    "fpr_challenger_lo",
    "fpr_challenger_hi",
    "fpr_delta",
    "fpr_delta_lo",
    "fpr_delta_hi",
)


def wilson_difference(
    k1: int, n1: int, k2: int, n2: int, level: float = 0.95
) -> tuple[float, float, float]:
    """Difference ``k1/n1 - k2/n2`` of two independent proportions, with Newcombe's interval.

    Newcombe's hybrid score interval (method 10 of Newcombe 1998) combines the two
    :func:`wilson_interval` s: ``d - sqrt((p1 - l1)² + (u2 - p2)²)`` to
    ``d + sqrt((u1 - p1)² + (p2 - l2)²)``. It keeps its coverage with small counts, where
    asking whether two 95% intervals overlap is a much stricter test (about 99.5% for
    equal widths) that misses real changes. Returns ``(nan, nan, nan)`` when either
    ``n`` is 0; counts outside ``0 <= k <= n`` raise :class:`TrainingError`.

    Examples
    --------
    >>> [round(v, 3) for v in wilson_difference(17, 35, 11, 13)]
    [-0.36, -0.551, -0.049]
    """
    l1, u1 = wilson_interval(k1, n1, level)  # checks the counts and the level
    l2, u2 = wilson_interval(k2, n2, level)
    if n1 <= 0 or n2 <= 0:
        return float("nan"), float("nan"), float("nan")
    p1, p2 = k1 / n1, k2 / n2
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, lo, hi


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n``.

    Returns ``(nan, nan)`` when ``n`` is 0.

    Examples
    --------
    >>> [round(v, 4) for v in wilson_interval(0, 20)]
    [0.0, 0.1611]
    >>> [round(v, 4) for v in wilson_interval(5, 50)]
    [0.0435, 0.2136]
    """
    ok = all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in (successes, n))
    if not ok or not 0 <= successes <= max(n, 0):
        raise TrainingError(
            f"wilson_interval needs whole counts with 0 <= successes <= n; got "
            f"successes={successes!r}, n={n!r}"
        )
    if not isinstance(level, float | int) or not 0 < level < 1:
        raise TrainingError(f"wilson_interval: level must be in (0, 1); got {level!r}")
    if n <= 0:
        return float("nan"), float("nan")
    z = NormalDist().inv_cdf(1 - (1 - level) / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes <= 0 else max(0.0, centre - half)
    hi = 1.0 if successes >= n else min(1.0, centre + half)
    return lo, hi


def _levels(segments: pd.DataFrame) -> list[tuple[str, str, np.ndarray]]:
    from riskscore.metrics import _segment_labels  # the recipe slice_metrics uses

    out = []
    for col in segments.columns:
        labels = _segment_labels(segments[col].reset_index(drop=True), 4, 10)
        codes, levels = pd.factorize(labels, sort=True)
        out += [(str(col), str(level), codes == i) for i, level in enumerate(levels)]
    return out


def slice_rates(
    segments: pd.DataFrame, y_true: np.ndarray, flagged: np.ndarray, *, level: float = 0.95
) -> pd.DataFrame:
    """Flag rate and FPR at the flag band per slice for one model, with Wilson intervals.

    Parameters
    ----------
    segments : pandas.DataFrame
        One column per segmentation, aligned with the labels.
    y_true : array of {0, 1}
    flagged : array of bool
        Whether each row is in the flag band.
    level : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        ``segment``, ``level``, ``n``, ``negatives``, ``flag_rate`` (``_lo``, ``_hi``),
        ``fpr`` (``_lo``, ``_hi``).

    Examples
    --------
    >>> seg = pd.DataFrame({"segment__size": ["small"] * 4 + ["large"] * 4})
    >>> t = slice_rates(seg, np.array([0, 0, 0, 1, 0, 0, 0, 1]),
    ...                 np.array([1, 1, 0, 1, 0, 0, 0, 1], dtype=bool))
    >>> t[["level", "flag_rate", "fpr"]].round(3).values.tolist()
    [['large', 0.25, 0.0], ['small', 0.75, 0.667]]
    """
    y, f = _check(segments, y_true, flagged, "slice_rates")
    rows = []
    for col, lev, m in _levels(segments):
        neg = m & (y == 0)
        n, n_neg = int(m.sum()), int(neg.sum())
        flags, fps = int((f & m).sum()), int((f & neg).sum())
        fl_lo, fl_hi = wilson_interval(flags, n, level)
        fp_lo, fp_hi = wilson_interval(fps, n_neg, level)
        rows.append(
            {
                "segment": col,
                "level": lev,
                "n": n,
                "negatives": n_neg,
                "flag_rate": flags / n if n else float("nan"),
                "flag_rate_lo": fl_lo,
                "flag_rate_hi": fl_hi,
                "fpr": fps / n_neg if n_neg else float("nan"),
                "fpr_lo": fp_lo,
                "fpr_hi": fp_hi,
            }
        )
    columns = ["segment", "level", "n", "negatives", "flag_rate", "flag_rate_lo"]
    columns += ["flag_rate_hi", "fpr", "fpr_lo", "fpr_hi"]
    return pd.DataFrame(rows, columns=columns)


def _check(
    segments: pd.DataFrame, y_true: np.ndarray, flagged: np.ndarray, where: str
) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(segments, pd.DataFrame):
        raise TrainingError(f"{where} expects segments as a DataFrame; got {type(segments)}")
    y = np.asarray(y_true, dtype=np.float64)
    f = np.asarray(flagged, dtype=bool)
    if not (len(segments) == y.size == f.size):
        raise TrainingError(
            f"{where}: segments ({len(segments)} rows), labels ({y.size}) and flags "
            f"({f.size}) must be aligned row for row"
        )
    return y, f


def slice_comparison(
    segments: pd.DataFrame,
    y_true: np.ndarray,
    flag_challenger: np.ndarray,
    flag_champion: np.ndarray,
    *,
    clusters: np.ndarray | None = None,
    n_bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Champion vs challenger flag rate and FPR per slice, with the FPR difference.

    Parameters
    ----------
    segments : pandas.DataFrame
        Slice columns aligned with the rows (may have no column: empty result).
    y_true : array of {0, 1}
    flag_challenger, flag_champion : array of bool
        Flag band membership under each model, on the same rows.
    clusters : array, optional
        Entity of each row; the bootstrap draws whole entities (default: rows).
    n_bootstrap : int, default 1000
        Paired replicates for the difference's interval; 0 uses Newcombe's hybrid score
        interval from the two Wilson intervals (conservative: it ignores the pairing).
    level : float, default 0.95
    seed : int

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SLICE_COLUMNS`; ``fpr_delta`` is challenger − champion.

    Examples
    --------
    >>> seg = pd.DataFrame({"segment__tenure": ["new"] * 100 + ["old"] * 100})
    >>> y = np.zeros(200, dtype=int)
    >>> champ = np.arange(200) % 10 == 0            # 10 % of everyone flagged
    >>> chall = champ | (np.arange(200) < 30)        # +27 new sellers flagged
    >>> t = slice_comparison(seg, y, chall, champ, n_bootstrap=0)
    >>> t[["level", "fpr_champion", "fpr_challenger", "fpr_delta"]].values.tolist()
    [['new', 0.1, 0.37, 0.27], ['old', 0.1, 0.1, 0.0]]
    >>> bool(t.loc[0, "fpr_delta_lo"] > 0)
    True
    """
    y, fa = _check(segments, y_true, flag_challenger, "slice_comparison")
    fb = np.asarray(flag_champion, dtype=bool)
    if fb.size != y.size:
        raise TrainingError("slice_comparison: flag_champion must be aligned with the labels")
    levels = _levels(segments)
    rows = []
    for col, lev, m in levels:
        neg = m & (y == 0)
        n_neg = int(neg.sum())
        fpa, fpb = int((fa & neg).sum()), int((fb & neg).sum())
        a_lo, a_hi = wilson_interval(fpa, n_neg, level)
        b_lo, b_hi = wilson_interval(fpb, n_neg, level)
        pa = fpa / n_neg if n_neg else float("nan")
        pb = fpb / n_neg if n_neg else float("nan")
        delta = pa - pb
        # Newcombe's hybrid score interval (replaced below by the paired bootstrap)
        d_lo = delta - math.sqrt((pa - a_lo) ** 2 + (b_hi - pb) ** 2) if n_neg else math.nan
        d_hi = delta + math.sqrt((a_hi - pa) ** 2 + (pb - b_lo) ** 2) if n_neg else math.nan
        rows.append(
            {
                "segment": col,
                "level": lev,
                "n": int(m.sum()),
                "negatives": n_neg,
                "flag_rate_champion": float(fb[m].mean()) if m.any() else math.nan,
                "flag_rate_challenger": float(fa[m].mean()) if m.any() else math.nan,
                "fpr_champion": pb,
                "fpr_champion_lo": b_lo,
                "fpr_champion_hi": b_hi,
                "fpr_challenger": pa,
                "fpr_challenger_lo": a_lo,
                "fpr_challenger_hi": a_hi,
                "fpr_delta": delta,
                "fpr_delta_lo": d_lo,
                "fpr_delta_hi": d_hi,
            }
        )
    out = pd.DataFrame(rows, columns=list(SLICE_COLUMNS))
    if n_bootstrap > 0 and levels:
        _bootstrap_fpr_delta(out, levels, y, fa, fb, clusters, n_bootstrap, level, seed)
    return out


def _bootstrap_fpr_delta(
    out: pd.DataFrame,
    levels: Sequence[tuple[str, str, np.ndarray]],
    y: np.ndarray,
    fa: np.ndarray,
    fb: np.ndarray,
    clusters: np.ndarray | None,
    n_bootstrap: int,
    level: float,
    seed: int,
) -> None:
    from riskscore.modeling._paired import _weight_blocks

    ids = np.arange(y.size) if clusters is None else np.asarray(clusters)
    neg = np.stack([m & (y == 0) for _, _, m in levels], axis=1).astype(np.float64)
    fp_diff = neg * (fa.astype(np.float64) - fb.astype(np.float64))[:, None]
    diffs = []
    for w in _weight_blocks(ids, n_bootstrap, seed):
        with np.errstate(invalid="ignore", divide="ignore"):
            diffs.append((w @ fp_diff) / (w @ neg))
    d = np.concatenate(diffs)
    tail = 100 * (1 - level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a slice without negatives
        lo = np.nanpercentile(d, tail, axis=0)
        hi = np.nanpercentile(d, 100 - tail, axis=0)
    out["fpr_delta_lo"] = lo
    out["fpr_delta_hi"] = hi
