"""Training at scale: 100k entities × 6 cutoffs of generated features, logged to MLflow.

Measures generation, training (split, LightGBM with early stopping, calibration, baseline,
bootstrap intervals), plots and the MLflow run (SQLite store in a temp dir, pyfunc model,
registration). ``RISKSCORE_BENCH_SCALE`` scales the number of entities.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

from bench._harness import Timer, benchmark, peak_rss_mb, scale


@benchmark("training")
def training() -> dict[str, float | int | str]:
    from riskscore.modeling import TrainingWarning, make_training_table, train
    from riskscore.registry import log_training

    n = int(100_000 * scale())
    with Timer() as gen:
        table = make_training_table(n, 6, positive_rate=0.02, seed=0, with_category=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)
        with Timer() as fit:
            result = train(table, entity="seller", target="fraud", capacity=100, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        uri = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
        with Timer() as log:
            logged = log_training(result, tracking_uri=uri, plots=True)
    m = result.metrics
    return {
        "rows": len(table),
        "features": result.model.n_features,
        "trees": result.model.booster.num_trees(),
        "generate_s": round(gen.seconds, 2),
        "train_s": round(fit.seconds, 2),
        "log_register_s": round(log.seconds, 2),
        "total_s": round(gen.seconds + fit.seconds + log.seconds, 2),
        "test_rows": result.fingerprint["test_rows"],
        "test_positives": result.fingerprint["test_positives"],
        "pr_auc": round(float(m.loc["pr_auc", "model"]), 4),
        "baseline_pr_auc": round(float(m.loc["pr_auc", "baseline"]), 4),
        "registered_version": str(logged.version),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
