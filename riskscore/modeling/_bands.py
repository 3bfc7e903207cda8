"""The 0–1000 risk score, the threshold table and the low/medium/high/critical bands.

Risk score
----------
A risk score ``r`` in 0..1000 says how rarely a *legitimate* entity scores that high: it
is the false-positive rate measured at training time, on a log scale,

``r = 1000 * log10(FPR) / log10(fpr_floor)``, with ``fpr_floor = 1e-4`` by default,

so every 250 points means ten times fewer false alarms:

=========  ==================================================
risk       share of legitimate entities scoring at least this
=========  ==================================================
0          100 %
250        10 %
425        2 %
500        1 %
750        0.1 %
1000       0.01 % (or less)
=========  ==================================================

The FPR is measured on the negatives of the validation and calibration windows (held out
from training, older than the test window). Below the smallest measurable FPR (one
negative) the map is extended linearly in raw score with the slope of its last decade.
The map is strictly increasing in the raw score, so the risk score ranks entities exactly
like the probability does.

Bands
-----
:class:`Bands` holds three risk-score thresholds (``medium``, ``high``, ``critical``).
:func:`bands_from_capacity` places them where the review volume per cutoff (or day) is
3×, 1× and 0.2× the team's capacity: ``high`` and ``critical`` together are what the team
can review; ``critical`` is the top fifth of it. When more entities than that sit at the
top of the scale (risk 1000: beyond the FPR floor), the band starts at 1000 and holds
them all; lower ``fpr_floor`` for very large populations. :func:`bands_from_cost` places ``high`` at
the break-even probability ``1 / (1 + cost_ratio)`` (``cost_ratio`` = cost of a missed
fraud / cost of a wasted review) and ``medium`` / ``critical`` a factor ``spread`` lower /
higher in odds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskscore.modeling._calibration import Calibrator

__all__ = [
    "BANDS",
    "Bands",
    "RiskScale",
    "bands_from_capacity",
    "bands_from_cost",
    "threshold_table",
]

#: Band names, lowest risk first.
BANDS: tuple[str, ...] = ("low", "medium", "high", "critical")

#: Top of the risk scale.
MAX_RISK = 1000


@dataclass(frozen=True)
class RiskScale:
    """Monotone map from raw score (log-odds) to a 0–1000 risk score.

    Parameters
    ----------
    raw_knots, risk_knots : list of float
        Increasing knots; :meth:`transform` interpolates linearly between them and clips
        outside.
    fpr_floor : float
        The FPR that maps to 1000.

    Examples
    --------
    >>> neg = np.random.default_rng(0).normal(size=10_000)   # raw scores of negatives
    >>> scale = RiskScale.fit(neg)
    >>> scale.transform(np.quantile(neg, [0.9, 0.99, 0.999])).tolist()   # 10 %, 1 %, 0.1 % FPR
    [250, 500, 750]
    >>> round(scale.fpr_at(500), 4)
    0.01
    """

    raw_knots: list[float]
    risk_knots: list[float]
    fpr_floor: float = 1e-4

    @classmethod
    def fit(
        cls, raw_negatives: npt.ArrayLike, *, fpr_floor: float = 1e-4, knots_per_decade: int = 20
    ) -> RiskScale:
        """Measure the FPR of each raw score on the negatives of held-out windows."""
        neg = np.sort(np.asarray(raw_negatives, dtype=np.float64).ravel())
        if neg.size < 2:
            raise ValueError("the risk scale needs the scores of at least 2 negatives")
        if not 0 < fpr_floor < 1:
            raise ValueError(f"fpr_floor must be in (0, 1). Got {fpr_floor} instead.")
        decades = -np.log10(fpr_floor)
        measurable = min(decades, np.log10(neg.size))
        n_knots = int(np.floor(measurable * knots_per_decade)) + 1
        log_fpr = -np.arange(n_knots) / knots_per_decade
        fpr = 10.0**log_fpr
        raw = np.quantile(neg, 1.0 - fpr)
        risk = MAX_RISK * (-log_fpr) / decades
        raw, first = np.unique(raw, return_index=True)
        risk = risk[first]
        if risk[-1] < MAX_RISK:
            tail = risk >= risk[-1] - MAX_RISK / decades
            slope = np.polyfit(raw[tail], risk[tail], 1)[0] if tail.sum() >= 2 else np.nan
            span = raw[-1] - raw[0] if raw.size > 1 else 1.0
            step = (MAX_RISK - risk[-1]) / slope if np.isfinite(slope) and slope > 0 else span
            raw = np.r_[raw, raw[-1] + step]
            risk = np.r_[risk, MAX_RISK]
        return cls([float(v) for v in raw], [float(v) for v in risk], float(fpr_floor))

    def transform(self, raw: npt.ArrayLike) -> np.ndarray:
        """Integer risk score (int64 array) for each raw score."""
        r = np.interp(np.asarray(raw, dtype=np.float64), self.raw_knots, self.risk_knots)
        return np.rint(r).astype(np.int64)

    def raw_at(self, risk: npt.ArrayLike) -> np.ndarray:
        """Return the raw score at which the risk score reaches ``risk`` (inverse map)."""
        out: np.ndarray = np.interp(
            np.asarray(risk, dtype=np.float64), self.risk_knots, self.raw_knots
        )
        return out

    def fpr_at(self, risk: float) -> float:
        """Return the training-time false-positive rate at risk score ``risk``."""
        return float(10.0 ** (risk / MAX_RISK * np.log10(self.fpr_floor)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "raw_knots": self.raw_knots,
            "risk_knots": self.risk_knots,
            "fpr_floor": self.fpr_floor,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RiskScale:
        """Inverse of :meth:`to_dict`."""
        return cls(
            [float(v) for v in data["raw_knots"]],
            [float(v) for v in data["risk_knots"]],
            float(data["fpr_floor"]),
        )


@dataclass(frozen=True)
class Bands:
    """Risk-score thresholds of the ``medium``, ``high`` and ``critical`` bands.

    A risk score ``r`` is in the highest band whose threshold it reaches; below ``medium``
    it is ``low``. A threshold of 1001 means the band is never used.

    Examples
    --------
    >>> b = Bands({"medium": 300, "high": 600, "critical": 800})
    >>> b.assign(np.array([0, 300, 599, 600, 1000])).tolist()
    ['low', 'medium', 'medium', 'high', 'critical']
    """

    thresholds: dict[str, int]
    source: str = "manual"
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        values = [self.thresholds.get(b) for b in BANDS[1:]]
        if any(v is None for v in values) or sorted(values) != values:  # type: ignore[type-var]
            raise ValueError(
                "band thresholds need 'medium' <= 'high' <= 'critical'. "
                f"Got {self.thresholds} instead."
            )

    def assign(self, risk: npt.ArrayLike) -> np.ndarray:
        """Band name of each risk score (array of str)."""
        cuts = [self.thresholds[b] for b in BANDS[1:]]
        idx = np.searchsorted(cuts, np.asarray(risk), side="right")
        return np.asarray(BANDS, dtype=object)[idx]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"thresholds": dict(self.thresholds), "source": self.source, "details": self.details}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Bands:
        """Inverse of :meth:`to_dict`."""
        return cls(
            {k: int(v) for k, v in data["thresholds"].items()},
            str(data.get("source", "manual")),
            dict(data.get("details", {})),
        )


def _flagged_per_group(risk: np.ndarray, n_groups: float) -> np.ndarray:
    """Mean number of rows with risk >= r per group, for r = 0..1001."""
    counts = np.bincount(np.clip(risk, 0, MAX_RISK), minlength=MAX_RISK + 1)
    at_least = np.r_[np.cumsum(counts[::-1])[::-1], 0]
    return at_least / max(n_groups, 1e-9)


def _monotone(values: Sequence[int]) -> list[int]:
    out: list[int] = []
    for v in values:
        out.append(int(min(max(v, out[-1] if out else 0), MAX_RISK + 1)))
    return out


def bands_from_capacity(
    risk: npt.ArrayLike,
    *,
    capacity: int,
    n_groups: float = 1.0,
    multiples: tuple[float, float, float] = (3.0, 1.0, 0.2),
) -> Bands:
    """Bands whose review volume is ``multiples × capacity`` per group.

    Parameters
    ----------
    risk : array-like of int
        Risk scores of a recent window (labels are not needed).
    capacity : int
        Reviews the team does per cutoff (or per day).
    n_groups : float, default 1
        Number of cutoffs (or days) in ``risk``, times the share of the population they
        cover.
    multiples : three floats, default (3, 1, 0.2)
        Volume of ``medium``, ``high`` and ``critical`` (and above), in units of capacity.

    Examples
    --------
    >>> risk = np.arange(1000)            # one entity at each risk score 0..999
    >>> bands_from_capacity(risk, capacity=100).thresholds
    {'medium': 700, 'high': 900, 'critical': 980}
    """
    r = np.asarray(risk, dtype=np.int64).ravel()
    per_group = _flagged_per_group(r, n_groups)
    cuts = []
    for m in multiples:
        ok = np.flatnonzero(per_group <= m * capacity)
        # when more than the target volume sits at the top of the scale (risk 1000, scores
        # beyond the FPR floor), the band starts at 1000 rather than never being used
        cuts.append(min(int(ok[0]), MAX_RISK))
    medium, high, critical = _monotone(cuts)
    return Bands(
        {"medium": medium, "high": high, "critical": critical},
        source="capacity",
        details={
            "capacity": int(capacity),
            "multiples": list(multiples),
            "n_groups": float(n_groups),
        },
    )


def bands_from_cost(
    calibrator: Calibrator,
    scale: RiskScale,
    *,
    cost_ratio: float,
    spread: float = 3.0,
) -> Bands:
    """Bands around the break-even probability of a review.

    Reviewing pays off when ``p * cost_missed > (1 - p) * cost_review``, that is when
    ``p >= 1 / (1 + cost_ratio)``: that is where ``high`` starts. ``medium`` starts at
    odds ``spread`` times lower and ``critical`` at odds ``spread`` times higher.

    Examples
    --------
    >>> scale = RiskScale([0.0, 10.0], [0.0, 1000.0])
    >>> cal = Calibrator("platt", {"a": 1.0, "b": -5.0})   # p = 0.5 at raw 5 (risk 500)
    >>> bands_from_cost(cal, scale, cost_ratio=1.0).thresholds
    {'medium': 391, 'high': 500, 'critical': 610}
    """
    if cost_ratio <= 0 or spread < 1:
        raise ValueError(
            f"cost_ratio must be > 0 and spread >= 1. Got cost_ratio={cost_ratio}, spread={spread}."
        )
    grid = np.arange(MAX_RISK + 1)
    p = calibrator.transform(scale.raw_at(grid))
    odds = p / np.maximum(1 - p, 1e-300)
    base = 1.0 / cost_ratio
    cuts = []
    for target in (base / spread, base, base * spread):
        ok = np.flatnonzero(odds >= target * (1 - 1e-9))
        cuts.append(int(ok[0]) if ok.size else MAX_RISK + 1)
    medium, high, critical = _monotone(cuts)
    return Bands(
        {"medium": medium, "high": high, "critical": critical},
        source="cost",
        details={"cost_ratio": float(cost_ratio), "spread": float(spread)},
    )


def threshold_table(
    y_true: npt.ArrayLike,
    risk: npt.ArrayLike,
    *,
    scale: RiskScale,
    calibrator: Calibrator,
    n_groups: float = 1.0,
    days_per_group: float = 1.0,
    step: int = 10,
) -> pd.DataFrame:
    """Tabulate precision, recall, FPR and review volume per risk-score threshold.

    Each row assumes everything at or above its risk score is reviewed.

    Parameters
    ----------
    y_true : array-like of {0, 1}
    risk : array-like of int
        Risk scores of the evaluation window.
    scale, calibrator
        Of the model, to report the raw score and probability at each threshold.
    n_groups : float, default 1
        Cutoffs (or days) in the window, times the share of the population it covers.
    days_per_group : float, default 1
        Days one cutoff's review queue is worked over (the cutoff spacing), for
        ``review_per_day``.
    step : int, default 10
        Risk-score spacing of the rows.

    Examples
    --------
    >>> scale = RiskScale([0.0, 10.0], [0.0, 1000.0])
    >>> cal = Calibrator("none")
    >>> t = threshold_table([0, 0, 1, 1], [100, 400, 350, 800], scale=scale, calibrator=cal,
    ...                     step=250)
    >>> t["flagged"].tolist(), t["recall"].tolist(), t["fpr"].tolist()
    ([4, 3, 1, 1, 0], [1.0, 1.0, 0.5, 0.5, 0.0], [1.0, 0.5, 0.0, 0.0, 0.0])
    >>> t["precision"].round(3).tolist()
    [0.5, 0.667, 1.0, 1.0, nan]
    """
    y = np.asarray(y_true, dtype=np.float64).ravel()
    r = np.asarray(risk, dtype=np.int64).ravel()
    grid = np.arange(0, MAX_RISK + 1, step)
    order = np.argsort(r, kind="stable")
    r_sorted, y_sorted = r[order], y[order]
    pos_ge = np.r_[np.cumsum(y_sorted[::-1])[::-1], 0.0]
    first = np.searchsorted(r_sorted, grid, side="left")
    flagged = r.size - first
    tp = pos_ge[first]
    fp = flagged - tp
    n_pos, n_neg = y.sum(), y.size - y.sum()
    raw = scale.raw_at(grid)
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame(
            {
                "risk_score": grid,
                "raw_score": raw,
                "probability": calibrator.transform(raw),
                "training_fpr": [scale.fpr_at(float(g)) for g in grid],
                "flagged": flagged.astype(np.int64),
                "flagged_per_group": flagged / max(n_groups, 1e-9),
                "review_per_day": flagged / max(n_groups, 1e-9) / max(days_per_group, 1e-9),
                "tp": tp.astype(np.int64),
                "fp": fp.astype(np.int64),
                "precision": np.where(flagged > 0, tp / np.maximum(flagged, 1), np.nan),
                "recall": tp / n_pos if n_pos else np.full(grid.size, np.nan),
                "fpr": fp / n_neg if n_neg else np.full(grid.size, np.nan),
            }
        )
    return table
