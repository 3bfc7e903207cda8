"""The promotion gate: promote, refuse, or say the evidence is insufficient.

Pure: it reads a :class:`~riskscore.modeling.PairedComparison` (challenger and champion
scored on the same rows, pooled over cutoffs, with paired bootstrap intervals of each
difference and per-slice false-positive rates) and returns a :class:`GateDecision`. No
MLflow here.

The rule
--------
For each metric (PR-AUC, precision at review capacity) the interval of
``challenger − champion`` is read against a stated non-inferiority margin ``m``:

* the whole interval below ``−m`` → **worse** (refuse);
* the interval's lower bound at or above ``−m`` → **not worse** (better, or equal within
  the margin);
* otherwise → **undecided**.

A protected slice (new and small sellers by default) whose false-positive rate at the flag
band rises by more than ``fpr_margin`` with the interval's lower bound above zero refuses
the challenger, naming the slice and the size of the rise.

Outcomes, in order: ``refuse`` when a metric is worse or a protected slice is harmed;
``insufficient_evidence`` when fewer than ``min_positives`` positives were pooled (the gate
never promotes on fewer, whatever the point estimates) or a metric is undecided;
``promote`` otherwise. An insufficient verdict keeps the champion and says about how
many more positives (and cutoffs) would likely decide, from the interval half-width
shrinking as ``1/√positives``.

Why: with 15 positives the paired 95 % interval of an AP difference is about ±0.12 — a
single test window of 10–20 positives cannot tell two good models apart, and the old
point-estimate gate refused challengers whose every difference was noise.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from riskscore._validation import check_int, check_real, fail
from riskscore.exceptions import ParameterError
from riskscore.modeling._slices import PROTECTED_SLICES

if TYPE_CHECKING:
    from riskscore.modeling._paired import PairedComparison

__all__ = ["DEFAULT_PROTECTED", "OUTCOMES", "Gate", "GateDecision"]

#: The three outcomes of :meth:`Gate.decide`.
OUTCOMES = ("promote", "refuse", "insufficient_evidence")

#: Protected slices by default: new sellers and small sellers (``segment=level``), the
#: list the monitor watches too (declared once in :mod:`riskscore.modeling._slices`).
DEFAULT_PROTECTED: tuple[str, ...] = PROTECTED_SLICES

_METRIC_TEXT = {"pr_auc": "PR-AUC", "precision_at_k": "precision at capacity"}


@dataclass(frozen=True)
class GateDecision:
    """Outcome of :meth:`Gate.decide`.

    Attributes
    ----------
    outcome : {"promote", "refuse", "insufficient_evidence"}
    reasons : list of str
        Plain sentences: one per metric and per protected slice, then the verdict.
    more_positives : int or None
        For ``insufficient_evidence``: about how many more pooled positives would likely
        decide (None when more data cannot tell, or when no interval was computed).
    more_cutoffs : int or None
        The same in cutoffs at the current positives per cutoff.
    slices : list of str
        Protected slices that refused the challenger.
    """

    outcome: str
    reasons: list[str] = field(default_factory=list)
    more_positives: int | None = None
    more_cutoffs: int | None = None
    slices: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when the outcome is ``promote``."""
        return self.outcome == "promote"

    def to_dict(self) -> dict[str, Any]:
        """Return the decision as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Gate:
    """Criteria a challenger must meet against the champion, with uncertainty.

    Parameters
    ----------
    pr_auc_margin : float, default 0.03
        Non-inferiority margin of PR-AUC: the challenger is "not worse" when the lower
        bound of ``challenger − champion`` is at least ``−pr_auc_margin``. A negative
        margin demands a proven improvement of that size.
    precision_margin : float, default 0.05
        The same for precision at review capacity.
    min_positives : int, default 50
        Pooled positives below which the gate never promotes on metrics alone.
    fpr_margin : float, default 0.02
        Allowed rise (absolute, 0.02 = 2 points) of a protected slice's false-positive rate
        at the flag band.
    protected : tuple of str
        Protected slices as ``"segment=level"`` (the ``segment__`` prefix may be left out);
        default :data:`DEFAULT_PROTECTED`.
    min_pr_auc_delta, min_precision_delta, max_ece_increase : float, optional
        Deprecated point-estimate criteria. The first two become
        ``pr_auc_margin = −min_pr_auc_delta`` and ``precision_margin =
        −min_precision_delta``; ``max_ece_increase`` is ignored by :meth:`decide`.

    Raises
    ------
    ParameterError
        When a criterion is not a finite number or ``min_positives`` not an int ≥ 0.

    Examples
    --------
    >>> from riskscore.modeling._paired import PairedComparison
    >>> m = pd.DataFrame({"challenger": [0.42, 0.50], "champion": [0.40, 0.50],
    ...                   "delta": [0.02, 0.0], "delta_lo": [-0.01, -0.03],
    ...                   "delta_hi": [0.05, 0.03], "half_width": [0.03, 0.03]},
    ...                  index=["pr_auc", "precision_at_k"])
    >>> ev = PairedComparison(m, pd.DataFrame(), n_rows=4000, n_entities=1000,
    ...                       n_positives=400, n_cutoffs=4, k=20, level=0.95, n_bootstrap=500)
    >>> Gate().decide(ev).outcome
    'promote'
    >>> d = Gate(min_positives=500).decide(ev)
    >>> d.outcome, d.more_positives
    ('insufficient_evidence', 100)
    >>> Gate(fpr_margin="x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.exceptions.ParameterError: The 'fpr_margin' parameter of Gate must be...
    """

    pr_auc_margin: float = 0.03
    precision_margin: float = 0.05
    min_positives: int = 50
    fpr_margin: float = 0.02
    protected: tuple[str, ...] = DEFAULT_PROTECTED
    min_pr_auc_delta: float | None = None
    min_precision_delta: float | None = None
    max_ece_increase: float | None = None

    def __post_init__(self) -> None:
        for name in ("pr_auc_margin", "precision_margin", "fpr_margin"):
            check_real(getattr(self, name), name, "Gate", error=ParameterError)
        check_int(self.min_positives, "min_positives", "Gate", minimum=0)
        if isinstance(self.protected, str) or not all(isinstance(p, str) for p in self.protected):
            raise fail(
                "protected",
                "Gate",
                "a tuple of 'segment=level' strings",
                self.protected,
                fix="e.g. protected=('segment__tenure=new (<90 days)',)",
            )
        object.__setattr__(self, "protected", tuple(self.protected))
        for old, new in (
            ("min_pr_auc_delta", "pr_auc_margin"),
            ("min_precision_delta", "precision_margin"),
            ("max_ece_increase", None),
        ):
            value = getattr(self, old)
            if value is None:
                continue
            check_real(value, old, "Gate", error=ParameterError)
            hint = (
                f"use {new}={-float(value):g} (a margin on the interval of the difference)"
                if new
                else "calibration is no longer a gate criterion; it is ignored"
            )
            warnings.warn(
                f"Gate: '{old}' is deprecated and will be removed in a future release; {hint}.",
                DeprecationWarning,
                stacklevel=3,
            )
            if new:
                object.__setattr__(self, new, -float(value))

    def to_dict(self) -> dict[str, Any]:
        """Return the criteria as a dict (logged with every promotion)."""
        out = asdict(self)
        out["protected"] = list(self.protected)
        return {k: v for k, v in out.items() if v is not None}

    def decide(self, evidence: PairedComparison) -> GateDecision:
        """Decide on a paired comparison: promote, refuse or insufficient evidence."""
        reasons: list[str] = []
        pct = f"{100 * evidence.level:g}%"
        worse, undecided = [], []
        no_interval = False
        needs: list[float] = []
        n_pos = evidence.n_positives
        for metric, margin in (
            ("pr_auc", self.pr_auc_margin),
            ("precision_at_k", self.precision_margin),
        ):
            row = {str(k): float(v) for k, v in evidence.metrics.loc[metric].to_dict().items()}
            a, b, d = row["challenger"], row["champion"], row["delta"]
            lo, hi = row["delta_lo"], row["delta_hi"]
            head = f"{_METRIC_TEXT[metric]}: challenger {a:.3f} vs champion {b:.3f} ({d:+.3f}"
            if not (math.isfinite(lo) and math.isfinite(hi)):
                undecided.append(metric)
                no_interval = True
                reasons.append(f"{head}): no interval, cannot decide (run with bootstrap > 0)")
                continue
            head += f", {pct} interval {lo:+.3f} to {hi:+.3f})"
            if hi < -margin:
                worse.append(metric)
                verdict = f"worse beyond the margin {-margin:+.3f}"
            elif lo >= -margin:
                verdict = "better" if lo > 0 else f"not worse than the margin {-margin:+.3f}"
            else:
                undecided.append(metric)
                verdict = f"undecided: the interval straddles the margin {-margin:+.3f}"
                target = abs(d + margin)
                half = row["half_width"]
                if target > 1e-9 and half > 0:
                    needs.append(n_pos * (half / target) ** 2 - n_pos)
                else:
                    needs.append(math.inf)
            reasons.append(f"{head}: {verdict}")
        harmed = self._slice_lines(evidence, reasons)
        reasons.extend(_audit_lines(evidence))
        more_pos: int | None = None
        more_cut: int | None = None
        per_cutoff = n_pos / max(1, evidence.n_cutoffs)
        if worse or harmed:
            outcome = "refuse"
            what = [_METRIC_TEXT[m] for m in worse] + [f"FPR of {s}" for s in harmed]
            reasons.append(f"REFUSED: the challenger is worse on {', '.join(what)}.")
        elif n_pos < self.min_positives or undecided:
            outcome = "insufficient_evidence"
            shortfall = [float(self.min_positives - n_pos)] if n_pos < self.min_positives else []
            decidable = len(needs) == len(undecided) and all(map(math.isfinite, needs))
            if decidable and needs + shortfall:
                more_pos = max(1, math.ceil(max(needs + shortfall)))
                more_cut = math.ceil(more_pos / per_cutoff) if per_cutoff > 0 else None
            why = (
                f"only {n_pos} positives pooled over {evidence.n_cutoffs} cutoff(s); the gate "
                f"never promotes on fewer than {self.min_positives}"
                if n_pos < self.min_positives
                else "the intervals are too wide to tell"
            )
            reasons.append(f"INSUFFICIENT EVIDENCE: keep the champion ({why}).")
            if more_pos is not None:
                cut = (
                    f" (about {more_cut} more cutoff(s) at {per_cutoff:.0f} positives per cutoff)"
                    if more_cut is not None
                    else ""
                )
                reasons.append(
                    f"About {more_pos} more positives{cut} would likely decide: interval "
                    "half-widths shrink as 1/√positives."
                )
            elif no_interval:
                reasons.append(
                    "No interval was computed (no bootstrap replicates): the gate decides "
                    "on intervals, never on point estimates."
                )
            elif undecided:
                reasons.append(
                    "More data is unlikely to decide: the difference sits on the margin; "
                    "state the margin you accept, or compare on other rows."
                )
        else:
            outcome = "promote"
            reasons.append(
                f"PROMOTE: not worse on every metric over {n_pos} positives and "
                f"{evidence.n_cutoffs} cutoff(s), and no protected slice harmed."
            )
        return GateDecision(outcome, reasons, more_pos, more_cut, harmed)

    def _slice_lines(self, evidence: PairedComparison, reasons: list[str]) -> list[str]:
        """Append one sentence per protected slice; return those that refuse."""
        if not self.protected:
            return []
        table = evidence.slices
        if table is None or not len(table):
            reasons.append(
                "protected slices not checked: the compared rows carry no segment columns "
                "(add segment__* columns, e.g. riskscore.features.add_segments)"
            )
            return []
        harmed = []
        pct = f"{100 * evidence.level:g}%"
        for spec in self.protected:
            segment, _, level = spec.partition("=")
            names = {segment, f"segment__{segment}"}
            rows = table[table["segment"].isin(names) & (table["level"] == level)]
            if not len(rows):
                reasons.append(f"protected slice {spec}: not present in the compared rows")
                continue
            r = rows.iloc[0]
            name = f"{r['segment']}={level}"
            d, lo, hi = float(r["fpr_delta"]), float(r["fpr_delta_lo"]), float(r["fpr_delta_hi"])
            refuse = d > self.fpr_margin and lo > 0
            text = (
                f"protected slice {name}: false-positive rate {100 * r['fpr_champion']:.1f}% → "
                f"{100 * r['fpr_challenger']:.1f}% ({100 * d:+.1f} points, {pct} interval "
                f"{100 * lo:+.1f} to {100 * hi:+.1f}) over {int(r['negatives'])} legitimate "
                f"rows; allowed up to +{100 * self.fpr_margin:.1f} points"
            )
            reasons.append(f"{text}: {'RAISED — refuse' if refuse else 'ok'}")
            if refuse:
                harmed.append(name)
        return harmed

    def check(
        self, comparison: pd.DataFrame, candidate: str = "candidate", champion: str = "champion"
    ) -> GateDecision:
        """Compare point estimates of one metric table (deprecated: no uncertainty).

        Use :meth:`decide` on a :class:`~riskscore.modeling.PairedComparison`. Kept for one
        release; applies ``−pr_auc_margin`` and ``−precision_margin`` as minimum
        differences of the point estimates (and ``max_ece_increase`` when given).
        """
        warnings.warn(
            "Gate.check compares point estimates and is deprecated; use Gate.decide on "
            "riskscore.modeling.compare_paired(...) (intervals, pooled positives, slices).",
            DeprecationWarning,
            stacklevel=2,
        )
        reasons: list[str] = []
        passed = True
        checks = [
            ("pr_auc", -self.pr_auc_margin, True),
            ("precision_at_k", -self.precision_margin, True),
        ]
        if self.max_ece_increase is not None:
            checks.append(("ece", float(self.max_ece_increase), False))
        for metric, bound, higher in checks:
            a = float(comparison.at[metric, candidate])  # type: ignore[arg-type]
            b = float(comparison.at[metric, champion])  # type: ignore[arg-type]
            delta = a - b
            if math.isnan(delta):
                ok, verdict = False, "undefined (NaN): cannot compare"
            else:
                ok = delta >= bound - 1e-12 if higher else delta <= bound + 1e-12
                verdict = "ok" if ok else "worse"
            rule = f"at least {bound:+.4f}" if higher else f"allowed up to {bound:+.4f}"
            reasons.append(
                f"{metric}: candidate {a:.4f} vs champion {b:.4f} ({delta:+.4f}, {rule}): {verdict}"
            )
            passed = passed and ok
        return GateDecision("promote" if passed else "refuse", reasons)


def _audit_lines(evidence: PairedComparison) -> list[str]:
    """Precision and recall of both models on the random-audit sample, or why there are none.

    Reported next to the metrics above, which are measured on all labels (selected by the
    current policy); the gate decides on the paired intervals, not on these lines.
    """
    table = getattr(evidence, "audit", None)
    note = str(getattr(evidence, "audit_note", "") or "no audit sample")
    if table is None or not len(table):
        return [f"{note}."]
    rows = table.set_index(["model", "metric"])
    out = []
    for metric in ("precision", "recall"):
        parts = []
        for model in ("challenger", "champion"):
            r = rows.loc[(model, metric)]
            lo, hi = float(r["audit_lo"]), float(r["audit_hi"])
            ci = f" [{lo:.3f}, {hi:.3f}]" if math.isfinite(lo) else ""
            parts.append(
                f"{model} {float(r['audit']):.3f}{ci} (all labels {float(r['all_labels']):.3f})"
            )
        n = int(rows.loc[("challenger", metric), "n_audited"])
        out.append(
            f"{metric} at the flag band on the random-audit sample ({n} audited, unbiased): "
            f"{'; '.join(parts)}; all-labels figures are selected by the current policy"
        )
    return out
