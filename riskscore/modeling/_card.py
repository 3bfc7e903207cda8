"""The Markdown model card of a training run.

Sections: intended use, data, model, metrics against the baseline (with 95 % bootstrap
intervals), review capacity and bands, slices (flag rate and false-positive rate at the
flag band with Wilson intervals), limitations, training notes. Everything comes from the
:class:`~riskscore.modeling.TrainResult`; nothing is typed by hand.

:func:`comparison_card` is the champion-vs-challenger page the promotion gate logs
(``gate/comparison.md``): the paired differences with intervals and, per slice, both
models' flag rate and FPR with the FPR change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from riskscore.modeling._train import TrainResult

__all__ = ["comparison_card", "model_card", "slice_fpr_table"]

_METRIC_TEXT = {
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC (average precision)",
    "precision_at_k": "precision at review capacity",
    "recall_at_k": "recall at review capacity",
    "recall_at_1pct_fpr": "recall at 1% FPR",
    "brier": "Brier score (lower is better)",
    "ece": "expected calibration error (lower is better)",
}


def _num(value: Any, digits: int = 3) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "–" if math.isnan(v) else f"{v:.{digits}f}"


def _when(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return str(value.date())
    return str(value)


def _interval(row: pd.Series, name: str) -> str:
    lo, hi = row.get(f"{name}_lo"), row.get(f"{name}_hi")
    point = _num(row.get(name))
    if lo is None or hi is None or (isinstance(lo, float) and math.isnan(lo)):
        return point
    return f"{point} [{_num(lo)}, {_num(hi)}]"


def _table(frame: pd.DataFrame, columns: list[str], digits: int = 3) -> str:
    head = "| " + " | ".join(columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    rows = [
        "| "
        + " | ".join(_num(r[c], digits) if isinstance(r[c], float) else str(r[c]) for c in columns)
        + " |"
        for _, r in frame.iterrows()
    ]
    return "\n".join([head, sep, *rows])


def _point_in_time_lines(record: Any) -> list[str]:
    """Return the Data bullet on features not point-in-time (none for user tables)."""
    if not isinstance(record, dict):
        return []
    from riskscore.features._training_set import point_in_time_text

    return [f"- point-in-time: {point_in_time_text(record)}"]


def model_card(result: TrainResult) -> str:
    """Return the model card of a training run as Markdown.

    Examples
    --------
    >>> from riskscore.modeling import make_training_table, train
    >>> r = train(make_training_table(1500, 6, positive_rate=0.08), capacity=20, n_bootstrap=0)
    >>> model_card(r).splitlines()[0]
    '# Model card: riskscore-custom-label'
    """
    model = result.model
    meta = model.metadata
    fp = result.fingerprint
    m = result.metrics
    has_base = "baseline" in m.columns
    lines: list[str] = [f"# Model card: {model.name}", ""]

    lines += [
        "## Intended use",
        "",
        f"Ranks **{model.entity}** entities by the risk of **{model.target}** so that a risk team "
        f"reviews the riskiest first (capacity: {meta.get('capacity')} reviews per "
        f"{meta.get('group_by') if meta.get('group_by') != 'none' else 'batch'}). "
        "Scores support human review; they are not an automatic verdict. Each score comes with "
        "a calibrated probability, a 0–1000 risk score (250 points = ten times fewer false "
        "alarms among legitimate entities) and a band.",
        "",
        "## Data",
        "",
        f"- rows: {fp.get('rows')}, entities: {fp.get('entities')}, "
        f"positives: {fp.get('positives')} ({_num(100 * fp.get('label_rate', float('nan')), 2)} %)",
        f"- time range: {_when(fp.get('time_first'))} .. {_when(fp.get('time_last'))}",
        f"- split: {result.split.description}",
        f"- rows per side: train {fp.get('train_rows')} ({fp.get('train_positives')} positive), "
        f"validation {fp.get('valid_rows')} ({fp.get('valid_positives')}), calibration "
        f"{fp.get('calib_rows')} ({fp.get('calib_positives')}), test {fp.get('test_rows')} "
        f"({fp.get('test_positives')})",
        f"- data fingerprint (SHA-256): `{fp.get('sha256')}`",
        f"- feature catalog version: {meta.get('catalog_version') or 'none (user table)'}",
        *_point_in_time_lines(meta.get("point_in_time")),
        "",
        "## Model",
        "",
        *_deployed_lines(result),
        f"- LightGBM, {model.booster.num_trees()} trees (early stopping on the validation window), "
        f"max depth {meta['params'].get('max_depth')}, {meta['params'].get('num_leaves')} leaves, "
        f"learning rate {meta['params'].get('learning_rate')}, seed {meta.get('seed')}",
        f"- {model.n_features} features; calibration: {model.calibrator.method} on the "
        "calibration window",
        "- baseline: logistic regression (median imputation, scaling) on the same train side",
        "",
        "Top features by gain:",
        "",
        _table(result.importance.head(10), ["feature", "gain", "splits"]),
        "",
        "## Metrics on the newest test window",
        "",
        f"95 % bootstrap intervals in brackets; capacity on this window: "
        f"{meta.get('capacity_test')} per group (the test side holds "
        f"{_num(100 * meta.get('population_share', 1.0), 1)} % of the window's entities).",
        "",
    ]
    header = (
        "| metric | LightGBM | baseline | difference |" if has_base else "| metric | LightGBM |"
    )
    lines += [header, "|---|---|---|---|" if has_base else "|---|---|"]
    for metric, row in m.iterrows():
        cells = [_METRIC_TEXT.get(str(metric), str(metric)), _interval(row, "model")]
        if has_base:
            cells += [_interval(row, "baseline"), _interval(row, "delta")]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")

    bands = model.bands
    lines += [
        "## Review capacity and bands",
        "",
        f"Bands from {bands.source} ({bands.details}):",
        "",
        "| band | risk score from | training FPR | test precision | test recall | review / day |",
        "|---|---|---|---|---|---|",
    ]
    table = result.threshold_table.set_index("risk_score")
    for name in ("medium", "high", "critical"):
        thr = bands.thresholds[name]
        near = table.index[table.index <= thr].max() if (table.index <= thr).any() else 0
        row = table.loc[[near]].iloc[0]
        lines.append(
            f"| {name} | {thr} | {_num(100 * model.scale.fpr_at(thr), 3)} % | "
            f"{_num(row['precision'])} | {_num(row['recall'])} | {_num(row['review_per_day'], 1)} |"
        )
    lines += ["", "(test precision/recall at the nearest tabulated threshold at or below)", ""]

    if result.slices is not None and len(result.slices):
        lines += [
            "## Slices (test window)",
            "",
            "Flag rate = share reviewed (band high or critical). A segment with a high flag rate "
            "and low precision is over-flagged.",
            "",
            _table(
                result.slices,
                [
                    "segment",
                    "level",
                    "n",
                    "positives",
                    "flag_rate",
                    "precision",
                    "recall",
                    "pr_auc",
                ],
            ),
            "",
        ]
        fpr = slice_fpr_table(result.slices)
        lines += [
            "False-positive rate at the flag band = share of the segment's negatives flagged "
            "(legitimate sellers sent to review), with 95 % Wilson intervals. The promotion "
            "gate refuses a challenger that raises it for a protected segment (new and small "
            "sellers by default) beyond a margin.",
            "",
            _table(
                fpr,
                [
                    "segment",
                    "level",
                    "negatives",
                    "flag_rate",
                    "flag_rate_interval",
                    "fpr",
                    "fpr_interval",
                ],
            ),
            "",
        ]

    lines += [
        "## Limitations",
        "",
        "- Labels are observed outcomes (complaints, enforcement): undetected fraud counts as "
        "negative, so precision is a lower bound and recall an upper bound.",
        "- Metrics come from one test window; fraud adapts, so monitor them on new windows and "
        "retrain (`riskscore train`, `riskscore promote`).",
        "- The risk score's FPR scale was measured on held-out entities before the test window; "
        "it drifts with the population.",
        "- Entities sharing identifiers are scored independently here; see the network features.",
    ]
    if result.split.mode == "stratified":
        lines.append("- No time column: a random split; metrics are optimistic under drift.")
    lines += _diagnostics_lines(result)
    lines += _family_lines(result)
    if result.notes:
        lines += ["", "## Training notes", "", *(f"- {n}" for n in result.notes)]
    lines.append("")
    return "\n".join(lines)


def slice_fpr_table(slices: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Add the FPR at the flag band and Wilson intervals of it and the flag rate to a slice table.

    The counts come back from :func:`riskscore.metrics.slice_metrics`'s columns: flagged
    rows ``= flag_rate × n``, true positives among them ``= precision × flagged``.

    Examples
    --------
    >>> t = pd.DataFrame({"segment": ["tenure"], "level": ["new"], "n": [100],
    ...                   "positives": [10], "flag_rate": [0.2], "precision": [0.25]})
    >>> slice_fpr_table(t)[["negatives", "fpr", "fpr_interval"]].values.tolist()
    [[90, 0.16666666666666666, '[0.104, 0.257]']]
    """
    from riskscore.modeling._slices import wilson_interval

    out = slices.copy()
    flagged = (out["flag_rate"] * out["n"]).round()
    true_pos = (out["precision"].fillna(0.0) * flagged).round()
    out["negatives"] = (out["n"] - out["positives"]).astype(int)
    false_pos = (flagged - true_pos).clip(lower=0).astype(int)
    out["fpr"] = [
        fp / neg if neg else math.nan for fp, neg in zip(false_pos, out["negatives"], strict=True)
    ]
    bounds = [
        wilson_interval(int(fp), int(neg), level)
        for fp, neg in zip(false_pos, out["negatives"], strict=True)
    ]
    out["fpr_lo"] = [b[0] for b in bounds]
    out["fpr_hi"] = [b[1] for b in bounds]
    out["fpr_interval"] = [f"[{_num(lo)}, {_num(hi)}]" for lo, hi in bounds]
    flag_bounds = [
        wilson_interval(int(k), int(n), level)
        for k, n in zip(flagged.astype(int), out["n"], strict=True)
    ]
    out["flag_rate_interval"] = [f"[{_num(lo)}, {_num(hi)}]" for lo, hi in flag_bounds]
    return out


