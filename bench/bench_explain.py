"""Explanation speed and the tree shapes that keep it cheap.

- ``explain_tree_shapes``: riskscore's default tree shape (31 leaves, depth 6), a shallower
  one (15 leaves, depth 4) and a deep leaf-wise one (255 leaves, depth 20), each trained
  with :func:`riskscore.modeling.train` (early stopping) on a training set from the
  simulator (seller counterfeit labels in a 90-day horizon, monthly cutoffs). Reports the
  test-window PR-AUC of each, the prequential PR-AUC (mean ± std over three rolling
  windows), the number of trees, and the TreeSHAP (``pred_contrib``) cost per row on one
  and two threads next to the cost of scoring.
- ``explain_100k``: score + top-3 reasons for 100k rows with the default-shape model:
  ``Scorer.score_many(explain="flagged")`` (reasons for rows in the high band or above),
  ``explain="all"``, and :meth:`Explainer.explain_many` alone; target under 20 s.
- ``explain_one``: one seller's reasons in-process, :meth:`Explainer.explain_one` from a
  dict, and ``Scorer.score_one(record, explain=True)``: p50 / p99 (target under 5 ms).
- ``explain_vs_shap``: ``Booster.predict(pred_contrib=True)`` against
  ``shap.TreeExplainer(booster).shap_values`` on the same model and rows: seconds, the
  ratio, and the largest absolute difference.

Rows for the throughput benchmarks are resampled from the training set. Timings on a
shared machine are noisy: read the ratios measured within one run.
"""

from __future__ import annotations

import functools
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from bench._harness import Result, benchmark, latency, scale
from riskscore.modeling._recipe import VALID_WINDOWS

#: Rows of the batch benchmark.
N_BATCH = 100_000
#: Calls per latency measurement.
N_CALLS = 2000
#: Rows timed for the per-row TreeSHAP cost and against shap.
N_COST = 5000

#: Tree shapes compared (LightGBM overrides of riskscore's defaults).
SHAPES: dict[str, dict[str, Any]] = {
    "default": {},  # riskscore.modeling.DEFAULT_PARAMS: 31 leaves, depth 6
    "shallow": {"num_leaves": 15, "max_depth": 4},
    "deep": {"num_leaves": 255, "max_depth": 20, "min_data_in_leaf": 20},
}


def _n_sellers() -> int:
    return max(3000, int(6000 * scale()))


@functools.cache
def training_set() -> pd.DataFrame:
    """Seller counterfeit training set: monthly cutoffs March-October 2024, 90-day horizon."""
    from riskscore.datasets import make_marketplace
    from riskscore.features import build_training_set

    market = make_marketplace(n_sellers=_n_sellers(), seed=7)
    tables = {k: v for k, v in market.items() if k != "truth"}
    cutoffs = pd.date_range("2024-03-01", "2024-10-01", freq="MS")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_training_set(
            tables, "seller", target="counterfeit", cutoffs=cutoffs, horizon="90D"
        )


@functools.cache
def trained(shape: str) -> Any:
    """The :class:`~riskscore.modeling.TrainResult` of one tree shape."""
    from riskscore.modeling import train

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return train(
            training_set(),
            entity="seller",
            target="counterfeit",
            params=SHAPES[shape] or None,
            capacity=50,
            n_bootstrap=0,
            seed=0,
            valid_windows=VALID_WINDOWS,
            test_windows=2,
        )


