"""Once labels mature: grade a scoring run against what training promised.

A scoring run as of ``T`` can be graded when every label decided within the horizon
after ``T`` is in (``T + label_delay + horizon`` has passed). :func:`matured_check`
joins those labels to the run (the training set's rule: positives decided in ``(T +
delay, T + delay + horizon]``, sellers already labelled before ``T`` left out), computes
precision among flagged rows and recall at the flag band (the share of the run's matured
positives it flagged) with Wilson intervals, and compares each with the same figure the
reference measured on the training run's test window. When the 95% interval of the
difference (realised minus training, Newcombe's interval from the two Wilson intervals)
lies wholly below zero, it says so and recommends retraining: precision falls when the
model flags sellers that are no longer bad, recall when bad sellers stop looking like
the ones it learnt (a new pattern it misses). It also says whether the label-free
estimate made at scoring time (:func:`~riskscore.monitor.estimate_performance`) covered
what happened. With slice columns (``segment__*``) on the run, it reports the
false-positive rate at the flag band per slice with Wilson intervals, next to the
reference's, and a ``watch`` finding when a protected slice's rate now lies wholly above
the one measured at training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskscore.monitor._compare import Finding
from riskscore.monitor._errors import MonitorError
from riskscore.monitor._proxy import scores_id_col
from riskscore.monitor._reference import FLAG_BANDS, Reference

__all__ = ["MaturedCheck", "matured_check"]


@dataclass(frozen=True)
class MaturedCheck:
    """Realised performance of one scoring run once its labels matured.

    Attributes
    ----------
    as_of : str
    rows, flagged, flagged_positives, positives : int
    precision, precision_lo, precision_hi : float
        Realised precision among flagged rows and its 95% Wilson interval.
    reference_precision, reference_lo, reference_hi : float
        The same on the reference's test window (NaN without one).
    recall, recall_lo, recall_hi : float
        Realised recall at the flag band (flagged positives / positives) and its 95%
        Wilson interval (NaN without positives).
    reference_recall, reference_recall_lo, reference_recall_hi : float
        The same on the reference's test window (NaN when it stores no positives).
    estimate_covered : bool or None
        Whether the label-free estimate's interval held the realised precision.
    findings : list of Finding
    slices : list of dict
        Per slice (``segment``, ``level``, ``protected``, ``n``, ``negatives``,
        ``flag_rate``, ``fpr`` with ``fpr_lo`` / ``fpr_hi``, and the reference's
        ``fpr_ref`` with its interval when stored); empty without slice columns.
    slices_note : str
        Why there are no slices, or what was compared.
    """

    as_of: str
    rows: int
    flagged: int
    flagged_positives: int
    positives: int
    precision: float
    precision_lo: float
    precision_hi: float
    reference_precision: float
    reference_lo: float
    reference_hi: float
    estimate_covered: bool | None
    findings: list[Finding]
    slices: list[dict[str, Any]] = field(default_factory=list)
    slices_note: str = ""
    recall: float = float("nan")
    recall_lo: float = float("nan")
    recall_hi: float = float("nan")
    reference_recall: float = float("nan")
    reference_recall_lo: float = float("nan")
    reference_recall_hi: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN as None)."""
        out = asdict(self)
        out["findings"] = [f.to_dict() for f in self.findings]
        out["slices"] = [
            {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
            for r in self.slices
        ]
        return {
            k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in out.items()
        }


def matured_check(
    scores: pd.DataFrame,
    tables: Mapping[str, Any],
    *,
    as_of: Any,
    target: str,
    reference: Reference | None = None,
    horizon: str | pd.Timedelta = "60D",
    label_delay: str | pd.Timedelta = "0D",
    flag_bands: Sequence[str] = FLAG_BANDS,
    segments: pd.DataFrame | None = None,
    protected: Sequence[str] | None = None,
) -> MaturedCheck:
    """Grade a scoring run with the labels decided after it.

    Parameters
    ----------
    scores : DataFrame
        The run as of ``as_of``: ``entity_id`` or ``seller_id``, ``score``, ``band``.
    tables : mapping of str to DataFrame
        With ``labels`` covering ``as_of + label_delay + horizon``.
    as_of : datetime-like
    target : {"counterfeit", "fraud"}
    reference : Reference, optional
        The model's monitoring reference (its test window's precision among flagged rows
        and recall at the flag band).
    horizon, label_delay : str or Timedelta
        The label window, as in training.
    flag_bands : sequence of str, default ("high", "critical")
    segments : DataFrame, optional
        Slice columns aligned with ``scores`` (default: its ``segment__*`` columns) for
        the false-positive rate per slice.
    protected : sequence of str, optional
        ``segment=level`` slices whose rise in FPR is a finding; default new and small
        sellers (:data:`riskscore.modeling._slices.PROTECTED_SLICES`).

    Returns
    -------
    MaturedCheck

    Raises
    ------
    MonitorError
        Bad scores, no labels, or labels that have not matured yet (the last decision is
        before the end of the window: the precision would be biased low).

    Examples
    --------
    >>> scores = pd.DataFrame({"entity_id": ["S1", "S2", "S3", "S4"],
    ...     "score": [0.9, 0.8, 0.1, 0.1], "band": ["high", "high", "low", "low"]})
    >>> labels = pd.DataFrame({"seller_id": ["S1", "S9"], "label": ["fraud", "fraud"],
    ...     "decided_at": pd.to_datetime(["2024-02-10", "2024-04-30"])})
    >>> check = matured_check(scores, {"labels": labels}, as_of="2024-02-01", target="fraud")
    >>> check.flagged, check.flagged_positives, check.precision
    (2, 1, 0.5)
    """
    from riskscore.features._training_set import _label, label_events
    from riskscore.modeling._slices import wilson_difference, wilson_interval
    from riskscore.monitor._estimate import estimate_performance

    key = scores_id_col(scores, "matured_check")
    if not isinstance(tables, Mapping) or "labels" not in tables:
        raise MonitorError("matured_check needs the 'labels' table decided after as_of")
    moment = pd.Timestamp(as_of)
    start = moment + pd.Timedelta(label_delay)
    end = start + pd.Timedelta(horizon)
    events = label_events(tables, "seller", target)
    last = pd.to_datetime(pd.DataFrame(tables["labels"])["decided_at"]).max()
    if pd.isna(last) or last < end:
        raise MonitorError(
            f"the labels of the run as of {moment.date()} have not matured: its window ends "
            f"{end.date()} but the last label decision is {last}; grade it after "
            f"{end.date()} or use a shorter horizon"
        )
    # the training set's labelling: sellers labelled before the run left out
    ids = scores[key].astype(str)
    rows = pd.DataFrame({"entity_id": ids.to_numpy(), "row": np.arange(len(ids))})
    labelled = _label(rows, events, moment, start - moment, end - start)
    keep = np.zeros(len(ids), dtype=bool)
    keep[labelled["row"].to_numpy()] = True
    y = np.zeros(len(ids), dtype=bool)
    y[labelled["row"].to_numpy()] = labelled["label"].to_numpy() == 1
    flagged = scores["band"].astype(str).isin([str(b) for b in flag_bands]).to_numpy() & keep
    n_f, k_f = int(flagged.sum()), int((flagged & y).sum())
    lo, hi = wilson_interval(k_f, n_f)
    precision = k_f / n_f if n_f else float("nan")
    n_pos = int(y.sum())
    recall = k_f / n_pos if n_pos else float("nan")
    rec_lo, rec_hi = wilson_interval(k_f, n_pos)
    ref_p = ref_lo = ref_hi = float("nan")
    ref_r = ref_r_lo = ref_r_hi = float("nan")
    perf = reference.performance if reference is not None else {}
    ref_flagged, ref_hits = int(perf.get("flagged") or 0), int(perf.get("flagged_positives") or 0)
    ref_positives = int(perf.get("positives") or 0)
    if ref_flagged:
        ref_p = ref_hits / ref_flagged
        ref_lo, ref_hi = wilson_interval(ref_hits, ref_flagged)
    if ref_positives:
        ref_r = ref_hits / ref_positives
        ref_r_lo, ref_r_hi = wilson_interval(ref_hits, ref_positives)
    covered = None
    if n_f:
        estimate = estimate_performance(scores[keep], flag_bands=flag_bands)
        covered = estimate.covers(precision)
    findings = []
    labels_to = f"labels to {end.date()}"
    d = d_lo = d_hi = float("nan")
    if ref_flagged:
        d, d_lo, d_hi = wilson_difference(k_f, n_f, ref_hits, ref_flagged)
    if np.isfinite(d_hi) and d_hi < 0:
        findings.append(
            Finding(
                level="act",
                kind="matured",
                subject="precision",
                value=float(precision),
                message=(
                    f"realised precision among flagged rows as of {moment.date()} is "
                    f"{precision:.2f} [{lo:.2f}, {hi:.2f}] ({k_f} of {n_f}, {labels_to}), "
                    f"below the {ref_p:.2f} [{ref_lo:.2f}, {ref_hi:.2f}] measured at training "
                    f"(difference {d:+.2f} [{d_lo:+.2f}, {d_hi:+.2f}]): the model has gone "
                    "stale — retrain on recent cutoffs and run the promotion gate"
                ),
            )
        )
    d = d_lo = d_hi = float("nan")
    if ref_positives:
        d, d_lo, d_hi = wilson_difference(k_f, n_pos, ref_hits, ref_positives)
    if np.isfinite(d_hi) and d_hi < 0:
        findings.append(
            Finding(
                level="act",
                kind="matured",
                subject="recall",
                value=float(recall),
                message=(
                    f"realised recall at the flag band as of {moment.date()} is {recall:.2f} "
                    f"[{rec_lo:.2f}, {rec_hi:.2f}] ({k_f} of {n_pos} positives flagged, "
                    f"{labels_to}), below the {ref_r:.2f} [{ref_r_lo:.2f}, {ref_r_hi:.2f}] "
                    f"measured at training (difference {d:+.2f} [{d_lo:+.2f}, {d_hi:+.2f}]): "
                    "bad sellers no longer look like the ones the model learnt — retrain on "
                    "recent cutoffs and run the promotion gate"
                ),
            )
        )
    if covered is False:
        findings.append(
            Finding(
                level="watch",
                kind="estimate",
                subject="precision",
                value=float(precision),
                message=(
                    f"the label-free estimate made at scoring time did not cover the realised "
                    f"precision {precision:.2f} as of {moment.date()}: do not rely on it for "
                    "this model until it is recalibrated"
                ),
            )
        )
    slices, slices_note = _slice_fprs(
        scores, segments, reference, y, flagged, keep, protected, findings
    )
    return MaturedCheck(
        as_of=str(moment),
        rows=int(keep.sum()),
        flagged=n_f,
        flagged_positives=k_f,
        positives=n_pos,
        precision=precision,
        precision_lo=lo,
        precision_hi=hi,
        reference_precision=ref_p,
        reference_lo=ref_lo,
        reference_hi=ref_hi,
        estimate_covered=covered,
        findings=findings,
        slices=slices,
        slices_note=slices_note,
        recall=recall,
        recall_lo=rec_lo,
        recall_hi=rec_hi,
        reference_recall=ref_r,
        reference_recall_lo=ref_r_lo,
        reference_recall_hi=ref_r_hi,
    )


def _slice_fprs(
    scores: pd.DataFrame,
    segments: pd.DataFrame | None,
    reference: Reference | None,
    y: np.ndarray,
    flagged: np.ndarray,
    keep: np.ndarray,
    protected: Sequence[str] | None,
    findings: list[Finding],
) -> tuple[list[dict[str, Any]], str]:
    """FPR at the flag band per slice on the graded rows; findings for protected slices."""
    from riskscore.modeling._slices import PROTECTED_SLICES, slice_rates, wilson_interval
    from riskscore.monitor._slices import _is_protected, find_segments, slice_label

    if segments is None:
        segments = find_segments([scores], len(scores))
    elif not isinstance(segments, pd.DataFrame) or len(segments) != len(scores):
        raise MonitorError(
            "matured_check: segments must be a DataFrame aligned row for row with the scores "
            f"({len(scores)} rows)"
        )
    if segments is None or not len(segments.columns):
        return [], "no slices: the run carries no segment__* columns"
    protected = PROTECTED_SLICES if protected is None else tuple(protected)
    table = slice_rates(segments.reset_index(drop=True)[keep], y[keep], flagged[keep])
    stored = reference.slices if reference is not None else {}
    rows = []
    for rec in table.to_dict("records"):
        r = {str(k): v for k, v in rec.items()}
        seg, lev = str(r["segment"]), str(r["level"])
        ref = (stored.get(seg) or {}).get(lev) or {}
        neg_ref, fp_ref = int(ref.get("negatives", 0)), int(ref.get("false_positives", 0))
        ref_lo, ref_hi = wilson_interval(fp_ref, neg_ref)
        r.update(
            protected=_is_protected(seg, lev, protected),
            fpr_ref=fp_ref / neg_ref if neg_ref else float("nan"),
            fpr_ref_lo=ref_lo,
            fpr_ref_hi=ref_hi,
        )
        rows.append(r)
        if r["protected"] and neg_ref and r["negatives"] and r["fpr_lo"] > ref_hi:
            findings.append(
                Finding(
                    level="watch",
                    kind="slice_fpr",
                    subject=slice_label(seg, lev),
                    value=float(r["fpr"]),
                    message=(
                        f"protected slice {slice_label(seg, lev)}: the false-positive rate at "
                        f"the flag band rose to {r['fpr']:.1%} [{r['fpr_lo']:.1%}, "
                        f"{r['fpr_hi']:.1%}] of {r['negatives']:,} legitimate sellers, from "
                        f"{r['fpr_ref']:.1%} [{ref_lo:.1%}, {ref_hi:.1%}] at training: "
                        "legitimate sellers of this slice are reviewed more often"
                    ),
                )
            )
    note = "false-positive rate per slice on the graded rows" + (
        ", next to the reference's" if stored else " (no slice reference to compare with)"
    )
    return rows, note
