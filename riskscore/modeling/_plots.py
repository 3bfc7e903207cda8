"""Evaluation plots of a training run, saved as PNG files.

All plots describe the newest test window. They are drawn on ``matplotlib.figure.Figure``
objects with the Agg canvas (no pyplot, no global backend change), except the SHAP
beeswarm, which ``shap`` draws with pyplot (closed right after saving).

Files: ``pr_curve.png``, ``roc_curve.png``, ``calibration.png``,
``score_distribution.png``, ``precision_at_k.png``, ``shap_beeswarm.png``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from riskscore.modeling._train import TrainResult

__all__ = ["precision_at_k_curve", "save_plots"]

#: Rows of the test window used for the SHAP beeswarm (exact TreeSHAP is ~ms per row).
SHAP_ROWS = 1000


def _figure(width: float = 5.5, height: float = 4.2) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _curves(y: np.ndarray, s: np.ndarray) -> dict[str, np.ndarray]:
    order = np.argsort(-s, kind="stable")
    ys = y[order]
    last = np.r_[np.flatnonzero(np.diff(s[order]) != 0), y.size - 1]
    tp = np.cumsum(ys)[last]
    fp = (last + 1) - tp
    n_pos, n_neg = max(y.sum(), 1), max(y.size - y.sum(), 1)
    return {
        "precision": np.r_[1.0, tp / (tp + fp)],
        "recall": np.r_[0.0, tp / n_pos],
        "tpr": np.r_[0.0, tp / n_pos],
        "fpr": np.r_[0.0, fp / n_neg],
    }


def precision_at_k_curve(
    y: np.ndarray, score: np.ndarray, groups: np.ndarray | None, max_k: int
) -> pd.DataFrame:
    """Return pooled precision and recall of the top ``k`` of each group, k = 1..max_k.

    Examples
    --------
    >>> curve = precision_at_k_curve(np.array([1, 0, 1, 0]), np.array([4.0, 3, 2, 1]), None, 3)
    >>> curve["precision"].round(3).tolist()
    [1.0, 0.5, 0.667]
    """
    g = np.zeros(y.size, dtype=np.int64) if groups is None else pd.factorize(groups)[0]
    order = np.lexsort((-score, g))
    g_sorted, y_sorted = g[order], y[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g_sorted)) + 1]
    sizes = np.diff(np.r_[starts, y.size])
    ks = np.arange(1, max_k + 1)
    tp = np.zeros(ks.size)
    reviewed = np.zeros(ks.size)
    for start, size in zip(starts, sizes, strict=True):
        cum = np.cumsum(y_sorted[start : start + size])
        upto = np.minimum(ks, size)
        tp += cum[upto - 1]
        reviewed += upto
    n_pos = max(y.sum(), 1)
    return pd.DataFrame({"k": ks, "precision": tp / reviewed, "recall": tp / n_pos})


def _equal_count_calibration(y: np.ndarray, p: np.ndarray, n_bins: int = 12) -> pd.DataFrame:
    order = np.argsort(p, kind="stable")
    bins = np.array_split(order, n_bins)
    return pd.DataFrame(
        {
            "predicted": [p[b].mean() for b in bins if b.size],
            "observed": [y[b].mean() for b in bins if b.size],
        }
    )


def save_plots(result: TrainResult, folder: str | Path) -> dict[str, Path]:
    """Draw every plot of ``result`` into ``folder``; return name → path.

    The SHAP beeswarm is skipped (with a warning) when ``shap`` cannot draw it.
    """
    out_dir = Path(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    pred = result.predictions
    label_col = result.model.metadata.get("label_col", "label")
    y = pred[label_col].to_numpy(dtype=np.float64)
    raw = pred["raw"].to_numpy()
    p = pred["score"].to_numpy()
    base = pred["baseline_score"].to_numpy() if "baseline_score" in pred else None
    paths: dict[str, Path] = {}
    prevalence = y.mean()

    def save(name: str, fig: Any) -> None:
        path = out_dir / f"{name}.png"
        fig.tight_layout()
        fig.savefig(path)
        paths[name] = path

    m = result.metrics
    model_m = {str(k): float(v) for k, v in m["model"].to_dict().items()}
    base_m = (
        {str(k): float(v) for k, v in m["baseline"].to_dict().items()}
        if "baseline" in m.columns
        else {}
    )
    fig, ax = _figure()
    c = _curves(y, raw)
    ax.step(
        c["recall"],
        c["precision"],
        where="post",
        label=f"LightGBM (AP {model_m['pr_auc']:.3f})",
    )
    if base is not None:
        cb = _curves(y, base)
        ax.step(
            cb["recall"],
            cb["precision"],
            where="post",
            label=f"logistic baseline (AP {base_m['pr_auc']:.3f})",
        )
    ax.axhline(prevalence, color="grey", lw=0.8, ls=":", label=f"prevalence {prevalence:.3f}")
    ax.set(
        xlabel="recall",
        ylabel="precision",
        title="Precision-recall (test window)",
        xlim=(0, 1),
        ylim=(0, 1.02),
    )
    ax.legend(loc="upper right", fontsize=8)
    save("pr_curve", fig)

    fig, ax = _figure()
    ax.plot(c["fpr"], c["tpr"], label=f"LightGBM (AUC {model_m['roc_auc']:.3f})")
    if base is not None:
        ax.plot(
            cb["fpr"],
            cb["tpr"],
            label=f"logistic baseline (AUC {base_m['roc_auc']:.3f})",
        )
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
    ax.axvline(0.01, color="tab:red", lw=0.8, ls="--", label="1% FPR")
    ax.set(xlabel="false-positive rate", ylabel="recall", title="ROC (test window)")
    ax.legend(loc="lower right", fontsize=8)
    save("roc_curve", fig)

    fig, ax = _figure()
    cal = _equal_count_calibration(y, p)
    ax.plot(
        cal["predicted"],
        cal["observed"],
        "o-",
        label=f"LightGBM + {result.model.calibrator.method}",
    )
    if base is not None:
        calb = _equal_count_calibration(y, base)
        ax.plot(calb["predicted"], calb["observed"], "s--", label="logistic baseline")
    top = max(float(cal[["predicted", "observed"]].max().max()), 0.05) * 1.05
    ax.plot([0, top], [0, top], color="grey", lw=0.8, ls=":")
    ax.set(
        xlabel="mean predicted probability",
        ylabel="observed rate",
        title="Calibration (12 equal-count bins)",
        xlim=(0, top),
        ylim=(0, top),
    )
    ax.legend(loc="upper left", fontsize=8)
    save("calibration", fig)

    fig, ax = _figure()
    risk = pred["risk_score"].to_numpy()
    bins = np.linspace(0, 1000, 51)
    ax.hist(risk[y == 0], bins=bins, density=True, alpha=0.6, label="negative")
    ax.hist(risk[y == 1], bins=bins, density=True, alpha=0.6, label="positive")
    for band, thr in result.model.bands.thresholds.items():
        if thr <= 1000:
            ax.axvline(thr, color="black", lw=0.7, ls="--")
            ax.text(thr, ax.get_ylim()[1] * 0.95, f" {band}", fontsize=7, va="top")
    ax.set(
        xlabel="risk score (0-1000)", ylabel="density", title="Risk score by label (test window)"
    )
    ax.legend(fontsize=8)
    save("score_distribution", fig)

    fig, ax = _figure()
    time_col = result.model.metadata.get("time_col")
    groups = None
    if time_col and time_col in pred.columns:
        groups = pred[time_col].to_numpy()
        if result.model.metadata.get("group_by") == "day":
            groups = pd.to_datetime(pred[time_col]).dt.floor("D").to_numpy()
    k_cap = int(result.model.metadata.get("capacity_test", 100))
    max_k = max(5, min(5 * k_cap, len(pred)))
    curve = precision_at_k_curve(y, raw, groups, max_k)
    ax.plot(curve["k"], curve["precision"], label="LightGBM")
    if base is not None:
        curve_b = precision_at_k_curve(y, base, groups, max_k)
        ax.plot(curve_b["k"], curve_b["precision"], label="logistic baseline")
    ax.axvline(k_cap, color="tab:red", lw=0.8, ls="--", label=f"capacity ({k_cap} on this window)")
    ax.axhline(prevalence, color="grey", lw=0.8, ls=":")
    ax.set(
        xlabel="reviews per group (k)",
        ylabel="precision",
        title="Precision at k (test window)",
        ylim=(0, 1.02),
    )
    ax.legend(fontsize=8)
    save("precision_at_k", fig)

    try:
        path = _shap_beeswarm(result, out_dir)
    except Exception as err:  # plotting must not fail a training run
        warnings.warn(f"SHAP beeswarm skipped: {err}", UserWarning, stacklevel=2)
    else:
        paths["shap_beeswarm"] = path
    return paths


def _shap_beeswarm(result: TrainResult, out_dir: Path) -> Path:
    import matplotlib.pyplot as plt
    import shap

    model = result.model
    frame = result.test_frame
    if len(frame) > SHAP_ROWS:
        frame = frame.sample(SHAP_ROWS, random_state=0)
    X = model.to_matrix(frame)
    contrib = model.contributions(X)
    features = pd.DataFrame(X, columns=model.feature_names)
    path = out_dir / "shap_beeswarm.png"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shap.summary_plot(contrib[:, :-1], features, show=False, max_display=20, plot_size=(7, 6))
        fig = plt.gcf()
        fig.suptitle("SHAP values (log-odds), test window", fontsize=10)
        fig.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(fig)
    return path
