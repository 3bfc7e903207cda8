"""The 0–1000 risk score, the threshold table and the low/medium/high/critical bands.

Risk score
----------
A risk score ``r`` says how rarely a *legitimate* entity scores that high: it is the
false-positive rate measured at training time, on a log scale,

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
1000       0.01 %
=========  ==================================================

The FPR is measured on the negatives of the validation and calibration windows (held out
from training, older than the test window; or out-of-fold scores of the whole period).
Below the smallest measurable FPR (one negative) the map is extended linearly in raw score
with the slope of its last decade.

The risk score is a **float** and **strictly increasing** in the raw score over the whole
line, so it orders entities exactly as the model does (a review queue sorted by it loses
nothing; an integer score had 749 distinct values over 58k rows on a public benchmark and
cost 6% of average precision). 0–1000 is the measured scale. Above the top knot the map
continues with the slope of its last segment (above 1000 an entity is rarer than the FPR
floor); below the second knot (FPR about 94%) it decays exponentially towards 0 with the
slope where they meet, so entities under every fitted negative still rank, inside
(0, 12.5), and the score never goes negative. Show it rounded; sort and threshold on the float.

Bands
-----
:class:`Bands` holds three risk-score thresholds (``medium``, ``high``, ``critical``).
:func:`bands_from_capacity` places them where the review volume per cutoff (or day) is
3×, 1× and 0.2× the team's capacity: ``high`` and ``critical`` together are what the team
can review; ``critical`` is the top fifth of it. Each threshold lies halfway between two
observed scores, so every band holds at least one entity of the window it was set on
(every band is reachable). :func:`bands_from_cost` places ``high`` at the break-even
probability ``1 / (1 + cost_ratio)`` (``cost_ratio`` = cost of a missed fraud / cost of a
wasted review) and ``medium`` / ``critical`` a factor ``spread`` lower / higher in odds;
a threshold the calibrated probability never reaches is ``inf`` (stored as ``null``).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskscore._validation import (
    as_float_array,
    as_labels,
    check_int,
    check_real,
    check_same_length,
    fail,
)
from riskscore.exceptions import TrainingError
from riskscore.modeling._calibration import Calibrator

__all__ = [
    "BANDS",
    "Bands",
    "RiskScale",
    "bands_from_capacity",
    "bands_from_cost",
    "capacity_note",
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
    >>> scale.transform(np.quantile(neg, [0.9, 0.99, 0.999])).round(6).tolist()  # 10, 1, 0.1 % FPR
    [250.0, 500.0, 750.0]
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
        """Measure the FPR of each raw score on the negatives of held-out windows.

        Raises
        ------
        TrainingError
            When there are fewer than 2 finite scores, or ``fpr_floor`` is not in (0, 1).
        """
        where = "RiskScale.fit"
        neg = np.sort(
            as_float_array(
                raw_negatives, "raw_negatives", where, allow_nan=True, error=TrainingError
            )
        )
        knots_per_decade = check_int(
            knots_per_decade, "knots_per_decade", where, minimum=1, error=TrainingError
        )
        if neg.size < 2:
            raise TrainingError(
                f"the risk scale needs the scores of at least 2 negatives; got {neg.size}. "
                "Widen the validation/calibration windows"
            )
        if not np.all(np.isfinite(neg)):
            raise TrainingError(
                f"the risk scale got {int((~np.isfinite(neg)).sum())} non-finite raw score(s) "
                f"of negatives out of {neg.size}; drop rows whose features make the score "
                "NaN or infinite"
            )
        fpr_floor = check_real(
            fpr_floor,
            "fpr_floor",
            where,
            low=0,
            high=1,
            low_open=True,
            high_open=True,
            error=TrainingError,
        )
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

    def _end_slopes(self) -> tuple[float, float]:
        """Risk points per raw unit of the first and last segment (1.0 for a single knot)."""
        x, r = self.raw_knots, self.risk_knots
        if len(x) < 2:
            return 1.0, 1.0
        lo = (r[1] - r[0]) / (x[1] - x[0])
        hi = (r[-1] - r[-2]) / (x[-1] - x[-2])
        return (lo if lo > 0 else 1.0), (hi if hi > 0 else 1.0)

    def _floor_knot(self) -> tuple[float, float, float] | None:
        """``(x1, r1, slope)`` of the first segment, below which the score decays to 0."""
        x, r = self.raw_knots, self.risk_knots
        if len(x) < 3 or r[1] <= 0:  # a hand-made two-knot scale extends linearly
            return None
        return x[1], r[1], self._end_slopes()[0]

    def transform(self, raw: npt.ArrayLike) -> np.ndarray:
        """Risk score (float64 array), strictly increasing in the raw score."""
        x = as_float_array(
            raw, "raw", "RiskScale.transform", allow_nan=True, flatten=False, error=TrainingError
        )
        inner = np.interp(x, self.raw_knots, self.risk_knots)
        lo, hi = self._end_slopes()
        above = self.risk_knots[-1] + hi * (x - self.raw_knots[-1])
        floor = self._floor_knot()
        if floor is None:
            below = self.risk_knots[0] + lo * (x - self.raw_knots[0])
            low_end = self.raw_knots[0]
        else:
            x1, r1, slope = floor
            with np.errstate(under="ignore"):
                below = r1 * np.exp(np.minimum(slope * (x - x1) / r1, 0.0))
            low_end = x1
        out: np.ndarray = np.where(
            x < low_end, below, np.where(x > self.raw_knots[-1], above, inner)
        )
        return out

    def raw_at(self, risk: npt.ArrayLike) -> np.ndarray:
        """Return the raw score at which the risk score reaches ``risk`` (inverse map).

        Risk scores at or below 0 have no raw score (``-inf``).
        """
        r = as_float_array(
            risk, "risk", "RiskScale.raw_at", allow_nan=True, flatten=False, error=TrainingError
        )
        inner = np.interp(r, self.risk_knots, self.raw_knots)
        lo, hi = self._end_slopes()
        above = self.raw_knots[-1] + (r - self.risk_knots[-1]) / hi
        floor = self._floor_knot()
        if floor is None:
            below = self.raw_knots[0] + (r - self.risk_knots[0]) / lo
            low_end = self.risk_knots[0]
        else:
            x1, r1, slope = floor
            with np.errstate(divide="ignore", invalid="ignore"):
                below = np.where(r > 0, x1 + r1 / slope * np.log(np.maximum(r, 0) / r1), -np.inf)
            low_end = r1
        out: np.ndarray = np.where(
            r < low_end, below, np.where(r > self.risk_knots[-1], above, inner)
        )
        return out

    def fpr_at(self, risk: float) -> float:
        """Return the training-time false-positive rate at risk score ``risk``."""
        risk = check_real(risk, "risk", "RiskScale.fpr_at", error=TrainingError)
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
        try:
            raw = [float(v) for v in data["raw_knots"]]
            risk = [float(v) for v in data["risk_knots"]]
            floor = float(data["fpr_floor"])
        except (KeyError, TypeError, ValueError) as err:
            raise TrainingError(
                "a stored risk scale must be a dict with 'raw_knots', 'risk_knots' (lists of "
                f"numbers) and 'fpr_floor'. Got {str(data)[:80]} ({type(err).__name__}: {err}); "
                "was riskmodel.json edited by hand? Re-save the model"
            ) from None
        if len(raw) != len(risk) or not raw:
            raise TrainingError(
                f"a stored risk scale needs as many raw as risk knots (at least one). Got "
                f"{len(raw)} and {len(risk)}; was riskmodel.json edited by hand?"
            )
        return cls(raw, risk, floor)


@dataclass(frozen=True)
class Bands:
    """Risk-score thresholds of the ``medium``, ``high`` and ``critical`` bands.

    A risk score ``r`` is in the highest band whose threshold it reaches; below ``medium``
    it is ``low``. A threshold of ``inf`` means the band is never used.

    Examples
    --------
    >>> b = Bands({"medium": 300, "high": 600, "critical": 800.5})
    >>> b.assign(np.array([0, 300, 599.9, 600, 1000])).tolist()
    ['low', 'medium', 'medium', 'high', 'critical']
    """

    thresholds: dict[str, float]
    source: str = "manual"
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.thresholds, dict):
            raise fail(
                "thresholds",
                "Bands",
                "a dict {'medium': .., 'high': .., 'critical': ..}",
                self.thresholds,
                error=TrainingError,
            )
        values = [self.thresholds.get(b) for b in BANDS[1:]]
        all_numbers = all(
            isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
            for v in values
        )
        if (
            not all_numbers
            or any(np.isnan(v) for v in values)  # type: ignore[arg-type]
            or sorted(values) != values  # type: ignore[type-var]
        ):
            raise TrainingError(
                "band thresholds need 'medium' <= 'high' <= 'critical'. "
                f"Got {self.thresholds} instead."
            )

    def assign(self, risk: npt.ArrayLike) -> np.ndarray:
        """Band name of each risk score (array of str)."""
        cuts = np.asarray([self.thresholds[b] for b in BANDS[1:]], dtype=np.float64)
        r = as_float_array(
            risk, "risk", "Bands.assign", allow_nan=True, flatten=False, error=TrainingError
        )
        idx = np.searchsorted(cuts, r, side="right")
        return np.asarray(BANDS, dtype=object)[idx]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"thresholds": dict(self.thresholds), "source": self.source, "details": self.details}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Bands:
        """Inverse of :meth:`to_dict`."""
        try:
            thresholds = {
                k: (np.inf if v is None else float(v)) for k, v in data["thresholds"].items()
            }
            source, details = str(data.get("source", "manual")), dict(data.get("details", {}))
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise TrainingError(
                "stored bands must be a dict with 'thresholds' (band name to number) and "
                f"optional 'source' and 'details'. Got {str(data)[:80]} "
                f"({type(err).__name__}: {err}); was riskmodel.json edited by hand?"
            ) from None
        return cls(thresholds, source, details)


def _monotone(values: Sequence[float]) -> list[float]:
    out: list[float] = []
    for v in values:
        out.append(float(max(v, out[-1])) if out else float(v))
    return out


def _threshold_for_volume(desc: np.ndarray, volume: float) -> float:
    """Threshold flagging at most ``max(1, floor(volume))`` rows of ``desc`` (descending).

    It lies halfway between the last flagged and the first unflagged score. Where tied
    scores straddle the boundary it moves above the tie (fewer rows, never more), unless
    that would flag nothing: a band always holds at least one row.
    """
    if desc.size == 0:
        return float(np.inf)
    k = int(min(max(1, np.floor(volume + 1e-9)), desc.size))
    if k == desc.size:
        return float(desc[-1])
    v = desc[k - 1]
    if desc[k] < v:
        return float((v + desc[k]) / 2)
    above = int(np.searchsorted(-desc, -v, side="left"))  # rows strictly above the tie
    if above == 0:
        return float(v)
    return float((desc[above - 1] + v) / 2)


def capacity_note(capacity: int, n_rows: int, n_groups: float) -> str | None:
    """Say when ``capacity`` reviews per group cover every row: the bands then collapse.

    Returns the note, or None when the capacity leaves rows unreviewed.

    Examples
    --------
    >>> capacity_note(100, 1203, 71.0)[:60]
    'capacity 100 per group is at least the 16.9 rows a group hol'
    >>> capacity_note(10, 1203, 71.0) is None
    True
    """
    groups = max(float(n_groups), 1e-9)
    if capacity * groups < n_rows:
        return None
    return (
        f"capacity {capacity} per group is at least the {n_rows / groups:,.1f} rows a group "
        "holds (on the test side): every row is "
        "flagged, so the bands collapse and precision/recall at capacity say nothing; set "
        "capacity (--capacity) to the reviews per group (a cutoff, or a day of a daily "
        "time column), or place the bands by cost_ratio (--cost-ratio)"
    )


def bands_from_capacity(
    risk: npt.ArrayLike,
    *,
    capacity: int,
    n_groups: float = 1.0,
    multiples: tuple[float, float, float] = (3.0, 1.0, 0.2),
) -> Bands:
    """Bands whose review volume is ``multiples × capacity`` per group.

    Each threshold flags ``floor(multiple × capacity × n_groups)`` rows of ``risk`` (at
    least one, so every band is reachable), halfway between two observed scores.

    Parameters
    ----------
    risk : array-like of float
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
    >>> risk = np.arange(1000.0)            # one entity at each risk score 0..999
    >>> bands_from_capacity(risk, capacity=100).thresholds
    {'medium': 699.5, 'high': 899.5, 'critical': 979.5}
    """
    where = "bands_from_capacity"
    capacity = check_int(capacity, "capacity", where, minimum=1, error=TrainingError)
    n_groups = check_real(n_groups, "n_groups", where, low=0, error=TrainingError)
    if (
        not isinstance(multiples, Sequence)
        or len(multiples) != 3
        or not all(isinstance(m, numbers.Real) and m > 0 and np.isfinite(m) for m in multiples)
    ):
        raise fail(
            "multiples",
            where,
            "three positive numbers (medium, high, critical)",
            multiples,
            error=TrainingError,
        )
    r = as_float_array(risk, "risk", where, allow_nan=True, error=TrainingError)
    desc = np.sort(r[np.isfinite(r)])[::-1]
    if desc.size == 0:
        raise TrainingError(
            f"{where} needs at least one finite risk score to place the bands; got "
            f"{r.size} score(s), none finite. Score a recent window first"
        )
    groups = max(float(n_groups), 1e-9)
    cuts = [_threshold_for_volume(desc, m * capacity * groups) for m in multiples]
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
    >>> {k: round(v, 2) for k, v in bands_from_cost(cal, scale, cost_ratio=1.0).thresholds.items()}
    {'medium': 390.14, 'high': 500.0, 'critical': 609.86}
    """
    where = "bands_from_cost"
    ok = all(isinstance(v, numbers.Real) and np.isfinite(v) for v in (cost_ratio, spread))
    if not (ok and cost_ratio > 0 and spread >= 1):
        raise TrainingError(
            f"cost_ratio must be > 0 and spread >= 1 in {where}. Got cost_ratio={cost_ratio!r}, "
            f"spread={spread!r}; cost_ratio is the cost of a missed fraud over the cost of a "
            "review, e.g. 20"
        )
    if not isinstance(calibrator, Calibrator):
        raise fail("calibrator", where, "a Calibrator", calibrator, error=TrainingError)
    if not isinstance(scale, RiskScale):
        raise fail("scale", where, "a RiskScale", scale, error=TrainingError)
    base = 1.0 / cost_ratio
    cuts = [
        _risk_at_probability(calibrator, scale, t / (1 + t))
        for t in (base / spread, base, base * spread)
    ]
    medium, high, critical = _monotone(cuts)
    return Bands(
        {"medium": medium, "high": high, "critical": critical},
        source="cost",
        details={"cost_ratio": float(cost_ratio), "spread": float(spread)},
    )