def comparison_card(
    evidence: Any, *, reasons: Sequence[str] = (), outcome: str | None = None
) -> str:
    """Return the Markdown page of a champion-vs-challenger comparison.

    Parameters
    ----------
    evidence : PairedComparison
        From :func:`riskscore.modeling.compare_paired`.
    reasons : sequence of str
        The gate's sentences, printed first.
    outcome : str, optional
        The gate's verdict.

    Examples
    --------
    >>> from riskscore.modeling import compare_paired
    >>> import numpy as np
    >>> y = np.tile([1, 0, 0, 0, 0], 40); s = y + np.linspace(0, 1.5, 200)
    >>> f = pd.DataFrame({"label": y, "score_champion": s, "score_challenger": s,
    ...                   "flag_champion": s > 1.4, "flag_challenger": s > 1.4,
    ...                   "segment__tenure": ["new", "old"] * 100})
    >>> page = comparison_card(compare_paired(f, id_col=None, time_col=None, k=20,
    ...                                       n_bootstrap=50), outcome="promote")
    >>> page.splitlines()[0], "| segment__tenure | new |" in page
    ('# Champion vs challenger: promote', True)
    """
    pct = f"{100 * evidence.level:g} %"
    lines = [
        f"# Champion vs challenger{': ' + outcome if outcome else ''}",
        "",
        f"Both models scored on the same {evidence.n_rows} rows ({evidence.n_entities} "
        f"entities, {evidence.n_positives} positives, {evidence.n_cutoffs} cutoff(s)"
        + (f"; {evidence.source}" if evidence.source else "")
        + f"). Intervals: {pct}, paired bootstrap over entities ({evidence.n_bootstrap} "
        "replicates) for differences, Wilson for rates.",
        "",
    ]
    if reasons:
        lines += ["## Decision", "", *(f"- {r}" for r in reasons), ""]
    metrics = evidence.metrics.reset_index(names="metric")
    lines += [
        "## Metrics (challenger − champion)",
        "",
        _table(metrics, ["metric", "challenger", "champion", "delta", "delta_lo", "delta_hi"]),
        "",
    ]
    if len(evidence.slices):
        sl = evidence.slices.copy()
        for who in ("champion", "challenger"):
            sl[f"fpr {who}"] = [
                f"{_num(p)} [{_num(lo)}, {_num(hi)}]"
                for p, lo, hi in zip(
                    sl[f"fpr_{who}"], sl[f"fpr_{who}_lo"], sl[f"fpr_{who}_hi"], strict=True
                )
            ]
        sl["fpr change"] = [
            f"{_num(d)} [{_num(lo)}, {_num(hi)}]"
            for d, lo, hi in zip(
                sl["fpr_delta"], sl["fpr_delta_lo"], sl["fpr_delta_hi"], strict=True
            )
        ]
        lines += [
            "## Slices: flag rate and false-positive rate at the flag band",
            "",
            _table(
                sl,
                [
                    "segment",
                    "level",
                    "n",
                    "negatives",
                    "flag_rate_champion",
                    "flag_rate_challenger",
                    "fpr champion",
                    "fpr challenger",
                    "fpr change",
                ],
            ),
            "",
        ]
    lines += _audit_card_lines(evidence)
    return "\n".join(lines)


