"""Map raw model scores (log-odds) to probabilities, fitted on the calibration window.

A :class:`Calibrator` is a **strictly increasing** map from the booster's raw score to a
probability, so the calibrated ``score`` orders entities exactly as the raw score does: a
review queue sorted by ``score`` is the queue the model ranked (ties only where the
booster itself ties, or where float64 cannot tell the probabilities apart: beyond
log-odds ±36, or for raw scores closer than the map's resolution. On the flattest map,
a backwards Platt fit with log-odds slope :data:`MIN_SLOPE`, that is about 1e-9 where
the probability is below one half, so raw scores 1e-6 apart stay apart there). It is
fitted on the ``calib`` side of the split (entities and a window the booster never saw,
or out-of-fold raw scores), and it is stored as plain JSON numbers, so loading a model
needs no pickle and no scikit-learn.

Methods
-------
``"platt"``
    ``p = 1 / (1 + exp(-(a * raw + b)))``, two numbers fitted by maximum likelihood.
    Stable with few positives. A non-positive slope (a calibration side on which the
    model ranks backwards) is raised to a tiny positive one, so the ranking is kept and
    the probabilities are nearly flat; :attr:`Calibrator.params` records ``a_fitted``.
``"isotonic"``
    Isotonic regression (pool-adjacent-violators) gives blocks of raw scores with one
    event rate each. A step function would tie every row of a block (on a public card
    benchmark, 106 distinct values over 58k rows cost 6% of average precision), so the
    map interpolates **between block centres** in log-odds, and extends beyond the first
    and last centre with the Platt slope of the same data. Block rates of exactly 0 or 1
    are moved halfway to their neighbour rate, so every log-odds is finite.
``"auto"`` (default)
    isotonic when the calibration side has at least 1000 rows and 50 positives, else Platt.
``"none"``
    the booster's own sigmoid (only right when no class weight was used).

Models saved before this change store isotonic knots as ``{"x", "y"}`` (a clipped step
map); :meth:`Calibrator.transform` still reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from riskscore._validation import as_float_array, as_labels, check_same_length
from riskscore.exceptions import TrainingError

__all__ = ["Calibrator", "fit_calibrator"]

Method = Literal["auto", "platt", "isotonic", "none"]

#: Smallest calibration side for which ``"auto"`` chooses isotonic.
ISOTONIC_MIN_ROWS = 1000
ISOTONIC_MIN_POSITIVES = 50

#: Smallest Platt / tail slope kept: a flat or backwards fit still keeps the ranking.
MIN_SLOPE = 1e-6


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, strictly increasing down to log-odds of about -745."""
    from scipy.special import expit

    out: np.ndarray = expit(x)
    return out


#: Fitted isotonic rates closer than this are one block.
RATE_TOLERANCE = 1e-12

#: Smallest log-odds step between consecutive isotonic knots (strictly increasing in
#: float64, not only on paper; 1e-6 in log-odds is a 1e-7 change of a 10 % probability).
MIN_LOGIT_STEP = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.log(p) - np.log1p(-p)
    return out


