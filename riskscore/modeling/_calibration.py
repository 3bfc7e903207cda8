"""Map raw model scores (log-odds) to probabilities, fitted on the calibration window.

A :class:`Calibrator` is a monotone map from the booster's raw score to a probability.
It is fitted on the ``calib`` side of the split (entities and a window the booster never
saw), and it is stored as plain JSON numbers, so loading a model needs no pickle and no
scikit-learn.

Methods
-------
``"platt"``
    ``p = 1 / (1 + exp(-(a * raw + b)))``, two numbers fitted by maximum likelihood.
    Strictly increasing (the ranking is unchanged) and stable with few positives.
``"isotonic"``
    A non-decreasing step-wise linear map (scikit-learn's ``IsotonicRegression``,
    evaluated with ``numpy.interp`` and clipped at both ends). More flexible; needs more
    data and can tie neighbouring scores.
``"auto"`` (default)
    isotonic when the calibration side has at least 1000 rows and 50 positives, else Platt.
``"none"``
    the booster's own sigmoid (only right when no class weight was used).

Ranking metrics in riskscore are computed on the raw score, so ties from isotonic
calibration never lower PR-AUC or precision at capacity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = ["Calibrator", "fit_calibrator"]

Method = Literal["auto", "platt", "isotonic", "none"]

#: Smallest calibration side for which ``"auto"`` chooses isotonic.
ISOTONIC_MIN_ROWS = 1000
ISOTONIC_MIN_POSITIVES = 50


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * x))
    return out


@dataclass(frozen=True)
class Calibrator:
    """A fitted monotone map from raw score to probability.

    Parameters
    ----------
    method : {"platt", "isotonic", "none"}
    params : dict
        ``{"a", "b"}`` for Platt, ``{"x", "y"}`` knot lists for isotonic, ``{}`` for none.

    Examples
    --------
    >>> c = Calibrator("platt", {"a": 1.0, "b": -1.0})
    >>> c.transform(np.array([1.0])).round(3).tolist()
    [0.5]
    >>> Calibrator.from_dict(c.to_dict()) == c
    True
    """

    method: str
    params: dict[str, Any] = field(default_factory=dict)

    def transform(self, raw: npt.ArrayLike) -> np.ndarray:
        """Probability for each raw score (float64 array of the same shape)."""
        r = np.asarray(raw, dtype=np.float64)
        if self.method == "platt":
            return _sigmoid(self.params["a"] * r + self.params["b"])
        if self.method == "isotonic":
            out: np.ndarray = np.interp(r, self.params["x"], self.params["y"])
            return out
        if self.method == "none":
            return _sigmoid(r)
        raise ValueError(f"unknown calibration method {self.method!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"method": self.method, "params": self.params}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        """Inverse of :meth:`to_dict`."""
        return cls(method=str(data["method"]), params=dict(data.get("params", {})))


def _fit_platt(raw: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Maximum-likelihood logistic fit of ``y`` on ``raw`` (Newton steps with a tiny ridge)."""
    a, b = 1.0, 0.0
    X = np.column_stack([raw, np.ones_like(raw)])
    for _ in range(100):
        p = _sigmoid(a * raw + b)
        w = p * (1 - p)
        grad = X.T @ (p - y) + 1e-6 * np.array([a, b])
        hess = (X * w[:, None]).T @ X + 1e-6 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        a, b = a - float(step[0]), b - float(step[1])
        if np.abs(step).max() < 1e-10:
            break
    return {"a": a, "b": b}


def fit_calibrator(raw: npt.ArrayLike, y: npt.ArrayLike, method: Method = "auto") -> Calibrator:
    """Fit a :class:`Calibrator` on raw scores and 0/1 outcomes of the calibration window.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> raw = rng.normal(size=2000)
    >>> y = (rng.random(2000) < 1 / (1 + np.exp(-(2 * raw - 3)))).astype(float)
    >>> c = fit_calibrator(raw, y, "platt")
    >>> round(c.params["a"], 1), round(c.params["b"], 1)
    (2.1, -3.0)
    >>> fit_calibrator(raw, y).method   # 2000 rows and about 200 positives
    'isotonic'
    """
    r = np.asarray(raw, dtype=np.float64).ravel()
    t = np.asarray(y, dtype=np.float64).ravel()
    if method == "auto":
        enough = r.size >= ISOTONIC_MIN_ROWS and t.sum() >= ISOTONIC_MIN_POSITIVES
        method = "isotonic" if enough else "platt"
    if method == "none":
        return Calibrator("none", {})
    if t.min(initial=1) == t.max(initial=0):
        raise ValueError("the calibration window needs both classes to fit a calibrator")
    if method == "platt":
        return Calibrator("platt", _fit_platt(r, t))
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
        iso.fit(r, t)
        return Calibrator(
            "isotonic",
            {
                "x": [float(v) for v in iso.X_thresholds_],
                "y": [float(v) for v in iso.y_thresholds_],
            },
        )
    raise ValueError(
        f"calibration must be one of 'auto', 'platt', 'isotonic', 'none'. Got {method!r} instead."
    )