def _risk_at_probability(calibrator: Calibrator, scale: RiskScale, p: float) -> float:
    """Smallest risk score whose calibrated probability reaches ``p`` (bisection on raw)."""
    lo = float(scale.raw_knots[0]) - 1e3
    hi = float(scale.raw_at(3 * MAX_RISK))
    if calibrator.transform(np.array([hi]))[0] < p:
        return float(np.inf)
    if calibrator.transform(np.array([lo]))[0] >= p:
        return float(scale.transform(np.array([lo]))[0])
    for _ in range(200):
        mid = (lo + hi) / 2
        if calibrator.transform(np.array([mid]))[0] >= p:
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-12:
            break
    return float(scale.transform(np.array([hi]))[0])


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
    risk : array-like of float
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
    where = "threshold_table"
    y = as_labels(y_true, "y_true", where, error=TrainingError)
    r = as_float_array(risk, "risk", where, error=TrainingError)
    check_same_length(where, TrainingError, y_true=y, risk=r)
    step = check_int(step, "step", where, minimum=1, error=TrainingError)
    n_groups = check_real(n_groups, "n_groups", where, low=0, error=TrainingError)
    days_per_group = check_real(days_per_group, "days_per_group", where, low=0, error=TrainingError)
    if not isinstance(calibrator, Calibrator):
        raise fail("calibrator", where, "a Calibrator", calibrator, error=TrainingError)
    if not isinstance(scale, RiskScale):
        raise fail("scale", where, "a RiskScale", scale, error=TrainingError)
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