@dataclass(frozen=True)
class Calibrator:
    """A fitted strictly increasing map from raw score to probability.

    Parameters
    ----------
    method : {"platt", "isotonic", "none"}
    params : dict
        ``{"a", "b"}`` for Platt; ``{"x", "logit", "slope"}`` (block centres, their
        log-odds, the tail slope) for isotonic; ``{}`` for none.

    Examples
    --------
    >>> c = Calibrator("platt", {"a": 1.0, "b": -1.0})
    >>> c.transform(np.array([1.0])).round(3).tolist()
    [0.5]
    >>> Calibrator.from_dict(c.to_dict()) == c
    True
    >>> iso = Calibrator("isotonic", {"x": [0.0, 1.0], "logit": [-2.0, 0.0], "slope": 1.0})
    >>> bool(np.all(np.diff(iso.transform([-5.0, -1.0, 0.5, 2.0, 9.0])) > 0))
    True
    """

    method: str
    params: dict[str, Any] = field(default_factory=dict)

    def transform(self, raw: npt.ArrayLike) -> np.ndarray:
        """Probability for each raw score (float64 array of the same shape).

        Raises
        ------
        TrainingError
            When ``raw`` is not numbers, or the method or its parameters are not ones
            :func:`fit_calibrator` makes.
        """
        r = as_float_array(
            raw, "raw", "Calibrator.transform", allow_nan=True, flatten=False, error=TrainingError
        )
        try:
            return self._transform(r)
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise TrainingError(
                f"the {self.method!r} calibrator has parameters it cannot use: "
                f"{str(self.params)[:80]} ({type(err).__name__}: {err}). Expected "
                "{'a', 'b'} for platt, {'x', 'logit', 'slope'} for isotonic; was "
                "riskmodel.json edited by hand? Re-save the model"
            ) from None

    def _transform(self, r: np.ndarray) -> np.ndarray:
        if self.method == "platt":
            return _sigmoid(self.params["a"] * r + self.params["b"])
        if self.method == "isotonic":
            if "logit" not in self.params:  # a model saved before block-centre knots
                out: np.ndarray = np.interp(r, self.params["x"], self.params["y"])
                return out
            x = np.asarray(self.params["x"], dtype=np.float64)
            z = np.asarray(self.params["logit"], dtype=np.float64)
            slope = float(self.params["slope"])
            inner = np.interp(r, x, z)
            below = z[0] + slope * (r - x[0])
            above = z[-1] + slope * (r - x[-1])
            return _sigmoid(np.where(r < x[0], below, np.where(r > x[-1], above, inner)))
        if self.method == "none":
            return _sigmoid(r)
        raise TrainingError(
            f"unknown calibration method {self.method!r}; expected 'platt', 'isotonic' or "
            "'none' (was riskmodel.json edited by hand?)"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"method": self.method, "params": self.params}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        TrainingError
            When ``data`` is not a dict with a ``method`` (and optional ``params`` dict).
        """
        try:
            return cls(method=str(data["method"]), params=dict(data.get("params", {})))
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise TrainingError(
                "a stored calibrator must be a dict with 'method' and 'params'. Got "
                f"{str(data)[:80]} ({type(err).__name__}: {err}); was riskmodel.json edited "
                "by hand? Re-save the model"
            ) from None


def _fit_platt(raw: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Maximum-likelihood logistic fit of ``y`` on ``raw``.

    Newton steps with a tiny ridge and step halving on the penalised log-likelihood, on
    the centred raw score, started from the base rate: it cannot diverge, even when the
    raw score carries no signal.
    """
    centre = float(raw.mean())
    x = raw - centre
    X = np.column_stack([x, np.ones_like(x)])
    rate = float(np.clip(y.mean(), 1e-9, 1 - 1e-9))
    theta = np.array([0.0, np.log(rate / (1 - rate))])
    ridge = 1e-6

    def loss(t: np.ndarray) -> float:
        z = X @ t
        return float(np.sum(np.logaddexp(0, z) - y * z) + 0.5 * ridge * t @ t)

    current = loss(theta)
    for _ in range(100):
        p = _sigmoid(X @ theta)
        w = p * (1 - p)
        grad = X.T @ (p - y) + ridge * theta
        hess = (X * w[:, None]).T @ X + ridge * np.eye(2)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-10:
            candidate = theta - t * step
            value = loss(candidate)
            if value <= current:
                break
            t /= 2
        else:
            break
        theta, current = candidate, value
        if np.abs(t * step).max() < 1e-10:
            break
    a = float(theta[0])
    return {"a": a, "b": float(theta[1] - a * centre)}


