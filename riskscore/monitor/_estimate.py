"""Performance while labels are delayed: what calibrated probabilities promise.

When the model's probabilities are calibrated and the relation between features and fraud
still holds (covariate shift at most), each unlabelled row ``i`` is a positive with
probability ``p_i``. The number of positives among the flagged rows is then a sum of
independent Bernoulli draws — a Poisson-binomial variable with mean ``Σ p_i`` and variance
``Σ p_i (1 - p_i)`` — so the expected precision at the flag band is the mean ``p`` of the
flagged rows, and its interval comes from the Poisson-binomial distribution (exact, by
convolution, up to :data:`EXACT_MAX` rows; a normal approximation beyond). Expected
recall is the expected positives flagged over all expected positives, its interval
simulated from the two (independent) sums.

What the interval does not hold: the uncertainty of the calibration itself. Under concept
shift (the same features, a new fraud pattern) the probabilities are no longer calibrated
and the estimate keeps reporting good health while the model fails: compare it with the
realised figures once labels mature, and with fast proxy outcomes before.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskscore._validation import check_int, check_real, fail
from riskscore.monitor._errors import MonitorError
from riskscore.monitor._reference import FLAG_BANDS, _finite, numeric_values

__all__ = [
    "EXACT_MAX",
    "PerformanceEstimate",
    "estimate_performance",
    "poisson_binomial_interval",
    "poisson_binomial_pmf",
]

#: Rows up to which the Poisson-binomial distribution is computed exactly.
EXACT_MAX = 20_000


def poisson_binomial_pmf(p: np.ndarray) -> np.ndarray:
    """Return ``P(K = k)`` for ``k = 0..n`` successes of independent Bernoulli(``p``) draws.

    The product of the polynomials ``(1 - p_i) + p_i x``, multiplied pairwise in a tree
    whose levels are batched FFT convolutions (``p`` is padded with zeros to a power of
    two; a Bernoulli(0) adds nothing): ``O(n log² n)``. Round-off (about 1e-16) is clipped
    at 0 and the result renormalised.

    Examples
    --------
    >>> np.round(poisson_binomial_pmf(np.array([0.5, 0.5])), 12).tolist()
    [0.25, 0.5, 0.25]
    """
    q = np.asarray(p, dtype=np.float64).ravel()
    n = q.size
    if n == 0:
        return np.ones(1)
    size = 1 << (n - 1).bit_length()
    padded = np.zeros(size)
    padded[:n] = q
    polys = np.stack([1.0 - padded, padded], axis=1)
    while polys.shape[0] > 1:
        m = 2 * polys.shape[1] - 1
        product = np.fft.rfft(polys[0::2], n=m, axis=1) * np.fft.rfft(polys[1::2], n=m, axis=1)
        polys = np.fft.irfft(product, n=m, axis=1)
    pmf = np.clip(polys[0][: n + 1], 0.0, None)
    return pmf / pmf.sum()


def poisson_binomial_interval(p: np.ndarray, level: float = 0.95) -> tuple[int, int]:
    """Return the central ``level`` interval of the number of successes of Bernoulli(``p``).

    Exact (convolution) up to :data:`EXACT_MAX` probabilities, else a normal approximation
    with continuity correction.

    Examples
    --------
    >>> poisson_binomial_interval(np.full(100, 0.5))
    (40, 60)
    """
    p = np.asarray(p, dtype=np.float64)
    alpha = (1.0 - level) / 2.0
    if p.size == 0:
        return 0, 0
    if p.size <= EXACT_MAX:
        cdf = np.cumsum(poisson_binomial_pmf(p))
        lo = int(np.searchsorted(cdf, alpha - 1e-12))
        hi = int(np.searchsorted(cdf, 1.0 - alpha - 1e-12))
        return lo, min(hi, p.size)
    from statistics import NormalDist

    z = NormalDist().inv_cdf(1 - alpha)
    mu, sd = float(p.sum()), math.sqrt(float(np.sum(p * (1 - p))))
    return max(0, math.floor(mu - z * sd - 0.5)), min(p.size, math.ceil(mu + z * sd + 0.5))


@dataclass(frozen=True)
class PerformanceEstimate:
    """Expected performance of an unlabelled scoring run, from calibrated probabilities.

    Attributes
    ----------
    rows, flagged : int
        Rows scored and rows in the flag bands.
    expected_positives : float
        ``Σ p`` over all rows.
    positives_lo, positives_hi : int
        Interval of the positives among all rows.
    expected_flagged_positives : float
        ``Σ p`` over flagged rows.
    precision, precision_lo, precision_hi : float
        Expected precision among flagged rows and its interval (NaN when none flagged).
    recall, recall_lo, recall_hi : float
        Expected share of all positives that are flagged, with its interval.
    level : float
        Confidence level of the intervals.
    """

    rows: int
    flagged: int
    expected_positives: float
    positives_lo: int
    positives_hi: int
    expected_flagged_positives: float
    precision: float
    precision_lo: float
    precision_hi: float
    recall: float
    recall_lo: float
    recall_hi: float
    level: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN as None)."""
        return _finite(asdict(self))

    def covers(self, realised_precision: float) -> bool:
        """Whether a realised precision lies inside the estimated interval."""
        return bool(self.precision_lo <= realised_precision <= self.precision_hi)


