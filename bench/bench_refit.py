"""Refit on every label vs deploy the evaluated fit: prequential, over simulator seeds.

``train(refit=True)`` deploys a booster refitted on every labelled row (tree count scaled
by the row ratio) with calibration, risk scale and capacity bands fitted on out-of-fold
raw scores; ``refit=False`` deploys the fit evaluated on the split. This measures what a
user gets from each *deployed* model on the next cutoff it has never seen:

- for each simulator seed, a marketplace of ``N_SELLERS`` sellers (the demo's recipe:
  monthly cutoffs, 60-day label horizon, seller fraud, capacity 25 per cutoff, two
  validation windows) at ``N_CUTOFFS`` cutoffs;
- for each of the last ``N_SCORED`` cutoffs ``t``: train on the rows whose label window
  closed by ``t`` (``cutoff + 60D <= t``; rows with ``cutoff < t`` but a label window
  still open at ``t`` would use labels not known yet), once with ``refit=True`` and once
  with ``refit=False`` (same seed, no bootstrap), then score every seller at ``t`` with
  each ``result.model``;
- measure PR-AUC (raw score), precision at capacity (top 25), ECE of the calibrated
  score, and the realised volume of the top bands: rows in ``high`` + ``critical``
  (target 1 x capacity) and in ``critical`` (target 0.2 x capacity).

Each (seed, cutoff) is one run; the summary gives the mean and a 95 % t-interval over
runs for each variant and for the paired difference refit - no refit, and the same
interval over seed means (the two cutoffs of one seed share a marketplace, so that one
is the more cautious). A difference whose interval covers 0 is within noise.
"""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

from bench._harness import Result, benchmark, scale

SEEDS = (0, 1, 2, 3, 4)
ENTITY, TARGET = "seller", "fraud"
HORIZON = "60D"
CAPACITY = 25
N_CUTOFFS = 9
N_SCORED = 2
VARIANTS = (("refit", True), ("no_refit", False))
METRICS = ("pr_auc", "precision_at_k", "ece", "vol_high_plus", "vol_critical")


def _n_sellers() -> int:
    return int(os.environ.get("RISKSCORE_BENCH_REFIT_SELLERS", max(1000, int(4000 * scale()))))


def _seeds() -> tuple[int, ...]:
    text = os.environ.get("RISKSCORE_BENCH_REFIT_SEEDS")
    return tuple(int(s) for s in text.split(",")) if text else SEEDS


def _interval(values: list[float]) -> tuple[float, float, float]:
    """Mean and 95 % t-interval; NaN bounds with fewer than two values."""
    import numpy as np
    from scipy import stats

    v = np.asarray([x for x in values if x == x], dtype=np.float64)
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(v.mean())
    if v.size < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return mean, mean - half, mean + half


def _measure(model: Any, frame: Any) -> dict[str, float]:
    import numpy as np

    from riskscore.metrics import ece, pr_auc, precision_at_k

    y = frame["label"].to_numpy()
    raw = model.raw_score(model.to_matrix(frame))
    out = model.scores_from_raw(raw)
    band = np.asarray(out["band"]).astype(str)
    return {
        "pr_auc": pr_auc(y, raw),
        "precision_at_k": precision_at_k(y, raw, k=CAPACITY),
        "ece": ece(y, out["score"]),
        "vol_high_plus": float(np.isin(band, ["high", "critical"]).sum()),
        "vol_critical": float((band == "critical").sum()),
    }


