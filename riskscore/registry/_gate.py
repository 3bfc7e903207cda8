"""The promotion gate, deciding whether a candidate is at least as good as the champion.

Pure: it reads a comparison table (both models scored on the same rows, as
:func:`riskscore.modeling.evaluate` returns with ``other=champion``) and returns a
decision with reasons. No MLflow here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from riskscore._validation import check_real
from riskscore.exceptions import ParameterError

__all__ = ["Gate", "GateDecision"]


@dataclass(frozen=True)
class GateDecision:
    """Outcome of :meth:`Gate.check`.

    Attributes
    ----------
    passed : bool
    reasons : list of str
        One line per criterion, saying whether it held and by how much.
    """

    passed: bool
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Gate:
    """Criteria a candidate must meet on the champion's and its own newest test window.

    Parameters
    ----------
    min_pr_auc_delta : float, default 0.0
        Candidate PR-AUC minus champion PR-AUC must be at least this.
    min_precision_delta : float, default 0.0
        Same for precision at review capacity (``precision_at_k``).
    max_ece_increase : float, default 0.005
        Candidate expected calibration error may exceed the champion's by at most this
        (a small tolerance: ECE on one window moves by a few thousandths between
        equally good models).

    Raises
    ------
    ParameterError
        When a criterion is not a finite number.

    Examples
    --------
    >>> t = pd.DataFrame({"candidate": [0.30, 0.50, 0.020], "champion": [0.28, 0.50, 0.018]},
    ...                  index=["pr_auc", "precision_at_k", "ece"])
    >>> Gate().check(t).passed
    True
    >>> d = Gate(max_ece_increase=0.0).check(t)
    >>> d.passed, d.reasons[-1]
    (False, 'ece: candidate 0.0200 vs champion 0.0180 (+0.0020, allowed up to +0.0000): worse')
    >>> Gate(max_ece_increase="x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.exceptions.ParameterError: The 'max_ece_increase' parameter of Gate must be...
    """

    min_pr_auc_delta: float = 0.0
    min_precision_delta: float = 0.0
    max_ece_increase: float = 0.005

    def __post_init__(self) -> None:
        for name in ("min_pr_auc_delta", "min_precision_delta", "max_ece_increase"):
            check_real(getattr(self, name), name, "Gate", error=ParameterError)

    def to_dict(self) -> dict[str, Any]:
        """Return the criteria as a dict (logged with every promotion)."""
        return asdict(self)

    def check(
        self, comparison: pd.DataFrame, candidate: str = "candidate", champion: str = "champion"
    ) -> GateDecision:
        """Apply the criteria to a metric table with one column per model."""
        reasons: list[str] = []
        passed = True
        for metric, bound, higher in (
            ("pr_auc", self.min_pr_auc_delta, True),
            ("precision_at_k", self.min_precision_delta, True),
            ("ece", self.max_ece_increase, False),
        ):
            a = float(comparison.at[metric, candidate])  # type: ignore[arg-type]
            b = float(comparison.at[metric, champion])  # type: ignore[arg-type]
            delta = a - b
            if math.isnan(delta):
                ok = False
                verdict = "undefined (NaN): cannot compare"
            elif higher:
                ok = delta >= bound - 1e-12
                verdict = "ok" if ok else "worse"
            else:
                ok = delta <= bound + 1e-12
                verdict = "ok" if ok else "worse"
            rule = f"at least {bound:+.4f}" if higher else f"allowed up to {bound:+.4f}"
            reasons.append(
                f"{metric}: candidate {a:.4f} vs champion {b:.4f} ({delta:+.4f}, {rule}): {verdict}"
            )
            passed = passed and ok
        return GateDecision(passed, reasons)