def _audit_card_lines(evidence: Any) -> list[str]:
    """Return the audit section: both models on the random-audit sample, or why not."""
    table = getattr(evidence, "audit", None)
    note = str(getattr(evidence, "audit_note", "") or "no audit sample")
    lines = ["## On the random-audit sample", "", note[:1].upper() + note[1:] + ".", ""]
    if table is None or not len(table):
        return lines
    shown = table.assign(
        interval=[
            f"[{_num(lo)}, {_num(hi)}]" if lo == lo else "—"
            for lo, hi in zip(table["audit_lo"], table["audit_hi"], strict=True)
        ]
    ).rename(columns={"all_labels": "all labels (selected by the current policy)"})
    cols = ["model", "metric", "audit", "interval"]
    cols += ["all labels (selected by the current policy)", "n_audited"]
    return [*lines, _table(shown, cols), ""]


def _deployed_lines(result: Any) -> list[str]:
    deployed = getattr(result, "deployed", None) or {}
    if deployed.get("fit") != "refit":
        return ["- deployed: the evaluated fit (train side only; `refit=False`)"]
    return [
        f"- deployed: a refit on all {deployed['rows']} labelled rows ({deployed['positives']} "
        f"positive), {deployed['trees']} trees (the evaluated fit: {deployed['evaluated_trees']} "
        f"trees on {deployed['evaluated_rows']} rows, scaled by the row ratio); calibration "
        f"({deployed['calibration']}), risk scale and bands from out-of-fold raw scores "
        f"({deployed['crossfit_folds']} entity folds). The metrics below are the evaluated "
        "fit's on its held-out test side; the refit has no held-out rows of its own."
    ]