def estimate_performance(
    scores: pd.DataFrame,
    *,
    flag_bands: Sequence[str] = FLAG_BANDS,
    threshold: float | None = None,
    level: float = 0.95,
    n_sim: int = 4000,
    seed: int = 0,
) -> PerformanceEstimate:
    """Estimate precision at the flag band, expected positives and recall without labels.

    Parameters
    ----------
    scores : pandas.DataFrame
        A scoring run: ``score`` (the calibrated probability) and ``band`` (or pass
        ``threshold``).
    flag_bands : sequence of str, default ("high", "critical")
        Bands whose rows are flagged.
    threshold : float, optional
        Flag rows with ``score >= threshold`` instead of by band.
    level : float, default 0.95
        Confidence level of the intervals.
    n_sim : int, default 4000
        Draws for the recall interval.
    seed : int, default 0

    Returns
    -------
    PerformanceEstimate

    Raises
    ------
    MonitorError
        No ``score`` column, probabilities outside [0, 1], or no ``band`` and no threshold.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = rng.beta(0.5, 8, 5000)
    >>> run = pd.DataFrame({"score": p, "band": np.where(p > 0.3, "high", "low")})
    >>> est = estimate_performance(run)
    >>> est.flagged, round(est.precision, 2), est.precision_lo < est.precision < est.precision_hi
    (105, 0.38, True)
    """
    where = "estimate_performance"
    if not isinstance(scores, pd.DataFrame) or "score" not in scores.columns:
        got = list(scores.columns)[:6] if isinstance(scores, pd.DataFrame) else scores
        raise fail(
            "scores",
            where,
            "a DataFrame with a 'score' column (calibrated probabilities)",
            got,
            error=MonitorError,
        )
    level = check_real(
        level, "level", where, low=0, high=1, low_open=True, high_open=True, error=MonitorError
    )
    n_sim = check_int(n_sim, "n_sim", where, minimum=100, error=MonitorError)
    p = numeric_values(scores["score"])
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if bad.any():
        raise MonitorError(
            f"estimate_performance: {int(bad.sum())} of {p.size} scores are missing or outside "
            f"[0, 1] (e.g. {p[bad][:3].tolist()}); expected calibrated probabilities in the "
            "'score' column. Drop or fix those rows."
        )
    if threshold is not None:
        t = check_real(threshold, "threshold", where, low=0, high=1, error=MonitorError)
        flagged = p >= t
    elif "band" in scores.columns:
        flagged = scores["band"].astype(str).isin([str(b) for b in flag_bands]).to_numpy()
    else:
        raise MonitorError(
            "estimate_performance needs a 'band' column or threshold=... to know which rows "
            f"are flagged; got columns {list(scores.columns)[:6]}."
        )
    pf, pu = p[flagged], p[~flagged]
    n_f = int(flagged.sum())
    lo_all, hi_all = poisson_binomial_interval(p, level)
    if n_f:
        lo_f, hi_f = poisson_binomial_interval(pf, level)
        precision, p_lo, p_hi = float(pf.mean()), lo_f / n_f, hi_f / n_f
    else:
        precision = p_lo = p_hi = float("nan")
    # recall: simulate the two independent sums (normal approximation of each)
    rng = np.random.default_rng(seed)
    mf, vf = float(pf.sum()), float(np.sum(pf * (1 - pf)))
    mu, vu = float(pu.sum()), float(np.sum(pu * (1 - pu)))
    tf = np.clip(rng.normal(mf, math.sqrt(vf), n_sim), 0, None)
    tu = np.clip(rng.normal(mu, math.sqrt(vu), n_sim), 0, None)
    total = tf + tu
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(total > 0, tf / total, np.nan)
    recall = mf / (mf + mu) if mf + mu > 0 else float("nan")
    a = (1 - level) / 2
    r_lo, r_hi = (
        (float(np.nanquantile(ratio, a)), float(np.nanquantile(ratio, 1 - a)))
        if np.isfinite(ratio).any()
        else (float("nan"), float("nan"))
    )
    return PerformanceEstimate(
        rows=int(p.size),
        flagged=n_f,
        expected_positives=float(p.sum()),
        positives_lo=lo_all,
        positives_hi=hi_all,
        expected_flagged_positives=mf,
        precision=precision,
        precision_lo=p_lo,
        precision_hi=p_hi,
        recall=recall,
        recall_lo=r_lo,
        recall_hi=r_hi,
        level=level,
    )