def _platt(raw: np.ndarray, y: np.ndarray) -> dict[str, float]:
    fitted = _fit_platt(raw, y)
    if fitted["a"] >= MIN_SLOPE:
        return fitted
    # backwards or flat on this side: keep the ranking, use the base rate
    rate = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    centre = float(np.mean(raw))
    a = MIN_SLOPE
    b = float(np.log(rate / (1 - rate))) - a * centre
    return {"a": a, "b": b, "a_fitted": fitted["a"]}


def _fit_isotonic(raw: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Block centres and log-odds of an isotonic fit, plus the Platt tail slope."""
    from sklearn.isotonic import IsotonicRegression

    order = np.argsort(raw, kind="stable")
    r, t = raw[order], y[order]
    fitted = IsotonicRegression(increasing=True, out_of_bounds="clip").fit(r, t).predict(r)
    # contiguous runs of one fitted rate are the blocks (rates within rounding of the
    # pool-adjacent-violators sums are one block)
    starts = np.flatnonzero(np.r_[True, np.diff(fitted) > RATE_TOLERANCE])
    counts = np.diff(np.r_[starts, r.size])
    centres = np.add.reduceat(r, starts) / counts
    rates = fitted[starts].astype(np.float64)
    inner = rates[(rates > 0) & (rates < 1)]
    low = 0.5 * (inner.min() if inner.size else 0.5)
    high = 1 - 0.5 * (1 - (inner.max() if inner.size else 0.5))
    rates = np.where(rates <= 0, low, np.where(rates >= 1, high, rates))
    slope = max(_fit_platt(raw, y)["a"], MIN_SLOPE)
    # consecutive knots at least MIN_LOGIT_STEP apart, so that neighbouring raw scores
    # still map to distinct float64 probabilities between them
    logits = _logit(rates)
    for i in range(1, logits.size):  # a few dozen knots; only near-ties move
        logits[i] = max(logits[i], logits[i - 1] + MIN_LOGIT_STEP)
    return {
        "x": [float(v) for v in centres],
        "logit": [float(v) for v in logits],
        "slope": float(slope),
    }


def fit_calibrator(raw: npt.ArrayLike, y: npt.ArrayLike, method: Method = "auto") -> Calibrator:
    """Fit a strictly increasing :class:`Calibrator` on raw scores and 0/1 outcomes.

    Raises
    ------
    TrainingError
        When the outcomes hold one class only or values other than 0/1, the raw scores are
        not finite numbers, the two lengths differ, or ``method`` is unknown.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> raw = rng.normal(size=2000)
    >>> y = (rng.random(2000) < 1 / (1 + np.exp(-(2 * raw - 3)))).astype(float)
    >>> c = fit_calibrator(raw, y, "platt")
    >>> round(c.params["a"], 1), round(c.params["b"], 1)
    (2.1, -3.0)
    >>> c = fit_calibrator(raw, y)   # 2000 rows and about 200 positives: isotonic
    >>> c.method, bool(np.all(np.diff(c.transform(np.sort(raw))) > 0))
    ('isotonic', True)
    """
    if method not in ("auto", "platt", "isotonic", "none"):
        raise TrainingError(
            f"calibration must be one of 'auto', 'platt', 'isotonic', 'none'. Got {method!r} "
            "instead."
        )
    where = "fit_calibrator"
    r = as_float_array(raw, "raw", where, allow_inf=False, error=TrainingError)
    t = as_labels(y, "y", where, error=TrainingError)
    check_same_length(where, TrainingError, raw=r, y=t)
    if method == "auto":
        enough = r.size >= ISOTONIC_MIN_ROWS and t.sum() >= ISOTONIC_MIN_POSITIVES
        method = "isotonic" if enough else "platt"
    if method == "none":
        return Calibrator("none", {})
    if t.size == 0 or t.min() == t.max():
        raise TrainingError(
            f"the calibration rows ({r.size}) hold one class only; a calibrator needs both "
            "positives and negatives. Widen the calibration window (valid_windows) or use "
            "calibration='none'"
        )
    if method == "platt":
        return Calibrator("platt", _platt(r, t))
    return Calibrator("isotonic", _fit_isotonic(r, t))