def _matrix(n: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    model = trained("default").model
    data = training_set()
    idx = np.random.default_rng(seed).integers(0, len(data), size=n)
    return model.to_matrix(data.iloc[idx]), list(model.feature_names)


def _per_row_us(func: Any, n: int) -> float:
    t0 = time.perf_counter()
    func()
    return (time.perf_counter() - t0) / n * 1e6


@benchmark("explain_tree_shapes")
def explain_tree_shapes() -> Result:
    """PR-AUC and TreeSHAP cost per row of the default, shallow and deep tree shapes."""
    from riskscore.modeling import prequential

    data = training_set()
    X, _ = _matrix(N_COST)
    out: Result = {
        "data": f"simulator, {_n_sellers()} sellers, 8 monthly cutoffs, counterfeit in 90 days",
        "rows": len(data),
        "positives": int(data["label"].sum()),
    }
    for shape, params in SHAPES.items():
        result = trained(shape)
        booster = result.model.booster
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rolling = prequential(
                data,
                params=params or None,
                capacity=50,
                entity="seller",
                target="counterfeit",
                valid_windows=VALID_WINDOWS,
            )
        contrib_1 = _per_row_us(
            lambda b=booster: b.predict(X[:1000], pred_contrib=True, num_threads=1), 1000
        )
        contrib_2 = _per_row_us(
            lambda b=booster: b.predict(X, pred_contrib=True, num_threads=2), len(X)
        )
        score_1 = _per_row_us(lambda b=booster: b.predict(X, raw_score=True, num_threads=1), len(X))
        depth = max(_tree_depths(booster)) if booster.num_trees() else 0
        out |= {
            f"{shape}_trees": booster.num_trees(),
            f"{shape}_max_depth_seen": depth,
            f"{shape}_pr_auc_test": round(float(result.metrics.loc["pr_auc", "model"]), 4),
            f"{shape}_pr_auc_prequential_mean": round(float(rolling.loc["mean", "pr_auc"]), 4),
            f"{shape}_pr_auc_prequential_std": round(float(rolling.loc["std", "pr_auc"]), 4),
            f"{shape}_contrib_us_per_row_1thread": round(contrib_1, 1),
            f"{shape}_contrib_us_per_row_2threads": round(contrib_2, 1),
            f"{shape}_score_us_per_row_1thread": round(score_1, 2),
            f"{shape}_contrib_over_score": round(contrib_1 / score_1, 1),
        }
    for shape in ("shallow", "deep"):
        out[f"{shape}_contrib_cost_vs_default"] = round(
            out[f"{shape}_contrib_us_per_row_1thread"] / out["default_contrib_us_per_row_1thread"],
            2,
        )
        out[f"{shape}_pr_auc_vs_default"] = round(
            out[f"{shape}_pr_auc_prequential_mean"] / out["default_pr_auc_prequential_mean"], 3
        )
    return out


def _tree_depths(booster: Any) -> list[int]:
    def depth(node: dict[str, Any]) -> int:
        if "split_index" not in node:  # a leaf
            return 0
        return 1 + max(depth(node["left_child"]), depth(node["right_child"]))

    return [depth(t["tree_structure"]) for t in booster.dump_model()["tree_info"]]


@benchmark("explain_100k")
def explain_100k() -> Result:
    """Score + top-3 reasons for 100k rows (target < 20 s on 2 cores)."""
    from riskscore.explain import Explainer
    from riskscore.scoring import Scorer

    model = trained("default").model
    n = max(1000, int(N_BATCH * scale()))
    X, names = _matrix(n, seed=1)
    frame = pd.DataFrame(X, columns=names)
    frame.insert(0, "seller_id", pd.array([f"B{i:08d}" for i in range(n)], dtype="str"))
    scorer = Scorer(model, top_k=3, num_threads=2)
    explainer = Explainer(model)

    cpu: dict[str, float] = {}

    def timed(name: str, func: Any) -> float:
        # CPU seconds too: on a shared 2-core machine wall time depends on the neighbours
        t0, c0 = time.perf_counter(), time.process_time()
        func()
        cpu[f"{name}_cpu_s"] = round(time.process_time() - c0, 2)
        return time.perf_counter() - t0

    none_s = timed("score_many_none", lambda: scorer.score_many(frame, explain="none"))
    flagged_s = timed(
        "score_many_flagged_top3", lambda: scorer.score_many(frame, explain="flagged")
    )
    all_s = timed("score_many_all_top3", lambda: scorer.score_many(frame, explain="all"))
    explain_only_s = timed(
        "explainer_explain_many_all_top3",
        lambda: explainer.explain_many(X, top_k=3, num_threads=2),
    )
    contrib_s = timed(
        "pred_contrib_only", lambda: model.booster.predict(X, pred_contrib=True, num_threads=2)
    )
    bands = scorer.score_many(frame.head(20_000), explain="none")["band"]
    return {
        "rows": n,
        "trees": model.booster.num_trees(),
        "features": len(names),
        "flag_band": scorer.flag_band,
        "flagged_share": round(float(bands.isin(["high", "critical"]).mean()), 4),
        "score_many_none_s": round(none_s, 2),
        "score_many_flagged_top3_s": round(flagged_s, 2),
        "score_many_all_top3_s": round(all_s, 2),
        "explainer_explain_many_all_top3_s": round(explain_only_s, 2),
        "pred_contrib_only_s": round(contrib_s, 2),
        "reasons_overhead_over_pred_contrib": round(explain_only_s / contrib_s, 2),
        **cpu,
        "target_s": 20,
    }


@benchmark("explain_one")
def explain_one() -> Result:
    """One seller's reasons in-process from a dict (target < 5 ms)."""
    from riskscore.explain import Explainer
    from riskscore.scoring import Scorer

    model = trained("default").model
    X, names = _matrix(500, seed=2)
    records = [dict(zip(names, row, strict=True)) for row in X.tolist()]
    explainer = Explainer(model)
    scorer = Scorer(model, top_k=3)
    booster = model.booster
    n = max(200, int(N_CALLS * scale()))
    raw = latency(lambda x: booster.predict(x, raw_score=True, num_threads=1), list(X[:, None]), n)
    contrib = latency(
        lambda x: booster.predict(x, pred_contrib=True, num_threads=1), list(X[:, None]), n
    )
    reasons = latency(lambda r: explainer.explain_one(r, top_k=3), records, n)
    scored = latency(lambda r: scorer.score_one(r, explain=True), records, n)
    return {
        "trees": booster.num_trees(),
        "predict_raw_1row_p50_us": raw["p50_us"],
        "pred_contrib_1row_p50_us": contrib["p50_us"],
        "pred_contrib_1row_p99_us": contrib["p99_us"],
        "explain_one_top3_p50_us": reasons["p50_us"],
        "explain_one_top3_p99_us": reasons["p99_us"],
        "score_one_with_reasons_p50_us": scored["p50_us"],
        "score_one_with_reasons_p99_us": scored["p99_us"],
        "target_us": 5000,
    }


@benchmark("explain_vs_shap")
def explain_vs_shap() -> Result:
    """LightGBM pred_contrib vs shap.TreeExplainer on the same model and rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import shap

    out: Result = {}
    for shape in ("default", "deep"):
        booster = trained(shape).model.booster
        X, _ = _matrix(max(200, int(N_COST * scale())), seed=3)
        t0 = time.perf_counter()
        ours = booster.predict(X, pred_contrib=True, num_threads=1)
        ours_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        ours2 = booster.predict(X, pred_contrib=True, num_threads=2)
        ours2_s = time.perf_counter() - t0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            explainer = shap.TreeExplainer(booster)
            theirs = explainer.shap_values(X)
            shap_s = time.perf_counter() - t0
        theirs = np.asarray(theirs[1] if isinstance(theirs, list) else theirs)
        out |= {
            f"{shape}_rows": len(X),
            f"{shape}_pred_contrib_1thread_s": round(ours_s, 3),
            f"{shape}_pred_contrib_2threads_s": round(ours2_s, 3),
            f"{shape}_shap_tree_explainer_s": round(shap_s, 3),
            f"{shape}_shap_over_pred_contrib_1thread": round(shap_s / ours_s, 2),
            f"{shape}_shap_over_pred_contrib_2threads": round(shap_s / ours2_s, 2),
            f"{shape}_max_abs_diff": float(np.abs(ours[:, :-1] - theirs).max()),
            f"{shape}_same_2threads": bool(np.array_equal(ours, ours2)),
        }
    return out