def _family_lines(result: Any) -> list[str]:
    table = getattr(result, "family_value", None)
    if table is None or not len(table):
        return []
    shown = table.assign(
        interval=[
            f"[{_num(lo)}, {_num(hi)}]" if lo == lo else "—"
            for lo, hi in zip(table["lost_lo"], table["lost_hi"], strict=True)
        ]
    )
    return [
        "",
        "## What each feature family adds",
        "",
        "Validation PR-AUC lost when the family is left out (same settings and tree count, "
        "fitted on the train side without it); 95 % interval from a paired bootstrap over the "
        "validation side's entities. One validation side holds few positives: an interval "
        "across 0 means *within noise*, not *useless*. Pool over windows and seeds with "
        "`riskscore.modeling.family_ablation` before leaving a family out.",
        "",
        _table(
            shown,
            ["family", "n_features", "pr_auc_without", "pr_auc_lost", "interval", "verdict"],
        ),
    ]


def _diagnostics_lines(result: Any) -> list[str]:
    diag = getattr(result, "diagnostics", None)
    if diag is None:
        return []
    lines = ["", "## Diagnostics", ""]
    sep = diag.separation.head(3)
    lines.append(
        "- strongest single features on the train side (ROC-AUC / PR-AUC alone): "
        + ", ".join(
            f"{r['feature']} {_num(r['roc_auc'])} / {_num(r['pr_auc'])}"
            for r in sep.to_dict("records")
        )
    )
    rates = diag.label_rate
    lines.append(
        "- label rate by window: "
        + ", ".join(
            f"{w} {_num(100 * r['rate'], 2)} % ({int(r['positives'])})" for w, r in rates.iterrows()
        )
    )
    top = diag.shift.head(3)
    lines.append(
        "- largest train → test shifts (PSI): "
        + ", ".join(f"{r['feature']} {_num(r['psi'], 2)}" for r in top.to_dict("records"))
        + f"; beyond their usual window-to-window change: {int(diag.shift['unusual'].sum())}"
    )
    st = diag.stability
    if st:
        interval = (
            f" [{_num(st['valid_roc_auc_lo'])}, {_num(st['valid_roc_auc_hi'])}]"
            if "valid_roc_auc_lo" in st
            else ""
        )
        drop = (
            f"; drop {_num(st['drop_lo'])} to {_num(st['drop_hi'])} (95%)"
            if "drop_lo" in st
            else ""
        )
        lines.append(
            f"- validation ROC-AUC {_num(st['valid_roc_auc'])}{interval}, test ROC-AUC "
            f"{_num(st['test_roc_auc'])}{drop}"
        )
    lines.append(
        f"- findings: {len(diag.findings)}" + (" (see the training notes)" if diag.findings else "")
    )
    return lines