def _runs(n: int, seeds: tuple[int, ...]) -> list[dict[str, Any]]:
    import pandas as pd

    from riskscore.datasets import make_marketplace
    from riskscore.exceptions import TrainingError
    from riskscore.features import build_training_set, default_cutoffs
    from riskscore.modeling import train
    from riskscore.modeling._recipe import VALID_WINDOWS

    runs: list[dict[str, Any]] = []
    for seed in seeds:
        t0 = time.perf_counter()
        tables = make_marketplace(n_sellers=n, seed=seed)
        tables.pop("truth")
        cutoffs = default_cutoffs(tables, HORIZON, N_CUTOFFS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = build_training_set(
                tables, ENTITY, target=TARGET, cutoffs=cutoffs, horizon=HORIZON
            )
        print(f"seed {seed}: {len(frame):,} rows, built in {time.perf_counter() - t0:.0f}s")
        for t in cutoffs[-N_SCORED:]:
            past = frame[frame["cutoff"] + pd.Timedelta(HORIZON) <= t]
            now = frame[frame["cutoff"] == t]
            run: dict[str, Any] = {
                "seed": seed,
                "cutoff": str(t.date()),
                "train_cutoffs": int(past["cutoff"].nunique()),
                "train_rows": len(past),
                "train_positives": int(past["label"].sum()),
                "scored_rows": len(now),
                "scored_positives": int(now["label"].sum()),
            }
            for name, refit in VARIANTS:
                t1 = time.perf_counter()
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        result = train(
                            past,
                            entity=ENTITY,
                            target=TARGET,
                            seed=seed,
                            capacity=CAPACITY,
                            valid_windows=VALID_WINDOWS,
                            n_bootstrap=0,
                            refit=refit,
                        )
                except TrainingError as exc:
                    run[f"{name}_error"] = str(exc)
                    continue
                run[f"{name}_trees"] = int(result.model.booster.current_iteration())
                run[f"{name}_seconds"] = round(time.perf_counter() - t1, 1)
                for metric, value in _measure(result.model, now).items():
                    run[f"{name}_{metric}"] = value
            runs.append(run)
            print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in run.items()})
    return runs


def _fmt(mean: float, lo: float, hi: float) -> str:
    return f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and 95 % t-intervals per variant and of the paired difference refit - no refit."""
    out: dict[str, Any] = {}
    for metric in METRICS:
        paired = [r for r in runs if f"refit_{metric}" in r and f"no_refit_{metric}" in r]
        for name, _ in VARIANTS:
            out[f"{name}_{metric}"] = _fmt(*_interval([r[f"{name}_{metric}"] for r in paired]))
        diffs = [r[f"refit_{metric}"] - r[f"no_refit_{metric}"] for r in paired]
        mean, lo, hi = _interval(diffs)
        out[f"diff_{metric}"] = _fmt(mean, lo, hi)
        seeds = sorted({r["seed"] for r in paired})
        by_seed = [
            sum(d for d, r in zip(diffs, paired, strict=True) if r["seed"] == s)
            / sum(1 for r in paired if r["seed"] == s)
            for s in seeds
        ]
        smean, slo, shi = _interval(by_seed)
        out[f"diff_{metric}_over_seeds"] = _fmt(smean, slo, shi)
        noise = not (lo > 0 or hi < 0) and not (slo > 0 or shi < 0)
        out[f"diff_{metric}_verdict"] = (
            "within noise" if noise else ("refit higher" if mean > 0 else "refit lower")
        )
    return out


@benchmark("refit")
def refit_vs_evaluated_fit() -> Result:
    """Deployed refit vs deployed evaluated fit, scored on the next cutoff, per seed."""
    n, seeds = _n_sellers(), _seeds()
    t0 = time.perf_counter()
    runs = _runs(n, seeds)
    result: Result = {
        "n_sellers": n,
        "seeds": ", ".join(map(str, seeds)),
        "model": f"{ENTITY} {TARGET}",
        "capacity": CAPACITY,
        "target_vol_high_plus": CAPACITY,
        "target_vol_critical": 0.2 * CAPACITY,
        "cutoffs": N_CUTOFFS,
        "scored_cutoffs": N_SCORED,
        "train_rows_rule": f"cutoff + {HORIZON} <= t",
        "runs_ok": sum(1 for r in runs if "refit_pr_auc" in r and "no_refit_pr_auc" in r),
        "runs_failed": sum(1 for r in runs if "refit_error" in r or "no_refit_error" in r),
    }
    result.update(summarise(runs))
    for r in runs:
        key = f"s{r['seed']}_{r['cutoff']}"
        for k, v in r.items():
            if k not in ("seed", "cutoff"):
                result[f"{key}_{k}"] = round(v, 4) if isinstance(v, float) else v
    result["wall_seconds"] = round(time.perf_counter() - t0, 1)
    return result
