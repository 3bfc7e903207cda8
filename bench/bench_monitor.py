"""Monitoring speed: reference and comparison over 100k scored sellers with 60 features.

- ``monitor_100k``: a generated run shaped like a seller scoring run — 100k rows of 55
  numeric features (mixtures of normals, log-normals, counts with many zeros, 5% missing)
  and 5 categorical ones (20 levels), plus ``score`` / ``risk_score`` / ``band`` — against a
  reference built from a 100k-row training window and a 30k-row test window. Times
  :func:`riskscore.monitor.build_reference`, :func:`riskscore.monitor.compare` (on an
  unshifted and a shifted run), the HTML page with its plots, and reports the reference's
  JSON size. Target: seconds.

Timings on a shared machine are noisy: read the ratios measured within one run.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from bench._harness import Result, Timer, benchmark, best_of, peak_rss_mb, scale

#: Rows of the scored run (and of the training window).
N_ROWS = 100_000
N_NUMERIC = 55
N_CATEGORICAL = 5


def make_run(n: int, seed: int, shift: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(features, scores)`` of ``n`` generated sellers; ``shift`` moves 10 features."""
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    for j in range(N_NUMERIC):
        kind = j % 3
        if kind == 0:
            x = rng.normal(size=n)
        elif kind == 1:
            x = rng.lognormal(0.0, 1.0, size=n)
        else:
            x = rng.poisson(0.5, size=n).astype(np.float64)
        if j < 10:
            x = x + shift * (1 + np.abs(x).mean())
        x[rng.random(n) < 0.05] = np.nan
        cols[f"family{j // 10}__feature_{j}"] = x
    levels = np.array([f"level_{k}" for k in range(20)])
    for j in range(N_CATEGORICAL):
        p = np.linspace(2, 0.2, 20)
        cols[f"segment__cat_{j}"] = rng.choice(levels, size=n, p=p / p.sum())
    features = pd.DataFrame(cols)
    raw = 0.8 * np.nan_to_num(features.iloc[:, 0].to_numpy()) - 4 + rng.normal(size=n) + shift
    score = 1 / (1 + np.exp(-raw))
    risk = np.clip((raw + 8) * 62.5, 0, 1000)
    band = np.asarray(["low", "medium", "high", "critical"], dtype=object)[
        np.searchsorted([330, 400, 480], risk, side="right")
    ]
    return features, pd.DataFrame({"score": score, "risk_score": risk, "band": band})


@benchmark("monitor_100k")
def bench_monitor_100k() -> Result:
    """Build a reference and compare 100k scored sellers × 60 features with it."""
    from riskscore.monitor import build_reference, compare

    n = max(1000, int(N_ROWS * scale()))
    train, _ = make_run(n, seed=0)
    test, test_scores = make_run(max(300, n * 3 // 10), seed=1)
    run, run_scores = make_run(n, seed=2)
    shifted, shifted_scores = make_run(n, seed=3, shift=0.5)
    bands = {"medium": 330.0, "high": 400.0, "critical": 480.0}
    ref = build_reference(train_frame=train, test_frame=test, predictions=test_scores, bands=bands)
    t_ref = best_of(
        lambda: build_reference(
            train_frame=train, test_frame=test, predictions=test_scores, bands=bands
        ),
        repeat=3,
    )
    t_same = best_of(lambda: compare(ref, run, run_scores), repeat=3)
    t_shift = best_of(lambda: compare(ref, shifted, shifted_scores), repeat=3)
    same = compare(ref, run, run_scores)
    report = compare(ref, shifted, shifted_scores)
    with Timer() as t_html:  # includes importing matplotlib
        page = report.to_html()
    t_html_warm = best_of(report.to_html, repeat=2)
    acted = sorted({f.subject for f in report.findings if f.level == "act" and f.kind == "psi"})
    return {
        "rows": n,
        "features": N_NUMERIC + N_CATEGORICAL,
        "reference_rows": f"train {len(train)}, test {len(test)}",
        "build_reference_s": round(t_ref, 3),
        "compare_s": round(t_same, 3),
        "compare_shifted_s": round(t_shift, 3),
        "html_with_plots_first_s": round(t_html.seconds, 3),
        "html_with_plots_warm_s": round(t_html_warm, 3),
        "reference_json_kb": round(len(ref.to_json()) / 1024, 1),
        "html_kb": round(len(page) / 1024, 1),
        "status_unshifted": same.status,
        "max_psi_unshifted": round(float(same.features["psi"].max()), 4),
        "status_shifted": report.status,
        "shifted_features_acted": len(acted),
        "score_psi_shifted": round(report.outputs["score"]["psi"], 3),
        "flagged_ref_unshifted_shifted": (
            f"{report.bands['flagged_ref']:.4f}, {same.bands['flagged_now']:.4f}, "
            f"{report.bands['flagged_now']:.4f}"
        ),
        "peak_rss_mb": round(peak_rss_mb()),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
